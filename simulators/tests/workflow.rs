//! The counter's workflows end to end through the simulators on their real transports (SBI over
//! loopback HTTP, the signature pad on a pty, the card in pcscd through vpcd) and a reference
//! data center on loopback: a recording from queue number to summons letter and on to
//! PRINT_READY_RECORD, and each refusal the SOP asks for: no NIK, under 17, already recorded
//! (by SIAK, by this station's journal, by this station's fingers under another NIK, and by
//! the data center for a recording made at another station), a slap of three fingers, quality
//! failing three times then an approved exception, the operator's finger not matching; a
//! handover, a forged card, a failed handover, dispensation without the old KTP; reissues.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam::clock::SystemClock;
use rekam::i18n::{Lang, Localized};
use rekam::packet::ExceptionReason;
use rekam::store::SyncState;
use rekam::store::{VisitOutcome, VisitWorkflow};
use rekam::sync::{SyncConfig, sync_once};
use rekam::workflow::operators;
use rekam_drivers::card::CardTrust;
use rekam_drivers::card::pcsc::PcscReader;
use rekam_drivers::sbi::Finger;
use rekam_gateway::{Config, Gateway};
use rekam_packet::DcKeys;
use rekam_sim::counter::{Counter, OPERATOR, PASSWORD, SUPERVISOR};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// Residents the population holds (edge cases 0-7 and a few more).
const RESIDENTS: u64 = 40;

/// A counter whose station seals to a data center it has never reached (TEST keys): what a
/// station that registered once and then lost its link looks like.
fn counter(dir: &std::path::Path, id: &str) -> Counter {
    let mut c = unregistered(dir, id);
    let identity = DcKeys::from_seeds(&[1; 32], &[2; 32]).identity("DC-TEST", None);
    c.station
        .pin_data_center(&identity, &identity, "test")
        .unwrap();
    c
}

/// A reference data center on loopback in `dir/dc`, publishing results at once.
fn data_center(dir: &std::path::Path) -> (Gateway, rekam_gateway::Running, String) {
    rekam_gateway::init(&dir.join("dc"), "DC-TEST").unwrap();
    let gw = open_dc(dir);
    let running = gw.clone().spawn("127.0.0.1:0").unwrap();
    let url = format!("http://{}", running.addr);
    (gw, running, url)
}

fn open_dc(dir: &std::path::Path) -> Gateway {
    let mut cfg = Config::new(dir.join("dc"));
    cfg.results_delay = Duration::ZERO;
    Gateway::open(cfg, Arc::new(SystemClock)).unwrap()
}

fn unregistered(dir: &std::path::Path, id: &str) -> Counter {
    Counter::open(dir, id, RESIDENTS).unwrap()
}

fn register(gw: &Gateway, url: &str, c: &mut Counter) {
    register_as(gw, url, c, rekam_gateway::StationRole::Counter);
}

fn register_as(gw: &Gateway, url: &str, c: &mut Counter, role: rekam_gateway::StationRole) {
    let token = gw
        .issue_token_for(&c.station.identity().station_id, role)
        .unwrap();
    let answered =
        rekam_sync::register(url, None, &c.station.registration(&token).unwrap()).unwrap();
    c.station
        .pin_data_center(gw.identity(), &answered, "test")
        .unwrap();
}

fn state(c: &Counter, packet: &str) -> SyncState {
    let seq = c
        .station
        .store()
        .journal_after(0, 100)
        .unwrap()
        .into_iter()
        .find(|e| e.enrollment_id == packet)
        .unwrap()
        .seq;
    c.station
        .store()
        .sync_events(seq)
        .unwrap()
        .last()
        .unwrap()
        .state
}

