//! Nomor Kartu Keluarga (family card number): 16 digits, the first six the issuing region
//! (domain digest). No other structure is relied on.

use super::digits::{self, DigitProblem};
use super::region::{RegionCode, RegionDirectory, RegionLevel};
use rekam_i18n::{Lang, Localized};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A structurally valid family card number.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KkNumber(String);

/// Why a KK number is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KkError {
    /// Nothing entered.
    #[error("family card (KK) number is empty")]
    Empty,
    /// Not 16 digits.
    #[error("family card (KK) number must have 16 digits, found {found}")]
    WrongLength {
        /// Digits entered.
        found: usize,
    },
    /// A character that is not a digit.
    #[error("family card (KK) number may contain digits only: character {position} is {found:?}")]
    NotADigit {
        /// 1-based position.
        position: usize,
        /// The character.
        found: char,
    },
    /// The issuing region (digits 1-6) has a part of zeros.
    #[error("the issuing region of the family card (KK) number (digits 1-6) has a part of 00")]
    ZeroRegion,
}

impl KkError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            KkError::Empty => "KK_EMPTY",
            KkError::WrongLength { .. } => "KK_LENGTH",
            KkError::NotADigit { .. } => "KK_NOT_DIGIT",
            KkError::ZeroRegion => "KK_ZERO_REGION",
        }
    }
}

impl Localized for KkError {
    fn localized(&self, lang: Lang) -> String {
        match (self, lang) {
            (KkError::Empty, Lang::Id) => {
                "Nomor KK kosong: isi 16 digit dari Kartu Keluarga".into()
            }
            (KkError::WrongLength { found }, Lang::Id) => {
                format!("Nomor KK harus 16 digit, yang diisi {found} digit")
            }
            (KkError::NotADigit { position, found }, Lang::Id) => {
                format!(
                    "Nomor KK hanya boleh berisi angka: karakter ke-{position} adalah {found:?}"
                )
            }
            (KkError::ZeroRegion, Lang::Id) => {
                "Kode wilayah penerbit pada nomor KK (digit 1-6) memuat 00".into()
            }
            (e, Lang::En) => e.to_string(),
        }
    }
}

impl From<DigitProblem> for KkError {
    fn from(p: DigitProblem) -> Self {
        match p {
            DigitProblem::Empty => KkError::Empty,
            DigitProblem::WrongLength { found } => KkError::WrongLength { found },
            DigitProblem::NotADigit { position, found } => KkError::NotADigit { position, found },
        }
    }
}

impl KkNumber {
    /// Parses a KK number.
    pub fn parse(input: &str) -> Result<KkNumber, KkError> {
        let d = digits::parse_fixed::<16>(input)?;
        let text = digits::text(&d);
        RegionCode::parse(&text[..6]).map_err(|_| KkError::ZeroRegion)?;
        Ok(KkNumber(text))
    }

    /// All 16 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The issuing kecamatan (digits 1-6).
    pub fn issuing_region(&self) -> RegionCode {
        RegionCode::parse(&self.0[..6])
            .unwrap_or_else(|_| unreachable!("KK region digits validated at parse"))
    }

    /// The highest level of the issuing region that the master data does not know, if any.
    pub fn unknown_region(
        &self,
        regions: &dyn RegionDirectory,
    ) -> Option<(RegionCode, RegionLevel)> {
        self.issuing_region()
            .lineage()
            .into_iter()
            .find(|c| regions.region(c).is_none())
            .map(|c| {
                let level = c.level();
                (c, level)
            })
    }

    /// Masked like a NIK: first six and last two digits.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl fmt::Display for KkNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for KkNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KkNumber({})", self.masked())
    }
}

impl TryFrom<String> for KkNumber {
    type Error = KkError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        KkNumber::parse(&s)
    }
}

impl From<KkNumber> for String {
    fn from(k: KkNumber) -> String {
        k.0
    }
}
