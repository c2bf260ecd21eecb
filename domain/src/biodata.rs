//! Biodata as printed on the card and held in the population database (domain digest, "Printed
//! card fields" and "Value lists"), with foreign residents' KITAP.

use super::kk::KkNumber;
use super::nik::{Nik, NikWarning, Sex};
use super::pekerjaan::Pekerjaan;
use super::region::{RegionCode, RegionDirectory, RegionLevel};
use rekam_i18n::{Lang, Localized};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::Date;

/// Declares a closed value list printed on the card: each variant has its card label and may
/// have spellings operators also use.
macro_rules! value_list {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $label:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in the card's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The label printed on the card.
            pub fn card_label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Parses a card label or a common spelling, ignoring case and extra spaces.
            pub fn parse(s: &str) -> Option<Self> {
                let n = s.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
                $( if n == $label $(|| n == $alias)* { return Some($name::$variant); } )+
                None
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.card_label())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.card_label())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    let allowed: Vec<&str> = $name::ALL.iter().map(|v| v.card_label()).collect();
                    serde::de::Error::custom(format!(
                        "unknown {} {s:?}: use one of {}", $what, allowed.join(", ")
                    ))
                })
            }
        }
    };
}

value_list! {
    /// Agama (religion), as the card prints it.
    Agama, "religion" {
        /// ISLAM.
        Islam => "ISLAM",
        /// KRISTEN (Protestant).
        Kristen => "KRISTEN" | "PROTESTAN",
        /// KATHOLIK.
        Katholik => "KATHOLIK" | "KATOLIK",
        /// HINDU.
        Hindu => "HINDU",
        /// BUDHA.
        Budha => "BUDHA" | "BUDDHA",
        /// KHONGHUCU.
        Khonghucu => "KHONGHUCU" | "KONGHUCU" | "KHONG HU CU",
        /// KEPERCAYAAN TERHADAP TUHAN YME (indigenous belief).
        Kepercayaan => "KEPERCAYAAN TERHADAP TUHAN YME" | "KEPERCAYAAN",
    }
}

value_list! {
    /// Status perkawinan (marital status), as the card prints it.
    StatusPerkawinan, "marital status" {
        /// BELUM KAWIN (never married).
        BelumKawin => "BELUM KAWIN",
        /// KAWIN (married).
        Kawin => "KAWIN",
        /// CERAI HIDUP (divorced).
        CeraiHidup => "CERAI HIDUP",
        /// CERAI MATI (widowed).
        CeraiMati => "CERAI MATI",
    }
}

impl StatusPerkawinan {
    /// Married now or ever: the alternative to age 17 for eligibility.
    pub fn ever_married(self) -> bool {
        !matches!(self, StatusPerkawinan::BelumKawin)
    }
}

value_list! {
    /// ABO blood group; the rhesus factor is kept beside it in [`GolonganDarah`].
    AboGroup, "blood group" {
        /// A.
        A => "A",
        /// B.
        B => "B",
        /// AB.
        Ab => "AB",
        /// O.
        O => "O",
    }
}

/// Golongan darah (blood type): A, B, AB or O, each optionally with + or -. An unknown blood
/// type is printed blank and held as `None` in [`Biodata::blood_type`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GolonganDarah {
    /// The ABO group.
    pub group: AboGroup,
    /// `Some(true)` for +, `Some(false)` for -, `None` when not given.
    pub rhesus_positive: Option<bool>,
}

impl GolonganDarah {
    /// Parses `A`, `AB+`, `o-`; `None` for blank, `-` or "TIDAK TAHU" (unknown), `Err` for
    /// anything else.
    pub fn parse(s: &str) -> Result<Option<GolonganDarah>, BiodataError> {
        let t = s.trim().to_uppercase();
        if t.is_empty() || t == "-" || t == "TIDAK TAHU" {
            return Ok(None);
        }
        let (group, rhesus) = match t.strip_suffix('+') {
            Some(g) => (g, Some(true)),
            None => match t.strip_suffix('-') {
                Some(g) => (g, Some(false)),
                None => (t.as_str(), None),
            },
        };
        let group = AboGroup::parse(group).ok_or(BiodataError::BloodType(s.trim().to_owned()))?;
        Ok(Some(GolonganDarah {
            group,
            rhesus_positive: rhesus,
        }))
    }
}

impl fmt::Display for GolonganDarah {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = match self.rhesus_positive {
            Some(true) => "+",
            Some(false) => "-",
            None => "",
        };
        write!(f, "{}{sign}", self.group)
    }
}

