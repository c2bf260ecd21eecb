//! Backups of a station onto an external disk (the SOP's equipment list has one), and the two
//! ways back: the whole station into a new data directory after the database is damaged or the
//! laptop is lost, or only the keys beside a database whose key file is gone.
//!
//! A backup is one directory, `rekam-backup-<station>-<UTC time>/`:
//!
//! - `station.db`: a consistent copy of the database (`VACUUM INTO`), encrypted with the
//!   station's store key like the original;
//! - `keys.sealed`: the store key and the signing key(s), sealed under a passphrase that the
//!   technician keeps apart from the disk (Argon2id, then XChaCha20-Poly1305 with the station
//!   id as associated data), so the disk alone opens nothing;
//! - `keyslots.json`, for a station with key slots: its slots as they are (each wrapped, none
//!   opens without its password or the Dinas's key); such a station's signing key travels
//!   inside `station.db`;
//! - `manifest.json`: the station, the time, what the database held (recordings, audit
//!   entries and the audit chain's head) and the SHA-256 of the other files.
//!
//! It is written under a hidden temporary name and renamed once every file is on the disk, so
//! a backup cut by a pulled disk or a power cut never looks complete. Restoring checks the
//! manifest's hashes before it writes anything, and the restored station's integrity and audit
//! chain before it reports success.

use crate::audit::{AuditEvent, AuditReport};
use crate::clock::Clock;
use crate::durable::sync_dir;
use crate::station::{DB_FILE, Station, StationPaths};
use crate::store::slots::{KeySlots, SLOTS_FILE};
use crate::store::{Store, StoreKey, create_private_dir, fill_random, read_secret, write_secret};
use crate::{Error, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rekam_packet::StationKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The shortest passphrase a backup's keys are sealed under.
pub const MIN_PASSPHRASE: usize = 12;

const FORMAT: &str = "rekam-backup-v1";
const MANIFEST: &str = "manifest.json";
const KEYS: &str = "keys.sealed";
/// Argon2id cost: 64 MiB, 3 passes, one lane (above OWASP's minimum for Argon2id).
const KDF_MEMORY_KIB: u32 = 64 * 1024;
const KDF_PASSES: u32 = 3;

/// What a backup holds, as its `manifest.json` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `rekam-backup-v1`.
    pub format: String,
    /// The station.
    pub station_id: String,
    /// When it was made (RFC 3339, station clock).
    pub created_at: String,
    /// The Rekam version that made it.
    pub rekam_version: String,
    /// The database's schema version.
    pub schema_version: i64,
    /// Recordings in the journal.
    pub recordings: i64,
    /// Audit entries, and the hash of the last one.
    pub audit_entries: i64,
    /// The audit chain's head (hex).
    pub audit_head: String,
    /// Each file of the backup but the manifest: bytes and SHA-256 (hex).
    pub files: BTreeMap<String, FileSum>,
}

/// A file's size and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    /// Bytes.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// The passphrase-sealed keys (`keys.sealed`).
#[derive(Debug, Serialize, Deserialize)]
struct SealedKeys {
    format: String,
    kdf: String,
    memory_kib: u32,
    passes: u32,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// A backup made.
#[derive(Debug, Clone, Serialize)]
pub struct Made {
    /// Its directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

/// What to restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restore {
    /// The database and the keys, into a data directory that holds no station.
    Everything,
    /// Only the keys, beside the database already in the data directory whose key file is
    /// lost: every recording made since the backup is kept.
    KeysOnly,
}

/// A station restored.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    /// The backup's manifest.
    pub manifest: Manifest,
    /// Recordings in the restored station's journal.
    pub recordings: i64,
    /// Audit entries verified (after the integrity check passed: a restore that fails either
    /// is an error, not a `Restored`).
    pub audit_entries: i64,
    /// What became of the station's signing key.
    pub signing_key: SigningKey,
}

/// The signing key after a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum SigningKey {
    /// Restored: the key the data center knows for the station.
    Restored,
    /// The backup holds none (the station had lost it before the backup).
    NotInBackup,
    /// The backup's key was replaced by a rotation after the backup: not restored, since the
    /// data center no longer accepts it (packets sealed with it would be refused). The
    /// recordings are intact and can be drained with `rekam export` (each packet carries its
    /// own signature); syncing and sealing need a new key registered with the data center.
    Replaced {
        /// The key id in the backup.
        in_backup: String,
        /// The key id the data center knows, from the audit log.
        in_use: String,
    },
}

