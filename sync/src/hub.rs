//! The counter's client of its kecamatan server (`rekam-hub`): registration, the AFIS check
//! before sealing, the enrollment after it, and the conflict feed. Requests are signed with
//! the station's key as for the data center; an `https://` hub is trusted by the certificate
//! of the identity file its administrator handed over, and nothing else.
//!
//! The hub is an addition, never a dependency: calls time out quickly (a counter with a
//! resident waiting does not hang on a dead LAN) and the caller goes on with its own check.

use crate::{DcClient, SyncError, checked, transport};
use rekam_packet::StationKey;
use rekam_packet::hub::{
    AfisAnswer, AfisProbe, Conflict, ConflictsPage, CounterBacklog, Enrolled, GalleryPage,
    HubEnrollment, HubIdentity, RelayState,
};
use rekam_packet::protocol::Registration;
use reqwest::Method;
use std::time::Duration;

/// How long a counter waits to connect to the hub on its LAN.
const CONNECT: Duration = Duration::from_secs(3);
/// How long a counter waits for the hub's answer: a 1:N check over 300,000 recordings takes
/// well under a second.
const REQUEST: Duration = Duration::from_secs(15);

/// Registers the station at the hub `base_url` whose identity file is `pinned`; returns the
/// identity the hub answers with (the caller compares it with the file).
pub fn register(
    base_url: &str,
    pinned: &HubIdentity,
    reg: &Registration,
) -> Result<HubIdentity, SyncError> {
    let http = crate::http(base_url, Some(&pinned.tls_certificate), CONNECT, REQUEST)?;
    crate::post_registration(&http, base_url, reg)
}

/// A station's client of its hub.
#[derive(Debug)]
pub struct HubClient {
    inner: DcClient,
}

impl HubClient {
    /// A client of the hub at `base_url` pinned to `hub`'s certificate, for `station_id`
    /// signing with `key`.
    pub fn new(
        base_url: &str,
        hub: &HubIdentity,
        station_id: &str,
        key: StationKey,
    ) -> Result<HubClient, SyncError> {
        Ok(HubClient {
            inner: DcClient::pinned_to(
                base_url,
                station_id,
                key,
                Some(&hub.tls_certificate),
                CONNECT,
                REQUEST,
            )?,
        })
    }

    /// A signed request of `path` with `body`, its refusal as an error.
    fn send(
        &self,
        method: Method,
        path: &str,
        body: &[u8],
    ) -> Result<reqwest::blocking::Response, SyncError> {
        let r = self
            .inner
            .signed(method, path, Some(body))
            .send()
            .map_err(transport)?;
        checked(r)
    }

    /// A signed GET of `path`, its refusal as an error.
    fn get(&self, path: &str) -> Result<reqwest::blocking::Response, SyncError> {
        self.send(Method::GET, path, b"")
    }

    /// POSTs `body` as JSON to `path`.
    fn post_json(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<reqwest::blocking::Response, SyncError> {
        self.send(Method::POST, path, &DcClient::json(body)?)
    }

    /// POSTs `body` as JSON to `path`; the JSON answer.
    fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, SyncError> {
        json(self.post_json(path, body)?)
    }

    /// The data center's result events for this station after `cursor` that the hub kept,
    /// each verified against the data center's pinned identity `dc` (the hub relays them; it
    /// cannot sign one).
    pub fn results(
        &self,
        cursor: i64,
        dc: &rekam_packet::DcIdentity,
    ) -> Result<rekam_packet::protocol::ResultsPage, SyncError> {
        self.inner.results(cursor, dc)
    }

    /// The 1:N check of a person against the kecamatan before sealing.
    pub fn check(&self, probe: &AfisProbe) -> Result<AfisAnswer, SyncError> {
        self.post("/v1/afis/check", probe)
    }

    /// Enrolls a sealed recording (again, after a lost answer: the same answer).
    pub fn enroll(&self, enrollment: &HubEnrollment) -> Result<Enrolled, SyncError> {
        self.post("/v1/afis/enroll", enrollment)
    }

    /// The other counters' recordings enrolled after place `cursor`, a page at a time.
    pub fn gallery(&self, cursor: i64) -> Result<GalleryPage, SyncError> {
        json(self.get(&format!("/v1/afis/gallery?after={cursor}"))?)
    }

    /// Leaves a sealed packet with the hub for the data center (again: the same state).
    pub fn hold(&self, packet_id: &str, sealed: &[u8]) -> Result<RelayState, SyncError> {
        json(self.send(Method::POST, &format!("/v1/relay/{packet_id}"), sealed)?)
    }

    /// Where a packet left with the hub stands: its receipt once the hub forwarded it.
    pub fn relay_state(&self, packet_id: &str) -> Result<RelayState, SyncError> {
        json(self.get(&format!("/v1/relay/{packet_id}"))?)
    }

    /// Leaves a reissue request (sealed to the data center, signed by this counter) with the
    /// hub, which carries it to the data center; where it stands, its answer once carried.
    /// Leaving the same request again changes nothing.
    pub fn hold_reissue(
        &self,
        relayed: &rekam_packet::reissue::RelayedReissue,
    ) -> Result<rekam_packet::hub::ReissueRelayState, SyncError> {
        self.post(
            &format!("/v1/relay/reissues/{}", relayed.request_id),
            relayed,
        )
    }

    /// Reports the station's records not yet final (the whole list).
    pub fn report_backlog(&self, backlog: &CounterBacklog) -> Result<(), SyncError> {
        self.post_json("/v1/backlog", backlog).map(drop)
    }

    /// Tells the hub the counter's day, for the kecamatan's daily report.
    pub fn report_day(&self, day: &rekam_packet::hub::CounterDay) -> Result<(), SyncError> {
        self.post_json("/v1/day", day).map(drop)
    }

    /// The next number of the kecamatan's queue on `day`.
    pub fn ticket(&self, day: &str) -> Result<i64, SyncError> {
        let t: rekam_packet::hub::Ticket = self.post(
            "/v1/queue",
            &rekam_packet::hub::TicketRequest {
                day: day.to_owned(),
            },
        )?;
        Ok(t.number)
    }

    /// The conflicts naming this station after `cursor`.
    pub fn conflicts(&self, cursor: i64) -> Result<Vec<Conflict>, SyncError> {
        let page: ConflictsPage = json(self.get(&format!("/v1/afis/conflicts?after={cursor}"))?)?;
        Ok(page.conflicts)
    }

    /// The population extracts a counter holding extract `after` (0: none) should import.
    pub fn population_offer(
        &self,
        after: u64,
    ) -> Result<rekam_packet::hub::PopulationOffer, SyncError> {
        json(self.get(&format!("/v1/population?after={after}"))?)
    }

    /// Extract `sequence`, sealed to the counter's population key `to` (hex): the file as
    /// the counter imports one from a USB stick (the Dinas's signature inside, checked there).
    pub fn population_file(&self, sequence: u64, to: &str) -> Result<Vec<u8>, SyncError> {
        let bytes = self
            .get(&format!("/v1/population/{sequence}?to={to}"))?
            .bytes()
            .map_err(transport)?;
        Ok(bytes.to_vec())
    }
}

/// The JSON answer of `r`.
fn json<T: serde::de::DeserializeOwned>(r: reqwest::blocking::Response) -> Result<T, SyncError> {
    r.json().map_err(|e| SyncError::Protocol(e.to_string()))
}
