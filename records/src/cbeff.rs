//! A CBEFF-style container (after ISO/IEC 19785-1/-3): one byte string that lists every
//! biometric data block (BDB) of an enrollment with the header a reader needs to pick one out
//! without parsing the others: biometric type and subtype (CBEFF codes), the BDB format owner
//! and type (IBIA registry: owner 257, ISO/IEC JTC 1 SC 37), quality and purpose.
//!
//! Layout, big-endian: "RKCB", version 1 (1), reserved (1), number of blocks (2); per block:
//! biometric type (4), subtype (1), format owner (2), format type (2), quality (1, 255 when
//! not assessed), purpose (1), data length (4), the BDB itself. Types the record readers know
//! are checked on the way in ([`Bir::check`]), so a container never carries a block its header
//! misnames.

use crate::RecordError;
use crate::bytes::{Reader, expect_len, fits, put};

const MAGIC: &[u8; 4] = b"RKCB";
const VERSION: u8 = 1;
const BLOCK_HEADER: usize = 16;

/// The format owner of every ISO/IEC 19794 record (IBIA: ISO/IEC JTC 1 SC 37).
pub const OWNER_SC37: u16 = 257;

/// CBEFF biometric types (ISO/IEC 19785-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BiometricType {
    /// Face, 0x02.
    Face,
    /// Finger, 0x08.
    Finger,
    /// Iris, 0x10.
    Iris,
    /// Signature or sign, 0x80.
    Signature,
}

impl BiometricType {
    fn code(self) -> u32 {
        match self {
            BiometricType::Face => 0x02,
            BiometricType::Finger => 0x08,
            BiometricType::Iris => 0x10,
            BiometricType::Signature => 0x80,
        }
    }

    fn from_code(code: u32) -> Result<Self, RecordError> {
        Ok(match code {
            0x02 => BiometricType::Face,
            0x08 => BiometricType::Finger,
            0x10 => BiometricType::Iris,
            0x80 => BiometricType::Signature,
            other => {
                return Err(RecordError::Invalid {
                    field: "biometric type",
                    value: u64::from(other),
                });
            }
        })
    }
}

/// BDB format types of owner 257 that Rekam writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// ISO/IEC 19794-2 finger minutiae record, type 2.
    FingerMinutiae,
    /// ISO/IEC 19794-4 finger image, type 7.
    FingerImage,
    /// ISO/IEC 19794-5 face image, type 8.
    FaceImage,
    /// ISO/IEC 19794-6 iris image, type 9.
    IrisImage,
    /// Any other (owner, type), carried but not checked.
    Other(u16, u16),
}

impl Format {
    fn owner_and_type(self) -> (u16, u16) {
        match self {
            Format::FingerMinutiae => (OWNER_SC37, 2),
            Format::FingerImage => (OWNER_SC37, 7),
            Format::FaceImage => (OWNER_SC37, 8),
            Format::IrisImage => (OWNER_SC37, 9),
            Format::Other(o, t) => (o, t),
        }
    }

    fn from_owner_and_type(owner: u16, kind: u16) -> Self {
        match (owner, kind) {
            (OWNER_SC37, 2) => Format::FingerMinutiae,
            (OWNER_SC37, 7) => Format::FingerImage,
            (OWNER_SC37, 8) => Format::FaceImage,
            (OWNER_SC37, 9) => Format::IrisImage,
            (o, t) => Format::Other(o, t),
        }
    }
}

/// What a block was captured for (CBEFF purpose).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Verification, 1.
    Verify,
    /// Identification, 2.
    Identify,
    /// Enrollment, 3.
    Enroll,
}

impl Purpose {
    fn code(self) -> u8 {
        match self {
            Purpose::Verify => 1,
            Purpose::Identify => 2,
            Purpose::Enroll => 3,
        }
    }

    fn from_code(code: u8) -> Result<Self, RecordError> {
        Ok(match code {
            1 => Purpose::Verify,
            2 => Purpose::Identify,
            3 => Purpose::Enroll,
            other => {
                return Err(RecordError::Invalid {
                    field: "purpose",
                    value: u64::from(other),
                });
            }
        })
    }
}

/// CBEFF subtype of a finger position code of part 4 (1-10): bit 0x01 right, 0x02 left, then
/// thumb 0x04, index 0x08, middle 0x0C, ring 0x10, little 0x14. `None` for other codes.
pub fn finger_subtype(position: u8) -> Option<u8> {
    let (side, digit) = match position {
        1..=5 => (0x01, position),
        6..=10 => (0x02, position - 5),
        _ => return None,
    };
    Some(side | (digit << 2))
}

/// CBEFF subtype of an eye: 0x01 right, 0x02 left.
pub fn eye_subtype(right: bool) -> u8 {
    if right { 0x01 } else { 0x02 }
}

/// One biometric information record: header and data block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bir {
    /// Modality.
    pub kind: BiometricType,
    /// Subtype (0 none; see [`finger_subtype`], [`eye_subtype`]).
    pub subtype: u8,
    /// The block's format.
    pub format: Format,
    /// Quality 0-100, or `None` when not assessed.
    pub quality: Option<u8>,
    /// Purpose.
    pub purpose: Purpose,
    /// The block: a record of the named format.
    pub data: Vec<u8>,
}

