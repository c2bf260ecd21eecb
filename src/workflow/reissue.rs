//! Reissue without recording again (`../shared/docs/domain.md`, "Rules"): a lost card (police
//! report), a damaged one (the card), wrong data (data change), a move (move certificate and
//! the new address). The resident must have been recorded (here, or anywhere by SIAK); the
//! request is recorded and the resident receives a temporary letter (surat keterangan) until
//! the card is printed from the data center's clean data.

use super::operators::{Action, Session};
use super::{Population, WorkflowError};
use crate::Result;
use crate::domain::case::{CaseType, Document, DocumentChecklist};
use crate::domain::eligibility::{Applicant, Eligibility, RecordingStatus, assess};
use crate::domain::nik::MaskedNik;
use crate::domain::nik::Nik;
use crate::station::Station;
use crate::store::{NewVisit, VisitOutcome, VisitWorkflow};

/// A reissue request to take.
#[derive(Debug, Clone)]
pub struct ReissueRequest<'a> {
    /// Lost, damaged, data change or moving in.
    pub case: CaseType,
    /// The resident's NIK.
    pub nik: &'a str,
    /// Documents presented.
    pub presented: &'a [Document],
    /// Conditional documents that apply.
    pub applicable: &'a [Document],
    /// The new address, for a move.
    pub new_address: Option<&'a str>,
}

/// A request taken.
#[derive(Debug, Clone)]
pub struct Reissued {
    /// Its id.
    pub request_id: String,
    /// The masked NIK.
    pub masked_nik: MaskedNik,
    /// The temporary letter, PDF.
    pub temporary_letter: Vec<u8>,
}

fn evidence(case: CaseType) -> &'static str {
    match case {
        CaseType::LostCard => "a police loss report",
        CaseType::ReplaceDamaged => "the damaged card",
        CaseType::MovingIn => "a move certificate and the new address",
        _ => "the documents of the data change",
    }
}

/// Takes a reissue request. Refused (and recorded) for someone never recorded, for a missing
/// document, and for a recording case.
pub fn request(
    station: &mut Station,
    session: &Session,
    population: &dyn Population,
    req: &ReissueRequest<'_>,
) -> Result<Reissued> {
    session.require(Action::Serve)?;
    if req.case.is_recording() {
        return Err(WorkflowError::WrongCase(req.case).into());
    }
    let started = station.store().clock().now();
    let nik = Nik::parse(req.nik)?;
    let record = population.lookup(&nik)?.map(|found| found.record);
    let visit = |outcome: VisitOutcome, code: Option<&str>, detail| NewVisit {
        visit_id: uuid::Uuid::new_v4().to_string(),
        workflow: VisitWorkflow::Reissue,
        queue_number: None,
        operator_id: session.operator_id.clone(),
        case: Some(req.case),
        masked_nik: Some(nik.masked()),
        outcome,
        code: code.map(str::to_owned),
        started_at: started,
        steps: Vec::new(),
        detail,
    };
    let today = station.store().clock().today();
    let status = match (station.store().enrollment_by_nik(&nik)?, &record) {
        (Some(e), _) => RecordingStatus::Recorded {
            reference: e.enrollment_id,
        },
        (None, Some(r)) => r.recording.clone(),
        (None, None) => RecordingStatus::NotRecorded,
    };
    let applicant = match &record {
        Some(r) => Applicant::Known {
            biodata: &r.biodata,
            recording: &status,
        },
        None => Applicant::NoNik,
    };
    if let Eligibility::Refused(r) = assess(req.case, applicant, today) {
        station.store_mut().append_visit(&visit(
            VisitOutcome::Refused,
            Some(r.code),
            serde_json::json!({ "route": r.route }),
        ))?;
        return Err(WorkflowError::Refused(r).into());
    }
    let checklist = DocumentChecklist {
        case: req.case,
        presented: req.presented.iter().copied().collect(),
        applicable: req.applicable.iter().copied().collect(),
    };
    if !checklist.missing().is_empty()
        || (req.case == CaseType::MovingIn && req.new_address.is_none())
    {
        return Err(WorkflowError::ReissueEvidence(evidence(req.case)).into());
    }
    let Some(record) = record else {
        return Err(WorkflowError::Ended("no biodata".into()).into());
    };
    let v = visit(
        VisitOutcome::Requested,
        None,
        serde_json::json!({ "evidence": req.presented, "moved": req.new_address.is_some() }),
    );
    let row = station.store_mut().append_visit(&v)?;
    let temporary_letter = crate::documents::temporary_letter(&crate::documents::TemporaryLetter {
        station: station.identity(),
        biodata: &record.biodata,
        reason: req.case.label(crate::i18n::Lang::Id),
        request_id: &v.visit_id,
        operator: &session.name,
        at: &row.finished_at,
    });
    Ok(Reissued {
        request_id: v.visit_id,
        masked_nik: nik.masked(),
        temporary_letter,
    })
}
