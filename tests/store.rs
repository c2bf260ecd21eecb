//! The encrypted station store, tested through its files on disk.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam::Error;
use rekam::audit::AuditBreak;
use rekam::clock::{Clock, SystemClock};
use rekam::domain::case::CaseType;
use rekam::domain::nik::Nik;
use rekam::domain::region::{RegionCode, RegionDirectory, RegionLevel};
use rekam::station::{InitOptions, Station, StationPaths};
use rekam::store::NewEnrollment;
use std::path::Path;
use std::sync::Arc;

const NAME: &str = "SITI NURHALIZA BINTI AHMAD";
const NIK: &str = "3273014101900001";

fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

fn init(dir: &Path) -> Station {
    Station::init(
        InitOptions {
            paths: StationPaths::new(dir.join("data"), None),
            station_id: Some("BDG-SUKASARI-01".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "test".into(),
        },
        clock(),
    )
    .unwrap()
}

fn enrollment(id: &str, nik: &str) -> NewEnrollment {
    NewEnrollment {
        biometrics: None,
        visit: None,
        enrollment_id: id.into(),
        nik: Nik::parse(nik).unwrap(),
        case: CaseType::NewRecording,
        operator_id: "op-7".into(),
        payload: serde_json::to_vec(&serde_json::json!({ "nama": NAME, "nik": nik })).unwrap(),
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A raw connection with the station's key, for tampering the way an intruder with the key
/// would (dropping the append-only triggers first).
fn raw(station: &Station) -> rusqlite::Connection {
    let key = std::fs::read_to_string(&station.paths().key_file).unwrap();
    let conn = rusqlite::Connection::open(station.paths().db()).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.trim()))
        .unwrap();
    conn
}

#[test]
fn a_known_name_and_nik_never_reach_the_database_or_wal_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let mut station = init(dir.path());
    station
        .store_mut()
        .append_enrollment(&enrollment("ENR-1", NIK))
        .unwrap();
    let db = station.paths().db();
    let wal = db.with_extension("db-wal");

    // While the station is open the new rows sit in the WAL: scan both files as raw bytes.
    let wal_bytes = std::fs::read(&wal).unwrap();
    assert!(wal_bytes.len() > 4096, "the WAL should hold the new pages");
    for bytes in [std::fs::read(&db).unwrap(), wal_bytes] {
        for secret in [NAME, NIK, "SITI", "327301410190"] {
            assert!(!contains(&bytes, secret), "{secret} found in plaintext");
        }
    }
    // After closing, the WAL is checkpointed into the database: scan again.
    drop(station);
    let bytes = std::fs::read(&db).unwrap();
    assert!(!contains(&bytes, NAME) && !contains(&bytes, NIK));
    assert!(
        !contains(&bytes, "SQLite format 3"),
        "even the header is encrypted"
    );
}

#[test]
fn control_the_scan_does_find_plaintext_in_an_unencrypted_database() {
    // Proves the scan above can fail: the same row in a database without a key is visible.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
    conn.execute("INSERT INTO t VALUES (?1)", [format!("{NAME} {NIK}")])
        .unwrap();
    drop(conn);
    let bytes = std::fs::read(&path).unwrap();
    assert!(contains(&bytes, NAME) && contains(&bytes, NIK));
}

#[test]
fn the_wrong_key_is_a_clear_error_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let station = init(dir.path());
    let paths = station.paths().clone();
    drop(station);

    let other = dir.path().join("other.key");
    rekam::store::StoreKey::generate()
        .unwrap()
        .write_new(&other)
        .unwrap();
    let err = Station::open(StationPaths::new(&paths.data_dir, Some(other)), clock()).unwrap_err();
    assert!(matches!(err, Error::WrongKey(_)), "{err:?}");

    // A file that is no database at all.
    let junk_dir = dir.path().join("junk");
    std::fs::create_dir_all(junk_dir.join("keys")).unwrap();
    std::fs::write(junk_dir.join("station.db"), vec![0x5a; 8192]).unwrap();
    std::fs::copy(&paths.key_file, junk_dir.join("keys/store.key")).unwrap();
    let err = Station::open(StationPaths::new(&junk_dir, None), clock()).unwrap_err();
    assert!(matches!(err, Error::WrongKey(_)), "{err:?}");

    // The right key still opens it.
    Station::open(paths, clock()).unwrap();
}

