//! Keys: the station's Ed25519 signing key, the DC's HPKE packet key and Ed25519 receipt key,
//! and the DC's public identity that a station pins when it registers.
//!
//! A key's id is the first 8 bytes of SHA-256 of its public key, so a header or a request can
//! name the key it was made with and a rotated key never collides with the one it replaces.
//! Secret keys are wiped from memory when dropped and print as `<redacted>`; their text form
//! (hex) is for the 0600 key files of the station and the gateway only.

use crate::{PacketError, Result, random32, sha256};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hpke::{Deserializable, Kem as _, Serializable};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The HPKE KEM of format version 1.
pub(crate) type Kem = hpke::kem::X25519HkdfSha256;

/// A key's id: the first 8 bytes of SHA-256 of its public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The id of a public key.
    pub fn of(public: &[u8]) -> KeyId {
        let mut id = [0u8; 8];
        id.copy_from_slice(&sha256(&[public])[..8]);
        KeyId(id)
    }

    /// Parses 16 hex digits.
    pub fn from_hex(text: &str) -> Option<KeyId> {
        let mut id = [0u8; 8];
        hex::decode_to_slice(text, &mut id).ok()?;
        Some(KeyId(id))
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        KeyId::from_hex(&text).ok_or_else(|| serde::de::Error::custom("expected 16 hex digits"))
    }
}

fn secret_from_hex(text: &str, what: &'static str) -> Result<Zeroizing<[u8; 32]>> {
    let mut k = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), k.as_mut()).map_err(|_| PacketError::Malformed {
        field: what,
        detail: "expected 64 hex digits".into(),
    })?;
    Ok(k)
}

/// Verifies an Ed25519 signature strictly (no malleable encodings, no small-order keys).
pub(crate) fn verify(
    public: &VerifyingKey,
    message: &[u8],
    signature: &[u8; 64],
    what: &'static str,
) -> Result<()> {
    public
        .verify_strict(message, &Signature::from_bytes(signature))
        .map_err(|_| PacketError::BadSignature { what })
}

/// Parses an Ed25519 public key from hex.
pub fn verifying_key_from_hex(text: &str) -> Result<VerifyingKey> {
    let mut b = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut b)
        .ok()
        .and_then(|()| VerifyingKey::from_bytes(&b).ok())
        .filter(|k| !k.is_weak())
        .ok_or_else(|| PacketError::Malformed {
            field: "Ed25519 public key",
            detail: "expected 64 hex digits of a valid point".into(),
        })
}

/// The station's signing key: signs packets, requests and key rotations.
pub struct StationKey(SigningKey);

impl std::fmt::Debug for StationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StationKey({}, <redacted>)", self.id())
    }
}

impl StationKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<StationKey> {
        Ok(StationKey::from_seed(&*random32()?))
    }

    /// The key of a 32-byte seed (test keys and key files).
    pub fn from_seed(seed: &[u8; 32]) -> StationKey {
        StationKey(SigningKey::from_bytes(seed))
    }

    /// Reads the hex text of a key file.
    pub fn from_hex(text: &str) -> Result<StationKey> {
        Ok(StationKey::from_seed(&*secret_from_hex(
            text,
            "station key",
        )?))
    }

    /// The hex text for a key file. Wiped when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.to_bytes()))
    }

    /// The public key.
    pub fn public(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// The public key in hex, as registration sends it.
    pub fn public_hex(&self) -> String {
        hex::encode(self.public().as_bytes())
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        KeyId::of(self.public().as_bytes())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

/// The data center's secret keys: the HPKE key packets are sealed to and the Ed25519 key that
/// signs receipts and results.
pub struct DcKeys {
    packet: <Kem as hpke::Kem>::PrivateKey,
    packet_public: <Kem as hpke::Kem>::PublicKey,
    receipt: SigningKey,
}

impl std::fmt::Debug for DcKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DcKeys(packet {}, receipt {}, <redacted>)",
            self.packet_key_id(),
            self.receipt_key_id()
        )
    }
}

impl DcKeys {
    /// Fresh keys from the operating system's randomness.
    pub fn generate() -> Result<DcKeys> {
        Ok(DcKeys::from_seeds(&*random32()?, &*random32()?))
    }

    /// Keys from two 32-byte seeds (test keys and key files).
    pub fn from_seeds(packet: &[u8; 32], receipt: &[u8; 32]) -> DcKeys {
        let (sk, pk) = Kem::derive_keypair(packet);
        DcKeys {
            packet: sk,
            packet_public: pk,
            receipt: SigningKey::from_bytes(receipt),
        }
    }

