//! Reissue without recording again (`../shared/docs/domain.md`, "Rules"): a lost card (police
//! report), a damaged one (the card), wrong data (data change), a move (move certificate and
//! the new address). The resident must have been recorded (here, or anywhere by SIAK); the
//! request is recorded and the resident receives a temporary letter (surat keterangan) until
//! the card is printed from the data center's clean data.
//!
//! The request travels to the data center with the sync pass ([`send_requests`]), which
//! answers with a signed decision: the record back on the Dinas's print queue (the old card
//! retired; new biodata for a data change or a move), or a refusal with what to do.

use super::operators::{Action, Session};
use super::{Population, WorkflowError};
use crate::Result;
use crate::domain::case::{CaseType, Document, DocumentChecklist};
use crate::domain::eligibility::{Applicant, Eligibility, RecordingStatus, assess};
use crate::domain::nik::MaskedNik;
use crate::domain::nik::Nik;
use crate::domain::reissue::ReissueRequest as ToDataCenter;
use crate::station::Station;
use crate::store::{NewVisit, ReissueRow, VisitOutcome, VisitWorkflow};
use rekam_packet::reissue::ReissueAnswer;
use rekam_sync::{DcClient, SyncError};

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
    let request = ToDataCenter {
        request_id: v.visit_id.clone(),
        case: req.case,
        nik: nik.as_str().to_owned(),
        packet_id: station
            .store()
            .enrollment_by_nik(&nik)?
            .map(|e| e.enrollment_id),
        evidence: req.presented.to_vec(),
        // The register's biodata now: what the new card carries after a change or a move.
        biodata: req.case.changes_biodata().then(|| record.biodata.clone()),
        new_address: req.new_address.map(str::to_owned),
        requested_at: started.unix_timestamp(),
    };
    let json =
        serde_json::to_string(&request).map_err(|e| crate::Error::Internal(e.to_string()))?;
    let row = station.store_mut().append_reissue(&v, &v.visit_id, &json)?;
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

/// What [`send_requests`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Sent {
    /// Requests answered and queued for a new card.
    pub queued: usize,
    /// Requests answered with a refusal (each kept with its reason).
    pub refused: usize,
    /// Requests still waiting (the data center refused the message itself, or the link
    /// dropped): sent again at the next pass.
    pub waiting: usize,
}

/// Sends every reissue request not answered yet, oldest first, and keeps each answer once it
/// verifies against the pinned data center. A request the data center cannot read is logged and
/// sent again at the next pass without holding up the others; a dead link ends it.
pub fn send_requests(station: &mut Station, client: &DcClient) -> Result<Sent> {
    carry(station, &mut |row| {
        let request: serde_json::Value = serde_json::from_str(&row.request)
            .map_err(|e| SyncError::Protocol(format!("a stored reissue request: {e}")))?;
        client.reissue(&row.request_id, &request).map(Some)
    })
}

/// How a request reaches the data center: its answer, `None` while it waits on the way (left
/// with the kecamatan server), or why not.
pub(crate) type Carrier<'a> =
    dyn FnMut(&ReissueRow) -> std::result::Result<Option<ReissueAnswer>, SyncError> + 'a;

/// [`send_requests`] through `ask`: each answer verified against the pinned data center and
/// kept once.
pub(crate) fn carry(station: &mut Station, ask: &mut Carrier<'_>) -> Result<Sent> {
    let Some(dc) = station.data_center()? else {
        return Ok(Sent::default());
    };
    let station_id = station.identity().station_id.clone();
    let waiting = station.store().reissue_requests(true)?;
    let mut sent = Sent {
        waiting: waiting.len(),
        ..Sent::default()
    };
    for row in waiting {
        let answer: ReissueAnswer = match ask(&row) {
            Ok(Some(a)) => a,
            Ok(None) => continue,
            Err(e @ (SyncError::Refused { .. } | SyncError::Protocol(_))) => {
                tracing::warn!(request = %row.request_id, error = %e, "a reissue request refused: sent again at the next pass");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "reissue requests not sent: at the next pass");
                break;
            }
        };
        let refused = match answer.verify(&dc, &station_id, &row.request_id) {
            Ok(d) => d.refused.is_some(),
            Err(e) => {
                // Not the pinned data center's word: kept waiting, never taken as answered.
                tracing::error!(request = %row.request_id, error = %e, "a reissue answer that does not verify");
                continue;
            }
        };
        let json =
            serde_json::to_string(&answer).map_err(|e| crate::Error::Internal(e.to_string()))?;
        if station
            .store_mut()
            .reissue_answered(&row.request_id, &json)?
        {
            sent.waiting -= 1;
            if refused {
                sent.refused += 1;
            } else {
                sent.queued += 1;
            }
        }
    }
    Ok(sent)
}

