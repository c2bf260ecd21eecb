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

#![allow(clippy::unwrap_used)]

use rekam_packet::protocol::{Receipt, Registration, Status};
use rekam_packet::{DcIdentity, SealedPacket, StationKey};
use rekam_sim::campaign::{Rng, env_u64, listening, seed};
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
    let d = data.to_str().unwrap();
    gateway(&["init", "--data", d, "--dc-id", "DC-KILL"]);
    let dc: DcIdentity =
        serde_json::from_slice(&std::fs::read(data.join("dc-identity.json")).unwrap()).unwrap();
    let token = String::from_utf8(gateway(&["token", "--data", d, "--station", STATION]).stdout)
        .unwrap()
        .trim()
        .to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}");
    let mut server = serve(&data, &listen);
    let key = StationKey::generate().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    rekam_sync::register(
        &url,
        None,
        &Registration::new(&key, STATION, "327301", &token, now),
    )
    .unwrap();
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
    let client =
        DcClient::new(&url, STATION, StationKey::from_hex(&key.to_hex()).unwrap()).unwrap();
    std::thread::scope(|s| {
        let sender = s.spawn(|| {
            for (id, p) in ids.iter().zip(&batch) {
                let deadline = Instant::now() + Duration::from_secs(120);
                let receipt = loop {
                    match client
                        .upload(id, p, |_, _| {})
                        .and_then(|upload| client.commit(id, &upload))
                    {
                        Ok(r) => break r,
                        Err(e) => {
                            retried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            assert!(Instant::now() < deadline, "{id} never recorded: {e}");
                            std::thread::sleep(Duration::from_millis(30));
                        }
                    }
                };
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
    let deadline = Instant::now() + Duration::from_secs(120);
    let events = loop {
        let mut events = Vec::new();
        let mut cursor = 0;
        loop {
            let page = client.results(cursor, &dc).unwrap();
            if page.events.is_empty() {
                break;
            }
            cursor = page.next_cursor;
            events.extend(page.events);
        }
        let decided = events
            .iter()
            .filter(|e| e.status != Status::SentForEnrollment)
            .count();
        if decided >= ids.len() || Instant::now() > deadline {
            break events;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    server.kill().unwrap();
    server.wait().unwrap();
    for id in &ids {
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
    let check = gateway(&["check", "--data", d]);
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        said.contains(&format!("{} packets, every one whole", ids.len())),
        "{said}"
    );
}
