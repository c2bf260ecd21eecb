//! The kecamatan server ("server AFIS di Kecamatan"): its public identity, which a counter
//! pins when it registers, and the JSON bodies of its AFIS protocol.
//!
//! A counter asks the hub for a 1:N check of a person before sealing ([`AfisProbe`]); a clear
//! answer holds a claim on that person for the counter ([`AfisAnswer::Clear`]), so a second
//! counter presenting the same person meanwhile is refused while the first records. After
//! sealing, the counter enrols the recording ([`HubEnrollment`]), naming its claim; a
//! recording sealed while the hub was out of reach is enrolled later without one and checked
//! again against everything recorded meanwhile, a match becoming a [`Conflict`] for the
//! counters' supervisors.
//!
//! Requests are signed as the data center's are ([`crate::protocol::RequestAuth`], with the
//! key the station registered at the hub); the connection is pinned to the hub's certificate.
//! Templates travel as the station's de-duplication row: the ten screening codes (640 bytes),
//! the finger minutiae (one ISO/IEC 19794-2 record) and the iris codes, base64 in JSON.

use crate::Result;
use serde::{Deserialize, Serialize};

/// What a counter pins of its kecamatan server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubIdentity {
    /// The hub's name.
    pub hub_id: String,
    /// The kecamatan it serves (6 digits).
    pub kecamatan: String,
    /// SHA-256 of the hub's TLS certificate (DER, hex).
    pub tls_certificate_sha256: String,
    /// The hub's TLS certificate (PEM): the one certificate a counter trusts for it.
    pub tls_certificate: String,
}

impl HubIdentity {
    /// Checks that the certificate is the one its pin names.
    pub fn check(&self) -> Result<()> {
        crate::keys::check_certificate_pin(
            Some(&self.tls_certificate),
            Some(&self.tls_certificate_sha256),
            "hub TLS certificate",
        )
    }
}

/// A person's templates as the station's de-duplication index holds them, base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Templates {
    /// The ten screening codes, 640 bytes.
    pub codes: String,
    /// The finger minutiae, one ISO/IEC 19794-2 record.
    pub minutiae: String,
    /// The iris codes.
    pub irises: String,
}

/// `POST /v1/afis/check`: is this person recorded anywhere in the kecamatan?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfisProbe {
    /// The counter's queue number of the visit (shown to another counter the claim refuses).
    pub queue_number: String,
    /// The resident's NIK, masked (`327301********01`): never the whole number.
    pub masked_nik: String,
    /// The templates.
    pub templates: Templates,
}

/// The hub's answer to a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum AfisAnswer {
    /// Nobody of the kecamatan matches: the person is claimed for this counter until the
    /// claim expires or the recording is enrolled with it.
    Clear {
        /// The claim, named again at enrollment.
        claim: String,
        /// Recordings compared against (the kecamatan's gallery, live claims included).
        gallery: u64,
        /// When the claim lapses, Unix seconds.
        expires_at: i64,
    },
    /// The person is recorded, or being recorded, at a counter of the kecamatan.
    Duplicate(Match),
}

/// The recording a person matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    /// The counter that recorded (or is recording) them.
    pub station_id: String,
    /// Their NIK as that counter entered it, masked.
    pub masked_nik: String,
    /// The packet id, once sealed; `None` while that counter is still recording.
    pub packet_id: Option<String>,
    /// When it was sealed (RFC 3339), or when that counter's check claimed the person.
    pub recorded_at: String,
    /// That counter's queue number, while it is still recording.
    pub queue_number: Option<String>,
    /// Fingers that matched, and fingers compared.
    pub matching: u8,
    /// Fingers compared.
    pub compared: u8,
}

