//! ISO/IEC 19794-5:2005 face image record ("FAC"), one full-frontal image per record.
//!
//! Header (14 bytes): "FAC\0", "010\0", record length (4), number of images (2). Facial
//! information (20 bytes): block length (4), number of feature points (2), gender (1), eye
//! colour (1), hair colour (1), property mask (3), expression (2), pose angles (3), pose
//! uncertainty (3); feature points (8 bytes each, none written); image information (12 bytes):
//! face image type (1), image data type (1: 0 JPEG, 1 JPEG 2000), width (2), height (2), colour
//! space (1), source type (1), device type (2), quality (2); then the image.

use crate::RecordError;
use crate::bytes::{Reader, check_image, expect_len, fits, put};

const MAGIC: &[u8; 8] = b"FAC\x00010\x00";
const HEADER: usize = 14;
const FACIAL_INFO: usize = 20;
const IMAGE_INFO: usize = 12;

/// How the image inside is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceFormat {
    /// JPEG: what Rekam's cameras deliver.
    Jpeg,
    /// JPEG 2000.
    Jpeg2000,
}

/// One portrait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceImage {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Quality 0-100 (the standard's field is 2 bytes; 0 means unreported).
    pub quality: u8,
    /// Encoding of `data`.
    pub format: FaceFormat,
    /// The encoded image (24-bit colour).
    pub data: Vec<u8>,
}

impl FaceImage {
    /// The record's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RecordError> {
        check(self)?;
        let block = fits(
            "facial record",
            FACIAL_INFO + IMAGE_INFO + self.data.len(),
            4,
        )?;
        let total = fits("record", HEADER + block as usize, 4)?;
        let mut out = Vec::with_capacity(total as usize);
        out.extend_from_slice(MAGIC);
        put(&mut out, total, 4);
        put(&mut out, 1, 2); // one image
        put(&mut out, block, 4);
        put(&mut out, 0, 2); // no feature points
        out.extend_from_slice(&[0, 0, 0]); // gender, eye and hair colour: unspecified
        put(&mut out, 0, 3); // property mask: none specified
        put(&mut out, 1, 2); // expression: neutral
        put(&mut out, 0, 3); // pose angles: frontal
        put(&mut out, 0, 3); // pose uncertainty
        out.push(1); // face image type: full frontal
        out.push(match self.format {
            FaceFormat::Jpeg => 0,
            FaceFormat::Jpeg2000 => 1,
        });
        put(&mut out, u64::from(self.width), 2);
        put(&mut out, u64::from(self.height), 2);
        out.push(1); // colour space: 24-bit RGB
        out.push(3); // source type: digital still camera
        put(&mut out, 0, 2); // device type: unspecified
        put(&mut out, u64::from(self.quality), 2);
        out.extend_from_slice(&self.data);
        Ok(out)
    }

    /// Reads a record of exactly one image.
    pub fn parse(bytes: &[u8]) -> Result<FaceImage, RecordError> {
        let mut r = Reader::new(bytes);
        r.magic(MAGIC, 5)?;
        let total = r.u32("record length")?;
        expect_len("record length", u64::from(total), r.len())?;
        let images = r.u16("number of images")?;
        if images != 1 {
            return Err(RecordError::Invalid {
                field: "number of images",
                value: u64::from(images),
            });
        }
        let block = r.u32("facial record length")?;
        expect_len("facial record length", u64::from(block), r.len() - HEADER)?;
        let points = r.u16("number of feature points")?;
        r.take(14, "facial information")?;
        r.take(usize::from(points) * 8, "feature points")?;
        let kind = r.u8("face image type")?;
        if kind > 2 {
            return Err(RecordError::Invalid {
                field: "face image type",
                value: u64::from(kind),
            });
        }
        let format = match r.u8("image data type")? {
            0 => FaceFormat::Jpeg,
            1 => FaceFormat::Jpeg2000,
            other => {
                return Err(RecordError::Invalid {
                    field: "image data type",
                    value: u64::from(other),
                });
            }
        };
        let width = r.u16("width")?;
        let height = r.u16("height")?;
        r.take(4, "colour space, source and device type")?;
        let quality = r.u16("quality")?;
        let image = FaceImage {
            width,
            height,
            quality: u8::try_from(quality).map_err(|_| RecordError::Invalid {
                field: "quality",
                value: u64::from(quality),
            })?,
            format,
            data: r.rest().to_vec(),
        };
        check(&image)?;
        Ok(image)
    }
}

fn check(img: &FaceImage) -> Result<(), RecordError> {
    check_image(
        "quality",
        img.quality,
        img.width,
        img.height,
        img.data.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FaceImage {
        FaceImage {
            width: 480,
            height: 640,
            quality: 90,
            format: FaceFormat::Jpeg,
            data: vec![0xFF, 0xD8, 9, 9, 0xFF, 0xD9],
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let rec = sample();
        let bytes = rec.to_bytes().unwrap();
        assert_eq!(bytes.len(), 14 + 20 + 12 + 6);
        assert_eq!(&bytes[8..12], &(52u32).to_be_bytes());
        assert_eq!(FaceImage::parse(&bytes).unwrap(), rec);
    }

    #[test]
    fn every_truncation_and_extension_is_refused() {
        let bytes = sample().to_bytes().unwrap();
        crate::bytes::assert_exact_length(&bytes, FaceImage::parse);
    }
}
