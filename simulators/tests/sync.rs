//! The background sync against the real gateway through a fault-injecting TCP proxy: dropped
//! connections mid-upload, 5xx answers, slow answers and timeouts, a gateway restart, a station
//! clock off by an hour. The property: N recordings give exactly N records at the data
//! center, none twice, none lost, and every one ends with its receipt at the station.

#![allow(clippy::unwrap_used)]

use rekam::clock::{Clock, FixedClock, SystemClock};
use rekam::domain::nik::Nik;
use rekam::domain::region::RegionCode;
use rekam::i18n::{Lang, Localized};
use rekam::station::{InitOptions, Station, StationPaths};
use rekam::store::SyncState;
use rekam::sync::{SyncConfig, sync_once};
use rekam_gateway::{Config, Gateway, Running};
use rekam_sim::link::{Fault, Proxy};
use rekam_synth::recording::recording;
use rekam_synth::resident::{RegionPool, reference_date};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

struct Dc {
    dir: std::path::PathBuf,
    gw: Gateway,
    running: Option<Running>,
}

impl Dc {
    fn start(dir: &std::path::Path) -> Dc {
        rekam_gateway::init(dir, "DC-TEST").unwrap();
        let (gw, running) = Dc::open(dir, "127.0.0.1:0");
        Dc {
            dir: dir.to_owned(),
            gw,
            running: Some(running),
        }
    }

    fn open(dir: &std::path::Path, addr: &str) -> (Gateway, Running) {
        let mut cfg = Config::new(dir);
        cfg.results_delay = Duration::ZERO;
        let gw = Gateway::open(cfg, Arc::new(SystemClock)).unwrap();
        let running = gw.clone().spawn(addr).unwrap();
        (gw, running)
    }

    fn addr(&self) -> SocketAddr {
        self.running.as_ref().unwrap().addr
    }

    /// Stops the gateway and starts it again on the same port from its files.
    fn restart(&mut self) {
        let addr = self.addr();
        self.running.take().unwrap().stop();
        let (gw, running) = Dc::open(&self.dir, &addr.to_string());
        self.gw = gw;
        self.running = Some(running);
    }

    fn packets(&self) -> i64 {
        self.gw
            .stations(24 * 3600)
            .unwrap()
            .iter()
            .map(|s| s.packets_received)
            .sum()
    }
}

