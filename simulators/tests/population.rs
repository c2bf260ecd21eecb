//! The Dinas's population extract on a station: trusted only from the pinned key, applied only
//! for the station's kecamatan and in the Dinas's order, each bad file refused with what to do
//! and the extract in force kept whole (also when the import is killed), and the counter's
//! population answering from it with no SIAK at all.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use rekam::clock::SystemClock;
use rekam::domain::eligibility::RecordingStatus;
use rekam::domain::nik::Nik;
use rekam::domain::population::{Entry, ExtractKind, PopulationRecord, Source};
use rekam::domain::region::RegionCode;
use rekam::i18n::{Lang, Localized};
use rekam::population::{CounterPopulation, import, status, trust};
use rekam::station::{InitOptions, Station, StationPaths};
use rekam::workflow::Population;
use rekam_packet::population::DinasKey;
use rekam_sim::counter::SynthPopulation;
use rekam_sim::extract::{self, TEST_DINAS_PUBLIC};
use rekam_synth::resident::reference_date;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use time::OffsetDateTime;

const REGION: &str = "32.73.01";

fn station(dir: &Path) -> Station {
    Station::init(
        InitOptions {
            paths: StationPaths::new(dir.join("ST"), None),
            station_id: Some("KEC-POP-01".into()),
            kecamatan: RegionCode::parse(REGION).unwrap(),
            actor: "setup".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap()
}

fn population() -> SynthPopulation {
    SynthPopulation::generate(40, reference_date()).unwrap()
}

fn some_record(p: &SynthPopulation) -> PopulationRecord {
    let mut all: Vec<_> = p.records().cloned().collect();
    all.sort_by(|a, b| a.biodata.nik.as_str().cmp(b.biodata.nik.as_str()));
    all.remove(0)
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A station that trusts the TEST Dinas key and holds base extract no. 1 of the generated
/// residents.
fn with_base_extract(dir: &Path) -> (Station, SynthPopulation) {
    let mut s = station(dir);
    trust(&mut s, TEST_DINAS_PUBLIC, "test").unwrap();
    let p = population();
    import(
        &mut s,
        &extract::base(&p, REGION, 1, now()),
        "test",
        |_, _| {},
    )
    .unwrap();
    (s, p)
}

/// What the station holds: (number, residents), or none.
fn held(s: &Station) -> Option<(u64, u64)> {
    status(s).unwrap().map(|x| (x.sequence, x.residents))
}

#[test]
fn an_extract_from_the_trusted_dinas_answers_the_counter_with_no_siak() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = station(dir.path());
    let p = population();
    let file = extract::base(&p, REGION, 1, now());
    // Nothing is read before the Dinas key is trusted.
    let e = import(&mut s, &file, "test", |_, _| {}).unwrap_err();
    assert_eq!(e.code(), "EXTRACT_NO_SIGNER", "{e}");
    assert!(e.localized(Lang::Id).contains("rekam population trust"));
    trust(&mut s, TEST_DINAS_PUBLIC, "test").unwrap();
    trust(&mut s, TEST_DINAS_PUBLIC, "test").unwrap(); // the same key again: no change
    let mut seen = Vec::new();
    let report = import(&mut s, &file, "test", |done, total| {
        seen.push((done, total))
    })
    .unwrap();
    let n = p.records().count() as u64;
    assert_eq!(
        (report.kind, report.sequence, report.residents),
        (ExtractKind::Base, 1, n)
    );
    assert_eq!(seen.last(), Some(&(n, n)), "progress ends at the total");
    let st = status(&s).unwrap().unwrap();
    assert_eq!(
        (st.region.as_str(), st.residents, st.stale),
        (REGION, n, false)
    );

    let counter = CounterPopulation::new(&s, None).unwrap();
    let r = some_record(&p);
    let found = counter.lookup(&r.biodata.nik).unwrap().unwrap();
    assert_eq!(found.record, r);
    assert!(
        matches!(&found.source, Source::Extract { region, sequence: 1, .. } if region == REGION),
        "{:?}",
        found.source
    );
    // A NIK the Dinas does not know is "no NIK" for the SOP, not "SIAK unavailable".
    let unknown = Nik::parse("3273010101010999").unwrap();
    assert!(counter.lookup(&unknown).unwrap().is_none());

    // Another key once one is trusted: refused, the first stays.
    let other = DinasKey::from_hex(&"07".repeat(32)).unwrap();
    let e = trust(&mut s, &other.public_hex(), "test").unwrap_err();
    assert_eq!(e.code(), "POPULATION_SIGNER_PINNED", "{e}");
}

#[test]
fn a_station_without_an_extract_or_siak_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let s = station(dir.path());
    let counter = CounterPopulation::new(&s, None).unwrap();
    let e = counter
        .lookup(&Nik::parse("3273010101010999").unwrap())
        .unwrap_err();
    assert_eq!(e.code(), "NO_POPULATION_DATA", "{e}");
    assert!(e.localized(Lang::Id).contains("impor ekstrak"), "{e}");
}

#[test]
fn every_bad_extract_is_refused_and_the_one_in_force_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = station(dir.path());
    trust(&mut s, TEST_DINAS_PUBLIC, "test").unwrap();
    let p = population();
    let good = extract::base(&p, REGION, 1, now());
    import(&mut s, &good, "test", |_, _| {}).unwrap();
    let before = held(&s);
    let r = some_record(&p);
    let remove = [Entry::Remove {
        nik: r.biodata.nik.clone(),
    }];

    let mut altered = extract::delta(&remove, REGION, 2, now());
    let last = altered.len() - 1;
    altered[last] ^= 0x40;
    let foreign_key = {
        let k = DinasKey::from_hex(&"07".repeat(32)).unwrap();
        rekam::domain::population::Extract::write(
            extract::header(ExtractKind::Delta, REGION, 2, now()),
            &remove,
            &k,
        )
    };
    let big = 1u64 << 40;
    let too_large = {
        let mut h = extract::header(ExtractKind::Delta, REGION, 2, now());
        h.villages = vec!["32.73.01.1001".into()];
        let mut bytes =
            rekam::domain::population::Extract::write(h, &remove, &extract::test_dinas_key());
        // Rewrite the header's declared size and sign it again: a Dinas tool gone wrong.
        let (header, body) = split(&bytes);
        let mut h: rekam::domain::population::ExtractHeader =
            serde_json::from_slice(header).unwrap();
        h.body_bytes = big;
        bytes = assemble(&h, body);
        bytes
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            "EXTRACT_ALTERED",
        ),
        (
            "cut in the header",
            good[..20].to_vec(),
            "EXTRACT_TRUNCATED",
        ),
        ("altered", altered, "EXTRACT_ALTERED"),
        (
            "not an extract",
            b"%PDF-1.7 surat".to_vec(),
            "EXTRACT_NOT_AN_EXTRACT",
        ),
        ("unknown key", foreign_key, "EXTRACT_UNKNOWN_SIGNER"),
        (
            "another kecamatan",
            extract::delta(&remove, "32.73.02", 2, now()),
            "EXTRACT_FOREIGN_REGION",
        ),
        (
            "a gap",
            extract::delta(&remove, REGION, 3, now()),
            "EXTRACT_OUT_OF_SEQUENCE",
        ),
        ("a replay", good.clone(), "EXTRACT_OUT_OF_SEQUENCE"),
        ("too large", too_large, "EXTRACT_TOO_LARGE"),
    ];
    for (what, bytes, code) in cases {
        let e = import(&mut s, &bytes, "test", |_, _| {}).unwrap_err();
        assert_eq!(e.code(), code, "{what}: {e}");
        let id = e.localized(Lang::Id);
        assert!(
            !id.is_empty() && id != e.to_string(),
            "{what}: no Indonesian text"
        );
        assert_eq!(held(&s), before, "{what} changed the extract in force");
    }
    assert!(
        s.store()
            .population_record(&r.biodata.nik)
            .unwrap()
            .is_some()
    );
}

