//! The `rekam` binary, run as an operator or a script would, checking exit codes and output.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rekam(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rekam"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("REKAM_LANG")
        .env_remove("REKAM_KEY_FILE")
        .output()
        .expect("run rekam")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A new station of kecamatan 32.73.01 in a temporary directory (kept while the guard lives).
fn initialised() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("st");
    let out = rekam(&data, &["init", "--kecamatan", "32.73.01"]);
    assert!(out.status.success(), "{}", text(&out));
    (dir, data)
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn init_status_and_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");

    let out = rekam(&data, &["status"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("rekam init"), "{}", text(&out));

    let out = rekam(
        &data,
        &[
            "init",
            "--kecamatan",
            "32.73.01",
            "--station-id",
            "BDG-01",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = json(&out);
    assert_eq!(v["status"]["station_id"], "BDG-01");
    assert_eq!(v["status"]["kecamatan_name"], "Sukasari");

    let out = rekam(&data, &["init", "--kecamatan", "32.73.01"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).contains("sudah ada"), "{}", text(&out));

    let out = rekam(&data, &["status", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["status"]["audit_entries"], 1);
    assert_eq!(v["status"]["journal"]["entries"], 0);
    assert!(
        v["status"]["regions_attribution"]
            .as_str()
            .unwrap()
            .contains("ODbL")
    );

    let out = rekam(&data, &["status", "--lang", "en"]);
    assert!(text(&out).contains("Station status"), "{}", text(&out));
    let out = rekam(&data, &["status"]);
    assert!(text(&out).contains("Status stasiun"), "{}", text(&out));

    let out = rekam(&data, &["audit", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["intact"], true);
}

#[test]
fn nik_check_exit_codes_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    // No station: the embedded region data answers.
    let none = dir.path().join("none");
    let cases: &[(&[&str], i32, &str)] = &[
        (&["nik", "check", "3273014101900001"], 0, "PEREMPUAN"),
        (
            &["nik", "check", "3273014101900001", "--lang", "en"],
            0,
            "Possible dates of birth",
        ),
        (
            &["nik", "check", "3273013102900001"],
            1,
            "tanggal lahir (digit 7-12)",
        ),
        (
            &["nik", "check", "3273013102900001", "--lang", "en"],
            1,
            "date of birth (digits 7-12)",
        ),
        (&["nik", "check", "12345"], 1, "16 digit"),
        (&["nik", "check", "9901010101900001"], 0, "Peringatan"),
        (&["nik", "check"], 2, "Usage"),
        (
            &["nik", "check", "3273014101900001", "--lang", "fr"],
            2,
            "unknown language",
        ),
    ];
    for (args, code, needle) in cases {
        let out = rekam(&none, args);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(needle), "{args:?}: {}", text(&out));
        // The full NIK is never echoed back.
        assert!(!text(&out).contains("3273014101900001"), "{args:?}");
    }
    assert!(!none.exists(), "nik check must not create a station");

    let out = rekam(&none, &["nik", "check", "3273010001900001", "--json"]);
    let v = json(&out);
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["code"], "NIK_DAY");
    assert_eq!(v["error"]["part"], "day");
}

#[test]
fn a_wrong_key_exits_3_with_advice_and_a_broken_chain_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");
    assert_eq!(
        rekam(&data, &["init", "--kecamatan", "3273", "--json"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        rekam(&data, &["init", "--kecamatan", "327301"])
            .status
            .code(),
        Some(0)
    );

    let other_key = dir.path().join("other.key");
    std::fs::write(&other_key, format!("{}\n", "ab".repeat(32))).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&other_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = rekam(
        &data,
        &[
            "status",
            "--key-file",
            other_key.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let v = json(&out);
    assert_eq!(v["error"]["code"], "WRONG_KEY");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Jangan hapus")
    );

    // Tamper with the audit log through SQLCipher with the real key.
    let key = std::fs::read_to_string(data.join("keys/store.key")).unwrap();
    let conn = rusqlite::Connection::open(data.join("station.db")).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET actor = 'intruder' WHERE seq = 1;",
        key.trim()
    ))
    .unwrap();
    drop(conn);
    let out = rekam(&data, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("RANTAI AUDIT RUSAK"), "{}", text(&out));
}

#[test]
fn region_lookup_by_code_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");
    assert_eq!(
        rekam(&data, &["init", "--kecamatan", "32.73.01"])
            .status
            .code(),
        Some(0)
    );
    let out = rekam(&data, &["region", "32.73.01.1002", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["regions"][0]["name"], "Gegerkalong");
    assert_eq!(v["regions"][0]["path"][1], "Kota Bandung");
    let out = rekam(&data, &["region", "gambir", "--level", "kecamatan"]);
    assert!(text(&out).contains("31.71.01"), "{}", text(&out));
    let out = rekam(&data, &["region", "atlantis"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn doctor_names_each_pad_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    use rekam_drivers::signature_pad::testing::{pad_on_pty, test_pad_info};
    let life = std::time::Duration::from_secs(8);
    // No SBI service can answer on port 1: the biometric devices are reported as not found.
    let no_sbi = ["--sbi-ports", "1-1"];
    let (path, peer) = pad_on_pty(Some(test_pad_info()), life).unwrap();
    let mut args = vec!["doctor", "--pad", &path, "--json"];
    args.extend(no_sbi);
    let out = rekam(dir.path(), &args);
    drop(peer);
    let v = json(&out);
    let pad = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "signature_pad")
        .unwrap_or_else(|| panic!("no pad in {v}"));
    assert_eq!(pad["status"]["state"], "ready");
    assert_eq!(pad["device"]["serial"], "TP-42");
    assert!(pad["error"].is_null());
    let not_found = v["not_found"].as_array().unwrap();
    assert!(not_found.contains(&serde_json::json!("fingerprint")), "{v}");
    assert!(
        !not_found.contains(&serde_json::json!("signature_pad")),
        "{v}"
    );

    let (silent, peer) = pad_on_pty(None, life).unwrap();
    let mut args = vec!["doctor", "--pad", &silent, "--pad", "/dev/rekam-none"];
    args.extend(no_sbi);
    let out = rekam(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    // Both pads named, each with what is wrong; the card reader's line depends on whether pcscd
    // runs on this machine, so it is not counted here.
    for pad in [silent.as_str(), "/dev/rekam-none"] {
        assert!(
            shown.contains(&format!("Bantalan tanda tangan tidak terhubung di {pad}")),
            "{shown}"
        );
    }
    assert!(!shown.contains("tidak ada di /dev/ttyACM*"), "{shown}");
    assert!(shown.contains("tidak ada layanan SBI"), "{shown}");
    drop(peer);
}

#[test]
fn the_daily_report_is_json_and_pdf() {
    let (dir, data) = initialised();
    let pdf = dir.path().join("r.pdf");
    let out = rekam(
        &data,
        &[
            "--json",
            "report",
            "--day",
            "2026-11-22",
            "--pdf",
            pdf.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let report = json(&out);
    assert_eq!(report["day"], "2026-11-22");
    assert_eq!(report["backlog"], 0);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
}

/// `rekam demo` honours each flag it accepts or refuses it: it prints text only and makes its
/// own station, so `--json` and a station's `--data-dir` or `--key-file` on the command line
/// are refused before anything runs (a `REKAM_DATA_DIR` in the environment is the station's
/// standing configuration, not a request to the demo).
#[cfg(feature = "demo")]
#[test]
fn demo_refuses_the_flags_it_cannot_honour() {
    let dir = tempfile::tempdir().unwrap();
    let demo = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rekam"))
            .args(args)
            .env_remove("REKAM_LANG")
            .env_remove("REKAM_KEY_FILE")
            .env_remove("REKAM_DATA_DIR")
            .output()
            .unwrap()
    };
    let data = dir.path().to_str().unwrap();
    for args in [
        vec!["--data-dir", data, "demo"],
        vec!["demo", "--key-file", data],
        vec!["--json", "demo", "--key-file", data],
    ] {
        let out = demo(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("rekam demo"),
            "{args:?}: {}",
            text(&out)
        );
    }
    // `--json` is the demo's own (one object at the end): not refused.
    assert_ne!(
        demo(&["demo", "--json", "--residents", "0"]).status.code(),
        Some(2)
    );
    assert!(text(&demo(&["--data-dir", data, "demo"])).contains("--keep DIR"));
    // From the environment, the data directory is not the demo's business: it goes ahead (and
    // here stops because the simulators' binary is not beside this one, or runs the demo).
    let out = Command::new(env!("CARGO_BIN_EXE_rekam"))
        .args(["demo", "--residents", "0"])
        .env("REKAM_DATA_DIR", data)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the demo wrote into REKAM_DATA_DIR"
    );
}

#[test]
fn population_trust_import_and_status_with_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");
    let out = rekam(&data, &["init", "--kecamatan", "32.73.01"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = rekam(&data, &["population", "status", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(json(&out)["population"].is_null());

    // Not a key: exit 1 with what to do.
    let bad = dir.path().join("bad.pub");
    std::fs::write(&bad, "not a key").unwrap();
    let out = rekam(
        &data,
        &["population", "trust", bad.to_str().unwrap(), "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(json(&out)["error"]["code"], "POPULATION_SIGNER_INVALID");

    // A file that is no extract, before and after a key is trusted.
    let junk = dir.path().join("junk.rkp");
    std::fs::write(&junk, b"PK\x03\x04").unwrap();
    let out = rekam(
        &data,
        &["population", "import", junk.to_str().unwrap(), "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(json(&out)["error"]["code"], "EXTRACT_NO_SIGNER");
    let key = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/test-keys/test-dinas-population.pub");
    let out = rekam(&data, &["population", "trust", key.to_str().unwrap()]);
    // A build with training mode trusts the TEST key; any other refuses it by name, and a
    // Dinas key (RFC 8032's first test vector here) stands in.
    if out.status.code() != Some(0) {
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            text(&out).contains("POPULATION_TEST_SIGNER"),
            "{}",
            text(&out)
        );
        let other = dir.path().join("dinas.pub");
        std::fs::write(
            &other,
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n",
        )
        .unwrap();
        let out = rekam(&data, &["population", "trust", other.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let out = rekam(&data, &["population", "import", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("bukan ekstrak"), "{}", text(&out));
}

#[test]
fn calibrate_reads_a_folder_of_captures_and_says_whether_to_go_live() {
    use rekam_synth::finger::impression::Quality;
    use rekam_synth::finger::style::{Style, StyledCapture, styled_impression};
    use rekam_synth::seed::Seed;
    let dir = tempfile::tempdir().unwrap();
    let captures = dir.path().join("captures");
    std::fs::create_dir(&captures).unwrap();
    // Four volunteers, both index fingers, two sessions each, on an optical scanner.
    for person in 0..4u64 {
        let fingers = rekam_synth::set::masters(Seed::from_u64(77), person);
        for m in fingers
            .iter()
            .filter(|m| [2, 7].contains(&m.position.code()))
        {
            for session in 1..=2u64 {
                let s = Seed::from_u64(78).child_n("capture", person * 100 + session);
                let cap = StyledCapture::draw(&mut s.rng(), Quality::EXCELLENT, Style::Optical);
                let img = styled_impression(m, &cap, s.child("sensor"));
                let name = format!("relawan{person}_{}_hari{session}.png", m.position.code());
                std::fs::write(captures.join(name), img.to_png()).unwrap();
            }
        }
    }
    // The scanner tool's own export is not read, and said so.
    std::fs::write(captures.join("relawan0_2_hari1.bmp"), b"BM").unwrap();
    let data = dir.path().join("station");
    let dir_arg = captures.to_str().unwrap();
    let out = rekam(&data, &["calibrate", dir_arg, "--json"]);
    let v = json(&out);
    let c = &v["calibration"];
    // 16 captures: 8 genuine pairs (a finger across sessions), 96 pairs of different people;
    // far too few to show an FMR of 1e-4, so the verdict asks for more and the exit is 1.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        (c["people"].as_u64(), c["captures"].as_u64()),
        (Some(4), Some(16))
    );
    let kept = 16 - c["below_gate"].as_u64().unwrap();
    assert!(kept >= 14, "{c}");
    assert!(c["genuine"].as_u64().unwrap() >= 6, "{c}");
    assert_eq!(c["verdict"], "too_few_pairs", "{c}");
    assert_eq!(c["accepted"], 0, "{c}");
    assert_eq!(c["threshold"], 11);
    assert_eq!(c["skipped"], serde_json::json!(["relawan0_2_hari1.bmp"]));
    // The quality gate's trade-off on these captures: no gate retakes nothing and keeps every
    // genuine pair; the shipped gate's line agrees with the figures above.
    let gates = c["gates"].as_array().unwrap();
    assert_eq!(gates.len(), 6, "{c}");
    assert_eq!(
        (gates[0]["gate"].as_u64(), gates[0]["retakes"].as_f64()),
        (Some(0), Some(0.0))
    );
    assert_eq!(gates[0]["genuine"], 8, "{c}");
    let at_40 = gates.iter().find(|g| g["gate"] == 40).unwrap();
    assert_eq!(at_40["genuine"], c["genuine"], "{c}");
    assert_eq!(at_40["fnmr"], c["fnmr"], "{c}");

    // Spoken to the technician, in Indonesian by default.
    let out = rekam(&data, &["calibrate", dir_arg]);
    assert!(text(&out).contains("BELUM CUKUP"), "{}", text(&out));
    assert!(text(&out).contains("Ambang mutu"), "{}", text(&out));
    assert!(
        text(&out).contains("relawan0_2_hari1.bmp"),
        "{}",
        text(&out)
    );

    // A file not named as the procedure says is refused by name, with the form to use.
    std::fs::write(captures.join("scan001.png"), b"not even a png").unwrap();
    let out = rekam(&data, &["calibrate", dir_arg, "--json", "--lang", "en"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v = json(&out);
    assert_eq!(v["error"]["code"], "CALIBRATION_NAME", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("scan001.png"),
        "{v}"
    );
}

/// `rekam` with `--json` on `data`, the unlocking password in REKAM_PASSWORD and a new
/// operator password in REKAM_OPERATOR_PASSWORD where given.
fn sealed_rekam(data: &Path, args: &[&str], password: Option<&str>, new: Option<&str>) -> Output {
    sealed_command(data, args, password, new).output().unwrap()
}

fn sealed_command(
    data: &Path,
    args: &[&str],
    password: Option<&str>,
    new: Option<&str>,
) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rekam"));
    c.arg("--data-dir")
        .arg(data)
        .arg("--json")
        .args(args)
        .env_remove("REKAM_LANG")
        .env_remove("REKAM_KEY_FILE")
        .env_remove("REKAM_OPERATOR")
        .env_remove("REKAM_PASSWORD")
        .env_remove("REKAM_OPERATOR_PASSWORD")
        .stdin(std::process::Stdio::null());
    if let Some(p) = password {
        c.env("REKAM_PASSWORD", p);
    }
    if let Some(p) = new {
        c.env("REKAM_OPERATOR_PASSWORD", p);
    }
    c.env_remove("REKAM_TPM_TCTI");
    c
}

/// A station whose store key lives in key slots, through the binary: nothing opens it
/// without an operator's password, the Dinas's recovery key gives an operator a new password,
/// and a disabled operator's password opens nothing any more.
#[test]
fn a_station_with_key_slots_opens_only_with_an_operators_password() {
    use rekam::station::{FirstSlot, InitOptions, Station, StationPaths};
    use rekam::workflow::operators::{self, FingerTemplate, NewOperator, Role};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");

    // On the Dinas's machine: a recovery key pair.
    let dinas_key = dir.path().join("dinas-recovery.key");
    let out = sealed_rekam(
        &data,
        &["keys", "recovery-key", "--out", dinas_key.to_str().unwrap()],
        None,
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let said = json(&out)["message"].as_str().unwrap().to_owned();
    let public = said.split_whitespace().nth(3).unwrap().to_owned();
    assert_eq!(public.len(), 64, "{said}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dinas_key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }
    let again = sealed_rekam(
        &data,
        &["keys", "recovery-key", "--out", dinas_key.to_str().unwrap()],
        None,
        None,
    );
    assert!(
        !again.status.success(),
        "a recovery key is never overwritten"
    );

    // The station, its slots for SPV-01 and OP-01 and the Dinas.
    let pool = rekam_synth::resident::RegionPool::load().unwrap();
    let finger = (0..50)
        .find_map(|i| {
            rekam_synth::recording::recording(
                &pool,
                7,
                i,
                rekam_synth::resident::reference_date(),
                "OP-01",
            )
        })
        .map(|r| {
            let m = &r.recording.manifest;
            FingerTemplate::from_record(
                &r.recording.records[m.finger_templates.unwrap() as usize].data,
            )
            .unwrap()
            .remove(0)
        })
        .unwrap();
    let mut station = Station::init_sealed(
        InitOptions {
            paths: StationPaths::new(&data, None),
            station_id: Some("KEC-S-01".into()),
            kecamatan: rekam::domain::region::RegionCode::parse("32.73.01").unwrap(),
            actor: "setup".into(),
        },
        &FirstSlot {
            operator_id: "SPV-01",
            password: "sandi-supervisor",
            recovery: Some(rekam::store::slots::recovery_public(&public).unwrap()),
        },
        std::sync::Arc::new(rekam::clock::SystemClock),
    )
    .unwrap();
    for (id, role, password) in [
        ("SPV-01", Role::Supervisor, "sandi-supervisor"),
        ("OP-01", Role::Operator, "sandi-operator"),
    ] {
        operators::add(
            &mut station,
            &NewOperator {
                operator_id: id.into(),
                name: id.into(),
                role,
                password: zeroize::Zeroizing::new(password.into()),
                finger: finger.clone(),
            },
            None,
        )
        .unwrap();
    }
    drop(station);

    // Locked without an operator; a wrong password and an unknown operator alike refused.
    let out = sealed_rekam(&data, &["status"], None, None);
    assert!(!out.status.success());
    assert_eq!(
        json(&out)["error"]["code"],
        "STATION_LOCKED",
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("--operator"), "{}", text(&out));
    for (who, password) in [("OP-01", "bukan-sandinya"), ("NOBODY", "sandi-operator")] {
        let out = sealed_rekam(&data, &["--operator", who, "status"], Some(password), None);
        assert_eq!(
            json(&out)["error"]["code"],
            "LOGIN_FAILED",
            "{}",
            text(&out)
        );
    }
    let out = sealed_rekam(
        &data,
        &["--operator", "OP-01", "status"],
        Some("sandi-operator"),
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        json(&out)["status"]["station_id"],
        "KEC-S-01",
        "{}",
        text(&out)
    );
    let out = sealed_rekam(
        &data,
        &["--operator", "OP-01", "keys", "slots"],
        Some("sandi-operator"),
        None,
    );
    let slots = json(&out)["message"].as_str().unwrap().to_owned();
    assert!(
        slots.contains("password:spv-01")
            && slots.contains("password:op-01")
            && slots.contains("recovery:"),
        "{slots}"
    );

    // OP-01 forgot their password: the Dinas gives a new one with its recovery key.
    let out = sealed_rekam(
        &data,
        &[
            "recover",
            "--dinas-key",
            dinas_key.to_str().unwrap(),
            "--reset",
            "OP-01",
        ],
        None,
        Some("sandi-baru-operator"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = sealed_rekam(
        &data,
        &["--operator", "OP-01", "status"],
        Some("sandi-operator"),
        None,
    );
    assert_eq!(json(&out)["error"]["code"], "LOGIN_FAILED");
    let out = sealed_rekam(
        &data,
        &["--operator", "OP-01", "status"],
        Some("sandi-baru-operator"),
        None,
    );
    assert!(out.status.success(), "{}", text(&out));

    // OP-01 leaves: disabled by the supervisor, their password opens nothing.
    let out = sealed_rekam(
        &data,
        &[
            "--operator",
            "SPV-01",
            "operator",
            "disable",
            "--id",
            "OP-01",
        ],
        Some("sandi-supervisor"),
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("dikunci ulang"), "{}", text(&out));
    let out = sealed_rekam(
        &data,
        &["--operator", "OP-01", "status"],
        Some("sandi-baru-operator"),
        None,
    );
    assert_eq!(json(&out)["error"]["code"], "LOGIN_FAILED");
    let out = sealed_rekam(
        &data,
        &["--operator", "SPV-01", "audit", "verify"],
        Some("sandi-supervisor"),
        None,
    );
    assert!(out.status.success(), "{}", text(&out));

    // A fixed counter's TPM: the sync opens the store with nobody logged in (here it gets as far
    // as finding no data center), every other command still wants a password.
    let tpm = rekam_sim::tpm::SoftTpm::start().unwrap();
    let with_tpm = |args: &[&str], password: Option<&str>| {
        sealed_command(&data, args, password, None)
            .env("REKAM_TPM_TCTI", tpm.tcti())
            .output()
            .unwrap()
    };
    let out = with_tpm(&["keys", "tpm", "probe"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("TPM 2.0"), "{}", text(&out));
    let out = with_tpm(&["sync", "--once"], None);
    assert_eq!(
        json(&out)["error"]["code"],
        "STATION_LOCKED",
        "{}",
        text(&out)
    );
    let out = with_tpm(
        &[
            "--operator",
            "SPV-01",
            "keys",
            "tpm",
            "enroll",
            "--pcrs",
            "7",
        ],
        Some("sandi-supervisor"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = with_tpm(&["sync", "--once"], None);
    assert_eq!(
        json(&out)["error"]["code"],
        "STATION_NOT_REGISTERED",
        "{}",
        text(&out)
    );
    let out = with_tpm(&["status"], None);
    assert_eq!(
        json(&out)["error"]["code"],
        "STATION_LOCKED",
        "{}",
        text(&out)
    );
    let out = with_tpm(
        &["--operator", "SPV-01", "keys", "tpm", "remove"],
        Some("sandi-supervisor"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = with_tpm(&["sync", "--once"], None);
    assert_eq!(
        json(&out)["error"]["code"],
        "STATION_LOCKED",
        "{}",
        text(&out)
    );
    // On a machine without a TPM, the station says so.
    let out = sealed_command(&data, &["keys", "tpm", "probe"], None, None)
        .env("REKAM_TPM_TCTI", "device:/dev/no-such-tpm")
        .output()
        .unwrap();
    assert_eq!(
        json(&out)["error"]["code"],
        "TPM_UNAVAILABLE",
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("kata sandi operator"), "{}", text(&out));
}

/// `rekam clarify` names what it refuses, in Bahasa Indonesia by default: a packet that is no
/// duplicate waiting for clarification, an outcome it does not know. (A duplicate clarified
/// from the data center's result: `simulators/tests/workflow.rs`.)
#[test]
fn clarify_refuses_what_is_no_duplicate_to_clarify() {
    let (_dir, data) = initialised();
    let packet = "00000000-0000-4000-8000-000000000000";
    let out = rekam(
        &data,
        &[
            "clarify",
            packet,
            "--outcome",
            "recorded-before",
            "--note",
            "BA-1",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("bukan data ganda yang menunggu klarifikasi"),
        "{}",
        text(&out)
    );
    let out = rekam(
        &data,
        &["clarify", packet, "--outcome", "maybe", "--note", "BA-1"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("recorded-before or disputed"),
        "{}",
        text(&out)
    );
}

/// `rekam reissues` lists the reissue requests taken here with where each stands; on a new
/// station, says there is none (JSON with `--json`). (Requests taken and answered:
/// `simulators/tests/workflow.rs`.)
#[test]
fn reissues_lists_the_requests_taken_here() {
    let (_dir, data) = initialised();
    let out = rekam(&data, &["reissues"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Belum ada permohonan penggantian"),
        "{}",
        text(&out)
    );
    let out = rekam(&data, &["--json", "reissues"]);
    assert_eq!(json(&out)["reissues"], serde_json::json!([]));
}
