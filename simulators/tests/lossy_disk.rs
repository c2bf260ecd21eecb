//! The lossy disk the power-cut campaign runs the station on keeps exactly what `fsync` made
//! durable: a file's bytes at its last `fsync`, a directory's names at the directory's last
//! `fsync`. Needs root to mount FUSE; elsewhere it fails unless `REKAM_ALLOW_SKIP=fuse`.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam_sim::lossy_disk::LossyDisk;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

fn sync_dir(dir: &Path) {
    File::open(dir).unwrap().sync_all().unwrap();
}

#[test]
fn a_cut_keeps_what_fsync_made_durable_and_nothing_else() {
    let mount = tempfile::tempdir().unwrap();
    let mut disk = match LossyDisk::mount(mount.path()) {
        Ok(disk) => disk,
        Err(e) => {
            rekam_sim::skip::or_fail("fuse", &format!("cannot mount FUSE ({e})"));
            return;
        }
    };
    let root = mount.path();

    // Written, never synced: gone, name and bytes.
    fs::write(root.join("lost"), b"never synced").unwrap();
    // Bytes synced, the directory not: the name is gone with it.
    let mut f = File::create(root.join("nameless")).unwrap();
    f.write_all(b"synced bytes").unwrap();
    f.sync_all().unwrap();
    drop(f);
    let cut = disk.cut().unwrap();
    assert!(cut.written >= 24 && cut.fsyncs == 1, "{cut:?}");
    assert!(!root.join("lost").exists());
    assert!(!root.join("nameless").exists());

    // The careful way: bytes synced, then the name.
    fs::create_dir(root.join("d")).unwrap();
    sync_dir(root);
    let mut f = File::create(root.join("d/kept")).unwrap();
    f.write_all(b"first").unwrap();
    f.sync_all().unwrap();
    drop(f);
    sync_dir(&root.join("d"));
    // Appended after the sync: the tail is lost, the synced part stays.
    let mut f = OpenOptions::new()
        .append(true)
        .open(root.join("d/kept"))
        .unwrap();
    f.write_all(b" and more").unwrap();
    drop(f);
    assert_eq!(fs::read(root.join("d/kept")).unwrap(), b"first and more");
    disk.cut().unwrap();
    assert_eq!(fs::read(root.join("d/kept")).unwrap(), b"first");

    // A rename is durable only once the directory is synced: until then the old name stands.
    let mut f = File::create(root.join("d/new.part")).unwrap();
    f.write_all(b"second").unwrap();
    f.sync_all().unwrap();
    drop(f);
    fs::rename(root.join("d/new.part"), root.join("d/kept")).unwrap();
    disk.cut().unwrap();
    assert_eq!(fs::read(root.join("d/kept")).unwrap(), b"first");
    assert!(!root.join("d/new.part").exists());
    let mut f = File::create(root.join("d/new.part")).unwrap();
    f.write_all(b"second").unwrap();
    f.sync_all().unwrap();
    drop(f);
    fs::rename(root.join("d/new.part"), root.join("d/kept")).unwrap();
    sync_dir(&root.join("d"));
    disk.cut().unwrap();
    assert_eq!(fs::read(root.join("d/kept")).unwrap(), b"second");

    // A clean shutdown keeps everything.
    fs::write(root.join("d/settled"), b"x").unwrap();
    disk.settle();
    disk.cut().unwrap();
    assert_eq!(fs::read(root.join("d/settled")).unwrap(), b"x");
}

#[test]
fn a_station_set_up_and_cut_at_once_opens_with_its_keys() {
    use rekam::clock::SystemClock;
    use rekam::domain::region::RegionCode;
    use rekam::station::{InitOptions, Station, StationPaths};
    use std::sync::Arc;

    let mount = tempfile::tempdir().unwrap();
    let mut disk = match LossyDisk::mount(mount.path()) {
        Ok(disk) => disk,
        Err(e) => {
            rekam_sim::skip::or_fail("fuse", &format!("cannot mount FUSE ({e})"));
            return;
        }
    };
    let paths = || StationPaths::new(mount.path().join("stations/KEC-PC-01"), None);
    let key_id = {
        let station = Station::init(
            InitOptions {
                paths: paths(),
                station_id: Some("KEC-PC-01".into()),
                kecamatan: RegionCode::parse("32.73.01").unwrap(),
                actor: "setup".into(),
            },
            Arc::new(SystemClock),
        )
        .unwrap();
        station.signing_key().unwrap().id()
    };
    // The power goes the moment setup returned: the keys' names were synced with them.
    disk.cut().unwrap();
    let station = Station::open(paths(), Arc::new(SystemClock)).unwrap();
    assert_eq!(station.signing_key().unwrap().id(), key_id);
    assert_eq!(station.store().integrity_check().unwrap(), ["ok"]);
}
