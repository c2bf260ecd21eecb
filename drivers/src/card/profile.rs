//! Rekam's card profile (docs/card-profile.md): what both sides of the contact agree on. The
//! reader in [`super::pcsc`] and the virtual card of `rekam-sim-card` use these and nothing
//! else, so the document, the reader and the card cannot drift apart unnoticed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The application identifier: proprietary (first nibble F, ISO/IEC 7816-5), "REKAMKTP".
pub const AID: [u8; 9] = [0xF0, b'R', b'E', b'K', b'A', b'M', b'K', b'T', b'P'];

/// File identifiers of the data groups and the security object.
pub mod fid {
    /// DG1: biodata (UTF-8 JSON, as the Dinas printed it).
    pub const BIODATA: u16 = 0x0101;
    /// DG2: face (ISO/IEC 19794-5 record, JPEG).
    pub const FACE: u16 = 0x0102;
    /// DG3: right index finger (ISO/IEC 19794-2 compact card minutiae).
    pub const RIGHT_INDEX: u16 = 0x0103;
    /// DG4: left index finger (the same format).
    pub const LEFT_INDEX: u16 = 0x0104;
    /// DG5: signature image (PNG).
    pub const SIGNATURE: u16 = 0x0105;
    /// DG15: the card's own authentication public key (Ed25519), written at manufacture.
    pub const CARD_KEY: u16 = 0x010F;
    /// EF.SOD: the security object.
    pub const SOD: u16 = 0x011D;
    /// The data groups personalisation writes, in order.
    pub const PERSONAL: [u16; 5] = [BIODATA, FACE, RIGHT_INDEX, LEFT_INDEX, SIGNATURE];
}

/// Instructions.
pub mod ins {
    /// SELECT.
    pub const SELECT: u8 = 0xA4;
    /// READ BINARY.
    pub const READ_BINARY: u8 = 0xB0;
    /// UPDATE BINARY.
    pub const UPDATE_BINARY: u8 = 0xD6;
    /// CREATE FILE.
    pub const CREATE_FILE: u8 = 0xE0;
    /// ACTIVATE FILE (ISO/IEC 7816-9): the one-time lock ending personalisation.
    pub const ACTIVATE: u8 = 0x44;
    /// GET CHALLENGE.
    pub const GET_CHALLENGE: u8 = 0x84;
    /// EXTERNAL AUTHENTICATE.
    pub const EXTERNAL_AUTHENTICATE: u8 = 0x82;
    /// INTERNAL AUTHENTICATE.
    pub const INTERNAL_AUTHENTICATE: u8 = 0x88;
    /// GET RESPONSE.
    pub const GET_RESPONSE: u8 = 0xC0;
}

/// Largest file the card holds (offsets of READ and UPDATE BINARY are 15 bits).
pub const MAX_FILE: usize = 0x7FFF;
/// Length of GET CHALLENGE's answer.
pub const CHALLENGE_LEN: usize = 8;
/// Length of the terminal's challenge in INTERNAL AUTHENTICATE.
pub const TERMINAL_CHALLENGE_LEN: usize = 16;

/// Life cycle status byte (ISO/IEC 7816-4 table 15) in the FCI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifeCycle {
    /// Blank: files may be created and written.
    Initialisation,
    /// Personalised and locked: read-only.
    Operational,
}

impl LifeCycle {
    /// The byte.
    pub fn byte(self) -> u8 {
        match self {
            LifeCycle::Initialisation => 0x03,
            LifeCycle::Operational => 0x05,
        }
    }

    /// From the byte.
    pub fn from_byte(b: u8) -> Option<LifeCycle> {
        match b {
            0x03 => Some(LifeCycle::Initialisation),
            0x05 | 0x07 => Some(LifeCycle::Operational),
            _ => None,
        }
    }
}

/// What SELECT of the application answers: tag 6F holding the AID (84), the chip serial
/// (5A, 8 bytes) and the life cycle status (8A).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fci {
    /// Chip serial.
    pub serial: [u8; 8],
    /// Life cycle.
    pub life_cycle: LifeCycle,
}

