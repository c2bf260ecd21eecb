//! The hash-chained audit log: who did what, when, at which station.
//!
//! Each entry's hash is SHA-256 over a domain tag, its sequence number, its fields (each
//! length-prefixed, so no two field splits hash alike) and the previous entry's hash. The store
//! keeps the head (last sequence number and hash) beside the log, written in the same
//! transaction. [`verify`] walks the log from the start and finds the first entry that was
//! edited, inserted or deleted, and a truncated tail through the head.
//!
//! Invariant: entries are only appended (the store's triggers refuse UPDATE and DELETE); the
//! subject and detail never hold a full NIK or biometric data.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// A 32-byte SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash that the first entry links to.
pub const GENESIS: Hash = [0u8; 32];

const DOMAIN_TAG: &[u8] = b"rekam/audit/v1";

/// What happened, as the caller describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// Who: an operator id, `system`, or `cli`.
    pub actor: String,
    /// What, as a dotted verb (`station.init`, `enrollment.journal`).
    pub action: String,
    /// What it was done to: an enrollment id, a masked NIK, a file.
    pub subject: String,
    /// Details as JSON.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// An event with an empty detail.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        subject: impl Into<String>,
    ) -> Self {
        AuditEvent {
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            detail: serde_json::Value::Null,
        }
    }

    /// The same event with `detail`.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The station that wrote it.
    pub station_id: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub subject: String,
    /// Details (JSON text).
    pub detail: String,
    /// The previous entry's hash.
    #[serde(serialize_with = "hex_hash")]
    pub prev_hash: Hash,
    /// This entry's hash.
    #[serde(serialize_with = "hex_hash")]
    pub hash: Hash,
}

fn hex_hash<S: serde::Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(h))
}

impl AuditEntry {
    /// The hash this entry must have, from its fields and `prev_hash`.
    pub fn compute_hash(&self) -> Hash {
        let mut h = Sha256::new();
        h.update(DOMAIN_TAG);
        h.update(self.seq.to_be_bytes());
        for field in [
            &self.at,
            &self.station_id,
            &self.actor,
            &self.action,
            &self.subject,
            &self.detail,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        h.update(self.prev_hash);
        h.finalize().into()
    }
}

/// The last entry's position and hash, kept beside the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AuditHead {
    /// Sequence number of the last entry (0 when empty).
    pub seq: i64,
    /// Its hash ([`GENESIS`] when empty).
    #[serde(serialize_with = "hex_hash")]
    pub hash: Hash,
}

impl AuditHead {
    /// The head of an empty log.
    pub const EMPTY: AuditHead = AuditHead {
        seq: 0,
        hash: GENESIS,
    };
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditBreak {
    /// An entry's fields no longer give its hash: it was edited.
    Edited {
        /// The entry.
        seq: i64,
    },
    /// An entry does not link to the one before it: something was inserted or removed.
    BrokenLink {
        /// The entry whose `prev_hash` is wrong.
        seq: i64,
    },
    /// Sequence numbers skip or repeat: rows were deleted or inserted.
    Gap {
        /// The number expected.
        expected: i64,
        /// The number found.
        found: i64,
    },
    /// The log ends before the head says it should, or after: the tail was cut or extended.
    HeadMismatch {
        /// The head's sequence number.
        head_seq: i64,
        /// The last entry found.
        last_seq: i64,
    },
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditBreak::Edited { seq } => write!(f, "entry {seq} was altered after it was written"),
            AuditBreak::BrokenLink { seq } => {
                write!(f, "entry {seq} does not follow from the entry before it")
            }
            AuditBreak::Gap { expected, found } => {
                write!(
                    f,
                    "entry {expected} is missing (found {found} in its place)"
                )
            }
            AuditBreak::HeadMismatch { head_seq, last_seq } => write!(
                f,
                "the log ends at entry {last_seq} but its head records entry {head_seq}"
            ),
        }
    }
}

impl crate::i18n::Localized for AuditBreak {
    fn localized(&self, lang: crate::i18n::Lang) -> String {
        match (self, lang) {
            (_, crate::i18n::Lang::En) => self.to_string(),
            (AuditBreak::Edited { seq }, _) => format!("entri {seq} diubah setelah ditulis"),
            (AuditBreak::BrokenLink { seq }, _) => {
                format!("entri {seq} tidak bersambung dengan entri sebelumnya")
            }
            (AuditBreak::Gap { expected, found }, _) => {
                format!("entri {expected} hilang (di tempatnya ada entri {found})")
            }
            (AuditBreak::HeadMismatch { head_seq, last_seq }, _) => format!(
                "log berakhir pada entri {last_seq}, padahal kepala log mencatat entri {head_seq}"
            ),
        }
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: i64,
    /// The head found.
    pub head: AuditHead,
    /// The first break, if any.
    pub first_break: Option<AuditBreak>,
}

impl AuditReport {
    /// True when the whole chain verifies.
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Incremental verifier: feed entries in sequence order, then [`Verifier::finish`] with the
/// stored head. Streaming keeps memory flat for logs of millions of entries.
#[derive(Debug)]
pub struct Verifier {
    expected_seq: i64,
    prev: Hash,
    first_break: Option<AuditBreak>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            expected_seq: 1,
            prev: GENESIS,
            first_break: None,
        }
    }
}

