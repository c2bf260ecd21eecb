//! The signed messages and JSON bodies of the station-data center protocol
//! (`docs/gateway-api.yaml`).
//!
//! Everything signed is signed over a fixed canonical text (a context line, then one field per
//! line), never over re-serialised JSON, so the two sides cannot disagree on bytes.

use crate::keys::{DcIdentity, DcKeys, KeyId, StationKey, verify};
use crate::{PacketError, Result, sha256};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The HTTP headers of a signed station request.
pub mod header {
    /// The station id.
    pub const STATION: &str = "rekam-station";
    /// The id of the key that signed.
    pub const KEY: &str = "rekam-key";
    /// The station's time, Unix seconds.
    pub const TIME: &str = "rekam-time";
    /// A value the station uses once: the gateway refuses a request whose nonce it has seen
    /// within the clock window (a replay).
    pub const NONCE: &str = "rekam-nonce";
    /// The signature, hex.
    pub const SIGNATURE: &str = "rekam-signature";
    /// On every refusal, the gateway's code (as in the JSON body): the one place it reaches
    /// the station when the answer has no body, as a refused `HEAD` has none.
    pub const CODE: &str = "rekam-code";
}

/// What a request's signature covers instead of the body for tus `PATCH` requests: their
/// bytes are a signed packet already, and signing them would mean reading them twice.
pub const UNSIGNED_BODY: &str = "UNSIGNED-PAYLOAD";

pub(crate) fn decode_signature(text: &str) -> Result<[u8; 64]> {
    let mut sig = [0u8; 64];
    hex::decode_to_slice(text, &mut sig).map_err(|_| PacketError::Malformed {
        field: "signature",
        detail: "expected 128 hex digits".into(),
    })?;
    Ok(sig)
}

/// The text a station signs for a request.
pub fn request_text(
    method: &str,
    path_and_query: &str,
    station_id: &str,
    key: KeyId,
    time: i64,
    nonce: &str,
    body_hash: &str,
) -> String {
    format!(
        "REKAM-REQUEST-V2\n{method}\n{path_and_query}\n{station_id}\n{key}\n{time}\n{nonce}\n{body_hash}"
    )
}

/// A random prefix for a client's request nonces (16 hex digits): with a counter after it,
/// each request of the client has a nonce no other client of the station shares.
pub fn nonce_prefix() -> Result<String> {
    Ok(hex::encode(&crate::random32()?[..8]))
}

/// Whether `nonce` has the form a request's nonce must have: 8 to 64 characters of lower-case
/// hex digits and `-`.
pub fn valid_nonce(nonce: &str) -> bool {
    (8..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
}

/// The body hash field of [`request_text`]: SHA-256 hex of the body.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(sha256(&[body]))
}

/// A signed request's authentication headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAuth {
    /// The station.
    pub station_id: String,
    /// Its key.
    pub key: KeyId,
    /// The station's time, Unix seconds.
    pub time: i64,
    /// Used once ([`valid_nonce`]).
    pub nonce: String,
    /// The signature, hex.
    pub signature: String,
}

impl RequestAuth {
    /// Signs a request.
    pub fn sign(
        key: &StationKey,
        station_id: &str,
        method: &str,
        path_and_query: &str,
        time: i64,
        nonce: &str,
        body_hash: &str,
    ) -> RequestAuth {
        let text = request_text(
            method,
            path_and_query,
            station_id,
            key.id(),
            time,
            nonce,
            body_hash,
        );
        RequestAuth {
            station_id: station_id.to_owned(),
            key: key.id(),
            time,
            nonce: nonce.to_owned(),
            signature: hex::encode(key.sign(text.as_bytes())),
        }
    }