/// Resident `i` recorded at `kec` and synced until the data center calls it PRINT_READY_RECORD.
fn print_ready(
    kec: &mut Counter,
    sync: &SyncConfig,
    i: u64,
) -> rekam::workflow::recording::SealedRecording {
    let sealed = kec.record(i).unwrap();
    for _ in 0..50 {
        sync_once(&mut kec.station, sync).unwrap();
        if state(kec, &sealed.packet_id) == SyncState::PrintReadyRecord {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(state(kec, &sealed.packet_id), SyncState::PrintReadyRecord);
    sealed
}

/// The visit row of a card the Dinas's administrator personalised, as `visit_id`.
fn personalised_at_the_dinas(visit_id: &str) -> rekam::store::NewVisit {
    rekam::store::NewVisit {
        visit_id: visit_id.into(),
        workflow: rekam::store::VisitWorkflow::Personalisation,
        queue_number: None,
        operator_id: "ADM-01".into(),
        case: None,
        masked_nik: None,
        outcome: VisitOutcome::Personalised,
        code: None,
        started_at: time::OffsetDateTime::now_utc(),
        steps: Vec::new(),
        detail: serde_json::Value::Null,
    }
}

fn is_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-") && bytes.ends_with(b"%%EOF\n") || bytes.ends_with(b"%%EOF")
}

#[test]
fn a_recording_goes_from_queue_number_to_print_ready_and_a_second_station_gets_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, running, url) = data_center(dir.path());

    let mut a = unregistered(dir.path(), "KEC-A-01");
    register(&gw, &url, &mut a);
    let sealed = a.record(0).unwrap();
    assert_eq!(sealed.queue_number, "A-001");
    assert!(is_pdf(&sealed.summons_letter));
    let text = String::from_utf8_lossy(&sealed.summons_letter);
    assert!(text.contains("SURAT PANGGILAN") && text.contains("A-001"));
    assert!(text.contains(&sealed.packet_id), "the packet id is printed");

    // The visit, its step times and the audit chain.
    let today = a.station.store().clock().today().to_string();
    let visits = a.station.store().visits_on(&today).unwrap();
    let v = visits
        .iter()
        .find(|v| v.visit.outcome == VisitOutcome::Sealed)
        .unwrap();
    let steps: Vec<&str> = v.visit.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "queue",
            "documents",
            "biodata",
            "eligibility",
            "photo",
            "signature",
            "fingers",
            "irises",
            "index_verification",
            "dedup",
            "statement",
            "operator_finger"
        ]
    );
    assert!(
        !v.visit
            .masked_nik
            .as_ref()
            .unwrap()
            .as_str()
            .contains(a.population.nik(0).unwrap())
    );
    assert!(a.station.verify_audit().unwrap().is_intact());
    let report = rekam::report::daily(&a.station, &today, Duration::from_secs(3600)).unwrap();
    let recording = report.steps.iter().find(|s| s.step == "recording").unwrap();
    assert_eq!(
        (recording.visits, recording.standard_seconds),
        (1, Some(600.0))
    );
    assert_eq!(report.backlog, 1, "sealed, not yet sent");

    // The same resident at another kecamatan: that station cannot know, the data center does.
    // (This station also serves the Dinas of the regency: print orders go to it alone.)
    let mut b = unregistered(dir.path(), "KEC-B-01");
    register_as(&gw, &url, &mut b, rekam_gateway::StationRole::Dinas);
    let second = b.record(0).unwrap();

    let sync = SyncConfig {
        backoff_base: Duration::ZERO,
        ..SyncConfig::new(&url)
    };
    sync_once(&mut a.station, &sync).unwrap();
    sync_once(&mut b.station, &sync).unwrap();
    for _ in 0..50 {
        sync_once(&mut a.station, &sync).unwrap();
        sync_once(&mut b.station, &sync).unwrap();
        if state(&b, &second.packet_id) == SyncState::DuplicateRecord {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(state(&a, &sealed.packet_id), SyncState::PrintReadyRecord);
    assert_eq!(state(&b, &second.packet_id), SyncState::DuplicateRecord);
    // A duplicate is never printed, and a counter fetches no print order, not even of its own
    // recording.
    let e = rekam::workflow::personalisation::fetch_order(&b.station, &sync, &second.packet_id)
        .unwrap_err();
    assert_eq!(e.code(), "NOT_PRINT_READY", "{e}");
    let e = rekam::workflow::personalisation::fetch_order(&a.station, &sync, &sealed.packet_id)
        .unwrap_err();
    assert_eq!(e.code(), "PRINT_ORDER_FORBIDDEN", "{e}");
    rekam::workflow::personalisation::fetch_order(&b.station, &sync, &sealed.packet_id).unwrap();

    // The duplicate stays in the backlog as a case to clarify with the resident (seed 001, 3b)
    // until a supervisor records the outcome, once; the print-ready record does not.
    use rekam::store::Clarified;
    use rekam::workflow::clarification::clarify;
    let waiting = |s: &rekam::station::Station| -> Vec<(String, String)> {
        rekam::sync::backlog(s, Duration::from_secs(24 * 3600), Lang::Id)
            .unwrap()
            .into_iter()
            .map(|l| (l.row.packet_id, l.next_step))
            .collect()
    };
    let lines = waiting(&b.station);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].0, second.packet_id);
    assert!(lines[0].1.contains("klarifikasi"), "{lines:?}");
    assert!(waiting(&a.station).is_empty());
    let refused = |s: &mut rekam::station::Station, packet: &str, note: &str| {
        clarify(s, packet, Clarified::Disputed, note, None)
            .unwrap_err()
            .code()
    };
    assert_eq!(
        refused(&mut a.station, &sealed.packet_id, "x"),
        "NOT_TO_CLARIFY",
        "a print-ready record has nothing to clarify"
    );
    assert_eq!(
        refused(&mut b.station, &sealed.packet_id, "x"),
        "NOT_TO_CLARIFY",
        "another station's record"
    );
    assert_eq!(
        refused(&mut b.station, &second.packet_id, " "),
        "CLARIFICATION_NOTE_MISSING"
    );
    clarify(
        &mut b.station,
        &second.packet_id,
        Clarified::RecordedBefore,
        "BA-17/2026: recorded in Sumedang in 2012",
        None,
    )
    .unwrap();
    assert!(
        waiting(&b.station).is_empty(),
        "clarified: out of the backlog"
    );
    assert_eq!(
        state(&b, &second.packet_id),
        SyncState::DuplicateRecord,
        "the data center's result stands"
    );
    assert_eq!(
        refused(&mut b.station, &second.packet_id, "changed my mind"),
        "NOT_TO_CLARIFY",
        "an outcome is final"
    );
    let entry = b
        .station
        .store()
        .audit_entries(0, 1000)
        .unwrap()
        .into_iter()
        .rfind(|e| e.action == "sync.clarify_duplicate")
        .unwrap();
    assert_eq!(entry.subject, second.packet_id);
    assert!(entry.detail.contains("RECORDED_BEFORE"), "{}", entry.detail);
    assert!(b.station.verify_audit().unwrap().is_intact());
    running.stop();
}

#[test]
fn residents_who_may_not_be_recorded_are_refused_with_where_to_go_next() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = counter(dir.path(), "KEC-R-01");
    // Resident 2 has no NIK; 3 is under 17; SIAK says 5 was recorded elsewhere.
    for (i, expected) in [
        (2, "ELIG_NO_NIK"),
        (3, "ELIG_UNDER_AGE"),
        (5, "ELIG_ALREADY_RECORDED"),
    ] {
        let e = c.begin(i).unwrap_err();
        assert_eq!(e.code(), Some(expected), "resident {i}: {e}");
        let rekam_sim::error::SimError::Core(core) = &e else {
            panic!("resident {i}: not the core's refusal: {e}");
        };
        let id = core.localized(Lang::Id);
        assert!(id.contains("Langkah berikut"), "{id}");
    }
    let today = c.station.store().clock().today().to_string();
    let refused = c.station.store().visits_on(&today).unwrap();
    assert_eq!(
        refused
            .iter()
            .filter(|v| v.visit.outcome == VisitOutcome::Refused)
            .count(),
        3
    );
    assert!(c.station.store().journal_after(0, 10).unwrap().is_empty());

    // The daily report counts them by code, as JSON and as a PDF.
    let report = rekam::report::daily(&c.station, &today, Duration::from_secs(3600)).unwrap();
    assert_eq!(report.visits["recording"]["refused"], 3);
    for code in ["ELIG_NO_NIK", "ELIG_UNDER_AGE", "ELIG_ALREADY_RECORDED"] {
        assert_eq!(report.refusals[code], 1, "{code}");
    }
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains(c.population.nik(3).unwrap()), "no full NIK");
    let pdf = report.to_pdf(Lang::Id);
    assert!(is_pdf(&pdf));
    assert!(String::from_utf8_lossy(&pdf).contains("Penolakan dan kegagalan"));
}

#[test]
fn a_person_recorded_here_is_refused_by_nik_and_by_fingers_under_another_nik() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = counter(dir.path(), "KEC-D-01");
    let first = c.record(0).unwrap();

    let e = c.begin(0).unwrap_err();
    assert_eq!(e.code(), Some("ELIG_ALREADY_RECORDED"), "{e}");
    assert!(
        e.to_string().contains(&first.packet_id),
        "names the record: {e}"
    );

    // Resident 0's face, fingers and eyes with the family card of a citizen born in a year of
    // the same parity (the photo's backdrop colour follows the birth year).
    let year = |c: &Counter, i: u64| {
        let nik = rekam::domain::nik::Nik::parse(c.population.nik(i)?).ok()?;
        let r = c.population.get(&nik)?;
        let citizen = matches!(
            r.biodata.citizenship,
            rekam::domain::biodata::Kewarganegaraan::Wni
        );
        let adult = r.biodata.birth_date.year() < 2008;
        let fresh = r.recording == rekam::domain::eligibility::RecordingStatus::NotRecorded;
        (citizen && adult && fresh).then_some(r.biodata.birth_date.year())
    };
    let y0 = year(&c, 0).unwrap();
    let other = (8..RESIDENTS)
        .find(|&i| year(&c, i).is_some_and(|y| y % 2 == y0 % 2))
        .unwrap();
    let mut w = c.begin(other).unwrap();
    c.devices.resident(0).unwrap();
    c.capture(&mut w, 0).unwrap();
    w.verify_index(&c.devices.fingerprint).unwrap();
    let e = w.dedup(&mut c.station, &c.dedup).unwrap_err();
    assert_eq!(e.code(), "BIOMETRIC_DUPLICATE");
    assert!(e.to_string().contains(&first.packet_id), "{e}");
    assert_eq!(c.station.store().journal_after(0, 10).unwrap().len(), 1);
}

