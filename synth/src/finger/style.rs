//! Capture styles: the same finger as different sensors and hands record it.
//!
//! [`impression`](super::impression::impression) renders one style, an optical live scanner
//! as the first wave tuned the engine on. A matcher tuned on one renderer learns that renderer
//! (see issue 32 and `docs/biometric-engine.md`), so this module renders the same master
//! prints the other ways prints reach an identity system:
//!
//! - [`Style::Optical`]: a prism scanner (frustrated total internal reflection): high contrast,
//!   a halo of moisture around the contact area, light falling off towards the corners, and
//!   the prism's keystone distortion;
//! - [`Style::Capacitive`]: a solid-state sensor: a narrow dynamic range, blotchy contrast where
//!   the skin's conductivity varies, column-wise fixed-pattern noise, coarse grey levels;
//! - [`Style::InkPlain`] and [`Style::InkRolled`]: ink on a card, scanned at about 500 ppi:
//!   paper texture, uneven inking, over-inked blots that fill valleys, white pores; a rolled
//!   print shows the finger nail to nail, its sides stretched as a cylinder unrolls.
//!
//! Every style but [`Style::LiveScan`] also draws what the first renderer never did: rotation
//! up to 45 degrees and translation far enough that two impressions only partly overlap, a
//! resolution between 450 and 550 ppi, a ridge-to-valley width ratio, flexion creases and
//! scars, and dry and wet skin at their extremes.
//!
//! [`Style::HELD_OUT`] is never used to tune a threshold or a constant; every figure on it is
//! reported apart from the others.

use super::impression::{Capture, IMPRESSION_H, IMPRESSION_W, Quality, finish, gaussian};
use super::master::MasterPrint;
use crate::gray::{Field, Gray8, smooth_noise};
use crate::seed::Seed;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::f32::consts::PI;

/// How a print was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// The first wave's optical live scan, unchanged.
    LiveScan,
    /// A prism scanner with its halo, fall-off and keystone.
    Optical,
    /// A solid-state capacitive sensor.
    Capacitive,
    /// A plain (flat) ink print on a card.
    InkPlain,
    /// A rolled ink print, nail to nail.
    InkRolled,
}

impl Style {
    /// Every style.
    pub const ALL: [Style; 5] = [
        Style::LiveScan,
        Style::Optical,
        Style::Capacitive,
        Style::InkPlain,
        Style::InkRolled,
    ];
    /// The styles thresholds and constants may be tuned on.
    pub const TUNING: [Style; 4] = [
        Style::LiveScan,
        Style::Optical,
        Style::InkPlain,
        Style::InkRolled,
    ];
    /// Never tuned on: a sensor physics no tuning style shares.
    pub const HELD_OUT: Style = Style::Capacitive;

    /// A short stable name (`ink_rolled`).
    pub fn as_str(self) -> &'static str {
        match self {
            Style::LiveScan => "live_scan",
            Style::Optical => "optical",
            Style::Capacitive => "capacitive",
            Style::InkPlain => "ink_plain",
            Style::InkRolled => "ink_rolled",
        }
    }

    /// The style named `name` (as [`Style::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<Style> {
        Style::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// How the finger's surface maps onto the image, beyond [`Capture`]'s placement and drag.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distortion {
    /// None beyond the elastic drag.
    None,
    /// A prism's trapezoid: the image's width grows by this share per half height.
    Keystone(f32),
    /// A rolled print: the fingertip as a cylinder of this radius (pixels) unrolled.
    Roll(f32),
}

impl Distortion {
    /// Image offset from the centre to the flat finger's.
    pub(crate) fn undo(self, x: f32, y: f32) -> (f32, f32) {
        match self {
            Distortion::None => (x, y),
            Distortion::Keystone(k) => (x * (1.0 + k * y / (IMPRESSION_H as f32 / 2.0)), y),
            Distortion::Roll(r) => {
                let a = (x / r).clamp(-PI / 2.0, PI / 2.0);
                (r * a.sin(), y)
            }
        }
    }
}

/// A mark in the skin where ridges do not print, in master-canvas pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// A flexion crease: a straight white line through (`x`, `y`) at `angle` radians.
    Crease {
        /// A point on the line.
        x: f32,
        /// A point on the line.
        y: f32,
        /// Direction, radians.
        angle: f32,
        /// Width, pixels.
        width: f32,
    },
    /// A healed cut: an arc of a circle where the skin prints no ridges.
    Scar {
        /// Centre of the circle.
        x: f32,
        /// Centre of the circle.
        y: f32,
        /// Radius.
        radius: f32,
        /// Where the arc starts, radians.
        from: f32,
        /// Its angular length, radians.
        span: f32,
        /// Width, pixels.
        width: f32,
    },
}

