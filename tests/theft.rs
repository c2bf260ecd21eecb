//! A stolen laptop gives away nothing, and a stolen key stops working (issue 26).
//!
//! A station set up with key slots records residents, its operator logs out, and the thief
//! copies the data directory. From the copy nothing opens (no key file, no password, the
//! wrong password), and a scan of every byte of every file finds none of the residents' NIKs
//! or names; the control: the same scan of the same store exported in plaintext by someone
//! who holds a password finds every NIK. Once the Dinas revokes the station, its signing key
//! (as a thief who broke a slot would hold it) is refused for uploads, bundles and rotation.

#![allow(clippy::unwrap_used)]

use rekam::clock::SystemClock;
use rekam::domain::region::RegionCode;
use rekam::station::{FirstSlot, InitOptions, Station, StationPaths, Unlock};
use rekam::store::slots::{KeySlots, RecoveryKey};
use rekam::workflow::operators::{self, NewOperator, Role};
use rekam_bio::finger::FingerTemplate;
use rekam_gateway::{Config, Gateway};
use rekam_packet::protocol::KeyRotation;
use rekam_sync::{DcClient, SyncError};
use rekam_synth::recording::{SynthRecording, recording};
use rekam_synth::resident::{RegionPool, reference_date};
use std::path::Path;
use std::sync::Arc;

const PASSWORD: &str = "rahasia-counter-1";
const RESIDENTS: u64 = 6;

fn resident(pool: &RegionPool, index: u64) -> SynthRecording {
    let mut k = index;
    loop {
        if let Some(r) = recording(pool, 26, k, reference_date(), "OP-01") {
            return r;
        }
        k += 1000;
    }
}

/// The right index finger of a generated resident, as an operator's login finger.
fn finger_of(r: &SynthRecording) -> FingerTemplate {
    let m = &r.recording.manifest;
    let i = m.finger_templates.unwrap() as usize;
    FingerTemplate::from_record(&r.recording.records[i].data)
        .unwrap()
        .into_iter()
        .find(|t| t.position == 2)
        .unwrap()
}

