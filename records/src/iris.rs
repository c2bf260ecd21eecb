//! ISO/IEC 19794-6:2005 iris image record ("IIR"), rectilinear, one eye and one image per
//! record.
//!
//! Record header (45 bytes): "IIR\0", "010\0", record length (4), capture device id (2), number
//! of eyes (1), record header length (2) = 45, image property bit field (2), iris diameter (2),
//! image format (2), width (2), height (2), intensity depth (1), image transformation (1),
//! device unique identifier (16). Per eye (3 bytes): subtype (1: 1 right, 2 left), number of
//! images (2). Per image (11 bytes): image number (2), quality (1), rotation angle (2), rotation
//! uncertainty (2), image length (4); then the image.

use crate::RecordError;
use crate::bytes::{Reader, check_image, expect_len, fits, put};

const MAGIC: &[u8; 8] = b"IIR\x00010\x00";
const HEADER: usize = 45;
const EYE_HEADER: usize = 3;
const IMAGE_HEADER: usize = 11;
/// Image format codes of the standard that Rekam reads.
const MONO_RAW: u16 = 0x0002;
const MONO_JPEG: u16 = 0x0006;
const MONO_JPEG2000: u16 = 0x000E;

/// Which eye.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eye {
    /// Right eye (subtype 1).
    Right,
    /// Left eye (subtype 2).
    Left,
}

/// How the image inside is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IrisFormat {
    /// Uncompressed 8-bit grey.
    MonoRaw,
    /// Grey JPEG: what Rekam's devices deliver.
    MonoJpeg,
    /// Grey JPEG 2000.
    MonoJpeg2000,
}

/// What the capture device reported about itself and the image beyond its pixels. Rekam reads
/// none of it; it is carried through unchanged, so a record writes back as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acquisition {
    /// Capture device ID, assigned by the vendor; 0 when not reported.
    pub device: u16,
    /// Image property bit field: orientation, scan type, boundary and occlusion processing.
    pub properties: u16,
    /// Image transformation: 0 undefined, 1 standard.
    pub transformation: u8,
    /// The image's number among the eye's images.
    pub image_number: u16,
    /// Rotation angle of the eye and its uncertainty, 0xFFFF when undefined.
    pub rotation: [u16; 2],
}

impl Acquisition {
    /// A progressive scan in the standard orientation from a device that reports no ID, with
    /// no boundary, occlusion or rotation processed: what Rekam's devices deliver.
    pub fn live_scan() -> Acquisition {
        Acquisition {
            device: 0,
            // Horizontal orientation base (1), vertical base (1 << 2), scan type progressive
            // (1 << 4).
            properties: 0b01_0101,
            transformation: 0,
            image_number: 1,
            rotation: [0xFFFF, 0xFFFF],
        }
    }
}

/// One eye's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrisImage {
    /// Which eye.
    pub eye: Eye,
    /// Quality 0-100.
    pub quality: u8,
    /// Expected iris diameter in pixels, 0 when unknown.
    pub iris_diameter: u16,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Encoding of `data`.
    pub format: IrisFormat,
    /// The device's unique identifier (serial), up to 16 bytes, zero-padded.
    pub device: [u8; 16],
    /// The rest of what the device reported.
    pub acquisition: Acquisition,
    /// The encoded image.
    pub data: Vec<u8>,
}

