//! A short secret sealed to an X25519 key: what a station's key slots are made of.
//!
//! The station's store key is sealed once per slot, each time to the slot's own public key,
//! with the same HPKE suite as packets (RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256, ChaCha20-Poly1305). Whoever holds a slot's private key opens that slot: an
//! operator's private key is itself wrapped under their password, the Dinas's recovery key
//! never leaves the Dinas. Sealing needs only the public key, so the station can put a new
//! store key in every remaining slot without anyone's password.

use crate::keys::Kem;
use crate::{PacketError, Result, random32};
use hpke::{Deserializable, Serializable};
use rand_chacha::rand_core::SeedableRng;
use zeroize::Zeroizing;

type Aead = hpke::aead::ChaCha20Poly1305;
type Kdf = hpke::kdf::HkdfSha256;

/// Length of the encapsulated key in a [`Wrapped`] secret.
pub const ENC_LEN: usize = 32;

/// An X25519 key pair of one slot. The private half is wiped on drop.
pub struct SlotKey {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl std::fmt::Debug for SlotKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotKey")
            .field("public", &hex::encode(self.public))
            .finish_non_exhaustive()
    }
}

impl SlotKey {
    /// A fresh key pair.
    pub fn generate() -> Result<SlotKey> {
        let ikm = random32()?;
        let (secret, public) = <Kem as hpke::Kem>::derive_keypair(&*ikm);
        Ok(SlotKey::of(&secret, &public))
    }

    fn of(
        secret: &<Kem as hpke::Kem>::PrivateKey,
        public: &<Kem as hpke::Kem>::PublicKey,
    ) -> SlotKey {
        let mut s = Zeroizing::new([0u8; 32]);
        s.copy_from_slice(&secret.to_bytes());
        let mut p = [0u8; 32];
        p.copy_from_slice(&public.to_bytes());
        SlotKey {
            secret: s,
            public: p,
        }
    }

    /// The key pair of a private key's 32 bytes.
    pub fn from_secret(secret: &[u8]) -> Result<SlotKey> {
        let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(secret).map_err(|_| {
            PacketError::Malformed {
                field: "slot key",
                detail: "expected 32 bytes of an X25519 private key".into(),
            }
        })?;
        Ok(SlotKey::of(&sk, &<Kem as hpke::Kem>::sk_to_pk(&sk)))
    }

    /// The public half.
    pub fn public(&self) -> [u8; 32] {
        self.public
    }

    /// The private half (to wrap it under a password; never log it).
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }
}

/// A secret sealed to a slot's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// The HPKE encapsulated key.
    pub enc: [u8; ENC_LEN],
    /// The sealed secret with its tag.
    pub ciphertext: Vec<u8>,
}

/// Seals `secret` to `public`, bound to `context` (the AEAD's associated data: which station
/// and which slot, so a slot copied into another station's file or under another name does
/// not open).
pub fn seal(public: &[u8; 32], info: &[u8], context: &[u8], secret: &[u8]) -> Result<Wrapped> {
    let pk =
        <Kem as hpke::Kem>::PublicKey::from_bytes(public).map_err(|_| PacketError::Malformed {
            field: "slot public key",
            detail: "not an X25519 public key".into(),
        })?;
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(*random32()?);
    let (enc, ciphertext) = hpke::single_shot_seal::<Aead, Kdf, Kem, _>(
        &hpke::OpModeS::Base,
        &pk,
        info,
        secret,
        context,
        &mut rng,
    )
    .map_err(|_| PacketError::Altered)?;
    let mut e = [0u8; ENC_LEN];
    e.copy_from_slice(&enc.to_bytes());
    Ok(Wrapped { enc: e, ciphertext })
}

/// Opens a secret sealed with [`seal`]; [`PacketError::Altered`] when the key, the context or
/// the bytes are not the ones it was sealed with.
pub fn open(
    key: &SlotKey,
    info: &[u8],
    context: &[u8],
    wrapped: &Wrapped,
) -> Result<Zeroizing<Vec<u8>>> {
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(key.secret.as_ref())
        .map_err(|_| PacketError::Altered)?;
    open_with(&sk, info, context, wrapped)
}

/// [`open`] with the private key itself (the data center's packet key).
pub(crate) fn open_with(
    sk: &<Kem as hpke::Kem>::PrivateKey,
    info: &[u8],
    context: &[u8],
    wrapped: &Wrapped,
) -> Result<Zeroizing<Vec<u8>>> {
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&wrapped.enc)
        .map_err(|_| PacketError::Altered)?;
    hpke::single_shot_open::<Aead, Kdf, Kem>(
        &hpke::OpModeR::Base,
        sk,
        &enc,
        info,
        &wrapped.ciphertext,
        context,
    )
    .map(Zeroizing::new)
    .map_err(|_| PacketError::Altered)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_secret_opens_with_its_key_and_context_only() {
        let key = SlotKey::generate().unwrap();
        let w = seal(&key.public(), b"info", b"station A, slot 1", b"store key").unwrap();
        assert_eq!(
            &*open(&key, b"info", b"station A, slot 1", &w).unwrap(),
            b"store key"
        );
        let other = SlotKey::generate().unwrap();
        assert_eq!(
            open(&other, b"info", b"station A, slot 1", &w),
            Err(PacketError::Altered)
        );
        assert_eq!(
            open(&key, b"info", b"station B, slot 1", &w),
            Err(PacketError::Altered)
        );
        let mut bad = w.clone();
        bad.ciphertext[0] ^= 1;
        assert_eq!(
            open(&key, b"info", b"station A, slot 1", &bad),
            Err(PacketError::Altered)
        );
        let again = SlotKey::from_secret(key.secret()).unwrap();
        assert_eq!(again.public(), key.public());
    }
}
