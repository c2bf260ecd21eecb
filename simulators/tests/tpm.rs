//! The store key's TPM slot against a software TPM (`swtpm`) over the TPM 2.0 command protocol:
//! a fixed counter's sync opens the store with nobody logged in; the slot opens on its own
//! machine alone, and only while that machine boots as it did; removing the slot re-keys the
//! store, so the TPM opens nothing any more, not even through slots copied before.

#![allow(clippy::unwrap_used)]

mod common;

use common::{DataCenter, SealedStation, assert_sound};
use rekam::clock::SystemClock;
use rekam::station::{Station, Unlock};
use rekam::store::slots::{KeySlots, SlotKind, TPM_SLOT};
use rekam_sim::tpm::SoftTpm;
use std::path::Path;
use std::sync::Arc;

const PASSWORD: &str = "slot-tpm-satu";

fn open_by_tpm(data_dir: &Path, tcti: Option<&str>) -> rekam::Result<Station> {
    Station::open_with(
        rekam::station::StationPaths::new(data_dir.to_owned(), None),
        &Unlock::Tpm { tcti },
        Arc::new(SystemClock),
    )
}

fn code(r: rekam::Result<Station>) -> String {
    match r {
        Ok(_) => "opened".into(),
        Err(e) => e.code().to_owned(),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn a_tpm_slot_opens_on_its_own_machine_while_it_boots_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let dc = DataCenter::start(&tmp.path().join("dc"));
    let st = SealedStation::set_up(tmp.path(), &dc, PASSWORD, 3);
    let data_dir = st.paths.data_dir.clone();

    // Without a TPM slot, the TPM opens nothing: the station is locked, and the sync waits
    // for a login.
    let tpm = SoftTpm::start().unwrap();
    assert_eq!(
        code(open_by_tpm(&data_dir, Some(&tpm.tcti()))),
        "STATION_LOCKED"
    );
    let unattended =
        || Station::open_unattended(st.paths.clone(), None, Arc::new(SystemClock)).unwrap();
    assert!(unattended().is_none());
    // A machine without a TPM says so.
    let mut station = st.open("SPV-01", PASSWORD);
    let err = station
        .set_tpm_slot("device:/dev/no-such-tpm", &[7], "SPV-01")
        .unwrap_err();
    assert_eq!(err.code(), "TPM_UNAVAILABLE", "{err}");

    // Enrolled, bound to PCR 7: the unattended sync opens the store and sends every recording.
    station.set_tpm_slot(&tpm.tcti(), &[7], "SPV-01").unwrap();
    drop(station);
    let slots = Station::slots_at(&data_dir).unwrap().unwrap();
    assert!(slots.iter().any(|s| s.kind == SlotKind::Tpm));
    let mut station = unattended().expect("opened by the TPM slot");
    let report =
        rekam::sync::sync_once(&mut station, &rekam::sync::SyncConfig::new(&dc.url)).unwrap();
    assert_eq!((report.sent, report.remaining), (3, 0), "{report:?}");
    assert_sound(&station);
    drop(station);

    // The data directory copied to another machine: its TPM holds nothing of the slot.
    let copy = tmp.path().join("copy");
    copy_dir(&data_dir, &copy);
    let other = SoftTpm::start().unwrap();
    let err = open_by_tpm(&copy, Some(&other.tcti())).err().unwrap();
    assert_eq!(err.code(), "TPM_REFUSED", "{err}");
    assert!(err.to_string().contains("another machine"), "{err}");

    // The same machine booted otherwise: refused, and the passwords still open.
    tpm.boot_otherwise(7).unwrap();
    let err = open_by_tpm(&data_dir, None).err().unwrap();
    assert_eq!(err.code(), "TPM_REFUSED", "{err}");
    assert!(err.to_string().contains("PCR [7]"), "{err}");
    let mut station = st.open("SPV-01", PASSWORD);
    // Enrolled again in the new boot state, it opens again.
    station.set_tpm_slot(&tpm.tcti(), &[7], "SPV-01").unwrap();
    drop(station);
    open_by_tpm(&data_dir, None).unwrap();

    // Removed: the store is re-keyed, so even the slots copied before open nothing.
    let before = tmp.path().join("keyslots-before.json");
    std::fs::copy(KeySlots::path(&data_dir), &before).unwrap();
    let station = st.open("SPV-01", PASSWORD);
    let station = station
        .remove_slot(SlotKind::Tpm, TPM_SLOT, "SPV-01")
        .unwrap();
    assert_sound(&station);
    let audit = station.store().audit_entries(0, i64::MAX).unwrap();
    assert!(
        audit.iter().any(|e| e.action == "station.rekey"),
        "the removal re-keyed the store"
    );
    drop(station);
    assert_eq!(code(open_by_tpm(&data_dir, None)), "STATION_LOCKED");
    let now = tmp.path().join("keyslots-now.json");
    std::fs::copy(KeySlots::path(&data_dir), &now).unwrap();
    std::fs::copy(&before, KeySlots::path(&data_dir)).unwrap();
    assert_eq!(code(open_by_tpm(&data_dir, None)), "WRONG_KEY");
    std::fs::copy(&now, KeySlots::path(&data_dir)).unwrap();
    let station = st.open("OP-01", PASSWORD);
    assert_eq!(station.store().journal_stats().unwrap().entries, 3);
}