    /// Reads the authentication headers of a request (`get` answers a header by name): what
    /// is missing or malformed is named in the error, for the server's `AUTH_MISSING`.
    pub fn from_headers<'a>(
        get: impl Fn(&str) -> Option<&'a str>,
    ) -> std::result::Result<RequestAuth, String> {
        let field = |name: &str| {
            get(name).ok_or_else(|| {
                format!("header {name} is missing: requests must be signed by a registered station")
            })
        };
        let station_id = field(header::STATION)?.to_owned();
        let key = KeyId::from_hex(field(header::KEY)?).ok_or("malformed key id")?;
        let time = field(header::TIME)?
            .parse()
            .map_err(|_| "malformed time".to_owned())?;
        let nonce = field(header::NONCE)?;
        if !valid_nonce(nonce) {
            return Err("malformed nonce".into());
        }
        Ok(RequestAuth {
            station_id,
            key,
            time,
            nonce: nonce.to_owned(),
            signature: field(header::SIGNATURE)?.to_owned(),
        })
    }

    /// Verifies the signature with the station's key named by `self.key`.
    pub fn verify(
        &self,
        public: &VerifyingKey,
        method: &str,
        path_and_query: &str,
        body_hash: &str,
    ) -> Result<()> {
        let text = request_text(
            method,
            path_and_query,
            &self.station_id,
            self.key,
            self.time,
            &self.nonce,
            body_hash,
        );
        verify(
            public,
            text.as_bytes(),
            &decode_signature(&self.signature)?,
            "request",
        )
    }
}

/// A station's registration: its id, kecamatan and public key, with the one-time token the
/// data center issued for it, signed by the key being registered (proof of possession).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The station id.
    pub station_id: String,
    /// Its kecamatan code (6 digits).
    pub kecamatan: String,
    /// The station's Ed25519 public key, hex.
    pub public_key: String,
    /// The one-time registration token.
    pub token: String,
    /// Station time, Unix seconds.
    pub time: i64,
    /// Signature over [`Registration::text`] by the key being registered, hex.
    pub signature: String,
}

impl Registration {
    fn text(station_id: &str, kecamatan: &str, public_key: &str, token: &str, time: i64) -> String {
        format!("REKAM-REGISTER-V1\n{station_id}\n{kecamatan}\n{public_key}\n{token}\n{time}")
    }

    /// A signed registration.
    pub fn new(
        key: &StationKey,
        station_id: &str,
        kecamatan: &str,
        token: &str,
        time: i64,
    ) -> Registration {
        let public_key = key.public_hex();
        let text = Registration::text(station_id, kecamatan, &public_key, token, time);
        Registration {
            station_id: station_id.into(),
            kecamatan: kecamatan.into(),
            public_key,
            token: token.into(),
            time,
            signature: hex::encode(key.sign(text.as_bytes())),
        }
    }

    /// Verifies the proof of possession; returns the key.
    pub fn verify(&self) -> Result<VerifyingKey> {
        let key = crate::keys::verifying_key_from_hex(&self.public_key)?;
        let text = Registration::text(
            &self.station_id,
            &self.kecamatan,
            &self.public_key,
            &self.token,
            self.time,
        );
        verify(
            &key,
            text.as_bytes(),
            &decode_signature(&self.signature)?,
            "registration",
        )?;
        Ok(key)
    }
}

/// A station key rotation: the new key, signed by the current key (authority) and by the new
/// key (possession). The data center keeps the old key for packets already sealed with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRotation {
    /// The station.
    pub station_id: String,
    /// The id of the key being replaced.
    pub old_key: KeyId,
    /// The new public key, hex.
    pub new_public_key: String,
    /// Station time, Unix seconds.
    pub time: i64,
    /// Signature by the old key, hex.
    pub old_signature: String,
    /// Signature by the new key, hex.
    pub new_signature: String,
}

impl KeyRotation {
    fn text(station_id: &str, old: KeyId, new_public: &str, time: i64) -> String {
        format!("REKAM-ROTATE-V1\n{station_id}\n{old}\n{new_public}\n{time}")
    }

    /// A rotation from `old` to `new`.
    pub fn new(old: &StationKey, new: &StationKey, station_id: &str, time: i64) -> KeyRotation {
        let new_public_key = new.public_hex();
        let text = KeyRotation::text(station_id, old.id(), &new_public_key, time);
        KeyRotation {
            station_id: station_id.into(),
            old_key: old.id(),
            new_public_key,
            time,
            old_signature: hex::encode(old.sign(text.as_bytes())),
            new_signature: hex::encode(new.sign(text.as_bytes())),
        }
    }

