//! Start-up smoke test of the real desktop app: a real window under Xvfb, the real webview, the
//! real IPC to the core and a real encrypted station. The app writes what its screen shows to
//! `REKAM_SMOKE_FILE` once rendered, then quits.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam::clock::SystemClock;
use rekam::domain::region::RegionCode;
use rekam::station::{InitOptions, Station, StationPaths};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn xvfb_run() -> &'static str {
    let found = Command::new("sh")
        .args(["-c", "command -v xvfb-run"])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        found,
        "xvfb-run is missing: run the README's test command (scripts/test), which installs it"
    );
    "xvfb-run"
}

fn render(data_dir: &Path, lang: Option<&str>, out: &Path) -> String {
    render_with_pad(data_dir, lang, out, "/dev/rekam-no-pad")
}

fn render_with_pad(data_dir: &Path, lang: Option<&str>, out: &Path, pad: &str) -> String {
    let mut cmd = Command::new(xvfb_run());
    cmd.args(["-a", "-s", "-screen 0 1366x768x24"])
        .arg(env!("CARGO_BIN_EXE_rekam-desktop"))
        .env("REKAM_DATA_DIR", data_dir)
        .env("REKAM_SMOKE_FILE", out)
        .env("REKAM_PAD", pad)
        .env("HOME", data_dir.parent().unwrap())
        .env_remove("REKAM_LANG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(l) = lang {
        cmd.env("REKAM_LANG", l);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the desktop app did not render within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .ok();
    assert!(status.success(), "desktop app failed: {status}\n{stderr}");
    std::fs::read_to_string(out).unwrap_or_else(|e| panic!("no smoke output ({e}):\n{stderr}"))
}

#[test]
fn the_window_shows_the_station_status_in_indonesian_then_english() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("station");
    let station = Station::init(
        InitOptions {
            paths: StationPaths::new(&data_dir, None),
            station_id: Some("BDG-SMOKE-01".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "test".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    drop(station);

    let id = render(&data_dir, None, &dir.path().join("id.txt"));
    for needle in [
        "Status stasiun",
        "BDG-SMOKE-01",
        "Sukasari",
        "83.762",
        "Terenkripsi",
    ] {
        assert!(id.contains(needle), "{needle:?} not on screen:\n{id}");
    }
    // No pad at the configured port: the device bar says so, in the operator's words.
    assert!(id.contains("Bantalan tanda tangan bermasalah"), "{id}");
    assert!(id.contains("tidak terhubung"), "{id}");

    let (pad, peer) = rekam_drivers::signature_pad::testing::pad_on_pty(
        Some(rekam_drivers::signature_pad::testing::test_pad_info()),
        Duration::from_secs(60),
    )
    .unwrap();
    let en = render_with_pad(&data_dir, Some("en"), &dir.path().join("en.txt"), &pad);
    for needle in [
        "Station status",
        "BDG-SMOKE-01",
        "83,762",
        "Encrypted",
        "Signature pad ready",
        "TP-42",
    ] {
        assert!(en.contains(needle), "{needle:?} not on screen:\n{en}");
    }
    drop(peer);
}

#[test]
fn a_missing_station_shows_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let shown = render(
        &dir.path().join("nothing"),
        None,
        &dir.path().join("out.txt"),
    );
    assert!(shown.contains("Stasiun belum dapat digunakan"), "{shown}");
    assert!(
        shown.contains("rekam init") && shown.contains("NOT_INITIALISED"),
        "{shown}"
    );
}
