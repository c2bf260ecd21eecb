//! Pekerjaan (occupation): the SIAK list of 89 coded occupations printed on the card.
//!
//! Source: the SIAK reference table as published with Permendagri population-administration
//! forms (the domain digest names 01, 02, 03, 88 and 89; the rest is the same published list).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

const LABELS: [&str; 89] = [
    "BELUM/TIDAK BEKERJA",
    "MENGURUS RUMAH TANGGA",
    "PELAJAR/MAHASISWA",
    "PENSIUNAN",
    "PEGAWAI NEGERI SIPIL",
    "TENTARA NASIONAL INDONESIA",
    "KEPOLISIAN RI",
    "PERDAGANGAN",
    "PETANI/PEKEBUN",
    "PETERNAK",
    "NELAYAN/PERIKANAN",
    "INDUSTRI",
    "KONSTRUKSI",
    "TRANSPORTASI",
    "KARYAWAN SWASTA",
    "KARYAWAN BUMN",
    "KARYAWAN BUMD",
    "KARYAWAN HONORER",
    "BURUH HARIAN LEPAS",
    "BURUH TANI/PERKEBUNAN",
    "BURUH NELAYAN/PERIKANAN",
    "BURUH PETERNAKAN",
    "PEMBANTU RUMAH TANGGA",
    "TUKANG CUKUR",
    "TUKANG LISTRIK",
    "TUKANG BATU",
    "TUKANG KAYU",
    "TUKANG SOL SEPATU",
    "TUKANG LAS/PANDAI BESI",
    "TUKANG JAHIT",
    "TUKANG GIGI",
    "PENATA RIAS",
    "PENATA BUSANA",
    "PENATA RAMBUT",
    "MEKANIK",
    "SENIMAN",
    "TABIB",
    "PARAJI",
    "PERANCANG BUSANA",
    "PENTERJEMAH",
    "IMAM MASJID",
    "PENDETA",
    "PASTOR",
    "WARTAWAN",
    "USTADZ/MUBALIGH",
    "JURU MASAK",
    "PROMOTOR ACARA",
    "ANGGOTA DPR-RI",
    "ANGGOTA DPD",
    "ANGGOTA BPK",
    "PRESIDEN",
    "WAKIL PRESIDEN",
    "ANGGOTA MAHKAMAH KONSTITUSI",
    "ANGGOTA KABINET/KEMENTERIAN",
    "DUTA BESAR",
    "GUBERNUR",
    "WAKIL GUBERNUR",
    "BUPATI",
    "WAKIL BUPATI",
    "WALIKOTA",
    "WAKIL WALIKOTA",
    "ANGGOTA DPRD PROVINSI",
    "ANGGOTA DPRD KABUPATEN/KOTA",
    "DOSEN",
    "GURU",
    "PILOT",
    "PENGACARA",
    "NOTARIS",
    "ARSITEK",
    "AKUNTAN",
    "KONSULTAN",
    "DOKTER",
    "BIDAN",
    "PERAWAT",
    "APOTEKER",
    "PSIKIATER/PSIKOLOG",
    "PENYIAR TELEVISI",
    "PENYIAR RADIO",
    "PELAUT",
    "PENELITI",
    "SOPIR",
    "PIALANG",
    "PARANORMAL",
    "PEDAGANG",
    "PERANGKAT DESA",
    "KEPALA DESA",
    "BIARAWATI",
    "WIRASWASTA",
    "LAINNYA",
];

/// An occupation from the SIAK list, by its code 01-89.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pekerjaan(u8);

impl Pekerjaan {
    /// 01 BELUM/TIDAK BEKERJA.
    pub const BELUM_TIDAK_BEKERJA: Pekerjaan = Pekerjaan(1);
    /// 88 WIRASWASTA.
    pub const WIRASWASTA: Pekerjaan = Pekerjaan(88);
    /// 89 LAINNYA.
    pub const LAINNYA: Pekerjaan = Pekerjaan(89);

    /// The occupation with this code, if the list has it.
    pub fn from_code(code: u8) -> Option<Pekerjaan> {
        (1..=89).contains(&code).then_some(Pekerjaan(code))
    }

    /// Parses a code (`88`, `8`) or a label (`wiraswasta`).
    pub fn parse(s: &str) -> Option<Pekerjaan> {
        let t = s.trim();
        if let Ok(code) = t.parse::<u8>() {
            return Self::from_code(code);
        }
        let upper = t.to_uppercase();
        LABELS
            .iter()
            .position(|l| *l == upper)
            .and_then(|i| Self::from_code(i as u8 + 1))
    }

    /// The two-digit code.
    pub fn code(self) -> u8 {
        self.0
    }

    /// The label printed on the card.
    pub fn card_label(self) -> &'static str {
        LABELS[usize::from(self.0) - 1]
    }

    /// Every occupation, by code.
    pub fn all() -> impl Iterator<Item = Pekerjaan> {
        (1..=89).map(Pekerjaan)
    }
}

impl fmt::Display for Pekerjaan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02} {}", self.0, self.card_label())
    }
}

impl Serialize for Pekerjaan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:02}", self.0))
    }
}

impl<'de> Deserialize<'de> for Pekerjaan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Pekerjaan::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown occupation {s:?}: use a SIAK code 01-89"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_round_trip() {
        let cases = [
            ("01", Some("BELUM/TIDAK BEKERJA")),
            ("1", Some("BELUM/TIDAK BEKERJA")),
            ("02", Some("MENGURUS RUMAH TANGGA")),
            ("03", Some("PELAJAR/MAHASISWA")),
            ("88", Some("WIRASWASTA")),
            ("wiraswasta", Some("WIRASWASTA")),
            ("89", Some("LAINNYA")),
            ("00", None),
            ("90", None),
            ("astronot", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                Pekerjaan::parse(input).map(Pekerjaan::card_label),
                want,
                "{input}"
            );
        }
        assert_eq!(Pekerjaan::all().count(), 89);
        for p in Pekerjaan::all() {
            assert_eq!(Pekerjaan::parse(p.card_label()), Some(p));
        }
    }
}
