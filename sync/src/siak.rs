//! The population database (SIAK) over HTTP: `GET {base}/v1/penduduk/{nik}` answers `200`
//! with the resident's record as JSON, or `404` when SIAK does not know the NIK (Rekam's own
//! interface: SIAK's is not public; the reference is `rekam-sim-siak`).
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
