//! The station and the reference gateway over real HTTP on 127.0.0.1: registration, sealing a
//! generated resident, tus uploads (cut and resumed), commits (repeated), receipts, results,
//! heartbeats, key rotation, and every refusal of the packet issue.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use rekam::clock::SystemClock;
use rekam::domain::nik::Nik;
use rekam_gateway::{Config, Gateway};
use rekam_packet::protocol::{BacklogSummary, Heartbeat, KeyRotation, Registration, Status};
use rekam_packet::{StationKey, sha256};
use rekam_sync::{DcClient, SyncError};
use rekam_synth::recording::SynthRecording;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Rewrites a packet's bytes before the signature with `edit` and signs them with `key`.
fn resign(bytes: &[u8], key: &StationKey, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut body = bytes[..bytes.len() - 64].to_vec();
    edit(&mut body);
    let hash = sha256(&[&body]);
    let sig = key.sign(&[b"REKAM-PACKET-V1\0".as_slice(), &hash].concat());
    body.extend_from_slice(&sig);
    body
}

fn commit_bytes(
    c: &DcClient,
    packet_id: &str,
    bytes: &[u8],
) -> Result<rekam_packet::protocol::Receipt, SyncError> {
    let upload = c.upload(packet_id, bytes, |_, _| {})?;
    c.commit(packet_id, &upload)
}

