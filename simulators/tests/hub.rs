//! The kecamatan server with three counters on loopback, over TLS pinned to the hub's
//! certificate, every counter on its own simulated devices: a resident recorded at one counter
//! is refused at once at another, naming the first; two counters presenting one resident in the
//! same second get one seal and one refusal; a counter cut from the hub records on with its
//! own check, and the hub's later check of its recordings finds the duplicate and tells both
//! supervisors.

#![allow(clippy::unwrap_used)]

use rekam::clock::SystemClock;
use rekam::hub::Checked;
use rekam::workflow::counter::Action;
use rekam_hub::{Config, Hub};
use rekam_packet::DcKeys;
use rekam_packet::StationKey;
use rekam_packet::protocol::Registration;
use rekam_sim::counter::Counter;
use rekam_sim::link::{Fault, Proxy};
use std::sync::{Arc, Barrier};

const RESIDENTS: u64 = 12;

struct Kecamatan {
    hub: Hub,
    running: rekam_hub::Running,
    dir: tempfile::TempDir,
}

impl Kecamatan {
    fn start() -> Kecamatan {
        let dir = tempfile::tempdir().unwrap();
        let hub_dir = dir.path().join("hub");
        rekam_hub::init(&hub_dir, "HUB-327301", "327301", &["127.0.0.1".into()]).unwrap();
        let hub = Hub::open(Config::new(&hub_dir), Arc::new(SystemClock)).unwrap();
        let running = hub.clone().spawn("127.0.0.1:0").unwrap();
        Kecamatan { hub, running, dir }
    }

    fn url(&self) -> String {
        format!("https://{}", self.running.addr)
    }

    /// A counter registered with the hub at `url` (the hub's own address, or a proxy's).
    fn counter(&self, id: &str, url: &str) -> Counter {
        let mut c = Counter::open(self.dir.path(), id, RESIDENTS).unwrap();
        // Sealed to a data center this test does not run: the hub never opens a packet.
        let dc = DcKeys::from_seeds(&[1; 32], &[2; 32]).identity("DC-TEST", None);
        c.station.pin_data_center(&dc, &dc, "test").unwrap();
        let token = self.hub.issue_token(id).unwrap();
        c.join_hub(url, self.hub.identity(), &token).unwrap();
        c
    }
}

