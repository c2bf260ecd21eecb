//! The data center's answer to a reissue request (`POST /v1/reissues/{request_id}`): a card
//! made again for a resident recorded before (lost, damaged, data change, moving in) without
//! recording again. The request itself is defined by the station's core (it carries the
//! biodata) and travels in a request signed with the station's key, like the Dinas's card
//! reports; the answer is signed with the data center's receipt key, so the station keeps a
//! proof of what the center decided, whoever carried it.

use crate::keys::{DcIdentity, DcKeys, verify};
use crate::protocol::decode_signature;
use crate::{PacketError, Result, sha256};
use serde::{Deserialize, Serialize};

/// What the data center decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReissueDecision {
    /// The station's request.
    pub request_id: String,
    /// The station that asked.
    pub station_id: String,
    /// The record the card is made from, once queued.
    pub packet_id: Option<String>,
    /// `None`: queued for the Dinas's print queue; otherwise the refusal's stable code.
    pub refused: Option<String>,
    /// In plain words: what happens next, or why not and what to do.
    pub reason: String,
    /// When (Unix seconds, the data center's clock).
    pub answered_at: i64,
}

/// A [`ReissueDecision`] signed by the data center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReissueAnswer {
    /// The decision.
    pub decision: ReissueDecision,
    /// The data center's signature over it, hex.
    pub signature: String,
}

fn signed_text(d: &ReissueDecision) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(d).map_err(|e| PacketError::Malformed {
        field: "reissue answer",
        detail: e.to_string(),
    })?;
    Ok([b"REKAM-REISSUE-ANSWER-V1\0".as_slice(), &sha256(&[&json])].concat())
}

impl ReissueAnswer {
    /// Signs `decision`.
    pub fn sign(dc: &DcKeys, decision: ReissueDecision) -> Result<ReissueAnswer> {
        let signature = hex::encode(dc.sign(&signed_text(&decision)?));
        Ok(ReissueAnswer {
            decision,
            signature,
        })
    }

    /// The decision, once its signature verifies against the pinned identity and it answers
    /// `request_id` of `station_id`.
    pub fn verify(
        &self,
        dc: &DcIdentity,
        station_id: &str,
        request_id: &str,
    ) -> Result<&ReissueDecision> {
        let d = &self.decision;
        if d.request_id != request_id || d.station_id != station_id {
            return Err(PacketError::Malformed {
                field: "reissue answer",
                detail: format!(
                    "answers {} of {}, not {request_id} of {station_id}",
                    d.request_id, d.station_id
                ),
            });
        }
        verify(
            &dc.receipt_public()?,
            &signed_text(d)?,
            &decode_signature(&self.signature)?,
            "reissue answer",
        )?;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_answer_verifies_for_its_request_only_and_not_once_altered() {
        let dc = DcKeys::generate().unwrap();
        let identity = dc.identity("DC-TEST", None);
        let answer = ReissueAnswer::sign(
            &dc,
            ReissueDecision {
                request_id: "R-1".into(),
                station_id: "S-1".into(),
                packet_id: Some("P-1".into()),
                refused: None,
                reason: "queued".into(),
                answered_at: 1,
            },
        )
        .unwrap();
        assert!(answer.verify(&identity, "S-1", "R-1").is_ok());
        assert!(answer.verify(&identity, "S-1", "R-2").is_err());
        assert!(answer.verify(&identity, "S-2", "R-1").is_err());
        let mut forged = answer.clone();
        forged.decision.packet_id = Some("P-2".into());
        assert_eq!(
            forged.verify(&identity, "S-1", "R-1").unwrap_err().code(),
            "BAD_SIGNATURE"
        );
        let other = DcKeys::generate().unwrap().identity("DC-TEST", None);
        assert!(answer.verify(&other, "S-1", "R-1").is_err());
    }
}
