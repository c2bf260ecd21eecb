//! The kill -9 campaign on the data center's gateway: `rekam-gateway serve` (the real binary,
//! plain HTTP on loopback) killed with SIGKILL at random moments while a station uploads and
//! commits packets, each sent again until it has a receipt, as the station's sync does; the
//! gateway decides each packet as it comes, so kills land mid-upload, mid-commit and
//! mid-match. At the end:
//!
//! - every packet has a receipt that verifies against the data center's identity;
//! - the data center holds each packet once, with one SENT_FOR_ENROLLMENT and one decision;
//! - every packet's bytes are whole in the object store (`rekam-gateway check`).
//!
//! Short form in the test command: `REKAM_GATEWAY_KILLS` kills (default 10); the full form is
//! `scripts/crash-campaign N gateway`. `REKAM_CRASH_SEED` replays a run.
//!
//! Beside it, many stations at once through two gateway processes on one data directory,
//! every connection liable to be cut and one process killed: the same three checks, and the
//! result feed the same whichever process answers.

#![allow(clippy::unwrap_used)]

use rekam_packet::protocol::{Receipt, Registration, ResultEvent, Status};
use rekam_packet::{DcIdentity, SealedPacket, StationKey};
use rekam_sim::campaign::{Rng, env_u64, listening, seed};
use rekam_sim::link::{Fault, Proxy};
use rekam_sync::DcClient;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const STATION: &str = "KEC-GK-01";

fn gateway(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_rekam-gateway"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rekam-gateway {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A data center set up in `data`; its identity.
fn init(data: &Path, dc_id: &str) -> DcIdentity {
    gateway(&["init", "--data", data.to_str().unwrap(), "--dc-id", dc_id]);
    serde_json::from_slice(&std::fs::read(data.join("dc-identity.json")).unwrap()).unwrap()
}

/// `station` registered at the gateway on `url` of the data center in `data`; its key.
fn register(data: &Path, url: &str, station: &str) -> StationKey {
    let d = data.to_str().unwrap();
    let token = String::from_utf8(gateway(&["token", "--data", d, "--station", station]).stdout)
        .unwrap()
        .trim()
        .to_owned();
    let key = StationKey::generate().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    rekam_sync::register(
        url,
        None,
        &Registration::new(&key, station, "327301", &token, now),
    )
    .unwrap();
    key
}

/// A free port on 127.0.0.1, as `127.0.0.1:<port>`.
fn free_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

fn copy(key: &StationKey) -> StationKey {
    StationKey::from_hex(&key.to_hex()).unwrap()
}

/// Sends `packet` (uploaded, then committed) until it has its receipt, as a station's sync
/// does; `url` picks the gateway for each attempt. Counts the attempts cut in `retried`.
fn send_until_received(
    url: &mut dyn FnMut() -> String,
    station: &str,
    key: &StationKey,
    id: &str,
    packet: &[u8],
    retried: &std::sync::atomic::AtomicUsize,
) -> Receipt {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let client = DcClient::new(&url(), station, copy(key)).unwrap();
        match client
            .upload(id, packet, |_, _| {})
            .and_then(|upload| client.commit(id, &upload))
        {
            Ok(r) => return r,
            Err(e) => {
                retried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                assert!(Instant::now() < deadline, "{id} never recorded: {e}");
                std::thread::sleep(Duration::from_millis(30));
            }
        }
    }
}

/// Every event of `station`'s result feed at `url`.
fn feed(url: &str, station: &str, key: &StationKey, dc: &DcIdentity) -> Vec<ResultEvent> {
    let client = DcClient::new(url, station, copy(key)).unwrap();
    let mut events = Vec::new();
    let mut cursor = 0;
    loop {
        let page = client.results(cursor, dc).unwrap();
        if page.events.is_empty() {
            return events;
        }
        cursor = page.next_cursor;
        events.extend(page.events);
    }
}

/// `ids` each once in `events`: SENT_FOR_ENROLLMENT, then one decision.
fn each_decided_once(ids: &[String], events: &[ResultEvent]) {
    for id in ids {
        let of: Vec<Status> = events
            .iter()
            .filter(|e| &e.packet_id == id)
            .map(|e| e.status)
            .collect();
        assert_eq!(of.len(), 2, "{id}: {of:?}");
        assert_eq!(of[0], Status::SentForEnrollment, "{id}: {of:?}");
        assert!(
            matches!(
                of[1],
                Status::PrintReadyRecord | Status::DuplicateRecord | Status::AdjudicateRecord
            ),
            "{id}: {of:?}"
        );
    }
}