#[test]
fn one_afis_for_the_kecamatan_across_three_counters() {
    let k = Kecamatan::start();
    let mut a = k.counter("KEC-A-01", &k.url());
    let mut b = k.counter("KEC-B-01", &k.url());
    let link = Proxy::start(k.running.addr).unwrap();
    let mut c = k.counter("KEC-C-01", &link.https_url());

    // Recorded at A, then presented at B: refused at B's de-duplication, naming A's recording.
    let first = a.record(0).unwrap();
    assert_eq!(
        a.station.store().hub_pending_count().unwrap(),
        0,
        "enrolled at the hub at once"
    );
    // One queue for the kecamatan: B's next number follows A's.
    assert_eq!(first.queue_number, "A-001");
    let mut w = b.begin(0).unwrap();
    assert_eq!(w.queue_number(), "A-002");
    b.capture(&mut w, 0).unwrap();
    b.verify(&mut w).unwrap();
    let e = b.step(&mut w, Action::Dedup).unwrap_err();
    assert_eq!(e.code(), "KECAMATAN_DUPLICATE", "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains("KEC-A-01") && shown.contains(&first.packet_id),
        "{shown}"
    );
    assert!(shown.contains(first.masked_nik.as_str()), "{shown}");
    assert!(
        !shown.contains(a.population.nik(0).unwrap()),
        "never the whole NIK: {shown}"
    );
    let bahasa = rekam::i18n::Localized::localized(&e, rekam::i18n::Lang::Id);
    assert!(bahasa.contains("loket KEC-A-01"), "{bahasa}");

    // The same resident at B and C in the same second: one seal, one refusal naming the other
    // counter's queue number, never two seals.
    let barrier = Barrier::new(2);
    let race = |counter: &mut Counter| -> rekam::Result<Option<String>> {
        let mut w = counter.begin(1).unwrap();
        counter.capture(&mut w, 1).unwrap();
        counter.verify(&mut w).unwrap();
        barrier.wait();
        counter.step(&mut w, Action::Dedup)?;
        counter.attest(&mut w).unwrap();
        let sealed = w.seal(&mut counter.station, &mut counter.dedup)?;
        Ok(Some(sealed.packet_id))
    };
    let (rb, rc) = std::thread::scope(|s| {
        let tb = s.spawn(|| race(&mut b));
        let tc = s.spawn(|| race(&mut c));
        (tb.join().unwrap(), tc.join().unwrap())
    });
    let (sealed, refused) = match (rb, rc) {
        (Ok(Some(p)), Err(e)) => ((p, "KEC-B-01"), (e, "KEC-C-01")),
        (Err(e), Ok(Some(p))) => ((p, "KEC-C-01"), (e, "KEC-B-01")),
        other => panic!("one seal and one refusal expected, got {other:?}"),
    };
    assert_eq!(
        refused.0.code(),
        "KECAMATAN_DUPLICATE_IN_PROGRESS",
        "{}",
        refused.0
    );
    assert!(
        refused.0.to_string().contains(sealed.1),
        "{} names {}",
        refused.0,
        sealed.1
    );
    assert!(
        refused.0.to_string().contains("queue number A-"),
        "{}",
        refused.0
    );

    // C's cable is cut: it records resident 4 on its own check, and says so.
    link.set(Fault::Down);
    let mut w = c.begin(4).unwrap();
    // Out of reach, C falls back on its own numbers, under its own prefix.
    assert_eq!(w.queue_number(), "L01-001");
    c.capture(&mut w, 4).unwrap();
    c.confirm(&mut w).unwrap();
    assert!(
        matches!(w.kecamatan(), Some(Checked::StationOnly { .. })),
        "{:?}",
        w.kecamatan()
    );
    // The wizard says so, in the operator's language.
    let shown = rekam::desk::WizardView::of(&w, &c.station, rekam::i18n::Lang::Id)
        .kecamatan
        .unwrap();
    assert!(
        !shown.kecamatan && shown.label.contains("stasiun ini saja"),
        "{}",
        shown.label
    );
    let offline = w.seal(&mut c.station, &mut c.dedup).unwrap();
    assert_eq!(c.station.store().hub_pending_count().unwrap(), 1);
    // Meanwhile B, which the hub cannot warn, records the same resident.
    let online = b.record(4).unwrap();
    assert_eq!(online.queue_number, "A-005");

    // The cable back: C's pass sends its recording, and the hub finds the duplicate for both
    // supervisors.
    link.set(Fault::Pass);
    let hub_c = c.dedup.hub().unwrap();
    let pass = hub_c.pass(&mut c.station).unwrap();
    assert_eq!(
        (pass.enrolled, pass.conflicts, pass.pending, pass.error),
        (1, 1, 0, None)
    );
    let found = rekam::hub::conflicts(&c.station).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].packet_id, offline.packet_id);
    assert_eq!(found[0].earlier.station_id, "KEC-B-01");
    assert_eq!(
        found[0].earlier.packet_id.as_deref(),
        Some(online.packet_id.as_str())
    );
    let pass = b.dedup.hub().unwrap().pass(&mut b.station).unwrap();
    assert_eq!((pass.conflicts, pass.error), (1, None));
    assert_eq!(rekam::hub::conflicts(&b.station).unwrap(), found);
    let shown = rekam::hub::ConflictView::of(&found[0], rekam::i18n::Lang::Id);
    assert!(
        shown.text.contains(&offline.packet_id) && shown.text.contains("loket KEC-B-01"),
        "{}",
        shown.text
    );
    // A second pass sends nothing again and finds nothing new.
    let again = hub_c.pass(&mut c.station).unwrap();
    assert_eq!((again.enrolled, again.conflicts), (0, 0));

    // Every sealed recording is in the kecamatan's gallery exactly once.
    let stations = k.hub.store().stations().unwrap();
    let enrolled: Vec<(String, i64)> = stations
        .iter()
        .map(|s| (s.station_id.clone(), s.enrolled))
        .collect();
    let (b_seals, c_seals) = if sealed.1 == "KEC-B-01" {
        (2, 1)
    } else {
        (1, 2)
    };
    assert_eq!(
        enrolled,
        vec![
            ("KEC-A-01".to_owned(), 1),
            ("KEC-B-01".to_owned(), b_seals),
            ("KEC-C-01".to_owned(), c_seals)
        ]
    );

    // The kecamatan's day: every counter's visits pooled against the SOP's standards (each
    // counter's pass told the hub its day), and the four recordings not at the data center.
    let pass = a.dedup.hub().unwrap().pass(&mut a.station).unwrap();
    assert_eq!(pass.error, None);
    let today = a.station.store().clock().today().to_string();
    let day = k.hub.kecamatan_day(&today).unwrap();
    assert_eq!(
        day.counters.keys().collect::<Vec<_>>(),
        ["KEC-A-01", "KEC-B-01", "KEC-C-01"]
    );
    assert!(day.silent.is_empty(), "{:?}", day.silent);
    assert_eq!(day.counters["KEC-A-01"], 1, "{day:?}");
    assert!(
        day.refusals
            .get("KECAMATAN_DUPLICATE")
            .copied()
            .unwrap_or(0)
            >= 1,
        "{:?}",
        day.refusals
    );
    let recording = day.steps.iter().find(|s| s.step == "recording").unwrap();
    assert_eq!(recording.standard_seconds, Some(600.0));
    assert_eq!(
        recording.visits,
        day.counters.values().sum::<usize>(),
        "every visit went through recording"
    );
    let sealed_today = day.visits["recording"]["sealed"];
    assert_eq!(sealed_today, 4, "{day:?}");
    assert_eq!((day.backlog, day.stuck), (sealed_today, 0), "{day:?}");
    assert_eq!(
        k.hub.kecamatan_day("7 December").unwrap_err().code(),
        "BAD_DAY"
    );
}

