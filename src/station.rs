//! A station: its data directory, its key and its store, and the operations the CLI and the
//! desktop shell call on it.
//!
//! Data directory layout:
//!
//! ```text
//! <data-dir>/station.db        encrypted SQLite (SQLCipher), with -wal and -shm beside it
//! <data-dir>/keys/store.key    the store key (mode 0600) unless a key file is given elsewhere
//! <keys>/station-signing.key    the station's Ed25519 signing key (0600), beside the store key
//! ```
//!
//! The station's signing key signs packets and requests to the data center; the data center's
//! public identity (its packet and receipt keys) is pinned in the encrypted store at
//! registration. Nothing the station holds can open a sealed packet.

use crate::audit::{AuditEntry, AuditEvent, AuditReport};
use crate::clock::{Clock, rfc3339};
use crate::domain::region::{
    ATTRIBUTION, EmbeddedRegions, RegionCode, RegionDirectory, RegionLevel,
};
use crate::packet::{DEFAULT_BUDGET, PacketId, Recording};
use crate::store::slots::{KeySlots, PASSWORD_KDF, RecoveryKey, SlotInfo, SlotKind};
use crate::store::{
    IndexRow, JournalEntry, JournalStats, NewEnrollment, NewVisit, StationRow, Store, StoreKey,
    create_private_dir, fill_random, read_secret, write_secret,
};
use crate::{Error, Result};
use rekam_packet::envelope::{Header, SealedPacket};
use rekam_packet::protocol::{KeyRotation, Registration};
use rekam_packet::{DcIdentity, StationKey};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// Free space a recording needs on the data directory's disk before it starts: room for a
/// few packets at the budget, the WAL they pass through and the visit's rows, with margin. A
/// recording is refused at its start rather than after ten fingers and two irises.
pub const RECORDING_RESERVE: u64 = 4 * DEFAULT_BUDGET as u64 + 24 * 1024 * 1024;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "station.db";

/// Where a station's files are.
#[derive(Debug, Clone)]
pub struct StationPaths {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The key file.
    pub key_file: PathBuf,
}

impl StationPaths {
    /// The paths for `data_dir`, with the key in `key_file` or, by default, in
    /// `<data-dir>/keys/store.key`.
    pub fn new(data_dir: impl Into<PathBuf>, key_file: Option<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        let key_file = key_file.unwrap_or_else(|| data_dir.join("keys").join("store.key"));
        StationPaths { data_dir, key_file }
    }

    /// The database file.
    pub fn db(&self) -> PathBuf {
        self.data_dir.join(DB_FILE)
    }

    /// The station's signing key, beside the store key.
    pub fn signing_key_file(&self) -> PathBuf {
        self.key_dir().join("station-signing.key")
    }

    /// A new signing key waiting for the data center to accept a rotation.
    pub(crate) fn next_signing_key_file(&self) -> PathBuf {
        self.key_dir().join("station-signing.key.next")
    }

    fn key_dir(&self) -> PathBuf {
        self.key_file
            .parent()
            .map(|p| p.to_owned())
            .unwrap_or_else(|| self.data_dir.join("keys"))
    }

    /// The platform's data directory for Rekam (`~/.local/share/rekam` on Linux).
    pub fn default_data_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("id", "Rekam", "rekam").map(|d| d.data_dir().to_owned())
    }
}

/// How long a recording the data center answered for good stays whole at the station before
/// its packet and biometric rows are purged: 30 days.
pub const RETENTION: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// What a purge did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Recordings purged.
    pub recordings: usize,
    /// Bytes of their sealed packets.
    pub bytes: u64,
}

/// What `init` needs.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Where.
    pub paths: StationPaths,
    /// The station id; generated from the kecamatan code when absent.
    pub station_id: Option<String>,
    /// The kecamatan the station serves.
    pub kecamatan: RegionCode,
    /// Who sets it up (for the audit log).
    pub actor: String,
}

/// How a station's store is opened.
pub enum Unlock<'a> {
    /// With the key file ([`StationPaths::key_file`]): a station set up without key slots (a
    /// test, a key on removable media, a station from before slots).
    KeyFile,
    /// With an operator's password slot.
    Password {
        /// The operator.
        operator_id: &'a str,
        /// Their password.
        password: &'a str,
    },
    /// With the Dinas's recovery key.
    Recovery(&'a RecoveryKey),
    /// With this machine's TPM (the TPM slot), for a fixed counter's unattended sync: through
    /// the TCTI given, or the one the slot was made with.
    Tpm {
        /// How to reach the TPM, when not as at enrollment.
        tcti: Option<&'a str>,
    },
}

impl std::fmt::Debug for Unlock<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unlock::KeyFile => f.write_str("KeyFile"),
            Unlock::Password { operator_id, .. } => write!(f, "Password({operator_id})"),
            Unlock::Recovery(k) => write!(f, "Recovery({})", k.id()),
            Unlock::Tpm { .. } => f.write_str("Tpm"),
        }
    }
}

/// The first way into a station set up with key slots.
#[derive(Debug)]
pub struct FirstSlot<'a> {
    /// The first operator (a supervisor or the Dinas's administrator), added right after.
    pub operator_id: &'a str,
    /// Their password.
    pub password: &'a str,
    /// The Dinas's recovery public key, if the Dinas gave one (strongly advised: without it,
    /// a station whose operators all forget their passwords opens only from a backup).
    pub recovery: Option<[u8; 32]>,
}

