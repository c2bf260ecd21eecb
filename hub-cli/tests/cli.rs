//! `rekam-hub` as the kecamatan's technician runs it: set up, a token per counter, serve over
//! TLS, and the list of counters; with the refusals it must give.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

fn hub(args: &[impl AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rekam-hub"))
        .args(args)
        .env("REKAM_LOG", "warn")
        .output()
        .expect("run rekam-hub")
}

/// Starts `rekam-hub <args>` (a `serve`); returns it, with the address it serves, once it
/// listens.
fn serve(args: &[impl AsRef<std::ffi::OsStr>]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rekam-hub"))
        .args(args)
        .env("REKAM_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("run rekam-hub serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("not listening: {line}"));
    (child, url.trim().to_owned())
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn data(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

#[test]
fn set_up_issue_tokens_serve_and_list() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    let out = hub(&["init", "--data", data(&dir), "--kecamatan", "32.73.01"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("not a kecamatan code"),
        "{}",
        text(&out)
    );
    let out = hub(&["init", "--data", data(&dir), "--kecamatan", "327301"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("hub-identity.json"), "{}", text(&out));
    let out = hub(&["init", "--data", data(&dir), "--kecamatan", "327301"]);
    assert!(
        text(&out).contains("already holds a kecamatan server"),
        "{}",
        text(&out)
    );
    // Keys are the hub's alone.
    for key in ["hub-store.key", "hub-templates.key", "tls.key"] {
        let mode = std::fs::metadata(dir.join("keys").join(key)).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );
    }

    let out = hub(&["token", "--data", data(&dir), "--station", "KEC-A-01"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 32);

    let (mut serving, url) = serve(&["serve", "--data", data(&dir), "--listen", "127.0.0.1:0"]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    // Plain HTTP is refused anywhere but loopback.
    let out = hub(&[
        "serve",
        "--data",
        data(&dir),
        "--listen",
        "0.0.0.0:0",
        "--plain-http",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("loopback only"), "{}", text(&out));
    serving.kill().unwrap();
    serving.wait().unwrap();

    let out = hub(&["stations", "--data", data(&dir), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        list,
        serde_json::json!([]),
        "a token registers nobody by itself"
    );
    // The kecamatan's day, before any counter reported one; a day that is not one is refused.
    let out = hub(&["report", "--data", data(&dir), "--day", "2026-12-07"]);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("Laporan harian kecamatan 327301 tanggal 2026-12-07")
            && shown.contains("Loket melapor: 0, kunjungan: 0"),
        "{shown}"
    );
    // The population key the Dinas seals to; its extract key pinned; a stranger's file refused.
    let out = hub(&["population", "key", "--data", data(&dir)]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 64);
    let out = hub(&["population", "trust", "--data", data(&dir), "not-a-key"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("not a Dinas key"), "{}", text(&out));
    let stray = tmp.path().join("stray.bin");
    std::fs::write(&stray, b"not an extract").unwrap();
    let out = hub(&["population", "import", "--data", data(&dir), data(&stray)]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Dinas"),
        "no key pinned yet: {}",
        text(&out)
    );
    let out = hub(&["population", "status", "--data", data(&dir)]);
    assert!(text(&out).contains("Belum ada ekstrak"), "{}", text(&out));
    let out = hub(&["report", "--data", data(&dir), "--day", "07-12-2026"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("YYYY-MM-DD"), "{}", text(&out));
    let out = hub(&[
        "token",
        "--data",
        data(&tmp.path().join("none")),
        "--station",
        "X",
    ]);
    assert!(text(&out).contains("rekam-hub init"), "{}", text(&out));
}

/// On the kecamatan's PostgreSQL (a real server on a private port): the same commands, and
/// nothing of the data in the data directory; one server per database.
#[test]
fn on_postgres_with_database() {
    let pg = rekam_sim::pg::TestPostgres::start().unwrap();
    let url = pg.database("hub").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    let out = hub(&["init", "--data", data(&dir), "--kecamatan", "327301"]);
    assert!(out.status.success(), "{}", text(&out));
    // Every command on the database: `--database URL` before its own arguments.
    let on_pg = |args: &[&str]| -> Vec<String> {
        ["--database", url.as_str()]
            .iter()
            .chain(args)
            .map(|a| (*a).to_owned())
            .collect()
    };
    let out = hub(&on_pg(&[
        "token",
        "--data",
        data(&dir),
        "--station",
        "KEC-A-01",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    let out = hub(&on_pg(&["stations", "--data", data(&dir), "--json"]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(!dir.join("hub.db").exists(), "the data are in PostgreSQL");
    // A second hub on the same database is refused while the first serves.
    let serve_args = on_pg(&["serve", "--data", data(&dir), "--listen", "127.0.0.1:0"]);
    let (mut serving, listening) = serve(&serve_args);
    assert!(listening.starts_with("https://"), "{listening}");
    // The administrator's commands work beside it; a second server does not start.
    let out = hub(&on_pg(&[
        "token",
        "--data",
        data(&dir),
        "--station",
        "KEC-B-01",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    let out = hub(&serve_args);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("one hub process per database"),
        "{}",
        text(&out)
    );
    serving.kill().unwrap();
    serving.wait().unwrap();
}