/// An extract's header bytes and body (for rewriting a test file).
fn split(bytes: &[u8]) -> (&[u8], &[u8]) {
    let len = u32::from_be_bytes(bytes[9..13].try_into().unwrap()) as usize;
    (&bytes[13..13 + len], &bytes[13 + len + 64..])
}

/// An extract of `header` (already complete) and `body`, signed with the TEST key.
fn assemble(header: &rekam::domain::population::ExtractHeader, body: &[u8]) -> Vec<u8> {
    let head = serde_json::to_vec(header).unwrap();
    let mut out = b"REKAMPOP\x01".to_vec();
    out.extend_from_slice(&(head.len() as u32).to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&extract::test_dinas_key().sign_extract(&head));
    out.extend_from_slice(body);
    out
}

#[test]
fn deltas_add_change_remove_and_record_elsewhere_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, p) = with_base_extract(dir.path());
    let n = p.records().count() as u64;
    let mut all: Vec<_> = p.records().cloned().collect();
    all.sort_by(|a, b| a.biodata.nik.as_str().cmp(b.biodata.nik.as_str()));
    let (gone, renamed, elsewhere) = (all[0].clone(), all[1].clone(), all[2].clone());
    let mut changed = renamed.clone();
    changed.biodata.name = "NAMA BARU UJI".into();
    let mut recorded = elsewhere.clone();
    recorded.recording = RecordingStatus::Recorded {
        reference: "DC-7731".into(),
    };
    let delta = extract::delta(
        &[
            Entry::Remove {
                nik: gone.biodata.nik.clone(),
            },
            Entry::Upsert {
                record: Box::new(changed),
            },
            Entry::Upsert {
                record: Box::new(recorded.clone()),
            },
        ],
        REGION,
        2,
        now(),
    );
    let report = import(&mut s, &delta, "test", |_, _| {}).unwrap();
    assert_eq!((report.sequence, report.residents), (2, n - 1));
    let store = s.store();
    assert!(
        store
            .population_record(&gone.biodata.nik)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .population_record(&renamed.biodata.nik)
            .unwrap()
            .unwrap()
            .biodata
            .name,
        "NAMA BARU UJI"
    );
    assert_eq!(
        store.population_record(&elsewhere.biodata.nik).unwrap(),
        Some(recorded)
    );
    // The same delta again is a replay; a newer base replaces everything.
    let e = import(&mut s, &delta, "test", |_, _| {}).unwrap_err();
    assert_eq!(e.code(), "EXTRACT_OUT_OF_SEQUENCE", "{e}");
    import(
        &mut s,
        &extract::base(&p, REGION, 7, now()),
        "test",
        |_, _| {},
    )
    .unwrap();
    assert_eq!(held(&s), Some((7, n)));
    // Every import is in the audit log.
    let audit = s.store().audit_entries(0, 1000).unwrap();
    let imports = audit
        .iter()
        .filter(|e| e.action == "population.import")
        .count();
    assert_eq!(imports, 3);
}