fn station(dir: &std::path::Path, id: &str, clock: Arc<dyn Clock>) -> Station {
    Station::init(
        InitOptions {
            paths: StationPaths::new(dir.join(id), None),
            station_id: Some(id.into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "test".into(),
        },
        clock,
    )
    .unwrap()
}

fn register(dc: &Dc, s: &mut Station, url: &str) {
    let token = dc.gw.issue_token(&s.identity().station_id).unwrap();
    let answered = rekam_sync::register(url, None, &s.registration(&token).unwrap()).unwrap();
    let identity = dc.gw.identity().clone();
    s.pin_data_center(&identity, &answered, "test").unwrap();
}

/// Seals `n` recordings of one generated resident under different NIKs.
fn record(s: &mut Station, n: usize) -> Vec<String> {
    let pool = RegionPool::load().unwrap();
    let r = (0..)
        .find_map(|k| recording(&pool, 11, k, reference_date(), "OP-01"))
        .unwrap();
    (0..n)
        .map(|i| {
            let mut rec = r.recording.clone();
            rec.manifest.biodata.nik = Nik::parse(&format!("327301150590{:04}", i + 1)).unwrap();
            s.seal(rec, None, None).unwrap().entry.enrollment_id
        })
        .collect()
}

fn cfg(url: &str) -> SyncConfig {
    SyncConfig {
        chunk: 128 * 1024,
        backoff_base: Duration::ZERO,
        backoff_max: Duration::ZERO,
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(3),
        ..SyncConfig::new(url)
    }
}

fn state(s: &Station, packet: &str) -> SyncState {
    let seq = s
        .store()
        .journal_after(0, 1000)
        .unwrap()
        .into_iter()
        .find(|e| e.enrollment_id == packet)
        .unwrap()
        .seq;
    let events = s.store().sync_events(seq).unwrap();
    events.last().unwrap().state
}

#[test]
fn every_recording_arrives_exactly_once_through_faults_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut dc = Dc::start(&dir.path().join("dc"));
    let proxy = Proxy::start(dc.addr()).unwrap();
    let mut s = station(dir.path(), "KEC-SY-01", Arc::new(SystemClock));
    register(&dc, &mut s, &proxy.url());
    let packets = record(&mut s, 6);
    let c = cfg(&proxy.url());

    // No link: nothing sent, nothing counted against the recordings, the pass says why.
    proxy.set(Fault::Down);
    let r = sync_once(&mut s, &c).unwrap();
    assert!(!r.link_up);
    assert_eq!(r.remaining, 6);
    assert_eq!(r.error.as_ref().unwrap().0, "CONNECTION_DROPPED", "{r:?}");
    // The pass failed, not a record: the backlog says every record waits for the link.
    let last = rekam::sync::last_pass(&s).unwrap().unwrap();
    assert_eq!(last.report, r);
    let lines = rekam::sync::backlog(&s, Duration::from_secs(86400), Lang::En).unwrap();
    assert_eq!(lines.len(), 6);
    for l in &lines {
        assert_eq!(l.row.last_code, None);
        assert_eq!(l.pass_failure.as_deref(), Some("CONNECTION_DROPPED"));
        assert!(l.next_step.contains("network"), "{}", l.next_step);
        assert!(!l.stuck);
    }

    // The link breaks 300 KB into every connection: uploads advance and resume.
    proxy.set(Fault::CutAfter(300 * 1024));
    for _ in 0..3 {
        sync_once(&mut s, &c).unwrap();
    }
    let backlog = s.store().backlog().unwrap();
    assert!(
        backlog
            .iter()
            .any(|b| b.state == SyncState::Uploading && b.upload_offset > 0),
        "{backlog:?}"
    );
    assert!(backlog.iter().any(|b| b.last_code.is_some()));

    // The data center answers 503: recorded per recording with its code, retried.
    proxy.set(Fault::Pass);
    let first = sync_once(&mut s, &cfg(&proxy.url())).unwrap();
    assert!(first.link_up);
    proxy.set(Fault::Unavailable);
    let r = sync_once(&mut s, &c).unwrap();
    assert!(
        !r.link_up && r.error.as_ref().unwrap().0 == "DC_SERVER_ERROR",
        "{r:?}"
    );

    // Slow answers past the request timeout: a timeout, then the same recordings go through.
    proxy.set(Fault::Slow(Duration::from_millis(4000)));
    let r = sync_once(&mut s, &c).unwrap();
    assert!(
        !r.link_up && r.error.as_ref().unwrap().0 == "TIMEOUT",
        "{r:?}"
    );

    // The gateway restarts between passes.
    dc.restart();
    proxy.set(Fault::Pass);
    for _ in 0..10 {
        let r = sync_once(&mut s, &c).unwrap();
        if r.remaining == 0 {
            break;
        }
    }
    assert_eq!(
        s.store().sync_due(i64::MAX, i64::MAX, 100).unwrap().len(),
        0
    );
    assert_eq!(dc.packets(), 6, "exactly N records at the data center");
    for p in &packets {
        assert!(
            matches!(
                state(&s, p),
                SyncState::SentForEnrollment
                    | SyncState::DuplicateRecord
                    | SyncState::PrintReadyRecord
                    | SyncState::AdjudicateRecord
            ),
            "{p}: {:?}",
            state(&s, p)
        );
    }
    // Sending again sends nothing and records nothing new.
    let again = sync_once(&mut s, &c).unwrap();
    assert_eq!(again.sent, 0);
    assert_eq!(dc.packets(), 6);
    assert!(proxy.connections() > 10);

    // Results reach the station: the first is unique, the others are the same person.
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..20 {
        sync_once(&mut s, &c).unwrap();
        let done = packets.iter().all(|p| {
            matches!(
                state(&s, p),
                SyncState::PrintReadyRecord | SyncState::DuplicateRecord
            )
        });
        if done {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let finals: Vec<SyncState> = packets.iter().map(|p| state(&s, p)).collect();
    assert_eq!(
        finals
            .iter()
            .filter(|s| **s == SyncState::PrintReadyRecord)
            .count(),
        1,
        "{finals:?}"
    );
    assert_eq!(
        finals
            .iter()
            .filter(|s| **s == SyncState::DuplicateRecord)
            .count(),
        5,
        "{finals:?}"
    );
    // What stays in the backlog: the five duplicates, each a case to clarify with the resident
    // (seed 001, 3b), none stuck.
    let left = rekam::sync::backlog(&s, Duration::from_secs(3600), rekam::i18n::Lang::Id).unwrap();
    assert_eq!(left.len(), 5, "{left:?}");
    assert!(
        left.iter()
            .all(|l| l.row.state == SyncState::DuplicateRecord
                && !l.stuck
                && l.next_step.contains("klarifikasi")),
        "{left:?}"
    );
}

#[test]
fn a_station_clock_off_by_an_hour_is_told_to_set_it_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let dc = Dc::start(&dir.path().join("dc"));
    let url = format!("http://{}", dc.addr());
    let wrong = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let s = station(dir.path(), "KEC-SY-02", Arc::new(FixedClock(wrong)));
    // Registration itself refuses the skew; register with a right clock, then drift.
    let token = dc.gw.issue_token("KEC-SY-02").unwrap();
    let e = rekam_sync::register(&url, None, &s.registration(&token).unwrap()).unwrap_err();
    assert_eq!(e.code(), "CLOCK_SKEW");
    let mut right = Station::open(
        StationPaths::new(dir.path().join("KEC-SY-02"), None),
        Arc::new(SystemClock),
    )
    .unwrap();
    register(&dc, &mut right, &url);
    drop(right);
    let mut s2 = Station::open(
        StationPaths::new(dir.path().join("KEC-SY-02"), None),
        Arc::new(FixedClock(wrong)),
    )
    .unwrap();
    drop(s);
    let packets = record(&mut s2, 1);
    let r = sync_once(&mut s2, &cfg(&url)).unwrap();
    assert_eq!(r.error.as_ref().unwrap().0, "CLOCK_SKEW", "{r:?}");
    let lines =
        rekam::sync::backlog(&s2, Duration::from_secs(24 * 3600), rekam::i18n::Lang::Id).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].row.last_code.as_deref(), Some("CLOCK_SKEW"));
    assert!(lines[0].stuck, "a wrong clock does not fix itself");
    assert!(
        lines[0].next_step.contains("atur tanggal dan jam"),
        "{}",
        lines[0].next_step
    );
    assert_eq!(lines[0].row.masked_nik, "327301********01");
    assert_eq!(dc.packets(), 0);

    // The clock set right: it goes through.
    let mut fixed = Station::open(
        StationPaths::new(dir.path().join("KEC-SY-02"), None),
        Arc::new(SystemClock),
    )
    .unwrap();
    drop(s2);
    let r = sync_once(&mut fixed, &cfg(&url)).unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    assert_eq!(state(&fixed, &packets[0]), SyncState::SentForEnrollment);
    assert_eq!(dc.packets(), 1);
}

