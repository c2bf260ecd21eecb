//! The Dinas's population extract in the store: the key it must be signed with, the extract in
//! force, its residents by NIK, and a reader on a connection of its own so a counter can look
//! a resident up while its station connection is in use.

use super::{Store, StoreKey, append_audit_tx, connect};
use crate::audit::{AuditEntry, AuditEvent};
use crate::clock::rfc3339;
use crate::domain::nik::Nik;
use crate::domain::population::{Entry, ExtractHeader, ExtractKind, PopulationRecord, Source};
use crate::{Error, Result};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use serde::Serialize;
use std::path::Path;
use time::OffsetDateTime;

/// The extract in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtractState {
    /// Its kecamatan.
    pub region: String,
    /// The desa it is limited to; empty: the whole kecamatan.
    pub villages: Vec<String>,
    /// Its number in the series (the last delta applied).
    pub sequence: u64,
    /// The time its data is as of.
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    /// Who issued it.
    pub issuer: String,
    /// The key it was signed with.
    pub signer: String,
    /// When it was imported here (RFC 3339).
    pub imported_at: String,
    /// Residents it holds.
    pub residents: u64,
}

impl ExtractState {
    /// Where an answer from it came from.
    pub fn source(&self) -> Source {
        Source::Extract {
            region: self.region.clone(),
            sequence: self.sequence,
            as_of: self.as_of,
        }
    }
}

fn state(conn: &Connection) -> Result<Option<ExtractState>> {
    let row = conn
        .query_row(
            "SELECT region, villages, sequence, as_of, issuer, signer, imported_at, residents
             FROM population_extract WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            },
        )
        .optional()?;
    let Some((region, villages, sequence, as_of, issuer, signer, imported_at, residents)) = row
    else {
        return Ok(None);
    };
    let damaged = |what: &str| Error::Internal(format!("the stored extract's {what} is damaged"));
    Ok(Some(ExtractState {
        region,
        villages: serde_json::from_str(&villages).map_err(|_| damaged("desa list"))?,
        sequence: u64::try_from(sequence).map_err(|_| damaged("number"))?,
        as_of: OffsetDateTime::parse(&as_of, &time::format_description::well_known::Rfc3339)
            .map_err(|_| damaged("date"))?,
        issuer,
        signer,
        imported_at,
        residents: u64::try_from(residents).unwrap_or(0),
    }))
}

fn record(conn: &Connection, nik: &Nik) -> Result<Option<PopulationRecord>> {
    conn.query_row(
        "SELECT record FROM population WHERE nik = ?1",
        [nik.as_str()],
        |r| r.get::<_, String>(0),
    )
    .optional()?
    .map(|json| {
        serde_json::from_str(&json)
            .map_err(|_| Error::Internal("a stored population record is damaged".into()))
    })
    .transpose()
}

impl Store {
    /// The Dinas key extracts must be signed with (hex), if one is pinned.
    pub fn population_signer(&self) -> Result<Option<String>> {
        self.meta("population_signer")
    }

    /// Pins the Dinas key (hex), with its audit entry, in one transaction.
    pub fn pin_population_signer(
        &mut self,
        public_hex: &str,
        event: &AuditEvent,
    ) -> Result<AuditEntry> {
        self.set_meta_audited(&[("population_signer", public_hex)], event)
    }

    /// The extract in force, if any.
    pub fn extract_state(&self) -> Result<Option<ExtractState>> {
        state(&self.conn)
    }

    /// The resident `nik` in the extract in force.
    pub fn population_record(&self, nik: &Nik) -> Result<Option<PopulationRecord>> {
        record(&self.conn, nik)
    }

    /// Applies a verified extract in one transaction with its audit entry: a base replaces
    /// every resident, a delta adds, changes and removes. Whether it may apply (its region,
    /// its number) is the caller's check; a kill at any point leaves the extract before it.
    /// `progress` is told (done, total) every 1,000 entries.
    pub fn apply_extract(
        &mut self,
        header: &ExtractHeader,
        entries: &[Entry],
        event: &AuditEvent,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<AuditEntry> {
        let station_id = self.station_id()?;
        let now = rfc3339(self.clock.now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if header.kind == ExtractKind::Base {
            tx.execute("DELETE FROM population", [])?;
        }
        apply_entries(&tx, entries, &mut progress)?;
        let villages =
            serde_json::to_string(&header.villages).map_err(|e| Error::Internal(e.to_string()))?;
        // The count is kept with the header, so a lookup never counts the residents.
        tx.execute(
            "INSERT INTO population_extract
                 (id, region, villages, sequence, as_of, issuer, signer, imported_at, residents)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT count(*) FROM population))
             ON CONFLICT (id) DO UPDATE SET region = excluded.region,
                 villages = excluded.villages, sequence = excluded.sequence,
                 as_of = excluded.as_of, issuer = excluded.issuer, signer = excluded.signer,
                 imported_at = excluded.imported_at, residents = excluded.residents",
            params![
                header.region,
                villages,
                i64::try_from(header.sequence).unwrap_or(i64::MAX),
                rfc3339(header.as_of),
                header.issuer,
                header.signer.to_string(),
                now,
            ],
        )?;
        let entry = append_audit_tx(&tx, &station_id, event, self.clock.as_ref())?;
        tx.commit()?;
        Ok(entry)
    }
}

fn apply_entries(
    tx: &Transaction<'_>,
    entries: &[Entry],
    progress: &mut impl FnMut(u64, u64),
) -> Result<()> {
    let mut upsert = tx.prepare(
        "INSERT INTO population (nik, record) VALUES (?1, ?2)
         ON CONFLICT (nik) DO UPDATE SET record = excluded.record",
    )?;
    let mut remove = tx.prepare("DELETE FROM population WHERE nik = ?1")?;
    let total = entries.len() as u64;
    // In NIK order, the residents go into the table's B-tree as appends instead of scattered
    // page writes. The sort is stable: a NIK named twice in a delta keeps its order.
    let nik = |e: &Entry| match e {
        Entry::Upsert { record } => record.biodata.nik.as_str().to_owned(),
        Entry::Remove { nik } => nik.as_str().to_owned(),
    };
    let mut ordered: Vec<&Entry> = entries.iter().collect();
    ordered.sort_by_cached_key(|e| nik(e));
    for (i, e) in ordered.into_iter().enumerate() {
        match e {
            Entry::Upsert { record } => {
                let json =
                    serde_json::to_string(record).map_err(|e| Error::Internal(e.to_string()))?;
                upsert.execute(params![record.biodata.nik.as_str(), json])?;
            }
            Entry::Remove { nik } => {
                remove.execute([nik.as_str()])?;
            }
        }
        if i % 1000 == 999 {
            progress(i as u64 + 1, total);
        }
    }
    progress(total, total);
    Ok(())
}

/// The extract in force, read on a connection of its own (read-only).
#[derive(Debug)]
pub struct PopulationReader {
    conn: Connection,
}

impl PopulationReader {
    /// Opens the store at `path` for reading the extract.
    pub fn open(path: &Path, key: &StoreKey) -> Result<PopulationReader> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Ok(PopulationReader {
            conn: connect(path, key, flags)?,
        })
    }

    /// The extract in force, if any.
    pub fn state(&self) -> Result<Option<ExtractState>> {
        state(&self.conn)
    }

    /// The resident `nik` in the extract in force, if it knows them.
    pub fn lookup(&self, nik: &Nik) -> Result<Option<PopulationRecord>> {
        record(&self.conn, nik)
    }
}
