//! The plaintext of a packet: the manifest (UTF-8 JSON, typed by the core's `packet` module)
//! and the ISO/IEC 19794 records in a CBEFF container (`rekam_records::cbeff`).
//!
//! Layout, big-endian: "RKPC", version (1), reserved (1, zero), manifest length (4), the
//! manifest, the container (to the end).

use crate::{PacketError, Reader, Result};
use rekam_records::cbeff::{self, Bir};
use serde::Deserialize;

const MAGIC: &[u8; 4] = b"RKPC";
/// The plaintext framing version.
pub const VERSION: u8 = 1;

/// A packet's plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// The manifest, JSON.
    pub manifest: Vec<u8>,
    /// The records.
    pub records: Vec<Bir>,
}

/// The fields of a manifest that the envelope binds to its clear header.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ManifestIds {
    /// Format version of the manifest.
    pub format: u8,
    /// The packet id (UUID, hyphenated lower case).
    pub packet_id: String,
    /// The station that recorded it.
    pub station_id: String,
}

impl Contents {
    /// The plaintext bytes; each record is checked first.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let records = cbeff::to_bytes(&self.records)?;
        let len = u32::try_from(self.manifest.len()).map_err(|_| PacketError::Malformed {
            field: "manifest",
            detail: "longer than 4 GiB".into(),
        })?;
        let mut out = Vec::with_capacity(10 + self.manifest.len() + records.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(0);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.manifest);
        out.extend_from_slice(&records);
        Ok(out)
    }

    /// Reads plaintext bytes; every record of a known format is parsed as that format.
    pub fn parse(bytes: &[u8]) -> Result<Contents> {
        let mut r = Reader::new(bytes);
        if r.take(4, "plaintext identifier")? != MAGIC {
            return Err(PacketError::Malformed {
                field: "plaintext identifier",
                detail: "not RKPC".into(),
            });
        }
        let version = r.u8("plaintext version")?;
        if version != VERSION {
            return Err(PacketError::UnknownVersion {
                found: version,
                supported: VERSION,
            });
        }
        if r.u8("reserved")? != 0 {
            return Err(PacketError::Malformed {
                field: "reserved",
                detail: "must be zero".into(),
            });
        }
        let len = r.u32("manifest length")? as usize;
        let manifest = r.take(len, "manifest")?.to_vec();
        if std::str::from_utf8(&manifest).is_err() {
            return Err(PacketError::Malformed {
                field: "manifest",
                detail: "not UTF-8".into(),
            });
        }
        let records = cbeff::parse(r.rest())?;
        Ok(Contents { manifest, records })
    }

    /// The manifest's version and ids.
    pub fn ids(&self) -> Result<ManifestIds> {
        serde_json::from_slice(&self.manifest).map_err(|e| PacketError::Malformed {
            field: "manifest",
            detail: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rekam_records::cbeff::{BiometricType, Format, Purpose};

    #[test]
    fn round_trip_and_refusals() {
        let c = Contents {
            manifest: br#"{"format":1,"packet_id":"p","station_id":"s"}"#.to_vec(),
            records: vec![Bir {
                kind: BiometricType::Signature,
                subtype: 0,
                format: Format::Other(0x0101, 1),
                quality: None,
                purpose: Purpose::Enroll,
                data: vec![1, 2, 3],
            }],
        };
        let bytes = c.to_bytes().expect("writes");
        assert_eq!(Contents::parse(&bytes).expect("reads"), c);
        assert_eq!(c.ids().expect("ids").station_id, "s");
        for cut in 0..bytes.len() {
            assert!(Contents::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut v2 = bytes.clone();
        v2[4] = 2;
        assert_eq!(
            Contents::parse(&v2),
            Err(PacketError::UnknownVersion {
                found: 2,
                supported: 1
            })
        );
    }
}
