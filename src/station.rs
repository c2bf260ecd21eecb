//! A station: its data directory, its key and its store, and the operations the CLI and the
//! desktop shell call on it.
//!
//! Data directory layout:
//!
//! ```text
//! <data-dir>/station.db        encrypted SQLite (SQLCipher), with -wal and -shm beside it
//! <data-dir>/keys/store.key    the store key (mode 0600) unless a key file is given elsewhere
//! ```

use crate::audit::{AuditEntry, AuditEvent, AuditReport};
use crate::clock::{Clock, rfc3339};
use crate::domain::region::{
    ATTRIBUTION, EmbeddedRegions, RegionCode, RegionDirectory, RegionLevel,
};
use crate::store::{JournalStats, StationRow, Store, StoreKey, create_private_dir, fill_random};
use crate::{Error, Result};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

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
        let mut store = Store::create(&paths.db(), &key, clock.clone())?;
        load_regions(&mut store)?;
        let row = StationRow {
            station_id,
            kecamatan: opts.kecamatan,
            created_at: rfc3339(clock.now()),
        };
        store.insert_station(&row, &opts.actor)?;
        tracing::info!(station = %row.station_id, kecamatan = %row.kecamatan, "station initialised");
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
        Ok(Station { paths, store, row })
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
            regions: self
                .store
                .region_counts()?
                .into_iter()
                .map(|(level, count)| RegionCount { level, count })
                .collect(),
            regions_attribution: ATTRIBUTION,
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

/// A station's state at a glance.
#[derive(Debug, Clone, Serialize)]
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
    /// Regions held, by level.
    pub regions: Vec<RegionCount>,
    /// Attribution of the region data (ODbL).
    pub regions_attribution: &'static str,
}

/// Regions of one level.
#[derive(Debug, Clone, Copy, Serialize)]
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