#[cfg(unix)]
#[test]
fn key_file_problems_are_named() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let station = init(dir.path());
    let paths = station.paths().clone();
    drop(station);

    std::fs::set_permissions(&paths.key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Station::open(paths.clone(), clock()).unwrap_err();
    assert!(err.to_string().contains("chmod 600"), "{err}");
    std::fs::set_permissions(&paths.key_file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let missing = StationPaths::new(&paths.data_dir, Some(dir.path().join("nope.key")));
    let err = Station::open(missing, clock()).unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");

    let db_mode = std::fs::metadata(paths.db()).unwrap().permissions().mode();
    assert_eq!(
        db_mode & 0o077,
        0,
        "database readable by others: {db_mode:o}"
    );
}

#[test]
fn the_journal_is_append_only_monotonic_and_refuses_a_second_recording() {
    let dir = tempfile::tempdir().unwrap();
    let mut station = init(dir.path());
    let niks = ["3273014101900001", "3273010202850002", "3171017112990123"];
    let seqs: Vec<i64> = niks
        .iter()
        .enumerate()
        .map(|(i, nik)| {
            station
                .store_mut()
                .append_enrollment(&enrollment(&format!("ENR-{i}"), nik))
                .unwrap()
                .seq
        })
        .collect();
    assert_eq!(seqs, [1, 2, 3]);

    let err = station
        .store_mut()
        .append_enrollment(&enrollment("ENR-again", niks[1]))
        .unwrap_err();
    match err {
        Error::AlreadyRecorded {
            enrollment_id,
            masked_nik,
        } => {
            assert_eq!(enrollment_id, "ENR-1");
            assert_eq!(masked_nik, "327301********02");
        }
        other => panic!("expected AlreadyRecorded, got {other:?}"),
    }

    let after: Vec<_> = station
        .store()
        .journal_after(1, 10)
        .unwrap()
        .into_iter()
        .map(|e| (e.seq, e.enrollment_id, e.masked_nik.to_string()))
        .collect();
    assert_eq!(
        after,
        [
            (2, "ENR-1".to_owned(), "327301********02".to_owned()),
            (3, "ENR-2".to_owned(), "317101********23".to_owned())
        ]
    );
    let stats = station.store().journal_stats().unwrap();
    assert_eq!((stats.entries, stats.head_seq), (3, 3));
    let found = station
        .store()
        .enrollment_by_nik(&Nik::parse(niks[2]).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(found.enrollment_id, "ENR-2");

    // The database itself refuses edits and deletions.
    let conn = raw(&station);
    for sql in [
        "UPDATE enrollment_journal SET operator_id = 'x' WHERE seq = 1",
        "DELETE FROM enrollment_journal WHERE seq = 3",
        "UPDATE audit_log SET actor = 'x' WHERE seq = 1",
        "DELETE FROM audit_log",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    // Every append left its audit entry; the chain is whole.
    let report = station.verify_audit().unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 1 + 3);
}

#[test]
fn audit_verification_finds_every_kind_of_tampering() {
    /// The break expected, given the number of entries before tampering.
    type Want = fn(i64) -> AuditBreak;
    let cases: &[(&str, &str, Want)] = &[
        (
            "edit a row",
            "UPDATE audit_log SET actor = 'intruder' WHERE seq = 3",
            |_| AuditBreak::Edited { seq: 3 },
        ),
        (
            "delete a middle row",
            "DELETE FROM audit_log WHERE seq = 2",
            |_| AuditBreak::Gap {
                expected: 2,
                found: 3,
            },
        ),
        (
            "delete the last row",
            "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)",
            |n| AuditBreak::HeadMismatch {
                head_seq: n,
                last_seq: n - 1,
            },
        ),
        (
            "delete the last row and rewind the head",
            "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log);
             UPDATE audit_head SET seq = seq - 1",
            |n| AuditBreak::HeadMismatch {
                head_seq: n - 1,
                last_seq: n - 1,
            },
        ),
        (
            "insert a forged row copied from another",
            "UPDATE audit_log SET seq = -(seq + 1) WHERE seq >= 3;
             UPDATE audit_log SET seq = -seq WHERE seq < 0;
             INSERT INTO audit_log SELECT 3, at, station_id, actor, 'forged', subject, detail,
                 prev_hash, hash FROM audit_log WHERE seq = 2",
            |_| AuditBreak::Edited { seq: 3 },
        ),
        (
            "swap two rows' order",
            "UPDATE audit_log SET seq = -1 WHERE seq = 2;
             UPDATE audit_log SET seq = 2 WHERE seq = 3;
             UPDATE audit_log SET seq = 3 WHERE seq = -1",
            |_| AuditBreak::Edited { seq: 2 },
        ),
    ];
    for (name, sql, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut station = init(dir.path());
        for (i, nik) in ["3273014101900001", "3273010202850002", "3171017112990123"]
            .iter()
            .enumerate()
        {
            station
                .store_mut()
                .append_enrollment(&enrollment(&format!("ENR-{i}"), nik))
                .unwrap();
        }
        let n = station.store().audit_head().unwrap().seq;
        assert!(
            station.verify_audit().unwrap().is_intact(),
            "{name}: before"
        );
        let conn = raw(&station);
        conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
            .unwrap();
        conn.execute_batch(sql).unwrap();
        drop(conn);
        let report = station.verify_audit().unwrap();
        assert_eq!(report.first_break, Some(want(n)), "{name}");
    }
}

#[test]
fn regions_are_looked_up_by_code_and_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let station = init(dir.path());
    let store = station.store();
    let counts: Vec<i64> = store
        .region_counts()
        .unwrap()
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(counts, [38, 514, 7285, 83762]);

    let by_code = store
        .region(&RegionCode::parse("3273011002").unwrap())
        .unwrap();
    assert_eq!(by_code.name, "Gegerkalong");
    assert!(
        store
            .region(&RegionCode::parse("32.73.01.9999").unwrap())
            .is_none()
    );

    let cases: &[(&str, Option<RegionLevel>, &str)] = &[
        ("sukasari", Some(RegionLevel::Kecamatan), "32.11.12"),
        ("Kota Bandung", None, "32.73"),
        ("GEGERKALONG", Some(RegionLevel::Village), "32.73.01.1002"),
        ("papua barat daya", Some(RegionLevel::Province), "96"),
        ("jawa", Some(RegionLevel::Province), "32"),
    ];
    for (query, level, first) in cases {
        let found = store.search_regions(query, *level, 5).unwrap();
        assert_eq!(
            found.first().map(|r| r.code.dotted()).as_deref(),
            Some(*first),
            "{query}"
        );
    }
    // Wildcards typed by an operator match literally.
    assert!(store.search_regions("%", None, 5).unwrap().is_empty());
    assert!(store.search_regions("_", None, 5).unwrap().is_empty());

    let villages = store
        .child_regions(&RegionCode::parse("32.73.01").unwrap())
        .unwrap();
    assert!(villages.iter().any(|v| v.name == "Gegerkalong"));
    assert!(
        villages
            .iter()
            .all(|v| v.code.level() == RegionLevel::Village)
    );
}

#[test]
fn init_refuses_an_existing_station_and_a_non_kecamatan_code() {
    let dir = tempfile::tempdir().unwrap();
    let station = init(dir.path());
    let paths = station.paths().clone();
    drop(station);
    let again = Station::init(
        InitOptions {
            paths: paths.clone(),
            station_id: None,
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "test".into(),
        },
        clock(),
    );
    assert!(matches!(again, Err(Error::AlreadyInitialised(_))));

    for (code, want) in [("32.73", "STATION_REGION_LEVEL"), ("32.73.99", "REGION")] {
        let err = Station::init(
            InitOptions {
                paths: StationPaths::new(dir.path().join(code), None),
                station_id: None,
                kecamatan: RegionCode::parse(code).unwrap(),
                actor: "test".into(),
            },
            clock(),
        )
        .unwrap_err();
        assert_eq!(err.code(), want, "{code}");
        assert!(
            !dir.path().join(code).exists(),
            "nothing written for {code}"
        );
    }
    for bad in ["ab", "-lead", "has space", "x".repeat(33).as_str()] {
        assert!(rekam::station::validate_station_id(bad).is_err(), "{bad}");
    }
}
