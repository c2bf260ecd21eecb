//! Irises: segmentation, Daugman's rubber sheet, Gabor phase codes with an occlusion mask,
//! rotation-tolerant fractional Hamming distance, and ISO/IEC 29794-6-style quality.
//!
//! 1. **Segmentation.** The pupil is the dark disc (a 9 x 9 box mean, so eyelashes, one or two
//!    pixels wide, drop out), its edge found along 64 rays from its centroid. The limbus is the
//!    strongest dark-to-light step of the mean intensity on circles around the pupil, measured
//!    on the left and right sectors (the eyelids cover top and bottom), which also gives the
//!    iris centre's horizontal offset.
//! 2. **Normalisation.** 16 rings (radius 0 at the pupil's edge to 1 at the limbus, averaged
//!    from 32) by 256 angles, sampled bilinearly between the two non-concentric circles.
//! 3. **Code.** Each ring is filtered with a complex Gabor wavelet along the angle (wavelength
//!    16 samples); each sample gives two bits, the signs of the real and imaginary parts: 8,192
//!    bits. The mask drops samples outside the image, on eyelids (outside the intensity range
//!    of the unoccluded iris), lashes, highlights, and where the filter's response is too weak
//!    for its phase to mean anything.
//! 4. **Comparison.** Fractional Hamming distance over bits both masks keep, minimised over
//!    rotations of +-16 samples (+-22.5 degrees of head tilt). Unrelated eyes give about 0.45;
//!    two captures of one eye well under [`SAME_EYE`].

use crate::finger::extract::Gray;
use rekam_i18n::Lang;

/// Rings of the normalised iris.
pub const RINGS: usize = 16;
/// Angular samples per ring.
pub const ANGLES: usize = 256;
/// Bits per ring (two per sample).
const WORDS: usize = ANGLES * 2 / 64;
/// Rotations tried, samples each way.
const SHIFTS: i32 = 16;
/// Gabor wavelength along the angle, samples.
const WAVELENGTH: f32 = 16.0;
/// A Hamming distance at or below this is the same eye.
pub const SAME_EYE: f32 = 0.32;
/// Fewer bits in common than this: the comparison says nothing.
const MIN_BITS: u32 = 1024;

/// Where the eye is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segmentation {
    /// Pupil centre and radius, pixels.
    pub pupil: (f32, f32, f32),
    /// Iris (limbus) centre and radius.
    pub iris: (f32, f32, f32),
}

/// An iris code with its mask, ring by ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrisCode {
    bits: Vec<[u64; WORDS]>,
    mask: Vec<[u64; WORDS]>,
}

/// Why an eye image gave no code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IrisError {
    /// No pupil: the eye is closed, out of frame, or the image is not an eye.
    #[error("no pupil found")]
    NoPupil,
    /// No limbus around the pupil.
    #[error("no iris boundary found")]
    NoIris,
}

/// Box mean over (2k+1)^2 pixels via an integral image.
fn box_means(img: Gray<'_>, k: usize) -> Vec<f32> {
    let (w, h) = (img.width, img.height);
    let mut integral = vec![0u64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += u64::from(img.data[y * w + x]);
            integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
        }
    }
    let mut out = vec![255.0; w * h];
    for y in k..h.saturating_sub(k) {
        for x in k..w.saturating_sub(k) {
            let (x0, y0, x1, y1) = (x - k, y - k, x + k + 1, y + k + 1);
            let s = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0]
                - integral[y0 * (w + 1) + x1]
                - integral[y1 * (w + 1) + x0];
            out[y * w + x] = s as f32 / ((2 * k + 1) * (2 * k + 1)) as f32;
        }
    }
    out
}