impl Verifier {
    /// Checks the next entry. Returns false once a break was found (the caller may stop).
    pub fn push(&mut self, entry: &AuditEntry) -> bool {
        if self.first_break.is_some() {
            return false;
        }
        let brk = if entry.seq != self.expected_seq {
            Some(AuditBreak::Gap {
                expected: self.expected_seq,
                found: entry.seq,
            })
        } else if entry.compute_hash() != entry.hash {
            Some(AuditBreak::Edited { seq: entry.seq })
        } else if entry.prev_hash != self.prev {
            Some(AuditBreak::BrokenLink { seq: entry.seq })
        } else {
            None
        };
        self.expected_seq = entry.seq + 1;
        self.prev = entry.hash;
        self.first_break = brk;
        self.first_break.is_none()
    }

    /// Compares the end of the log with the stored head.
    pub fn finish(self, head: AuditHead) -> AuditReport {
        let last_seq = self.expected_seq - 1;
        let first_break = self.first_break.or_else(|| {
            (head.seq != last_seq || head.hash != self.prev).then_some(AuditBreak::HeadMismatch {
                head_seq: head.seq,
                last_seq,
            })
        });
        AuditReport {
            entries: last_seq,
            head,
            first_break,
        }
    }
}

/// Verifies a whole log held in memory.
pub fn verify<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    head: AuditHead,
) -> AuditReport {
    let mut v = Verifier::default();
    for e in entries {
        if !v.push(e) {
            break;
        }
    }
    v.finish(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> (Vec<AuditEntry>, AuditHead) {
        let mut prev = GENESIS;
        let mut out = Vec::new();
        for seq in 1..=n {
            let mut e = AuditEntry {
                seq,
                at: format!("2026-11-22T0{}:00:00Z", seq % 10),
                station_id: "ST-1".into(),
                actor: "op-1".into(),
                action: "test.event".into(),
                subject: format!("subject-{seq}"),
                detail: "{}".into(),
                prev_hash: prev,
                hash: GENESIS,
            };
            e.hash = e.compute_hash();
            prev = e.hash;
            out.push(e);
        }
        let head = AuditHead { seq: n, hash: prev };
        (out, head)
    }

    #[test]
    fn tampering_table() {
        type Tamper = fn(&mut Vec<AuditEntry>, &mut AuditHead);
        let cases: &[(&str, Tamper, Option<AuditBreak>)] = &[
            ("untouched", |_, _| {}, None),
            (
                "edited subject",
                |l, _| l[2].subject = "other".into(),
                Some(AuditBreak::Edited { seq: 3 }),
            ),
            (
                "edited and rehashed",
                |l, _| {
                    l[2].actor = "intruder".into();
                    l[2].hash = l[2].compute_hash();
                },
                Some(AuditBreak::BrokenLink { seq: 4 }),
            ),
            (
                "middle row deleted",
                |l, _| {
                    l.remove(1);
                },
                Some(AuditBreak::Gap {
                    expected: 2,
                    found: 3,
                }),
            ),
            (
                "row inserted and renumbered",
                |l, _| {
                    let mut forged = l[1].clone();
                    forged.subject = "forged".into();
                    forged.hash = forged.compute_hash();
                    l.insert(2, forged);
                    for (i, e) in l.iter_mut().enumerate() {
                        e.seq = i as i64 + 1;
                    }
                },
                Some(AuditBreak::Edited { seq: 3 }),
            ),
            (
                "tail truncated",
                |l, _| {
                    l.pop();
                },
                Some(AuditBreak::HeadMismatch {
                    head_seq: 5,
                    last_seq: 4,
                }),
            ),
            (
                "tail truncated and head rewound without the hash",
                |l, h| {
                    l.pop();
                    h.seq = 4;
                },
                Some(AuditBreak::HeadMismatch {
                    head_seq: 4,
                    last_seq: 4,
                }),
            ),
            (
                "everything deleted",
                |l, _| l.clear(),
                Some(AuditBreak::HeadMismatch {
                    head_seq: 5,
                    last_seq: 0,
                }),
            ),
        ];
        for (name, tamper, want) in cases {
            let (mut log, mut head) = chain(5);
            tamper(&mut log, &mut head);
            assert_eq!(verify(&log, head).first_break, *want, "case {name}");
        }
    }

    #[test]
    fn field_boundaries_are_bound_into_the_hash() {
        let (log, _) = chain(1);
        let mut a = log[0].clone();
        let mut b = log[0].clone();
        a.actor = "ab".into();
        a.action = "c".into();
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(a.compute_hash(), b.compute_hash());
    }
}