/// A station with key slots in `dir/<id>`: SPV-01's password first, the Dinas's `recovery`.
fn sealed_station(dir: &Path, id: &str, recovery: Option<[u8; 32]>) -> (StationPaths, Station) {
    let paths = StationPaths::new(dir.join(id), None);
    let station = Station::init_sealed(
        InitOptions {
            paths: paths.clone(),
            station_id: Some(id.into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "setup".into(),
        },
        &FirstSlot {
            operator_id: "SPV-01",
            password: PASSWORD,
            recovery,
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    (paths, station)
}

/// Adds SPV-01 (a supervisor) and, with `operator`, OP-01, each with PASSWORD and a generated
/// resident's right index finger.
fn add_operators(station: &mut Station, pool: &RegionPool, operator: bool) {
    let people = [
        ("SPV-01", Role::Supervisor, 900),
        ("OP-01", Role::Operator, 901),
    ];
    for (id, role, who) in people.into_iter().take(if operator { 2 } else { 1 }) {
        operators::add(
            station,
            &NewOperator {
                operator_id: id.into(),
                name: format!("Petugas {id}"),
                role,
                password: zeroize::Zeroizing::new(PASSWORD.into()),
                finger: finger_of(&resident(pool, who)),
            },
            None,
        )
        .unwrap();
    }
}

/// Every file under `dir`, read whole, searched for each of `needles`: the ones found.
fn scan(dir: &Path, needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap();
        for n in needles {
            if bytes.windows(n.len()).any(|w| w == n.as_bytes()) {
                found.push(format!("{n} in {}", entry.path().display()));
            }
        }
    }
    found
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_copy_of_a_sealed_station_opens_nothing_and_its_revoked_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pool = RegionPool::load().unwrap();
    let dc_dir = dir.path().join("dc");
    rekam_gateway::init_for(&dc_dir, "DC-THEFT", &["127.0.0.1".to_owned()]).unwrap();
    let mut cfg = Config::new(&dc_dir);
    cfg.tls = true;
    let gw = Gateway::open(cfg, Arc::new(SystemClock)).unwrap();
    let running = gw.clone().spawn("127.0.0.1:0").unwrap();
    let url = format!("https://{}", running.addr);
    let identity = gw.identity().clone();

    // A counter's station: slots only, the first for SPV-01, one for the Dinas's recovery key.
    let recovery = RecoveryKey::generate().unwrap();
    let (paths, mut station) = sealed_station(
        dir.path(),
        "KEC-T-01",
        Some(rekam::store::slots::recovery_public(&recovery.public_hex()).unwrap()),
    );
    add_operators(&mut station, &pool, true);
    assert!(!paths.key_file.exists(), "no key file");
    assert!(!paths.signing_key_file().exists(), "no signing key file");
    let token = gw.issue_token("KEC-T-01").unwrap();
    let answered = rekam_sync::register(
        &url,
        Some(&identity),
        &station.registration(&token).unwrap(),
    )
    .unwrap();
    station
        .pin_data_center(&identity, &answered, "test")
        .unwrap();
    let residents: Vec<SynthRecording> = (0..RESIDENTS).map(|i| resident(&pool, i)).collect();
    let mut needles = Vec::new();
    let mut niks = Vec::new();
    let mut masked = Vec::new();
    for r in &residents {
        station.seal(r.recording.clone(), None, None).unwrap();
        let b = &r.recording.manifest.biodata;
        niks.push(b.nik.as_str().to_owned());
        masked.push(b.nik.masked().as_str().to_owned());
        needles.push(b.nik.as_str().to_owned());
        needles.push(b.nik.masked().as_str().to_owned());
        needles.push(b.name.clone());
    }
    let signing = station.signing_key().unwrap();
    let exported =
        rekam::export::export(&mut station, &dir.path().join("usb"), &[], |_, _, _| {}).unwrap();
    assert!(exported.signed);
    // The operator logs out: the store closes.
    drop(station);

    // The thief's copy.
    let stolen = dir.path().join("stolen");
    copy_dir(&paths.data_dir, &stolen);
    let copy = StationPaths::new(&stolen, None);
    let clock = Arc::new(SystemClock);
    let e = Station::open(copy.clone(), clock.clone()).unwrap_err();
    assert_eq!(e.code(), "STATION_LOCKED", "{e}");
    let e = Station::open_with(
        copy.clone(),
        &Unlock::Password {
            operator_id: "OP-01",
            password: "tebakan-pencuri",
        },
        clock.clone(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "LOGIN_FAILED", "{e}");
    let e = Station::open_with(
        copy.clone(),
        &Unlock::Password {
            operator_id: "NOBODY",
            password: PASSWORD,
        },
        clock.clone(),
    )
    .unwrap_err();
    assert_eq!(
        e.code(),
        "LOGIN_FAILED",
        "an unknown operator looks like a wrong password"
    );
    let other_dinas = RecoveryKey::generate().unwrap();
    assert!(
        Station::open_with(copy.clone(), &Unlock::Recovery(&other_dinas), clock.clone()).is_err()
    );
    assert_eq!(
        scan(&stolen, &needles),
        Vec::<String>::new(),
        "nothing personal in plain text anywhere in the copy"
    );

    // The control: someone holding a password exports the same store in plaintext, and the
    // same scan finds every recording's masked NIK there, but still no full NIK: the journal
    // keeps a keyed hash of it.
    let key = KeySlots::read(&KeySlots::path(&stolen))
        .unwrap()
        .unwrap()
        .open_with_password("OP-01", PASSWORD)
        .unwrap()
        .unwrap();
    let control = dir.path().join("control");
    std::fs::create_dir(&control).unwrap();
    let conn = rusqlite::Connection::open(copy.db()).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; ATTACH DATABASE '{}' AS plain KEY '';
         SELECT sqlcipher_export('plain'); DETACH DATABASE plain;",
        hex::encode(key.bytes()),
        control.join("plain.db").display()
    ))
    .unwrap();
    drop(conn);
    let found = scan(&control, &masked);
    assert_eq!(
        found.len(),
        masked.len(),
        "the control finds every masked NIK: {found:?}"
    );
    assert_eq!(
        scan(&control, &niks),
        Vec::<String>::new(),
        "no full NIK even in the plaintext export"
    );

    // The copy's rightful owners still get in: a password, the Dinas's recovery key.
    for unlock in [
        Unlock::Password {
            operator_id: "OP-01",
            password: PASSWORD,
        },
        Unlock::Recovery(&recovery),
    ] {
        let s = Station::open_with(paths.clone(), &unlock, clock.clone()).unwrap();
        assert_eq!(s.store().journal_stats().unwrap().entries, RESIDENTS as i64);
    }

    // The Dinas revokes the station: the key a thief would hold is refused for everything.
    gw.revoke("KEC-T-01", None, "laptop stolen").unwrap();
    let thief = DcClient::with_timeouts(
        &url,
        "KEC-T-01",
        rekam_packet::StationKey::from_hex(&signing.to_hex()).unwrap(),
        Some(&identity),
        std::time::Duration::from_secs(10),
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let code = |e: SyncError| match e {
        SyncError::Refused { code, .. } => code,
        other => panic!("{other}"),
    };
    let bytes = std::fs::read(
        walkdir::WalkDir::new(&exported.bundle)
            .into_iter()
            .map(|e| e.unwrap().into_path())
            .find(|p| p.extension().is_some_and(|x| x == "rkpk"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        code(thief.send(&bytes, &identity).unwrap_err()),
        "STATION_KEY_REVOKED"
    );
    let rotation = KeyRotation::new(
        &signing,
        &rekam_packet::StationKey::generate().unwrap(),
        "KEC-T-01",
        time::OffsetDateTime::now_utc().unix_timestamp(),
    );
    assert_eq!(
        code(thief.rotate(&rotation).unwrap_err()),
        "STATION_KEY_REVOKED"
    );
    let e = gw.import_bundle(&exported.bundle).unwrap_err();
    assert!(e.to_string().contains("revoked"), "{e}");
    assert_eq!(gw.revocations().unwrap()[0].refused_uses.len(), 3);
}

/// A station with key slots backs up and restores like any other: the slots travel as they
/// are (each still needs its password), the signing key inside the database, and no key file
/// appears on either side.
#[test]
fn a_sealed_station_backs_up_and_restores_with_its_slots() {
    let dir = tempfile::tempdir().unwrap();
    let pool = RegionPool::load().unwrap();
    let (_, mut station) = sealed_station(dir.path(), "KEC-B-01", None);
    add_operators(&mut station, &pool, false);
    let signing = station.signing_key().unwrap().id();
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let made =
        rekam::backup::backup(&mut station, &disk, "frasa-sandi-cadangan", "TEK-01").unwrap();
    assert!(made.dir.join("keyslots.json").exists());
    drop(station);

    let restored_paths = StationPaths::new(dir.path().join("restored"), None);
    rekam::backup::restore(
        &made.dir,
        &restored_paths,
        "frasa-sandi-cadangan",
        rekam::backup::Restore::Everything,
        "TEK-01",
        Arc::new(SystemClock),
    )
    .unwrap();
    assert!(!restored_paths.key_file.exists());
    let clock = Arc::new(SystemClock);
    assert_eq!(
        Station::open(restored_paths.clone(), clock.clone())
            .unwrap_err()
            .code(),
        "STATION_LOCKED"
    );
    let s = Station::open_with(
        restored_paths,
        &Unlock::Password {
            operator_id: "SPV-01",
            password: PASSWORD,
        },
        clock,
    )
    .unwrap();
    assert_eq!(s.signing_key().unwrap().id(), signing);
}

/// A station set up with a key file (before slots existed) moves into key slots: the first
/// slot under a supervisor's password (checked against their login), the signing keys into the
/// store, the key files gone; key files left behind by a kill are removed at the next open.
#[test]
fn a_station_kept_by_its_key_file_moves_into_slots() {
    let dir = tempfile::tempdir().unwrap();
    let pool = RegionPool::load().unwrap();
    let paths = StationPaths::new(dir.path().join("KEC-K-01"), None);
    let clock = Arc::new(SystemClock);
    let mut station = Station::init(
        InitOptions {
            paths: paths.clone(),
            station_id: Some("KEC-K-01".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "setup".into(),
        },
        clock.clone(),
    )
    .unwrap();
    add_operators(&mut station, &pool, false);
    let signing = station.signing_key().unwrap().id();
    let pending = station.begin_key_rotation().unwrap().new_public_key;
    let key_file = std::fs::read(&paths.key_file).unwrap();

    let e = operators::seal_station(&mut station, "SPV-01", "bukan-sandinya", None, "TEK-01")
        .unwrap_err();
    assert_eq!(e.code(), "LOGIN_FAILED");
    assert!(paths.key_file.exists(), "a refused seal changes nothing");
    operators::seal_station(&mut station, "SPV-01", PASSWORD, None, "TEK-01").unwrap();
    drop(station);
    for f in [
        &paths.key_file,
        &paths.signing_key_file(),
        &dir.path().join("KEC-K-01/keys/station-signing.key.next"),
    ] {
        assert!(!f.exists(), "{} is gone", f.display());
    }
    assert_eq!(
        Station::open(paths.clone(), clock.clone())
            .unwrap_err()
            .code(),
        "STATION_LOCKED"
    );
    // A kill between the slots and the removal left the key file: the next open removes it.
    std::fs::write(&paths.key_file, &key_file).unwrap();
    let unlock = Unlock::Password {
        operator_id: "SPV-01",
        password: PASSWORD,
    };
    let s = Station::open_with(paths.clone(), &unlock, clock.clone()).unwrap();
    assert!(!paths.key_file.exists());
    assert_eq!(s.signing_key().unwrap().id(), signing);
    assert_eq!(
        s.pending_signing_key().unwrap().unwrap().public_hex(),
        pending
    );
}

/// Wrong passwords on a key slot are counted at the machine: the fifth locks the slot, which is
/// then not tried, even with the right password, until a supervisor unlocks the operator.
#[test]
fn five_wrong_passwords_lock_a_slot_until_a_supervisor_unlocks_it() {
    let dir = tempfile::tempdir().unwrap();
    let pool = RegionPool::load().unwrap();
    let (paths, mut station) = sealed_station(dir.path(), "KEC-L-01", None);
    add_operators(&mut station, &pool, true);
    drop(station);
    let clock = Arc::new(SystemClock);
    let open = |who: &'static str, password: &'static str| {
        Station::open_with(
            paths.clone(),
            &Unlock::Password {
                operator_id: who,
                password,
            },
            clock.clone(),
        )
    };
    for attempt in 1..=operators::MAX_FAILED_LOGINS {
        let code = open("OP-01", "tebakan").unwrap_err().code();
        let expected = if attempt < operators::MAX_FAILED_LOGINS {
            "LOGIN_FAILED"
        } else {
            "OPERATOR_LOCKED_OUT"
        };
        assert_eq!(code, expected, "attempt {attempt}");
    }
    // Not even the right password: the slot is not tried.
    assert_eq!(
        open("OP-01", PASSWORD).unwrap_err().code(),
        "OPERATOR_LOCKED_OUT"
    );
    // Another operator's slot is not affected; their supervisor unlocks OP-01.
    let mut s = open("SPV-01", PASSWORD).unwrap();
    operators::unlock_operator(&mut s, "OP-01", None).unwrap();
    drop(s);
    open("OP-01", PASSWORD).unwrap();

    // Two wrong passwords while the store was closed are audited at the next opening.
    for _ in 0..2 {
        assert_eq!(
            open("SPV-01", "tebakan").unwrap_err().code(),
            "LOGIN_FAILED"
        );
    }
    let s = open("SPV-01", PASSWORD).unwrap();
    let refused = s
        .store()
        .audit_entries(0, 10_000)
        .unwrap()
        .into_iter()
        .rfind(|e| e.action == "station.slots.refused")
        .unwrap();
    assert!(
        refused.detail.contains("\"wrong_passwords\":2"),
        "{}",
        refused.detail
    );
}
