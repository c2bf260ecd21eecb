//! The station store: one SQLCipher database per station, in WAL mode. This module is the only
//! place in the project that speaks SQL.
//!
//! Invariants:
//! - the database is encrypted with a [`StoreKey`] that lives outside it; a build whose SQLite
//!   cannot encrypt refuses to open anything ([`Error::NoEncryption`]);
//! - every commit is durable before it returns (`synchronous = FULL`); temporary tables and
//!   indices stay in memory, never in plaintext temp files;
//! - the enrollment journal and the audit log are append-only (triggers refuse UPDATE and
//!   DELETE; a purge may empty the packet of a recording it logged first, `purge`), and each
//!   journal append writes its audit entry in the same transaction;
//! - a database from an older build is migrated on open; one from a newer build is refused
//!   untouched.

mod cards;
mod counter;
mod hub;
mod key;
mod migrations;
mod outbox;
mod population;
mod purge;
mod reissue;
pub mod slots;
pub mod tpm;

pub use cards::CardReport;
pub use counter::{
    NewVisit, OperatorChange, OperatorRow, StepTime, VisitOutcome, VisitRow, VisitWorkflow,
};
pub use hub::{GalleryRow, HubPending};
pub use key::StoreKey;
pub use key::write_secret;
pub(crate) use key::{create_private_dir, fill_random, read_secret};
pub use outbox::{BacklogRow, Clarified, DueItem, SyncEvent, SyncState};
pub use population::{ExtractState, PopulationReader};
pub use purge::Purged;
pub use reissue::ReissueRow;

use crate::audit::{self, AuditEntry, AuditEvent, AuditHead, AuditReport};
use crate::clock::{Clock, rfc3339};
use crate::domain::case::CaseType;
use crate::domain::nik::MaskedNik;
use crate::domain::nik::Nik;
use crate::domain::region::{Region, RegionCode, RegionDirectory, RegionLevel};
use crate::{Error, Result};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The station's identity as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StationRow {
    /// The station id.
    pub station_id: String,
    /// Its kecamatan.
    pub kecamatan: RegionCode,
    /// When it was set up (RFC 3339).
    pub created_at: String,
}

/// A recording to append to the journal.
#[derive(Debug, Clone)]
pub struct NewEnrollment {
    /// Unique id of the recording (the packet id once sealed).
    pub enrollment_id: String,
    /// The resident.
    pub nik: Nik,
    /// The case it was recorded under.
    pub case: CaseType,
    /// The operator who recorded it.
    pub operator_id: String,
    /// The recording as stored (the sealed packet once packets exist).
    pub payload: Vec<u8>,
    /// Its entry in the de-duplication index, when fingers or irises were recorded.
    pub biometrics: Option<IndexRow>,
    /// The counter visit that produced it, written in the same transaction.
    pub visit: Option<NewVisit>,
}

/// A recording's row of the de-duplication index (see `rekam_bio::index`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    /// The ten screening codes, as `rekam_bio::index::codes_to_bytes` writes them.
    pub codes: Vec<u8>,
    /// The ISO/IEC 19794-2 record of the fingers.
    pub minutiae: Vec<u8>,
    /// The iris codes, as `rekam_bio::person::irises_to_bytes` writes them.
    pub irises: Vec<u8>,
}

/// A journal row, without its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    /// Monotonic position in the journal.
    pub seq: i64,
    /// The recording's id.
    pub enrollment_id: String,
    /// The resident's masked NIK.
    pub masked_nik: MaskedNik,
    /// The case.
    pub case: String,
    /// Who recorded it.
    pub operator_id: String,
    /// When (RFC 3339).
    pub recorded_at: String,
    /// Stored size in bytes.
    pub payload_len: i64,
}

/// Counts of the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JournalStats {
    /// Rows.
    pub entries: i64,
    /// Highest sequence number ever given (0 when none).
    pub head_seq: i64,
}

/// An open station database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    clock: Arc<dyn Clock>,
}

impl Store {
    /// Creates a new database at `path` (which must not exist) and brings it to the latest
    /// schema.
    pub fn create(path: &Path, key: &StoreKey, clock: Arc<dyn Clock>) -> Result<Store> {
        Self::create_at(path, key, clock, migrations::latest())
    }

    fn create_at(
        path: &Path,
        key: &StoreKey,
        clock: Arc<dyn Clock>,
        version: i64,
    ) -> Result<Store> {
        if path.exists() {
            return Err(Error::AlreadyInitialised(path.to_owned()));
        }
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        create_private_file(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = connect(path, key, flags)?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
            clock,
        };
        store.migrate(version)?;
        Ok(store)
    }

