//! Commands behind the counter: the handover, sync progress, the technician's export and the
//! receipts brought back, the daily report, and the settings page. Each forwards to the core;
//! the role checks are the core's (`Session::require`).

use crate::desk::UiError;
use crate::handover::{HandoverAction, HandoverView};
use crate::{STUCK_AFTER, on_desk};
use rekam::i18n::Lang;
use rekam::workflow::operators::Action as Permission;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tauri::Emitter;

fn core(lang: Lang) -> impl Fn(rekam::Error) -> UiError {
    move |e| UiError::from_core(&e, lang)
}

/// One step of the handover, in the SOP's order.
#[tauri::command]
pub async fn handover(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    action: HandoverAction,
) -> Result<HandoverView, UiError> {
    on_desk(app, lang, move |desk, state, lang| {
        desk.handover(&state.config, &state.clock, lang, action)
    })
    .await
}

/// The handover on screen, if any.
#[tauri::command]
pub async fn handover_current(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Option<HandoverView>, UiError> {
    on_desk(app, lang, |desk, _, _| Ok(desk.handover.current())).await
}

/// Leaves an ended handover's screen for the next resident.
#[tauri::command]
pub async fn handover_close(app: tauri::AppHandle, lang: Option<Lang>) -> Result<(), UiError> {
    on_desk(app, lang, |desk, _, _| {
        desk.handover.close();
        Ok(())
    })
    .await
}

/// Asks the background sync for a pass at once that tries every record still waiting,
/// whatever its next attempt: for a person who has fixed what the backlog named (the cable, the
/// clock). The sync screen shows that pass like any other.
#[tauri::command]
pub async fn sync_now(app: tauri::AppHandle, lang: Option<Lang>) -> Result<(), UiError> {
    on_desk(app, lang, |_, state, lang| {
        match state.sync.lock().as_deref() {
            Ok(Some(bg)) => {
                bg.send_now();
                tracing::info!("a sync pass asked for at the screen");
                Ok(())
            }
            Ok(None) => Err(UiError::sync_off(lang)),
            Err(_) => Err(UiError::internal(lang)),
        }
    })
    .await
}

/// Where the records stand on their way to the data center.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SyncView {
    /// The data center's address, when the app syncs.
    dc_url: Option<String>,
    /// Whether the background sync runs in this app.
    running: bool,
    /// Its last pass (also a pass of `rekam sync` beside the app).
    last_pass: Option<rekam::sync::LastPass>,
    /// What to do about the last pass's failure, in the operator's language.
    last_pass_next: Option<&'static str>,
    /// Records by state.
    by_state: BTreeMap<String, i64>,
    /// All records.
    total: i64,
    /// Of those, at the data center (sent, or further).
    at_dc: i64,
    /// On a technician's disk, waiting for the data center's receipt.
    exported: i64,
}

/// Sync progress: records at the data center out of all, and the last pass.
#[tauri::command]
pub async fn sync_status(app: tauri::AppHandle, lang: Option<Lang>) -> Result<SyncView, UiError> {
    on_desk(app, lang, |desk, state, lang| {
        // The passes' reports are read from the store (a `rekam sync` beside the app writes
        // them too); the channel is only emptied here.
        let running = match state.sync.lock().as_deref() {
            Ok(Some(bg)) => {
                let passes = bg.reports().len();
                tracing::debug!(passes, "background sync passes since the last look");
                true
            }
            _ => false,
        };
        let station = desk.station(&state.config, &state.clock, lang)?;
        let counts = station.store().sync_counts().map_err(core(lang))?;
        let of = |pick: fn(rekam::store::SyncState) -> bool| {
            counts
                .iter()
                .filter(|(s, _)| pick(**s))
                .map(|(_, n)| n)
                .sum::<i64>()
        };
        let last_pass = rekam::sync::last_pass(station).map_err(core(lang))?;
        Ok(SyncView {
            dc_url: state.config.dc_url.clone(),
            running,
            last_pass_next: last_pass
                .as_ref()
                .and_then(|p| p.report.error.as_ref())
                .map(|(code, _)| rekam::sync::next_step(code, lang)),
            last_pass,
            total: of(|_| true),
            at_dc: of(|s| !s.unsent()),
            exported: of(|s| s == rekam::store::SyncState::Exported),
            by_state: counts
                .iter()
                .map(|(s, n)| (s.as_str().to_owned(), *n))
                .collect(),
        })
    })
    .await
}

