//! The screening code: 512 bits per finger for the first stage of 1:N.
//!
//! Each minutia's two nearest neighbours give two triples (distance, direction to the
//! neighbour, the neighbour's direction, all relative to the minutia: see [`super::matcher`]);
//! each triple, quantised coarsely, sets one bit. About a hundred triples set about a fifth of
//! the bits: two impressions of one finger share far more bits than two fingers do. Comparing
//! two codes is eight AND-and-count instructions, which is what lets the index scan every
//! finger of every enrolled person before the matcher looks at the best candidates.

use super::matcher::Prepared;

/// Neighbours of each minutia that set bits.
const NEAREST: usize = 2;
/// 64-bit words in a code.
pub const WORDS: usize = 8;

/// A finger's screening code.
pub type Code = [u64; WORDS];

/// The code of a finger.
pub fn code(f: &Prepared) -> Code {
    let mut code = [0; WORDS];
    f.each_triple(NEAREST, |_, cell| {
        // Spread neighbouring cells over the code (Fibonacci hashing of the cell number).
        let bit = (cell as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - 9);
        code[(bit >> 6) as usize] |= 1 << (bit & 63);
    });
    code
}

/// Bits two codes share.
#[inline]
pub fn common(a: &Code, b: &Code) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
}

/// Bits set.
pub fn weight(a: &Code) -> u32 {
    a.iter().map(|w| w.count_ones()).sum()
}