/// Backs `station` up into a new directory under `to`: refuses a passphrase shorter than
/// [`MIN_PASSPHRASE`], a database that fails its integrity check (a backup must not copy the
/// damage over the last good one), and a disk without room for the copy.
pub fn backup(station: &mut Station, to: &Path, passphrase: &str, actor: &str) -> Result<Made> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(Error::WeakPassword(MIN_PASSPHRASE));
    }
    check(station)?;
    let db = station.paths().db();
    let size = fs::metadata(&db).map_err(|e| Error::io(&db, e))?.len();
    let free = crate::disk::space(to)?.free_bytes;
    if free < size.saturating_mul(11) / 10 {
        return Err(Error::io(
            to,
            std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                format!(
                    "{:.1} MB free, the backup needs {:.1} MB: use a larger disk or free space",
                    free as f64 / 1e6,
                    size as f64 / 1e6
                ),
            ),
        ));
    }
    let station_id = station.identity().station_id.clone();
    let now = station
        .store()
        .clock()
        .now()
        .to_offset(time::UtcOffset::UTC);
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(|e| Error::io(to, std::io::Error::other(e)))?;
    let name = format!("rekam-backup-{station_id}-{stamp}");
    let (dir, partial) = (to.join(&name), to.join(format!(".{name}.partial")));
    if dir.exists() {
        return Err(Error::io(
            &dir,
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a backup of this second exists",
            ),
        ));
    }
    let status = station.status()?;

    if partial.exists() {
        // A backup cut earlier, never renamed: not a backup.
        fs::remove_dir_all(&partial).map_err(|e| Error::io(&partial, e))?;
    }
    create_private_dir(&partial)?;
    station.store().copy_to(&partial.join(DB_FILE))?;
    let sealed = station.is_sealed_station();
    let keys = if sealed {
        let slots = KeySlots::path(&station.paths().data_dir);
        let bytes = fs::read(&slots).map_err(|e| Error::io(&slots, e))?;
        write_synced(&partial.join(SLOTS_FILE), &bytes)?;
        Keys {
            store: Zeroizing::new(hex::encode(station.store_key().bytes()) + "\n"),
            signing: None,
            next_signing: None,
        }
    } else {
        read_keys(station.paths())?
    };
    let keys = seal_keys(&keys, passphrase, &station_id)?;
    write_synced(&partial.join(KEYS), keys.as_bytes())?;
    let mut files = BTreeMap::new();
    for &file in backup_files(sealed) {
        files.insert(file.to_owned(), sum(&partial.join(file))?);
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        station_id,
        created_at: crate::clock::rfc3339(now),
        rekam_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version: status.schema_version,
        recordings: status.journal.entries,
        audit_entries: status.audit_entries,
        audit_head: status.audit_head,
        files,
    };
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::io(&partial, e.into()))?;
    write_synced(&partial.join(MANIFEST), &text)?;
    sync_dir(&partial)?;
    fs::rename(&partial, &dir).map_err(|e| Error::io(&dir, e))?;
    sync_dir(to)?;
    // Audited once the backup is complete, in the station (the copy ends before it).
    station.audit(
        &AuditEvent::new(actor, "station.backup", &name).with_detail(serde_json::json!({
            "to": to.display().to_string(),
            "recordings": manifest.recordings,
            "audit_head": manifest.audit_head,
        })),
    )?;
    tracing::info!(backup = %dir.display(), recordings = manifest.recordings, "backup made");
    Ok(Made { dir, manifest })
}

/// Checks the station's database: SQLite's integrity check of every page (each also
/// authenticated by SQLCipher as it is read) and the audit chain. Damage of either kind is
/// [`Error::DatabaseDamaged`].
pub fn check(station: &Station) -> Result<AuditReport> {
    let db = station.paths().db();
    damaged_unless_ok(&db, station.store().integrity_check()?)?;
    let audit = station.verify_audit()?;
    if let Some(broken) = &audit.first_break {
        return Err(Error::DatabaseDamaged {
            path: db,
            problem: format!("the audit chain is broken: {broken:?}"),
        });
    }
    Ok(audit)
}

