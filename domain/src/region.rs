//! Region master data: provinces, regencies/cities (kabupaten/kota), kecamatan and villages
//! (kelurahan/desa), with the Ministry's dotted codes (`32.73.01.1001`).
//!
//! The data is the ODbL data set in `fixtures/regions/` (see its `SOURCE.md`), compiled into the
//! binary so that a station never depends on files beside it. Region codes change over time (the
//! Papua provinces 93-96 appeared in 2022), so an unknown code in a NIK is a warning, never a
//! refusal (domain digest, "Facts from public sources").

use rekam_i18n::{Lang, Localized};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

const PROVINCES_CSV: &str = include_str!("../../fixtures/regions/provinces.csv");
const REGENCIES_CSV: &str = include_str!("../../fixtures/regions/regencies.csv");
const DISTRICTS_CSV: &str = include_str!("../../fixtures/regions/districts.csv");
const VILLAGES_CSV: &str = include_str!("../../fixtures/regions/villages.csv");

/// Attribution that must travel with any database made from the region data (ODbL 1.0).
pub const ATTRIBUTION: &str = "Region codes: idn-area-data 4.0.1, Open Database License (ODbL) 1.0";

/// The administrative level of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// Provinsi.
    Province,
    /// Kabupaten/kota.
    Regency,
    /// Kecamatan (sub-district): the level of a station and of a NIK's first six digits.
    Kecamatan,
    /// Kelurahan/desa (village).
    Village,
}

impl RegionLevel {
    /// How many digits a code of this level has.
    pub fn digits(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::Regency => 4,
            RegionLevel::Kecamatan => 6,
            RegionLevel::Village => 10,
        }
    }

    fn from_digits(n: usize) -> Option<Self> {
        [
            RegionLevel::Province,
            RegionLevel::Regency,
            RegionLevel::Kecamatan,
            RegionLevel::Village,
        ]
        .into_iter()
        .find(|l| l.digits() == n)
    }

    /// Name of the level for an operator.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            RegionLevel::Province => lang.pick("provinsi", "province"),
            RegionLevel::Regency => lang.pick("kabupaten/kota", "regency/city"),
            RegionLevel::Kecamatan => lang.pick("kecamatan", "sub-district (kecamatan)"),
            RegionLevel::Village => lang.pick("kelurahan/desa", "village"),
        }
    }

    /// Stable lower-case name used in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::Regency => "regency",
            RegionLevel::Kecamatan => "kecamatan",
            RegionLevel::Village => "village",
        }
    }
}

impl FromStr for RegionLevel {
    type Err = RegionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "province" => Ok(RegionLevel::Province),
            "regency" => Ok(RegionLevel::Regency),
            "kecamatan" => Ok(RegionLevel::Kecamatan),
            "village" => Ok(RegionLevel::Village),
            _ => Err(RegionError::UnknownLevel(s.to_owned())),
        }
    }
}

/// A region code of any level, kept in its canonical digits (`3273011001`); shown dotted.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    /// Parses a dotted (`32.73.01`) or compact (`327301`) code of 2, 4, 6 or 10 digits. Parts
    /// of zeros (`00`) are refused: no region has them.
    pub fn parse(input: &str) -> Result<Self, RegionError> {
        let trimmed = input.trim();
        let compact: String = trimmed.chars().filter(|c| *c != '.').collect();
        if compact.is_empty() || !compact.chars().all(|c| c.is_ascii_digit()) {
            return Err(RegionError::Malformed(trimmed.to_owned()));
        }
        let level = RegionLevel::from_digits(compact.len())
            .ok_or_else(|| RegionError::Malformed(trimmed.to_owned()))?;
        if trimmed.contains('.') && dotted_of(&compact) != trimmed {
            return Err(RegionError::Malformed(trimmed.to_owned()));
        }
        let code = RegionCode(compact);
        if code.part_values().any(|v| v == 0) {
            return Err(RegionError::ZeroPart(trimmed.to_owned()));
        }
        debug_assert_eq!(code.level(), level);
        Ok(code)
    }

    /// The level this code names.
    pub fn level(&self) -> RegionLevel {
        RegionLevel::from_digits(self.0.len()).unwrap_or(RegionLevel::Village)
    }

    /// The code without dots.
    pub fn compact(&self) -> &str {
        &self.0
    }

    /// The code with dots, as the Ministry writes it.
    pub fn dotted(&self) -> String {
        dotted_of(&self.0)
    }

    /// The enclosing region's code, if any.
    pub fn parent(&self) -> Option<RegionCode> {
        let n = match self.level() {
            RegionLevel::Province => return None,
            RegionLevel::Regency => 2,
            RegionLevel::Kecamatan => 4,
            RegionLevel::Village => 6,
        };
        Some(RegionCode(self.0[..n].to_owned()))
    }

    /// This code and its ancestors, province first.
    pub fn lineage(&self) -> Vec<RegionCode> {
        let mut out = vec![self.clone()];
        while let Some(p) = out.last().and_then(RegionCode::parent) {
            out.push(p);
        }
        out.reverse();
        out
    }

    fn part_values(&self) -> impl Iterator<Item = u32> + '_ {
        let bounds: &[(usize, usize)] = &[(0, 2), (2, 4), (4, 6), (6, 10)];
        bounds
            .iter()
            .filter(|(_, end)| *end <= self.0.len())
            .map(|(s, e)| self.0[*s..*e].parse::<u32>().unwrap_or(0))
    }
}

