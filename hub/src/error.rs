//! The hub library's one error type: setting up, opening and storing. Counters get the API's
//! own refusals (`api::Refusal`) with stable codes.

use std::path::PathBuf;

/// Result with [`HubError`].
pub type Result<T, E = HubError> = std::result::Result<T, E>;

/// What can go wrong in the hub.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// `init` on a directory that holds a hub already.
    #[error("{} exists: this directory already holds a kecamatan server; nothing was changed", .0.display())]
    AlreadyInitialised(PathBuf),
    /// `open` on a directory without a hub.
    #[error("no kecamatan server in {}: run `rekam-hub init` first", .0.display())]
    NotInitialised(PathBuf),
    /// A file of the data directory that is not what it should be.
    #[error("{}: {problem}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The linked SQLite cannot encrypt.
    #[error("this build's SQLite cannot encrypt: refusing to store templates")]
    NoEncryption,
    /// The operating system gave no randomness.
    #[error("the operating system gave no randomness: {0}")]
    NoRandomness(String),
    /// The certificate or the TLS listener.
    #[error(transparent)]
    Serve(#[from] rekam_serve::ServeError),
    /// A population extract refused: the reason, and its code (`EXTRACT_...`).
    #[error("{0}")]
    Extract(String, &'static str),
    /// A day that is not `YYYY-MM-DD`.
    #[error("{0:?} is not a day: write it as YYYY-MM-DD, as 2026-12-07")]
    BadDay(String),
    /// The kecamatan code is not six digits.
    #[error("{0:?} is not a kecamatan code: six digits, as 327301")]
    BadKecamatan(String),
    /// A stored template that does not parse (the database was damaged or edited).
    #[error(
        "the stored templates of recording {0} do not parse: restore the hub's database from its backup"
    )]
    Damaged(i64),
    /// The database's disk is full: nothing was written.
    #[error(
        "the kecamatan server's disk is full ({0}): nothing was written; free space on the disk of its database, the counters keep their recordings and send them again"
    )]
    DiskFull(String),
    /// A database a newer `rekam-hub` wrote.
    #[error(
        "the database was written by a newer rekam-hub (schema {found}, this one knows up to {known}): run that version, or restore the backup taken before the upgrade"
    )]
    NewerSchema {
        /// The database's schema version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// The database.
    #[error("database: {0}")]
    Database(String),
    /// The data center could not be joined or reached.
    #[error("the data center: {0}")]
    DataCenter(String),
    /// A file-system failure.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl From<rusqlite::Error> for HubError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => HubError::DiskFull(e.to_string()),
            _ => HubError::Database(e.to_string()),
        }
    }
}

impl HubError {
    /// A file-system failure at `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> HubError {
        HubError::Io {
            path: path.into(),
            source,
        }
    }

    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            HubError::AlreadyInitialised(_) => "ALREADY_INITIALISED",
            HubError::NotInitialised(_) => "NOT_INITIALISED",
            HubError::BadFile { .. } => "BAD_FILE",
            HubError::NoEncryption => "NO_ENCRYPTION",
            HubError::NoRandomness(_) => "NO_RANDOMNESS",
            HubError::Serve(_) => "TLS",
            HubError::BadKecamatan(_) => "BAD_KECAMATAN",
            HubError::BadDay(_) => "BAD_DAY",
            HubError::Extract(_, code) => code,
            HubError::Damaged(_) => "HUB_INDEX_DAMAGED",
            HubError::DiskFull(_) => "HUB_DISK_FULL",
            HubError::NewerSchema { .. } => "HUB_SCHEMA_NEWER",
            HubError::Database(_) => "DATABASE",
            HubError::DataCenter(_) => "DATA_CENTER",
            HubError::Io { .. } => "IO",
        }
    }
}
