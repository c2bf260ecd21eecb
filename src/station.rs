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

/// An open station.
#[derive(Debug)]
pub struct Station {
    paths: StationPaths,
    store: Store,
    row: StationRow,
}

impl Station {
    /// Sets up a new station: a private data directory, a fresh key, an encrypted database
    /// with the region master data, and the first audit entry. Refuses a directory that already
    /// holds a station.
    pub fn init(opts: InitOptions, clock: Arc<dyn Clock>) -> Result<Station> {
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
        key.write_new(&paths.key_file)?;
        write_secret(&paths.signing_key_file(), &StationKey::generate()?.to_hex())?;
        let mut store = Store::create(&paths.db(), &key, clock.clone())?;
        load_regions(&mut store)?;
        let row = StationRow {
            station_id,
            kecamatan: opts.kecamatan,
            created_at: rfc3339(clock.now()),
        };
        store.insert_station(&row, &opts.actor)?;
        tracing::info!(station = %row.station_id, kecamatan = %row.kecamatan, "station initialised");
        store.checkpoint()?;
        Ok(Station { paths, store, row })
    }

    /// Opens the station in `paths`, migrating its database and refreshing its region data if
    /// this build carries newer data.
    pub fn open(paths: StationPaths, clock: Arc<dyn Clock>) -> Result<Station> {
        let db = paths.db();
        if !db.exists() {
            return Err(Error::NotInitialised(paths.data_dir.clone()));
        }
        let key = StoreKey::read(&paths.key_file)?;
        let mut store = Store::open(&db, &key, clock)?;
        drop(key);
        if store.regions_version()?.as_deref() != Some(EmbeddedRegions::version().as_str()) {
            load_regions(&mut store)?;
        }
        let row = store
            .station()?
            .ok_or_else(|| Error::NotInitialised(paths.data_dir.clone()))?;
        // A station set up before packets existed gets its signing key now; one that is
        // registered must never silently get a new key (the data center would refuse it).
        let signing = paths.signing_key_file();
        if !signing.exists() && store.data_center()?.is_none() {
            write_secret(&signing, &StationKey::generate()?.to_hex())?;
            store.append_audit(&AuditEvent::new(
                "system",
                "station.key.generate",
                &row.station_id,
            ))?;
        }
        store.checkpoint()?;
        Ok(Station { paths, store, row })
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

    // ----- data center: registration, keys, sealing -----------------------------------------

    /// The station's signing key.
    pub fn signing_key(&self) -> Result<StationKey> {
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
    pub fn begin_key_rotation(&self) -> Result<KeyRotation> {
        let next = self.paths.next_signing_key_file();
        if next.exists() {
            std::fs::remove_file(&next).map_err(|e| Error::io(&next, e))?;
        }
        let new = StationKey::generate()?;
        write_secret(&next, &new.to_hex())?;
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
        let (next, current) = (
            self.paths.next_signing_key_file(),
            self.paths.signing_key_file(),
        );
        let old = self.signing_key()?.id();
        std::fs::rename(&next, &current).map_err(|e| Error::io(&next, e))?;
        let new = self.signing_key()?.id();
        self.store.append_audit(
            &AuditEvent::new(actor, "station.key.rotate", &self.row.station_id)
                .with_detail(serde_json::json!({ "old": old.to_string(), "new": new.to_string() })),
        )?;
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
        let packet_id = PacketId::generate()?;
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
