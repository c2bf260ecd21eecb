//! The counter's tables: operators, queue tickets and the log of finished visits.
//!
//! Invariants: a password is stored only as an Argon2id hash and a finger only as a minutiae
//! record, both inside the encrypted database; operators are disabled, never deleted; a queue
//! number is issued once per day and never again; a visit row is append-only and is written in
//! the same transaction as its audit entry (and, for a sealed recording, as its journal row).

use super::{Store, append_audit_tx};
use crate::audit::AuditEvent;
use crate::clock::rfc3339;
use crate::domain::case::CaseType;
use crate::domain::nik::MaskedNik;
use crate::{Error, Result};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An operator as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRow {
    /// Login id (`OP-01`).
    pub operator_id: String,
    /// Full name.
    pub name: String,
    /// `operator`, `supervisor`, `technician` or `dinas_admin`.
    pub role: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// ISO/IEC 19794-2 record of the right index finger.
    pub finger: Vec<u8>,
    /// When added.
    pub created_at: String,
    /// Whether they may no longer log in.
    pub disabled: bool,
}

/// A change to an operator.
#[derive(Debug, Clone, Copy)]
pub enum OperatorChange<'a> {
    /// A new password (its Argon2id hash).
    Password(&'a str),
    /// Disabled (never deleted).
    Disable,
}

/// How long a step of a visit took, against the SOP's standard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTime {
    /// The step's stable name (`documents`, `fingers`).
    pub step: String,
    /// Seconds spent in it, pauses excluded.
    pub seconds: f64,
}

/// Which of the counter's workflows a visit went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitWorkflow {
    /// Perekaman: biodata, photo, signature, fingers, irises, sealed.
    Recording,
    /// Penyerahan: the card handed over after the 1:1 match.
    Handover,
    /// Penggantian: a reissue requested.
    Reissue,
    /// Personalisasi: a blank card written at the Dinas.
    Personalisation,
}

/// How a visit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    /// A recording sealed.
    Sealed,
    /// Refused, with a code (not eligible, a duplicate, the chip's data not the resident's).
    Refused,
    /// Cancelled by the operator or by the next resident called.
    Cancelled,
    /// The card handed over.
    HandedOver,
    /// Failed, with a code (fingers did not match the chip, a card write failed).
    Failed,
    /// A reissue requested.
    Requested,
    /// A card personalised.
    Personalised,
}

macro_rules! text_forms {
    ($t:ty { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            /// Its stored and reported name.
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),+ }
            }

            /// From its stored name.
            pub fn parse(text: &str) -> Option<$t> {
                match text { $($s => Some(<$t>::$v),)+ _ => None }
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_forms!(VisitWorkflow {
    Recording => "recording",
    Handover => "handover",
    Reissue => "reissue",
    Personalisation => "personalisation",
});

text_forms!(VisitOutcome {
    Sealed => "sealed",
    Refused => "refused",
    Cancelled => "cancelled",
    HandedOver => "handed_over",
    Failed => "failed",
    Requested => "requested",
    Personalised => "personalised",
});

/// A finished visit, to append.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewVisit {
    /// Unique id (a UUID).
    pub visit_id: String,
    /// Which workflow.
    pub workflow: VisitWorkflow,
    /// Its queue number, if it had one.
    pub queue_number: Option<String>,
    /// Who served.
    pub operator_id: String,
    /// The case, for the workflows that have one.
    pub case: Option<CaseType>,
    /// The resident's NIK, masked (it cannot be a full NIK).
    pub masked_nik: Option<MaskedNik>,
    /// How it ended.
    pub outcome: VisitOutcome,
    /// The refusal or failure code, if any.
    pub code: Option<String>,
    /// When it started (stored as RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Each step's time.
    pub steps: Vec<StepTime>,
    /// Anything else worth reporting (no full NIK, no biometric data).
    pub detail: serde_json::Value,
}

/// A visit as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisitRow {
    /// What was appended.
    #[serde(flatten)]
    pub visit: NewVisit,
    /// The day (YYYY-MM-DD, station clock).
    pub day: String,
    /// When it finished.
    pub finished_at: String,
}

