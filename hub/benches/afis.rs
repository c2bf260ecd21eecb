//! The kecamatan server's 1:N answer, request to answer over the loopback network, as a counter
//! gets it.
//!
//! `cargo bench -p rekam-hub --bench afis -- [--sizes 10000,100000,300000] [--counters 5]
//! [--asks 20]`
//!
//! For each gallery size: a hub on the embedded store (SQLCipher, `synchronous = FULL`) holding
//! that many enrolled recordings of ten random-minutiae fingers (timing only; written in one
//! transaction, since the hub's own path checks each enrollment), opened as at a restart (the
//! gallery's load is timed), served over HTTPS on loopback; counters sign their requests as in
//! the field (`rekam_sync::hub::HubClient`). Measured in the same run: the identity request (the
//! floor: TLS, HTTP, no work), a check of a person not in the gallery, a check of one who is,
//! and `--counters` counters asking at once. Prints median and 95th percentile and the ratio of
//! a check to the floor.

#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use rayon::prelude::*;
use rekam_bio::finger::record_of;
use rekam_bio::index::codes_to_bytes;
use rekam_bio::person::{PersonTemplate, codes, irises_to_bytes};
use rekam_bio::testing::random_finger;
use rekam_domain::clock::SystemClock;
use rekam_hub::store::Templates;
use rekam_hub::{Config, Hub};
use rekam_packet::StationKey;
use rekam_packet::hub::{AfisAnswer, AfisProbe};
use rekam_packet::protocol::Registration;
use rekam_sync::hub::HubClient;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn person(i: u64) -> PersonTemplate {
    PersonTemplate::from_fingers((1..=10).map(|p| random_finger(i * 10 + u64::from(p), 45, p)))
}

fn stored(p: &PersonTemplate) -> Templates {
    let fingers: Vec<_> = p.fingers.iter().flatten().cloned().collect();
    Templates {
        codes: codes_to_bytes(&codes(p)),
        minutiae: record_of(&fingers).unwrap(),
        irises: irises_to_bytes(&p.irises),
    }
}

fn probe(p: &PersonTemplate) -> AfisProbe {
    let t = stored(p);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    AfisProbe {
        queue_number: "A-001".into(),
        masked_nik: "327301********01".into(),
        templates: rekam_packet::hub::Templates {
            codes: b64(&t.codes),
            minutiae: b64(&t.minutiae),
            irises: b64(&t.irises),
        },
    }
}

fn arg(name: &str) -> Option<String> {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1).cloned())
}

/// Median and 95th percentile, milliseconds.
fn summary(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    let p95 = d[(d.len() * 95 / 100).min(d.len() - 1)];
    (ms(d[d.len() / 2]), ms(p95))
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

fn main() {
    let sizes: Vec<u64> = arg("--sizes")
        .unwrap_or_else(|| "10000,100000,300000".into())
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let counters: usize = arg("--counters").map_or(5, |s| s.parse().unwrap());
    let asks: usize = arg("--asks").map_or(20, |s| s.parse().unwrap());
    println!(
        "rekam-hub 1:N over HTTPS on loopback, {} threads; {asks} asks per figure",
        rayon::current_num_threads()
    );
    for &n in &sizes {
        let dir = tempfile::tempdir().unwrap();
        let hub_dir = dir.path().join("hub");
        rekam_hub::init(&hub_dir, "HUB-BENCH", "327301", &["127.0.0.1".into()]).unwrap();
        let key_text = std::fs::read_to_string(rekam_hub::paths::store_key(&hub_dir)).unwrap();
        let mut key = [0u8; 32];
        hex::decode_to_slice(key_text.trim(), &mut key).unwrap();
        let ((), built) = timed(|| {
            let store = rekam_hub::sqlite::SqliteStore::open(&rekam_hub::paths::db(&hub_dir), &key)
                .unwrap();
            // Generated in parallel in chunks, written in one transaction.
            for chunk in (0..n).collect::<Vec<_>>().chunks(20_000) {
                let rows: Vec<(String, Templates)> = chunk
                    .par_iter()
                    .map(|&i| (format!("bench-{i}"), stored(&person(i))))
                    .collect();
                store
                    .fill_unchecked("KEC-OLD-01", rows.into_iter())
                    .unwrap();
            }
        });
        let (hub, loaded) =
            timed(|| Hub::open(Config::new(&hub_dir), Arc::new(SystemClock)).unwrap());
        let running = hub.clone().spawn("127.0.0.1:0").unwrap();
        let url = format!("https://{}", running.addr);
        let clients: Vec<HubClient> = (0..counters.max(1))
            .map(|c| {
                let id = format!("KEC-B-{c:02}");
                let key = StationKey::generate().unwrap();
                let token = hub.issue_token(&id).unwrap();
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                hub.register(&Registration::new(&key, &id, "327301", &token, now))
                    .unwrap();
                HubClient::new(&url, hub.identity(), &id, key).unwrap()
            })
            .collect();
        let one = &clients[0];
        one.conflicts(0).unwrap(); // the connection made once, as a counter keeps it
        let floor: Vec<Duration> = (0..asks)
            .map(|_| timed(|| one.conflicts(i64::MAX).unwrap()).1)
            .collect();
        let fresh = 10_000_000u64;
        let new_person: Vec<Duration> = (0..asks as u64)
            .map(|k| {
                let p = probe(&person(fresh + k));
                let (answer, d) = timed(|| one.check(&p).unwrap());
                assert!(matches!(answer, AfisAnswer::Clear { .. }));
                d
            })
            .collect();
        let known: Vec<Duration> = (0..asks as u64)
            .map(|k| {
                let p = probe(&person(k * (n / asks as u64).max(1)));
                let (answer, d) = timed(|| one.check(&p).unwrap());
                assert!(matches!(answer, AfisAnswer::Duplicate(_)), "{answer:?}");
                d
            })
            .collect();
        let (together, wall) = timed(|| {
            std::thread::scope(|s| {
                let handles: Vec<_> = clients
                    .iter()
                    .enumerate()
                    .map(|(c, client)| {
                        s.spawn(move || {
                            (0..asks as u64 / 2)
                                .map(|k| {
                                    let p = probe(&person(fresh * 2 + c as u64 * 1000 + k));
                                    timed(|| client.check(&p).unwrap()).1
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            })
        });
        let answered = together.len();
        let (f50, f95) = summary(floor);
        let (n50, n95) = summary(new_person);
        let (k50, k95) = summary(known);
        let (t50, t95) = summary(together);
        println!(
            "gallery {n}: written in {:.1} s, loaded at start in {:.2} s",
            built.as_secs_f64(),
            loaded.as_secs_f64()
        );
        println!("  floor (a signed request, no matching): median {f50:.1} ms, p95 {f95:.1} ms");
        println!(
            "  check, person not in the gallery:   median {n50:.1} ms, p95 {n95:.1} ms ({:.0}x floor)",
            n50 / f50.max(0.001)
        );
        println!(
            "  check, person in the gallery:       median {k50:.1} ms, p95 {k95:.1} ms ({:.0}x floor)",
            k50 / f50.max(0.001)
        );
        println!(
            "  {} counters at once: median {t50:.1} ms, p95 {t95:.1} ms, {:.1} checks/s",
            clients.len(),
            answered as f64 / wall.as_secs_f64()
        );
        running.stop();
    }
}
