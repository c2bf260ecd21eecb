//! What a packet says: the typed manifest of one recording and its ISO/IEC 19794 records,
//! over the envelope and framing of `rekam-packet` (`docs/packet-format.md`). The station writes
//! it, the data center reads it: both sides use this one definition.
//!
//! The manifest names every capture (modality, position, quality, retries, exception and who
//! approved it, the device and its signature) and points at its record by index, so the data
//! center reads a packet without guessing. [`Recording::from_contents`] is the data center's
//! validation: a manifest that does not account for its records, or records that do not match
//! their captures, is refused with the reason.

use crate::biodata::Biodata;
use crate::case::{CaseType, Document};
use rekam_packet::Contents;
use rekam_records::cbeff::{BiometricType, Bir};
use serde::{Deserialize, Serialize};

pub use rekam_packet::envelope::PacketId;

/// The manifest format this build writes and reads.
pub const MANIFEST_FORMAT: u8 = 1;

/// The default size budget of a sealed packet, checked before sealing. The reference gateway
/// accepts packets up to the same size (`rekam-gateway serve --max-packet`).
pub const DEFAULT_BUDGET: usize = 2 * 1024 * 1024;

/// The format owner of Rekam's own CBEFF blocks (signature image, pen strokes): a private
/// value, not registered with IBIA.
pub const OWNER_REKAM: u16 = 0xFF52;
/// Rekam block type: a signature image, PNG.
pub const SIGNATURE_IMAGE: u16 = 1;
/// Rekam block type: pen events, 11 bytes each (x, y, pressure: u16; time: u32 ms; pen down:
/// u8), big-endian.
pub const PEN_STROKES: u16 = 2;

/// What a capture is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// The portrait.
    Face,
    /// The specimen signature printed on the card.
    Signature,
    /// One of the ten fingers (`position` 1-10).
    Finger,
    /// One eye (`position` 1 right, 2 left).
    Iris,
    /// The resident's signature under the statement that the data are true.
    StatementSignature,
    /// The operator's index finger, confirming who recorded.
    OperatorFinger,
}

impl Modality {
    fn record_kind(self) -> BiometricType {
        match self {
            Modality::Face => BiometricType::Face,
            Modality::Signature | Modality::StatementSignature => BiometricType::Signature,
            Modality::Finger | Modality::OperatorFinger => BiometricType::Finger,
            Modality::Iris => BiometricType::Iris,
        }
    }
}

/// Why a finger or eye was not captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ExceptionReason {
    /// Missing since birth.
    Missing,
    /// Amputated.
    Amputated,
    /// Bandaged or injured (temporary).
    Bandaged,
    /// Quality still too low after the retries.
    Unreadable,
}

/// A supervisor-approved exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureException {
    /// Why.
    pub reason: ExceptionReason,
    /// The supervisor who approved it.
    pub approved_by: String,
}

/// The device that captured, as it identified itself (SBI device info).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIdentity {
    /// Make.
    pub make: String,
    /// Model.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// SHA-256 of the device certificate (DER, hex).
    pub certificate_sha256: String,
}

/// One capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capture {
    /// What.
    pub modality: Modality,
    /// Finger position 1-10 (ISO/IEC 19794-4) or eye 1 right, 2 left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u8>,
    /// Index of its record in the packet; `None` exactly when `exception` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<u32>,
    /// For a signature: index of the pen strokes' record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strokes: Option<u32>,
    /// Quality 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    /// Captures retried before this one was kept.
    pub retries: u8,
    /// Why it was not captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<CaptureException>,
    /// The device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceIdentity>,
    /// The device's signature over its answer (the SBI JWS), kept as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_signature: Option<String>,
}

/// A document of the case's checklist and whether it was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentCheck {
    /// The document.
    pub document: Document,
    /// Shown at the counter.
    pub presented: bool,
}

/// How long a step of the SOP took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTiming {
    /// The step (queue, documents, biodata, photo, signature, fingers, irises, ...).
    pub step: String,
    /// Seconds.
    pub seconds: f64,
}

