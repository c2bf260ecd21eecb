//! The sync state of each sealed recording (`sync_state`) and the append-only log of its
//! changes (`sync_event`): what the background sync reads and writes, what the backlog shows.
//!
//! Invariants: every journal row has exactly one state row, created in its transaction; a state
//! only moves forward along BIO_CAPTURED -> UPLOADING -> SENT_FOR_ENROLLMENT -> a result, except
//! that ENROLL_FAILURE_AT_CENTRAL sends it back to BIO_CAPTURED (a resend) and EXPORTED sits
//! beside the online path until a receipt arrives; every change writes its event in the same
//! transaction.

use super::{Store, journal_row};
use crate::clock::rfc3339;
use crate::domain::nik::MaskedNik;
use crate::{Error, Result};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where a recording stands, in the field's words (`../shared/docs/domain.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SyncState {
    /// Sealed, not yet at the data center ("mengendap" when it stays).
    BioCaptured,
    /// Part of it is at the data center.
    Uploading,
    /// Carried on a disk by a technician; the data center's receipt is awaited.
    Exported,
    /// The data center's receipt is held; its result is awaited.
    SentForEnrollment,
    /// Unique: the card can be printed.
    PrintReadyRecord,
    /// The data center found the person recorded before.
    DuplicateRecord,
    /// An adjudicator at the data center decides.
    AdjudicateRecord,
}

impl SyncState {
    /// Every state.
    pub const ALL: [SyncState; 7] = [
        SyncState::BioCaptured,
        SyncState::Uploading,
        SyncState::Exported,
        SyncState::SentForEnrollment,
        SyncState::PrintReadyRecord,
        SyncState::DuplicateRecord,
        SyncState::AdjudicateRecord,
    ];

    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::BioCaptured => "BIO_CAPTURED",
            SyncState::Uploading => "UPLOADING",
            SyncState::Exported => "EXPORTED",
            SyncState::SentForEnrollment => "SENT_FOR_ENROLLMENT",
            SyncState::PrintReadyRecord => "PRINT_READY_RECORD",
            SyncState::DuplicateRecord => "DUPLICATE_RECORD",
            SyncState::AdjudicateRecord => "ADJUDICATE_RECORD",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<SyncState> {
        SyncState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Not yet at the data center: the sync sends it.
    pub fn unsent(self) -> bool {
        matches!(
            self,
            SyncState::BioCaptured | SyncState::Uploading | SyncState::Exported
        )
    }

    /// Nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SyncState::PrintReadyRecord | SyncState::DuplicateRecord
        )
    }

    fn rank(self) -> u8 {
        match self {
            SyncState::BioCaptured => 0,
            SyncState::Uploading | SyncState::Exported => 1,
            SyncState::SentForEnrollment => 2,
            SyncState::AdjudicateRecord => 3,
            SyncState::PrintReadyRecord | SyncState::DuplicateRecord => 4,
        }
    }
}

fn state_of(text: String) -> rusqlite::Result<SyncState> {
    SyncState::parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown sync state {text}").into(),
        )
    })
}

/// How the service point clarified a DUPLICATE_RECORD with the resident (seed 001, 3b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Clarified {
    /// The resident had recorded before: this recording is not used, and a card comes from the
    /// first one (a replacement or a data change where needed, never a second recording).
    RecordedBefore,
    /// The resident denies having recorded before: referred to the Dinas with the note.
    Disputed,
}

impl Clarified {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Clarified::RecordedBefore => "RECORDED_BEFORE",
            Clarified::Disputed => "DISPUTED",
        }
    }

    /// Parses a stored or typed name (either case, `-` for `_`).
    pub fn parse(text: &str) -> Option<Clarified> {
        let text = text.trim().to_ascii_uppercase().replace('-', "_");
        [Clarified::RecordedBefore, Clarified::Disputed]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

/// A recording the sync should send now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueItem {
    /// Journal position.
    pub seq: i64,
    /// The packet id.
    pub packet_id: String,
    /// Its state.
    pub state: SyncState,
    /// Attempts so far.
    pub attempts: i64,
}