/// A mobile team's laptop away from the hub for days checks against its copy of the
/// kecamatan's gallery: someone recorded before it left is refused from the copy, saying its
/// date; someone recorded at another counter meanwhile is sealed on the copy's check, and the hub
/// finds the duplicate when the laptop is back.
#[test]
fn a_mobile_laptop_away_checks_against_its_copy_and_reconciles_when_back() {
    let k = Kecamatan::start();
    let mut a = k.counter("KEC-A-01", &k.url());
    let link = Proxy::start(k.running.addr).unwrap();
    let mut m = k.counter("KEC-M-01", &link.https_url());
    let before = a.record(6).unwrap();
    let pass = m.dedup.hub().unwrap().pass(&mut m.station).unwrap();
    assert_eq!(
        (pass.copied, pass.error),
        (1, None),
        "the copy holds A's recording"
    );

    // Away: no hub. Resident 6 is refused from the copy, which says how old it is.
    link.set(Fault::Down);
    let mut w = m.begin(6).unwrap();
    m.capture(&mut w, 6).unwrap();
    m.verify(&mut w).unwrap();
    let e = m.step(&mut w, Action::Dedup).unwrap_err();
    assert_eq!(e.code(), "KECAMATAN_DUPLICATE", "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains("copy of the kecamatan's gallery (as of")
            && shown.contains(&before.packet_id),
        "{shown}"
    );

    // Resident 8, recorded at A meanwhile, is sealed on the copy's check, marked as such.
    let meanwhile = a.record(8).unwrap();
    let mut w = m.begin(8).unwrap();
    m.capture(&mut w, 8).unwrap();
    m.confirm(&mut w).unwrap();
    match w.kecamatan() {
        Some(Checked::KecamatanCopy { gallery, .. }) => assert_eq!(*gallery, 1),
        other => panic!("{other:?}"),
    }
    let shown = rekam::desk::WizardView::of(&w, &m.station, rekam::i18n::Lang::En)
        .kecamatan
        .unwrap();
    assert!(
        shown
            .label
            .contains("copy of the kecamatan's gallery as of"),
        "{}",
        shown.label
    );
    let away = w.seal(&mut m.station, &mut m.dedup).unwrap();
    let pass = m.dedup.hub().unwrap().pass(&mut m.station).unwrap();
    assert!(pass.error.is_some(), "still away");
    assert_eq!(pass.pending, 1);

    // Back: the recording reaches the hub, which finds A's; the copy catches up.
    link.set(Fault::Pass);
    let pass = m.dedup.hub().unwrap().pass(&mut m.station).unwrap();
    assert_eq!(
        (
            pass.enrolled,
            pass.conflicts,
            pass.copied,
            pass.pending,
            pass.error
        ),
        (1, 1, 1, 0, None)
    );
    let found = rekam::hub::conflicts(&m.station).unwrap();
    assert_eq!(found[0].packet_id, away.packet_id);
    assert_eq!(
        found[0].earlier.packet_id.as_deref(),
        Some(meanwhile.packet_id.as_str())
    );
}