fn bilinear(img: Gray<'_>, x: f32, y: f32) -> Option<f32> {
    if x < 0.0 || y < 0.0 || x >= (img.width - 1) as f32 || y >= (img.height - 1) as f32 {
        return None;
    }
    let (x0, y0) = (x as usize, y as usize);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx: usize, yy: usize| f32::from(img.data[yy * img.width + xx]);
    Some(
        p(x0, y0) * (1.0 - fx) * (1.0 - fy)
            + p(x0 + 1, y0) * fx * (1.0 - fy)
            + p(x0, y0 + 1) * (1.0 - fx) * fy
            + p(x0 + 1, y0 + 1) * fx * fy,
    )
}

/// The least-squares circle through `points` (Kåsa's algebraic fit), unbiased when some of
/// the edge is missing (a highlight or a lash stopped those rays).
fn fit_circle(points: &[(f32, f32)]) -> Option<(f32, f32, f32)> {
    if points.len() < 8 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = (
        points.iter().map(|p| f64::from(p.0)).sum::<f64>() / n,
        points.iter().map(|p| f64::from(p.1)).sum::<f64>() / n,
    );
    let (mut suu, mut svv, mut suv, mut suuu, mut svvv, mut suvv, mut svuu) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for p in points {
        let (u, v) = (f64::from(p.0) - mx, f64::from(p.1) - my);
        suu += u * u;
        svv += v * v;
        suv += u * v;
        suuu += u * u * u;
        svvv += v * v * v;
        suvv += u * v * v;
        svuu += v * u * u;
    }
    let det = suu * svv - suv * suv;
    if det.abs() < 1e-9 {
        return None;
    }
    let (bu, bv) = (0.5 * (suuu + suvv), 0.5 * (svvv + svuu));
    let uc = (bu * svv - bv * suv) / det;
    let vc = (suu * bv - suv * bu) / det;
    let r = (uc * uc + vc * vc + (suu + svv) / n).sqrt();
    Some(((uc + mx) as f32, (vc + my) as f32, r as f32))
}

/// Whether angle sample `a` of the rubber sheet lies in the left or right eighths of the circle
/// (within 45 degrees of horizontal), which the eyelids leave uncovered.
fn in_lateral_sector(a: usize) -> bool {
    matches!(a * 8 / ANGLES, 0 | 3 | 4 | 7)
}

/// The angle of ray `k` of `n` spread over the lateral sectors: even rays to the right, odd
/// to the left, each within about 34 degrees of horizontal.
fn lateral_ray(k: usize, n: usize) -> f32 {
    let t = (k as f32 / n as f32 - 0.5) * 1.2;
    if k.is_multiple_of(2) {
        t
    } else {
        t + std::f32::consts::PI
    }
}

