//! The gateway library's one error type. `Display` says what went wrong and, where a data
//! center operator can act, what to do; `code()` is stable. The HTTP API answers stations with
//! its own refusals (`api::Refusal`); these are the errors of setting up, opening, importing and
//! matching.

use std::path::PathBuf;

/// Result with [`GatewayError`].
pub type Result<T, E = GatewayError> = std::result::Result<T, E>;

/// What can go wrong in the gateway.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// `init` on a directory that holds a data center already.
    #[error("{} exists: this directory already holds a data center; nothing was changed", .0.display())]
    AlreadyInitialised(PathBuf),
    /// `open` on a directory without a data center.
    #[error("no data center keys in {}: run `rekam-gateway init` first", .0.display())]
    NotInitialised(PathBuf),
    /// A file of the data directory that is not what it should be.
    #[error("{}: {problem}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The public identity does not belong to the keys beside it.
    #[error("dc-identity.json does not belong to keys/dc.key: restore the pair from one backup")]
    IdentityMismatch,
    /// The linked SQLite cannot encrypt.
    #[error("this build's SQLite cannot encrypt: refusing to store packets")]
    NoEncryption,
    /// The operating system gave no randomness.
    #[error("the operating system gave no randomness: {0}")]
    NoRandomness(String),
    /// A technician's bundle that cannot be imported.
    #[error("the bundle in {}: {problem}", path.display())]
    Bundle {
        /// The bundle's folder.
        path: PathBuf,
        /// Why it is refused whole.
        problem: String,
    },
    /// A station id the data center does not know.
    #[error(
        "station {0} is not registered at this data center: check the id (`rekam-gateway stations`)"
    )]
    UnknownStation(String),
    /// A stored packet whose station key is gone.
    #[error("the key {key_id} of station {station_id} is not in the database")]
    StationKeyMissing {
        /// The station.
        station_id: String,
        /// Its key id named by the packet.
        key_id: String,
    },
    /// A packet whose recording does not hold together.
    #[error("the recording is inconsistent: {0}")]
    Recording(String),
    /// A template the biometric engine could not read or write.
    #[error("biometric template: {0}")]
    Template(String),
    /// A packet or protocol message that does not verify or parse.
    #[error(transparent)]
    Packet(#[from] rekam_packet::PacketError),
    /// The database.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The certificate or the TLS listener.
    #[error(transparent)]
    Serve(#[from] rekam_serve::ServeError),
    /// A file-system failure.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// JSON this gateway writes could not be written.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The packet store ([`crate::objects`]).
    #[error("{message}")]
    Objects {
        /// Stable code: OBJECTS_UNSUPPORTED, OBJECTS_UNAVAILABLE, OBJECT_MISSING,
        /// OBJECT_DAMAGED.
        code: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// A packet another gateway process decided first: its result is not published twice.
    #[error("packet {0} was decided by another gateway process; its result stands")]
    DecidedElsewhere(String),
    /// An adjudicator's decision that cannot be recorded.
    #[error("{message}")]
    Adjudication {
        /// Stable code: NO_SUCH_CASE, CASE_DECIDED, DECISION_UNSIGNED.
        code: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
}

impl GatewayError {
    /// A file-system failure at `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> GatewayError {
        GatewayError::Io {
            path: path.into(),
            source,
        }
    }

    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::AlreadyInitialised(_) => "ALREADY_INITIALISED",
            GatewayError::NotInitialised(_) => "NOT_INITIALISED",
            GatewayError::BadFile { .. } => "BAD_FILE",
            GatewayError::IdentityMismatch => "IDENTITY_MISMATCH",
            GatewayError::NoEncryption => "NO_ENCRYPTION",
            GatewayError::NoRandomness(_) => "NO_RANDOMNESS",
            GatewayError::Bundle { .. } => "BUNDLE_REFUSED",
            GatewayError::UnknownStation(_) => "STATION_UNKNOWN",
            GatewayError::StationKeyMissing { .. } => "STATION_KEY_MISSING",
            GatewayError::Recording(_) => "RECORDING_INVALID",
            GatewayError::Template(_) => "TEMPLATE",
            GatewayError::Packet(e) => e.code(),
            GatewayError::Serve(rekam_serve::ServeError::Tls(_)) => "TLS",
            GatewayError::Serve(_) => "BAD_FILE",
            GatewayError::Database(_) => "DATABASE",
            GatewayError::Io { .. } => "IO",
            GatewayError::Json(_) => "JSON",
            GatewayError::Adjudication { code, .. } | GatewayError::Objects { code, .. } => code,
            GatewayError::DecidedElsewhere(_) => "DECIDED_ELSEWHERE",
        }
    }
}