/// A base extract of `n` residents: the generated ones again under other serial numbers.
fn large(p: &SynthPopulation, n: usize, sequence: u64) -> Vec<u8> {
    let base: Vec<_> = p.records().cloned().collect();
    let mut entries = Vec::with_capacity(n);
    'fill: for serial in 1..=9999u32 {
        for r in &base {
            if entries.len() == n {
                break 'fill;
            }
            let mut r = r.clone();
            let nik = format!("{}{serial:04}", &r.biodata.nik.as_str()[..12]);
            r.biodata.nik = Nik::parse(&nik).unwrap();
            entries.push(Entry::Upsert {
                record: Box::new(r),
            });
        }
    }
    rekam::domain::population::Extract::write(
        extract::header(ExtractKind::Base, REGION, sequence, now()),
        &entries,
        &extract::test_dinas_key(),
    )
}

/// Run by [`an_import_killed_midway_leaves_the_extract_before_it`] in a child process: imports
/// `REKAM_TEST_IMPORT` into the station in `REKAM_TEST_STATION`, saying `APPLYING` once the
/// transaction has written its first thousand residents.
#[test]
#[ignore = "a child process of the kill test, not a test of its own"]
fn import_child() {
    use std::io::Write;
    let (Some(file), Some(dir)) = (
        std::env::var_os("REKAM_TEST_IMPORT"),
        std::env::var_os("REKAM_TEST_STATION"),
    ) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mut s = Station::open(StationPaths::new(dir, None), Arc::new(SystemClock)).unwrap();
    let bytes = std::fs::read(file).unwrap();
    let mut said = false;
    import(&mut s, &bytes, "test", |done, _| {
        if !said && done >= 1000 {
            said = true;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "APPLYING");
            let _ = out.flush();
        }
    })
    .unwrap();
}

