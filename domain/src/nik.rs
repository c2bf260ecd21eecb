//! NIK (Nomor Induk Kependudukan): the 16-digit population identity number.
//!
//! Layout (domain digest, "Facts from public sources"): province (2) + regency/city (2) +
//! kecamatan (2) where the person was first registered, then the birth date as DDMMYY with 40
//! added to the day for women (41-71), then a 4-digit serial from 0001. There is no check digit.
//! The year has no century, and the date inside a NIK may differ from the real birth date (the
//! biodata's birth date is authoritative), so a NIK yields date *candidates*, never "the" date.
//!
//! Privacy invariant: `Debug` and `Display` of a [`Nik`] print only the masked form (first six
//! and last two digits); the full number is reachable only through [`Nik::as_str`], which no log
//! line may use.

use super::digits::{self, DigitProblem};
use super::region::{RegionCode, RegionDirectory, RegionLevel};
use rekam_i18n::{Lang, Localized};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, Month};

/// Jenis kelamin (sex) as the card prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    /// LAKI-LAKI.
    #[serde(rename = "LAKI-LAKI")]
    Male,
    /// PEREMPUAN.
    #[serde(rename = "PEREMPUAN")]
    Female,
}

impl Sex {
    /// The card's label.
    pub fn card_label(self) -> &'static str {
        match self {
            Sex::Male => "LAKI-LAKI",
            Sex::Female => "PEREMPUAN",
        }
    }

    /// Parses the card's label (or L/P, M/F).
    pub fn parse(s: &str) -> Option<Sex> {
        match s.trim().to_uppercase().as_str() {
            "LAKI-LAKI" | "LAKI LAKI" | "L" | "M" | "MALE" => Some(Sex::Male),
            "PEREMPUAN" | "P" | "F" | "FEMALE" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// A structurally valid NIK.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nik {
    digits: [u8; 16],
    text: String,
}

/// The part of a NIK that an error is about, so the operator knows where to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NikPart {
    /// The whole number (its length or characters).
    Whole,
    /// Digits 1-2.
    Province,
    /// Digits 3-4.
    Regency,
    /// Digits 5-6.
    Kecamatan,
    /// Digits 7-8.
    Day,
    /// Digits 9-10.
    Month,
    /// Digits 7-12 read together.
    BirthDate,
    /// Digits 13-16.
    Serial,
}

impl NikPart {
    /// The part's name for an operator, with the digit positions.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            NikPart::Whole => lang.pick("NIK", "NIK"),
            NikPart::Province => {
                lang.pick("kode provinsi (digit 1-2)", "province code (digits 1-2)")
            }
            NikPart::Regency => lang.pick(
                "kode kabupaten/kota (digit 3-4)",
                "regency/city code (digits 3-4)",
            ),
            NikPart::Kecamatan => {
                lang.pick("kode kecamatan (digit 5-6)", "kecamatan code (digits 5-6)")
            }
            NikPart::Day => lang.pick("tanggal lahir (digit 7-8)", "day of birth (digits 7-8)"),
            NikPart::Month => lang.pick("bulan lahir (digit 9-10)", "month of birth (digits 9-10)"),
            NikPart::BirthDate => {
                lang.pick("tanggal lahir (digit 7-12)", "date of birth (digits 7-12)")
            }
            NikPart::Serial => {
                lang.pick("nomor urut (digit 13-16)", "serial number (digits 13-16)")
            }
        }
    }
}

