//! Handwritten signatures as pen events (x, y, pressure, time), the way a signature pad reports
//! them. Each resident has a style: strokes built from a few oscillations, as handwriting is
//! (about 5 Hz pen oscillation); each signing varies it in size, slant, speed and small jitter,
//! as people never sign twice alike.

use crate::finger::impression::gaussian;
use crate::gray::{Field, Gray8};
use crate::seed::Seed;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::f32::consts::TAU;

/// Pad coordinates run 0..PAD_W by 0..PAD_H (about 0.01 mm per unit on a 100 x 60 mm pad).
pub const PAD_W: u16 = 10_000;
/// Pad height in units.
pub const PAD_H: u16 = 6_000;
/// Pressure levels (0 = pen up).
pub const PRESSURE_MAX: u16 = 1023;
/// Sampling rate of the pad, per second.
pub const SAMPLE_HZ: u32 = 200;

/// One report of the pad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PenEvent {
    /// Horizontal position, pad units.
    pub x: u16,
    /// Vertical position, pad units (downwards).
    pub y: u16,
    /// Pressure, 0-1023.
    pub pressure: u16,
    /// Milliseconds since the first event.
    pub t_ms: u32,
    /// Whether the pen touches the pad.
    pub pen_down: bool,
}

#[derive(Debug, Clone)]
struct StrokeStyle {
    start: (f32, f32),
    duration: f32,
    advance: f32,
    x_waves: Vec<(f32, f32, f32)>,
    y_waves: Vec<(f32, f32, f32)>,
}

/// A resident's way of signing.
#[derive(Debug, Clone)]
pub struct SignatureStyle {
    strokes: Vec<StrokeStyle>,
    pressure: f32,
}

impl SignatureStyle {
    /// The style seeded by `seed`.
    pub fn new(seed: Seed) -> SignatureStyle {
        let mut rng = seed.rng();
        let n = rng.random_range(1..=3);
        let mut x = rng.random_range(800.0..1800.0);
        let strokes = (0..n)
            .map(|_| {
                let duration = rng.random_range(0.5..1.3);
                let advance = rng.random_range(2500.0..4500.0) / n as f32;
                let wave = |rng: &mut rand_chacha::ChaCha8Rng, amp: (f32, f32)| {
                    (0..3)
                        .map(|_| {
                            (
                                rng.random_range(amp.0..amp.1),
                                rng.random_range(2.0..6.5),
                                rng.random_range(0.0..TAU),
                            )
                        })
                        .collect()
                };
                let s = StrokeStyle {
                    start: (x, rng.random_range(2400.0..3600.0)),
                    duration,
                    advance,
                    x_waves: wave(&mut rng, (80.0, 380.0)),
                    y_waves: wave(&mut rng, (200.0, 900.0)),
                };
                x += advance * duration + rng.random_range(200.0..700.0);
                s
            })
            .collect();
        SignatureStyle {
            strokes,
            pressure: rng.random_range(0.45..0.8),
        }
    }

    /// One signing; `seed` makes it differ from the others.
    pub fn sign(&self, seed: Seed) -> Vec<PenEvent> {
        let mut rng = seed.rng();
        let scale = rng.random_range(0.93..1.07);
        let slant = rng.random_range(-0.06..0.06);
        let speed = rng.random_range(0.88..1.12);
        let offset = (
            rng.random_range(-250.0..250.0),
            rng.random_range(-200.0..200.0),
        );
        let dt = 1.0 / SAMPLE_HZ as f32;
        let mut events = Vec::new();
        let mut clock = 0.0f32;
        for stroke in &self.strokes {
            let jitter: Vec<f32> = (0..6).map(|_| rng.random_range(-0.12..0.12)).collect();
            let duration = stroke.duration / speed;
            let steps = (duration / dt) as usize;
            let mut last = (0.0, 0.0);
            for s in 0..=steps {
                let t = s as f32 * dt * speed;
                let mut dx = stroke.advance * t;
                let mut dy = 0.0;
                for (k, (a, f, p)) in stroke.x_waves.iter().enumerate() {
                    dx += a * (TAU * f * t + p + jitter[k]).sin();
                }
                for (k, (a, f, p)) in stroke.y_waves.iter().enumerate() {
                    dy += a * (TAU * f * t + p + jitter[k + 3]).sin();
                }
                let (dx, dy) = (dx * scale + slant * dy, dy * scale);
                let x = stroke.start.0 + offset.0 + dx + gaussian(&mut rng) * 6.0;
                let y = stroke.start.1 + offset.1 + dy + gaussian(&mut rng) * 6.0;
                let v = ((x - last.0).powi(2) + (y - last.1).powi(2)).sqrt() / dt;
                last = (x, y);
                // Slower pen, firmer press; pressure ramps up and down at the stroke's ends.
                let ends = ((s as f32 / 6.0).min((steps - s) as f32 / 6.0)).min(1.0);
                let p = self.pressure * (1.15 - (v / 40_000.0).min(0.6)) * ends
                    + gaussian(&mut rng) * 0.02;
                events.push(PenEvent {
                    x: x.clamp(0.0, PAD_W as f32 - 1.0) as u16,
                    y: y.clamp(0.0, PAD_H as f32 - 1.0) as u16,
                    pressure: ((p.clamp(0.02, 1.0)) * PRESSURE_MAX as f32) as u16,
                    t_ms: (clock * 1000.0) as u32,
                    pen_down: true,
                });
                clock += dt;
            }
            if let Some(end) = events.last().copied() {
                events.push(PenEvent {
                    pressure: 0,
                    pen_down: false,
                    t_ms: (clock * 1000.0) as u32,
                    ..end
                });
            }
            clock += rng.random_range(0.08..0.25);
        }
        events
    }
}

/// Draws pen events as ink on a `width` x `height` image (the pad scaled to fit).
pub fn render(events: &[PenEvent], width: usize, height: usize) -> Gray8 {
    let mut ink = Field::zeros(width, height);
    let sx = width as f32 / PAD_W as f32;
    let sy = height as f32 / PAD_H as f32;
    for pair in events.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if !(a.pen_down && b.pen_down) {
            continue;
        }
        let (ax, ay, bx, by) = (
            a.x as f32 * sx,
            a.y as f32 * sy,
            b.x as f32 * sx,
            b.y as f32 * sy,
        );
        let n = ((bx - ax).abs().max((by - ay).abs()) * 2.0).ceil() as usize + 1;
        let r = 0.6 + 1.4 * b.pressure as f32 / PRESSURE_MAX as f32;
        for i in 0..=n {
            let t = i as f32 / n as f32;
            let (cx, cy) = (ax + (bx - ax) * t, ay + (by - ay) * t);
            for y in (cy - r - 1.0) as isize..=(cy + r + 1.0) as isize {
                for x in (cx - r - 1.0) as isize..=(cx + r + 1.0) as isize {
                    if x < 0 || y < 0 || x as usize >= width || y as usize >= height {
                        continue;
                    }
                    let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                    let v = (r + 0.5 - d).clamp(0.0, 1.0);
                    let slot = &mut ink.data[y as usize * width + x as usize];
                    *slot = slot.max(v);
                }
            }
        }
    }
    Gray8 {
        width,
        height,
        data: ink.data.iter().map(|v| (255.0 - 235.0 * v) as u8).collect(),
    }
}