impl Mark {
    /// 0 on the mark, 1 clear of it, a soft edge between.
    fn skin(&self, x: f32, y: f32) -> f32 {
        let (distance, width) = match *self {
            Mark::Crease {
                x: px,
                y: py,
                angle,
                width,
            } => {
                let (s, c) = angle.sin_cos();
                (((x - px) * s - (y - py) * c).abs(), width)
            }
            Mark::Scar {
                x: cx,
                y: cy,
                radius,
                from,
                span,
                width,
            } => {
                let a = (y - cy).atan2(x - cx);
                let along = (a - from).rem_euclid(2.0 * PI);
                if along > span {
                    return 1.0;
                }
                (((x - cx).hypot(y - cy) - radius).abs(), width)
            }
        };
        ((distance - width / 2.0) / 1.5).clamp(0.0, 1.0)
    }
}

/// What a style adds to the finger's placement and skin. [`Shape::PLAIN`] adds nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    /// The image's resolution over 500 ppi.
    pub scale: f32,
    /// The surface's mapping.
    pub distortion: Distortion,
    /// How much wider and taller the contact area is than a plain print's.
    pub contact_stretch: (f32, f32),
    /// Shifts the ridge/valley boundary: above 0 thinner ridges, below 0 wider ones.
    pub ridge_bias: f32,
    /// Creases and scars.
    pub marks: Vec<Mark>,
}

impl Shape {
    /// Nothing added: the first renderer's geometry.
    pub const PLAIN: Shape = Shape {
        scale: 1.0,
        distortion: Distortion::None,
        contact_stretch: (1.0, 1.0),
        ridge_bias: 0.0,
        marks: Vec::new(),
    };

    /// How much of the ridge prints at a point of the finger (1 clear skin, 0 on a mark).
    pub(crate) fn skin_at(&self, x: f32, y: f32) -> f32 {
        self.marks.iter().map(|m| m.skin(x, y)).fold(1.0, f32::min)
    }
}

/// What the sensor or the ink adds after the finger has touched.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    /// The first renderer's sensor.
    LiveScan,
    /// A prism scanner.
    Optical {
        /// Strength of the moisture halo around the contact area, 0-1.
        halo: f32,
        /// Light lost in the corners, 0-1.
        falloff: f32,
    },
    /// A capacitive sensor.
    Capacitive {
        /// How much the contrast varies across the skin, 0-1.
        blotchiness: f32,
        /// Grey levels per step of the converter.
        step: u8,
    },
    /// Ink on a card.
    Ink {
        /// How much the inking varies across the print, 0-1.
        unevenness: f32,
        /// Share of the print in over-inked blots, about.
        blots: f32,
    },
}

/// One capture in a style: [`Capture`]'s placement, pressure and sensor levels, the style's
/// [`Shape`] and its [`Medium`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StyledCapture {
    /// The style drawn for.
    pub style: Style,
    /// Placement, pressure, moisture, levels, noise.
    pub capture: Capture,
    /// Geometry and skin.
    pub shape: Shape,
    /// The sensor's or the ink's side.
    pub medium: Medium,
}