/// A station registered with a right clock whose clock then goes `off`, and the recording it
/// could not send for that: refused CLOCK_SKEW, its next attempt set by the wrong clock.
fn refused_for_its_clock(dir: &std::path::Path, dc: &Dc, id: &str, off: i64) -> String {
    let url = format!("http://{}", dc.addr());
    let mut right = station(dir, id, Arc::new(SystemClock));
    register(dc, &mut right, &url);
    drop(right);
    let wrong = time::OffsetDateTime::now_utc() + time::Duration::seconds(off);
    let mut s = Station::open(
        StationPaths::new(dir.join(id), None),
        Arc::new(FixedClock(wrong)),
    )
    .unwrap();
    let packet = record(&mut s, 1).remove(0);
    // The product's waits: a refusal that will not fix itself is tried again in 30 min.
    let r = sync_once(&mut s, &SyncConfig::new(&url)).unwrap();
    assert_eq!(r.error.as_ref().unwrap().0, "CLOCK_SKEW", "{r:?}");
    packet
}

#[test]
fn a_record_refused_for_the_clock_goes_once_the_clock_is_right_without_waiting_for_the_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    let dc = Dc::start(&dir.path().join("dc"));
    let url = format!("http://{}", dc.addr());
    let right = |id: &str| {
        Station::open(
            StationPaths::new(dir.path().join(id), None),
            Arc::new(SystemClock),
        )
        .unwrap()
    };

    // An hour ahead: its retry was set 90 min from the real time, longer than any wait. Once
    // the clock is set right, the next ordinary pass sends it.
    let ahead = refused_for_its_clock(dir.path(), &dc, "KEC-SY-05", 3600);
    let mut s = right("KEC-SY-05");
    let r = sync_once(&mut s, &SyncConfig::new(&url)).unwrap();
    assert_eq!((r.sent, r.error), (1, None));
    assert_eq!(state(&s, &ahead), SyncState::SentForEnrollment);

    // Ten minutes behind: its retry is 20 min away, a wait the schedule can give, so an
    // ordinary pass leaves it; the pass a person asks for (`rekam sync --once --now`) sends it.
    let behind = refused_for_its_clock(dir.path(), &dc, "KEC-SY-06", -600);
    let mut s = right("KEC-SY-06");
    let r = sync_once(&mut s, &SyncConfig::new(&url)).unwrap();
    assert_eq!((r.sent, r.remaining), (0, 1), "{r:?}");
    let now = SyncConfig {
        retry_now: true,
        ..SyncConfig::new(&url)
    };
    let r = sync_once(&mut s, &now).unwrap();
    assert_eq!((r.sent, r.error), (1, None));
    assert_eq!(state(&s, &behind), SyncState::SentForEnrollment);
    assert_eq!(dc.packets(), 2);
}

