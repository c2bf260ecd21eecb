//! How fast the station's de-duplication index loads from the encrypted store at start, and how
//! fast one check runs against it.
//!
//! `cargo bench -p rekam --bench dedup_load -- [--people N]` (default 20,000)
//!
//! Builds a real station (SQLCipher, WAL, `synchronous = FULL`) with N recordings, each with a
//! biometric index row of ten random-minutiae fingers (timing only), each appended in its own
//! durable transaction as the station writes them, then measures in the same run, cache warm:
//! reading the stored codes without building anything (the floor any load pays), `Dedup::load`, and one
//! `Dedup::check` of a person not enrolled. Prints the ratio of load to floor.

#![allow(clippy::unwrap_used)]

use rekam::clock::SystemClock;
use rekam::dedup::Dedup;
use rekam::domain::case::CaseType;
use rekam::domain::nik::Nik;
use rekam::domain::region::RegionCode;
use rekam::station::{InitOptions, Station, StationPaths};
use rekam::store::NewEnrollment;
use rekam_bio::person::PersonTemplate;
use rekam_bio::testing::random_finger;
use std::sync::Arc;
use std::time::Instant;

fn person(i: u64) -> PersonTemplate {
    PersonTemplate::from_fingers((1..=10).map(|p| random_finger(i * 10 + u64::from(p), 45, p)))
}

fn main() {
    let mut people = 20_000u64;
    let argv: Vec<String> = std::env::args().collect();
    if let Some(i) = argv.iter().position(|a| a == "--people") {
        people = argv[i + 1].parse().unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let paths = StationPaths::new(dir.path().join("data"), None);
    let mut station = Station::init(
        InitOptions {
            paths: paths.clone(),
            station_id: Some("BENCH-01".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "bench".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let t = Instant::now();
    for i in 0..people {
        // A valid NIK per person: kecamatan 32.73.01, a date, a serial.
        let nik = format!(
            "327301{:02}{:02}{:02}{:04}",
            1 + i % 28,
            1 + (i / 28) % 12,
            80 + (i / 336) % 20,
            1 + i % 9999
        );
        let nik = Nik::parse(&nik).unwrap();
        let row = Dedup::row(&person(i)).unwrap();
        station
            .store_mut()
            .append_enrollment(&NewEnrollment {
                enrollment_id: format!("B-{i}"),
                nik,
                case: CaseType::NewRecording,
                operator_id: "bench".into(),
                payload: vec![0; 16],
                biometrics: Some(row),
                visit: None,
            })
            .unwrap();
        if (i + 1) % 5000 == 0 {
            eprintln!(
                "  {}/{people} recorded ({:.0} s)",
                i + 1,
                t.elapsed().as_secs_f64()
            );
        }
    }
    drop(station);

    let station = Station::open(paths, Arc::new(SystemClock)).unwrap();
    let store = station.store();
    // The first pass warms the page cache for both measurements.
    let mut rows = 0u64;
    store.index_codes(|_, _| rows += 1).unwrap();
    let t = Instant::now();
    store.index_codes(|_, _| ()).unwrap();
    let scan = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let dedup = Dedup::load(store).unwrap();
    let load = t.elapsed().as_secs_f64();
    let t = Instant::now();
    dedup.check(store, &person(u64::MAX / 3)).unwrap();
    let check = t.elapsed().as_secs_f64();
    println!(
        "# dedup index: {} recordings in a SQLCipher store",
        dedup.len()
    );
    println!(
        "scan of the index rows (codes read, nothing built): {:.0} ms",
        scan * 1e3
    );
    println!(
        "Dedup::load: {:.0} ms ({:.1} us per recording; {:.2}x the bare scan)",
        load * 1e3,
        load * 1e6 / rows.max(1) as f64,
        load / scan
    );
    println!(
        "one check of a new person (screen, fetch 100 from the store, rescore): {:.0} ms",
        check * 1e3
    );
}