/// Store-and-forward: a counter whose link to the data center is down leaves its sealed
/// packets with the kecamatan server, which forwards them on the resumable protocol; the data
/// center's receipts come back through the hub and are verified at the counter as its own. The
/// hub restarting between holding and forwarding loses nothing, and the counter's own upload
/// once its link is back sends nothing twice: N recordings are N packets at the data center.
/// A reissue request travels the same way, its answer back through the hub.
#[test]
fn packets_left_with_the_hub_reach_the_data_center_once() {
    use rekam::store::SyncState;
    use rekam::sync::{SyncConfig, sync_once};
    let k = Kecamatan::start();
    // The data center, on loopback; the counter reaches it only through a link that is down.
    let dc_dir = k.dir.path().join("dc");
    rekam_gateway::init(&dc_dir, "DC-TEST").unwrap();
    let gw = rekam_gateway::Gateway::open(
        rekam_gateway::Config {
            results_delay: std::time::Duration::ZERO,
            ..rekam_gateway::Config::new(&dc_dir)
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let dc = gw.clone().spawn("127.0.0.1:0").unwrap();
    let dc_url = format!("http://{}", dc.addr);
    let dc_link = Proxy::start(dc.addr).unwrap();
    let mut c = Counter::open(k.dir.path(), "KEC-R-01", RESIDENTS).unwrap();
    let token = gw.issue_token(&c.station.identity().station_id).unwrap();
    let answered = rekam_sync::register(
        &dc_link.url(),
        None,
        &c.station.registration(&token).unwrap(),
    )
    .unwrap();
    c.station
        .pin_data_center(gw.identity(), &answered, "test")
        .unwrap();
    let token = k.hub.issue_token("KEC-R-01").unwrap();
    c.join_hub(&k.url(), k.hub.identity(), &token).unwrap();
    dc_link.set(Fault::Down);
    let sealed: Vec<String> = [0, 1, 4]
        .iter()
        .map(|&i| c.record(i).unwrap().packet_id)
        .collect();
    let sync = SyncConfig {
        backoff_base: std::time::Duration::ZERO,
        ..SyncConfig::new(dc_link.url())
    };

    // The data center out of reach: the pass leaves the packets with the hub, which has not
    // joined the data center yet and holds them.
    let report = sync_once(&mut c.station, &sync).unwrap();
    assert!(!report.link_up);
    let hub_pass = report.hub.clone().unwrap();
    assert_eq!(
        (hub_pass.relayed, hub_pass.relay_receipts),
        (3, 0),
        "{report:?}"
    );
    assert_eq!(
        gw.stations(3600)
            .unwrap()
            .iter()
            .map(|s| s.packets_received)
            .sum::<i64>(),
        0
    );

    // The hub restarts (its data as the stop left it), joins the data center and forwards.
    let addr = k.running.addr;
    let Kecamatan { hub, running, dir } = k;
    running.stop();
    drop(hub);
    let hub = Hub::open(
        Config {
            snoop_every: std::time::Duration::from_millis(200),
            ..Config::new(dir.path().join("hub"))
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let hub_token = gw
        .issue_token_for("HUB-327301", rekam_gateway::StationRole::Hub)
        .unwrap();
    hub.join_data_center(&dc_url, gw.identity(), &hub_token)
        .unwrap();
    let _running = hub.clone().spawn(&addr.to_string()).unwrap();
    // The receipts come back through the hub, and then the data center's results, which the
    // hub reads for its counters: the counter follows each recording to its result without
    // ever reaching the data center itself.
    let (mut receipts, mut results) = (0, 0);
    for _ in 0..150 {
        let report = sync_once(&mut c.station, &sync).unwrap();
        assert!(!report.link_up);
        let h = report.hub.unwrap();
        receipts += h.relay_receipts;
        results += h.results;
        assert_eq!(
            report.results, h.results,
            "every result came through the hub"
        );
        // Two events a packet: sent for enrollment at its commit, print-ready once decided.
        if receipts == 3 && results == 6 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        (receipts, results),
        (3, 6),
        "every packet's receipt and result came back through the hub"
    );
    let journal = c.station.store().journal_after(0, 100).unwrap();
    for packet in &sealed {
        let seq = journal
            .iter()
            .find(|e| &e.enrollment_id == packet)
            .unwrap()
            .seq;
        let states: Vec<SyncState> = c
            .station
            .store()
            .sync_events(seq)
            .unwrap()
            .into_iter()
            .map(|e| e.state)
            .collect();
        assert!(
            states.contains(&SyncState::SentForEnrollment),
            "{packet}: {states:?}"
        );
        assert_eq!(
            states.last(),
            Some(&SyncState::PrintReadyRecord),
            "{packet}"
        );
    }

    // A reissue request (the first resident lost the card) goes the same way: left with the
    // hub sealed to the data center and signed by the counter, carried, and its answer
    // brought back and verified at the counter as the data center's own.
    let nik = c.population.nik(0).unwrap().to_owned();
    let lost = rekam::workflow::reissue::request(
        &mut c.station,
        &c.session,
        &c.population,
        &rekam::workflow::reissue::ReissueRequest {
            case: rekam::domain::case::CaseType::LostCard,
            nik: &nik,
            presented: &[
                rekam::domain::case::Document::FamilyCardCopy,
                rekam::domain::case::Document::RtRwCoverLetter,
                rekam::domain::case::Document::PoliceLossReport,
            ],
            applicable: &[],
            new_address: None,
        },
    )
    .unwrap();
    let mut queued = 0;
    for _ in 0..50 {
        let report = sync_once(&mut c.station, &sync).unwrap();
        assert!(!report.link_up);
        queued += report.reissues.queued;
        if report.reissues.waiting == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(queued, 1, "answered through the hub");
    let row = c
        .station
        .store()
        .reissue_requests(false)
        .unwrap()
        .into_iter()
        .find(|r| r.request_id == lost.request_id)
        .unwrap();
    let answer: rekam_packet::reissue::ReissueAnswer =
        serde_json::from_str(&row.answer.unwrap()).unwrap();
    let decision = answer
        .verify(gw.identity(), "KEC-R-01", &lost.request_id)
        .unwrap();
    assert_eq!(decision.packet_id.as_deref(), Some(sealed[0].as_str()));
    let held = hub
        .reissue_relay_state("KEC-R-01", &lost.request_id)
        .unwrap();
    assert_eq!(
        held.answer.as_ref(),
        Some(&answer),
        "kept at the hub as carried"
    );

    // The counter's own link back: nothing is sent twice, no result applied twice, and the
    // data center holds each packet once, as the counter's.
    dc_link.set(Fault::Pass);
    let report = sync_once(&mut c.station, &sync).unwrap();
    assert!(report.link_up, "{report:?}");
    assert_eq!((report.sent, report.results), (0, 0), "{report:?}");
    assert_eq!(report.reissues, Default::default(), "answered once");
    let stations = gw.stations(3600).unwrap();
    let mine = stations
        .iter()
        .find(|s| s.station_id == "KEC-R-01")
        .unwrap();
    assert_eq!(mine.packets_received, 3);
    let hub_row = stations
        .iter()
        .find(|s| s.station_id == "HUB-327301")
        .unwrap();
    assert_eq!(
        hub_row.packets_received, 0,
        "recorded as the counter's, never the hub's"
    );
}

/// Snoop: the hub tells the data center every record of its kecamatan not yet final, with
/// why, and how long each counter has been silent; here a counter whose uploads the data center
/// refuses, and a counter never heard from. Nothing in it names a resident.
#[test]
fn the_data_center_sees_a_kecamatans_stuck_records_through_its_hub() {
    use rekam::sync::{SyncConfig, sync_once};
    let dir = tempfile::tempdir().unwrap();
    let dc_dir = dir.path().join("dc");
    rekam_gateway::init(&dc_dir, "DC-TEST").unwrap();
    // Packets over 1 KiB are refused: this counter's uploads fail for good.
    let gw = rekam_gateway::Gateway::open(
        rekam_gateway::Config {
            max_packet: 1024,
            ..rekam_gateway::Config::new(&dc_dir)
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let dc = gw.clone().spawn("127.0.0.1:0").unwrap();
    let dc_url = format!("http://{}", dc.addr);
    let hub_dir = dir.path().join("hub");
    rekam_hub::init(&hub_dir, "HUB-327301", "327301", &["127.0.0.1".into()]).unwrap();
    let hub = Hub::open(
        Config {
            snoop_every: std::time::Duration::from_millis(200),
            ..Config::new(&hub_dir)
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let token = gw
        .issue_token_for("HUB-327301", rekam_gateway::StationRole::Hub)
        .unwrap();
    hub.join_data_center(&dc_url, gw.identity(), &token)
        .unwrap();
    let running = hub.clone().spawn("127.0.0.1:0").unwrap();
    let hub_url = format!("https://{}", running.addr);

    let mut c = Counter::open(dir.path(), "KEC-S-01", RESIDENTS).unwrap();
    let token = gw.issue_token(&c.station.identity().station_id).unwrap();
    let answered =
        rekam_sync::register(&dc_url, None, &c.station.registration(&token).unwrap()).unwrap();
    c.station
        .pin_data_center(gw.identity(), &answered, "test")
        .unwrap();
    let token = hub.issue_token("KEC-S-01").unwrap();
    c.join_hub(&hub_url, hub.identity(), &token).unwrap();
    hub.issue_token("KEC-Q-01").unwrap();
    let quiet = StationKey::generate().unwrap();
    let token = hub.issue_token("KEC-Q-01").unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    hub.register(&Registration::new(
        &quiet, "KEC-Q-01", "327301", &token, now,
    ))
    .unwrap();

    let sealed = c.record(0).unwrap();
    let sync = SyncConfig {
        backoff_base: std::time::Duration::ZERO,
        ..SyncConfig::new(&dc_url)
    };
    let report = sync_once(&mut c.station, &sync).unwrap();
    assert!(report.link_up && report.failed == 1, "{report:?}");
    // The next pass tells the hub why (a refusal the data center will not change is not
    // retried by itself).
    sync_once(&mut c.station, &sync).unwrap();
    let mut seen = None;
    for _ in 0..50 {
        let reports = gw.snoop(Some("327301"), 3600).unwrap();
        if let Some(r) = reports.first()
            && r.records
                .iter()
                .any(|x| x.code.as_deref() == Some("PACKET_TOO_LARGE"))
        {
            seen = Some(r.clone());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let report = seen.expect("the snoop reached the data center with the stuck record");
    assert_eq!(report.hub_id, "HUB-327301");
    assert!(!report.silent);
    let record = report
        .records
        .iter()
        .find(|r| r.packet_id == sealed.packet_id)
        .unwrap();
    assert_eq!(
        (
            record.station_id.as_str(),
            record.state.as_str(),
            record.stuck
        ),
        ("KEC-S-01", "BIO_CAPTURED", true)
    );
    assert!(!record.next_step.is_empty());
    let stations: Vec<(&str, bool)> = report
        .stations
        .iter()
        .map(|s| (s.station_id.as_str(), s.silent))
        .collect();
    assert_eq!(stations, vec![("KEC-Q-01", true), ("KEC-S-01", false)]);
    let json = serde_json::to_string(&report).unwrap();
    let nik = c.population.nik(0).unwrap();
    assert!(!json.contains(nik) && !json.contains(&nik[6..12]), "{json}");
    // The hub's own list says the same.
    let backlog = hub.backlog().unwrap();
    assert!(
        backlog
            .iter()
            .any(|r| r.code.as_deref() == Some("PACKET_TOO_LARGE"))
    );
    running.stop();
}

/// `rekam demo --counters 3`: a hub and three counters on the embedded default; the first
/// counter's first resident, presented at the second, is refused at once naming the first.
#[test]
fn the_demo_with_three_counters_refuses_a_resident_at_the_second() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rekam-demo"))
        .args([
            "--counters",
            "3",
            "--residents",
            "3",
            "--json",
            "--lang",
            "en",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["stations"].as_array().unwrap().len(), 3);
    assert!(
        v["kecamatan_server"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:")
    );
    let again = &v["presented_again"];
    assert_eq!(again["first_station_id"], "KEC-DEMO-01");
    assert_eq!(again["at_station_id"], "KEC-DEMO-02");
    assert_eq!(again["outcome"]["code"], "KECAMATAN_DUPLICATE", "{again}");
    let message = again["outcome"]["message"].as_str().unwrap();
    assert!(
        message.contains("KEC-DEMO-01")
            && message.contains(again["first_packet_id"].as_str().unwrap()),
        "{message}"
    );
    assert_eq!(v["states"]["PRINT_READY_RECORD"], 2, "{}", v["states"]);
    assert_eq!(v["audit_intact"], true);
}

/// The kecamatan's population data through its server: the Dinas seals an extract to the hub,
/// which refuses what is not the pinned Dinas's, this kecamatan's and next in order; every
/// counter's pass then imports what it lacks, sealed to that counter and verified there, and
/// reads biodata from it with no SIAK at all.
#[test]
fn the_hub_hands_the_dinas_extract_to_every_counter() {
    use rekam::domain::population::{Entry, Source};
    use rekam::workflow::Population as _;
    use rekam_sim::extract::{TEST_DINAS_PUBLIC, base, delta};
    let k = Kecamatan::start();
    let mut a = k.counter("KEC-A-01", &k.url());
    rekam::population::trust(&mut a.station, TEST_DINAS_PUBLIC, "setup").unwrap();
    let region = a.station.identity().kecamatan.dotted();
    let as_of = time::OffsetDateTime::now_utc() - time::Duration::days(2);
    let (hub_key, _) = k.hub.population_recipient().unwrap();
    let mut to_hub = [0u8; 32];
    hex::decode_to_slice(&hub_key, &mut to_hub).unwrap();
    let sealed = |file: &[u8]| rekam_packet::population::seal_extract(&to_hub, file).unwrap();
    let first = base(&a.population, &region, 1, as_of);
    let code = |r: rekam_hub::Result<rekam_hub::population::Imported>| r.unwrap_err().code();

    // What the hub refuses, before and after it pins the Dinas's key.
    assert_eq!(
        code(k.hub.import_population(&sealed(&first))),
        "EXTRACT_NO_SIGNER"
    );
    k.hub.trust_dinas(TEST_DINAS_PUBLIC).unwrap();
    k.hub.trust_dinas(TEST_DINAS_PUBLIC).unwrap();
    let another = rekam_packet::population::DinasKey::generate().unwrap();
    assert_eq!(
        k.hub.trust_dinas(&another.public_hex()).unwrap_err().code(),
        "EXTRACT_SIGNER_PINNED",
        "one Dinas key per hub"
    );
    assert_eq!(
        code(k.hub.import_population(&first)),
        "EXTRACT_NOT_ENCRYPTED"
    );
    let elsewhere = rekam_packet::wrap::SlotKey::generate().unwrap().public();
    let not_ours = rekam_packet::population::seal_extract(&elsewhere, &first).unwrap();
    assert_eq!(
        code(k.hub.import_population(&not_ours)),
        "EXTRACT_NOT_FOR_THIS_STATION"
    );
    let foreign = base(&a.population, "32.73.02", 1, as_of);
    assert_eq!(
        code(k.hub.import_population(&sealed(&foreign))),
        "EXTRACT_FOREIGN_REGION"
    );
    let gone = a.population.nik(0).unwrap().to_owned();
    let moved_out = delta(
        &[Entry::Remove {
            nik: rekam::domain::nik::Nik::parse(&gone).unwrap(),
        }],
        &region,
        2,
        as_of,
    );
    assert_eq!(
        code(k.hub.import_population(&sealed(&moved_out))),
        "EXTRACT_OUT_OF_SEQUENCE",
        "a delta before its base"
    );
    let imported = k.hub.import_population(&sealed(&first)).unwrap();
    assert!(imported.base && imported.entries > 0);

    // The counter's pass brings the base, sealed to the counter, verified there.
    let pass = |c: &mut Counter| c.dedup.hub().unwrap().pass(&mut c.station).unwrap();
    let p = pass(&mut a);
    assert_eq!((p.population, p.error.as_deref()), (1, None), "{p:?}");
    let held = |c: &Counter| c.station.store().extract_state().unwrap().unwrap();
    assert_eq!(held(&a).sequence, 1);
    assert_eq!(held(&a).residents, imported.entries);

    // The Dinas's delta: the hub takes it after its base, the counter at its next pass.
    k.hub.import_population(&sealed(&moved_out)).unwrap();
    assert_eq!(
        code(k.hub.import_population(&sealed(&moved_out))),
        "EXTRACT_OUT_OF_SEQUENCE",
        "a replay"
    );
    assert_eq!(pass(&mut a).population, 1);
    assert_eq!(held(&a).sequence, 2);
    assert_eq!(pass(&mut a).population, 0, "nothing twice");

    // A counter set up later takes the base and the delta in one pass, and reads biodata from
    // them: the resident who moved out is not there, the others are, from the Dinas's extract.
    let mut b = k.counter("KEC-B-01", &k.url());
    rekam::population::trust(&mut b.station, TEST_DINAS_PUBLIC, "setup").unwrap();
    assert_eq!(pass(&mut b).population, 2);
    assert_eq!(held(&b).sequence, 2);
    let population = rekam::population::CounterPopulation::new(&b.station, None).unwrap();
    let lookup = |nik: &str| {
        population
            .lookup(&rekam::domain::nik::Nik::parse(nik).unwrap())
            .unwrap()
    };
    assert!(lookup(&gone).is_none(), "moved out by the delta");
    let stays = lookup(a.population.nik(1).unwrap()).expect("a resident of the extract");
    assert!(
        matches!(stays.source, Source::Extract { sequence: 2, .. }),
        "{:?}",
        stays.source
    );
}