impl StyledCapture {
    /// Draws a capture of `quality` in `style`. For [`Style::LiveScan`] it is
    /// [`Capture::draw`] with nothing added.
    pub fn draw(rng: &mut impl Rng, quality: Quality, style: Style) -> StyledCapture {
        let mut capture = Capture::draw(rng, quality);
        if style == Style::LiveScan {
            return StyledCapture {
                style,
                capture,
                shape: Shape::PLAIN,
                medium: Medium::LiveScan,
            };
        }
        let b = 1.0 - quality.0.clamp(0.0, 1.0);
        let sym = |rng: &mut dyn rand::RngCore, s: f32| rng.random_range(-s..s);

        // Placement: most fingers land within 15 degrees, three in ten anywhere within 45; one
        // in four far enough off centre that two impressions share only part of their area.
        capture.rotation_deg = if rng.random_bool(0.3) {
            sym(rng, 45.0)
        } else {
            sym(rng, 15.0)
        };
        let reach = if rng.random_bool(0.25) {
            70.0
        } else {
            20.0 + 30.0 * b
        };
        capture.shift = (sym(rng, reach), sym(rng, reach));
        // Skin at its extremes now and then.
        if rng.random_bool(0.15) {
            let m = rng.random_range(0.75..0.95);
            capture.moisture = if capture.moisture < 0.0 { -m } else { m };
        }
        let ratio: f32 = rng.random_range(0.6f32..1.6);
        let mut shape = Shape {
            scale: rng.random_range(0.9..1.1),
            distortion: Distortion::None,
            contact_stretch: (1.0, 1.0),
            ridge_bias: (PI * ratio / (1.0 + ratio)).cos(),
            marks: marks(rng),
        };

        let medium = match style {
            // (the live scan returned above with nothing added)
            Style::LiveScan | Style::Optical => {
                shape.distortion = Distortion::Keystone(sym(rng, 0.08));
                capture.levels = (
                    rng.random_range(15.0..40.0) + 60.0 * b * rng.random_range(0.0..1.0),
                    rng.random_range(225.0..250.0),
                );
                capture.noise = rng.random_range(1.5..4.0) + 20.0 * b * b;
                Medium::Optical {
                    halo: rng.random_range(0.3..1.0),
                    falloff: rng.random_range(0.1..0.35),
                }
            }
            Style::Capacitive => {
                // A driver stretches the sensor's range to about half the grey scale.
                let ridge = rng.random_range(60.0..100.0);
                capture.levels = (ridge, ridge + rng.random_range(70.0..120.0));
                capture.noise = rng.random_range(2.0..4.0) + 6.0 * b;
                capture.blur = rng.random_range(0.3..0.8) + b;
                capture.smudges = 0;
                Medium::Capacitive {
                    blotchiness: rng.random_range(0.2..0.6),
                    step: rng.random_range(3..=6),
                }
            }
            Style::InkPlain | Style::InkRolled => {
                if style == Style::InkRolled {
                    shape.distortion = Distortion::Roll(rng.random_range(130.0..170.0));
                    shape.contact_stretch = (1.4, 1.05);
                    capture.contact = rng.random_range(0.9..1.0);
                } else {
                    capture.drag = (capture.drag.0 * 1.5, capture.drag.1 * 1.5);
                }
                capture.levels = (rng.random_range(20.0..70.0), rng.random_range(215.0..240.0));
                capture.noise = rng.random_range(1.0..3.0);
                capture.smudges = 0;
                Medium::Ink {
                    unevenness: rng.random_range(0.2..0.6),
                    blots: rng.random_range(0.0..0.15 + 0.3 * b),
                }
            }
        };
        StyledCapture {
            style,
            capture,
            shape,
            medium,
        }
    }
}

/// Creases (half the fingers have none, the rest one to three) and now and then a scar.
fn marks(rng: &mut impl Rng) -> Vec<Mark> {
    let (w, h) = (IMPRESSION_W as f32, IMPRESSION_H as f32);
    let mut marks = Vec::new();
    let creases = if rng.random_bool(0.5) {
        0
    } else {
        rng.random_range(1..=3)
    };
    for _ in 0..creases {
        marks.push(Mark::Crease {
            x: rng.random_range(0.2 * w..0.8 * w),
            y: rng.random_range(0.3 * h..0.95 * h),
            angle: rng.random_range(-0.5..0.5),
            width: rng.random_range(1.5..4.5),
        });
    }
    if rng.random_bool(0.1) {
        marks.push(Mark::Scar {
            x: rng.random_range(0.2 * w..0.8 * w),
            y: rng.random_range(0.2 * h..0.8 * h),
            radius: rng.random_range(40.0..160.0),
            from: rng.random_range(0.0..2.0 * PI),
            span: rng.random_range(0.3..1.2),
            width: rng.random_range(3.0..8.0),
        });
    }
    marks
}

/// Renders one styled capture of `master` as an 8-bit image of `IMPRESSION_W` x
/// `IMPRESSION_H`. For [`Style::LiveScan`] it is
/// [`impression`](super::impression::impression), to the bit.
pub fn styled_impression(master: &MasterPrint, capture: &StyledCapture, seed: Seed) -> Gray8 {
    let mut rng = seed.rng();
    let ink = super::impression::ink_shaped(master, &capture.capture, &capture.shape, &mut rng);
    match capture.medium {
        Medium::LiveScan => finish(&ink, &capture.capture, &mut rng),
        Medium::Optical { halo, falloff } => {
            optical(&ink, &capture.capture, halo, falloff, &mut rng)
        }
        Medium::Capacitive { blotchiness, step } => {
            capacitive(&ink, &capture.capture, blotchiness, step, &mut rng)
        }
        Medium::Ink { unevenness, blots } => {
            inked(&ink, &capture.capture, unevenness, blots, &mut rng)
        }
    }
}

/// Where the finger touches, smoothed: about 1 inside the contact area, 0 well outside.
fn contact_area(ink: &Field) -> Field {
    let mut c = ink.blur(6.0);
    c.data.iter_mut().for_each(|v| *v = (*v * 2.2).min(1.0));
    c
}