fn dotted_of(compact: &str) -> String {
    let cuts: &[usize] = &[2, 4, 6];
    let mut out = String::with_capacity(compact.len() + 3);
    for (i, c) in compact.chars().enumerate() {
        if cuts.contains(&i) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dotted())
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.dotted())
    }
}

impl FromStr for RegionCode {
    type Err = RegionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = RegionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(c: RegionCode) -> String {
        c.dotted()
    }
}

/// One region of the master data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// Its code.
    pub code: RegionCode,
    /// Its name as the data set writes it ("Kabupaten Aceh Selatan", "Sukasari").
    pub name: String,
}

impl Region {
    /// The level of this region.
    pub fn level(&self) -> RegionLevel {
        self.code.level()
    }
}

/// Errors about region codes and the master data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    /// Not 2, 4, 6 or 10 digits, or dots in the wrong places.
    #[error("region code {0:?} is malformed: use 2, 4, 6 or 10 digits, e.g. 32.73.01")]
    Malformed(String),
    /// A part of zeros.
    #[error("region code {0:?} has a part of zeros, which no region has")]
    ZeroPart(String),
    /// No region with this code in the master data.
    #[error("no {level} with code {code} in the region master data", level = .code.level().as_str())]
    NotFound {
        /// The code looked up.
        code: RegionCode,
    },
    /// A level name that is not one of ours.
    #[error("unknown region level {0:?}")]
    UnknownLevel(String),
    /// The embedded data set could not be read (a build defect).
    #[error("region master data is corrupt: {0}")]
    CorruptData(String),
}

impl Localized for RegionError {
    fn localized(&self, lang: Lang) -> String {
        match (self, lang) {
            (RegionError::Malformed(s), Lang::Id) => format!(
                "Kode wilayah {s:?} tidak sah: gunakan 2, 4, 6 atau 10 digit, misalnya 32.73.01"
            ),
            (RegionError::ZeroPart(s), Lang::Id) => {
                format!("Kode wilayah {s:?} memuat bagian 00, yang tidak dimiliki wilayah mana pun")
            }
            (RegionError::NotFound { code }, Lang::Id) => format!(
                "Tidak ada {} dengan kode {code} dalam data induk wilayah",
                code.level().label(Lang::Id)
            ),
            (RegionError::UnknownLevel(s), Lang::Id) => {
                format!("Tingkat wilayah {s:?} tidak dikenal")
            }
            (RegionError::CorruptData(s), Lang::Id) => format!("Data induk wilayah rusak: {s}"),
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// Where names of regions can be looked up by code: the embedded data set, or the station store.
pub trait RegionDirectory {
    /// The region with this code, if the master data has it.
    fn region(&self, code: &RegionCode) -> Option<Region>;

    /// The region and each of its ancestors that the master data has, province first.
    fn lineage(&self, code: &RegionCode) -> Vec<Option<Region>> {
        code.lineage().iter().map(|c| self.region(c)).collect()
    }
}

/// The region master data as compiled into the binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmbeddedRegions;

impl EmbeddedRegions {
    /// Every region of `level`, in file order.
    pub fn iter(level: RegionLevel) -> Result<Vec<Region>, RegionError> {
        let csv_text = match level {
            RegionLevel::Province => PROVINCES_CSV,
            RegionLevel::Regency => REGENCIES_CSV,
            RegionLevel::Kecamatan => DISTRICTS_CSV,
            RegionLevel::Village => VILLAGES_CSV,
        };
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let mut out = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| RegionError::CorruptData(e.to_string()))?;
            let code = record
                .get(0)
                .ok_or_else(|| RegionError::CorruptData("missing code column".into()))?;
            let name = record
                .get(record.len().saturating_sub(1))
                .ok_or_else(|| RegionError::CorruptData("missing name column".into()))?;
            let code = RegionCode::parse(code)?;
            if code.level() != level {
                return Err(RegionError::CorruptData(format!(
                    "{code} listed among {}",
                    level.as_str()
                )));
            }
            out.push(Region {
                code,
                name: name.to_owned(),
            });
        }
        Ok(out)
    }

    /// A fingerprint of the embedded data, so a store knows when its copy is stale.
    pub fn version() -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [PROVINCES_CSV, REGENCIES_CSV, DISTRICTS_CSV, VILLAGES_CSV] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(&h.finalize()[..8])
    }