/// A reissue request taken at this station, as the reissue screen lists it: where it stands
/// with the data center, in the operator's language.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReissueLine {
    /// The request (the temporary letter names it).
    pub request_id: String,
    /// The case, in words.
    pub case_label: &'static str,
    /// The resident, masked.
    pub masked_nik: String,
    /// When it was taken (date).
    pub taken_on: String,
    /// Where it stands, as a sentence.
    pub state: String,
    /// The data center's refusal code, for a technician (`None` while waiting or once queued).
    pub code: Option<String>,
}

/// The reissue requests taken at `station`, newest first, each with where it stands: waiting
/// for the sync pass, on the Dinas's print queue, or refused with what to do (in `lang`).
pub fn lines(station: &Station, lang: crate::i18n::Lang) -> Result<Vec<ReissueLine>> {
    let mut lines = Vec::new();
    for row in station.store().reissue_requests(false)?.into_iter().rev() {
        let req: ToDataCenter = serde_json::from_str(&row.request)
            .map_err(|e| crate::Error::Internal(format!("a stored reissue request: {e}")))?;
        let decision = row
            .answer
            .as_deref()
            .map(serde_json::from_str::<ReissueAnswer>)
            .transpose()
            .map_err(|e| crate::Error::Internal(format!("a stored reissue answer: {e}")))?
            .map(|a| a.decision);
        let (state, code) = match decision {
            None => (
                lang.pick(
                    "Menunggu dikirim ke pusat data (otomatis saat jaringan tersedia)",
                    "Waiting to reach the data center (sent when the network is up)",
                )
                .to_owned(),
                None,
            ),
            Some(d) => match d.refused {
                None => (
                    lang.pick(
                        "Diterima pusat data: masuk antrean cetak Dinas",
                        "Accepted by the data center: on the Dinas's print queue",
                    )
                    .to_owned(),
                    None,
                ),
                Some(code) => (refusal(&code, &d.reason, lang), Some(code)),
            },
        };
        lines.push(ReissueLine {
            request_id: row.request_id,
            case_label: req.case.label(lang),
            masked_nik: Nik::parse(&req.nik)
                .map(|n| n.masked().as_str().to_owned())
                .unwrap_or_default(),
            taken_on: time::OffsetDateTime::from_unix_timestamp(row.created_at)
                .map(|t| t.date().to_string())
                .unwrap_or_default(),
            state,
            code,
        });
    }
    Ok(lines)
}

/// A data center's refusal of a reissue request, as the operator reads it.
fn refusal(code: &str, reason: &str, lang: crate::i18n::Lang) -> String {
    let what = match code {
        "NO_CLEAN_RECORD" => lang.pick(
            "Ditolak: pusat data belum memiliki rekaman penduduk ini yang siap cetak. Jika sudah direkam, tunggu hasilnya atau selesaikan klarifikasinya; jika belum, lakukan perekaman",
            "Refused: the data center holds no print-ready recording of this resident. If recorded, wait for its result or clarify it; otherwise record the resident",
        ),
        "BIODATA_MISSING" | "BIODATA_MISMATCH" => lang.pick(
            "Ditolak: biodata baru belum ada di database kependudukan. Minta Dinas memperbarui SIAK, lalu ajukan lagi",
            "Refused: the new biodata is not in the population register. Ask the Dinas to update SIAK, then ask again",
        ),
        "NOT_THIS_REGENCY" => lang.pick(
            "Ditolak: penduduk ini berdomisili di kabupaten/kota lain. Ajukan di tempat pelayanan kabupaten/kota domisilinya (untuk pindah datang: dengan biodata pindahnya)",
            "Refused: this resident lives in another regency. Ask at a service point of the resident's regency (for a move: with the move's biodata)",
        ),
        _ => lang.pick("Ditolak oleh pusat data", "Refused by the data center"),
    };
    match lang {
        crate::i18n::Lang::Id => what.to_owned(),
        crate::i18n::Lang::En => format!("{what} ({reason})"),
    }
}
