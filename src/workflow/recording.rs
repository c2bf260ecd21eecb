//! Recording (perekaman) in the SOP's order (`../shared/docs/domain.md`, "Regular issuance"
//! step 2): queue number, case and documents, biodata by NIK confirmed by the resident,
//! eligibility, photo, signature, ten fingerprints (slaps 4-4-2), both irises, both index
//! fingers verified against the slaps, local de-duplication, the resident's statement
//! signature, the operator's own index finger, seal and store, summons letter.
//!
//! Every capture stays in memory until [`RecordingWorkflow::seal`], which seals all of them or
//! nothing; pausing stops the step clock; cancelling, a refusal and the seal each write the
//! visit row once.

use super::Found;
use super::counter::EyeName;
use super::operators::{Action, Approval, Session};
use super::{
    ATTEMPTS, CAPTURE_TIMEOUT, FACE_THRESHOLD, FINGER_THRESHOLD, IRIS_THRESHOLD, Population,
    PopulationRecord, Source, StepTimer, Unreadable, WorkflowError, capture_finger,
    finger_template, transaction_id,
};
use crate::dedup::Dedup;
use crate::domain::biodata::Biodata;
use crate::domain::case::{CaseType, Document, DocumentChecklist};
use crate::domain::eligibility::{Applicant, Eligibility, RecordingStatus, Refusal, assess};
use crate::domain::nik::MaskedNik;
use crate::domain::nik::Nik;
use crate::hub::Checked;
use crate::i18n::Lang;
use crate::packet::{
    Capture, CaptureException, DeviceIdentity, DocumentCheck, ExceptionReason, MANIFEST_FORMAT,
    Manifest, Modality, OWNER_REKAM, PEN_STROKES, Recording, SIGNATURE_IMAGE, StepTiming,
    strokes_to_bytes,
};
use crate::station::Station;
use crate::store::{NewVisit, VisitOutcome, VisitWorkflow};
use crate::{Error, Result};
use rekam_bio::finger::{FingerTemplate, record_of};
use rekam_bio::iris::IrisCode;
use rekam_bio::person::PersonTemplate;
use rekam_drivers::DriverError;
use rekam_drivers::sbi::{
    BiometricDevice, CaptureRequest, CaptureSet, Eye, Finger, Record, Slap, Target,
    wire::initial_hash,
};
use rekam_drivers::signature_pad::{Signature, SignaturePad};
use rekam_records::cbeff::{BiometricType, Bir, Format, Purpose, eye_subtype, finger_subtype};
use std::collections::BTreeMap;
use std::time::Duration;

/// The steps, in order. Their names ([`Step::name`], also how the screen receives them) are
/// the steps' timing names in the visit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The case's document checklist.
    Documents,
    /// Biodata read from SIAK by NIK.
    Biodata,
    /// The resident confirms the biodata; eligibility is decided.
    #[serde(rename = "eligibility")]
    Confirm,
    /// The portrait.
    Photo,
    /// The specimen signature.
    Signature,
    /// Ten fingers, slaps 4-4-2.
    Fingers,
    /// Both irises.
    Irises,
    /// Right and left index against the slaps.
    IndexVerification,
    /// The station's de-duplication.
    Dedup,
    /// The resident's statement signature.
    Statement,
    /// The operator's own index finger.
    OperatorFinger,
    /// Seal and store.
    Seal,
    /// Ended: sealed, refused or cancelled.
    Ended,
}

impl Step {
    /// Every step a recording goes through, in the SOP's order (not [`Step::Ended`]).
    pub const ALL: [Step; 12] = [
        Step::Documents,
        Step::Biodata,
        Step::Confirm,
        Step::Photo,
        Step::Signature,
        Step::Fingers,
        Step::Irises,
        Step::IndexVerification,
        Step::Dedup,
        Step::Statement,
        Step::OperatorFinger,
        Step::Seal,
    ];

    /// Stable name (also the step's timing name).
    pub fn name(self) -> &'static str {
        match self {
            Step::Documents => "documents",
            Step::Biodata => "biodata",
            Step::Confirm => "eligibility",
            Step::Photo => "photo",
            Step::Signature => "signature",
            Step::Fingers => "fingers",
            Step::Irises => "irises",
            Step::IndexVerification => "index_verification",
            Step::Dedup => "dedup",
            Step::Statement => "statement",
            Step::OperatorFinger => "operator_finger",
            Step::Seal => "seal",
            Step::Ended => "ended",
        }
    }

    /// Its name for an operator.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Step::Documents => lang.pick("Dokumen", "Documents"),
            Step::Biodata => lang.pick("Biodata (NIK)", "Biodata (NIK)"),
            Step::Confirm => lang.pick("Konfirmasi & kelayakan", "Confirmation & eligibility"),
            Step::Photo => lang.pick("Foto", "Photo"),
            Step::Signature => lang.pick("Tanda tangan", "Signature"),
            Step::Fingers => lang.pick("Sidik jari 4-4-2", "Fingerprints 4-4-2"),
            Step::Irises => lang.pick("Iris", "Irises"),
            Step::IndexVerification => lang.pick("Verifikasi telunjuk", "Index verification"),
            Step::Dedup => lang.pick("Cek data ganda", "Duplicate check"),
            Step::Statement => lang.pick("Tanda tangan pernyataan", "Statement signature"),
            Step::OperatorFinger => lang.pick("Sidik jari operator", "Operator's finger"),
            Step::Seal => lang.pick("Segel & simpan", "Seal & store"),
            Step::Ended => lang.pick("Selesai", "Done"),
        }
    }

    fn next(self) -> Step {
        match self {
            Step::Documents => Step::Biodata,
            Step::Biodata => Step::Confirm,
            Step::Confirm => Step::Photo,
            Step::Photo => Step::Signature,
            Step::Signature => Step::Fingers,
            Step::Fingers => Step::Irises,
            Step::Irises => Step::IndexVerification,
            Step::IndexVerification => Step::Dedup,
            Step::Dedup => Step::Statement,
            Step::Statement => Step::OperatorFinger,
            Step::OperatorFinger => Step::Seal,
            Step::Seal | Step::Ended => Step::Ended,
        }
    }
}

