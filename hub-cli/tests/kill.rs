//! The kill -9 campaign on the kecamatan server: `rekam-hub serve` (the real binary, embedded
//! store) killed with SIGKILL at random moments while three counters check and enrol people
//! over HTTPS, some of them presented at two counters, some enrolled without a check (a counter
//! that was out of reach). Every counter sends each enrollment again until it has an answer, as
//! its sync pass does. After every restart and at the end:
//!
//! - the hub opens, and every enrollment it answered before a kill is still there, under the
//!   same record number;
//! - each packet is enrolled exactly once: the hub's count per counter is the number of
//!   distinct packets that counter sealed;
//! - a person enrolled at two counters without the hub refusing the second is a conflict, found
//!   once;
//! - no two counters were both told one person was clear.
//!
//! A second campaign kills the hub while it forwards sealed packets a counter left with it to a
//! data center (the reference gateway on loopback): every packet reaches the data center once,
//! as the counter's, and every receipt comes back.
//!
//! The first campaign runs again with the hub's data in PostgreSQL.
//!
//! Short form in the test command: `REKAM_HUB_KILLS` kills (default 12; the PostgreSQL and
//! relay campaigns half as many); the full form is `scripts/crash-campaign N hub` (200 and
//! more).
//! `REKAM_CRASH_SEED` replays a run.

#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use rekam_bio::finger::record_of;
use rekam_bio::index::codes_to_bytes;
use rekam_bio::person::{PersonTemplate, codes, irises_to_bytes};
use rekam_bio::testing::random_finger;
use rekam_packet::StationKey;
use rekam_packet::envelope::PacketId;
use rekam_packet::hub::{AfisAnswer, AfisProbe, HubEnrollment, HubIdentity, Templates};
use rekam_packet::protocol::Registration;
use rekam_sim::campaign::{Rng, env_u64, listening, seed};
use rekam_sync::hub::HubClient;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const COUNTERS: [&str; 3] = ["KEC-A-01", "KEC-B-01", "KEC-C-01"];

fn person(i: u64) -> PersonTemplate {
    PersonTemplate::from_fingers((1..=10).map(|p| random_finger(i * 10 + u64::from(p), 40, p)))
}

fn templates(p: &PersonTemplate) -> Templates {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let fingers: Vec<_> = p.fingers.iter().flatten().cloned().collect();
    Templates {
        codes: b64(&codes_to_bytes(&codes(p))),
        minutiae: b64(&record_of(&fingers).unwrap()),
        irises: b64(&irises_to_bytes(&p.irises)),
    }
}

/// An enrollment of person `who` under `packet_id`, with the claim of its check if any.
fn enrollment(packet_id: &str, who: u64, claim: Option<String>) -> HubEnrollment {
    HubEnrollment {
        claim,
        packet_id: packet_id.to_owned(),
        masked_nik: "327301********01".into(),
        recorded_at: "2026-12-07T08:00:00Z".into(),
        checked_at_hub: None,
        templates: templates(&person(who)),
    }
}

/// `rekam-hub <args>`, on the PostgreSQL `database` when given.
fn hub_command(database: Option<&str>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rekam-hub"));
    if let Some(url) = database {
        c.args(["--database", url]);
    }
    // The conflicts the campaign makes on purpose are warnings: errors only.
    c.args(args).env("REKAM_LOG", "error");
    c
}