impl Serialize for GolonganDarah {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for GolonganDarah {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GolonganDarah::parse(&s)
            .map_err(serde::de::Error::custom)?
            .ok_or_else(|| serde::de::Error::custom("blank blood type: omit the field instead"))
    }
}

/// KITAP (Kartu Izin Tinggal Tetap): the permanent stay permit of a foreign resident (seed 000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kitap {
    /// The permit number as printed.
    pub number: String,
    /// The permit's expiry; the foreign resident's card expires with it.
    pub expires_on: Date,
}

/// Kewarganegaraan (citizenship).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "UPPERCASE")]
pub enum Kewarganegaraan {
    /// WNI: Indonesian citizen.
    Wni,
    /// WNA: foreign resident with a permanent stay permit.
    Wna {
        /// Nationality, ISO 3166-1 alpha-3 (`JPN`).
        nationality: String,
        /// The permit.
        kitap: Kitap,
    },
}

/// The card's "Berlaku Hingga" (valid until).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BerlakuHingga {
    /// SEUMUR HIDUP: for life (citizens, since 2016).
    SeumurHidup,
    /// Until the KITAP expires (foreign residents).
    Until(Date),
}

/// Alamat (address) on the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alamat {
    /// Street, house number, hamlet ("JL. MERDEKA NO. 5").
    pub street: String,
    /// RT (neighbourhood unit), 1-999.
    pub rt: u16,
    /// RW (community unit), 1-999.
    pub rw: u16,
    /// Kelurahan/desa, a village-level code; kecamatan, regency and province follow from it.
    pub village: RegionCode,
}

/// A resident's biodata as read from the population database by NIK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Biodata {
    /// NIK.
    pub nik: Nik,
    /// Nomor KK (family card number).
    pub kk_number: KkNumber,
    /// Nama (full name, upper case as printed).
    pub name: String,
    /// Tempat lahir (place of birth).
    pub birth_place: String,
    /// Tanggal lahir: authoritative, even where the NIK's date differs.
    pub birth_date: Date,
    /// Jenis kelamin.
    pub sex: Sex,
    /// Golongan darah; `None` is printed blank.
    pub blood_type: Option<GolonganDarah>,
    /// Alamat.
    pub address: Alamat,
    /// Agama.
    pub religion: Agama,
    /// Status perkawinan.
    pub marital_status: StatusPerkawinan,
    /// Pekerjaan.
    pub occupation: Pekerjaan,
    /// Kewarganegaraan.
    pub citizenship: Kewarganegaraan,
}

/// The biodata field an error or warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Nama.
    Name,
    /// Tempat lahir.
    BirthPlace,
    /// Tanggal lahir.
    BirthDate,
    /// Jenis kelamin.
    Sex,
    /// Golongan darah.
    BloodType,
    /// Alamat: street.
    Street,
    /// RT.
    Rt,
    /// RW.
    Rw,
    /// Kelurahan/desa.
    Village,
    /// KITAP.
    Kitap,
    /// Kewarganegaraan.
    Nationality,
    /// Nomor KK.
    KkNumber,
}

impl Field {
    /// The field's name on the form.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Field::Name => lang.pick("Nama", "Name"),
            Field::BirthPlace => lang.pick("Tempat lahir", "Place of birth"),
            Field::BirthDate => lang.pick("Tanggal lahir", "Date of birth"),
            Field::Sex => lang.pick("Jenis kelamin", "Sex"),
            Field::BloodType => lang.pick("Golongan darah", "Blood type"),
            Field::Street => lang.pick("Alamat", "Street address"),
            Field::Rt => lang.pick("RT", "RT (neighbourhood)"),
            Field::Rw => lang.pick("RW", "RW (community unit)"),
            Field::Village => lang.pick("Kelurahan/desa", "Village"),
            Field::Kitap => lang.pick("KITAP", "KITAP (permanent stay permit)"),
            Field::Nationality => lang.pick("Kewarganegaraan", "Nationality"),
            Field::KkNumber => lang.pick("Nomor KK", "Family card number"),
        }
    }
}

