//! Disks as the station sees them: free space, and the removable disks a technician can
//! export to (the SOP's equipment list has an external disk).

use crate::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Space on the filesystem holding a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Space {
    /// Bytes an unprivileged writer may still use.
    pub free_bytes: u64,
    /// The filesystem's size.
    pub total_bytes: u64,
}

/// Free and total space of the filesystem holding `path`.
pub fn space(path: &Path) -> Result<Space> {
    let s = rustix::fs::statvfs(path).map_err(|e| Error::io(path, e.into()))?;
    Ok(Space {
        free_bytes: s.f_bavail.saturating_mul(s.f_frsize),
        total_bytes: s.f_blocks.saturating_mul(s.f_frsize),
    })
}

/// A place an export can go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Target {
    /// The mount point.
    pub path: PathBuf,
    /// Its space.
    #[serde(flatten)]
    pub space: Space,
}

/// Mounted removable disks: what the desktop mounts under `/media/<user>/` and
/// `/run/media/<user>/`, and what a technician mounts by hand under `/mnt/`.
pub fn removable_targets() -> Vec<Target> {
    let children = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut mounts: Vec<PathBuf> = ["/media", "/run/media"]
        .iter()
        .flat_map(|root| children(Path::new(root)))
        .flat_map(|user| children(&user))
        .chain(children(Path::new("/mnt")))
        .collect();
    mounts.sort();
    mounts
        .into_iter()
        .filter_map(|path| space(&path).ok().map(|space| Target { path, space }))
        .collect()
}

/// The Dinas's population extracts on the disks under `roots` (each root and the folders just
/// under it), plain or sealed to a station, known by their first bytes, not their names;
/// sorted.
pub fn extract_files(roots: &[PathBuf]) -> Vec<PathBuf> {
    let files = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    let is_extract = |path: &Path| {
        use std::io::Read;
        let mut magic = [0u8; 8];
        path.is_file()
            && std::fs::File::open(path)
                .and_then(|mut f| f.read_exact(&mut magic))
                .is_ok()
            && (&magic == crate::domain::population::MAGIC
                || &magic == rekam_packet::population::SEALED_MAGIC)
    };
    let mut found: Vec<PathBuf> = roots
        .iter()
        .flat_map(|root| {
            let below = files(root);
            let deeper: Vec<PathBuf> = below
                .iter()
                .filter(|p| p.is_dir())
                .flat_map(|d| files(d))
                .collect();
            below.into_iter().chain(deeper)
        })
        .filter(|p| is_extract(p))
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_are_found_by_their_first_bytes_one_folder_deep() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("dinas");
        std::fs::create_dir(&sub).unwrap();
        std::fs::create_dir(sub.join("deeper")).unwrap();
        let mut extract = crate::domain::population::MAGIC.to_vec();
        extract.extend_from_slice(b"\x01 the rest");
        std::fs::write(sub.join("ekstrak-32.73.01.bin"), &extract).unwrap();
        let mut sealed = rekam_packet::population::SEALED_MAGIC.to_vec();
        sealed.extend_from_slice(b"\x01 for a station");
        std::fs::write(sub.join("ekstrak-sealed.rkp"), &sealed).unwrap();
        std::fs::write(sub.join("deeper").join("too-deep.rkp"), &extract).unwrap();
        std::fs::write(dir.path().join("ekstrak.rkp"), b"REKAM").unwrap();
        std::fs::write(dir.path().join("receipts.json"), b"{}").unwrap();
        assert_eq!(
            extract_files(&[dir.path().to_owned()]),
            [
                sub.join("ekstrak-32.73.01.bin"),
                sub.join("ekstrak-sealed.rkp")
            ]
        );
    }

    #[test]
    fn space_of_a_real_directory_is_within_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let s = space(dir.path()).unwrap();
        assert!(s.total_bytes > 0 && s.free_bytes <= s.total_bytes, "{s:?}");
        assert!(space(&dir.path().join("absent")).is_err());
    }
}
