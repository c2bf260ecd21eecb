//! Synthetic fingerprints: master prints per finger, impressions of them, and slaps.
//!
//! A master print is the finger itself: a ridge pattern fixed by the resident's seed and the
//! finger's position. Every capture is an [`impression`] of it, so two captures of one finger
//! share their ridges and minutiae while two fingers share nothing.

pub mod impression;
mod master;
pub mod slap;
pub mod style;

pub use master::{MasterPrint, PatternClass, SingularPoint, master_print};

use serde::{Deserialize, Serialize};

/// Resolution of every finger image, in pixels per inch.
pub const PPI: u16 = 500;

/// Finger position codes of ISO/IEC 19794-4 (and ANSI/NIST-ITL): 1-5 right thumb to little,
/// 6-10 left thumb to little.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FingerPosition {
    /// 1.
    RightThumb = 1,
    /// 2.
    RightIndex = 2,
    /// 3.
    RightMiddle = 3,
    /// 4.
    RightRing = 4,
    /// 5.
    RightLittle = 5,
    /// 6.
    LeftThumb = 6,
    /// 7.
    LeftIndex = 7,
    /// 8.
    LeftMiddle = 8,
    /// 9.
    LeftRing = 9,
    /// 10.
    LeftLittle = 10,
}

impl FingerPosition {
    /// All ten, in code order.
    pub const ALL: [FingerPosition; 10] = [
        FingerPosition::RightThumb,
        FingerPosition::RightIndex,
        FingerPosition::RightMiddle,
        FingerPosition::RightRing,
        FingerPosition::RightLittle,
        FingerPosition::LeftThumb,
        FingerPosition::LeftIndex,
        FingerPosition::LeftMiddle,
        FingerPosition::LeftRing,
        FingerPosition::LeftLittle,
    ];

    /// The ISO/IEC 19794-4 code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The position with this code.
    pub fn from_code(code: u8) -> Option<FingerPosition> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    /// Thumbs are larger and are captured together in the 4-4-2 sequence.
    pub fn is_thumb(self) -> bool {
        matches!(self, FingerPosition::RightThumb | FingerPosition::LeftThumb)
    }

    /// Whether this finger is on the right hand.
    pub fn is_right(self) -> bool {
        self.code() <= 5
    }

    /// A short stable name (`right_index`).
    pub fn as_str(self) -> &'static str {
        match self {
            FingerPosition::RightThumb => "right_thumb",
            FingerPosition::RightIndex => "right_index",
            FingerPosition::RightMiddle => "right_middle",
            FingerPosition::RightRing => "right_ring",
            FingerPosition::RightLittle => "right_little",
            FingerPosition::LeftThumb => "left_thumb",
            FingerPosition::LeftIndex => "left_index",
            FingerPosition::LeftMiddle => "left_middle",
            FingerPosition::LeftRing => "left_ring",
            FingerPosition::LeftLittle => "left_little",
        }
    }
}