    /// Opens an existing database, migrating it if it is older than this build.
    pub fn open(path: &Path, key: &StoreKey, clock: Arc<dyn Clock>) -> Result<Store> {
        if !path.exists() {
            return Err(Error::NotInitialised(path.to_owned()));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = connect(path, key, flags)?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
            clock,
        };
        store.migrate(migrations::latest())?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The clock this store stamps entries with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The newest schema version this build knows.
    pub fn latest_schema_version() -> i64 {
        migrations::latest()
    }

    fn migrate(&mut self, target: i64) -> Result<()> {
        let current = self.schema_version()?;
        let supported = migrations::latest();
        if current > supported {
            return Err(Error::NewerSchema {
                found: current,
                supported,
            });
        }
        for m in migrations::MIGRATIONS
            .iter()
            .filter(|m| m.version > current && m.version <= target)
        {
            // Foreign keys cannot be switched inside a transaction: off before it, on after.
            if m.rebuilds {
                self.conn.pragma_update(None, "foreign_keys", false)?;
            }
            let migrated = self.migrate_one(m);
            if m.rebuilds {
                self.conn.pragma_update(None, "foreign_keys", true)?;
            }
            migrated?;
            tracing::info!(version = m.version, name = m.name, "store migrated");
        }
        Ok(())
    }

    fn migrate_one(&mut self, m: &migrations::Migration) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(before) = m.before {
            before(&tx)?;
        }
        tx.execute_batch(m.sql)?;
        if m.rebuilds {
            let broken: i64 =
                tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
            if broken > 0 {
                return Err(Error::Internal(format!(
                    "migration {} would leave {broken} rows pointing nowhere; nothing was changed",
                    m.version
                )));
            }
        }
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
        Ok(())
    }

    // ----- station --------------------------------------------------------------------------

