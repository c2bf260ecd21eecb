//! The card secrets in a PKCS#11 token (SoftHSM2), as a station's configuration takes them:
//! imported by `rekam card-token import`, then a blank virtual card personalised and read back
//! through pcscd with the SAM master and the document signer computing inside the token; the
//! token's files hold neither key in clear; a wrong PIN, a missing token and a counter's token
//! asked to sign are refused with what to do.
//!
//! SoftHSM2 finds its token directory through SOFTHSM2_CONF, read once per process: the test
//! provisions a token store, then runs itself again in a child process given that variable
//! (and checks that the child ran it and passed).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam_drivers::card::pcsc::PcscReader;
use rekam_drivers::card::token::{CardToken, TokenConfig};
use rekam_drivers::card::{CardTrust, DocumentSigner, personalise, profile, read_card};
use rekam_sim::card::{SoftHsm, TOKEN_LABEL, TOKEN_PIN, VIRTUAL_READER, test_key};
use std::process::Command;
use std::time::Duration;

fn config(label: &str, pin: &str) -> TokenConfig {
    TokenConfig {
        module: rekam_drivers::card::token::SOFTHSM2_MODULE.into(),
        label: label.into(),
        pin: zeroize::Zeroizing::new(pin.into()),
    }
}

/// Whether `needle` occurs anywhere in the files under `dir`.
fn found_in(dir: &std::path::Path, needle: &[u8]) -> bool {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .any(|e| {
            std::fs::read(e.path())
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
        })
}

const CHILD: &str = "REKAM_CARD_TOKEN_TEST_CHILD";
const NAME: &str = "a_card_is_personalised_and_read_with_its_secrets_in_a_token";

#[test]
fn a_card_is_personalised_and_read_with_its_secrets_in_a_token() {
    if std::env::var_os(CHILD).is_some() {
        with_the_token(&std::env::var("SOFTHSM2_CONF").unwrap());
        return;
    }
    let hsm = SoftHsm::provision(true).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .envs(hsm.env())
        .env(CHILD, "1")
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.contains("1 passed"),
        "the test in a process with the token:\n{said}"
    );

    // A counter's token holds the SAM master alone; importing it again replaces it, and an
    // import that fails (a master that is no key) leaves the token as it was.
    let counter = SoftHsm::provision(false).unwrap();
    let rekam = |args: &[&str]| {
        let out = Command::new(rekam_sim::counter::bin_dir().unwrap().join("rekam"))
            .args(args)
            .envs(counter.env())
            .env("REKAM_CARD_SO_PIN", "unused: the token exists")
            .env_remove("REKAM_LANG")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success(), text)
    };
    let sam = test_key("test-card-sam-master.hex");
    let (ok, text) = rekam(&["card-token", "import", "--sam", sam.to_str().unwrap()]);
    assert!(ok, "{text}");
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bad.path(), "not a key").unwrap();
    let (ok, text) = rekam(&[
        "card-token",
        "import",
        "--sam",
        bad.path().to_str().unwrap(),
    ]);
    assert!(!ok, "{text}");
    let (ok, text) = rekam(&["card-token", "status", "--json"]);
    assert!(ok, "{text}");
    assert!(text.contains("master SAM (token loket)"), "{text}");
}

fn with_the_token(conf: &str) {
    let token = CardToken::open(&config(TOKEN_LABEL, TOKEN_PIN)).unwrap();
    // Opened again while open (the handover's beside the personaliser's): the same logged-in
    // handle, to the same PIN only (PKCS#11 would answer any PIN with "already logged in").
    let second = CardToken::open(&config(TOKEN_LABEL, TOKEN_PIN)).unwrap();
    assert!(std::sync::Arc::ptr_eq(&token, &second));
    drop(second);
    let err = CardToken::open(&config(TOKEN_LABEL, "000000")).unwrap_err();
    assert!(err.to_string().contains("PIN"), "{err}");
    // The SAM master computes inside the token what the card was given at manufacture.
    let serial = *b"\x01\x02\x03\x04\x05\x06\x07\x08";
    assert_eq!(
        *token.card_key(&serial).unwrap(),
        profile::card_key(&rekam_sim::card::sam_master(), &serial)
    );

    // A blank virtual card personalised and read back through pcscd, both keys in the token.
    let _reader = rekam_sim::card::take_reader().unwrap();
    let (mut card, _) =
        rekam_sim::spawn_ready(Command::new(env!("CARGO_BIN_EXE_rekam-sim-card")).args([
            "--seed",
            "20261122",
            "--card",
            "blank",
            "--resident",
            "3",
        ]));
    let reader = PcscReader::open(VIRTUAL_READER).unwrap();
    assert!(reader.wait_for(true, Duration::from_secs(15)).unwrap());
    let trust = CardTrust::from_token(&test_key("test-card-csca.crt.pem"), token.clone()).unwrap();
    let signer =
        DocumentSigner::from_token(token.clone(), &test_key("test-card-ds-dinas.crt.pem")).unwrap();
    let data = rekam_sim::card::personalisation(20261122, 3).unwrap();
    let mut session = reader.connect().unwrap();
    let written = personalise(&mut session, &trust.sam, &signer, &data).unwrap();
    let back = read_card(&mut session, &trust).unwrap();
    assert_eq!(back.serial, written);
    assert_eq!(back.biodata, data.biodata);
    assert_eq!(back.right_index, data.right_index);
    drop(session);
    let _ = card.kill();
    let _ = card.wait();

    // The token's files hold neither key in clear (SoftHSM2 encrypts private objects under
    // the user PIN); the files they were imported from do.
    let tokens = std::path::Path::new(conf).parent().unwrap();
    let master = rekam_sim::card::sam_master();
    assert!(!found_in(tokens, &master), "the SAM master in clear");
    let pem = std::fs::read_to_string(test_key("test-card-ds-dinas.key.pem")).unwrap();
    let seed = {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
            .unwrap()
            .to_bytes()
    };
    assert!(!found_in(tokens, &seed), "the document signer in clear");
    let hex_file = std::fs::read_to_string(test_key("test-card-sam-master.hex")).unwrap();
    assert_eq!(hex::decode(hex_file.trim()).unwrap(), master, "the control");

    // Refusals, each saying what to do: with no session open, the token itself checks the PIN.
    drop((token, trust, signer));
    let err = CardToken::open(&config(TOKEN_LABEL, "000000")).unwrap_err();
    assert_eq!(err.code(), "CARD_TOKEN");
    assert!(err.to_string().contains("PIN"), "{err}");
    let err = CardToken::open(&config("no-such-token", TOKEN_PIN)).unwrap_err();
    assert!(err.to_string().contains("rekam card-token import"), "{err}");
}
