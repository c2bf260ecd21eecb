//! What the station knows of its kecamatan server (hub): where it is and its pinned identity
//! (`meta`: `hub_url`, `hub_identity`), which sealed recordings it has taken into the
//! kecamatan's gallery (`hub_enrollment`), and the conflicts it found (`hub_conflict`).
//!
//! Invariant: a sealed recording whose biometric rows are still here and that has no hub
//! `record` is pending: the next pass sends it, however many passes failed before.

use super::{IndexRow, JournalEntry, Store, journal_row};
use crate::Result;
use crate::audit::{AuditEntry, AuditEvent};
use crate::clock::rfc3339;
use rusqlite::{OptionalExtension, params};

/// A sealed recording the hub has not taken yet.
#[derive(Debug, Clone)]
pub struct HubPending {
    /// Its journal row.
    pub entry: JournalEntry,
    /// Its templates.
    pub row: IndexRow,
    /// The claim of the check before sealing, if the hub answered then.
    pub claim: Option<String>,
    /// When the hub checked it before sealing (RFC 3339).
    pub checked_at: Option<String>,
}

/// A recording of another counter in the copy of the kecamatan's gallery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GalleryRow {
    /// The hub's enrollment order.
    pub seq: i64,
    /// The counter that recorded it.
    pub station_id: String,
    /// The NIK, masked.
    pub masked_nik: String,
    /// The packet id.
    pub packet_id: String,
    /// When it was sealed (RFC 3339).
    pub recorded_at: String,
    /// Its templates.
    pub row: IndexRow,
}

