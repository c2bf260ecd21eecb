//! Commands of a card's issuance: the handover at the counter, reissue requests with their
//! temporary letter, and personalisation at the Dinas. Each forwards to the core's desk
//! (`rekam::desk`), which holds the handover and the print order between commands.

use crate::on_desk;
use crate::problem::UiError;
use rekam::desk::{
    HandoverAction, HandoverView, PersonalisedView, PrintOrderView, ReissueCase, ReissueForm,
    ReissuedView,
};
use rekam::i18n::Lang;

/// One step of the handover, in the SOP's order (the core refuses any other).
#[tauri::command]
pub async fn handover(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    action: HandoverAction,
) -> Result<HandoverView, UiError> {
    on_desk(app, lang, move |desk, _, lang| desk.handover(action, lang)).await
}

/// The handover on screen, if any.
#[tauri::command]
pub async fn handover_current(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Option<HandoverView>, UiError> {
    on_desk(app, lang, |desk, _, _| Ok(desk.handover_current())).await
}

/// Leaves an ended handover's screen.
#[tauri::command]
pub async fn handover_close(app: tauri::AppHandle, lang: Option<Lang>) -> Result<(), UiError> {
    on_desk(app, lang, |desk, _, _| {
        desk.handover_close();
        Ok(())
    })
    .await
}

/// The reissue cases and what each asks for.
#[tauri::command]
pub fn reissue_checklist(lang: Option<Lang>) -> Vec<ReissueCase> {
    rekam::desk::reissue_cases(lang.unwrap_or_default())
}

/// Takes a reissue request; a refusal (never recorded, missing evidence) is recorded by the
/// core and comes back as its error.
#[tauri::command]
pub async fn reissue(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    form: ReissueForm,
) -> Result<ReissuedView, UiError> {
    on_desk(app, lang, move |desk, _, lang| desk.reissue(&form, lang)).await
}

/// The reissue requests taken at this station, newest first, with where each stands.
#[tauri::command]
pub async fn reissue_requests(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Vec<rekam::desk::ReissueLine>, UiError> {
    on_desk(app, lang, |desk, _, lang| desk.reissue_requests(lang)).await
}

/// The Dinas's print queue: its regency's records to personalise, oldest first.
#[tauri::command]
pub async fn print_queue(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Vec<rekam::desk::PrintQueueLine>, UiError> {
    on_desk(app, lang, |desk, _, _| desk.print_queue()).await
}

/// Records a card that came back to the Dinas: its record goes back on the print queue.
#[tauri::command]
pub async fn card_returned(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    card_serial: String,
    reason: String,
) -> Result<String, UiError> {
    on_desk(app, lang, move |desk, _, _| {
        desk.card_returned(&card_serial, &reason)
    })
    .await
}

/// Fetches a PRINT_READY_RECORD's print order for the administrator to check (the packet id
/// is on the resident's summons letter, as text and QR code).
#[tauri::command]
pub async fn print_order(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    packet_id: String,
) -> Result<PrintOrderView, UiError> {
    on_desk(app, lang, move |desk, _, _| desk.print_order(&packet_id)).await
}

/// Writes the checked print order to the blank card on the reader and renders its face.
#[tauri::command]
pub async fn personalise(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<PersonalisedView, UiError> {
    on_desk(app, lang, |desk, _, _| desk.personalise()).await
}