/// A capture kept for the packet.
#[derive(Debug, Clone)]
struct Kept {
    iso: Vec<u8>,
    quality: u8,
    retries: u8,
    device: DeviceIdentity,
}

#[derive(Debug, Clone)]
enum Slot<T> {
    Captured(Kept, T),
    Exception(CaptureException),
}

/// What the counter sees after a finger or iris pass.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Progress {
    /// Positions captured at the quality gate.
    pub captured: Vec<u8>,
    /// Positions recorded as exceptions.
    pub exceptions: Vec<u8>,
    /// Positions still to do.
    pub pending: Vec<u8>,
}

/// A sealed recording.
#[derive(Debug, Clone)]
pub struct SealedRecording {
    /// The packet id (its QR code is on the summons letter).
    pub packet_id: String,
    /// The queue number.
    pub queue_number: String,
    /// The masked NIK.
    pub masked_nik: MaskedNik,
    /// The summons letter (surat panggilan), PDF.
    pub summons_letter: Vec<u8>,
}

/// One recording at the counter.
#[derive(Debug)]
pub struct RecordingWorkflow {
    visit_id: String,
    queue_number: String,
    case: CaseType,
    session: Session,
    step: Step,
    timer: StepTimer,
    documents: Vec<DocumentCheck>,
    nik: Option<Nik>,
    record: Option<PopulationRecord>,
    /// Who answered for the biodata (SIAK online, or the extract and how old).
    source: Option<Source>,
    face: Option<Kept>,
    signature: Option<Signature>,
    fingers: BTreeMap<u8, Slot<FingerTemplate>>,
    irises: BTreeMap<u8, Slot<Option<IrisCode>>>,
    statement: Option<Signature>,
    operator_finger: Option<FingerTemplate>,
    /// What the de-duplication compared the person with beyond this station: the kecamatan
    /// (the hub's claim) or, with the hub out of reach, this station only; `None` without a hub.
    kecamatan: Option<Checked>,
    chain: String,
}

fn device_identity(device: &dyn BiometricDevice, set: &CaptureSet) -> DeviceIdentity {
    DeviceIdentity {
        make: set.signer.issuer.clone(),
        model: device.info().model.clone(),
        serial: set.device_serial.clone(),
        certificate_sha256: set.signer.fingerprint.clone(),
    }
}

fn eye_position(eye: Eye) -> u8 {
    match eye {
        Eye::Right => 1,
        Eye::Left => 2,
    }
}

impl RecordingWorkflow {
    /// Starts a recording: issues the day's next queue number (`A-001`).
    pub fn start(station: &mut Station, session: &Session, case: CaseType) -> Result<Self> {
        session.require(Action::Serve)?;
        if !case.is_recording() {
            return Err(WorkflowError::WrongCase(case).into());
        }
        station.room_for_recording()?;
        let clock = station.store().clock().clone();
        let day = clock.today().to_string();
        let queue_number = crate::hub::queue_number(station, &day)?;
        let mut timer = StepTimer::start(clock);
        timer.begin("queue");
        Ok(RecordingWorkflow {
            visit_id: uuid::Uuid::new_v4().to_string(),
            queue_number,
            case,
            session: session.clone(),
            step: Step::Documents,
            timer,
            documents: Vec::new(),
            nik: None,
            record: None,
            source: None,
            face: None,
            signature: None,
            fingers: BTreeMap::new(),
            irises: BTreeMap::new(),
            statement: None,
            operator_finger: None,
            kecamatan: None,
            chain: initial_hash(),
        })
    }

    /// The queue number.
    pub fn queue_number(&self) -> &str {
        &self.queue_number
    }

    /// The case being served.
    pub fn case(&self) -> CaseType {
        self.case
    }

    /// The current step.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The biodata read from SIAK, once read.
    pub fn biodata(&self) -> Option<&Biodata> {
        self.record.as_ref().map(|r| &r.biodata)
    }

    /// Who answered for the biodata, once read.
    pub fn biodata_source(&self) -> Option<&Source> {
        self.source.as_ref()
    }

