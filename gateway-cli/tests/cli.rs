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
