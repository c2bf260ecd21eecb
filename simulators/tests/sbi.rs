//! The SBI client against `rekam-sim-sbi`, a separate process speaking HTTP on loopback:
//! discovery, signed device information, verified captures of every modality chained by hash,
//! the preview stream, and every failure an operator meets: poor quality then a good retry,
//! missing and hidden fingers, device errors, a timeout, a device gone mid-capture, a tampered
//! answer and a device no provider certified.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam_drivers::sbi::wire::initial_hash;
use rekam_drivers::sbi::{
    BiometricDevice, CaptureRequest, Eye, Finger, Record, SbiClient, SbiDevice, Slap, Target,
};
use rekam_drivers::trust::TrustRoots;
use rekam_drivers::{DeviceKind, DeviceStatus, DriverError};
use rekam_i18n::{Lang, Localized};
use std::process::{Child, Command};
use std::time::Duration;

/// A running simulator, killed when dropped (also when a test fails).
struct Sim {
    child: Child,
    port: u16,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sim {
    fn start(extra: &[&str]) -> Sim {
        let (child, port) = rekam_sim::spawn_ready(
            Command::new(env!("CARGO_BIN_EXE_rekam-sim-sbi"))
                .args(["--port", "0", "--resident", "1"])
                .args(extra),
        );
        Sim {
            child,
            port: port.parse().unwrap(),
        }
    }

    fn scenario(&self, json: serde_json::Value) {
        let mut full = serde_json::json!({"seed": 20261122, "resident": 1});
        full.as_object_mut()
            .unwrap()
            .extend(json.as_object().unwrap().clone());
        let resp = reqwest::blocking::Client::new()
            .post(format!("http://127.0.0.1:{}/admin/scenario", self.port))
            .json(&full)
            .send()
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.text().unwrap());
    }

    fn devices(&self) -> Vec<SbiDevice> {
        let client = SbiClient::new(trust());
        let mut found = client.discover(self.port..=self.port);
        assert_eq!(found.len(), 1);
        found.pop().unwrap().1.unwrap()
    }

    fn device(&self, kind: DeviceKind) -> SbiDevice {
        self.devices()
            .into_iter()
            .find(|d| d.info().kind == kind)
            .unwrap()
    }
}

fn trust() -> TrustRoots {
    TrustRoots::from_pem_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/test-keys/test-sbi-provider-ca.crt.pem"),
    )
    .unwrap()
}

fn request(target: Target, tx: &str) -> CaptureRequest {
    CaptureRequest {
        target,
        requested_score: 40,
        timeout: Duration::from_secs(20),
        transaction_id: tx.into(),
        previous_hash: initial_hash(),
    }
}

fn left_slap(exceptions: Vec<Finger>) -> Target {
    Target::Slap {
        slap: Slap::LeftFour,
        exceptions,
    }
}

