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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_of_a_real_directory_is_within_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let s = space(dir.path()).unwrap();
        assert!(s.total_bytes > 0 && s.free_bytes <= s.total_bytes, "{s:?}");
        assert!(space(&dir.path().join("absent")).is_err());
    }
}
