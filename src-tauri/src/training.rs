//! Training mode's commands: forwards to `rekam::training` when the app is built with the
//! `training` feature (`scripts/run-app`, the tests), and a refusal that says so in the build a
//! station is installed from, where the screen shows no training panel.

use crate::off_main;
use crate::problem::UiError;
use rekam::i18n::Lang;
pub(crate) use rekam::training::TraineeResident;

/// Training mode: the generated residents SIAK knows.
#[tauri::command]
pub async fn training_roster(
    app: tauri::AppHandle,
    lang: Option<Lang>,
) -> Result<Vec<TraineeResident>, UiError> {
    off_main(app, lang, imp::roster).await
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
        imp::present(state, lang, index)
    })
    .await
}

#[cfg(feature = "training")]
mod imp {
    use crate::AppState;
    use crate::problem::UiError;
    use rekam::i18n::Lang;
    use rekam::training::Training;

    use rekam::training::TraineeResident as Resident;

    /// The seed of the simulators' generated residents (`rekam-sim-sbi --seed`).
    const TRAINING_SEED: u64 = 20261122;

    pub fn roster(state: &AppState, lang: Lang) -> Result<Vec<Resident>, UiError> {
        training(state, lang)?
            .roster()
            .map_err(crate::problem::core(lang))
    }

    pub fn present(state: &AppState, lang: Lang, index: u64) -> Result<(), UiError> {
        training(state, lang)?
            .present(index)
            .map_err(crate::problem::core(lang))
    }

    fn training(state: &AppState, lang: Lang) -> Result<Training, UiError> {
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
        Training::new(siak, sbi, TRAINING_SEED).map_err(crate::problem::core(lang))
    }
}

#[cfg(not(feature = "training"))]
mod imp {
    use crate::AppState;
    use crate::problem::UiError;
    use rekam::i18n::Lang;

    use rekam::training::TraineeResident as Resident;

    pub fn roster(_: &AppState, lang: Lang) -> Result<Vec<Resident>, UiError> {
        Err(not_in_build(lang))
    }

    pub fn present(_: &AppState, lang: Lang, _: u64) -> Result<(), UiError> {
        Err(not_in_build(lang))
    }

    fn not_in_build(lang: Lang) -> UiError {
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
}