    /// Whether paused.
    pub fn is_paused(&self) -> bool {
        self.timer.is_paused()
    }

    fn enter(&mut self, step: Step) -> Result<()> {
        let at = super::At {
            workflow: "recording",
            step: self.step.name(),
            ended: self.step == Step::Ended,
        };
        super::enter_step(at, step.name(), &mut self.session, &mut self.timer)
    }

    fn advance(&mut self) {
        self.step = self.step.next();
    }

    /// Pauses (the resident steps away); the step clock stops.
    pub fn pause(&mut self, station: &mut Station, reason: &str) -> Result<()> {
        self.timer.pause();
        station.audit(
            &crate::audit::AuditEvent::new(
                &self.session.operator_id,
                "recording.pause",
                &self.visit_id,
            )
            .with_detail(serde_json::json!({ "step": self.step.name(), "reason": reason })),
        )?;
        Ok(())
    }

    /// Resumes after [`Self::pause`].
    pub fn resume(&mut self, station: &mut Station) -> Result<()> {
        self.session.touch()?;
        self.timer.resume();
        station.audit(&crate::audit::AuditEvent::new(
            &self.session.operator_id,
            "recording.resume",
            &self.visit_id,
        ))?;
        Ok(())
    }

    /// Cancels with a reason: every capture is dropped, nothing is sealed.
    pub fn cancel(mut self, station: &mut Station, reason: &str) -> Result<()> {
        self.end(
            station,
            VisitOutcome::Cancelled,
            Some("CANCELLED"),
            serde_json::json!({ "reason": reason, "at_step": self.step.name() }),
        )
    }

    fn end(
        &mut self,
        station: &mut Station,
        outcome: VisitOutcome,
        code: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<()> {
        self.step = Step::Ended;
        let visit = self.visit(outcome, code, detail);
        station.store_mut().append_visit(&visit)?;
        Ok(())
    }

    fn visit(
        &mut self,
        outcome: VisitOutcome,
        code: Option<&str>,
        detail: serde_json::Value,
    ) -> NewVisit {
        NewVisit {
            visit_id: self.visit_id.clone(),
            workflow: VisitWorkflow::Recording,
            queue_number: Some(self.queue_number.clone()),
            operator_id: self.session.operator_id.clone(),
            case: Some(self.case),
            masked_nik: self.nik.as_ref().map(Nik::masked),
            outcome,
            code: code.map(str::to_owned),
            started_at: self.timer.started_at(),
            steps: self.timer.finish(),
            detail,
        }
    }

    fn refuse(&mut self, station: &mut Station, refusal: Refusal) -> Error {
        let detail = serde_json::json!({ "reason": refusal.reason, "route": refusal.route });
        if let Err(e) = self.end(station, VisitOutcome::Refused, Some(refusal.code), detail) {
            return e;
        }
        WorkflowError::Refused(refusal).into()
    }

    /// The documents presented, against the case's checklist; `applicable` are the conditional
    /// documents that apply to this resident (an old KTP held, married under 17).
    pub fn documents(&mut self, presented: &[Document], applicable: &[Document]) -> Result<()> {
        self.enter(Step::Documents)?;
        let checklist = DocumentChecklist {
            case: self.case,
            presented: presented.iter().copied().collect(),
            applicable: applicable.iter().copied().collect(),
        };
        let missing = checklist.missing();
        if !missing.is_empty() {
            let names: Vec<&str> = missing
                .iter()
                .map(|d| d.label(crate::i18n::Lang::Id))
                .collect();
            return Err(WorkflowError::MissingDocuments(names.join(", ")).into());
        }
        self.documents = self
            .case
            .checklist()
            .iter()
            .map(|r| DocumentCheck {
                document: r.document,
                presented: presented.contains(&r.document),
            })
            .collect();
        self.advance();
        Ok(())
    }

    /// Reads the biodata from SIAK by the NIK on the family card. No NIK, or a NIK SIAK does
    /// not know, ends the visit: the resident registers their biodata first (F-1.07).
    pub fn read_biodata(
        &mut self,
        station: &mut Station,
        population: &dyn Population,
        nik: Option<&str>,
    ) -> Result<&Biodata> {
        self.enter(Step::Biodata)?;
        let found = match nik {
            Some(n) => {
                let nik = Nik::parse(n)?;
                let record = population.lookup(&nik)?;
                self.nik = Some(nik);
                record
            }
            None => None,
        };
        let Some(Found { record, source }) = found else {
            let today = station.store().clock().today();
            let Eligibility::Refused(r) = assess(self.case, Applicant::NoNik, today) else {
                return Err(WorkflowError::Ended("no NIK".into()).into());
            };
            return Err(self.refuse(station, r));
        };
        self.record = Some(record);
        self.source = Some(source);
        self.advance();
        self.biodata()
            .ok_or_else(|| WorkflowError::Ended("no biodata".into()).into())
    }

    /// The resident confirms (or not) the biodata shown; then eligibility: no NIK, under 17,
    /// already recorded (here, by the journal; anywhere, by SIAK) end the visit with the
    /// refusal and where to go next.
    pub fn confirm_biodata(&mut self, station: &mut Station, confirmed: bool) -> Result<()> {
        self.enter(Step::Confirm)?;
        if !confirmed {
            self.end(
                station,
                VisitOutcome::Refused,
                Some("BIODATA_NOT_CONFIRMED"),
                serde_json::Value::Null,
            )?;
            return Err(WorkflowError::BiodataNotConfirmed.into());
        }
        let (Some(nik), Some(record)) = (self.nik.clone(), self.record.clone()) else {
            return Err(WorkflowError::Ended("no biodata".into()).into());
        };
        let local = station.store().enrollment_by_nik(&nik)?;
        let status = match local {
            Some(e) => RecordingStatus::Recorded {
                reference: format!("{} ({})", e.enrollment_id, e.recorded_at),
            },
            None => record.recording.clone(),
        };
        let today = station.store().clock().today();
        let applicant = Applicant::Known {
            biodata: &record.biodata,
            recording: &status,
        };
        if let Eligibility::Refused(r) = assess(self.case, applicant, today) {
            return Err(self.refuse(station, r));
        }
        self.advance();
        Ok(())
    }

    /// The portrait: up to three attempts through the engine's face gate (one face, centred,
    /// lit, sharp, on the background of the birth year's colour).
    pub fn photo(&mut self, camera: &dyn BiometricDevice) -> Result<u8> {
        self.enter(Step::Photo)?;
        let birth_year = self.biodata().map_or(2000, |b| b.birth_date.year());
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            let set = camera.capture(&self.request(Target::Face, FACE_THRESHOLD, "FACE"))?;
            let Some(c) = set.captures.first() else {
                return Err(DriverError::Empty(rekam_drivers::DeviceKind::Face).into());
            };
            let Record::Face(face) = &c.record else {
                return Err(protocol(rekam_drivers::DeviceKind::Face, "not a face").into());
            };
            let img = image::load_from_memory(&face.data)
                .map_err(|e| protocol(rekam_drivers::DeviceKind::Face, &e.to_string()))?
                .to_rgb8();
            let check = rekam_bio::face::check(&img, birth_year);
            self.chain = c.hash.clone();
            if check.advice(FACE_THRESHOLD).is_none() {
                self.face = Some(Kept {
                    iso: c.iso.clone(),
                    quality: check.score,
                    retries: attempt as u8,
                    device: device_identity(camera, &set),
                });
                self.advance();
                return Ok(check.score);
            }
            last = Some(check);
        }
        let advice = last.as_ref().and_then(|c| c.advice(FACE_THRESHOLD));
        Err(WorkflowError::PhotoRejected {
            score: last.map_or(0, |c| c.score),
            advice: advice
                .map_or("", |a| a.message(crate::i18n::Lang::En))
                .into(),
            advice_id: advice
                .map_or("", |a| a.message(crate::i18n::Lang::Id))
                .into(),
        }
        .into())
    }

