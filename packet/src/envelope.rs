//! The sealed packet: a clear header, the HPKE-sealed plaintext and the station's signature.
//!
//! Layout of format version 1, big-endian (`docs/packet-format.md`):
//!
//! | field | bytes |
//! |---|---|
//! | "RKPK" | 4 |
//! | format version (1) | 1 |
//! | cipher suite (1: HPKE base, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305; Ed25519) | 1 |
//! | packet id (UUID) | 16 |
//! | station id length, station id (ASCII) | 1 + 3..=32 |
//! | station key id, DC packet key id | 8 + 8 |
//! | sealed at (Unix seconds, signed) | 8 |
//! | HPKE encapsulated key | 32 |
//! | ciphertext length, ciphertext (plaintext + 16-byte tag) | 4 + n |
//! | Ed25519 signature | 64 |
//!
//! The header (everything before the encapsulated key) is the AEAD's associated data, so the
//! ids and time cannot be changed without the data center noticing; the HPKE info string names
//! the format. The content hash is SHA-256 of every byte before the signature; the signature is
//! over `"REKAM-PACKET-V1\0" || content hash`. A packet re-signed by another station must change
//! the station id in the header, which breaks decryption; the sealed manifest repeats the packet
//! and station ids and is checked against the header after decryption.

use crate::contents::Contents;
use crate::keys::{DcIdentity, DcKeys, Kem, KeyId, StationKey, verify};
use crate::{PacketError, Reader, Result, random32, sha256};
use ed25519_dalek::VerifyingKey;
use hpke::{Deserializable, Serializable};
use rand_chacha::rand_core::SeedableRng;

const MAGIC: &[u8; 4] = b"RKPK";
/// The envelope format version this build writes and reads.
pub const VERSION: u8 = 1;
/// The one cipher suite of version 1.
pub const SUITE: u8 = 1;
/// The HPKE `info` of version 1.
const INFO: &[u8] = b"rekam packet v1";
/// The signature's domain separation prefix.
const SIGNATURE_CONTEXT: &[u8] = b"REKAM-PACKET-V1\0";
const ENC_LEN: usize = 32;
const TAG_LEN: usize = 16;
const SIG_LEN: usize = 64;

type Aead = hpke::aead::ChaCha20Poly1305;
type Kdf = hpke::kdf::HkdfSha256;

/// A packet id: a UUID. A station's ids are bound to it (version 8, [`PacketId::for_station`]):
/// the first half random, the second a hash of the station id and the first half, so no other
/// station can send a packet under an id it learnt (from a summons letter) before the genuine
/// packet arrives. Ids sealed before (random version 4 UUIDs) stay valid, unbound.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PacketId(pub [u8; 16]);

impl PacketId {
    /// A fresh random (version 4) id, bound to no station.
    pub fn generate() -> Result<PacketId> {
        let seed = random32()?;
        let mut id = [0u8; 16];
        id.copy_from_slice(&seed[..16]);
        id[6] = (id[6] & 0x0f) | 0x40;
        id[8] = (id[8] & 0x3f) | 0x80;
        Ok(PacketId(id))
    }

    /// A fresh id bound to `station_id` (version 8): 60 random bits, then 62 bits of
    /// SHA-256 over the station id and those random bits. Another station would need a second
    /// preimage of 62 bits to send a packet under it.
    pub fn for_station(station_id: &str) -> Result<PacketId> {
        let seed = random32()?;
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&seed[..8]);
        id[6] = (id[6] & 0x0f) | 0x80;
        let tag = Self::tag(station_id, &id);
        id[8..].copy_from_slice(&tag);
        Ok(PacketId(id))
    }

    /// The second half of a version 8 id of `station_id` whose first half is `id[..8]`.
    fn tag(station_id: &str, id: &[u8; 16]) -> [u8; 8] {
        let hash = sha256(&[
            b"rekam-packet-id-v1\n",
            station_id.as_bytes(),
            b"\n",
            &id[..8],
        ]);
        let mut tag = [0u8; 8];
        tag.copy_from_slice(&hash[..8]);
        tag[0] = (tag[0] & 0x3f) | 0x80;
        tag
    }

    /// Whether this id is `station_id`'s: `None` for an id bound to no station (version 4).
    pub fn belongs_to(&self, station_id: &str) -> Option<bool> {
        if self.0[6] >> 4 != 8 {
            return None;
        }
        Some(self.0[8..] == Self::tag(station_id, &self.0))
    }

    /// Parses the hyphenated form.
    pub fn parse(text: &str) -> Option<PacketId> {
        let b = text.as_bytes();
        if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
            return None;
        }
        let digits: String = text.chars().filter(|c| *c != '-').collect();
        let mut id = [0u8; 16];
        hex::decode_to_slice(digits, &mut id).ok()?;
        Some(PacketId(id))
    }
}

