//! `rekam register` and `rekam keys rotate` against the reference gateway on 127.0.0.1:0, as a
//! Dinas technician would run them, with the refusals they must give.

#![allow(clippy::unwrap_used)]

use rekam::clock::SystemClock;
use rekam_gateway::{Config, Gateway};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

fn rekam(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rekam"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("REKAM_LANG")
        .env_remove("REKAM_KEY_FILE")
        .env_remove("REKAM_DC_URL")
        .output()
        .expect("run rekam")
}

fn register(data: &Path, gateway: &str, identity: &str, token: &str) -> Output {
    rekam(
        data,
        &[
            "register",
            "--gateway",
            gateway,
            "--dc-identity",
            identity,
            "--token",
            token,
        ],
    )
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn start(dir: &Path) -> (String, Gateway, rekam_gateway::Running) {
    rekam_gateway::init(dir, "DC-TEST").unwrap();
    let gw = Gateway::open(Config::new(dir), Arc::new(SystemClock)).unwrap();
    let running = gw.clone().spawn("127.0.0.1:0").unwrap();
    (format!("http://{}", running.addr), gw, running)
}

#[test]
fn register_then_rotate_and_every_refusal_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (url, gw, _running) = start(&dir.path().join("dc"));
    let identity = dir.path().join("dc").join("dc-identity.json");
    let data = dir.path().join("station");
    let out = rekam(
        &data,
        &[
            "init",
            "--kecamatan",
            "32.73.01",
            "--station-id",
            "KEC-R-01",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    // Nowhere to go: the operator's language, what to check, exit 5.
    let out = rekam(
        &data,
        &[
            "register",
            "--gateway",
            "http://127.0.0.1:9",
            "--dc-identity",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing value is a usage error"
    );
    let id = identity.to_str().unwrap();
    let out = register(&data, "http://127.0.0.1:9", id, "x");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(
        text(&out).contains("periksa kabel jaringan"),
        "{}",
        text(&out)
    );

    // A token the DC never issued.
    let out = register(&data, &url, id, "x");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("TOKEN_INVALID"), "{}", text(&out));

    // An identity file that is not this DC's: refused before registering, token kept.
    let forged = dir.path().join("forged.json");
    let mut other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&identity).unwrap()).unwrap();
    other["receipt_key"] = other["packet_key"].clone();
    std::fs::write(&forged, other.to_string()).unwrap();
    let token = gw.issue_token("KEC-R-01").unwrap();
    let forged = forged.to_str().unwrap();
    let out = register(&data, &url, forged, &token);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("DC_IDENTITY_MISMATCH"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("Hubungi Dinas"), "{}", text(&out));

    // The real identity file: registered and pinned with the same token.
    let out = register(&data, &url, id, &token);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Stasiun terdaftar di DC-TEST"),
        "{}",
        text(&out)
    );
    let out = register(&data, &url, id, &token);
    assert_eq!(
        out.status.code(),
        Some(5),
        "a token is used once: {}",
        text(&out)
    );

    // Sync and backlog on a station with nothing recorded yet.
    let out = rekam(&data, &["sync", "--once"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Terkirim 0"), "{}", text(&out));
    let out = rekam(&data, &["sync", "--once", "--now"]);
    assert!(out.status.success(), "{}", text(&out));
    // Sending everything now is for one pass a person asked for, never the endless loop.
    let out = rekam(&data, &["sync", "--now"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = rekam(&data, &["backlog"]);
    assert!(
        text(&out).contains("Tidak ada data mengendap"),
        "{}",
        text(&out)
    );
    let out = rekam(&data, &["--json", "backlog", "--summary"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["stuck"], 0);
    let out = rekam(
        &data,
        &["sync", "--once", "--gateway", "http://127.0.0.1:9"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(
        text(&out).contains("periksa kabel jaringan"),
        "{}",
        text(&out)
    );

    let out = rekam(&data, &["--json", "keys", "rotate", "--gateway", &url]);
    assert!(out.status.success(), "{}", text(&out));

    // A rotation cut off after the data center accepted it: the station died before putting
    // its new key in place. The data center refuses the old key from that moment, so the
    // station says what to do, and running the rotation again finishes it with the waiting
    // key instead of throwing that key away.
    {
        let paths = rekam::station::StationPaths::new(&data, None);
        let mut station = rekam::station::Station::open(paths, Arc::new(SystemClock)).unwrap();
        let rotation = station.begin_key_rotation().unwrap();
        let client =
            rekam::sync::client(&station, &rekam::sync::SyncConfig::new(url.clone())).unwrap();
        client.rotate(&rotation).unwrap();
    }
    let out = rekam(&data, &["sync", "--once"]);
    assert!(text(&out).contains("STATION_KEY_RETIRED"), "{}", text(&out));
    assert!(
        text(&out).contains("jalankan `rekam keys rotate` lagi"),
        "{}",
        text(&out)
    );
    let out = rekam(&data, &["keys", "rotate", "--gateway", &url]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("sudah diterima DC dan kini selesai"),
        "{}",
        text(&out)
    );
    let out = rekam(&data, &["sync", "--once"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = rekam(&data, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = rekam(&data, &["--json", "audit", "verify"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"intact\": true"));
}