/// Finds the pupil and the limbus.
pub fn segment(img: Gray<'_>) -> Result<Segmentation, IrisError> {
    let (w, h) = (img.width, img.height);
    let means = box_means(img, 4);
    // Pupil: the darkest compact region. Threshold halfway between the darkest box mean and
    // the image's median.
    let mut sorted: Vec<f32> = means.iter().copied().filter(|v| *v < 255.0).collect();
    if sorted.is_empty() {
        return Err(IrisError::NoPupil);
    }
    sorted.sort_by(f32::total_cmp);
    let darkest = sorted[sorted.len() / 1000];
    let median = sorted[sorted.len() / 2];
    let threshold = darkest + (median - darkest) * 0.35;
    // The pupil is the largest dark region (dark crypts of the iris texture, lashes and
    // shadows are smaller ones).
    let mut seen = vec![false; w * h];
    let mut stack = Vec::new();
    let (mut sx, mut sy, mut n) = (0.0f64, 0.0f64, 0usize);
    for start in 0..w * h {
        if seen[start] || means[start] >= threshold {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (mut ax, mut ay, mut an) = (0.0f64, 0.0f64, 0usize);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            ax += x as f64;
            ay += y as f64;
            an += 1;
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then(|| i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then(|| i + w),
            ];
            for j in neighbours.into_iter().flatten() {
                if !seen[j] && means[j] < threshold {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        if an > n {
            (sx, sy, n) = (ax, ay, an);
        }
    }
    if n < 200 {
        return Err(IrisError::NoPupil);
    }
    let (mut cx, mut cy) = ((sx / n as f64) as f32, (sy / n as f64) as f32);
    // Rays start halfway out, past the illuminator's highlight near the centre.
    let from = 0.5 * (n as f32 / std::f32::consts::PI).sqrt();
    // Edge along rays: the first pixel whose box mean clears the threshold.
    let mut radius = 0.0;
    for _ in 0..2 {
        let mut edges = Vec::with_capacity(64);
        for k in 0..64 {
            let t = k as f32 / 64.0 * std::f32::consts::TAU;
            let (c, s) = (t.cos(), t.sin());
            let mut r = from;
            while r < 200.0 {
                let (x, y) = (cx + c * r, cy + s * r);
                if x < 0.0 || y < 0.0 || x >= w as f32 || y >= h as f32 {
                    break;
                }
                if means[y as usize * w + x as usize] >= threshold {
                    edges.push((x, y, r));
                    break;
                }
                r += 1.0;
            }
        }
        if edges.len() < 32 {
            return Err(IrisError::NoPupil);
        }
        let mut rs: Vec<f32> = edges.iter().map(|e| e.2).collect();
        rs.sort_by(f32::total_cmp);
        radius = rs[rs.len() / 2];
        // Re-centre on the edge points near the median radius (a highlight or a lash can
        // stop a ray early).
        let good: Vec<&(f32, f32, f32)> = edges
            .iter()
            .filter(|e| (e.2 - radius).abs() < radius * 0.25)
            .collect();
        let points: Vec<(f32, f32)> = good.iter().map(|e| (e.0, e.1)).collect();
        if let Some((x, y, r)) = fit_circle(&points) {
            (cx, cy, radius) = (x, y, r);
        }
    }
    // The box mean reached the threshold a few pixels inside the true edge.
    let pupil_r = radius - 1.0;
    // Limbus: strongest brightening of the circle mean, left and right sectors separately.
    let profile = |side: f32| -> Option<f32> {
        let (lo, hi) = (pupil_r * 1.4, (pupil_r * 4.5).min(260.0));
        let mut values = Vec::new();
        let mut r = lo;
        while r < hi {
            let (mut sum, mut k) = (0.0, 0);
            for a in -12..=12 {
                let t = (a as f32 * 2.5).to_radians();
                let (x, y) = (cx + side * r * t.cos(), cy + r * t.sin());
                if let Some(v) = bilinear(img, x, y) {
                    sum += v;
                    k += 1;
                }
            }
            if k < 10 {
                break;
            }
            values.push((r, sum / k as f32));
            r += 1.0;
        }
        let step = 4;
        (step..values.len().saturating_sub(step))
            .map(|i| (values[i].0, values[i + step].1 - values[i - step].1))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|(_, jump)| *jump > 8.0)
            .map(|(r, _)| r)
    };
    let (right, left) = (
        profile(1.0).ok_or(IrisError::NoIris)?,
        profile(-1.0).ok_or(IrisError::NoIris)?,
    );
    let iris_r = (right + left) / 2.0;
    Ok(Segmentation {
        pupil: (cx, cy, pupil_r),
        iris: (cx + (right - left) / 2.0, cy, iris_r),
    })
}

/// The normalised iris: `RINGS x ANGLES` grey values, `None` outside the image.
pub fn normalise(img: Gray<'_>, s: &Segmentation) -> Vec<Option<f32>> {
    let (px, py, pr) = s.pupil;
    let (ix, iy, ir) = s.iris;
    let mut out = vec![None; RINGS * ANGLES];
    for a in 0..ANGLES {
        let t = a as f32 / ANGLES as f32 * std::f32::consts::TAU;
        let (ux, uy) = (t.cos(), t.sin());
        // Limbus along this ray from the pupil centre.
        let (ox, oy) = (px - ix, py - iy);
        let b = ux * ox + uy * oy;
        let c = ox * ox + oy * oy - ir * ir;
        let limbus = -b + (b * b - c).max(0.0).sqrt();
        for ring in 0..RINGS {
            let mut acc = 0.0;
            let mut k = 0;
            for sub in 0..2 {
                let rho = (ring * 2 + sub) as f32 / (RINGS * 2) as f32 + 0.5 / (RINGS * 2) as f32;
                let r = pr + rho * (limbus - pr);
                if let Some(v) = bilinear(img, px + ux * r, py + uy * r) {
                    acc += v;
                    k += 1;
                }
            }
            if k == 2 {
                out[ring * ANGLES + a] = Some(acc / 2.0);
            }
        }
    }
    out
}

/// The code of a normalised iris.
pub fn encode(sheet: &[Option<f32>]) -> IrisCode {
    // The unoccluded iris's intensity range, from the lateral sectors (eyelids cover top
    // and bottom), sets what counts as iris elsewhere.
    let mut lateral: Vec<f32> = (0..RINGS)
        .flat_map(|ring| {
            (0..ANGLES)
                .filter(|&a| in_lateral_sector(a))
                .filter_map(move |a| sheet[ring * ANGLES + a])
        })
        .collect();
    lateral.sort_by(f32::total_cmp);
    let (lo, hi) = if lateral.is_empty() {
        (0.0, 0.0)
    } else {
        let q = |p: f32| lateral[((lateral.len() - 1) as f32 * p) as usize];
        let (a, b) = (q(0.02), q(0.98));
        let margin = (b - a) * 0.15;
        (a - margin, b + margin)
    };
    // Eyelid skin is smooth where the iris is textured: the local spread of the sheet (3 rings
    // by 9 angles) below half the lateral sectors' typical spread marks skin.
    let spread: Vec<Option<f32>> = (0..RINGS * ANGLES)
        .map(|i| {
            let (ring, a) = (i / ANGLES, i % ANGLES);
            let (mut sum, mut sq, mut k) = (0.0, 0.0, 0);
            for dr in -1i32..=1 {
                let rr = ring as i32 + dr;
                if rr < 0 || rr >= RINGS as i32 {
                    continue;
                }
                for da in -4i32..=4 {
                    let aa = (a as i32 + da).rem_euclid(ANGLES as i32) as usize;
                    if let Some(v) = sheet[rr as usize * ANGLES + aa] {
                        sum += v;
                        sq += v * v;
                        k += 1;
                    }
                }
            }
            (k >= 9).then(|| (sq / k as f32 - (sum / k as f32).powi(2)).max(0.0).sqrt())
        })
        .collect();
    let mut lateral_spread: Vec<f32> = (0..RINGS * ANGLES)
        .filter(|i| in_lateral_sector(i % ANGLES))
        .filter_map(|i| spread[i])
        .collect();
    lateral_spread.sort_by(f32::total_cmp);
    let smooth = lateral_spread
        .get(lateral_spread.len() / 2)
        .map_or(0.0, |m| m * 0.5);
    let half = (WAVELENGTH * 0.75) as i32;
    let sigma = WAVELENGTH / 2.0;
    let kernel: Vec<(f32, f32)> = (-half..=half)
        .map(|k| {
            let g = (-(k * k) as f32 / (2.0 * sigma * sigma)).exp();
            let ph = std::f32::consts::TAU * k as f32 / WAVELENGTH;
            (g * ph.cos(), g * ph.sin())
        })
        .collect();
    let dc = kernel.iter().map(|k| k.0).sum::<f32>() / kernel.len() as f32;
    let mut bits = vec![[0u64; WORDS]; RINGS];
    let mut mask = vec![[0u64; WORDS]; RINGS];
    let mut energies = Vec::with_capacity(RINGS * ANGLES);
    let mut responses = vec![(0.0f32, 0.0f32, false); RINGS * ANGLES];
    for ring in 0..RINGS {
        for a in 0..ANGLES {
            let (mut re, mut im, mut ok) = (0.0, 0.0, true);
            for (k, (kr, ki)) in kernel.iter().enumerate() {
                let at = (a as i32 + k as i32 - half).rem_euclid(ANGLES as i32) as usize;
                match sheet[ring * ANGLES + at] {
                    Some(v) if v >= lo && v <= hi => {
                        re += v * (kr - dc);
                        im += v * ki;
                    }
                    _ => ok = false,
                }
            }
            responses[ring * ANGLES + a] = (re, im, ok);
            if ok {
                energies.push(re * re + im * im);
            }
        }
    }
    energies.sort_by(f32::total_cmp);
    let weak = energies.get(energies.len() / 10).copied().unwrap_or(0.0);
    for ring in 0..RINGS {
        for a in 0..ANGLES {
            let (re, im, ok) = responses[ring * ANGLES + a];
            let (word, bit) = ((a * 2) / 64, (a * 2) % 64);
            if re > 0.0 {
                bits[ring][word] |= 1 << bit;
            }
            if im > 0.0 {
                bits[ring][word] |= 1 << (bit + 1);
            }
            let textured = spread[ring * ANGLES + a].is_some_and(|v| v >= smooth);
            if ok && textured && re * re + im * im > weak {
                mask[ring][word] |= 0b11 << bit;
            }
        }
    }
    IrisCode { bits, mask }
}

/// Rotates a ring's 512 bits by `s` samples (two bits each), towards higher bits.
fn rotate(row: &[u64; WORDS], s: i32) -> [u64; WORDS] {
    let shift = (s * 2).rem_euclid((ANGLES * 2) as i32) as usize;
    let (q, r) = (shift / 64, shift % 64);
    let mut out = [0u64; WORDS];
    for (i, o) in out.iter_mut().enumerate() {
        let hi = row[(i + WORDS - q) % WORDS];
        *o = if r == 0 {
            hi
        } else {
            (hi << r) | (row[(i + 2 * WORDS - q - 1) % WORDS] >> (64 - r))
        };
    }
    out
}

impl IrisCode {
    /// Length of [`IrisCode::to_bytes`].
    pub const BYTES: usize = RINGS * WORDS * 16;

    /// Bits the mask keeps.
    pub fn usable_bits(&self) -> u32 {
        self.mask
            .iter()
            .flat_map(|r| r.iter())
            .map(|w| w.count_ones())
            .sum()
    }

    /// Fractional Hamming distance to `other`, the best over rotations; `None` when too few
    /// bits are usable in both.
    pub fn distance(&self, other: &IrisCode) -> Option<f32> {
        let mut best: Option<f32> = None;
        for s in -SHIFTS..=SHIFTS {
            let (mut differ, mut common) = (0u32, 0u32);
            for ring in 0..RINGS {
                let (b, m) = (rotate(&other.bits[ring], s), rotate(&other.mask[ring], s));
                for wd in 0..WORDS {
                    let both = self.mask[ring][wd] & m[wd];
                    common += both.count_ones();
                    differ += ((self.bits[ring][wd] ^ b[wd]) & both).count_ones();
                }
            }
            if common >= MIN_BITS {
                let hd = differ as f32 / common as f32;
                best = Some(best.map_or(hd, |x| x.min(hd)));
            }
        }
        best
    }

    /// The code as bytes: per ring, bits then mask, little-endian words.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bits
            .iter()
            .zip(&self.mask)
            .flat_map(|(b, m)| b.iter().chain(m.iter()).flat_map(|w| w.to_le_bytes()))
            .collect()
    }

    /// A code back from [`IrisCode::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Option<IrisCode> {
        if bytes.len() != Self::BYTES {
            return None;
        }
        let words: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|c| {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                u64::from_le_bytes(w)
            })
            .collect();
        let mut code = IrisCode {
            bits: vec![[0; WORDS]; RINGS],
            mask: vec![[0; WORDS]; RINGS],
        };
        for (ring, chunk) in words.chunks_exact(WORDS * 2).enumerate() {
            code.bits[ring].copy_from_slice(&chunk[..WORDS]);
            code.mask[ring].copy_from_slice(&chunk[WORDS..]);
        }
        Some(code)
    }
}