/// The manifest of one recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: u8,
    /// The packet id (set when sealing).
    pub packet_id: String,
    /// The station (set when sealing).
    pub station_id: String,
    /// The station's kecamatan, 6 digits (set when sealing).
    pub kecamatan: String,
    /// The operator who recorded.
    pub operator_id: String,
    /// The case.
    pub case: CaseType,
    /// The queue number of the visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_number: Option<String>,
    /// When the recording finished (RFC 3339, station clock).
    pub recorded_at: String,
    /// The resident's biodata, as confirmed by the resident.
    pub biodata: Biodata,
    /// Where the biodata came from: SIAK online, or the Dinas's extract on the station with its
    /// number and date, so the data center sees a recording made on stale data. Absent in
    /// recordings sealed before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biodata_source: Option<crate::population::Source>,
    /// The case's checklist.
    pub documents: Vec<DocumentCheck>,
    /// Every capture.
    pub captures: Vec<Capture>,
    /// Index of the ISO/IEC 19794-2 record of the captured fingers' minutiae.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finger_templates: Option<u32>,
    /// Step timings.
    pub steps: Vec<StepTiming>,
}

/// A recording: the manifest and its records.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The manifest.
    pub manifest: Manifest,
    /// The records the manifest points at.
    pub records: Vec<Bir>,
}

impl Recording {
    /// The plaintext of the packet.
    pub fn to_contents(&self) -> Result<Contents, String> {
        self.check()?;
        Ok(Contents {
            manifest: serde_json::to_vec(&self.manifest).map_err(|e| e.to_string())?,
            records: self.records.clone(),
        })
    }

    /// Reads and validates a packet's plaintext.
    pub fn from_contents(c: &Contents) -> Result<Recording, String> {
        let manifest: Manifest =
            serde_json::from_slice(&c.manifest).map_err(|e| format!("manifest: {e}"))?;
        let r = Recording {
            manifest,
            records: c.records.clone(),
        };
        r.check()?;
        Ok(r)
    }

    /// The manifest accounts for every record, and every record is what its capture says.
    pub fn check(&self) -> Result<(), String> {
        let m = &self.manifest;
        if m.format != MANIFEST_FORMAT {
            return Err(format!(
                "manifest format {} is unknown (this build reads {MANIFEST_FORMAT})",
                m.format
            ));
        }
        let mut used = vec![false; self.records.len()];
        let mut take = |index: u32, kind: BiometricType, what: &str| -> Result<(), String> {
            let i = index as usize;
            let bir = self
                .records
                .get(i)
                .ok_or_else(|| format!("{what} points at record {i}, which is not there"))?;
            if bir.kind != kind {
                return Err(format!(
                    "{what}: record {i} is {:?}, not {kind:?}",
                    bir.kind
                ));
            }
            if std::mem::replace(&mut used[i], true) {
                return Err(format!("record {i} is claimed twice"));
            }
            Ok(())
        };
        let mut fingers = [false; 10];
        let mut eyes = [false; 2];
        for c in &m.captures {
            let what = format!("{:?} capture {:?}", c.modality, c.position);
            match (c.record, &c.exception) {
                (Some(i), None) => take(i, c.modality.record_kind(), &what)?,
                (None, Some(_)) if matches!(c.modality, Modality::Finger | Modality::Iris) => {}
                _ => return Err(format!("{what} needs a record or an exception, not both")),
            }
            if let Some(s) = c.strokes {
                take(s, BiometricType::Signature, &what)?;
            }
            let seen = match (c.modality, c.position) {
                (Modality::Finger, Some(p @ 1..=10)) => &mut fingers[usize::from(p) - 1],
                (Modality::Iris, Some(p @ 1..=2)) => &mut eyes[usize::from(p) - 1],
                (Modality::Finger | Modality::Iris, _) => {
                    return Err(format!("{what} has no valid position"));
                }
                _ => continue,
            };
            if std::mem::replace(seen, true) {
                return Err(format!("{what} appears twice"));
            }
        }
        if let Some(t) = m.finger_templates {
            take(t, BiometricType::Finger, "finger templates")?;
        }
        if let Some(i) = used.iter().position(|u| !u) {
            return Err(format!("record {i} is not named by the manifest"));
        }
        Ok(())
    }
}