    /// Records the station's identity, with its audit entry. Only once.
    pub fn insert_station(&mut self, row: &StationRow, actor: &str) -> Result<AuditEntry> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO station (singleton, station_id, kecamatan_code, created_at)
             VALUES (1, ?1, ?2, ?3)",
            params![row.station_id, row.kecamatan.dotted(), row.created_at],
        )?;
        let event = AuditEvent::new(actor, "station.init", &row.station_id)
            .with_detail(serde_json::json!({ "kecamatan": row.kecamatan.dotted() }));
        let entry = append_audit_tx(&tx, &row.station_id, &event, self.clock.as_ref())?;
        tx.commit()?;
        Ok(entry)
    }

    /// The station's identity, if set up.
    pub fn station(&self) -> Result<Option<StationRow>> {
        let row = self
            .conn
            .query_row(
                "SELECT station_id, kecamatan_code, created_at FROM station WHERE singleton = 1",
                [],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|(station_id, code, created_at)| {
            Ok(StationRow {
                station_id,
                kecamatan: RegionCode::parse(&code)?,
                created_at,
            })
        })
        .transpose()
    }

    fn station_id(&self) -> Result<String> {
        self.station()?
            .map(|s| s.station_id)
            .ok_or_else(|| Error::NotInitialised(self.path.clone()))
    }

    /// The data center identity pinned at registration (JSON), if the station is registered.
    pub fn data_center(&self) -> Result<Option<String>> {
        self.meta("dc_identity")
    }

    /// Pins the data center identity (JSON), replacing any earlier one, with its audit entry,
    /// in one transaction.
    pub fn pin_data_center(
        &mut self,
        identity_json: &str,
        event: &AuditEvent,
    ) -> Result<AuditEntry> {
        self.set_meta_audited(&[("dc_identity", identity_json)], event)
    }

    /// Sets each `meta` key to its value, replacing any earlier one, with their audit entry, in
    /// one transaction: what the station pins (the data center's identity, the hub's address
    /// and identity, the Dinas's key).
    pub(crate) fn set_meta_audited(
        &mut self,
        values: &[(&str, &str)],
        event: &AuditEvent,
    ) -> Result<AuditEntry> {
        let station_id = self.station_id()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (key, value) in values {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )?;
        }
        let entry = append_audit_tx(&tx, &station_id, event, self.clock.as_ref())?;
        tx.commit()?;
        Ok(entry)
    }

    // ----- audit log ------------------------------------------------------------------------

    /// Appends one audit entry in its own transaction.
    pub fn append_audit(&mut self, event: &AuditEvent) -> Result<AuditEntry> {
        let station_id = self.station_id()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let entry = append_audit_tx(&tx, &station_id, event, self.clock.as_ref())?;
        tx.commit()?;
        Ok(entry)
    }

    /// The stored head of the audit log.
    pub fn audit_head(&self) -> Result<AuditHead> {
        read_audit_head(&self.conn)
    }

    /// Audit entries after `after_seq`, at most `limit`, in order.
    pub fn audit_entries(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, station_id, actor, action, subject, detail, prev_hash, hash
             FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after_seq, limit], audit_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The latest audit entry whose action is one of `actions`.
    pub fn last_audit_of(&self, actions: &[&str]) -> Result<Option<AuditEntry>> {
        let marks = vec!["?"; actions.len()].join(", ");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT seq, at, station_id, actor, action, subject, detail, prev_hash, hash
             FROM audit_log WHERE action IN ({marks}) ORDER BY seq DESC LIMIT 1"
        ))?;
        Ok(stmt
            .query_row(rusqlite::params_from_iter(actions), audit_row)
            .optional()?)
    }

    /// Walks the whole audit log and checks every link, edit and the head.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        let mut verifier = audit::Verifier::default();
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, station_id, actor, action, subject, detail, prev_hash, hash
             FROM audit_log ORDER BY seq",
        )?;
        let mut rows = stmt.query_map([], audit_row)?;
        for row in rows.by_ref() {
            if !verifier.push(&row?) {
                break;
            }
        }
        Ok(verifier.finish(self.audit_head()?))
    }

    // ----- enrollment journal ---------------------------------------------------------------

    /// Appends a recording to the journal, with its audit entry, in one transaction. A second
    /// recording of the same NIK is refused with [`Error::AlreadyRecorded`].
    pub fn append_enrollment(&mut self, e: &NewEnrollment) -> Result<JournalEntry> {
        let station_id = self.station_id()?;
        let recorded_at = rfc3339(self.clock.now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let key = nik_key(&tx)?;
        let nik_hash = nik_hash(&key, &e.nik);
        let existing: Option<String> = tx
            .query_row(
                "SELECT enrollment_id FROM enrollment_journal WHERE nik_hash = ?1",
                [&nik_hash],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(enrollment_id) = existing {
            return Err(Error::AlreadyRecorded {
                masked_nik: e.nik.masked(),
                enrollment_id,
            });
        }
        tx.execute(
            "INSERT INTO enrollment_journal
                 (enrollment_id, nik_hash, masked_nik, case_type, operator_id, recorded_at, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                e.enrollment_id,
                nik_hash,
                e.nik.masked().as_str(),
                e.case.as_str(),
                e.operator_id,
                recorded_at,
                e.payload
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO sync_state (seq, state, updated_at) VALUES (?1, 'BIO_CAPTURED', ?2)",
            params![seq, recorded_at],
        )?;
        tx.execute(
            "INSERT INTO sync_event (seq, at, state, reason) VALUES (?1, ?2, 'BIO_CAPTURED', 'sealed')",
            params![seq, recorded_at],
        )?;
        if let Some(b) = &e.biometrics {
            tx.execute(
                "INSERT INTO biometric_index (seq, codes) VALUES (?1, ?2)",
                params![seq, b.codes],
            )?;
            tx.execute(
                "INSERT INTO biometric_template (seq, minutiae, irises) VALUES (?1, ?2, ?3)",
                params![seq, b.minutiae, b.irises],
            )?;
        }
        let event = AuditEvent::new(&e.operator_id, "enrollment.journal", &e.enrollment_id)
            .with_detail(serde_json::json!({
                "seq": seq,
                "nik": e.nik.masked(),
                "case": e.case.as_str(),
            }));
        append_audit_tx(&tx, &station_id, &event, self.clock.as_ref())?;
        if let Some(v) = &e.visit {
            counter::insert_visit_tx(&tx, &station_id, v, self.clock.as_ref())?;
        }
        tx.commit()?;
        Ok(JournalEntry {
            seq,
            enrollment_id: e.enrollment_id.clone(),
            masked_nik: e.nik.masked(),
            case: e.case.as_str().to_owned(),
            operator_id: e.operator_id.clone(),
            recorded_at,
            payload_len: e.payload.len() as i64,
        })
    }

    /// The journal row of `nik`'s recording at this station, if any.
    pub fn enrollment_by_nik(&self, nik: &Nik) -> Result<Option<JournalEntry>> {
        let key = nik_key(&self.conn)?;
        let hash = nik_hash(&key, nik);
        Ok(self
            .conn
            .query_row(
                &format!("{JOURNAL_SELECT} WHERE nik_hash = ?1"),
                [hash],
                journal_row,
            )
            .optional()?)
    }

    /// Journal rows after `after_seq`, at most `limit`, in order: what sync drains.
    pub fn journal_after(&self, after_seq: i64, limit: i64) -> Result<Vec<JournalEntry>> {
        let mut stmt = self.conn.prepare(&format!(
            "{JOURNAL_SELECT} WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![after_seq, limit], journal_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every row of the de-duplication index: `(seq, codes)` in journal order, to `each`.
    pub fn index_codes(&self, mut each: impl FnMut(i64, &[u8])) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, codes FROM biometric_index ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let codes = row.get_ref(1)?;
            let codes = codes.as_blob().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(1, codes.data_type(), Box::new(e))
            })?;
            each(row.get(0)?, codes);
        }
        Ok(())
    }

    /// The index row and the journal row of the recording at `seq`.
    pub fn index_entry(&self, seq: i64) -> Result<Option<(JournalEntry, IndexRow)>> {
        let row: Option<IndexRow> = self
            .conn
            .query_row(
                "SELECT i.codes, t.minutiae, t.irises
                 FROM biometric_index i JOIN biometric_template t ON t.seq = i.seq
                 WHERE i.seq = ?1",
                [seq],
                |r| {
                    Ok(IndexRow {
                        codes: r.get(0)?,
                        minutiae: r.get(1)?,
                        irises: r.get(2)?,
                    })
                },
            )
            .optional()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let entry = self.conn.query_row(
            &format!("{JOURNAL_SELECT} WHERE seq = ?1"),
            [seq],
            journal_row,
        )?;
        Ok(Some((entry, row)))
    }

    /// The stored payload of one recording.
    pub fn enrollment_payload(&self, enrollment_id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT payload FROM enrollment_journal WHERE enrollment_id = ?1",
                [enrollment_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// How many recordings the journal holds, and its highest sequence number.
    pub fn journal_stats(&self) -> Result<JournalStats> {
        let entries = self
            .conn
            .query_row("SELECT count(*) FROM enrollment_journal", [], |r| r.get(0))?;
        let head_seq = self
            .conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'enrollment_journal'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        Ok(JournalStats { entries, head_seq })
    }

    // ----- regions --------------------------------------------------------------------------

    /// The version of the region data held, if any was loaded.
    pub fn regions_version(&self) -> Result<Option<String>> {
        self.meta("regions_version")
    }

    /// Replaces the region master data with `regions`, tagged `version`, in one transaction.
    pub fn replace_regions(
        &mut self,
        regions: impl IntoIterator<Item = Region>,
        version: &str,
    ) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM region", [])?;
        let mut n = 0;
        {
            let mut insert = tx.prepare(
                "INSERT INTO region (code, level, parent, name) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in regions {
                insert.execute(params![
                    r.code.dotted(),
                    r.level().as_str(),
                    r.code.parent().map(|p| p.dotted()),
                    r.name
                ])?;
                n += 1;
            }
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('regions_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [version],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Regions whose name contains `query` (case-insensitive), optionally of one level, best
    /// matches first (exact, then prefix, then anywhere).
    pub fn search_regions(
        &self,
        query: &str,
        level: Option<RegionLevel>,
        limit: i64,
    ) -> Result<Vec<Region>> {
        let q = query.trim();
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let mut stmt = self.conn.prepare(
            "SELECT code, name FROM region
             WHERE name LIKE '%' || ?1 || '%' ESCAPE '\\' AND (?2 IS NULL OR level = ?2)
             ORDER BY (name = ?3 COLLATE NOCASE) DESC,
                      (name LIKE ?1 || '%' ESCAPE '\\') DESC,
                      length(code), code
             LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![escaped, level.map(RegionLevel::as_str), q, limit],
            code_and_name,
        )?;
        regions_of(rows)
    }

    /// The regions directly inside `parent`, by code.
    pub fn child_regions(&self, parent: &RegionCode) -> Result<Vec<Region>> {
        let mut stmt = self
            .conn
            .prepare("SELECT code, name FROM region WHERE parent = ?1 ORDER BY code")?;
        let rows = stmt.query_map([parent.dotted()], code_and_name)?;
        regions_of(rows)
    }

    /// How many regions of each level are held.
    pub fn region_counts(&self) -> Result<Vec<(RegionLevel, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT level, count(*) FROM region GROUP BY level")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (level, n) = row?;
            out.push((level.parse::<RegionLevel>()?, n));
        }
        out.sort();
        Ok(out)
    }

    fn lookup_region(&self, code: &RegionCode) -> Result<Option<Region>> {
        Ok(self
            .conn
            .query_row(
                "SELECT name FROM region WHERE code = ?1",
                [code.dotted()],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|name| Region {
                code: code.clone(),
                name,
            }))
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    // ----- maintenance ----------------------------------------------------------------------

    /// SQLite's own integrity check: `ok`, or the problems found.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Moves what the write-ahead log holds into the database and truncates the log to
    /// nothing, so the log does not keep the disk space of the largest transaction ever made
    /// (the region data at `init`, 11 MB). Readers of other connections may keep it from
    /// finishing; that is not an error.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// A secret kept inside the store (`station_secret`), wiped from memory when dropped.
    pub(crate) fn secret(&self, name: &str) -> Result<Option<Zeroizing<String>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM station_secret WHERE name = ?1",
                [name],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(Zeroizing::new))
    }

    /// Sets a secret, replacing any of that name.
    pub(crate) fn set_secret(&mut self, name: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO station_secret (name, value) VALUES (?1, ?2)",
            params![name, value],
        )?;
        Ok(())
    }

    /// Moves the secret `from` to `to` (replacing it) with `event` audited, in one
    /// transaction: a key rotation's finish.
    pub(crate) fn promote_secret(
        &mut self,
        from: &str,
        to: &str,
        event: &AuditEvent,
    ) -> Result<()> {
        let station_id = self.station_id()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let moved = tx.execute(
            "INSERT OR REPLACE INTO station_secret (name, value)
             SELECT ?2, value FROM station_secret WHERE name = ?1",
            params![from, to],
        )?;
        if moved != 1 {
            return Err(Error::Internal(format!("no secret {from} to put in place")));
        }
        tx.execute("DELETE FROM station_secret WHERE name = ?1", [from])?;
        append_audit_tx(&tx, &station_id, event, self.clock.as_ref())?;
        tx.commit()?;
        Ok(())
    }

    /// Writes a copy of the whole database, encrypted under `key`, to `to` (which must not
    /// exist), and syncs it: the first half of a re-key. Refused while another connection has
    /// the database open (the app, its background sync): switching out of WAL needs the only
    /// connection, and a re-key under another connection would lose its writes.
    pub(crate) fn export_rekeyed(&mut self, to: &Path, key: &StoreKey) -> Result<()> {
        self.checkpoint()?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(Error::StoreBusy);
        }
        let version = self.schema_version()?;
        // The connection may not create files: the copy starts as an empty file of ours.
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(to).map_err(|e| Error::io(to, e))?;
        let attach = Zeroizing::new(format!(
            "ATTACH DATABASE '{}' AS rekeyed KEY \"x'{}'\";",
            to.display().to_string().replace('\'', "''"),
            hex::encode(key.bytes())
        ));
        self.conn.execute_batch(&attach)?;
        let exported = self
            .conn
            .query_row("SELECT sqlcipher_export('rekeyed')", [], |_| Ok(()))
            .and_then(|()| {
                self.conn
                    .execute_batch(&format!("PRAGMA rekeyed.user_version = {version};"))
            });
        self.conn.execute_batch("DETACH DATABASE rekeyed;")?;
        exported?;
        std::fs::File::open(to)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(to, e))?;
        Ok(())
    }

    /// Whether `e` is SQLite's "database or disk is full".
    pub fn is_disk_full(e: &Error) -> bool {
        matches!(e, Error::Database(d) if d.sqlite_error_code() == Some(ErrorCode::DiskFull))
    }

    /// A consistent copy of the database at `dest` (a new file), encrypted with the same key:
    /// SQLite's `VACUUM INTO` reads one snapshot, so recordings sealed meanwhile are either
    /// wholly in the copy or not at all. The copy is synced to its disk before this returns.
    pub fn copy_to(&self, dest: &Path) -> Result<()> {
        let text = dest
            .to_str()
            .ok_or_else(|| Error::io(dest, std::io::Error::other("path is not UTF-8")))?;
        self.conn.execute("VACUUM INTO ?1", [text])?;
        std::fs::File::open(dest)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(dest, e))
    }
}

