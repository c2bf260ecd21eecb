//! ISO/IEC 19794 biometric data interchange records, the 2005 editions: finger minutiae (part
//! 2, record and compact card formats), finger images (part 4), faces (part 5), irises (part 6),
//! and a CBEFF-style container listing them ([`cbeff`]). SBI devices deliver the images, the
//! biometric engine writes the minutiae, packets and cards carry them.
//!
//! Each record type has a plain struct, `to_bytes` and `parse`; `parse(to_bytes(r)) == r` for
//! every record the writer accepts. The readers take untrusted bytes from devices and cards:
//! every length is checked against what is there, nothing is trusted, nothing panics (fuzzed
//! through the SBI response parser).
//!
//! Scope, on purpose: one image per record is what a capture produces, so the image readers
//! refuse multi-view records rather than half-read them (a minutiae record lists many fingers); extended data blocks and
//! certification blocks are not written (part 2 records with extended data are refused).

pub mod cbeff;
pub mod face;
pub mod finger;
pub mod iris;
pub mod minutiae;

mod bytes;

/// Why bytes are not the record they claim to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The record ends before a field it needs.
    #[error("record truncated: {field} needs {need} more bytes")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes missing.
        need: usize,
    },
    /// The first bytes are not this record's format identifier and version.
    #[error("not an ISO/IEC 19794-{part}:2005 record")]
    NotThisFormat {
        /// The part of ISO/IEC 19794 expected.
        part: u8,
    },
    /// A field holds a value the standard (or this profile) does not allow.
    #[error("{field} = {value} is not allowed")]
    Invalid {
        /// The field.
        field: &'static str,
        /// The value found.
        value: u64,
    },
    /// A length field disagrees with the bytes actually present.
    #[error("{field} says {stated} bytes but {actual} are there")]
    LengthMismatch {
        /// The length field.
        field: &'static str,
        /// What it says.
        stated: u64,
        /// What is there.
        actual: u64,
    },
    /// The record is too large for its length fields.
    #[error("{field} of {len} bytes does not fit its length field")]
    TooLarge {
        /// The field.
        field: &'static str,
        /// The length.
        len: usize,
    },
}
