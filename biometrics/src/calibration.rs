//! Calibration: what the finger threshold does on a given set of captures.
//!
//! The shipped threshold ([`crate::verify::THRESHOLD`]) is derived on synthetic prints (the
//! `calibration` bench). Before go-live a Dinas captures its own people on its own scanners,
//! twice each on different days, and [`evaluate`] says what the threshold does on them: how
//! many genuine fingers it refuses, how many impostor pairs it lets through (and the most that
//! can be promised from that many pairs), the threshold those impostors would give at FMR
//! 1e-4, and a verdict. `docs/biometric-engine.md` has the procedure.

use crate::finger::FingerTemplate;
use crate::finger::matcher::{Prepared, Probe, Scratch};

/// The false match rate a finger threshold is set for.
pub const TARGET_FMR: f64 = 1e-4;
/// The share of genuine fingers the threshold may refuse before a deployment must not go live.
pub const MAX_FNMR: f64 = 0.02;

/// Genuine and impostor scores of one matcher (higher is more alike), sorted.
#[derive(Debug, Clone, Default)]
pub struct Curve {
    genuine: Vec<f64>,
    impostor: Vec<f64>,
}

impl Curve {
    /// The curve of these scores.
    pub fn new(genuine: &[f64], impostor: &[f64]) -> Curve {
        let mut g = genuine.to_vec();
        let mut i = impostor.to_vec();
        g.sort_by(f64::total_cmp);
        i.sort_by(f64::total_cmp);
        Curve {
            genuine: g,
            impostor: i,
        }
    }

    /// Genuine pairs.
    pub fn genuine(&self) -> usize {
        self.genuine.len()
    }

    /// Impostor pairs.
    pub fn impostors(&self) -> usize {
        self.impostor.len()
    }

    /// Share of genuine pairs below `t` (refused).
    pub fn fnmr(&self, t: f64) -> f64 {
        self.refused(t) as f64 / self.genuine.len().max(1) as f64
    }

    /// Genuine pairs below `t`.
    pub fn refused(&self, t: f64) -> usize {
        self.genuine.partition_point(|&s| s < t)
    }

    /// Share of impostor pairs at or above `t` (accepted).
    pub fn fmr(&self, t: f64) -> f64 {
        self.accepted(t) as f64 / self.impostor.len().max(1) as f64
    }

    /// Impostor pairs at or above `t`.
    pub fn accepted(&self, t: f64) -> usize {
        self.impostor.len() - self.impostor.partition_point(|&s| s < t)
    }

    /// Every score seen, and the next whole score above each impostor's (scores are whole
    /// numbers but for fusions: the lowest threshold an impostor does not reach).
    fn thresholds(&self) -> Vec<f64> {
        let above = self.impostor.iter().map(|s| s.floor() + 1.0);
        let mut t: Vec<f64> = self
            .genuine
            .iter()
            .chain(&self.impostor)
            .copied()
            .chain(above)
            .collect();
        t.sort_by(f64::total_cmp);
        t.dedup();
        t.push(f64::INFINITY);
        t
    }

    /// The equal error rate: the smallest worse-of-the-two error over every threshold.
    pub fn eer(&self) -> f64 {
        self.thresholds()
            .into_iter()
            .map(|t| self.fmr(t).max(self.fnmr(t)))
            .fold(1.0, f64::min)
    }

    /// The lowest threshold whose FMR is at most `target`; `None` when there are too few
    /// impostor pairs to tell (fewer than 1/`target`).
    pub fn threshold_at(&self, target: f64) -> Option<f64> {
        if (self.impostor.len() as f64) < 1.0 / target {
            return None;
        }
        self.thresholds()
            .into_iter()
            .find(|&t| self.fmr(t) <= target)
    }

    /// The lowest threshold whose FMR is shown to be at most `target`: the 95% upper bound of
    /// the impostor pairs it accepts ([`upper_95`]) is at most `target`. Stricter than
    /// [`Curve::threshold_at`] where few impostors are expected above the threshold (a person
    /// rule's finger FMR of 1e-5); `None` without the 3/`target` impostor pairs that could show
    /// it.
    pub fn threshold_shown_at(&self, target: f64) -> Option<f64> {
        let n = self.impostor.len();
        self.thresholds()
            .into_iter()
            .find(|&t| upper_95(self.accepted(t), n) <= target)
    }