    /// The specimen signature on the pad.
    pub fn signature(&mut self, pad: &mut dyn SignaturePad) -> Result<()> {
        self.enter(Step::Signature)?;
        self.signature = Some(pad.capture(SIGN_TIMEOUT, &mut |_| {})?);
        self.advance();
        Ok(())
    }

    fn request(&self, target: Target, score: u8, prefix: &str) -> CaptureRequest {
        CaptureRequest {
            target,
            requested_score: score,
            timeout: CAPTURE_TIMEOUT,
            transaction_id: transaction_id(prefix),
            previous_hash: self.chain.clone(),
        }
    }

    /// Records a finger that cannot be captured (missing, amputated, bandaged, or unreadable
    /// after three attempts), with a supervisor's approval. Allowed during the finger step.
    pub fn finger_exception(
        &mut self,
        finger: Finger,
        reason: ExceptionReason,
        approval: &Approval,
    ) -> Result<()> {
        self.enter(Step::Fingers)?;
        self.fingers.insert(
            finger.code(),
            Slot::Exception(CaptureException {
                reason,
                approved_by: approval.supervisor_id().to_owned(),
            }),
        );
        Ok(())
    }

    /// Records an eye that cannot be captured, with a supervisor's approval.
    pub fn iris_exception(
        &mut self,
        eye: Eye,
        reason: ExceptionReason,
        approval: &Approval,
    ) -> Result<()> {
        self.enter(Step::Irises)?;
        self.irises.insert(
            eye_position(eye),
            Slot::Exception(CaptureException {
                reason,
                approved_by: approval.supervisor_id().to_owned(),
            }),
        );
        Ok(())
    }

    /// The slaps 4-4-2: each slap with a finger still to do is captured up to three times and
    /// each finger keeps its best capture; a finger below the gate after three attempts needs
    /// an exception ([`WorkflowError::StillUnreadable`]). A slap showing another number of
    /// fingers than expected is refused by the device driver as it happens.
    pub fn fingers(&mut self, scanner: &dyn BiometricDevice) -> Result<Progress> {
        self.enter(Step::Fingers)?;
        let mut fingers = std::mem::take(&mut self.fingers);
        let unreadable = self.capture_slaps(scanner, &mut fingers);
        self.fingers = fingers;
        let progress = progress(&self.fingers, 1..=10);
        unreadable_error(&unreadable?)?;
        self.advance();
        Ok(progress)
    }