#[test]
fn a_slap_of_three_fingers_and_poor_quality_are_retried_then_excepted_with_approval() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = counter(dir.path(), "KEC-Q-01");
    let mut w = c.begin(0).unwrap();
    w.photo(&c.devices.face).unwrap();
    w.signature(&mut c.devices.pad).unwrap();

    c.devices
        .scenario(serde_json::json!({ "resident": 0, "three_fingers": true }))
        .unwrap();
    let e = w.fingers(&c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "DEVICE_WRONG_FINGER_COUNT", "{e}");
    assert!(e.localized(Lang::Id).contains("Terbaca 3 jari"));

    // Three poor captures of the left slap: its four fingers need exceptions.
    c.devices
        .scenario(serde_json::json!({ "resident": 0, "poor_captures": 3 }))
        .unwrap();
    let e = w.fingers(&c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "QUALITY_EXCEPTION_NEEDED", "{e}");
    // Named as the operator knows them, in their language (not SBI's `Left IndexFinger`).
    assert!(e.to_string().contains("left index"), "{e}");
    assert!(
        e.localized(Lang::Id).contains("telunjuk kiri"),
        "{}",
        e.localized(Lang::Id)
    );
    // The supervisor steps up to approve: their password and their finger.
    c.devices.resident(SUPERVISOR).unwrap();
    let scanner = &c.devices.fingerprint;
    let e = operators::approve(
        &mut c.station,
        "SPV-01",
        "wrong-password",
        scanner,
        "x",
        "y",
    )
    .unwrap_err();
    assert_eq!(e.code(), "APPROVAL_REQUIRED");
    c.devices.resident(OPERATOR).unwrap();
    let scanner = &c.devices.fingerprint;
    let e = operators::approve(&mut c.station, "OP-01", PASSWORD, scanner, "x", "y").unwrap_err();
    assert_eq!(e.code(), "APPROVAL_REQUIRED", "an operator cannot approve");
    let approval = c.approval("unreadable fingers").unwrap();
    c.devices.resident(0).unwrap();
    for f in [
        Finger::LeftIndex,
        Finger::LeftMiddle,
        Finger::LeftRing,
        Finger::LeftLittle,
    ] {
        w.finger_exception(f, ExceptionReason::Unreadable, &approval)
            .unwrap();
    }
    let p = w.fingers(&c.devices.fingerprint).unwrap();
    assert_eq!(p.exceptions, [7, 8, 9, 10]);
    assert_eq!(p.captured.len(), 6);
    w.irises(&c.devices.iris).unwrap();
    let sealed = c.finish(w).unwrap();
    assert!(!sealed.packet_id.is_empty());
}

#[test]
fn index_fingers_that_match_no_slap_are_verified_again_after_the_slaps_are_retaken() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = counter(dir.path(), "KEC-V-01");
    let mut w = c.begin(0).unwrap();
    w.photo(&c.devices.face).unwrap();
    w.signature(&mut c.devices.pad).unwrap();
    // The slaps are taken of the wrong hands (the resident before, still at the scanner).
    c.devices.resident(8).unwrap();
    w.fingers(&c.devices.fingerprint).unwrap();
    c.devices.resident(0).unwrap();
    w.irises(&c.devices.iris).unwrap();
    let e = w.verify_index(&c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "INDEX_MISMATCH", "{e}");
    assert!(
        e.localized(Lang::Id)
            .contains("ulangi perekaman sidik jari"),
        "{}",
        e.localized(Lang::Id)
    );

    // A retake whose first slap stays poor three times changes nothing: the earlier slaps
    // stand (and still do not match), none is half replaced.
    c.devices
        .scenario(serde_json::json!({ "resident": 0, "poor_captures": 3 }))
        .unwrap();
    let e = w.retake_fingers(&c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "QUALITY_EXCEPTION_NEEDED", "{e}");
    c.devices.resident(0).unwrap();
    let e = w.verify_index(&c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "INDEX_MISMATCH", "{e}");

    // Retaken whole: the index fingers match, and the recording goes on to its seal.
    let p = w.retake_fingers(&c.devices.fingerprint).unwrap();
    assert_eq!(p.captured, (1..=10).collect::<Vec<u8>>());
    let (right, left) = w.verify_index(&c.devices.fingerprint).unwrap();
    assert!(right >= 20 && left >= 20, "{right} {left}");
    // Only at index verification.
    let e = w.retake_fingers(&c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "WORKFLOW_ORDER", "{e}");
    w.dedup(&mut c.station, &c.dedup).unwrap();
    w.statement(&mut c.devices.pad).unwrap();
    c.devices.resident(OPERATOR).unwrap();
    w.operator_finger(&c.devices.fingerprint).unwrap();
    let sealed = w.seal(&mut c.station, &mut c.dedup).unwrap();
    assert!(!sealed.packet_id.is_empty());
}

