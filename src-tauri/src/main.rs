//! Rekam desktop shell. Architecture invariant: this crate is the only one that knows Tauri,
//! and it holds no logic of its own: each command forwards to the `rekam` core and turns its
//! errors into localized messages for the screen.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use rekam::clock::{Clock, SystemClock};
use rekam::desk::{Config, Desk, DeviceView, HomeView, SessionView, WizardView};
use rekam::i18n::Lang;
use rekam::station::{Station, StationPaths};
use rekam::workflow::counter::Action;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

mod back_office;
#[cfg(test)]
mod bindings;
mod issuance;
mod preview;
mod problem;
mod screen_lock;
mod training;

use problem::UiError;

/// What the shell keeps between commands.
struct AppState {
    /// Where everything is (the desk has its own copy).
    config: Config,
    clock: Arc<dyn Clock>,
    /// The counter: station, devices, operator, the recording or handover in progress.
    desk: Mutex<Desk>,
    /// Where to write the rendered screen and then quit (the start-up smoke test).
    smoke_file: Option<PathBuf>,
    /// The station's default language.
    default_lang: Lang,
    /// The background sync to the data center, when the app was given its address.
    sync: Mutex<Option<rekam::sync::Background>>,
    /// Seconds between the background sync's idle passes.
    sync_idle: std::time::Duration,
    /// Whether the background sync opened the store through the machine's TPM slot (a fixed
    /// counter): it then runs whoever is logged in, or nobody.
    sync_unattended: std::sync::atomic::AtomicBool,
    /// The live preview on screen, if any.
    previews: preview::Previews,
}

/// Runs a command's work on a blocking thread: device captures and HTTP clients block, and
/// neither the window's thread nor the async runtime may wait on them.
async fn off_main<T: Send + 'static>(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    f: impl FnOnce(&AppState, Lang) -> Result<T, UiError> + Send + 'static,
) -> Result<T, UiError> {
    use tauri::Manager;
    let lang = lang.unwrap_or_default();
    tauri::async_runtime::spawn_blocking(move || f(&app.state::<AppState>(), lang))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a command failed");
            problem::internal(lang)
        })?
}

/// [`off_main`] with the counter locked, the core's error shown in the operator's language;
/// a poisoned lock (a panic in an earlier command) asks for a restart instead of going on
/// with half-updated state.
pub(crate) async fn on_desk<T: Send + 'static>(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    f: impl FnOnce(&mut Desk, &AppState, Lang) -> rekam::Result<T> + Send + 'static,
) -> Result<T, UiError> {
    off_main(app, lang, move |state, lang| {
        let mut desk = state.desk.lock().map_err(|_| problem::internal(lang))?;
        f(&mut desk, state, lang).map_err(problem::core(lang))
    })
    .await
}

/// The home screen's data: the station's status and its backlog, opening the station on
/// first use.
#[tauri::command]
async fn station_status(app: tauri::AppHandle, lang: Option<Lang>) -> Result<HomeView, UiError> {
    on_desk(app, lang, |desk, _, lang| desk.home(lang)).await
}

/// The backlog ("Data mengendap"): every record not yet final, with its reason, age and next
/// step.
#[tauri::command]
async fn backlog(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Vec<rekam::sync::BacklogLine>, UiError> {
    on_desk(app, lang, |desk, _, lang| desk.backlog(lang)).await
}

/// Login with password and the right index finger on the scanner.
#[tauri::command]
async fn login(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    operator_id: String,
    password: String,
) -> Result<SessionView, UiError> {
    let password = zeroize::Zeroizing::new(password);
    on_desk(app, lang, move |desk, state, _| {
        let view = desk.login(&operator_id, &password)?;
        start_sealed_sync(desk, state)?;
        Ok(view)
    })
    .await
}

/// With key slots nothing stays open while nobody is at the counter: the background sync stops
/// (it resumes at the next login or unlock, and says so in the log).
fn stop_sealed_sync(state: &AppState) {
    if !Station::is_sealed(&state.config.paths.data_dir)
        || state
            .sync_unattended
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        return;
    }
    let stopped = state.sync.lock().ok().and_then(|mut s| s.take());
    if stopped.is_some() {
        tracing::info!(
            "background sync stopped: the station is locked; it resumes at the next login"
        );
    }
}

