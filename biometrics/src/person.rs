//! A person's fingers, and the person-level decision.
//!
//! One finger's score cannot keep false duplicates rare among hundreds of thousands of
//! residents: even a one-in-a-million chance per comparison gives a false duplicate every few
//! recordings at 300,000 residents times ten fingers. The person decision therefore fuses
//! every finger both records hold: the sum of the finger scores, and a duplicate only when the
//! sum clears [`Decision::fused`] and at least [`Decision::fingers`] fingers each clear
//! [`Decision::finger`].

use crate::finger::matcher::{Prepared, Probe, Scratch};
use crate::finger::{FingerTemplate, screen};

/// A person's fingers by position (index 0 is position 1, the right thumb); `None` for a finger
/// recorded as an exception.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonTemplate {
    /// Ten slots.
    pub fingers: [Option<FingerTemplate>; 10],
}

impl PersonTemplate {
    /// From templates carrying their positions (1-10); other positions are ignored.
    pub fn from_fingers(fingers: impl IntoIterator<Item = FingerTemplate>) -> PersonTemplate {
        let mut p = PersonTemplate::default();
        for f in fingers {
            if (1..=10).contains(&f.position) {
                let slot = usize::from(f.position - 1);
                p.fingers[slot] = Some(f);
            }
        }
        p
    }

    /// Fingers present.
    pub fn count(&self) -> usize {
        self.fingers.iter().flatten().count()
    }
}

/// A person prepared for comparison with many others.
#[derive(Debug, Clone)]
pub struct PersonProbe {
    probes: [Option<Probe>; 10],
    codes: [screen::Code; 10],
}

/// A person prepared as a gallery entry.
#[derive(Debug, Clone)]
pub struct PersonGallery {
    fingers: [Option<Prepared>; 10],
}

/// The screening codes of a person, ten, zero where a finger is missing.
pub fn codes(p: &PersonTemplate) -> [screen::Code; 10] {
    let mut out = [[0; screen::WORDS]; 10];
    for (slot, f) in out.iter_mut().zip(&p.fingers) {
        if let Some(f) = f {
            *slot = screen::code(&Prepared::new(f));
        }
    }
    out
}

impl PersonProbe {
    /// Prepares a person as a probe.
    pub fn new(p: &PersonTemplate) -> PersonProbe {
        let prepared: [Option<Prepared>; 10] =
            std::array::from_fn(|i| p.fingers[i].as_ref().map(Prepared::new));
        let codes = std::array::from_fn(|i| {
            prepared[i]
                .as_ref()
                .map(screen::code)
                .unwrap_or([0; screen::WORDS])
        });
        PersonProbe {
            probes: prepared.map(|f| f.map(Probe::from_prepared)),
            codes,
        }
    }

    /// The screening codes.
    pub fn codes(&self) -> &[screen::Code; 10] {
        &self.codes
    }

    /// Finger scores against a gallery person, position by position (`None` where either
    /// lacks the finger).
    pub fn scores(&self, g: &PersonGallery, s: &mut Scratch) -> [Option<u8>; 10] {
        std::array::from_fn(|i| match (&self.probes[i], &g.fingers[i]) {
            (Some(p), Some(f)) => Some(p.compare(f, s)),
            _ => None,
        })
    }
}

impl PersonGallery {
    /// Prepares a person as a gallery entry.
    pub fn new(p: &PersonTemplate) -> PersonGallery {
        PersonGallery {
            fingers: std::array::from_fn(|i| p.fingers[i].as_ref().map(Prepared::new)),
        }
    }
}

/// The person-level rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// A finger counts as matching at this score or above.
    pub finger: u8,
    /// Matching fingers needed.
    pub fingers: u8,
    /// Sum of all finger scores needed.
    pub fused: u32,
}

impl Default for Decision {
    /// Calibrated on synthetic residents (see the bench `rekam-bio-bench` and the engine's
    /// figures in `docs/biometric-engine.md`).
    fn default() -> Self {
        Decision {
            finger: 20,
            fingers: 2,
            fused: 60,
        }
    }
}

/// The outcome of comparing two people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Sum of the finger scores.
    pub fused: u32,
    /// Fingers at or above the finger threshold.
    pub matching: u8,
    /// Fingers compared.
    pub compared: u8,
    /// Whether the rule calls them one person.
    pub same: bool,
}

impl Decision {
    /// Applies the rule to finger scores.
    pub fn judge(&self, scores: &[Option<u8>; 10]) -> Verdict {
        let present = scores.iter().flatten();
        let fused = present.clone().map(|s| u32::from(*s)).sum();
        let matching = present.clone().filter(|s| **s >= self.finger).count() as u8;
        Verdict {
            fused,
            matching,
            compared: present.count() as u8,
            same: fused >= self.fused && matching >= self.fingers,
        }
    }
}