/// Why biodata cannot be accepted. [`BiodataError::field`] names the field to correct.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BiodataError {
    /// A required text field is empty.
    #[error("{} is empty", .0.label(Lang::En))]
    Empty(Field),
    /// A character names do not have.
    #[error("{} contains {found:?}: use letters, spaces and . , ' - only", .field.label(Lang::En))]
    BadCharacter {
        /// The field.
        field: Field,
        /// The character.
        found: char,
    },
    /// Longer than the card can print.
    #[error("{} is {len} characters long; at most {max} fit on the card", .field.label(Lang::En))]
    TooLong {
        /// The field.
        field: Field,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Birth date after today.
    #[error("date of birth {0} lies in the future")]
    BirthDateInFuture(Date),
    /// RT or RW outside 1-999.
    #[error("{} must be 1-999, found {value}", .field.label(Lang::En))]
    OutOfRange {
        /// RT or RW.
        field: Field,
        /// The value.
        value: u16,
    },
    /// The address's code is not a village code.
    #[error("address region {0} is not a village (kelurahan/desa) code")]
    NotAVillage(RegionCode),
    /// The village is not in the master data.
    #[error("village {0} is not in the region master data: check the code on the family card")]
    UnknownVillage(RegionCode),
    /// Blood type not in the list.
    #[error("blood type {0:?} is not one of A, B, AB, O (optionally with + or -)")]
    BloodType(String),
    /// Nationality not a three-letter code, or WNI given as a foreign nationality.
    #[error("nationality {0:?} must be a three-letter ISO 3166 code of a country other than IDN")]
    Nationality(String),
}

impl BiodataError {
    /// The field to correct.
    pub fn field(&self) -> Field {
        match self {
            BiodataError::Empty(f)
            | BiodataError::BadCharacter { field: f, .. }
            | BiodataError::TooLong { field: f, .. }
            | BiodataError::OutOfRange { field: f, .. } => *f,
            BiodataError::BirthDateInFuture(_) => Field::BirthDate,
            BiodataError::NotAVillage(_) | BiodataError::UnknownVillage(_) => Field::Village,
            BiodataError::BloodType(_) => Field::BloodType,
            BiodataError::Nationality(_) => Field::Nationality,
        }
    }
}

impl Localized for BiodataError {
    fn localized(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        let f = self.field().label(Lang::Id);
        match self {
            BiodataError::Empty(_) => format!("{f} wajib diisi"),
            BiodataError::BadCharacter { found, .. } => {
                format!("{f} memuat {found:?}: gunakan huruf, spasi dan tanda . , ' - saja")
            }
            BiodataError::TooLong { len, max, .. } => {
                format!("{f} terdiri dari {len} karakter; paling banyak {max} muat di kartu")
            }
            BiodataError::BirthDateInFuture(d) => format!("Tanggal lahir {d} jatuh di masa depan"),
            BiodataError::OutOfRange { value, .. } => {
                format!("{f} harus 1-999, yang diisi {value}")
            }
            BiodataError::NotAVillage(c) => {
                format!("Kode wilayah alamat {c} bukan kode kelurahan/desa")
            }
            BiodataError::UnknownVillage(c) => format!(
                "Kelurahan/desa {c} tidak ada dalam data induk wilayah: periksa kode pada KK"
            ),
            BiodataError::BloodType(s) => format!(
                "Golongan darah {s:?} tidak dikenal: pilih A, B, AB atau O (boleh dengan + atau -)"
            ),
            BiodataError::Nationality(s) => {
                format!("Kewarganegaraan {s:?} harus kode negara ISO 3166 tiga huruf selain IDN")
            }
        }
    }
}

/// Something in the biodata to look at, that does not stop the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BiodataWarning {
    /// About the NIK itself.
    Nik(NikWarning),
    /// The KK number's issuing region is unknown.
    UnknownKkRegion {
        /// The unknown code.
        code: RegionCode,
    },
    /// The sex in the NIK (day +40) differs from the sex field.
    SexDiffersFromNik,
    /// No reading of the NIK's date equals the birth date; the birth date field is authoritative
    /// and the NIK is never changed to fix it.
    BirthDateDiffersFromNik,
}

impl Localized for BiodataWarning {
    fn localized(&self, lang: Lang) -> String {
        match self {
            BiodataWarning::Nik(w) => w.localized(lang),
            BiodataWarning::UnknownKkRegion { code } => lang
                .pick(
                    "Kode wilayah penerbit KK {code} tidak ada dalam data induk wilayah",
                    "The family card's issuing region {code} is not in the region master data",
                )
                .replace("{code}", &code.dotted()),
            BiodataWarning::SexDiffersFromNik => lang
                .pick(
                    "Jenis kelamin berbeda dengan yang tersandi pada NIK: pastikan dengan penduduk",
                    "Sex differs from the one encoded in the NIK: confirm with the resident",
                )
                .into(),
            BiodataWarning::BirthDateDiffersFromNik => lang
                .pick(
                    "Tanggal lahir berbeda dengan tanggal pada NIK; tanggal lahir pada biodata \
                     yang berlaku, NIK tidak diubah",
                    "Date of birth differs from the date in the NIK; the biodata's date of birth \
                     prevails and the NIK is not changed",
                )
                .into(),
        }
    }
}

