//! The signature pad on a serial port.

use super::frame::{Button, DecodeStats, Frame, FrameDecoder, PadInfo};
use super::{PenSample, Signature, SignaturePad};
use crate::{DeviceInfo, DeviceKind, DeviceStatus, DriverError};
use serialport::SerialPort;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

const KIND: DeviceKind = DeviceKind::SignaturePad;
/// How long one read waits before the loop checks its deadline and stalled frames.
const POLL: Duration = Duration::from_millis(25);
/// How long a pad has to answer HELLO.
const HELLO_TIMEOUT: Duration = Duration::from_secs(2);

/// A signature pad on a serial port.
pub struct SerialPad {
    port: Box<dyn SerialPort>,
    info: DeviceInfo,
    pad: PadInfo,
    decoder: FrameDecoder,
}

impl std::fmt::Debug for SerialPad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialPad")
            .field("info", &self.info)
            .field("stats", &self.decoder.stats())
            .finish_non_exhaustive()
    }
}

/// What one read brought.
enum Read1 {
    Bytes,
    Quiet,
}

impl SerialPad {
    /// Opens the pad at `path` (`/dev/ttyACM0`, `/dev/pts/3`) and asks who it is. Anything
    /// that does not answer INFO within two seconds is not a signature pad.
    pub fn open(path: &str) -> Result<SerialPad, DriverError> {
        let port = serialport::new(path, 115_200)
            .timeout(POLL)
            .open()
            .map_err(|e| match e.kind() {
                serialport::ErrorKind::NoDevice => DriverError::NotConnected {
                    kind: KIND,
                    address: path.to_owned(),
                },
                serialport::ErrorKind::Io(ErrorKind::NotFound) => DriverError::NotConnected {
                    kind: KIND,
                    address: path.to_owned(),
                },
                _ => DriverError::Io {
                    kind: KIND,
                    address: path.to_owned(),
                    detail: e.to_string(),
                },
            })?;
        let mut pad = SerialPad {
            port,
            info: DeviceInfo {
                kind: KIND,
                model: String::new(),
                serial: String::new(),
                firmware: String::new(),
                address: path.to_owned(),
            },
            pad: PadInfo {
                version: 0,
                max_x: 0,
                max_y: 0,
                max_pressure: 0,
                rate_hz: 0,
                model: String::new(),
                serial: String::new(),
                firmware: String::new(),
            },
            decoder: FrameDecoder::new(),
        };
        let info = pad.hello().map_err(|e| match e {
            DriverError::Timeout { .. } => DriverError::NotConnected {
                kind: KIND,
                address: path.to_owned(),
            },
            other => other,
        })?;
        if info.version != 1 {
            return Err(DriverError::Protocol {
                kind: KIND,
                detail: format!("protocol version {} (this driver speaks 1)", info.version),
            });
        }
        pad.info.model = info.model.clone();
        pad.info.serial = info.serial.clone();
        pad.info.firmware = info.firmware.clone();
        pad.pad = info;
        tracing::info!(port = path, model = %pad.info.model, serial = %pad.info.serial, "signature pad connected");
        Ok(pad)
    }

    /// What the decoder threw away so far (noise, damaged frames).
    pub fn line_stats(&self) -> DecodeStats {
        self.decoder.stats()
    }

    /// Writes one frame. No `flush` after it: on a tty that is `tcdrain`, which only waits
    /// for the bytes to leave (the reply is awaited anyway), and serialport reports its
    /// failure as a bare "flush failed" without the errno, so a pad that answered and hung
    /// up while the station drained (a cable pulled out at once) read as an I/O fault
    /// instead of a disconnection.
    fn send(&mut self, frame: &Frame) -> Result<(), DriverError> {
        self.port
            .write_all(&frame.encode())
            .map_err(|e| self.io_error(e))
    }

    fn io_error(&self, e: std::io::Error) -> DriverError {
        match e.kind() {
            // A pty whose other end closed, or a USB device pulled out.
            ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof | ErrorKind::NotConnected => {
                DriverError::Disconnected(KIND)
            }
            _ if e.raw_os_error() == Some(5) => DriverError::Disconnected(KIND), // EIO
            _ => DriverError::Io {
                kind: KIND,
                address: self.info.address.clone(),
                detail: e.to_string(),
            },
        }
    }

    fn read_some(&mut self) -> Result<Read1, DriverError> {
        let mut buf = [0u8; 512];
        match self.port.read(&mut buf) {
            Ok(0) => Err(DriverError::Disconnected(KIND)),
            Ok(n) => {
                self.decoder.push(&buf[..n]);
                Ok(Read1::Bytes)
            }
            Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => {
                Ok(Read1::Quiet)
            }
            Err(e) => Err(self.io_error(e)),
        }
    }

    /// The next frame before `deadline`.
    fn next_frame(&mut self, deadline: Instant, waited: Duration) -> Result<Frame, DriverError> {
        loop {
            if let Some(f) = self.decoder.next_frame() {
                return Ok(f);
            }
            if Instant::now() >= deadline {
                return Err(DriverError::Timeout {
                    kind: KIND,
                    after: waited,
                });
            }
            if let Read1::Quiet = self.read_some()? {
                // A quiet line with a partial frame pending: that header was noise.
                self.decoder.skip_stalled();
            }
        }
    }

    fn hello(&mut self) -> Result<PadInfo, DriverError> {
        self.send(&Frame::Hello)?;
        let deadline = Instant::now() + HELLO_TIMEOUT;
        loop {
            match self.next_frame(deadline, HELLO_TIMEOUT)? {
                Frame::Info(info) => return Ok(info),
                other => tracing::debug!(?other, "ignored while waiting for INFO"),
            }
        }
    }
}

impl SignaturePad for SerialPad {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn status(&mut self) -> DeviceStatus {
        match self.hello() {
            Ok(_) => DeviceStatus::Ready,
            Err(_) => DeviceStatus::NotConnected,
        }
    }

    fn capture(
        &mut self,
        timeout: Duration,
        on_sample: &mut dyn FnMut(&PenSample),
    ) -> Result<Signature, DriverError> {
        self.send(&Frame::Start)?;
        let deadline = Instant::now() + timeout;
        let mut samples = Vec::new();
        let mut clears = 0;
        let outcome = loop {
            match self.next_frame(deadline, timeout) {
                Ok(Frame::Pen(s)) => {
                    on_sample(&s);
                    samples.push(s);
                }
                Ok(Frame::Button {
                    button: Button::Ok, ..
                }) => {
                    if samples.iter().any(|s| s.pen_down) {
                        break Ok(());
                    }
                    break Err(DriverError::Empty(KIND));
                }
                Ok(Frame::Button {
                    button: Button::Clear,
                    ..
                }) => {
                    samples.clear();
                    clears += 1;
                }
                Ok(Frame::Button {
                    button: Button::Cancel,
                    ..
                }) => {
                    break Err(DriverError::Cancelled(KIND));
                }
                Ok(Frame::Error { code, message }) => {
                    break Err(DriverError::Protocol {
                        kind: KIND,
                        detail: format!("pad error {code}: {message}"),
                    });
                }
                Ok(other) => tracing::debug!(?other, "ignored during capture"),
                Err(e) => break Err(e),
            }
        };
        // Leave the pad idle whatever happened; a pad that is gone cannot be stopped.
        if !matches!(outcome, Err(DriverError::Disconnected(_))) {
            let _ = self.send(&Frame::Stop);
        }
        outcome.map(|()| Signature {
            pad: self.pad.clone(),
            samples,
            clears,
        })
    }
}