/// An open station.
#[derive(Debug)]
pub struct Station {
    paths: StationPaths,
    store: Store,
    row: StationRow,
    /// The store key, kept while the station is open to put it in new slots.
    key: StoreKey,
    /// Whether the store key is in key slots (and the signing key inside the store).
    sealed: bool,
}

/// Secret names inside the store.
const SIGNING: &str = "signing";
const SIGNING_NEXT: &str = "signing.next";

impl Station {
    /// Sets up a new station: a private data directory, a fresh key, an encrypted database
    /// with the region master data, and the first audit entry. Refuses a directory that already
    /// holds a station. The store key is written to [`StationPaths::key_file`]: for tests and
    /// a key kept on removable media; a counter's station is set up with
    /// [`Station::init_sealed`].
    pub fn init(opts: InitOptions, clock: Arc<dyn Clock>) -> Result<Station> {
        Station::create(opts, None, clock)
    }

    /// Sets up a new station whose store key is never written in clear: it lives in key
    /// slots (`keyslots.json`), the first for `first`'s password (and one for the Dinas's
    /// recovery key), and the signing key lives inside the store. Add `first` as an operator
    /// next; until then the password opens the store but no one can log in.
    pub fn init_sealed(
        opts: InitOptions,
        first: &FirstSlot<'_>,
        clock: Arc<dyn Clock>,
    ) -> Result<Station> {
        Station::create(opts, Some(first), clock)
    }

    fn create(
        opts: InitOptions,
        first: Option<&FirstSlot<'_>>,
        clock: Arc<dyn Clock>,
    ) -> Result<Station> {
        let paths = opts.paths;
        if paths.db().exists() {
            return Err(Error::AlreadyInitialised(paths.data_dir.clone()));
        }
        if opts.kecamatan.level() != RegionLevel::Kecamatan {
            return Err(Error::StationRegionLevel(opts.kecamatan.dotted()));
        }
        let regions = EmbeddedRegions::index()?;
        if regions.region(&opts.kecamatan).is_none() {
            return Err(crate::domain::region::RegionError::NotFound {
                code: opts.kecamatan.clone(),
            }
            .into());
        }
        let station_id = match opts.station_id {
            Some(id) => validate_station_id(&id)?,
            None => generated_station_id(&opts.kecamatan)?,
        };
        create_private_dir(&paths.data_dir)?;
        let key = StoreKey::generate()?;
        let signing = StationKey::generate()?;
        match first {
            None => {
                key.write_new(&paths.key_file)?;
                write_secret(&paths.signing_key_file(), &signing.to_hex())?;
            }
            Some(first) => {
                let mut slots = KeySlots::new(&station_id);
                slots.set_password(&key, first.operator_id, first.password, PASSWORD_KDF)?;
                if let Some(public) = &first.recovery {
                    slots.set_recovery(&key, public)?;
                }
                slots.write(&KeySlots::path(&paths.data_dir))?;
            }
        }
        let mut store = Store::create(&paths.db(), &key, clock.clone())?;
        if first.is_some() {
            store.set_secret(SIGNING, &signing.to_hex())?;
        }
        load_regions(&mut store)?;
        let row = StationRow {
            station_id,
            kecamatan: opts.kecamatan,
            created_at: rfc3339(clock.now()),
        };
        store.insert_station(&row, &opts.actor)?;
        if let Some(first) = first {
            store.append_audit(
                &AuditEvent::new(&opts.actor, "station.slots.create", &row.station_id).with_detail(
                    serde_json::json!({
                        "password": first.operator_id,
                        "recovery": first.recovery.is_some(),
                    }),
                ),
            )?;
        }
        tracing::info!(station = %row.station_id, kecamatan = %row.kecamatan, sealed = first.is_some(), "station initialised");
        store.checkpoint()?;
        Ok(Station {
            paths,
            store,
            row,
            key,
            sealed: first.is_some(),
        })
    }

    /// Whether the station in `data_dir` keeps its store key in key slots.
    pub fn is_sealed(data_dir: &std::path::Path) -> bool {
        KeySlots::path(data_dir).exists() || KeySlots::next_path(data_dir).exists()
    }

    /// Opens the station in `paths` with its key file (see [`Station::open_with`]).
    pub fn open(paths: StationPaths, clock: Arc<dyn Clock>) -> Result<Station> {
        Station::open_with(paths, &Unlock::KeyFile, clock)
    }

