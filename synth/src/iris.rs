//! Near-infrared-like eye images, 640 x 480, as iris cameras deliver them (ISO/IEC 19794-6).
//!
//! Each eye has a texture fixed by its seed, defined on Daugman's normalised rubber sheet
//! (radius 0 at the pupil's edge to 1 at the limbus, angle around the pupil): radial furrows,
//! crypts, contraction rings, the collarette, fine stroma. A capture renders it through a
//! pupil circle and a limbus circle that are not concentric, so two captures of one eye differ
//! in rotation, dilation, eyelid occlusion, gaze, blur and noise, while the texture, the
//! identity, stays.

use crate::finger::impression::gaussian;
use crate::gray::{Field, Gray8};
use crate::seed::Seed;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::f32::consts::{PI, TAU};

/// Image width.
pub const IRIS_W: usize = 640;
/// Image height.
pub const IRIS_H: usize = 480;

/// Which eye.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Eye {
    /// Right eye.
    Right,
    /// Left eye.
    Left,
}

impl Eye {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Eye::Right => "right",
            Eye::Left => "left",
        }
    }
}

/// A circle in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Circle {
    /// Centre column.
    pub x: f32,
    /// Centre row.
    pub y: f32,
    /// Radius.
    pub r: f32,
}

/// What differs between two captures of one eye.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IrisCapture {
    /// 1.0 excellent to 0.0 unusable.
    pub quality: f32,
    /// Rotation of the eye (head tilt), degrees.
    pub rotation_deg: f32,
    /// Pupil radius as a share of the iris radius (dilation), 0.2-0.7.
    pub pupil_ratio: f32,
    /// Gaze: where the eye sits in the frame, pixels from the centre.
    pub gaze: (f32, f32),
    /// Upper eyelid: 0 wide open, 1 covering half the iris.
    pub upper_lid: f32,
    /// Lower eyelid, likewise.
    pub lower_lid: f32,
    /// Focus blur, pixels.
    pub blur: f32,
    /// Sensor noise, grey levels.
    pub noise: f32,
    /// Exposure multiplier.
    pub exposure: f32,
}

impl IrisCapture {
    /// Draws a capture of quality `quality`.
    pub fn draw(rng: &mut impl Rng, quality: f32) -> IrisCapture {
        let b = 1.0 - quality.clamp(0.0, 1.0);
        IrisCapture {
            quality,
            rotation_deg: rng.random_range(-6.0..6.0),
            pupil_ratio: rng.random_range(0.32..0.5) + b * rng.random_range(0.0..0.2),
            gaze: (
                rng.random_range(-20.0..20.0) * (1.0 + 4.0 * b),
                rng.random_range(-12.0..12.0) * (1.0 + 3.0 * b),
            ),
            upper_lid: rng.random_range(0.0..0.25) + b * rng.random_range(0.0..0.75),
            lower_lid: rng.random_range(0.0..0.15) + b * rng.random_range(0.0..0.4),
            blur: 0.3 + b * rng.random_range(1.0..4.5),
            noise: 2.0 + 12.0 * b,
            exposure: 1.0 - b * rng.random_range(-0.35..0.5),
        }
    }
}

/// Where the eye is in a rendered image: ground truth for segmentation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IrisTruth {
    /// The pupil's edge.
    pub pupil: Circle,
    /// The limbus (iris-sclera edge).
    pub iris: Circle,
    /// The capture.
    pub capture: IrisCapture,
}

/// One eye's texture, fixed by its seed.
#[derive(Debug, Clone)]
pub struct IrisTexture {
    furrows: Vec<(f32, f32, f32, f32, f32)>, // angle, width px, depth, rho from, rho to
    crypts: Vec<(f32, f32, f32, f32)>,       // rho, angle, size px, depth
    rings: Vec<(f32, f32, f32, f32)>,        // rho, depth, lobes, phase
    collarette: (f32, f32, f32),             // rho, wobble, phase
    stroma: Vec<f32>,                        // periodic value noise on a (rho, angle) grid
    base: f32,
    iris_r: f32,
    offset: (f32, f32),
}

const STROMA_R: usize = 12;
const STROMA_A: usize = 96;

