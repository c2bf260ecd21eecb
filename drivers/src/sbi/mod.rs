//! Fingerprint scanners, iris cameras and face cameras through the MOSIP Secure Biometric
//! Interface (SBI 1.0, the MOSIP Device Service specification for registration devices).
//!
//! A vendor's SBI service listens on 127.0.0.1, one port in 4501-4600, and answers HTTP
//! requests with the methods MOSIPDISC (discovery), MOSIPDINFO (signed device information),
//! RCAPTURE (registration capture: signed ISO/IEC 19794 records with quality scores) and
//! STREAM (M-JPEG preview). Every signed answer is checked against the station's configured
//! trust root (the device providers it accepts) before anything in it is used: a response that
//! does not verify, chains to an unknown provider, breaks the hash chain, answers another
//! transaction or holds a record that does not parse is refused as a whole.

mod client;
pub mod jws;
pub mod mjpeg;
pub mod wire;

pub use client::{SbiClient, SbiDevice, parse_capture_response};

use crate::trust::Signer;
use crate::{DeviceInfo, DeviceKind, DeviceStatus, DriverError};
use rekam_records::face::FaceImage;
use rekam_records::finger::FingerImage;
use rekam_records::iris::IrisImage;
use std::time::Duration;

/// A finger, by its ISO/IEC 19794-4 position code (1 right thumb ... 10 left little).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Finger {
    /// 1
    RightThumb = 1,
    /// 2
    RightIndex,
    /// 3
    RightMiddle,
    /// 4
    RightRing,
    /// 5
    RightLittle,
    /// 6
    LeftThumb,
    /// 7
    LeftIndex,
    /// 8
    LeftMiddle,
    /// 9
    LeftRing,
    /// 10
    LeftLittle,
}

impl Finger {
    /// All ten in code order.
    pub const ALL: [Finger; 10] = [
        Finger::RightThumb,
        Finger::RightIndex,
        Finger::RightMiddle,
        Finger::RightRing,
        Finger::RightLittle,
        Finger::LeftThumb,
        Finger::LeftIndex,
        Finger::LeftMiddle,
        Finger::LeftRing,
        Finger::LeftLittle,
    ];

    /// ISO/IEC 19794-4 position code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// From a position code.
    pub fn from_code(code: u8) -> Option<Finger> {
        Finger::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// Its name for an operator.
    pub fn label(self, lang: rekam_i18n::Lang) -> &'static str {
        match self {
            Finger::RightThumb => lang.pick("ibu jari kanan", "right thumb"),
            Finger::RightIndex => lang.pick("telunjuk kanan", "right index"),
            Finger::RightMiddle => lang.pick("jari tengah kanan", "right middle"),
            Finger::RightRing => lang.pick("jari manis kanan", "right ring"),
            Finger::RightLittle => lang.pick("kelingking kanan", "right little"),
            Finger::LeftThumb => lang.pick("ibu jari kiri", "left thumb"),
            Finger::LeftIndex => lang.pick("telunjuk kiri", "left index"),
            Finger::LeftMiddle => lang.pick("jari tengah kiri", "left middle"),
            Finger::LeftRing => lang.pick("jari manis kiri", "left ring"),
            Finger::LeftLittle => lang.pick("kelingking kiri", "left little"),
        }
    }

    /// The name SBI uses in `bioSubType`.
    pub fn sbi_name(self) -> &'static str {
        match self {
            Finger::RightThumb => "Right Thumb",
            Finger::RightIndex => "Right IndexFinger",
            Finger::RightMiddle => "Right MiddleFinger",
            Finger::RightRing => "Right RingFinger",
            Finger::RightLittle => "Right LittleFinger",
            Finger::LeftThumb => "Left Thumb",
            Finger::LeftIndex => "Left IndexFinger",
            Finger::LeftMiddle => "Left MiddleFinger",
            Finger::LeftRing => "Left RingFinger",
            Finger::LeftLittle => "Left LittleFinger",
        }
    }

    /// From an SBI `bioSubType`.
    pub fn from_sbi(name: &str) -> Option<Finger> {
        Finger::ALL.into_iter().find(|f| f.sbi_name() == name)
    }
}

/// The three slaps of a ten-print, in the order of the SOP (4-4-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slap {
    /// Four fingers of the left hand (SBI sensor 1).
    LeftFour,
    /// Four fingers of the right hand (SBI sensor 2).
    RightFour,
    /// Both thumbs (SBI sensor 3).
    Thumbs,
}

impl Slap {
    /// 4-4-2.
    pub const SEQUENCE: [Slap; 3] = [Slap::LeftFour, Slap::RightFour, Slap::Thumbs];

    /// The fingers it holds.
    pub fn fingers(self) -> &'static [Finger] {
        match self {
            Slap::LeftFour => &[
                Finger::LeftIndex,
                Finger::LeftMiddle,
                Finger::LeftRing,
                Finger::LeftLittle,
            ],
            Slap::RightFour => &[
                Finger::RightIndex,
                Finger::RightMiddle,
                Finger::RightRing,
                Finger::RightLittle,
            ],
            Slap::Thumbs => &[Finger::LeftThumb, Finger::RightThumb],
        }
    }

    /// SBI `deviceSubId`.
    pub fn sensor(self) -> u8 {
        match self {
            Slap::LeftFour => 1,
            Slap::RightFour => 2,
            Slap::Thumbs => 3,
        }
    }
}