    /// An in-memory index of provinces, regencies and kecamatan (enough to check a NIK; villages
    /// are looked up in the store).
    pub fn index() -> Result<RegionIndex, RegionError> {
        let mut map = HashMap::new();
        for level in [
            RegionLevel::Province,
            RegionLevel::Regency,
            RegionLevel::Kecamatan,
        ] {
            for region in Self::iter(level)? {
                map.insert(region.code.clone(), region);
            }
        }
        Ok(RegionIndex(map))
    }
}

/// Regions held in memory, looked up by code.
#[derive(Debug, Clone, Default)]
pub struct RegionIndex(HashMap<RegionCode, Region>);

impl RegionIndex {
    /// An index over the given regions.
    pub fn from_regions(regions: impl IntoIterator<Item = Region>) -> Self {
        RegionIndex(regions.into_iter().map(|r| (r.code.clone(), r)).collect())
    }

    /// How many regions it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl RegionDirectory for RegionIndex {
    fn region(&self, code: &RegionCode) -> Option<Region> {
        self.0.get(code).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_in_both_forms_and_refuse_garbage() {
        type Want = Result<(&'static str, RegionLevel), ()>;
        let cases: &[(&str, Want)] = &[
            ("32", Ok(("32", RegionLevel::Province))),
            ("32.73", Ok(("32.73", RegionLevel::Regency))),
            ("3273", Ok(("32.73", RegionLevel::Regency))),
            ("32.73.01", Ok(("32.73.01", RegionLevel::Kecamatan))),
            (" 327301 ", Ok(("32.73.01", RegionLevel::Kecamatan))),
            ("32.73.01.1001", Ok(("32.73.01.1001", RegionLevel::Village))),
            ("3273011001", Ok(("32.73.01.1001", RegionLevel::Village))),
            ("", Err(())),
            ("3", Err(())),
            ("32737", Err(())),
            ("32.7301", Err(())),
            ("327.301", Err(())),
            ("00", Err(())),
            ("32.00.01", Err(())),
            ("32.73.00", Err(())),
            ("32.73.01.0000", Err(())),
            ("3a.73", Err(())),
            ("32-73", Err(())),
        ];
        for (input, want) in cases {
            let got = RegionCode::parse(input).map(|c| (c.dotted(), c.level()));
            match (want, got) {
                (Ok((dotted, level)), Ok((d, l))) => {
                    assert_eq!((d.as_str(), l), (*dotted, *level), "input {input:?}")
                }
                (Err(()), Err(_)) => {}
                (want, got) => panic!("input {input:?}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn lineage_walks_up_to_the_province() {
        let code = RegionCode::parse("32.73.01.1001").unwrap();
        let dotted: Vec<String> = code.lineage().iter().map(RegionCode::dotted).collect();
        assert_eq!(dotted, ["32", "32.73", "32.73.01", "32.73.01.1001"]);
    }

    #[test]
    fn embedded_data_has_the_published_counts() {
        let counts: Vec<usize> = [
            RegionLevel::Province,
            RegionLevel::Regency,
            RegionLevel::Kecamatan,
            RegionLevel::Village,
        ]
        .into_iter()
        .map(|l| EmbeddedRegions::iter(l).unwrap().len())
        .collect();
        // SOURCE.md: 38 provinces, 514 regencies/cities, 7,285 kecamatan, 83,762 villages.
        assert_eq!(counts, [38, 514, 7285, 83762]);
    }

    #[test]
    fn names_with_commas_survive_csv_quoting() {
        let villages = EmbeddedRegions::iter(RegionLevel::Village).unwrap();
        let v = villages
            .iter()
            .find(|r| r.code.dotted() == "12.07.28.1007")
            .unwrap();
        assert_eq!(v.name, "Lubuk Pakam I,II");
    }

    #[test]
    fn index_knows_new_papua_provinces_and_bandung() {
        let idx = EmbeddedRegions::index().unwrap();
        let sukasari = idx.region(&RegionCode::parse("32.73.01").unwrap()).unwrap();
        assert_eq!(sukasari.name, "Sukasari");
        let names: Vec<Option<String>> = idx
            .lineage(&RegionCode::parse("327301").unwrap())
            .into_iter()
            .map(|r| r.map(|r| r.name))
            .collect();
        assert_eq!(
            names,
            [
                Some("Jawa Barat".to_owned()),
                Some("Kota Bandung".to_owned()),
                Some("Sukasari".to_owned())
            ]
        );
        assert!(idx.region(&RegionCode::parse("96").unwrap()).is_some());
    }
}
