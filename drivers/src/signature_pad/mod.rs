//! The signature pad: its trait, and the serial backend speaking
//! `drivers/PROTOCOL-signature-pad.md`.

pub mod frame;
mod serial;
#[cfg(feature = "test-support")]
pub mod testing;

pub use frame::{Button, DecodeStats, PadInfo, PenSample};
pub use serial::SerialPad;

use crate::{DeviceInfo, DeviceStatus, DriverError};
use serde::Serialize;
use std::time::Duration;

/// A captured signature: the pen samples of the final attempt, and the pad's coordinate space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// The pad that captured it (resolution, pressure levels, rate).
    pub pad: PadInfo,
    /// Every sample since the last start or clear, in order.
    pub samples: Vec<PenSample>,
    /// Times the resident pressed "Ulangi" (clear) before this attempt.
    pub clears: u32,
}

/// The serial ports a pad may be on when none is configured: USB CDC-ACM and USB-serial
/// adapters (`/dev/ttyACM*`, `/dev/ttyUSB*`), in name order.
pub fn default_ports() -> Vec<String> {
    let mut ports: Vec<String> = std::fs::read_dir("/dev")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("ttyACM") || n.starts_with("ttyUSB"))
                .map(|n| format!("/dev/{n}"))
                .collect()
        })
        .unwrap_or_default();
    ports.sort();
    ports
}

/// Tries each port: a pad that answers, or why not.
pub fn discover(ports: &[String]) -> Vec<(String, Result<DeviceInfo, DriverError>)> {
    ports
        .iter()
        .map(|p| (p.clone(), SerialPad::open(p).map(|pad| pad.info().clone())))
        .collect()
}

/// A signature pad, whatever its transport.
pub trait SignaturePad {
    /// Who it is.
    fn info(&self) -> &DeviceInfo;

    /// Whether it answers now.
    fn status(&mut self) -> DeviceStatus;

    /// Captures one signature: starts the pad, reports each sample to `on_sample` as it arrives
    /// (for the live preview), and returns when the resident presses OK. Clear starts again;
    /// cancel, an empty signature, a timeout or a disconnection are errors.
    fn capture(
        &mut self,
        timeout: Duration,
        on_sample: &mut dyn FnMut(&PenSample),
    ) -> Result<Signature, DriverError>;
}
