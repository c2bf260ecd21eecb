//! Hostile clients against the reference gateway over real TCP on 127.0.0.1: silent and
//! dribbling connections, slow and oversize bodies, garbage instead of HTTP. Each is cut off
//! with its limit, nothing it sent is recorded, and the gateway goes on serving an honest
//! station to the end; a station that opens uploads without end holds a bounded part of the
//! data center's disk; a flood of connections that never start their TLS handshake holds a
//! bounded number of the gateway's sockets. (Altered, re-signed, replayed and cross-station
//! packets are in `gateway.rs`, the first test.)

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use rekam_gateway::Limits;
use rekam_packet::protocol::Status;
use rekam_sync::DcClient;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The limits of this test: short, so each attack is cut off within a second or two.
const LIMITS: Limits = Limits {
    headers: Duration::from_millis(500),
    request: Duration::from_millis(1000),
    upload_idle: Duration::from_millis(500),
    upload_request: Duration::from_millis(2500),
    json_body: 4096,
    connections: 8,
    handshakes: 8,
    open_uploads: 4,
};

/// Reads what the gateway answers until it closes the connection; `None` if it has not
/// closed it within `wait`.
fn answer_within(tcp: &mut TcpStream, wait: Duration) -> Option<String> {
    tcp.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    match tcp.read_to_end(&mut got) {
        Ok(_) => Some(String::from_utf8_lossy(&got).to_lowercase()),
        // Reset by the peer: closed, too.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
            Some(String::from_utf8_lossy(&got).to_lowercase())
        }
        Err(_) => None,
    }
}