/// Segments, normalises and encodes an eye image.
pub fn code(img: Gray<'_>) -> Result<(IrisCode, Segmentation), IrisError> {
    let s = segment(img)?;
    Ok((encode(&normalise(img, &s)), s))
}

/// The quality features of an eye image and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IrisQuality {
    /// 0-100.
    pub score: u8,
    /// Share of the code's bits the mask keeps (usable iris area), 0-1.
    pub usable: f32,
    /// Mean iris grey minus mean pupil grey.
    pub pupil_contrast: f32,
    /// Mean sclera grey minus mean iris grey.
    pub sclera_contrast: f32,
    /// Pupil radius over iris radius.
    pub dilation: f32,
    /// Focus: 10 over the width in pixels of the pupil edge's rise (10 is a one-pixel edge).
    pub sharpness: f32,
    /// Distance of the iris centre from the image centre, in iris radii (gaze and framing).
    pub off_centre: f32,
    /// Iris radius, pixels.
    pub iris_radius: f32,
}

/// What to tell the resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IrisAdvice {
    /// The iris is too small in the frame.
    MoveCloser,
    /// Eyelids or lashes cover too much.
    OpenWide,
    /// Looking away or out of frame.
    LookAtCamera,
    /// Blurred: moved or out of focus.
    HoldStill,
    /// Too dark, too bright, or dilated beyond use.
    Lighting,
}

