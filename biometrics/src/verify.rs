//! 1:1 verification of both index fingers, as the SOP requires at handover (live fingers
//! against the chip's templates) and at recording (the single-finger captures against the
//! just-captured slaps).
//!
//! The chip holds ISO/IEC 19794-2 compact card templates: positions in 0.1 mm and angles in 64ths
//! of a turn, at most 60 minutiae. [`card_template`] writes one from a template and
//! [`from_card`] reads it back into pixels at 500 ppi, so the same matcher compares both.

use crate::finger::matcher::{Prepared, Probe, Scratch};
use crate::finger::{FingerTemplate, Minutia};
use rekam_records::minutiae::{CardMinutia, MAX_MINUTIAE};

/// A finger score at or above this verifies: the lowest score whose false match rate on the
/// calibration bench's tuning styles is at most 1e-4 a finger (a handover needs both index
/// fingers, so an impostor passes far more rarely). Re-derive it with
/// `cargo bench -p rekam-bio --bench calibration` ("derived at FMR 1e-4"); the held-out style
/// never tunes it. The figures are in `docs/biometric-engine.md`.
pub const THRESHOLD: u8 = 11;

/// Pixels per 0.1 mm at 500 ppi.
const PX_PER_UNIT: f32 = 500.0 / 254.0;

/// The compact card template of a finger: its most reliable minutiae that fit the card's
/// 25.5 mm square.
pub fn card_template(t: &FingerTemplate) -> Vec<CardMinutia> {
    t.minutiae
        .iter()
        .filter_map(|m| {
            CardMinutia::from_pixels(
                f64::from(m.x),
                f64::from(m.y),
                f64::from(m.angle) * 360.0 / 256.0,
                500.0,
                m.kind,
            )
        })
        .take(MAX_MINUTIAE)
        .collect()
}

/// A template from a card's compact minutiae.
pub fn from_card(position: u8, card: &[CardMinutia]) -> FingerTemplate {
    FingerTemplate {
        position,
        width: (255.0 * PX_PER_UNIT).ceil() as u16,
        height: (255.0 * PX_PER_UNIT).ceil() as u16,
        quality: 0,
        minutiae: card
            .iter()
            .map(|m| Minutia {
                kind: m.kind,
                x: (f32::from(m.x) * PX_PER_UNIT).round() as u16,
                y: (f32::from(m.y) * PX_PER_UNIT).round() as u16,
                angle: m.angle.wrapping_mul(4),
                quality: 0,
            })
            .collect(),
    }
}

/// The outcome for both index fingers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// Right index score.
    pub right: u8,
    /// Left index score.
    pub left: u8,
    /// Both at or above [`THRESHOLD`].
    pub passed: bool,
}

/// Compares live right and left index fingers with their references.
pub fn index_fingers(
    live: (&FingerTemplate, &FingerTemplate),
    reference: (&FingerTemplate, &FingerTemplate),
) -> Verification {
    let mut s = Scratch::default();
    let mut score =
        |a: &FingerTemplate, b: &FingerTemplate| Probe::new(a).compare(&Prepared::new(b), &mut s);
    let right = score(live.0, reference.0);
    let left = score(live.1, reference.1);
    Verification {
        right,
        left,
        passed: right >= THRESHOLD && left >= THRESHOLD,
    }
}