#[test]
fn the_operator_finger_must_be_the_logged_in_operators_and_steps_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = counter(dir.path(), "KEC-O-01");
    let mut w = c.begin(0).unwrap();
    let e = w.fingers(&c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "WORKFLOW_ORDER", "{e}");
    w.pause(&mut c.station, "resident went to copy the KK")
        .unwrap();
    assert_eq!(
        w.photo(&c.devices.face).unwrap_err().code(),
        "WORKFLOW_PAUSED"
    );
    w.resume(&mut c.station).unwrap();
    c.capture(&mut w, 0).unwrap();
    w.verify_index(&c.devices.fingerprint).unwrap();
    w.dedup(&mut c.station, &c.dedup).unwrap();
    w.statement(&mut c.devices.pad).unwrap();
    // The resident's finger instead of the operator's.
    let e = w.operator_finger(&c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "OPERATOR_FINGER_MISMATCH", "{e}");
    c.devices.resident(OPERATOR).unwrap();
    w.operator_finger(&c.devices.fingerprint).unwrap();
    // Cancelled at the last step: nothing sealed, the visit recorded.
    w.cancel(&mut c.station, "resident withdrew").unwrap();
    assert!(c.station.store().journal_after(0, 10).unwrap().is_empty());
    let today = c.station.store().clock().today().to_string();
    let visits = c.station.store().visits_on(&today).unwrap();
    assert_eq!(
        visits.last().unwrap().visit.outcome,
        VisitOutcome::Cancelled
    );

    // Login: a wrong password fails without saying which factor; an idle session locks.
    c.devices.resident(OPERATOR).unwrap();
    let e =
        operators::login(&mut c.station, "OP-01", "nope-nope", &c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "LOGIN_FAILED");
    c.devices.resident(0).unwrap();
    let e =
        operators::login(&mut c.station, "OP-01", PASSWORD, &c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "LOGIN_FAILED", "someone else's finger");
    let mut idle = c.session.clone().with_idle_lock(Duration::ZERO);
    assert_eq!(idle.touch().unwrap_err().code(), "SESSION_LOCKED");
    assert_eq!(
        idle.unlock(&mut c.station, "nope-nope").unwrap_err().code(),
        "LOGIN_FAILED"
    );
    idle.unlock(&mut c.station, PASSWORD).unwrap();

    // Five wrong passwords in a row lock the operator out, even from the right one, until a
    // supervisor (not an operator) unlocks them.
    c.devices.resident(OPERATOR).unwrap();
    for attempt in 1..=operators::MAX_FAILED_LOGINS {
        let e = operators::login(&mut c.station, "OP-01", "nope-nope", &c.devices.fingerprint)
            .unwrap_err();
        let expected = if attempt < operators::MAX_FAILED_LOGINS {
            "LOGIN_FAILED"
        } else {
            "OPERATOR_LOCKED_OUT"
        };
        assert_eq!(e.code(), expected, "attempt {attempt}");
    }
    let e =
        operators::login(&mut c.station, "OP-01", PASSWORD, &c.devices.fingerprint).unwrap_err();
    assert_eq!(e.code(), "OPERATOR_LOCKED_OUT");
    assert!(e.localized(Lang::Id).contains("supervisor"), "{e}");
    assert_eq!(
        operators::unlock_operator(&mut c.station, "OP-01", Some(&c.session))
            .unwrap_err()
            .code(),
        "NOT_PERMITTED"
    );
    c.devices.resident(SUPERVISOR).unwrap();
    let spv = operators::login(&mut c.station, "SPV-01", PASSWORD, &c.devices.fingerprint).unwrap();
    operators::unlock_operator(&mut c.station, "OP-01", Some(&spv)).unwrap();
    c.devices.resident(OPERATOR).unwrap();
    operators::login(&mut c.station, "OP-01", PASSWORD, &c.devices.fingerprint).unwrap();
    let actions: Vec<String> = c
        .station
        .store()
        .audit_entries(0, 1000)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "operator.login",
        "operator.login_failed",
        "operator.login_refused_locked_out",
        "operator.unlock_account",
        "recording.pause",
        "recording.cancelled",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
}

#[test]
fn reissues_need_an_earlier_recording_and_their_evidence() {
    use rekam::domain::case::{CaseType, Document};
    use rekam::workflow::reissue::{ReissueRequest, request};
    let dir = tempfile::tempdir().unwrap();
    let mut c = counter(dir.path(), "KEC-I-01");
    let nik5 = c.population.nik(5).unwrap().to_owned();
    let docs = [Document::FamilyCardCopy, Document::RtRwCoverLetter];
    let req = |nik: &str, presented: &'static [Document]| ReissueRequest {
        case: CaseType::LostCard,
        nik: Box::leak(nik.to_owned().into_boxed_str()),
        presented,
        applicable: &[],
        new_address: None,
    };
    let e = request(&mut c.station, &c.session, &c.population, &req(&nik5, &[])).unwrap_err();
    assert_eq!(e.code(), "REISSUE_EVIDENCE_MISSING", "{e}");
    let _ = docs;
    let full: &'static [Document] = &[
        Document::FamilyCardCopy,
        Document::RtRwCoverLetter,
        Document::PoliceLossReport,
    ];
    let done = request(&mut c.station, &c.session, &c.population, &req(&nik5, full)).unwrap();
    assert!(is_pdf(&done.temporary_letter));
    assert!(String::from_utf8_lossy(&done.temporary_letter).contains("SURAT KETERANGAN"));
    let nik0 = c.population.nik(0).unwrap().to_owned();
    let e = request(&mut c.station, &c.session, &c.population, &req(&nik0, full)).unwrap_err();
    assert_eq!(e.code(), "ELIG_NOT_RECORDED", "{e}");
}

