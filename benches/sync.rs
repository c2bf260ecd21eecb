//! Sync benchmark: resumable uploads on a thin, unreliable link against whole-file uploads on
//! the same link, and the technician's export against `cp` of the same bytes on the same disk.
//!
//! ```text
//! cargo bench -p rekam --bench sync -- [--kbit 256] [--drop-every 30] [--packets 2] [--export 20]
//! ```
//!
//! The link is a proxy on loopback that paces the station's bytes to `--kbit` and cuts every
//! connection each `--drop-every` seconds. Useful bytes are the packets' sizes; bytes sent are
//! what the station pushed into the link (counted by the proxy), retries included.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use rekam::clock::SystemClock;
use rekam::domain::nik::Nik;
use rekam::domain::region::RegionCode;
use rekam::station::{InitOptions, Station, StationPaths};
use rekam::sync::{SyncConfig, sync_once};
use rekam_gateway::{Config, Gateway};
use rekam_synth::recording::recording;
use rekam_synth::resident::{RegionPool, reference_date};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A thin link: the station's bytes paced to `rate` bytes/s, every connection cut when the
/// link's epoch changes (every `drop_every`).
struct Link {
    addr: SocketAddr,
    sent: Arc<AtomicU64>,
}

fn link(target: SocketAddr, rate: f64, drop_every: Duration) -> Link {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let epoch = move || (start.elapsed().as_secs_f64() / drop_every.as_secs_f64()) as u64;
    let counter = sent.clone();
    std::thread::spawn(move || {
        for c in listener.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let born = epoch();
                let Ok(server) = TcpStream::connect(target) else {
                    return;
                };
                let timeout = Some(Duration::from_millis(100));
                c.set_read_timeout(timeout).unwrap();
                server.set_read_timeout(timeout).unwrap();
                let alive = move || epoch() == born;
                let (c_in, s_out) = (c.try_clone().unwrap(), server.try_clone().unwrap());
                // Up, paced: the station's bytes never run ahead of `rate`; down, unpaced
                // (answers are small).
                let up =
                    std::thread::spawn(move || pump(c_in, s_out, alive, Some((rate, &counter))));
                pump(server, c, alive, None);
                let _ = up.join();
            });
        }
    });
    Link { addr, sent }
}

