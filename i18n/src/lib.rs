//! Languages of operator-facing text. Bahasa Indonesia is the default; English on request.
//!
//! A crate of its own so that the core and the device drivers share it without the drivers
//! depending on the core.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The language an operator reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Bahasa Indonesia, the default at every counter.
    #[default]
    Id,
    /// English.
    En,
}

impl Lang {
    /// Picks the Indonesian or the English text.
    pub fn pick<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    /// The BCP 47 tag (`id`, `en`).
    pub fn tag(self) -> &'static str {
        self.pick("id", "en")
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "id" | "id-id" | "in" | "indonesia" => Ok(Lang::Id),
            "en" | "en-us" | "en-gb" | "english" => Ok(Lang::En),
            other => Err(format!(
                "unknown language {other:?}: use \"id\" (Bahasa Indonesia) or \"en\" (English)"
            )),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// Text an operator may read, in either language.
///
/// `Display` on the implementing types is English (for logs and developers); the screen and the
/// CLI call [`Localized::localized`] with the operator's language.
pub trait Localized {
    /// The message in `lang`.
    fn localized(&self, lang: Lang) -> String;
}
