//! The store key: 32 random bytes that SQLCipher uses directly (no passphrase derivation), kept
//! in a file outside the database, readable by the owner only, and wiped from memory on drop.

use crate::{Error, Result};
use std::fs;
use std::io::Write;
use std::path::Path;
use zeroize::Zeroizing;

/// The key that opens a station's database.
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(<redacted>)")
    }
}

impl StoreKey {
    /// A fresh random key from the operating system.
    pub fn generate() -> Result<StoreKey> {
        let mut k = Zeroizing::new([0u8; 32]);
        fill_random(k.as_mut())?;
        Ok(StoreKey(k))
    }

    /// A key from 64 hex digits.
    pub fn from_hex(text: &str) -> Option<StoreKey> {
        let mut k = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), k.as_mut()).ok()?;
        Some(StoreKey(k))
    }

    /// A key from its 32 bytes; `None` for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Option<StoreKey> {
        let mut k = Zeroizing::new([0u8; 32]);
        (bytes.len() == 32).then(|| {
            k.copy_from_slice(bytes);
            StoreKey(k)
        })
    }

    /// The raw key bytes (for key derivation; never log them).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads a key file written by [`StoreKey::write_new`].
    pub fn read(path: &Path) -> Result<StoreKey> {
        let text = read_secret(path)?;
        StoreKey::from_hex(&text).ok_or_else(|| Error::KeyFile {
            path: path.to_owned(),
            problem: "malformed: expected 64 hex digits".to_owned(),
        })
    }

    /// Writes the key to a new file (mode 0600), refusing to overwrite one: a lost key is a
    /// lost database.
    pub fn write_new(&self, path: &Path) -> Result<()> {
        write_secret(path, &Zeroizing::new(hex::encode(*self.0) + "\n"))
    }
}

/// Reads a secret key file: refuses one that others can read.
pub(crate) fn read_secret(path: &Path) -> Result<Zeroizing<String>> {
    let problem = |p: &str| Error::KeyFile {
        path: path.to_owned(),
        problem: p.to_owned(),
    };
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => problem(
            "not found: restore it from the last backup (`rekam restore --from <backup> --keys-only`)",
        ),
        _ => problem(&e.to_string()),
    })?);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|e| problem(&e.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(problem(&format!(
                "readable by others (mode {:o}): run `chmod 600` on it",
                mode & 0o777
            )));
        }
    }
    Ok(text)
}

/// Writes a secret to a new file (mode 0600, synced), refusing to overwrite one (key files;
/// the Dinas's recovery key on the Dinas's machine).
pub fn write_secret(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| Error::KeyFile {
        path: path.to_owned(),
        problem: match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                "already exists: refusing to overwrite a key".to_owned()
            }
            _ => e.to_string(),
        },
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, e))?;
    // The key's name too: a station must not come back from a power cut without the key its
    // database and the data center know.
    crate::durable::sync_parent(path)
}

/// Fills `buf` from the operating system's random source.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::NoRandomness(e.to_string()))
}

/// Creates `dir` (and parents) readable by the owner only, each new name synced.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    crate::durable::create_dir_all(dir, true)
}
