//! The nouns of e-KTP enrollment and the rules the seeds impose on them, shared by every side of
//! Rekam: the station, the kecamatan server and the data center (`../shared/docs/domain.md` in
//! the steering repository is the digest; every rule here cites the part it comes from).
//!
//! API boundary: values and pure rules only. This crate reads no file, opens no socket, speaks
//! no SQL and drives no device; the one exception to "no I/O" is [`clock::SystemClock`], the one
//! place anything reads the system time. A change here is a change to what a recording *is*, so
//! the manifest's format ([`manifest::MANIFEST_FORMAT`]) and the print order's fields move with
//! the data center.

pub mod biodata;
pub mod case;
pub mod clock;
pub mod eligibility;
pub mod kk;
pub mod manifest;
pub mod nik;
pub mod pekerjaan;
pub mod population;
pub mod print_order;
pub mod region;
pub mod reissue;
pub mod sop;

pub(crate) mod digits;

/// Operator languages (the `rekam-i18n` crate).
pub use rekam_i18n as i18n;
