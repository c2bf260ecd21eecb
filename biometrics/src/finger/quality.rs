//! Finger image quality, 0-100, in the spirit of NFIQ 2 (ISO/IEC 29794-4): the features it
//! names, measured on 16 x 16 pixel blocks of a 500 ppi image, combined into one score.
//!
//! - foreground: share of the image with ridges (block contrast), against the area a flat
//!   fingertip covers;
//! - orientation coherence: how consistently the grey-level gradient points one way in each
//!   block (structure tensor), averaged over the foreground;
//! - ridge frequency: share of foreground blocks whose ridge period, counted along the normal
//!   to the flow, lies in the 6-14 px of real skin at 500 ppi;
//! - ridge clarity: block contrast;
//! - minutiae: how many the extractor found and how reliable it found them.
//!
//! The weights are calibrated on the generator's quality knob (`cargo test -p rekam-bio
//! --test quality` shows the scores per knob level): a capture the generator calls good scores
//! above MOSIP's threshold of 40, an unusable one below it. When the score is below the
//! threshold, [`Advice`] says what the operator should have the resident do.

use super::FingerTemplate;
use super::extract::Gray;
use rekam_i18n::Lang;

const BLOCK: usize = 16;
/// A flat fingertip covers about this share of a single-finger image.
const EXPECTED_AREA: f32 = 0.45;

/// The features and the score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FingerQuality {
    /// 0-100.
    pub score: u8,
    /// Foreground share of the image, 0-1.
    pub foreground: f32,
    /// Mean orientation coherence over the foreground, 0-1.
    pub coherence: f32,
    /// Share of foreground blocks with a ridge period of real skin, 0-1.
    pub frequency: f32,
    /// Mean grey-level standard deviation of foreground blocks.
    pub contrast: f32,
    /// Mean grey level of the foreground (dark: pressed hard or wet; light: dry or faint).
    pub darkness: f32,
    /// Minutiae found.
    pub minutiae: usize,
    /// Their mean reliability, 0-100.
    pub reliability: f32,
}

/// What to tell the resident when a capture is not good enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    /// Too little of the finger touched the glass.
    PlaceFlat,
    /// Dark, merged ridges: pressed too hard or a wet finger.
    PressLighter,
    /// Faint, broken ridges: pressed too lightly or a dry finger.
    PressHarder,
    /// Ridges lost in smudges and noise.
    CleanGlass,
}

impl Advice {
    /// What the operator says or does, in the operator's language.
    pub fn message(self, lang: Lang) -> &'static str {
        match self {
            Advice::PlaceFlat => lang.pick(
                "letakkan jari rata di tengah kaca",
                "place the finger flat in the middle of the glass",
            ),
            Advice::PressLighter => lang.pick(
                "tekan lebih ringan; keringkan jari bila basah",
                "press more lightly; dry the finger if it is wet",
            ),
            Advice::PressHarder => lang.pick(
                "tekan lebih kuat; lembapkan jari bila kering",
                "press harder; moisten the finger if it is dry",
            ),
            Advice::CleanGlass => lang.pick(
                "bersihkan kaca pemindai dan jari, lalu ulangi",
                "clean the scanner glass and the finger, then retry",
            ),
        }
    }
}