impl Store {
    /// Adds an operator, with its audit entry. An existing id is refused.
    pub fn insert_operator(&mut self, row: &OperatorRow, actor: &str) -> Result<()> {
        let station_id = self.station_id()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: bool = tx
            .query_row(
                "SELECT 1 FROM operator WHERE operator_id = ?1",
                [&row.operator_id],
                |_| Ok(true),
            )
            .optional()?
            .unwrap_or(false);
        if exists {
            return Err(Error::OperatorExists(row.operator_id.clone()));
        }
        tx.execute(
            "INSERT INTO operator (operator_id, name, role, password_hash, finger, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                row.operator_id,
                row.name,
                row.role,
                row.password_hash,
                row.finger,
                row.created_at
            ],
        )?;
        let event = AuditEvent::new(actor, "operator.add", &row.operator_id)
            .with_detail(serde_json::json!({ "role": row.role }));
        append_audit_tx(&tx, &station_id, &event, self.clock.as_ref())?;
        tx.commit()?;
        Ok(())
    }

    /// Changes an operator's password hash or disables them, with `event` audited in the same
    /// transaction; refuses an unknown operator.
    pub fn update_operator(
        &mut self,
        operator_id: &str,
        change: OperatorChange<'_>,
        event: &AuditEvent,
    ) -> Result<()> {
        let station_id = self.station_id()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = match change {
            OperatorChange::Password(hash) => tx.execute(
                "UPDATE operator SET password_hash = ?2 WHERE operator_id = ?1",
                params![operator_id, hash],
            )?,
            OperatorChange::Disable => tx.execute(
                "UPDATE operator SET disabled = 1 WHERE operator_id = ?1",
                [operator_id],
            )?,
        };
        if changed != 1 {
            return Err(Error::OperatorUnknown(operator_id.to_owned()));
        }
        append_audit_tx(&tx, &station_id, event, self.clock.as_ref())?;
        tx.commit()?;
        Ok(())
    }

    /// An operator's consecutive failed logins and when they were locked out, if they were.
    pub fn login_failures(&self, operator_id: &str) -> Result<(u32, Option<String>)> {
        Ok(self
            .conn
            .query_row(
                "SELECT failures, locked_at FROM operator_failures WHERE operator_id = ?1",
                [operator_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, None)))
    }

    /// Counts a failed login of a known operator; at `limit` failures they are locked out
    /// (the time returned). One transaction with `event`.
    pub fn note_failed_login(
        &mut self,
        operator_id: &str,
        limit: u32,
        event: &AuditEvent,
    ) -> Result<Option<String>> {
        let station_id = self.station_id()?;
        let now = crate::clock::rfc3339(self.clock.now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO operator_failures (operator_id, failures) VALUES (?1, 1)
             ON CONFLICT (operator_id) DO UPDATE SET failures = failures + 1",
            [operator_id],
        )?;
        tx.execute(
            "UPDATE operator_failures SET locked_at = ?2
             WHERE operator_id = ?1 AND failures >= ?3 AND locked_at IS NULL",
            params![operator_id, now, limit],
        )?;
        let locked: Option<String> = tx.query_row(
            "SELECT locked_at FROM operator_failures WHERE operator_id = ?1",
            [operator_id],
            |r| r.get(0),
        )?;
        append_audit_tx(&tx, &station_id, event, self.clock.as_ref())?;
        tx.commit()?;
        Ok(locked)
    }

    /// Clears an operator's failed logins (a login, or a supervisor's unlock with `event`).
    pub fn clear_failed_logins(
        &mut self,
        operator_id: &str,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        let station_id = self.station_id()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM operator_failures WHERE operator_id = ?1",
            [operator_id],
        )?;
        if let Some(event) = event {
            append_audit_tx(&tx, &station_id, event, self.clock.as_ref())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// One operator.
    pub fn operator(&self, operator_id: &str) -> Result<Option<OperatorRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT operator_id, name, role, password_hash, finger, created_at, disabled
                 FROM operator WHERE operator_id = ?1",
                [operator_id],
                |r| {
                    Ok(OperatorRow {
                        operator_id: r.get(0)?,
                        name: r.get(1)?,
                        role: r.get(2)?,
                        password_hash: r.get(3)?,
                        finger: r.get(4)?,
                        created_at: r.get(5)?,
                        disabled: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    /// How many operators exist (a fresh station has none).
    pub fn operator_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM operator", [], |r| r.get(0))?)
    }

    /// The next queue number of `day` (1, 2, ...), issued durably so it is never given twice.
    pub fn issue_queue_ticket(&mut self, day: &str) -> Result<i64> {
        let now = rfc3339(self.clock.now());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let next: i64 = tx.query_row(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM queue_ticket WHERE day = ?1",
            [day],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO queue_ticket (day, number, issued_at) VALUES (?1, ?2, ?3)",
            params![day, next, now],
        )?;
        tx.commit()?;
        Ok(next)
    }

    /// Appends a finished visit with its audit entry.
    pub fn append_visit(&mut self, visit: &NewVisit) -> Result<VisitRow> {
        let station_id = self.station_id()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = insert_visit_tx(&tx, &station_id, visit, self.clock.as_ref())?;
        tx.commit()?;
        Ok(row)
    }

    /// The visits that finished on `day`, in order.
    pub fn visits_on(&self, day: &str) -> Result<Vec<VisitRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT visit_id, workflow, queue_number, operator_id, case_type, masked_nik, outcome,
                    code, started_at, steps, detail, day, finished_at
             FROM visit WHERE day = ?1 ORDER BY finished_at, visit_id",
        )?;
        let rows = stmt.query_map([day], |r| {
            let steps: String = r.get(9)?;
            let detail: String = r.get(10)?;
            Ok(VisitRow {
                visit: NewVisit {
                    visit_id: r.get(0)?,
                    workflow: stored(r, 1, VisitWorkflow::parse)?,
                    queue_number: r.get(2)?,
                    operator_id: r.get(3)?,
                    case: r
                        .get::<_, Option<String>>(4)?
                        .map(|c| c.parse::<CaseType>().map_err(|_| bad_text(4, &c)))
                        .transpose()?,
                    masked_nik: r
                        .get::<_, Option<String>>(5)?
                        .map(|m| MaskedNik::parse(&m).ok_or_else(|| bad_text(5, "a NIK")))
                        .transpose()?,
                    outcome: stored(r, 6, VisitOutcome::parse)?,
                    code: r.get(7)?,
                    started_at: stored(r, 8, |t| {
                        OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                            .ok()
                    })?,
                    steps: serde_json::from_str(&steps).unwrap_or_default(),
                    detail: serde_json::from_str(&detail).unwrap_or_default(),
                },
                day: r.get(11)?,
                finished_at: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Column `i` of a stored row read by `parse`; text it does not take is a damaged row.
fn stored<T>(
    r: &rusqlite::Row<'_>,
    i: usize,
    parse: impl FnOnce(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    parse(&text).ok_or_else(|| bad_text(i, &text))
}

/// A stored column whose text is not what this build writes: a damaged row. `what` is what
/// the error may name (the masked NIK column passes a word, not its text).
fn bad_text(i: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        format!("unexpected stored value {what:?}").into(),
    )
}

/// Writes a visit row and its audit entry inside `tx`.
pub(super) fn insert_visit_tx(
    tx: &Transaction<'_>,
    station_id: &str,
    v: &NewVisit,
    clock: &dyn crate::clock::Clock,
) -> Result<VisitRow> {
    let now = clock.now();
    let finished_at = rfc3339(now);
    let day = clock.today().to_string();
    let steps = serde_json::to_string(&v.steps).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO visit (visit_id, workflow, day, queue_number, operator_id, case_type,
                            masked_nik, outcome, code, started_at, finished_at, steps, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            v.visit_id,
            v.workflow.as_str(),
            day,
            v.queue_number,
            v.operator_id,
            v.case.map(CaseType::as_str),
            v.masked_nik.as_ref().map(MaskedNik::as_str),
            v.outcome.as_str(),
            v.code,
            rfc3339(v.started_at),
            finished_at,
            steps,
            v.detail.to_string()
        ],
    )?;
    let event = AuditEvent::new(
        &v.operator_id,
        format!("{}.{}", v.workflow, v.outcome),
        &v.visit_id,
    )
    .with_detail(serde_json::json!({
        "queue": v.queue_number,
        "nik": v.masked_nik,
        "case": v.case,
        "code": v.code,
    }));
    append_audit_tx(tx, station_id, &event, clock)?;
    Ok(VisitRow {
        visit: v.clone(),
        day,
        finished_at,
    })
}
