//! One capture of a master print on a scanner's platen.
//!
//! The finger is placed with some rotation and translation, pressed with a non-linear elastic
//! distortion (after Cappelli, Maio, Maltoni, "Modelling plastic distortion in fingerprint
//! images", ICAPR 2001: rigid where the finger first touches, dragged further away), touches
//! only part of the platen, prints dry (thin, broken ridges) or wet (thick, merged ridges), and
//! the sensor adds blur and noise. One knob, [`Quality`], moves all of these together from an
//! excellent capture to an unusable one, so a quality gate fails on one capture and passes on
//! the retry.

use super::master::{MASTER_H, MASTER_W, MasterPrint};
use super::style::Shape;
use crate::gray::{Field, Gray8, smooth_noise};
use crate::seed::Seed;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Width of a single flat finger image, pixels at 500 ppi.
pub const IMPRESSION_W: usize = MASTER_W;
/// Height of a single flat finger image.
pub const IMPRESSION_H: usize = MASTER_H;

/// How good a capture is: 1.0 excellent, 0.0 unusable.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Quality(pub f32);

impl Quality {
    /// A clean capture by a trained operator.
    pub const EXCELLENT: Quality = Quality(1.0);
    /// An ordinary capture.
    pub const GOOD: Quality = Quality(0.75);
    /// A capture a quality gate should question.
    pub const POOR: Quality = Quality(0.35);
    /// A capture no gate should pass.
    pub const UNUSABLE: Quality = Quality(0.0);

    fn bad(self) -> f32 {
        1.0 - self.0.clamp(0.0, 1.0)
    }
}

/// Everything that makes one capture differ from another, drawn from a [`Quality`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    /// The quality knob these values were drawn from.
    pub quality: Quality,
    /// Rotation of the finger on the platen, degrees.
    pub rotation_deg: f32,
    /// Translation, pixels.
    pub shift: (f32, f32),
    /// Elastic drag outside the contact core, pixels.
    pub drag: (f32, f32),
    /// Elastic twist outside the contact core, degrees.
    pub twist_deg: f32,
    /// Share of the fingertip touching the platen, 0-1.
    pub contact: f32,
    /// Where the contact area is centred, relative to the finger centre, pixels.
    pub contact_offset: (f32, f32),
    /// Below 0: dry (thin, broken ridges); above 0: wet (thick, merged ridges).
    pub moisture: f32,
    /// Sensor noise, grey levels (standard deviation).
    pub noise: f32,
    /// Blur, pixels (standard deviation).
    pub blur: f32,
    /// Ridge and valley grey levels.
    pub levels: (f32, f32),
    /// Smudges left on the platen.
    pub smudges: u8,
}

impl Capture {
    /// Draws a capture of quality `quality`.
    pub fn draw(rng: &mut impl Rng, quality: Quality) -> Capture {
        let b = quality.bad();
        let sym = |rng: &mut dyn rand::RngCore, s: f32| {
            if s <= 0.0 {
                0.0
            } else {
                rng.random_range(-s..s)
            }
        };
        let moisture_mag = rng.random_range(0.0..0.15 + 0.75 * b);
        let moisture = if rng.random_bool(0.5) {
            moisture_mag
        } else {
            -moisture_mag
        };
        Capture {
            quality,
            rotation_deg: sym(rng, 8.0 + 10.0 * b),
            shift: (sym(rng, 12.0 + 20.0 * b), sym(rng, 12.0 + 20.0 * b)),
            drag: (sym(rng, 5.0 + 8.0 * b), sym(rng, 5.0 + 8.0 * b)),
            twist_deg: sym(rng, 2.5 + 4.0 * b),
            contact: (1.0 - rng.random_range(0.0..0.1 + 0.5 * b)).clamp(0.3, 1.0),
            contact_offset: (sym(rng, 10.0 + 30.0 * b), sym(rng, 10.0 + 40.0 * b)),
            moisture,
            noise: 2.0 + 30.0 * b * b + rng.random_range(0.0..1.5),
            blur: 0.4 + 1.8 * b * rng.random_range(0.5..1.0),
            levels: (
                35.0 + 100.0 * b * rng.random_range(0.5..1.0),
                232.0 - 45.0 * b * rng.random_range(0.5..1.0),
            ),
            smudges: (4.0 * b * rng.random_range(0.0..1.0)).round() as u8,
        }
    }
}

/// Renders one capture of `master` as an 8-bit image of `IMPRESSION_W` x `IMPRESSION_H`
/// (dark ridges on a light background). `seed` drives the capture's noise.
pub fn impression(master: &MasterPrint, capture: &Capture, seed: Seed) -> Gray8 {
    let mut rng = seed.rng();
    let ink = ink(master, capture, &mut rng);
    finish(&ink, capture, &mut rng)
}

/// How much ink the finger leaves at each pixel (0-1), before the sensor's levels and noise.
pub(crate) fn ink(master: &MasterPrint, capture: &Capture, rng: &mut impl Rng) -> Field {
    ink_shaped(master, capture, &Shape::PLAIN, rng)
}