    /// Takes the slaps again after an index finger did not match its slap (the mismatch's
    /// advice, when placing the finger again does not help: the slap itself was poor, or not
    /// this resident's hand). Exceptions stand; the new captures replace the old only when
    /// every finger is readable, so a failed retake leaves the recording as it was (a finger
    /// that is unreadable now kept its earlier capture; cancel the visit if that is wrong).
    /// The step stays at index verification.
    pub fn retake_fingers(&mut self, scanner: &dyn BiometricDevice) -> Result<Progress> {
        self.enter(Step::IndexVerification)?;
        let mut fresh: BTreeMap<u8, Slot<FingerTemplate>> = self
            .fingers
            .iter()
            .filter(|(_, slot)| matches!(slot, Slot::Exception(_)))
            .map(|(code, slot)| (*code, slot.clone()))
            .collect();
        unreadable_error(&self.capture_slaps(scanner, &mut fresh)?)?;
        self.fingers = fresh;
        Ok(progress(&self.fingers, 1..=10))
    }

    /// Captures each slap with a finger missing from `fingers` (up to three times, each
    /// finger keeping its best capture) and fills in those at the quality gate; returns those
    /// still below it.
    fn capture_slaps(
        &mut self,
        scanner: &dyn BiometricDevice,
        fingers: &mut BTreeMap<u8, Slot<FingerTemplate>>,
    ) -> Result<Vec<Finger>> {
        let mut unreadable = Vec::new();
        for slap in Slap::SEQUENCE {
            let todo: Vec<Finger> = slap
                .fingers()
                .iter()
                .copied()
                .filter(|f| !fingers.contains_key(&f.code()))
                .collect();
            if todo.is_empty() {
                continue;
            }
            let exceptions: Vec<Finger> = slap
                .fingers()
                .iter()
                .copied()
                .filter(|f| matches!(fingers.get(&f.code()), Some(Slot::Exception(_))))
                .collect();
            let mut best: BTreeMap<u8, (Kept, Record)> = BTreeMap::new();
            for attempt in 0..ATTEMPTS {
                let target = Target::Slap {
                    slap,
                    exceptions: exceptions.clone(),
                };
                let set = scanner.capture(&self.request(target, FINGER_THRESHOLD, "SLAP"))?;
                if let Some(h) = set.last_hash() {
                    self.chain = h.to_owned();
                }
                for c in &set.captures {
                    let Some(f) = Finger::from_sbi(&c.sub_type) else {
                        continue;
                    };
                    let q = c.quality.round().clamp(0.0, 100.0) as u8;
                    if best.get(&f.code()).is_none_or(|(k, _)| k.quality < q) {
                        best.insert(
                            f.code(),
                            (
                                Kept {
                                    iso: c.iso.clone(),
                                    quality: q,
                                    retries: attempt as u8,
                                    device: device_identity(scanner, &set),
                                },
                                c.record.clone(),
                            ),
                        );
                    }
                }
                if todo.iter().all(|f| {
                    best.get(&f.code())
                        .is_some_and(|(k, _)| k.quality >= FINGER_THRESHOLD)
                }) {
                    break;
                }
            }
            for f in todo {
                match best.remove(&f.code()) {
                    Some((kept, record)) if kept.quality >= FINGER_THRESHOLD => {
                        let t = finger_template(&record, f.code())?;
                        fingers.insert(f.code(), Slot::Captured(kept, t));
                    }
                    _ => unreadable.push(f),
                }
            }
        }
        Ok(unreadable)
    }

    /// Both irises, by the same rules.
    pub fn irises(&mut self, camera: &dyn BiometricDevice) -> Result<Progress> {
        self.enter(Step::Irises)?;
        let exceptions: Vec<Eye> = [Eye::Right, Eye::Left]
            .into_iter()
            .filter(|e| self.irises.contains_key(&eye_position(*e)))
            .collect();
        if exceptions.len() < 2 {
            let mut best: BTreeMap<u8, (Kept, Record)> = BTreeMap::new();
            for attempt in 0..ATTEMPTS {
                let target = Target::Irises {
                    exceptions: exceptions.clone(),
                };
                let set = camera.capture(&self.request(target, IRIS_THRESHOLD, "IRIS"))?;
                if let Some(h) = set.last_hash() {
                    self.chain = h.to_owned();
                }
                for c in &set.captures {
                    let Record::Iris(img) = &c.record else {
                        continue;
                    };
                    let pos = eye_position(img.eye);
                    let q = c.quality.round().clamp(0.0, 100.0) as u8;
                    if best.get(&pos).is_none_or(|(k, _)| k.quality < q) {
                        let kept = Kept {
                            iso: c.iso.clone(),
                            quality: q,
                            retries: attempt as u8,
                            device: device_identity(camera, &set),
                        };
                        best.insert(pos, (kept, c.record.clone()));
                    }
                }
                if best.len() + exceptions.len() == 2
                    && best.values().all(|(k, _)| k.quality >= IRIS_THRESHOLD)
                {
                    break;
                }
            }
            let mut unreadable = Vec::new();
            for (pos, eye) in [(1u8, EyeName::Right), (2, EyeName::Left)] {
                if self.irises.contains_key(&pos) {
                    continue;
                }
                match best.remove(&pos) {
                    Some((kept, Record::Iris(img))) if kept.quality >= IRIS_THRESHOLD => {
                        let code = iris_code(&img.data);
                        self.irises.insert(pos, Slot::Captured(kept, code));
                    }
                    _ => unreadable.push(eye),
                }
            }
            if !unreadable.is_empty() {
                return Err(WorkflowError::StillUnreadable {
                    what: Unreadable::Eyes(unreadable),
                    attempts: ATTEMPTS,
                }
                .into());
            }
        }
        self.advance();
        Ok(progress(&self.irises, 1..=2))
    }

