//! Training mode's commands: forwards to `rekam::training` when the app is built with the
//! `training` feature (`scripts/run-app`, the tests), and a refusal that says so in the build a
//! station is installed from, where the screen shows no training panel.

use crate::desk::UiError;
use crate::off_main;
use rekam::i18n::Lang;

#[cfg(feature = "training")]
type Resident = rekam::training::TraineeResident;
#[cfg(not(feature = "training"))]
type Resident = serde_json::Value;

/// Training mode: the generated residents SIAK knows.
#[tauri::command]
pub async fn training_roster(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Vec<Resident>, UiError> {
    off_main(app, lang, |state, lang| {
        #[cfg(feature = "training")]
        return training(state, lang)?
            .roster()
            .map_err(|e| UiError::from_core(&e, lang));
        #[cfg(not(feature = "training"))]
        return Err(not_in_build(state, lang));
    })
    .await
}

/// Training mode: resident `index` steps up to the devices (`operator` and `supervisor` are
/// the trainees' own fingers).
#[tauri::command]
pub async fn training_present(
    app: tauri::AppHandle,
    lang: Option<Lang>,
    index: u64,
) -> Result<(), UiError> {
    off_main(app, lang, move |state, lang| {
        #[cfg(feature = "training")]
        return training(state, lang)?
            .present(index)
            .map_err(|e| UiError::from_core(&e, lang));
        #[cfg(not(feature = "training"))]
        return {
            let _ = index;
            Err(not_in_build(state, lang))
        };
    })
    .await
}

/// The seed of the simulators' generated residents (`rekam-sim-sbi --seed`).
#[cfg(feature = "training")]
const TRAINING_SEED: u64 = 20261122;

#[cfg(feature = "training")]
fn training(state: &crate::AppState, lang: Lang) -> Result<rekam::training::Training, UiError> {
    let Some((siak, sbi)) = &state.config.training else {
        return Err(UiError {
            code: "NOT_TRAINING",
            message: lang
                .pick(
                    "Mode latihan tidak aktif di stasiun ini",
                    "Training mode is off on this station",
                )
                .into(),
        });
    };
    rekam::training::Training::new(siak, sbi, TRAINING_SEED)
        .map_err(|e| UiError::from_core(&e, lang))
}

#[cfg(not(feature = "training"))]
fn not_in_build(_state: &crate::AppState, lang: Lang) -> UiError {
    UiError {
        code: "NOT_TRAINING",
        message: lang
            .pick(
                "Mode latihan tidak tersedia di versi instalasi stasiun ini",
                "Training mode is not part of this station's installed build",
            )
            .into(),
    }
}
