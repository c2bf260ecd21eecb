//! What the engine's benches share: one impression's minutiae for both matchers, error rates
//! from score lists (the engine's own [`Curve`]) and argument parsing.

#![allow(dead_code)]

pub use rekam_bio::calibration::Curve;
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

/// EER, FNMR at a target FMR and the threshold that gives it (the engine bench's summary).
pub fn rates(genuine: &[f64], impostor: &[f64], target_fmr: f64) -> (f64, f64, f64) {
    let c = Curve::new(genuine, impostor);
    // too few impostor pairs to show the target: no threshold, every genuine pair refused
    let t = c.threshold_at(target_fmr).unwrap_or(f64::INFINITY);
    (c.eer(), c.fnmr(t), t)
}
