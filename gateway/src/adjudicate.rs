//! Adjudication (`rekam-gateway adjudicate`): a recording of which exactly one finger or iris
//! agrees with an earlier recording is neither clearly the same person nor clearly another. The
//! matcher publishes ADJUDICATE_RECORD and opens a case here with what it compared; an
//! adjudicator at the data center reads the case and decides:
//!
//! - the same person: DUPLICATE_RECORD naming the earlier recording (the station clarifies it
//!   with the resident, as for any duplicate);
//! - another person: PRINT_READY_RECORD (the Dinas may print the card).
//!
//! The decision is published on the result feed like any result (signed with the data center's
//! key) in the transaction that closes the case, with who decided and why. A case shows the
//! scores and the two recordings' stations and dates, never biodata: the adjudicator's role
//! needs which fingers agreed and how well, not who the residents are.
//!
//! Invariant: a case is decided once. The database refuses any change to a decided case and
//! any deletion (triggers), so the record of who decided what cannot be rewritten.

use crate::api::{Outcome, publish};
use crate::{Gateway, GatewayError, Result};
use rekam_bio::person::{Decision, Verdict};
use rekam_packet::protocol::Status;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

/// One finger or iris the matcher compared between the two recordings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compared {
    /// ISO/IEC 19794 position: 1-10 the fingers (1 right thumb ... 10 left little), 11 the
    /// right iris, 12 the left.
    pub position: u8,
    /// The position in words.
    pub name: String,
    /// The matcher's score.
    pub score: u8,
    /// The score at which it counts as agreeing.
    pub threshold: u8,
}

impl Compared {
    /// Whether it agrees.
    pub fn agrees(&self) -> bool {
        self.score >= self.threshold
    }
}

/// What the matcher saw: every position compared, and the rule it applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The positions present in both recordings, with their scores.
    pub compared: Vec<Compared>,
    /// The sum of the scores.
    pub fused: u32,
    /// Agreeing positions the rule needs to call them one person.
    pub needed: u8,
    /// The sum the rule needs.
    pub fused_needed: u32,
}

impl Evidence {
    /// The evidence of per-position `scores` (from `PersonProbe::scores`) under `rule`.
    pub fn new(scores: &[Option<u8>; 12], rule: &Decision) -> Evidence {
        let compared = scores
            .iter()
            .zip(1u8..)
            .filter_map(|(score, position)| {
                Some(Compared {
                    position,
                    name: position_name(position).to_owned(),
                    score: (*score)?,
                    threshold: if position <= 10 {
                        rule.finger
                    } else {
                        rule.iris
                    },
                })
            })
            .collect();
        let Verdict { fused, .. } = rule.judge(scores);
        Evidence {
            compared,
            fused,
            needed: rule.fingers,
            fused_needed: rule.fused,
        }
    }

    /// The positions that agree, in words ("left index 61/40").
    pub fn agreeing(&self) -> Vec<String> {
        self.compared
            .iter()
            .filter(|c| c.agrees())
            .map(|c| format!("{} {}/{}", c.name, c.score, c.threshold))
            .collect()
    }
}

/// A position in words.
pub fn position_name(position: u8) -> &'static str {
    match position {
        1 => "right thumb",
        2 => "right index",
        3 => "right middle",
        4 => "right ring",
        5 => "right little",
        6 => "left thumb",
        7 => "left index",
        8 => "left middle",
        9 => "left ring",
        10 => "left little",
        11 => "right iris",
        12 => "left iris",
        _ => "unknown position",
    }
}

/// An adjudicator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Ruling {
    /// The same person as the earlier recording: DUPLICATE_RECORD.
    SamePerson,
    /// Another person: PRINT_READY_RECORD.
    DifferentPerson,
}

impl Ruling {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Ruling::SamePerson => "SAME_PERSON",
            Ruling::DifferentPerson => "DIFFERENT_PERSON",
        }
    }

    fn parse(text: &str) -> Option<Ruling> {
        [Ruling::SamePerson, Ruling::DifferentPerson]
            .into_iter()
            .find(|v| v.as_str() == text)
    }
}

