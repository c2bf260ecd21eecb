//! The core's desk (`rekam::desk::Desk`) with no shell around it: what the desktop's commands
//! forward to, driven here as any other front end would, against the simulators on their real
//! transports (SBI over loopback HTTP, the pad on a pty, SIAK over HTTP). A recording from
//! queue number to summons letter with the typed outcome of each step, a refusal kept on screen
//! until closed, a cancel, and a logout that cancels what was in progress; biodata from the
//! Dinas's extract with no SIAK, or with SIAK down; and the whole recording inside a network
//! namespace with no network at all.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam::desk::{Config, Desk, WizardView};
use rekam::domain::case::CaseType;
use rekam::i18n::Lang;
use rekam::station::StationPaths;
use rekam::store::{VisitOutcome, VisitWorkflow};
use rekam::workflow::counter::{Action, Outcome};
use rekam::workflow::recording::Step;
use rekam_packet::DcKeys;
use rekam_sim::counter::{Counter, OPERATOR, PASSWORD, SUPERVISOR, Simulators, required_documents};
use rekam_synth::resident::EdgeCase;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

const RESIDENTS: u64 = 40;
const STATION: &str = "KEC-DESK-01";

/// A set-up station (operators enrolled, a data center pinned) left closed, the simulators
/// running, and a desk over all of it with nobody logged in.
struct Bench {
    desk: Desk,
    sims: Simulators,
    /// Kept for the residents' NIKs and missing fingers.
    roster: Vec<rekam_sim::counter::RosterEntry>,
    missing: Vec<Vec<(rekam_drivers::sbi::Finger, rekam::packet::ExceptionReason)>>,
    _siak: Option<rekam_sim::counter::Process>,
}

/// Where the counter reads biodata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Biodata {
    /// SIAK on loopback.
    Siak,
    /// The Dinas's extract only: no SIAK configured.
    Extract,
    /// SIAK configured at an address where nothing answers, and the extract.
    SiakDownAndExtract,
}

fn bench(dir: &Path) -> Bench {
    bench_with(dir, Biodata::Siak)
}

fn bench_with(dir: &Path, biodata: Biodata) -> Bench {
    bench_at(dir, biodata, false)
}

/// A bench whose station keeps its store key in key slots (`sealed`), or in a key file.
fn bench_at(dir: &Path, biodata: Biodata, sealed: bool) -> Bench {
    let mut c = if sealed {
        Counter::open_sealed(dir, STATION, RESIDENTS, None).unwrap()
    } else {
        Counter::open(dir, STATION, RESIDENTS).unwrap()
    };
    let identity = DcKeys::from_seeds(&[1; 32], &[2; 32]).identity("DC-TEST", None);
    c.station
        .pin_data_center(&identity, &identity, "test")
        .unwrap();
    if biodata != Biodata::Siak {
        rekam::population::trust(
            &mut c.station,
            rekam_sim::extract::TEST_DINAS_PUBLIC,
            "test",
        )
        .unwrap();
        let extract = rekam_sim::extract::base(
            &c.population,
            "32.73.01",
            1,
            time::OffsetDateTime::now_utc() - time::Duration::days(3),
        );
        rekam::population::import(&mut c.station, &extract, "test", |_, _| {}).unwrap();
    }
    let roster = c.population.roster().to_vec();
    let missing = (0..RESIDENTS).map(|i| c.population.missing(i)).collect();
    let Counter { devices, .. } = c;
    let sims = devices.release();
    let (siak, siak_url) = match biodata {
        Biodata::Siak => {
            let bin = rekam_sim::counter::bin_dir().unwrap();
            let (siak, port) =
                rekam_sim::spawn_ready(Command::new(bin.join("rekam-sim-siak")).args([
                    "--port",
                    "0",
                    "--residents",
                    &RESIDENTS.to_string(),
                ]));
            (
                Some(rekam_sim::counter::Process::from(siak)),
                Some(format!("http://127.0.0.1:{port}")),
            )
        }
        Biodata::Extract => (None, None),
        // A port just freed: nothing listens there.
        Biodata::SiakDownAndExtract => {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            (None, Some(format!("http://127.0.0.1:{port}")))
        }
    };
    let config = Config {
        paths: StationPaths::new(dir.join(STATION), None),
        pad_ports: vec![sims.pad_path.clone()],
        sbi_ports: sims.sbi_port..=sims.sbi_port,
        sbi_trust: Some(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../fixtures/test-keys/test-sbi-provider-ca.crt.pem"),
        ),
        siak_url,
        training: None,
        card_reader: None,
        card_trust: None,
        card_token: None,
        dc_url: None,
        document_signer: None,
    };
    Bench {
        desk: Desk::new(config, Arc::new(rekam::clock::SystemClock)),
        sims,
        roster,
        missing,
        _siak: siak,
    }
}

