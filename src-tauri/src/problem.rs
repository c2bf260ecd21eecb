//! What the screen shows when a command fails: the core's [`Problem`] (a stable code and what
//! to do, in the operator's language), and the few the shell itself can give.

pub use rekam::desk::Problem as UiError;
use rekam::i18n::Lang;

/// The core's error in `lang`.
pub fn core(lang: Lang) -> impl Fn(rekam::Error) -> UiError {
    move |e| UiError::of(&e, lang)
}

/// The shell itself failed (a panicked command, a poisoned lock): only a restart helps.
pub fn internal(lang: Lang) -> UiError {
    UiError {
        code: "INTERNAL",
        message: lang
            .pick(
                "Aplikasi perlu dimulai ulang",
                "The application needs a restart",
            )
            .into(),
    }
}

/// The app was given no data center address: nothing to ask of a sync.
pub fn sync_off(lang: Lang) -> UiError {
    UiError {
        code: "SYNC_OFF",
        message: lang
            .pick(
                "Stasiun ini tidak mengirim sendiri: data menunggu ekspor teknisi",
                "This station does not send by itself: records wait for a technician's export",
            )
            .into(),
    }
}