#[test]
fn discovers_verifies_and_captures_every_modality_in_one_hash_chain() {
    let sim = Sim::start(&[]);
    let devices = sim.devices();
    let kinds: Vec<DeviceKind> = devices.iter().map(|d| d.info().kind).collect();
    assert_eq!(
        kinds,
        [DeviceKind::Fingerprint, DeviceKind::Iris, DeviceKind::Face]
    );
    let mut finger = sim.device(DeviceKind::Fingerprint);
    let (info, signer) = finger.verified_info().unwrap();
    assert_eq!(info.device_code, "REKAMSIM0001");
    assert_eq!(finger.info().firmware, "sim-1.0");
    assert!(signer.issuer.contains("TEST SBI device provider CA"));
    assert_eq!(finger.status(), DeviceStatus::Ready);
    assert_eq!(finger.sensors, [1, 2, 3, 0]);

    let slap = finger
        .capture(&request(left_slap(vec![]), "tx-0001"))
        .unwrap();
    let subs: Vec<&str> = slap.captures.iter().map(|c| c.sub_type.as_str()).collect();
    assert_eq!(
        subs,
        [
            "Left IndexFinger",
            "Left MiddleFinger",
            "Left RingFinger",
            "Left LittleFinger"
        ]
    );
    for c in &slap.captures {
        let Record::Finger(rec) = &c.record else {
            panic!("not a finger record")
        };
        assert_eq!(c.quality, 80.0);
        assert_eq!(rec.acquisition.ppi(), Some(500));
        let png = image::load_from_memory(&rec.data).unwrap();
        assert_eq!(
            (png.width(), png.height()),
            (u32::from(rec.width), u32::from(rec.height))
        );
    }
    assert_eq!(slap.device_serial, "REKAMSIM0001");

    // The next modality continues the chain from the slap's last hash.
    let iris = sim.device(DeviceKind::Iris);
    let mut req = request(Target::Irises { exceptions: vec![] }, "tx-0002");
    req.previous_hash = slap.last_hash().unwrap().to_owned();
    let eyes = iris.capture(&req).unwrap();
    assert_eq!(eyes.captures.len(), 2);
    assert!(matches!(&eyes.captures[0].record, Record::Iris(r) if r.eye == Eye::Left));

    let face = sim.device(DeviceKind::Face);
    let mut req = request(Target::Face, "tx-0003");
    req.previous_hash = eyes.last_hash().unwrap().to_owned();
    let portrait = face.capture(&req).unwrap();
    let Record::Face(rec) = &portrait.captures[0].record else {
        panic!("not a face record")
    };
    let jpeg = image::load_from_memory(&rec.data).unwrap();
    assert_eq!(jpeg.width(), u32::from(rec.width));

    // A single finger on the single-finger sensor (index verification).
    let one = finger
        .capture(&request(Target::Single(Finger::RightIndex), "tx-0004"))
        .unwrap();
    assert!(matches!(&one.captures[0].record, Record::Finger(r) if r.position == 2));
}

