//! Face photo gates: a face found (SeetaFace's frontal detector, through `rustface`, with its
//! model compiled in), exactly one, centred and large enough; the background colour the photo
//! rule requires (red for a birth year that is odd, blue for even: the equipment list's
//! "Background Foto Merah Biru", see the domain digest); exposure; sharpness.
//!
//! Each gate that fails names what the operator should do; [`FaceCheck::advice`] gives the
//! first, in the order an operator fixes them (person, framing, background, light, focus).

use image::RgbImage;
use rekam_i18n::Lang;
use std::sync::OnceLock;

/// SeetaFace frontal face detector model (BSD-2-Clause, `models/LICENSE-seetaface`).
const MODEL: &[u8] = include_bytes!("../models/seeta_fd_frontal_v1.0.bin");

/// Red background, for residents born in an odd year.
pub const RED: [u8; 3] = [200, 16, 46];
/// Blue background, for residents born in an even year.
pub const BLUE: [u8; 3] = [31, 78, 168];

/// The background the rule requires for someone born in `birth_year`.
pub fn required_background(birth_year: i32) -> [u8; 3] {
    if birth_year.rem_euclid(2) == 1 {
        RED
    } else {
        BLUE
    }
}

/// A face found, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    /// Left.
    pub x: i32,
    /// Top.
    pub y: i32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Detector confidence.
    pub score: f64,
}

/// What the gates measured.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceCheck {
    /// Faces found.
    pub faces: Vec<FaceBox>,
    /// Face width over image width (of the one face), 0 without one face.
    pub size: f32,
    /// Horizontal offset of the face centre from the image centre, in image widths.
    pub off_centre: f32,
    /// Mean colour of the background (the top corners).
    pub background: [u8; 3],
    /// Whether that is the required colour.
    pub background_ok: bool,
    /// Mean luminance of the face, 0-255.
    pub exposure: f32,
    /// Variance of the Laplacian over the face (focus).
    pub sharpness: f32,
    /// 0-100: 0 when a gate fails outright.
    pub score: u8,
}

/// What to tell the resident or do about the photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceAdvice {
    /// No face: face the camera.
    FaceCamera,
    /// More than one face.
    OnePerson,
    /// Too small in the frame.
    MoveCloser,
    /// Too large.
    MoveBack,
    /// Not in the middle.
    Centre,
    /// Wrong background colour.
    Background,
    /// Too dark or too bright.
    Lighting,
    /// Blurred.
    HoldStill,
}

impl FaceAdvice {
    /// What the operator says or does, in the operator's language.
    pub fn message(self, lang: Lang) -> &'static str {
        match self {
            FaceAdvice::FaceCamera => lang.pick(
                "wajah tidak terlihat: hadap lurus ke kamera",
                "no face seen: face the camera",
            ),
            FaceAdvice::OnePerson => lang.pick(
                "hanya satu orang di depan kamera",
                "only one person in front of the camera",
            ),
            FaceAdvice::MoveCloser => lang.pick("mendekat ke kamera", "move closer to the camera"),
            FaceAdvice::MoveBack => lang.pick("mundur sedikit dari kamera", "move back a little"),
            FaceAdvice::Centre => {
                lang.pick("geser ke tengah bingkai", "move to the middle of the frame")
            }
            FaceAdvice::Background => lang.pick(
                "ganti latar: merah untuk tahun lahir ganjil, biru untuk tahun lahir genap",
                "change the backdrop: red for an odd birth year, blue for an even one",
            ),
            FaceAdvice::Lighting => lang.pick(
                "atur cahaya: wajah terlalu gelap atau terlalu terang",
                "fix the light: the face is too dark or too bright",
            ),
            FaceAdvice::HoldStill => lang.pick(
                "jangan bergerak; periksa fokus kamera",
                "hold still; check the camera's focus",
            ),
        }
    }
}

fn model() -> Option<&'static rustface::Model> {
    static MODEL_ONCE: OnceLock<Option<rustface::Model>> = OnceLock::new();
    MODEL_ONCE
        .get_or_init(|| rustface::read_model(std::io::Cursor::new(MODEL)).ok())
        .as_ref()
}

/// Finds faces in a grey image.
pub fn detect(gray: &[u8], width: u32, height: u32) -> Vec<FaceBox> {
    let Some(model) = model() else {
        return Vec::new();
    };
    if gray.len() != width as usize * height as usize {
        return Vec::new();
    }
    let mut d = rustface::create_detector_with_model(model.clone());
    d.set_min_face_size(40);
    d.set_score_thresh(2.0);
    d.set_pyramid_scale_factor(0.8);
    d.set_slide_window_step(4, 4);
    d.detect(&rustface::ImageData::new(gray, width, height))
        .into_iter()
        .map(|f| FaceBox {
            x: f.bbox().x(),
            y: f.bbox().y(),
            width: f.bbox().width(),
            height: f.bbox().height(),
            score: f.score(),
        })
        .collect()
}