impl Fci {
    /// The bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut inner = vec![0x84, AID.len() as u8];
        inner.extend_from_slice(&AID);
        inner.extend_from_slice(&[0x5A, 8]);
        inner.extend_from_slice(&self.serial);
        inner.extend_from_slice(&[0x8A, 1, self.life_cycle.byte()]);
        let mut out = vec![0x6F, inner.len() as u8];
        out.extend(inner);
        out
    }

    /// Reads an FCI; `None` when anything is missing or malformed.
    pub fn parse(bytes: &[u8]) -> Option<Fci> {
        let (&0x6F, rest) = bytes.split_first()? else {
            return None;
        };
        let (&len, body) = rest.split_first()?;
        let body = body.get(..usize::from(len))?;
        let (mut serial, mut life) = (None, None);
        let mut i = 0;
        while i < body.len() {
            let tag = body[i];
            let l = usize::from(*body.get(i + 1)?);
            let v = body.get(i + 2..i + 2 + l)?;
            match tag {
                0x5A => serial = <[u8; 8]>::try_from(v).ok(),
                0x8A => life = v.first().and_then(|b| LifeCycle::from_byte(*b)),
                _ => {}
            }
            i += 2 + l;
        }
        Some(Fci {
            serial: serial?,
            life_cycle: life?,
        })
    }
}

/// The FCP of CREATE FILE: tag 62 holding the size (80, 2 bytes) and the file id (83).
pub fn fcp(fid: u16, size: usize) -> Vec<u8> {
    let s = (size.min(MAX_FILE) as u16).to_be_bytes();
    let f = fid.to_be_bytes();
    vec![0x62, 8, 0x80, 2, s[0], s[1], 0x83, 2, f[0], f[1]]
}

/// Reads an FCP: (file id, size).
pub fn parse_fcp(bytes: &[u8]) -> Option<(u16, usize)> {
    if bytes.len() != 10 || bytes[..4] != [0x62, 8, 0x80, 2] || bytes[6..8] != [0x83, 2] {
        return None;
    }
    Some((
        u16::from_be_bytes([bytes[8], bytes[9]]),
        usize::from(u16::from_be_bytes([bytes[4], bytes[5]])),
    ))
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// What the card's authentication key is diversified with, before the serial.
pub const CARD_KEY_CONTEXT: &[u8] = b"rekam-card-auth-v1";

/// The card's authentication key, diversified from the secure access module's master key
/// by the chip serial: what the SAM (the station's PKCS#11 token, [`super::token`]) computes
/// inside, and what a card is given at manufacture.
pub fn card_key(master: &[u8; 32], serial: &[u8; 8]) -> [u8; 32] {
    hmac(master, &[CARD_KEY_CONTEXT, serial])
}

/// EXTERNAL AUTHENTICATE's data: proof that the terminal holds the card's key, bound to the
/// card's challenge.
pub fn external_cryptogram(card_key: &[u8; 32], challenge: &[u8], serial: &[u8; 8]) -> [u8; 32] {
    hmac(card_key, &[b"EXT", challenge, serial])
}

/// What the card signs in INTERNAL AUTHENTICATE: the terminal's challenge and its serial.
pub fn internal_message(challenge: &[u8], serial: &[u8; 8]) -> Vec<u8> {
    let mut m = b"rekam-int-v1".to_vec();
    m.extend_from_slice(challenge);
    m.extend_from_slice(serial);
    m
}

/// The signed part of the security object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SodContent {
    /// Profile version, 1.
    pub version: u32,
    /// "SHA-256".
    pub hash_algorithm: String,
    /// The chip serial the data was written to (hex): data copied to another chip fails.
    pub card_serial: String,
    /// SHA-256 (hex) of each data group, by file id (hex, 4 digits).
    pub data_groups: BTreeMap<String, String>,
}