/// [`ink`] with what a capture style adds to the finger's placement and skin ([`Shape`]);
/// with [`Shape::PLAIN`] it is [`ink`], to the bit.
pub(crate) fn ink_shaped(
    master: &MasterPrint,
    capture: &Capture,
    shape: &Shape,
    rng: &mut impl Rng,
) -> Field {
    let (w, h) = (IMPRESSION_W, IMPRESSION_H);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0 + 10.0);
    let (sin_r, cos_r) = capture.rotation_deg.to_radians().sin_cos();
    let (sin_t, cos_t) = capture.twist_deg.to_radians().sin_cos();
    let core_r = 70.0 + 40.0 * capture.contact;
    let ramp = 90.0;
    let (ccx, ccy) = (cx + capture.contact_offset.0, cy + capture.contact_offset.1);
    let contact_ax = 150.0 * capture.contact.sqrt() * shape.contact_stretch.0;
    let contact_ay = 205.0 * capture.contact.sqrt() * shape.contact_stretch.1;

    // A ragged contact edge always; fine speckle only for a dry print, coarse blotches only
    // for a wet one.
    let edge = smooth_noise(rng, w, h, 40.0);
    let speckle = (capture.moisture < 0.0).then(|| smooth_noise(rng, w, h, 3.0));
    let blotch = (capture.moisture > 0.0).then(|| smooth_noise(rng, w, h, 24.0));

    let mut ink = Field::zeros(w, h);
    for y in 0..h {
        for x in 0..w {
            // Output pixel -> finger coordinates: undo the placement, then the elastic drag.
            let (ox, oy) = shape.distortion.undo(
                x as f32 - cx - capture.shift.0,
                y as f32 - cy - capture.shift.1,
            );
            let (mut fx, mut fy) = (ox * cos_r + oy * sin_r, -ox * sin_r + oy * cos_r);
            let (dx, dy) = (fx - (ccx - cx), fy - (ccy - cy));
            let dist = (dx * dx + dy * dy).sqrt();
            let s = ((dist - core_r) / ramp).clamp(0.0, 1.0);
            let s = s * s * (3.0 - 2.0 * s);
            let (tx, ty) = (dx * cos_t - dy * sin_t - dx, dx * sin_t + dy * cos_t - dy);
            fx += s * (capture.drag.0 + tx);
            fy += s * (capture.drag.1 + ty);
            let (sx, sy) = (fx / shape.scale + cx, fy / shape.scale + cy);
            let ridge = master.ridges.sample(sx, sy, 0.0);
            let sil = master.silhouette.sample(sx, sy, 0.0);

            // Contact: an ellipse with a ragged edge, inside the silhouette.
            let ex = (x as f32 - ccx - capture.shift.0) / contact_ax;
            let ey = (y as f32 - ccy - capture.shift.1) / contact_ay;
            let r = (ex * ex + ey * ey).sqrt() + 0.08 * edge.data[y * w + x];
            // Pressure, and with it ridge contrast, fades over a few ridge periods at the edge.
            let c = ((1.0 - r) * 3.5).clamp(0.0, 1.0);
            let contact = c * c.sqrt() * sil;

            // Pressure and moisture: a dry print keeps only the ridge crests and breaks them;
            // a wet one spreads ink into the valleys.
            let i = y * w + x;
            let depth = -ridge; // 1 on a ridge crest
            let threshold = -0.55 * capture.moisture + shape.ridge_bias;
            let mut v = ((depth - threshold) * 2.2).clamp(-1.0, 1.0) * 0.5 + 0.5;
            if let Some(speckle) = &speckle {
                let dryness = -capture.moisture;
                let breaks = ((speckle.data[i] + 1.2 - 2.0 * dryness) * 2.0).clamp(0.0, 1.0);
                v *= breaks.max(0.1);
            } else if let Some(blotch) = &blotch {
                v = v.max(capture.moisture * 0.9 * (blotch.data[i] * 0.5 + 0.5));
            }
            if !shape.marks.is_empty() {
                v *= shape.skin_at(sx, sy);
            }
            ink.data[i] = v * contact;
        }
    }
    ink.blur(capture.blur)
}

/// The sensor's side: grey levels, smudges on the platen, noise.
pub(crate) fn finish(ink: &Field, capture: &Capture, rng: &mut impl Rng) -> Gray8 {
    let (w, h) = (ink.width, ink.height);
    let (ridge_level, valley_level) = capture.levels;
    let smudges: Vec<(f32, f32, f32, f32)> = (0..capture.smudges)
        .map(|_| {
            (
                rng.random_range(0.0..w as f32),
                rng.random_range(0.0..h as f32),
                rng.random_range(20.0..60.0),
                rng.random_range(40.0..110.0),
            )
        })
        .collect();
    let blotch = (!smudges.is_empty()).then(|| smooth_noise(rng, w, h, 24.0));
    let mut out = Gray8::filled(w, h, 0);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let mut g = valley_level + (ridge_level - valley_level) * ink.data[i];
            if let Some(blotch) = &blotch {
                for (sx, sy, sr, depth) in &smudges {
                    let d2 = (x as f32 - sx).powi(2) + (y as f32 - sy).powi(2);
                    g -= depth * (-d2 / (2.0 * sr * sr)).exp() * (0.6 + 0.4 * blotch.data[i]);
                }
            }
            // Noise lives mostly where the finger touches; an empty platen reads nearly flat.
            g += gaussian(rng) * capture.noise * (0.25 + 0.75 * ink.data[i]);
            out.data[i] = g.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// An approximately standard normal deviate: the sum of four uniforms (Irwin-Hall), centred
/// and scaled to unit variance. Sensor noise only needs to be bell-shaped, and this costs two
/// random words instead of a logarithm, a root and a cosine per pixel.
pub(crate) fn gaussian(rng: &mut impl Rng) -> f32 {
    let (a, b) = (rng.next_u32(), rng.next_u32());
    let sum = (a & 0xffff) + (a >> 16) + (b & 0xffff) + (b >> 16);
    (sum as f32 / 65535.0 - 2.0) * 3f32.sqrt()
}