    /// Right and left index on the single-finger sensor, each against its slap capture. An
    /// index finger recorded as an exception is skipped.
    pub fn verify_index(&mut self, scanner: &dyn BiometricDevice) -> Result<(u8, u8)> {
        self.enter(Step::IndexVerification)?;
        let mut scores = [100u8, 100u8];
        for (i, finger) in [Finger::RightIndex, Finger::LeftIndex]
            .into_iter()
            .enumerate()
        {
            let Some(Slot::Captured(_, slap)) = self.fingers.get(&finger.code()) else {
                continue;
            };
            let slap = slap.clone();
            let (live, _) = capture_finger(scanner, finger, "VERIFY")?;
            scores[i] = rekam_bio::verify::index_fingers((&live, &live), (&slap, &slap)).right;
        }
        let [right, left] = scores;
        if right < rekam_bio::verify::THRESHOLD || left < rekam_bio::verify::THRESHOLD {
            return Err(WorkflowError::IndexMismatch { right, left }.into());
        }
        self.advance();
        Ok((right, left))
    }

    fn person(&self) -> PersonTemplate {
        let mut person =
            PersonTemplate::from_fingers(self.fingers.values().filter_map(|s| match s {
                Slot::Captured(_, t) => Some(t.clone()),
                Slot::Exception(_) => None,
            }));
        for (pos, slot) in &self.irises {
            if let Slot::Captured(_, Some(code)) = slot {
                person.irises[usize::from(*pos) - 1] = Some(code.clone());
            }
        }
        person
    }

    /// The de-duplication: a person already recorded at this station, or (with a kecamatan
    /// server) at any counter of the kecamatan or being recorded at one right now, is refused,
    /// naming the earlier record, and the visit ends. A hub that does not answer leaves the
    /// check at this station's recordings, and the recording says so ([`Self::kecamatan`]).
    pub fn dedup(&mut self, station: &mut Station, dedup: &Dedup) -> Result<()> {
        self.enter(Step::Dedup)?;
        let person = self.person();
        let masked = self
            .biodata()
            .map(|b| b.nik.masked().to_string())
            .unwrap_or_default();
        let now = crate::clock::rfc3339(station.store().clock().now());
        let store = station.store();
        let checked = dedup
            .check(store, &person)
            .and_then(|()| {
                dedup
                    .hub()
                    .map(|hub| hub.check(&Dedup::row(&person)?, &self.queue_number, &masked, now))
                    .transpose()
            })
            // The hub did not answer: the counter's copy of its gallery, if it has one.
            .and_then(|checked| match checked {
                Some(Checked::StationOnly { code }) => {
                    Ok(Some(match dedup.check_copy(store, &person)? {
                        Some((as_of, gallery)) => Checked::KecamatanCopy {
                            as_of,
                            gallery,
                            code,
                        },
                        None => Checked::StationOnly { code },
                    }))
                }
                other => Ok(other),
            });
        match checked {
            Ok(kecamatan) => self.kecamatan = kecamatan,
            Err(e) => {
                let detail = match &e {
                    Error::BiometricDuplicate { enrollment_id, .. } => {
                        Some(serde_json::json!({ "earlier": enrollment_id }))
                    }
                    Error::KecamatanDuplicate(k) => Some(serde_json::json!({
                        "earlier": k.first.packet_id,
                        "earlier_station": k.first.station_id,
                        "earlier_queue_number": k.first.queue_number,
                        "copy_as_of": k.copy_as_of,
                    })),
                    _ => None,
                };
                if let Some(detail) = detail {
                    self.end(station, VisitOutcome::Refused, Some(e.code()), detail)?;
                }
                return Err(e);
            }
        }
        self.advance();
        Ok(())
    }

    /// What the de-duplication compared the person with beyond this station; `None` before
    /// that step, or at a station without a kecamatan server.
    pub fn kecamatan(&self) -> Option<&Checked> {
        self.kecamatan.as_ref()
    }

    /// The resident signs the statement that the data are true.
    pub fn statement(&mut self, pad: &mut dyn SignaturePad) -> Result<()> {
        self.enter(Step::Statement)?;
        self.statement = Some(pad.capture(SIGN_TIMEOUT, &mut |_| {})?);
        self.advance();
        Ok(())
    }

