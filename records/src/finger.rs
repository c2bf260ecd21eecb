//! ISO/IEC 19794-4:2005 finger image record ("FIR"), one finger or one slap per record.
//!
//! General header (32 bytes): "FIR\0", "010\0", record length (6), capture device id (2),
//! image acquisition level (2), number of fingers (1), scale units (1), scan resolution
//! horizontal and vertical (2 + 2), image resolution horizontal and vertical (2 + 2), pixel depth
//! (1), compression algorithm (1), reserved (2). Finger image header (14 bytes): data block
//! length (4), finger position (1), count of views (1), view number (1), quality (1),
//! impression type (1), width (2), height (2), reserved (1); then the image.

use crate::RecordError;
use crate::bytes::{Reader, expect_len, fits, put};

const MAGIC: &[u8; 8] = b"FIR\x00010\x00";
const GENERAL_HEADER: usize = 32;
const VIEW_HEADER: usize = 14;

/// How the image inside is compressed (Table 3 of the standard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Uncompressed, one byte a pixel.
    Raw,
    /// Wavelet scalar quantisation.
    Wsq,
    /// JPEG.
    Jpeg,
    /// JPEG 2000.
    Jpeg2000,
    /// PNG: lossless, what Rekam's devices deliver.
    Png,
}

impl Compression {
    fn code(self) -> u8 {
        match self {
            Compression::Raw => 0,
            Compression::Wsq => 2,
            Compression::Jpeg => 3,
            Compression::Jpeg2000 => 4,
            Compression::Png => 5,
        }
    }

    fn from_code(code: u8) -> Result<Self, RecordError> {
        Ok(match code {
            0 => Compression::Raw,
            2 => Compression::Wsq,
            3 => Compression::Jpeg,
            4 => Compression::Jpeg2000,
            5 => Compression::Png,
            other => {
                return Err(RecordError::Invalid {
                    field: "compression algorithm",
                    value: u64::from(other),
                });
            }
        })
    }
}

/// Finger positions of the standard: 0 unknown, 1-10 the fingers (1 right thumb ... 10 left
/// little), 13 right four fingers, 14 left four fingers, 15 both thumbs.
pub fn valid_position(code: u8) -> bool {
    code <= 10 || (13..=15).contains(&code)
}

/// One finger (or slap) image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerImage {
    /// Finger position code (see [`valid_position`]).
    pub position: u8,
    /// Quality 0-100.
    pub quality: u8,
    /// Impression type: 0 live-scan plain, 1 live-scan rolled.
    pub impression: u8,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Resolution in pixels per inch (scan and image alike).
    pub ppi: u16,
    /// How `data` is compressed.
    pub compression: Compression,
    /// The encoded image.
    pub data: Vec<u8>,
}

