//! Training mode, on the embedded default only: the simulators' admin endpoints, so that an
//! operator learning the counter can see the generated residents SIAK knows and call one of
//! them to the (simulated) devices. Nothing here runs against real devices: a station with a
//! real SBI service or a real SIAK has no training endpoints to call, and the desktop shows no
//! training panel unless it was started with the simulators' addresses.

use crate::workflow::WorkflowError;
use rekam_drivers::{DeviceKind, DriverError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The simulators' admin addresses.
#[derive(Debug, Clone)]
pub struct Training {
    siak: String,
    sbi: String,
    seed: u64,
    client: reqwest::blocking::Client,
}

/// A generated resident a trainer can call to the counter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TraineeResident {
    /// The generator's index.
    pub index: u64,
    /// The NIK on their family card (synthetic), if any.
    pub nik: Option<String>,
    /// The name they give.
    pub name: String,
    /// Born on (ISO 8601).
    pub birth_date: String,
    /// What their visit was generated to show, if anything special.
    pub edge_case: Option<String>,
    /// The recording case to open for them (a foreign resident's, or a new recording).
    #[serde(default)]
    pub case: Option<crate::domain::case::CaseType>,
}

fn workflow(e: WorkflowError) -> crate::Error {
    crate::Error::Workflow(Box::new(e))
}

impl Training {
    /// The SIAK simulator at `siak` and the SBI simulator at `sbi` (both `http://127.0.0.1:port`),
    /// generating residents from `seed`.
    pub fn new(siak: &str, sbi: &str, seed: u64) -> crate::Result<Training> {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| workflow(WorkflowError::SiakUnavailable(e.to_string())))?;
        Ok(Training {
            siak: siak.trim_end_matches('/').to_owned(),
            sbi: sbi.trim_end_matches('/').to_owned(),
            seed,
            client,
        })
    }

    /// The residents SIAK knows, in the generator's order.
    pub fn roster(&self) -> crate::Result<Vec<TraineeResident>> {
        self.client
            .get(format!("{}/latihan/penduduk", self.siak))
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .and_then(reqwest::blocking::Response::json)
            .map_err(|e| workflow(WorkflowError::SiakUnavailable(e.to_string())))
    }

    /// Resident `index` steps up to the fingerprint scanner, the iris and the face cameras.
    pub fn present(&self, index: u64) -> crate::Result<()> {
        self.client
            .post(format!("{}/admin/scenario", self.sbi))
            .json(&serde_json::json!({ "seed": self.seed, "resident": index }))
            .send()
            .and_then(reqwest::blocking::Response::error_for_status)
            .map(drop)
            .map_err(|_| {
                workflow(WorkflowError::Device(DriverError::NotConnected {
                    kind: DeviceKind::Fingerprint,
                    address: self.sbi.clone(),
                }))
            })
    }
}
