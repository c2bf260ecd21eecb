//! The stations' audit chain heads, anchored at the data center.
//!
//! Each heartbeat carries the station's audit head (`seq:hash` of its last audit entry). The
//! data center keeps every head it is told, append-only (triggers refuse UPDATE and DELETE),
//! and raises an alarm when a head goes back (a lower entry number than one already seen) or
//! forks (the same entry number with another hash): a station's log rewritten, its database
//! replaced by an older copy or restored from a backup, or a second machine using its key.
//! Alarms are listed with the station (`rekam-gateway stations`); the heartbeat is still
//! taken, since a station restored from a backup is legitimate and must go on working.
//!
//! What this does not catch: a chain replaced wholesale by a longer one that was never
//! anchored at the lower entry numbers; the station would have to prove each head extends
//! the last anchored one, which its heartbeat does not carry yet.

use crate::api::Refusal;
use crate::{Gateway, Result};
use axum::http::StatusCode;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// A head as the station sends it.
fn parse(head: &str) -> Option<(i64, &str)> {
    let (seq, hash) = head.split_once(':')?;
    let seq: i64 = seq.parse().ok().filter(|s| *s >= 0)?;
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some((seq, hash))
}

impl Gateway {
    /// Anchors `head` for `station_id`; an alarm when it goes back or forks.
    pub(crate) fn anchor_audit_head(&self, station_id: &str, head: &str) -> Result<(), Refusal> {
        let (seq, hash) = parse(head).ok_or_else(|| {
            Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "AUDIT_HEAD_MALFORMED",
                format!("the audit head {head:?} is not <entry number>:<64 hex digits>"),
            )
        })?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let same_seq: Option<String> = tx
            .query_row(
                "SELECT hash FROM audit_anchor WHERE station_id = ?1 AND seq = ?2 AND hash <> ?3
                 LIMIT 1",
                params![station_id, seq, hash],
                |r| r.get(0),
            )
            .optional()?;
        let highest: Option<i64> = tx.query_row(
            "SELECT MAX(seq) FROM audit_anchor WHERE station_id = ?1",
            [station_id],
            |r| r.get(0),
        )?;
        let alarm = match (same_seq, highest) {
            (Some(before), _) => Some(format!(
                "audit log forked at entry {seq}: hash {} before, {} now (a second machine with this station's key, or its log rewritten)",
                &before[..12],
                &hash[..12]
            )),
            (None, Some(h)) if seq < h => Some(format!(
                "audit log went back from entry {h} to {seq} (the database replaced by an older copy or restored from a backup: check with the station)"
            )),
            _ => None,
        };
        if let Some(what) = &alarm {
            tracing::warn!(station = %station_id, %what, "audit head alarm");
            tx.execute(
                "INSERT INTO audit_alarm (station_id, at, what) VALUES (?1, ?2, ?3)",
                params![station_id, now, what],
            )?;
        }
        tx.execute(
            "INSERT OR IGNORE INTO audit_anchor (station_id, seq, hash, at) VALUES (?1, ?2, ?3, ?4)",
            params![station_id, seq, hash, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The audit alarms raised for `station_id`, oldest first.
    pub fn audit_alarms(&self, station_id: &str) -> Result<Vec<String>> {
        let conn = self.db();
        let mut stmt =
            conn.prepare("SELECT what FROM audit_alarm WHERE station_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([station_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_head_is_an_entry_number_and_a_sha256() {
        let h = "ab".repeat(32);
        assert_eq!(parse(&format!("7:{h}")), Some((7, h.as_str())));
        assert_eq!(parse(&format!("-1:{h}")), None);
        assert_eq!(parse(&format!("7:{}", &h[..10])), None);
        assert_eq!(parse(&h), None);
    }

    #[test]
    fn anchors_cannot_be_changed_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::db::DbKey::generate().unwrap();
        let conn = crate::db::open(&dir.path().join("g.db"), &key).unwrap();
        conn.execute(
            "INSERT INTO audit_anchor (station_id, seq, hash, at) VALUES ('S', 1, 'h', 0)",
            [],
        )
        .unwrap();
        for sql in [
            "UPDATE audit_anchor SET hash = 'x'",
            "DELETE FROM audit_anchor",
        ] {
            let e = conn.execute(sql, []).unwrap_err();
            assert!(e.to_string().contains("append-only"), "{e}");
        }
    }
}
