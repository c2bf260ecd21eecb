//! Training mode (its client behind the feature `training`, on for `scripts/run-app` and the
//! tests, off in the build a station is installed from; the roster's type in every build, so
//! the screen's contract is one): the simulators' admin endpoints through `rekam-sync`'s
//! training client, so that an operator learning the counter can see the generated residents
//! SIAK knows and call one of them to the (simulated) devices. Nothing here runs against real
//! devices: a station with a real SBI service or a real SIAK has no training endpoints to
//! call, and the desktop shows no training panel unless it was started with the simulators'
//! addresses.

#[cfg(feature = "training")]
pub use client::Training;
use serde::{Deserialize, Serialize};

/// A generated resident a trainer can call to the counter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

#[cfg(feature = "training")]
mod client {
    use super::TraineeResident;
    use crate::workflow::WorkflowError;
    use rekam_drivers::{DeviceKind, DriverError};
    use rekam_sync::training::{TrainingClient, TrainingError};

    /// The simulators' admin addresses and the seed their residents are generated from.
    #[derive(Debug, Clone)]
    pub struct Training {
        client: TrainingClient,
        seed: u64,
    }

    fn error(e: TrainingError) -> crate::Error {
        let e = match e {
            TrainingError::Siak(why) => WorkflowError::SiakUnavailable(why),
            TrainingError::Sbi(address) => WorkflowError::Device(DriverError::NotConnected {
                kind: DeviceKind::Fingerprint,
                address,
            }),
        };
        crate::Error::Workflow(Box::new(e))
    }

    impl Training {
        /// The SIAK simulator at `siak` and the SBI simulator at `sbi` (both `http://127.0.0.1:port`),
        /// generating residents from `seed`.
        pub fn new(siak: &str, sbi: &str, seed: u64) -> crate::Result<Training> {
            Ok(Training {
                client: TrainingClient::new(siak, sbi).map_err(error)?,
                seed,
            })
        }

        /// The residents SIAK knows, in the generator's order.
        pub fn roster(&self) -> crate::Result<Vec<TraineeResident>> {
            let bytes = self.client.roster().map_err(error)?;
            serde_json::from_slice(&bytes)
                .map_err(|e| error(TrainingError::Siak(format!("not a roster: {e}"))))
        }

        /// Resident `index` steps up to the fingerprint scanner, the iris and the face cameras.
        pub fn present(&self, index: u64) -> crate::Result<()> {
            self.client.present(self.seed, index).map_err(error)
        }
    }
}