impl Bir {
    /// Checks that the block is the record its header names and agrees with its type.
    pub fn check(&self) -> Result<(), RecordError> {
        let mismatch = |value: u64| {
            Err(RecordError::Invalid {
                field: "format for biometric type",
                value,
            })
        };
        if matches!(self.quality, Some(q) if q > 100) {
            return Err(RecordError::Invalid {
                field: "quality",
                value: u64::from(self.quality.unwrap_or(0)),
            });
        }
        match (self.format, self.kind) {
            (Format::FingerMinutiae, BiometricType::Finger) => {
                crate::minutiae::MinutiaeRecord::parse(&self.data).map(drop)
            }
            (Format::FingerImage, BiometricType::Finger) => {
                crate::finger::FingerImage::parse(&self.data).map(drop)
            }
            (Format::FaceImage, BiometricType::Face) => {
                crate::face::FaceImage::parse(&self.data).map(drop)
            }
            (Format::IrisImage, BiometricType::Iris) => {
                crate::iris::IrisImage::parse(&self.data).map(drop)
            }
            (Format::Other(..), _) => Ok(()),
            (f, _) => mismatch(u64::from(f.owner_and_type().1)),
        }
    }
}

/// Writes a container of `birs`, each checked first.
pub fn to_bytes(birs: &[Bir]) -> Result<Vec<u8>, RecordError> {
    let count = fits("number of blocks", birs.len(), 2)?;
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(0);
    put(&mut out, count, 2);
    for b in birs {
        b.check()?;
        let (owner, kind) = b.format.owner_and_type();
        put(&mut out, u64::from(b.kind.code()), 4);
        out.push(b.subtype);
        put(&mut out, u64::from(owner), 2);
        put(&mut out, u64::from(kind), 2);
        out.push(b.quality.unwrap_or(255));
        out.push(b.purpose.code());
        put(&mut out, fits("data block", b.data.len(), 4)?, 4);
        out.extend_from_slice(&b.data);
    }
    Ok(out)
}

/// Reads a container; every block of a known format is parsed as that format.
pub fn parse(bytes: &[u8]) -> Result<Vec<Bir>, RecordError> {
    let mut r = Reader::new(bytes);
    match r.take(4, "format identifier") {
        Ok(m) if m == MAGIC => {}
        _ => {
            return Err(RecordError::Invalid {
                field: "container identifier",
                value: 0,
            });
        }
    }
    let version = r.u8("version")?;
    if version != VERSION {
        return Err(RecordError::Invalid {
            field: "container version",
            value: u64::from(version),
        });
    }
    r.u8("reserved")?;
    let count = r.u16("number of blocks")?;
    let mut out = Vec::with_capacity(usize::from(count).min(bytes.len() / BLOCK_HEADER));
    for _ in 0..count {
        let kind = BiometricType::from_code(r.u32("biometric type")?)?;
        let subtype = r.u8("subtype")?;
        let owner = r.u16("format owner")?;
        let format_type = r.u16("format type")?;
        let quality = match r.u8("quality")? {
            255 => None,
            q => Some(q),
        };
        let purpose = Purpose::from_code(r.u8("purpose")?)?;
        let len = r.u32("data length")?;
        let data = r.take(len as usize, "data block")?.to_vec();
        expect_len("data block", u64::from(len), data.len())?;
        let bir = Bir {
            kind,
            subtype,
            format: Format::from_owner_and_type(owner, format_type),
            quality,
            purpose,
            data,
        };
        bir.check()?;
        out.push(bir);
    }
    r.end()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minutiae::{FingerView, Minutia, MinutiaKind, MinutiaeRecord};

    fn minutiae_block(position: u8) -> Vec<u8> {
        MinutiaeRecord {
            width: 400,
            height: 480,
            ppcm: 197,
            views: vec![FingerView {
                position,
                view: 0,
                impression: 0,
                quality: 60,
                minutiae: vec![Minutia {
                    kind: MinutiaKind::Ending,
                    x: 100,
                    y: 120,
                    angle: 32,
                    quality: 70,
                }],
            }],
        }
        .to_bytes()
        .unwrap()
    }

    #[test]
    fn subtypes_follow_cbeff() {
        assert_eq!(finger_subtype(2), Some(0x09)); // right index
        assert_eq!(finger_subtype(7), Some(0x0A)); // left index
        assert_eq!(finger_subtype(10), Some(0x16)); // left little
        assert_eq!(finger_subtype(0), None);
        assert_eq!(eye_subtype(false), 0x02);
    }

    #[test]
    fn round_trip_lists_each_block() {
        let birs = vec![
            Bir {
                kind: BiometricType::Finger,
                subtype: finger_subtype(2).unwrap(),
                format: Format::FingerMinutiae,
                quality: Some(60),
                purpose: Purpose::Enroll,
                data: minutiae_block(2),
            },
            Bir {
                kind: BiometricType::Signature,
                subtype: 0,
                format: Format::Other(0xFFFF, 1),
                quality: None,
                purpose: Purpose::Enroll,
                data: vec![1, 2, 3],
            },
        ];
        let bytes = to_bytes(&birs).unwrap();
        assert_eq!(&bytes[..8], b"RKCB\x01\x00\x00\x02");
        assert_eq!(&bytes[8..16], &[0, 0, 0, 8, 0x09, 1, 1, 0]);
        assert_eq!(parse(&bytes).unwrap(), birs);
        crate::bytes::assert_exact_length(&bytes, parse);
    }

    #[test]
    fn a_block_its_header_misnames_is_refused() {
        let wrong_type = Bir {
            kind: BiometricType::Iris,
            subtype: eye_subtype(true),
            format: Format::FingerMinutiae,
            quality: Some(60),
            purpose: Purpose::Enroll,
            data: minutiae_block(2),
        };
        assert!(to_bytes(&[wrong_type]).is_err());
        let not_the_record = Bir {
            kind: BiometricType::Finger,
            subtype: 0x09,
            format: Format::FingerImage,
            quality: Some(60),
            purpose: Purpose::Enroll,
            data: minutiae_block(2),
        };
        assert!(to_bytes(&[not_the_record]).is_err());
    }
}
