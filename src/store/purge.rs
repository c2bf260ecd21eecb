//! Purging what the data center has answered for good: less to lose.
//!
//! A recording whose final answer (PRINT_READY_RECORD or DUPLICATE_RECORD) came longer ago than
//! the retention has its sealed packet emptied and its biometric rows (screening codes,
//! minutiae, iris codes) removed. Its journal row stays: packet id, the NIK for the once-only
//! rule, case, operator and time; and the purge log keeps the packet's SHA-256 and size.
//!
//! Invariants: each recording is purged in one transaction with its purge row and its audit
//! entry, so a kill leaves it whole or purged, never half (and the next purge goes on from
//! there); the triggers of the journal and the biometric tables accept this change and no
//! other, and only for a recording in the purge log (migration 9); nothing not final is ever
//! purged.

use super::{Store, append_audit_tx};
use crate::Result;
use crate::audit::AuditEvent;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;

/// What one purge removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    /// The journal's sequence number.
    pub seq: i64,
    /// The packet.
    pub enrollment_id: String,
    /// The sealed packet's size, bytes.
    pub bytes: u64,
}

impl Store {
    /// The recordings answered for good before `cutoff` whose packet is still here, oldest
    /// first.
    /// (Run after every sync pass: the store compares the times, nothing is read back.)
    pub fn purgeable(&self, cutoff: OffsetDateTime) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.seq FROM sync_state s
             WHERE s.state IN ('PRINT_READY_RECORD', 'DUPLICATE_RECORD')
               AND unixepoch(s.updated_at, 'subsec') < ?1
               AND NOT EXISTS (SELECT 1 FROM purged p WHERE p.seq = s.seq)
             ORDER BY s.seq",
        )?;
        let cutoff = cutoff.unix_timestamp_nanos() as f64 / 1e9;
        let due = stmt
            .query_map([cutoff], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(due)
    }

    /// Purges recording `seq` (see the module): `None` when it is already purged or not
    /// answered for good.
    pub fn purge(&mut self, seq: i64, actor: &str) -> Result<Option<Purged>> {
        let station_id = self.station_id()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String, Vec<u8>, String)> = tx
            .query_row(
                "SELECT j.enrollment_id, j.masked_nik, j.payload, s.state
                 FROM enrollment_journal j JOIN sync_state s ON s.seq = j.seq
                 WHERE j.seq = ?1 AND NOT EXISTS (SELECT 1 FROM purged p WHERE p.seq = j.seq)",
                [seq],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((enrollment_id, masked, payload, state)) = row else {
            return Ok(None);
        };
        if !matches!(state.as_str(), "PRINT_READY_RECORD" | "DUPLICATE_RECORD") {
            return Ok(None);
        }
        let hash = hex::encode(rekam_packet::sha256(&[&payload]));
        let bytes = payload.len() as u64;
        tx.execute(
            "INSERT INTO purged (seq, purged_at, content_hash, bytes) VALUES (?1, ?2, ?3, ?4)",
            params![
                seq,
                crate::clock::rfc3339(self.clock.now()),
                hash,
                bytes as i64
            ],
        )?;
        tx.execute(
            "UPDATE enrollment_journal SET payload = x'' WHERE seq = ?1",
            [seq],
        )?;
        tx.execute("DELETE FROM biometric_template WHERE seq = ?1", [seq])?;
        tx.execute("DELETE FROM biometric_index WHERE seq = ?1", [seq])?;
        append_audit_tx(
            &tx,
            &station_id,
            &AuditEvent::new(actor, "recording.purge", &enrollment_id).with_detail(
                serde_json::json!({
                    "nik": masked,
                    "state": state,
                    "sha256": hash,
                    "bytes": bytes,
                }),
            ),
            self.clock.as_ref(),
        )?;
        tx.commit()?;
        Ok(Some(Purged {
            seq,
            enrollment_id,
            bytes,
        }))
    }

    /// How many recordings were purged, and the bytes of their packets.
    pub fn purged_totals(&self) -> Result<(i64, i64)> {
        Ok(self.conn.query_row(
            "SELECT count(*), COALESCE(sum(bytes), 0) FROM purged",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }
}
