//! The realism report: synthetic impressions measured with NIST NBIS's own tools, as ported to
//! Rust (`fprint-mindtct`, `fprint-bozorth3`), against the ranges of real plain prints: about
//! 30-80 minutiae and a ridge period of 8-11 px at 500 ppi; and the genuine and impostor score
//! distributions of BOZORTH3, which must separate as they do on real fingers.
//!
//! The ridge period is measured on MINDTCT's own binarised image along the normal of its own
//! direction map, so the generator's parameters are not taken on trust.

use crate::finger::PPI;
use crate::finger::impression::Quality;
use crate::finger::style::{Style, StyledCapture, styled_impression};
use crate::gray::Gray8;
use crate::seed::Seed;
use crate::set::masters;
use rayon::prelude::*;
use serde::Serialize;

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions {
    /// Residents (ten fingers each).
    pub residents: u64,
    /// Master seed.
    pub seed: u64,
    /// Quality of the impressions.
    pub quality: Quality,
    /// How the impressions are taken.
    pub style: Style,
}

/// Summary statistics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Samples.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Stats {
    /// Statistics of `values` (empty gives zeros).
    pub fn of(values: &[f64]) -> Stats {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            if v.is_empty() {
                0.0
            } else {
                v[((v.len() - 1) as f64 * p).round() as usize]
            }
        };
        Stats {
            n: v.len(),
            mean: if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            },
            p5: q(0.05),
            p50: q(0.5),
            p95: q(0.95),
            min: q(0.0),
            max: q(1.0),
        }
    }
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// How the impressions were taken.
    pub style: Style,
    /// Residents measured.
    pub residents: u64,
    /// Impressions measured (two per finger).
    pub impressions: usize,
    /// Minutiae found by MINDTCT per impression.
    pub minutiae: Stats,
    /// Share of impressions with 30-80 minutiae.
    pub minutiae_in_range: f64,
    /// Ridge period per impression (median over its blocks), pixels.
    pub ridge_period: Stats,
    /// Share of impressions whose period is 8-11 px.
    pub ridge_period_in_range: f64,
    /// Ridge period the generator aimed at, per finger.
    pub generated_period: Stats,
    /// BOZORTH3 scores of two impressions of one finger.
    pub genuine: Stats,
    /// BOZORTH3 scores of impressions of two different fingers.
    pub impostor: Stats,
    /// Equal error rate estimated from the two distributions.
    pub eer: f64,
    /// At BOZORTH3's customary threshold of 40: genuine pairs refused.
    pub fnmr_at_40: f64,
    /// At 40: impostor pairs accepted.
    pub fmr_at_40: f64,
}

struct Measured {
    minutiae: Vec<fprint_bozorth3::Minutia>,
    period: Option<f64>,
}

fn measure(img: &Gray8) -> Measured {
    let Ok(gray) = fprint_mindtct::GrayImage::new(&img.data, img.width, img.height, PPI) else {
        return Measured {
            minutiae: vec![],
            period: None,
        };
    };
    let minutiae = fprint_mindtct::detect_minutiae(gray)
        .iter()
        .map(|m| fprint_bozorth3::Minutia::from_xyt(m.x, m.y, m.theta))
        .collect();
    let maps = fprint_mindtct::debug_maps(gray);
    Measured {
        minutiae,
        period: ridge_period(img.width, img.height, &maps),
    }
}