impl std::fmt::Display for PacketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = hex::encode(self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

impl std::fmt::Debug for PacketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PacketId({self})")
    }
}

/// The clear header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The packet id.
    pub packet_id: PacketId,
    /// The station that sealed it.
    pub station_id: String,
    /// The id of the station key that signed it.
    pub station_key: KeyId,
    /// The id of the DC key it is sealed to.
    pub dc_key: KeyId,
    /// When it was sealed, Unix seconds (the station's clock).
    pub sealed_at: i64,
}

impl Header {
    fn to_bytes(&self) -> Result<Vec<u8>> {
        check_station_id(&self.station_id)?;
        let mut out = Vec::with_capacity(80);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(SUITE);
        out.extend_from_slice(&self.packet_id.0);
        out.push(self.station_id.len() as u8);
        out.extend_from_slice(self.station_id.as_bytes());
        out.extend_from_slice(&self.station_key.0);
        out.extend_from_slice(&self.dc_key.0);
        out.extend_from_slice(&self.sealed_at.to_be_bytes());
        Ok(out)
    }

    fn read(r: &mut Reader<'_>) -> Result<Header> {
        if r.take(4, "packet identifier")? != MAGIC {
            return Err(PacketError::Malformed {
                field: "packet identifier",
                detail: "not an RKPK packet".into(),
            });
        }
        let version = r.u8("format version")?;
        if version != VERSION {
            return Err(PacketError::UnknownVersion {
                found: version,
                supported: VERSION,
            });
        }
        let suite = r.u8("cipher suite")?;
        if suite != SUITE {
            return Err(PacketError::UnknownSuite(suite));
        }
        let packet_id = PacketId(r.array("packet id")?);
        let len = r.u8("station id length")? as usize;
        let station_id = String::from_utf8(r.take(len, "station id")?.to_vec()).map_err(|_| {
            PacketError::Malformed {
                field: "station id",
                detail: "not UTF-8".into(),
            }
        })?;
        check_station_id(&station_id)?;
        Ok(Header {
            packet_id,
            station_id,
            station_key: KeyId(r.array("station key id")?),
            dc_key: KeyId(r.array("data center key id")?),
            sealed_at: i64::from_be_bytes(r.array("sealed at")?),
        })
    }
}

fn check_station_id(id: &str) -> Result<()> {
    let ok =
        (3..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(PacketError::Malformed {
            field: "station id",
            detail: "3-32 letters, digits or dashes".into(),
        })
    }
}

/// Bytes a packet adds to its plaintext: header, encapsulated key, length, tag, signature.
pub fn overhead(station_id: &str) -> usize {
    4 + 1 + 1 + 16 + 1 + station_id.len() + 8 + 8 + 8 + ENC_LEN + 4 + TAG_LEN + SIG_LEN
}

/// A sealed packet, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPacket {
    header: Header,
    bytes: Vec<u8>,
    /// Where the encapsulated key starts (the header's length).
    header_len: usize,
}

/// A packet the data center opened: its header, plaintext and content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The header.
    pub header: Header,
    /// The plaintext.
    pub contents: Contents,
    /// SHA-256 of the bytes before the signature.
    pub content_hash: [u8; 32],
}

impl SealedPacket {
    /// Seals `contents` to the data center's packet key under a fresh random key, and signs it.
    /// Refuses, before sealing, a packet that would exceed `budget` bytes.
    pub fn seal(
        contents: &Contents,
        header: Header,
        station: &StationKey,
        dc: &DcIdentity,
        budget: usize,
    ) -> Result<SealedPacket> {
        SealedPacket::seal_with_seed(contents, header, station, dc, budget, &*random32()?)
    }

