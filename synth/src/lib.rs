//! Synthetic residents for Rekam's tests, simulators, demos and benchmarks.
//!
//! No real fingerprint, iris or face data set can be had on the project's machines, so this
//! crate makes residents whose biometrics stay the same person across captures and differ
//! between people:
//!
//! - [`resident`]: biodata with valid NIKs from real region codes, value lists, foreign residents
//!   and deliberate eligibility edge cases;
//! - [`finger`]: master prints grown by iterative contextual Gabor filtering (the SFinGe approach
//!   of Cappelli, Maio and Maltoni), impressions with distortion, contact, pressure, noise and a
//!   quality knob, flat slaps 4-4-2, and the same fingers in other capture styles (optical,
//!   capacitive, plain and rolled ink) for calibrating the engine beyond one renderer;
//! - [`iris`], [`face`], [`signature`]: the other modalities;
//! - [`report`]: the realism report against NIST NBIS (MINDTCT, BOZORTH3).
//!
//! Everything is a pure function of a seed: the same seed gives the same bytes ([`seed::Seed`]).
//! Resident `i` of seed `s` is the same whatever the number of residents generated.

pub mod face;
pub mod finger;
pub mod gray;
pub mod iris;
pub mod recording;
pub mod report;
pub mod resident;
pub mod seed;
pub mod set;
pub mod signature;

mod names;