/// `POST /v1/afis/enroll`: a sealed recording joins the kecamatan's gallery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubEnrollment {
    /// The claim of the check before sealing; `None` when the hub was out of reach then.
    pub claim: Option<String>,
    /// The packet id.
    pub packet_id: String,
    /// The NIK, masked.
    pub masked_nik: String,
    /// When it was sealed (RFC 3339).
    pub recorded_at: String,
    /// Whether the counter checked against the kecamatan before sealing: `None` when it
    /// checked against its own recordings only, otherwise when (RFC 3339).
    pub checked_at_hub: Option<String>,
    /// The templates.
    pub templates: Templates,
}

/// The hub's answer to an enrollment (the same one when it is sent again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    /// The recording's number at the hub.
    pub record: i64,
    /// A person recorded at another counter too: the supervisor decides.
    pub conflict: Option<Conflict>,
}

/// Two recordings of one person at two counters of the kecamatan, found by the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The conflict's number at the hub (the conflict feed's cursor).
    pub id: i64,
    /// The later recording, the one enrolled when the hub found it.
    pub packet_id: String,
    /// Its counter.
    pub station_id: String,
    /// Its NIK, masked.
    pub masked_nik: String,
    /// The earlier recording it matched.
    pub earlier: Match,
    /// When the hub found it (RFC 3339).
    pub found_at: String,
}

/// `POST /v1/relay/{packet_id}` (the sealed packet as the body) and `GET` of the same path:
/// where a packet the hub holds for the data center stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayState {
    /// The data center's receipt, once the hub forwarded it (the counter verifies it against
    /// its own pinned identity of the data center, as a receipt it got itself).
    pub receipt: Option<crate::protocol::Receipt>,
    /// The last forward's failure code, while there is no receipt.
    pub last_error: Option<String>,
}

/// `POST /v1/relay/reissues/{request_id}` (a [`crate::reissue::RelayedReissue`] as the body):
/// where a reissue request the hub holds for the data center stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReissueRelayState {
    /// The data center's answer, once the hub carried the request (the counter verifies it
    /// against its own pinned identity of the data center).
    pub answer: Option<crate::reissue::ReissueAnswer>,
    /// The last forward's failure code, while there is no answer.
    pub last_error: Option<String>,
}

/// One record of a counter not yet final, as the counter reports it to its hub and the hub to
/// the data center: never a name or a NIK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacklogRecord {
    /// The packet id.
    pub packet_id: String,
    /// The counter (filled in by the hub from the signed request).
    #[serde(default)]
    pub station_id: String,
    /// Its sync state (`BIO_CAPTURED`, `UPLOADING`, `EXPORTED`, `SENT_FOR_ENROLLMENT`, ...).
    pub state: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// Seconds since then, when reported.
    pub age_seconds: i64,
    /// Whether it is stuck (not at the data center after the SOP's 24 hours, or failed for a
    /// reason that will not fix itself).
    pub stuck: bool,
    /// The last failure's code, or the failure that kept the last pass from it.
    pub code: Option<String>,
    /// What a person should do, in Bahasa Indonesia.
    pub next_step: String,
}

/// `POST /v1/backlog`: a counter's every record not yet final (the whole list: it replaces
/// what the counter reported before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterBacklog {
    /// The records.
    pub records: Vec<BacklogRecord>,
}

/// One population extract the hub holds for its counters (the Dinas's base or one of its
/// deltas, as the Dinas signed it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferedExtract {
    /// Its number in the Dinas's series.
    pub sequence: u64,
    /// A base (replaces everything) or a delta on `sequence - 1`.
    pub base: bool,
    /// The time its data is as of (RFC 3339).
    pub as_of: String,
    /// Its entries.
    pub entries: u64,
}

/// `GET /v1/population?after=N`: what a counter holding extract `N` (0: none) should import,
/// in order: the latest base and its deltas when it holds an older base, the deltas after `N`
/// otherwise. Each is fetched with `GET /v1/population/{sequence}?to=<the counter's
/// population key, hex>`, sealed to that key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationOffer {
    /// The extracts, in the order they apply.
    pub extracts: Vec<OfferedExtract>,
}