impl IrisTexture {
    /// The texture of the eye seeded by `seed`.
    pub fn new(seed: Seed) -> IrisTexture {
        let mut rng = seed.rng();
        let furrows = (0..rng.random_range(50..80))
            .map(|_| {
                let from: f32 = rng.random_range(0.0..0.4);
                (
                    rng.random_range(0.0..TAU),
                    rng.random_range(1.2..3.5),
                    rng.random_range(-0.22..0.18),
                    from,
                    (from + rng.random_range(0.3..0.9)).min(1.0),
                )
            })
            .collect();
        let crypts = (0..rng.random_range(15..35))
            .map(|_| {
                (
                    rng.random_range(0.1..0.9),
                    rng.random_range(0.0..TAU),
                    rng.random_range(2.5..8.0),
                    rng.random_range(0.15..0.4),
                )
            })
            .collect();
        let rings = (0..rng.random_range(2..5))
            .map(|_| {
                (
                    rng.random_range(0.5..0.95),
                    rng.random_range(0.05..0.15),
                    rng.random_range(3..9) as f32,
                    rng.random_range(0.0..TAU),
                )
            })
            .collect();
        let stroma = (0..STROMA_R * STROMA_A)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        IrisTexture {
            furrows,
            crypts,
            rings,
            collarette: (
                rng.random_range(0.25..0.4),
                rng.random_range(0.01..0.04),
                rng.random_range(0.0..TAU),
            ),
            stroma,
            base: rng.random_range(0.38..0.55),
            iris_r: rng.random_range(105.0..120.0),
            offset: (rng.random_range(-6.0..6.0), rng.random_range(-4.0..4.0)),
        }
    }

    /// Reflectance at normalised radius `rho` (0-1) and angle `theta`, for an iris of radius
    /// `radius_px` (widths are in pixels).
    pub fn at(&self, rho: f32, theta: f32, radius_px: f32) -> f32 {
        let mut v = self.base + 0.08 * rho;
        let arc = |d: f32| {
            let d = (d + PI).rem_euclid(TAU) - PI;
            d * (rho * 0.7 + 0.3) * radius_px
        };
        for (angle, width, depth, from, to) in &self.furrows {
            if rho < *from || rho > *to {
                continue;
            }
            let a = arc(theta - angle) / width;
            if a.abs() < 3.0 {
                v += depth * (-a * a).exp();
            }
        }
        for (r, angle, size, depth) in &self.crypts {
            let dr = (rho - r) * radius_px * 0.6;
            let da = arc(theta - angle);
            let d2 = (dr * dr + da * da) / (size * size);
            if d2 < 9.0 {
                v -= depth * (-d2).exp();
            }
        }
        for (r, depth, lobes, phase) in &self.rings {
            let d = (rho - r) / 0.015;
            v -= depth * (-d * d).exp() * (0.6 + 0.4 * (lobes * theta + phase).sin());
        }
        let (cr, wob, ph) = self.collarette;
        let d = (rho - cr - wob * (5.0 * theta + ph).sin()) / 0.03;
        v += 0.12 * (-d * d).exp();
        v += 0.07 * self.stroma_at(rho, theta);
        // The limbus darkens towards the sclera.
        v - 0.18 * ((rho - 0.85) / 0.15).clamp(0.0, 1.0)
    }

    fn stroma_at(&self, rho: f32, theta: f32) -> f32 {
        let gr = rho.clamp(0.0, 0.999) * (STROMA_R - 1) as f32;
        let ga = theta.rem_euclid(TAU) / TAU * STROMA_A as f32;
        let (r0, a0) = (gr.floor() as usize, ga.floor() as usize);
        let (fr, fa) = (gr.fract(), ga.fract());
        let g = |r: usize, a: usize| self.stroma[r.min(STROMA_R - 1) * STROMA_A + a % STROMA_A];
        let top = g(r0, a0) * (1.0 - fa) + g(r0, a0 + 1) * fa;
        let bottom = g(r0 + 1, a0) * (1.0 - fa) + g(r0 + 1, a0 + 1) * fa;
        top * (1.0 - fr) + bottom * fr
    }
}