    /// The logged-in operator's own right index finger: who recorded.
    pub fn operator_finger(&mut self, scanner: &dyn BiometricDevice) -> Result<u8> {
        self.enter(Step::OperatorFinger)?;
        let (live, _) = capture_finger(scanner, Finger::RightIndex, "OPERATOR")?;
        let score = self.session.finger_score(&live);
        if score < rekam_bio::verify::THRESHOLD {
            return Err(WorkflowError::OperatorMismatch(self.session.operator_id.clone()).into());
        }
        self.operator_finger = Some(live);
        self.advance();
        Ok(score)
    }

    /// Seals everything captured into one packet, stores it with its de-duplication row, its
    /// audit entry and the visit row in one transaction, and writes the summons letter.
    ///
    /// A seal that fails (a full disk, a damaged store) leaves the recording at this step with
    /// every capture, so it can be sealed again once the cause is fixed; once stored, the
    /// recording has ended and cannot be sealed twice.
    pub fn seal(&mut self, station: &mut Station, dedup: &mut Dedup) -> Result<SealedRecording> {
        self.enter(Step::Seal)?;
        let person = self.person();
        let row = Dedup::row(&person)?;
        let recording = self.recording(station)?;
        let masked_nik = recording.manifest.biodata.nik.masked();
        let biodata = recording.manifest.biodata.clone();
        let mut visit = self.visit(VisitOutcome::Sealed, None, serde_json::Value::Null);
        visit.steps.retain(|s| s.step != "seal");
        let sealed = station.seal_visit(recording, Some(row.clone()), None, Some(visit))?;
        self.step = Step::Ended;
        // The row is already in the store with the packet; the in-memory index only catches up.
        dedup.add(sealed.entry.seq, &row)?;
        if let (Some(hub), Some(checked)) = (dedup.hub(), &self.kecamatan) {
            // Sealed whatever the hub says now: a failure here only leaves the recording
            // pending for the hub's next pass.
            if let Err(e) = hub.after_seal(station, sealed.entry.seq, checked) {
                tracing::warn!(
                    code = e.code(),
                    "the sealed recording waits for the kecamatan server"
                );
            }
        }
        let packet_id = sealed.entry.enrollment_id.clone();
        let summons_letter = crate::documents::summons_letter(&crate::documents::Summons {
            station: station.identity(),
            queue_number: &self.queue_number,
            packet_id: &packet_id,
            biodata: &biodata,
            operator: &self.session.name,
            recorded_at: &sealed.entry.recorded_at,
        });
        Ok(SealedRecording {
            packet_id,
            queue_number: self.queue_number.clone(),
            masked_nik,
            summons_letter,
        })
    }

