//! Frontal portraits on the background the photo rule requires: red for a resident born in an
//! odd year, blue for an even year (equipment list "Background Foto Merah Biru"; domain digest).
//!
//! The face is a real photograph shipped as a fixture (`fixtures/faces/SOURCE.md`), cut out and
//! composited with per-resident variation of pose, scale, light and mirror image. All residents
//! show the same person: these portraits exercise detection and the photo gates, not face
//! recognition. The deliberate faults are the ones a photo gate must catch.

use crate::seed::Seed;
use image::{Rgb, RgbImage, imageops};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::io::Cursor;
use std::sync::OnceLock;

const SOURCE_PNG: &[u8] = include_bytes!("../../fixtures/faces/astronaut.png");

/// Portrait width (3:4, as ICAO portraits).
pub const FACE_W: u32 = 480;
/// Portrait height.
pub const FACE_H: u32 = 640;

/// Background red ("merah"), for odd birth years.
pub const RED: [u8; 3] = [200, 16, 46];
/// Background blue ("biru"), for even birth years.
pub const BLUE: [u8; 3] = [31, 78, 168];

/// What a portrait is meant to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaceShot {
    /// A correct portrait.
    Good,
    /// The other colour's background.
    WrongBackground,
    /// Background only.
    NoFace,
    /// Two people in the frame.
    TwoFaces,
    /// Badly under-exposed.
    TooDark,
    /// Out of focus.
    Blurred,
}

impl FaceShot {
    /// Every kind, the correct one first.
    pub const ALL: [FaceShot; 6] = [
        FaceShot::Good,
        FaceShot::WrongBackground,
        FaceShot::NoFace,
        FaceShot::TwoFaces,
        FaceShot::TooDark,
        FaceShot::Blurred,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            FaceShot::Good => "good",
            FaceShot::WrongBackground => "wrong_background",
            FaceShot::NoFace => "no_face",
            FaceShot::TwoFaces => "two_faces",
            FaceShot::TooDark => "too_dark",
            FaceShot::Blurred => "blurred",
        }
    }
}

/// The background the rule requires for someone born in `birth_year`.
pub fn required_background(birth_year: i32) -> [u8; 3] {
    if birth_year.rem_euclid(2) == 1 {
        RED
    } else {
        BLUE
    }
}

/// The cut-out person: RGB with a coverage mask, 260 x 347.
struct Cutout {
    rgb: RgbImage,
    alpha: Vec<f32>,
}

fn cutout() -> &'static Cutout {
    static CUT: OnceLock<Cutout> = OnceLock::new();
    CUT.get_or_init(|| {
        let src = image::load(Cursor::new(SOURCE_PNG), image::ImageFormat::Png)
            .map(|i| i.to_rgb8())
            .unwrap_or_else(|e| unreachable!("the face fixture is a valid PNG: {e}"));
        // 3:4 crop clear of the flag (left) and the shuttle model (right).
        let (x0, y0, w, h) = (95u32, 0u32, 260u32, 347u32);
        let rgb = imageops::crop_imm(&src, x0, y0, w, h).to_image();
        // Head: an ellipse around the hair and face; shoulders: a widening trapezoid below; then
        // a key that removes the studio backdrop (light and unsaturated) where it shows through.
        let (hx, hy, ha, hb) = (225.0 - x0 as f32, 100.0, 74.0, 88.0);
        let mut alpha = vec![0f32; (w * h) as usize];
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (x as f32, y as f32);
                let e = ((fx - hx) / ha).powi(2) + ((fy - hy) / hb).powi(2);
                let head = ((1.0 - e.sqrt()) * 30.0).clamp(0.0, 1.0);
                let half = 95.0 + (fy - 165.0).max(0.0) * 1.1;
                let body = if fy > 150.0 {
                    ((half - (fx - hx).abs()) / 3.0).clamp(0.0, 1.0)
                        * ((fy - 150.0) / 6.0).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let p = rgb.get_pixel(x, y).0;
                let (lo, hi) = (
                    *p.iter().min().unwrap_or(&0) as f32,
                    *p.iter().max().unwrap_or(&0) as f32,
                );
                // The backdrop is grey (spread under ~20); skin is warm (spread 40 and more).
                let backdrop = ((lo - 150.0) / 25.0).clamp(0.0, 1.0)
                    * ((28.0 - (hi - lo)) / 10.0).clamp(0.0, 1.0);
                // Nor are the face (teeth, eyes) and the suit's metal neck ring, which have grey
                // highlights of their own.
                let face = ((fx - hx) / 52.0).powi(2) + ((fy - 118.0) / 66.0).powi(2) < 1.0;
                let ring = ((fx - 115.0) / 96.0).powi(2) + ((fy - 220.0) / 72.0).powi(2) < 1.0
                    && fy > 168.0;
                let keep = if face || ring { 1.0 } else { 1.0 - backdrop };
                alpha[(y * w + x) as usize] = head.max(body) * keep;
            }
        }
        Cutout { rgb, alpha }
    })
}