    /// Verifies both signatures given the old key; returns the new key.
    pub fn verify(&self, old: &VerifyingKey) -> Result<VerifyingKey> {
        let new = crate::keys::verifying_key_from_hex(&self.new_public_key)?;
        let text = KeyRotation::text(
            &self.station_id,
            self.old_key,
            &self.new_public_key,
            self.time,
        );
        if KeyId::of(old.as_bytes()) != self.old_key {
            return Err(PacketError::UnknownKey {
                role: "station",
                id: self.old_key,
            });
        }
        verify(
            old,
            text.as_bytes(),
            &decode_signature(&self.old_signature)?,
            "rotation (old key)",
        )?;
        verify(
            &new,
            text.as_bytes(),
            &decode_signature(&self.new_signature)?,
            "rotation (new key)",
        )?;
        Ok(new)
    }
}

/// The data center's receipt for a committed packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The packet id.
    pub packet_id: String,
    /// The station it came from.
    pub station_id: String,
    /// The packet's content hash, hex.
    pub content_hash: String,
    /// When the data center recorded it, Unix seconds.
    pub received_at: i64,
    /// The data center's running number for it.
    pub receipt_no: i64,
    /// The receipt key.
    pub dc_key: KeyId,
    /// The signature, hex.
    pub signature: String,
}

impl Receipt {
    fn text(&self) -> String {
        format!(
            "REKAM-RECEIPT-V1\n{}\n{}\n{}\n{}\n{}",
            self.packet_id, self.station_id, self.content_hash, self.received_at, self.receipt_no
        )
    }

    /// A receipt signed by the data center.
    pub fn new(
        dc: &DcKeys,
        packet_id: &str,
        station_id: &str,
        content_hash: &[u8; 32],
        received_at: i64,
        receipt_no: i64,
    ) -> Receipt {
        let mut r = Receipt {
            packet_id: packet_id.into(),
            station_id: station_id.into(),
            content_hash: hex::encode(content_hash),
            received_at,
            receipt_no,
            dc_key: dc.receipt_key_id(),
            signature: String::new(),
        };
        r.signature = hex::encode(dc.sign(r.text().as_bytes()));
        r
    }

    /// Verifies the signature against the pinned identity and that the receipt names this
    /// packet and content hash.
    pub fn verify(&self, dc: &DcIdentity, packet_id: &str, content_hash: &[u8; 32]) -> Result<()> {
        if self.dc_key != dc.receipt_key.id {
            return Err(PacketError::UnknownKey {
                role: "data center",
                id: self.dc_key,
            });
        }
        verify(
            &dc.receipt_public()?,
            self.text().as_bytes(),
            &decode_signature(&self.signature)?,
            "receipt",
        )?;
        if self.packet_id != packet_id {
            return Err(PacketError::HeaderMismatch { field: "packet id" });
        }
        if self.content_hash != hex::encode(content_hash) {
            return Err(PacketError::HeaderMismatch {
                field: "content hash",
            });
        }
        Ok(())
    }
}

