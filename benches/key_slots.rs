//! What key slots cost: a login (an operator's slot unwrapped: Argon2id at 64 MiB, 3 passes,
//! then the store opened) and a re-key (an operator removed: the whole database copied under a
//! new key and renamed into place) on a station holding N recordings.
//!
//! `cargo bench -p rekam --bench key_slots -- [--recordings N] [--payload-kb K]`
//! (default 15,000 recordings of 64 KiB each: a kecamatan's backlog after the packets were
//! purged down to what the station keeps; the re-key's cost grows with the database's size,
//! so it is also given per MiB).
//!
//! Baselines measured in the same run on the same store: opening it with a key file (no slot
//! to unwrap) for the login, and a plain copy of the database file (`std::fs::copy` then
//! `fsync`: the disk's own cost of writing the bytes once) for the re-key.

#![allow(clippy::unwrap_used)]

use rekam::clock::SystemClock;
use rekam::dedup::Dedup;
use rekam::domain::case::CaseType;
use rekam::domain::nik::Nik;
use rekam::domain::region::RegionCode;
use rekam::station::{FirstSlot, InitOptions, Station, StationPaths, Unlock};
use rekam::store::NewEnrollment;
use rekam::store::slots::{KeySlots, PASSWORD_KDF};
use rekam_bio::person::PersonTemplate;
use rekam_bio::testing::random_finger;
use std::sync::Arc;
use std::time::Instant;

const PASSWORD: &str = "sandi-bangku-uji";

fn arg(argv: &[String], name: &str, default: u64) -> u64 {
    argv.iter()
        .position(|a| a == name)
        .map_or(default, |i| argv[i + 1].parse().unwrap())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let recordings = arg(&argv, "--recordings", 15_000);
    let payload = arg(&argv, "--payload-kb", 64) as usize * 1024;
    let dir = tempfile::tempdir().unwrap();
    let paths = StationPaths::new(dir.path().join("data"), None);
    let clock = Arc::new(SystemClock);
    let mut station = Station::init_sealed(
        InitOptions {
            paths: paths.clone(),
            station_id: Some("BENCH-01".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "bench".into(),
        },
        &FirstSlot {
            operator_id: "SPV-01",
            password: PASSWORD,
            recovery: None,
        },
        clock.clone(),
    )
    .unwrap();
    // A kecamatan's counters: a dozen operators, each with a slot.
    for n in 1..=12 {
        station
            .set_password_slot(&format!("OP-{n:02}"), PASSWORD, "bench")
            .unwrap();
    }
    let t = Instant::now();
    let mut bytes = vec![0u8; payload];
    for i in 0..recordings {
        let nik = format!(
            "327301{:02}{:02}{:02}{:04}",
            1 + i % 28,
            1 + (i / 28) % 12,
            80 + (i / 336) % 20,
            1 + i % 9999
        );
        // Sealed packets look random: so do these.
        getrandom::fill(&mut bytes).unwrap();
        let person = PersonTemplate::from_fingers(
            (1..=10).map(|p| random_finger(i * 10 + u64::from(p), 45, p)),
        );
        station
            .store_mut()
            .append_enrollment(&NewEnrollment {
                enrollment_id: format!("B-{i}"),
                nik: Nik::parse(&nik).unwrap(),
                case: CaseType::NewRecording,
                operator_id: "bench".into(),
                payload: bytes.clone(),
                biometrics: Some(Dedup::row(&person).unwrap()),
                visit: None,
            })
            .unwrap();
        if (i + 1) % 5000 == 0 {
            eprintln!(
                "  {}/{recordings} recorded ({:.0} s)",
                i + 1,
                t.elapsed().as_secs_f64()
            );
        }
    }
    station.store().checkpoint().unwrap();
    let db_mib = std::fs::metadata(paths.db()).unwrap().len() as f64 / (1024.0 * 1024.0);
    drop(station);

    // Login: the slot unwrapped, then the store opened; against the store opened with its key
    // already in hand (what a key file gives).
    let slots = KeySlots::read(&KeySlots::path(&paths.data_dir))
        .unwrap()
        .unwrap();
    let unwrap: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            slots
                .open_with_password("OP-07", PASSWORD)
                .unwrap()
                .unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    let login: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let s = Station::open_with(
                paths.clone(),
                &Unlock::Password {
                    operator_id: "OP-07",
                    password: PASSWORD,
                },
                clock.clone(),
            )
            .unwrap();
            let e = t.elapsed().as_secs_f64();
            drop(s);
            e
        })
        .collect();
    let (unwrap, login) = (median(unwrap), median(login));
    let open = login - unwrap;

    // Re-key: OP-07 removed; against a plain copy of the file, synced.
    let copy = dir.path().join("copy.db");
    let t = Instant::now();
    std::fs::copy(paths.db(), &copy).unwrap();
    std::fs::File::open(&copy).unwrap().sync_all().unwrap();
    let plain_copy = t.elapsed().as_secs_f64();
    std::fs::remove_file(&copy).unwrap();
    let station = Station::open_with(
        paths.clone(),
        &Unlock::Password {
            operator_id: "SPV-01",
            password: PASSWORD,
        },
        clock.clone(),
    )
    .unwrap();
    let t = Instant::now();
    let station = station.remove_password_slot("OP-07", "bench").unwrap();
    let rekey = t.elapsed().as_secs_f64();
    assert_eq!(
        station.store().journal_stats().unwrap().entries,
        recordings as i64
    );

    println!(
        "# key slots: {recordings} recordings of {} KiB, database {db_mib:.0} MiB, 13 password slots",
        payload / 1024
    );
    println!(
        "Argon2id {} MiB x {} passes x {} lanes",
        PASSWORD_KDF.memory_kib / 1024,
        PASSWORD_KDF.passes,
        PASSWORD_KDF.lanes
    );
    println!(
        "login: slot unwrapped {:.0} ms + store opened {:.0} ms = {:.0} ms (median of 5); \
         {:.1}x opening with the key in hand",
        unwrap * 1e3,
        open * 1e3,
        login * 1e3,
        login / open.max(1e-6)
    );
    println!(
        "re-key (one operator removed): {:.1} s, {:.0} MiB/s; {:.1}x a plain synced copy of \
         the file ({:.1} s)",
        rekey,
        db_mib / rekey,
        rekey / plain_copy,
        plain_copy
    );
}
