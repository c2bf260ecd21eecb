//! Rekam desktop shell. Architecture invariant: this crate is the only one that knows Tauri,
//! and it holds no logic of its own: each command forwards to the `rekam` core and turns its
//! errors into localized messages for the screen.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use rekam::clock::{Clock, SystemClock};
use rekam::i18n::{Lang, Localized};
use rekam::station::{Station, StationPaths, StationStatus};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What the shell keeps between commands.
struct AppState {
    paths: StationPaths,
    clock: Arc<dyn Clock>,
    station: Mutex<Option<Station>>,
    /// Where to write the rendered screen and then quit (the start-up smoke test).
    smoke_file: Option<PathBuf>,
    /// The station's default language.
    default_lang: Lang,
    /// Serial ports where a signature pad may be (`REKAM_PAD`, else the usual device names).
    pad_ports: Vec<String>,
}

/// An error as the screen shows it.
#[derive(Debug, Serialize)]
struct UiError {
    code: &'static str,
    message: String,
}

impl UiError {
    fn from_core(e: &rekam::Error, lang: Lang) -> Self {
        UiError {
            code: e.code(),
            message: e.localized(lang),
        }
    }
}

/// The home screen's data: the station's status, opening the station on first use.
#[tauri::command]
fn station_status(
    state: tauri::State<'_, AppState>,
    lang: Option<Lang>,
) -> Result<StationStatus, UiError> {
    let lang = lang.unwrap_or_default();
    let mut guard = state.station.lock().map_err(|_| UiError {
        code: "INTERNAL",
        message: lang
            .pick(
                "Aplikasi perlu dimulai ulang",
                "The application needs a restart",
            )
            .into(),
    })?;
    if guard.is_none() {
        let station = Station::open(state.paths.clone(), state.clock.clone())
            .map_err(|e| UiError::from_core(&e, lang))?;
        *guard = Some(station);
    }
    match guard.as_ref().map(Station::status) {
        Some(Ok(status)) => Ok(status),
        Some(Err(e)) => Err(UiError::from_core(&e, lang)),
        None => Err(UiError {
            code: "INTERNAL",
            message: "station not open".into(),
        }),
    }
}

/// One device as the device bar shows it.
#[derive(Debug, Serialize)]
struct DeviceView {
    kind: rekam_drivers::DeviceKind,
    label: &'static str,
    /// `ready`, `problem`, or `no_driver`.
    state: &'static str,
    /// Identity when ready, what to do otherwise.
    detail: String,
}

/// The device bar: each configured signature pad, and the kinds without a driver yet. Runs off
/// the main thread: a silent port takes two seconds to give up, and the window must not freeze.
#[tauri::command(async)]
fn device_status(state: tauri::State<'_, AppState>, lang: Option<Lang>) -> Vec<DeviceView> {
    use rekam_drivers::DeviceKind;
    let lang = lang.unwrap_or_default();
    let mut out: Vec<DeviceView> = rekam_drivers::signature_pad::discover(&state.pad_ports)
        .into_iter()
        .map(|(port, found)| match found {
            Ok(info) => DeviceView {
                kind: DeviceKind::SignaturePad,
                label: DeviceKind::SignaturePad.label(lang),
                state: "ready",
                detail: format!("{} {} ({port})", info.model, info.serial),
            },
            Err(e) => DeviceView {
                kind: DeviceKind::SignaturePad,
                label: DeviceKind::SignaturePad.label(lang),
                state: "problem",
                detail: e.localized(lang),
            },
        })
        .collect();
    if state.pad_ports.is_empty() {
        out.push(DeviceView {
            kind: DeviceKind::SignaturePad,
            label: DeviceKind::SignaturePad.label(lang),
            state: "problem",
            detail: lang.pick("tidak ditemukan", "not found").to_owned(),
        });
    }
    for kind in [
        DeviceKind::Fingerprint,
        DeviceKind::Iris,
        DeviceKind::Face,
        DeviceKind::CardReader,
    ] {
        out.push(DeviceView {
            kind,
            label: kind.label(lang),
            state: "no_driver",
            detail: lang
                .pick(
                    "driver belum tersedia di versi ini",
                    "no driver in this version yet",
                )
                .to_owned(),
        });
    }
    out
}

/// Start-up settings for the screen: the station's default language (`REKAM_LANG`, else
/// Bahasa Indonesia). An operator's own choice on the screen overrides it.
#[tauri::command]
fn ui_config(state: tauri::State<'_, AppState>) -> serde_json::Value {
    serde_json::json!({ "lang": state.default_lang })
}

/// Called by the screen once it has rendered. In smoke-test mode, writes what the screen shows
/// and quits; otherwise it only logs.
#[tauri::command]
fn ui_rendered(app: tauri::AppHandle, state: tauri::State<'_, AppState>, text: String) {
    tracing::info!(chars = text.len(), "screen rendered");
    if let Some(path) = &state.smoke_file {
        if let Err(e) = std::fs::write(path, text) {
            tracing::error!(path = %path.display(), error = %e, "cannot write smoke file");
        }
        app.exit(0);
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REKAM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let data_dir = match std::env::var_os("REKAM_DATA_DIR") {
        Some(d) => PathBuf::from(d),
        None => StationPaths::default_data_dir()
            .ok_or_else(|| anyhow::anyhow!("no data directory: set REKAM_DATA_DIR"))?,
    };
    let key_file = std::env::var_os("REKAM_KEY_FILE").map(PathBuf::from);
    let state = AppState {
        paths: StationPaths::new(data_dir, key_file),
        clock: Arc::new(SystemClock),
        station: Mutex::new(None),
        smoke_file: std::env::var_os("REKAM_SMOKE_FILE").map(PathBuf::from),
        pad_ports: match std::env::var("REKAM_PAD") {
            Ok(list) => list
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            Err(_) => rekam_drivers::signature_pad::default_ports(),
        },
        default_lang: match std::env::var("REKAM_LANG") {
            Ok(tag) => tag.parse().map_err(|e: String| anyhow::anyhow!(e))?,
            Err(_) => Lang::default(),
        },
    };
    tracing::info!(data_dir = %state.paths.data_dir.display(), "starting Rekam desktop");

    tauri::Builder::default()
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            station_status,
            device_status,
            ui_config,
            ui_rendered
        ])
        .run(tauri::generate_context!())
        .map_err(|e| anyhow::anyhow!("the desktop shell stopped: {e}"))
}