/// Median ridge period over blocks with a valid direction: transitions of MINDTCT's binary
/// image counted along a 48-px segment normal to the ridge flow.
fn ridge_period(w: usize, h: usize, maps: &fprint_mindtct::DebugMaps) -> Option<f64> {
    if maps.binarized.len() != w * h || maps.map_w == 0 {
        return None;
    }
    let half = 24.0f64;
    let mut periods = Vec::new();
    for by in (0..maps.map_h).step_by(2) {
        for bx in (0..maps.map_w).step_by(2) {
            let d = maps.direction_map[by * maps.map_w + bx];
            if d < 0 {
                continue;
            }
            // Direction 0 is vertical, increasing clockwise in 16 steps of 11.25 degrees; the
            // normal to the flow is that angle plus 90 degrees.
            let flow = f64::from(d) * std::f64::consts::PI / 16.0;
            let (nx, ny) = (flow.cos(), flow.sin());
            let (cx, cy) = (bx as f64 * 8.0 + 4.0, by as f64 * 8.0 + 4.0);
            let mut transitions = 0;
            let mut prev = None;
            let mut inside = true;
            for s in 0..=(2.0 * half) as i32 {
                let t = f64::from(s) - half;
                let (x, y) = ((cx + nx * t).round(), (cy + ny * t).round());
                if x < 0.0 || y < 0.0 || x >= w as f64 || y >= h as f64 {
                    inside = false;
                    break;
                }
                let v = maps.binarized[y as usize * w + x as usize] < 128;
                if prev.is_some_and(|p| p != v) {
                    transitions += 1;
                }
                prev = Some(v);
            }
            if inside && transitions >= 4 {
                periods.push(2.0 * 2.0 * half / f64::from(transitions));
            }
        }
    }
    (!periods.is_empty()).then(|| Stats::of(&periods).p50)
}

/// Generates two impressions of every finger of `opts.residents` residents and measures them.
/// `progress` is told after each resident.
pub fn run(opts: ReportOptions, mut progress: impl FnMut(u64, u64)) -> Report {
    let seed = Seed::from_u64(opts.seed);
    let mut pairs: Vec<(Measured, Measured)> = Vec::new();
    let mut generated = Vec::new();
    for r in 0..opts.residents {
        let ms = masters(seed, r);
        let cseed = seed.child_n("report", r);
        let measured: Vec<(Measured, Measured)> = ms
            .par_iter()
            .map(|m| {
                let one = |k: u64| {
                    let s = cseed.child_n("capture", u64::from(m.position.code()) * 10 + k);
                    let cap = StyledCapture::draw(&mut s.rng(), opts.quality, opts.style);
                    measure(&styled_impression(m, &cap, s.child("sensor")))
                };
                (one(1), one(2))
            })
            .collect();
        generated.extend(ms.iter().map(|m| f64::from(m.mean_period)));
        pairs.extend(measured);
        progress(r + 1, opts.residents);
    }
    let all: Vec<&Measured> = pairs.iter().flat_map(|(a, b)| [a, b]).collect();
    let counts: Vec<f64> = all.iter().map(|m| m.minutiae.len() as f64).collect();
    let periods: Vec<f64> = all.iter().filter_map(|m| m.period).collect();
    let genuine: Vec<f64> = pairs
        .par_iter()
        .map(|(a, b)| f64::from(fprint_bozorth3::match_score(&a.minutiae, &b.minutiae)))
        .collect();
    // Impostors: the first impression of each finger against the second of the next finger
    // in the list (another finger of the same resident, or the next resident's).
    let n = pairs.len();
    let impostor: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let j = (i + 1) % n;
            f64::from(fprint_bozorth3::match_score(
                &pairs[i].0.minutiae,
                &pairs[j].1.minutiae,
            ))
        })
        .collect();
    let share = |v: &[f64], lo: f64, hi: f64| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().filter(|x| (lo..=hi).contains(*x)).count() as f64 / v.len() as f64
        }
    };
    let fnmr = |t: f64| share(&genuine, f64::MIN, t - 0.5);
    let fmr = |t: f64| share(&impostor, t, f64::MAX);
    // The equal error rate: where the two error curves cross, over integer thresholds.
    let eer = (0..=400)
        .map(f64::from)
        .min_by(|a, b| {
            (fnmr(*a) - fmr(*a))
                .abs()
                .total_cmp(&(fnmr(*b) - fmr(*b)).abs())
        })
        .map(|t| (fnmr(t) + fmr(t)) / 2.0)
        .unwrap_or(0.0);
    Report {
        style: opts.style,
        residents: opts.residents,
        impressions: all.len(),
        minutiae: Stats::of(&counts),
        minutiae_in_range: share(&counts, 30.0, 80.0),
        ridge_period: Stats::of(&periods),
        ridge_period_in_range: share(&periods, 8.0, 11.0),
        generated_period: Stats::of(&generated),
        genuine: Stats::of(&genuine),
        impostor: Stats::of(&impostor),
        eer,
        fnmr_at_40: fnmr(40.0),
        fmr_at_40: fmr(40.0),
    }
}