/// The data center's statuses of a record (`../shared/docs/domain.md`, "Record statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Received and recorded; matching is pending.
    SentForEnrollment,
    /// Unique: the card may be printed.
    PrintReadyRecord,
    /// The same person was already recorded (`matched_packet` names the earlier packet).
    DuplicateRecord,
    /// Neither clearly unique nor clearly a duplicate: an adjudicator decides.
    AdjudicateRecord,
    /// The data center could not enroll the record: the station must send it again.
    EnrollFailureAtCentral,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::SentForEnrollment => "SENT_FOR_ENROLLMENT",
            Status::PrintReadyRecord => "PRINT_READY_RECORD",
            Status::DuplicateRecord => "DUPLICATE_RECORD",
            Status::AdjudicateRecord => "ADJUDICATE_RECORD",
            Status::EnrollFailureAtCentral => "ENROLL_FAILURE_AT_CENTRAL",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Status> {
        [
            Status::SentForEnrollment,
            Status::PrintReadyRecord,
            Status::DuplicateRecord,
            Status::AdjudicateRecord,
            Status::EnrollFailureAtCentral,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One event of the result feed, signed by the data center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultEvent {
    /// Position in the feed: read on with `after=cursor`.
    pub cursor: i64,
    /// The packet.
    pub packet_id: String,
    /// Its station.
    pub station_id: String,
    /// The status.
    pub status: Status,
    /// For a duplicate or an adjudication: the record it matched. The packet id when the
    /// same station recorded it; another station's record by the data center's reference
    /// (`DC-<receipt number>`), never its packet id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_packet: Option<String>,
    /// Why, in plain words (a failure's cause, a duplicate's evidence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When, Unix seconds.
    pub at: i64,
    /// The signature, hex.
    pub signature: String,
}

impl ResultEvent {
    fn text(&self) -> String {
        format!(
            "REKAM-RESULT-V1\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.cursor,
            self.packet_id,
            self.station_id,
            self.status.as_str(),
            self.matched_packet.as_deref().unwrap_or("-"),
            self.reason.as_deref().unwrap_or("-"),
            self.at
        )
    }

    /// Signs the event in place.
    pub fn sign(&mut self, dc: &DcKeys) {
        self.signature = hex::encode(dc.sign(self.text().as_bytes()));
    }

    /// Verifies the event against the pinned identity.
    pub fn verify(&self, dc: &DcIdentity) -> Result<()> {
        verify(
            &dc.receipt_public()?,
            self.text().as_bytes(),
            &decode_signature(&self.signature)?,
            "result",
        )
    }
}

/// A page of the result feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsPage {
    /// Events after the requested cursor, oldest first.
    pub events: Vec<ResultEvent>,
    /// The cursor to ask with next (the last event's, or the one asked with).
    pub next_cursor: i64,
}

/// A station's backlog, as its heartbeat reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacklogSummary {
    /// Records by state (BIO_CAPTURED, UPLOADING, SENT_FOR_ENROLLMENT, EXPORTED...).
    pub counts: BTreeMap<String, i64>,
    /// When the oldest record not yet at the data center was captured, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_unsent_at: Option<i64>,
    /// The last upload failure: code and plain words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The station's audit chain head (seq:hash), anchored at the data center.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<String>,
}

/// A station's heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The station's software version.
    pub version: String,
    /// Its backlog.
    pub backlog: BacklogSummary,
}

/// A refusal from the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable code.
    pub code: String,
    /// Plain words.
    pub message: String,
}

/// The answer to a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRequest {
    /// The tus upload holding the packet's bytes.
    pub upload_id: String,
}

/// One packet of an export bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleEntry {
    /// The packet id.
    pub packet_id: String,
    /// Its file, relative to the bundle.
    pub file: String,
    /// Bytes.
    pub size: u64,
    /// The packet's content hash (what its receipt will name), hex.
    pub content_hash: String,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
}

/// The manifest of an export bundle: what a technician carries from a station to the data
/// center. Signed by the station when its signing key is there (`manifest.sig`); each packet
/// is signed on its own in any case, so a station drained from its database and store key
/// alone still yields packets the data center can verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    /// Format of the bundle (1).
    pub format: u8,
    /// The station.
    pub station_id: String,
    /// When the bundle was written, RFC 3339.
    pub created_at: String,
    /// The packets.
    pub packets: Vec<BundleEntry>,
    /// Reissue requests not yet answered, each sealed to the data center
    /// (`rekam_packet::reissue::seal_request`); only a signed manifest's are answered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reissues: Vec<BundleReissue>,
}

/// One sealed reissue request of an export bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleReissue {
    /// The request's id.
    pub request_id: String,
    /// Its file, relative to the bundle (`reissues/<request id>.rkrq`).
    pub file: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

/// The text a station signs for a bundle manifest's bytes.
fn bundle_text(manifest: &[u8]) -> Vec<u8> {
    [b"REKAM-BUNDLE-V1\0".as_slice(), &sha256(&[manifest])].concat()
}

/// The signature of a bundle manifest's bytes (`manifest.sig`: key id, a space, hex).
pub fn sign_bundle(key: &StationKey, manifest: &[u8]) -> String {
    format!(
        "{} {}\n",
        key.id(),
        hex::encode(key.sign(&bundle_text(manifest)))
    )
}

/// The most signature lines a `manifest.sig` may hold.
pub const BUNDLE_SIGNATURES: usize = 4;