/// Requests the kills cut (the hub gone mid-request or between requests).
static CUT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn data(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

/// What one counter did, as it knows it.
#[derive(Default)]
struct Ledger {
    /// Packet id -> the person and the hub's record number once answered.
    enrolled: BTreeMap<String, (u64, Option<i64>)>,
    /// Packet id -> the claim of its check (sent again with every resend, as a counter's
    /// store keeps it).
    claims: BTreeMap<String, String>,
    /// People the hub told this counter were clear (a claim).
    cleared: BTreeSet<u64>,
    /// People refused as recorded or being recorded elsewhere.
    refused: BTreeSet<u64>,
    /// Packet id -> why its last send failed (shown if it is never answered).
    failed: BTreeMap<String, String>,
}

/// Sends `who`'s enrollment `packet_id` (with its check's claim if any) and notes the answer
/// or why it failed.
fn send(client: &HubClient, ledger: &Mutex<Ledger>, packet_id: &str, who: u64) -> bool {
    let claim = ledger.lock().unwrap().claims.get(packet_id).cloned();
    match client.enroll(&enrollment(packet_id, who, claim)) {
        Ok(answer) => {
            let mut l = ledger.lock().unwrap();
            l.enrolled
                .insert(packet_id.to_owned(), (who, Some(answer.record)));
            true
        }
        Err(e) => {
            let mut l = ledger.lock().unwrap();
            l.failed.insert(packet_id.to_owned(), e.to_string());
            drop(l);
            CUT.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(20));
            false
        }
    }
}

/// Sends again every enrollment without an answer (what a sync pass does); whether all now
/// have one.
fn resend_pending(client: &HubClient, ledger: &Mutex<Ledger>) -> bool {
    let pending: Vec<(String, u64)> = ledger
        .lock()
        .unwrap()
        .enrolled
        .iter()
        .filter(|(_, (_, r))| r.is_none())
        .map(|(id, (p, _))| (id.clone(), *p))
        .collect();
    let mut all = true;
    for (packet_id, who) in pending {
        all &= send(client, ledger, &packet_id, who);
    }
    all
}

/// One counter's work: people from the shared pool, checked then enrolled, or enrolled
/// unchecked (out of reach) one time in five; every enrollment sent again until answered.
/// Once told to stop (the hub is up then), it sends what is unanswered until all is, or a
/// minute has passed.
fn work(
    client: &HubClient,
    station: &str,
    (pool, people): (&Mutex<Rng>, u64),
    ledger: &Mutex<Ledger>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        resend_pending(client, ledger);
        let (who, unchecked) = {
            let mut r = pool.lock().unwrap();
            (r.below(people), r.below(5) == 0)
        };
        {
            let l = ledger.lock().unwrap();
            if l.enrolled.values().any(|(p, _)| *p == who) || l.refused.contains(&who) {
                drop(l);
                std::thread::sleep(Duration::from_millis(5));
                continue; // a counter records a person once
            }
        }
        let p = person(who);
        let claim = if unchecked {
            None
        } else {
            let probe = AfisProbe {
                queue_number: format!("A-{who:03}"),
                masked_nik: "327301********01".into(),
                templates: templates(&p),
            };
            match client.check(&probe) {
                Ok(AfisAnswer::Clear { claim, .. }) => {
                    ledger.lock().unwrap().cleared.insert(who);
                    Some(claim)
                }
                Ok(AfisAnswer::Duplicate(_)) => {
                    ledger.lock().unwrap().refused.insert(who);
                    continue;
                }
                Err(_) => {
                    // The hub is down: try someone else later.
                    CUT.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            }
        };
        let packet_id = PacketId::for_station(station).unwrap().to_string();
        {
            let mut l = ledger.lock().unwrap();
            l.enrolled.insert(packet_id.clone(), (who, None));
            if let Some(claim) = claim {
                l.claims.insert(packet_id.clone(), claim);
            }
        }
        send(client, ledger, &packet_id, who);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !resend_pending(client, ledger) && std::time::Instant::now() < deadline {}
}

struct Campaign {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    listen: String,
    identity: HubIdentity,
    /// The PostgreSQL database the hub keeps its data in; the embedded file when `None`.
    database: Option<String>,
}

impl Campaign {
    /// A hub set up in a new directory (on `database` when given), its three counters
    /// registered; the hub stopped. The counters' keys.
    fn set_up(database: Option<String>) -> (Campaign, Vec<(String, StationKey)>) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("hub");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = hub_command(
            database.as_deref(),
            &["init", "--data", data(&dir), "--kecamatan", "327301"],
        )
        .output()
        .unwrap();
        assert!(out.status.success());
        let identity =
            serde_json::from_slice(&std::fs::read(dir.join("hub-identity.json")).unwrap()).unwrap();
        let c = Campaign {
            _tmp: tmp,
            listen: format!("127.0.0.1:{port}"),
            identity,
            dir,
            database,
        };
        let mut hub = c.serve();
        let keys = COUNTERS
            .iter()
            .map(|id| {
                let out = c
                    .command(&["token", "--data", data(&c.dir), "--station", id])
                    .output()
                    .unwrap();
                let token = String::from_utf8(out.stdout).unwrap();
                let key = StationKey::generate().unwrap();
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let reg = Registration::new(&key, id, "327301", token.trim(), now);
                rekam_sync::hub::register(&c.url(), &c.identity, &reg).unwrap();
                ((*id).to_owned(), key)
            })
            .collect();
        hub.kill().unwrap();
        hub.wait().unwrap();
        (c, keys)
    }

    fn url(&self) -> String {
        format!("https://{}", self.listen)
    }

    /// `rekam-hub <args>` on the campaign's database.
    fn command(&self, args: &[&str]) -> Command {
        hub_command(self.database.as_deref(), args)
    }

    /// Starts `rekam-hub serve`; returns it once it listens.
    fn serve(&self) -> Child {
        listening(
            &mut self.command(&["serve", "--data", data(&self.dir), "--listen", &self.listen]),
            "https",
        )
        .unwrap()
    }
}