/// Reads a backup's manifest and checks every file against it.
pub fn verify(dir: &Path) -> Result<Manifest> {
    let damaged = |problem: String| Error::BackupDamaged {
        path: dir.to_owned(),
        problem,
    };
    let text = fs::read(dir.join(MANIFEST)).map_err(|e| damaged(format!("{MANIFEST}: {e}")))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| damaged(format!("{MANIFEST}: {e}")))?;
    if manifest.format != FORMAT {
        return Err(damaged(format!(
            "format {:?}, not {FORMAT}",
            manifest.format
        )));
    }
    for &file in backup_files(manifest.files.contains_key(SLOTS_FILE)) {
        let expected = manifest
            .files
            .get(file)
            .ok_or_else(|| damaged(format!("{file} is not in the manifest")))?;
        let found = sum(&dir.join(file)).map_err(|e| damaged(format!("{file}: {e}")))?;
        if &found != expected {
            return Err(damaged(format!("{file} differs from the manifest")));
        }
    }
    Ok(manifest)
}

/// Restores the backup in `from` into `paths` (see [`Restore`]), then opens the station and
/// checks its integrity and audit chain. Nothing is written before the backup verifies and
/// the passphrase opens its keys; nothing existing is overwritten.
pub fn restore(
    from: &Path,
    paths: &StationPaths,
    passphrase: &str,
    what: Restore,
    actor: &str,
    clock: Arc<dyn Clock>,
) -> Result<Restored> {
    let manifest = verify(from)?;
    let mut keys = open_keys(from, passphrase, &manifest.station_id)?;
    if manifest.files.contains_key(SLOTS_FILE) {
        return restore_sealed(from, paths, &keys, manifest, what, actor, clock);
    }
    let mut signing_key = if keys.signing.is_some() {
        SigningKey::Restored
    } else {
        SigningKey::NotInBackup
    };
    let db = paths.db();
    let signing = paths.signing_key_file();
    match what {
        Restore::Everything => {
            if db.exists() {
                return Err(Error::AlreadyInitialised(paths.data_dir.clone()));
            }
            refuse_existing(&paths.key_file)?;
            refuse_existing(&signing)?;
            restore_db(from, paths, || write_keys(&keys, paths))?;
        }
        Restore::KeysOnly => {
            if !db.exists() {
                return Err(Error::NotInitialised(paths.data_dir.clone()));
            }
            refuse_existing(&paths.key_file)?;
            let key = StoreKey::from_hex(&keys.store).ok_or_else(|| Error::BackupDamaged {
                path: from.to_owned(),
                problem: "the sealed store key is malformed".into(),
            })?;
            // The backup's key must open this database before anything is written.
            let store = Store::open(&db, &key, clock.clone())?;
            signing_key = current_signing_key(&mut keys, &store)?;
            drop(store);
            write_keys(&keys, paths)?;
        }
    }
    let station = Station::open(paths.clone(), clock)?;
    restored(station, from, manifest, what, actor, signing_key)
}

/// Checks the restored station's integrity and audit chain, audits the restore, and says what
/// came back.
fn restored(
    mut station: Station,
    from: &Path,
    manifest: Manifest,
    what: Restore,
    actor: &str,
    signing_key: SigningKey,
) -> Result<Restored> {
    let audit = check(&station)?;
    station.audit(
        &AuditEvent::new(actor, "station.restore", &manifest.created_at).with_detail(
            serde_json::json!({
                "from": from.display().to_string(),
                "keys_only": what == Restore::KeysOnly,
                "key_slots": station.is_sealed_station(),
            }),
        ),
    )?;
    Ok(Restored {
        recordings: station.store().journal_stats()?.entries,
        audit_entries: audit.entries,
        signing_key,
        manifest,
    })
}

/// Copies the backup's database into `paths` under a temporary name, synced; then `keys`
/// writes what opens it, and only then is the database renamed into place: a station never
/// appears without its keys.
fn restore_db(from: &Path, paths: &StationPaths, keys: impl FnOnce() -> Result<()>) -> Result<()> {
    create_private_dir(&paths.data_dir)?;
    let partial = paths.data_dir.join(format!("{DB_FILE}.restoring"));
    let _ = fs::remove_file(&partial);
    fs::copy(from.join(DB_FILE), &partial).map_err(|e| Error::io(&partial, e))?;
    fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(&partial, e))?;
    keys()?;
    let db = paths.db();
    fs::rename(&partial, &db).map_err(|e| Error::io(&db, e))?;
    sync_dir(&paths.data_dir)
}

/// The files a backup holds besides its manifest.
fn backup_files(sealed: bool) -> &'static [&'static str] {
    if sealed {
        &[DB_FILE, KEYS, SLOTS_FILE]
    } else {
        &[DB_FILE, KEYS]
    }
}

