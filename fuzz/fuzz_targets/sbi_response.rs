//! What an SBI service sends, on arbitrary bytes: RCAPTURE answers through the whole
//! verification, signed envelopes with their certificate chains, the ISO/IEC 19794 records
//! inside, and the STREAM preview. Nothing may panic or hang; a record that parses must write
//! back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rekam_drivers::sbi::mjpeg::Frames;
use rekam_drivers::sbi::wire::initial_hash;
use rekam_drivers::sbi::{CaptureRequest, Slap, Target, jws, parse_capture_response};
use rekam_drivers::trust::TrustRoots;
use rekam_records::{face::FaceImage, finger::FingerImage, iris::IrisImage};
use std::sync::OnceLock;
use std::time::Duration;

const ROOT: &str = include_str!("../../fixtures/test-keys/test-sbi-provider-ca.crt.pem");
/// 2026-12-22, inside the TEST certificates' validity.
const NOW: i64 = 1_797_897_600;

fn roots() -> &'static TrustRoots {
    static R: OnceLock<TrustRoots> = OnceLock::new();
    R.get_or_init(|| TrustRoots::from_pem(ROOT.as_bytes()).expect("the TEST root parses"))
}

fuzz_target!(|data: &[u8]| {
    let Some((which, body)) = data.split_first() else {
        return;
    };
    match which % 4 {
        0 => {
            let request = CaptureRequest {
                target: Target::Slap {
                    slap: Slap::LeftFour,
                    exceptions: vec![],
                },
                requested_score: 40,
                timeout: Duration::from_secs(10),
                transaction_id: "tx-fuzz".into(),
                previous_hash: initial_hash(),
            };
            let _ = parse_capture_response(body, &request, "REKAMSIM0001", roots(), NOW);
        }
        1 => {
            if let Ok(text) = std::str::from_utf8(body) {
                let _ = jws::verify(text, roots(), NOW);
            }
        }
        2 => {
            if let Ok(r) = FingerImage::parse(body) {
                assert_eq!(r.to_bytes().expect("a parsed record writes"), body);
            }
            if let Ok(r) = IrisImage::parse(body) {
                assert_eq!(r.to_bytes().expect("a parsed record writes"), body);
            }
            if let Ok(r) = FaceImage::parse(body) {
                assert!(r.to_bytes().is_ok());
            }
        }
        _ => {
            let mut frames = Frames::new(body);
            for _ in 0..64 {
                match frames.next_frame() {
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
        }
    }
});