const NAME_MAX: usize = 60;
const PLACE_MAX: usize = 40;
const STREET_MAX: usize = 100;

impl Biodata {
    /// "Berlaku Hingga" for this resident's card.
    pub fn berlaku_hingga(&self) -> BerlakuHingga {
        match &self.citizenship {
            Kewarganegaraan::Wni => BerlakuHingga::SeumurHidup,
            Kewarganegaraan::Wna { kitap, .. } => BerlakuHingga::Until(kitap.expires_on),
        }
    }

    /// The kecamatan of the address.
    pub fn address_kecamatan(&self) -> Option<RegionCode> {
        self.address.village.parent()
    }

    /// Checks every field. Errors stop the service until corrected; warnings are shown.
    pub fn validate(
        &self,
        today: Date,
        regions: &dyn RegionDirectory,
    ) -> Result<Vec<BiodataWarning>, BiodataError> {
        check_text(Field::Name, &self.name, NAME_MAX, true)?;
        check_text(Field::BirthPlace, &self.birth_place, PLACE_MAX, true)?;
        check_text(Field::Street, &self.address.street, STREET_MAX, false)?;
        if self.birth_date > today {
            return Err(BiodataError::BirthDateInFuture(self.birth_date));
        }
        for (field, value) in [(Field::Rt, self.address.rt), (Field::Rw, self.address.rw)] {
            if !(1..=999).contains(&value) {
                return Err(BiodataError::OutOfRange { field, value });
            }
        }
        if self.address.village.level() != RegionLevel::Village {
            return Err(BiodataError::NotAVillage(self.address.village.clone()));
        }
        if regions.region(&self.address.village).is_none() {
            return Err(BiodataError::UnknownVillage(self.address.village.clone()));
        }
        if let Kewarganegaraan::Wna { nationality, kitap } = &self.citizenship {
            let n = nationality.trim();
            if n.len() != 3 || !n.chars().all(|c| c.is_ascii_uppercase()) || n == "IDN" {
                return Err(BiodataError::Nationality(nationality.clone()));
            }
            if kitap.number.trim().is_empty() {
                return Err(BiodataError::Empty(Field::Kitap));
            }
        }

        let mut warnings = Vec::new();
        let nik_code = self.nik.kecamatan();
        if let Some(unknown) = nik_code
            .lineage()
            .into_iter()
            .find(|c| regions.region(c).is_none())
        {
            let level = unknown.level();
            warnings.push(BiodataWarning::Nik(NikWarning::UnknownRegion {
                code: unknown,
                level,
            }));
        }
        if let Some((code, _)) = self.kk_number.unknown_region(regions) {
            warnings.push(BiodataWarning::UnknownKkRegion { code });
        }
        if self.nik.sex() != self.sex {
            warnings.push(BiodataWarning::SexDiffersFromNik);
        }
        if !self
            .nik
            .birth_date_candidates(today)
            .contains(&self.birth_date)
        {
            warnings.push(BiodataWarning::BirthDateDiffersFromNik);
        }
        Ok(warnings)
    }

    /// Age in whole years on `on`.
    pub fn age_on(&self, on: Date) -> i32 {
        age_on(self.birth_date, on)
    }
}

/// Age in whole years of someone born on `birth` at date `on` (a 29 February birthday counts
/// on 1 March in common years).
pub fn age_on(birth: Date, on: Date) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        age -= 1;
    }
    age
}

fn check_text(field: Field, value: &str, max: usize, name_like: bool) -> Result<(), BiodataError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(BiodataError::Empty(field));
    }
    let len = v.chars().count();
    if len > max {
        return Err(BiodataError::TooLong { field, len, max });
    }
    let allowed = |c: char| {
        c.is_alphabetic()
            || c == ' '
            || ".,'-".contains(c)
            || (!name_like && (c.is_ascii_digit() || "/()#".contains(c)))
    };
    if let Some(found) = v.chars().find(|c| !allowed(*c)) {
        return Err(BiodataError::BadCharacter { field, found });
    }
    Ok(())
}