    /// Opens the station in `paths` with `unlock`, migrating its database and refreshing its
    /// region data if this build carries newer data. A station with key slots opens only
    /// through a slot: [`Unlock::KeyFile`] answers [`Error::Locked`]; a wrong password or an
    /// operator without a slot answers a login failure that does not say which.
    pub fn open_with(
        paths: StationPaths,
        unlock: &Unlock<'_>,
        clock: Arc<dyn Clock>,
    ) -> Result<Station> {
        let db = paths.db();
        if !db.exists() {
            return Err(Error::NotInitialised(paths.data_dir.clone()));
        }
        let sealed = Station::is_sealed(&paths.data_dir);
        let (key, mut store) = if sealed {
            open_sealed(&paths, unlock, clock)?
        } else {
            let key = match unlock {
                Unlock::KeyFile => StoreKey::read(&paths.key_file)?,
                _ => {
                    return Err(Error::KeySlots {
                        problem: format!(
                            "the station in {} has no key slots: it opens with its key file",
                            paths.data_dir.display()
                        ),
                    });
                }
            };
            let store = Store::open(&db, &key, clock)?;
            (key, store)
        };
        if store.regions_version()?.as_deref() != Some(EmbeddedRegions::version().as_str()) {
            load_regions(&mut store)?;
        }
        let row = store
            .station()?
            .ok_or_else(|| Error::NotInitialised(paths.data_dir.clone()))?;
        // A station set up before packets existed gets its signing key now; one that is
        // registered must never silently get a new key (the data center would refuse it).
        let signing = paths.signing_key_file();
        if !sealed && !signing.exists() && store.data_center()?.is_none() {
            write_secret(&signing, &StationKey::generate()?.to_hex())?;
            store.append_audit(&AuditEvent::new(
                "system",
                "station.key.generate",
                &row.station_id,
            ))?;
        }
        store.checkpoint()?;
        Ok(Station {
            paths,
            store,
            row,
            key,
            sealed,
        })
    }

    /// Refuses with [`Error::DiskFull`] when the data directory's disk has less than
    /// [`RECORDING_RESERVE`] free.
    pub fn room_for_recording(&self) -> Result<()> {
        let free = crate::disk::space(&self.paths.data_dir)?.free_bytes;
        if free < RECORDING_RESERVE {
            tracing::warn!(
                free_bytes = free,
                "recording refused: the disk is nearly full"
            );
            return Err(Error::DiskFull {
                free_mb: free / (1024 * 1024),
                needed_mb: RECORDING_RESERVE / (1024 * 1024),
            });
        }
        Ok(())
    }

    /// The station's identity.
    pub fn identity(&self) -> &StationRow {
        &self.row
    }

    /// The station's files.
    pub fn paths(&self) -> &StationPaths {
        &self.paths
    }

    /// The store, for operations that need it directly.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, mutably.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Everything `rekam status` and the home screen show.
    pub fn status(&self) -> Result<StationStatus> {
        let kecamatan_name = self.store.region(&self.row.kecamatan).map(|r| r.name);
        let lineage = self
            .store
            .lineage(&self.row.kecamatan)
            .into_iter()
            .flatten()
            .map(|r| r.name)
            .collect();
        let audit = self.store.audit_head()?;
        Ok(StationStatus {
            station_id: self.row.station_id.clone(),
            kecamatan_code: self.row.kecamatan.dotted(),
            kecamatan_name,
            region_path: lineage,
            created_at: self.row.created_at.clone(),
            data_dir: self.paths.data_dir.clone(),
            schema_version: self.store.schema_version()?,
            journal: self.store.journal_stats()?,
            audit_entries: audit.seq,
            audit_head: hex::encode(audit.hash),
            data_center: self.data_center()?.map(|d| d.dc_id),
            signing_key: self.signing_key().ok().map(|k| k.id().to_string()),
            regions: self
                .store
                .region_counts()?
                .into_iter()
                .map(|(level, count)| RegionCount { level, count })
                .collect(),
            regions_attribution: ATTRIBUTION,
        })
    }

    // ----- purge -------------------------------------------------------------------------