impl Bench {
    /// The resident's missing fingers declared, each approved by SPV-01's password and finger
    /// on the scanner; then the resident steps up again.
    fn exceptions(&mut self, i: u64) {
        let missing = self.missing[i as usize].clone();
        if missing.is_empty() {
            return;
        }
        self.sims.resident(SUPERVISOR).unwrap();
        for (finger, reason) in missing {
            self.act(Action::FingerException {
                finger: finger.code(),
                reason,
                supervisor_id: "SPV-01".into(),
                password: PASSWORD.into(),
            });
        }
        self.sims.resident(i).unwrap();
    }

    /// The first resident generated as nobody's edge case.
    fn ordinary(&self) -> u64 {
        self.roster
            .iter()
            .find(|r| r.edge_case.is_none() && r.nik.is_some() && r.case == CaseType::NewRecording)
            .unwrap()
            .index
    }

    fn with(&self, edge: EdgeCase) -> u64 {
        self.roster
            .iter()
            .find(|r| r.edge_case == Some(edge))
            .unwrap()
            .index
    }

    fn nik(&self, i: u64) -> Option<String> {
        self.roster[i as usize].nik.clone()
    }

    fn act(&mut self, action: Action) -> WizardView {
        let shown = format!("{action:?}");
        self.desk
            .recording(action, Lang::Id)
            .unwrap_or_else(|e| panic!("{shown}: {} {e}", e.code()))
    }

    /// Queue number, documents, biodata of resident `i`, confirmed.
    fn begin(&mut self, i: u64) {
        self.sims.resident(i).unwrap();
        let v = self.act(Action::Start {
            case: CaseType::NewRecording,
        });
        assert_eq!(v.step, Step::Documents);
        assert!(!v.checklist.is_empty());
        self.act(Action::Documents {
            presented: required_documents(CaseType::NewRecording),
            applicable: Vec::new(),
        });
        let v = self.act(Action::Biodata { nik: self.nik(i) });
        assert_eq!(v.biodata.as_ref().map(|b| b.nik.clone()), self.nik(i));
    }
}

fn visits(dir: &Path) -> Vec<rekam::store::VisitRow> {
    let station = rekam::station::Station::open(
        StationPaths::new(dir.join(STATION), None),
        Arc::new(rekam::clock::SystemClock),
    )
    .unwrap();
    let today = station.store().clock().today().to_string();
    station.store().visits_on(&today).unwrap()
}

#[test]
fn a_desk_records_from_queue_number_to_summons_letter_with_what_each_step_gave() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(dir.path());
    // Nothing before a login, and the refusal says what to do.
    let e = b
        .desk
        .recording(
            Action::Start {
                case: CaseType::NewRecording,
            },
            Lang::Id,
        )
        .unwrap_err();
    assert_eq!(e.code(), "NOT_LOGGED_IN", "{e}");
    assert!(b.desk.session().unwrap().is_none());
    b.sims.resident(OPERATOR).unwrap();
    let who = b.desk.login("OP-01", PASSWORD).unwrap();
    assert_eq!(who.operator_id, "OP-01");
    assert!(who.may.contains(&"serve"), "{:?}", who.may);
    assert!(b.desk.pad_in_use().is_some());

    let i = b.ordinary();
    b.begin(i);
    b.act(Action::Confirm { confirmed: true });
    let v = b.act(Action::Photo);
    assert!(
        matches!(v.last, Some(Outcome::Score(s)) if s > 0),
        "{:?}",
        v.last
    );
    // On the screen as `{kind, value}` (the generated contract says so too).
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["last"]["kind"], "score", "{json}");
    assert!(json["last"]["value"].is_u64(), "{json}");
    b.act(Action::Signature);
    b.exceptions(i);
    let v = b.act(Action::Fingers);
    let Some(Outcome::Fingers(p)) = &v.last else {
        panic!("the slaps gave {:?}", v.last)
    };
    assert_eq!(p.captured.len() + p.exceptions.len(), 10, "{p:?}");
    assert!(p.pending.is_empty(), "{p:?}");
    let v = b.act(Action::Irises);
    assert!(
        matches!(&v.last, Some(Outcome::Irises(p)) if p.captured == [1, 2]),
        "{:?}",
        v.last
    );
    // As at a counter: an index finger that does not match is placed again.
    let mut verified = None;
    for _ in 0..3 {
        match b.desk.recording(Action::Verify, Lang::Id) {
            Ok(v) => {
                verified = Some(v);
                break;
            }
            Err(e) if e.code() == "INDEX_MISMATCH" => {}
            Err(e) => panic!("verify: {e}"),
        }
    }
    assert!(
        matches!(
            verified.and_then(|v| v.last),
            Some(Outcome::Verified { .. })
        ),
        "the index fingers never matched"
    );
    b.act(Action::Dedup);
    b.act(Action::Statement);
    b.sims.resident(OPERATOR).unwrap();
    b.act(Action::OperatorFinger);
    let v = b.act(Action::Seal);
    assert_eq!(v.step, Step::Ended);
    let sealed = v.sealed.clone().unwrap();
    assert!(sealed.letter_bytes > 1000, "{sealed:?}");
    assert!(
        sealed.qr_svg.starts_with("<svg"),
        "{}",
        &sealed.qr_svg[..20]
    );
    // The summons stays on screen until closed, then the desk is free for the next resident.
    let current = b.desk.current(Lang::Id).unwrap();
    assert_eq!(current.sealed.unwrap().packet_id, sealed.packet_id);
    b.desk.close();
    assert!(b.desk.current(Lang::Id).is_none());
    let e = b.desk.recording(Action::Photo, Lang::Id).unwrap_err();
    assert_eq!(e.code(), "NO_RECORDING", "{e}");
}