impl RegionDirectory for Store {
    fn region(&self, code: &RegionCode) -> Option<Region> {
        match self.lookup_region(code) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%code, error = %e, "region lookup failed");
                None
            }
        }
    }
}

fn code_and_name(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String)> {
    Ok((r.get(0)?, r.get(1)?))
}

/// Regions from `(code, name)` rows; a malformed stored code is an error, not a skipped row.
fn regions_of(
    rows: impl Iterator<Item = rusqlite::Result<(String, String)>>,
) -> Result<Vec<Region>> {
    rows.map(|row| {
        let (code, name) = row?;
        Ok(Region {
            code: RegionCode::parse(&code)?,
            name,
        })
    })
    .collect()
}

const JOURNAL_SELECT: &str = "SELECT seq, enrollment_id, masked_nik, case_type, operator_id,
        recorded_at, length(payload) FROM enrollment_journal";

/// The station's key for the NIKs' keyed hashes, made the first time it is needed.
pub(crate) fn nik_key(conn: &Connection) -> Result<Zeroizing<[u8; 32]>> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM station_secret WHERE name = 'nik_key'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let stored = stored.map(Zeroizing::new);
    let mut key = Zeroizing::new([0u8; 32]);
    match stored {
        Some(text) => hex::decode_to_slice(text.as_str(), key.as_mut())
            .map_err(|_| Error::Internal("the station's NIK key is damaged".into()))?,
        None => {
            fill_random(key.as_mut())?;
            conn.execute(
                "INSERT INTO station_secret (name, value) VALUES ('nik_key', ?1)",
                [Zeroizing::new(hex::encode(key.as_ref())).as_str()],
            )?;
        }
    }
    Ok(key)
}