    /// FNMR at the threshold [`Curve::threshold_at`] gives.
    pub fn fnmr_at_fmr(&self, target: f64) -> Option<f64> {
        self.threshold_at(target).map(|t| self.fnmr(t))
    }
}

/// The 95% upper bound of a rate seen `k` times in `n` trials (Wilson's score interval; "rule
/// of three" when none is seen).
pub fn upper_95(k: usize, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    if k == 0 {
        return (3.0 / n as f64).min(1.0);
    }
    let (k, n, z) = (k as f64, n as f64, 1.96);
    let p = k / n;
    let centre = p + z * z / (2.0 * n);
    let spread = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((centre + spread) / (1.0 + z * z / n)).min(1.0)
}

/// One finger capture of the calibration set.
#[derive(Debug, Clone)]
pub struct Capture {
    /// Who (any label; one per volunteer).
    pub person: String,
    /// When (any label; a genuine pair is two sessions of one person's finger).
    pub session: String,
    /// The finger's template; its `position` says which finger.
    pub template: FingerTemplate,
    /// The quality gate's score, 0-100.
    pub quality: u8,
}

/// What the threshold does on a calibration set.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Volunteers.
    pub people: usize,
    /// Captures read.
    pub captures: usize,
    /// Captures the quality gate refuses (left out of every pair: a counter retakes them).
    pub below_gate: usize,
    /// The gate used.
    pub gate: u8,
    /// The threshold evaluated.
    pub threshold: u8,
    /// Genuine pairs: one finger of one person in two sessions.
    pub genuine: usize,
    /// Genuine pairs the threshold refuses.
    pub refused: usize,
    /// `refused` over `genuine`.
    pub fnmr: f64,
    /// Impostor pairs: fingers of two different people.
    pub impostors: usize,
    /// Impostor pairs the threshold accepts.
    pub accepted: usize,
    /// `accepted` over `impostors`.
    pub fmr: f64,
    /// The most the FMR can be, 95% confidence, from this many pairs.
    pub fmr_upper: f64,
    /// The threshold these impostors give at [`TARGET_FMR`], when there are enough of them.
    pub derived: Option<u8>,
    /// The FNMR at `derived`.
    pub fnmr_at_derived: Option<f64>,
    /// The quality gate on these captures: at each of [`GATES`], the retakes it asks for and
    /// the genuine pairs the threshold then refuses. Where the gate is chosen: the lowest one
    /// past which retakes no longer buy fewer refusals.
    pub gates: Vec<GatePoint>,
    /// What to do.
    pub verdict: Verdict,
}

/// Quality gates whose trade-off [`evaluate`] reports.
pub const GATES: [u8; 6] = [0, 20, 30, 40, 50, 60];

/// What one quality gate does on the calibration set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GatePoint {
    /// The gate.
    pub gate: u8,
    /// Share of captures it refuses (retaken at a counter).
    pub retakes: f64,
    /// Genuine pairs whose two captures pass it.
    pub genuine: usize,
    /// Share of those the threshold refuses.
    pub fnmr: f64,
}

/// The outcome of a calibration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The threshold refuses at most [`MAX_FNMR`] of genuine fingers and its FMR is shown
    /// to be at most [`TARGET_FMR`]: go live.
    Ready,
    /// Too few pairs to show either: capture more volunteers.
    TooFewPairs {
        /// Genuine pairs still needed.
        genuine_needed: usize,
        /// Impostor pairs still needed.
        impostors_needed: usize,
    },
    /// The threshold refuses too many genuine fingers on these scanners: do not go live;
    /// check the scanners and the capture practice, and report the figures.
    TooManyRefused,
    /// Impostors pass the threshold more often than the target: do not go live; report.
    TooManyAccepted,
}