/// Copies `from` to `to` while `alive()`, at most `pace.0` bytes a second when paced, counting
/// the bytes in `pace.1`; then shuts `to` down.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    alive: impl Fn() -> bool,
    pace: Option<(f64, &AtomicU64)>,
) {
    let mut buf = [0u8; 1024];
    let (t0, mut moved) = (Instant::now(), 0f64);
    while alive() {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Some((rate, counter)) = pace {
                    moved += n as f64;
                    let due = Duration::from_secs_f64(moved / rate);
                    if let Some(wait) = due.checked_sub(t0.elapsed()) {
                        std::thread::sleep(wait);
                    }
                    if !alive() {
                        break;
                    }
                    counter.fetch_add(n as u64, Ordering::Relaxed);
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}

fn main() {
    let kbit = arg("--kbit", 256.0);
    let drop_every = Duration::from_secs_f64(arg("--drop-every", 30.0));
    let n_packets = arg("--packets", 2.0) as usize;
    let n_export = arg("--export", 20.0) as usize;
    let rate = kbit * 1000.0 / 8.0;

    let dir = tempfile::tempdir().unwrap();
    rekam_gateway::init(&dir.path().join("dc"), "DC-BENCH").unwrap();
    let mut cfg = Config::new(dir.path().join("dc"));
    cfg.results_delay = Duration::from_secs(3600);
    let gw = Gateway::open(cfg, Arc::new(SystemClock)).unwrap();
    let running = gw.clone().spawn("127.0.0.1:0").unwrap();
    let mut station = Station::init(
        InitOptions {
            paths: StationPaths::new(dir.path().join("st"), None),
            station_id: Some("BENCH-SYNC".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "bench".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let direct = format!("http://{}", running.addr);
    let token = gw.issue_token("BENCH-SYNC").unwrap();
    let answered =
        rekam_sync::register(&direct, None, &station.registration(&token).unwrap()).unwrap();
    station
        .pin_data_center(gw.identity(), &answered, "bench")
        .unwrap();
    let pool = RegionPool::load().unwrap();
    let r = (0..)
        .find_map(|k| recording(&pool, 5, k, reference_date(), "OP-01"))
        .unwrap();
    let mut n_sealed = 0;
    let mut seal = |station: &mut Station, n: usize| -> Vec<String> {
        (0..n)
            .map(|_| {
                n_sealed += 1;
                let mut rec = r.recording.clone();
                rec.manifest.biodata.nik =
                    Nik::parse(&format!("327301150590{:04}", n_sealed)).unwrap();
                station.seal(rec, None, None).unwrap().entry.enrollment_id
            })
            .collect()
    };
    let ids = seal(&mut station, n_packets);
    let sizes: Vec<u64> = ids
        .iter()
        .map(|id| {
            station
                .store()
                .enrollment_payload(id)
                .unwrap()
                .unwrap()
                .len() as u64
        })
        .collect();

    // ----- thin link: resumable against whole-file ---------------------------------------
    let useful: u64 = sizes.iter().sum();
    println!(
        "\n== {n_packets} packets ({:.2} MB) over {kbit} kbit/s, every connection cut each {:.0} s ==",
        useful as f64 / 1e6,
        drop_every.as_secs_f64()
    );
    // Whole-file: each attempt starts a new upload from byte 0 (what a plain POST does).
    let thin = link(running.addr, rate, drop_every);
    let url = format!("http://{}", thin.addr);
    let client = rekam_sync::DcClient::with_timeouts(
        &url,
        "BENCH-SYNC",
        station.signing_key().unwrap(),
        None,
        Duration::from_secs(5),
        Duration::from_secs(3600),
    )
    .unwrap()
    .with_chunk(usize::MAX / 2);
    let t = Instant::now();
    let (mut whole_done, mut attempts) = (0, 0);
    let budget =
        Duration::from_secs_f64((useful as f64 / rate * 3.0).max(drop_every.as_secs_f64() * 4.0));
    for id in &ids {
        let bytes = station.store().enrollment_payload(id).unwrap().unwrap();
        while t.elapsed() < budget {
            attempts += 1;
            // A fresh packet id each attempt: the gateway holds nothing to resume from.
            let fresh = rekam_packet::envelope::PacketId::generate()
                .unwrap()
                .to_string();
            let done = client
                .create_upload(&fresh, bytes.len() as u64)
                .and_then(|u| client.patch(&u, 0, &bytes));
            if matches!(done, Ok(n) if n == bytes.len() as u64) {
                whole_done += 1;
                break;
            }
        }
    }
    let whole_s = t.elapsed().as_secs_f64();
    let whole_sent = thin.sent.load(Ordering::Relaxed);

    // Resumable: the station's sync, 64 KiB requests, resuming from the gateway's offset.
    let thin = link(running.addr, rate, drop_every);
    let cfg = SyncConfig {
        chunk: 64 * 1024,
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        request_timeout: Duration::from_secs(60),
        ..SyncConfig::new(format!("http://{}", thin.addr))
    };
    let t = Instant::now();
    let mut passes = 0;
    loop {
        passes += 1;
        let r = sync_once(&mut station, &cfg).unwrap();
        let left = ids
            .iter()
            .filter(|id| {
                station
                    .store()
                    .backlog()
                    .unwrap()
                    .iter()
                    .any(|b| &b.packet_id == *id && b.state.unsent())
            })
            .count();
        if left == 0 || t.elapsed() > budget * 4 {
            break;
        }
        if !r.link_up || r.failed > 0 {
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let resumable_s = t.elapsed().as_secs_f64();
    let resumable_sent = thin.sent.load(Ordering::Relaxed);
    let resumable_useful = useful;
    println!(
        "whole-file: {whole_done}/{n_packets} delivered in {attempts} attempts, {:.0} s; sent {:.2} MB; useful/sent {:.2}",
        whole_s,
        whole_sent as f64 / 1e6,
        (useful as f64 * whole_done as f64 / n_packets as f64) / whole_sent.max(1) as f64
    );
    println!(
        "resumable (rekam sync): {n_packets}/{n_packets} delivered in {passes} passes, {:.0} s; sent {:.2} MB; useful/sent {:.2}",
        resumable_s,
        resumable_sent as f64 / 1e6,
        resumable_useful as f64 / resumable_sent.max(1) as f64
    );

    // ----- export against cp ------------------------------------------------------------
    let usb = dir.path().join("usb");
    let t = Instant::now();
    let later = seal(&mut station, n_export);
    let report = rekam::export::export(&mut station, &usb, &later, |_, _, _| {}).unwrap();
    let export_s = t.elapsed().as_secs_f64();
    let copy = dir.path().join("copy");
    let t = Instant::now();
    let ok = std::process::Command::new("cp")
        .arg("-r")
        .arg(report.bundle.join("packets"))
        .arg(&copy)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let cp_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    std::process::Command::new("sync").status().unwrap();
    let sync_s = t.elapsed().as_secs_f64();
    let mb = report.bytes as f64 / 1e6;
    println!("\n== export of {n_export} packets ({mb:.1} MB) to the same disk ==");
    println!(
        "rekam export (each file synced, then renamed): {:.2} s, {:.1} MB/s",
        export_s,
        mb / export_s
    );
    println!(
        "cp -r of the same files (baseline): {:.2} s, {:.1} MB/s; cp + sync {:.2} s",
        cp_s,
        mb / cp_s,
        cp_s + sync_s
    );
    println!(
        "ratio export / (cp + sync): {:.2}; export / cp: {:.2}",
        export_s / (cp_s + sync_s),
        export_s / cp_s
    );
}
