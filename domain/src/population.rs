//! The population data a counter reads by NIK, and the Dinas's extract of it that lets a
//! station record with no network at all.
//!
//! Seed 003 lists "Data SIAK" among a kecamatan's equipment and seed 004 has the operator read
//! the biodata by the NIK on the form. Online, SIAK answers; offline, the station answers from
//! an extract the Dinas (Disdukcapil) issued for its kecamatan: a file with a header (what,
//! where, as of when, which number in the series), signed with the Dinas's key that the
//! station pinned at set-up, and a body of entries. A base extract replaces what the station
//! holds; a delta (residents added, changed, moved out, recorded elsewhere) applies on top of
//! the extract numbered just before it.
//!
//! The file, version 1:
//!
//! ```text
//! "REKAMPOP"  8 bytes     magic
//! 1           1 byte      format version
//! H           u32 BE      header length
//! header      H bytes     JSON (ExtractHeader)
//! signature   64 bytes    Ed25519 by the Dinas over the header (rekam_packet::population)
//! body        the rest    zlib-deflated JSON lines, one Entry each; its SHA-256 is in the header
//! ```
//!
//! Reading takes untrusted bytes: nothing of the body is parsed before the signature and the
//! body's hash are checked, the inflated size is bounded by the signed header, and every
//! failure is a typed [`ExtractError`] (fuzzed: `fuzz/fuzz_targets/extract.rs`).

use crate::biodata::Biodata;
use crate::eligibility::RecordingStatus;
use crate::nik::Nik;
use ed25519_dalek::VerifyingKey;
use rekam_i18n::{Lang, Localized};
use rekam_packet::KeyId;
use rekam_packet::population::{DinasKey, verify_extract};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// What the population database (SIAK) holds about a NIK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopulationRecord {
    /// The biodata.
    pub biodata: Biodata,
    /// Whether the resident's biometrics were recorded before, anywhere (SIAK knows).
    pub recording: RecordingStatus,
}

/// Where a resident's biodata came from, for the operator and the packet's manifest.
/// After how many days an extract's data counts as stale: a recording made on it is allowed,
/// and flagged at the station and at the data center.
pub const STALE_AFTER_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Source {
    /// SIAK online.
    Siak,
    /// The Dinas's extract on the station.
    Extract {
        /// Its kecamatan.
        region: String,
        /// Its number in the series (the last delta applied).
        sequence: u64,
        /// The time its data is as of.
        #[serde(with = "time::serde::rfc3339")]
        as_of: OffsetDateTime,
    },
}

impl Source {
    /// Whole days between the data and `now` (none for SIAK online).
    pub fn age_days(&self, now: OffsetDateTime) -> Option<i64> {
        match self {
            Source::Siak => None,
            Source::Extract { as_of, .. } => Some((now - *as_of).whole_days().max(0)),
        }
    }

    /// Its name for an operator, with its age as of `now`.
    pub fn label(&self, lang: Lang, now: OffsetDateTime) -> String {
        match self {
            Source::Siak => lang.pick("SIAK (daring)", "SIAK (online)").into(),
            Source::Extract {
                region, sequence, ..
            } => {
                let days = self.age_days(now).unwrap_or(0);
                match lang {
                    Lang::Id => format!(
                        "Data kependudukan Dinas di stasiun ({region} no. {sequence}, {days} hari)"
                    ),
                    Lang::En => format!(
                        "The Dinas's population data on this station ({region} no. {sequence}, \
                         {days} days old)"
                    ),
                }
            }
        }
    }
}

/// A record found, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The record.
    pub record: PopulationRecord,
    /// Who answered.
    pub source: Source,
}

/// The magic bytes that start an extract.
pub const MAGIC: &[u8; 8] = b"REKAMPOP";
/// The format version this build reads and writes.
pub const FORMAT: u8 = 1;
/// The largest body this build inflates (a kecamatan of 300,000 residents is about 200 MB).
pub const MAX_BODY_BYTES: u64 = 1 << 30;
/// The largest header (a few hundred bytes in practice; a mobile team's desa list is short).
const MAX_HEADER_BYTES: u32 = 64 * 1024;

/// A base extract or a delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ExtractKind {
    /// Everything the Dinas holds for the region: replaces what the station holds.
    Base,
    /// Changes since the extract numbered `base_sequence`.
    Delta,
}

