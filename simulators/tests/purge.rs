//! Less to lose: recordings the data center answered for good are purged (their sealed packet
//! emptied, their biometric rows removed, the journal row kept), each whole or not at all, and
//! a kill -9 at any moment of a purge loses nothing else (`rekam-rekey-worker --purge` killed at
//! random moments, `PURGE_KILLS` times, 5 by default). After every kill: the store passes its
//! integrity check and audit chain, holds every journal row, and each recording is either
//! purged entirely or untouched. Afterwards the NIK still refuses a second recording.

#![allow(clippy::unwrap_used)]

mod common;

use common::{DataCenter, SealedStation, assert_sound};
use rekam::dedup::Dedup;
use rekam::store::SyncState;
use rekam_sim::campaign::env_u64;
use rekam_sim::counter::bin_dir;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const PASSWORD: &str = "kampanye-purge-1";
const RECORDINGS: usize = 24;

/// Every recording whole or purged entirely; returns how many are purged.
fn check(station: &rekam::station::Station) -> i64 {
    assert_sound(station);
    let store = station.store();
    assert_eq!(store.journal_stats().unwrap().entries, RECORDINGS as i64);
    let (purged, _) = store.purged_totals().unwrap();
    let mut empty = 0;
    for e in store.journal_after(0, i64::MAX).unwrap() {
        let payload = store.enrollment_payload(&e.enrollment_id).unwrap().unwrap();
        if payload.is_empty() {
            empty += 1;
        } else {
            rekam_packet::SealedPacket::parse(&payload).unwrap();
        }
    }
    assert_eq!(empty, purged, "emptied packets against the purge log");
    assert_eq!(
        Dedup::load(store).unwrap().len() as i64,
        RECORDINGS as i64 - purged,
        "biometric rows left against the purge log"
    );
    purged
}

#[test]
fn answered_recordings_are_purged_whole_and_a_kill_loses_nothing() {
    let kills = env_u64("PURGE_KILLS").unwrap_or(5);
    let mut seed = env_u64("PURGE_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1
    });
    eprintln!("purge campaign: {kills} kills, PURGE_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    let dc = DataCenter::start(&dir.path().join("dc"));
    let s = SealedStation::set_up(dir.path(), &dc, PASSWORD, RECORDINGS);
    let mut station = s.open("SPV-01", PASSWORD);
    dc.sync_all(&mut station, RECORDINGS as i64);
    let answered = station
        .store()
        .sync_counts()
        .unwrap()
        .iter()
        .filter(|(state, _)| state.is_final())
        .map(|(_, n)| n)
        .sum::<i64>();
    // Nothing is purged inside the retention (the sync's own purge ran after each pass).
    assert_eq!(check(&station), 0);
    let early = station
        .purge(rekam::station::RETENTION, "test", |_, _| {})
        .unwrap();
    assert_eq!(early.recordings, 0);
    drop(station);

    let bin = bin_dir().unwrap().join("rekam-rekey-worker");
    let worker = || {
        Command::new(&bin)
            .args(["--data-dir", s.paths.data_dir.to_str().unwrap()])
            .args(["--password", PASSWORD, "--purge"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap()
    };
    let mut progress = Vec::new();
    for _ in 0..kills {
        let mut child = worker();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // After a random number of purges, then a random moment: inside the next one, or
        // between two.
        let after = 1 + seed % 4;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        for _ in 0..after {
            if lines.next().is_none() {
                break;
            }
        }
        std::thread::sleep(Duration::from_micros(seed % 3000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        progress.push(check(&s.open("OP-01", PASSWORD)));
    }
    // The last run is left to finish.
    let mut last = worker();
    drop(last.stdout.take());
    assert!(last.wait().unwrap().success());
    let mut station = s.open("OP-01", PASSWORD);
    let purged = check(&station);
    eprintln!("purge campaign: purged after each kill {progress:?}, then {purged} of {answered}");
    assert_eq!(
        purged, answered,
        "every answered recording purged in the end"
    );
    for (state, n) in station.store().sync_counts().unwrap() {
        if !state.is_final() {
            assert!(
                matches!(state, SyncState::AdjudicateRecord),
                "{state:?} x{n} left whole"
            );
        }
    }
    // The once-only rule holds without the packet: the same NIK is refused.
    let again = station.seal(s.residents[0].recording.clone(), None, None);
    assert_eq!(again.unwrap_err().code(), "ALREADY_RECORDED");
    let audit: Vec<String> = station
        .store()
        .audit_entries(0, 10_000)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        audit.iter().filter(|a| *a == "recording.purge").count() as i64,
        answered
    );
}