/// One change of a recording's sync state, or one failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncEvent {
    /// When (RFC 3339).
    pub at: String,
    /// The state after it.
    pub state: SyncState,
    /// The failure's code, if it was one.
    pub code: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

/// One line of the backlog: a recording not yet final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BacklogRow {
    /// Journal position.
    pub seq: i64,
    /// The packet id.
    pub packet_id: String,
    /// The resident, masked (first 6 and last 2 digits).
    pub masked_nik: MaskedNik,
    /// The case.
    pub case: String,
    /// When it was recorded (RFC 3339).
    pub captured_at: String,
    /// Its state.
    pub state: SyncState,
    /// Bytes at the data center while uploading.
    pub upload_offset: i64,
    /// Attempts to send it.
    pub attempts: i64,
    /// The last failure's code.
    pub last_code: Option<String>,
    /// The last failure, or the data center's reason.
    pub last_reason: Option<String>,
    /// When the next attempt is due, Unix seconds.
    pub next_retry_at: Option<i64>,
    /// For a duplicate or an adjudication: the packet it matched.
    pub matched_packet: Option<String>,
}

impl Store {
    fn transition(
        tx: &Transaction<'_>,
        seq: i64,
        state: SyncState,
        code: Option<&str>,
        reason: Option<&str>,
        at: &str,
    ) -> Result<()> {
        tx.execute(
            "UPDATE sync_state SET state = ?2, updated_at = ?3 WHERE seq = ?1",
            params![seq, state.as_str(), at],
        )?;
        tx.execute(
            "INSERT INTO sync_event (seq, at, state, code, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![seq, at, state.as_str(), code, reason],
        )?;
        Ok(())
    }

