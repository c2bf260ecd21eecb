//! `rekam hub` against a kecamatan server on 127.0.0.1:0 over TLS, as a technician runs it:
//! registration with the hub's identity file and token, and the refusals it must give.

#![allow(clippy::unwrap_used)]

use rekam::clock::SystemClock;
use rekam_hub::{Config, Hub};
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
        .env_remove("REKAM_HUB_URL")
        .output()
        .expect("run rekam")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn a_counter_registers_with_its_kecamatan_server_once_and_only_with_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let hub_dir = dir.path().join("hub");
    rekam_hub::init(&hub_dir, "HUB-327301", "327301", &["127.0.0.1".into()]).unwrap();
    let hub = Hub::open(Config::new(&hub_dir), Arc::new(SystemClock)).unwrap();
    let running = hub.clone().spawn("127.0.0.1:0").unwrap();
    let url = format!("https://{}", running.addr);
    let identity = hub_dir.join("hub-identity.json");
    let identity = identity.to_str().unwrap();
    let data = dir.path().join("station");
    let out = rekam(
        &data,
        &[
            "init",
            "--kecamatan",
            "32.73.01",
            "--station-id",
            "KEC-H-01",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    // Not registered yet: one pass says so.
    let out = rekam(&data, &["hub", "sync"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("HUB_NOT_REGISTERED"), "{}", text(&out));

    // A token of another counter, then the right one.
    let other = hub.issue_token("KEC-X-01").unwrap();
    let register = |token: &str| {
        rekam(
            &data,
            &[
                "hub",
                "register",
                "--url",
                &url,
                "--hub-identity",
                identity,
                "--token",
                token,
            ],
        )
    };
    let out = register(&other);
    assert!(!out.status.success());
    assert!(text(&out).contains("TOKEN_INVALID"), "{}", text(&out));
    let token = hub.issue_token("KEC-H-01").unwrap();
    let out = register(&token);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("HUB-327301"), "{}", text(&out));
    let out = register(&token);
    assert!(
        text(&out).contains("TOKEN_INVALID"),
        "used once: {}",
        text(&out)
    );

    let out = rekam(&data, &["hub", "sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Server kecamatan terhubung"),
        "{}",
        text(&out)
    );
    let out = rekam(&data, &["--lang", "en", "hub", "conflicts"]);
    assert!(text(&out).contains("No conflicts"), "{}", text(&out));

    // Another server at the hub's address (a forged hub): its certificate is not the pinned
    // one, and the pass says so instead of sending anything.
    running.stop();
    let forged_dir = dir.path().join("forged");
    rekam_hub::init(&forged_dir, "HUB-327301", "327301", &["127.0.0.1".into()]).unwrap();
    let forged = Hub::open(Config::new(&forged_dir), Arc::new(SystemClock)).unwrap();
    let addr = url.trim_start_matches("https://").to_owned();
    let _forged = forged.spawn(&addr).unwrap();
    let out = rekam(&data, &["hub", "sync"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("[TLS]"), "{}", text(&out));
}
