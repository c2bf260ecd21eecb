//! Reissue requests at the counter (a lost or damaged card, a data change, a move): the case's
//! documents, the NIK, and the temporary letter (surat keterangan) the resident leaves with.
//! Eligibility, evidence and the visit row are the core's (`rekam::workflow::reissue`).

use crate::desk::{ChecklistLine, UiError, checklist, siak};
use crate::on_desk;
use rekam::domain::case::{CaseType, Document};
use rekam::domain::nik::MaskedNik;
use rekam::i18n::Lang;
use rekam::workflow::reissue::{ReissueRequest, request};
use serde::{Deserialize, Serialize};

/// The cases the reissue screen offers, in its order.
const CASES: [CaseType; 4] = [
    CaseType::LostCard,
    CaseType::ReplaceDamaged,
    CaseType::DataChange,
    CaseType::MovingIn,
];

/// One case the screen offers, with its checklist.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ReissueCase {
    case: CaseType,
    label: &'static str,
    checklist: Vec<ChecklistLine>,
    /// Whether the new address is asked for (a move).
    needs_address: bool,
}

/// The reissue cases and what each asks for.
#[tauri::command]
pub fn reissue_checklist(lang: Option<Lang>) -> Vec<ReissueCase> {
    let lang = lang.unwrap_or_default();
    CASES
        .iter()
        .map(|&case| ReissueCase {
            case,
            label: case.label(lang),
            checklist: checklist(case, lang),
            needs_address: case == CaseType::MovingIn,
        })
        .collect()
}

/// What the operator filled in.
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ReissueForm {
    case: CaseType,
    nik: String,
    #[serde(default)]
    presented: Vec<Document>,
    #[serde(default)]
    applicable: Vec<Document>,
    #[serde(default)]
    new_address: Option<String>,
}

/// The request taken, as the temporary letter's screen shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ReissuedView {
    request_id: String,
    masked_nik: MaskedNik,
    case_label: &'static str,
    letter_bytes: usize,
}

/// Takes a reissue request; a refusal (never recorded, missing evidence) is recorded by the
/// core and comes back as its error.
#[tauri::command]
pub async fn reissue(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    form: ReissueForm,
) -> Result<ReissuedView, UiError> {
    on_desk(app, lang, move |desk, state, lang| {
        let core = |e: rekam::Error| UiError::from_core(&e, lang);
        let population = siak(&state.config).map_err(core)?;
        let (station, session) = desk.station_and_session(&state.config, &state.clock, lang)?;
        let nik: String = form.nik.chars().filter(char::is_ascii_digit).collect();
        let new_address = form
            .new_address
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        let done = request(
            station,
            session,
            &population,
            &ReissueRequest {
                case: form.case,
                nik: &nik,
                presented: &form.presented,
                applicable: &form.applicable,
                new_address,
            },
        )
        .map_err(core)?;
        Ok(ReissuedView {
            request_id: done.request_id,
            masked_nik: done.masked_nik,
            case_label: form.case.label(lang),
            letter_bytes: done.temporary_letter.len(),
        })
    })
    .await
}
