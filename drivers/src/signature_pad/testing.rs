//! A pad that only says who it is, on a real pseudo-terminal: for tests that need a pad to be
//! found (doctor, the device bar) without playing a signature. `rekam-sim-pad` is the full
//! simulator.

use super::frame::{Frame, FrameDecoder, PadInfo};
use serialport::{SerialPort, TTYPort};
use std::io::{Read, Write};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Opens a pty and answers HELLO frames on it with `info` (or never, when `info` is `None`)
/// for `lifetime`. Returns the path a driver opens and the thread serving it.
pub fn pad_on_pty(
    info: Option<PadInfo>,
    lifetime: Duration,
) -> std::io::Result<(String, JoinHandle<()>)> {
    let (mut master, slave) = TTYPort::pair().map_err(std::io::Error::other)?;
    let path = slave
        .name()
        .ok_or_else(|| std::io::Error::other("pty without a name"))?;
    drop(slave);
    master
        .set_timeout(Duration::from_millis(20))
        .map_err(std::io::Error::other)?;
    let handle = std::thread::spawn(move || {
        let mut decoder = FrameDecoder::new();
        let mut buf = [0u8; 64];
        let until = Instant::now() + lifetime;
        while Instant::now() < until {
            match master.read(&mut buf) {
                Ok(n) => decoder.push(&buf[..n]),
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
            while let Some(frame) = decoder.next_frame() {
                if let (Frame::Hello, Some(info)) = (&frame, &info) {
                    let _ = master.write_all(&Frame::Info(info.clone()).encode());
                }
            }
        }
    });
    Ok((path, handle))
}

/// The identity the test pad reports.
pub fn test_pad_info() -> PadInfo {
    PadInfo {
        version: 1,
        max_x: 10_000,
        max_y: 6_000,
        max_pressure: 1023,
        rate_hz: 200,
        model: "Test Pad".into(),
        serial: "TP-42".into(),
        firmware: "9.9".into(),
    }
}
