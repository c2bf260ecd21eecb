//! The enrollment packet and the signed messages between a station and the data center (DC).
//!
//! A packet is one recording, sealed at the station and opened only at the DC
//! (`docs/packet-format.md`):
//!
//! - [`contents`]: the plaintext, a manifest (JSON) and the ISO/IEC 19794 records in a CBEFF
//!   container, framed so that neither can be misread as the other;
//! - [`envelope`]: the plaintext sealed with HPKE (RFC 9180, base mode, DHKEM(X25519,
//!   HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) to the DC's packet key under a fresh key per
//!   packet, behind a clear header (packet id, station id, key ids, time) that is the AEAD's
//!   associated data, the whole signed with the station's Ed25519 key. The station keeps no
//!   key that opens it;
//! - [`keys`]: the station's signing key, the DC's keys and its public identity that a station
//!   pins at registration;
//! - [`protocol`]: receipts, result events, request signatures and the JSON bodies of the
//!   gateway API (`docs/gateway-api.yaml`), each signed over a fixed canonical text;
//! - [`hub`]: the kecamatan server's identity and the bodies of its AFIS protocol;
//! - [`population`]: the Dinas's key and its signature on a population extract;
//! - [`wrap`]: a short secret sealed to an X25519 key (the station's key slots).
//!
//! Pure: bytes in, bytes out, no files, no network, no clock (callers pass the time). Every
//! parser takes untrusted bytes and refuses with a typed error, never a panic (fuzzed:
//! `fuzz/fuzz_targets/packet.rs`).

pub mod cards;
pub mod contents;
pub mod envelope;
pub mod hub;
pub mod keys;
pub mod population;
pub mod protocol;
pub mod reissue;
pub mod wrap;

pub use contents::Contents;
pub use envelope::{Header, Opened, SealedPacket};
pub use keys::{DcIdentity, DcKeys, KeyId, StationKey};

/// Why a packet or a signed message is refused. Each variant has a stable [`code`](Self::code)
/// that the gateway returns and the station shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Bytes end before a field.
    #[error("packet truncated at {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A field holds a value the format does not allow.
    #[error("packet field {field} is malformed: {detail}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A format version this build does not know.
    #[error("packet format version {found} is unknown (this build reads version {supported})")]
    UnknownVersion {
        /// The version found.
        found: u8,
        /// The version this build reads.
        supported: u8,
    },
    /// A cipher suite this build does not know.
    #[error("cipher suite {0} is unknown")]
    UnknownSuite(u8),
    /// No key with this id is known (an unregistered station, a retired DC key).
    #[error("no {role} key with id {id}")]
    UnknownKey {
        /// Whose key: "station" or "data center".
        role: &'static str,
        /// The key id.
        id: KeyId,
    },
    /// The signature does not verify.
    #[error("the {what} signature does not verify")]
    BadSignature {
        /// What was signed.
        what: &'static str,
    },
    /// The ciphertext, or the header it is bound to, was altered (or sealed to another key).
    #[error("the packet does not decrypt: altered, or sealed to another data center key")]
    Altered,
    /// The clear header and the sealed manifest disagree.
    #[error("the packet's header and its manifest disagree on {field}")]
    HeaderMismatch {
        /// The field.
        field: &'static str,
    },
    /// Over the size budget.
    #[error("the packet is {size} bytes, over the budget of {limit} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The budget.
        limit: usize,
    },
    /// A record in the container is not what its header says.
    #[error("biometric record: {0}")]
    Record(#[from] rekam_records::RecordError),
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system: {0}")]
    NoRandomness(String),
}

impl PacketError {
    /// A stable code for the wire and the operator's screen.
    pub fn code(&self) -> &'static str {
        match self {
            PacketError::Truncated { .. } | PacketError::Malformed { .. } => "PACKET_MALFORMED",
            PacketError::UnknownVersion { .. } | PacketError::UnknownSuite(_) => {
                "PACKET_UNKNOWN_VERSION"
            }
            PacketError::UnknownKey {
                role: "station", ..
            } => "STATION_KEY_UNKNOWN",
            PacketError::UnknownKey { .. } => "DC_KEY_UNKNOWN",
            PacketError::BadSignature { .. } => "BAD_SIGNATURE",
            PacketError::Altered => "PACKET_ALTERED",
            PacketError::HeaderMismatch { .. } => "PACKET_HEADER_MISMATCH",
            PacketError::TooLarge { .. } => "PACKET_TOO_LARGE",
            PacketError::Record(_) => "PACKET_RECORD_INVALID",
            PacketError::NoRandomness(_) => "NO_RANDOMNESS",
        }
    }
}

/// Result with [`PacketError`].
pub type Result<T, E = PacketError> = std::result::Result<T, E>;

/// SHA-256.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// 32 bytes from the operating system.
pub(crate) fn random32() -> Result<zeroize::Zeroizing<[u8; 32]>> {
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|e| PacketError::NoRandomness(e.to_string()))?;
    Ok(seed)
}

/// A bounds-checked big-endian reader over untrusted bytes.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8]> {
        if n > self.data.len() - self.pos {
            return Err(PacketError::Truncated { field });
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = &self.data[self.pos..];
        self.pos = self.data.len();
        out
    }
}
