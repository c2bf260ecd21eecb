//! Minutiae extraction: NIST MINDTCT (the `fprint-mindtct` port, in memory, no files), turned
//! into ISO/IEC 19794-2 conventions and cut to the most reliable minutiae.

use super::{FingerTemplate, MAX_MINUTIAE, Minutia};
use crate::BioError;
use rekam_records::finger::{Compression, FingerImage};
use rekam_records::minutiae::MinutiaKind;

/// An 8-bit grey finger image, row-major, 0 black (ridge) to 255 white.
#[derive(Debug, Clone, Copy)]
pub struct Gray<'a> {
    /// Pixels.
    pub data: &'a [u8],
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
}

/// Decodes the image of an ISO/IEC 19794-4 record (PNG or raw, 500 ppi).
pub fn decode(record: &FingerImage) -> Result<(Vec<u8>, usize, usize), BioError> {
    let ppi = record.acquisition.ppi();
    if ppi != Some(500) {
        return Err(BioError::Image(match ppi {
            Some(ppi) => format!("{ppi} ppi; the engine reads 500 ppi"),
            None => "pixels not square; the engine reads 500 ppi".into(),
        }));
    }
    let (w, h) = (usize::from(record.width), usize::from(record.height));
    match record.compression {
        Compression::Raw if record.data.len() == w * h => Ok((record.data.clone(), w, h)),
        Compression::Png => {
            let img = image::load_from_memory_with_format(&record.data, image::ImageFormat::Png)
                .map_err(|e| BioError::Image(e.to_string()))?
                .into_luma8();
            if img.width() as usize != w || img.height() as usize != h {
                return Err(BioError::Image("image size differs from its record".into()));
            }
            Ok((img.into_raw(), w, h))
        }
        other => Err(BioError::Image(format!("{other:?} images are not read"))),
    }
}

/// Extracts a template from a grey image at 500 ppi.
pub fn extract(img: Gray<'_>, position: u8) -> Result<FingerTemplate, BioError> {
    let gray = fprint_mindtct::GrayImage::new(img.data, img.width, img.height, 500)
        .map_err(|e| BioError::Image(format!("{e:?}")))?;
    Ok(from_mindtct(
        &fprint_mindtct::detect_minutiae(gray),
        img.width,
        img.height,
        position,
    ))
}

/// A template from MINDTCT's own output (origin bottom left, degrees).
pub fn from_mindtct(
    detected: &[fprint_mindtct::Minutia],
    width: usize,
    height: usize,
    position: u8,
) -> FingerTemplate {
    let h = height as i32;
    let mut found: Vec<Minutia> = detected
        .iter()
        .filter(|m| m.x >= 0 && m.y >= 0 && m.y < h)
        .map(|m| Minutia {
            kind: MinutiaKind::Other,
            x: m.x as u16,
            // MINDTCT counts rows from the bottom; ISO/IEC 19794-2 from the top. The angle is
            // counter-clockwise in both, as seen on the image.
            y: (h - 1 - m.y) as u16,
            angle: ((m.theta.rem_euclid(360) * 256 + 180) / 360 % 256) as u8,
            quality: m.quality.clamp(0, 100) as u8,
        })
        .collect();
    // Most reliable first; ties in a fixed order so a template is a function of the image.
    found.sort_by(|a, b| {
        b.quality
            .cmp(&a.quality)
            .then(a.y.cmp(&b.y))
            .then(a.x.cmp(&b.x))
    });
    found.truncate(MAX_MINUTIAE);
    FingerTemplate {
        position,
        width: width as u16,
        height: height as u16,
        quality: 0,
        minutiae: found,
    }
}
