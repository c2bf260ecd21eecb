//! Revoking a station's keys (`rekam-gateway revoke`): a laptop is reported stolen, and from
//! that moment nothing its keys sign is accepted (requests, packets online or in a bundle,
//! bundle manifests, key rotations). Every refused use is kept, so the Dinas sees whether the
//! copy is being used and from when; packets received in the window before the report are
//! listed for review, since the thief may have sent them.
//!
//! A replacement machine registers under the same station id with a new one-time token: the
//! station's recordings at the data center stay its own.

use crate::api::Refusal;
use crate::{Gateway, GatewayError, Result};
use axum::http::StatusCode;
use rusqlite::{Connection, TransactionBehavior, params};
use serde::Serialize;

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revoked {
    /// The station.
    pub station_id: String,
    /// When (Unix seconds).
    pub revoked_at: i64,
    /// The keys revoked now (those revoked before are not repeated).
    pub keys: Vec<String>,
    /// Packets received from the station since the time the key may have been in other hands.
    pub suspect: Vec<SuspectPacket>,
}

/// A packet received from a revoked station after the time its key may have been stolen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuspectPacket {
    /// The packet.
    pub packet_id: String,
    /// When it arrived (Unix seconds).
    pub received_at: i64,
}

/// A revoked station as the Dinas reviews it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// The station.
    pub station_id: String,
    /// Its revoked keys, with when they were revoked.
    pub keys: Vec<(String, i64)>,
    /// Why (as the Dinas wrote it).
    pub reason: String,
    /// Packets received in the window before the revocation.
    pub suspect: Vec<SuspectPacket>,
    /// What was tried with a revoked key since: (Unix seconds, key id, what).
    pub refused_uses: Vec<(i64, String, String)>,
}

impl Gateway {
    /// Revokes every key of `station_id` now. `suspect_from` (Unix seconds, at most now) is
    /// when the machine may have left the station's hands: packets received since then are
    /// listed for review. Revoking again adds nothing and lists the same.
    pub fn revoke(
        &self,
        station_id: &str,
        suspect_from: Option<i64>,
        reason: &str,
    ) -> Result<Revoked> {
        let now = self.now();
        let from = suspect_from.unwrap_or(now).min(now);
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !crate::db::station_exists(&tx, station_id)? {
            return Err(GatewayError::UnknownStation(station_id.to_owned()));
        }
        let keys: Vec<String> = tx
            .prepare(
                "SELECT k.key_id FROM station_key k
                 WHERE k.station_id = ?1
                   AND NOT EXISTS (SELECT 1 FROM key_revocation r WHERE r.key_id = k.key_id)
                 ORDER BY k.added_at",
            )?
            .query_map([station_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for key in &keys {
            tx.execute(
                "INSERT INTO key_revocation (key_id, station_id, revoked_at, suspect_from, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key, station_id, now, from, reason],
            )?;
        }
        let suspect = suspect_packets(&tx, station_id)?;
        tx.commit()?;
        tracing::warn!(station = %station_id, keys = keys.len(), suspect = suspect.len(), "station keys revoked");
        Ok(Revoked {
            station_id: station_id.to_owned(),
            revoked_at: now,
            keys,
            suspect,
        })
    }

    /// Every station with a revoked key: its keys, the packets to review and what was tried
    /// with them since.
    pub fn revocations(&self) -> Result<Vec<Revocation>> {
        let conn = self.db();
        let stations: Vec<(String, String)> = conn
            .prepare(
                "SELECT station_id, MAX(reason) FROM key_revocation
                 GROUP BY station_id ORDER BY station_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        for (station_id, reason) in stations {
            let keys = conn
                .prepare(
                    "SELECT key_id, revoked_at FROM key_revocation WHERE station_id = ?1
                     ORDER BY revoked_at, key_id",
                )?
                .query_map([&station_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let refused_uses = conn
                .prepare(
                    "SELECT at, key_id, what FROM revoked_use WHERE station_id = ?1 ORDER BY seq",
                )?
                .query_map([&station_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            out.push(Revocation {
                suspect: suspect_packets(&conn, &station_id)?,
                station_id,
                keys,
                reason,
                refused_uses,
            });
        }
        Ok(out)
    }
}

/// Packets received from `station_id` between the earliest suspect time of its revocations
/// and the latest revocation.
fn suspect_packets(conn: &Connection, station_id: &str) -> rusqlite::Result<Vec<SuspectPacket>> {
    conn.prepare(
        "SELECT packet_id, received_at FROM packet
         WHERE station_id = ?1
           AND received_at >= (SELECT MIN(suspect_from) FROM key_revocation WHERE station_id = ?1)
           AND received_at <= (SELECT MAX(revoked_at) FROM key_revocation WHERE station_id = ?1)
         ORDER BY receipt_no",
    )?
    .query_map([station_id], |r| {
        Ok(SuspectPacket {
            packet_id: r.get(0)?,
            received_at: r.get(1)?,
        })
    })?
    .collect()
}

/// Keeps a use of a revoked key and answers it: nothing that key signs is accepted.
pub(crate) fn refuse_revoked(
    conn: &Connection,
    now: i64,
    station_id: &str,
    key_id: &str,
    revoked_at: i64,
    what: &str,
) -> Refusal {
    tracing::warn!(station = %station_id, key = %key_id, %what, "revoked key used");
    if let Err(e) = conn.execute(
        "INSERT INTO revoked_use (station_id, key_id, at, what) VALUES (?1, ?2, ?3, ?4)",
        params![station_id, key_id, now, what],
    ) {
        return Refusal::internal(e);
    }
    Refusal::new(
        StatusCode::FORBIDDEN,
        "STATION_KEY_REVOKED",
        revoked_message(station_id, key_id, revoked_at),
    )
}

/// Why a revoked key is refused, and what the station's people do.
pub(crate) fn revoked_message(station_id: &str, key_id: &str, revoked_at: i64) -> String {
    format!(
        "key {key_id} of station {station_id} was revoked by the Dinas at {}: nothing it signs is accepted; a replacement station registers with a new token from the Dinas",
        rfc3339(revoked_at)
    )
}

/// Unix seconds as RFC 3339 (UTC), or the number when out of range.
pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}