/// HMAC-SHA-256 of `nik` under the station's NIK key, hex: what the journal keeps.
pub(crate) fn nik_hash(key: &[u8; 32], nik: &Nik) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(b"rekam-nik-v1\n");
    mac.update(nik.as_str().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn journal_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JournalEntry> {
    let masked: String = r.get(2)?;
    Ok(JournalEntry {
        seq: r.get(0)?,
        enrollment_id: r.get(1)?,
        // Only masked NIKs are ever written: anything else is a damaged row.
        masked_nik: MaskedNik::parse(&masked).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                "a stored masked NIK of another shape".into(),
            )
        })?,
        case: r.get(3)?,
        operator_id: r.get(4)?,
        recorded_at: r.get(5)?,
        payload_len: r.get(6)?,
    })
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        at: r.get(1)?,
        station_id: r.get(2)?,
        actor: r.get(3)?,
        action: r.get(4)?,
        subject: r.get(5)?,
        detail: r.get(6)?,
        prev_hash: hash_column(r, 7)?,
        hash: hash_column(r, 8)?,
    })
}

fn hash_column(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<audit::Hash> {
    let bytes: Vec<u8> = r.get(i)?;
    // A wrong length can only come from tampering; verification then reports the entry.
    let mut h = [0u8; 32];
    let n = bytes.len().min(32);
    h[..n].copy_from_slice(&bytes[..n]);
    Ok(h)
}

fn read_audit_head(conn: &Connection) -> Result<AuditHead> {
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM audit_head WHERE singleton = 1",
            [],
            |r| {
                Ok(AuditHead {
                    seq: r.get(0)?,
                    hash: hash_column(r, 1)?,
                })
            },
        )
        .optional()?
        .unwrap_or(AuditHead::EMPTY))
}

