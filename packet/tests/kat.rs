//! Known-answer vectors of packet format version 1 (`fixtures/packet-kat/`): with the TEST
//! keys and the ephemeral seed of each vector, sealing gives exactly the stored bytes, and the
//! stored bytes open to the stored plaintext. A change of format, suite, key derivation or
//! signature context fails here first.
//!
//! `REKAM_WRITE_KAT=1 cargo test -p rekam-packet --test kat` rewrites the vectors (then review
//! the diff: a changed vector is a new format version).

#![allow(clippy::unwrap_used)]

use rekam_packet::envelope::{Header, PacketId, SealedPacket};
use rekam_packet::keys::KeyId;
use rekam_packet::protocol::Receipt;
use rekam_packet::{Contents, DcKeys, StationKey};
use rekam_records::cbeff::{BiometricType, Bir, Format, Purpose};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/packet-kat")
}

fn hex32(text: &str) -> [u8; 32] {
    let mut b = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut b).unwrap();
    b
}

fn station_key() -> StationKey {
    StationKey::from_hex(&std::fs::read_to_string(dir().join("test-station-signing.key")).unwrap())
        .unwrap()
}

fn dc_keys() -> DcKeys {
    DcKeys::from_text(&std::fs::read_to_string(dir().join("test-dc.key")).unwrap()).unwrap()
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Vector {
    name: String,
    packet_id: String,
    station_id: String,
    station_key: KeyId,
    dc_key: KeyId,
    sealed_at: i64,
    ephemeral_seed: String,
    plaintext: String,
    content_hash: String,
    sealed: String,
    receipt: Receipt,
}

fn contents(packet_id: &str, station_id: &str, records: Vec<Bir>) -> Contents {
    Contents {
        manifest: format!(
            r#"{{"format":1,"packet_id":"{packet_id}","station_id":"{station_id}","note":"TEST VECTOR, not a person"}}"#
        )
        .into_bytes(),
        records,
    }
}

fn make(name: &str, id_byte: u8, records: Vec<Bir>, seed_byte: u8) -> Vector {
    let station = station_key();
    let dc = dc_keys();
    let packet_id = PacketId([id_byte; 16]);
    let station_id = "TEST-STATION-01".to_owned();
    let c = contents(&packet_id.to_string(), &station_id, records);
    let header = Header {
        packet_id,
        station_id: station_id.clone(),
        station_key: station.id(),
        dc_key: dc.packet_key_id(),
        sealed_at: 1_790_000_000,
    };
    let seed = [seed_byte; 32];
    let sealed = SealedPacket::seal_with_seed(
        &c,
        header,
        &station,
        &dc.identity("TEST-DC", None),
        1 << 20,
        &seed,
    )
    .unwrap();
    Vector {
        name: name.into(),
        packet_id: packet_id.to_string(),
        station_id: station_id.clone(),
        station_key: station.id(),
        dc_key: dc.packet_key_id(),
        sealed_at: 1_790_000_000,
        ephemeral_seed: hex::encode(seed),
        plaintext: hex::encode(c.to_bytes().unwrap()),
        content_hash: hex::encode(sealed.content_hash()),
        sealed: hex::encode(sealed.as_bytes()),
        receipt: Receipt::new(
            &dc,
            &packet_id.to_string(),
            &station_id,
            &sealed.content_hash(),
            1_790_000_100,
            1,
        ),
    }
}

fn vectors() -> Vec<Vector> {
    let signature = Bir {
        kind: BiometricType::Signature,
        subtype: 0,
        format: Format::Other(0xFF52, 2),
        quality: None,
        purpose: Purpose::Enroll,
        data: (0u8..=254).collect(),
    };
    vec![
        make("manifest only", 0x11, Vec::new(), 0x01),
        make("manifest and one block", 0x22, vec![signature], 0x02),
    ]
}

#[test]
fn known_answers_of_format_version_1() {
    let path = dir().join("vectors.json");
    let made = vectors();
    if std::env::var_os("REKAM_WRITE_KAT").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&made).unwrap() + "\n").unwrap();
    }
    let stored: Vec<Vector> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(stored, made, "sealing no longer gives the stored bytes");
    let dc = dc_keys();
    let identity = dc.identity("TEST-DC", None);
    for v in &stored {
        let bytes = hex::decode(&v.sealed).unwrap();
        let p = SealedPacket::parse(&bytes).unwrap();
        let opened = p.open(&station_key().public(), &dc).unwrap();
        assert_eq!(
            hex::encode(opened.contents.to_bytes().unwrap()),
            v.plaintext
        );
        assert_eq!(hex::encode(opened.content_hash), v.content_hash);
        v.receipt
            .verify(&identity, &v.packet_id, &hex32(&v.content_hash))
            .unwrap();
    }
}