/// [`restore`] of a station with key slots: the slots come back as they were at the backup
/// (the signing keys are inside the database), and the store key from `keys.sealed` opens the
/// database to check it. No key file is written.
fn restore_sealed(
    from: &Path,
    paths: &StationPaths,
    keys: &Keys,
    manifest: Manifest,
    what: Restore,
    actor: &str,
    clock: Arc<dyn Clock>,
) -> Result<Restored> {
    let key = StoreKey::from_hex(&keys.store).ok_or_else(|| Error::BackupDamaged {
        path: from.to_owned(),
        problem: "the sealed store key is malformed".into(),
    })?;
    let (db, slots) = (paths.db(), KeySlots::path(&paths.data_dir));
    let slots_bytes = fs::read(from.join(SLOTS_FILE)).map_err(|e| Error::io(from, e))?;
    if slots.exists() {
        return Err(Error::KeyFile {
            path: slots,
            problem:
                "already exists: refusing to overwrite the station's key slots; move it aside first"
                    .into(),
        });
    }
    match what {
        Restore::Everything => {
            if db.exists() {
                return Err(Error::AlreadyInitialised(paths.data_dir.clone()));
            }
            restore_db(from, paths, || {
                crate::durable::replace_file(&slots, &slots_bytes, true)
            })?;
        }
        Restore::KeysOnly => {
            if !db.exists() {
                return Err(Error::NotInitialised(paths.data_dir.clone()));
            }
            // The backup's key must open this database (no re-key since) before anything
            // is written.
            drop(Store::open(&db, &key, clock.clone())?);
            crate::durable::replace_file(&slots, &slots_bytes, true)?;
        }
    }
    let station = Station::open_with_key(paths.clone(), key, clock)?;
    let signing_key = if station.signing_key().is_ok() {
        SigningKey::Restored
    } else {
        SigningKey::NotInBackup
    };
    restored(station, from, manifest, what, actor, signing_key)
}

/// Which of the backup's signing keys is the one the data center knows now, as the database
/// (newer than the backup) records: a rotation finished after the backup makes the backup's
/// pending key the current one, and a rotation started after it leaves no key in the backup
/// that the data center would accept. `keys` keeps only what is to be written.
fn current_signing_key(keys: &mut Keys, store: &Store) -> Result<SigningKey> {
    let Some(in_use) = Station::registered_key_id(store)? else {
        // Not registered: no data center knows a key yet, any is as good.
        return Ok(if keys.signing.is_some() {
            SigningKey::Restored
        } else {
            SigningKey::NotInBackup
        });
    };
    let id = |text: &Option<Zeroizing<String>>| {
        text.as_ref()
            .and_then(|t| StationKey::from_hex(t.trim()).ok())
            .map(|k| k.id().to_string())
    };
    let (signing, next) = (id(&keys.signing), id(&keys.next_signing));
    if signing.as_deref() == Some(in_use.as_str()) {
        return Ok(SigningKey::Restored);
    }
    let in_backup = signing.or(next.clone()).unwrap_or_default();
    if next.as_deref() == Some(in_use.as_str()) {
        keys.signing = keys.next_signing.take();
        return Ok(SigningKey::Restored);
    }
    keys.signing = None;
    keys.next_signing = None;
    Ok(if in_backup.is_empty() {
        SigningKey::NotInBackup
    } else {
        SigningKey::Replaced { in_backup, in_use }
    })
}

/// The keys a backup carries, as the text of their files (wiped when dropped).
struct Keys {
    store: Zeroizing<String>,
    signing: Option<Zeroizing<String>>,
    next_signing: Option<Zeroizing<String>>,
}

fn read_keys(paths: &StationPaths) -> Result<Keys> {
    let optional = |p: PathBuf| -> Result<Option<Zeroizing<String>>> {
        if p.exists() {
            Ok(Some(read_secret(&p)?))
        } else {
            Ok(None)
        }
    };
    Ok(Keys {
        store: read_secret(&paths.key_file)?,
        signing: optional(paths.signing_key_file())?,
        next_signing: optional(paths.next_signing_key_file())?,
    })
}

fn write_keys(keys: &Keys, paths: &StationPaths) -> Result<()> {
    write_secret(&paths.key_file, &keys.store)?;
    for (text, file) in [
        (&keys.signing, paths.signing_key_file()),
        (&keys.next_signing, paths.next_signing_key_file()),
    ] {
        if let Some(text) = text
            && !file.exists()
        {
            write_secret(&file, text)?;
        }
    }
    Ok(())
}

