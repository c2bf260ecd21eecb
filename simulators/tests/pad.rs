//! The serial signature pad driver against `rekam-sim-pad`, a separate process on a real
//! pseudo-terminal: clean captures, line noise, split frames, damaged frames, a resident who
//! clears, one who never finishes, and a pad pulled out mid-signature.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam_drivers::DriverError;
use rekam_drivers::signature_pad::{PenSample, SerialPad, SignaturePad};
use rekam_i18n::{Lang, Localized};
use std::process::{Child, Command};
use std::time::Duration;

/// A running simulator, killed when dropped (also when a test fails).
struct Sim {
    child: Child,
    path: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sim(args: &[&str]) -> Sim {
    sim_at("0", args)
}

/// A simulator playing at `speed` times the resident's pace (0: as fast as it can).
fn sim_at(speed: &str, args: &[&str]) -> Sim {
    let (child, path) = rekam_sim::spawn_ready(
        Command::new(env!("CARGO_BIN_EXE_rekam-sim-pad"))
            .args(["--seed", "20261122", "--resident", "1", "--speed", speed])
            .args(args),
    );
    Sim { child, path }
}

fn expected() -> Vec<PenSample> {
    rekam_sim::pad_samples(20261122, 1, 0)
}

const T: Duration = Duration::from_secs(15);

#[test]
fn a_clean_capture_arrives_sample_for_sample() {
    let s = sim(&[]);
    let mut pad = SerialPad::open(&s.path).unwrap();
    assert_eq!(pad.info().model, "Rekam SimPad");
    assert_eq!(pad.info().serial, "SIM-0001");
    let mut live = 0;
    let sig = pad.capture(T, &mut |_| live += 1).unwrap();
    assert_eq!(sig.samples, expected());
    assert_eq!(
        live,
        sig.samples.len(),
        "every sample reached the live preview"
    );
    assert_eq!(
        (sig.pad.max_x, sig.pad.max_pressure, sig.clears),
        (10_000, 1023, 0)
    );
    assert_eq!(pad.line_stats().bad_crc + pad.line_stats().garbage_bytes, 0);
    // The pad stays usable for the next resident.
    assert_eq!(pad.status(), rekam_drivers::DeviceStatus::Ready);
    assert_eq!(pad.capture(T, &mut |_| {}).unwrap().samples, expected());
}

#[test]
fn noise_and_split_frames_lose_nothing() {
    let s = sim(&["--garbage", "--chunked"]);
    let mut pad = SerialPad::open(&s.path).unwrap();
    let sig = pad.capture(T, &mut |_| {}).unwrap();
    assert_eq!(sig.samples, expected());
    assert!(pad.line_stats().garbage_bytes > 0, "{:?}", pad.line_stats());
}

#[test]
fn damaged_frames_are_dropped_and_counted_not_believed() {
    let s = sim(&["--corrupt-every", "10"]);
    let mut pad = SerialPad::open(&s.path).unwrap();
    let sig = pad.capture(T, &mut |_| {}).unwrap();
    let want = expected();
    let lost = want.len() / 10;
    assert_eq!(sig.samples.len(), want.len() - lost);
    assert!(
        sig.samples.iter().all(|s| want.contains(s)),
        "a damaged sample got through"
    );
    assert_eq!(pad.line_stats().bad_crc as usize, lost);
}

#[test]
fn clear_starts_again() {
    let s = sim(&["--clear-first"]);
    let mut pad = SerialPad::open(&s.path).unwrap();
    let sig = pad.capture(T, &mut |_| {}).unwrap();
    assert_eq!(sig.clears, 1);
    assert_eq!(
        sig.samples.len(),
        expected().len(),
        "only the attempt after the clear"
    );
}

#[test]
fn a_resident_who_never_presses_ok_times_out() {
    let s = sim(&["--never-done"]);
    let mut pad = SerialPad::open(&s.path).unwrap();
    let err = pad
        .capture(Duration::from_secs(2), &mut |_| {})
        .unwrap_err();
    assert!(matches!(err, DriverError::Timeout { .. }), "{err:?}");
    assert!(
        err.localized(Lang::Id)
            .contains("tidak menjawab dalam 2 detik"),
        "{}",
        err.localized(Lang::Id)
    );
}

#[test]
fn a_pad_pulled_out_mid_signature_is_a_disconnection() {
    let s = sim(&["--hang-up-after", "40"]);
    let mut pad = SerialPad::open(&s.path).unwrap();
    let mut seen = 0;
    let err = pad.capture(T, &mut |_| seen += 1).unwrap_err();
    assert!(matches!(err, DriverError::Disconnected(_)), "{err:?}");
    assert!(seen <= 40);
    assert!(err.localized(Lang::Id).contains("terputus"));
}

#[test]
fn a_station_that_dies_mid_signature_finds_the_pad_ready_when_it_comes_back() {
    // A pad at the resident's own pace, so that the station can die while it streams.
    let mut s = sim_at("4", &[]);
    // The station asks for a signature, reads the first pen reports and dies (the crash
    // campaign's kill): the pad's next reports go nowhere.
    let mut port = serialport::new(&s.path, 115_200)
        .timeout(Duration::from_secs(5))
        .open()
        .unwrap();
    std::io::Write::write_all(
        &mut port,
        &rekam_drivers::signature_pad::frame::Frame::Start.encode(),
    )
    .unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut port, &mut first).unwrap();
    drop(port);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        s.child.try_wait().unwrap().is_none(),
        "the pad simulator died with the station"
    );
    // The next station finds the pad as it was.
    let mut pad = SerialPad::open(&s.path).unwrap();
    let sig = pad.capture(T, &mut |_| {}).unwrap();
    assert_eq!(sig.samples, expected());
}

#[test]
fn nothing_at_the_port_is_not_connected_and_a_silent_device_is_not_a_pad() {
    let err = SerialPad::open("/dev/rekam-no-such-pad").unwrap_err();
    assert!(matches!(err, DriverError::NotConnected { .. }), "{err:?}");
    assert_eq!(err.code(), "DEVICE_NOT_CONNECTED");

    // A pty with nothing that speaks the protocol behind it: no INFO within 2 s.
    let (master, slave) = serialport::TTYPort::pair().unwrap();
    let path = serialport::SerialPort::name(&slave).unwrap();
    let err = SerialPad::open(&path).unwrap_err();
    assert!(matches!(err, DriverError::NotConnected { .. }), "{err:?}");
    drop(master);
}
