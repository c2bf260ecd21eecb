//! The Dinas's population extract at a kecamatan's size: writing it, importing it into the
//! encrypted store, and looking a resident up from it, against looking the same residents up in
//! SIAK over loopback HTTP in the same run.
//!
//! `cargo bench -p rekam --bench population -- [--residents N]` (default 300,000)
//!
//! The residents are generated biodata (`rekam-synth`), a thousand of them repeated under other
//! serial numbers to reach N (the store and the lookup see N distinct NIKs). The SIAK stand-in is
//! a minimal HTTP/1.1 server on 127.0.0.1 answering from memory (persistent connections, as
//! `rekam_sync::siak`'s client keeps them), so its figure is the floor of any SIAK: the wire and
//! the client, no database behind it. Lookups are 10,000 NIKs in a fixed random order, cache warm.

#![allow(clippy::unwrap_used)]

use rekam::clock::SystemClock;
use rekam::domain::nik::Nik;
use rekam::domain::population::{Entry, Extract, ExtractHeader, ExtractKind, PopulationRecord};
use rekam::domain::region::RegionCode;
use rekam::population::{CounterPopulation, import, trust};
use rekam::siak::HttpPopulation;
use rekam::station::{InitOptions, Station, StationPaths};
use rekam::workflow::Population;
use rekam_packet::population::DinasKey;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn records(n: usize) -> Vec<PopulationRecord> {
    let pool = rekam_synth::resident::RegionPool::load().unwrap();
    let as_of = rekam_synth::resident::reference_date();
    let seed = rekam_synth::seed::Seed::from_u64(20261206);
    let base: Vec<PopulationRecord> = (0..1000)
        .filter_map(|i| {
            let r = rekam_synth::resident::resident(seed, i, &pool, as_of);
            r.biodata.map(|biodata| PopulationRecord {
                biodata,
                recording: rekam::domain::eligibility::RecordingStatus::NotRecorded,
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    'fill: for serial in 1..=9999u32 {
        for r in &base {
            if out.len() == n {
                break 'fill;
            }
            let mut r = r.clone();
            let nik = format!("{}{serial:04}", &r.biodata.nik.as_str()[..12]);
            let Ok(nik) = Nik::parse(&nik) else { continue };
            r.biodata.nik = nik;
            out.push(r);
        }
    }
    out
}

/// A SIAK stand-in on loopback: `GET /v1/penduduk/{nik}` from memory.
fn serve(records: &[PopulationRecord]) -> u16 {
    let by_nik: Arc<HashMap<String, Vec<u8>>> = Arc::new(
        records
            .iter()
            .map(|r| {
                (
                    r.biodata.nik.as_str().to_owned(),
                    serde_json::to_vec(r).unwrap(),
                )
            })
            .collect(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let by_nik = by_nik.clone();
            std::thread::spawn(move || {
                // One write per answer and no Nagle delay, as any HTTP server does.
                conn.set_nodelay(true).unwrap();
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    // Skip the headers.
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                    }
                    let nik = line
                        .split_whitespace()
                        .nth(1)
                        .and_then(|p| p.rsplit('/').next())
                        .unwrap_or_default();
                    let (status, body): (&str, &[u8]) = match by_nik.get(nik) {
                        Some(b) => ("200 OK", b),
                        None => ("404 Not Found", b""),
                    };
                    let mut answer = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    answer.extend_from_slice(body);
                    if conn.write_all(&answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn time_lookups(population: &dyn Population, niks: &[Nik]) -> (Duration, Duration) {
    let mut times: Vec<Duration> = niks
        .iter()
        .map(|nik| {
            let t = Instant::now();
            let found = population.lookup(nik).unwrap();
            let took = t.elapsed();
            assert!(found.is_some());
            took
        })
        .collect();
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn main() {
    let mut n = 300_000usize;
    let argv: Vec<String> = std::env::args().collect();
    if let Some(i) = argv.iter().position(|a| a == "--residents") {
        n = argv[i + 1].parse().unwrap();
    }
    let t = Instant::now();
    let records = records(n);
    eprintln!(
        "  {} residents generated ({:.1} s)",
        records.len(),
        t.elapsed().as_secs_f64()
    );

    let key = DinasKey::from_hex(&"be".repeat(32)).unwrap();
    let entries: Vec<Entry> = records
        .iter()
        .map(|r| Entry::Upsert {
            record: Box::new(r.clone()),
        })
        .collect();
    let header = ExtractHeader {
        kind: ExtractKind::Base,
        region: "32.73.01".into(),
        villages: Vec::new(),
        sequence: 1,
        base_sequence: None,
        as_of: time::OffsetDateTime::now_utc(),
        issuer: "bench".into(),
        signer: rekam_packet::KeyId([0; 8]),
        entries: 0,
        body_bytes: 0,
        body_sha256: String::new(),
    };
    let t = Instant::now();
    let file = Extract::write(header, &entries, &key);
    let write_s = t.elapsed().as_secs_f64();
    drop(entries);

    let dir = tempfile::tempdir().unwrap();
    let paths = StationPaths::new(dir.path().join("data"), None);
    let mut station = Station::init(
        InitOptions {
            paths: paths.clone(),
            station_id: Some("BENCH-POP".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "bench".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    station.store().checkpoint().unwrap();
    let before = dir_bytes(&paths.data_dir);
    trust(&mut station, &key.public_hex(), "bench").unwrap();
    // As the Dinas hands it over: sealed to the station (its opening is part of the import).
    let (public, _) = rekam::population::recipient(&mut station).unwrap();
    let mut recipient = [0u8; 32];
    hex::decode_to_slice(&public, &mut recipient).unwrap();
    let t = Instant::now();
    let file = rekam_packet::population::seal_extract(&recipient, &file).unwrap();
    let seal_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = import(&mut station, &file, "bench", |_, _| {}).unwrap();
    let import_s = t.elapsed().as_secs_f64();
    station.store().checkpoint().unwrap();
    let growth = dir_bytes(&paths.data_dir).saturating_sub(before);

    // 10,000 NIKs in a fixed scattered order.
    let niks: Vec<Nik> = (0..10_000usize)
        .map(|i| records[(i * 7919) % records.len()].biodata.nik.clone())
        .collect();
    let extract = CounterPopulation::new(&station, None).unwrap();
    let (ex_median, ex_p99) = time_lookups(&extract, &niks);
    let port = serve(&records);
    let siak =
        HttpPopulation::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5)).unwrap();
    let (http_median, http_p99) = time_lookups(&siak, &niks);

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("population extract, {} residents", report.residents);
    println!(
        "  file: {:.1} MB, written in {write_s:.1} s, sealed to the station in {seal_s:.2} s",
        file.len() as f64 / 1e6
    );
    println!(
        "  import (open the seal, verify, inflate, one transaction): {import_s:.1} s, {:.0} residents/s; store grew {:.1} MB",
        report.residents as f64 / import_s,
        growth as f64 / 1e6
    );
    println!(
        "  lookup from the extract:       median {:>7.0} us, p99 {:>7.0} us",
        us(ex_median),
        us(ex_p99)
    );
    println!(
        "  lookup in SIAK over loopback:  median {:>7.0} us, p99 {:>7.0} us",
        us(http_median),
        us(http_p99)
    );
    println!(
        "  extract / loopback SIAK: median {:.2}x, p99 {:.2}x",
        us(ex_median) / us(http_median),
        us(ex_p99) / us(http_p99)
    );
}