#[test]
fn an_import_killed_midway_leaves_the_extract_before_it() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let (s, p) = with_base_extract(dir.path());
    let before = held(&s).unwrap();
    drop(s);
    let file = dir.path().join("extract-2.rkp");
    std::fs::write(&file, large(&p, 60_000, 2)).unwrap();
    let child = |kill_after: Option<u64>| {
        let mut c = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "import_child", "--ignored", "--nocapture"])
            .env("REKAM_TEST_IMPORT", &file)
            .env("REKAM_TEST_STATION", dir.path().join("ST"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(c.stdout.take().unwrap()).lines();
        let applying = lines.any(|l| l.is_ok_and(|l| l.contains("APPLYING")));
        if let Some(ms) = kill_after {
            assert!(applying, "the import never started applying");
            std::thread::sleep(std::time::Duration::from_millis(ms));
            c.kill().unwrap(); // SIGKILL
        }
        c.wait().unwrap()
    };
    let open = || {
        Station::open(
            StationPaths::new(dir.path().join("ST"), None),
            Arc::new(SystemClock),
        )
        .unwrap()
    };
    // Killed while its transaction is writing residents: the extract before it, whole.
    for ms in [0, 30, 120] {
        let exit = child(Some(ms));
        assert!(
            !exit.success(),
            "the import finished before the kill ({ms} ms)"
        );
        let s = open();
        assert_eq!(held(&s), Some(before), "killed {ms} ms into applying");
        assert!(s.store().integrity_check().unwrap() == ["ok"]);
    }
    // Left alone, the same file applies whole.
    assert!(child(None).success());
    assert_eq!(held(&open()), Some((2, 60_000)));
}

/// A real Dinas's extract travels sealed to the station that imports it: the file on the USB
/// stick holds no NIK in clear (the plain file does), a plain one is refused, one sealed to
/// another station or altered is refused, and the one sealed to this station imports.
#[test]
fn a_real_dinas_extract_is_imported_only_sealed_to_this_station() {
    use rekam_packet::population::seal_extract;
    let dir = tempfile::tempdir().unwrap();
    let mut s = station(dir.path());
    let dinas = DinasKey::generate().unwrap();
    trust(&mut s, &dinas.public_hex(), "test").unwrap();
    let p = population();
    let mut entries: Vec<Entry> = p
        .records()
        .map(|r| Entry::Upsert {
            record: Box::new(r.clone()),
        })
        .collect();
    entries.sort_by_key(|e| match e {
        Entry::Upsert { record } => record.biodata.nik.as_str().to_owned(),
        Entry::Remove { nik } => nik.as_str().to_owned(),
    });
    let plain = rekam::domain::population::Extract::write(
        extract::header(ExtractKind::Base, REGION, 1, now()),
        &entries,
        &dinas,
    );
    let e = import(&mut s, &plain, "test", |_, _| {}).unwrap_err();
    assert_eq!(e.code(), "EXTRACT_NOT_ENCRYPTED", "{e}");
    assert!(e.localized(Lang::Id).contains("rekam population key"));

    let (public_hex, _) = rekam::population::recipient(&mut s).unwrap();
    let mut public = [0u8; 32];
    hex::decode_to_slice(&public_hex, &mut public).unwrap();
    let sealed = seal_extract(&public, &plain).unwrap();
    let nik = some_record(&p).biodata.nik.as_str().to_owned();
    // Whoever finds the plain file reads every resident with the Dinas's public key alone (the
    // body is only deflated); the sealed file does not even parse, nor holds the NIK in clear.
    let verifying = rekam_packet::keys::verifying_key_from_hex(&dinas.public_hex()).unwrap();
    let read = rekam::domain::population::Extract::open(&plain, &verifying).unwrap();
    assert_eq!(read.entries.len(), entries.len());
    assert!(rekam::domain::population::Extract::open(&sealed, &verifying).is_err());
    assert!(rekam::domain::population::Extract::peek(&sealed).is_err());
    assert!(!sealed.windows(nik.len()).any(|w| w == nik.as_bytes()));
    let other = rekam_packet::wrap::SlotKey::generate().unwrap();
    let e = import(
        &mut s,
        &seal_extract(&other.public(), &plain).unwrap(),
        "test",
        |_, _| {},
    )
    .unwrap_err();
    assert_eq!(e.code(), "EXTRACT_NOT_FOR_THIS_STATION", "{e}");
    let mut altered = sealed.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    let e = import(&mut s, &altered, "test", |_, _| {}).unwrap_err();
    assert_eq!(e.code(), "EXTRACT_NOT_FOR_THIS_STATION", "{e}");
    assert_eq!(held(&s), None, "nothing refused left a trace");

    let report = import(&mut s, &sealed, "test", |_, _| {}).unwrap();
    assert_eq!(report.residents, p.records().count() as u64);
    let counter = CounterPopulation::new(&s, None).unwrap();
    let found = counter.lookup(&Nik::parse(&nik).unwrap()).unwrap().unwrap();
    assert_eq!(found.record.biodata.nik.as_str(), nik);
}