#[test]
fn every_enrollment_survives_kill_9_of_the_hub_once_and_no_person_is_cleared_twice() {
    let kills = env_u64("REKAM_HUB_KILLS").unwrap_or(12);
    enrollment_campaign("hub kill campaign", kills, None);
}

/// The same campaign with the hub's data in PostgreSQL (a real server on a private port): a
/// kill leaves a transaction open at the server, which PostgreSQL rolls back when it sees the
/// connection gone, and the restarted hub waits for its predecessor's lock.
#[test]
fn on_postgres_every_enrollment_survives_kill_9_of_the_hub_once() {
    let kills = env_u64("REKAM_HUB_KILLS").unwrap_or(12).div_ceil(2);
    let pg = rekam_sim::pg::TestPostgres::start()
        .expect("a PostgreSQL server (scripts/setup-system installs it)");
    let url = pg.database("hub").unwrap();
    enrollment_campaign("hub kill campaign on PostgreSQL", kills, Some(url));
}

/// Three counters check and enrol through a hub killed `kills` times (its data on `database`
/// when given); `name` starts the line of figures.
fn enrollment_campaign(name: &str, kills: u64, database: Option<String>) {
    let seed = seed();
    println!("{name}: {kills} kills, REKAM_CRASH_SEED={seed}");
    let (c, keys) = Campaign::set_up(database);
    let clients: Vec<(String, HubClient)> = keys
        .into_iter()
        .map(|(id, key)| {
            let client = HubClient::new(&c.url(), &c.identity, &id, key).unwrap();
            (id, client)
        })
        .collect();
    let ledgers: Vec<Mutex<Ledger>> = clients.iter().map(|_| Mutex::default()).collect();
    let pool = Mutex::new(Rng(seed));
    let people = 20 + kills * 3;
    let mut timing = Rng(seed.rotate_left(17) | 1);
    let stop = AtomicBool::new(false);
    let answered_before: Arc<Mutex<BTreeMap<String, i64>>> = Arc::default();
    std::thread::scope(|s| {
        let counters: Vec<_> = clients
            .iter()
            .zip(&ledgers)
            .map(|((station, client), ledger)| {
                let (pool, stop) = (&pool, &stop);
                s.spawn(move || work(client, station, (pool, people), ledger, stop))
            })
            .collect();
        for k in 0..kills {
            let mut hub = c.serve();
            // After a restart, every answer given before any kill still holds.
            if k > 0 {
                let before = answered_before.lock().unwrap().clone();
                let (id, client) = &clients[(k as usize) % clients.len()];
                let ledger = &ledgers[(k as usize) % clients.len()];
                for (packet_id, record) in &before {
                    let Some((who, _)) = ledger.lock().unwrap().enrolled.get(packet_id).copied()
                    else {
                        continue;
                    };
                    let claim = ledger.lock().unwrap().claims.get(packet_id).cloned();
                    let e = enrollment(packet_id, who, claim);
                    if let Ok(answer) = client.enroll(&e) {
                        assert_eq!(
                            answer.record, *record,
                            "{id}'s {packet_id} renumbered after a kill"
                        );
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100 + timing.below(700)));
            hub.kill().unwrap();
            hub.wait().unwrap();
            let mut before = answered_before.lock().unwrap();
            for ((id, _), ledger) in clients.iter().zip(&ledgers) {
                for (packet_id, (_, record)) in &ledger.lock().unwrap().enrolled {
                    if let Some(r) = record {
                        let known = *before.entry(packet_id.clone()).or_insert(*r);
                        assert_eq!(known, *r, "{id}'s {packet_id} answered with two numbers");
                    }
                }
            }
        }
        // The last restart: the counters work a moment longer, then send what is still
        // unanswered and stop; the hub is stopped only when they have.
        let mut hub = c.serve();
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Relaxed);
        for counter in counters {
            counter.join().unwrap();
        }
        hub.kill().unwrap();
        hub.wait().unwrap();
    });

    // The hub as the kills left it: each packet once, each answer kept.
    let out = c
        .command(&["stations", "--data", data(&c.dir), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "the hub opens after the kills");
    let stations: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut total = 0;
    for ((id, _), ledger) in clients.iter().zip(&ledgers) {
        let l = ledger.lock().unwrap();
        let unanswered: Vec<_> = l
            .enrolled
            .iter()
            .filter(|(_, (_, r))| r.is_none())
            .map(|(packet_id, _)| (packet_id, l.failed.get(packet_id)))
            .collect();
        assert!(
            unanswered.is_empty(),
            "{id} has enrollments never answered (the last failure of each): {unanswered:?}"
        );
        let at_hub = stations
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["station_id"] == id.as_str())
            .map_or(0, |s| s["enrolled"].as_i64().unwrap());
        assert_eq!(
            at_hub,
            l.enrolled.len() as i64,
            "{id}: enrolled at the hub vs sealed"
        );
        total += l.enrolled.len();
    }
    // No person was cleared for two counters; a person enrolled at several counters is a
    // conflict for each but the first, found once.
    let mut cleared: BTreeMap<u64, usize> = BTreeMap::new();
    let mut enrolled_at: BTreeMap<u64, usize> = BTreeMap::new();
    for l in &ledgers {
        let l = l.lock().unwrap();
        for who in &l.cleared {
            *cleared.entry(*who).or_default() += 1;
        }
        for (who, _) in l.enrolled.values() {
            *enrolled_at.entry(*who).or_default() += 1;
        }
    }
    let mut hub = c.serve();
    let mut conflicts = BTreeSet::new();
    for (_, client) in &clients {
        for conflict in client.conflicts(0).unwrap() {
            conflicts.insert(conflict.packet_id.clone());
        }
    }
    hub.kill().unwrap();
    hub.wait().unwrap();
    let expected: usize = enrolled_at.values().map(|n| n - 1).sum();
    assert_eq!(
        conflicts.len(),
        expected,
        "conflicts found vs people enrolled twice"
    );
    let twice: Vec<_> = cleared.iter().filter(|(_, n)| **n > 1).collect();
    // A claim lapses only after 30 minutes, and a killed check answered nothing: a person can
    // be cleared for a second counter only if the first counter's claim was never written.
    assert!(
        twice.is_empty(),
        "people cleared for two counters: {twice:?}"
    );
    println!(
        "{name}: {kills} kills, {} requests cut, {total} recordings enrolled, {} conflicts, nothing lost or twice",
        CUT.load(Ordering::Relaxed),
        conflicts.len()
    );
}

