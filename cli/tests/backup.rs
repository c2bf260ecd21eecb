//! Damage and its recovery through the `rekam` binary: a backup onto a "disk" (a folder), then
//! a lost key file restored from it beside the newer database, a damaged database detected and
//! the station restored into a new data directory, and a damaged backup refused before
//! anything is written. Nothing personal is readable in the backup.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam::clock::SystemClock;
use rekam::domain::region::RegionCode;
use rekam::station::{InitOptions, Station, StationPaths};
use rekam_packet::DcKeys;
use rekam_synth::recording::{SynthRecording, recording};
use rekam_synth::resident::{RegionPool, reference_date};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

const PASSPHRASE: &str = "kunci-cadangan-uji-2026";

/// `rekam` on the station in `data_dir`, in Bahasa Indonesia, the backup passphrase given.
fn command(data_dir: &Path, passphrase: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rekam"));
    c.arg("--data-dir")
        .arg(data_dir)
        .env("REKAM_BACKUP_PASSPHRASE", passphrase)
        .env_remove("REKAM_LANG")
        .env_remove("REKAM_KEY_FILE");
    c
}

/// `rekam --json ARGS`.
fn rekam(data_dir: &Path, passphrase: &str, args: &[&str]) -> Output {
    command(data_dir, passphrase)
        .arg("--json")
        .args(args)
        .output()
        .expect("run rekam")
}

/// A temporary directory with a station's data directory (not created) and an empty folder
/// standing for the external disk.
fn station_and_disk() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");
    let disk = dir.path().join("usb-disk");
    std::fs::create_dir(&disk).unwrap();
    (dir, data, disk)
}

/// The JSON answer and the exit code.
fn answer(out: &Output) -> (Value, Option<i32>) {
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code())
}

fn error_code(out: &Output) -> String {
    let (v, code) = answer(out);
    assert_ne!(code, Some(0), "{v}");
    v["error"]["code"].as_str().unwrap_or_default().to_owned()
}

fn residents(n: usize) -> Vec<SynthRecording> {
    let pool = RegionPool::load().unwrap();
    (0..)
        .filter_map(|k| recording(&pool, 11, k, reference_date(), "OP-01"))
        .take(n)
        .collect()
}

/// `rekam backup --to disk` of the station in `data`, which must succeed: its JSON answer.
fn backed_up(data: &Path, disk: &Path) -> Value {
    let out = rekam(
        data,
        PASSPHRASE,
        &["backup", "--to", disk.to_str().unwrap()],
    );
    let (v, code) = answer(&out);
    assert_eq!(code, Some(0), "{v}");
    v
}