/// A mobile team's extract covers some desa only: a NIK it does not hold may be a resident of
/// another desa, so the counter says that instead of "no NIK yet" (which would send a resident
/// with a NIK away); an extract of the whole kecamatan answers "not found" as before.
#[test]
fn a_nik_missing_from_an_extract_of_some_desa_is_not_taken_for_no_nik() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = station(dir.path());
    trust(&mut s, TEST_DINAS_PUBLIC, "test").unwrap();
    let p = population();
    let kept = some_record(&p);
    let missing = p
        .records()
        .find(|r| r.biodata.nik != kept.biodata.nik)
        .unwrap()
        .biodata
        .nik
        .clone();
    let mut header = extract::header(ExtractKind::Base, REGION, 1, now());
    header.villages = vec!["32.73.01.1001".into(), "32.73.01.1002".into()];
    let file = rekam::domain::population::Extract::write(
        header,
        &[Entry::Upsert {
            record: Box::new(kept.clone()),
        }],
        &extract::test_dinas_key(),
    );
    import(&mut s, &file, "test", |_, _| {}).unwrap();
    let counter = CounterPopulation::new(&s, None).unwrap();
    assert!(counter.lookup(&kept.biodata.nik).unwrap().is_some());
    let e = counter.lookup(&missing).unwrap_err();
    assert_eq!(e.code(), "NIK_NOT_IN_DESA_EXTRACT", "{e}");
    assert!(
        e.to_string().contains("32.73.01.1001, 32.73.01.1002"),
        "{e}"
    );
    assert!(e.localized(Lang::Id).contains("desa lain"), "{e}");

    // The whole kecamatan's extract: a NIK it does not hold is simply not found.
    import(
        &mut s,
        &extract::base(&p, REGION, 2, now()),
        "test",
        |_, _| {},
    )
    .unwrap();
    let counter = CounterPopulation::new(&s, None).unwrap();
    let unknown = Nik::parse("3273010101990009").unwrap();
    assert!(counter.lookup(&unknown).unwrap().is_none());
}

/// SIAK online offers the Dinas's extract sealed to the station: each sync pass of a station
/// with SIAK configured imports what is newer than the extract it holds (and nothing twice),
/// verified against the pinned key like a file; a station that pinned no Dinas key takes
/// nothing, and SIAK out of reach fails nothing.
#[test]
fn each_sync_pass_takes_the_newer_extract_siak_offers() {
    use rekam::sync::{SyncConfig, sync_once};
    let dir = tempfile::tempdir().unwrap();
    let dc = common::DataCenter::start(&dir.path().join("dc"));
    let mut s = station(dir.path());
    dc.register(&mut s);
    let bin = rekam_sim::counter::bin_dir().unwrap();
    let (siak, port) = rekam_sim::spawn_ready(Command::new(bin.join("rekam-sim-siak")).args([
        "--port",
        "0",
        "--residents",
        "40",
        "--region",
        REGION,
        "--sequence",
        "3",
    ]));
    let _siak = rekam_sim::counter::Process::from(siak);
    let cfg = SyncConfig {
        siak_url: Some(format!("http://127.0.0.1:{port}")),
        ..SyncConfig::new(&dc.url)
    };
    // No Dinas key pinned: SIAK's offer is not taken.
    assert_eq!(sync_once(&mut s, &cfg).unwrap().population, 0);
    assert_eq!(held(&s), None);

    trust(&mut s, TEST_DINAS_PUBLIC, "test").unwrap();
    assert_eq!(sync_once(&mut s, &cfg).unwrap().population, 1);
    // The generated residents with a NIK (one of the forty has none yet).
    let residents = population().records().count() as u64;
    assert_eq!(held(&s), Some((3, residents)));
    let now = status(&s).unwrap().unwrap();
    assert_eq!(now.region, REGION);
    // The import is in the audit log under SIAK's name.
    let entries = s.store().audit_entries(0, 1000).unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "population.import" && e.actor == "siak")
    );
    // Nothing newer: nothing imported again.
    assert_eq!(sync_once(&mut s, &cfg).unwrap().population, 0);

    // SIAK gone: the pass goes on, the extract held still answers.
    drop(_siak);
    let report = sync_once(&mut s, &cfg).unwrap();
    assert!(report.link_up && report.population == 0, "{report:?}");
    assert_eq!(held(&s), Some((3, residents)));
}
