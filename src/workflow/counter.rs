//! The counter's steps as the operator asks for them: one place that turns an operator's
//! action on the recording in progress into the workflow's calls, with what each needs (the
//! devices, SIAK, a supervisor's approval, the de-duplication index) and what each gave.
//!
//! The desktop shell's commands and the simulators' counter (the workflow tests, `rekam demo`,
//! the crash campaign) both take their steps through [`step`], so a test of one is a test of
//! the other. Where the recording in progress is held between steps stays the caller's
//! business (the shell keeps it in memory only: nothing half-captured is ever on disk).

use super::Population;
use super::WorkflowError;
use super::operators;
use super::recording::{Progress, RecordingWorkflow};
use crate::dedup::Dedup;
use crate::domain::case::{CaseType, Document};
use crate::packet::ExceptionReason;
use crate::station::Station;
use crate::{Error, Result};
use rekam_drivers::sbi::{BiometricDevice, Eye, Finger};
use rekam_drivers::signature_pad::SignaturePad;
use rekam_drivers::{DeviceKind, DriverError};
use serde::{Deserialize, Serialize};

/// What the operator asks of the recording in progress, in the SOP's order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// A queue number and the case.
    Start {
        /// The case.
        case: CaseType,
    },
    /// The documents presented.
    Documents {
        /// Presented.
        presented: Vec<Document>,
        /// Conditional documents that apply.
        #[serde(default)]
        applicable: Vec<Document>,
    },
    /// The NIK on the family card (none: the resident has no NIK).
    Biodata {
        /// The NIK.
        nik: Option<String>,
    },
    /// The resident's answer on the biodata.
    Confirm {
        /// Whether it is theirs and right.
        confirmed: bool,
    },
    /// The portrait.
    Photo,
    /// The specimen signature.
    Signature,
    /// The slaps.
    Fingers,
    /// A finger that cannot be captured, with the supervisor's approval.
    FingerException {
        /// ISO finger position (1-10).
        finger: u8,
        /// Why.
        reason: ExceptionReason,
        /// The supervisor.
        supervisor_id: String,
        /// Their password.
        password: Password,
    },
    /// Both irises.
    Irises,
    /// An eye that cannot be captured, with the supervisor's approval.
    IrisException {
        /// Which eye.
        eye: EyeName,
        /// Why.
        reason: ExceptionReason,
        /// The supervisor.
        supervisor_id: String,
        /// Their password.
        password: Password,
    },
    /// Index fingers against the slaps.
    Verify,
    /// The slaps again, after index fingers that did not match them.
    RetakeFingers,
    /// The station's de-duplication.
    Dedup,
    /// The statement signature.
    Statement,
    /// The operator's own finger.
    OperatorFinger,
    /// Seal and store.
    Seal,
    /// Pause (the resident steps away).
    Pause {
        /// Why.
        reason: String,
    },
    /// Resume.
    Resume,
    /// Cancel, with a reason: nothing is sealed.
    Cancel {
        /// Why.
        reason: String,
    },
}

/// A password typed at the counter (a supervisor's approval): `Debug` never shows it, and it
/// is wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// The password's text, for checking it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Password {
    fn from(text: &str) -> Password {
        Password(text.to_owned())
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// An eye, as the operator names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum EyeName {
    /// Right.
    Right,
    /// Left.
    Left,
}

impl EyeName {
    /// Its name for an operator.
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            EyeName::Right => lang.pick("iris kanan", "right iris"),
            EyeName::Left => lang.pick("iris kiri", "left iris"),
        }
    }
}

impl From<EyeName> for Eye {
    fn from(e: EyeName) -> Eye {
        match e {
            EyeName::Right => Eye::Right,
            EyeName::Left => Eye::Left,
        }
    }
}

/// What a step gave, for the operator to see (on the screen as `{kind, value}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing to show but the next step.
    Done,
    /// A capture's quality score, 0-100 (the photo, the operator's finger).
    Score(u8),
    /// Where the ten fingers stand after the slaps (or their retake).
    Fingers(Progress),
    /// Where the two eyes stand (positions 1 right, 2 left: eyes, not fingers).
    Irises(Progress),
    /// Both index fingers' scores against their slaps.
    Verified {
        /// The right index finger.
        right: u8,
        /// The left index finger.
        left: u8,
    },
    /// A finger recorded as an exception (its ISO position).
    FingerException(u8),
    /// An eye recorded as an exception.
    IrisException(EyeName),
}

/// The counter's devices for one step, whatever drives them (SBI and a serial pad at a real
/// counter and on the simulators).
pub struct Devices<'a> {
    /// The fingerprint scanner.
    pub fingerprint: &'a dyn BiometricDevice,
    /// The iris camera.
    pub iris: &'a dyn BiometricDevice,
    /// The face camera.
    pub face: &'a dyn BiometricDevice,
    /// The signature pad.
    pub pad: &'a mut dyn SignaturePad,
}