    /// [`SealedPacket::seal`] with the ephemeral key drawn from `seed`: for known-answer
    /// vectors only. A seed used twice reveals both plaintexts' keystream difference.
    #[doc(hidden)]
    pub fn seal_with_seed(
        contents: &Contents,
        header: Header,
        station: &StationKey,
        dc: &DcIdentity,
        budget: usize,
        seed: &[u8; 32],
    ) -> Result<SealedPacket> {
        if header.station_key != station.id() {
            return Err(PacketError::HeaderMismatch {
                field: "station key id",
            });
        }
        if header.dc_key != dc.packet_key.id {
            return Err(PacketError::HeaderMismatch {
                field: "data center key id",
            });
        }
        let ids = contents.ids()?;
        if ids.packet_id != header.packet_id.to_string() {
            return Err(PacketError::HeaderMismatch { field: "packet id" });
        }
        if ids.station_id != header.station_id {
            return Err(PacketError::HeaderMismatch {
                field: "station id",
            });
        }
        let plaintext = zeroize::Zeroizing::new(contents.to_bytes()?);
        let size = plaintext.len() + overhead(&header.station_id);
        if size > budget {
            return Err(PacketError::TooLarge {
                size,
                limit: budget,
            });
        }
        let aad = header.to_bytes()?;
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(*seed);
        let (enc, ciphertext) = hpke::single_shot_seal::<Aead, Kdf, Kem, _>(
            &hpke::OpModeS::Base,
            &dc.packet_public()?,
            INFO,
            &plaintext,
            &aad,
            &mut rng,
        )
        .map_err(|_| PacketError::Altered)?;
        let mut bytes = aad;
        let header_len = bytes.len();
        bytes.extend_from_slice(&enc.to_bytes());
        let ct_len = u32::try_from(ciphertext.len()).map_err(|_| PacketError::TooLarge {
            size,
            limit: budget,
        })?;
        bytes.extend_from_slice(&ct_len.to_be_bytes());
        bytes.extend_from_slice(&ciphertext);
        let signature = station.sign(&signed_message(&sha256(&[&bytes])));
        bytes.extend_from_slice(&signature);
        Ok(SealedPacket {
            header,
            bytes,
            header_len,
        })
    }