#[test]
fn a_poor_capture_is_retried_until_good_and_refused_after_the_last_attempt() {
    let sim = Sim::start(&[]);
    let finger = sim.device(DeviceKind::Fingerprint);
    sim.scenario(serde_json::json!({"poor_captures": 2}));
    let mut seen = Vec::new();
    let set = finger
        .capture_until_good(&request(left_slap(vec![]), "tx-q1"), 3, &mut |n, s| {
            seen.push((n, s.mean_quality()))
        })
        .unwrap();
    assert_eq!(seen, [(1, 20.0), (2, 20.0), (3, 80.0)]);
    assert_eq!(set.transaction_id, "tx-q1-r3");

    sim.scenario(serde_json::json!({"poor_captures": 5}));
    let err = finger
        .capture_until_good(&request(left_slap(vec![]), "tx-q2"), 3, &mut |_, _| {})
        .unwrap_err();
    assert!(
        matches!(
            err,
            DriverError::QualityTooLow {
                best: 20,
                required: 40,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "DEVICE_QUALITY_TOO_LOW");
    assert!(err.localized(Lang::Id).contains("tekan lebih ringan"));
}

#[test]
fn a_missing_finger_needs_an_exception_and_a_hidden_one_is_named() {
    let sim = Sim::start(&[]);
    let finger = sim.device(DeviceKind::Fingerprint);
    sim.scenario(serde_json::json!({"missing": ["Left RingFinger"]}));
    let err = finger
        .capture(&request(left_slap(vec![]), "tx-m1"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            DriverError::WrongFingerCount {
                expected: 4,
                found: 3
            }
        ),
        "{err:?}"
    );
    assert!(err.localized(Lang::Id).contains("pengecualian"));
    let set = finger
        .capture(&request(left_slap(vec![Finger::LeftRing]), "tx-m2"))
        .unwrap();
    assert_eq!(set.captures.len(), 3);
    assert!(set.captures.iter().all(|c| c.sub_type != "Left RingFinger"));

    sim.scenario(serde_json::json!({"three_fingers": true}));
    let err = finger
        .capture(&request(left_slap(vec![]), "tx-m3"))
        .unwrap_err();
    assert_eq!(err.code(), "DEVICE_WRONG_FINGER_COUNT");
}

#[test]
fn device_errors_busy_and_timeouts_are_reported_as_such() {
    let sim = Sim::start(&[]);
    let finger = sim.device(DeviceKind::Fingerprint);
    sim.scenario(serde_json::json!({"error": "101"}));
    let err = finger
        .capture(&request(left_slap(vec![]), "tx-e1"))
        .unwrap_err();
    assert!(
        matches!(&err, DriverError::Refused { code, .. } if code == "101"),
        "{err:?}"
    );

    sim.scenario(serde_json::json!({"busy": true}));
    assert_eq!(finger.status(), DeviceStatus::Busy);

    sim.scenario(serde_json::json!({"delay_ms": 4000}));
    let mut req = request(left_slap(vec![]), "tx-t1");
    req.timeout = Duration::from_millis(300);
    let err = finger.capture(&req).unwrap_err();
    assert!(matches!(err, DriverError::Timeout { .. }), "{err:?}");
}

#[test]
fn a_device_gone_mid_capture_is_a_disconnection_and_then_not_connected() {
    let mut sim = Sim::start(&[]);
    let finger = sim.device(DeviceKind::Fingerprint);
    sim.scenario(serde_json::json!({"delay_ms": 3000}));
    let capture = std::thread::spawn(move || {
        let outcome = finger.capture(&request(left_slap(vec![]), "tx-g1"));
        (outcome.err().map(|e| e.code()), finger)
    });
    std::thread::sleep(Duration::from_millis(700));
    sim.child.kill().unwrap();
    sim.child.wait().unwrap();
    let (code, finger) = capture.join().unwrap();
    let code = code.expect("the capture cannot succeed without its device");
    assert_eq!(code, "DEVICE_DISCONNECTED");
    assert_eq!(finger.status(), DeviceStatus::NotConnected);
    let err = finger
        .capture(&request(left_slap(vec![]), "tx-g2"))
        .unwrap_err();
    assert_eq!(err.code(), "DEVICE_NOT_CONNECTED");
}

#[test]
fn a_tampered_answer_and_an_uncertified_device_are_refused() {
    let sim = Sim::start(&[]);
    let finger = sim.device(DeviceKind::Fingerprint);
    sim.scenario(serde_json::json!({"tamper": true}));
    let err = finger
        .capture(&request(left_slap(vec![]), "tx-b1"))
        .unwrap_err();
    assert!(
        matches!(&err, DriverError::Untrusted { detail, .. } if detail.contains("signature")),
        "{err:?}"
    );
    assert!(err.localized(Lang::Id).contains("tidak dapat dipercaya"));

    let rogue = Sim::start(&["--rogue"]);
    let mut device = rogue.device(DeviceKind::Fingerprint);
    let err = device.verified_info().unwrap_err();
    assert!(
        matches!(&err, DriverError::Untrusted { detail, .. } if detail.contains("not trusted")),
        "{err:?}"
    );
    let err = device
        .capture(&request(left_slap(vec![]), "tx-b2"))
        .unwrap_err();
    assert_eq!(err.code(), "DEVICE_UNTRUSTED");
}

#[test]
fn the_preview_streams_jpeg_frames() {
    let sim = Sim::start(&[]);
    let face = sim.device(DeviceKind::Face);
    let mut sizes = Vec::new();
    let n = face
        .stream(0, Duration::from_secs(10), &mut |frame| {
            assert_eq!(&frame[..2], [0xFF, 0xD8]);
            sizes.push(frame.len());
            sizes.len() < 3
        })
        .unwrap();
    assert_eq!(n, 3);
}
