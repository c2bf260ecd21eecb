//! Master prints, after SFinGe (Cappelli, Maio, Maltoni: "Synthetic fingerprint-image
//! generation", ICPR 2000, and "Handbook of Fingerprint Recognition", ch. 6):
//!
//! 1. a fingertip silhouette;
//! 2. a pattern class drawn at the frequencies observed in real populations, and singular points
//!    (cores, deltas) placed for it;
//! 3. an orientation field from the singular points (Sherlock and Monro's zero-pole model; an
//!    arch has none and gets an arch-shaped field), perturbed by smooth noise;
//! 4. a ridge-period map around 9 px (real plain prints: 8-11 px at 500 ppi);
//! 5. the ridge pattern grown by iterating a space-variant Gabor filter tuned to the local
//!    orientation and period, with a saturating gain, from faint ridge seeds laid in the Voronoi
//!    cells of a jittered grid. Minutiae are not placed: they appear where cells of different
//!    phase meet and where the orientation and period force ridges to end or fork, as in SFinGe.

use super::FingerPosition;
use crate::gray::{Field, smooth_noise};
use crate::seed::Seed;
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::f32::consts::PI;
use std::sync::OnceLock;

/// Canvas of a master print, in pixels at 500 ppi (0.8 x 0.96 inch).
pub const MASTER_W: usize = 400;
/// Canvas height.
pub const MASTER_H: usize = 480;

/// Henry-style pattern classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternClass {
    /// Plain arch: no singular point.
    Arch,
    /// Tented arch: a core right above a delta.
    TentedArch,
    /// Left loop: ridges enter and leave on the left; the delta is on the right.
    LeftLoop,
    /// Right loop: the mirror image.
    RightLoop,
    /// Whorl: two cores, two deltas.
    Whorl,
}

impl PatternClass {
    /// Draws a class at the frequencies of real fingers (Wilson, Candela, Watson, NIST 1994, as
    /// used by SFinGe): arch 3.7%, tented arch 2.9%, left loop 33.8%, right loop 31.7%,
    /// whorl 27.9%.
    fn draw(rng: &mut impl Rng) -> PatternClass {
        let u: f32 = rng.random_range(0.0..100.0);
        match u {
            u if u < 3.7 => PatternClass::Arch,
            u if u < 6.6 => PatternClass::TentedArch,
            u if u < 40.4 => PatternClass::LeftLoop,
            u if u < 72.1 => PatternClass::RightLoop,
            _ => PatternClass::Whorl,
        }
    }
}

/// A core or a delta, in master-canvas pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SingularPoint {
    /// Column.
    pub x: f32,
    /// Row (downward).
    pub y: f32,
}

/// One finger of one resident.
#[derive(Debug, Clone)]
pub struct MasterPrint {
    /// Which finger.
    pub position: FingerPosition,
    /// Its class.
    pub class: PatternClass,
    /// Cores.
    pub cores: Vec<SingularPoint>,
    /// Deltas.
    pub deltas: Vec<SingularPoint>,
    /// Mean ridge period used, pixels.
    pub mean_period: f32,
    /// Ridge field: about -1 on ridges, +1 in valleys, 0 outside the finger.
    pub ridges: Field,
    /// The fingertip silhouette: 1 inside, 0 outside, soft at the edge.
    pub silhouette: Field,
}

/// Growth iterations: enough for the ridges to saturate everywhere.
const ITERATIONS: usize = 7;
/// Gain of each iteration before saturation: high enough that every region saturates within
/// the iterations.
const GAIN: f32 = 2.0;
/// Gabor envelope (pixels) and kernel radius.
const SIGMA: f32 = 2.8;
const RADIUS: isize = 6;
const ORIENT_BINS: usize = 36;
const PERIOD_MIN: f32 = 7.5;
const PERIOD_STEP: f32 = 0.25;
const PERIOD_BINS: usize = 17;