    fn recording(&mut self, station: &Station) -> Result<Recording> {
        let incomplete = |what: &str| Error::RecordingInvalid(format!("{what} missing"));
        let biodata = self
            .biodata()
            .cloned()
            .ok_or_else(|| incomplete("biodata"))?;
        let mut records = Vec::new();
        let mut captures = Vec::new();
        let mut push = |bir: Bir| -> Option<u32> {
            records.push(bir);
            Some((records.len() - 1) as u32)
        };
        let kept = |modality, position, record, k: &Kept| Capture {
            modality,
            position,
            record,
            strokes: None,
            quality: Some(k.quality),
            retries: k.retries,
            exception: None,
            device: Some(k.device.clone()),
            device_signature: None,
        };
        let exception = |modality, position, e: &CaptureException| Capture {
            modality,
            position: Some(position),
            record: None,
            strokes: None,
            quality: None,
            retries: 0,
            exception: Some(e.clone()),
            device: None,
            device_signature: None,
        };
        let bir = |kind, subtype, format, quality, purpose, data| Bir {
            kind,
            subtype,
            format,
            quality,
            purpose,
            data,
        };

        let face = self.face.as_ref().ok_or_else(|| incomplete("photo"))?;
        let r = push(bir(
            BiometricType::Face,
            0,
            Format::FaceImage,
            Some(face.quality),
            Purpose::Enroll,
            face.iso.clone(),
        ));
        captures.push(kept(Modality::Face, None, r, face));

        let mut templates = Vec::new();
        for code in 1..=10u8 {
            match self.fingers.get(&code) {
                Some(Slot::Captured(k, t)) => {
                    let r = push(bir(
                        BiometricType::Finger,
                        finger_subtype(code).unwrap_or(0),
                        Format::FingerImage,
                        Some(k.quality),
                        Purpose::Enroll,
                        k.iso.clone(),
                    ));
                    captures.push(kept(Modality::Finger, Some(code), r, k));
                    templates.push(t.clone());
                }
                Some(Slot::Exception(e)) => captures.push(exception(Modality::Finger, code, e)),
                None => return Err(incomplete(&format!("finger {code}"))),
            }
        }
        for pos in 1..=2u8 {
            match self.irises.get(&pos) {
                Some(Slot::Captured(k, _)) => {
                    let r = push(bir(
                        BiometricType::Iris,
                        eye_subtype(pos == 1),
                        Format::IrisImage,
                        Some(k.quality),
                        Purpose::Enroll,
                        k.iso.clone(),
                    ));
                    captures.push(kept(Modality::Iris, Some(pos), r, k));
                }
                Some(Slot::Exception(e)) => captures.push(exception(Modality::Iris, pos, e)),
                None => return Err(incomplete("iris")),
            }
        }
        for (modality, sig) in [
            (Modality::Signature, &self.signature),
            (Modality::StatementSignature, &self.statement),
        ] {
            let sig = sig.as_ref().ok_or_else(|| incomplete("signature"))?;
            let block = |kind: u16, data: Vec<u8>| {
                bir(
                    BiometricType::Signature,
                    0,
                    Format::Other(OWNER_REKAM, kind),
                    None,
                    Purpose::Enroll,
                    data,
                )
            };
            let record = push(block(SIGNATURE_IMAGE, crate::documents::signature_png(sig)));
            let strokes = push(block(PEN_STROKES, strokes_to_bytes(&sig.samples)));
            captures.push(Capture {
                modality,
                position: None,
                record,
                strokes,
                quality: None,
                retries: u8::try_from(sig.clears).unwrap_or(u8::MAX),
                exception: None,
                device: Some(DeviceIdentity {
                    make: sig.pad.model.clone(),
                    model: sig.pad.model.clone(),
                    serial: sig.pad.serial.clone(),
                    certificate_sha256: String::new(),
                }),
                device_signature: None,
            });
        }
        let template_error = |e: rekam_bio::BioError| Error::TemplateRejected {
            detail: e.to_string(),
        };
        let finger_templates = if templates.is_empty() {
            None
        } else {
            push(bir(
                BiometricType::Finger,
                0,
                Format::FingerMinutiae,
                None,
                Purpose::Enroll,
                record_of(&templates).map_err(template_error)?,
            ))
        };
        let operator = self
            .operator_finger
            .as_ref()
            .ok_or_else(|| incomplete("operator finger"))?;
        let r = push(bir(
            BiometricType::Finger,
            0,
            Format::FingerMinutiae,
            None,
            Purpose::Verify,
            record_of(std::slice::from_ref(operator)).map_err(template_error)?,
        ));
        captures.push(Capture {
            modality: Modality::OperatorFinger,
            position: None,
            record: r,
            strokes: None,
            quality: None,
            retries: 0,
            exception: None,
            device: None,
            device_signature: None,
        });
        let now = station.store().clock().now();
        let steps = self
            .timer
            .finish()
            .into_iter()
            .map(|s| StepTiming {
                step: s.step,
                seconds: s.seconds,
            })
            .collect();
        Ok(Recording {
            manifest: Manifest {
                format: MANIFEST_FORMAT,
                packet_id: String::new(),
                station_id: String::new(),
                kecamatan: String::new(),
                operator_id: self.session.operator_id.clone(),
                case: self.case,
                queue_number: Some(self.queue_number.clone()),
                recorded_at: crate::clock::rfc3339(now),
                biodata,
                biodata_source: self.source.clone(),
                documents: self.documents.clone(),
                captures,
                finger_templates,
                steps,
            },
            records,
        })
    }
}

/// How long the resident may take to sign.
pub const SIGN_TIMEOUT: Duration = Duration::from_secs(120);

fn protocol(kind: rekam_drivers::DeviceKind, detail: &str) -> DriverError {
    DriverError::Protocol {
        kind,
        detail: detail.to_owned(),
    }
}

fn iris_code(jpeg: &[u8]) -> Option<IrisCode> {
    let img = image::load_from_memory(jpeg).ok()?.to_luma8();
    rekam_bio::iris::code(rekam_bio::finger::extract::Gray {
        data: img.as_raw(),
        width: img.width() as usize,
        height: img.height() as usize,
    })
    .ok()
    .map(|(c, _)| c)
}

fn progress<T>(slots: &BTreeMap<u8, Slot<T>>, all: std::ops::RangeInclusive<u8>) -> Progress {
    let mut p = Progress::default();
    for pos in all {
        match slots.get(&pos) {
            Some(Slot::Captured(..)) => p.captured.push(pos),
            Some(Slot::Exception(_)) => p.exceptions.push(pos),
            None => p.pending.push(pos),
        }
    }
    p
}

/// Fingers still below the quality gate after every attempt: they need an exception.
fn unreadable_error(unreadable: &[Finger]) -> Result<()> {
    if unreadable.is_empty() {
        return Ok(());
    }
    Err(WorkflowError::StillUnreadable {
        what: Unreadable::Fingers(unreadable.to_vec()),
        attempts: ATTEMPTS,
    }
    .into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::Step;

    /// The screen receives a step by its serialised name and the visit log keeps `name()`: the
    /// two are one, and `ALL` is the order `next` walks.
    #[test]
    fn a_step_has_one_name_and_all_is_the_sops_order() {
        for s in Step::ALL.into_iter().chain([Step::Ended]) {
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
        }
        for pair in Step::ALL.windows(2) {
            assert_eq!(pair[0].next(), pair[1]);
        }
        assert_eq!(Step::ALL[0], Step::Documents);
    }
}
