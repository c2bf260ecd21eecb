//! The `rekam-gateway` binary as a data-center operator runs it.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

fn gateway(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rekam-gateway"))
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn init_token_serve_and_stations() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dc");
    let d = data.to_str().unwrap();
    let out = gateway(&["init", "--data", d, "--dc-id", "DC-CLI"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("dc-identity.json"));
    let again = gateway(&["init", "--data", d]);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("nothing was changed"),
        "{}",
        text(&again)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("keys/dc.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the DC key is private");
    }

    let out = gateway(&["token", "--data", d, "--station", "KEC-01"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 32);

    let out = gateway(&["stations", "--data", d, "--stuck"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no station needs attention"));
    // The packet store elsewhere: an absolute directory, made when first opened.
    let objects = dir.path().join("store");
    let out = gateway(&["stations", "--data", d, "--objects"])
        .status
        .success();
    assert!(!out, "--objects needs a place");
    let url = format!("file://{}", objects.display());
    let out = gateway(&["--objects", &url, "stations", "--data", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(objects.is_dir());
    let out = gateway(&["stations", "--data", d, "--objects", "gs://bucket"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("absolute path") && text(&out).contains("s3://"),
        "{}",
        text(&out)
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_rekam-gateway"))
        .args(["serve", "--data", d, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    assert!(url.starts_with("https://"), "{url}");
    let file: rekam_packet::DcIdentity =
        serde_json::from_slice(&std::fs::read(data.join("dc-identity.json")).unwrap()).unwrap();
    file.check().unwrap();
    // Over TLS, trusting only the certificate in the identity file.
    let served = rekam_sync::identity(&url, Some(&file));
    // Without it, https is refused before a byte is sent.
    let unpinned = rekam_sync::identity(&url, None);
    // With another data center's certificate, the handshake fails.
    let other = rekam_gateway::init(&dir.path().join("other"), "DC-OTHER").unwrap();
    let mitm = rekam_sync::identity(&url, Some(&other));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(served.unwrap(), file);
    assert_eq!(unpinned.unwrap_err().code(), "PROTOCOL");
    assert_eq!(mitm.unwrap_err().code(), "TLS");
}

#[test]
fn revoke_says_what_it_did_and_revocations_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dc");
    let d = data.to_str().unwrap();
    assert!(gateway(&["init", "--data", d]).status.success());
    let out = gateway(&["revocations", "--data", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no station key has been revoked"));
    let out = gateway(&["revoke", "--data", d, "KEC-NONE"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("is not registered"), "{}", text(&out));

    // A registered station (through the library, as the API would).
    let token =
        String::from_utf8(gateway(&["token", "--data", d, "--station", "KEC-01"]).stdout).unwrap();
    let key = rekam_packet::StationKey::generate().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    {
        let gw = rekam_gateway::Gateway::open(
            rekam_gateway::Config::new(data.clone()),
            std::sync::Arc::new(rekam_domain::clock::SystemClock),
        )
        .unwrap();
        let reg = rekam_packet::protocol::Registration::new(
            &key,
            "KEC-01",
            "32.73.01",
            token.trim(),
            now,
        );
        gw.register(&reg).map_err(|r| r.message).unwrap();
    }
    let out = gateway(&["revoke", "--data", d, "KEC-01", "--from", "yesterday"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("expected a time like"),
        "{}",
        text(&out)
    );
    let out = gateway(&[
        "revoke",
        "--data",
        d,
        "KEC-01",
        "--from",
        "2026-12-01T08:00:00+07:00",
        "--reason",
        "laptop stolen",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("KEC-01: 1 key(s) revoked"), "{said}");
    assert!(said.contains("no packet received in the window"), "{said}");
    assert!(
        said.contains("rekam-gateway token --station KEC-01"),
        "{said}"
    );
    let out = gateway(&["revocations", "--data", d, "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["station_id"], "KEC-01");
    assert_eq!(list[0]["reason"], "laptop stolen");
    assert_eq!(list[0]["keys"][0][0], key.id().to_string());
}

/// `adjudicate`: the list says when nothing is open; a decision names its case, its ruling, who
/// and why, or is refused with what to do. (Cases with scores and decisions on the feed:
/// `gateway/tests/gateway.rs`.)
#[test]
fn adjudicate_lists_and_refuses_what_it_cannot_decide() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("dc");
    let d = d.to_str().unwrap();
    assert!(gateway(&["init", "--data", d]).status.success());
    let out = gateway(&["adjudicate", "list", "--data", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no adjudication case is open"));
    let out = gateway(&["adjudicate", "list", "--data", d, "--all", "--json"]);
    assert_eq!(text(&out).trim(), "[]");

    let packet = "00000000-0000-4000-8000-000000000000";
    let decide = |extra: &[&str]| {
        let mut args = vec!["adjudicate", "decide", "--data", d, packet];
        args.extend_from_slice(extra);
        gateway(&args)
    };
    let out = decide(&["--different", "--by", "ADJ-1", "--reason", "ridges differ"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no adjudication case for packet"),
        "{}",
        text(&out)
    );
    // One ruling, with who and why.
    for extra in [
        &["--by", "ADJ-1", "--reason", "r"][..],
        &["--same", "--different", "--by", "ADJ-1", "--reason", "r"],
        &["--same", "--reason", "r"],
    ] {
        let out = decide(extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", text(&out));
    }
    let out = decide(&["--same", "--by", " ", "--reason", "r"]);
    assert!(
        text(&out).contains("needs the adjudicator's name"),
        "{}",
        text(&out)
    );
}