/// A new station in `paths`, registered with a test data center.
fn registered_station(paths: &StationPaths) -> Station {
    let mut station = Station::init(
        InitOptions {
            paths: paths.clone(),
            station_id: Some("KEC-BK-01".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "test".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let dc = DcKeys::from_seeds(&[1; 32], &[2; 32]).identity("DC-TEST", None);
    station.pin_data_center(&dc, &dc, "test").unwrap();
    station
}

/// Every key file lost, as a disk that failed under the keys directory leaves the station.
fn lose_keys(paths: &StationPaths) {
    for file in [&paths.key_file, &paths.signing_key_file()] {
        std::fs::remove_file(file).unwrap();
    }
}

#[test]
fn keys_restored_alone_never_bring_back_a_signing_key_rotated_away() {
    let (_dir, data, disk) = station_and_disk();
    let paths = StationPaths::new(&data, None);
    let key_id = |station: &Station| station.signing_key().unwrap().id().to_string();

    // A rotation begun before the backup (its new key is in the backup, pending) and
    // finished after it: the pending key is the one to restore.
    let mut station = registered_station(&paths);
    station.begin_key_rotation().unwrap();
    let v = backed_up(&data, &disk);
    let from = v["backup"]["dir"].as_str().unwrap().to_owned();
    station.finish_key_rotation("test").unwrap();
    let rotated = key_id(&station);
    drop(station);
    lose_keys(&paths);
    let out = rekam(
        &data,
        PASSPHRASE,
        &["restore", "--from", &from, "--keys-only"],
    );
    let (v, code) = answer(&out);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["restored"]["signing_key"]["state"], "restored", "{v}");
    let mut station = Station::open(paths.clone(), Arc::new(SystemClock)).unwrap();
    assert_eq!(key_id(&station), rotated, "the key the data center knows");

    // Another rotation after the backup: the backup holds no key the data center accepts.
    // The store key alone is restored, and the operator is told what that means.
    station.begin_key_rotation().unwrap();
    station.finish_key_rotation("test").unwrap();
    let in_use = key_id(&station);
    drop(station);
    lose_keys(&paths);
    let out = command(&data, PASSPHRASE)
        .args(["restore", "--from", &from, "--keys-only"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("PERHATIAN") && text.contains(&in_use) && text.contains("rekam export"),
        "{text}"
    );
    assert!(paths.key_file.exists());
    assert!(
        !paths.signing_key_file().exists(),
        "a signing key the data center no longer accepts is not put back"
    );
    assert_eq!(answer(&rekam(&data, PASSPHRASE, &["check"])).1, Some(0));
}

#[test]
fn a_lost_key_and_a_damaged_database_are_recovered_from_a_backup() {
    let (dir, data, disk) = station_and_disk();
    let people = residents(3);
    let paths = StationPaths::new(&data, None);
    {
        let mut station = registered_station(&paths);
        for r in &people[..2] {
            station.seal(r.recording.clone(), None, None).unwrap();
        }
    }

    // A short passphrase is refused before anything is copied.
    let out = rekam(&data, "pendek", &["backup", "--to", disk.to_str().unwrap()]);
    assert_eq!(error_code(&out), "WEAK_PASSWORD");
    assert_eq!(std::fs::read_dir(&disk).unwrap().count(), 0);

    let v = backed_up(&data, &disk);
    assert_eq!(v["backup"]["manifest"]["recordings"], 2);
    let backup = PathBuf::from(v["backup"]["dir"].as_str().unwrap());
    assert!(backup.starts_with(&disk));
    let names: Vec<_> = std::fs::read_dir(&disk).unwrap().collect();
    assert_eq!(names.len(), 1, "only the finished backup, no partial one");

    // Nothing on the disk reads as a resident's NIK or name, or as the station's keys.
    let store_key = std::fs::read_to_string(&paths.key_file).unwrap();
    let signing_key = std::fs::read_to_string(paths.signing_key_file()).unwrap();
    for file in walkdir::WalkDir::new(&disk)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
    {
        let bytes = std::fs::read(&file).unwrap();
        let mut secrets = vec![store_key.trim().to_owned(), signing_key.trim().to_owned()];
        for r in &people {
            let b = &r.recording.manifest.biodata;
            secrets.push(b.nik.as_str().to_owned());
            secrets.push(b.name.clone());
        }
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{} holds a secret in plain text",
                file.display()
            );
        }
    }

    // A recording after the backup.
    {
        let mut station = Station::open(paths.clone(), Arc::new(SystemClock)).unwrap();
        station
            .seal(people[2].recording.clone(), None, None)
            .unwrap();
    }

    // The key file is lost: the station says what to do; the wrong passphrase changes
    // nothing; the right one restores the keys beside the newer database, which keeps all
    // three recordings.
    std::fs::remove_file(&paths.key_file).unwrap();
    let out = rekam(&data, PASSPHRASE, &["status"]);
    let (v, _) = answer(&out);
    assert_eq!(v["error"]["code"], "KEY_FILE", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rekam restore"),
        "{v}"
    );
    let from = backup.to_str().unwrap();
    let out = rekam(
        &data,
        "bukan-frasa-yang-benar",
        &["restore", "--from", from, "--keys-only"],
    );
    assert_eq!(error_code(&out), "BACKUP_PASSPHRASE");
    assert!(!paths.key_file.exists());
    let out = rekam(
        &data,
        PASSPHRASE,
        &["restore", "--from", from, "--keys-only"],
    );
    let (v, code) = answer(&out);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["restored"]["recordings"], 3);
    assert_eq!(answer(&rekam(&data, PASSPHRASE, &["check"])).1, Some(0));
    assert_eq!(std::fs::read_to_string(&paths.key_file).unwrap(), store_key);

    // The database is damaged in the middle (a failing disk): detected, by the page's
    // authentication or the integrity check, and named as damage.
    let db = paths.db();
    let mut bytes = std::fs::read(&db).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&db, &bytes).unwrap();
    let out = rekam(&data, PASSPHRASE, &["check"]);
    let code = error_code(&out);
    assert_eq!(
        code,
        "DATABASE_DAMAGED",
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = rekam(
        &data,
        PASSPHRASE,
        &["backup", "--to", disk.to_str().unwrap()],
    );
    assert_eq!(
        error_code(&out),
        "DATABASE_DAMAGED",
        "a damaged database is not backed up"
    );

    // Restored over the damaged station: refused, nothing is overwritten. Into a new data
    // directory: the backup's two recordings, integrity ok, the audit chain intact.
    let out = rekam(&data, PASSPHRASE, &["restore", "--from", from]);
    assert_eq!(error_code(&out), "ALREADY_INITIALISED");
    let fresh = dir.path().join("station-restored");
    let out = rekam(&fresh, PASSPHRASE, &["restore", "--from", from]);
    let (v, code) = answer(&out);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["restored"]["recordings"], 2);
    let restored = StationPaths::new(&fresh, None);
    assert_eq!(
        std::fs::read_to_string(restored.signing_key_file())
            .unwrap()
            .trim(),
        signing_key.trim(),
        "the restored station signs with its own key, which the data center knows"
    );
    let out = rekam(&fresh, PASSPHRASE, &["check"]);
    let (v, code) = answer(&out);
    assert_eq!(code, Some(0), "{v}");

    // A damaged backup is refused before anything is written.
    let copy = dir.path().join("copied-backup");
    std::fs::create_dir(&copy).unwrap();
    for f in ["manifest.json", "keys.sealed", "station.db"] {
        std::fs::copy(backup.join(f), copy.join(f)).unwrap();
    }
    let mut db = std::fs::read(copy.join("station.db")).unwrap();
    db[4096 + 100] ^= 1;
    std::fs::write(copy.join("station.db"), db).unwrap();
    let other = dir.path().join("station-3");
    let out = rekam(
        &other,
        PASSPHRASE,
        &["restore", "--from", copy.to_str().unwrap()],
    );
    assert_eq!(error_code(&out), "BACKUP_DAMAGED");
    assert!(!other.exists());
}