/// Why a NIK is invalid. Each variant names the part that is wrong ([`NikError::part`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    /// Nothing was entered.
    #[error("NIK is empty: enter the 16 digits from the family card (KK)")]
    Empty,
    /// Not 16 digits.
    #[error("NIK must have 16 digits, found {found}")]
    WrongLength {
        /// How many digits were entered.
        found: usize,
    },
    /// A character that is not a digit.
    #[error("NIK may contain digits only: character {position} is {found:?}")]
    NotADigit {
        /// 1-based position among the entered characters (spaces and dots ignored).
        position: usize,
        /// The offending character.
        found: char,
    },
    /// A region part of `00`.
    #[error("the {} of the NIK is 00, which no region has", .part.label(Lang::En))]
    ZeroRegion {
        /// Province, regency or kecamatan.
        part: NikPart,
    },
    /// Day not 01-31 (men) or 41-71 (women).
    #[error("the day of birth in the NIK is {value:02}: it must be 01-31, or 41-71 for women")]
    DayOutOfRange {
        /// The two digits as a number.
        value: u8,
    },
    /// Month not 01-12.
    #[error("the month of birth in the NIK is {value:02}: it must be 01-12")]
    MonthOutOfRange {
        /// The two digits as a number.
        value: u8,
    },
    /// A day that the month never has in either century (31 April, 30 February, or 29 February
    /// of a year that is a leap year in neither 19YY nor 20YY).
    #[error(
        "the date of birth in the NIK, {day:02}-{month:02}-{yy:02}, does not exist in any century"
    )]
    ImpossibleDate {
        /// Day of month (after removing the +40 for women).
        day: u8,
        /// Month.
        month: u8,
        /// Two-digit year.
        yy: u8,
    },
    /// Every calendar reading of the date lies after today.
    #[error("the date of birth in the NIK, {day:02}-{month:02}-{yy:02}, lies in the future")]
    FutureDate {
        /// Day of month.
        day: u8,
        /// Month.
        month: u8,
        /// Two-digit year.
        yy: u8,
    },
    /// Serial `0000`: serials start at 0001.
    #[error("the serial number of the NIK is 0000: serials start at 0001")]
    ZeroSerial,
}

impl NikError {
    /// The part of the NIK this error is about.
    pub fn part(&self) -> NikPart {
        match self {
            NikError::Empty | NikError::WrongLength { .. } | NikError::NotADigit { .. } => {
                NikPart::Whole
            }
            NikError::ZeroRegion { part } => *part,
            NikError::DayOutOfRange { .. } => NikPart::Day,
            NikError::MonthOutOfRange { .. } => NikPart::Month,
            NikError::ImpossibleDate { .. } | NikError::FutureDate { .. } => NikPart::BirthDate,
            NikError::ZeroSerial => NikPart::Serial,
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            NikError::Empty => "NIK_EMPTY",
            NikError::WrongLength { .. } => "NIK_LENGTH",
            NikError::NotADigit { .. } => "NIK_NOT_DIGIT",
            NikError::ZeroRegion { .. } => "NIK_ZERO_REGION",
            NikError::DayOutOfRange { .. } => "NIK_DAY",
            NikError::MonthOutOfRange { .. } => "NIK_MONTH",
            NikError::ImpossibleDate { .. } => "NIK_IMPOSSIBLE_DATE",
            NikError::FutureDate { .. } => "NIK_FUTURE_DATE",
            NikError::ZeroSerial => "NIK_ZERO_SERIAL",
        }
    }
}

