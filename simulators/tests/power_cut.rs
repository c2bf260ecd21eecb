//! A power cut (issue 10), and what the station leaves on its disk while it works.
//!
//! The station records residents through the device simulators and is then "cut": its files
//! are copied as they are on the disk at that moment, the database and its write-ahead log,
//! with the log cut at random byte offsets (its tail never reached the disk). The main
//! database file is asserted unchanged over the recordings (no checkpoint ran), so every cut
//! is a state a power cut can leave. Each cut station must open, pass the integrity check and
//! its audit chain, hold a prefix of the recordings with each packet whole and each one's
//! de-duplication row beside it, and bring what it holds to the data center once.
//!
//! The same live files (database, log, keys) are scanned for the residents' NIKs and names:
//! nothing personal in plain text, not even in the log of a station that never closed.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::{DataCenter, assert_sound, personal_strings};
use rekam::clock::SystemClock;
use rekam::dedup::Dedup;
use rekam::station::{Station, StationPaths};
use rekam_packet::envelope::SealedPacket;
use rekam_sim::counter::Counter;
use std::path::Path;
use std::sync::Arc;

const STATION: &str = "KEC-CUT-01";
const CUTS: u64 = 24;

fn sha(path: &Path) -> [u8; 32] {
    rekam_packet::sha256(&[&std::fs::read(path).unwrap()])
}

#[test]
fn a_cut_write_ahead_log_leaves_a_sound_prefix_and_nothing_personal_is_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let dc = DataCenter::start(&dir.path().join("dc"));
    let mut c = Counter::open(dir.path(), STATION, 12).unwrap();
    dc.register(&mut c.station);
    let data = dir.path().join(STATION);
    let db = data.join("station.db");
    let wal = data.join("station.db-wal");
    c.station.store().checkpoint().unwrap();
    let before = sha(&db);
    let mut ids = Vec::new();
    for i in [0, 8] {
        ids.push(c.record(i).unwrap().packet_id);
    }
    assert_eq!(
        sha(&db),
        before,
        "a checkpoint ran: a cut could not be a power cut"
    );
    let log = std::fs::read(&wal).unwrap();
    println!(
        "write-ahead log after {} recordings: {} bytes",
        ids.len(),
        log.len()
    );

    // Nothing personal in plain text in the live files of a station that has not closed.
    let secrets = personal_strings(&c.population);
    let mut scanned = 0;
    for entry in walkdir::WalkDir::new(&data)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
    {
        let bytes = std::fs::read(&entry).unwrap();
        scanned += bytes.len();
        for s in &secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{} shows a resident's NIK or name",
                entry.display()
            );
        }
    }
    println!(
        "scanned {scanned} bytes of the live data directory for {} secrets",
        secrets.len()
    );

    // Cuts: the log's header alone, the whole log, and random offsets.
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut offsets = vec![0, 32, log.len()];
    for _ in 0..CUTS {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        offsets.push((rng % log.len() as u64) as usize);
    }
    let mut held = std::collections::BTreeMap::<usize, u32>::new();
    for (n, cut) in offsets.iter().enumerate() {
        let copy = dir.path().join(format!("cut-{n}"));
        std::fs::create_dir_all(copy.join("keys")).unwrap();
        for f in ["keys/store.key", "keys/station-signing.key"] {
            std::fs::copy(data.join(f), copy.join(f)).unwrap();
        }
        std::fs::copy(&db, copy.join("station.db")).unwrap();
        std::fs::write(copy.join("station.db-wal"), &log[..*cut]).unwrap();
        let station = Station::open(StationPaths::new(&copy, None), Arc::new(SystemClock))
            .unwrap_or_else(|e| panic!("cut at {cut}: the station does not open: {e}"));
        assert_sound(&station);
        let journal = station.store().journal_after(0, i64::MAX).unwrap();
        let got: Vec<&str> = journal.iter().map(|e| e.enrollment_id.as_str()).collect();
        assert_eq!(got, ids[..got.len()], "cut at {cut}: not a prefix");
        for id in &got {
            let bytes = station.store().enrollment_payload(id).unwrap().unwrap();
            SealedPacket::parse(&bytes)
                .unwrap_or_else(|e| panic!("cut at {cut}: packet {id} is not whole: {e}"));
        }
        assert_eq!(
            Dedup::load(station.store()).unwrap().len(),
            got.len(),
            "cut at {cut}: the de-duplication index and the journal disagree"
        );
        *held.entry(got.len()).or_default() += 1;
        if *cut == log.len() {
            // The whole log (the cut after the last commit) goes on: what it holds reaches
            // the data center, once each.
            let mut station = station;
            let at_dc = dc.sync_all(&mut station, got.len() as i64).at_dc;
            assert_eq!(at_dc, ids.len() as i64);
            println!("the uncut log's {at_dc} recordings reached the data center once each");
        }
    }
    println!(
        "{} cuts of the write-ahead log: recordings held -> cuts {held:?}; all opened, \
         integrity ok, audit intact, packets whole",
        offsets.len()
    );
    assert!(
        held.len() > 1,
        "every cut held the same: the cuts tested nothing"
    );
}