/// A station with key slots opens only at a login: its background sync starts then, on a
/// handle of its own opened with the same key, and stops when the last operator logs out.
fn start_sealed_sync(desk: &mut Desk, state: &AppState) -> rekam::Result<()> {
    let Some(url) = state.config.dc_url.clone() else {
        return Ok(());
    };
    let station = desk.station()?;
    if !station.is_sealed_station() {
        return Ok(());
    }
    let mut slot = state
        .sync
        .lock()
        .map_err(|_| rekam::Error::Internal("the sync's lock".into()))?;
    if slot.is_none() {
        *slot = Some(rekam::sync::spawn(
            station.reopen()?,
            state.config.sync_config(&url),
            state.sync_idle,
        ));
        tracing::info!(%url, "background sync started at the login");
    }
    Ok(())
}

/// The operating system's lock screen (or the lid closed) locks the counter as the lock button
/// does: the session locks, the store and the background sync's handle close, and the screen
/// shows the password form.
fn watch_the_lock_screen(app: tauri::AppHandle) {
    use tauri::{Emitter, Manager};
    screen_lock::spawn(Arc::new(move |what| {
        let state = app.state::<AppState>();
        let Ok(mut desk) = state.desk.lock() else {
            return;
        };
        desk.lock();
        drop(desk);
        stop_sealed_sync(&state);
        tracing::info!(
            signal = what,
            "the operating system locked the screen: the counter is locked"
        );
        if let Err(e) = app.emit("screen-locked", ()) {
            tracing::warn!(error = %e, "the screen was not told of the lock");
        }
    }));
}

/// Unlocks a session the idle lock closed.
#[tauri::command]
async fn unlock(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    password: String,
) -> Result<SessionView, UiError> {
    let password = zeroize::Zeroizing::new(password);
    on_desk(app, lang, move |desk, state, _| {
        let view = desk.unlock(&password)?;
        start_sealed_sync(desk, state)?;
        Ok(view)
    })
    .await
}

/// The operator leaves (a recording or handover in progress is cancelled).
#[tauri::command]
async fn logout(app: tauri::AppHandle, lang: Option<Lang>) -> Result<(), UiError> {
    on_desk(app, lang, |desk, state, _| {
        desk.logout()?;
        stop_sealed_sync(state);
        Ok(())
    })
    .await
}