impl Localized for NikError {
    fn localized(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            NikError::Empty => "NIK kosong: isi 16 digit NIK dari Kartu Keluarga (KK)".into(),
            NikError::WrongLength { found } => {
                format!("NIK harus 16 digit, yang diisi {found} digit")
            }
            NikError::NotADigit { position, found } => {
                format!("NIK hanya boleh berisi angka: karakter ke-{position} adalah {found:?}")
            }
            NikError::ZeroRegion { part } => format!(
                "{} pada NIK bernilai 00, tidak ada wilayah dengan kode itu",
                capitalise(part.label(Lang::Id))
            ),
            NikError::DayOutOfRange { value } => format!(
                "Tanggal lahir pada NIK {value:02}: harus 01-31, atau 41-71 untuk perempuan"
            ),
            NikError::MonthOutOfRange { value } => {
                format!("Bulan lahir pada NIK {value:02}: harus 01-12")
            }
            NikError::ImpossibleDate { day, month, yy } => format!(
                "Tanggal lahir pada NIK, {day:02}-{month:02}-{yy:02}, tidak ada di kalender"
            ),
            NikError::FutureDate { day, month, yy } => {
                format!("Tanggal lahir pada NIK, {day:02}-{month:02}-{yy:02}, jatuh di masa depan")
            }
            NikError::ZeroSerial => {
                "Nomor urut NIK (digit 13-16) 0000: nomor urut dimulai dari 0001".into()
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl From<DigitProblem> for NikError {
    fn from(p: DigitProblem) -> Self {
        match p {
            DigitProblem::Empty => NikError::Empty,
            DigitProblem::WrongLength { found } => NikError::WrongLength { found },
            DigitProblem::NotADigit { position, found } => NikError::NotADigit { position, found },
        }
    }
}

/// Something about a NIK that the operator should look at, but that does not make it invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NikWarning {
    /// The region prefix is not in this station's master data (codes change; a newer one may
    /// be valid). Only the highest unknown level is reported.
    UnknownRegion {
        /// The unknown code.
        code: RegionCode,
        /// Its level.
        level: RegionLevel,
    },
}

impl Localized for NikWarning {
    fn localized(&self, lang: Lang) -> String {
        match self {
            NikWarning::UnknownRegion { code, level } => match lang {
                Lang::Id => format!(
                    "Kode {} {code} tidak ada dalam data induk wilayah stasiun ini. NIK tetap \
                     diterima; periksa kembali dengan KK dan perbarui data wilayah bila perlu.",
                    level.label(lang)
                ),
                Lang::En => format!(
                    "The {} code {code} is not in this station's region master data. The NIK is \
                     still accepted; check it against the family card and update the region data \
                     if needed.",
                    level.label(lang)
                ),
            },
        }
    }
}

impl Nik {
    /// Parses and validates the structure of a NIK, independent of today's date and of the
    /// region master data (see [`check`] for those).
    pub fn parse(input: &str) -> Result<Nik, NikError> {
        let d = digits::parse_fixed::<16>(input)?;
        for (range, part) in [
            (0..2, NikPart::Province),
            (2..4, NikPart::Regency),
            (4..6, NikPart::Kecamatan),
        ] {
            if digits::value(&d[range]) == 0 {
                return Err(NikError::ZeroRegion { part });
            }
        }
        let raw_day = digits::value(&d[6..8]) as u8;
        let day = match raw_day {
            1..=31 => raw_day,
            41..=71 => raw_day - 40,
            _ => return Err(NikError::DayOutOfRange { value: raw_day }),
        };
        let month = digits::value(&d[8..10]) as u8;
        if !(1..=12).contains(&month) {
            return Err(NikError::MonthOutOfRange { value: month });
        }
        let yy = digits::value(&d[10..12]) as u8;
        if calendar_readings(day, month, yy).is_empty() {
            return Err(NikError::ImpossibleDate { day, month, yy });
        }
        if digits::value(&d[12..16]) == 0 {
            return Err(NikError::ZeroSerial);
        }
        Ok(Nik {
            digits: d,
            text: digits::text(&d),
        })
    }

    /// All 16 digits. Never log this: use `Display`, which masks.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// First six and last two digits, the rest hidden: `327301********01`. The only form of a
    /// NIK that may appear in logs, backlogs and reports.
    pub fn masked(&self) -> MaskedNik {
        MaskedNik(format!("{}********{}", &self.text[..6], &self.text[14..]))
    }

    /// The kecamatan where the person was first registered (digits 1-6).
    pub fn kecamatan(&self) -> RegionCode {
        // Parse cannot fail: the parts were checked to be non-zero.
        RegionCode::parse(&self.text[..6])
            .unwrap_or_else(|_| unreachable!("NIK region digits validated at parse"))
    }

    /// Sex encoded by the day (+40 for women).
    pub fn sex(&self) -> Sex {
        if self.raw_day() > 40 {
            Sex::Female
        } else {
            Sex::Male
        }
    }

    /// Day, month and two-digit year as encoded, with the +40 removed.
    pub fn encoded_date(&self) -> (u8, u8, u8) {
        let d = &self.digits;
        let day = self.raw_day();
        (
            if day > 40 { day - 40 } else { day },
            digits::value(&d[8..10]) as u8,
            digits::value(&d[10..12]) as u8,
        )
    }

    /// The serial (digits 13-16).
    pub fn serial(&self) -> u16 {
        digits::value(&self.digits[12..16])
    }

    /// The calendar dates the encoded date can stand for (19YY and 20YY), oldest first, dropping
    /// those after `today`.
    pub fn birth_date_candidates(&self, today: Date) -> Vec<Date> {
        let (day, month, yy) = self.encoded_date();
        calendar_readings(day, month, yy)
            .into_iter()
            .filter(|d| *d <= today)
            .collect()
    }

    fn raw_day(&self) -> u8 {
        digits::value(&self.digits[6..8]) as u8
    }
}

/// Every real calendar date `day-month` of 19YY and 20YY.
fn calendar_readings(day: u8, month: u8, yy: u8) -> Vec<Date> {
    let Ok(month) = Month::try_from(month) else {
        return Vec::new();
    };
    [1900, 2000]
        .into_iter()
        .filter_map(|century| Date::from_calendar_date(century + i32::from(yy), month, day).ok())
        .collect()
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.masked().as_str())
    }
}