impl IrisAdvice {
    /// What the operator says or does, in the operator's language.
    pub fn message(self, lang: Lang) -> &'static str {
        match self {
            IrisAdvice::MoveCloser => lang.pick("mendekat ke kamera", "move closer to the camera"),
            IrisAdvice::OpenWide => lang.pick(
                "buka mata lebih lebar, jangan berkedip",
                "open the eyes wider, do not blink",
            ),
            IrisAdvice::LookAtCamera => {
                lang.pick("lihat lurus ke kamera", "look straight at the camera")
            }
            IrisAdvice::HoldStill => lang.pick(
                "tahan kepala, jangan bergerak; bersihkan lensa bila perlu",
                "hold the head still; clean the lens if needed",
            ),
            IrisAdvice::Lighting => lang.pick(
                "hindari cahaya langsung ke mata, lalu ulangi",
                "keep direct light off the eyes, then retry",
            ),
        }
    }
}

/// Measures an eye image: the code and segmentation from [`code`].
pub fn assess(img: Gray<'_>, code: &IrisCode, s: &Segmentation) -> IrisQuality {
    let (px, py, pr) = s.pupil;
    let (ix, iy, ir) = s.iris;
    let ring_mean = |cx: f32, cy: f32, r0: f32, r1: f32| {
        let (mut sum, mut k) = (0.0, 0);
        for a in 0..64 {
            let t = lateral_ray(a, 64);
            for r in [r0, (r0 + r1) / 2.0, r1] {
                if let Some(v) = bilinear(img, cx + r * t.cos(), cy + r * t.sin()) {
                    sum += v;
                    k += 1;
                }
            }
        }
        if k == 0 { 0.0 } else { sum / k as f32 }
    };
    let pupil = ring_mean(px, py, 0.2 * pr, 0.7 * pr);
    let iris = ring_mean(ix, iy, pr + 0.2 * (ir - pr), ir - 0.15 * (ir - pr));
    let sclera = ring_mean(ix, iy, ir * 1.15, ir * 1.35);
    // Focus: how many pixels the pupil's edge takes to rise from a quarter to three quarters
    // of the way to the iris, averaged over the lateral rays (noise averages out, blur does not).
    let mut profile = [0.0f32; 25];
    let mut rays = 0;
    for a in 0..32 {
        let t = lateral_ray(a, 32);
        let samples: Option<Vec<f32>> = (0..25)
            .map(|i| {
                bilinear(
                    img,
                    px + (pr - 12.0 + i as f32) * t.cos(),
                    py + (pr - 12.0 + i as f32) * t.sin(),
                )
            })
            .collect();
        if let Some(v) = samples {
            for (p, x) in profile.iter_mut().zip(v) {
                *p += x;
            }
            rays += 1;
        }
    }
    let edge_width = if rays == 0 {
        f32::INFINITY
    } else {
        let (lo, hi) = (profile[0] / rays as f32, profile[24] / rays as f32);
        let at = |frac: f32| {
            profile
                .iter()
                .position(|p| p / rays as f32 >= lo + frac * (hi - lo))
                .map_or(24.0, |i| i as f32)
        };
        (at(0.75) - at(0.25)).max(0.0)
    };
    let sharpness = 10.0 / edge_width.max(1.0);
    let usable = code.usable_bits() as f32 / (RINGS * ANGLES * 2) as f32;
    let (cx, cy) = (img.width as f32 / 2.0, img.height as f32 / 2.0);
    let off_centre = ((ix - cx).powi(2) + (iy - cy).powi(2)).sqrt() / ir.max(1.0);
    let dilation = pr / ir.max(1.0);
    let f = |v: f32, lo: f32, hi: f32| ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
    let score = 100.0
        * f(usable, 0.35, 0.7)
        * f(iris - pupil, 20.0, 50.0).sqrt()
        * f(sclera - iris, 5.0, 30.0).sqrt()
        * f(sharpness, 2.0, 4.0)
        * (1.0 - f(off_centre, 0.6, 1.2))
        * (1.0 - f(dilation, 0.6, 0.75))
        * f(ir, 60.0, 90.0);
    IrisQuality {
        score: score.round().clamp(0.0, 100.0) as u8,
        usable,
        pupil_contrast: iris - pupil,
        sclera_contrast: sclera - iris,
        dilation,
        sharpness,
        off_centre,
        iris_radius: ir,
    }
}

