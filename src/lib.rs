//! Rekam core: the domain rules of e-KTP enrollment, the encrypted station store, and the
//! operations the CLI and the desktop shell call.
//!
//! The crate knows nothing of Tauri or device wire protocols (its workflows reach devices
//! through the `rekam-drivers` traits) and speaks no HTTP itself: its
//! `sync` drives the `rekam-sync` client (see `ARCHITECTURE.md`).
//! Everything fallible returns [`Error`]; every message an operator may see is available in
//! Bahasa Indonesia and in English through [`i18n::Localized`].

pub mod audit;
pub mod backup;
pub mod calibration;
pub mod card_face;
pub mod dedup;
pub mod desk;
pub mod disk;
pub mod documents;
mod durable;
pub mod error;
pub mod export;
pub mod hub;
pub mod packet;
pub mod population;
pub mod report;
pub mod siak;
pub mod station;
pub mod store;
pub mod sync;
pub mod training;
pub mod workflow;

pub use error::{Error, Result};
/// The domain rules: NIK, regions, biodata, cases, eligibility (crate `rekam-domain`, shared
/// with the kecamatan server and the data center).
pub use rekam_domain as domain;
/// The one time source (crate `rekam-domain`).
pub use rekam_domain::clock;
/// Operator languages (the `rekam-i18n` crate, shared with the drivers).
pub use rekam_i18n as i18n;