    /// Reads the text of a key file: `packet <hex>` and `receipt <hex>` lines, where the
    /// packet hex is the HPKE key-derivation seed.
    pub fn from_text(text: &str) -> Result<DcKeys> {
        let line = |label: &'static str| {
            text.lines()
                .find_map(|l| l.strip_prefix(label)?.strip_prefix(' '))
                .ok_or(PacketError::Malformed {
                    field: label,
                    detail: "line missing from the key file".into(),
                })
                .and_then(|h| secret_from_hex(h, label))
        };
        Ok(DcKeys::from_seeds(&*line("packet")?, &*line("receipt")?))
    }

    /// Generates fresh keys and returns them with their key-file text. Wiped when dropped.
    pub fn generate_with_text() -> Result<(DcKeys, Zeroizing<String>)> {
        let (p, r) = (random32()?, random32()?);
        let text = Zeroizing::new(format!(
            "packet {}\nreceipt {}\n",
            hex::encode(*p),
            hex::encode(*r)
        ));
        Ok((DcKeys::from_seeds(&p, &r), text))
    }

    /// The id of the packet key.
    pub fn packet_key_id(&self) -> KeyId {
        KeyId::of(&self.packet_public.to_bytes())
    }

    /// The id of the receipt key.
    pub fn receipt_key_id(&self) -> KeyId {
        KeyId::of(self.receipt.verifying_key().as_bytes())
    }

    pub(crate) fn packet_secret(&self) -> &<Kem as hpke::Kem>::PrivateKey {
        &self.packet
    }

    /// Signs `message` with the receipt key.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.receipt.sign(message).to_bytes()
    }

    /// The public identity a station pins.
    pub fn identity(&self, dc_id: &str, tls_certificate_sha256: Option<String>) -> DcIdentity {
        DcIdentity {
            dc_id: dc_id.to_owned(),
            packet_key: PublicKey {
                id: self.packet_key_id(),
                public: hex::encode(self.packet_public.to_bytes()),
            },
            receipt_key: PublicKey {
                id: self.receipt_key_id(),
                public: hex::encode(self.receipt.verifying_key().as_bytes()),
            },
            tls_certificate_sha256,
            tls_certificate: None,
        }
    }
}

/// A public key with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    /// The id.
    pub id: KeyId,
    /// The key, hex.
    pub public: String,
}

/// The data center's public identity: what a station pins at registration and uses to seal
/// packets and check receipts. Distributed by the Dinas out of band (`dc-identity.json`) and
/// compared with what the gateway answers at registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcIdentity {
    /// The data center's name.
    pub dc_id: String,
    /// The HPKE key packets are sealed to.
    pub packet_key: PublicKey,
    /// The Ed25519 key of receipts and results.
    pub receipt_key: PublicKey,
    /// SHA-256 of the DC's TLS certificate (DER, hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate_sha256: Option<String>,
    /// The DC's TLS certificate (PEM): the one certificate a station trusts for `https://`
    /// (no other root is), so the connection is pinned to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<String>,
}

/// Checks that a certificate (PEM), when an identity file carries one, is the one its
/// SHA-256 pin names.
pub(crate) fn check_certificate_pin(
    pem: Option<&str>,
    pin: Option<&str>,
    field: &'static str,
) -> Result<()> {
    if let Some(pem) = pem {
        let der = pem_certificate_der(pem).ok_or(PacketError::Malformed {
            field,
            detail: "not a PEM certificate".into(),
        })?;
        if pin != Some(&hex::encode(sha256(&[&der]))) {
            return Err(PacketError::Malformed {
                field,
                detail: "its SHA-256 is not the pinned one".into(),
            });
        }
    }
    Ok(())
}

/// The DER bytes of the first certificate of a PEM text.
pub fn pem_certificate_der(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let body = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)?
        .split("-----END CERTIFICATE-----")
        .next()?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

impl DcIdentity {
    /// Checks that both keys parse, that their ids are theirs, and that a TLS certificate is
    /// the one its pin names.
    pub fn check(&self) -> Result<()> {
        self.packet_public()?;
        self.receipt_public()?;
        check_certificate_pin(
            self.tls_certificate.as_deref(),
            self.tls_certificate_sha256.as_deref(),
            "data center TLS certificate",
        )
    }

    pub(crate) fn packet_public(&self) -> Result<<Kem as hpke::Kem>::PublicKey> {
        let malformed = || PacketError::Malformed {
            field: "data center packet key",
            detail: "expected 64 hex digits of an X25519 key".into(),
        };
        let bytes = hex::decode(&self.packet_key.public).map_err(|_| malformed())?;
        if KeyId::of(&bytes) != self.packet_key.id {
            return Err(PacketError::Malformed {
                field: "data center packet key",
                detail: "its id is not its own".into(),
            });
        }
        <Kem as hpke::Kem>::PublicKey::from_bytes(&bytes).map_err(|_| malformed())
    }

    /// The receipt key.
    pub fn receipt_public(&self) -> Result<VerifyingKey> {
        let key = verifying_key_from_hex(&self.receipt_key.public)?;
        if KeyId::of(key.as_bytes()) != self.receipt_key.id {
            return Err(PacketError::Malformed {
                field: "data center receipt key",
                detail: "its id is not its own".into(),
            });
        }
        Ok(key)
    }
}