/// A NIK as it may be shown, logged, and kept beside a visit or a backlog line: the first six
/// and the last two digits, the rest hidden (`327301********01`). Made by [`Nik::masked`], or
/// read back from its own text by [`MaskedNik::parse`], which takes nothing but that shape: a
/// `MaskedNik` cannot hold a full NIK.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
#[serde(try_from = "String", into = "String")]
pub struct MaskedNik(String);

impl MaskedNik {
    /// A masked NIK from its text: six digits, eight `*`, two digits; anything else is `None`.
    pub fn parse(text: &str) -> Option<MaskedNik> {
        let b = text.as_bytes();
        let shape = b.len() == 16
            && b[..6].iter().all(u8::is_ascii_digit)
            && b[6..14].iter().all(|c| *c == b'*')
            && b[14..].iter().all(u8::is_ascii_digit);
        shape.then(|| MaskedNik(text.to_owned()))
    }

    /// The text, `327301********01`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MaskedNik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MaskedNik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaskedNik({})", self.0)
    }
}

impl PartialEq<&str> for MaskedNik {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl TryFrom<String> for MaskedNik {
    type Error = String;
    fn try_from(text: String) -> Result<MaskedNik, String> {
        MaskedNik::parse(&text)
            .ok_or_else(|| "not a masked NIK (six digits, eight '*', two digits)".to_owned())
    }
}

impl From<MaskedNik> for String {
    fn from(m: MaskedNik) -> String {
        m.0
    }
}

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nik({})", self.masked())
    }
}

impl TryFrom<String> for Nik {
    type Error = NikError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Nik::parse(&s)
    }
}

impl From<Nik> for String {
    fn from(n: Nik) -> String {
        n.text
    }
}

/// What a full check of a NIK found.
#[derive(Debug, Clone, Serialize)]
pub struct NikReport {
    /// The masked NIK.
    pub masked: MaskedNik,
    /// Sex encoded by the day.
    pub sex: Sex,
    /// Candidate birth dates (19YY and/or 20YY, not after today), oldest first.
    pub birth_date_candidates: Vec<Date>,
    /// The serial.
    pub serial: u16,
    /// Province, regency and kecamatan codes with their names where known.
    pub region: Vec<RegionLine>,
    /// Things to look at.
    pub warnings: Vec<NikWarning>,
    #[serde(skip)]
    nik: Option<Nik>,
}

impl NikReport {
    /// The checked NIK.
    pub fn nik(&self) -> Option<&Nik> {
        self.nik.as_ref()
    }
}

/// One level of a NIK's region prefix.
#[derive(Debug, Clone, Serialize)]
pub struct RegionLine {
    /// The level.
    pub level: RegionLevel,
    /// The code.
    pub code: RegionCode,
    /// The name, if the master data has this code.
    pub name: Option<String>,
}

/// Checks a NIK completely: structure, a birth date that is not in the future, and the region
/// prefix against `regions` (unknown prefixes are warnings).
pub fn check(
    input: &str,
    regions: &dyn RegionDirectory,
    today: Date,
) -> Result<NikReport, NikError> {
    let nik = Nik::parse(input)?;
    let candidates = nik.birth_date_candidates(today);
    if candidates.is_empty() {
        let (day, month, yy) = nik.encoded_date();
        return Err(NikError::FutureDate { day, month, yy });
    }
    let code = nik.kecamatan();
    let lineage = regions.lineage(&code);
    let region: Vec<RegionLine> = code
        .lineage()
        .into_iter()
        .zip(lineage)
        .map(|(code, found)| RegionLine {
            level: code.level(),
            code,
            name: found.map(|r| r.name),
        })
        .collect();
    let warnings = region
        .iter()
        .find(|line| line.name.is_none())
        .map(|line| NikWarning::UnknownRegion {
            code: line.code.clone(),
            level: line.level,
        })
        .into_iter()
        .collect();
    Ok(NikReport {
        masked: nik.masked(),
        sex: nik.sex(),
        birth_date_candidates: candidates,
        serial: nik.serial(),
        region,
        warnings,
        nik: Some(nik),
    })
}