impl IrisImage {
    /// The record's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RecordError> {
        check(self)?;
        let image_len = fits("iris image", self.data.len(), 4)?;
        let total = fits(
            "record",
            HEADER + EYE_HEADER + IMAGE_HEADER + self.data.len(),
            4,
        )?;
        let mut out = Vec::with_capacity(total as usize);
        out.extend_from_slice(MAGIC);
        put(&mut out, total, 4);
        let a = &self.acquisition;
        put(&mut out, u64::from(a.device), 2);
        out.push(1); // one eye
        put(&mut out, HEADER as u64, 2);
        put(&mut out, u64::from(a.properties), 2);
        put(&mut out, u64::from(self.iris_diameter), 2);
        put(
            &mut out,
            u64::from(match self.format {
                IrisFormat::MonoRaw => MONO_RAW,
                IrisFormat::MonoJpeg => MONO_JPEG,
                IrisFormat::MonoJpeg2000 => MONO_JPEG2000,
            }),
            2,
        );
        put(&mut out, u64::from(self.width), 2);
        put(&mut out, u64::from(self.height), 2);
        out.push(8); // intensity depth
        out.push(a.transformation);
        out.extend_from_slice(&self.device);
        out.push(match self.eye {
            Eye::Right => 1,
            Eye::Left => 2,
        });
        put(&mut out, 1, 2); // one image
        put(&mut out, u64::from(a.image_number), 2);
        out.push(self.quality);
        for r in a.rotation {
            put(&mut out, u64::from(r), 2);
        }
        put(&mut out, image_len, 4);
        out.extend_from_slice(&self.data);
        Ok(out)
    }

    /// Reads a record of exactly one eye and one image.
    pub fn parse(bytes: &[u8]) -> Result<IrisImage, RecordError> {
        let mut r = Reader::new(bytes);
        r.magic(MAGIC, 6)?;
        let total = r.u32("record length")?;
        expect_len("record length", u64::from(total), r.len())?;
        let device_id = r.u16("capture device id")?;
        let eyes = r.u8("number of eyes")?;
        if eyes != 1 {
            return Err(RecordError::Invalid {
                field: "number of eyes",
                value: u64::from(eyes),
            });
        }
        let header = r.u16("record header length")?;
        if usize::from(header) != HEADER {
            return Err(RecordError::Invalid {
                field: "record header length",
                value: u64::from(header),
            });
        }
        let properties = r.u16("image property bit field")?;
        let iris_diameter = r.u16("iris diameter")?;
        let format = match r.u16("image format")? {
            MONO_RAW => IrisFormat::MonoRaw,
            MONO_JPEG => IrisFormat::MonoJpeg,
            MONO_JPEG2000 => IrisFormat::MonoJpeg2000,
            other => {
                return Err(RecordError::Invalid {
                    field: "image format",
                    value: u64::from(other),
                });
            }
        };
        let width = r.u16("raw image width")?;
        let height = r.u16("raw image height")?;
        let depth = r.u8("intensity depth")?;
        if depth != 8 {
            return Err(RecordError::Invalid {
                field: "intensity depth",
                value: u64::from(depth),
            });
        }
        let transformation = r.u8("image transformation")?;
        let mut device = [0u8; 16];
        device.copy_from_slice(r.take(16, "device unique identifier")?);
        let eye = match r.u8("biometric subtype")? {
            1 => Eye::Right,
            2 => Eye::Left,
            other => {
                return Err(RecordError::Invalid {
                    field: "biometric subtype",
                    value: u64::from(other),
                });
            }
        };
        let images = r.u16("number of images")?;
        if images != 1 {
            return Err(RecordError::Invalid {
                field: "number of images",
                value: u64::from(images),
            });
        }
        let image_number = r.u16("image number")?;
        let quality = r.u8("image quality")?;
        let rotation = [r.u16("rotation angle")?, r.u16("rotation uncertainty")?];
        let len = r.u32("image length")?;
        let data = r.take(len as usize, "image data")?.to_vec();
        r.end()?;
        let image = IrisImage {
            eye,
            quality,
            iris_diameter,
            width,
            height,
            format,
            device,
            acquisition: Acquisition {
                device: device_id,
                properties,
                transformation,
                image_number,
                rotation,
            },
            data,
        };
        check(&image)?;
        Ok(image)
    }
}

fn check(img: &IrisImage) -> Result<(), RecordError> {
    check_image(
        "image quality",
        img.quality,
        img.width,
        img.height,
        img.data.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> IrisImage {
        IrisImage {
            eye: Eye::Left,
            quality: 77,
            iris_diameter: 210,
            width: 640,
            height: 480,
            format: IrisFormat::MonoJpeg,
            device: *b"REKAMSIM0001\0\0\0\0",
            acquisition: Acquisition::live_scan(),
            data: vec![0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9],
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let rec = sample();
        let bytes = rec.to_bytes().unwrap();
        assert_eq!(bytes.len(), 45 + 3 + 11 + 7);
        assert_eq!(&bytes[8..12], &(66u32).to_be_bytes());
        assert_eq!(
            bytes[45], 2,
            "left eye subtype right after the 45-byte header"
        );
        assert_eq!(IrisImage::parse(&bytes).unwrap(), rec);
    }

    #[test]
    fn every_truncation_and_extension_is_refused() {
        let bytes = sample().to_bytes().unwrap();
        crate::bytes::assert_exact_length(&bytes, IrisImage::parse);
    }

    #[test]
    fn what_the_device_reported_writes_back_as_it_came() {
        let mut rec = sample();
        rec.acquisition = Acquisition {
            device: 0x0102,
            properties: 0b1010_1010,
            transformation: 1,
            image_number: 7,
            rotation: [90, 3],
        };
        let bytes = rec.to_bytes().unwrap();
        assert_eq!(bytes[12..14], [1, 2], "capture device id");
        let back = IrisImage::parse(&bytes).unwrap();
        assert_eq!(back, rec);
        assert_eq!(back.to_bytes().unwrap(), bytes);
    }
}