#[test]
fn exports_and_online_uploads_mixed_give_each_record_once_and_close_the_loop() {
    let dir = tempfile::tempdir().unwrap();
    let dc = Dc::start(&dir.path().join("dc"));
    let url = format!("http://{}", dc.addr());
    let mut s = station(dir.path(), "KEC-EX-01", Arc::new(SystemClock));
    register(&dc, &mut s, &url);
    let all = record(&mut s, 6);
    let disk = dir.path().join("usb");

    let c = cfg(&url);
    let online = {
        let mut c1 = c.clone();
        c1.concurrency = 2;
        c1
    };
    // Export everything unsent (all six), as a technician would before the link came back.
    let report = rekam::export::export(&mut s, &disk, &[], |_, _, _| {}).unwrap();
    assert_eq!(
        (report.packets, report.written, report.signed),
        (6, 6, true)
    );
    assert!(all.iter().all(|p| state(&s, p) == SyncState::Exported));

    // The disk was pulled mid-way last time: one file gone, one cut, one damaged. Running the
    // export again rewrites exactly those.
    let bundle = report.bundle.clone();
    let file = |p: &str| bundle.join(format!("packets/{p}.rkpk"));
    std::fs::remove_file(file(&all[0])).unwrap();
    let cut = std::fs::read(file(&all[1])).unwrap();
    std::fs::write(file(&all[1]), &cut[..cut.len() / 2]).unwrap();
    let mut bad = std::fs::read(file(&all[2])).unwrap();
    bad[100] ^= 1;
    std::fs::write(file(&all[2]), &bad).unwrap();
    let again = rekam::export::export(&mut s, &disk, &[], |_, _, _| {}).unwrap();
    assert_eq!((again.packets, again.written), (6, 3));

    // Meanwhile the link came back and the sync sent everything online (EXPORTED packets too).
    let r = sync_once(&mut s, &online).unwrap();
    assert_eq!(r.sent, 6, "{r:?}");
    assert_eq!(dc.packets(), 6);

    // The bundle arrives at the data center anyway: no second record, the same receipts.
    let imported = dc.gw.import_bundle(&bundle).unwrap();
    assert!(imported.manifest_signed);
    assert_eq!(imported.receipts.receipts.len(), 6);
    assert!(imported.receipts.refused.is_empty());
    assert_eq!(
        dc.packets(),
        6,
        "a packet that also arrived online is not a second record"
    );
    let back = rekam::export::import_receipts(&mut s, &bundle.join("receipts.json")).unwrap();
    assert_eq!((back.accepted, back.already), (0, 6));

    // Two more, recorded with the link down, drained from the database and store key alone
    // (the signing key lost), imported first, then the station brought back online.
    let later = {
        let mut s2 = s;
        let ids: Vec<String> = (0..2)
            .map(|i| {
                let pool = RegionPool::load().unwrap();
                let r = (0..)
                    .find_map(|k| recording(&pool, 11, k, reference_date(), "OP-01"))
                    .unwrap();
                let mut rec = r.recording;
                rec.manifest.biodata.nik =
                    Nik::parse(&format!("327301150590{:04}", 100 + i)).unwrap();
                s2.seal(rec, None, None).unwrap().entry.enrollment_id
            })
            .collect();
        std::fs::rename(
            dir.path().join("KEC-EX-01/keys/station-signing.key"),
            dir.path().join("signing.key.elsewhere"),
        )
        .unwrap();
        let disk2 = dir.path().join("usb2");
        let drained = rekam::export::export(&mut s2, &disk2, &[], |_, _, _| {}).unwrap();
        assert_eq!((drained.packets, drained.signed), (2, false));
        let imported = dc.gw.import_bundle(&drained.bundle).unwrap();
        assert!(!imported.manifest_signed);
        assert_eq!(imported.receipts.receipts.len(), 2);
        let back =
            rekam::export::import_receipts(&mut s2, &drained.bundle.join("receipts.json")).unwrap();
        assert_eq!((back.accepted, back.already), (2, 0), "{back:?}");
        // A forged receipt is refused at the station.
        let mut forged: rekam_packet::protocol::ReceiptsFile =
            serde_json::from_slice(&std::fs::read(drained.bundle.join("receipts.json")).unwrap())
                .unwrap();
        forged.receipts[0].receipt_no += 1;
        let path = dir.path().join("forged.json");
        std::fs::write(&path, serde_json::to_vec(&forged).unwrap()).unwrap();
        // Without the data center's signature of the file: refused whole.
        assert!(rekam::export::import_receipts(&mut s2, &path).is_err());
        // With the signature of another file: refused whole.
        std::fs::copy(
            drained.bundle.join("receipts.sig"),
            dir.path().join("forged.sig"),
        )
        .unwrap();
        let e = rekam::export::import_receipts(&mut s2, &path).unwrap_err();
        assert_eq!(e.code(), "BAD_SIGNATURE", "{e}");
        for id in &ids {
            assert_eq!(state(&s2, id), SyncState::SentForEnrollment);
        }
        std::fs::rename(
            dir.path().join("signing.key.elsewhere"),
            dir.path().join("KEC-EX-01/keys/station-signing.key"),
        )
        .unwrap();
        let r = sync_once(&mut s2, &c).unwrap();
        assert_eq!(r.sent, 0, "nothing left to send: {r:?}");
        ids
    };
    assert_eq!(later.len(), 2);
    assert_eq!(dc.packets(), 8, "eight recordings, eight records");
}

