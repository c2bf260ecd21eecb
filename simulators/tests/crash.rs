//! The crash campaign (issue 10): the station at work (`rekam-crash-worker`: recording through
//! the device simulators, sealing, syncing to a reference data center on loopback, exporting,
//! importing the data center's receipts) is killed with SIGKILL at a random moment, again and
//! again. One trial in three the link is down: the recordings pile up, the export carries them,
//! the data center imports the bundle after the kill as a technician would, and the next worker
//! starts by importing the receipts (one time in three it is killed within the first 20 ms of
//! that). After each kill the station must
//! open, pass `PRAGMA integrity_check` and its audit chain, and hold every recording the worker
//! reported sealed, none twice. At the end one more sync must bring every recording to the data
//! center exactly once: as many packets there as in the journal, each decided there, none
//! matched with itself. (A decision DUPLICATE_RECORD or ADJUDICATE_RECORD naming another of the
//! station's recordings is the matcher's false match on synthetic residents, counted in the
//! figures: the journal holds each NIK once, and a thousand trials record over a thousand
//! residents.)
//!
//! The power-cut campaign is the same with the station's disk and its export disk on a
//! [`LossyDisk`]: after each kill the power goes too, and every write that no `fsync` made
//! durable is thrown away before the station opens again. A recording reported sealed must
//! still be there: the seal returns only after its commit is on the disk.
//!
//! Short form in the test command: `REKAM_CRASH_TRIALS` kills (default 8) and
//! `REKAM_POWER_CUT_TRIALS` power cuts (default 4; where FUSE cannot be mounted it fails unless `REKAM_ALLOW_SKIP=fuse`). Full
//! form: `scripts/crash-campaign 1000`. `REKAM_CRASH_SEED` replays a run (each run prints its
//! seed).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use common::{DataCenter, assert_sound, personal_strings};
use rekam_sim::campaign::env_u64;

use rekam::clock::SystemClock;
use rekam::station::{Station, StationPaths};
use rekam_sim::counter::{Counter, bin_dir};
use rekam_sim::lossy_disk::LossyDisk;
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const STATION: &str = "KEC-CRASH-01";

/// The longest a worker runs after opening before it is killed, unless `REKAM_CRASH_WORK_MS`
/// says otherwise: a few recordings in a debug build on two busy cores (one takes 3-9 s).
const WORK_MS: u64 = 20_000;

/// A link that is down: nothing listens on the discard port of the loopback.
const DEAD_LINK: &str = "http://127.0.0.1:9";

/// How soon after opening a worker is killed when it is to be caught importing receipts.
const RECEIPTS_MS: u64 = 20;

/// xorshift64*: the kill times, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Opens the station as the kill left it and checks what must hold after any crash (with
/// `bundle`, the export reported done before: it must still be on the disk, whole and signed);
/// returns the journal's packet ids.
fn check_station(
    dir: &Path,
    sealed: &BTreeSet<String>,
    masks: &BTreeMap<rekam::domain::nik::MaskedNik, usize>,
    bundle: Option<&Path>,
) -> usize {
    let station = Station::open(
        StationPaths::new(dir.join(STATION), None),
        Arc::new(SystemClock),
    )
    .expect("the station opens after a kill");
    assert_sound(&station);
    if let Some(bundle) = bundle {
        check_bundle(bundle, &station.signing_key().unwrap());
    }
    let journal = station.store().journal_after(0, i64::MAX).unwrap();
    let ids: BTreeSet<&str> = journal.iter().map(|e| e.enrollment_id.as_str()).collect();
    for id in sealed {
        assert!(
            ids.contains(id.as_str()),
            "sealed {id} lost after a kill (or power cut)"
        );
    }
    let mut per_mask: BTreeMap<&rekam::domain::nik::MaskedNik, usize> = BTreeMap::new();
    for e in &journal {
        *per_mask.entry(&e.masked_nik).or_default() += 1;
    }
    for (mask, n) in per_mask {
        assert!(
            n <= masks.get(mask).copied().unwrap_or(0),
            "{mask} recorded {n} times"
        );
    }
    journal.len()
}