/// A case as the adjudicator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    /// The recording to decide.
    pub packet_id: String,
    /// Its station.
    pub station_id: String,
    /// When the data center received it (Unix seconds).
    pub received_at: i64,
    /// The earlier recording one finger or iris agreed with.
    pub matched_packet: String,
    /// Its station.
    pub matched_station: String,
    /// When that one was received (Unix seconds).
    pub matched_received_at: i64,
    /// What the matcher compared.
    pub evidence: Evidence,
    /// When the case was opened (Unix seconds).
    pub opened_at: i64,
    /// The decision, once made.
    pub decided: Option<Decided>,
}

/// A decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decided {
    /// Which.
    pub ruling: Ruling,
    /// Who decided (the adjudicator's name or staff number).
    pub adjudicator: String,
    /// Why, in the adjudicator's words.
    pub reason: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// Opens the case of `packet_id` (matched with `matched`), in the transaction that publishes
/// its ADJUDICATE_RECORD. Matching it again (a packet re-decided after a failure) keeps the
/// first case.
pub(crate) fn open_case(
    tx: &Transaction<'_>,
    packet_id: &str,
    station_id: &str,
    matched: &str,
    evidence: &Evidence,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO adjudication (packet_id, station_id, matched_packet, evidence, opened_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            packet_id,
            station_id,
            matched,
            serde_json::to_string(evidence)?,
            now
        ],
    )?;
    Ok(())
}

impl Gateway {
    /// The cases, oldest first: only the open ones unless `all`.
    pub fn cases(&self, all: bool) -> Result<Vec<Case>> {
        self.cases_where("?1 OR a.decided_at IS NULL", &all)
    }