#[test]
fn over_tls_the_station_trusts_only_the_pinned_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let dc_dir = dir.path().join("dc");
    let identity = rekam_gateway::init(&dc_dir, "DC-TLS").unwrap();
    let mut cfg_gw = Config::new(&dc_dir);
    cfg_gw.tls = true;
    let gw = Gateway::open(cfg_gw, Arc::new(SystemClock)).unwrap();
    let running = gw.clone().spawn("127.0.0.1:0").unwrap();
    let url = format!("https://127.0.0.1:{}", running.addr.port());

    let mut s = station(dir.path(), "KEC-TLS-01", Arc::new(SystemClock));
    let token = gw.issue_token("KEC-TLS-01").unwrap();
    let answered =
        rekam_sync::register(&url, Some(&identity), &s.registration(&token).unwrap()).unwrap();
    s.pin_data_center(&identity, &answered, "test").unwrap();
    let packets = record(&mut s, 1);
    let r = sync_once(&mut s, &cfg(&url)).unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    assert_eq!(state(&s, &packets[0]), SyncState::SentForEnrollment);

    // Plain HTTP to a TLS gateway, or https to another certificate: nothing is sent.
    let mut other = identity.clone();
    let (cert, _, pin) = rekam_gateway::tls::generate(&["127.0.0.1".into()], "test").unwrap();
    other.tls_certificate = Some(cert);
    other.tls_certificate_sha256 = Some(pin);
    let e = rekam_sync::identity(&url, Some(&other)).unwrap_err();
    assert_eq!(e.code(), "TLS", "{e}");
    assert_eq!(
        rekam::sync::next_step("TLS", rekam::i18n::Lang::Id),
        "sertifikat atau identitas DC tidak cocok: jangan kirim, hubungi Dinas"
    );
    let e = rekam_sync::identity(&url.replace("https", "http"), None).unwrap_err();
    assert!(matches!(e, rekam_sync::SyncError::Transport { .. }), "{e}");
}