    /// Purges every recording the data center answered for good longer than `retention` ago
    /// (see `store::purge`), each in its own transaction, reporting `(done, of)` as it goes;
    /// a kill loses nothing and the next purge goes on.
    pub fn purge(
        &mut self,
        retention: std::time::Duration,
        actor: &str,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<PurgeReport> {
        let cutoff = self.store.clock().now() - retention;
        let due = self.store.purgeable(cutoff)?;
        let mut report = PurgeReport::default();
        for (i, seq) in due.iter().enumerate() {
            if let Some(p) = self.store.purge(*seq, actor)? {
                report.recordings += 1;
                report.bytes += p.bytes;
            }
            progress(i + 1, due.len());
        }
        if report.recordings > 0 {
            tracing::info!(
                recordings = report.recordings,
                bytes = report.bytes,
                "answered recordings purged"
            );
        }
        Ok(report)
    }

    // ----- key slots ---------------------------------------------------------------------

    /// Whether the store key is in key slots.
    pub fn is_sealed_station(&self) -> bool {
        self.sealed
    }

    /// The key slots (no key material); `None` for a station opened by its key file.
    pub fn key_slots(&self) -> Result<Option<Vec<SlotInfo>>> {
        if !self.sealed {
            return Ok(None);
        }
        Ok(Some(self.read_slots()?.list()))
    }

    fn read_slots(&self) -> Result<KeySlots> {
        KeySlots::read(&KeySlots::path(&self.paths.data_dir))?.ok_or_else(|| Error::KeySlots {
            problem: "keyslots.json is missing".into(),
        })
    }

    /// Gives `operator_id` a password slot (or a new password in theirs): adding an operator,
    /// resetting a password. Nothing to do on a station opened by its key file.
    pub fn set_password_slot(
        &mut self,
        operator_id: &str,
        password: &str,
        actor: &str,
    ) -> Result<()> {
        if !self.sealed {
            return Ok(());
        }
        let mut slots = self.read_slots()?;
        slots.set_password(&self.key, operator_id, password, PASSWORD_KDF)?;
        slots.write(&KeySlots::path(&self.paths.data_dir))?;
        self.store.append_audit(&AuditEvent::new(
            actor,
            "station.slots.password",
            operator_id,
        ))?;
        Ok(())
    }

    /// Clears the count of wrong passwords on `operator_id`'s slot (a supervisor's unlock).
    pub fn clear_slot_failures(&mut self, operator_id: &str) -> Result<()> {
        if !self.sealed {
            return Ok(());
        }
        let mut slots = self.read_slots()?;
        if slots.clear_password_failures(operator_id) {
            slots.write(&KeySlots::path(&self.paths.data_dir))?;
        }
        Ok(())
    }

    /// Seals the store key to the Dinas's recovery public key (replacing an earlier one).
    pub fn set_recovery_slot(&mut self, public: &[u8; 32], actor: &str) -> Result<()> {
        if !self.sealed {
            return Err(Error::KeySlots {
                problem: "a station opened by its key file has no slots".into(),
            });
        }
        let mut slots = self.read_slots()?;
        slots.set_recovery(&self.key, public)?;
        slots.write(&KeySlots::path(&self.paths.data_dir))?;
        self.store.append_audit(&AuditEvent::new(
            actor,
            "station.slots.recovery",
            &self.row.station_id,
        ))?;
        Ok(())
    }

    /// Removes `operator_id`'s password slot and re-keys the store ([`Station::remove_slot`]).
    pub fn remove_password_slot(self, operator_id: &str, actor: &str) -> Result<Station> {
        self.remove_slot(SlotKind::Password, operator_id, actor)
    }

    /// Enrolls this machine's TPM (at `tcti`) as a way into the store, bound to `pcrs`' current
    /// values: the background sync of a fixed counter then opens the store with nobody logged
    /// in. Replaces an earlier TPM slot. Refused with [`Error::TpmUnavailable`] on a machine
    /// without a TPM.
    pub fn set_tpm_slot(&mut self, tcti: &str, pcrs: &[u8], actor: &str) -> Result<()> {
        if !self.sealed {
            return Err(Error::KeySlots {
                problem: "a station opened by its key file has no slots".into(),
            });
        }
        let mut slots = self.read_slots()?;
        slots.set_tpm(&self.key, tcti, pcrs)?;
        slots.write(&KeySlots::path(&self.paths.data_dir))?;
        self.store.append_audit(
            &AuditEvent::new(actor, "station.slots.tpm", &self.row.station_id)
                .with_detail(serde_json::json!({ "pcrs": pcrs })),
        )?;
        Ok(())
    }

    /// Opens the station for work nobody attends (the background sync): a station kept by its
    /// key file with it; one with key slots through its TPM slot (with the TPM at `tcti`, or
    /// the one it was enrolled with). `None` when only a login opens it.
    pub fn open_unattended(
        paths: StationPaths,
        tcti: Option<&str>,
        clock: Arc<dyn Clock>,
    ) -> Result<Option<Station>> {
        if !Station::is_sealed(&paths.data_dir) {
            return Station::open(paths, clock).map(Some);
        }
        let has_tpm =
            KeySlots::read(&KeySlots::path(&paths.data_dir))?.is_some_and(|s| s.has_tpm());
        if !has_tpm {
            return Ok(None);
        }
        Station::open_with(paths, &Unlock::Tpm { tcti }, clock).map(Some)
    }

    /// The slots of the station in `data_dir` without opening it (none for a station kept by
    /// its key file): what a service checks before choosing how to open it.
    pub fn slots_at(data_dir: &std::path::Path) -> Result<Option<Vec<SlotInfo>>> {
        Ok(KeySlots::read(&KeySlots::path(data_dir))?.map(|s| s.list()))
    }

    /// Removes the slot of `kind` named `name` and re-keys the store, so its secret opens
    /// nothing, not even slots copied before: a new store key, sealed into every remaining slot
    /// (`keyslots.json.next`), the database copied under it and renamed over the old one, then
    /// the new slots renamed into place. A kill at any point leaves a station that opens with
    /// every remaining slot ([`Station::open_with`] settles a re-key cut off). Needs the store
    /// alone: refused with [`Error::StoreBusy`] while the app or its sync has it open.
    pub fn remove_slot(mut self, kind: SlotKind, name: &str, actor: &str) -> Result<Station> {
        if !self.sealed {
            return Ok(self);
        }
        let mut slots = self.read_slots()?;
        if !slots.remove(kind, name) {
            return Ok(self);
        }
        if !slots.list().iter().any(|s| s.kind == SlotKind::Password) {
            return Err(Error::KeySlots {
                problem: format!("{name} holds the last password slot: add another operator first"),
            });
        }
        self.store.append_audit(
            &AuditEvent::new(actor, "station.slots.remove", name)
                .with_detail(serde_json::json!({ "kind": kind })),
        )?;
        let key = StoreKey::generate()?;
        let next = slots.resealed(&key)?;
        let data_dir = self.paths.data_dir.clone();
        let (next_path, rekeyed) = (KeySlots::next_path(&data_dir), rekeyed_db(&self.paths));
        remove_if_present(&rekeyed)?;
        next.write(&next_path)?;
        if let Err(e) = self.store.export_rekeyed(&rekeyed, &key) {
            // Nothing changed: the old slots and the old database stand.
            remove_if_present(&rekeyed)?;
            remove_if_present(&next_path)?;
            return Err(e);
        }
        let (paths, clock) = (self.paths.clone(), self.store.clock().clone());
        drop(self);
        let db = paths.db();
        // The old database is checkpointed and out of WAL mode: its -wal holds nothing.
        for side in ["-wal", "-shm"] {
            let mut p = db.as_os_str().to_owned();
            p.push(side);
            remove_if_present(std::path::Path::new(&p))?;
        }
        std::fs::rename(&rekeyed, &db).map_err(|e| Error::io(&db, e))?;
        crate::durable::sync_dir(&data_dir)?;
        std::fs::rename(&next_path, KeySlots::path(&data_dir))
            .map_err(|e| Error::io(&next_path, e))?;
        crate::durable::sync_dir(&data_dir)?;
        let mut station = Station::open_with_key(paths, key, clock)?;
        station.store.append_audit(
            &AuditEvent::new(actor, "station.rekey", &station.row.station_id)
                .with_detail(serde_json::json!({ "removed": name, "kind": kind })),
        )?;
        Ok(station)
    }

    /// A second handle on this station's store (the background sync's), opened with the key
    /// this one was opened with: on a station with key slots nothing else can open it.
    pub fn reopen(&self) -> Result<Station> {
        let key = StoreKey::from_bytes(self.key.bytes())
            .ok_or_else(|| Error::Internal("a store key of 32 bytes".into()))?;
        let mut station =
            Station::open_with_key(self.paths.clone(), key, self.store.clock().clone())?;
        station.sealed = self.sealed;
        Ok(station)
    }

    /// The store key of the open station (a backup seals it under its passphrase; never log
    /// it).
    pub(crate) fn store_key(&self) -> &StoreKey {
        &self.key
    }

    /// Moves a station opened by its key file into key slots: its signing keys into the
    /// store, a slot for `first`'s password (and the Dinas's recovery key), then its key files
    /// removed. A kill at any point leaves a station that opens (by its key file before the
    /// slots are written, by the slot after; the key files left behind are removed at that
    /// open). The caller checks `first`'s password against their login first
    /// (`operators::seal_station`). Other operators get their slots with a new password
    /// (`rekam operator password`).
    pub fn seal_into_slots(&mut self, first: &FirstSlot<'_>, actor: &str) -> Result<()> {
        if self.sealed {
            return Err(Error::KeySlots {
                problem: "the station already keeps its key in slots".into(),
            });
        }
        let signing = self.signing_key()?;
        self.store.set_secret(SIGNING, &signing.to_hex())?;
        if let Some(next) = self.pending_signing_key()? {
            self.store.set_secret(SIGNING_NEXT, &next.to_hex())?;
        }
        let mut slots = KeySlots::new(&self.row.station_id);
        slots.set_password(&self.key, first.operator_id, first.password, PASSWORD_KDF)?;
        if let Some(public) = &first.recovery {
            slots.set_recovery(&self.key, public)?;
        }
        slots.write(&KeySlots::path(&self.paths.data_dir))?;
        self.sealed = true;
        remove_key_files(&self.paths)?;
        self.store.append_audit(
            &AuditEvent::new(actor, "station.slots.create", &self.row.station_id).with_detail(
                serde_json::json!({
                    "password": first.operator_id,
                    "recovery": first.recovery.is_some(),
                    "from_key_file": true,
                }),
            ),
        )?;
        Ok(())
    }

    /// Opens a station with key slots by its store key itself, already unwrapped (a re-key's
    /// new key; a restore, whose passphrase-sealed copy of the key opened the backup).
    pub(crate) fn open_with_key(
        paths: StationPaths,
        key: StoreKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Station> {
        let store = Store::open(&paths.db(), &key, clock)?;
        let row = store
            .station()?
            .ok_or_else(|| Error::NotInitialised(paths.data_dir.clone()))?;
        Ok(Station {
            paths,
            store,
            row,
            key,
            sealed: true,
        })
    }

    // ----- data center: registration, keys, sealing -----------------------------------------

    /// The station's signing key.
    pub fn signing_key(&self) -> Result<StationKey> {
        if self.sealed {
            let text = self.store.secret(SIGNING)?.ok_or_else(|| Error::KeySlots {
                problem: "the signing key is missing from the store".into(),
            })?;
            return StationKey::from_hex(&text).map_err(|_| Error::KeySlots {
                problem: "the signing key in the store is malformed".into(),
            });
        }
        let path = self.paths.signing_key_file();
        StationKey::from_hex(&read_secret(&path)?).map_err(|_| Error::KeyFile {
            path,
            problem: "malformed: expected 64 hex digits".into(),
        })
    }

    /// The id of the signing key the data center knows for this station, as the audit log
    /// says (the key at registration, or the last rotation's new key); `None` before
    /// registration.
    pub fn registered_key_id(store: &Store) -> Result<Option<String>> {
        let Some(entry) = store.last_audit_of(&["station.register", "station.key.rotate"])? else {
            return Ok(None);
        };
        let field = if entry.action == "station.key.rotate" {
            "new"
        } else {
            "station_key"
        };
        let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap_or_default();
        Ok(detail[field].as_str().map(str::to_owned))
    }

    /// The registration request for the data center, signed with the station's key.
    pub fn registration(&self, token: &str) -> Result<Registration> {
        Ok(Registration::new(
            &self.signing_key()?,
            &self.row.station_id,
            self.row.kecamatan.compact(),
            token,
            self.store.clock().now().unix_timestamp(),
        ))
    }

    /// The pinned data center identity, if registered.
    pub fn data_center(&self) -> Result<Option<DcIdentity>> {
        self.store
            .data_center()?
            .map(|json| {
                serde_json::from_str(&json).map_err(|e| {
                    Error::Packet(rekam_packet::PacketError::Malformed {
                        field: "pinned data center identity",
                        detail: e.to_string(),
                    })
                })
            })
            .transpose()
    }

    /// Pins the data center identity after a registration. `expected` is the identity file
    /// the Dinas handed over; the gateway's answer must be the same keys.
    pub fn pin_data_center(
        &mut self,
        expected: &DcIdentity,
        answered: &DcIdentity,
        actor: &str,
    ) -> Result<()> {
        same_data_center(expected, answered)?;
        let json = serde_json::to_string(expected).map_err(|e| {
            Error::Packet(rekam_packet::PacketError::Malformed {
                field: "data center identity",
                detail: e.to_string(),
            })
        })?;
        let event = AuditEvent::new(actor, "station.register", &self.row.station_id).with_detail(
            serde_json::json!({
                "dc": expected.dc_id,
                "packet_key": expected.packet_key.id.to_string(),
                "receipt_key": expected.receipt_key.id.to_string(),
                "station_key": self.signing_key()?.id().to_string(),
            }),
        );
        self.store.pin_data_center(&json, &event)?;
        Ok(())
    }

    /// The key of a rotation begun and not finished, waiting beside the signing key.
    pub fn pending_signing_key(&self) -> Result<Option<StationKey>> {
        if self.sealed {
            return self
                .store
                .secret(SIGNING_NEXT)?
                .map(|text| {
                    StationKey::from_hex(&text).map_err(|_| Error::KeySlots {
                        problem: "the pending signing key in the store is malformed".into(),
                    })
                })
                .transpose();
        }
        let path = self.paths.next_signing_key_file();
        if !path.exists() {
            return Ok(None);
        }
        StationKey::from_hex(&read_secret(&path)?)
            .map(Some)
            .map_err(|_| Error::KeyFile {
                path,
                problem: "malformed: expected 64 hex digits".into(),
            })
    }

    /// Starts a key rotation: a new key, kept aside until the data center accepts the
    /// returned statement ([`Station::finish_key_rotation`]). A rotation started before and
    /// never finished is started again with a fresh key.
    pub fn begin_key_rotation(&mut self) -> Result<KeyRotation> {
        let new = StationKey::generate()?;
        if self.sealed {
            self.store.set_secret(SIGNING_NEXT, &new.to_hex())?;
        } else {
            let next = self.paths.next_signing_key_file();
            if next.exists() {
                std::fs::remove_file(&next).map_err(|e| Error::io(&next, e))?;
            }
            write_secret(&next, &new.to_hex())?;
        }
        Ok(KeyRotation::new(
            &self.signing_key()?,
            &new,
            &self.row.station_id,
            self.store.clock().now().unix_timestamp(),
        ))
    }

    /// Puts the new key in place once the data center has accepted it (an atomic rename; the
    /// old key is gone, packets it signed stay valid at the data center).
    pub fn finish_key_rotation(&mut self, actor: &str) -> Result<()> {
        let old = self.signing_key()?.id();
        let event = |new: rekam_packet::KeyId| {
            AuditEvent::new(actor, "station.key.rotate", &self.row.station_id)
                .with_detail(serde_json::json!({ "old": old.to_string(), "new": new.to_string() }))
        };
        if self.sealed {
            let new = self.pending_signing_key()?.ok_or_else(|| Error::KeySlots {
                problem: "no rotation is waiting to be finished".into(),
            })?;
            // The new key and its audit entry in one transaction.
            return self
                .store
                .promote_secret(SIGNING_NEXT, SIGNING, &event(new.id()));
        }
        let (next, current) = (
            self.paths.next_signing_key_file(),
            self.paths.signing_key_file(),
        );
        std::fs::rename(&next, &current).map_err(|e| Error::io(&next, e))?;
        let new = self.signing_key()?.id();
        self.store.append_audit(&event(new))?;
        Ok(())
    }

    /// Seals a recording into a packet for the data center and appends it to the journal with
    /// its de-duplication row and audit entry, in one transaction. The packet id, station and
    /// kecamatan are set here. Refused before anything is written when the station is not
    /// registered, the recording is incomplete, or the packet would exceed `budget` bytes
    /// ([`DEFAULT_BUDGET`] by default).
    pub fn seal(
        &mut self,
        recording: Recording,
        biometrics: Option<IndexRow>,
        budget: Option<usize>,
    ) -> Result<Sealed> {
        self.seal_visit(recording, biometrics, budget, None)
    }

    /// [`Station::seal`], writing the counter visit that produced the recording in the same
    /// transaction.
    pub fn seal_visit(
        &mut self,
        mut recording: Recording,
        biometrics: Option<IndexRow>,
        budget: Option<usize>,
        visit: Option<NewVisit>,
    ) -> Result<Sealed> {
        let dc = self.data_center()?.ok_or(Error::NotRegistered)?;
        let key = self.signing_key()?;
        let packet_id = PacketId::for_station(&self.row.station_id)?;
        let m = &mut recording.manifest;
        m.format = crate::packet::MANIFEST_FORMAT;
        m.packet_id = packet_id.to_string();
        m.station_id = self.row.station_id.clone();
        m.kecamatan = self.row.kecamatan.compact().to_owned();
        let contents = recording.to_contents().map_err(Error::RecordingInvalid)?;
        let header = Header {
            packet_id,
            station_id: self.row.station_id.clone(),
            station_key: key.id(),
            dc_key: dc.packet_key.id,
            sealed_at: self.store.clock().now().unix_timestamp(),
        };
        let sealed = SealedPacket::seal(
            &contents,
            header,
            &key,
            &dc,
            budget.unwrap_or(DEFAULT_BUDGET),
        )?;
        let content_hash = sealed.content_hash();
        let m = &recording.manifest;
        let entry = self.store.append_enrollment(&NewEnrollment {
            enrollment_id: m.packet_id.clone(),
            nik: m.biodata.nik.clone(),
            case: m.case,
            operator_id: m.operator_id.clone(),
            payload: sealed.into_bytes(),
            biometrics,
            visit,
        });
        // A full disk rolls the seal's transaction back whole: say so, and what to do.
        let entry = entry.map_err(|e| match Store::is_disk_full(&e) {
            true => Error::DiskFullAtSeal {
                free_mb: crate::disk::space(&self.paths.data_dir)
                    .map_or(0, |s| s.free_bytes / (1024 * 1024)),
            },
            false => e,
        })?;
        tracing::info!(
            packet = %entry.enrollment_id,
            seq = entry.seq,
            bytes = entry.payload_len,
            operator = %m.operator_id,
            "recording sealed"
        );
        Ok(Sealed {
            entry,
            content_hash,
        })
    }

    /// Verifies the audit chain.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        self.store.verify_audit()
    }

    /// Appends an audit entry.
    pub fn audit(&mut self, event: &AuditEvent) -> Result<AuditEntry> {
        self.store.append_audit(event)
    }
}

/// Refuses a data center identity whose keys are not the expected ones (checked before
/// registering, so a wrong address or a man in the middle never uses up a token, and again on
/// the registration's answer).
pub fn same_data_center(expected: &DcIdentity, found: &DcIdentity) -> Result<()> {
    let ids = |d: &DcIdentity| format!("{}/{}", d.packet_key.id, d.receipt_key.id);
    if expected.packet_key != found.packet_key || expected.receipt_key != found.receipt_key {
        return Err(Error::DataCenterMismatch {
            pinned: ids(expected),
            found: ids(found),
        });
    }
    expected.check()?;
    Ok(())
}

/// A recording sealed and journalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Its journal row (`enrollment_id` is the packet id).
    pub entry: JournalEntry,
    /// The packet's content hash, which the data center's receipt names.
    pub content_hash: [u8; 32],
}

