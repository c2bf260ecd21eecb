//! What makes a change to the file system survive a power cut, or a USB disk pulled out: a
//! file's bytes are durable once the file is synced, its name once its directory is, and a new
//! directory's name once its parent is. Used wherever the station writes something it then
//! reports done (keys, exports, backups); the database does the same for itself (SQLite syncs
//! its files, and its directory when it creates its log). The power-cut campaign
//! (`simulators/tests/crash.rs`) runs the station on a disk that keeps nothing else.

use crate::{Error, Result};
use std::path::Path;

/// Syncs a directory: the names in it are on the disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Syncs the directory holding `path`: its name is on the disk.
pub(crate) fn sync_parent(path: &Path) -> Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    sync_dir(parent)
}

/// Writes `bytes` to `path` through a synced `<path>.part` (readable by the owner only) and a
/// rename over `path`: a reader sees the old file or the new one, never half of either. With
/// `durable`, the directory is synced too, so the rename itself is on the disk.
pub(crate) fn replace_file(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    use std::io::Write;
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    let part = std::path::PathBuf::from(part);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&part).map_err(|e| Error::io(&part, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(&part, e))?;
    std::fs::rename(&part, path).map_err(|e| Error::io(path, e))?;
    if durable {
        sync_parent(path)?;
    }
    Ok(())
}

/// Creates `dir` and its missing parents (readable by the owner only with `private`), each new
/// name synced into its parent before the next is made.
pub(crate) fn create_dir_all(dir: &Path, private: bool) -> Result<()> {
    let mut missing = Vec::new();
    let mut at = dir;
    while !at.as_os_str().is_empty() && !at.is_dir() {
        missing.push(at);
        match at.parent() {
            Some(parent) => at = parent,
            None => break,
        }
    }
    for new in missing.into_iter().rev() {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        #[cfg(not(unix))]
        let _ = private;
        match builder.create(new) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && new.is_dir() => {}
            Err(e) => return Err(Error::io(new, e)),
        }
        sync_parent(new)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_every_missing_parent_and_accepts_what_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        create_dir_all(&deep, true).unwrap();
        assert!(deep.is_dir());
        create_dir_all(&deep, true).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(tmp.path().join("a"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        std::fs::write(tmp.path().join("file"), b"x").unwrap();
        assert!(create_dir_all(&tmp.path().join("file/sub"), false).is_err());
    }
}
