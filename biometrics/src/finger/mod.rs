//! Fingers: extraction, templates, matching and screening.
//!
//! A template is the ISO/IEC 19794-2 view of one finger: minutiae in pixels from the top left,
//! angles in units of 360/256 degrees counter-clockwise. It is stored and carried as a 19794-2
//! record; the matcher prepares it (neighbourhoods, screening code) in memory when needed.

pub mod extract;
pub mod matcher;
pub mod quality;
pub mod screen;

use crate::BioError;
pub use rekam_records::minutiae::Minutia;
use rekam_records::minutiae::{FingerView, MinutiaeRecord};

/// Most minutiae kept per finger: the most reliable ones. Plain 500 ppi prints carry 30-80.
pub const MAX_MINUTIAE: usize = 64;

/// One finger's minutiae.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerTemplate {
    /// Finger position code of ISO/IEC 19794-4 (1 right thumb ... 10 left little; 0 unknown).
    pub position: u8,
    /// Image width, pixels.
    pub width: u16,
    /// Image height, pixels.
    pub height: u16,
    /// Finger quality 0-100 (see [`quality`]).
    pub quality: u8,
    /// Minutiae, most reliable first, at most [`MAX_MINUTIAE`].
    pub minutiae: Vec<Minutia>,
}

/// 500 ppi in pixels per centimetre, as ISO/IEC 19794-2 states resolution.
const PPCM_500: u16 = 197;

impl FingerTemplate {
    /// The ISO/IEC 19794-2 view of this finger.
    pub fn view(&self) -> FingerView {
        FingerView {
            position: self.position,
            view: 0,
            impression: 0,
            quality: self.quality,
            minutiae: self.minutiae.clone(),
        }
    }

    /// Every finger of a record, in record order.
    pub fn from_record(bytes: &[u8]) -> Result<Vec<FingerTemplate>, BioError> {
        let r = MinutiaeRecord::parse(bytes)?;
        if r.ppcm != PPCM_500 {
            return Err(BioError::Template("only 500 ppi templates are compared"));
        }
        Ok(r.views
            .into_iter()
            .map(|v| FingerTemplate {
                position: v.position,
                width: r.width,
                height: r.height,
                quality: v.quality,
                minutiae: v.minutiae,
            })
            .collect())
    }
}

/// Several fingers of one geometry as one ISO/IEC 19794-2 record.
pub fn record_of(fingers: &[FingerTemplate]) -> Result<Vec<u8>, BioError> {
    let (width, height) = fingers
        .iter()
        .fold((0, 0), |(w, h), f| (w.max(f.width), h.max(f.height)));
    Ok(MinutiaeRecord {
        width,
        height,
        ppcm: PPCM_500,
        views: fingers.iter().map(FingerTemplate::view).collect(),
    }
    .to_bytes()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_finger;

    #[test]
    fn fingers_travel_as_one_record() {
        let fingers = vec![random_finger(1, 40, 2), random_finger(2, 55, 7)];
        let back = FingerTemplate::from_record(&record_of(&fingers).unwrap()).unwrap();
        assert_eq!(back, fingers);
    }
}