    /// The cases meeting SQL `condition` on `adjudication a` (taking `param` as `?1`), oldest
    /// first.
    fn cases_where(&self, condition: &str, param: &dyn rusqlite::ToSql) -> Result<Vec<Case>> {
        let conn = self.db();
        let mut stmt = conn.prepare(&format!(
            "SELECT a.packet_id, a.station_id, p.received_at, a.matched_packet,
                    m.station_id, m.received_at, a.evidence, a.opened_at,
                    a.decision, a.adjudicator, a.reason, a.decided_at
             FROM adjudication a
             JOIN packet p ON p.packet_id = a.packet_id
             JOIN packet m ON m.packet_id = a.matched_packet
             WHERE {condition}
             ORDER BY a.opened_at, p.receipt_no"
        ))?;
        let rows = stmt.query_map([param], |r| {
            let evidence: String = r.get(6)?;
            let evidence = serde_json::from_str(&evidence).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, e.into())
            })?;
            let decision: Option<String> = r.get(8)?;
            let decided = match (decision.as_deref().and_then(Ruling::parse), r.get(11)?) {
                (Some(ruling), Some(at)) => Some(Decided {
                    ruling,
                    adjudicator: r.get(9)?,
                    reason: r.get(10)?,
                    at,
                }),
                _ => None,
            };
            Ok(Case {
                packet_id: r.get(0)?,
                station_id: r.get(1)?,
                received_at: r.get(2)?,
                matched_packet: r.get(3)?,
                matched_station: r.get(4)?,
                matched_received_at: r.get(5)?,
                evidence,
                opened_at: r.get(7)?,
                decided,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records `adjudicator`'s `ruling` on the open case of `packet_id` and publishes its
    /// result, in one transaction. A case decided before is refused (`CASE_DECIDED`) and left
    /// as it was.
    pub fn adjudicate(
        &self,
        packet_id: &str,
        ruling: Ruling,
        adjudicator: &str,
        reason: &str,
    ) -> Result<Case> {
        let (adjudicator, reason) = (adjudicator.trim(), reason.trim());
        if adjudicator.is_empty() || reason.is_empty() {
            return Err(GatewayError::Adjudication {
                code: "DECISION_UNSIGNED",
                message: "a decision needs the adjudicator's name (--by) and the reason (--reason)"
                    .into(),
            });
        }
        let now = self.now();
        {
            let mut conn = self.db();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let case: Option<(String, String, Option<i64>)> = tx
                .query_row(
                    "SELECT station_id, matched_packet, decided_at FROM adjudication
                     WHERE packet_id = ?1",
                    [packet_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (station_id, matched) = match case {
                None => {
                    return Err(GatewayError::Adjudication {
                        code: "NO_SUCH_CASE",
                        message: format!(
                            "no adjudication case for packet {packet_id}: `rekam-gateway adjudicate list` shows the open ones"
                        ),
                    });
                }
                Some((_, _, Some(at))) => {
                    return Err(GatewayError::Adjudication {
                        code: "CASE_DECIDED",
                        message: format!(
                            "the case of packet {packet_id} was decided at {}: a decision is final",
                            crate::revoke::rfc3339(at)
                        ),
                    });
                }
                Some((station_id, matched, None)) => (station_id, matched),
            };
            let outcome = match ruling {
                Ruling::SamePerson => Outcome::new(Status::DuplicateRecord)
                    .matching(Some(matched))
                    .because(format!(
                        "an adjudicator decided: the same person as the earlier recording ({reason})"
                    )),
                Ruling::DifferentPerson => Outcome::new(Status::PrintReadyRecord).because(
                    format!("an adjudicator decided: not the earlier recording's person ({reason})"),
                ),
            };
            publish(&tx, &self.inner.dc, packet_id, &station_id, outcome, now)?;
            tx.execute(
                "UPDATE adjudication SET decision = ?1, adjudicator = ?2, reason = ?3, decided_at = ?4
                 WHERE packet_id = ?5",
                params![ruling.as_str(), adjudicator, reason, now, packet_id],
            )?;
            tx.commit()?;
        }
        tracing::info!(
            packet = %packet_id,
            ruling = ruling.as_str(),
            %adjudicator,
            "adjudication decided"
        );
        self.cases_where("a.packet_id = ?1", &packet_id)?
            .pop()
            .ok_or_else(|| GatewayError::Adjudication {
                code: "NO_SUCH_CASE",
                message: format!("the case of packet {packet_id} is gone after its decision"),
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::db::{DbKey, open};
    use rusqlite::params;

    /// The database itself keeps a decision final and a case from being deleted, whatever
    /// process or hand writes to it.
    #[test]
    fn a_decided_case_cannot_be_changed_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("gateway.db"), &DbKey::generate().unwrap()).unwrap();
        for (receipt, packet) in [(1, "P-1"), (2, "P-2")] {
            conn.execute(
                "INSERT INTO packet (receipt_no, packet_id, station_id, content_hash, size, sealed, received_at, receipt)
                 VALUES (?1, ?2, 'S', '', 0, x'', 0, '')",
                params![receipt, packet],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO adjudication (packet_id, station_id, matched_packet, evidence, opened_at)
             VALUES ('P-2', 'S', 'P-1', '{}', 0)",
            [],
        )
        .unwrap();
        // A decision without its time, or an unknown ruling, is refused.
        for bad in [
            "UPDATE adjudication SET decision = 'SAME_PERSON'",
            "UPDATE adjudication SET decision = 'MAYBE', decided_at = 1",
        ] {
            assert!(conn.execute(bad, []).is_err(), "{bad}");
        }
        conn.execute(
            "UPDATE adjudication SET decision = 'SAME_PERSON', adjudicator = 'A', reason = 'r', decided_at = 1",
            [],
        )
        .unwrap();
        for bad in [
            "UPDATE adjudication SET decision = 'DIFFERENT_PERSON'",
            "UPDATE adjudication SET adjudicator = 'B'",
            "DELETE FROM adjudication",
        ] {
            let e = conn.execute(bad, []).unwrap_err().to_string();
            assert!(e.contains("final") || e.contains("kept"), "{bad}: {e}");
        }
    }
}