impl IrisQuality {
    /// What to do about a capture below `threshold`, or `None` when it passes.
    pub fn advice(&self, threshold: u8) -> Option<IrisAdvice> {
        if self.score >= threshold {
            return None;
        }
        Some(if self.iris_radius < 80.0 {
            IrisAdvice::MoveCloser
        } else if self.off_centre > 0.6 {
            IrisAdvice::LookAtCamera
        } else if self.usable < 0.55 {
            IrisAdvice::OpenWide
        } else if self.sharpness < 3.0 {
            IrisAdvice::HoldStill
        } else {
            IrisAdvice::Lighting
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_moves_every_bit_by_two_per_sample_and_wraps() {
        let mut row = [0u64; WORDS];
        row[0] = 0b11; // sample 0
        row[WORDS - 1] = 1 << 63; // the last bit
        for s in [-16, -1, 0, 1, 31, 32, 33, 255] {
            let out = rotate(&row, s);
            let ones: Vec<usize> = (0..ANGLES * 2)
                .filter(|b| out[b / 64] >> (b % 64) & 1 == 1)
                .collect();
            let at = |b: i32| (b + 2 * s).rem_euclid((ANGLES * 2) as i32) as usize;
            let mut want = vec![at(0), at(1), at((ANGLES * 2 - 1) as i32)];
            want.sort_unstable();
            assert_eq!(ones, want, "shift {s}");
        }
    }
}
