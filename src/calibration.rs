//! Reading a calibration set: the captures a Dinas takes of its own volunteers on its own
//! scanners before go-live, one 500 ppi grey PNG per finger and session, named
//! `<person>_<finger>_<session>.png` (finger: the ISO/IEC 19794-4 position, 1 right thumb to
//! 10 left little). [`rekam_bio::calibration::evaluate`] then says what the shipped threshold
//! does on them; `rekam calibrate` prints it. The images are read and dropped: nothing of them
//! is written anywhere.

use crate::{Error, Result};
pub use rekam_bio::calibration::{Calibration, MAX_FNMR, TARGET_FMR, Verdict};
use rekam_bio::calibration::{Capture, evaluate};
use rekam_bio::finger::extract::{Gray, extract};
use rekam_bio::finger::quality::assess;
use std::path::Path;

/// A calibration, and the files of the folder that were not read.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibrated {
    /// What the threshold does.
    pub result: Calibration,
    /// Names of the files that are not `.png` captures (a scanner tool's `.bmp`, the minutes),
    /// so the technician sees what was left out.
    pub skipped: Vec<String>,
}

/// What the shipped finger threshold does on the captures in `dir`, leaving out those the
/// quality gate scores below `gate`.
pub fn calibrate(dir: &Path, gate: u8, progress: impl FnMut(usize, usize)) -> Result<Calibrated> {
    let (captures, skipped) = read_captures(dir, progress)?;
    Ok(Calibrated {
        result: evaluate(&captures, rekam_bio::verify::THRESHOLD, gate),
        skipped,
    })
}

/// Reads every `.png` capture in `dir`, in name order, and names the other files.
/// `progress(done, total)` after each capture.
pub fn read_captures(
    dir: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<(Vec<Capture>, Vec<String>)> {
    let entries: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .map(|entry| entry.map(|e| e.path()).map_err(|e| Error::io(dir, e)))
        .collect::<Result<Vec<_>>>()?;
    let (mut files, others): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .partition(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")));
    if files.is_empty() {
        return Err(Error::CalibrationEmpty(dir.to_path_buf()));
    }
    files.sort();
    let mut skipped: Vec<String> = others
        .iter()
        .filter_map(|p| p.file_name())
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    skipped.sort();
    let total = files.len();
    let mut out = Vec::with_capacity(total);
    for (i, path) in files.iter().enumerate() {
        out.push(read_one(path)?);
        progress(i + 1, total);
    }
    Ok((out, skipped))
}

/// `relawan07_2_hari1.png` -> ("relawan07", 2, "hari1").
fn parse_name(file: &str) -> Option<(String, u8, String)> {
    let stem = file.rsplit_once('.')?.0;
    let mut parts = stem.split('_');
    let (person, finger, session) = (parts.next()?, parts.next()?, parts.next()?);
    let finger: u8 = finger.parse().ok().filter(|f| (1..=10).contains(f))?;
    (parts.next().is_none() && !person.is_empty() && !session.is_empty())
        .then(|| (person.to_string(), finger, session.to_string()))
}

fn read_one(path: &Path) -> Result<Capture> {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (person, finger, session) =
        parse_name(&file).ok_or_else(|| Error::CalibrationName { file: file.clone() })?;
    let unreadable = |reason: String| Error::CalibrationImage {
        file: file.clone(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .map_err(|e| unreadable(e.to_string()))?
        .into_luma8();
    let (width, height) = (img.width() as usize, img.height() as usize);
    let gray = Gray {
        data: img.as_raw(),
        width,
        height,
    };
    let template = extract(gray, finger).map_err(|e| unreadable(e.to_string()))?;
    let quality = assess(gray, &template).score;
    Ok(Capture {
        person,
        session,
        template,
        quality,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_name;

    #[test]
    fn names_say_person_finger_and_session() {
        assert_eq!(
            parse_name("relawan07_2_hari1.png"),
            Some(("relawan07".into(), 2, "hari1".into()))
        );
        for bad in [
            "relawan07_11_hari1.png",
            "relawan07_2.png",
            "relawan07_x_hari1.png",
            "_2_hari1.png",
            "a_2_b_c.png",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }
}
