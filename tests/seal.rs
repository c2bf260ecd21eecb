//! Sealing at the station: refused before anything is written when the station is not
//! registered, the recording is inconsistent or the packet is over budget; once sealed, the
//! journal holds bytes the station cannot read, signed with its key.

#![allow(clippy::unwrap_used)]

use rekam::Error;
use rekam::clock::SystemClock;
use rekam::domain::region::RegionCode;
use rekam::i18n::{Lang, Localized};
use rekam::station::{InitOptions, Station, StationPaths};
use rekam_packet::DcKeys;
use rekam_packet::envelope::SealedPacket;
use rekam_synth::recording::recording;
use rekam_synth::resident::{RegionPool, reference_date};
use std::sync::Arc;

#[test]
fn sealing_refuses_before_writing_and_seals_what_only_the_data_center_opens() {
    let dir = tempfile::tempdir().unwrap();
    let mut station = Station::init(
        InitOptions {
            paths: StationPaths::new(dir.path().join("st"), None),
            station_id: Some("KEC-S-01".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "test".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let pool = RegionPool::load().unwrap();
    let r = (0..)
        .find_map(|k| recording(&pool, 7, k, reference_date(), "OP-01"))
        .unwrap();

    let e = station.seal(r.recording.clone(), None, None).unwrap_err();
    assert!(matches!(e, Error::NotRegistered), "{e}");
    assert!(e.localized(Lang::Id).contains("belum terdaftar di DC"));

    let dc = DcKeys::from_seeds(&[1; 32], &[2; 32]);
    let identity = dc.identity("DC-TEST", None);
    station
        .pin_data_center(&identity, &identity, "test")
        .unwrap();

    let mut broken = r.recording.clone();
    broken.manifest.captures[0].record = Some(999);
    let e = station.seal(broken, None, None).unwrap_err();
    assert_eq!(e.code(), "RECORDING_INVALID", "{e}");

    let e = station
        .seal(r.recording.clone(), None, Some(500 * 1024))
        .unwrap_err();
    assert_eq!(e.code(), "PACKET_TOO_LARGE", "{e}");
    assert!(
        e.localized(Lang::Id).contains("melebihi batas 500 KB"),
        "{}",
        e.localized(Lang::Id)
    );
    assert_eq!(
        station.status().unwrap().journal.entries,
        0,
        "nothing was written"
    );

    let sealed = station.seal(r.recording.clone(), None, None).unwrap();
    let bytes = station
        .store()
        .enrollment_payload(&sealed.entry.enrollment_id)
        .unwrap()
        .unwrap();
    let p = SealedPacket::parse(&bytes).unwrap();
    assert_eq!(p.content_hash(), sealed.content_hash);
    assert_eq!(p.header().station_id, "KEC-S-01");
    let key = station.signing_key().unwrap();
    let opened = p.open(&key.public(), &dc).unwrap();
    let back = rekam::packet::Recording::from_contents(&opened.contents).unwrap();
    assert_eq!(back.manifest.packet_id, sealed.entry.enrollment_id);
    assert_eq!(back.manifest.kecamatan, "327301");
    assert_eq!(back.records, r.recording.records);
    // Another DC key cannot open it.
    assert!(
        p.open(&key.public(), &DcKeys::from_seeds(&[3; 32], &[2; 32]))
            .is_err()
    );
    // A second recording of the same NIK is refused by the journal.
    assert_eq!(
        station.seal(r.recording, None, None).unwrap_err().code(),
        "ALREADY_RECORDED"
    );
}