/// Runs every gate on a portrait of someone born in `birth_year`.
pub fn check(img: &RgbImage, birth_year: i32) -> FaceCheck {
    let (w, h) = img.dimensions();
    let gray: Vec<u8> = img
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0;
            ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000) as u8
        })
        .collect();
    let faces = detect(&gray, w, h);
    // Background: the top corners, a tenth of the image each way.
    let (cw, ch) = ((w / 10).max(1), (h / 10).max(1));
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for y in 0..ch {
        for x in (0..cw).chain(w - cw..w) {
            for (s, v) in sum.iter_mut().zip(img.get_pixel(x, y).0) {
                *s += u64::from(v);
            }
            n += 1;
        }
    }
    let background = sum.map(|s| (s / n.max(1)) as u8);
    // Colour by chromaticity, so a dim or bright backdrop of the right colour still counts.
    let chroma = |c: [u8; 3]| {
        let sum = c.iter().map(|v| f32::from(*v)).sum::<f32>().max(1.0);
        c.map(|v| f32::from(v) / sum)
    };
    let dist =
        |a: [f32; 3], b: [f32; 3]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f32>();
    let required = required_background(birth_year);
    let other = if required == RED { BLUE } else { RED };
    let seen = chroma(background);
    let lit = background.iter().map(|v| u32::from(*v)).sum::<u32>() >= 24;
    let background_ok = lit
        && dist(seen, chroma(required)) < dist(seen, chroma(other))
        && dist(seen, chroma(required)) < 0.25 * 0.25;
    let (mut size, mut off_centre, mut exposure, mut sharpness) = (0.0, 0.0, 0.0, 0.0);
    if let [f] = faces.as_slice() {
        size = f.width as f32 / w as f32;
        off_centre = ((f.x as f32 + f.width as f32 / 2.0) / w as f32 - 0.5).abs();
        let (x0, y0) = (f.x.max(1) as u32, f.y.max(1) as u32);
        let (x1, y1) = (
            (f.x + f.width as i32).min(w as i32 - 1) as u32,
            (f.y + f.height as i32).min(h as i32 - 1) as u32,
        );
        let px = |x: u32, y: u32| f32::from(gray[(y * w + x) as usize]);
        let (mut s, mut lap, mut lap2, mut k) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for y in y0..y1 {
            for x in x0..x1 {
                s += px(x, y);
                let l = 4.0 * px(x, y) - px(x - 1, y) - px(x + 1, y) - px(x, y - 1) - px(x, y + 1);
                lap += l;
                lap2 += l * l;
                k += 1.0;
            }
        }
        if k > 0.0 {
            exposure = s / k;
            sharpness = lap2 / k - (lap / k).powi(2);
        }
    }
    let f = |v: f32, lo: f32, hi: f32| ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
    let score = if faces.len() == 1 && background_ok {
        100.0
            * f(size, 0.15, 0.3)
            * (1.0 - f(size, 0.7, 0.85))
            * (1.0 - f(off_centre, 0.1, 0.25))
            * f(exposure, 50.0, 90.0)
            * (1.0 - f(exposure, 200.0, 235.0))
            * f(sharpness, 20.0, 60.0)
    } else {
        0.0
    };
    FaceCheck {
        faces,
        size,
        off_centre,
        background,
        background_ok,
        exposure,
        sharpness,
        score: score.round() as u8,
    }
}

impl FaceCheck {
    /// What to do about a photo below `threshold`, or `None` when it passes.
    pub fn advice(&self, threshold: u8) -> Option<FaceAdvice> {
        if self.score >= threshold {
            return None;
        }
        Some(match self.faces.len() {
            0 => FaceAdvice::FaceCamera,
            1 => {
                if self.size < 0.2 {
                    FaceAdvice::MoveCloser
                } else if self.size > 0.75 {
                    FaceAdvice::MoveBack
                } else if self.off_centre > 0.15 {
                    FaceAdvice::Centre
                } else if !(70.0..=215.0).contains(&self.exposure) {
                    FaceAdvice::Lighting
                } else if !self.background_ok {
                    FaceAdvice::Background
                } else {
                    FaceAdvice::HoldStill
                }
            }
            _ => FaceAdvice::OnePerson,
        })
    }
}