#[test]
fn a_refusal_stays_on_screen_and_a_logout_cancels_the_recording_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(dir.path());
    b.sims.resident(OPERATOR).unwrap();
    b.desk.login("OP-01", PASSWORD).unwrap();

    // Under 17: refused at the biodata, the visit over and recorded.
    let young = b.with(EdgeCase::Under17);
    b.sims.resident(young).unwrap();
    b.act(Action::Start {
        case: CaseType::NewRecording,
    });
    b.act(Action::Documents {
        presented: required_documents(CaseType::NewRecording),
        applicable: Vec::new(),
    });
    let e = match b
        .desk
        .recording(Action::Biodata { nik: b.nik(young) }, Lang::Id)
    {
        Ok(_) => b
            .desk
            .recording(Action::Confirm { confirmed: true }, Lang::Id)
            .unwrap_err(),
        Err(e) => e,
    };
    let shown = b.desk.current(Lang::Id).unwrap();
    assert_eq!(shown.step, Step::Ended);
    let refused = shown.refused.unwrap();
    assert_eq!(refused.code, e.code());
    assert!(refused.message.contains("17"), "{}", refused.message);
    b.desk.close();
    assert!(b.desk.current(Lang::Id).is_none());

    // A cancel says so on screen and leaves nothing behind.
    b.begin(b.ordinary());
    let v = b.act(Action::Cancel {
        reason: "penduduk pulang".into(),
    });
    assert!(v.cancelled);
    assert!(b.desk.current(Lang::Id).is_none());

    // A logout in the middle of a recording cancels it: never sealed half-done.
    b.begin(b.ordinary());
    b.desk.logout().unwrap();
    assert!(b.desk.session().unwrap().is_none());
    assert!(b.desk.current(Lang::Id).is_none());
    let e = b.desk.recording(Action::Photo, Lang::Id).unwrap_err();
    assert_eq!(e.code(), "NOT_LOGGED_IN", "{e}");
    drop(b);

    let rows: Vec<_> = visits(dir.path())
        .into_iter()
        .filter(|v| v.visit.workflow == VisitWorkflow::Recording)
        .map(|v| v.visit.outcome)
        .collect();
    assert_eq!(
        rows,
        [
            VisitOutcome::Refused,
            VisitOutcome::Cancelled,
            VisitOutcome::Cancelled
        ],
        "every visit leaves its row"
    );
}

/// Logs in and records resident `i` to the seal; the biodata's source as the screen showed it.
fn record_one(b: &mut Bench, i: u64) -> rekam::desk::SourceView {
    b.sims.resident(OPERATOR).unwrap();
    if b.desk.session().unwrap().is_none() {
        b.desk.login("OP-01", PASSWORD).unwrap();
    }
    b.begin(i);
    let source = b
        .desk
        .current(Lang::Id)
        .unwrap()
        .biodata_source
        .expect("the biodata step says where the biodata came from");
    b.act(Action::Confirm { confirmed: true });
    b.act(Action::Photo);
    b.act(Action::Signature);
    b.exceptions(i);
    b.act(Action::Fingers);
    b.act(Action::Irises);
    let mut tries = 0;
    while let Err(e) = b.desk.recording(Action::Verify, Lang::Id) {
        tries += 1;
        assert!(e.code() == "INDEX_MISMATCH" && tries < 3, "verify: {e}");
    }
    b.act(Action::Dedup);
    b.act(Action::Statement);
    b.sims.resident(OPERATOR).unwrap();
    b.act(Action::OperatorFinger);
    let v = b.act(Action::Seal);
    assert!(v.sealed.is_some());
    b.desk.close();
    source
}

