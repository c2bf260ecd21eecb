//! Handover (pengambilan) of a finished card (`../shared/docs/domain.md`, "Regular issuance"
//! steps 5-6): the card on the reader, the chip authenticated (terminal, passive and active
//! authentication), its data shown for the resident to check against the printed card, both
//! index fingers matched 1:1 against the chip's templates, the outcome ("berhasil" or "gagal")
//! recorded, the receipt signed on the pad, the old KTP withdrawn. A card whose fingers do not
//! match is not handed over and is recorded as returned to the Ministry for destruction.
//! Dispensation (mass handover without fingerprints, circular 471.13/5246/SJ) needs a
//! supervisor's approval and the old KTP.

use super::operators::{Action, Approval, Session};
use super::{ATTEMPTS, StepTimer, WorkflowError, capture_finger};
use crate::domain::biodata::Biodata;
use crate::i18n::Lang;
use crate::station::Station;
use crate::store::{NewVisit, VisitOutcome, VisitWorkflow};
use crate::{Error, Result};
use rekam_bio::verify::{from_card, index_fingers};
use rekam_drivers::DriverError;
use rekam_drivers::card::{CardData, CardReader, CardTrust};
use rekam_drivers::sbi::{BiometricDevice, Finger};
use rekam_drivers::signature_pad::SignaturePad;

/// The steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Read and authenticate the card.
    Card,
    /// The resident checks the chip's data against the printed card.
    ChipData,
    /// 1:1 index fingers (or dispensation).
    Verification,
    /// Receipt signed, old KTP withdrawn.
    Receipt,
    /// Ended.
    Ended,
}

impl Step {
    /// Its name, as visit rows and screens give it.
    pub fn name(self) -> &'static str {
        match self {
            Step::Card => "card",
            Step::ChipData => "chip_data",
            Step::Verification => "handover_verification",
            Step::Receipt => "receipt",
            Step::Ended => "ended",
        }
    }

    /// Every step, in order.
    pub const ALL: [Step; 5] = [
        Step::Card,
        Step::ChipData,
        Step::Verification,
        Step::Receipt,
        Step::Ended,
    ];

    /// Its name for an operator.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Step::Card => lang.pick("Baca kartu", "Read the card"),
            Step::ChipData => lang.pick("Cek data chip", "Check the chip's data"),
            Step::Verification => lang.pick("Verifikasi sidik jari", "Fingerprint check"),
            Step::Receipt => lang.pick("Tanda terima", "Receipt"),
            Step::Ended => lang.pick("Selesai", "Done"),
        }
    }
}

/// A handed-over card.
#[derive(Debug, Clone)]
pub struct HandedOver {
    /// The chip serial.
    pub card_serial: String,
    /// `berhasil` or `dispensasi`.
    pub verification: String,
    /// The receipt (tanda terima), PDF.
    pub receipt: Vec<u8>,
}

/// One handover at the counter.
#[derive(Debug)]
pub struct HandoverWorkflow {
    visit_id: String,
    queue_number: Option<String>,
    session: Session,
    step: Step,
    timer: StepTimer,
    card: Option<CardData>,
    biodata: Option<Biodata>,
    verification: Option<String>,
    detail: serde_json::Map<String, serde_json::Value>,
}

impl HandoverWorkflow {
    /// Starts a handover for the resident holding summons letter `queue_number`.
    pub fn start(station: &Station, session: &Session, queue_number: Option<&str>) -> Result<Self> {
        session.require(Action::Serve)?;
        let mut timer = StepTimer::start(station.store().clock().clone());
        timer.begin("queue");
        Ok(HandoverWorkflow {
            visit_id: uuid::Uuid::new_v4().to_string(),
            queue_number: queue_number.map(str::to_owned),
            session: session.clone(),
            step: Step::Card,
            timer,
            card: None,
            biodata: None,
            verification: None,
            detail: serde_json::Map::new(),
        })
    }

    /// The current step.
    pub fn step(&self) -> Step {
        self.step
    }

