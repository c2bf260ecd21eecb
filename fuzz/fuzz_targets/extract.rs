//! A population extract on arbitrary bytes: as a whole file (refused, never a panic), and as
//! the body of an extract signed with a fixed key, so the fuzzer reaches the inflater and the
//! entry parser that a forged signature would otherwise keep it from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rekam_domain::population::{Extract, ExtractHeader, ExtractKind, MAGIC};
use rekam_packet::population::DinasKey;
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let key = DinasKey::from_hex(&"5a".repeat(32)).expect("a fixed key");
    let public = rekam_packet::keys::verifying_key_from_hex(&key.public_hex()).expect("its half");
    let _ = Extract::peek(data);
    let _ = Extract::open(data, &public);

    // `data` as a signed extract's (deflated) body, declared at up to 64 KiB inflated.
    let header = ExtractHeader {
        kind: if data.first().is_some_and(|b| b & 1 == 1) {
            ExtractKind::Delta
        } else {
            ExtractKind::Base
        },
        region: "32.73.01".into(),
        villages: Vec::new(),
        sequence: 2,
        base_sequence: Some(1),
        as_of: time::OffsetDateTime::UNIX_EPOCH,
        issuer: "fuzz".into(),
        signer: key.id(),
        entries: u64::from(data.get(1).copied().unwrap_or(0)),
        body_bytes: u64::from(u16::from_le_bytes([
            data.get(2).copied().unwrap_or(0),
            data.get(3).copied().unwrap_or(0),
        ])),
        body_sha256: hex::encode(Sha256::digest(data)),
    };
    let head = serde_json::to_vec(&header).expect("a header serialises");
    let mut file = MAGIC.to_vec();
    file.push(1);
    file.extend_from_slice(&(head.len() as u32).to_be_bytes());
    file.extend_from_slice(&head);
    file.extend_from_slice(&key.sign_extract(&head));
    file.extend_from_slice(data);
    if let Ok(x) = Extract::open(&file, &public) {
        assert_eq!(x.entries.len() as u64, header.entries);
    }
});