/// The feed of `station` at `url` once it holds a decision for each of `ids`.
fn decided(
    url: &str,
    station: &str,
    key: &StationKey,
    dc: &DcIdentity,
    ids: &[String],
) -> Vec<ResultEvent> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let events = feed(url, station, key, dc);
        let done = events
            .iter()
            .filter(|e| e.status != Status::SentForEnrollment)
            .count();
        if done >= ids.len() || Instant::now() > deadline {
            return events;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `rekam-gateway check` on `data` says `n` packets are whole.
fn all_whole(data: &Path, n: usize) {
    let check = gateway(&["check", "--data", data.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        said.contains(&format!("{n} packets, every one whole")),
        "{said}"
    );
}

/// `rekam-gateway serve` on `listen`, deciding at once; returned once it listens.
fn serve(data: &Path, listen: &str) -> Child {
    let mut server = Command::new(env!("CARGO_BIN_EXE_rekam-gateway"));
    server
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            listen,
        ])
        // A killed process's lease lapses after 2 s: the next one decides soon after.
        .args([
            "--plain-http",
            "--results-delay",
            "0",
            "--matcher-lease",
            "2",
        ])
        .stderr(Stdio::null());
    listening(&mut server, "http").unwrap()
}

#[test]
fn every_packet_survives_kill_9_of_the_gateway_once() {
    let kills = env_u64("REKAM_GATEWAY_KILLS").unwrap_or(10);
    let seed = seed();
    println!("gateway kill campaign: {kills} kills, REKAM_CRASH_SEED={seed}");
    let mut timing = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("dc");
    let dc = init(&data, "DC-KILL");
    let listen = free_address();
    let url = format!("http://{listen}");
    let mut server = serve(&data, &listen);
    let key = register(&data, &url, STATION);
    // At least a packet a kill, so that kills keep landing on work.
    let batch =
        rekam_sim::packets::sealed(STATION, &key, &dc, (kills as usize + 2).max(12)).unwrap();
    let ids: Vec<String> = batch
        .iter()
        .map(|p| rekam_sim::packets::id_of(p).unwrap())
        .collect();

    // The station sends each packet until it has its receipt; meanwhile the gateway is killed
    // again and again and started again on the same port.
    let receipts: Mutex<BTreeMap<String, Receipt>> = Mutex::default();
    let retried = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        let sender = s.spawn(|| {
            for (id, p) in ids.iter().zip(&batch) {
                let receipt =
                    send_until_received(&mut || url.clone(), STATION, &key, id, p, &retried);
                receipts.lock().unwrap().insert(id.clone(), receipt);
            }
        });
        for _ in 0..kills {
            std::thread::sleep(Duration::from_millis(100 + timing.below(700)));
            server.kill().unwrap();
            server.wait().unwrap();
            server = serve(&data, &listen);
        }
        sender.join().unwrap();
    });
    println!(
        "{} packets through {kills} kills; {} attempts cut and sent again",
        ids.len(),
        retried.into_inner()
    );

    // Every receipt verifies; each packet is decided once, whatever the kills interrupted.
    let receipts = receipts.into_inner().unwrap();
    for (id, p) in ids.iter().zip(&batch) {
        let hash = SealedPacket::parse(p).unwrap().content_hash();
        receipts[id].verify(&dc, id, &hash).unwrap();
    }
    let events = decided(&url, STATION, &key, &dc, &ids);
    server.kill().unwrap();
    server.wait().unwrap();
    each_decided_once(&ids, &events);
    all_whole(&data, ids.len());
}

/// A station of the campaign: its key, its sealed packets and their ids.
struct Sender {
    station: String,
    key: StationKey,
    batch: Vec<Vec<u8>>,
    ids: Vec<String>,
}