    fn enter(&mut self, step: Step) -> Result<()> {
        let at = super::At {
            workflow: "handover",
            step: self.step.name(),
            ended: self.step == Step::Ended,
        };
        super::enter_step(at, step.name(), &mut self.session, &mut self.timer)
    }

    fn end(
        &mut self,
        station: &mut Station,
        outcome: VisitOutcome,
        code: Option<&str>,
    ) -> Result<()> {
        self.step = Step::Ended;
        station.store_mut().append_visit(&NewVisit {
            visit_id: self.visit_id.clone(),
            workflow: VisitWorkflow::Handover,
            queue_number: self.queue_number.clone(),
            operator_id: self.session.operator_id.clone(),
            case: None,
            masked_nik: self.biodata.as_ref().map(|b| b.nik.masked()),
            outcome,
            code: code.map(str::to_owned),
            started_at: self.timer.started_at(),
            steps: self.timer.finish(),
            detail: serde_json::Value::Object(self.detail.clone()),
        })?;
        Ok(())
    }

    /// Abandons the handover (the operator logs out, the next resident is called): the card
    /// stays at the counter and the visit row says so. An ended handover has its row already.
    pub fn cancel(mut self, station: &mut Station, reason: &str) -> Result<()> {
        if self.step == Step::Ended {
            return Ok(());
        }
        self.detail.insert(
            "cancelled".into(),
            serde_json::json!({ "reason": reason, "at_step": self.step.name() }),
        );
        self.end(station, VisitOutcome::Cancelled, Some("CANCELLED"))
    }

    /// Reads the card on the reader and authenticates it. A forged card (altered data, an
    /// untrusted issuer, a copied chip) ends the visit: the card is held and reported.
    pub fn read_card(
        &mut self,
        station: &mut Station,
        reader: &dyn CardReader,
        trust: &CardTrust,
    ) -> Result<&Biodata> {
        self.enter(Step::Card)?;
        let card = match reader.read(trust) {
            Ok(c) => c,
            Err(DriverError::Card(p))
                if matches!(
                    p.code(),
                    "CARD_FORGED" | "CARD_UNKNOWN_ISSUER" | "CARD_CLONED" | "CARD_AUTH_FAILED"
                ) =>
            {
                self.detail.insert(
                    "card".into(),
                    serde_json::json!("held and reported to the Dinas"),
                );
                self.end(station, VisitOutcome::Refused, Some(p.code()))?;
                return Err(WorkflowError::Device(DriverError::Card(p)).into());
            }
            Err(e) => return Err(e.into()),
        };
        let biodata: Biodata = serde_json::from_slice(&card.biodata).map_err(|e| {
            WorkflowError::Device(DriverError::Protocol {
                kind: rekam_drivers::DeviceKind::CardReader,
                detail: format!("the chip's biodata does not read: {e}"),
            })
        })?;
        self.detail
            .insert("card_serial".into(), serde_json::json!(card.serial));
        self.card = Some(card);
        self.biodata = Some(biodata);
        self.step = Step::ChipData;
        self.biodata
            .as_ref()
            .ok_or_else(|| WorkflowError::Ended("no card".into()).into())
    }

    /// The resident checked the chip's data beside the printed card.
    pub fn confirm_chip_data(&mut self, station: &mut Station, confirmed: bool) -> Result<()> {
        self.enter(Step::ChipData)?;
        if !confirmed {
            self.end(station, VisitOutcome::Refused, Some("CHIP_DATA_REJECTED"))?;
            return Err(WorkflowError::ChipDataRejected.into());
        }
        self.step = Step::Verification;
        Ok(())
    }

