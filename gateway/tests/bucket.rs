//! Sealed packets in an S3-compatible bucket, reached over HTTP with signed requests: an S3
//! server on 127.0.0.1 (`s3s-fs`, the S3 protocol over a folder, each request's SigV4
//! signature checked against its TEST credentials), shared by two gateway processes.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use rekam_gateway::objects::{Bucket, ObjectsAt};
use rekam_packet::protocol::Status;
use rekam_sync::SyncError;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// TEST credentials of the S3 server below; nothing else accepts them.
const ACCESS_KEY: &str = "REKAMTESTACCESSKEY01";
const SECRET_KEY: &str = "rekam-test-secret-key-not-for-any-real-bucket";
const BUCKET: &str = "rekam-dc";

/// An S3 server in its own runtime; dropped, it stops and its port refuses connections.
struct S3 {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for S3 {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Serves the buckets under `root` (a bucket is a folder) on 127.0.0.1:`port` (0: any).
fn start_s3(root: &Path, port: u16) -> S3 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let mut service = s3s::service::S3ServiceBuilder::new(s3s_fs::FileSystem::new(root).unwrap());
    service.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = service.build();
    runtime.spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(socket);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    S3 {
        addr,
        runtime: Some(runtime),
    }
}

/// The bucket at `s3`, under `prefix`, signed with `secret`.
fn bucket(s3: &S3, prefix: &str, secret: &str) -> ObjectsAt {
    let option = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    ObjectsAt::Bucket(Bucket {
        url: format!("s3://{BUCKET}/{prefix}"),
        options: vec![
            option("aws_endpoint", &format!("http://{}", s3.addr)),
            option("aws_allow_http", "true"),
            option("aws_region", "ap-southeast-3"),
            option("aws_access_key_id", ACCESS_KEY),
            option("aws_secret_access_key", secret),
        ],
    })
}

/// Where the S3 server keeps a packet's object.
fn stored(root: &Path, prefix: &str, bytes: &[u8]) -> PathBuf {
    let name = rekam_gateway::objects::address(bytes);
    root.join(BUCKET)
        .join(prefix)
        .join("packets")
        .join(&name[..2])
        .join(name)
}

fn status_of(e: &SyncError) -> (u16, &str) {
    match e {
        SyncError::Refused { status, code, .. } => (*status, code.as_str()),
        other => panic!("not a refusal: {other}"),
    }
}

/// A packet committed at one process is written to the bucket before its receipt and matched
/// from there by whichever process holds the matcher; the bucket stopped, a commit is refused
/// as unavailable with nothing recorded, and the station's retry succeeds once it is back;
/// a copy damaged in the bucket is found by `check`; a wrong secret is refused by the store.
#[test]
fn packets_go_to_an_s3_bucket_shared_by_two_processes() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join(BUCKET)).unwrap();
    let s3 = start_s3(root.path(), 0);
    let port = s3.addr.port();
    let dc = start_gateway(|c| c.objects = Some(bucket(&s3, "dc-1", SECRET_KEY)));
    let (second, _running, second_url) = dc.second_process();
    let dir = tempfile::tempdir().unwrap();
    let mut a = station(dir.path(), "KEC-S3-01");
    let c = register(&dc, &mut a);

    // Sent to the first process: the bucket holds the bytes as sent, and they are matched.
    let (sealed, bytes) = seal(&mut a, &resident(21));
    let id = sealed.entry.enrollment_id;
    let receipt = c.send(&bytes, &dc.identity).unwrap();
    receipt
        .verify(&dc.identity, &id, &sealed.content_hash)
        .unwrap();
    assert_eq!(
        std::fs::read(stored(root.path(), "dc-1", &bytes)).unwrap(),
        bytes
    );
    assert_eq!(final_result(&c, &dc, &id).status, Status::PrintReadyRecord);

    // The store down: the second process refuses the commit as unavailable, records nothing
    // and keeps the upload; the station's retry, once the store is back, is recorded once.
    let (sealed2, bytes2) = seal(&mut a, &resident(22));
    let id2 = sealed2.entry.enrollment_id;
    let c2 = rekam_sync::DcClient::new(&second_url, "KEC-S3-01", a.signing_key().unwrap()).unwrap();
    let upload = c2.upload(&id2, &bytes2, |_, _| {}).unwrap();
    drop(s3);
    let e = c2.commit(&id2, &upload).unwrap_err();
    assert_eq!(status_of(&e), (503, "STORAGE_UNAVAILABLE"));
    assert!(rekam::sync::classify(&e).transient, "the station retries");
    assert_eq!(dc.packets(), 1, "nothing recorded without its object");
    let s3 = start_s3(root.path(), port);
    let receipt2 = c2.commit(&id2, &upload).unwrap();
    receipt2
        .verify(&dc.identity, &id2, &sealed2.content_hash)
        .unwrap();
    assert_eq!(c.commit(&id2, &upload).unwrap(), receipt2, "one receipt");
    assert_eq!(dc.packets(), 2);
    let deadline = Instant::now() + Duration::from_secs(60);
    while final_result(&c, &dc, &id2).status != Status::PrintReadyRecord {
        assert!(Instant::now() < deadline, "not matched from the bucket");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Both objects read back whole from either process; a damaged copy is named.
    assert!(second.check_objects().unwrap().is_sound());
    std::fs::write(stored(root.path(), "dc-1", &bytes2), b"not the packet").unwrap();
    let check = dc.gw.check_objects().unwrap();
    assert_eq!(check.packets, 2);
    assert_eq!(check.damaged.len(), 1, "{check:?}");
    assert_eq!(check.damaged[0].0, id2);

    // A gateway holding the wrong secret: the store refuses every request it signs.
    let wrong =
        rekam_gateway::objects::Objects::open(&bucket(&s3, "dc-1", "not-the-secret")).unwrap();
    assert_eq!(
        wrong.put(b"sealed").unwrap_err().code(),
        "OBJECTS_UNAVAILABLE"
    );
    assert!(
        !format!("{:?}", bucket(&s3, "dc-1", SECRET_KEY)).contains(SECRET_KEY),
        "a bucket's settings never print its secret"
    );
}
