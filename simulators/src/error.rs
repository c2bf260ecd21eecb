//! The simulators' library's one error type: what went wrong setting up a counter on the
//! simulators, generating a card's data, or starting a device service. The core's and the
//! drivers' errors keep their stable codes ([`SimError::code`]), so a test can tell a refusal
//! from a broken set-up.

/// Result with [`SimError`].
pub type Result<T, E = SimError> = std::result::Result<T, E>;

/// What can go wrong in the simulators' library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The core refused or failed (its code says which).
    #[error(transparent)]
    Core(#[from] rekam::Error),
    /// A driver failed (its code says which).
    #[error(transparent)]
    Driver(#[from] rekam_drivers::DriverError),
    /// The simulators are not where the test looks, or did not start as asked.
    #[error("{0}")]
    Setup(String),
    /// Generated test data that could not be made (an image, a record, a template, a key).
    #[error("generated test data: {0}")]
    Fixture(String),
    /// The SBI simulator's admin endpoint did not take a scenario.
    #[error("the SBI simulator: {0}")]
    Http(#[from] reqwest::Error),
    /// A file-system failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl SimError {
    /// The core's or the driver's stable code, when the error is one of theirs.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            SimError::Core(e) => Some(e.code()),
            SimError::Driver(e) => Some(e.code()),
            _ => None,
        }
    }

    /// Test data that could not be generated.
    pub fn fixture(e: impl std::fmt::Display) -> SimError {
        SimError::Fixture(e.to_string())
    }
}

impl From<rekam::domain::region::RegionError> for SimError {
    fn from(e: rekam::domain::region::RegionError) -> SimError {
        SimError::Core(e.into())
    }
}

impl From<rekam::workflow::WorkflowError> for SimError {
    fn from(e: rekam::workflow::WorkflowError) -> SimError {
        SimError::Core(e.into())
    }
}

impl From<std::num::ParseIntError> for SimError {
    fn from(e: std::num::ParseIntError) -> SimError {
        SimError::Setup(format!("a simulator announced no port: {e}"))
    }
}

/// Failures of generating test data (keys, images, records, templates): the test's fixture is
/// broken, not the code under test.
macro_rules! fixture_errors {
    ($($t:ty),+ $(,)?) => {
        $(impl From<$t> for SimError {
            fn from(e: $t) -> SimError {
                SimError::fixture(e)
            }
        })+
    };
}

fixture_errors!(
    rekam_drivers::trust::TrustError,
    rekam_records::RecordError,
    rekam_bio::BioError,
    image::ImageError,
    serde_json::Error,
    ed25519_dalek::pkcs8::Error,
);
