//! What the engine's benches share: one impression's minutiae for both matchers, and error
//! rates from score lists.

#![allow(dead_code)]

use rekam_bio::finger::FingerTemplate;
use rekam_bio::finger::extract::from_mindtct;
use std::time::Instant;

/// The bench's `--name value` arguments in order (cargo's own `--bench` left out).
pub fn flags() -> Vec<(String, String)> {
    let mut argv = std::env::args().skip(1).filter(|a| a != "--bench");
    let mut out = Vec::new();
    while let Some(name) = argv.next() {
        out.push((name, argv.next().unwrap_or_default()));
    }
    out
}

/// A pair of steps written `G,I`.
pub fn steps(v: &str) -> (usize, usize) {
    let (g, i) = v.split_once(',').unwrap();
    (g.parse().unwrap(), i.parse().unwrap())
}

/// One impression: our template and BOZORTH3's minutiae.
pub struct Sample {
    pub ours: FingerTemplate,
    pub nbis: Vec<fprint_bozorth3::Minutia>,
    pub extract_ms: f64,
}

/// Extracts an impression once with MINDTCT for both matchers (BOZORTH3 gets MINDTCT's full
/// list, as NBIS runs it; ours keeps the most reliable).
pub fn sample(img: &rekam_synth::gray::Gray8, position: u8) -> Sample {
    let t0 = Instant::now();
    let gray = fprint_mindtct::GrayImage::new(&img.data, img.width, img.height, 500).unwrap();
    let detected = fprint_mindtct::detect_minutiae(gray);
    let ours = from_mindtct(&detected, img.width, img.height, position);
    let extract_ms = t0.elapsed().as_secs_f64() * 1e3;
    let nbis = detected
        .iter()
        .map(|m| fprint_bozorth3::Minutia::from_xyt(m.x, m.y, m.theta))
        .collect();
    Sample {
        ours,
        nbis,
        extract_ms,
    }
}

/// Genuine and impostor scores of one matcher (higher is more alike), sorted.
pub struct Curve {
    genuine: Vec<f64>,
    impostor: Vec<f64>,
}

impl Curve {
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

    pub fn genuine(&self) -> usize {
        self.genuine.len()
    }

    pub fn impostors(&self) -> usize {
        self.impostor.len()
    }

    /// Share of genuine pairs below `t` (refused).
    pub fn fnmr(&self, t: f64) -> f64 {
        self.genuine.partition_point(|&s| s < t) as f64 / self.genuine.len().max(1) as f64
    }

    /// Share of impostor pairs at or above `t` (accepted).
    pub fn fmr(&self, t: f64) -> f64 {
        (self.impostor.len() - self.impostor.partition_point(|&s| s < t)) as f64
            / self.impostor.len().max(1) as f64
    }

    fn thresholds(&self) -> Vec<f64> {
        let mut t: Vec<f64> = self.genuine.iter().chain(&self.impostor).copied().collect();
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

    /// FNMR at the threshold [`Curve::threshold_at`] gives.
    pub fn fnmr_at_fmr(&self, target: f64) -> Option<f64> {
        self.threshold_at(target).map(|t| self.fnmr(t))
    }
}

/// EER, FNMR at a target FMR and the threshold that gives it (the engine bench's summary).
pub fn rates(genuine: &[f64], impostor: &[f64], target_fmr: f64) -> (f64, f64, f64) {
    let c = Curve::new(genuine, impostor);
    let t = c
        .thresholds()
        .into_iter()
        .find(|&t| c.fmr(t) <= target_fmr)
        .unwrap_or(f64::INFINITY);
    (c.eer(), c.fnmr(t), t)
}