/// Renders one capture of the eye whose texture is `texture`; `seed` drives the capture's
/// noise, lashes and highlights.
pub fn iris_image(texture: &IrisTexture, capture: &IrisCapture, seed: Seed) -> (Gray8, IrisTruth) {
    let mut rng = seed.rng();
    let (w, h) = (IRIS_W, IRIS_H);
    let iris = Circle {
        x: w as f32 / 2.0 + capture.gaze.0,
        y: h as f32 / 2.0 + capture.gaze.1,
        r: texture.iris_r,
    };
    let pupil = Circle {
        x: iris.x + texture.offset.0,
        y: iris.y + texture.offset.1,
        r: texture.iris_r * capture.pupil_ratio.clamp(0.2, 0.7),
    };
    let rot = capture.rotation_deg.to_radians();
    // Eyelids: parabolas through the eye's corners, opening further the lower the lid value.
    let upper_y0 = iris.y - iris.r * (1.15 - capture.upper_lid);
    let lower_y0 = iris.y + iris.r * (1.05 - capture.lower_lid);
    let eye_half_w = iris.r * 2.6;
    let lid_upper = |x: f32| upper_y0 + 1.2 * iris.r * ((x - iris.x) / eye_half_w).powi(2);
    let lid_lower = |x: f32| lower_y0 - 0.9 * iris.r * ((x - iris.x) / eye_half_w).powi(2);

    let skin_noise = crate::gray::smooth_noise(&mut rng, w, h, 18.0);
    let mut img = Field::zeros(w, h);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32, y as f32);
            let i = y * w + x;
            let open = fy > lid_upper(fx) && fy < lid_lower(fx);
            let v = if !open {
                0.55 + 0.06 * skin_noise.data[i]
                    + 0.04 * ((fy - lid_upper(fx)).abs() / 40.0).min(1.0)
            } else {
                let (dx, dy) = (fx - pupil.x, fy - pupil.y);
                let r = (dx * dx + dy * dy).sqrt();
                if r < pupil.r {
                    0.07
                } else {
                    // Distance from the pupil centre to the limbus along this ray.
                    let (ux, uy) = (dx / r, dy / r);
                    let (px, py) = (pupil.x - iris.x, pupil.y - iris.y);
                    let b = ux * px + uy * py;
                    let c = px * px + py * py - iris.r * iris.r;
                    let limbus = -b + (b * b - c).max(0.0).sqrt();
                    let rho = (r - pupil.r) / (limbus - pupil.r);
                    if rho <= 1.0 {
                        let theta = dy.atan2(dx) - rot;
                        texture.at(rho, theta, iris.r)
                    } else {
                        0.72 - 0.1 * ((r - limbus) / 120.0).min(1.0)
                    }
                }
            };
            img.data[i] = v;
        }
    }
    // Lashes from the upper lid, down and outwards.
    for _ in 0..rng.random_range(25..50) {
        let x0 = iris.x + rng.random_range(-eye_half_w..eye_half_w) * 0.8;
        let len = rng.random_range(12.0..40.0) * (0.5 + capture.upper_lid);
        let lean = rng.random_range(-0.6..0.6);
        let y0 = lid_upper(x0);
        for s in 0..(len as usize * 2) {
            let t = s as f32 / 2.0;
            let (lx, ly) = (x0 + lean * t + 0.01 * t * t, y0 + t);
            let (ix, iy) = (lx.round() as isize, ly.round() as isize);
            if ix >= 0 && iy >= 0 && (ix as usize) < w && (iy as usize) < h {
                let v = &mut img.data[iy as usize * w + ix as usize];
                *v = v.min(0.12);
            }
        }
    }
    // Specular reflections of the illuminator, in or near the pupil.
    for _ in 0..rng.random_range(1..3) {
        let (sx, sy) = (
            pupil.x + rng.random_range(-0.6..0.6) * pupil.r,
            pupil.y + rng.random_range(-0.6..0.3) * pupil.r,
        );
        let sr: f32 = rng.random_range(3.0..7.0);
        for y in (sy - sr - 2.0) as isize..=(sy + sr + 2.0) as isize {
            for x in (sx - sr - 2.0) as isize..=(sx + sr + 2.0) as isize {
                if x < 0 || y < 0 || x as usize >= w || y as usize >= h {
                    continue;
                }
                let d = ((x as f32 - sx).powi(2) + (y as f32 - sy).powi(2)).sqrt();
                let a = ((sr + 1.0 - d) / 1.5).clamp(0.0, 1.0);
                let v = &mut img.data[y as usize * w + x as usize];
                *v = *v * (1.0 - a) + a;
            }
        }
    }
    let img = img.blur(capture.blur);
    let mut out = Gray8::filled(w, h, 0);
    for (o, v) in out.data.iter_mut().zip(&img.data) {
        let g = v * 255.0 * capture.exposure + gaussian(&mut rng) * capture.noise;
        *o = g.round().clamp(0.0, 255.0) as u8;
    }
    (
        out,
        IrisTruth {
            pupil,
            iris,
            capture: *capture,
        },
    )
}