/// What a step may need besides the recording itself.
pub struct Counter<'a> {
    /// The station.
    pub station: &'a mut Station,
    /// The station's de-duplication index.
    pub dedup: &'a Dedup,
    /// The devices, when they could be opened (steps that need none go on without them).
    pub devices: Option<Devices<'a>>,
    /// SIAK, for the biodata step (none configured: that step is refused by name).
    pub population: Option<&'a dyn Population>,
}

impl std::fmt::Debug for Devices<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices")
            .field("fingerprint", &self.fingerprint.info().kind)
            .field("iris", &self.iris.info().kind)
            .field("face", &self.face.info().kind)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Counter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counter")
            .field("station", &self.station.identity().station_id)
            .field("devices", &self.devices)
            .field("population", &self.population.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether an error with `code` means a device went away: its handle is dropped and looked for
/// again at the next step (a replugged pad, a restarted SBI service).
pub fn device_gone(code: &str) -> bool {
    matches!(
        code,
        "DEVICE_NOT_CONNECTED" | "DEVICE_DISCONNECTED" | "DEVICE_IO"
    )
}

/// Takes `action` on the recording `w`. Starting, sealing and cancelling begin or end the
/// recording itself and are the caller's ([`RecordingWorkflow::start`], `seal`, `cancel`):
/// asked here, they are refused, never taken as done.
pub fn step(w: &mut RecordingWorkflow, counter: Counter<'_>, action: Action) -> Result<Outcome> {
    let Counter {
        station,
        dedup,
        devices,
        population,
    } = counter;
    let subject = w.queue_number().to_owned();
    // The devices, for the one step that needs them.
    let devices = move || {
        devices.ok_or_else(|| {
            Error::from(DriverError::NotConnected {
                kind: DeviceKind::Fingerprint,
                address: "SBI".into(),
            })
        })
    };
    Ok(match action {
        Action::Start { .. } | Action::Seal | Action::Cancel { .. } => {
            return Err(Error::Internal(format!(
                "{action:?} begins or ends the recording: the caller takes it, not a step"
            )));
        }
        Action::Documents {
            presented,
            applicable,
        } => {
            w.documents(&presented, &applicable)?;
            Outcome::Done
        }
        Action::Biodata { nik } => {
            let population = population.ok_or(WorkflowError::SiakNotConfigured)?;
            w.read_biodata(station, population, nik.as_deref())?;
            Outcome::Done
        }
        Action::Confirm { confirmed } => {
            w.confirm_biodata(station, confirmed)?;
            Outcome::Done
        }
        Action::Pause { reason } => {
            w.pause(station, &reason)?;
            Outcome::Done
        }
        Action::Resume => {
            w.resume(station)?;
            Outcome::Done
        }
        Action::FingerException {
            finger,
            reason,
            supervisor_id,
            password,
        } => {
            let f = Finger::from_code(finger).ok_or_else(|| {
                Error::Internal(format!("finger position {finger} does not exist"))
            })?;
            let ok = operators::approve(
                station,
                &supervisor_id,
                password.as_str(),
                devices()?.fingerprint,
                "finger exception",
                &subject,
            )?;
            w.finger_exception(f, reason, &ok)?;
            Outcome::FingerException(finger)
        }
        Action::IrisException {
            eye,
            reason,
            supervisor_id,
            password,
        } => {
            let ok = operators::approve(
                station,
                &supervisor_id,
                password.as_str(),
                devices()?.fingerprint,
                "iris exception",
                &subject,
            )?;
            w.iris_exception(eye.into(), reason, &ok)?;
            Outcome::IrisException(eye)
        }
        Action::Dedup => {
            w.dedup(station, dedup)?;
            Outcome::Done
        }
        Action::Photo => Outcome::Score(w.photo(devices()?.face)?),
        Action::Signature => {
            w.signature(devices()?.pad)?;
            Outcome::Done
        }
        Action::Fingers => Outcome::Fingers(w.fingers(devices()?.fingerprint)?),
        Action::Irises => Outcome::Irises(w.irises(devices()?.iris)?),
        Action::Verify => {
            let (right, left) = w.verify_index(devices()?.fingerprint)?;
            Outcome::Verified { right, left }
        }
        Action::RetakeFingers => Outcome::Fingers(w.retake_fingers(devices()?.fingerprint)?),
        Action::Statement => {
            w.statement(devices()?.pad)?;
            Outcome::Done
        }
        Action::OperatorFinger => Outcome::Score(w.operator_finger(devices()?.fingerprint)?),
    })
}

#[cfg(test)]
mod tests {
    use super::{Action, Password};
    use crate::packet::ExceptionReason;

    #[test]
    fn a_supervisors_password_never_shows_in_a_log() {
        let action = Action::FingerException {
            finger: 10,
            reason: ExceptionReason::Bandaged,
            supervisor_id: "SPV-01".into(),
            password: Password::from("rahasia-uji-123"),
        };
        let shown = format!("{action:?}");
        assert!(!shown.contains("rahasia"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