impl Store {
    /// Adds recordings to the copy of the kecamatan's gallery (one transaction); with
    /// `caught_up_at`, the copy is now as of then.
    pub fn add_gallery(&mut self, rows: &[GalleryRow], caught_up_at: Option<&str>) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO kecamatan_gallery
                     (seq, station_id, masked_nik, packet_id, recorded_at, codes, minutiae, irises)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for g in rows {
                insert.execute(params![
                    g.seq,
                    g.station_id,
                    g.masked_nik,
                    g.packet_id,
                    g.recorded_at,
                    g.row.codes,
                    g.row.minutiae,
                    g.row.irises
                ])?;
            }
        }
        if let Some(at) = caught_up_at {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('hub_gallery_as_of', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The newest place the copy holds (0 for none).
    pub fn gallery_cursor(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM kecamatan_gallery",
            [],
            |r| r.get(0),
        )?)
    }

    /// When the copy last caught up with the hub (RFC 3339), if ever.
    pub fn gallery_as_of(&self) -> Result<Option<String>> {
        self.meta("hub_gallery_as_of")
    }

    /// Calls `each` with the place and screening codes of every row of the copy after `after`.
    pub fn gallery_codes_after(&self, after: i64, mut each: impl FnMut(i64, &[u8])) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, codes FROM kecamatan_gallery WHERE seq > ?1 ORDER BY seq")?;
        let mut rows = stmt.query([after])?;
        while let Some(r) = rows.next()? {
            let codes = r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            each(r.get(0)?, codes);
        }
        Ok(())
    }

    /// One row of the copy.
    pub fn gallery_entry(&self, seq: i64) -> Result<Option<GalleryRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, station_id, masked_nik, packet_id, recorded_at, codes, minutiae, irises
                 FROM kecamatan_gallery WHERE seq = ?1",
                [seq],
                |r| {
                    Ok(GalleryRow {
                        seq: r.get(0)?,
                        station_id: r.get(1)?,
                        masked_nik: r.get(2)?,
                        packet_id: r.get(3)?,
                        recorded_at: r.get(4)?,
                        row: IndexRow {
                            codes: r.get(5)?,
                            minutiae: r.get(6)?,
                            irises: r.get(7)?,
                        },
                    })
                },
            )
            .optional()?)
    }

    /// The hub's address and pinned identity (JSON), if the station registered with one.
    pub fn hub(&self) -> Result<Option<(String, String)>> {
        Ok(self.meta("hub_url")?.zip(self.meta("hub_identity")?))
    }

    /// Pins the hub at `url` with its identity (JSON), with its audit entry.
    pub fn pin_hub(
        &mut self,
        url: &str,
        identity_json: &str,
        event: &AuditEvent,
    ) -> Result<AuditEntry> {
        self.set_meta_audited(&[("hub_url", url), ("hub_identity", identity_json)], event)
    }

    /// Notes the hub's claim for the recording sealed at `seq` (its check before sealing).
    pub fn hub_checked(&mut self, seq: i64, claim: &str, checked_at: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO hub_enrollment (seq, claim, checked_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (seq) DO UPDATE SET claim = excluded.claim, checked_at = excluded.checked_at",
            params![seq, claim, checked_at],
        )?;
        Ok(())
    }

    /// Notes that the hub took the recording at `seq` as its record `record`.
    pub fn hub_enrolled(&mut self, seq: i64, record: i64) -> Result<()> {
        let now = rfc3339(self.clock.now());
        self.conn.execute(
            "INSERT INTO hub_enrollment (seq, record, enrolled_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (seq) DO UPDATE SET record = excluded.record, enrolled_at = excluded.enrolled_at",
            params![seq, record, now],
        )?;
        Ok(())
    }

    /// Up to `limit` sealed recordings the hub has not taken, oldest first.
    pub fn hub_pending(&self, limit: u32) -> Result<Vec<HubPending>> {
        let sql = "SELECT j.seq, j.enrollment_id, j.masked_nik, j.case_type, j.operator_id,
                    j.recorded_at, length(j.payload), i.codes, t.minutiae, t.irises, h.claim,
                    h.checked_at
             FROM enrollment_journal j
             JOIN biometric_index i ON i.seq = j.seq
             JOIN biometric_template t ON t.seq = j.seq
             LEFT JOIN hub_enrollment h ON h.seq = j.seq
             WHERE h.record IS NULL
             ORDER BY j.seq LIMIT ?1";
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok(HubPending {
                    entry: journal_row(r)?,
                    row: IndexRow {
                        codes: r.get(7)?,
                        minutiae: r.get(8)?,
                        irises: r.get(9)?,
                    },
                    claim: r.get(10)?,
                    checked_at: r.get(11)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Sealed recordings the hub has not taken.
    pub fn hub_pending_count(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM biometric_index i
             WHERE NOT EXISTS (SELECT 1 FROM hub_enrollment h WHERE h.seq = i.seq AND h.record IS NOT NULL)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Up to `limit` recordings not at the data center and not left with the hub: `(seq,
    /// packet id)`, oldest first.
    pub fn relay_candidates(&self, limit: u32) -> Result<Vec<(i64, String)>> {
        self.relay_rows(
            "s.state IN ('BIO_CAPTURED', 'UPLOADING', 'EXPORTED')
             AND NOT EXISTS (SELECT 1 FROM hub_relay r WHERE r.seq = j.seq)",
            limit,
        )
    }

    /// Recordings left with the hub whose receipt the station does not hold yet: those not at
    /// the data center, and those whose result came through the hub before their receipt did.
    pub fn relay_waiting(&self, limit: u32) -> Result<Vec<(i64, String)>> {
        self.relay_rows(
            "(s.state IN ('BIO_CAPTURED', 'UPLOADING', 'EXPORTED') OR s.receipt IS NULL)
             AND EXISTS (SELECT 1 FROM hub_relay r WHERE r.seq = j.seq)",
            limit,
        )
    }

    fn relay_rows(&self, filter: &str, limit: u32) -> Result<Vec<(i64, String)>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT j.seq, j.enrollment_id FROM enrollment_journal j
               JOIN sync_state s ON s.seq = j.seq
              WHERE length(j.payload) > 0 AND {filter}
              ORDER BY j.seq LIMIT ?1"
        ))?;
        let rows = stmt
            .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Notes that the recording at `seq` was left with the hub.
    pub fn relay_deposited(&mut self, seq: i64) -> Result<()> {
        let now = rfc3339(self.clock.now());
        self.conn.execute(
            "INSERT OR IGNORE INTO hub_relay (seq, deposited_at) VALUES (?1, ?2)",
            params![seq, now],
        )?;
        Ok(())
    }

    /// Keeps a conflict the hub found (JSON), once by its number.
    pub fn add_hub_conflict(&mut self, id: i64, conflict_json: &str) -> Result<bool> {
        let now = rfc3339(self.clock.now());
        let added = self.conn.execute(
            "INSERT OR IGNORE INTO hub_conflict (id, conflict, received_at) VALUES (?1, ?2, ?3)",
            params![id, conflict_json, now],
        )?;
        Ok(added == 1)
    }

    /// The newest conflict's number (the feed's cursor).
    pub fn hub_conflict_cursor(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT MAX(id) FROM hub_conflict", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .optional()?
            .flatten()
            .unwrap_or(0))
    }

    /// Every conflict kept, oldest first (JSON).
    pub fn hub_conflicts(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT conflict FROM hub_conflict ORDER BY id")?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }
}