/// Measures an image and the template extracted from it.
pub fn assess(img: Gray<'_>, template: &FingerTemplate) -> FingerQuality {
    let (w, h) = (img.width, img.height);
    let (bw, bh) = (w / BLOCK, h / BLOCK);
    let px = |x: usize, y: usize| f32::from(img.data[y * w + x]);
    let (mut fg, mut coh_sum, mut valid, mut contrast, mut dark) = (0usize, 0.0, 0usize, 0.0, 0.0);
    for by in 0..bh {
        for bx in 0..bw {
            let (x0, y0) = (bx * BLOCK, by * BLOCK);
            let (mut sum, mut sq) = (0.0f32, 0.0f32);
            for y in y0..y0 + BLOCK {
                for x in x0..x0 + BLOCK {
                    let v = px(x, y);
                    sum += v;
                    sq += v * v;
                }
            }
            let n = (BLOCK * BLOCK) as f32;
            let mean = sum / n;
            let sd = (sq / n - mean * mean).max(0.0).sqrt();
            if sd < 12.0 {
                continue;
            }
            fg += 1;
            contrast += sd;
            dark += mean;
            // Structure tensor over the block's interior.
            let (mut gxx, mut gyy, mut gxy) = (0.0f32, 0.0f32, 0.0f32);
            for y in y0.max(1)..(y0 + BLOCK).min(h - 1) {
                for x in x0.max(1)..(x0 + BLOCK).min(w - 1) {
                    let gx = px(x + 1, y) - px(x - 1, y);
                    let gy = px(x, y + 1) - px(x, y - 1);
                    gxx += gx * gx;
                    gyy += gy * gy;
                    gxy += gx * gy;
                }
            }
            let energy = gxx + gyy;
            if energy > 0.0 {
                coh_sum += ((gxx - gyy).powi(2) + 4.0 * gxy * gxy).sqrt() / energy;
            }
            // Ridge period along the gradient (the normal to the ridges), through the
            // block's centre, over 32 px.
            let theta = 0.5 * (2.0 * gxy).atan2(gxx - gyy);
            let (c, s) = (theta.cos(), theta.sin());
            let (cx, cy) = ((x0 + BLOCK / 2) as f32, (y0 + BLOCK / 2) as f32);
            let mut crossings = 0;
            let mut last: Option<bool> = None;
            let mut inside = 0;
            for k in -16i32..16 {
                let (x, y) = (cx + c * k as f32, cy + s * k as f32);
                if x < 0.0 || y < 0.0 || x >= (w - 1) as f32 || y >= (h - 1) as f32 {
                    continue;
                }
                inside += 1;
                let above = px(x as usize, y as usize) > mean;
                if last.is_some_and(|l| l != above) {
                    crossings += 1;
                }
                last = Some(above);
            }
            if crossings >= 2 {
                let period = 2.0 * inside as f32 / crossings as f32;
                if (6.0..=14.0).contains(&period) {
                    valid += 1;
                }
            }
        }
    }
    let blocks = (bw * bh).max(1) as f32;
    let fgf = fg as f32;
    let foreground = fgf / blocks;
    let (coherence, frequency, contrast, darkness) = if fg == 0 {
        (0.0, 0.0, 0.0, 255.0)
    } else {
        (
            coh_sum / fgf,
            valid as f32 / fgf,
            contrast / fgf,
            dark / fgf,
        )
    };
    let minutiae = template.minutiae.len();
    let reliability = if minutiae == 0 {
        0.0
    } else {
        template
            .minutiae
            .iter()
            .map(|m| f32::from(m.quality))
            .sum::<f32>()
            / minutiae as f32
    };
    // Each factor 0-1; the product punishes any one failing feature, as a gate should.
    let area = (foreground / EXPECTED_AREA).min(1.0).sqrt();
    let flow = ((coherence - 0.15) / 0.45).clamp(0.0, 1.0);
    let freq = ((frequency - 0.3) / 0.5).clamp(0.0, 1.0);
    let clarity = ((contrast - 12.0) / 28.0).clamp(0.0, 1.0).sqrt();
    let found =
        (minutiae as f32 / 25.0).min(1.0) * ((reliability - 10.0) / 40.0).clamp(0.0, 1.0).sqrt();
    let score = 100.0 * area * flow * freq.sqrt() * clarity * found;
    FingerQuality {
        score: score.round().clamp(0.0, 100.0) as u8,
        foreground,
        coherence,
        frequency,
        contrast,
        darkness,
        minutiae,
        reliability,
    }
}

impl FingerQuality {
    /// What to do about a capture below `threshold`, or `None` when it passes.
    pub fn advice(&self, threshold: u8) -> Option<Advice> {
        if self.score >= threshold {
            return None;
        }
        Some(if self.foreground < EXPECTED_AREA * 0.6 {
            Advice::PlaceFlat
        } else if self.darkness < 100.0 {
            Advice::PressLighter
        } else if self.darkness > 170.0 || self.contrast < 25.0 {
            Advice::PressHarder
        } else {
            Advice::CleanGlass
        })
    }
}
