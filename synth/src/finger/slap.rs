//! Flat slaps in the 4-4-2 sequence: the four fingers of the left hand, the four of the right,
//! then both thumbs, each laid on a 3.2 x 2.0 inch platen as a hand lies on it.

use super::FingerPosition;
use super::impression::{Capture, finish, ink};
use super::master::MasterPrint;
use crate::gray::{Field, Gray8};
use crate::seed::Seed;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Platen width in pixels at 500 ppi (3.2 inch).
pub const SLAP_W: usize = 1600;
/// Platen height (2.0 inch).
pub const SLAP_H: usize = 1000;

/// Which slap of the 4-4-2 sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slap {
    /// Left index, middle, ring, little.
    LeftFour,
    /// Right index, middle, ring, little.
    RightFour,
    /// Both thumbs.
    Thumbs,
}

impl Slap {
    /// The sequence, in capture order.
    pub const SEQUENCE: [Slap; 3] = [Slap::LeftFour, Slap::RightFour, Slap::Thumbs];

    /// The fingers on the platen, from the image's left to its right (the scanner sees the
    /// pads: the left hand's little finger is leftmost, the right hand's index is leftmost).
    pub fn fingers(self) -> &'static [FingerPosition] {
        use FingerPosition::*;
        match self {
            Slap::LeftFour => &[LeftLittle, LeftRing, LeftMiddle, LeftIndex],
            Slap::RightFour => &[RightIndex, RightMiddle, RightRing, RightLittle],
            Slap::Thumbs => &[LeftThumb, RightThumb],
        }
    }

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Slap::LeftFour => "left_four",
            Slap::RightFour => "right_four",
            Slap::Thumbs => "thumbs",
        }
    }
}

/// Where one finger lies in a slap image: the ground truth a segmenter is tested against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// The finger.
    pub position: FingerPosition,
    /// Left edge of its impression's box, pixels.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Box width.
    pub width: u32,
    /// Box height.
    pub height: u32,
    /// Rotation of the finger, degrees (positive: clockwise).
    pub rotation_deg: f32,
}

/// Lays the fingers of `slap` on the platen. `masters` must hold every finger of the slap;
/// `missing` fingers (amputated, bandaged) leave their place empty. `capture` is the base
/// capture: each finger gets its own pose around the hand's.
pub fn slap(
    slap: Slap,
    masters: &[MasterPrint],
    missing: &[FingerPosition],
    capture: &Capture,
    seed: Seed,
) -> (Gray8, Vec<Placement>) {
    let mut platen = Field::zeros(SLAP_W, SLAP_H);
    let fingers = slap.fingers();
    let n = fingers.len() as f32;
    // Each finger's ink is independent: render them in parallel, lay them down in order.
    let inked: Vec<(Field, Placement)> = fingers
        .par_iter()
        .enumerate()
        .filter(|(_, pos)| !missing.contains(pos))
        .filter_map(|(i, pos)| {
            let master = masters.iter().find(|m| m.position == *pos)?;
            // Fingers fan out from the palm: outer fingers lean outwards and sit lower; the
            // middle finger reaches highest. Thumbs lean towards each other.
            let t = (i as f32 + 0.5) / n - 0.5; // -0.5 .. 0.5 across the hand
            let (lean, drop) = match slap {
                Slap::Thumbs => (if t < 0.0 { 18.0 } else { -18.0 }, 40.0),
                _ => (
                    t * 28.0,
                    (t * 2.0).powi(2) * 120.0 + if i == 3 || i == 0 { 30.0 } else { 0.0 },
                ),
            };
            let mut finger_capture = *capture;
            finger_capture.rotation_deg = capture.rotation_deg * 0.3 + lean;
            finger_capture.shift = (0.0, 0.0);
            let img = ink(
                master,
                &finger_capture,
                &mut seed.child_n("finger", pos.code() as u64).rng(),
            );
            let slot_w = SLAP_W as f32 / n;
            let x = (slot_w * (i as f32 + 0.5) - img.width as f32 / 2.0 + capture.shift.0) as i32;
            let y = (60.0 + drop + capture.shift.1) as i32;
            let placement = Placement {
                position: *pos,
                x,
                y,
                width: img.width as u32,
                height: img.height as u32,
                rotation_deg: finger_capture.rotation_deg,
            };
            Some((img, placement))
        })
        .collect();
    let mut placements = Vec::new();
    for (img, placement) in inked {
        platen.blit_max(&img, placement.x as isize, placement.y as isize);
        placements.push(placement);
    }
    (
        finish(&platen, capture, &mut seed.child("sensor").rng()),
        placements,
    )
}
