//! Live previews: while a capture step is on screen, the SBI service's STREAM of the device
//! that step uses (M-JPEG, `rekam_drivers::sbi`) goes to the screen as `preview-frame` events,
//! so the operator can position the resident before pressing capture and watch during it.
//!
//! Invariants: one preview at a time (a new one, or `preview_stop`, ends the one before);
//! frames only cross to the screen and are never stored; the capture itself never depends on
//! the preview (a failed stream leaves the capture button as it is).

use crate::problem::UiError;
use crate::{AppState, on_desk};
use base64::Engine;
use rekam::i18n::Lang;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tauri::{Emitter, Manager};

/// How long one preview runs at most; the screen asks again at the next step.
const LONGEST: Duration = Duration::from_secs(90);

/// The device a step previews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PreviewDevice {
    /// The face camera (the portrait).
    Face,
    /// The fingerprint scanner (slaps, index verification, the operator's finger).
    Finger,
    /// The iris camera.
    Iris,
}

/// One frame for the screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub(crate) struct Frame {
    device: PreviewDevice,
    /// Which preview it belongs to (the screen drops frames of an older one).
    preview: u64,
    /// `data:image/jpeg;base64,...`.
    src: String,
}

/// Which preview is current: each start takes the next number, and a stream stops at its next
/// frame once its number is no longer current.
#[derive(Debug, Default)]
pub struct Previews {
    current: AtomicU64,
}

impl Previews {
    fn next(&self) -> u64 {
        self.current.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn is_current(&self, id: u64) -> bool {
        self.current.load(Ordering::SeqCst) == id
    }

    /// Ends preview `id` if it is still the current one (a newer one is left running).
    fn stop(&self, id: u64) {
        let _ = self
            .current
            .compare_exchange(id, id + 1, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Starts the live preview of `device` (ending any other); returns its number. Frames arrive
/// as `preview-frame` events; `preview-end` says it stopped (and why, when it failed).
#[tauri::command]
pub async fn preview_start(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    device: PreviewDevice,
) -> Result<u64, UiError> {
    let handle = app.clone();
    let lang = lang.unwrap_or_default();
    let sbi = on_desk(app, Some(lang), move |desk, _, _| {
        desk.sbi_device(match device {
            PreviewDevice::Face => rekam_drivers::DeviceKind::Face,
            PreviewDevice::Finger => rekam_drivers::DeviceKind::Fingerprint,
            PreviewDevice::Iris => rekam_drivers::DeviceKind::Iris,
        })
    })
    .await?;
    let id = handle.state::<AppState>().previews.next();
    std::thread::Builder::new()
        .name("sbi-preview".into())
        .spawn(move || {
            let previews = &handle.state::<AppState>().previews;
            let sensor = sbi.sensors.first().copied().unwrap_or(1);
            let result = sbi.stream(sensor, LONGEST, &mut |jpeg| {
                if !previews.is_current(id) {
                    return false;
                }
                let src = format!(
                    "data:image/jpeg;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(jpeg)
                );
                let frame = Frame {
                    device,
                    preview: id,
                    src,
                };
                handle.emit("preview-frame", frame).is_ok()
            });
            let error = match result {
                Ok(frames) => {
                    tracing::debug!(?device, frames, "preview ended");
                    None
                }
                Err(e) => {
                    tracing::warn!(?device, error = %e, "preview failed");
                    Some(UiError::of(&e.into(), lang))
                }
            };
            let _ = handle.emit(
                "preview-end",
                serde_json::json!({ "preview": id, "error": error }),
            );
        })
        .map_err(|e| {
            tracing::error!(error = %e, "no thread for the preview");
            crate::problem::internal(lang)
        })?;
    Ok(id)
}

/// Ends live preview `preview` (its step is done, or the screen changed).
#[tauri::command]
pub fn preview_stop(state: tauri::State<'_, AppState>, preview: u64) {
    state.previews.stop(preview);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_preview_is_current() {
        let p = Previews::default();
        let first = p.next();
        assert!(p.is_current(first));
        let second = p.next();
        assert!(!p.is_current(first) && p.is_current(second));
        // Stopping an older preview leaves the newer one running.
        p.stop(first);
        assert!(p.is_current(second));
        p.stop(second);
        assert!(!p.is_current(second));
        let third = p.next();
        assert!(third > second && p.is_current(third));
    }
}
