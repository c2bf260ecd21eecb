//! A person's fingers and irises, and the person-level decision.
//!
//! One finger's score cannot keep false duplicates rare among hundreds of thousands of
//! residents: even a one-in-a-million chance per comparison gives a false duplicate every few
//! recordings at 300,000 residents times ten fingers. The person decision therefore fuses
//! every finger and iris both records hold: each gives a score 0-100 (an iris's from its
//! Hamming distance, [`iris_score`]), and two records are one person only when the sum clears
//! [`Decision::fused`] and at least [`Decision::fingers`] of them each clear their own
//! threshold ([`Decision::finger`], [`Decision::iris`]).

use crate::finger::matcher::{Prepared, Probe, Scratch};
use crate::finger::{FingerTemplate, screen};
use crate::iris::IrisCode;

/// A person's fingers by position (index 0 is position 1, the right thumb) and irises (right,
/// left); `None` for what was recorded as an exception.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonTemplate {
    /// Ten slots.
    pub fingers: [Option<FingerTemplate>; 10],
    /// Right and left iris.
    pub irises: [Option<IrisCode>; 2],
}

/// An iris comparison as a 0-100 score: Hamming distance 0.38 or more scores 0, the same-eye
/// limit [`crate::iris::SAME_EYE`] (0.32) scores 20, 0.08 or less 100.
pub fn iris_score(distance: f32) -> u8 {
    ((0.38 - distance) / 0.30 * 100.0).round().clamp(0.0, 100.0) as u8
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

    /// From what a de-duplication index stores of a person: one ISO/IEC 19794-2 record of
    /// their fingers and their iris codes ([`irises_to_bytes`]); `None` when either does not
    /// parse.
    pub fn from_stored(minutiae: &[u8], irises: &[u8]) -> Option<PersonTemplate> {
        let mut person = PersonTemplate::from_fingers(FingerTemplate::from_record(minutiae).ok()?);
        person.irises = irises_from_bytes(irises)?;
        Some(person)
    }
}

/// A person's two iris codes as bytes: per eye, 0 (absent) or 1 followed by the code.
pub fn irises_to_bytes(irises: &[Option<IrisCode>; 2]) -> Vec<u8> {
    let mut out = Vec::new();
    for eye in irises {
        match eye {
            Some(c) => {
                out.push(1);
                out.extend(c.to_bytes());
            }
            None => out.push(0),
        }
    }
    out
}

/// The codes back from [`irises_to_bytes`]; `None` when the bytes are not two codes.
pub fn irises_from_bytes(bytes: &[u8]) -> Option<[Option<IrisCode>; 2]> {
    let len = IrisCode::BYTES;
    let mut out = [None, None];
    let mut rest = bytes;
    for eye in &mut out {
        let (&flag, tail) = rest.split_first()?;
        rest = match flag {
            0 => tail,
            1 if tail.len() >= len => {
                *eye = Some(IrisCode::from_bytes(&tail[..len])?);
                &tail[len..]
            }
            _ => return None,
        };
    }
    rest.is_empty().then_some(out)
}

/// A person prepared for comparison with many others.
#[derive(Debug, Clone)]
pub struct PersonProbe {
    probes: [Option<Probe>; 10],
    codes: [screen::Code; 10],
    irises: [Option<IrisCode>; 2],
}

/// A person prepared as a gallery entry.
#[derive(Debug, Clone)]
pub struct PersonGallery {
    fingers: [Option<Prepared>; 10],
    irises: [Option<IrisCode>; 2],
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
            irises: p.irises.clone(),
        }
    }

    /// The screening codes.
    pub fn codes(&self) -> &[screen::Code; 10] {
        &self.codes
    }

    /// Scores against a gallery person: ten fingers position by position, then the right and
    /// left iris (`None` where either lacks it).
    pub fn scores(&self, g: &PersonGallery, s: &mut Scratch) -> [Option<u8>; 12] {
        std::array::from_fn(|i| {
            if i < 10 {
                match (&self.probes[i], &g.fingers[i]) {
                    (Some(p), Some(f)) => Some(p.compare(f, s)),
                    _ => None,
                }
            } else {
                match (&self.irises[i - 10], &g.irises[i - 10]) {
                    (Some(a), Some(b)) => a.distance(b).map(iris_score),
                    _ => None,
                }
            }
        })
    }
}

impl PersonGallery {
    /// Prepares a person as a gallery entry.
    pub fn new(p: &PersonTemplate) -> PersonGallery {
        PersonGallery {
            fingers: std::array::from_fn(|i| p.fingers[i].as_ref().map(Prepared::new)),
            irises: p.irises.clone(),
        }
    }
}

/// The person-level rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// A finger counts as matching at this score or above.
    pub finger: u8,
    /// An iris counts as matching at this score or above ([`iris_score`]).
    pub iris: u8,
    /// Matching fingers and irises needed.
    pub fingers: u8,
    /// Sum of all scores needed.
    pub fused: u32,
}

impl Default for Decision {
    /// A finger counts at the lowest score whose false match rate on the calibration bench's
    /// tuning styles is shown (95% upper bound) to keep false duplicates at or under one
    /// recording in a thousand with 100,000 enrolled (finger FMR 1.5e-5, two fingers needed;
    /// `cargo bench -p rekam-bio --bench calibration`, "derived"); the held-out style never
    /// tunes it. The sum of 60 is far below any genuine person's (the lowest seen: 446).
    /// Figures in `docs/biometric-engine.md`.
    fn default() -> Self {
        Decision {
            finger: 16,
            // the same-eye limit, Hamming distance 0.32
            iris: 20,
            fingers: 2,
            fused: 60,
        }
    }
}

/// The outcome of comparing two people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Sum of the scores.
    pub fused: u32,
    /// Fingers and irises at or above the threshold.
    pub matching: u8,
    /// Fingers and irises compared.
    pub compared: u8,
    /// Whether the rule calls them one person.
    pub same: bool,
}

impl Decision {
    /// Applies the rule to the scores of [`PersonProbe::scores`].
    pub fn judge(&self, scores: &[Option<u8>; 12]) -> Verdict {
        let present = scores.iter().flatten();
        let fused = present.clone().map(|s| u32::from(*s)).sum();
        let matching = scores
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                let threshold = if *i < 10 { self.finger } else { self.iris };
                s.is_some_and(|s| s >= threshold)
            })
            .count() as u8;
        Verdict {
            fused,
            matching,
            compared: present.count() as u8,
            same: fused >= self.fused && matching >= self.fingers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iris_scores_and_the_rule() {
        assert_eq!(iris_score(0.38), 0);
        assert_eq!(iris_score(0.32), 20);
        assert_eq!(iris_score(0.08), 100);
        assert_eq!(iris_score(0.45), 0);
        let rule = Decision::default();
        let mut scores = [None; 12];
        // Both irises alike and no fingers (a resident without hands): one person.
        scores[10] = Some(90);
        scores[11] = Some(85);
        let v = rule.judge(&scores);
        assert!(v.same && v.matching == 2 && v.compared == 2 && v.fused == 175);
        // One strong finger alone is not enough.
        let mut one = [Some(3); 12];
        one[1] = Some(95);
        let v = rule.judge(&one);
        assert!(!v.same && v.matching == 1, "{v:?}");
        assert!(irises_from_bytes(&irises_to_bytes(&[None, None])) == Some([None, None]));
        assert!(irises_from_bytes(&[2]).is_none());
    }
}