/// Renders a portrait of a resident born in `birth_year`, varied by `seed`.
pub fn portrait(birth_year: i32, shot: FaceShot, seed: Seed) -> RgbImage {
    let mut rng = seed.rng();
    let mut bg = required_background(birth_year);
    if shot == FaceShot::WrongBackground {
        bg = if bg == RED { BLUE } else { RED };
    }
    let mut canvas = RgbImage::from_fn(FACE_W, FACE_H, |_, y| {
        let shade = 1.0 - 0.12 * y as f32 / FACE_H as f32;
        Rgb(bg.map(|c| (c as f32 * shade) as u8))
    });
    let mirror = rng.random_bool(0.5);
    let light = rng.random_range(0.9..1.1f32);
    let warmth = rng.random_range(-8.0..8.0f32);
    match shot {
        FaceShot::NoFace => {}
        FaceShot::TwoFaces => {
            for (cx, s) in [(0.28f32, 0.95f32), (0.73, 0.92)] {
                place(&mut canvas, s, cx, 0.18, mirror, light, warmth);
            }
        }
        _ => {
            let scale = rng.random_range(1.72..1.9);
            let cx = 0.5 + rng.random_range(-0.025..0.025);
            let top = rng.random_range(0.02..0.08);
            place(&mut canvas, scale, cx, top, mirror, light, warmth);
        }
    }
    match shot {
        FaceShot::TooDark => {
            for p in canvas.pixels_mut() {
                p.0 = p.0.map(|c| (c as f32 * 0.2) as u8);
            }
            canvas
        }
        FaceShot::Blurred => imageops::blur(&canvas, 7.0),
        _ => canvas,
    }
}

/// Composites the cut-out scaled by `scale`, centred at `cx` (share of width), its top at `top`
/// (share of height).
fn place(
    canvas: &mut RgbImage,
    scale: f32,
    cx: f32,
    top: f32,
    mirror: bool,
    light: f32,
    warmth: f32,
) {
    let cut = cutout();
    let (cw, ch) = cut.rgb.dimensions();
    let (w, h) = ((cw as f32 * scale) as u32, (ch as f32 * scale) as u32);
    let rgb = imageops::resize(&cut.rgb, w, h, imageops::FilterType::Triangle);
    let x0 = (cx * FACE_W as f32 - w as f32 / 2.0) as i64;
    let y0 = (top * FACE_H as f32) as i64;
    for y in 0..h {
        for x in 0..w {
            let (tx, ty) = (x0 + x as i64, y0 + y as i64);
            if tx < 0 || ty < 0 || tx >= FACE_W as i64 || ty >= FACE_H as i64 {
                continue;
            }
            let sx = if mirror { w - 1 - x } else { x };
            let (ax, ay) = (
                ((sx as f32 / scale) as u32).min(cw - 1),
                ((y as f32 / scale) as u32).min(ch - 1),
            );
            let a = cut.alpha[(ay * cw + ax) as usize];
            if a <= 0.0 {
                continue;
            }
            let src = rgb.get_pixel(sx, y).0;
            let dst = canvas.get_pixel_mut(tx as u32, ty as u32);
            // Warmth shifts red up and blue down.
            let shifts = [warmth, 0.0, -warmth];
            for ((d, s), shift) in dst.0.iter_mut().zip(src).zip(shifts) {
                let v = (s as f32 * light + shift).clamp(0.0, 255.0);
                *d = (*d as f32 * (1.0 - a) + v * a) as u8;
            }
        }
    }
}

/// PNG bytes of an RGB image.
pub fn to_png(img: &RgbImage) -> Vec<u8> {
    crate::gray::png_bytes(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
}
