//! The cards a Dinas station personalised (`card`, migration 15): each written with its
//! personalisation's visit row in one transaction, then reported to the data center by the sync
//! pass, so the record leaves the Dinas's print queue; a card that came back (its handover
//! failed) is recorded here and reported too, which puts the record on the queue again.
//!
//! Invariants: a record has at most one card in circulation (a partial unique index); a report
//! is marked sent only after the data center accepted it, so a crash or a dead link sends it
//! again at the next pass (the data center answers a repeat the same).

use super::Store;
use super::counter::{NewVisit, insert_visit_tx};
use crate::audit::AuditEvent;
use crate::clock::rfc3339;
use crate::{Error, Result};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// A report the data center has not accepted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardReport {
    /// A card personalised.
    Issued {
        /// The record.
        packet_id: String,
        /// The chip's serial.
        card_serial: String,
        /// When (Unix seconds).
        at: i64,
    },
    /// A card that came back.
    Returned {
        /// The record.
        packet_id: String,
        /// The chip's serial.
        card_serial: String,
        /// Why.
        reason: String,
        /// When (Unix seconds).
        at: i64,
    },
}

impl Store {
    /// Records the personalisation `visit` of `card_serial` for `packet_id` with the card, in
    /// one transaction. A second card for a record with one in circulation is refused.
    pub fn append_personalised(
        &mut self,
        visit: &NewVisit,
        packet_id: &str,
        card_serial: &str,
    ) -> Result<()> {
        let station_id = self.station_id()?;
        let at = self.clock.now().unix_timestamp();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        insert_visit_tx(&tx, &station_id, visit, self.clock.as_ref())?;
        tx.execute(
            "INSERT INTO card (card_serial, packet_id, personalised_at) VALUES (?1, ?2, ?3)",
            params![card_serial, packet_id, at],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records that `card_serial` came back to the Dinas for `reason`, with `audit`, in one
    /// transaction: its record can be personalised again. Returns the card's record.
    pub fn card_returned(
        &mut self,
        card_serial: &str,
        reason: &str,
        audit: &AuditEvent,
    ) -> Result<String> {
        let station_id = self.station_id()?;
        let at = self.clock.now().unix_timestamp();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let card: Option<(String, Option<i64>)> = tx
            .query_row(
                "SELECT packet_id, returned_at FROM card WHERE card_serial = ?1",
                [card_serial],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let packet_id = match card {
            Some((packet_id, None)) => packet_id,
            Some((_, Some(when))) => {
                return Err(Error::CardNotInCirculation {
                    card_serial: card_serial.to_owned(),
                    why: format!("its return was recorded at {}", rfc3339_unix(when)),
                });
            }
            None => {
                return Err(Error::CardNotInCirculation {
                    card_serial: card_serial.to_owned(),
                    why: "this station did not personalise it".into(),
                });
            }
        };
        tx.execute(
            "UPDATE card SET returned_at = ?1, return_reason = ?2 WHERE card_serial = ?3",
            params![at, reason, card_serial],
        )?;
        let event = audit.clone().with_detail(
            serde_json::json!({ "packet_id": packet_id, "card_serial": card_serial, "reason": reason }),
        );
        super::append_audit_tx(&tx, &station_id, &event, self.clock.as_ref())?;
        tx.commit()?;
        Ok(packet_id)
    }

    /// The card of this station in circulation for `packet_id`, if any.
    pub fn card_in_circulation(&self, packet_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT card_serial FROM card WHERE packet_id = ?1 AND returned_at IS NULL",
                [packet_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The records with a card of this station in circulation.
    pub fn cards_in_circulation(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT packet_id FROM card WHERE returned_at IS NULL ORDER BY packet_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The reports the data center has not accepted, oldest first: each card's personalisation
    /// before its return.
    pub fn card_reports(&self) -> Result<Vec<CardReport>> {
        let mut stmt = self.conn.prepare(
            "SELECT packet_id, card_serial, personalised_at, reported_at IS NOT NULL,
                    returned_at, return_reason, return_reported_at IS NOT NULL
             FROM card
             WHERE reported_at IS NULL OR (returned_at IS NOT NULL AND return_reported_at IS NULL)
             ORDER BY personalised_at, card_serial",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, bool>(6)?,
            ))
        })?;
        let mut reports = Vec::new();
        for row in rows {
            let (packet_id, card_serial, at, reported, returned, reason, return_reported) = row?;
            if !reported {
                reports.push(CardReport::Issued {
                    packet_id: packet_id.clone(),
                    card_serial: card_serial.clone(),
                    at,
                });
            }
            if let (Some(at), false) = (returned, return_reported) {
                reports.push(CardReport::Returned {
                    packet_id,
                    card_serial,
                    reason: reason.unwrap_or_default(),
                    at,
                });
            }
        }
        Ok(reports)
    }

    /// The cards of this station the data center retired on its own (a reissue request: the
    /// card was lost, damaged, or carries data that changed), each `(record, why)`: recorded as
    /// returned, with nothing to report back, in one transaction audited as the sync's. Only a
    /// card the data center was told of can have been retired there. Returns how many.
    pub fn cards_retired_by_data_center(&mut self, retired: &[(String, String)]) -> Result<usize> {
        let station_id = self.station_id()?;
        let at = self.clock.now().unix_timestamp();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut n = 0;
        for (packet_id, why) in retired {
            let serial: Option<String> = tx
                .query_row(
                    "SELECT card_serial FROM card
                     WHERE packet_id = ?1 AND returned_at IS NULL AND reported_at IS NOT NULL",
                    [packet_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(serial) = serial else { continue };
            tx.execute(
                "UPDATE card SET returned_at = ?1, return_reason = ?2, return_reported_at = ?1
                 WHERE card_serial = ?3",
                params![at, why, serial],
            )?;
            let event = AuditEvent::new("sync", "personalisation.card_retired", &serial)
                .with_detail(serde_json::json!({ "packet_id": packet_id, "reason": why }));
            super::append_audit_tx(&tx, &station_id, &event, self.clock.as_ref())?;
            n += 1;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Marks `report` accepted by the data center.
    pub fn card_report_sent(&mut self, report: &CardReport) -> Result<()> {
        let now = self.clock.now().unix_timestamp();
        let (sql, serial) = match report {
            CardReport::Issued { card_serial, .. } => (
                "UPDATE card SET reported_at = ?1 WHERE card_serial = ?2",
                card_serial,
            ),
            CardReport::Returned { card_serial, .. } => (
                "UPDATE card SET return_reported_at = ?1 WHERE card_serial = ?2",
                card_serial,
            ),
        };
        self.conn.execute(sql, params![now, serial])?;
        Ok(())
    }
}

fn rfc3339_unix(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t).map_or_else(|_| t.to_string(), rfc3339)
}