/// Generates the master print of `position` for the resident whose finger seed is `seed`.
pub fn master_print(seed: Seed, position: FingerPosition) -> MasterPrint {
    let mut rng = seed.rng();
    let (w, h) = (MASTER_W, MASTER_H);
    let thumb = position.is_thumb();

    // 1. Silhouette: a fingertip is an ellipse, flatter at the bottom (the first joint).
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0 + 10.0);
    let ax = if thumb { 172.0 } else { 138.0 } + rng.random_range(-10.0..10.0);
    let ay = if thumb { 215.0 } else { 196.0 } + rng.random_range(-10.0..10.0);
    let mut silhouette = Field::zeros(w, h);
    for y in 0..h {
        for x in 0..w {
            let dx = (x as f32 - cx) / ax;
            let dy = (y as f32 - cy) / ay;
            let dy = if dy > 0.0 { dy * 1.25 } else { dy };
            let r = (dx * dx + dy * dy).sqrt();
            silhouette.data[y * w + x] = ((1.0 - r) * 10.0).clamp(0.0, 1.0);
        }
    }

    // 2. Class and singular points.
    let class = PatternClass::draw(&mut rng);
    let j = |rng: &mut rand_chacha::ChaCha8Rng, s: f32| rng.random_range(-s..s);
    let core = SingularPoint {
        x: cx + j(&mut rng, 18.0),
        y: cy - 35.0 + j(&mut rng, 25.0),
    };
    let (cores, deltas) = match class {
        PatternClass::Arch => (vec![], vec![]),
        PatternClass::TentedArch => {
            let d = SingularPoint {
                x: core.x + j(&mut rng, 8.0),
                y: core.y + rng.random_range(70.0..100.0),
            };
            (vec![core], vec![d])
        }
        PatternClass::LeftLoop | PatternClass::RightLoop => {
            let side = if class == PatternClass::LeftLoop {
                1.0
            } else {
                -1.0
            };
            let d = SingularPoint {
                x: core.x + side * rng.random_range(85.0..125.0),
                y: core.y + rng.random_range(85.0..125.0),
            };
            (vec![core], vec![d])
        }
        PatternClass::Whorl => {
            let tilt = j(&mut rng, 12.0);
            let gap = rng.random_range(18.0..40.0);
            let c1 = SingularPoint {
                x: core.x - tilt,
                y: core.y - gap / 2.0,
            };
            let c2 = SingularPoint {
                x: core.x + tilt,
                y: core.y + gap / 2.0,
            };
            let dl = SingularPoint {
                x: core.x - rng.random_range(95.0..130.0),
                y: core.y + rng.random_range(90.0..130.0),
            };
            let dr = SingularPoint {
                x: core.x + rng.random_range(95.0..130.0),
                y: core.y + rng.random_range(90.0..130.0),
            };
            (vec![c1, c2], vec![dl, dr])
        }
    };

    // 3. Orientation field (radians, image coordinates, direction of the ridges).
    let wobble = smooth_noise(&mut rng, w, h, 90.0);
    let wobble_amp = rng.random_range(0.02..0.05);
    let arch_a = rng.random_range(45.0..80.0);
    let arch_s = rng.random_range(60.0..85.0);
    let mut orient = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            // Outside the fingertip nothing is grown: skip the trigonometry there.
            if silhouette.data[y * w + x] <= 0.0 {
                continue;
            }
            let (fx, fy) = (x as f32, y as f32);
            let theta = if class == PatternClass::Arch {
                // Ridges y = base - A(y) * bump(x): their slope gives the direction.
                let dxr = fx - cx;
                let amp = arch_a * (-((fy - (cy + 10.0)) / 150.0).powi(2)).exp();
                let slope =
                    amp * dxr / (arch_s * arch_s) * (-(dxr * dxr) / (2.0 * arch_s * arch_s)).exp();
                slope.atan()
            } else {
                // Sherlock-Monro: going once around a core turns the ridges by +pi, around a
                // delta by -pi. Angles in image coordinates throughout.
                let mut t = 0.0;
                for c in &cores {
                    t += (fy - c.y).atan2(fx - c.x);
                }
                for d in &deltas {
                    t -= (fy - d.y).atan2(fx - d.x);
                }
                0.5 * t
            };
            orient[y * w + x] = theta + wobble_amp * wobble.data[y * w + x] * PI;
        }
    }

    // 4. Ridge period map.
    let mean_period = rng.random_range(8.6..9.8);
    let pnoise = smooth_noise(&mut rng, w, h, 120.0);
    let period: Vec<f32> = pnoise
        .data
        .iter()
        .map(|n| (mean_period + 0.7 * n).clamp(8.0, 11.0))
        .collect();

    // 5. Grow the ridges from weak ridge-like seeds. The finger is cut into the Voronoi cells
    //    of a jittered grid of seed points; each cell starts with faint ridges at the local
    //    orientation and period, measured from its own seed, with a random phase. The Gabor
    //    iterations then join the cells, and minutiae form where their phases disagree, so the
    //    cell size sets how many minutiae a finger has.
    let spacing = rng.random_range(62.0..80.0f32);
    let gw = (w as f32 / spacing).ceil() as usize + 1;
    let gh = (h as f32 / spacing).ceil() as usize + 1;
    let seeds: Vec<(f32, f32, f32)> = (0..gw * gh)
        .map(|i| {
            let (gx, gy) = ((i % gw) as f32, (i / gw) as f32);
            (
                (gx + 0.5 + rng.random_range(-0.35..0.35)) * spacing,
                (gy + 0.5 + rng.random_range(-0.35..0.35)) * spacing,
                rng.random_range(0.0..1.0),
            )
        })
        .collect();
    let mut field = Field::zeros(w, h);
    for y in 0..h {
        for x in 0..w {
            if silhouette.data[y * w + x] <= 0.0 {
                continue;
            }
            let (fx, fy) = (x as f32, y as f32);
            let (cgx, cgy) = ((fx / spacing) as isize, (fy / spacing) as isize);
            let mut best = (f32::MAX, 0.0, 0.0, 0.0);
            for ny in cgy - 1..=cgy + 1 {
                for nx in cgx - 1..=cgx + 1 {
                    if nx < 0 || ny < 0 || nx >= gw as isize || ny >= gh as isize {
                        continue;
                    }
                    let (sx, sy, ph) = seeds[ny as usize * gw + nx as usize];
                    let d = (fx - sx).powi(2) + (fy - sy).powi(2);
                    if d < best.0 {
                        best = (d, sx, sy, ph);
                    }
                }
            }
            let i = y * w + x;
            let (s, c) = orient[i].sin_cos();
            let v = -(fx - best.1) * s + (fy - best.2) * c;
            field.data[i] = 0.25 * (2.0 * PI * (v / period[i] + best.3)).cos();
        }
    }
    let bank = bank();
    let kernel_index: Vec<u32> = orient
        .iter()
        .zip(&period)
        .map(|(t, p)| bank.index(*t, *p) as u32)
        .collect();
    for _ in 0..ITERATIONS {
        field = grow_step(&field, &kernel_index, &silhouette, bank);
    }
    for (v, s) in field.data.iter_mut().zip(&silhouette.data) {
        *v *= s;
    }

    MasterPrint {
        position,
        class,
        cores,
        deltas,
        mean_period,
        ridges: field,
        silhouette,
    }
}