    /// Parses the envelope of untrusted bytes (nothing is verified or decrypted yet).
    pub fn parse(bytes: &[u8]) -> Result<SealedPacket> {
        let mut r = Reader::new(bytes);
        let header = Header::read(&mut r)?;
        let header_len = r.pos();
        r.take(ENC_LEN, "encapsulated key")?;
        let ct_len = r.u32("ciphertext length")? as usize;
        if ct_len < TAG_LEN {
            return Err(PacketError::Malformed {
                field: "ciphertext length",
                detail: "shorter than the authentication tag".into(),
            });
        }
        r.take(ct_len, "ciphertext")?;
        r.take(SIG_LEN, "signature")?;
        if !r.rest().is_empty() {
            return Err(PacketError::Malformed {
                field: "packet length",
                detail: "bytes after the signature".into(),
            });
        }
        Ok(SealedPacket {
            header,
            bytes: bytes.to_vec(),
            header_len,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The sealed bytes, as stored and uploaded.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The sealed bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// SHA-256 of every byte before the signature: what the signature and receipts name.
    pub fn content_hash(&self) -> [u8; 32] {
        sha256(&[&self.bytes[..self.bytes.len() - SIG_LEN]])
    }

    /// Verifies the station's signature.
    pub fn verify(&self, station: &VerifyingKey) -> Result<()> {
        if KeyId::of(station.as_bytes()) != self.header.station_key {
            return Err(PacketError::UnknownKey {
                role: "station",
                id: self.header.station_key,
            });
        }
        let mut sig = [0u8; SIG_LEN];
        sig.copy_from_slice(&self.bytes[self.bytes.len() - SIG_LEN..]);
        verify(
            station,
            &signed_message(&self.content_hash()),
            &sig,
            "station",
        )
    }

    /// Verifies the signature with `station`, decrypts with `dc`, parses the plaintext and
    /// checks that the manifest names the header's packet and station.
    pub fn open(&self, station: &VerifyingKey, dc: &DcKeys) -> Result<Opened> {
        self.verify(station)?;
        if self.header.dc_key != dc.packet_key_id() {
            return Err(PacketError::UnknownKey {
                role: "data center",
                id: self.header.dc_key,
            });
        }
        let aad = &self.bytes[..self.header_len];
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(
            &self.bytes[self.header_len..self.header_len + ENC_LEN],
        )
        .map_err(|_| PacketError::Altered)?;
        let ct = &self.bytes[self.header_len + ENC_LEN + 4..self.bytes.len() - SIG_LEN];
        let plaintext = zeroize::Zeroizing::new(
            hpke::single_shot_open::<Aead, Kdf, Kem>(
                &hpke::OpModeR::Base,
                dc.packet_secret(),
                &enc,
                INFO,
                ct,
                aad,
            )
            .map_err(|_| PacketError::Altered)?,
        );
        let contents = Contents::parse(&plaintext)?;
        let ids = contents.ids()?;
        if ids.packet_id != self.header.packet_id.to_string() {
            return Err(PacketError::HeaderMismatch { field: "packet id" });
        }
        if ids.station_id != self.header.station_id {
            return Err(PacketError::HeaderMismatch {
                field: "station id",
            });
        }
        Ok(Opened {
            header: self.header.clone(),
            contents,
            content_hash: self.content_hash(),
        })
    }
}

fn signed_message(content_hash: &[u8; 32]) -> Vec<u8> {
    [SIGNATURE_CONTEXT, content_hash].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (Contents, Header, StationKey, DcKeys) {
        let station = StationKey::from_seed(&[7; 32]);
        let dc = DcKeys::from_seeds(&[1; 32], &[2; 32]);
        let packet_id = PacketId([9; 16]);
        let contents = Contents {
            manifest: format!(r#"{{"format":1,"packet_id":"{packet_id}","station_id":"KEC-01"}}"#)
                .into_bytes(),
            records: Vec::new(),
        };
        let header = Header {
            packet_id,
            station_id: "KEC-01".into(),
            station_key: station.id(),
            dc_key: dc.packet_key_id(),
            sealed_at: 1_700_000_000,
        };
        (contents, header, station, dc)
    }

    #[test]
    fn seals_and_opens_and_refuses_every_flipped_bit_region() {
        let (contents, header, station, dc) = fixture();
        let id = dc.identity("DC", None);
        let p = SealedPacket::seal(&contents, header, &station, &id, 1 << 20).expect("seals");
        let opened = p.open(&station.public(), &dc).expect("opens");
        assert_eq!(opened.contents, contents);
        assert_eq!(SealedPacket::parse(p.as_bytes()).expect("parses"), p);
        for at in 0..p.as_bytes().len() {
            let mut bytes = p.as_bytes().to_vec();
            bytes[at] ^= 0x01;
            let result = SealedPacket::parse(&bytes).and_then(|q| q.open(&station.public(), &dc));
            assert!(result.is_err(), "a flipped bit at {at} was accepted");
        }
    }

    #[test]
    fn budget_is_checked_before_sealing() {
        let (contents, header, station, dc) = fixture();
        let need = contents.to_bytes().expect("bytes").len() + overhead("KEC-01");
        let id = dc.identity("DC", None);
        assert!(SealedPacket::seal(&contents, header.clone(), &station, &id, need).is_ok());
        assert_eq!(
            SealedPacket::seal(&contents, header, &station, &id, need - 1),
            Err(PacketError::TooLarge {
                size: need,
                limit: need - 1
            })
        );
    }

    #[test]
    fn packet_ids_print_and_parse() {
        let id = PacketId::generate().expect("random");
        let text = id.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "4");
        assert_eq!(PacketId::parse(&text), Some(id));
        assert_eq!(PacketId::parse("not-an-id"), None);
    }

    #[test]
    fn a_stations_packet_id_is_its_own_and_no_other_stations() {
        let id = PacketId::for_station("KEC-01").expect("random");
        let text = id.to_string();
        assert_eq!(&text[14..15], "8", "{text}");
        assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"), "{text}");
        assert_eq!(PacketId::parse(&text), Some(id));
        assert_eq!(id.belongs_to("KEC-01"), Some(true));
        assert_eq!(id.belongs_to("KEC-02"), Some(false));
        assert_eq!(id.belongs_to("KEC-0"), Some(false));
        let mut changed = id;
        changed.0[0] ^= 1;
        assert_eq!(changed.belongs_to("KEC-01"), Some(false));
        // An id sealed before bound ids is bound to nobody.
        assert_eq!(
            PacketId::generate().expect("random").belongs_to("KEC-01"),
            None
        );
        assert_ne!(PacketId::for_station("KEC-01").expect("random"), id);
    }
}
