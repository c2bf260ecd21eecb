//! Packet benchmark: sealing and storing full enrollments at a station, packet sizes of
//! generated residents, and the gateway's commit throughput over loopback HTTP, each against a
//! baseline measured in the same run.
//!
//! ```text
//! cargo bench -p rekam-gateway --bench packet -- [--residents 5] [--packets 200] [--stored 200,2000]
//! ```
//!
//! - seal + store: `Station::seal` (manifest, HPKE, Ed25519, durable SQLite commit with the
//!   de-duplication row) against appending the same plaintext bytes unsealed (the store alone);
//! - sizes: every generated resident's sealed packet, by part, against the 500 KB target;
//! - commit: tus upload + commit of distinct packets against tus upload alone, one client and
//!   two;
//! - relay: the same number of packets left with a kecamatan server (`rekam-hub`, HTTPS) that
//!   forwards them, until every receipt is at the hub, against a direct upload + commit;
//! - growth: the store filled to each of `--stored` packets (20,000 for the full form), then
//!   upload + commit against upload alone at that size.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use rekam::clock::SystemClock;
use rekam::dedup::Dedup;
use rekam::domain::case::CaseType;
use rekam::domain::region::RegionCode;
use rekam::packet::{PacketId, Recording};
use rekam::station::{InitOptions, Station, StationPaths};
use rekam::store::NewEnrollment;
use rekam_gateway::{Config, Gateway};
use rekam_packet::StationKey;
use rekam_packet::envelope::{Header, SealedPacket};
use rekam_records::cbeff::{BiometricType, Format};
use rekam_sync::DcClient;
use rekam_synth::recording::{SynthRecording, recording};
use rekam_synth::resident::{RegionPool, reference_date};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

fn residents(n: usize) -> Vec<SynthRecording> {
    let pool = RegionPool::load().unwrap();
    let mut out = Vec::new();
    let mut k = 0;
    while out.len() < n {
        if let Some(r) = recording(&pool, 2026, k, reference_date(), "OP-01") {
            out.push(r);
        }
        k += 1;
    }
    out
}

fn part(kind: BiometricType, format: Format) -> &'static str {
    match (kind, format) {
        (BiometricType::Finger, Format::FingerImage) => "finger images (19794-4, PNG)",
        (BiometricType::Finger, _) => "finger minutiae (19794-2)",
        (BiometricType::Iris, _) => "iris images (19794-6, JPEG)",
        (BiometricType::Face, _) => "face image (19794-5, JPEG)",
        (BiometricType::Signature, _) => "signatures (PNG + pen strokes)",
    }
}

