//! What the gateway's test binaries share: a gateway on 127.0.0.1, stations registered with
//! it, generated residents sealed into packets.

#![allow(clippy::unwrap_used, dead_code)]

use rekam::clock::{Clock, SystemClock};
use rekam::domain::region::RegionCode;
use rekam::station::{InitOptions, Sealed, Station, StationPaths};
use rekam_gateway::{Config, Gateway};
use rekam_packet::DcIdentity;
use rekam_packet::protocol::{Status, UNSIGNED_BODY};
use rekam_sync::{DcClient, SyncError};
use rekam_synth::recording::{SynthRecording, recording};
use rekam_synth::resident::{RegionPool, reference_date};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub const SEED: u64 = 2026;

/// A gateway serving on 127.0.0.1:0 in its own runtime.
pub struct Dc {
    pub url: String,
    pub gw: Gateway,
    pub identity: DcIdentity,
    _running: rekam_gateway::Running,
    _dir: tempfile::TempDir,
}

/// A gateway on 127.0.0.1 with results decided at once, its configuration edited by `edit`.
pub fn start_gateway(edit: impl FnOnce(&mut Config)) -> Dc {
    start_gateway_at(Arc::new(SystemClock), edit)
}

/// The same on `clock`.
pub fn start_gateway_at(clock: Arc<dyn Clock>, edit: impl FnOnce(&mut Config)) -> Dc {
    let dir = tempfile::tempdir().unwrap();
    let identity = rekam_gateway::init(dir.path(), "DC-TEST").unwrap();
    let mut cfg = Config::new(dir.path());
    cfg.results_delay = Duration::ZERO;
    edit(&mut cfg);
    let scheme = if cfg.tls { "https" } else { "http" };
    let gw = Gateway::open(cfg, clock).unwrap();
    let running = gw.clone().spawn("127.0.0.1:0").unwrap();
    let addr = running.addr;
    Dc {
        url: format!("{scheme}://{addr}"),
        gw,
        identity,
        _running: running,
        _dir: dir,
    }
}

impl Dc {
    /// Stops this process (its server and its result worker); the data directory stays for
    /// as long as the answer is kept.
    pub fn stop(self) -> tempfile::TempDir {
        self._running.stop();
        self._dir
    }

    /// Another gateway process on the same data directory (a restart, or a second process
    /// beside the first), on its own port; its URL.
    pub fn second_process(&self) -> (Gateway, rekam_gateway::Running, String) {
        let mut cfg = Config::new(self._dir.path());
        cfg.results_delay = Duration::ZERO;
        cfg.tls = self.url.starts_with("https");
        cfg.objects = self.gw.config().objects.clone();
        let gw = Gateway::open(cfg, Arc::new(SystemClock)).unwrap();
        let running = gw.clone().spawn("127.0.0.1:0").unwrap();
        let url = format!(
            "{}://{}",
            if self.url.starts_with("https") {
                "https"
            } else {
                "http"
            },
            running.addr
        );
        (gw, running, url)
    }
}

pub fn station(dir: &Path, id: &str) -> Station {
    station_in(dir, id, "32.73.01")
}

/// A station of `kecamatan`.
pub fn station_in(dir: &Path, id: &str, kecamatan: &str) -> Station {
    Station::init(
        InitOptions {
            paths: StationPaths::new(dir.join(id), None),
            station_id: Some(id.into()),
            kecamatan: RegionCode::parse(kecamatan).unwrap(),
            actor: "test".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap()
}

pub fn register(dc: &Dc, s: &mut Station) -> DcClient {
    register_as(dc, s, rekam_gateway::StationRole::Counter)
}

/// Registers `s` in `role`.
pub fn register_as(dc: &Dc, s: &mut Station, role: rekam_gateway::StationRole) -> DcClient {
    let token = dc
        .gw
        .issue_token_for(&s.identity().station_id, role)
        .unwrap();
    let answered = rekam_sync::register(
        &dc.url,
        Some(&dc.identity),
        &s.registration(&token).unwrap(),
    )
    .unwrap();
    s.pin_data_center(&dc.identity, &answered, "test").unwrap();
    client(dc, s)
}

/// A client of `dc` signing with the station's key of the moment (the pinned certificate
/// trusted over `https://`).
pub fn client(dc: &Dc, s: &Station) -> DcClient {
    DcClient::with_timeouts(
        &dc.url,
        &s.identity().station_id,
        s.signing_key().unwrap(),
        Some(&dc.identity),
        Duration::from_secs(10),
        Duration::from_secs(60),
    )
    .unwrap()
}

/// Generated residents, built once for the whole test binary.
pub fn resident(index: u64) -> SynthRecording {
    static POOL: OnceLock<RegionPool> = OnceLock::new();
    let pool = POOL.get_or_init(|| RegionPool::load().unwrap());
    let mut k = index;
    loop {
        // Residents without a NIK cannot be recorded; take the next one.
        if let Some(r) = recording(pool, SEED, k, reference_date(), "OP-01") {
            return r;
        }
        k += 1000;
    }
}

pub fn seal(s: &mut Station, r: &SynthRecording) -> (Sealed, Vec<u8>) {
    let sealed = s.seal(r.recording.clone(), None, None).unwrap();
    let bytes = s
        .store()
        .enrollment_payload(&sealed.entry.enrollment_id)
        .unwrap()
        .unwrap();
    (sealed, bytes)
}

pub fn refused(e: SyncError) -> String {
    match e {
        SyncError::Refused { code, .. } => code,
        other => panic!("expected a refusal, got {other}"),
    }
}

/// Waits until the feed shows a result after SENT_FOR_ENROLLMENT for `packet`.
pub fn final_result(c: &DcClient, dc: &Dc, packet: &str) -> rekam_packet::protocol::ResultEvent {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let page = c.results(0, &dc.identity).unwrap();
        if let Some(e) = page
            .events
            .iter()
            .rev()
            .find(|e| e.packet_id == packet && e.status != Status::SentForEnrollment)
        {
            return e.clone();
        }
        assert!(Instant::now() < deadline, "no result for {packet}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Dc {
    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> &str {
        self.url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
    }

    /// Packets recorded, every station.
    pub fn packets(&self) -> i64 {
        self.gw
            .stations(24 * 3600)
            .unwrap()
            .iter()
            .map(|s| s.packets_received)
            .sum()
    }
}

/// The head of a signed tus PATCH of `length` bytes at `offset` to `upload`, written by hand
/// so a test controls when (and whether) the body follows.
pub fn patch_head(c: &DcClient, addr: &str, upload: &str, offset: u64, length: usize) -> String {
    let path = format!("/v1/uploads/{upload}");
    let auth = c.auth("PATCH", &path, UNSIGNED_BODY);
    format!(
        "PATCH {path} HTTP/1.1\r\nhost: {addr}\r\ntus-resumable: 1.0.0\r\nupload-offset: {offset}\r\n\
         content-type: application/offset+octet-stream\r\ncontent-length: {length}\r\n\
         rekam-station: {}\r\nrekam-key: {}\r\nrekam-time: {}\r\nrekam-nonce: {}\r\nrekam-signature: {}\r\n\r\n",
        auth.station_id, auth.key, auth.time, auth.nonce, auth.signature
    )
}