pub(super) fn append_audit_tx(
    tx: &rusqlite::Transaction<'_>,
    station_id: &str,
    event: &AuditEvent,
    clock: &dyn Clock,
) -> Result<AuditEntry> {
    let head = read_audit_head(tx)?;
    let mut entry = AuditEntry {
        seq: head.seq + 1,
        at: rfc3339(clock.now()),
        station_id: station_id.to_owned(),
        actor: event.actor.clone(),
        action: event.action.clone(),
        subject: event.subject.clone(),
        detail: event.detail.to_string(),
        prev_hash: head.hash,
        hash: audit::GENESIS,
    };
    entry.hash = entry.compute_hash();
    tx.execute(
        "INSERT INTO audit_log (seq, at, station_id, actor, action, subject, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            entry.seq,
            entry.at,
            entry.station_id,
            entry.actor,
            entry.action,
            entry.subject,
            entry.detail,
            entry.prev_hash.as_slice(),
            entry.hash.as_slice()
        ],
    )?;
    tx.execute(
        "INSERT INTO audit_head (singleton, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (singleton) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        params![entry.seq, entry.hash.as_slice()],
    )?;
    Ok(entry)
}

/// Creates an empty file readable by the owner only; SQLite gives the `-wal` and `-shm` files
/// the same mode.
fn create_private_file(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map(drop).map_err(|e| Error::io(path, e))
}

