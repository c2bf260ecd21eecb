//! Helpers for tests and benchmarks (of this crate and the crates using it). Not used by any
//! production path.

use crate::finger::{FingerTemplate, Minutia};
use rekam_records::minutiae::MinutiaKind;

/// A finger of `n` minutiae at pseudo-random places (xorshift from `seed`) inside a 400 x 480
/// image, 40 px clear of its edges.
pub fn random_finger(seed: u64, n: usize, position: u8) -> FingerTemplate {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    FingerTemplate {
        position,
        width: 400,
        height: 480,
        quality: 60,
        minutiae: (0..n)
            .map(|_| Minutia {
                kind: MinutiaKind::Other,
                x: 40 + (next() % 320) as u16,
                y: 40 + (next() % 400) as u16,
                angle: (next() % 256) as u8,
                quality: 50,
            })
            .collect(),
    }
}

/// A grey image moved `shift` pixels right and down, white (the empty platen) behind: another
/// capture of the same finger for the extractor.
pub fn shifted(data: &[u8], width: usize, height: usize, shift: usize) -> Vec<u8> {
    let mut out = vec![255u8; width * height];
    for y in shift..height {
        out[y * width + shift..(y + 1) * width]
            .copy_from_slice(&data[(y - shift) * width..(y + 1 - shift) * width - shift]);
    }
    out
}