/// What an extract is, signed with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractHeader {
    /// Base or delta.
    pub kind: ExtractKind,
    /// The kecamatan (`32.73.01`).
    pub region: String,
    /// The desa it is limited to (a mobile team's round); empty: the whole kecamatan.
    #[serde(default)]
    pub villages: Vec<String>,
    /// Its number in the Dinas's series for this region.
    pub sequence: u64,
    /// A delta's base: the number of the extract it applies on.
    #[serde(default)]
    pub base_sequence: Option<u64>,
    /// The time its data is as of.
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    /// Who issued it (the Disdukcapil's name).
    pub issuer: String,
    /// The signing key's id.
    pub signer: KeyId,
    /// How many entries the body holds.
    pub entries: u64,
    /// The body's size once inflated.
    pub body_bytes: u64,
    /// SHA-256 of the body as stored (deflated), hex.
    pub body_sha256: String,
}

/// One entry of an extract's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Entry {
    /// A resident added or changed (moved in, data changed, recorded elsewhere).
    Upsert {
        /// Their record.
        record: Box<PopulationRecord>,
    },
    /// A resident no longer of this region (moved out, died).
    Remove {
        /// Their NIK.
        nik: Nik,
    },
}

/// An extract read and verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Extract {
    /// What it is.
    pub header: ExtractHeader,
    /// Its entries, in order.
    pub entries: Vec<Entry>,
}

/// Why an extract is refused. Each variant has a stable [`code`](Self::code) and says what to
/// do in both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// Not an extract at all.
    #[error("this file is not a Rekam population extract: bring the file the Dinas issued")]
    NotAnExtract,
    /// The file ends early (a copy that did not finish).
    #[error("the extract is cut short ({0}): copy it again from the Dinas's medium")]
    Truncated(&'static str),
    /// A format this build does not read.
    #[error("the extract has format version {0}, which this Rekam does not read: update Rekam")]
    UnknownFormat(u8),
    /// Signed by a key this station did not pin.
    #[error(
        "the extract is signed by key {found}, not the Dinas key this station trusts \
         ({pinned}): ask the Dinas for an extract signed with its registered key"
    )]
    UnknownSigner {
        /// The key the header names.
        found: KeyId,
        /// The key the station pinned.
        pinned: KeyId,
    },
    /// The signature does not verify, or the body is not the one signed.
    #[error("the extract was altered after the Dinas signed it: ask the Dinas for a new copy")]
    Altered,
    /// Signed, but its content does not parse (a Dinas tool fault).
    #[error("the extract is malformed ({0}): report it to the Dinas")]
    Malformed(String),
    /// Larger than this build inflates.
    #[error(
        "the extract declares {0} bytes of data, more than a station takes: ask the Dinas to split it by desa"
    )]
    TooLarge(u64),
    /// A real Dinas's extract in clear: the file must come sealed to the station.
    #[error(
        "the extract is not encrypted to this station: whoever finds such a file reads the \
         kecamatan's biodata; ask the Dinas to issue it for this station (its key: `rekam \
         population key`)"
    )]
    NotEncrypted,
    /// Sealed to another station (or kecamatan server), or altered since.
    #[error(
        "the extract is encrypted to another station's key ({recipient}) or was altered: ask \
         the Dinas to issue it for this station (its key: `rekam population key`)"
    )]
    NotForThisStation {
        /// The id of the key it is sealed to.
        recipient: String,
    },
    /// No Dinas key is pinned on this station.
    #[error(
        "this station trusts no Dinas key yet: pin the Dinas's public key first (`rekam \
         population trust KEYFILE`)"
    )]
    NoSigner,
    /// An extract of another kecamatan.
    #[error(
        "the extract is for kecamatan {found}, this station is in {station}: bring this kecamatan's extract"
    )]
    ForeignRegion {
        /// The extract's region.
        found: String,
        /// The station's kecamatan.
        station: String,
    },
    /// A delta whose base is not what the station holds, or a number already applied.
    #[error(
        "the extract is number {found} ({kind}), but this station holds number {current}: \
         {advice}"
    )]
    OutOfSequence {
        /// Base or delta.
        kind: &'static str,
        /// The extract's number.
        found: u64,
        /// The number the station holds (0: none).
        current: u64,
        /// What to do.
        advice: &'static str,
    },
}