    /// Right and left index against the chip's templates, up to three attempts. No match
    /// ends the visit as "gagal": the card is not handed over and goes back to the Ministry.
    pub fn verify(
        &mut self,
        station: &mut Station,
        scanner: &dyn BiometricDevice,
    ) -> Result<(u8, u8)> {
        self.enter(Step::Verification)?;
        let card = self
            .card
            .as_ref()
            .ok_or_else(|| Error::from(WorkflowError::Ended("no card".into())))?;
        let template = |bytes: &[u8], position: u8| {
            rekam_records::minutiae::decode(bytes)
                .map(|m| from_card(position, &m))
                .map_err(|e| {
                    WorkflowError::Device(DriverError::Protocol {
                        kind: rekam_drivers::DeviceKind::CardReader,
                        detail: format!("the chip's finger template does not read: {e}"),
                    })
                })
        };
        let right_ref = template(&card.right_index, Finger::RightIndex.code())?;
        let left_ref = template(&card.left_index, Finger::LeftIndex.code())?;
        let mut best = (0u8, 0u8);
        for _ in 0..ATTEMPTS {
            let (right, _) = capture_finger(scanner, Finger::RightIndex, "HANDOVER")?;
            let (left, _) = capture_finger(scanner, Finger::LeftIndex, "HANDOVER")?;
            let v = index_fingers((&right, &left), (&right_ref, &left_ref));
            best = (best.0.max(v.right), best.1.max(v.left));
            if v.passed {
                self.verification = Some("berhasil".into());
                self.detail.insert(
                    "scores".into(),
                    serde_json::json!({ "right": v.right, "left": v.left }),
                );
                self.step = Step::Receipt;
                return Ok((v.right, v.left));
            }
        }
        self.detail.insert(
            "scores".into(),
            serde_json::json!({ "right": best.0, "left": best.1 }),
        );
        self.detail.insert(
            "card".into(),
            serde_json::json!("returned to the Ministry for destruction"),
        );
        self.end(
            station,
            VisitOutcome::Failed,
            Some("HANDOVER_FINGER_MISMATCH"),
        )?;
        Err(WorkflowError::HandoverMismatch {
            right: best.0,
            left: best.1,
        }
        .into())
    }

    /// Dispensation instead of the fingerprints: only with a supervisor's approval and the old
    /// KTP surrendered.
    pub fn dispensation(
        &mut self,
        approval: Option<&Approval>,
        old_ktp_surrendered: bool,
    ) -> Result<()> {
        self.enter(Step::Verification)?;
        let Some(approval) = approval else {
            return Err(WorkflowError::DispensationRefused("no supervisor's approval").into());
        };
        if !old_ktp_surrendered {
            return Err(WorkflowError::DispensationRefused("old KTP not surrendered").into());
        }
        self.verification = Some("dispensasi".into());
        self.detail.insert(
            "dispensation_approved_by".into(),
            serde_json::json!(approval.supervisor_id()),
        );
        self.detail
            .insert("old_ktp".into(), serde_json::json!("withdrawn"));
        self.step = Step::Receipt;
        Ok(())
    }

    /// The resident signs the receipt on the pad; the old KTP is recorded as withdrawn (or as
    /// never held); the card is handed over.
    pub fn receipt(
        &mut self,
        station: &mut Station,
        pad: &mut dyn SignaturePad,
        old_ktp_withdrawn: bool,
    ) -> Result<HandedOver> {
        self.enter(Step::Receipt)?;
        let signature = pad.capture(super::recording::SIGN_TIMEOUT, &mut |_| {})?;
        let (Some(card), Some(biodata), Some(verification)) = (
            self.card.clone(),
            self.biodata.clone(),
            self.verification.clone(),
        ) else {
            return Err(WorkflowError::Ended("incomplete handover".into()).into());
        };
        let withdrawn = old_ktp_withdrawn || verification == "dispensasi";
        self.detail.insert(
            "old_ktp".into(),
            serde_json::json!(if withdrawn { "withdrawn" } else { "none held" }),
        );
        let at = crate::clock::rfc3339(station.store().clock().now());
        let receipt = crate::documents::receipt(&crate::documents::Receipt {
            station: station.identity(),
            biodata: &biodata,
            card_serial: &card.serial,
            verification: &verification,
            old_ktp_withdrawn: withdrawn,
            operator: &self.session.name,
            at: &at,
            signature_png: &crate::documents::signature_png(&signature),
        });
        self.end(station, VisitOutcome::HandedOver, None)?;
        Ok(HandedOver {
            card_serial: card.serial,
            verification,
            receipt,
        })
    }
}