fn main() {
    let n = arg("--residents", 5);
    let packets = arg("--packets", 200);
    println!("generating {n} residents...");
    let people = residents(n);

    // ----- seal + store -------------------------------------------------------------------
    let dir = tempfile::tempdir().unwrap();
    let gw_dir = dir.path().join("dc");
    let identity = rekam_gateway::init(&gw_dir, "DC-BENCH").unwrap();
    let mut station = Station::init(
        InitOptions {
            paths: StationPaths::new(dir.path().join("station"), None),
            station_id: Some("BENCH-01".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "bench".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    station
        .pin_data_center(&identity, &identity, "bench")
        .unwrap();
    let mut plain = Station::init(
        InitOptions {
            paths: StationPaths::new(dir.path().join("plain"), None),
            station_id: Some("BENCH-02".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "bench".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let (mut sealed_ms, mut store_ms, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
    let mut parts: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, p) in people.iter().enumerate() {
        let row = Dedup::row(&p.person).unwrap();
        let plaintext = p.recording.to_contents().unwrap().to_bytes().unwrap();
        let t = Instant::now();
        plain
            .store_mut()
            .append_enrollment(&NewEnrollment {
                enrollment_id: format!("plain-{i}"),
                nik: p.recording.manifest.biodata.nik.clone(),
                case: CaseType::NewRecording,
                operator_id: "OP-01".into(),
                payload: plaintext,
                biometrics: Some(row.clone()),
                visit: None,
            })
            .unwrap();
        store_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let s = station.seal(p.recording.clone(), Some(row), None).unwrap();
        sealed_ms.push(t.elapsed().as_secs_f64() * 1e3);
        sizes.push(s.entry.payload_len as usize);
        for b in &p.recording.records {
            let k = part(b.kind, b.format);
            let v = parts.entry(k).or_default();
            if v.len() <= i {
                v.resize(i + 1, 0);
            }
            v[i] += b.data.len();
        }
        let manifest = serde_json::to_vec(&p.recording.manifest).unwrap().len();
        let v = parts.entry("manifest (JSON)").or_default();
        v.resize(i + 1, 0);
        v[i] += manifest;
    }
    let (seal, store) = (median(sealed_ms.clone()), median(store_ms.clone()));
    println!("\n== seal and store one full enrollment ({n} residents, durable commits) ==");
    println!(
        "seal + store (Station::seal): median {seal:.1} ms, max {:.1} ms (goal <= 100 ms)",
        sealed_ms.iter().cloned().fold(0.0, f64::max)
    );
    println!("store alone, same bytes unsealed (baseline): median {store:.1} ms");
    println!("ratio seal+store / store: {:.2}", seal / store);

    println!("\n== packet sizes ({n} generated residents; target <= 500 KB) ==");
    let mut sorted = sizes.clone();
    sorted.sort();
    println!(
        "sealed packet: min {}, median {}, max {}",
        kb(sorted[0]),
        kb(sorted[sorted.len() / 2]),
        kb(sorted[sorted.len() - 1])
    );
    for (k, v) in &parts {
        println!(
            "  {k}: median {}",
            kb(median(v.iter().map(|x| *x as f64).collect()) as usize)
        );
    }

    // ----- commit throughput ----------------------------------------------------------------
    let mut cfg = Config::new(&gw_dir);
    cfg.results_delay = Duration::from_secs(3600); // matching is not what is measured here
    let gw = Gateway::open(cfg, Arc::new(SystemClock)).unwrap();
    let running = gw.clone().spawn("127.0.0.1:0").unwrap();
    let url = format!("http://{}", running.addr);
    let key = StationKey::generate().unwrap();
    let reg = rekam_packet::protocol::Registration::new(
        &key,
        "BENCH-03",
        "327301",
        &gw.issue_token("BENCH-03").unwrap(),
        time::OffsetDateTime::now_utc().unix_timestamp(),
    );
    rekam_sync::register(&url, None, &reg).unwrap();
    // Distinct packets of the generated residents, sealed with the bench station's key.
    let seal_one = |r: &Recording| {
        let mut r = r.clone();
        let id = PacketId::generate().unwrap();
        r.manifest.packet_id = id.to_string();
        r.manifest.station_id = "BENCH-03".into();
        r.manifest.kecamatan = "327301".into();
        SealedPacket::seal(
            &r.to_contents().unwrap(),
            Header {
                packet_id: id,
                station_id: "BENCH-03".into(),
                station_key: key.id(),
                dc_key: identity.packet_key.id,
                sealed_at: 0,
            },
            &key,
            &identity,
            rekam::packet::DEFAULT_BUDGET,
        )
        .unwrap()
        .into_bytes()
    };
    let batch = || -> Vec<Vec<u8>> {
        (0..packets)
            .map(|i| seal_one(&people[i % n].recording))
            .collect()
    };
    let client = || {
        DcClient::new(
            &url,
            "BENCH-03",
            StationKey::from_hex(&key.to_hex()).unwrap(),
        )
        .unwrap()
    };
    let run = |threads: usize, commit: bool, batch: &[Vec<u8>]| {
        let t = Instant::now();
        std::thread::scope(|s| {
            for chunk in batch.chunks(batch.len().div_ceil(threads)) {
                let c = client();
                s.spawn(move || {
                    for p in chunk {
                        let id = SealedPacket::parse(p)
                            .unwrap()
                            .header()
                            .packet_id
                            .to_string();
                        let upload = c.upload(&id, p, |_, _| {}).unwrap();
                        if commit {
                            c.commit(&id, &upload).unwrap();
                        }
                    }
                });
            }
        });
        t.elapsed().as_secs_f64()
    };
    println!("\n== gateway commit throughput ({packets} distinct packets per run, loopback) ==");
    for threads in [1, 2] {
        // Each run sends packets of its own: an uploaded packet stays pending, a committed one
        // would answer with its stored receipt.
        let upload_only = run(threads, false, &batch());
        let fresh = batch();
        let bytes: usize = fresh.iter().map(Vec::len).sum();
        let committed = run(threads, true, &fresh);
        println!(
            "{threads} client(s): upload + commit {:.1} packets/s ({:.1} MB/s); upload alone (baseline) {:.1} packets/s; upload + commit takes {:.2}x the time of the upload alone",
            packets as f64 / committed,
            bytes as f64 / committed / 1e6,
            packets as f64 / upload_only,
            committed / upload_only
        );
    }

    // ----- the same packets relayed by a kecamatan server ------------------------------------
    let hub_tmp = tempfile::tempdir().unwrap();
    let hub_dir = hub_tmp.path().join("hub");
    rekam_hub::init(&hub_dir, "HUB-327301", "327301", &["127.0.0.1".into()]).unwrap();
    let hub =
        rekam_hub::Hub::open(rekam_hub::Config::new(&hub_dir), Arc::new(SystemClock)).unwrap();
    let hub_token = gw
        .issue_token_for("HUB-327301", rekam_gateway::StationRole::Hub)
        .unwrap();
    hub.join_data_center(&url, gw.identity(), &hub_token)
        .unwrap();
    let hub_running = hub.clone().spawn("127.0.0.1:0").unwrap();
    let station_token = hub.issue_token("BENCH-03").unwrap();
    hub.register(&rekam_packet::protocol::Registration::new(
        &key,
        "BENCH-03",
        "327301",
        &station_token,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    ))
    .unwrap();
    let counter = rekam_sync::hub::HubClient::new(
        &format!("https://{}", hub_running.addr),
        hub.identity(),
        "BENCH-03",
        StationKey::from_hex(&key.to_hex()).unwrap(),
    )
    .unwrap();
    let direct_batch = batch();
    let bytes: usize = direct_batch.iter().map(Vec::len).sum();
    let direct = run(1, true, &direct_batch);
    let relayed_batch = batch();
    let ids: Vec<String> = relayed_batch
        .iter()
        .map(|p| {
            SealedPacket::parse(p)
                .unwrap()
                .header()
                .packet_id
                .to_string()
        })
        .collect();
    let t = Instant::now();
    for (id, p) in ids.iter().zip(&relayed_batch) {
        counter.hold(id, p).unwrap();
    }
    let held = t.elapsed().as_secs_f64();
    let mut waiting: Vec<&String> = ids.iter().collect();
    while !waiting.is_empty() {
        waiting.retain(|id| counter.relay_state(id).unwrap().receipt.is_none());
        std::thread::sleep(Duration::from_millis(20));
    }
    let relayed = t.elapsed().as_secs_f64();
    println!("\n== relay through a kecamatan server ({packets} distinct packets, loopback) ==");
    println!(
        "direct, counter to data center (baseline): {:.1} packets/s ({:.1} MB/s)",
        packets as f64 / direct,
        bytes as f64 / direct / 1e6
    );
    println!(
        "relayed, counter to hub to data center, receipt at the hub: {:.1} packets/s ({:.2}x the direct time); the counter is done leaving them after {:.2} s ({:.1} packets/s)",
        packets as f64 / relayed,
        relayed / direct,
        held,
        packets as f64 / held
    );
    hub_running.stop();

    // ----- the commit rate as the store grows -------------------------------------------------
    // The packets are in the object store, not in the database: the commit's work should not
    // grow with what is stored. Filled to each size, then `packets` more are measured against
    // the upload alone at that size.
    println!(
        "\n== commit rate as the store grows ({packets} packets measured at each size, 1 client) =="
    );
    let mut stored = gw
        .stations(24 * 3600)
        .unwrap()
        .iter()
        .map(|s| s.packets_received)
        .sum::<i64>() as usize;
    for target in size_list("--stored", &[200, 2000]) {
        while stored < target {
            let fill: Vec<Vec<u8>> = (0..packets.min(target - stored))
                .map(|i| seal_one(&people[i % n].recording))
                .collect();
            run(2, true, &fill);
            stored += fill.len();
        }
        let upload_only = run(1, false, &batch());
        let fresh = batch();
        let committed = run(1, true, &fresh);
        stored += fresh.len();
        println!(
            "{target} packets stored: upload + commit {:.1} packets/s; upload alone (baseline) {:.1} packets/s; ratio {:.2}x",
            packets as f64 / committed,
            packets as f64 / upload_only,
            committed / upload_only
        );
    }
}

/// A comma-separated list of sizes after `name`, or `default`.
fn size_list(name: &str, default: &[usize]) -> Vec<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}