/// A station's state at a glance.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StationStatus {
    /// Station id.
    pub station_id: String,
    /// Kecamatan code (dotted).
    pub kecamatan_code: String,
    /// Kecamatan name.
    pub kecamatan_name: Option<String>,
    /// Province, regency, kecamatan names.
    pub region_path: Vec<String>,
    /// Set up at.
    pub created_at: String,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Schema version of the database.
    pub schema_version: i64,
    /// Recordings held.
    pub journal: JournalStats,
    /// Audit entries.
    pub audit_entries: i64,
    /// Hash of the last audit entry (hex).
    pub audit_head: String,
    /// The data center the station is registered with, if any.
    pub data_center: Option<String>,
    /// The id of the station's signing key (`None` when its key file is unreadable).
    pub signing_key: Option<String>,
    /// Regions held, by level.
    pub regions: Vec<RegionCount>,
    /// Attribution of the region data (ODbL).
    pub regions_attribution: &'static str,
}

/// Regions of one level.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RegionCount {
    /// The level.
    pub level: RegionLevel,
    /// How many.
    pub count: i64,
}

fn load_regions(store: &mut Store) -> Result<()> {
    let mut all = Vec::new();
    for level in [
        RegionLevel::Province,
        RegionLevel::Regency,
        RegionLevel::Kecamatan,
        RegionLevel::Village,
    ] {
        all.extend(EmbeddedRegions::iter(level)?);
    }
    let n = store.replace_regions(all, &EmbeddedRegions::version())?;
    tracing::info!(regions = n, "region master data loaded");
    Ok(())
}