    fn current(tx: &Transaction<'_>, seq: i64) -> Result<SyncState> {
        let text: String =
            tx.query_row("SELECT state FROM sync_state WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })?;
        SyncState::parse(&text).ok_or(Error::IndexDamaged { seq })
    }

    fn now_text(&self) -> String {
        rfc3339(self.clock.now())
    }

    /// Recordings not yet at the data center whose next attempt is due at `now` (Unix
    /// seconds), oldest first. An attempt set after `latest` is due too: no wait is that long,
    /// so it was scheduled by a clock that ran ahead and has since been set right.
    pub fn sync_due(&self, now: i64, latest: i64, limit: i64) -> Result<Vec<DueItem>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.seq, j.enrollment_id, s.state, s.attempts
             FROM sync_state s JOIN enrollment_journal j ON j.seq = s.seq
             WHERE s.state IN ('BIO_CAPTURED', 'UPLOADING', 'EXPORTED')
               AND (s.next_retry_at IS NULL OR s.next_retry_at <= ?1 OR s.next_retry_at > ?2)
             ORDER BY s.seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![now, latest, limit], |r| {
            Ok(DueItem {
                seq: r.get(0)?,
                packet_id: r.get(1)?,
                state: state_of(r.get(2)?)?,
                attempts: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The data center holds `offset` bytes of the recording at `seq`.
    pub fn sync_progress(&mut self, seq: i64, offset: i64) -> Result<()> {
        let at = self.now_text();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state = Self::current(&tx, seq)?;
        if state == SyncState::BioCaptured {
            Self::transition(&tx, seq, SyncState::Uploading, None, None, &at)?;
        }
        tx.execute(
            "UPDATE sync_state SET upload_offset = ?2 WHERE seq = ?1",
            params![seq, offset],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// An attempt failed: counted, with its code and reason, and the time of the next one.
    pub fn sync_failed(
        &mut self,
        seq: i64,
        code: &str,
        reason: &str,
        next_retry_at: i64,
    ) -> Result<()> {
        let at = self.now_text();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state = Self::current(&tx, seq)?;
        tx.execute(
            "UPDATE sync_state SET attempts = attempts + 1, last_code = ?2, last_reason = ?3,
                 next_retry_at = ?4, updated_at = ?5 WHERE seq = ?1",
            params![seq, code, reason, next_retry_at, at],
        )?;
        tx.execute(
            "INSERT INTO sync_event (seq, at, state, code, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![seq, at, state.as_str(), code, reason],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The data center's verified receipt for the recording at `seq`: it moves to
    /// SENT_FOR_ENROLLMENT. A recording already further along (its result came through the
    /// hub before its receipt did) keeps its state and the receipt, if it had none. Returns
    /// whether the receipt was kept.
    pub fn sync_sent(&mut self, seq: i64, receipt_json: &str, how: &str) -> Result<bool> {
        let at = self.now_text();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state = Self::current(&tx, seq)?;
        if state.rank() >= SyncState::SentForEnrollment.rank() {
            let kept = tx.execute(
                "UPDATE sync_state SET receipt = ?2 WHERE seq = ?1 AND receipt IS NULL",
                params![seq, receipt_json],
            )?;
            tx.commit()?;
            return Ok(kept == 1);
        }
        tx.execute(
            "UPDATE sync_state SET receipt = ?2, next_retry_at = NULL, last_code = NULL,
                 last_reason = NULL WHERE seq = ?1",
            params![seq, receipt_json],
        )?;
        Self::transition(&tx, seq, SyncState::SentForEnrollment, None, Some(how), &at)?;
        tx.commit()?;
        Ok(true)
    }

    /// Carried on a disk: the unsent recordings of `seqs` become EXPORTED until a receipt
    /// arrives (the sync still sends them online), in one transaction. Returns how many
    /// changed.
    pub fn sync_exported(&mut self, seqs: &[i64], to: &str) -> Result<usize> {
        let at = self.now_text();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changed = 0;
        for &seq in seqs {
            if Self::current(&tx, seq)?.unsent() {
                Self::transition(&tx, seq, SyncState::Exported, None, Some(to), &at)?;
                changed += 1;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Applies a result of the data center to the recording with packet id `packet_id`:
    /// `Some(state)` for a status, `None` for ENROLL_FAILURE_AT_CENTRAL (back to BIO_CAPTURED,
    /// to be sent again). Returns whether anything changed; an unknown packet changes nothing.
    pub fn sync_result(
        &mut self,
        packet_id: &str,
        state: Option<SyncState>,
        matched_packet: Option<&str>,
        reason: Option<&str>,
    ) -> Result<bool> {
        let at = self.now_text();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seq: Option<i64> = tx
            .query_row(
                "SELECT seq FROM enrollment_journal WHERE enrollment_id = ?1",
                [packet_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(seq) = seq else {
            return Ok(false);
        };
        let current = Self::current(&tx, seq)?;
        let applies = match state {
            _ if current.is_final() => false,
            Some(SyncState::SentForEnrollment) => current.rank() < 2,
            Some(new) => new != current,
            None => true,
        };
        if !applies {
            return Ok(false);
        }
        match state {
            Some(new) => {
                tx.execute(
                    "UPDATE sync_state SET matched_packet = ?2, last_reason = ?3 WHERE seq = ?1",
                    params![seq, matched_packet, reason],
                )?;
                Self::transition(&tx, seq, new, None, reason, &at)?;
            }
            None => {
                tx.execute(
                    "UPDATE sync_state SET receipt = NULL, upload_offset = 0, next_retry_at = NULL,
                         last_code = 'ENROLL_FAILURE_AT_CENTRAL', last_reason = ?2 WHERE seq = ?1",
                    params![seq, reason],
                )?;
                // Left with the hub before: its receipt there is stale, so the packet is left
                // again (the hub forwards it again) rather than taken as sent.
                tx.execute("DELETE FROM hub_relay WHERE seq = ?1", [seq])?;
                Self::transition(
                    &tx,
                    seq,
                    SyncState::BioCaptured,
                    Some("ENROLL_FAILURE_AT_CENTRAL"),
                    reason,
                    &at,
                )?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// Every recording not yet final, oldest first, and every duplicate not yet clarified.
    pub fn backlog(&self) -> Result<Vec<BacklogRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT j.seq, j.enrollment_id, j.masked_nik, j.case_type, j.operator_id, j.recorded_at,
                    length(j.payload),
                    s.state, s.upload_offset, s.attempts, s.last_code, s.last_reason,
                    s.next_retry_at, s.matched_packet
             FROM sync_state s JOIN enrollment_journal j ON j.seq = s.seq
             WHERE s.state <> 'PRINT_READY_RECORD'
               AND NOT EXISTS (SELECT 1 FROM clarification c WHERE c.seq = s.seq)
             ORDER BY j.seq",
        )?;
        let rows = stmt.query_map([], |r| {
            let e = journal_row(r)?;
            Ok(BacklogRow {
                seq: e.seq,
                packet_id: e.enrollment_id,
                masked_nik: e.masked_nik,
                case: e.case,
                captured_at: e.recorded_at,
                state: state_of(r.get(7)?)?,
                upload_offset: r.get(8)?,
                attempts: r.get(9)?,
                last_code: r.get(10)?,
                last_reason: r.get(11)?,
                next_retry_at: r.get(12)?,
                matched_packet: r.get(13)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records how a supervisor clarified the duplicate `packet_id` with the resident, with
    /// `audit` (its detail gets the outcome), in one transaction: from then on it leaves the
    /// backlog. Only a DUPLICATE_RECORD takes one, once.
    pub fn clarify(
        &mut self,
        packet_id: &str,
        outcome: Clarified,
        note: &str,
        audit: &crate::audit::AuditEvent,
    ) -> Result<()> {
        let station_id = self.station_id()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(i64, String, bool)> = tx
            .query_row(
                "SELECT j.seq, s.state, EXISTS (SELECT 1 FROM clarification c WHERE c.seq = j.seq)
                 FROM enrollment_journal j JOIN sync_state s ON s.seq = j.seq
                 WHERE j.enrollment_id = ?1",
                [packet_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let refuse = |why: String| Error::NotToClarify {
            packet_id: packet_id.to_owned(),
            why,
        };
        let seq = match found {
            None => return Err(refuse("is not recorded at this station".into())),
            Some((_, _, true)) => return Err(refuse("was clarified before".into())),
            Some((seq, state, false)) if state == SyncState::DuplicateRecord.as_str() => seq,
            Some((_, state, false)) => return Err(refuse(format!("is {state}"))),
        };
        let at = rfc3339(self.clock.now());
        tx.execute(
            "INSERT INTO clarification (seq, outcome, note, actor, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![seq, outcome.as_str(), note, audit.actor, at],
        )?;
        let event = audit
            .clone()
            .with_detail(serde_json::json!({ "outcome": outcome.as_str(), "note": note }));
        super::append_audit_tx(&tx, &station_id, &event, self.clock.as_ref())?;
        tx.commit()?;
        Ok(())
    }

    /// Recordings by state.
    pub fn sync_counts(&self) -> Result<BTreeMap<SyncState, i64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT state, count(*) FROM sync_state GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((state_of(r.get(0)?)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The state history of the recording at `seq`, oldest first.
    pub fn sync_events(&self, seq: i64) -> Result<Vec<SyncEvent>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, state, code, reason FROM sync_event WHERE seq = ?1 ORDER BY id")?;
        let rows = stmt.query_map([seq], |r| {
            Ok(SyncEvent {
                at: r.get(0)?,
                state: state_of(r.get(1)?)?,
                code: r.get(2)?,
                reason: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The position in the data center's result feed read so far.
    pub fn feed_cursor(&self) -> Result<i64> {
        Ok(self
            .meta("feed_cursor")?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }

    /// Records how far the result feed was read.
    pub fn set_feed_cursor(&mut self, cursor: i64) -> Result<()> {
        self.set_meta("feed_cursor", &cursor.to_string())
    }

    /// The data center's address, as given at registration.
    pub fn dc_url(&self) -> Result<Option<String>> {
        self.meta("dc_url")
    }

    /// Records the data center's address.
    pub fn set_dc_url(&mut self, url: &str) -> Result<()> {
        self.set_meta("dc_url", url)
    }

    /// The last sync pass, as [`crate::sync::LastPass`] JSON.
    pub fn last_pass(&self) -> Result<Option<String>> {
        self.meta("sync_last_pass")
    }

    /// Records the last sync pass.
    pub fn set_last_pass(&mut self, json: &str) -> Result<()> {
        self.set_meta("sync_last_pass", json)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}
