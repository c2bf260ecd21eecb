//! The population database (SIAK) over HTTP: the station's [`Population`] at a counter.
//!
//! SIAK's own interface is not public, so this is Rekam's: `GET {base}/v1/penduduk/{nik}`
//! answers `200` with a [`PopulationRecord`] as JSON, or `404` when SIAK does not know the NIK.
//! The reference implementation is `rekam-sim-siak` (generated residents). The NIK travels in
//! the path, so the base must be a link the Dinas trusts (loopback, or its VPN); a NIK is never
//! logged whole (only masked).

use crate::domain::nik::Nik;
use crate::workflow::{Population, PopulationRecord, WorkflowError};
use std::time::Duration;

/// SIAK at `base` (`http://127.0.0.1:4700`).
#[derive(Debug, Clone)]
pub struct HttpPopulation {
    base: String,
    client: reqwest::blocking::Client,
}

impl HttpPopulation {
    /// A client of SIAK at `base`, answering within `timeout`.
    pub fn new(base: &str, timeout: Duration) -> crate::Result<HttpPopulation> {
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| unavailable(&e.to_string()))?;
        Ok(HttpPopulation {
            base: base.trim_end_matches('/').to_owned(),
            client,
        })
    }
}

fn unavailable(why: &str) -> crate::Error {
    crate::Error::Workflow(Box::new(WorkflowError::SiakUnavailable(why.to_owned())))
}

impl Population for HttpPopulation {
    fn lookup(&self, nik: &Nik) -> crate::Result<Option<PopulationRecord>> {
        let url = format!("{}/v1/penduduk/{}", self.base, nik.as_str());
        let resp = self.client.get(&url).send().map_err(|e| {
            tracing::warn!(nik = %nik.masked(), error = %e, "SIAK did not answer");
            // reqwest's message names the URL, and so the NIK: say only what kind of failure.
            unavailable(if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "no connection"
            } else {
                "transport error"
            })
        })?;
        match resp.status() {
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => resp
                .json::<PopulationRecord>()
                .map(Some)
                .map_err(|_| unavailable("an answer that is not a population record")),
            s => Err(unavailable(&format!("HTTP {}", s.as_u16()))),
        }
    }
}