/// A resident recorded and carded loses the card, then moves: each reissue request travels
/// with the counter's sync pass, the data center retires the card in circulation and puts the
/// clean record back on the Dinas's print queue (the Dinas station retires its own copy), and
/// the print order after the move carries the register's new address, never a second
/// recording. A resident the data center holds no clean record of is refused, signed, with
/// what to do; nothing is sent twice.
#[test]
fn reissue_requests_reach_the_data_center_and_put_the_record_back_on_the_print_queue() {
    use rekam::domain::case::{CaseType, Document};
    use rekam::workflow::personalisation::{fetch_order, print_queue};
    use rekam::workflow::reissue::{ReissueRequest, request};
    use rekam_packet::reissue::ReissueAnswer;
    let dir = tempfile::tempdir().unwrap();
    let (gw, running, url) = data_center(dir.path());
    let sync = SyncConfig {
        backoff_base: Duration::ZERO,
        ..SyncConfig::new(&url)
    };
    let mut kec = unregistered(dir.path(), "KEC-R-01");
    register(&gw, &url, &mut kec);
    let sealed = print_ready(&mut kec, &sync, 0);

    // The Dinas personalised a card for it and reported it (writing a chip is the
    // personalisation test's).
    let mut dinas = unregistered(dir.path(), "DINAS-R-01");
    register_as(&gw, &url, &mut dinas, rekam_gateway::StationRole::Dinas);
    let card = |dinas: &mut Counter, serial: &str| {
        dinas
            .station
            .store_mut()
            .append_personalised(
                &personalised_at_the_dinas(&format!("visit-{serial}")),
                &sealed.packet_id,
                serial,
            )
            .unwrap();
        sync_once(&mut dinas.station, &sync).unwrap();
        assert!(dinas.station.store().card_reports().unwrap().is_empty());
    };
    card(&mut dinas, "CARD-1");
    let on_queue = |gw: &Gateway| {
        gw.print_queue("DINAS-R-01")
            .unwrap()
            .into_iter()
            .find(|q| q.packet_id == sealed.packet_id)
    };
    assert!(on_queue(&gw).is_none());

    // Lost: taken at the counter with its evidence, sent with the next pass, answered signed.
    let nik = kec.population.nik(0).unwrap().to_owned();
    let ask = |kec: &mut Counter, case, nik: &str, presented: &[Document], moved: Option<&str>| {
        request(
            &mut kec.station,
            &kec.session,
            &kec.population,
            &ReissueRequest {
                case,
                nik,
                presented,
                applicable: &[],
                new_address: moved,
            },
        )
        .unwrap()
    };
    let lost = ask(
        &mut kec,
        CaseType::LostCard,
        &nik,
        &[
            Document::FamilyCardCopy,
            Document::RtRwCoverLetter,
            Document::PoliceLossReport,
        ],
        None,
    );
    // Until it is sent, the heartbeat tells the data center it is waiting.
    let beat = rekam::sync::heartbeat(&kec.station, &Default::default()).unwrap();
    assert_eq!(
        beat.backlog.counts.get(rekam::sync::REISSUE_WAITING),
        Some(&1)
    );
    let pass = sync_once(&mut kec.station, &sync).unwrap();
    assert_eq!(
        (
            pass.reissues.queued,
            pass.reissues.refused,
            pass.reissues.waiting
        ),
        (1, 0, 0),
        "{pass:?}"
    );
    let beat = rekam::sync::heartbeat(&kec.station, &Default::default()).unwrap();
    assert_eq!(beat.backlog.counts.get(rekam::sync::REISSUE_WAITING), None);
    let answer = |kec: &Counter, id: &str| -> ReissueAnswer {
        let row = kec
            .station
            .store()
            .reissue_requests(false)
            .unwrap()
            .into_iter()
            .find(|r| r.request_id == id)
            .unwrap();
        serde_json::from_str(&row.answer.unwrap()).unwrap()
    };
    let decision = answer(&kec, &lost.request_id).decision;
    assert_eq!(
        decision.packet_id.as_deref(),
        Some(sealed.packet_id.as_str())
    );
    assert!(decision.reason.contains("CARD-1"), "{}", decision.reason);
    // The card is retired at the data center: the record is on the Dinas's queue, saying why,
    // and the Dinas station, reading its queue, retires its own copy and lists it again.
    let back = on_queue(&gw).unwrap();
    assert!(back.returned.unwrap().contains("lost_card"));
    assert!(
        print_queue(&mut dinas.station, &sync)
            .unwrap()
            .iter()
            .any(|q| q.packet_id == sealed.packet_id)
    );
    assert_eq!(
        dinas
            .station
            .store()
            .card_in_circulation(&sealed.packet_id)
            .unwrap(),
        None
    );
    let recorded = fetch_order(&dinas.station, &sync, &sealed.packet_id).unwrap();
    // Nothing twice: the next pass sends nothing.
    let pass = sync_once(&mut kec.station, &sync).unwrap();
    assert_eq!(pass.reissues, Default::default());

    // Moving in, to Sukarasa of this counter's kecamatan (a reissue is asked where the
    // resident lives), after the Dinas put the new address in the register: the new card
    // carries it.
    card(&mut dinas, "CARD-2");
    let street = "JL. PINDAHAN NO. 7";
    assert!(kec.population.update(&nik, |b| {
        b.address.street = street.into();
        b.address.village = rekam::domain::region::RegionCode::parse("32.73.01.1001").unwrap();
    }));
    let moved = ask(
        &mut kec,
        CaseType::MovingIn,
        &nik,
        &[
            Document::FamilyCardCopy,
            Document::RtRwCoverLetter,
            Document::MoveCertificate,
        ],
        Some(street),
    );
    sync_once(&mut kec.station, &sync).unwrap();
    assert_eq!(answer(&kec, &moved.request_id).decision.refused, None);
    let order = fetch_order(&dinas.station, &sync, &sealed.packet_id).unwrap();
    assert_eq!(order.biodata.address.street, street);
    assert_ne!(recorded.biodata.address.street, street);
    assert_eq!(
        order.face, recorded.face,
        "the recording's biometrics, not new ones"
    );

    // Recorded elsewhere by the register, never at this data center: refused, signed, with
    // what to do, and kept.
    let nik5 = kec.population.nik(5).unwrap().to_owned();
    let elsewhere = ask(
        &mut kec,
        CaseType::LostCard,
        &nik5,
        &[
            Document::FamilyCardCopy,
            Document::RtRwCoverLetter,
            Document::PoliceLossReport,
        ],
        None,
    );
    let pass = sync_once(&mut kec.station, &sync).unwrap();
    assert_eq!((pass.reissues.refused, pass.reissues.waiting), (1, 0));
    let refusal = answer(&kec, &elsewhere.request_id).decision;
    assert_eq!(refusal.refused.as_deref(), Some("NO_CLEAN_RECORD"));
    assert!(
        refusal.reason.contains("record the resident"),
        "{}",
        refusal.reason
    );
    // Carried instead of sent (a kecamatan with no link): a damaged card's request goes on a
    // technician's disk with the packets, sealed to the data center (no NIK on the disk), and
    // its answer comes back with the receipts.
    let damaged = ask(
        &mut kec,
        CaseType::ReplaceDamaged,
        &nik,
        &[
            Document::FamilyCardCopy,
            Document::RtRwCoverLetter,
            Document::DamagedCard,
        ],
        None,
    );
    let usb = dir.path().join("usb");
    let exported = rekam::export::export(&mut kec.station, &usb, &[], |_, _, _| {}).unwrap();
    assert_eq!((exported.packets, exported.reissues), (0, 1));
    let sealed_request = std::fs::read(
        exported
            .bundle
            .join(format!("reissues/{}.rkrq", damaged.request_id)),
    )
    .unwrap();
    assert!(
        !sealed_request
            .windows(nik.len())
            .any(|w| w == nik.as_bytes()),
        "the disk carries no NIK in the clear"
    );
    // Unsigned (the manifest's signature lost), nothing vouches for the request: unanswered.
    let sig = exported.bundle.join("manifest.sig");
    std::fs::rename(&sig, sig.with_extension("kept")).unwrap();
    let unsigned = gw.import_bundle(&exported.bundle).unwrap();
    assert!(!unsigned.manifest_signed && unsigned.receipts.reissues.is_empty());
    std::fs::rename(sig.with_extension("kept"), &sig).unwrap();
    let imported = gw.import_bundle(&exported.bundle).unwrap();
    assert_eq!(imported.receipts.reissues.len(), 1);
    let report =
        rekam::export::import_receipts(&mut kec.station, &exported.bundle.join("receipts.json"))
            .unwrap();
    assert_eq!(report.reissues_answered, 1);
    assert_eq!(answer(&kec, &damaged.request_id).decision.refused, None);
    let pass = sync_once(&mut kec.station, &sync).unwrap();
    assert_eq!(pass.reissues, Default::default(), "not sent twice");

    // As the counter reads them, newest first, in Bahasa Indonesia.
    let lines = rekam::workflow::reissue::lines(&kec.station, Lang::Id).unwrap();
    assert_eq!(lines.len(), 4);
    let lines = &lines[1..];
    assert_eq!(lines[0].code.as_deref(), Some("NO_CLEAN_RECORD"));
    assert!(lines[0].state.starts_with("Ditolak"), "{}", lines[0].state);
    assert!(
        lines[1].state.contains("antrean cetak Dinas"),
        "{}",
        lines[1].state
    );
    running.stop();
}