/// Kernel rows are stored padded to this many taps so the inner loop runs on whole SIMD lanes.
const STRIDE: usize = 16;

/// One iteration: filter every pixel inside the finger with its own Gabor kernel, then
/// saturate. Rows are independent, so the result does not depend on thread scheduling.
fn grow_step(field: &Field, kernel_index: &[u32], silhouette: &Field, bank: &Bank) -> Field {
    let (w, h) = (field.width, field.height);
    let side = (2 * RADIUS + 1) as usize;
    let mut out = Field::zeros(w, h);
    out.data.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, slot) in row.iter_mut().enumerate() {
            let i = y * w + x;
            if silhouette.data[i] <= 0.0 {
                continue;
            }
            let k = bank.by_index(kernel_index[i] as usize);
            let interior = x as isize >= RADIUS
                && y as isize >= RADIUS
                && x + STRIDE - (RADIUS as usize) < w
                && (y as isize) < h as isize - RADIUS;
            let acc = if interior {
                // Eight independent partial sums: the compiler keeps them in SIMD lanes.
                let mut lanes = [0f32; 8];
                for ky in 0..side {
                    let krow = &k[ky * STRIDE..(ky + 1) * STRIDE];
                    let start = (y + ky - RADIUS as usize) * w + x - RADIUS as usize;
                    let src = &field.data[start..start + STRIDE];
                    for j in 0..8 {
                        lanes[j] += krow[j] * src[j] + krow[j + 8] * src[j + 8];
                    }
                }
                lanes.iter().sum::<f32>()
            } else {
                let mut acc = 0.0f32;
                for ky in 0..side {
                    let py = y as isize + ky as isize - RADIUS;
                    for kx in 0..side {
                        acc +=
                            k[ky * STRIDE + kx] * field.at(x as isize + kx as isize - RADIUS, py);
                    }
                }
                acc
            };
            *slot = (acc * GAIN).clamp(-1.0, 1.0);
        }
    });
    out
}