/// Verifies `manifest.sig` with `lookup`, which gives the station's public key of a key id.
///
/// The file holds one line `<key id> <signature>` per signature, at most
/// [`BUNDLE_SIGNATURES`]; the manifest verifies when one of them is its signature by a key
/// `lookup` knows. A station rewriting its bundle puts the new manifest's signature beside the
/// old one before it replaces the manifest, so the pair on the disk verifies at every moment
/// of the rewrite (two files cannot be renamed at once).
pub fn verify_bundle(
    manifest: &[u8],
    signature: &str,
    lookup: impl Fn(KeyId) -> Option<VerifyingKey>,
) -> Result<()> {
    let lines: Vec<&str> = signature
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() || lines.len() > BUNDLE_SIGNATURES {
        return Err(PacketError::Malformed {
            field: "bundle signature",
            detail: format!(
                "expected 1 to {BUNDLE_SIGNATURES} lines `<key id> <signature>`, found {}",
                lines.len()
            ),
        });
    }
    let mut first_error = None;
    for line in lines {
        match verify_bundle_line(manifest, line, &lookup) {
            Ok(()) => return Ok(()),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(PacketError::Malformed {
        field: "bundle signature",
        detail: "no line".into(),
    }))
}

fn verify_bundle_line(
    manifest: &[u8],
    line: &str,
    lookup: &impl Fn(KeyId) -> Option<VerifyingKey>,
) -> Result<()> {
    let (id, sig) = line.split_once(' ').ok_or(PacketError::Malformed {
        field: "bundle signature",
        detail: "expected `<key id> <signature>`".into(),
    })?;
    let id = KeyId::from_hex(id).ok_or(PacketError::Malformed {
        field: "bundle signature",
        detail: "bad key id".into(),
    })?;
    let key = lookup(id).ok_or(PacketError::UnknownKey {
        role: "station",
        id,
    })?;
    verify(
        &key,
        &bundle_text(manifest),
        &decode_signature(sig)?,
        "bundle",
    )
}

/// What the data center answers for a bundle: a receipt for each packet recorded (each signed
/// on its own) and the refusals, with their codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptsFile {
    /// The data center.
    pub dc_id: String,
    /// The station.
    pub station_id: String,
    /// Receipts.
    pub receipts: Vec<Receipt>,
    /// Packets refused.
    pub refused: Vec<Refused>,
    /// The answers to the bundle's reissue requests, each signed on its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reissues: Vec<crate::reissue::ReissueAnswer>,
}

fn receipts_text(file: &[u8]) -> Vec<u8> {
    [b"REKAM-RECEIPTS-V1\0".as_slice(), &sha256(&[file])].concat()
}

/// The data center's signature of a receipts file's bytes (`receipts.sig`, hex).
pub fn sign_receipts(dc: &DcKeys, file: &[u8]) -> String {
    hex::encode(dc.sign(&receipts_text(file))) + "\n"
}

/// Verifies `receipts.sig` against the pinned identity.
pub fn verify_receipts(dc: &DcIdentity, file: &[u8], signature: &str) -> Result<()> {
    verify(
        &dc.receipt_public()?,
        &receipts_text(file),
        &decode_signature(signature.trim())?,
        "receipts file",
    )
}