/// Who is logged in (none, or an error when the idle lock closed the session).
#[tauri::command]
async fn session(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Option<SessionView>, UiError> {
    on_desk(app, lang, |desk, state, _| {
        let answer = desk.session();
        if answer.is_err() {
            // The idle lock closed the session: with key slots the sync's handle closes too.
            stop_sealed_sync(state);
        }
        answer
    })
    .await
}

/// The operator leaves the counter for a moment: the session locks and, with key slots, the
/// store and the background sync's handle close until the password opens them again.
#[tauri::command]
async fn lock_screen(app: tauri::AppHandle, lang: Option<Lang>) -> Result<(), UiError> {
    on_desk(app, lang, |desk, state, _| {
        desk.lock();
        stop_sealed_sync(state);
        Ok(())
    })
    .await
}

/// The recording in progress, or the one that just ended (its summons or its refusal).
#[tauri::command]
async fn recording_current(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Option<WizardView>, UiError> {
    on_desk(app, lang, |desk, _, lang| Ok(desk.current(lang))).await
}

/// Leaves the ended recording's screen (summons, refusal) for the next resident.
#[tauri::command]
async fn recording_close(app: tauri::AppHandle, lang: Option<Lang>) -> Result<(), UiError> {
    on_desk(app, lang, |desk, _, _| {
        desk.close();
        Ok(())
    })
    .await
}

/// One step of the recording wizard, in the SOP's order (the core refuses any other).
#[tauri::command]
async fn recording(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    action: Action,
) -> Result<WizardView, UiError> {
    on_desk(app, lang, move |desk, _, lang| desk.recording(action, lang)).await
}

/// The device bar: every kind of device, found or not, and what is wrong. Runs off the main
/// thread and outside the desk's lock: a silent port takes two seconds to give up, and neither
/// the window nor a capture may wait for it.
#[tauri::command]
async fn device_status(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Vec<DeviceView>, UiError> {
    off_main(app, lang, |state, lang| {
        // A busy counter (a capture under way) is not waited for: its pad is then not shown
        // as held here.
        let pad_in_use = state
            .desk
            .try_lock()
            .ok()
            .and_then(|d| d.pad_in_use().map(str::to_owned));
        Ok(rekam::desk::survey(
            &state.config,
            pad_in_use.as_deref(),
            lang,
        ))
    })
    .await
}

/// Start-up settings for the screen.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct UiConfig {
    /// The station's default language (`REKAM_LANG`, else Bahasa Indonesia); an operator's own
    /// choice on the screen overrides it.
    lang: Lang,
    /// Whether training mode is on (the screen then offers its panel).
    training: bool,
}

/// Start-up settings for the screen.
#[tauri::command]
fn ui_config(state: tauri::State<'_, AppState>) -> UiConfig {
    UiConfig {
        lang: state.default_lang,
        training: cfg!(feature = "training") && state.config.training.is_some(),
    }
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
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let sbi_ports = match env("REKAM_SBI_PORTS") {
        Some(range) => parse_ports(&range)?,
        None => 4501..=4600,
    };
    let siak_url = env("REKAM_SIAK_URL");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let config = Config {
        paths: StationPaths::new(data_dir, key_file),
        pad_ports: match env("REKAM_PAD") {
            Some(list) => list
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            None => rekam_drivers::signature_pad::default_ports(),
        },
        sbi_ports,
        sbi_trust: env("REKAM_SBI_TRUST").map(PathBuf::from),
        training: match (&siak_url, env("REKAM_TRAINING_SBI")) {
            (Some(siak), Some(sbi)) => Some((siak.clone(), sbi)),
            _ => None,
        },
        siak_url,
        card_reader: env("REKAM_CARD_READER"),
        card_trust: env("REKAM_CARD_CSCA").map(PathBuf::from),
        card_token: env("REKAM_CARD_TOKEN").map(|label| rekam_drivers::card::token::TokenConfig {
            module: env("REKAM_CARD_PKCS11")
                .unwrap_or_else(|| rekam_drivers::card::token::SOFTHSM2_MODULE.into())
                .into(),
            label,
            pin: zeroize::Zeroizing::new(env("REKAM_CARD_PIN").unwrap_or_default()),
        }),
        dc_url: env("REKAM_DC_URL"),
        document_signer: env("REKAM_CARD_DS_CERT").map(PathBuf::from),
    };
    let sync_idle = match env("REKAM_SYNC_IDLE") {
        Some(secs) => std::time::Duration::from_secs(secs.parse().map_err(|_| {
            anyhow::anyhow!("REKAM_SYNC_IDLE {secs:?}: seconds between idle passes, e.g. 30")
        })?),
        None => std::time::Duration::from_secs(30),
    };
    let state = AppState {
        config: config.clone(),
        clock: clock.clone(),
        desk: Mutex::new(Desk::new(config.clone(), clock.clone())),
        smoke_file: std::env::var_os("REKAM_SMOKE_FILE").map(PathBuf::from),
        default_lang: match std::env::var("REKAM_LANG") {
            Ok(tag) => tag.parse().map_err(|e: String| anyhow::anyhow!(e))?,
            Err(_) => Lang::default(),
        },
        sync: Mutex::new(None),
        sync_idle,
        sync_unattended: Default::default(),
        previews: Default::default(),
    };
    tracing::info!(data_dir = %state.config.paths.data_dir.display(), "starting Rekam desktop");

    tauri::Builder::default()
        .manage(state)
        .setup(move |app| {
            if std::env::var_os("REKAM_SOFTWARE_RENDERING").is_some() {
                software_rendering(app);
            }
            start_sync(app.handle().clone(), sync_idle);
            watch_the_lock_screen(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            station_status,
            device_status,
            backlog,
            login,
            unlock,
            logout,
            lock_screen,
            session,
            recording_current,
            recording_close,
            recording,
            training::training_roster,
            training::training_present,
            ui_config,
            ui_rendered,
            issuance::handover,
            issuance::handover_current,
            issuance::handover_close,
            back_office::sync_status,
            back_office::sync_now,
            back_office::export_targets,
            back_office::export,
            back_office::import_receipts,
            back_office::clarify,
            back_office::population_files,
            back_office::population_import,
            back_office::daily_report,
            back_office::settings,
            preview::preview_start,
            preview::preview_stop,
            issuance::reissue_checklist,
            issuance::reissue,
            issuance::reissue_requests,
            issuance::print_queue,
            issuance::print_order,
            issuance::card_returned,
            issuance::personalise
        ])
        .run(tauri::generate_context!())
        .map_err(|e| anyhow::anyhow!("the desktop shell stopped: {e}"))
}

/// Draws the screen without GPU compositing (`REKAM_SOFTWARE_RENDERING=1`): forms need none,
/// and WebKit's web process then takes about 105 MB instead of 185 MB (measured under Xvfb,
/// `docs/desktop.md`). Not the default yet: under WebKitWebDriver a click then never returns,
/// so the end-to-end test cannot cover this mode.
fn software_rendering(app: &tauri::App) {
    use tauri::Manager;
    #[cfg(target_os = "linux")]
    if let Some(window) = app.get_webview_window("main") {
        let set = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = WebViewExt::settings(&webview.inner()) {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(e) = set {
            tracing::warn!(error = %e, "the webview keeps its default rendering");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Starts the background sync on a thread of its own, with a station connection of its own,
/// when the app was given the data center's address (`REKAM_DC_URL`). Off the window's thread:
/// opening the store must not hold up the first screen.
fn start_sync(app: tauri::AppHandle, idle: std::time::Duration) {
    use tauri::Manager;
    std::thread::spawn(move || {
        let state = app.state::<AppState>();
        let Some(url) = state.config.dc_url.clone() else {
            tracing::info!("no REKAM_DC_URL: this app does not sync (rekam sync may)");
            return;
        };
        let tcti = std::env::var("REKAM_TPM_TCTI").ok();
        let sealed = Station::is_sealed(&state.config.paths.data_dir);
        let opened = Station::open_unattended(
            state.config.paths.clone(),
            tcti.as_deref(),
            state.clock.clone(),
        );
        let opened = match opened {
            Ok(None) => {
                tracing::info!(
                    "this station's store opens with an operator's password: the background sync starts at the first login"
                );
                return;
            }
            Ok(Some(station)) => {
                // Through the TPM slot: the sync runs whoever is logged in, or nobody.
                state
                    .sync_unattended
                    .store(sealed, std::sync::atomic::Ordering::Relaxed);
                Ok(station)
            }
            Err(e) => Err(e),
        };
        match opened {
            Ok(station) => {
                let bg = rekam::sync::spawn(station, state.config.sync_config(&url), idle);
                if let Ok(mut slot) = state.sync.lock() {
                    *slot = Some(bg);
                }
                tracing::info!(%url, "background sync started");
            }
            Err(e) => tracing::error!(
                error = %e,
                "the background sync cannot open the station; it starts at the first login"
            ),
        }
    });
}

/// `4501-4600` (or one port).
fn parse_ports(range: &str) -> anyhow::Result<std::ops::RangeInclusive<u16>> {
    let (a, b) = range.split_once('-').unwrap_or((range, range));
    let port = |p: &str| {
        p.trim().parse::<u16>().map_err(|_| {
            anyhow::anyhow!("REKAM_SBI_PORTS {range:?}: use FIRST-LAST, e.g. 4501-4600")
        })
    };
    Ok(port(a)?..=port(b)?)
}