/// Run inside a network namespace with only loopback by the test below: the station, its
/// devices and the data center share one simulated clock that a mobile team's week moves on.
#[test]
#[ignore = "run inside a network namespace by the test below"]
fn mobile_team_week_in_a_network_namespace() {
    use rekam::clock::{Clock, ShiftedClock};
    use rekam::domain::case::CaseType;
    if !rekam_sim::netns::inside() {
        return;
    }
    let day = time::Duration::days;
    let clock = Arc::new(ShiftedClock::new(day(-7)));
    let dir = tempfile::tempdir().unwrap();
    // A week ago at the office: the station registers and takes the Dinas's extract.
    rekam_gateway::init(&dir.path().join("dc"), "DC-TEST").unwrap();
    let open = || {
        let mut cfg = Config::new(dir.path().join("dc"));
        cfg.results_delay = Duration::ZERO;
        Gateway::open(cfg, clock.clone()).unwrap()
    };
    let gw = open();
    let running = gw.clone().spawn("127.0.0.1:0").unwrap();
    let (addr, url) = (running.addr, format!("http://{}", running.addr));
    let mut c = Counter::open_with_clock(dir.path(), "KEC-M-01", RESIDENTS, clock.clone()).unwrap();
    register(&gw, &url, &mut c);
    c.read_from_extract(clock.now() - day(1)).unwrap();
    // Out in the villages for a week: no data center, no SIAK; a resident every other day.
    running.stop();
    let sync = SyncConfig {
        backoff_base: Duration::ZERO,
        connect_timeout: Duration::from_millis(500),
        ..SyncConfig::new(&url)
    };
    let mut packets = Vec::new();
    for (i, on) in [(0, -6), (4, -4), (6, -2)] {
        clock.set(day(on));
        // A new day: the idle lock closed yesterday's session; the operator logs in again.
        c.devices.resident(OPERATOR).unwrap();
        c.session =
            operators::login(&mut c.station, "OP-01", PASSWORD, &c.devices.fingerprint).unwrap();
        let mut w = c.begin_as(i, CaseType::HomeVisit).unwrap();
        c.capture(&mut w, i).unwrap();
        packets.push(c.finish(w).unwrap().packet_id);
        let pass = sync_once(&mut c.station, &sync).unwrap();
        assert!(!pass.link_up, "{pass:?}");
    }
    let backlog = rekam::sync::backlog(&c.station, Duration::ZERO, Lang::Id).unwrap();
    assert_eq!(backlog.len(), 3);
    assert!(backlog.iter().all(|l| l.row.case == "home_visit"));
    // Back at the office a week later: the same address answers again.
    clock.set(day(0));
    let gw = open();
    let running = gw.clone().spawn(&addr.to_string()).unwrap();
    for _ in 0..50 {
        sync_once(&mut c.station, &sync).unwrap();
        if packets
            .iter()
            .all(|p| state(&c, p) == SyncState::PrintReadyRecord)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for p in &packets {
        assert_eq!(state(&c, p), SyncState::PrintReadyRecord);
    }
    // More passes send nothing again: each recording reached the data center once.
    sync_once(&mut c.station, &sync).unwrap();
    let received: i64 = gw
        .stations(30 * 24 * 3600)
        .unwrap()
        .iter()
        .map(|s| s.packets_received)
        .sum();
    assert_eq!(received, 3);
    running.stop();
}

#[test]
fn a_mobile_team_records_a_week_offline_from_the_extract_and_each_recording_reaches_the_dc_once() {
    rekam_sim::netns::run("mobile_team_week_in_a_network_namespace");
}

#[test]
fn the_demo_enrolls_syncs_and_reports() {
    let out = Command::new(env!("CARGO_BIN_EXE_rekam-demo"))
        .args(["--residents", "4", "--lang", "en"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches(" recorded ").count(), 2, "{text}");
    assert!(
        text.contains("ELIG_NO_NIK") && text.contains("ELIG_UNDER_AGE"),
        "{text}"
    );
    assert!(text.contains("PRINT_READY_RECORD     2"), "{text}");
    assert!(text.contains("audit chain: intact"), "{text}");
}

#[test]
fn the_offline_demo_records_inside_a_network_namespace_and_leaves_every_recording_waiting() {
    let script = format!(
        "ip link set lo up && [ \"$(ip -o link | wc -l)\" = 1 ] && exec {} --offline \
         --residents 6 --lang en --json",
        env!("CARGO_BIN_EXE_rekam-demo")
    );
    let out = match Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .output()
    {
        Ok(out) => out,
        Err(e) => return rekam_sim::skip::or_fail("netns", &format!("unshare: {e}")),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && err.contains("unshare failed") {
        return rekam_sim::skip::or_fail("netns", &err.trim());
    }
    assert!(out.status.success(), "{text}\n{err}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["offline"], true, "{text}");
    assert!(report["data_center"].is_null(), "{text}");
    assert!(
        report["extract"]["residents"].as_u64().unwrap() > 0,
        "{text}"
    );
    let recordings = report["recordings"].as_array().unwrap();
    assert_eq!(recordings.len(), 6, "{text}");
    let sealed: Vec<_> = recordings
        .iter()
        .filter(|r| r["packet_id"].is_string())
        .collect();
    assert_eq!(sealed.len(), 3, "{text}");
    assert!(
        recordings
            .iter()
            .any(|r| r["refused"]["code"] == "ELIG_NO_NIK"
                && r["refused"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("the resident has no NIK yet")),
        "{text}"
    );
    assert_eq!(report["states"]["BIO_CAPTURED"], 3, "{text}");
    assert_eq!(report["audit_intact"], true, "{text}");
}

// ----- handover: the card in pcscd ------------------------------------------------------------

const READER: &str = rekam_sim::card::VIRTUAL_READER;

use rekam_sim::card::test_key as fixture;

struct Card(std::process::Child);

impl Drop for Card {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        if let Ok(r) = PcscReader::open(READER) {
            let _ = r.wait_for(false, Duration::from_secs(15));
        }
    }
}

fn insert(args: &[&str]) -> Card {
    let (child, _) = rekam_sim::spawn_ready(
        Command::new(env!("CARGO_BIN_EXE_rekam-sim-card"))
            .args(["--seed", "20261122"])
            .args(args),
    );
    let card = Card(child);
    assert!(
        PcscReader::open(READER)
            .unwrap()
            .wait_for(true, Duration::from_secs(15))
            .unwrap()
    );
    card
}

fn trust() -> CardTrust {
    rekam_sim::card::test_trust().unwrap()
}

#[test]
fn handover_matches_the_chip_refuses_forged_and_foreign_fingers_and_guards_dispensation() {
    use rekam::workflow::handover::HandoverWorkflow;
    let _g = rekam_sim::card::take_reader().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut c = counter(dir.path(), "KEC-H-01");
    let reader = PcscReader::open(READER).unwrap();
    let trust = trust();

    // Resident 0 with their own card: berhasil, receipt signed on the pad.
    {
        let _card = insert(&["--resident", "0"]);
        c.devices.resident(0).unwrap();
        let mut h = HandoverWorkflow::start(&c.station, &c.session, Some("A-001")).unwrap();
        let biodata = h.read_card(&mut c.station, &reader, &trust).unwrap();
        assert_eq!(biodata.nik.as_str(), c.population.nik(0).unwrap());
        h.confirm_chip_data(&mut c.station, true).unwrap();
        let (r, l) = h.verify(&mut c.station, &c.devices.fingerprint).unwrap();
        assert!(r >= 20 && l >= 20, "{r} {l}");
        let done = h.receipt(&mut c.station, &mut c.devices.pad, true).unwrap();
        assert_eq!(done.verification, "berhasil");
        assert!(String::from_utf8_lossy(&done.receipt).contains("TANDA TERIMA"));
    }
    // Someone else's fingers on resident 0's card: gagal, the card goes back.
    {
        let _card = insert(&["--resident", "0"]);
        c.devices.resident(4).unwrap();
        let mut h = HandoverWorkflow::start(&c.station, &c.session, None).unwrap();
        h.read_card(&mut c.station, &reader, &trust).unwrap();
        h.confirm_chip_data(&mut c.station, true).unwrap();
        let e = h
            .verify(&mut c.station, &c.devices.fingerprint)
            .unwrap_err();
        assert_eq!(e.code(), "HANDOVER_FINGER_MISMATCH", "{e}");
        assert!(e.localized(Lang::Id).contains("dimusnahkan"));
    }
    // A forged card.
    {
        let _card = insert(&["--card", "forged-data", "--resident", "0"]);
        let mut h = HandoverWorkflow::start(&c.station, &c.session, None).unwrap();
        let e = h.read_card(&mut c.station, &reader, &trust).unwrap_err();
        assert_eq!(e.code(), "CARD_FORGED", "{e}");
    }
    // Dispensation: not without the old KTP, not without a supervisor.
    {
        let _card = insert(&["--resident", "0"]);
        let mut h = HandoverWorkflow::start(&c.station, &c.session, None).unwrap();
        h.read_card(&mut c.station, &reader, &trust).unwrap();
        h.confirm_chip_data(&mut c.station, true).unwrap();
        let e = h.dispensation(None, true).unwrap_err();
        assert_eq!(e.code(), "DISPENSATION_REFUSED");
        let approval = c.approval("dispensation").unwrap();
        let e = h.dispensation(Some(&approval), false).unwrap_err();
        assert_eq!(e.code(), "DISPENSATION_REFUSED");
        assert!(e.localized(Lang::Id).contains("KTP lama"));
        h.dispensation(Some(&approval), true).unwrap();
        let done = h.receipt(&mut c.station, &mut c.devices.pad, true).unwrap();
        assert_eq!(done.verification, "dispensasi");
    }
    // Abandoned before the card was read (the operator logged out): a visit row says so.
    HandoverWorkflow::start(&c.station, &c.session, None)
        .unwrap()
        .cancel(&mut c.station, "operator logged out")
        .unwrap();
    let today = c.station.store().clock().today().to_string();
    let outcomes: Vec<String> = c
        .station
        .store()
        .visits_on(&today)
        .unwrap()
        .into_iter()
        .filter(|v| v.visit.workflow == VisitWorkflow::Handover)
        .map(|v| format!("{}:{}", v.visit.outcome, v.visit.code.unwrap_or_default()))
        .collect();
    assert_eq!(
        outcomes,
        [
            "handed_over:",
            "failed:HANDOVER_FINGER_MISMATCH",
            "refused:CARD_FORGED",
            "handed_over:",
            "cancelled:CANCELLED"
        ]
    );
}

#[test]
fn personalisation_writes_a_blank_card_from_the_clean_data_and_only_for_print_ready_records() {
    use rekam::workflow::handover::HandoverWorkflow;
    use rekam::workflow::operators::{NewOperator, Role};
    use rekam::workflow::personalisation::{fetch_order, personalise, print_queue, record_return};
    use rekam_drivers::card::DocumentSigner;
    let _g = rekam_sim::card::take_reader().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (gw, running, url) = data_center(dir.path());
    let sync = SyncConfig {
        backoff_base: Duration::ZERO,
        ..SyncConfig::new(&url)
    };

    // Recorded at a kecamatan, PRINT_READY_RECORD at the data center.
    let mut kec = unregistered(dir.path(), "KEC-P-01");
    register(&gw, &url, &mut kec);
    let sealed = print_ready(&mut kec, &sync, 0);
    drop(kec);

    // The Dinas station: an administrator enrolled and logged in.
    let mut dinas = unregistered(dir.path(), "DINAS-P-01");
    register_as(&gw, &url, &mut dinas, rekam_gateway::StationRole::Dinas);
    let e = fetch_order(&dinas.station, &sync, "no-such-packet").unwrap_err();
    assert!(e.to_string().contains("UNKNOWN_PACKET"), "{e}");
    dinas
        .devices
        .resident(rekam_sim::counter::SUPERVISOR + 1)
        .unwrap();
    let (finger, _) =
        rekam::workflow::capture_finger(&dinas.devices.fingerprint, Finger::RightIndex, "ENROL")
            .unwrap();
    operators::add(
        &mut dinas.station,
        &NewOperator {
            operator_id: "ADM-01".into(),
            name: "Admin Dinas".into(),
            role: Role::DinasAdmin,
            password: zeroize::Zeroizing::new(PASSWORD.into()),
            finger,
        },
        None,
    )
    .unwrap();
    let admin = operators::login(
        &mut dinas.station,
        "ADM-01",
        PASSWORD,
        &dinas.devices.fingerprint,
    )
    .unwrap();
    // The record is on the Dinas's print queue: picked from there, not typed.
    let queue = print_queue(&mut dinas.station, &sync).unwrap();
    let picked = queue
        .iter()
        .find(|q| q.packet_id == sealed.packet_id)
        .unwrap();
    assert_eq!(picked.station_id, "KEC-P-01");
    let order = fetch_order(&dinas.station, &sync, &picked.packet_id).unwrap();
    assert_eq!(order.biodata.nik.as_str(), dinas.population.nik(0).unwrap());

    let signer = DocumentSigner::from_pem(
        &std::fs::read_to_string(fixture("test-card-ds-dinas.key.pem")).unwrap(),
        &std::fs::read_to_string(fixture("test-card-ds-dinas.crt.pem")).unwrap(),
    )
    .unwrap();
    let trust = trust();
    let _card = insert(&["--card", "blank", "--resident", "9"]);
    let reader = PcscReader::open(READER).unwrap();
    let write = |station: &mut rekam::station::Station, session| {
        personalise(station, session, &order, &reader, &trust.sam, &signer)
    };
    // An operator may not personalise.
    let e = write(&mut dinas.station, &dinas.session).unwrap_err();
    assert_eq!(e.code(), "NOT_PERMITTED");
    // A card recorded before, whose report the data center will refuse (a record it does not
    // hold): it must not hold up the reports after it.
    dinas
        .station
        .store_mut()
        .append_personalised(
            &personalised_at_the_dinas("refused-card-visit"),
            "00000000-0000-4000-8000-000000000000",
            "!REFUSED",
        )
        .unwrap();
    let done = write(&mut dinas.station, &admin).unwrap();
    let png = image::load_from_memory(&done.face_png).unwrap();
    assert_eq!((png.width(), png.height()), (1011, 638));
    let corner = png.to_rgb8().get_pixel(5, 5).0;
    assert!(
        corner[2] > corner[0],
        "a citizen's card is blue: {corner:?}"
    );
    assert!(is_pdf(&done.face_pdf));
    if let Some(path) = std::env::var_os("REKAM_SAVE_CARD_FACE") {
        std::fs::write(path, &done.face_png).unwrap();
    }

    // The card is off this station's queue at once, and off the data center's once the sync
    // pass reported it.
    let listed: Vec<String> = print_queue(&mut dinas.station, &sync)
        .unwrap()
        .into_iter()
        .map(|q| q.packet_id)
        .collect();
    assert!(!listed.contains(&sealed.packet_id));
    assert_eq!(dinas.station.store().card_reports().unwrap().len(), 2);
    sync_once(&mut dinas.station, &sync).unwrap();
    // The refused report is kept for the next pass; the card after it was accepted.
    let left = dinas.station.store().card_reports().unwrap();
    assert!(
        matches!(&left[..], [rekam::store::CardReport::Issued { card_serial, .. }] if card_serial == "!REFUSED"),
        "{left:?}"
    );
    // Its print order is not given again while the card is out (in the operator's language),
    // and a second card for the same record is refused before any blank card is touched.
    let e = fetch_order(&dinas.station, &sync, &sealed.packet_id).unwrap_err();
    assert_eq!(e.code(), "CARD_IN_CIRCULATION", "{e}");
    assert!(
        e.localized(Lang::Id).contains(&done.card_serial),
        "{}",
        e.localized(Lang::Id)
    );
    let e = write(&mut dinas.station, &admin).unwrap_err();
    assert_eq!(e.code(), "CARD_IN_CIRCULATION", "{e}");
    assert!(
        !gw.print_queue("DINAS-P-01")
            .unwrap()
            .iter()
            .any(|q| q.packet_id == sealed.packet_id)
    );

    // The new card hands over to its owner.
    let mut h = HandoverWorkflow::start(&dinas.station, &dinas.session, None).unwrap();
    let chip = h.read_card(&mut dinas.station, &reader, &trust).unwrap();
    assert_eq!(chip.nik.as_str(), order.biodata.nik.as_str());
    h.confirm_chip_data(&mut dinas.station, true).unwrap();
    dinas.devices.resident(0).unwrap();
    h.verify(&mut dinas.station, &dinas.devices.fingerprint)
        .unwrap();

    // A card that came back (damaged before it reached the resident) is recorded by the
    // administrator, with why, and the record is on the queue again once reported.
    let code = |e: rekam::Error| e.code();
    assert_eq!(
        code(
            record_return(
                &mut dinas.station,
                &dinas.session,
                &done.card_serial,
                "rusak"
            )
            .unwrap_err()
        ),
        "NOT_PERMITTED"
    );
    assert_eq!(
        code(record_return(&mut dinas.station, &admin, &done.card_serial, " ").unwrap_err()),
        "CARD_RETURN_REASON_MISSING"
    );
    assert_eq!(
        code(record_return(&mut dinas.station, &admin, "NO-SUCH-CARD", "rusak").unwrap_err()),
        "CARD_NOT_IN_CIRCULATION"
    );
    let back = record_return(&mut dinas.station, &admin, &done.card_serial, "chip rusak").unwrap();
    assert_eq!(back, sealed.packet_id);
    assert_eq!(
        code(record_return(&mut dinas.station, &admin, &done.card_serial, "lagi").unwrap_err()),
        "CARD_NOT_IN_CIRCULATION",
        "a return is recorded once"
    );
    sync_once(&mut dinas.station, &sync).unwrap();
    let queue = print_queue(&mut dinas.station, &sync).unwrap();
    let again = queue
        .iter()
        .find(|q| q.packet_id == sealed.packet_id)
        .unwrap();
    assert_eq!(again.returned.as_deref(), Some("chip rusak"));
    running.stop();
}

/// The counter's steps as the desktop takes them (`rekam::workflow::counter::step`): no SIAK
/// configured and no devices are refusals by name, an exception needs the supervisor's own
/// password and finger, and the irises' progress is about eyes.
#[test]
fn the_counters_steps_refuse_what_is_missing_and_ask_the_supervisor() {
    use rekam::workflow::counter::{self, Action, Outcome, device_gone};
    let dir = tempfile::tempdir().unwrap();
    let mut c = counter(dir.path(), "KEC-S-01");
    c.devices.resident(0).unwrap();
    let mut w = rekam::workflow::recording::RecordingWorkflow::start(
        &mut c.station,
        &c.session,
        rekam::domain::case::CaseType::NewRecording,
    )
    .unwrap();
    let presented = rekam_sim::counter::required_documents(w.case());
    c.step(
        &mut w,
        Action::Documents {
            presented,
            applicable: Vec::new(),
        },
    )
    .unwrap();
    let nik = c.population.nik(0).map(str::to_owned);
    // Neither SIAK nor devices: each step that needs one says which.
    fn bare(c: &mut Counter) -> counter::Counter<'_> {
        counter::Counter {
            station: &mut c.station,
            dedup: &c.dedup,
            devices: None,
            population: None,
        }
    }
    let e = counter::step(&mut w, bare(&mut c), Action::Biodata { nik: nik.clone() }).unwrap_err();
    assert_eq!(e.code(), "SIAK_NOT_CONFIGURED", "{e}");
    c.step(&mut w, Action::Biodata { nik }).unwrap();
    c.step(&mut w, Action::Confirm { confirmed: true }).unwrap();
    let e = counter::step(&mut w, bare(&mut c), Action::Photo).unwrap_err();
    assert_eq!(e.code(), "DEVICE_NOT_CONNECTED", "{e}");
    assert!(device_gone(e.code()));
    assert!(matches!(
        c.step(&mut w, Action::Photo).unwrap(),
        Outcome::Score(_)
    ));
    c.step(&mut w, Action::Signature).unwrap();
    // An exception on the supervisor's password and finger together: a wrong password with
    // their finger, or their password with someone else's finger (an operator who learnt it),
    // changes nothing, and each refusal counts towards the supervisor's lockout.
    let exception = |password: &str| Action::FingerException {
        finger: 10,
        reason: ExceptionReason::Bandaged,
        supervisor_id: "SPV-01".into(),
        password: password.into(),
    };
    c.devices.resident(SUPERVISOR).unwrap();
    let e = c.step(&mut w, exception("tebakan-salah-123")).unwrap_err();
    assert_eq!(e.code(), "APPROVAL_REQUIRED", "{e}");
    c.devices.resident(OPERATOR).unwrap();
    let e = c.step(&mut w, exception(PASSWORD)).unwrap_err();
    assert_eq!(e.code(), "APPROVAL_REQUIRED", "{e}");
    assert_eq!(c.station.store().login_failures("SPV-01").unwrap().0, 2);
    c.devices.resident(SUPERVISOR).unwrap();
    assert_eq!(
        c.step(&mut w, exception(PASSWORD)).unwrap(),
        Outcome::FingerException(10)
    );
    assert_eq!(c.station.store().login_failures("SPV-01").unwrap().0, 0);
    c.devices.resident(0).unwrap();
    match c.step(&mut w, Action::Fingers).unwrap() {
        Outcome::Fingers(p) => assert!(p.exceptions.contains(&10), "{p:?}"),
        other => panic!("the slaps gave {other:?}"),
    }
    match c.step(&mut w, Action::Irises).unwrap() {
        Outcome::Irises(p) => assert_eq!(p.captured, [1, 2], "{p:?}"),
        other => panic!("the irises gave {other:?}"),
    }
    w.cancel(&mut c.station, "test over").unwrap();
}