impl FingerImage {
    /// The record's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RecordError> {
        check(self)?;
        let block = fits("finger data block", VIEW_HEADER + self.data.len(), 4)?;
        let total = fits("record", GENERAL_HEADER + VIEW_HEADER + self.data.len(), 6)?;
        let mut out = Vec::with_capacity(total as usize);
        out.extend_from_slice(MAGIC);
        put(&mut out, total, 6);
        put(&mut out, 0, 2); // capture device id: unreported
        put(&mut out, 31, 2); // image acquisition level 31: 500 ppi class
        out.push(1); // one finger per record
        out.push(1); // scale units: pixels per inch
        for _ in 0..4 {
            put(&mut out, u64::from(self.ppi), 2);
        }
        out.push(8); // pixel depth
        out.push(self.compression.code());
        put(&mut out, 0, 2);
        put(&mut out, block, 4);
        out.push(self.position);
        out.push(1); // count of views
        out.push(1); // view number
        out.push(self.quality);
        out.push(self.impression);
        put(&mut out, u64::from(self.width), 2);
        put(&mut out, u64::from(self.height), 2);
        out.push(0);
        out.extend_from_slice(&self.data);
        Ok(out)
    }

    /// Reads a record of exactly one finger view.
    pub fn parse(bytes: &[u8]) -> Result<FingerImage, RecordError> {
        let mut r = Reader::new(bytes);
        r.magic(MAGIC, 4)?;
        let total = r.uint(6, "record length")?;
        expect_len("record length", total, r.len())?;
        r.take(4, "capture device and acquisition level")?;
        let fingers = r.u8("number of fingers")?;
        if fingers != 1 {
            return Err(RecordError::Invalid {
                field: "number of fingers",
                value: u64::from(fingers),
            });
        }
        let units = r.u8("scale units")?;
        let ppi = r.u16("scan resolution")?;
        r.take(6, "resolutions")?;
        let ppi = match units {
            1 => ppi,
            // pixels per centimetre
            2 => (u32::from(ppi) * 254 / 100).min(u32::from(u16::MAX)) as u16,
            other => {
                return Err(RecordError::Invalid {
                    field: "scale units",
                    value: u64::from(other),
                });
            }
        };
        let depth = r.u8("pixel depth")?;
        if depth != 8 {
            return Err(RecordError::Invalid {
                field: "pixel depth",
                value: u64::from(depth),
            });
        }
        let compression = Compression::from_code(r.u8("compression algorithm")?)?;
        r.take(2, "reserved")?;
        let block = r.u32("finger data block length")?;
        expect_len(
            "finger data block length",
            u64::from(block),
            r.len() - GENERAL_HEADER,
        )?;
        let position = r.u8("finger position")?;
        let views = r.u8("count of views")?;
        let view = r.u8("view number")?;
        if views != 1 || view != 1 {
            return Err(RecordError::Invalid {
                field: "count of views",
                value: u64::from(views),
            });
        }
        let image = FingerImage {
            position,
            quality: r.u8("finger quality")?,
            impression: r.u8("impression type")?,
            width: r.u16("horizontal line length")?,
            height: r.u16("vertical line length")?,
            ppi,
            compression,
            data: {
                r.take(1, "reserved")?;
                r.rest().to_vec()
            },
        };
        check(&image)?;
        Ok(image)
    }
}

fn check(img: &FingerImage) -> Result<(), RecordError> {
    let invalid = |field, value: u64| Err(RecordError::Invalid { field, value });
    if !valid_position(img.position) {
        return invalid("finger position", u64::from(img.position));
    }
    if img.quality > 100 {
        return invalid("finger quality", u64::from(img.quality));
    }
    if img.impression > 9 {
        return invalid("impression type", u64::from(img.impression));
    }
    if img.width == 0 || img.height == 0 {
        return invalid("image size", 0);
    }
    if img.data.is_empty() {
        return invalid("image data length", 0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FingerImage {
        FingerImage {
            position: 2,
            quality: 81,
            impression: 0,
            width: 400,
            height: 500,
            ppi: 500,
            compression: Compression::Png,
            data: b"\x89PNG not really".to_vec(),
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let rec = sample();
        let bytes = rec.to_bytes().unwrap();
        assert_eq!(&bytes[..8], b"FIR\x00010\x00");
        assert_eq!(bytes.len(), 32 + 14 + rec.data.len());
        assert_eq!(bytes[8..14], [0, 0, 0, 0, 0, 61]); // record length, 6 bytes
        assert_eq!(bytes[31 - 2], 5, "compression code for PNG");
        assert_eq!(FingerImage::parse(&bytes).unwrap(), rec);
    }

    #[test]
    fn every_truncation_and_extension_is_refused() {
        let bytes = sample().to_bytes().unwrap();
        crate::bytes::assert_exact_length(&bytes, FingerImage::parse);
    }

    #[test]
    fn bad_fields_are_named() {
        let mut bad = sample();
        bad.position = 11;
        assert_eq!(
            bad.to_bytes().unwrap_err(),
            RecordError::Invalid {
                field: "finger position",
                value: 11
            }
        );
        let mut bytes = sample().to_bytes().unwrap();
        bytes[32 + 4] = 12; // finger position in the view header
        assert!(matches!(
            FingerImage::parse(&bytes),
            Err(RecordError::Invalid {
                field: "finger position",
                ..
            })
        ));
        assert_eq!(
            FingerImage::parse(b"FAC\x00010\x00rest"),
            Err(RecordError::NotThisFormat { part: 4 })
        );
    }
}