/// On a station with key slots nothing opens before a login, a wrong password opens nothing,
/// and a logout closes the store again; what was recorded is there at the next login.
#[test]
fn with_key_slots_the_store_opens_at_a_login_and_closes_at_the_logout() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench_at(dir.path(), Biodata::Siak, true);
    assert_eq!(b.desk.home(Lang::Id).unwrap_err().code(), "STATION_LOCKED");
    b.sims.resident(OPERATOR).unwrap();
    assert_eq!(
        b.desk.login("OP-01", "bukan-sandinya").unwrap_err().code(),
        "LOGIN_FAILED"
    );
    assert_eq!(b.desk.home(Lang::Id).unwrap_err().code(), "STATION_LOCKED");
    // The right password but another person's finger: the slot opened, the login failed,
    // and nothing stays open.
    b.sims.resident(0).unwrap();
    assert_eq!(
        b.desk.login("OP-01", PASSWORD).unwrap_err().code(),
        "LOGIN_FAILED"
    );
    assert_eq!(b.desk.home(Lang::Id).unwrap_err().code(), "STATION_LOCKED");

    let i = b.ordinary();
    record_one(&mut b, i);
    assert_eq!(b.desk.home(Lang::Id).unwrap().backlog.unsent, 1);
    // The lock screen closes the store; the password opens it again for the same session.
    b.desk.lock();
    assert_eq!(b.desk.home(Lang::Id).unwrap_err().code(), "STATION_LOCKED");
    assert_eq!(
        b.desk.unlock("bukan-sandinya").unwrap_err().code(),
        "LOGIN_FAILED"
    );
    assert_eq!(b.desk.unlock(PASSWORD).unwrap().operator_id, "OP-01");
    assert_eq!(b.desk.home(Lang::Id).unwrap().backlog.unsent, 1);
    b.desk.logout().unwrap();
    assert_eq!(b.desk.home(Lang::Id).unwrap_err().code(), "STATION_LOCKED");
    b.sims.resident(OPERATOR).unwrap();
    b.desk.login("OP-01", PASSWORD).unwrap();
    assert_eq!(b.desk.home(Lang::Id).unwrap().backlog.unsent, 1);
}

#[test]
fn with_no_siak_the_dinas_extract_answers_and_the_screen_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench_with(dir.path(), Biodata::Extract);
    let i = b.ordinary();
    let source = record_one(&mut b, i);
    assert!(source.offline, "{source:?}");
    assert_eq!(source.age_days, Some(3));
    assert!(!source.stale);
    assert!(source.label.contains("32.73.01 no. 1"), "{}", source.label);
    let home = b.desk.home(Lang::Id).unwrap();
    assert_eq!(home.population.map(|p| p.sequence), Some(1));
    // The data center learns it too: the sealed packet's manifest names the extract.
    let backlog = b.desk.backlog(Lang::Id).unwrap();
    let station = b.desk.station().unwrap();
    let bytes = station
        .store()
        .enrollment_payload(&backlog[0].row.packet_id)
        .unwrap()
        .unwrap();
    let signer = station.signing_key().unwrap().public();
    let dc = DcKeys::from_seeds(&[1; 32], &[2; 32]);
    let opened = rekam_packet::SealedPacket::parse(&bytes)
        .unwrap()
        .open(&signer, &dc)
        .unwrap();
    let recording = rekam::packet::Recording::from_contents(&opened.contents).unwrap();
    assert!(
        matches!(
            recording.manifest.biodata_source,
            Some(rekam::domain::population::Source::Extract { sequence: 1, .. })
        ),
        "{:?}",
        recording.manifest.biodata_source
    );
}

#[test]
fn with_siak_down_the_extract_answers_within_a_short_wait() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench_with(dir.path(), Biodata::SiakDownAndExtract);
    let i = b.ordinary();
    let source = record_one(&mut b, i);
    assert!(source.offline, "SIAK is down: {source:?}");
}

/// Run by [`a_counter_records_inside_a_network_namespace_with_no_network`] inside `unshare -n`
/// (only the loopback interface, up): the devices on loopback, no SIAK, no data center.
#[test]
#[ignore = "run inside a network namespace by the test below"]
fn records_with_no_network() {
    if !rekam_sim::netns::inside() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench_with(dir.path(), Biodata::Extract);
    let i = b.ordinary();
    let source = record_one(&mut b, i);
    assert!(source.offline);
    let backlog = b.desk.backlog(Lang::Id).unwrap();
    assert_eq!(backlog.len(), 1, "the sealed recording waits for the link");
}

#[test]
fn a_counter_records_inside_a_network_namespace_with_no_network() {
    rekam_sim::netns::run("records_with_no_network");
}