impl ExtractError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ExtractError::NotAnExtract => "EXTRACT_NOT_AN_EXTRACT",
            ExtractError::Truncated(_) => "EXTRACT_TRUNCATED",
            ExtractError::UnknownFormat(_) => "EXTRACT_FORMAT",
            ExtractError::UnknownSigner { .. } => "EXTRACT_UNKNOWN_SIGNER",
            ExtractError::Altered => "EXTRACT_ALTERED",
            ExtractError::Malformed(_) => "EXTRACT_MALFORMED",
            ExtractError::TooLarge(_) => "EXTRACT_TOO_LARGE",
            ExtractError::NoSigner => "EXTRACT_NO_SIGNER",
            ExtractError::NotEncrypted => "EXTRACT_NOT_ENCRYPTED",
            ExtractError::NotForThisStation { .. } => "EXTRACT_NOT_FOR_THIS_STATION",
            ExtractError::ForeignRegion { .. } => "EXTRACT_FOREIGN_REGION",
            ExtractError::OutOfSequence { .. } => "EXTRACT_OUT_OF_SEQUENCE",
        }
    }
}

impl Localized for ExtractError {
    fn localized(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            ExtractError::NotAnExtract => {
                "Berkas ini bukan ekstrak data kependudukan Rekam: bawa berkas yang diterbitkan \
                 Dinas"
                    .into()
            }
            ExtractError::Truncated(_) => "Ekstrak terpotong: salin ulang dari media Dinas".into(),
            ExtractError::UnknownFormat(v) => {
                format!("Ekstrak berformat versi {v} yang belum dikenal Rekam ini: perbarui Rekam")
            }
            ExtractError::UnknownSigner { found, pinned } => format!(
                "Ekstrak ditandatangani kunci {found}, bukan kunci Dinas yang dipercaya stasiun \
                 ini ({pinned}): minta ekstrak yang ditandatangani kunci resmi Dinas"
            ),
            ExtractError::Altered => {
                "Ekstrak telah diubah setelah ditandatangani Dinas: minta salinan baru ke Dinas"
                    .into()
            }
            ExtractError::Malformed(_) => "Ekstrak rusak isinya: laporkan ke Dinas".into(),
            ExtractError::TooLarge(_) => {
                "Ekstrak terlalu besar untuk stasiun: minta Dinas membaginya per desa".into()
            }
            ExtractError::NotEncrypted => "Ekstrak tidak dienkripsi untuk stasiun ini: siapa pun \
                                           yang menemukan berkas seperti ini dapat membaca \
                                           biodata kecamatan; minta Dinas menerbitkannya untuk \
                                           stasiun ini (kuncinya: `rekam population key`)"
                .into(),
            ExtractError::NotForThisStation { recipient } => format!(
                "Ekstrak dienkripsi untuk kunci stasiun lain ({recipient}) atau telah diubah: \
                 minta Dinas menerbitkannya untuk stasiun ini (kuncinya: `rekam population key`)"
            ),
            ExtractError::NoSigner => "Stasiun ini belum memercayai kunci Dinas: pasang dulu \
                                       kunci publik Dinas (`rekam population trust BERKAS`)"
                .into(),
            ExtractError::ForeignRegion { found, station } => format!(
                "Ekstrak untuk kecamatan {found}, stasiun ini di {station}: bawa ekstrak \
                 kecamatan ini"
            ),
            ExtractError::OutOfSequence { found, current, .. } => format!(
                "Ekstrak bernomor {found}, stasiun memegang nomor {current}: {}",
                if found <= current {
                    "ekstrak ini sudah terpasang atau lebih lama; tidak ada yang diubah"
                } else {
                    "ada ekstrak yang terlewat; pasang yang berurutan, atau ekstrak dasar terbaru"
                }
            ),
        }
    }
}

/// Whether an extract numbered `sequence` (a delta: on `base`) may apply on the one numbered
/// `current` (0: none): at a station, and at the kecamatan server that serves its counters.
pub fn in_order(
    kind: ExtractKind,
    sequence: u64,
    base: Option<u64>,
    current: u64,
) -> Result<(), ExtractError> {
    let refuse = |kind, advice| {
        Err(ExtractError::OutOfSequence {
            kind,
            found: sequence,
            current,
            advice,
        })
    };
    match kind {
        ExtractKind::Base if sequence <= current => refuse(
            "base",
            "it is already in force or older; nothing was changed",
        ),
        ExtractKind::Base => Ok(()),
        ExtractKind::Delta if current == 0 => refuse(
            "delta",
            "this station holds no extract yet; import the Dinas's base extract first",
        ),
        ExtractKind::Delta if sequence <= current => {
            refuse("delta", "it is already applied; nothing was changed")
        }
        ExtractKind::Delta if base != Some(current) || sequence != current + 1 => refuse(
            "delta",
            "an extract in between is missing; import them in order, or the Dinas's latest base \
             extract",
        ),
        ExtractKind::Delta => Ok(()),
    }
}