#[test]
fn packets_relayed_through_kill_9_of_the_hub_reach_the_data_center_once() {
    use rekam_gateway::{Config, Gateway, StationRole};
    let kills = env_u64("REKAM_HUB_KILLS").unwrap_or(12).div_ceil(2);
    let seed = env_u64("REKAM_CRASH_SEED").unwrap_or(0x5eed) | 1;
    let mut timing = Rng(seed);
    let (c, keys) = Campaign::set_up(None);
    let (station, key) = &keys[0];
    // The data center, publishing no results during the campaign (not what is tested).
    let dc_tmp = tempfile::tempdir().unwrap();
    let dc_dir = dc_tmp.path().join("dc");
    let dc = rekam_gateway::init(&dc_dir, "DC-TEST").unwrap();
    let gw = Gateway::open(
        Config {
            results_delay: Duration::from_secs(3600),
            ..Config::new(&dc_dir)
        },
        Arc::new(rekam_domain::clock::SystemClock),
    )
    .unwrap();
    let running = gw.clone().spawn("127.0.0.1:0").unwrap();
    let dc_url = format!("http://{}", running.addr);
    let token = gw.issue_token(station).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    rekam_sync::register(
        &dc_url,
        None,
        &Registration::new(key, station, "327301", &token, now),
    )
    .unwrap();
    let hub_token = gw.issue_token_for("HUB-327301", StationRole::Hub).unwrap();
    std::fs::write(
        c.dir.join("dc-identity.json"),
        serde_json::to_vec(&dc).unwrap(),
    )
    .unwrap();
    let out = c
        .command(&[
            "join-dc",
            "--data",
            data(&c.dir),
            "--url",
            &dc_url,
            "--dc-identity",
            data(&c.dir.join("dc-identity.json")),
            "--token",
            &hub_token,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let batch = rekam_sim::packets::sealed(station, key, &dc, 24).unwrap();
    let ids: Vec<String> = batch
        .iter()
        .map(|p| rekam_sim::packets::id_of(p).unwrap())
        .collect();
    let client = HubClient::new(
        &c.url(),
        &c.identity,
        station,
        StationKey::from_hex(&key.to_hex()).unwrap(),
    )
    .unwrap();
    // The counter leaves them all, then the hub is killed again and again while it forwards.
    let mut hub = c.serve();
    for (id, p) in ids.iter().zip(&batch) {
        client.hold(id, p).unwrap();
    }
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(100 + timing.below(500)));
        hub.kill().unwrap();
        hub.wait().unwrap();
        hub = c.serve();
    }
    let mut waiting: Vec<&String> = ids.iter().collect();
    for _ in 0..600 {
        waiting.retain(|id| {
            client
                .relay_state(id)
                .map(|s| s.receipt.is_none())
                .unwrap_or(true)
        });
        if waiting.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(waiting.is_empty(), "receipts never came for {waiting:?}");
    for (id, p) in ids.iter().zip(&batch) {
        let receipt = client.relay_state(id).unwrap().receipt.unwrap();
        let hash = rekam_packet::SealedPacket::parse(p).unwrap().content_hash();
        receipt.verify(&dc, id, &hash).unwrap();
    }
    hub.kill().unwrap();
    hub.wait().unwrap();
    let stations = gw.stations(3600).unwrap();
    let mine = stations.iter().find(|s| &s.station_id == station).unwrap();
    assert_eq!(
        mine.packets_received,
        ids.len() as i64,
        "each packet once, as the counter's"
    );
    println!(
        "hub relay kill campaign: {kills} kills while forwarding, {} packets at the data center once each",
        ids.len()
    );
}
