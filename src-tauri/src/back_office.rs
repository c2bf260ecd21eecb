//! Commands behind the counter: sync progress, the technician's export and the receipts
//! brought back, the daily report, and the settings page. Each forwards to the core's desk
//! (`rekam::desk`), which checks the operator's role.

use crate::problem::{self, UiError};
use crate::{off_main, on_desk};
use rekam::desk::{SettingsView, SyncView};
use rekam::i18n::Lang;
use serde::Serialize;
use std::path::Path;
use tauri::Emitter;

/// Asks the background sync for a pass now (the "send now" button).
#[tauri::command]
pub async fn sync_now(app: tauri::AppHandle, lang: Option<Lang>) -> Result<(), UiError> {
    off_main(app, lang, |state, lang| {
        match state.sync.lock().as_deref() {
            Ok(Some(bg)) => {
                bg.send_now();
                tracing::info!("a sync pass asked for at the screen");
                Ok(())
            }
            Ok(None) => Err(problem::sync_off(lang)),
            Err(_) => Err(problem::internal(lang)),
        }
    })
    .await
}

/// Where the sync stands: the last pass (this app's or a `rekam sync` beside it) and the
/// records per state.
#[tauri::command]
pub async fn sync_status(app: tauri::AppHandle, lang: Option<Lang>) -> Result<SyncView, UiError> {
    on_desk(app, lang, |desk, state, lang| {
        // The passes' reports are read from the store; the channel is only emptied here.
        let running = match state.sync.lock().as_deref() {
            Ok(Some(bg)) => {
                let passes = bg.reports().len();
                tracing::debug!(passes, "background sync passes since the last look");
                true
            }
            _ => false,
        };
        desk.sync_view(running, lang)
    })
    .await
}

/// The removable disks an export can go to.
#[tauri::command]
pub async fn export_targets(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Vec<rekam::disk::Target>, UiError> {
    on_desk(app, lang, |desk, _, _| desk.export_targets()).await
}

/// An export's progress, as `export-progress` events.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct ExportProgress {
    done: usize,
    total: usize,
    bytes: u64,
}

/// Exports every waiting packet to a folder on an external disk, with progress.
#[tauri::command]
pub async fn export(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    to: String,
) -> Result<rekam::export::ExportReport, UiError> {
    let events = app.clone();
    on_desk(app, lang, move |desk, _, _| {
        desk.export(Path::new(to.trim()), |done, total, bytes| {
            if let Err(e) = events.emit("export-progress", ExportProgress { done, total, bytes }) {
                tracing::warn!(error = %e, "export progress not shown");
            }
        })
    })
    .await
}

/// Records how a duplicate was clarified with the resident (a supervisor's).
#[tauri::command]
pub async fn clarify(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    packet_id: String,
    outcome: rekam::desk::Clarified,
    note: String,
) -> Result<(), UiError> {
    on_desk(app, lang, move |desk, _, _| {
        desk.clarify(&packet_id, outcome, &note)
    })
    .await
}

/// Imports the data center's receipts from a technician's disk.
#[tauri::command]
pub async fn import_receipts(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    file: String,
) -> Result<rekam::export::ReceiptsReport, UiError> {
    on_desk(app, lang, move |desk, _, _| {
        desk.import_receipts(Path::new(file.trim()))
    })
    .await
}

/// The Dinas's population extracts found on the mounted removable disks.
#[tauri::command]
pub async fn population_files(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Vec<std::path::PathBuf>, UiError> {
    on_desk(app, lang, |desk, _, _| desk.population_files()).await
}

/// A population import's progress, as `population-progress` events.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct ImportProgress {
    done: u64,
    total: u64,
}

/// Imports the Dinas's population extract (or its next delta) from a removable disk, with
/// progress.
#[tauri::command]
pub async fn population_import(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    file: String,
) -> Result<rekam::population::ImportReport, UiError> {
    let events = app.clone();
    on_desk(app, lang, move |desk, _, _| {
        desk.import_population(Path::new(file.trim()), |done, total| {
            if let Err(e) = events.emit("population-progress", ImportProgress { done, total }) {
                tracing::warn!(error = %e, "import progress not shown");
            }
        })
    })
    .await
}

/// The daily report (today when no day is given).
#[tauri::command]
pub async fn daily_report(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    day: Option<String>,
) -> Result<rekam::report::DailyReport, UiError> {
    on_desk(app, lang, move |desk, _, _| {
        desk.daily_report(day.as_deref())
    })
    .await
}

/// The settings page (read-only): the station, its data center, where devices are looked for.
#[tauri::command]
pub async fn settings(app: tauri::AppHandle, lang: Option<Lang>) -> Result<SettingsView, UiError> {
    on_desk(app, lang, |desk, state, _| {
        desk.settings(state.default_lang)
    })
    .await
}