impl Extract {
    /// The file of `header` (its signer, entry count, sizes and hash filled in here) and
    /// `entries`, signed with `key`.
    pub fn write(mut header: ExtractHeader, entries: &[Entry], key: &DinasKey) -> Vec<u8> {
        let mut body = Vec::new();
        for e in entries {
            // A value of this module's own types always serialises.
            if let Ok(line) = serde_json::to_vec(e) {
                body.extend_from_slice(&line);
                body.push(b'\n');
            }
        }
        let packed = miniz_oxide::deflate::compress_to_vec_zlib(&body, 6);
        header.signer = key.id();
        header.entries = entries.len() as u64;
        header.body_bytes = body.len() as u64;
        header.body_sha256 = hex::encode(Sha256::digest(&packed));
        let head = serde_json::to_vec(&header).unwrap_or_default();
        let mut out = Vec::with_capacity(packed.len() + head.len() + 80);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT);
        out.extend_from_slice(&(head.len() as u32).to_be_bytes());
        out.extend_from_slice(&head);
        out.extend_from_slice(&key.sign_extract(&head));
        out.extend_from_slice(&packed);
        out
    }

    /// The header of `bytes`, unverified: for saying what a refused file claims to be.
    pub fn peek(bytes: &[u8]) -> Result<ExtractHeader, ExtractError> {
        let parts = split(bytes)?;
        parse_header(parts.header)
    }

    /// Reads `bytes`, verified against the Dinas key `trusted`: the signature first, then the
    /// body's hash, then the body inflated within the signed size.
    pub fn open(bytes: &[u8], trusted: &VerifyingKey) -> Result<Extract, ExtractError> {
        let parts = split(bytes)?;
        let header = parse_header(parts.header)?;
        let pinned = KeyId::of(trusted.as_bytes());
        if header.signer != pinned {
            return Err(ExtractError::UnknownSigner {
                found: header.signer,
                pinned,
            });
        }
        verify_extract(trusted, parts.header, &parts.signature)
            .map_err(|_| ExtractError::Altered)?;
        if hex::encode(Sha256::digest(parts.body)) != header.body_sha256 {
            return Err(ExtractError::Altered);
        }
        if header.body_bytes > MAX_BODY_BYTES {
            return Err(ExtractError::TooLarge(header.body_bytes));
        }
        let body = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(
            parts.body,
            usize::try_from(header.body_bytes).unwrap_or(usize::MAX),
        )
        .map_err(|e| ExtractError::Malformed(format!("body: {:?}", e.status)))?;
        if body.len() as u64 != header.body_bytes {
            return Err(ExtractError::Malformed("body size".into()));
        }
        let entries = body
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_slice::<Entry>(line)
                    .map_err(|e| ExtractError::Malformed(format!("entry {}: {e}", i + 1)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if entries.len() as u64 != header.entries {
            return Err(ExtractError::Malformed(format!(
                "{} entries, the header says {}",
                entries.len(),
                header.entries
            )));
        }
        if header.kind == ExtractKind::Base
            && entries.iter().any(|e| matches!(e, Entry::Remove { .. }))
        {
            return Err(ExtractError::Malformed(
                "a removal in a base extract".into(),
            ));
        }
        Ok(Extract { header, entries })
    }
}

struct Parts<'a> {
    header: &'a [u8],
    signature: [u8; 64],
    body: &'a [u8],
}

fn split(bytes: &[u8]) -> Result<Parts<'_>, ExtractError> {
    let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(
        if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
            ExtractError::Truncated("magic")
        } else {
            ExtractError::NotAnExtract
        },
    )?;
    let (&version, rest) = rest
        .split_first()
        .ok_or(ExtractError::Truncated("version"))?;
    if version != FORMAT {
        return Err(ExtractError::UnknownFormat(version));
    }
    let (len, rest) = rest
        .split_first_chunk::<4>()
        .ok_or(ExtractError::Truncated("header length"))?;
    let len = u32::from_be_bytes(*len);
    if len > MAX_HEADER_BYTES {
        return Err(ExtractError::Malformed(format!("a header of {len} bytes")));
    }
    let (header, rest) = rest
        .split_at_checked(len as usize)
        .ok_or(ExtractError::Truncated("header"))?;
    let (signature, body) = rest
        .split_first_chunk::<64>()
        .ok_or(ExtractError::Truncated("signature"))?;
    Ok(Parts {
        header,
        signature: *signature,
        body,
    })
}

