//! Rekam's biometric engine.
//!
//! - [`finger`]: minutiae extraction (NIST MINDTCT, as ported to Rust by `fprint-mindtct`), the
//!   compact template, our own matcher (local neighbourhood structures voted through a hash
//!   table of the probe, then consolidated under one rigid alignment), and a fixed-length
//!   screening code for the fast first stage of 1:N;
//! - [`calibration`]: what the finger threshold does on a set of captures, before go-live;
//! - [`person`]: a person's templates and the person-level decision that fuses fingers;
//! - [`index`]: the local de-duplication index: screening codes of every enrolled person in
//!   memory, full templates fetched only for the best candidates.
//!
//! Everything here is pure computation on bytes and pixels: no I/O, no clock, no logging, so
//! nothing here can leak a template to disk. Persistence belongs to the store.

pub mod calibration;
pub mod face;
pub mod finger;
pub mod index;
pub mod iris;
pub mod person;
#[doc(hidden)]
#[cfg(feature = "test-support")]
pub mod testing;
pub mod verify;

/// Why an image or template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BioError {
    /// The image could not be decoded or is not a finger image this engine reads.
    #[error("unreadable image: {0}")]
    Image(String),
    /// A stored template is damaged.
    #[error("damaged template: {0}")]
    Template(&'static str),
    /// A record could not be read.
    #[error(transparent)]
    Record(#[from] rekam_records::RecordError),
}
