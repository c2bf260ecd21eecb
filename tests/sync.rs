//! The background sync against the real gateway through a fault-injecting TCP proxy: dropped
//! connections mid-upload, 5xx answers, slow answers and timeouts, a gateway restart, a station
//! clock off by an hour. The property: N recordings give exactly N records at the data
//! center, none twice, none lost, and every one ends with its receipt at the station.

#![allow(clippy::unwrap_used)]

use rekam::clock::{Clock, FixedClock, SystemClock};
use rekam::domain::nik::Nik;
use rekam::domain::region::RegionCode;
use rekam::station::{InitOptions, Station, StationPaths};
use rekam::store::SyncState;
use rekam::sync::{SyncConfig, sync_once};
use rekam_gateway::{Config, Gateway, Running};
use rekam_synth::recording::recording;
use rekam_synth::resident::{RegionPool, reference_date};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the proxy does to the next connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Forward faithfully.
    Pass,
    /// Accept and close at once: no link.
    Down,
    /// Forward, then cut the connection after this many bytes from the station.
    CutAfter(usize),
    /// Answer 503 without forwarding.
    Unavailable,
    /// Forward, holding every chunk of the answer this long.
    Slow(Duration),
}

struct Proxy {
    addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    connections: Arc<AtomicUsize>,
}

impl Proxy {
    fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let fault = Arc::new(Mutex::new(Fault::Pass));
        let connections = Arc::new(AtomicUsize::new(0));
        let (f, n) = (fault.clone(), connections.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                n.fetch_add(1, Ordering::Relaxed);
                let fault = *f.lock().unwrap();
                std::thread::spawn(move || relay(client, target, fault));
            }
        });
        Proxy {
            addr,
            fault,
            connections,
        }
    }

    fn set(&self, f: Fault) {
        *self.fault.lock().unwrap() = f;
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn relay(mut client: TcpStream, target: SocketAddr, fault: Fault) {
    match fault {
        Fault::Down => return,
        Fault::Unavailable => {
            let mut buf = [0u8; 4096];
            let _ = client.read(&mut buf);
            let body = r#"{"code":"UNAVAILABLE","message":"maintenance"}"#;
            let _ = write!(
                client,
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            return;
        }
        _ => {}
    }
    let Ok(mut server) = TcpStream::connect(target) else {
        return;
    };
    let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        let mut sent = 0usize;
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match c2.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let n = match fault {
                Fault::CutAfter(limit) => n.min(limit.saturating_sub(sent)),
                _ => n,
            };
            if n == 0 || s2.write_all(&buf[..n]).is_err() {
                break;
            }
            sent += n;
        }
        let _ = s2.shutdown(std::net::Shutdown::Both);
        let _ = c2.shutdown(std::net::Shutdown::Both);
    });
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Fault::Slow(d) = fault {
            std::thread::sleep(d);
        }
        if client.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = up.join();
}

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
    let answered = rekam_sync::register(url, &s.registration(&token).unwrap()).unwrap();
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
    let proxy = Proxy::start(dc.addr());
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
    assert_eq!(s.store().sync_due(i64::MAX, 100).unwrap().len(), 0);
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
    assert!(proxy.connections.load(Ordering::Relaxed) > 10);

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
    assert!(
        rekam::sync::backlog(&s, Duration::from_secs(3600), rekam::i18n::Lang::Id)
            .unwrap()
            .is_empty()
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
    let e = rekam_sync::register(&url, &s.registration(&token).unwrap()).unwrap_err();
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
