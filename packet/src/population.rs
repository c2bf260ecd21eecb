//! The Dinas's signature on a population extract (`rekam_domain::population`): the key a
//! Disdukcapil signs its extracts with, and the check a station makes against the key it
//! pinned at set-up.
//!
//! The signature covers a fixed text naming the format and the SHA-256 of the extract's header
//! bytes; the header carries the body's hash, so one signature holds the whole file.

use crate::keys::{KeyId, verify};
use crate::{Result, random32, sha256};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

/// What a Dinas signs for an extract whose header bytes are `header`.
pub fn extract_text(header: &[u8]) -> Vec<u8> {
    format!(
        "REKAM-POPULATION-EXTRACT-V1\n{}",
        hex::encode(sha256(&[header]))
    )
    .into_bytes()
}

/// Checks a Dinas's signature over an extract's header bytes.
pub fn verify_extract(public: &VerifyingKey, header: &[u8], signature: &[u8; 64]) -> Result<()> {
    verify(
        public,
        &extract_text(header),
        signature,
        "population extract",
    )
}

/// A Dinas's extract-signing key (Ed25519). Wiped from memory when dropped.
pub struct DinasKey(SigningKey);

impl std::fmt::Debug for DinasKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DinasKey({}, <redacted>)", self.id())
    }
}

impl DinasKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<DinasKey> {
        Ok(DinasKey(SigningKey::from_bytes(&*random32()?)))
    }

    /// Reads the hex text of a key file.
    pub fn from_hex(text: &str) -> Result<DinasKey> {
        let mut seed = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), seed.as_mut()).map_err(|_| {
            crate::PacketError::Malformed {
                field: "Dinas key",
                detail: "expected 64 hex digits".into(),
            }
        })?;
        Ok(DinasKey(SigningKey::from_bytes(&seed)))
    }

    /// The hex text for a key file. Wiped when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.to_bytes()))
    }

    /// The public key, hex: what a station pins.
    pub fn public_hex(&self) -> String {
        hex::encode(self.0.verifying_key().as_bytes())
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        KeyId::of(self.0.verifying_key().as_bytes())
    }

    /// Signs an extract's header bytes.
    pub fn sign_extract(&self, header: &[u8]) -> [u8; 64] {
        self.0.sign(&extract_text(header)).to_bytes()
    }
}

/// The first bytes of an extract sealed to the station (or kecamatan server) that imports it.
pub const SEALED_MAGIC: &[u8; 8] = b"REKAMPOE";
const SEALED_VERSION: u8 = 1;
const SEALED_INFO: &[u8] = b"rekam population extract sealed v1";
/// Magic, version, the recipient key's id.
const SEALED_HEAD: usize = 8 + 1 + 8;

/// The id of a recipient's X25519 public key: the first 8 bytes of its SHA-256.
pub fn recipient_id(public: &[u8; 32]) -> [u8; 8] {
    let mut id = [0u8; 8];
    id.copy_from_slice(&sha256(&[public])[..8]);
    id
}

/// `extract` (a signed extract file) sealed to `recipient`'s X25519 public key, so the file on a
/// USB stick reads as noise to whoever finds it: magic, version, the recipient key's id, then
/// HPKE (the packets' suite) over the whole extract with the head as associated data.
pub fn seal_extract(recipient: &[u8; 32], extract: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(SEALED_HEAD + crate::wrap::ENC_LEN + extract.len() + 16);
    out.extend_from_slice(SEALED_MAGIC);
    out.push(SEALED_VERSION);
    out.extend_from_slice(&recipient_id(recipient));
    let wrapped = crate::wrap::seal(recipient, SEALED_INFO, &out, extract)?;
    out.extend_from_slice(&wrapped.enc);
    out.extend_from_slice(&wrapped.ciphertext);
    Ok(out)
}

/// The recipient key id of a sealed extract; `None` when `bytes` is not one.
pub fn sealed_extract_recipient(bytes: &[u8]) -> Option<[u8; 8]> {
    if bytes.len() < SEALED_HEAD || &bytes[..8] != SEALED_MAGIC || bytes[8] != SEALED_VERSION {
        return None;
    }
    bytes[9..SEALED_HEAD].try_into().ok()
}

/// The extract inside a sealed one, with the recipient's key; an error when it is not sealed to
/// `key`, or was altered.
pub fn open_extract(key: &crate::wrap::SlotKey, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if sealed_extract_recipient(bytes).is_none() || bytes.len() < SEALED_HEAD + crate::wrap::ENC_LEN
    {
        return Err(crate::PacketError::Malformed {
            field: "sealed extract",
            detail: "not a sealed extract".into(),
        });
    }
    let (head, rest) = bytes.split_at(SEALED_HEAD);
    let (enc, ciphertext) = rest.split_at(crate::wrap::ENC_LEN);
    let wrapped = crate::wrap::Wrapped {
        enc: enc.try_into().map_err(|_| crate::PacketError::Altered)?,
        ciphertext: ciphertext.to_vec(),
    };
    crate::wrap::open(key, SEALED_INFO, head, &wrapped)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_extract_verifies_only_with_its_key_and_its_header() {
        let key = DinasKey::from_hex(&"11".repeat(32)).unwrap();
        let other = DinasKey::from_hex(&"22".repeat(32)).unwrap();
        let public = crate::keys::verifying_key_from_hex(&key.public_hex()).unwrap();
        let sig = key.sign_extract(b"header");
        verify_extract(&public, b"header", &sig).unwrap();
        assert!(verify_extract(&public, b"headeR", &sig).is_err());
        let forged = other.sign_extract(b"header");
        assert!(verify_extract(&public, b"header", &forged).is_err());
        assert!(!format!("{key:?}").contains(&*key.to_hex()));
    }
}