/// Opens a connection, applies the key and the station's pragmas, and proves the key works.
fn connect(path: &Path, key: &StoreKey, flags: OpenFlags) -> Result<Connection> {
    let conn = rekam_sqlcipher::open(path, flags, key.bytes())?;
    // SQLCipher logs a wrong key to stderr by itself; the operator gets our message instead.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    let cipher: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .optional()?;
    if cipher.is_none() {
        return Err(Error::NoEncryption);
    }
    // The first read decrypts page 1: a wrong key (or a file that is no database) fails here.
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        return Err(match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => Error::WrongKey(path.to_owned()),
            _ => Error::Database(e),
        });
    }
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "WAL journal mode unavailable");
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    fn clock() -> Arc<dyn Clock> {
        Arc::new(SystemClock)
    }

    #[test]
    fn a_copy_is_encrypted_with_the_same_key_and_holds_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::generate().unwrap();
        let store = Store::create_at(
            &dir.path().join("a.db"),
            &key,
            clock(),
            migrations::latest(),
        )
        .unwrap();
        let copy = dir.path().join("copy.db");
        store.copy_to(&copy).unwrap();
        let bytes = std::fs::read(&copy).unwrap();
        assert!(
            !bytes.starts_with(b"SQLite format 3"),
            "the copy is plain SQLite"
        );
        let reopened = Store::open(&copy, &key, clock()).unwrap();
        assert_eq!(reopened.integrity_check().unwrap(), ["ok"]);
        assert_eq!(
            reopened.verify_audit().unwrap(),
            store.verify_audit().unwrap()
        );
        assert!(matches!(
            Store::open(&copy, &StoreKey::generate().unwrap(), clock()),
            Err(Error::WrongKey(_))
        ));
        assert!(
            store.copy_to(&copy).is_err(),
            "an existing file is not overwritten"
        );
    }

    /// A store of schema `version` holding station ST-OLD.
    fn old_store(path: &Path, key: &StoreKey, version: i64) -> Store {
        let mut store = Store::create_at(path, key, clock(), version).unwrap();
        assert_eq!(store.schema_version().unwrap(), version);
        store
            .insert_station(
                &StationRow {
                    station_id: "ST-OLD".into(),
                    kecamatan: RegionCode::parse("32.73.01").unwrap(),
                    created_at: "2026-01-01T00:00:00Z".into(),
                },
                "test",
            )
            .unwrap();
        store
    }

    #[test]
    fn an_older_database_is_migrated_on_open_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("station.db");
        let key = StoreKey::generate().unwrap();
        drop(old_store(&path, &key, 1));
        let store = Store::open(&path, &key, clock()).unwrap();
        assert_eq!(store.schema_version().unwrap(), migrations::latest());
        assert_eq!(store.station().unwrap().unwrap().station_id, "ST-OLD");
        assert!(store.regions_version().unwrap().is_none());
        assert!(store.verify_audit().unwrap().is_intact());
    }

    #[test]
    fn the_journal_keeps_a_keyed_hash_of_the_nik_from_version_10_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("station.db");
        let key = StoreKey::generate().unwrap();
        let nik = "3273010101900001";
        {
            let v9 = old_store(&path, &key, 9);
            v9.conn
                .execute_batch(&format!(
                    "INSERT INTO enrollment_journal
                         (enrollment_id, nik, case_type, operator_id, recorded_at, payload)
                     VALUES ('ENR-OLD', '{nik}', 'new_recording', 'OP-01', '2026-01-02T00:00:00Z', x'01');
                     INSERT INTO sync_state (seq, state, updated_at)
                     VALUES (1, 'BIO_CAPTURED', '2026-01-02T00:00:00Z');"
                ))
                .unwrap();
        }
        let mut store = Store::open(&path, &key, clock()).unwrap();
        assert_eq!(store.schema_version().unwrap(), migrations::latest());
        // No column holds the NIK any more; the row is found by it, and shown masked.
        let text: String = store
            .conn
            .query_row(
                "SELECT group_concat(nik_hash || masked_nik || enrollment_id) FROM enrollment_journal",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            !text.contains(nik) && text.contains("327301********01"),
            "{text}"
        );
        let parsed = Nik::parse(nik).unwrap();
        let found = store.enrollment_by_nik(&parsed).unwrap().unwrap();
        assert_eq!(found.enrollment_id, "ENR-OLD");
        assert_eq!(
            store.backlog().unwrap().len(),
            1,
            "its sync state still joins"
        );
        // The once-only rule holds across the migration, and the sequence goes on.
        let again = NewEnrollment {
            enrollment_id: "ENR-NEW".into(),
            nik: parsed,
            case: CaseType::NewRecording,
            operator_id: "OP-01".into(),
            payload: vec![2],
            biometrics: None,
            visit: None,
        };
        assert!(matches!(
            store.append_enrollment(&again).unwrap_err(),
            Error::AlreadyRecorded { .. }
        ));
        let other = NewEnrollment {
            enrollment_id: "ENR-NEW".into(),
            nik: Nik::parse("3273014101920002").unwrap(),
            ..again
        };
        assert_eq!(store.append_enrollment(&other).unwrap().seq, 2);
        // The journal is append-only still.
        assert!(
            store
                .conn
                .execute("DELETE FROM enrollment_journal", [])
                .is_err()
        );
        assert!(
            store
                .conn
                .execute("UPDATE enrollment_journal SET masked_nik = 'x'", [])
                .is_err()
        );
    }

    /// A clarification is taken by a DUPLICATE_RECORD only, once, and the database keeps it
    /// as written.
    #[test]
    fn a_duplicate_is_clarified_once_and_the_outcome_stays() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::generate().unwrap();
        let mut store = old_store(&dir.path().join("station.db"), &key, migrations::latest());
        enrol(&mut store, "ENR-DUP", "3273014101920001");
        let audit = AuditEvent::new("SPV-01", "sync.clarify_duplicate", "ENR-DUP");
        let refused = |store: &mut Store| {
            store
                .clarify("ENR-DUP", Clarified::Disputed, "n", &audit)
                .unwrap_err()
                .code()
        };
        assert_eq!(refused(&mut store), "NOT_TO_CLARIFY", "not a duplicate yet");
        store
            .sync_result("ENR-DUP", Some(SyncState::DuplicateRecord), None, None)
            .unwrap();
        assert_eq!(store.backlog().unwrap().len(), 1, "a duplicate to clarify");
        store
            .clarify("ENR-DUP", Clarified::RecordedBefore, "BA-1", &audit)
            .unwrap();
        assert!(store.backlog().unwrap().is_empty());
        assert_eq!(refused(&mut store), "NOT_TO_CLARIFY", "once");
        for bad in [
            "UPDATE clarification SET outcome = 'DISPUTED'",
            "DELETE FROM clarification",
        ] {
            assert!(store.conn.execute(bad, []).is_err(), "{bad}");
        }
        assert!(store.verify_audit().unwrap().is_intact());
    }

    /// Appends a recording `id` of `nik` (a one-byte payload); its journal seq.
    fn enrol(store: &mut Store, id: &str, nik: &str) -> i64 {
        store
            .append_enrollment(&NewEnrollment {
                enrollment_id: id.into(),
                nik: Nik::parse(nik).unwrap(),
                case: CaseType::NewRecording,
                operator_id: "OP-01".into(),
                payload: vec![1],
                biometrics: None,
                visit: None,
            })
            .unwrap()
            .seq
    }

    #[test]
    fn a_packet_left_with_the_hub_keeps_its_receipt_and_is_left_again_after_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::generate().unwrap();
        let mut store = old_store(&dir.path().join("station.db"), &key, migrations::latest());
        let seq = enrol(&mut store, "ENR-HUB", "3273014101920001");
        let ids = |rows: Vec<(i64, String)>| rows.into_iter().map(|r| r.1).collect::<Vec<_>>();
        assert_eq!(ids(store.relay_candidates(10).unwrap()), ["ENR-HUB"]);
        store.relay_deposited(seq).unwrap();
        assert!(store.relay_candidates(10).unwrap().is_empty());
        // The result overtook the receipt: the receipt is still fetched, kept, state unchanged.
        store
            .sync_result("ENR-HUB", Some(SyncState::PrintReadyRecord), None, None)
            .unwrap();
        assert_eq!(ids(store.relay_waiting(10).unwrap()), ["ENR-HUB"]);
        assert!(store.sync_sent(seq, "{}", "relayed").unwrap());
        assert!(!store.sync_sent(seq, "{}", "relayed").unwrap(), "kept once");
        assert!(store.relay_waiting(10).unwrap().is_empty());
        assert_eq!(
            store
                .sync_counts()
                .unwrap()
                .get(&SyncState::PrintReadyRecord),
            Some(&1)
        );

        // A failure at the data center: the hub's receipt is stale, the packet is left again.
        let seq2 = enrol(&mut store, "ENR-FAIL", "3273014101920002");
        store.relay_deposited(seq2).unwrap();
        assert!(store.sync_sent(seq2, "{}", "relayed").unwrap());
        store.sync_result("ENR-FAIL", None, None, None).unwrap();
        assert_eq!(ids(store.relay_candidates(10).unwrap()), ["ENR-FAIL"]);
        assert!(store.relay_waiting(10).unwrap().is_empty());
    }

    #[test]
    fn a_reissue_request_is_kept_with_its_visit_and_answered_once() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::generate().unwrap();
        let mut store = old_store(&dir.path().join("station.db"), &key, migrations::latest());
        let visit = NewVisit {
            visit_id: "R-1".into(),
            workflow: VisitWorkflow::Reissue,
            queue_number: None,
            operator_id: "OP-01".into(),
            case: Some(CaseType::LostCard),
            masked_nik: None,
            outcome: VisitOutcome::Requested,
            code: None,
            started_at: clock().now(),
            steps: Vec::new(),
            detail: serde_json::Value::Null,
        };
        store.append_reissue(&visit, "R-1", "{}").unwrap();
        assert!(
            store.append_reissue(&visit, "R-1", "{}").is_err(),
            "an id once"
        );
        assert_eq!(store.reissue_requests(true).unwrap().len(), 1);
        assert!(store.reissue_answered("R-1", "{\"a\":1}").unwrap());
        assert!(!store.reissue_answered("R-1", "{\"a\":2}").unwrap(), "once");
        assert!(store.reissue_requests(true).unwrap().is_empty());
        let kept = store.reissue_requests(false).unwrap();
        assert_eq!(kept[0].answer.as_deref(), Some("{\"a\":1}"));
        for bad in [
            "UPDATE reissue_request SET answer = 'x'",
            "DELETE FROM reissue_request",
        ] {
            assert!(store.conn.execute(bad, []).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_newer_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("station.db");
        let key = StoreKey::generate().unwrap();
        {
            let store = Store::create(&path, &key, clock()).unwrap();
            store
                .conn
                .pragma_update(None, "user_version", migrations::latest() + 7)
                .unwrap();
        }
        match Store::open(&path, &key, clock()) {
            Err(Error::NewerSchema { found, supported }) => {
                assert_eq!(
                    (found, supported),
                    (migrations::latest() + 7, migrations::latest())
                )
            }
            other => panic!("expected NewerSchema, got {other:?}"),
        }
    }

    #[test]
    fn migrations_are_numbered_in_order() {
        for (i, m) in migrations::MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
    }
}