/// `REKAM_GATEWAY_STATIONS` stations (default 20) send their packets at once through two
/// gateway processes on one data directory, each attempt through either, every link liable
/// to be cut mid-request or go down, and one process killed with SIGKILL mid-run and started
/// again: every packet is recorded once, with one receipt and one decision, and a station's
/// result feed is the same whichever process it reads.
#[test]
fn many_stations_through_two_processes_with_links_cut_record_each_packet_once() {
    let stations = env_u64("REKAM_GATEWAY_STATIONS").unwrap_or(20) as usize;
    let per_station = 2;
    let seed = seed();
    println!("two gateway processes: {stations} stations, REKAM_CRASH_SEED={seed}");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("dc");
    let dc = init(&data, "DC-TWO");
    let listen = [free_address(), free_address()];
    let mut servers = [serve(&data, &listen[0]), serve(&data, &listen[1])];
    let direct: Vec<String> = listen.iter().map(|l| format!("http://{l}")).collect();
    let proxies: Vec<Proxy> = listen
        .iter()
        .map(|l| Proxy::start(l.parse().unwrap()).unwrap())
        .collect();
    let urls: Vec<String> = proxies.iter().map(Proxy::url).collect();

    let people = rekam_sim::packets::residents().unwrap();
    let fleet: Vec<Sender> = (0..stations)
        .map(|i| {
            let station = format!("KEC-TWO-{i:02}");
            let key = register(&data, &direct[i % 2], &station);
            let batch =
                rekam_sim::packets::sealed_from(&people, &station, &key, &dc, per_station).unwrap();
            let ids = batch
                .iter()
                .map(|p| rekam_sim::packets::id_of(p).unwrap())
                .collect();
            Sender {
                station,
                key,
                batch,
                ids,
            }
        })
        .collect();

    let receipts: Mutex<BTreeMap<String, Receipt>> = Mutex::default();
    let retried = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let senders: Vec<_> = fleet
            .iter()
            .enumerate()
            .map(
                |(
                    i,
                    Sender {
                        station,
                        key,
                        batch,
                        ids,
                    },
                )| {
                    let (urls, receipts, retried) = (&urls, &receipts, &retried);
                    s.spawn(move || {
                        let mut pick = Rng(seed ^ (i as u64 + 1));
                        for (id, p) in ids.iter().zip(batch) {
                            let mut url = || urls[pick.below(2) as usize].clone();
                            let receipt =
                                send_until_received(&mut url, station, key, id, p, retried);
                            receipts.lock().unwrap().insert(id.clone(), receipt);
                        }
                    })
                },
            )
            .collect();
        // The links: mostly up, often cut part-way through a request, now and then down.
        let chaos = s.spawn(|| {
            let mut rng = Rng(seed);
            let mut killed = false;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                for p in &proxies {
                    p.set(match rng.below(20) {
                        0..=11 => Fault::Pass,
                        12..=17 => Fault::CutAfter(200 + rng.below(400_000) as usize),
                        _ => Fault::Down,
                    });
                }
                std::thread::sleep(Duration::from_millis(50 + rng.below(250)));
                // Once, a third of the way in: the first process killed and started again.
                if !killed && receipts.lock().unwrap().len() >= stations * per_station / 3 {
                    killed = true;
                    servers[0].kill().unwrap();
                    servers[0].wait().unwrap();
                    std::thread::sleep(Duration::from_millis(rng.below(500)));
                    servers[0] = serve(&data, &listen[0]);
                }
            }
            for p in &proxies {
                p.set(Fault::Pass);
            }
        });
        for sender in senders {
            sender.join().unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        chaos.join().unwrap();
    });
    println!(
        "{} packets from {stations} stations; {} attempts cut and sent again",
        stations * per_station,
        retried.into_inner()
    );

    let receipts = receipts.into_inner().unwrap();
    for Sender {
        station,
        key,
        batch,
        ids,
    } in &fleet
    {
        for (id, p) in ids.iter().zip(batch) {
            let hash = SealedPacket::parse(p).unwrap().content_hash();
            receipts[id].verify(&dc, id, &hash).unwrap();
        }
        let events = decided(&direct[0], station, key, &dc, ids);
        each_decided_once(ids, &events);
        assert_eq!(
            feed(&direct[1], station, key, &dc),
            events,
            "{station}: the same feed from either process"
        );
    }
    for server in &mut servers {
        server.kill().unwrap();
        server.wait().unwrap();
    }
    all_whole(&data, stations * per_station);
}