/// A packet of a bundle the data center refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// The packet id.
    pub packet_id: String,
    /// The code.
    pub code: String,
    /// Plain words.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_and_requests_verify_and_refuse_changes() {
        let dc = DcKeys::from_seeds(&[1; 32], &[2; 32]);
        let id = dc.identity("DC", None);
        let hash = [5u8; 32];
        let r = Receipt::new(&dc, "p", "KEC-01", &hash, 10, 1);
        r.verify(&id, "p", &hash).expect("verifies");
        assert!(r.verify(&id, "q", &hash).is_err());
        let mut forged = r.clone();
        forged.receipt_no = 2;
        assert!(forged.verify(&id, "p", &hash).is_err());

        let key = StationKey::from_seed(&[3; 32]);
        let nonce = "0123456789abcdef-1";
        let a = RequestAuth::sign(
            &key,
            "KEC-01",
            "POST",
            "/v1/x",
            100,
            nonce,
            &body_hash(b"{}"),
        );
        a.verify(&key.public(), "POST", "/v1/x", &body_hash(b"{}"))
            .expect("verifies");
        let renamed = RequestAuth {
            nonce: "0123456789abcdef-2".into(),
            ..a.clone()
        };
        assert!(
            renamed
                .verify(&key.public(), "POST", "/v1/x", &body_hash(b"{}"))
                .is_err(),
            "the signature covers the nonce"
        );
        assert!(valid_nonce(nonce) && valid_nonce(&nonce_prefix().expect("randomness")));
        assert!(
            !valid_nonce("short")
                && !valid_nonce("0123456789ABCDEF")
                && !valid_nonce("0123456789abcdef\n")
        );
        assert!(
            a.verify(&key.public(), "POST", "/v1/y", &body_hash(b"{}"))
                .is_err()
        );
        assert!(
            a.verify(&key.public(), "POST", "/v1/x", &body_hash(b"{ }"))
                .is_err()
        );

        let new = StationKey::from_seed(&[4; 32]);
        let rot = KeyRotation::new(&key, &new, "KEC-01", 100);
        assert_eq!(rot.verify(&key.public()).expect("verifies"), new.public());
        assert!(rot.verify(&new.public()).is_err());

        let (old, new_manifest) = (b"{\"old\":1}".as_slice(), b"{\"new\":1}".as_slice());
        let lookup = |id: KeyId| (id == key.id()).then(|| key.public());
        let both = format!(
            "{}{}",
            sign_bundle(&key, new_manifest),
            sign_bundle(&key, old)
        );
        verify_bundle(old, &both, lookup).expect("the old manifest, mid-rewrite");
        verify_bundle(new_manifest, &both, lookup).expect("the new manifest, mid-rewrite");
        assert!(verify_bundle(b"{}", &both, lookup).is_err());
        assert!(verify_bundle(old, &sign_bundle(&key, new_manifest), lookup).is_err());
        assert!(
            verify_bundle(old, &sign_bundle(&new, old), lookup).is_err(),
            "unknown key"
        );
        assert!(
            verify_bundle(old, &both.repeat(3), lookup).is_err(),
            "too many lines"
        );
        assert!(verify_bundle(old, "", lookup).is_err());

        let reg = Registration::new(&key, "KEC-01", "327301", "token", 100);
        assert_eq!(reg.verify().expect("verifies"), key.public());
        let mut stolen = reg.clone();
        stolen.station_id = "KEC-02".into();
        assert!(stolen.verify().is_err());
    }
}

/// The clean data the data center releases to a personalisation station for a record it
/// marked PRINT_READY_RECORD (`GET /v1/print/{packet_id}`): the order's bytes (JSON, defined
/// by the station's core) and the data center's signature over them with its receipt key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedPrintOrder {
    /// The packet the order is for.
    pub packet_id: String,
    /// The order, base64.
    pub order: String,
    /// The data center's signature, hex.
    pub signature: String,
}

fn print_order_text(packet_id: &str, order: &[u8]) -> Vec<u8> {
    [
        b"REKAM-PRINT-ORDER-V1\0".as_slice(),
        &sha256(&[packet_id.as_bytes(), b"\0", order]),
    ]
    .concat()
}

impl SignedPrintOrder {
    /// Signs `order` for `packet_id`.
    pub fn sign(dc: &DcKeys, packet_id: &str, order: &[u8]) -> SignedPrintOrder {
        use base64::Engine as _;
        SignedPrintOrder {
            packet_id: packet_id.to_owned(),
            order: base64::engine::general_purpose::STANDARD.encode(order),
            signature: hex::encode(dc.sign(&print_order_text(packet_id, order))),
        }
    }

    /// The order's bytes once its signature verifies against the pinned identity, for
    /// `packet_id` only.
    pub fn verify(&self, dc: &DcIdentity, packet_id: &str) -> Result<Vec<u8>> {
        use base64::Engine as _;
        let order = base64::engine::general_purpose::STANDARD
            .decode(&self.order)
            .map_err(|e| PacketError::Malformed {
                field: "print order",
                detail: e.to_string(),
            })?;
        if self.packet_id != packet_id {
            return Err(PacketError::Malformed {
                field: "print order",
                detail: format!("for {}, asked for {packet_id}", self.packet_id),
            });
        }
        verify(
            &dc.receipt_public()?,
            &print_order_text(packet_id, &order),
            &decode_signature(&self.signature)?,
            "print order",
        )?;
        Ok(order)
    }
}