fn optical(ink: &Field, capture: &Capture, halo: f32, falloff: f32, rng: &mut impl Rng) -> Gray8 {
    let (w, h) = (ink.width, ink.height);
    let (ridge, valley) = capture.levels;
    let contact = contact_area(ink);
    let mut out = Gray8::filled(w, h, 0);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let (dx, dy) = (x as f32 / w as f32 - 0.5, y as f32 / h as f32 - 0.5);
            let light = 1.0 - falloff * 2.0 * (dx * dx + dy * dy);
            let c = contact.data[i];
            let ring = 4.0 * c * (1.0 - c);
            let mut g = (valley + (ridge - valley) * ink.data[i]) * light - 70.0 * halo * ring;
            g += gaussian(rng) * capture.noise * (0.4 + 0.6 * ink.data[i]);
            out.data[i] = g.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

fn capacitive(
    ink: &Field,
    capture: &Capture,
    blotchiness: f32,
    step: u8,
    rng: &mut impl Rng,
) -> Gray8 {
    let (w, h) = (ink.width, ink.height);
    let (ridge, valley) = capture.levels;
    let blotch = smooth_noise(rng, w, h, 18.0);
    let columns: Vec<f32> = (0..w).map(|_| gaussian(rng) * 3.0).collect();
    let step = f32::from(step.max(1));
    let mut out = Gray8::filled(w, h, 0);
    for y in 0..h {
        for (x, column) in columns.iter().enumerate() {
            let i = y * w + x;
            let gain = (1.0 - blotchiness * (0.5 + 0.5 * blotch.data[i])).max(0.15);
            let mut g = valley - (valley - ridge) * ink.data[i] * gain + column;
            g += gaussian(rng) * capture.noise;
            out.data[i] = ((g / step).round() * step).clamp(0.0, 255.0) as u8;
        }
    }
    out
}

fn inked(ink: &Field, capture: &Capture, unevenness: f32, blots: f32, rng: &mut impl Rng) -> Gray8 {
    let (w, h) = (ink.width, ink.height);
    let (black, paper) = capture.levels;
    let density = smooth_noise(rng, w, h, 50.0);
    let blot = smooth_noise(rng, w, h, 12.0);
    let pores = smooth_noise(rng, w, h, 2.0);
    let fibre = smooth_noise(rng, w, h, 2.5);
    let spread = ink.blur(2.5);
    let blot_level = 1.0 - 2.0 * blots;
    let mut out = Gray8::filled(w, h, 0);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let mut v = ink.data[i];
            // Too much ink fills the valleys; a pore on a ridge crest stays white.
            if blot.data[i] > blot_level {
                v = v.max((spread.data[i] * 1.8).min(1.0));
            } else if v > 0.6 && pores.data[i] > 0.85 {
                v *= 0.3;
            }
            let d = (1.0 + unevenness * density.data[i]).clamp(0.3, 1.3);
            let mut g = paper - (paper - black) * (v * d).min(1.0) + 6.0 * fibre.data[i];
            g += gaussian(rng) * capture.noise;
            out.data[i] = g.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finger::{FingerPosition, impression::impression, master_print};

    #[test]
    fn the_live_scan_style_is_the_first_renderer_to_the_bit() {
        let m = master_print(Seed::from_u64(7), FingerPosition::RightIndex);
        let s = Seed::from_u64(8);
        let styled = StyledCapture::draw(&mut s.rng(), Quality::GOOD, Style::LiveScan);
        let plain = Capture::draw(&mut s.rng(), Quality::GOOD);
        assert_eq!(styled.capture, plain);
        assert_eq!(
            styled_impression(&m, &styled, s.child("sensor")).data,
            impression(&m, &plain, s.child("sensor")).data
        );
    }

    #[test]
    fn names_round_trip_and_the_held_out_style_is_not_tuned_on() {
        for s in Style::ALL {
            assert_eq!(Style::from_name(s.as_str()), Some(s));
        }
        assert!(!Style::TUNING.contains(&Style::HELD_OUT));
        assert_eq!(Style::TUNING.len() + 1, Style::ALL.len());
    }

    #[test]
    fn marks_print_no_ridges_and_leave_the_rest_alone() {
        let crease = Mark::Crease {
            x: 100.0,
            y: 200.0,
            angle: 0.0,
            width: 3.0,
        };
        assert_eq!(crease.skin(150.0, 200.0), 0.0);
        assert_eq!(crease.skin(150.0, 210.0), 1.0);
        let scar = Mark::Scar {
            x: 0.0,
            y: 0.0,
            radius: 50.0,
            from: 0.0,
            span: PI / 2.0 + 0.1,
            width: 6.0,
        };
        assert_eq!(scar.skin(0.0, 50.0 - 0.5), 0.0); // on the arc
        assert_eq!(scar.skin(0.0, -50.0), 1.0); // same circle, outside the arc
        assert_eq!(Distortion::None.undo(3.5, -2.0), (3.5, -2.0));
        let (x, _) = Distortion::Roll(150.0).undo(150.0, 0.0);
        assert!(
            x < 130.0 && x > 120.0,
            "an unrolled side is compressed: {x}"
        );
    }
}