#[test]
fn hostile_clients_are_cut_off_and_the_gateway_goes_on_serving() {
    let dc = start_gateway(|c| c.limits = LIMITS);
    let addr = dc.addr().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-H-01");
    let c = register(&dc, &mut a);

    // Silent connections, as many as the gateway serves at once: each is closed after the
    // header limit, and an honest request waiting behind them is served.
    let started = Instant::now();
    let mut silent: Vec<TcpStream> = (0..LIMITS.connections)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    c.results(0, &dc.identity).unwrap();
    let served_after = started.elapsed();
    for tcp in &mut silent {
        assert!(
            answer_within(tcp, Duration::from_secs(5)).is_some(),
            "a silent connection was kept open"
        );
    }
    assert!(served_after < Duration::from_secs(5), "{served_after:?}");

    // Headers dribbled a byte at a time: cut off at the header limit, not when they end.
    let mut dribble = TcpStream::connect(&addr).unwrap();
    dribble.write_all(b"GET /v1/identity HTTP/1.1\r\n").unwrap();
    let started = Instant::now();
    let mut cut = false;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(50));
        if dribble.write_all(b"x").is_err() {
            cut = true;
            break;
        }
        if started.elapsed() > Duration::from_secs(2) {
            break;
        }
    }
    cut = cut || answer_within(&mut dribble, Duration::from_secs(3)).is_some();
    assert!(
        cut,
        "dribbled headers were still read after {:?}",
        started.elapsed()
    );

    // A JSON body that stalls: 408 REQUEST_TIMEOUT after the request limit, signed or not.
    let mut stall = TcpStream::connect(&addr).unwrap();
    write!(
        stall,
        "POST /v1/heartbeat HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: 100\r\n\r\n{{\"version\""
    )
    .unwrap();
    let answer = answer_within(&mut stall, Duration::from_secs(5)).unwrap();
    assert!(answer.starts_with("http/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");

    // A JSON body over the limit: 413 before it is read.
    let mut big = TcpStream::connect(&addr).unwrap();
    let body = vec![b' '; LIMITS.json_body * 4];
    write!(
        big,
        "POST /v1/heartbeat HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let _ = big.write_all(&body);
    let answer = answer_within(&mut big, Duration::from_secs(5)).unwrap();
    assert!(answer.starts_with("http/1.1 413"), "{answer}");

    // Garbage instead of HTTP: 400, connection closed.
    let mut garbage = TcpStream::connect(&addr).unwrap();
    garbage
        .write_all(&[0x16, 0x03, 0x01, 0xff, 0x00, b'\r', b'\n', b'\r', b'\n'])
        .unwrap();
    let answer = answer_within(&mut garbage, Duration::from_secs(5)).unwrap();
    assert!(
        answer.is_empty() || answer.starts_with("http/1.1 400"),
        "{answer}"
    );

    // An upload larger than the gateway takes: refused at creation; a body past the length
    // it announced: refused, and nothing past it is kept.
    let (sealed, bytes) = seal(&mut a, &resident(3));
    let id = sealed.entry.enrollment_id.clone();
    let max = rekam::packet::DEFAULT_BUDGET as u64;
    assert_eq!(
        refused(c.create_upload(&id, max + 1).unwrap_err()),
        "PACKET_TOO_LARGE"
    );
    let small = c
        .create_upload("00000000-0000-4000-8000-00000000000a", 10)
        .unwrap();
    assert_eq!(
        refused(c.patch(&small, 0, &[7u8; 20]).unwrap_err()),
        "BAD_REQUEST"
    );
    assert_eq!(c.offset(&small).unwrap(), 0);

    // An upload body that stalls halfway: 408 UPLOAD_TOO_SLOW after the pause limit, the
    // bytes that came are kept, the upload is free again.
    let upload = c.create_upload(&id, bytes.len() as u64).unwrap();
    let half = bytes.len() / 2;
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(patch_head(&c, &addr, &upload, 0, bytes.len()).as_bytes())
        .unwrap();
    slow.write_all(&bytes[..half]).unwrap();
    let started = Instant::now();
    let answer = answer_within(&mut slow, Duration::from_secs(5)).unwrap();
    // The pause limit cut it, not the request's own limit.
    assert!(
        started.elapsed() < LIMITS.upload_request,
        "{:?}",
        started.elapsed()
    );
    assert!(answer.starts_with("http/1.1 408"), "{answer}");
    assert!(answer.contains("upload_too_slow"), "{answer}");
    assert_eq!(c.offset(&upload).unwrap(), half as u64);

    // An upload dribbled just fast enough never to pause too long: cut off when the request
    // has lasted its limit, what came is kept.
    let mut dribble = TcpStream::connect(&addr).unwrap();
    dribble
        .write_all(patch_head(&c, &addr, &upload, half as u64, bytes.len() - half).as_bytes())
        .unwrap();
    let started = Instant::now();
    let mut sent = half;
    while sent < bytes.len() && started.elapsed() < Duration::from_secs(10) {
        if dribble.write_all(&bytes[sent..sent + 1]).is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let answer = answer_within(&mut dribble, Duration::from_secs(5)).unwrap_or_default();
    let lasted = started.elapsed();
    assert!(sent < bytes.len(), "the dribble was never cut off");
    assert!(lasted < Duration::from_secs(6), "{lasted:?}");
    assert!(
        answer.is_empty() || answer.contains("upload_too_slow"),
        "{answer}"
    );
    let held = c.offset(&upload).unwrap();
    assert!(
        held > half as u64 && held <= sent as u64,
        "{held} of {sent}"
    );

    // The honest station resumes from what the gateway holds and its packet is recorded once.
    // A machine so loaded that even the honest PATCH outlasts the test's short request limit
    // gets 408 like any station would, and resumes again, as the sync does.
    let mut first = None;
    let mut attempts = 0;
    let resumed = loop {
        attempts += 1;
        match c.upload(&id, &bytes, |at, _| {
            first.get_or_insert(at);
        }) {
            Err(e) if attempts < 4 && format!("{e:?}").contains("REQUEST_TIMEOUT") => continue,
            other => break other.unwrap(),
        }
    };
    assert_eq!((resumed.as_str(), first), (upload.as_str(), Some(held)));
    let receipt = c.commit(&id, &upload).unwrap();
    receipt
        .verify(&dc.identity, &id, &sealed.content_hash)
        .unwrap();
    assert_eq!(final_result(&c, &dc, &id).status, Status::PrintReadyRecord);
    let stations = dc.gw.stations(24 * 3600).unwrap();
    assert_eq!(stations.iter().map(|s| s.packets_received).sum::<i64>(), 1);
}

/// A made-up packet id for uploads that are never finished.
fn packet_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

#[test]
fn a_station_opening_uploads_without_end_holds_a_bounded_part_of_the_disk() {
    // Pauses long enough to hold uploads open on purpose while the test asks for more.
    let limits = Limits {
        upload_idle: Duration::from_secs(10),
        upload_request: Duration::from_secs(20),
        ..LIMITS
    };
    let dc = start_gateway(|c| c.limits = limits);
    let addr = dc.addr().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let mut honest = station(dir.path(), "KEC-H-02");
    let h = register(&dc, &mut honest);
    let mut hostile = station(dir.path(), "KEC-H-03");
    let x = register(&dc, &mut hostile);

    // The honest station's upload, half sent when the flood begins.
    let (sealed, bytes) = seal(&mut honest, &resident(4));
    let id = sealed.entry.enrollment_id.clone();
    let upload = h.create_upload(&id, bytes.len() as u64).unwrap();
    let half = bytes.len() / 2;
    h.patch(&upload, 0, &bytes[..half]).unwrap();

    // Twelve uploads opened and partly written by the other station: only its last four are
    // kept, the older ones are gone (a station whose upload was discarded creates it again).
    let flood: Vec<String> = (0..12)
        .map(|n| {
            let u = x.create_upload(&packet_id(n), 100_000).unwrap();
            x.patch(&u, 0, &[0x5a; 1000]).unwrap();
            u
        })
        .collect();
    let parts = std::fs::read_dir(dc.gw.config().data_dir.join("uploads"))
        .unwrap()
        .count();
    assert_eq!(
        parts,
        limits.open_uploads + 1,
        "the flood's four and the honest one"
    );
    // The discarded upload is unknown now (the code in the Rekam-Code header: HEAD has no
    // body), which the station retries by creating it again.
    assert_eq!(refused(x.offset(&flood[0]).unwrap_err()), "UPLOAD_UNKNOWN");
    assert_eq!(x.offset(&flood[11]).unwrap(), 1000);
    // The honest station asks on a new connection each time: the gateway closes an idle one
    // after this test's 500 ms header limit, and reusing it at that instant fails as a
    // dropped connection (the station's sync would try again; a test must not).
    let fresh = || DcClient::new(&dc.url, "KEC-H-02", honest.signing_key().unwrap()).unwrap();
    let h = fresh();
    assert_eq!(
        h.offset(&upload).unwrap(),
        half as u64,
        "another station's limit"
    );

    // Four uploads being written at this moment are not discarded: a fifth is refused with
    // 429 TOO_MANY_UPLOADS until one of them ends.
    let mut writing: Vec<TcpStream> = flood[8..]
        .iter()
        .map(|u| {
            let mut tcp = TcpStream::connect(&addr).unwrap();
            tcp.write_all(patch_head(&x, &addr, u, 1000, 50_000).as_bytes())
                .unwrap();
            tcp.write_all(&[0x5a; 10]).unwrap();
            tcp
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    while flood[8..].iter().any(|u| x.offset(u).unwrap() < 1010) {
        assert!(Instant::now() < deadline, "the held uploads never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        refused(x.create_upload(&packet_id(12), 100_000).unwrap_err()),
        "TOO_MANY_UPLOADS"
    );
    writing.pop();
    let deadline = Instant::now() + Duration::from_secs(5);
    let created = loop {
        match x.create_upload(&packet_id(12), 100_000) {
            Ok(u) => break u,
            Err(e) => assert_eq!(refused(e), "TOO_MANY_UPLOADS"),
        }
        assert!(
            Instant::now() < deadline,
            "the dropped upload was never released"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(x.offset(&created).unwrap(), 0);
    drop(writing);

    // The honest station finishes from where it was, recorded once.
    let h = fresh();
    let resumed = h.upload(&id, &bytes, |_, _| {}).unwrap();
    assert_eq!(resumed, upload);
    h.commit(&id, &upload)
        .unwrap()
        .verify(&dc.identity, &id, &sealed.content_hash)
        .unwrap();
    assert_eq!(final_result(&h, &dc, &id).status, Status::PrintReadyRecord);
}

/// Connections to `port` this process has accepted: sockets it holds whose local port is the
/// gateway's (`/proc/net/tcp`), the listening one left out. Connections the kernel has queued
/// but nobody accepted are in `/proc/net/tcp` too, but in no file descriptor of the process.
fn accepted_on(port: u16) -> usize {
    let inodes: std::collections::HashSet<String> = std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port = u16::from_str_radix(f.get(1)?.rsplit(':').next()?, 16).ok()?;
            let listening = f.get(3)? == &"0A";
            (local_port == port && !listening).then(|| f.get(9).map(|i| i.to_string()))?
        })
        .collect();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|link| {
            let l = link.to_string_lossy();
            l.strip_prefix("socket:[")
                .and_then(|r| r.strip_suffix(']'))
                .is_some_and(|inode| inodes.contains(inode))
        })
        .count()
}

#[test]
fn a_flood_of_connections_that_never_handshake_holds_a_bounded_number_of_sockets() {
    let dc = start_gateway(|c| {
        c.tls = true;
        c.limits = LIMITS;
    });
    let addr = dc.addr().to_owned();
    // More silent connections than the handshake limit, fewer than the kernel queues: each
    // connects, none sends a byte of TLS.
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    let flood: Vec<TcpStream> = (0..120)
        .filter_map(|_| {
            TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_millis(500)).ok()
        })
        .collect();
    assert!(flood.len() >= 100, "{} connected", flood.len());
    std::thread::sleep(Duration::from_millis(500));
    // Without the limit the gateway accepts one socket per connection; with it, the limit's.
    let held = accepted_on(port);
    assert!(
        held <= LIMITS.handshakes,
        "the gateway holds {held} sockets"
    );
    assert!(
        held > 0,
        "the gateway accepted nothing: the count sees nothing"
    );

    // The flood gone, an honest station is served over TLS.
    drop(flood);
    let identity = rekam_sync::identity(&dc.url, Some(&dc.identity)).unwrap();
    assert_eq!(identity.dc_id, dc.identity.dc_id);
}