/// Precomputed Gabor kernels, by quantised orientation and period, zero-mean and normalised so
/// that a matching sinusoid of amplitude 1 answers 1.
struct Bank {
    kernels: Vec<f32>,
}

impl Bank {
    fn index(&self, theta: f32, period: f32) -> usize {
        let t = theta.rem_euclid(PI);
        let ti = ((t / PI) * ORIENT_BINS as f32).round() as usize % ORIENT_BINS;
        let pi =
            (((period - PERIOD_MIN) / PERIOD_STEP).round().max(0.0) as usize).min(PERIOD_BINS - 1);
        ti * PERIOD_BINS + pi
    }

    fn by_index(&self, i: usize) -> &[f32] {
        let n = (2 * RADIUS + 1) as usize * STRIDE;
        &self.kernels[i * n..(i + 1) * n]
    }
}

fn bank() -> &'static Bank {
    static BANK: OnceLock<Bank> = OnceLock::new();
    BANK.get_or_init(|| {
        let side = (2 * RADIUS + 1) as usize;
        let mut kernels = Vec::with_capacity(ORIENT_BINS * PERIOD_BINS * side * STRIDE);
        for ti in 0..ORIENT_BINS {
            let theta = ti as f32 * PI / ORIENT_BINS as f32;
            let (s, c) = theta.sin_cos();
            for pi in 0..PERIOD_BINS {
                let period = PERIOD_MIN + pi as f32 * PERIOD_STEP;
                let mut k = Vec::with_capacity(side * side);
                for ky in -RADIUS..=RADIUS {
                    for kx in -RADIUS..=RADIUS {
                        let (dx, dy) = (kx as f32, ky as f32);
                        // Across the ridge: v; the cosine varies along v only.
                        let v = -dx * s + dy * c;
                        let env = (-(dx * dx + dy * dy) / (2.0 * SIGMA * SIGMA)).exp();
                        k.push(env * (2.0 * PI * v / period).cos());
                    }
                }
                let mean = k.iter().sum::<f32>() / k.len() as f32;
                for v in &mut k {
                    *v -= mean;
                }
                // Response to cos(2 pi v / period) at the centre.
                let mut resp = 0.0;
                for ky in -RADIUS..=RADIUS {
                    for kx in -RADIUS..=RADIUS {
                        let v = -(kx as f32) * s + ky as f32 * c;
                        let idx = ((ky + RADIUS) * (2 * RADIUS + 1) + kx + RADIUS) as usize;
                        resp += k[idx] * (2.0 * PI * v / period).cos();
                    }
                }
                for row in k.chunks(side) {
                    kernels.extend(row.iter().map(|v| v / resp));
                    kernels.extend(std::iter::repeat_n(0.0, STRIDE - side));
                }
            }
        }
        Bank { kernels }
    })
}