/// Removable disks to export to, with their free space.
#[tauri::command]
pub async fn export_targets(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Vec<rekam::disk::Target>, UiError> {
    on_desk(app, lang, |desk, _, lang| {
        desk.allowed(lang, Permission::Maintain)?;
        Ok(rekam::disk::removable_targets())
    })
    .await
}

/// Progress of an export, sent to the screen after each packet.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct ExportProgress {
    done: usize,
    total: usize,
    bytes: u64,
}

/// The technician's drain: the unsent packets to a removable disk, with progress events
/// (`export-progress`).
#[tauri::command]
pub async fn export(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    to: String,
) -> Result<rekam::export::ExportReport, UiError> {
    let events = app.clone();
    on_desk(app, lang, move |desk, state, lang| {
        desk.allowed(lang, Permission::Maintain)?;
        let to = PathBuf::from(to.trim());
        if !to.is_dir() {
            return Err(UiError {
                code: "EXPORT_TARGET_MISSING",
                message: lang
                    .pick(
                        "Folder tujuan tidak ada: pasang disk eksternal dan pilih foldernya",
                        "The destination folder does not exist: plug in the external disk and choose its folder",
                    )
                    .into(),
            });
        }
        let station = desk.station(&state.config, &state.clock, lang)?;
        rekam::export::export(station, &to, &[], |done, total, bytes| {
            if let Err(e) = events.emit("export-progress", ExportProgress { done, total, bytes }) {
                tracing::warn!(error = %e, "export progress not shown");
            }
        })
        .map_err(core(lang))
    })
    .await
}

/// The data center's receipts brought back on the disk (`receipts.json` and its `.sig`).
#[tauri::command]
pub async fn import_receipts(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    file: String,
) -> Result<rekam::export::ReceiptsReport, UiError> {
    on_desk(app, lang, move |desk, state, lang| {
        desk.allowed(lang, Permission::Maintain)?;
        let station = desk.station(&state.config, &state.clock, lang)?;
        rekam::export::import_receipts(station, std::path::Path::new(file.trim()))
            .map_err(core(lang))
    })
    .await
}

/// The daily report of `day` (YYYY-MM-DD; today by default).
#[tauri::command]
pub async fn daily_report(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    day: Option<String>,
) -> Result<rekam::report::DailyReport, UiError> {
    on_desk(app, lang, move |desk, state, lang| {
        desk.allowed(lang, Permission::Report)?;
        let station = desk.station(&state.config, &state.clock, lang)?;
        let day = day.unwrap_or_else(|| station.store().clock().today().to_string());
        rekam::report::daily(station, &day, STUCK_AFTER).map_err(core(lang))
    })
    .await
}

/// The settings page: the station, the data center, the devices and services it uses.
#[tauri::command]
pub async fn settings(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<serde_json::Value, UiError> {
    on_desk(app, lang, |desk, state, lang| {
        let c = &state.config;
        let station = desk.station(c, &state.clock, lang)?;
        let status = station.status().map_err(core(lang))?;
        let dc = station.data_center().map_err(core(lang))?;
        let dc_url = station.store().dc_url().map_err(core(lang))?;
        let space = rekam::disk::space(&c.paths.data_dir).ok();
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        Ok(serde_json::json!({
            "station": {
                "station_id": status.station_id,
                "kecamatan": format!("{} {}", status.kecamatan_code, status.region_path.join(" / ")),
                "data_dir": status.data_dir,
                "signing_key": status.signing_key,
                "space": space,
            },
            "data_center": {
                "dc_id": dc.map(|d| d.dc_id),
                "registered_url": dc_url,
                "sync_url": c.dc_url,
            },
            "devices": {
                "pad_ports": c.pad_ports,
                "sbi_ports": format!("127.0.0.1:{}-{}", c.sbi_ports.start(), c.sbi_ports.end()),
                "sbi_trust": path(&c.sbi_trust),
                "card_reader": c.card_reader,
                "card_csca": path(&c.card_trust.as_ref().map(|t| t.0.clone())),
                "document_signer": path(&c.document_signer.as_ref().map(|s| s.1.clone())),
            },
            "siak_url": c.siak_url,
            "training": c.training.is_some(),
            "lang": state.default_lang,
        }))
    })
    .await
}
