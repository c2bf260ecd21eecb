//! Reissue requests waiting for the data center (`reissue_request`, migration 16): each
//! written with its visit row in one transaction, sent by the sync pass, and answered once
//! with the data center's signed decision, kept as it came.
//!
//! Invariants: a request is never lost between the counter and the data center (it is in the
//! store before the temporary letter is printed, and unanswered until an answer verified
//! against the pinned identity is kept); an answer is kept once and a request never deleted
//! (triggers).

use super::Store;
use super::counter::{NewVisit, VisitRow, insert_visit_tx};
use crate::Result;
use rusqlite::{TransactionBehavior, params};

/// A request as kept: what was sent, and the answer once it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReissueRow {
    /// Its id (the temporary letter names it).
    pub request_id: String,
    /// The request, JSON (`rekam_domain::reissue::ReissueRequest`).
    pub request: String,
    /// When it was taken (Unix seconds).
    pub created_at: i64,
    /// The data center's signed answer, JSON (`rekam_packet::reissue::ReissueAnswer`).
    pub answer: Option<String>,
}

impl Store {
    /// Records the reissue `visit` with its request (`request_json`, named `request_id`), in one
    /// transaction.
    pub fn append_reissue(
        &mut self,
        visit: &NewVisit,
        request_id: &str,
        request_json: &str,
    ) -> Result<VisitRow> {
        let station_id = self.station_id()?;
        let at = self.clock.now().unix_timestamp();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = insert_visit_tx(&tx, &station_id, visit, self.clock.as_ref())?;
        tx.execute(
            "INSERT INTO reissue_request (request_id, request, created_at) VALUES (?1, ?2, ?3)",
            params![request_id, request_json, at],
        )?;
        tx.commit()?;
        Ok(row)
    }

    /// Every request in the order taken; `waiting` only: those without an answer.
    pub fn reissue_requests(&self, waiting: bool) -> Result<Vec<ReissueRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT request_id, request, created_at, answer FROM reissue_request {}
             ORDER BY rowid",
            if waiting { "WHERE answer IS NULL" } else { "" }
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(ReissueRow {
                request_id: r.get(0)?,
                request: r.get(1)?,
                created_at: r.get(2)?,
                answer: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many requests wait for an answer.
    pub fn reissues_waiting(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM reissue_request WHERE answer IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// Keeps the data center's verified answer to `request_id` (once; a repeat changes
    /// nothing). Returns whether it was kept now.
    pub fn reissue_answered(&mut self, request_id: &str, answer_json: &str) -> Result<bool> {
        let at = self.clock.now().unix_timestamp();
        let n = self.conn.execute(
            "UPDATE reissue_request SET answer = ?2, answered_at = ?3
             WHERE request_id = ?1 AND answer IS NULL",
            params![request_id, answer_json, at],
        )?;
        Ok(n == 1)
    }
}
