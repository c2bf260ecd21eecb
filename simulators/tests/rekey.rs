//! Kill -9 during re-keys: a station with key slots re-keys its store again and again
//! (`rekam-rekey-worker`: an operator added, then disabled, each time) and is killed with
//! SIGKILL at a random moment, again and again. After every kill the store opens with every
//! slot that should remain (two passwords and the Dinas's recovery key), passes SQLite's
//! integrity check and the audit chain, and holds every recording sealed before: nothing
//! lost, no slot left behind that opens nothing. `REKEY_KILLS` sets how many kills (the short
//! form runs 6; `scripts/rekey-campaign` runs the full one), `REKEY_SEED` the kill times.

#![allow(clippy::unwrap_used)]

mod common;

use common::{DataCenter, SealedStation, assert_sound};
use rekam::clock::SystemClock;
use rekam::station::{Station, Unlock};
use rekam::store::slots::{KeySlots, SlotKind};
use rekam_sim::counter::bin_dir;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "kampanye-rekey-1";

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn a_station_killed_while_re_keying_opens_with_every_slot_and_loses_nothing() {
    let kills = env_u64("REKEY_KILLS").unwrap_or(6);
    let mut seed = env_u64("REKEY_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1
    });
    eprintln!("re-key campaign: {kills} kills, REKEY_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    let dc = DataCenter::start(&dir.path().join("dc"));
    let SealedStation {
        paths,
        dinas,
        finger_file,
        residents,
    } = SealedStation::set_up(dir.path(), &dc, PASSWORD, 4);

    let bin = bin_dir().unwrap().join("rekam-rekey-worker");
    let (mut rekeyed, mut mid_rekey) = (0, 0);
    for kill in 0..kills {
        let mut child = Command::new(&bin)
            .args(["--data-dir", paths.data_dir.to_str().unwrap()])
            .args(["--password", PASSWORD])
            .args(["--finger", finger_file.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // xorshift: 0.3 to 2.5 s, long enough for some re-keys, landing anywhere in one.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait = Duration::from_millis(300 + seed % 2200);
        let out = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(out)
                .lines()
                .map_while(Result::ok)
                .filter(|l| l.starts_with("REKEYED"))
                .count()
        });
        let started = Instant::now();
        while started.elapsed() < wait {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the worker stopped by itself ({status}) before kill {kill}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        rekeyed += reader.join().unwrap();
        // Where the kill landed: inside a re-key's window when its files are there.
        if KeySlots::next_path(&paths.data_dir).exists() {
            mid_rekey += 1;
        }

        // Every slot that should remain opens the store, and nothing recorded is lost.
        let clock = Arc::new(SystemClock);
        for unlock in [
            Unlock::Password {
                operator_id: "SPV-01",
                password: PASSWORD,
            },
            Unlock::Password {
                operator_id: "OP-01",
                password: PASSWORD,
            },
            Unlock::Recovery(&dinas),
        ] {
            let s = Station::open_with(paths.clone(), &unlock, clock.clone())
                .unwrap_or_else(|e| panic!("kill {kill}: {unlock:?} does not open: {e}"));
            assert_sound(&s);
            assert_eq!(
                s.store().journal_stats().unwrap().entries,
                residents.len() as i64
            );
            assert!(s.signing_key().is_ok(), "kill {kill}: the signing key");
        }
        assert!(!KeySlots::next_path(&paths.data_dir).exists());
        let slots = KeySlots::read(&KeySlots::path(&paths.data_dir))
            .unwrap()
            .unwrap();
        assert_eq!(
            slots
                .list()
                .iter()
                .filter(|s| s.kind == SlotKind::Recovery)
                .count(),
            1
        );
    }
    eprintln!(
        "re-key campaign: {kills} kills after {rekeyed} completed re-keys; {mid_rekey} landed \
         inside a re-key (new slots written: the database being copied, or renamed)"
    );
    assert!(
        rekeyed > 0,
        "no re-key completed between the kills: the campaign tested nothing"
    );
}