#[test]
fn a_generated_resident_travels_from_station_to_print_ready_and_each_forgery_is_refused() {
    let dc = start_gateway(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-A-01");
    let ca = register(&dc, &mut a);
    let r0 = resident(0);

    let (sealed, bytes) = seal(&mut a, &r0);
    let id = sealed.entry.enrollment_id.clone();
    // The station cannot read its own packet: nothing it holds opens it.
    assert!(
        !bytes
            .windows(16)
            .any(|w| w == r0.recording.manifest.biodata.nik.as_str().as_bytes())
    );

    // Forgeries first, while the packet is not recorded.
    let key_a = a.signing_key().unwrap();
    let sig_start = bytes.len() - 64;
    let mut flipped = bytes.clone();
    flipped[sig_start - 100] ^= 1;
    assert_eq!(
        refused(commit_bytes(&ca, &id, &flipped).unwrap_err()),
        "BAD_SIGNATURE"
    );
    let altered = resign(&bytes, &key_a, |b| {
        let n = b.len();
        b[n - 50] ^= 1;
    });
    assert_eq!(
        refused(commit_bytes(&ca, &id, &altered).unwrap_err()),
        "PACKET_ALTERED"
    );
    // A valid signature over the same bytes, by a key that is not the station's.
    let swapped = resign(&bytes, &StationKey::generate().unwrap(), |_| {});
    assert_eq!(
        refused(commit_bytes(&ca, &id, &swapped).unwrap_err()),
        "BAD_SIGNATURE"
    );
    let mut v2 = resign(&bytes, &key_a, |b| b[4] = 2);
    assert_eq!(
        refused(commit_bytes(&ca, &id, &v2).unwrap_err()),
        "PACKET_UNKNOWN_VERSION"
    );
    v2.truncate(0);

    // Replayed by another station: its id is A's, refused before a byte is sent; handed to
    // the gateway as B's anyway, its header names A; re-signed by B under B's name, the id is
    // still A's.
    let mut b = station(dir.path(), "KEC-B-01");
    let cb = register(&dc, &mut b);
    assert_eq!(
        refused(commit_bytes(&cb, &id, &bytes).unwrap_err()),
        "PACKET_ID_NOT_YOURS"
    );
    assert_eq!(
        dc.gw.record("KEC-B-01", &id, &bytes).unwrap_err().code,
        "STATION_MISMATCH"
    );
    let key_b = b.signing_key().unwrap();
    let replayed = resign(&bytes, &key_b, |h| {
        // Same length ids: "KEC-A-01" -> "KEC-B-01", then B's key id.
        let at = 4 + 1 + 1 + 16 + 1;
        h[at..at + 8].copy_from_slice(b"KEC-B-01");
        h[at + 8..at + 16].copy_from_slice(&key_b.id().0);
    });
    assert_eq!(
        refused(commit_bytes(&cb, &id, &replayed).unwrap_err()),
        "PACKET_ID_NOT_YOURS"
    );

    // The genuine packet: a verified receipt naming the packet and its content hash.
    let receipt = ca.send(&bytes, &dc.identity).unwrap();
    assert_eq!(receipt.packet_id, id);
    assert_eq!(receipt.content_hash, hex::encode(sealed.content_hash));
    let result = final_result(&ca, &dc, &id);
    assert_eq!(result.status, Status::PrintReadyRecord, "{result:?}");
    result.verify(&dc.identity).unwrap();

    // A repeated commit, and the same packet uploaded and committed again: the same receipt,
    // one record.
    let upload = ca.upload(&id, &bytes, |_, _| {}).unwrap();
    assert_eq!(ca.commit(&id, &upload).unwrap(), receipt);
    assert_eq!(ca.commit(&id, &upload).unwrap(), receipt);
    let feed = ca.results(0, &dc.identity).unwrap();
    let sent = feed
        .events
        .iter()
        .filter(|e| e.packet_id == id && e.status == Status::SentForEnrollment)
        .count();
    assert_eq!(sent, 1);
    let stations = dc.gw.stations(24 * 3600).unwrap();
    assert_eq!(stations.iter().map(|s| s.packets_received).sum::<i64>(), 1);

    // After the genuine packet is recorded, a replay under another station's name is still
    // not that station's id.
    assert_eq!(
        refused(commit_bytes(&cb, &id, &replayed).unwrap_err()),
        "PACKET_ID_NOT_YOURS"
    );

    // Unknown station, clock skew.
    let stranger = DcClient::new(&dc.url, "KEC-X-01", StationKey::generate().unwrap()).unwrap();
    assert_eq!(
        refused(stranger.create_upload(&id, 10).unwrap_err()),
        "STATION_UNKNOWN"
    );
    let skewed = DcClient::new(&dc.url, "KEC-A-01", a.signing_key().unwrap())
        .unwrap()
        .with_clock_offset(3600);
    assert_eq!(
        refused(skewed.results(0, &dc.identity).unwrap_err()),
        "CLOCK_SKEW"
    );
}

#[test]
fn an_upload_cut_mid_body_resumes_from_the_gateway_offset() {
    let dc = start_gateway(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-C-01");
    let c = register(&dc, &mut a);
    let (sealed, bytes) = seal(&mut a, &resident(1));
    let id = sealed.entry.enrollment_id;
    let upload = c.create_upload(&id, bytes.len() as u64).unwrap();

    // A PATCH that announces every byte, sends 40% and drops the connection.
    let half = bytes.len() * 2 / 5;
    let addr = dc.addr();
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.write_all(patch_head(&c, addr, &upload, 0, bytes.len()).as_bytes())
        .unwrap();
    tcp.write_all(&bytes[..half]).unwrap();
    tcp.flush().unwrap();
    tcp.shutdown(std::net::Shutdown::Both).unwrap();
    let mut sink = Vec::new();
    let _ = tcp.read_to_end(&mut sink);

    // The gateway kept what arrived; the client sends only the rest.
    let deadline = Instant::now() + Duration::from_secs(10);
    let held = loop {
        let held = c.offset(&upload).unwrap();
        if held == half as u64 || Instant::now() > deadline {
            break held;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(held, half as u64);
    let mut first = None;
    let again = c
        .upload(&id, &bytes, |sent, _| {
            first.get_or_insert(sent);
        })
        .unwrap();
    assert_eq!(again, upload, "the same upload continues");
    assert_eq!(first, Some(half as u64), "resumed at the gateway's offset");
    let receipt = c.commit(&id, &upload).unwrap();
    receipt
        .verify(&dc.identity, &id, &sealed.content_hash)
        .unwrap();

    // The tus layer: OPTIONS tells what the server speaks; a request without Tus-Resumable
    // is refused with the version it needs.
    let raw = |request: &str| {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).unwrap();
        answer.to_lowercase()
    };
    let options = raw(&format!(
        "OPTIONS /v1/uploads HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    ));
    assert!(options.starts_with("http/1.1 204"), "{options}");
    for header in [
        "tus-version: 1.0.0",
        "tus-extension: creation",
        "tus-resumable: 1.0.0",
    ] {
        assert!(options.contains(header), "{options}");
    }
    let old = raw(&format!(
        "POST /v1/uploads HTTP/1.1\r\nhost: {addr}\r\nupload-length: 10\r\n\
         content-length: 0\r\nconnection: close\r\n\r\n"
    ));
    assert!(old.starts_with("http/1.1 412"), "{old}");
    assert!(
        old.contains("tus-version: 1.0.0") && old.contains("tus_version"),
        "{old}"
    );

    // An offset the gateway does not hold is refused with what it holds.
    let upload2 = c
        .create_upload("00000000-0000-4000-8000-000000000000", 10)
        .unwrap();
    assert_eq!(
        refused(c.patch(&upload2, 5, b"x").unwrap_err()),
        "OFFSET_MISMATCH"
    );

    // A HEAD answer has no body: the code of a refused one travels in a header, so that the
    // station knows an upload it lost (discarded, or another station's) from any other 404.
    assert_eq!(
        refused(c.offset("0123456789abcdef").unwrap_err()),
        "UPLOAD_UNKNOWN"
    );
}

#[test]
fn duplicates_by_nik_and_by_biometrics_name_the_first_record() {
    let dc = start_gateway(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-D-01");
    let ca = register(&dc, &mut a);
    let mut b = station(dir.path(), "KEC-D-02");
    let cb = register(&dc, &mut b);
    let r = resident(2);
    let (first, bytes) = seal(&mut a, &r);
    ca.send(&bytes, &dc.identity).unwrap();
    let first_id = first.entry.enrollment_id;
    assert_eq!(
        final_result(&ca, &dc, &first_id).status,
        Status::PrintReadyRecord
    );

    // The same resident at another station, same NIK: the data center's de-duplication.
    let (second, bytes) = seal(&mut b, &r);
    cb.send(&bytes, &dc.identity).unwrap();
    let dup = final_result(&cb, &dc, &second.entry.enrollment_id);
    assert_eq!(dup.status, Status::DuplicateRecord);
    // Another station's record: named by the data center's reference, not its packet id.
    assert_eq!(dup.matched_packet.as_deref(), Some("DC-00000001"));

    // The same fingers and irises under another NIK: the biometric engine finds the person.
    let mut c = station(dir.path(), "KEC-D-03");
    let cc = register(&dc, &mut c);
    let mut other = r.recording.clone();
    other.manifest.biodata.nik = Nik::parse("3273015505990009").unwrap();
    let (third, bytes) = seal(
        &mut c,
        &SynthRecording {
            recording: other,
            person: r.person.clone(),
        },
    );
    cc.send(&bytes, &dc.identity).unwrap();
    let dup = final_result(&cc, &dc, &third.entry.enrollment_id);
    assert_eq!(dup.status, Status::DuplicateRecord, "{dup:?}");
    assert_eq!(dup.matched_packet.as_deref(), Some("DC-00000001"));
    // (A station's own earlier record is named by its packet id: the crash campaigns check
    // that every such name is one of the station's own recordings.)
    assert!(
        dup.reason
            .as_deref()
            .unwrap_or("")
            .contains("fingers and irises agree")
    );
}

#[test]
fn registration_rotation_heartbeats_and_limits() {
    let dc = start_gateway(|c| c.max_packet = 4096);
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-E-01");

    // A token is for one station, once.
    let token = dc.gw.issue_token("KEC-E-01").unwrap();
    let reg = a.registration(&token).unwrap();
    let forged = Registration {
        station_id: "KEC-E-99".into(),
        ..reg.clone()
    };
    assert_eq!(
        refused(rekam_sync::register(&dc.url, None, &forged).unwrap_err()),
        "BAD_SIGNATURE"
    );
    let answered = rekam_sync::register(&dc.url, None, &reg).unwrap();
    assert_eq!(
        refused(rekam_sync::register(&dc.url, None, &reg).unwrap_err()),
        "TOKEN_INVALID"
    );
    // An identity file other than the gateway's is not pinned.
    let mut wrong = dc.identity.clone();
    wrong.receipt_key = wrong.packet_key.clone();
    assert!(a.pin_data_center(&wrong, &answered, "test").is_err());
    a.pin_data_center(&dc.identity, &answered, "test").unwrap();

    // Oversize: refused at creation, before a byte is sent.
    let c = DcClient::new(&dc.url, "KEC-E-01", a.signing_key().unwrap()).unwrap();
    assert_eq!(
        refused(
            c.create_upload("00000000-0000-4000-8000-000000000001", 5000)
                .unwrap_err()
        ),
        "PACKET_TOO_LARGE"
    );

    // Rotation: the old key's word admits the new key; requests signed with the new key pass.
    let rotation = a.begin_key_rotation().unwrap();
    c.rotate(&rotation).unwrap();
    a.finish_key_rotation("test").unwrap();
    let c2 = DcClient::new(&dc.url, "KEC-E-01", a.signing_key().unwrap()).unwrap();
    assert_ne!(a.signing_key().unwrap().id(), rotation.old_key);

    // A heartbeat with records waiting for two days: the station is listed as stuck.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut backlog = BacklogSummary {
        oldest_unsent_at: Some(now - 48 * 3600),
        last_error: Some("TRANSPORT: connection refused".into()),
        ..Default::default()
    };
    backlog.counts.insert("BIO_CAPTURED".into(), 12);
    backlog.counts.insert("REISSUE_WAITING".into(), 2);
    c2.heartbeat(&Heartbeat {
        version: "test".into(),
        backlog,
    })
    .unwrap();
    let stuck = dc.gw.stations(24 * 3600).unwrap();
    let s = stuck.iter().find(|s| s.station_id == "KEC-E-01").unwrap();
    assert_eq!(s.waiting, 12);
    assert!(
        s.problems.iter().any(|p| p.contains("mengendap")),
        "{:?}",
        s.problems
    );
    assert!(
        s.problems
            .iter()
            .any(|p| p.contains("2 reissue requests not answered")),
        "{:?}",
        s.problems
    );
    assert!(s.problems.iter().any(|p| p.contains("connection refused")));
}

/// The recording with every finger and eye an approved exception: nothing to match with.
fn without_biometrics(r: &SynthRecording) -> SynthRecording {
    use rekam::packet::{CaptureException, ExceptionReason, Modality};
    let mut rec = r.recording.clone();
    let old = std::mem::take(&mut rec.records);
    rec.manifest.finger_templates = None;
    for c in &mut rec.manifest.captures {
        if matches!(c.modality, Modality::Finger | Modality::Iris) {
            c.record = None;
            c.quality = None;
            c.exception = Some(CaptureException {
                reason: ExceptionReason::Bandaged,
                approved_by: "SPV-01".into(),
            });
        }
        for i in [&mut c.record, &mut c.strokes].into_iter().flatten() {
            rec.records.push(old[*i as usize].clone());
            *i = (rec.records.len() - 1) as u32;
        }
    }
    SynthRecording {
        recording: rec,
        person: rekam_bio::person::PersonTemplate::from_fingers(Vec::new()),
    }
}

#[test]
fn a_packet_the_data_center_cannot_enroll_is_failed_and_queued_again_when_resent() {
    let dc = start_gateway(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-F-01");
    let c = register(&dc, &mut a);
    let (sealed, bytes) = seal(&mut a, &without_biometrics(&resident(3)));
    let id = sealed.entry.enrollment_id;
    let receipt = c.send(&bytes, &dc.identity).unwrap();
    let failed = final_result(&c, &dc, &id);
    assert_eq!(failed.status, Status::EnrollFailureAtCentral);
    assert!(failed.reason.unwrap().contains("send again"));

    // The resend: the same receipt, the packet queued again (and failed again: nothing
    // changed), still one record.
    assert_eq!(c.send(&bytes, &dc.identity).unwrap(), receipt);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let events = c.results(0, &dc.identity).unwrap().events;
        let statuses: Vec<Status> = events.iter().map(|e| e.status).collect();
        if statuses
            == [
                Status::SentForEnrollment,
                Status::EnrollFailureAtCentral,
                Status::SentForEnrollment,
                Status::EnrollFailureAtCentral,
            ]
        {
            break;
        }
        assert!(Instant::now() < deadline, "{statuses:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(dc.gw.stations(3600).unwrap()[0].packets_received, 1);
}

/// Any gateway process on the data directory resumes any upload: while the request that began
/// it is still open at the first process (its link stalled), the second refuses to write it
/// (`UPLOAD_BUSY`) rather than interleave bytes; once the first lets go, the station resumes
/// at the second from the offset both see, and commits there.
#[test]
fn an_upload_begun_at_one_gateway_process_is_resumed_and_committed_at_another() {
    let dc = start_gateway(|_| {});
    let (_second, _running, second_url) = dc.second_process();
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-P-01");
    let c = register(&dc, &mut a);
    let c2 = DcClient::new(&second_url, "KEC-P-01", a.signing_key().unwrap()).unwrap();
    let (sealed, bytes) = seal(&mut a, &resident(13));
    let id = sealed.entry.enrollment_id;
    let upload = c.create_upload(&id, bytes.len() as u64).unwrap();

    let part = bytes.len() * 2 / 5;
    let addr = dc.addr();
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.write_all(patch_head(&c, addr, &upload, 0, bytes.len()).as_bytes())
        .unwrap();
    tcp.write_all(&bytes[..part]).unwrap();
    tcp.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while c2.offset(&upload).unwrap() < part as u64 {
        assert!(Instant::now() < deadline, "the first process never wrote");
        std::thread::sleep(Duration::from_millis(20));
    }
    let busy = c2.upload(&id, &bytes, |_, _| {}).unwrap_err();
    assert_eq!(refused(busy), "UPLOAD_BUSY");
    // The refusal came before the PATCH's body was read, so the gateway closed that
    // connection; a new client asks on a connection of its own.
    let c2 = DcClient::new(&second_url, "KEC-P-01", a.signing_key().unwrap()).unwrap();
    assert_eq!(
        c2.offset(&upload).unwrap(),
        part as u64,
        "nothing interleaved"
    );

    // The link drops: the first process keeps what arrived and lets go.
    tcp.shutdown(std::net::Shutdown::Both).unwrap();
    let mut sink = Vec::new();
    let _ = tcp.read_to_end(&mut sink);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut first = None;
    let resumed = loop {
        match c2.upload(&id, &bytes, |sent, _| {
            first.get_or_insert(sent);
        }) {
            Ok(u) => break u,
            // Busy until the first lets go (each refusal closes its connection, and the
            // station's sync takes a dropped connection as a reason to try again, too).
            Err(e) => {
                assert!(
                    matches!(&e, SyncError::Refused { code, .. } if code == "UPLOAD_BUSY")
                        || matches!(&e, SyncError::Transport { .. }),
                    "{e}"
                );
                assert!(Instant::now() < deadline, "the first process never let go");
                first = None;
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    assert_eq!(resumed, upload, "the same upload continues");
    assert_eq!(
        first,
        Some(part as u64),
        "resumed at the offset the first kept"
    );
    let receipt = c2.commit(&id, &upload).unwrap();
    receipt
        .verify(&dc.identity, &id, &sealed.content_hash)
        .unwrap();
    assert_eq!(c.commit(&id, &upload).unwrap(), receipt, "one receipt");
    assert_eq!(dc.packets(), 1);
}

/// The object store unwritable (a full or failed disk; here its folder taken by a file): the
/// commit is refused as unavailable, nothing is recorded and the upload is kept; once the store
/// is back, the station's retry is recorded, once.
#[test]
fn an_unwritable_object_store_refuses_the_commit_and_the_retry_succeeds() {
    let objects = tempfile::tempdir().unwrap();
    let at = rekam_gateway::objects::ObjectsAt::Directory(objects.path().to_owned());
    let dc = start_gateway(|c| c.objects = Some(at));
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-U-01");
    let c = register(&dc, &mut a);
    let (sealed, bytes) = seal(&mut a, &resident(16));
    let id = sealed.entry.enrollment_id;
    let upload = c.upload(&id, &bytes, |_, _| {}).unwrap();
    let blocker = objects.path().join("packets");
    let _ = std::fs::remove_dir_all(&blocker);
    std::fs::write(&blocker, b"not a folder").unwrap();
    let e = c.commit(&id, &upload).unwrap_err();
    match &e {
        SyncError::Refused { status, code, .. } => {
            assert_eq!((*status, code.as_str()), (503, "STORAGE_UNAVAILABLE"));
        }
        other => panic!("{other}"),
    }
    assert!(rekam::sync::classify(&e).transient, "the station retries");
    assert_eq!(dc.packets(), 0, "nothing recorded");
    std::fs::remove_file(&blocker).unwrap();
    let receipt = c.commit(&id, &upload).unwrap();
    receipt
        .verify(&dc.identity, &id, &sealed.content_hash)
        .unwrap();
    assert_eq!(dc.packets(), 1);
}

/// Several gateway processes on one database decide results one at a time (the matcher's
/// lease): a process that takes over after the holder stopped reloads the gallery first, so a
/// person the first decided is found by the second under another NIK; no result twice.
#[test]
fn the_matcher_lease_passes_to_another_process_with_the_whole_gallery() {
    let dc = start_gateway(|c| c.matcher_lease = Duration::from_secs(1));
    // The second process opens now, its gallery empty, and does not decide yet.
    let second = Gateway::open(
        Config {
            results_delay: Duration::ZERO,
            matcher_lease: Duration::from_secs(1),
            ..Config::new(&dc.gw.config().data_dir)
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-L-01");
    let c = register(&dc, &mut a);
    let r = resident(2);
    let (first, bytes) = seal(&mut a, &r);
    c.send(&bytes, &dc.identity).unwrap();
    assert_eq!(
        final_result(&c, &dc, &first.entry.enrollment_id).status,
        Status::PrintReadyRecord
    );
    assert!(!second.hold_matcher_lease().unwrap(), "the first holds it");

    // The first process stops; the second takes the lease once it lapses, and serves.
    let identity = dc.identity.clone();
    let _dir = dc.stop();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !second.hold_matcher_lease().unwrap() {
        assert!(Instant::now() < deadline, "the lease never lapsed");
        std::thread::sleep(Duration::from_millis(100));
    }
    let running = second.clone().spawn("127.0.0.1:0").unwrap();
    let c2 = DcClient::new(
        &format!("http://{}", running.addr),
        "KEC-L-01",
        a.signing_key().unwrap(),
    )
    .unwrap();
    let mut other = r.recording.clone();
    other.manifest.biodata.nik = Nik::parse("3273015505990009").unwrap();
    let (again, bytes) = seal(
        &mut a,
        &SynthRecording {
            recording: other,
            person: r.person.clone(),
        },
    );
    c2.send(&bytes, &identity).unwrap();
    let id = again.entry.enrollment_id;
    let deadline = Instant::now() + Duration::from_secs(60);
    let events = loop {
        let events = c2.results(0, &identity).unwrap().events;
        if events
            .iter()
            .any(|e| e.packet_id == id && e.status != Status::SentForEnrollment)
        {
            break events;
        }
        assert!(Instant::now() < deadline, "no result for {id}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let decided: Vec<&rekam_packet::protocol::ResultEvent> = events
        .iter()
        .filter(|e| e.status != Status::SentForEnrollment)
        .collect();
    assert_eq!(decided.len(), 2, "one result a packet: {decided:?}");
    assert_eq!(
        decided[1].status,
        Status::DuplicateRecord,
        "{:?}",
        decided[1]
    );
    assert_eq!(
        decided[1].matched_packet.as_deref(),
        Some(first.entry.enrollment_id.as_str())
    );
    running.stop();
}

/// Two gateway processes on one data directory committing the same packet at the same
/// instant: both answer with the one receipt, and the packet is recorded once.
#[test]
fn two_processes_committing_one_packet_at_once_record_it_once() {
    let dc = start_gateway(|_| {});
    let (_second, _running, second_url) = dc.second_process();
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-T-01");
    let c = register(&dc, &mut a);
    let c2 = DcClient::new(&second_url, "KEC-T-01", a.signing_key().unwrap()).unwrap();
    let rounds = 6;
    for i in 0..rounds {
        let (sealed, bytes) = seal(&mut a, &resident(20 + i));
        let id = sealed.entry.enrollment_id;
        let upload = c.upload(&id, &bytes, |_, _| {}).unwrap();
        let barrier = std::sync::Barrier::new(2);
        let (one, two) = std::thread::scope(|s| {
            let first = s.spawn(|| {
                barrier.wait();
                c.commit(&id, &upload)
            });
            let second = s.spawn(|| {
                barrier.wait();
                c2.commit(&id, &upload)
            });
            (first.join().unwrap(), second.join().unwrap())
        });
        let (one, two) = (one.unwrap(), two.unwrap());
        assert_eq!(one, two, "one receipt for packet {id}");
        one.verify(&dc.identity, &id, &sealed.content_hash).unwrap();
    }
    assert_eq!(dc.packets(), rounds as i64);
}

/// A reissue request is answered once, signed, over HTTP: the same request again gets the
/// same answer, another station cannot take its id, a data change must carry the register's
/// biodata of that resident, a resident with no clean record is refused with what to do, and
/// only a station of the regency where the resident lives serves them (after a move, the new
/// one, whose Dinas then prints the card).
#[test]
fn reissue_requests_are_answered_once_signed_and_refused_with_what_to_do() {
    use rekam::domain::case::CaseType;
    use rekam::domain::reissue::ReissueRequest;
    let dc = start_gateway(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-Q-01");
    let c = register(&dc, &mut a);
    let mut b = station(dir.path(), "KEC-Q-02");
    let c2 = register(&dc, &mut b);
    let (sealed, bytes) = seal(&mut a, &resident(14));
    c.send(&bytes, &dc.identity).unwrap();
    let id = sealed.entry.enrollment_id;
    assert_eq!(final_result(&c, &dc, &id).status, Status::PrintReadyRecord);
    let recorded = resident(14).recording.manifest.biodata;
    let req = |request_id: &str, case, nik: &str, biodata| ReissueRequest {
        request_id: request_id.into(),
        case,
        nik: nik.into(),
        packet_id: None,
        evidence: Vec::new(),
        biodata,
        new_address: None,
        requested_at: 0,
    };
    let decision = |c: &DcClient, station: &str, r: &ReissueRequest| {
        let answer = c.reissue(&r.request_id, r).unwrap();
        answer
            .verify(&dc.identity, station, &r.request_id)
            .unwrap()
            .clone()
    };

    let lost = req("R-LOST", CaseType::LostCard, recorded.nik.as_str(), None);
    let first = decision(&c, "KEC-Q-01", &lost);
    assert_eq!(
        (first.packet_id.as_deref(), first.refused.as_deref()),
        (Some(id.as_str()), None)
    );
    assert_eq!(
        decision(&c, "KEC-Q-01", &lost),
        first,
        "the same answer again"
    );
    let taken = c2.reissue("R-LOST", &lost).unwrap_err();
    assert_eq!(refused(taken), "REQUEST_ID_TAKEN");

    let change = req(
        "R-CHANGE",
        CaseType::DataChange,
        recorded.nik.as_str(),
        None,
    );
    assert_eq!(
        decision(&c, "KEC-Q-01", &change).refused.as_deref(),
        Some("BIODATA_MISSING")
    );
    let other = resident(15).recording.manifest.biodata;
    let wrong = req(
        "R-WRONG",
        CaseType::DataChange,
        recorded.nik.as_str(),
        Some(other.clone()),
    );
    assert_eq!(
        decision(&c, "KEC-Q-01", &wrong).refused.as_deref(),
        Some("BIODATA_MISMATCH")
    );
    let nobody = req("R-NOBODY", CaseType::LostCard, other.nik.as_str(), None);
    let no = decision(&c, "KEC-Q-01", &nobody);
    assert_eq!(no.refused.as_deref(), Some("NO_CLEAN_RECORD"));
    assert!(no.reason.contains("record the resident"), "{}", no.reason);
    let recording = req("R-REC", CaseType::NewRecording, recorded.nik.as_str(), None);
    assert_eq!(
        decision(&c, "KEC-Q-01", &recording).refused.as_deref(),
        Some("NOT_A_REISSUE")
    );

    // A resident asks where they live: a station of another regency (Kota Surabaya, 35.78)
    // cannot retire the card of a resident of Kota Bandung (32.73)...
    let mut far = station_in(dir.path(), "KEC-Q-03", "35.78.01");
    let c3 = register(&dc, &mut far);
    let nik = recorded.nik.as_str();
    let from_far = decision(
        &c3,
        "KEC-Q-03",
        &req("R-FAR", CaseType::LostCard, nik, None),
    );
    assert_eq!(from_far.refused.as_deref(), Some("NOT_THIS_REGENCY"));
    assert!(
        from_far.reason.contains("35.78") && !from_far.reason.contains("32.73"),
        "names the station's regency, never where the resident lives: {}",
        from_far.reason
    );
    // ...but serves the resident who moved there, with the move's biodata: the record goes to
    // the print queue of the new regency's Dinas, and the old regency no longer serves them.
    let mut moved = recorded.clone();
    moved.address.village = rekam::domain::region::RegionCode::parse("35.78.01.1001").unwrap();
    let move_in = req("R-MOVE", CaseType::MovingIn, nik, Some(moved));
    assert_eq!(decision(&c3, "KEC-Q-03", &move_in).refused, None);
    let mut dinas_far = station_in(dir.path(), "DINAS-3578", "35.78.02");
    register_as(&dc, &mut dinas_far, rekam_gateway::StationRole::Dinas);
    let mut dinas_home = station_in(dir.path(), "DINAS-3273", "32.73.02");
    register_as(&dc, &mut dinas_home, rekam_gateway::StationRole::Dinas);
    let queued = |dinas: &str| {
        dc.gw
            .print_queue(dinas)
            .unwrap()
            .iter()
            .any(|q| q.packet_id == id)
    };
    assert!(queued("DINAS-3578") && !queued("DINAS-3273"));
    let after_move = decision(
        &c,
        "KEC-Q-01",
        &req("R-LOST-2", CaseType::LostCard, nik, None),
    );
    assert_eq!(after_move.refused.as_deref(), Some("NOT_THIS_REGENCY"));
}

/// A counter whose only link is its kecamatan server sends its reissue request through it,
/// sealed to the data center and signed with its key: the data center answers as if the
/// counter had asked, once; a server of another kecamatan, a counter posing as a server and a
/// request changed on the way are refused.
#[test]
fn a_kecamatan_server_carries_its_counters_reissue_requests_and_nothing_else() {
    use rekam::domain::case::CaseType;
    use rekam::domain::reissue::ReissueRequest;
    use rekam_gateway::StationRole;
    use rekam_packet::reissue::RelayedReissue;
    let dc = start_gateway(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let mut counter = station(dir.path(), "KEC-RR-01");
    let c = register(&dc, &mut counter);
    let (sealed, bytes) = seal(&mut counter, &resident(17));
    c.send(&bytes, &dc.identity).unwrap();
    let id = sealed.entry.enrollment_id;
    assert_eq!(final_result(&c, &dc, &id).status, Status::PrintReadyRecord);
    let nik = resident(17).recording.manifest.biodata.nik;
    let request = ReissueRequest {
        request_id: "R-HUB-1".into(),
        case: CaseType::LostCard,
        nik: nik.as_str().into(),
        packet_id: None,
        evidence: Vec::new(),
        biodata: None,
        new_address: None,
        requested_at: 0,
    };
    let relayed = RelayedReissue::new(
        &counter.signing_key().unwrap(),
        &dc.identity,
        "KEC-RR-01",
        "R-HUB-1",
        &serde_json::to_vec(&request).unwrap(),
    )
    .unwrap();

    // A counter is not a kecamatan server; a server of another kecamatan carries nothing of it.
    assert_eq!(refused(c.relay_reissue(&relayed).unwrap_err()), "NOT_A_HUB");
    let mut other = station_in(dir.path(), "HUB-327302", "32.73.02");
    let o = register_as(&dc, &mut other, StationRole::Hub);
    assert_eq!(
        refused(o.relay_reissue(&relayed).unwrap_err()),
        "NOT_THE_HUBS_KECAMATAN"
    );
    // Its own server: answered, signed for the counter, and the same again.
    let mut hub = station(dir.path(), "HUB-327301");
    let h = register_as(&dc, &mut hub, StationRole::Hub);
    let answer = h.relay_reissue(&relayed).unwrap();
    let decision = answer.verify(&dc.identity, "KEC-RR-01", "R-HUB-1").unwrap();
    assert_eq!(
        (decision.packet_id.as_deref(), decision.refused.as_deref()),
        (Some(id.as_str()), None)
    );
    assert_eq!(h.relay_reissue(&relayed).unwrap(), answer, "once");
    // The counter asking itself gets the same answer: one request, whoever carried it.
    assert_eq!(c.reissue("R-HUB-1", &request).unwrap(), answer);

    // Changed on the way: the counter's signature no longer holds.
    let mut changed = RelayedReissue::new(
        &counter.signing_key().unwrap(),
        &dc.identity,
        "KEC-RR-01",
        "R-HUB-2",
        &serde_json::to_vec(&request).unwrap(),
    )
    .unwrap();
    changed.station_id = "KEC-RR-02".into();
    assert!(h.relay_reissue(&changed).is_err());
    changed.station_id = "KEC-RR-01".into();
    changed.signature = relayed.signature.clone();
    assert_eq!(
        refused(h.relay_reissue(&changed).unwrap_err()),
        "BAD_SIGNATURE"
    );
}

/// Sealed packets live in the object store under their hash, not in the database: a copy
/// damaged at rest is refused when read (the packet failed, never matched on bad bytes) and
/// the station's resend repairs it; a database from before the store has its packets moved
/// out when it is opened, and they are matched from there.
#[test]
fn packets_live_in_the_object_store_and_a_damaged_copy_is_repaired_by_the_resend() {
    let objects = tempfile::tempdir().unwrap();
    let at = rekam_gateway::objects::ObjectsAt::Directory(objects.path().to_owned());
    let dc = start_gateway(|c| {
        c.objects = Some(at.clone());
        // Time to damage a copy, or rewrite the database, before the packet is matched.
        c.results_delay = Duration::from_secs(5);
    });
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-O-01");
    let c = register(&dc, &mut a);
    let file = |bytes: &[u8]| {
        let name = rekam_gateway::objects::address(bytes);
        objects.path().join("packets").join(&name[..2]).join(name)
    };

    let (sealed, bytes) = seal(&mut a, &resident(11));
    let id = sealed.entry.enrollment_id;
    let receipt = c.send(&bytes, &dc.identity).unwrap();
    assert_eq!(
        std::fs::read(file(&bytes)).unwrap(),
        bytes,
        "stored as sent"
    );
    // Damaged before it is matched: refused by its hash, failed, and the resend replaces it.
    std::fs::write(file(&bytes), b"not the packet").unwrap();
    let failed = final_result(&c, &dc, &id);
    assert_eq!(failed.status, Status::EnrollFailureAtCentral);
    let reason = failed.reason.unwrap();
    assert!(reason.contains("damaged"), "{reason}");
    assert!(
        !reason.contains(&objects.path().display().to_string()),
        "no path of the data center's reaches a station: {reason}"
    );
    assert_eq!(c.send(&bytes, &dc.identity).unwrap(), receipt);
    assert_eq!(std::fs::read(file(&bytes)).unwrap(), bytes, "repaired");
    let deadline = Instant::now() + Duration::from_secs(60);
    while final_result(&c, &dc, &id).status != Status::PrintReadyRecord {
        assert!(Instant::now() < deadline, "not matched after the resend");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A database of a gateway before the store: the packet's bytes in its row, no column
    // naming an object. Opened, the bytes go to the store and the row lets go of them.
    let (sealed2, bytes2) = seal(&mut a, &resident(12));
    c.send(&bytes2, &dc.identity).unwrap();
    let data_dir = dc.gw.config().data_dir.clone();
    let key_text = std::fs::read_to_string(rekam_gateway::paths::store_key(&data_dir)).unwrap();
    let key = rekam_gateway::db::DbKey::from_text(&key_text).unwrap();
    let conn = rekam_gateway::db::open(&rekam_gateway::paths::db(&data_dir), &key).unwrap();
    conn.execute(
        "UPDATE packet SET sealed = ?1 WHERE packet_id = ?2",
        rusqlite::params![bytes2, sealed2.entry.enrollment_id],
    )
    .unwrap();
    conn.execute_batch("ALTER TABLE packet DROP COLUMN object")
        .unwrap();
    drop(conn);
    std::fs::remove_file(file(&bytes2)).unwrap();
    let results = c.results(0, &dc.identity).unwrap().events;
    assert!(
        results
            .iter()
            .all(|e| e.packet_id != sealed2.entry.enrollment_id
                || e.status == Status::SentForEnrollment),
        "not matched before the database is upgraded"
    );
    let reopened = Gateway::open(
        Config {
            objects: Some(at),
            ..Config::new(&data_dir)
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    assert_eq!(std::fs::read(file(&bytes2)).unwrap(), bytes2, "moved out");
    let conn = rekam_gateway::db::open(&rekam_gateway::paths::db(&data_dir), &key).unwrap();
    let inline: i64 = conn
        .query_row("SELECT SUM(length(sealed)) FROM packet", [], |r| r.get(0))
        .unwrap();
    assert_eq!(inline, 0, "no packet bytes left in the database");
    drop((reopened, conn));
    assert_eq!(
        final_result(&c, &dc, &sealed2.entry.enrollment_id).status,
        Status::PrintReadyRecord,
        "matched from the store"
    );
}

/// The library's refusals are typed, each with its code and what to do: a second `init`
/// changes nothing, `open` where nothing was set up says to run `init`, and a folder that is
/// not a technician's bundle is refused whole.
#[test]
fn setting_up_opening_and_importing_are_refused_by_name() {
    use rekam_gateway::{Config, Gateway};
    let dir = tempfile::tempdir().unwrap();
    let dc = dir.path().join("dc");
    rekam_gateway::init(&dc, "DC-TEST").unwrap();
    let identity = std::fs::read(dc.join("dc-identity.json")).unwrap();
    let again = rekam_gateway::init(&dc, "DC-OTHER").unwrap_err();
    assert_eq!(again.code(), "ALREADY_INITIALISED", "{again}");
    assert!(again.to_string().contains("nothing was changed"), "{again}");
    assert_eq!(
        std::fs::read(dc.join("dc-identity.json")).unwrap(),
        identity
    );

    let clock = std::sync::Arc::new(rekam::clock::SystemClock);
    let empty = Gateway::open(Config::new(dir.path().join("nothing")), clock.clone()).unwrap_err();
    assert_eq!(empty.code(), "NOT_INITIALISED", "{empty}");
    assert!(empty.to_string().contains("rekam-gateway init"), "{empty}");

    let gw = Gateway::open(Config::new(&dc), clock).unwrap();
    let not_a_bundle = dir.path().join("usb");
    std::fs::create_dir(&not_a_bundle).unwrap();
    let e = gw.import_bundle(&not_a_bundle).unwrap_err();
    assert_eq!(e.code(), "BUNDLE_REFUSED", "{e}");
    assert!(e.to_string().contains("no manifest.json"), "{e}");
}

/// `rekam keys rotate` on a laptop whose old key was copied: from the moment the rotation is
/// accepted, the old key signs nothing the data center takes (requests, a rotation of its
/// own, a bundle's manifest), while the packets it sealed before the rotation still arrive,
/// delivered under the new key. Over TLS, as the gateway runs by default.
#[test]
fn a_retired_key_is_refused_for_requests_bundles_and_rotation() {
    let dc = start_gateway(|c| c.tls = true);
    assert!(dc.url.starts_with("https://"));
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-K-01");
    let old = register(&dc, &mut a);
    let old_key = a.signing_key().unwrap();

    // Sealed under the old key, not yet at the data center: one goes online after the
    // rotation, one was exported to a technician's disk before it.
    let (online, online_bytes) = seal(&mut a, &resident(21));
    let (carried, _) = seal(&mut a, &resident(22));
    let carried_id = carried.entry.enrollment_id.clone();
    let exported = rekam::export::export(
        &mut a,
        &dir.path().join("disk-before"),
        std::slice::from_ref(&carried_id),
        |_, _, _| {},
    )
    .unwrap();
    assert!(exported.signed);

    let rotation = a.begin_key_rotation().unwrap();
    old.rotate(&rotation).unwrap();
    a.finish_key_rotation("test").unwrap();
    let new = client(&dc, &a);

    // Requests under the old key: refused, saying what happened and what to do.
    match old.results(0, &dc.identity).unwrap_err() {
        SyncError::Refused { code, message, .. } => {
            assert_eq!(code, "STATION_KEY_RETIRED");
            assert!(message.contains("was replaced"), "{message}");
            assert!(message.contains("stolen"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        refused(old.send(&online_bytes, &dc.identity).unwrap_err()),
        "STATION_KEY_RETIRED"
    );

    // Rotation from the current key only: the copy cannot bring in a key of its own, neither
    // under its own signature nor slipped into a request of the current key, and the
    // accepted statement cannot be replayed.
    let thief = KeyRotation::new(
        &old_key,
        &StationKey::generate().unwrap(),
        "KEC-K-01",
        time::OffsetDateTime::now_utc().unix_timestamp(),
    );
    assert_eq!(
        refused(old.rotate(&thief).unwrap_err()),
        "STATION_KEY_RETIRED"
    );
    assert_eq!(
        refused(new.rotate(&thief).unwrap_err()),
        "STATION_KEY_RETIRED"
    );
    assert_eq!(
        refused(new.rotate(&rotation).unwrap_err()),
        "STATION_KEY_RETIRED"
    );

    // The packet sealed before the rotation, delivered under the new key: recorded once.
    let receipt = new.send(&online_bytes, &dc.identity).unwrap();
    assert_eq!(receipt.packet_id, online.entry.enrollment_id);
    assert_eq!(dc.packets(), 1);

    // The disk exported before the rotation: its manifest is the old key's word, refused
    // whole, nothing recorded. Exported again, the same packet arrives.
    let e = dc.gw.import_bundle(&exported.bundle).unwrap_err();
    assert_eq!(e.code(), "BUNDLE_REFUSED");
    assert!(e.to_string().contains("export the bundle again"), "{e}");
    assert_eq!(dc.packets(), 1);
    let again = rekam::export::export(
        &mut a,
        &dir.path().join("disk-after"),
        std::slice::from_ref(&carried_id),
        |_, _, _| {},
    )
    .unwrap();
    let imported = dc.gw.import_bundle(&again.bundle).unwrap();
    assert!(imported.manifest_signed);
    assert_eq!(
        imported.receipts.receipts.len(),
        1,
        "{:?}",
        imported.receipts
    );
    assert_eq!(dc.packets(), 2);
}

/// A bundle whose manifest names files outside it (`../`, an absolute path): the data center
/// reads none of them, even when the file there is a valid packet with the right hash, and
/// takes the rest of the bundle.
#[test]
fn a_bundle_naming_files_outside_itself_has_them_refused_unread() {
    let dc = start_gateway(|c| c.tls = true);
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-P-01");
    let _ = register(&dc, &mut a);
    let ids: Vec<String> = (31..34)
        .map(|i| seal(&mut a, &resident(i)).0.entry.enrollment_id)
        .collect();
    let bundle = rekam::export::export(&mut a, &dir.path().join("disk"), &[], |_, _, _| {})
        .unwrap()
        .bundle;
    // Drained without the station key (no manifest signature): each packet on its own.
    std::fs::remove_file(bundle.join("manifest.sig")).unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    let entries = manifest["packets"].as_array_mut().unwrap();
    for (entry, to) in entries.iter_mut().zip([
        "../../outside/p.rkpk".to_string(),
        outside.join("p.rkpk").display().to_string(),
    ]) {
        let file = entry["file"].as_str().unwrap().to_owned();
        std::fs::copy(bundle.join(&file), outside.join("p.rkpk")).unwrap();
        entry["file"] = to.into();
    }
    std::fs::write(
        bundle.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    let imported = dc.gw.import_bundle(&bundle).unwrap();
    let refused: Vec<&str> = imported
        .receipts
        .refused
        .iter()
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(refused, ["FILE_OUTSIDE_BUNDLE", "FILE_OUTSIDE_BUNDLE"]);
    assert_eq!(imported.receipts.receipts.len(), 1);
    assert_eq!(imported.receipts.receipts[0].packet_id, ids[2]);
    assert_eq!(dc.packets(), 1);
}

/// A registration token written on a note and forgotten registers nothing after its week, and
/// nothing goes over a network in clear: the gateway will not serve plain HTTP off loopback,
/// nor will a station send to a plain `http://` address of another machine.
#[test]
fn tokens_expire_and_plain_http_stays_on_this_machine() {
    use rekam::clock::ShiftedClock;
    let clock = Arc::new(ShiftedClock::default());
    let dc = start_gateway_at(clock.clone(), |c| c.tls = true);
    let dir = tempfile::tempdir().unwrap();
    let a = station(dir.path(), "KEC-T-01");
    let issued_days_ago = |days: i64| {
        clock.set(time::Duration::days(-days));
        let token = dc.gw.issue_token("KEC-T-01").unwrap();
        clock.set(time::Duration::ZERO);
        token
    };
    let stale = issued_days_ago(8);
    let reg = a.registration(&stale).unwrap();
    let e = rekam_sync::register(&dc.url, Some(&dc.identity), &reg).unwrap_err();
    assert_eq!(e.code(), "TOKEN_EXPIRED", "{e}");
    assert!(e.to_string().contains("ask the Dinas for a new one"), "{e}");
    let fresh = issued_days_ago(6);
    let reg = a.registration(&fresh).unwrap();
    rekam_sync::register(&dc.url, Some(&dc.identity), &reg).unwrap();

    // The gateway: plain HTTP on a network address is refused before it listens.
    let plain = dir.path().join("plain-dc");
    rekam_gateway::init(&plain, "DC-PLAIN").unwrap();
    let gw = Gateway::open(Config::new(&plain), Arc::new(SystemClock)).unwrap();
    let e = gw
        .spawn("0.0.0.0:0")
        .expect_err("plain HTTP on every interface");
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("loopback only"), "{e}");

    // The station: plain http:// to another machine is refused before a byte is sent; to
    // this machine it is allowed (tests, demos, a TLS endpoint in front).
    let key = || a.signing_key().unwrap();
    for url in [
        "http://192.0.2.10:8480",
        "http://dc.kemendagri.example",
        "http://127.0.0.1.example",
    ] {
        let e = DcClient::new(url, "KEC-T-01", key()).expect_err(url);
        assert_eq!(e.code(), "PLAIN_HTTP", "{url}: {e}");
        let e = rekam_sync::identity(url, None).unwrap_err();
        assert_eq!(e.code(), "PLAIN_HTTP", "{url}: {e}");
    }
    for url in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"] {
        assert!(DcClient::new(url, "KEC-T-01", key()).is_ok(), "{url}");
    }
}

/// A signed request sent twice, byte for byte, within the clock window: the second is refused
/// as a replay, and so is a third sent to another gateway process on the same database (a
/// restart forgets nothing). The station's own client signs every request anew, so two
/// heartbeats in a row both pass. Over TLS, as the gateway runs by default.
#[test]
fn a_replayed_request_is_refused() {
    use rekam_packet::protocol::{body_hash, header};
    let dc = start_gateway(|c| c.tls = true);
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-R-01");
    let c = register(&dc, &mut a);
    let body = serde_json::to_vec(&Heartbeat {
        version: "test".into(),
        backlog: BacklogSummary::default(),
    })
    .unwrap();
    let auth = c.auth("POST", "/v1/heartbeat", &body_hash(&body));
    let pem = dc.identity.tls_certificate.clone().unwrap();
    let http = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let send_to = |url: &str| {
        http.post(format!("{url}/v1/heartbeat"))
            .header(header::STATION, &auth.station_id)
            .header(header::KEY, auth.key.to_string())
            .header(header::TIME, auth.time.to_string())
            .header(header::NONCE, &auth.nonce)
            .header(header::SIGNATURE, &auth.signature)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .unwrap()
    };
    let send = || send_to(&dc.url);
    assert!(send().status().is_success());
    let again = send();
    assert_eq!(again.status(), 401);
    assert_eq!(again.headers()[header::CODE], "REQUEST_REPLAYED");
    let (_second, _running, second_url) = dc.second_process();
    let elsewhere = send_to(&second_url);
    assert_eq!(elsewhere.status(), 401);
    assert_eq!(elsewhere.headers()[header::CODE], "REQUEST_REPLAYED");

    // A request without a nonce is not a signed request.
    let bare = http
        .post(format!("{}/v1/heartbeat", dc.url))
        .header(header::STATION, &auth.station_id)
        .header(header::KEY, auth.key.to_string())
        .header(header::TIME, auth.time.to_string())
        .header(header::SIGNATURE, &auth.signature)
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(bare.headers()[header::CODE], "AUTH_MISSING");
    // Nor can a replay pass under a nonce of its own: the signature covers the nonce.
    let renamed = http
        .post(format!("{}/v1/heartbeat", dc.url))
        .header(header::STATION, &auth.station_id)
        .header(header::KEY, auth.key.to_string())
        .header(header::TIME, auth.time.to_string())
        .header(header::NONCE, "0123456789abcdef-0")
        .header(header::SIGNATURE, &auth.signature)
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(renamed.headers()[header::CODE], "BAD_SIGNATURE");

    for _ in 0..2 {
        c.heartbeat(&Heartbeat {
            version: "test".into(),
            backlog: BacklogSummary::default(),
        })
        .unwrap();
    }
}

/// A stolen laptop reported to the Dinas: `revoke` lists what arrived in the window before
/// the report, and from then on its key is refused for requests, packets (online, in a signed
/// bundle, in an unsigned one), bundle manifests and rotation, each attempt kept. A
/// replacement machine registers under the same station id; the copy stays refused.
#[test]
fn a_revoked_station_key_is_refused_for_everything_and_each_use_is_kept() {
    let dc = start_gateway(|c| c.tls = true);
    let dir = tempfile::tempdir().unwrap();
    let mut stolen = station(dir.path(), "KEC-V-01");
    let copy = register(&dc, &mut stolen);
    let copy_key = stolen.signing_key().unwrap();
    let (sent, sent_bytes) = seal(&mut stolen, &resident(31));
    copy.send(&sent_bytes, &dc.identity).unwrap();
    let (kept, kept_bytes) = seal(&mut stolen, &resident(32));
    let kept_id = kept.entry.enrollment_id.clone();
    let bundle = rekam::export::export(
        &mut stolen,
        &dir.path().join("disk"),
        std::slice::from_ref(&kept_id),
        |_, _, _| {},
    )
    .unwrap();
    assert!(bundle.signed);

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let done = dc
        .gw
        .revoke("KEC-V-01", Some(now - 3600), "police report 17/XII")
        .unwrap();
    assert_eq!(done.keys, vec![copy_key.id().to_string()]);
    assert_eq!(
        done.suspect
            .iter()
            .map(|p| p.packet_id.as_str())
            .collect::<Vec<_>>(),
        vec![sent.entry.enrollment_id.as_str()],
        "the packet received in the window is listed for review"
    );
    assert_eq!(
        dc.gw.revoke("NO-SUCH", None, "x").unwrap_err().code(),
        "STATION_UNKNOWN"
    );

    // Requests and uploads.
    match copy.results(0, &dc.identity).unwrap_err() {
        SyncError::Refused { code, message, .. } => {
            assert_eq!(code, "STATION_KEY_REVOKED");
            assert!(message.contains("revoked by the Dinas"), "{message}");
            assert!(message.contains("new token"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        refused(copy.send(&kept_bytes, &dc.identity).unwrap_err()),
        "STATION_KEY_REVOKED"
    );
    // Rotation: the copy cannot bring in a key of its own.
    let thief = KeyRotation::new(
        &copy_key,
        &StationKey::generate().unwrap(),
        "KEC-V-01",
        time::OffsetDateTime::now_utc().unix_timestamp(),
    );
    assert_eq!(
        refused(copy.rotate(&thief).unwrap_err()),
        "STATION_KEY_REVOKED"
    );
    // A bundle signed before the revocation: refused whole; unsigned, its packet is refused.
    let e = dc.gw.import_bundle(&bundle.bundle).unwrap_err();
    assert_eq!(e.code(), "BUNDLE_REFUSED");
    assert!(e.to_string().contains("revoked"), "{e}");
    std::fs::remove_file(bundle.bundle.join("manifest.sig")).unwrap();
    let unsigned = dc.gw.import_bundle(&bundle.bundle).unwrap();
    assert!(unsigned.receipts.receipts.is_empty());
    assert_eq!(unsigned.receipts.refused.len(), 1);
    assert_eq!(unsigned.receipts.refused[0].code, "STATION_KEY_REVOKED");
    assert_eq!(dc.packets(), 1, "nothing after the revocation was recorded");

    // Every attempt is kept and shown.
    let list = dc.gw.revocations().unwrap();
    assert_eq!(list.len(), 1);
    let uses: Vec<&str> = list[0].refused_uses.iter().map(|u| u.2.as_str()).collect();
    for what in [
        "request GET /v1/results",
        "request POST /v1/uploads",
        "request POST /v1/stations/rotate",
        "bundle ",
        "packet ",
    ] {
        assert!(
            uses.iter().any(|u| u.starts_with(what)),
            "{what} not in {uses:?}"
        );
    }
    assert_eq!(list[0].reason, "police report 17/XII");
    let problems = |dc: &Dc| {
        dc.gw
            .stations(24 * 3600)
            .unwrap()
            .into_iter()
            .find(|s| s.station_id == "KEC-V-01")
            .unwrap()
            .problems
    };
    assert!(
        problems(&dc)
            .iter()
            .any(|p| p.contains("no replacement registered")),
        "{:?}",
        problems(&dc)
    );

    // The replacement: same station id, a new key, a new token; the copy is still refused.
    let spare = tempfile::tempdir().unwrap();
    let mut replacement = station(spare.path(), "KEC-V-01");
    let fresh = register(&dc, &mut replacement);
    let (_, bytes) = seal(&mut replacement, &resident(33));
    fresh.send(&bytes, &dc.identity).unwrap();
    assert_eq!(dc.packets(), 2);
    assert_eq!(
        refused(copy.results(0, &dc.identity).unwrap_err()),
        "STATION_KEY_REVOKED"
    );
    let now_problems = problems(&dc);
    assert!(
        !now_problems.iter().any(|p| p.contains("no replacement")),
        "{now_problems:?}"
    );
    assert!(
        now_problems
            .iter()
            .any(|p| p.contains("use(s) of a revoked key")),
        "{now_problems:?}"
    );
    // A live station is not registered twice.
    let token = dc.gw.issue_token("KEC-V-01").unwrap();
    let e = rekam_sync::register(
        &dc.url,
        Some(&dc.identity),
        &stolen.registration(&token).unwrap(),
    )
    .unwrap_err();
    assert_eq!(refused(e), "STATION_EXISTS");
}

/// The audit heads a station reports are kept: one going back or forking raises an alarm
/// listed with the station, and the heartbeat is still taken.
#[test]
fn an_audit_head_that_goes_back_or_forks_is_flagged() {
    let dc = start_gateway(|c| c.tls = true);
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-H-01");
    let c = register(&dc, &mut a);
    let beat = |head: &str| {
        c.heartbeat(&Heartbeat {
            version: "test".into(),
            backlog: BacklogSummary {
                audit_head: Some(head.to_owned()),
                ..Default::default()
            },
        })
    };
    let (h1, h2, h3) = ("a1".repeat(32), "b2".repeat(32), "c3".repeat(32));
    beat(&format!("5:{h1}")).unwrap();
    beat(&format!("5:{h1}")).unwrap();
    beat(&format!("9:{h2}")).unwrap();
    assert!(dc.gw.audit_alarms("KEC-H-01").unwrap().is_empty());
    beat(&format!("9:{h3}")).unwrap();
    beat(&format!("7:{h1}")).unwrap();
    let alarms = dc.gw.audit_alarms("KEC-H-01").unwrap();
    assert_eq!(alarms.len(), 2, "{alarms:?}");
    assert!(alarms[0].contains("forked at entry 9"), "{alarms:?}");
    assert!(
        alarms[1].contains("went back from entry 9 to 7"),
        "{alarms:?}"
    );
    let report = dc.gw.stations(24 * 3600).unwrap();
    let s = report.iter().find(|s| s.station_id == "KEC-H-01").unwrap();
    assert!(
        s.problems.iter().any(|p| p.contains("forked")),
        "{:?}",
        s.problems
    );
    assert_eq!(
        refused(beat("not a head").unwrap_err()),
        "AUDIT_HEAD_MALFORMED"
    );
}

/// Resident `r` with the template of one finger (`position`) taken from `donor`: one finger
/// agrees with the donor's recording, nothing else does.
fn with_finger_of(r: &SynthRecording, donor: &SynthRecording, position: u8) -> SynthRecording {
    use rekam_bio::finger::{FingerTemplate, record_of};
    let fingers = |rec: &rekam::domain::manifest::Recording| {
        let i = rec.manifest.finger_templates.unwrap() as usize;
        (
            i,
            FingerTemplate::from_record(&rec.records[i].data).unwrap(),
        )
    };
    let mut recording = r.recording.clone();
    let (i, mut mine) = fingers(&recording);
    let (_, theirs) = fingers(&donor.recording);
    let slot = mine.iter_mut().find(|f| f.position == position).unwrap();
    *slot = theirs.into_iter().find(|f| f.position == position).unwrap();
    recording.records[i].data = record_of(&mine).unwrap();
    SynthRecording {
        recording,
        person: r.person.clone(),
    }
}

/// One finger agreeing with an earlier recording: ADJUDICATE_RECORD and a case holding the
/// scores (no biodata); the adjudicator's decision reaches the station's feed signed, is final,
/// and decides whether the Dinas may print.
#[test]
fn an_adjudicator_decides_a_recording_with_one_finger_in_common() {
    use rekam_gateway::StationRole;
    use rekam_gateway::adjudicate::Ruling;
    let dc = start_gateway(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-J-01");
    let ca = register(&dc, &mut a);
    let mut b = station(dir.path(), "KEC-J-02");
    let cb = register(&dc, &mut b);
    let (first, bytes) = seal(&mut a, &resident(5));
    ca.send(&bytes, &dc.identity).unwrap();
    let first_id = first.entry.enrollment_id;
    assert_eq!(
        final_result(&ca, &dc, &first_id).status,
        Status::PrintReadyRecord
    );
    let mut packets = Vec::new();
    for (k, position) in [(6, 2), (7, 7)] {
        let (sealed, bytes) = seal(
            &mut b,
            &with_finger_of(&resident(k), &resident(5), position),
        );
        cb.send(&bytes, &dc.identity).unwrap();
        let id = sealed.entry.enrollment_id;
        let result = final_result(&cb, &dc, &id);
        assert_eq!(result.status, Status::AdjudicateRecord, "{result:?}");
        // Another station's record: named by the data center's reference.
        assert_eq!(result.matched_packet.as_deref(), Some("DC-00000001"));
        packets.push(id);
    }

    let cases = dc.gw.cases(false).unwrap();
    assert_eq!(cases.len(), 2);
    let case = &cases[0];
    assert_eq!(
        (case.packet_id.as_str(), case.matched_packet.as_str()),
        (packets[0].as_str(), first_id.as_str())
    );
    assert_eq!(
        (case.station_id.as_str(), case.matched_station.as_str()),
        ("KEC-J-02", "KEC-J-01")
    );
    let agreeing: Vec<u8> = case
        .evidence
        .compared
        .iter()
        .filter(|c| c.agrees())
        .map(|c| c.position)
        .collect();
    assert_eq!(agreeing, [2], "{:?}", case.evidence);
    assert!(case.evidence.compared.len() >= 10, "{:?}", case.evidence);
    let json = serde_json::to_string(&cases).unwrap();
    for r in [resident(5), resident(6)] {
        let nik = r.recording.manifest.biodata.nik.as_str().to_owned();
        assert!(!json.contains(&nik), "a case shows no NIK");
        assert!(
            !json.contains(&r.recording.manifest.biodata.name),
            "nor a name"
        );
    }

    // A decision needs who and why; a packet without a case has none.
    let code = |e: rekam_gateway::GatewayError| e.code();
    assert_eq!(
        code(
            dc.gw
                .adjudicate(&packets[0], Ruling::DifferentPerson, " ", "x")
                .unwrap_err()
        ),
        "DECISION_UNSIGNED"
    );
    assert_eq!(
        code(
            dc.gw
                .adjudicate(&first_id, Ruling::SamePerson, "ADJ-7", "x")
                .unwrap_err()
        ),
        "NO_SUCH_CASE"
    );

    // Another person: PRINT_READY_RECORD on the station's feed, and the Dinas may print.
    let decided = dc
        .gw
        .adjudicate(
            &packets[0],
            Ruling::DifferentPerson,
            "ADJ-7",
            "ridge detail of the right index differs on review",
        )
        .unwrap();
    assert_eq!(decided.decided.unwrap().ruling, Ruling::DifferentPerson);
    let result = final_result(&cb, &dc, &packets[0]);
    assert_eq!(result.status, Status::PrintReadyRecord);
    assert!(
        result.verify(&dc.identity).is_ok(),
        "signed by the data center"
    );
    let mut dinas = station_in(dir.path(), "DINAS-3273", "32.73.02");
    let d = register_as(&dc, &mut dinas, StationRole::Dinas);
    assert!(d.print_order(&packets[0], &dc.identity).is_ok());

    // The same person: DUPLICATE_RECORD naming the earlier record; no print order.
    dc.gw
        .adjudicate(
            &packets[1],
            Ruling::SamePerson,
            "ADJ-7",
            "same scar on the left index",
        )
        .unwrap();
    let result = final_result(&cb, &dc, &packets[1]);
    assert_eq!(result.status, Status::DuplicateRecord);
    assert_eq!(result.matched_packet.as_deref(), Some("DC-00000001"));
    assert_eq!(
        refused(d.print_order(&packets[1], &dc.identity).unwrap_err()),
        "NOT_PRINT_READY"
    );

    // A decision is final: no second one, and the list of open cases is empty.
    assert_eq!(
        code(
            dc.gw
                .adjudicate(&packets[0], Ruling::SamePerson, "ADJ-8", "second look")
                .unwrap_err()
        ),
        "CASE_DECIDED"
    );
    assert!(dc.gw.cases(false).unwrap().is_empty());
    let all = dc.gw.cases(true).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].decided.as_ref().unwrap().adjudicator, "ADJ-7");
}

/// The Dinas's print queue: its regency's PRINT_READY records with no card in circulation;
/// a card reported takes its record off, a card that came back puts it on again.
#[test]
fn the_print_queue_shrinks_as_cards_are_made_and_grows_when_one_comes_back() {
    use rekam_gateway::StationRole;
    use rekam_packet::cards::{CardIssued, CardReturned};
    let dc = start_gateway(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let mut counter = station(dir.path(), "KEC-Q-01");
    let c = register(&dc, &mut counter);
    let mut elsewhere = station_in(dir.path(), "KEC-Q-74", "32.74.01");
    let e = register(&dc, &mut elsewhere);
    let mut ready = Vec::new();
    for (here, k) in [(true, 51), (true, 52), (false, 53)] {
        let (s, client) = if here {
            (&mut counter, &c)
        } else {
            (&mut elsewhere, &e)
        };
        let (sealed, bytes) = seal(s, &resident(k));
        client.send(&bytes, &dc.identity).unwrap();
        let id = sealed.entry.enrollment_id;
        assert_eq!(
            final_result(client, &dc, &id).status,
            Status::PrintReadyRecord
        );
        ready.push(id);
    }
    let mut dinas = station_in(dir.path(), "DINAS-3273", "32.73.02");
    let d = register_as(&dc, &mut dinas, StationRole::Dinas);

    // The counter has no queue; the Dinas sees its regency's two, masked, oldest first.
    assert_eq!(
        refused(c.print_queue().unwrap_err()),
        "PRINT_ORDER_FORBIDDEN"
    );
    let queue = d.print_queue().unwrap();
    let ids: Vec<&str> = queue.iter().map(|q| q.packet_id.as_str()).collect();
    assert_eq!(ids, [ready[0].as_str(), ready[1].as_str()]);
    let nik = resident(51).recording.manifest.biodata.nik;
    assert_eq!(queue[0].masked_nik, nik.masked().as_str());
    assert_eq!(queue[0].station_id, "KEC-Q-01");
    assert!(queue.iter().all(|q| q.returned.is_none()));

    // A card made: off the list; reported again: the same; a second card: refused.
    let card = |serial: &str| CardIssued {
        card_serial: serial.into(),
        personalised_at: 1,
    };
    d.card_issued(&ready[0], &card("S-1")).unwrap();
    d.card_issued(&ready[0], &card("S-1")).unwrap();
    assert_eq!(
        refused(d.card_issued(&ready[0], &card("S-2")).unwrap_err()),
        "CARD_IN_CIRCULATION"
    );
    assert_eq!(
        refused(d.card_issued(&ready[2], &card("S-3")).unwrap_err()),
        "NOT_ON_PRINT_QUEUE",
        "another regency's record"
    );
    assert_eq!(
        refused(d.card_issued(&ready[1], &card(" ")).unwrap_err()),
        "CARD_SERIAL_INVALID"
    );
    let ids: Vec<String> = d
        .print_queue()
        .unwrap()
        .into_iter()
        .map(|q| q.packet_id)
        .collect();
    assert_eq!(ids, [ready[1].clone()]);
    // Nor is its print order given again while the card is out.
    assert_eq!(
        refused(d.print_order(&ready[0], &dc.identity).unwrap_err()),
        "CARD_IN_CIRCULATION"
    );

    // The card came back (the handover failed): on the list again, saying why; a new card.
    let back = |serial: &str, reason: &str| CardReturned {
        card_serial: serial.into(),
        reason: reason.into(),
        returned_at: 2,
    };
    assert_eq!(
        refused(
            d.card_returned(&ready[0], &back("S-9", "gagal"))
                .unwrap_err()
        ),
        "NO_SUCH_CARD"
    );
    assert_eq!(
        refused(d.card_returned(&ready[0], &back("S-1", " ")).unwrap_err()),
        "RETURN_REASON_MISSING"
    );
    d.card_returned(&ready[0], &back("S-1", "verifikasi sidik jari gagal"))
        .unwrap();
    d.card_returned(&ready[0], &back("S-1", "verifikasi sidik jari gagal"))
        .unwrap();
    let queue = d.print_queue().unwrap();
    let again = queue.iter().find(|q| q.packet_id == ready[0]).unwrap();
    assert_eq!(
        again.returned.as_deref(),
        Some("verifikasi sidik jari gagal")
    );
    assert!(d.print_order(&ready[0], &dc.identity).is_ok());
    d.card_issued(&ready[0], &card("S-2")).unwrap();
    assert_eq!(d.print_queue().unwrap().len(), 1);
}

/// A print order holds the resident's biodata, portrait and card templates: it goes to the
/// Dinas of the resident's regency only, and every fetch is kept, given or refused.
#[test]
fn print_orders_go_only_to_the_dinas_of_the_residents_regency() {
    use rekam_gateway::StationRole;
    let dc = start_gateway(|c| c.tls = true);
    let dir = tempfile::tempdir().unwrap();
    let mut counter = station(dir.path(), "KEC-O-01");
    let c = register(&dc, &mut counter);
    let (sealed, bytes) = seal(&mut counter, &resident(41));
    let packet = sealed.entry.enrollment_id.clone();
    c.send(&bytes, &dc.identity).unwrap();
    assert_eq!(
        final_result(&c, &dc, &packet).status,
        Status::PrintReadyRecord
    );

    // The counter that recorded the resident is not the Dinas.
    assert_eq!(
        refused(c.print_order(&packet, &dc.identity).unwrap_err()),
        "PRINT_ORDER_FORBIDDEN"
    );
    // The Dinas of another regency (Kota Cirebon, 32.74) neither.
    let mut elsewhere = station_in(dir.path(), "DINAS-3274", "32.74.01");
    let other = register_as(&dc, &mut elsewhere, StationRole::Dinas);
    match other.print_order(&packet, &dc.identity).unwrap_err() {
        SyncError::Refused { code, message, .. } => {
            assert_eq!(code, "PRINT_ORDER_FORBIDDEN");
            assert!(message.contains("regency 32.73"), "{message}");
        }
        e => panic!("{e}"),
    }
    // The Dinas of Kota Bandung (32.73), from a station in another of its kecamatan.
    let mut dinas = station_in(dir.path(), "DINAS-3273", "32.73.02");
    let d = register_as(&dc, &mut dinas, StationRole::Dinas);
    let order: rekam::domain::print_order::PrintOrder =
        serde_json::from_slice(&d.print_order(&packet, &dc.identity).unwrap()).unwrap();
    assert_eq!(order.packet_id, packet);
    assert_eq!(
        refused(
            d.print_order("00000000-0000-4000-8000-000000000000", &dc.identity)
                .unwrap_err()
        ),
        "UNKNOWN_PACKET"
    );

    let log = dc.gw.print_fetches().unwrap();
    let seen: Vec<(&str, &str)> = log
        .iter()
        .map(|(_, s, _, o)| (s.as_str(), o.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("KEC-O-01", "refused: PRINT_ORDER_FORBIDDEN"),
            ("DINAS-3274", "refused: PRINT_ORDER_FORBIDDEN"),
            ("DINAS-3273", "given"),
            ("DINAS-3273", "refused: UNKNOWN_PACKET"),
        ]
    );
}

/// A kecamatan server reads the result feed of its own kecamatan's counters, every event as
/// the data center signed it for the counter; a counter may not, and a hub of another
/// kecamatan reads none of them.
#[test]
fn a_hub_reads_the_results_of_its_own_kecamatan_only() {
    use rekam_gateway::StationRole;
    let dc = start_gateway(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let mut counter = station(dir.path(), "KEC-H-01");
    let c = register(&dc, &mut counter);
    let (sealed, bytes) = seal(&mut counter, &resident(43));
    let packet = sealed.entry.enrollment_id.clone();
    c.send(&bytes, &dc.identity).unwrap();
    final_result(&c, &dc, &packet);
    let own = c.results(0, &dc.identity).unwrap().events;

    assert_eq!(
        refused(c.kecamatan_results(0, &dc.identity).unwrap_err()),
        "NOT_A_HUB"
    );
    let mut hub = station(dir.path(), "HUB-327301");
    let h = register_as(&dc, &mut hub, StationRole::Hub);
    let page = h.kecamatan_results(0, &dc.identity).unwrap();
    assert_eq!(page.events, own, "the counter's events, as signed for it");
    assert_eq!(page.next_cursor, own.last().unwrap().cursor);
    assert!(
        h.kecamatan_results(page.next_cursor, &dc.identity)
            .unwrap()
            .events
            .is_empty()
    );
    let mut elsewhere = station_in(dir.path(), "HUB-327302", "32.73.02");
    let e = register_as(&dc, &mut elsewhere, StationRole::Hub);
    assert!(
        e.kecamatan_results(0, &dc.identity)
            .unwrap()
            .events
            .is_empty()
    );
}

/// Packet ids are printed on summons letters. A registered station that seals a packet of its
/// own under another station's id, to send it before the genuine one arrives: a station's ids
/// are bound to it, so the squatter is refused (`PACKET_ID_NOT_YOURS`) before a byte is sent,
/// and the genuine packet is recorded when it comes. An id sealed before ids were bound (a
/// random one, still in some outbox) can be taken first: then both stations are flagged for
/// the Dinas the moment the genuine station sends.
#[test]
fn a_packet_id_taken_by_another_station_is_refused_or_flags_both() {
    use rekam_packet::envelope::{Header, PacketId, SealedPacket};
    let dc = start_gateway(|c| c.tls = true);
    let dir = tempfile::tempdir().unwrap();
    let mut victim = station(dir.path(), "KEC-S-01");
    let cv = register(&dc, &mut victim);
    let mut rogue = station(dir.path(), "KEC-S-02");
    let cr = register(&dc, &mut rogue);
    // `station`'s packet of resident `who`, sealed under `id`.
    let seal_as = |st: &mut rekam::station::Station, who: u64, id: &str| {
        let station_id = st.identity().station_id.clone();
        let mut rec = resident(who).recording;
        rec.manifest.packet_id = id.to_owned();
        rec.manifest.station_id = station_id.clone();
        rec.manifest.kecamatan = "327301".into();
        let key = st.signing_key().unwrap();
        SealedPacket::seal(
            &rec.to_contents().unwrap(),
            Header {
                packet_id: PacketId::parse(id).unwrap(),
                station_id,
                station_key: key.id(),
                dc_key: dc.identity.packet_key.id,
                sealed_at: time::OffsetDateTime::now_utc().unix_timestamp(),
            },
            &key,
            &dc.identity,
            rekam::packet::DEFAULT_BUDGET,
        )
        .unwrap()
    };

    // A bound id: the rogue is refused, the genuine packet recorded after it.
    let (genuine, genuine_bytes) = seal(&mut victim, &resident(51));
    let id = genuine.entry.enrollment_id.clone();
    assert_eq!(
        PacketId::parse(&id).unwrap().belongs_to("KEC-S-01"),
        Some(true)
    );
    let squatted = seal_as(&mut rogue, 52, &id);
    match cr.send(squatted.as_bytes(), &dc.identity).unwrap_err() {
        SyncError::Refused { code, message, .. } => {
            assert_eq!(code, "PACKET_ID_NOT_YOURS");
            assert!(message.contains("another station"), "{message}");
        }
        e => panic!("{e}"),
    }
    let receipt = cv.send(&genuine_bytes, &dc.identity).unwrap();
    assert_eq!(receipt.packet_id, id);

    // An unbound id from before: taken first, the genuine packet refused and both flagged.
    let old_id = PacketId::generate().unwrap().to_string();
    let old_genuine = seal_as(&mut victim, 53, &old_id);
    cr.send(seal_as(&mut rogue, 54, &old_id).as_bytes(), &dc.identity)
        .unwrap();
    match cv.send(old_genuine.as_bytes(), &dc.identity).unwrap_err() {
        SyncError::Refused { code, message, .. } => {
            assert_eq!(code, "PACKET_CONFLICT");
            assert!(message.contains("call the Dinas"), "{message}");
        }
        e => panic!("{e}"),
    }
    let victim_alarms = dc.gw.audit_alarms("KEC-S-01").unwrap();
    assert!(
        victim_alarms[0].contains("recorded already from station KEC-S-02"),
        "{victim_alarms:?}"
    );
    let rogue_alarms = dc.gw.audit_alarms("KEC-S-02").unwrap();
    assert!(
        rogue_alarms[0].contains("sent a packet under the id"),
        "{rogue_alarms:?}"
    );
}

/// A recording made on a Dinas extract older than 30 days is recorded as usual and flagged with
/// its station for the Dinas to check the biodata; one made on fresh data, or on SIAK, is not.
#[test]
fn records_made_on_stale_population_data_are_flagged_with_their_station() {
    use rekam::domain::population::Source;
    let dc = start_gateway(|c| c.tls = true);
    let dir = tempfile::tempdir().unwrap();
    let mut st = station(dir.path(), "KEC-T-01");
    let client = register(&dc, &mut st);
    let now = time::OffsetDateTime::now_utc();
    for (who, source) in [
        (
            61,
            Some(Source::Extract {
                region: "32.73.01".into(),
                sequence: 4,
                as_of: now - time::Duration::days(45),
            }),
        ),
        (
            62,
            Some(Source::Extract {
                region: "32.73.01".into(),
                sequence: 5,
                as_of: now - time::Duration::days(3),
            }),
        ),
        (63, Some(Source::Siak)),
    ] {
        let mut r = resident(who);
        r.recording.manifest.biodata_source = source;
        let (_, bytes) = seal(&mut st, &r);
        client.send(&bytes, &dc.identity).unwrap();
    }
    let report = dc.gw.stations(24 * 3600).unwrap();
    let problems = &report
        .iter()
        .find(|s| s.station_id == "KEC-T-01")
        .unwrap()
        .problems;
    let stale: Vec<_> = problems
        .iter()
        .filter(|p| p.contains("population data older than 30 days"))
        .collect();
    assert_eq!(stale.len(), 1, "{problems:?}");
    assert!(
        stale[0].contains("behind 1 of its records (the oldest 45 days)"),
        "{problems:?}"
    );
    assert_eq!(dc.packets(), 3, "every recording is recorded");
}