#[test]
fn the_background_sync_sends_what_the_counter_records_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let dc = Dc::start(&dir.path().join("dc"));
    let url = format!("http://{}", dc.addr());
    let mut counter = station(dir.path(), "KEC-BG-01", Arc::new(SystemClock));
    register(&dc, &mut counter, &url);
    let background = rekam::sync::spawn(
        Station::open(
            StationPaths::new(dir.path().join("KEC-BG-01"), None),
            Arc::new(SystemClock),
        )
        .unwrap(),
        cfg(&url),
        Duration::from_millis(100),
    );
    let packets = record(&mut counter, 2);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut sent = 0;
    while sent < 2 && std::time::Instant::now() < deadline {
        if let Some(r) = background.next_report(Duration::from_secs(1)) {
            sent += r.sent;
        }
    }
    background.stop().unwrap();
    assert_eq!(sent, 2);
    for p in &packets {
        assert_ne!(state(&counter, p), SyncState::BioCaptured);
    }
    assert_eq!(dc.packets(), 2);
}

#[test]
fn the_background_sync_sends_a_waiting_record_at_once_when_a_person_asks() {
    let dir = tempfile::tempdir().unwrap();
    let dc = Dc::start(&dir.path().join("dc"));
    let url = format!("http://{}", dc.addr());
    // Refused with a clock ten minutes slow: its next attempt is 20 min away once it is right.
    let packet = refused_for_its_clock(dir.path(), &dc, "KEC-BG-02", -600);
    let station = Station::open(
        StationPaths::new(dir.path().join("KEC-BG-02"), None),
        Arc::new(SystemClock),
    )
    .unwrap();
    let background = rekam::sync::spawn(station, SyncConfig::new(&url), Duration::from_millis(100));
    // Passes go on (the link is up) and leave it waiting.
    for _ in 0..3 {
        let r = background.next_report(Duration::from_secs(10)).unwrap();
        assert_eq!((r.link_up, r.sent, r.remaining), (true, 0, 1), "{r:?}");
    }
    background.send_now();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    while sent == 0 && std::time::Instant::now() < deadline {
        if let Some(r) = background.next_report(Duration::from_secs(1)) {
            sent += r.sent;
        }
    }
    background.stop().unwrap();
    assert_eq!(sent, 1, "the pass asked for sent it");
    let s = Station::open(
        StationPaths::new(dir.path().join("KEC-BG-02"), None),
        Arc::new(SystemClock),
    )
    .unwrap();
    assert_eq!(state(&s, &packet), SyncState::SentForEnrollment);
}

/// The technician's mistakes at the drain each get their own refusal with what to do: a packet
/// id that is not waiting here, and another station's receipts file (signed by the data center
/// all the same). Both used to be RECORDING_INVALID, telling the operator to "complete the
/// missing steps". Nothing changes at the station.
#[test]
fn the_wrong_packet_or_another_stations_receipts_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let dc = Dc::start(&dir.path().join("dc"));
    let url = format!("http://{}", dc.addr());
    let mut here = station(dir.path(), "KEC-HERE-01", Arc::new(SystemClock));
    let mut there = station(dir.path(), "KEC-THERE-01", Arc::new(SystemClock));
    register(&dc, &mut here, &url);
    register(&dc, &mut there, &url);
    let waiting = record(&mut here, 1);

    let e = rekam::export::export(
        &mut here,
        &dir.path().join("usb"),
        &["no-such-packet".into()],
        |_, _, _| {},
    )
    .unwrap_err();
    assert_eq!(e.code(), "PACKET_NOT_WAITING", "{e}");
    assert!(e.to_string().contains("rekam backlog"), "{e}");
    assert!(e.localized(Lang::Id).contains("no-such-packet"));
    assert!(
        !dir.path().join("usb").join("KEC-HERE-01").exists(),
        "nothing exported"
    );

    let _ = record(&mut there, 1);
    let theirs =
        rekam::export::export(&mut there, &dir.path().join("usb2"), &[], |_, _, _| {}).unwrap();
    dc.gw.import_bundle(&theirs.bundle).unwrap();
    let e = rekam::export::import_receipts(&mut here, &theirs.bundle.join("receipts.json"))
        .unwrap_err();
    assert_eq!(e.code(), "RECEIPTS_FOREIGN", "{e}");
    assert!(e.to_string().contains("KEC-THERE-01") && e.to_string().contains("KEC-HERE-01"));
    assert!(
        e.localized(Lang::Id).contains("bukan stasiun ini"),
        "{}",
        e.localized(Lang::Id)
    );
    assert_eq!(
        state(&here, &waiting[0]),
        SyncState::BioCaptured,
        "nothing changed here"
    );
}