/// `POST /v1/day`: a counter's day at the counter, for the kecamatan's daily report (sent
/// again with every pass; the last one of a day replaces the earlier). Times and counts only:
/// no NIK, no name, no packet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterDay {
    /// The day, `YYYY-MM-DD` (the counter's clock).
    pub day: String,
    /// The seconds each visit of the day spent under each SOP standard's group
    /// (`rekam_domain::sop::group`), one entry a visit.
    pub seconds: std::collections::BTreeMap<String, Vec<f64>>,
    /// Visits by workflow, then outcome.
    pub visits: std::collections::BTreeMap<String, std::collections::BTreeMap<String, usize>>,
    /// Visits by case, then outcome.
    pub cases: std::collections::BTreeMap<String, std::collections::BTreeMap<String, usize>>,
    /// Refusals and failures by code.
    pub refusals: std::collections::BTreeMap<String, usize>,
}

/// A kecamatan server's heartbeat to the data center ("snoop"): every counter with its last
/// contact, and every record not yet final. Small (no templates, no packets), sent whether or
/// not uploads go through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snoop {
    /// The kecamatan.
    pub kecamatan: String,
    /// The hub's time, Unix seconds.
    pub at: i64,
    /// The counters registered at the hub.
    pub stations: Vec<SnoopStation>,
    /// Every record of the kecamatan not yet final, counters' and the hub's own held packets.
    pub records: Vec<BacklogRecord>,
}

/// A counter as its hub last heard from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnoopStation {
    /// The station.
    pub station_id: String,
    /// Its last request to the hub, Unix seconds; `None` if it never made one.
    pub last_contact: Option<i64>,
}

/// `POST /v1/queue`: the next queue number of the kecamatan's day, one sequence across every
/// counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRequest {
    /// The counter's day (`YYYY-MM-DD`, its local time).
    pub day: String,
}

/// The hub's answer: the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// The day's next number.
    pub number: i64,
}

/// One enrolled recording of another counter, as a counter keeps it in its copy of the
/// kecamatan's gallery (to check against while the hub is out of reach).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GalleryRecord {
    /// Its place in the order the hub enrolled recordings (the copy's cursor).
    pub seq: i64,
    /// The counter that recorded it.
    pub station_id: String,
    /// The NIK, masked.
    pub masked_nik: String,
    /// The packet id.
    pub packet_id: String,
    /// When it was sealed (RFC 3339).
    pub recorded_at: String,
    /// The templates.
    pub templates: Templates,
}

/// `GET /v1/afis/gallery?after=N`: the other counters' recordings enrolled after `N`, in the
/// order the hub enrolled them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GalleryPage {
    /// Up to a page of recordings.
    pub records: Vec<GalleryRecord>,
    /// Whether more follow.
    pub more: bool,
}

/// `GET /v1/afis/conflicts?after=N`: the conflicts naming the asking counter, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictsPage {
    /// The conflicts after the cursor.
    pub conflicts: Vec<Conflict>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_says_its_verdict_by_name() {
        let clear = AfisAnswer::Clear {
            claim: "c1".into(),
            gallery: 3,
            expires_at: 10,
        };
        let json = serde_json::to_value(&clear).unwrap_or_default();
        assert_eq!(json["verdict"], "clear");
        let back: AfisAnswer = serde_json::from_value(json).unwrap_or(AfisAnswer::Clear {
            claim: String::new(),
            gallery: 0,
            expires_at: 0,
        });
        assert_eq!(back, clear);
    }

    #[test]
    fn an_identity_whose_certificate_is_not_its_pin_is_refused() {
        let id = HubIdentity {
            hub_id: "hub".into(),
            kecamatan: "327301".into(),
            tls_certificate_sha256: "00".repeat(32),
            tls_certificate: "not a certificate".into(),
        };
        assert!(id.check().is_err());
    }
}
