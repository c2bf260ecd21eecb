//! Training mode's client (feature `training`, off in the build a station is installed from):
//! the device simulators' admin endpoints, so that an operator learning the counter can see
//! the generated residents the SIAK simulator knows (`GET {siak}/latihan/penduduk`) and call
//! one of them to the simulated devices (`POST {sbi}/admin/scenario`). A real SIAK or SBI
//! service has no such endpoints.

use std::time::Duration;

/// Why a training call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainingError {
    /// The SIAK simulator did not give its roster.
    #[error("the SIAK simulator did not answer: {0}")]
    Siak(String),
    /// The SBI simulator did not take the scenario.
    #[error("the SBI simulator at {0} did not answer")]
    Sbi(String),
}

/// The simulators' admin addresses.
#[derive(Debug, Clone)]
pub struct TrainingClient {
    siak: String,
    sbi: String,
    client: reqwest::blocking::Client,
}

impl TrainingClient {
    /// The SIAK simulator at `siak` and the SBI simulator at `sbi` (`http://127.0.0.1:port`).
    pub fn new(siak: &str, sbi: &str) -> Result<TrainingClient, TrainingError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| TrainingError::Siak(e.to_string()))?;
        Ok(TrainingClient {
            siak: siak.trim_end_matches('/').to_owned(),
            sbi: sbi.trim_end_matches('/').to_owned(),
            client,
        })
    }

    /// The generated residents the SIAK simulator knows, as it lists them (JSON).
    pub fn roster(&self) -> Result<Vec<u8>, TrainingError> {
        self.client
            .get(format!("{}/latihan/penduduk", self.siak))
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .and_then(reqwest::blocking::Response::bytes)
            .map(|b| b.to_vec())
            .map_err(|e| TrainingError::Siak(e.to_string()))
    }

    /// Resident `index` of the residents generated from `seed` steps up to the fingerprint
    /// scanner, the iris and the face cameras.
    pub fn present(&self, seed: u64, index: u64) -> Result<(), TrainingError> {
        self.client
            .post(format!("{}/admin/scenario", self.sbi))
            .json(&serde_json::json!({ "seed": seed, "resident": index }))
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .map(drop)
            .map_err(|_| TrainingError::Sbi(self.sbi.clone()))
    }
}
