//! The data center's answer to a reissue request (`POST /v1/reissues/{request_id}`): a card
//! made again for a resident recorded before (lost, damaged, data change, moving in) without
//! recording again. The request itself is defined by the station's core (it carries the
//! biodata) and travels in a request signed with the station's key, like the Dinas's card
//! reports; the answer is signed with the data center's receipt key, so the station keeps a
//! proof of what the center decided, whoever carried it.

use crate::keys::{DcIdentity, DcKeys, KeyId, StationKey, verify};
use crate::protocol::decode_signature;
use crate::{PacketError, Result, sha256};
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
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

/// What a sealed request is bound to: the station and the request, so a file copied under
/// another name or into another station's bundle does not open.
fn sealed_context(station_id: &str, request_id: &str) -> Vec<u8> {
    [
        b"REKAM-REISSUE-REQUEST-V1\0".as_slice(),
        station_id.as_bytes(),
        b"\0",
        request_id.as_bytes(),
    ]
    .concat()
}

/// A reissue request (`request`, the station core's JSON) sealed to the data center's packet
/// key for a technician's disk, with the suite of packets (HPKE base mode, X25519,
/// ChaCha20-Poly1305): the encapsulated key, then the ciphertext. Only the data center opens
/// it; whoever finds the disk reads nothing.
pub fn seal_request(
    dc: &DcIdentity,
    station_id: &str,
    request_id: &str,
    request: &[u8],
) -> Result<Vec<u8>> {
    let mut public = [0u8; 32];
    hex::decode_to_slice(&dc.packet_key.public, &mut public).map_err(|_| {
        PacketError::Malformed {
            field: "data center packet key",
            detail: "not 32 bytes of hex".into(),
        }
    })?;
    let w = crate::wrap::seal(
        &public,
        b"REKAM-REISSUE-REQUEST-V1",
        &sealed_context(station_id, request_id),
        request,
    )?;
    Ok([w.enc.as_slice(), &w.ciphertext].concat())
}

/// A reissue request a kecamatan server carries to the data center for one of its counters
/// (`POST /v1/relay/reissues/{request_id}`): sealed to the data center ([`seal_request`]), so
/// the server reads nothing of the resident, and signed with the counter's key, so the data
/// center knows which counter asked and that nothing changed on the way. Carried again, it
/// gets the same answer (the request id is the data center's key for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayedReissue {
    /// The counter that took the request.
    pub station_id: String,
    /// Its request.
    pub request_id: String,
    /// The id of the counter's key that signed.
    pub station_key: KeyId,
    /// The sealed request, base64.
    pub sealed: String,
    /// Ed25519 of the counter's key over `REKAM-REISSUE-RELAY-V1`, NUL, the station id, NUL,
    /// the request id, NUL, and the SHA-256 of the sealed bytes; hex.
    pub signature: String,
}

fn relay_text(station_id: &str, request_id: &str, sealed: &[u8]) -> Vec<u8> {
    [
        b"REKAM-REISSUE-RELAY-V1\0".as_slice(),
        station_id.as_bytes(),
        b"\0",
        request_id.as_bytes(),
        b"\0",
        &sha256(&[sealed]),
    ]
    .concat()
}

impl RelayedReissue {
    /// `request` (the station core's JSON) of `station_id`, sealed to `dc` and signed with
    /// `key`.
    pub fn new(
        key: &StationKey,
        dc: &DcIdentity,
        station_id: &str,
        request_id: &str,
        request: &[u8],
    ) -> Result<RelayedReissue> {
        let sealed = seal_request(dc, station_id, request_id, request)?;
        Ok(RelayedReissue {
            station_id: station_id.to_owned(),
            request_id: request_id.to_owned(),
            station_key: key.id(),
            signature: hex::encode(key.sign(&relay_text(station_id, request_id, &sealed))),
            sealed: base64::engine::general_purpose::STANDARD.encode(sealed),
        })
    }

    /// The sealed request, once the signature verifies against `station_public` (the key
    /// [`Self::station_key`] names, as the data center registered it).
    pub fn verified(&self, station_public: &VerifyingKey) -> Result<Vec<u8>> {
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&self.sealed)
            .map_err(|_| PacketError::Malformed {
                field: "relayed reissue request",
                detail: "the sealed request is not base64".into(),
            })?;
        verify(
            station_public,
            &relay_text(&self.station_id, &self.request_id, &sealed),
            &decode_signature(&self.signature)?,
            "relayed reissue request",
        )?;
        Ok(sealed)
    }
}

impl DcKeys {
    /// Opens a request sealed with [`seal_request`] for `request_id` of `station_id`;
    /// [`PacketError::Altered`] for any other request, station, key or byte.
    pub fn open_request(
        &self,
        station_id: &str,
        request_id: &str,
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let Some((enc, ciphertext)) = sealed.split_first_chunk::<{ crate::wrap::ENC_LEN }>() else {
            return Err(PacketError::Altered);
        };
        crate::wrap::open_with(
            self.packet_secret(),
            b"REKAM-REISSUE-REQUEST-V1",
            &sealed_context(station_id, request_id),
            &crate::wrap::Wrapped {
                enc: *enc,
                ciphertext: ciphertext.to_vec(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_relayed_request_verifies_for_its_station_only_and_opens_at_the_data_center() {
        let dc = DcKeys::generate().unwrap();
        let identity = dc.identity("DC-TEST", None);
        let key = StationKey::generate().unwrap();
        let relayed = RelayedReissue::new(
            &key,
            &identity,
            "KEC-01",
            "R-1",
            b"{\"case\":\"lost_card\"}",
        )
        .unwrap();
        assert_eq!(relayed.station_key, key.id());
        let sealed = relayed.verified(&key.public()).unwrap();
        assert_eq!(
            dc.open_request("KEC-01", "R-1", &sealed)
                .unwrap()
                .as_slice(),
            b"{\"case\":\"lost_card\"}"
        );
        let other = StationKey::generate().unwrap();
        assert!(relayed.verified(&other.public()).is_err(), "another key");
        for edit in [
            |r: &mut RelayedReissue| r.station_id = "KEC-02".into(),
            |r: &mut RelayedReissue| r.request_id = "R-2".into(),
            |r: &mut RelayedReissue| {
                r.sealed = base64::engine::general_purpose::STANDARD.encode(b"x")
            },
        ] {
            let mut altered = relayed.clone();
            edit(&mut altered);
            assert!(altered.verified(&key.public()).is_err(), "{altered:?}");
        }
    }

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

    #[test]
    fn a_sealed_request_opens_at_its_data_center_for_its_station_and_id_only() {
        let dc = DcKeys::generate().unwrap();
        let identity = dc.identity("DC-TEST", None);
        let sealed = seal_request(&identity, "S-1", "R-1", b"{\"nik\":\"3273\"}").unwrap();
        assert!(
            !sealed.windows(4).any(|w| w == b"3273"),
            "nothing in the clear"
        );
        assert_eq!(
            &*dc.open_request("S-1", "R-1", &sealed).unwrap(),
            b"{\"nik\":\"3273\"}"
        );
        for (station, request) in [("S-2", "R-1"), ("S-1", "R-2")] {
            assert!(dc.open_request(station, request, &sealed).is_err());
        }
        let other = DcKeys::generate().unwrap();
        assert!(other.open_request("S-1", "R-1", &sealed).is_err());
        let mut bent = sealed.clone();
        *bent.last_mut().unwrap() ^= 1;
        assert!(dc.open_request("S-1", "R-1", &bent).is_err());
        assert!(dc.open_request("S-1", "R-1", &sealed[..10]).is_err());
    }
}