/// Genuine pairs needed to show an FNMR of [`MAX_FNMR`] or better with some precision.
const GENUINE_NEEDED: usize = 300;

/// What `threshold` does on `captures`, leaving out those the quality gate puts below `gate`.
pub fn evaluate(captures: &[Capture], threshold: u8, gate: u8) -> Calibration {
    let kept: Vec<&Capture> = captures.iter().filter(|c| c.quality >= gate).collect();
    let prepared: Vec<Prepared> = kept.iter().map(|c| Prepared::new(&c.template)).collect();
    let probes: Vec<Probe> = prepared
        .iter()
        .map(|p| Probe::from_prepared(p.clone()))
        .collect();
    let mut s = Scratch::default();
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for i in 0..kept.len() {
        for j in i + 1..kept.len() {
            let (a, b) = (kept[i], kept[j]);
            let into = if a.person != b.person {
                &mut impostor
            } else if a.template.position == b.template.position && a.session != b.session {
                &mut genuine
            } else {
                continue;
            };
            into.push(f64::from(probes[i].compare(&prepared[j], &mut s)));
        }
    }
    let curve = Curve::new(&genuine, &impostor);
    let t = f64::from(threshold);
    let gates = gate_trade_off(captures, t);
    let refused = curve.refused(t);
    let accepted = curve.accepted(t);
    let fmr_upper = upper_95(accepted, impostor.len());
    let derived = curve.threshold_at(TARGET_FMR);
    let impostors_needed = (3.0 / TARGET_FMR) as usize;
    let verdict = if genuine.len() < GENUINE_NEEDED || fmr_upper > TARGET_FMR {
        if accepted > 0 && accepted as f64 > TARGET_FMR * impostor.len() as f64 {
            Verdict::TooManyAccepted
        } else {
            Verdict::TooFewPairs {
                genuine_needed: GENUINE_NEEDED.saturating_sub(genuine.len()),
                impostors_needed: impostors_needed.saturating_sub(impostor.len()),
            }
        }
    } else if curve.fnmr(t) > MAX_FNMR {
        Verdict::TooManyRefused
    } else {
        Verdict::Ready
    };
    let mut people: Vec<&str> = captures.iter().map(|c| c.person.as_str()).collect();
    people.sort_unstable();
    people.dedup();
    Calibration {
        people: people.len(),
        captures: captures.len(),
        below_gate: captures.len() - kept.len(),
        gate,
        threshold,
        genuine: genuine.len(),
        refused,
        fnmr: curve.fnmr(t),
        impostors: impostor.len(),
        accepted,
        fmr: curve.fmr(t),
        fmr_upper,
        derived: derived.map(|d| d as u8),
        fnmr_at_derived: derived.map(|d| curve.fnmr(d)),
        gates,
        verdict,
    }
}