/// The keys as lines `<name> <text>`: a form with no copies left behind by a serializer.
fn keys_text(keys: &Keys) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    for (name, value) in [
        ("store", Some(&keys.store)),
        ("signing", keys.signing.as_ref()),
        ("next-signing", keys.next_signing.as_ref()),
    ] {
        if let Some(v) = value {
            text.push_str(name);
            text.push(' ');
            text.push_str(v.trim());
            text.push('\n');
        }
    }
    text
}

fn parse_keys(text: &str) -> Option<Keys> {
    let mut keys = Keys {
        store: Zeroizing::new(String::new()),
        signing: None,
        next_signing: None,
    };
    for line in text.lines() {
        let (name, value) = line.split_once(' ')?;
        let value = Zeroizing::new(format!("{value}\n"));
        match name {
            "store" => keys.store = value,
            "signing" => keys.signing = Some(value),
            "next-signing" => keys.next_signing = Some(value),
            _ => return None,
        }
    }
    (!keys.store.is_empty()).then_some(keys)
}

fn cipher(
    passphrase: &str,
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
) -> Result<XChaCha20Poly1305> {
    let params = argon2::Params::new(memory_kib, passes, 1, Some(32))
        .map_err(|e| Error::io("argon2", std::io::Error::other(e.to_string())))?;
    let mut key = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| Error::io("argon2", std::io::Error::other(e.to_string())))?;
    Ok(XChaCha20Poly1305::new(key.as_ref().into()))
}

fn seal_keys(keys: &Keys, passphrase: &str, station_id: &str) -> Result<String> {
    let (mut salt, mut nonce) = ([0u8; 16], [0u8; 24]);
    fill_random(&mut salt)?;
    fill_random(&mut nonce)?;
    let text = keys_text(keys);
    let ciphertext = cipher(passphrase, &salt, KDF_MEMORY_KIB, KDF_PASSES)?
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: text.as_bytes(),
                aad: station_id.as_bytes(),
            },
        )
        .map_err(|_| Error::io(KEYS, std::io::Error::other("sealing failed")))?;
    let sealed = SealedKeys {
        format: FORMAT.to_owned(),
        kdf: "argon2id".to_owned(),
        memory_kib: KDF_MEMORY_KIB,
        passes: KDF_PASSES,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    };
    serde_json::to_string_pretty(&sealed).map_err(|e| Error::io(KEYS, e.into()))
}

fn open_keys(dir: &Path, passphrase: &str, station_id: &str) -> Result<Keys> {
    let damaged = |problem: &str| Error::BackupDamaged {
        path: dir.to_owned(),
        problem: format!("{KEYS}: {problem}"),
    };
    let text = fs::read(dir.join(KEYS)).map_err(|e| damaged(&e.to_string()))?;
    let sealed: SealedKeys = serde_json::from_slice(&text).map_err(|e| damaged(&e.to_string()))?;
    let bytes = |h: &str| hex::decode(h).map_err(|_| damaged("not hex"));
    let (salt, nonce, ciphertext) = (
        bytes(&sealed.salt)?,
        bytes(&sealed.nonce)?,
        bytes(&sealed.ciphertext)?,
    );
    if sealed.kdf != "argon2id" || nonce.len() != 24 || sealed.memory_kib > 4 * 1024 * 1024 {
        return Err(damaged("unknown key derivation"));
    }
    let plain = Zeroizing::new(
        cipher(passphrase, &salt, sealed.memory_kib, sealed.passes)?
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: station_id.as_bytes(),
                },
            )
            .map_err(|_| Error::BackupPassphrase(dir.to_owned()))?,
    );
    std::str::from_utf8(&plain)
        .ok()
        .and_then(parse_keys)
        .ok_or_else(|| damaged("the sealed keys are malformed"))
}

fn damaged_unless_ok(db: &Path, integrity: Vec<String>) -> Result<()> {
    if integrity == ["ok"] {
        return Ok(());
    }
    Err(Error::DatabaseDamaged {
        path: db.to_owned(),
        problem: integrity.into_iter().take(3).collect::<Vec<_>>().join("; "),
    })
}

fn refuse_existing(key: &Path) -> Result<()> {
    if key.exists() {
        return Err(Error::KeyFile {
            path: key.to_owned(),
            problem: "already exists: refusing to overwrite a key; move it aside first".into(),
        });
    }
    Ok(())
}

fn sum(path: &Path) -> Result<FileSum> {
    use sha2::Digest;
    let mut file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = sha2::Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(FileSum {
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(path, e))
}
