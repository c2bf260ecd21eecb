//! The population database (SIAK): the station's [`Population`] at a counter, over the
//! `rekam-sync` crate's HTTP client (the core speaks no HTTP itself).
//!
//! The NIK travels in the request's path, so the base must be a link the Dinas trusts
//! (loopback, or its VPN); a NIK is never logged whole (only masked), and the client's errors
//! never carry the URL.

use crate::domain::nik::Nik;
use crate::workflow::{Found, Population, PopulationRecord, Source, WorkflowError};
use rekam_sync::siak::{SiakClient, SiakError};
use std::time::Duration;

/// SIAK at a base address (`http://127.0.0.1:4700`).
#[derive(Debug, Clone)]
pub struct HttpPopulation {
    client: SiakClient,
}

impl HttpPopulation {
    /// A client of SIAK at `base`, answering within `timeout`.
    pub fn new(base: &str, timeout: Duration) -> crate::Result<HttpPopulation> {
        let client = SiakClient::new(base, timeout).map_err(|e| unavailable(&e.to_string()))?;
        Ok(HttpPopulation { client })
    }
}

fn unavailable(why: &str) -> crate::Error {
    crate::Error::Workflow(Box::new(WorkflowError::SiakUnavailable(why.to_owned())))
}

impl Population for HttpPopulation {
    fn lookup(&self, nik: &Nik) -> crate::Result<Option<Found>> {
        let answer = self.client.penduduk(nik.as_str()).map_err(|e: SiakError| {
            tracing::warn!(nik = %nik.masked(), error = %e, "SIAK did not answer");
            unavailable(&e.to_string())
        })?;
        answer
            .map(|bytes| serde_json::from_slice::<PopulationRecord>(&bytes))
            .transpose()
            .map_err(|_| unavailable("an answer that is not a population record"))
            .map(|record| {
                record.map(|record| Found {
                    record,
                    source: Source::Siak,
                })
            })
    }
}