/// Every genuine pair of `captures`, the gate ignored (the lower quality of its two and its
/// score), and what each of [`GATES`] would leave of them.
fn gate_trade_off(captures: &[Capture], threshold: f64) -> Vec<GatePoint> {
    let mut s = Scratch::default();
    let mut pairs = Vec::new();
    for (i, a) in captures.iter().enumerate() {
        let probe = Probe::new(&a.template);
        for b in &captures[i + 1..] {
            if a.person == b.person
                && a.template.position == b.template.position
                && a.session != b.session
            {
                let score = f64::from(probe.compare(&Prepared::new(&b.template), &mut s));
                pairs.push((a.quality.min(b.quality), score));
            }
        }
    }
    GATES
        .iter()
        .map(|&gate| {
            let kept: Vec<f64> = pairs
                .iter()
                .filter(|(q, _)| *q >= gate)
                .map(|&(_, score)| score)
                .collect();
            let below = captures.iter().filter(|c| c.quality < gate).count();
            GatePoint {
                gate,
                retakes: below as f64 / captures.len().max(1) as f64,
                genuine: kept.len(),
                fnmr: kept.iter().filter(|&&score| score < threshold).count() as f64
                    / kept.len().max(1) as f64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_finds_the_threshold_for_a_false_match_rate() {
        let impostor: Vec<f64> = (0..10_000).map(|i| f64::from(i % 10)).collect();
        let mut with_tail = impostor.clone();
        with_tail[0] = 15.0; // one impostor pair scores 15
        let genuine = [12.0, 30.0, 40.0, 50.0];
        let c = Curve::new(&genuine, &with_tail);
        assert_eq!(c.threshold_at(1e-4), Some(10.0));
        assert_eq!(c.fnmr(10.0), 0.0);
        assert_eq!(c.fnmr(13.0), 0.25);
        assert_eq!(c.accepted(10.0), 1);
        assert_eq!(
            Curve::new(&genuine, &impostor[..100]).threshold_at(1e-4),
            None
        );
    }

    #[test]
    fn a_threshold_shown_at_a_rate_leaves_room_for_what_chance_did_not_show() {
        // 100,000 impostors, ten of them scoring 20 and above, one 30 and above.
        let mut impostor = vec![5.0; 100_000];
        impostor[..9].fill(20.0);
        impostor[9] = 30.0;
        let c = Curve::new(&[], &impostor);
        // Point estimate: from 6 up, 10 of 100,000 is 1e-4.
        assert_eq!(c.threshold_at(1e-4), Some(6.0));
        // Shown: 10 seen can be 1.8e-4; from 21, 1 seen can be up to 5.6e-5.
        assert_eq!(c.threshold_shown_at(1e-4), Some(21.0));
        // Nothing seen above 31 still only shows 3e-5 of 100,000 pairs.
        assert_eq!(c.threshold_shown_at(2e-5), None);
    }

    #[test]
    fn the_gate_trade_off_shows_what_retakes_buy() {
        // a's finger matches itself; b's second capture is poor (quality 25) and is another
        // print altogether, so the pair fails unless the gate sends it back.
        let set = [
            capture("a", "1", 1, 80),
            capture("a", "2", 1, 80),
            capture("b", "1", 2, 80),
            capture("b", "2", 9, 25),
        ];
        let c = evaluate(&set, 11, 40);
        let at = |g: u8| c.gates.iter().find(|p| p.gate == g).copied().unwrap();
        assert_eq!((at(0).retakes, at(0).genuine, at(0).fnmr), (0.0, 2, 0.5));
        assert_eq!((at(20).retakes, at(20).genuine, at(20).fnmr), (0.0, 2, 0.5));
        assert_eq!(
            (at(30).retakes, at(30).genuine, at(30).fnmr),
            (0.25, 1, 0.0)
        );
        assert_eq!(at(60).retakes, 0.25);
        assert_eq!(c.gates.len(), GATES.len());
    }

    #[test]
    fn the_upper_bound_covers_what_was_seen() {
        assert!((upper_95(0, 30_000) - 1e-4).abs() < 1e-12);
        let u = upper_95(5, 10_000);
        assert!(u > 5e-4 && u < 1.5e-3, "{u}");
        assert_eq!(upper_95(0, 0), 1.0);
    }

    fn capture(person: &str, session: &str, seed: u64, quality: u8) -> Capture {
        Capture {
            person: person.into(),
            session: session.into(),
            template: crate::testing::random_finger(seed, 40, 2),
            quality,
        }
    }

    #[test]
    fn pairs_are_counted_by_person_finger_and_session_and_the_gate_holds() {
        // Two people, one finger each, two sessions; the same template in both sessions
        // is a perfect genuine pair.
        let set = [
            capture("a", "1", 1, 80),
            capture("a", "2", 1, 80),
            capture("b", "1", 2, 80),
            capture("b", "2", 2, 80),
            capture("c", "1", 3, 10), // refused by the gate
        ];
        let c = evaluate(&set, 11, 40);
        assert_eq!((c.people, c.captures, c.below_gate), (3, 5, 1));
        assert_eq!((c.genuine, c.refused, c.impostors), (2, 0, 4));
        assert_eq!(
            c.verdict,
            Verdict::TooFewPairs {
                genuine_needed: GENUINE_NEEDED - 2,
                impostors_needed: 30_000 - 4
            }
        );
        assert_eq!(c.derived, None);
    }
}