/// An eye.
pub use rekam_records::iris::Eye;

/// The SBI `bioSubType` of an eye.
pub fn eye_sbi_name(eye: Eye) -> &'static str {
    match eye {
        Eye::Left => "Left",
        Eye::Right => "Right",
    }
}

/// What to capture in one RCAPTURE.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A slap, minus the fingers marked as exceptions (missing, amputated, bandaged).
    Slap {
        /// Which slap.
        slap: Slap,
        /// Fingers of that slap that cannot be captured.
        exceptions: Vec<Finger>,
    },
    /// One finger on a single-finger sensor (verification of an index finger).
    Single(Finger),
    /// Both eyes, minus exceptions.
    Irises {
        /// Eyes that cannot be captured.
        exceptions: Vec<Eye>,
    },
    /// The portrait.
    Face,
}

impl Target {
    /// The device kind that captures it.
    pub fn kind(&self) -> DeviceKind {
        match self {
            Target::Slap { .. } | Target::Single(_) => DeviceKind::Fingerprint,
            Target::Irises { .. } => DeviceKind::Iris,
            Target::Face => DeviceKind::Face,
        }
    }

    /// SBI `bioSubType` values expected back.
    pub fn expected(&self) -> Vec<String> {
        match self {
            Target::Slap { slap, exceptions } => slap
                .fingers()
                .iter()
                .filter(|f| !exceptions.contains(f))
                .map(|f| f.sbi_name().to_owned())
                .collect(),
            Target::Single(f) => vec![f.sbi_name().to_owned()],
            Target::Irises { exceptions } => [Eye::Left, Eye::Right]
                .into_iter()
                .filter(|e| !exceptions.contains(e))
                .map(|e| eye_sbi_name(e).to_owned())
                .collect(),
            Target::Face => vec![String::new()],
        }
    }
}

/// One RCAPTURE.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureRequest {
    /// What.
    pub target: Target,
    /// Quality 0-100 at which the device captures by itself (MOSIP uses 40 for fingers).
    pub requested_score: u8,
    /// How long the device may take.
    pub timeout: Duration,
    /// Unique per request: 4-50 letters, digits and hyphens.
    pub transaction_id: String,
    /// The `hash` of the previous capture of this enrollment (chains all captures of one
    /// person), or [`wire::initial_hash`] for the first.
    pub previous_hash: String,
}

/// The ISO/IEC 19794 record of one capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Finger image (19794-4).
    Finger(FingerImage),
    /// Iris image (19794-6).
    Iris(IrisImage),
    /// Face image (19794-5).
    Face(FaceImage),
}

/// One finger, eye or face from a verified RCAPTURE.
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    /// SBI `bioSubType` ("Left IndexFinger", "Right", "" for a face).
    pub sub_type: String,
    /// The device's quality score 0-100.
    pub quality: f64,
    /// The record as the device signed it.
    pub iso: Vec<u8>,
    /// The record, parsed.
    pub record: Record,
    /// The chain hash of this capture.
    pub hash: String,
    /// Capture time the device stated.
    pub timestamp: String,
}

/// A verified RCAPTURE.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureSet {
    /// The request's transaction id.
    pub transaction_id: String,
    /// In the device's order.
    pub captures: Vec<Capture>,
    /// Who signed (the device certificate).
    pub signer: Signer,
    /// The device's serial number (from its signed digital id).
    pub device_serial: String,
}

impl CaptureSet {
    /// Mean quality: SBI's measure for a slap against `requestedScore`.
    pub fn mean_quality(&self) -> f64 {
        if self.captures.is_empty() {
            return 0.0;
        }
        self.captures.iter().map(|c| c.quality).sum::<f64>() / self.captures.len() as f64
    }

    /// The hash to pass as `previous_hash` to the next capture of this enrollment.
    pub fn last_hash(&self) -> Option<&str> {
        self.captures.last().map(|c| c.hash.as_str())
    }
}

/// A biometric capture device, whatever its transport.
pub trait BiometricDevice {
    /// Who it is.
    fn info(&self) -> &DeviceInfo;

    /// Whether it answers and is free now.
    fn status(&self) -> DeviceStatus;

    /// One capture, verified.
    fn capture(&self, request: &CaptureRequest) -> Result<CaptureSet, DriverError>;

    /// Captures until the mean quality reaches the requested score, at most `attempts` times;
    /// `on_attempt` sees each attempt (for the quality bar). The best attempt's failure names
    /// its score.
    fn capture_until_good(
        &self,
        request: &CaptureRequest,
        attempts: u32,
        on_attempt: &mut dyn FnMut(u32, &CaptureSet),
    ) -> Result<CaptureSet, DriverError> {
        let mut best: Option<f64> = None;
        for attempt in 1..=attempts.max(1) {
            let mut req = request.clone();
            if attempt > 1 {
                req.transaction_id = format!("{}-r{attempt}", request.transaction_id);
            }
            let set = self.capture(&req)?;
            on_attempt(attempt, &set);
            let q = set.mean_quality();
            if q >= f64::from(request.requested_score) {
                return Ok(set);
            }
            best = Some(best.map_or(q, |b: f64| b.max(q)));
        }
        Err(DriverError::QualityTooLow {
            kind: request.target.kind(),
            best: best.unwrap_or(0.0).round() as u8,
            required: request.requested_score,
            attempts: attempts.max(1),
        })
    }
}
