//! The PC/SC card driver against `rekam-sim-card`, a virtual chip plugged into pcscd through
//! vsmartcard's vpcd: insertion and removal, reading with passive and active authentication,
//! personalisation of a blank card and its one-time lock, short-only and T=0 style chips
//! (chaining, GET RESPONSE), and every card a counter must refuse: blank, altered, issued by
//! an unknown signer, copied to another chip, pulled out mid-read, and a station without the
//! right key.
//!
//! Needs pcscd with vpcd (Debian: pcscd, vsmartcard-vpcd; `scripts/setup-system` installs
//! them). pcscd is started here when it is not running.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam_drivers::DriverError;
use rekam_drivers::card::pcsc::PcscReader;
use rekam_drivers::card::{CardProblem, CardTrust, DocumentSigner, personalise, read_card};
use rekam_drivers::trust::TrustRoots;
use rekam_i18n::{Lang, Localized};
use rekam_records::face::FaceImage;
use std::process::{Child, Command};
use std::sync::MutexGuard;
use std::time::Duration;

const READER: &str = rekam_sim::card::VIRTUAL_READER;
const T: Duration = Duration::from_secs(15);

use rekam_sim::card::test_key as fixture;

/// A virtual card in the reader, pulled out when dropped.
struct Card {
    child: Child,
}

impl Drop for Card {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Ok(r) = PcscReader::open(READER) {
            let _ = r.wait_for(false, T);
        }
    }
}

fn insert(args: &[&str]) -> Card {
    let (child, _) = rekam_sim::spawn_ready(
        Command::new(env!("CARGO_BIN_EXE_rekam-sim-card"))
            .args(["--seed", "20261122"])
            .args(args),
    );
    let card = Card { child };
    assert!(
        reader().wait_for(true, T).unwrap(),
        "the card never appeared"
    );
    card
}

fn setup() -> MutexGuard<'static, ()> {
    rekam_sim::card::take_reader().unwrap()
}

fn reader() -> PcscReader {
    PcscReader::open(READER).unwrap()
}

fn trust() -> CardTrust {
    rekam_sim::card::test_trust().unwrap()
}

fn problem(err: DriverError) -> CardProblem {
    match err {
        DriverError::Card(p) => p,
        other => panic!("expected a card problem, got {other:?}"),
    }
}

#[test]
fn a_personalised_card_is_read_with_passive_and_active_authentication() {
    let _g = setup();
    let _card = insert(&["--resident", "1"]);
    let r = reader();
    assert!(r.card_present().unwrap());
    let mut session = r.connect().unwrap();
    assert!(session.capabilities().extended && session.capabilities().chaining);
    let data = read_card(&mut session, &trust()).unwrap();
    let expected = rekam_sim::card::personalisation(20261122, 1).unwrap();
    assert_eq!(data.biodata, expected.biodata);
    assert_eq!(data.face, expected.face);
    assert_eq!(data.right_index, expected.right_index);
    assert_eq!(data.left_index, expected.left_index);
    assert_eq!(data.signature, expected.signature);
    assert!(FaceImage::parse(&data.face).unwrap().data.len() > 1000);
    let minutiae = rekam_records::minutiae::decode(&data.right_index).unwrap();
    assert!(minutiae.len() >= 12, "{} minutiae", minutiae.len());
    assert!(data.issuer.subject.contains("TEST document signer"));
    let nik = serde_json::from_slice::<serde_json::Value>(&data.biodata).unwrap()["nik"].clone();
    assert!(nik.is_string(), "DG1 names the NIK: {nik}");
}

#[test]
fn a_blank_card_is_personalised_in_short_apdus_then_locked_for_good() {
    let _g = setup();
    let _card = insert(&["--card", "blank", "--resident", "2", "--short-only", "--t0"]);
    let r = reader();
    let mut session = r.connect().unwrap();
    assert!(!session.capabilities().extended);
    assert_eq!(
        problem(read_card(&mut session, &trust()).unwrap_err()),
        CardProblem::Blank
    );
    let data = rekam_sim::card::personalisation(20261122, 2).unwrap();
    assert!(
        data.face.len() > 255,
        "the face needs chaining in short APDUs"
    );
    let signer = DocumentSigner::from_pem(
        &std::fs::read_to_string(fixture("test-card-ds-dinas.key.pem")).unwrap(),
        &std::fs::read_to_string(fixture("test-card-ds-dinas.crt.pem")).unwrap(),
    )
    .unwrap();
    let trust = trust();
    let serial = personalise(&mut session, &trust.sam, &signer, &data).unwrap();
    let back = read_card(&mut session, &trust).unwrap();
    assert_eq!(back.serial, serial);
    assert_eq!(back.biodata, data.biodata);
    assert_eq!(back.face, data.face);
    let again = personalise(&mut session, &trust.sam, &signer, &data).unwrap_err();
    assert_eq!(problem(again), CardProblem::Locked);
}

#[test]
fn forged_cards_are_refused_and_say_why() {
    let _g = setup();
    type Expect = fn(&CardProblem) -> bool;
    let cases: [(&str, Expect); 3] = [
        (
            "forged-data",
            |p| matches!(p, CardProblem::Forged(w) if w.contains("0101")),
        ),
        (
            "forged-issuer",
            |p| matches!(p, CardProblem::UnknownIssuer(w) if w.contains("Rogue")),
        ),
        ("cloned", |p| *p == CardProblem::Cloned),
    ];
    for (kind, expected) in cases {
        let _card = insert(&["--card", kind, "--resident", "1"]);
        let err = read_card(&mut reader().connect().unwrap(), &trust()).unwrap_err();
        let text = err.localized(Lang::Id);
        let p = problem(err);
        assert!(expected(&p), "{kind}: {p:?}");
        assert!(text.contains("JANGAN serahkan"), "{kind}: {text}");
    }
}

#[test]
fn a_station_without_the_cards_key_cannot_read() {
    let _g = setup();
    let _card = insert(&["--resident", "1"]);
    let mut wrong = trust();
    let mut master = rekam_sim::card::sam_master();
    master[0] ^= 1;
    wrong.sam = rekam_drivers::card::Sam::in_memory(master);
    let err = read_card(&mut reader().connect().unwrap(), &wrong).unwrap_err();
    assert_eq!(problem(err), CardProblem::AuthenticationFailed);
    // And a station whose roots do not include the CSCA sees an unknown issuer.
    let other = CardTrust {
        csca: TrustRoots::from_pem_file(&fixture("test-sbi-provider-ca.crt.pem")).unwrap(),
        ..trust()
    };
    let err = read_card(&mut reader().connect().unwrap(), &other).unwrap_err();
    assert!(matches!(problem(err), CardProblem::UnknownIssuer(_)));
}

#[test]
fn a_card_pulled_mid_read_is_reported_and_its_removal_seen() {
    let _g = setup();
    let card = insert(&["--resident", "1", "--pull-after", "6"]);
    let r = reader();
    let err = read_card(&mut r.connect().unwrap(), &trust()).unwrap_err();
    assert!(
        matches!(
            err,
            DriverError::Disconnected(_) | DriverError::Card(CardProblem::Absent)
        ),
        "{err:?}"
    );
    assert!(err.localized(Lang::Id).len() > 10);
    assert!(r.wait_for(false, T).unwrap(), "removal never seen");
    drop(card);
    assert!(!r.card_present().unwrap());
    let err = r.connect().unwrap_err();
    assert_eq!(err.code(), "CARD_ABSENT");
}