/// A bundle a technician could carry away: its manifest signed by the station, every packet
/// it lists whole. An export in progress may have rewritten it half-way (the signature file
/// then verifies the manifest on the disk either way), but never left less than this.
fn check_bundle(bundle: &Path, key: &rekam_packet::StationKey) {
    let manifest = std::fs::read(bundle.join("manifest.json"))
        .expect("a bundle reported exported lost its manifest.json");
    let signature = std::fs::read_to_string(bundle.join("manifest.sig"))
        .expect("a bundle reported exported lost its manifest.sig");
    rekam_packet::protocol::verify_bundle(&manifest, &signature, |id| {
        (id == key.id()).then(|| key.public())
    })
    .expect("the bundle's manifest no longer verifies");
    let manifest: rekam_packet::protocol::BundleManifest =
        serde_json::from_slice(&manifest).unwrap();
    for entry in &manifest.packets {
        let bytes = std::fs::read(bundle.join(&entry.file))
            .unwrap_or_else(|e| panic!("{} listed but not there: {e}", entry.file));
        assert_eq!(
            hex::encode(rekam_packet::sha256(&[&bytes])),
            entry.sha256,
            "{} listed but not whole",
            entry.file
        );
    }
}

#[test]
fn every_sealed_recording_survives_kill_9_and_reaches_the_data_center_once() {
    let trials = env_u64("REKAM_CRASH_TRIALS").unwrap_or(8);
    if trials == 0 {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    campaign("crash", trials, dir.path(), None);
}

#[test]
fn every_sealed_recording_survives_a_power_cut_that_drops_unsynced_writes() {
    let trials = env_u64("REKAM_POWER_CUT_TRIALS").unwrap_or(4);
    if trials == 0 {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("disk");
    std::fs::create_dir(&mount).unwrap();
    let mut disk = match LossyDisk::mount(&mount) {
        Ok(disk) => disk,
        Err(e) => {
            rekam_sim::skip::or_fail("fuse", &format!("cannot mount FUSE ({e})"));
            return;
        }
    };
    campaign("power-cut", trials, dir.path(), Some((&mount, &mut disk)));
}

/// Kills the worker `trials` times in `dir` (the data center's files there too); with `disk`,
/// the station and its export live on that lossy disk, mounted at the path given, and each
/// kill is a power cut.
fn campaign(name: &str, trials: u64, dir: &Path, mut disk: Option<(&Path, &mut LossyDisk)>) {
    let seed = env_u64("REKAM_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1
    });
    println!("{name} campaign: {trials} trials, REKAM_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let work_ms = env_u64("REKAM_CRASH_WORK_MS").unwrap_or(WORK_MS);
    // Enough residents for every trial to record two or three.
    let residents = 40 + trials * 4;
    let dc = DataCenter::start(&dir.join("dc"));
    let url = dc.url.clone();
    // Where the station and its export disk are.
    let home = disk.as_ref().map_or(dir, |(mount, _)| *mount).to_owned();
    // What no log line may show, and how often each masked NIK may be in the journal.
    let (secrets, masks) = {
        let mut c = Counter::open(&home, STATION, residents).unwrap();
        dc.register(&mut c.station);
        let mut masks = BTreeMap::new();
        for r in c.population.roster() {
            if let Some(nik) = r
                .nik
                .as_deref()
                .and_then(|n| rekam::domain::nik::Nik::parse(n).ok())
            {
                *masks.entry(nik.masked()).or_default() += 1;
            }
        }
        (personal_strings(&c.population), masks)
    };
    // The station was set up and the machine shut down cleanly.
    if let Some((_, disk)) = &disk {
        disk.settle();
    }

    // The devices outlive every worker, as a counter's do when the station software dies.
    let bin = bin_dir().unwrap();
    let (sbi, sbi_port) =
        rekam_sim::spawn_ready(Command::new(bin.join("rekam-sim-sbi")).args(["--port", "0"]));
    let _sbi = Killed(sbi);
    let (pad, pad_path) =
        rekam_sim::spawn_ready(Command::new(bin.join("rekam-sim-pad")).args(["--speed", "0"]));
    let _pad = Killed(pad);

    let mut logged = 0;
    let mut sealed = BTreeSet::new();
    let mut last_lines: BTreeMap<String, u64> = BTreeMap::new();
    let mut events: BTreeMap<String, u64> = BTreeMap::new();
    let started = Instant::now();
    let usb = home.join("usb");
    let bundle = usb.join(STATION);
    let mut bundles = 0;
    let (mut written, mut fsyncs) = (0, 0);
    for trial in 0..trials {
        let offline = rng.below(3) == 0;
        let link = if offline { DEAD_LINK } else { url.as_str() };
        let receipts_waiting = bundle.join("receipts.json").exists();
        let mut child = Command::new(bin.join("rekam-crash-worker"))
            .args(["--dir", &home.display().to_string()])
            .args(["--station", STATION, "--residents", &residents.to_string()])
            .args(["--sbi-port", &sbi_port, "--pad", &pad_path, "--dc", link])
            .args(["--export-to", &usb.display().to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let errors = std::thread::spawn(move || std::io::read_to_string(err).unwrap_or_default());
        // One kill in five while the station opens; the others at a random moment of the
        // first few recordings. A campaign that has not sealed anything by its second half
        // (a slow machine records slowly) waits for the first seal before its random moment,
        // so the short form proves something however fast the machine is.
        let mut lines = Vec::new();
        let must_seal = sealed.is_empty() && trial >= trials / 2;
        if must_seal || rng.below(5) != 0 {
            let ready = rx.recv_timeout(Duration::from_secs(120));
            lines.extend(ready);
        }
        if must_seal {
            while let Ok(line) = rx.recv_timeout(Duration::from_secs(300)) {
                let first_seal = line.starts_with("SEALED ");
                lines.push(line);
                if first_seal {
                    break;
                }
            }
        }
        let work = if receipts_waiting && rng.below(3) == 0 {
            RECEIPTS_MS
        } else {
            work_ms
        };
        std::thread::sleep(Duration::from_millis(rng.below(work)));
        let _ = child.kill(); // SIGKILL: no destructor, no flush, no goodbye
        let status = child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        let errors = errors.join().unwrap();
        // And the power with it: what the disk had not made durable is gone.
        if let Some((_, disk)) = &mut disk {
            let cut = disk.cut().unwrap();
            written += cut.written;
            fsyncs += cut.fsyncs;
        }
        logged += errors.lines().count();
        for secret in &secrets {
            assert!(
                !errors.contains(secret.as_str()),
                "trial {trial}: the worker's log shows a resident's NIK or name"
            );
        }
        assert!(
            !lines.iter().any(|l| l == "DONE"),
            "the worker ran out of residents; raise `residents`"
        );
        assert!(
            status.code().is_none(),
            "trial {trial}: the worker stopped on its own ({status}) before the kill: {errors}"
        );
        for line in &lines {
            let mut words = line.split_whitespace();
            let word = words.next().unwrap_or_default();
            *events.entry(word.to_owned()).or_default() += 1;
            match word {
                "SEALED" => {
                    sealed.insert(words.next().unwrap().to_owned());
                }
                "RECEIPTS" => {
                    let counts: Vec<&str> = words.collect();
                    assert_eq!(
                        counts[2..],
                        ["0", "0"],
                        "trial {trial}: receipts refused at the station or packets refused \
                         at the data center: {line}"
                    );
                }
                _ => {}
            }
        }
        let last = lines
            .last()
            .map_or("(opening)", |l| l.split_whitespace().next().unwrap_or(""));
        *last_lines.entry(format!("after {last}")).or_default() += 1;
        let exported = events.contains_key("EXPORTED");
        check_station(&home, &sealed, &masks, exported.then_some(bundle.as_path()));
        // The technician carries the disk to the data center, which imports what it holds
        // and writes its receipts onto it; the disk is ejected properly.
        if offline && bundle.join("manifest.json").exists() {
            let imported = dc.gw.import_bundle(&bundle).unwrap();
            assert!(
                imported.receipts.refused.is_empty(),
                "trial {trial}: the data center refused part of the bundle: {:?}",
                imported.receipts.refused
            );
            bundles += 1;
            if let Some((_, disk)) = &disk {
                disk.settle();
            }
        }
    }

    // The link stays up: one more sync brings everything to the data center, once each.
    let mut station = Station::open(
        StationPaths::new(home.join(STATION), None),
        Arc::new(SystemClock),
    )
    .unwrap();
    let exported = events.contains_key("EXPORTED");
    let journal =
        check_station(&home, &sealed, &masks, exported.then_some(bundle.as_path())) as i64;
    // A campaign that never got as far as sealing proves nothing.
    assert!(
        !sealed.is_empty(),
        "no recording was sealed in {trials} trials: {events:?}"
    );
    let decided = dc.sync_all(&mut station, journal);
    drop(station);
    let cuts = if disk.is_some() {
        format!(
            "; {:.1} MB written and {fsyncs} fsyncs made between the power cuts, everything \
             not synced thrown away at each",
            written as f64 / 1e6
        )
    } else {
        String::new()
    };
    println!(
        "{name} campaign: {trials} kills in {:.0} s; journal {journal} recordings, {} reported \
         sealed before their kill, {} at the data center, none lost, none twice ({} taken \
         by its matcher for another resident); {bundles} bundles imported there; worker \
         lines {events:?}; killed {last_lines:?}; {logged} log lines scanned for {} NIKs and names, none found{cuts}",
        started.elapsed().as_secs_f64(),
        sealed.len(),
        decided.at_dc,
        decided.matched_another,
        secrets.len(),
    );
    dc.running.stop();
}

/// A simulator, killed when the test ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
