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

/// Units of the four resolutions in the general header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleUnits {
    /// Pixels per inch (code 1).
    PerInch,
    /// Pixels per centimetre (code 2).
    PerCentimetre,
}

/// What the capture device reported about itself and the scan. Rekam reads only the image
/// resolution; the rest is carried through unchanged, so a record writes back as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acquisition {
    /// Capture device ID, assigned by the vendor; 0 when not reported.
    pub device: u16,
    /// Image acquisition level (Table 1 of the standard): 31 the 500 ppi class, 41 the
    /// 1000 ppi class.
    pub level: u16,
    /// Units of `scan` and `image`.
    pub units: ScaleUnits,
    /// Scan resolution, horizontal then vertical.
    pub scan: [u16; 2],
    /// Image resolution, horizontal then vertical: the resolution the pixels are at.
    pub image: [u16; 2],
}

impl Acquisition {
    /// A live scan at `ppi` from a device that reports no ID: what Rekam's devices deliver.
    pub fn live_scan(ppi: u16) -> Acquisition {
        Acquisition {
            device: 0,
            level: match ppi {
                1000.. => 41,
                500.. => 31,
                250.. => 20,
                _ => 10,
            },
            units: ScaleUnits::PerInch,
            scan: [ppi, ppi],
            image: [ppi, ppi],
        }
    }

    /// The image resolution in pixels per inch (rounded from pixels per centimetre), or `None`
    /// when the pixels are not square.
    pub fn ppi(&self) -> Option<u16> {
        let [h, v] = self.image;
        if h != v {
            return None;
        }
        Some(match self.units {
            ScaleUnits::PerInch => h,
            ScaleUnits::PerCentimetre => {
                u16::try_from((u32::from(h) * 254 + 50) / 100).unwrap_or(u16::MAX)
            }
        })
    }
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
    /// The capture device and the resolutions it reported.
    pub acquisition: Acquisition,
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
        let a = &self.acquisition;
        put(&mut out, u64::from(a.device), 2);
        put(&mut out, u64::from(a.level), 2);
        out.push(1); // one finger per record
        out.push(match a.units {
            ScaleUnits::PerInch => 1,
            ScaleUnits::PerCentimetre => 2,
        });
        for resolution in a.scan.into_iter().chain(a.image) {
            put(&mut out, u64::from(resolution), 2);
        }
        out.push(8); // pixel depth
        out.push(self.compression.code());
        put(&mut out, 0, 2); // reserved
        put(&mut out, block, 4);
        out.push(self.position);
        out.push(1); // count of views
        out.push(1); // view number
        out.push(self.quality);
        out.push(self.impression);
        put(&mut out, u64::from(self.width), 2);
        put(&mut out, u64::from(self.height), 2);
        out.push(0); // reserved
        out.extend_from_slice(&self.data);
        Ok(out)
    }

    /// Reads a record of exactly one finger view.
    pub fn parse(bytes: &[u8]) -> Result<FingerImage, RecordError> {
        let mut r = Reader::new(bytes);
        r.magic(MAGIC, 4)?;
        let total = r.uint(6, "record length")?;
        expect_len("record length", total, r.len())?;
        let device = r.u16("capture device id")?;
        let level = r.u16("image acquisition level")?;
        let fingers = r.u8("number of fingers")?;
        if fingers != 1 {
            return Err(RecordError::Invalid {
                field: "number of fingers",
                value: u64::from(fingers),
            });
        }
        let units = match r.u8("scale units")? {
            1 => ScaleUnits::PerInch,
            2 => ScaleUnits::PerCentimetre,
            other => {
                return Err(RecordError::Invalid {
                    field: "scale units",
                    value: u64::from(other),
                });
            }
        };
        let acquisition = Acquisition {
            device,
            level,
            units,
            scan: [
                r.u16("horizontal scan resolution")?,
                r.u16("vertical scan resolution")?,
            ],
            image: [
                r.u16("horizontal image resolution")?,
                r.u16("vertical image resolution")?,
            ],
        };
        let depth = r.u8("pixel depth")?;
        if depth != 8 {
            return Err(RecordError::Invalid {
                field: "pixel depth",
                value: u64::from(depth),
            });
        }
        let compression = Compression::from_code(r.u8("compression algorithm")?)?;
        reserved(r.u16("reserved")?.into())?;
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
            acquisition,
            compression,
            data: {
                reserved(r.u8("reserved")?.into())?;
                r.rest().to_vec()
            },
        };
        check(&image)?;
        Ok(image)
    }
}

/// The standard sets reserved bytes to zero; a record with anything else there would not write
/// back as it came, so it is refused rather than silently changed.
fn reserved(value: u64) -> Result<(), RecordError> {
    match value {
        0 => Ok(()),
        value => Err(RecordError::Invalid {
            field: "reserved",
            value,
        }),
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
            acquisition: Acquisition::live_scan(500),
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

    #[test]
    fn what_the_device_reported_writes_back_as_it_came() {
        // Found by fuzzing: a record whose capture device, acquisition level and four
        // resolutions were read and dropped, so it wrote back with the writer's own values.
        let mut bytes = sample().to_bytes().unwrap();
        bytes[14..18].copy_from_slice(&[0x00, 0x1f, 0x01, 0x01]); // device 31, level 257
        bytes[19] = 2; // pixels per centimetre
        bytes[20..28].copy_from_slice(&[0, 1, 0x03, 0x0a, 0, 197, 0, 197]);
        let rec = FingerImage::parse(&bytes).unwrap();
        assert_eq!(rec.acquisition.device, 31);
        assert_eq!(rec.acquisition.scan, [1, 0x030a]);
        assert_eq!(rec.acquisition.ppi(), Some(500), "197 per cm is 500 ppi");
        assert_eq!(rec.to_bytes().unwrap(), bytes);

        bytes[24..28].copy_from_slice(&[0, 197, 0, 98]);
        assert_eq!(FingerImage::parse(&bytes).unwrap().acquisition.ppi(), None);
    }

    #[test]
    fn reserved_bytes_must_be_zero() {
        let good = sample().to_bytes().unwrap();
        // The general header's last two bytes, then the view header's last byte.
        for (at, value) in [(30, 256), (31, 1), (32 + 13, 1)] {
            let mut bytes = good.clone();
            bytes[at] = 1;
            assert_eq!(
                FingerImage::parse(&bytes),
                Err(RecordError::Invalid {
                    field: "reserved",
                    value
                }),
                "byte {at}"
            );
        }
    }

    #[test]
    fn the_record_fuzzing_found_is_refused_for_its_reserved_byte_and_reads_without_it() {
        let mut found = b"FIR\x00010\x00\x00\x00\x00\x00\x00=\x00\x00\x00\x1f\x01\x01\x00\x00\x01\x03\x0a+\x00:\x08\x05\x00\x00\x00\x00\x00\x1d\x02\x01\x01\x01\x01\x01\xf4\x00\x89PNG notA real0ly".to_vec();
        assert_eq!(
            FingerImage::parse(&found),
            Err(RecordError::Invalid {
                field: "reserved",
                value: u64::from(b'P')
            })
        );
        found[32 + 13] = 0;
        let rec = FingerImage::parse(&found).unwrap();
        assert_eq!(rec.acquisition.scan, [0, 0x0103]);
        assert_eq!(rec.acquisition.image, [0x0a2b, 0x003a]);
        assert_eq!(rec.to_bytes().unwrap(), found);
    }
}
