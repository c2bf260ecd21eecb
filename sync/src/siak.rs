//! The population database (SIAK) over HTTP: `GET {base}/v1/penduduk/{nik}` answers `200`
//! with the resident's record as JSON, or `404` when SIAK does not know the NIK (Rekam's own
//! interface: SIAK's is not public; the reference is `rekam-sim-siak`). SIAK online also
//! offers the Dinas's extract of the station's kecamatan, sealed to the station, with the
//! kecamatan server's two requests (`/v1/ekstrak`).
//!
//! The NIK travels in the path, so nothing this module returns names the URL: a
//! [`SiakError`] says only what kind of failure it was, and its `Display` is safe to log.

use std::time::Duration;

/// Why SIAK gave no record. The text never contains the request's URL (and so the NIK).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiakError {
    /// The client could not be built (TLS backend).
    #[error("the HTTP client could not start")]
    Client,
    /// No answer in time.
    #[error("timeout")]
    Timeout,
    /// Nothing listens at the address, or the link is down.
    #[error("no connection")]
    NoConnection,
    /// The connection broke, or another transport failure.
    #[error("transport error")]
    Transport,
    /// SIAK answered with an unexpected status.
    #[error("HTTP {0}")]
    Status(u16),
}

/// SIAK at a base address (`http://127.0.0.1:4700`).
#[derive(Debug, Clone)]
pub struct SiakClient {
    base: String,
    client: reqwest::blocking::Client,
}

impl SiakClient {
    /// A client of SIAK at `base`, answering within `timeout`.
    pub fn new(base: &str, timeout: Duration) -> Result<SiakClient, SiakError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|_| SiakError::Client)?;
        Ok(SiakClient {
            base: base.trim_end_matches('/').to_owned(),
            client,
        })
    }

    /// The record of the resident with NIK `nik` (16 digits) as SIAK sent it, or `None` when
    /// SIAK does not know the NIK.
    pub fn penduduk(&self, nik: &str) -> Result<Option<Vec<u8>>, SiakError> {
        let url = format!("{}/v1/penduduk/{nik}", self.base);
        let resp = self.client.get(&url).send().map_err(kind)?;
        match resp.status() {
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => resp.bytes().map(|b| Some(b.to_vec())).map_err(kind),
            s => Err(SiakError::Status(s.as_u16())),
        }
    }

    /// The Dinas's extracts SIAK offers a station holding extract `after` (0: none), in the
    /// order they apply (`GET {base}/v1/ekstrak?after=N`, the kecamatan server's offer).
    pub fn population_offer(
        &self,
        after: u64,
    ) -> Result<rekam_packet::hub::PopulationOffer, SiakError> {
        let url = format!("{}/v1/ekstrak?after={after}", self.base);
        let resp = self.client.get(&url).send().map_err(kind)?;
        match resp.status() {
            s if s.is_success() => resp.json().map_err(|_| SiakError::Transport),
            s => Err(SiakError::Status(s.as_u16())),
        }
    }

    /// Extract `sequence`, sealed to the station's population key `to` (hex): the file as a
    /// station imports one from a USB stick (`GET {base}/v1/ekstrak/{sequence}?to=KEY`).
    pub fn population_file(&self, sequence: u64, to: &str) -> Result<Vec<u8>, SiakError> {
        let url = format!("{}/v1/ekstrak/{sequence}?to={to}", self.base);
        let resp = self.client.get(&url).send().map_err(kind)?;
        match resp.status() {
            s if s.is_success() => resp.bytes().map(|b| b.to_vec()).map_err(kind),
            s => Err(SiakError::Status(s.as_u16())),
        }
    }
}

/// What kind of failure `e` was; reqwest's own text names the URL, so it is dropped here.
fn kind(e: reqwest::Error) -> SiakError {
    if e.is_timeout() {
        SiakError::Timeout
    } else if e.is_connect() {
        SiakError::NoConnection
    } else {
        SiakError::Transport
    }
}