/// The security object: the content's exact bytes, the document signer's chain and its
/// Ed25519 signature over those bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityObject {
    /// base64 of the content JSON.
    pub content: String,
    /// base64 DER certificates, document signer first.
    pub signer: Vec<String>,
    /// base64 signature.
    pub signature: String,
}

/// A security object read from a card, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSod {
    /// The exact signed bytes.
    pub content_bytes: Vec<u8>,
    /// Those bytes, read.
    pub content: SodContent,
    /// The signer's chain, DER, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// The signature over `content_bytes`.
    pub signature: Vec<u8>,
}

/// Why a security object cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("security object: {0}")]
pub struct SodError(pub &'static str);

impl SodContent {
    /// Content for `files` (file id, bytes) on chip `serial`.
    pub fn for_files(serial: &[u8; 8], files: &[(u16, &[u8])]) -> SodContent {
        SodContent {
            version: 1,
            hash_algorithm: "SHA-256".into(),
            card_serial: hex::encode(serial),
            data_groups: files
                .iter()
                .map(|(fid, bytes)| (format!("{fid:04X}"), hex::encode(Sha256::digest(bytes))))
                .collect(),
        }
    }

    /// The hash recorded for `fid`.
    pub fn hash_of(&self, fid: u16) -> Option<&str> {
        self.data_groups
            .get(&format!("{fid:04X}"))
            .map(String::as_str)
    }
}

impl SecurityObject {
    /// Signs `content` with `sign` (the document signer's key) and attaches `chain`.
    pub fn sign<E>(
        content: &SodContent,
        chain: &[Vec<u8>],
        sign: impl FnOnce(&[u8]) -> Result<[u8; 64], E>,
    ) -> Result<SecurityObject, E> {
        let bytes = serde_json::to_vec(content).unwrap_or_default();
        Ok(SecurityObject {
            signature: STANDARD.encode(sign(&bytes)?),
            content: STANDARD.encode(&bytes),
            signer: chain.iter().map(|c| STANDARD.encode(c)).collect(),
        })
    }

    /// The bytes on the card.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads the bytes.
    pub fn parse(bytes: &[u8]) -> Result<ParsedSod, SodError> {
        let sod: SecurityObject =
            serde_json::from_slice(bytes).map_err(|_| SodError("not the profile's format"))?;
        let content_bytes = STANDARD
            .decode(&sod.content)
            .map_err(|_| SodError("content"))?;
        let content: SodContent =
            serde_json::from_slice(&content_bytes).map_err(|_| SodError("content"))?;
        if content.version != 1 || content.hash_algorithm != "SHA-256" {
            return Err(SodError("unsupported version or hash"));
        }
        let chain = sod
            .signer
            .iter()
            .map(|c| STANDARD.decode(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| SodError("signer certificates"))?;
        let signature = STANDARD
            .decode(&sod.signature)
            .map_err(|_| SodError("signature"))?;
        Ok(ParsedSod {
            content_bytes,
            content,
            chain,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fci_and_fcp_round_trip() {
        let fci = Fci {
            serial: *b"\x01\x02\x03\x04\x05\x06\x07\x08",
            life_cycle: LifeCycle::Operational,
        };
        assert_eq!(Fci::parse(&fci.encode()), Some(fci));
        assert_eq!(Fci::parse(&[0x6F, 3, 0x5A, 8, 1]), None);
        assert_eq!(
            parse_fcp(&fcp(fid::FACE, 12_345)),
            Some((fid::FACE, 12_345))
        );
    }

    #[test]
    fn card_keys_differ_per_chip_and_cryptograms_per_challenge() {
        let m = [7u8; 32];
        let (a, b) = (card_key(&m, &[1; 8]), card_key(&m, &[2; 8]));
        assert_ne!(a, b);
        assert_ne!(
            external_cryptogram(&a, &[0; 8], &[1; 8]),
            external_cryptogram(&a, &[1; 8], &[1; 8])
        );
    }
}