/// Station ids are 3-32 ASCII letters, digits or dashes, so they fit file names, logs and
/// packet headers unchanged.
pub fn validate_station_id(id: &str) -> Result<String> {
    let ok = (3..=32).contains(&id.len())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if ok {
        Ok(id.to_owned())
    } else {
        Err(Error::InvalidStationId(id.to_owned()))
    }
}

fn generated_station_id(kecamatan: &RegionCode) -> Result<String> {
    let mut suffix = [0u8; 2];
    fill_random(&mut suffix)?;
    Ok(format!(
        "{}-{}",
        kecamatan.compact(),
        hex::encode_upper(suffix)
    ))
}

/// The database copy a re-key writes before renaming it over the old one.
fn rekeyed_db(paths: &StationPaths) -> PathBuf {
    paths.data_dir.join(format!("{DB_FILE}.rekey"))
}

fn remove_if_present(path: &std::path::Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// The store key of a sealed station through `unlock`, and its store. Settles a re-key cut
/// off: while `keyslots.json.next` exists the database is under the old key (before the
/// rename) or the new one (after it); whichever slots' key opens it wins, and only a key
/// that opened the database decides what is removed, so a wrong password touches nothing.
fn open_sealed(
    paths: &StationPaths,
    unlock: &Unlock<'_>,
    clock: Arc<dyn Clock>,
) -> Result<(StoreKey, Store)> {
    let data_dir = &paths.data_dir;
    let key_of = |slots: &KeySlots| -> Result<Option<StoreKey>> {
        match unlock {
            Unlock::KeyFile => Err(Error::Locked(data_dir.clone())),
            Unlock::Password {
                operator_id,
                password,
            } => slots.open_with_password(operator_id, password),
            Unlock::Recovery(k) => Ok(slots.open_with_recovery(k)),
            Unlock::Tpm { tcti } => slots.open_with_tpm(*tcti),
        }
    };
    let db = paths.db();
    let try_open = |key: StoreKey| -> Result<Option<(StoreKey, Store)>> {
        match Store::open(&db, &key, clock.clone()) {
            Ok(store) => Ok(Some((key, store))),
            Err(Error::WrongKey(_)) => Ok(None),
            Err(e) => Err(e),
        }
    };
    let (current_path, next_path) = (KeySlots::path(data_dir), KeySlots::next_path(data_dir));
    if let Some(next) = KeySlots::read(&next_path)? {
        if let Some(key) = key_of(&next)?
            && let Some(opened) = try_open(key)?
        {
            // The database was renamed: the new slots go in place.
            std::fs::rename(&next_path, &current_path).map_err(|e| Error::io(&next_path, e))?;
            crate::durable::sync_dir(data_dir)?;
            return Ok(opened);
        }
        if let Some(current) = KeySlots::read(&current_path)?
            && let Some(key) = key_of(&current)?
            && let Some(opened) = try_open(key)?
        {
            // Cut off before the rename: the re-key never happened.
            remove_if_present(&next_path)?;
            remove_if_present(&rekeyed_db(paths))?;
            return Ok(opened);
        }
        return Err(refused(unlock, data_dir));
    }
    let mut current = KeySlots::read(&current_path)?.ok_or_else(|| Error::KeySlots {
        problem: "keyslots.json is missing".into(),
    })?;
    // Wrong passwords are counted on the slot at this machine: at the limit it is tried no
    // more until a supervisor unlocks the operator (a copy of the file is another matter:
    // there Argon2id's cost is what stands).
    let limit = crate::workflow::operators::MAX_FAILED_LOGINS;
    let locked_out = |operator_id: &str| -> Error {
        crate::workflow::WorkflowError::LockedOut {
            operator: operator_id.to_owned(),
            attempts: limit,
        }
        .into()
    };
    if let Unlock::Password { operator_id, .. } = unlock
        && current.password_failures(operator_id) >= limit
    {
        return Err(locked_out(operator_id));
    }
    let Some(key) = key_of(&current)? else {
        if let Unlock::Password { operator_id, .. } = unlock
            && current.note_password_failure(operator_id)
        {
            current.write(&current_path)?;
            if current.password_failures(operator_id) >= limit {
                tracing::warn!(operator = %operator_id, "key slot locked after wrong passwords");
                return Err(locked_out(operator_id));
            }
        }
        return Err(refused(unlock, data_dir));
    };
    let mut opened = try_open(key)?.ok_or_else(|| Error::WrongKey(db.clone()))?;
    // The wrong passwords tried on this slot while the store was closed, now that it can be
    // written: audited, then the count starts again.
    if let Unlock::Password { operator_id, .. } = unlock {
        let refused = current.password_failures(operator_id);
        if refused > 0 {
            opened.1.append_audit(
                &AuditEvent::new(*operator_id, "station.slots.refused", *operator_id)
                    .with_detail(serde_json::json!({ "wrong_passwords": refused })),
            )?;
            current.clear_password_failures(operator_id);
            current.write(&current_path)?;
        }
    }
    remove_if_present(&rekeyed_db(paths))?;
    // A station sealed from a key file and cut off before its key files were removed.
    remove_key_files(paths)?;
    Ok(opened)
}

/// Removes a station's key files (store key, signing keys) once its slots hold the key.
fn remove_key_files(paths: &StationPaths) -> Result<()> {
    let files = [
        paths.key_file.clone(),
        paths.signing_key_file(),
        paths.next_signing_key_file(),
    ];
    if files.iter().all(|f| !f.exists()) {
        return Ok(());
    }
    for f in &files {
        remove_if_present(f)?;
    }
    for dir in files.iter().filter_map(|f| f.parent()) {
        crate::durable::sync_dir(dir)?;
    }
    Ok(())
}

/// No slot opened: the same answer for an unknown operator and a wrong password.
fn refused(unlock: &Unlock<'_>, data_dir: &std::path::Path) -> Error {
    match unlock {
        Unlock::KeyFile => Error::Locked(data_dir.to_owned()),
        Unlock::Password { operator_id, .. } => {
            tracing::warn!(operator = %operator_id, "no key slot opened with the password given");
            crate::workflow::WorkflowError::LoginFailed.into()
        }
        Unlock::Recovery(k) => Error::KeySlots {
            problem: format!("the recovery key {} opens no slot of this station", k.id()),
        },
        Unlock::Tpm { .. } => Error::Locked(data_dir.to_owned()),
    }
}