fn parse_header(bytes: &[u8]) -> Result<ExtractHeader, ExtractError> {
    serde_json::from_slice(bytes).map_err(|e| ExtractError::Malformed(format!("header: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn extracts_apply_only_in_the_dinas_order() {
        use ExtractKind::{Base, Delta};
        assert!(in_order(Base, 1, None, 0).is_ok());
        assert!(in_order(Base, 5, None, 3).is_ok(), "a newer base replaces");
        for (kind, seq, base, current, code) in [
            (Base, 3, None, 3, "replay"),
            (Base, 2, None, 3, "older"),
            (Delta, 4, Some(2), 3, "gap"),
            (Delta, 5, Some(4), 3, "gap"),
            (Delta, 3, Some(2), 3, "replay"),
            (Delta, 1, Some(0), 0, "a delta before any base"),
        ] {
            let e = in_order(kind, seq, base, current).unwrap_err();
            assert_eq!(e.code(), "EXTRACT_OUT_OF_SEQUENCE", "{code}: {e}");
        }
        assert!(in_order(Delta, 4, Some(3), 3).is_ok());
    }

    fn key() -> DinasKey {
        DinasKey::from_hex(&"42".repeat(32)).unwrap()
    }

    fn public(k: &DinasKey) -> VerifyingKey {
        rekam_packet::keys::verifying_key_from_hex(&k.public_hex()).unwrap()
    }

    fn header(kind: ExtractKind, sequence: u64) -> ExtractHeader {
        ExtractHeader {
            kind,
            region: "32.73.01".into(),
            villages: Vec::new(),
            sequence,
            base_sequence: (kind == ExtractKind::Delta).then(|| sequence - 1),
            as_of: time::macros::datetime!(2026-11-30 00:00 UTC),
            issuer: "Disdukcapil Kota Bandung (TEST)".into(),
            signer: KeyId([0; 8]),
            entries: 0,
            body_bytes: 0,
            body_sha256: String::new(),
        }
    }

    fn removal() -> Entry {
        Entry::Remove {
            nik: Nik::parse("3273014101900001").unwrap(),
        }
    }

    #[test]
    fn an_extract_reads_back_what_was_written_and_only_with_its_key() {
        let k = key();
        let bytes = Extract::write(header(ExtractKind::Delta, 2), &[removal()], &k);
        let x = Extract::open(&bytes, &public(&k)).unwrap();
        assert_eq!(x.entries, [removal()]);
        assert_eq!(x.header.entries, 1);
        assert_eq!(x.header.signer, k.id());
        let other = DinasKey::from_hex(&"43".repeat(32)).unwrap();
        let e = Extract::open(&bytes, &public(&other)).unwrap_err();
        assert_eq!(e.code(), "EXTRACT_UNKNOWN_SIGNER", "{e}");
        assert!(e.localized(Lang::Id).contains("kunci"), "{e}");
    }

    #[test]
    fn every_byte_altered_or_cut_is_refused_with_its_reason() {
        let k = key();
        let bytes = Extract::write(header(ExtractKind::Delta, 2), &[removal()], &k);
        let p = public(&k);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert!(
                Extract::open(&b, &p).is_err(),
                "byte {i} altered was accepted"
            );
        }
        for n in 0..bytes.len() {
            let e = Extract::open(&bytes[..n], &p).unwrap_err();
            assert!(
                matches!(
                    e,
                    ExtractError::Truncated(_)
                        | ExtractError::Altered
                        | ExtractError::NotAnExtract
                        | ExtractError::Malformed(_)
                ),
                "{n} bytes: {e:?}"
            );
        }
        let mut tail = bytes.clone();
        tail.truncate(bytes.len() - 3);
        assert_eq!(Extract::open(&tail, &p).unwrap_err(), ExtractError::Altered);
        assert_eq!(
            Extract::open(b"PK\x03\x04 a zip", &p).unwrap_err(),
            ExtractError::NotAnExtract
        );
    }

    #[test]
    fn a_base_extract_cannot_remove_anyone() {
        let k = key();
        let bytes = Extract::write(header(ExtractKind::Base, 1), &[removal()], &k);
        let e = Extract::open(&bytes, &public(&k)).unwrap_err();
        assert_eq!(e.code(), "EXTRACT_MALFORMED", "{e}");
    }
}
