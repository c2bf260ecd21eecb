//! Residents: biodata that passes Rekam's own validation, with the shares of a real
//! kecamatan, and the edge cases eligibility must handle.

use crate::finger::FingerPosition;
use crate::names;
use crate::seed::Seed;
use rand::Rng;
use rand::seq::IndexedRandom;
use rekam_domain::biodata::{
    AboGroup, Agama, Alamat, Biodata, GolonganDarah, Kewarganegaraan, Kitap, StatusPerkawinan,
};
use rekam_domain::kk::KkNumber;
use rekam_domain::nik::{Nik, Sex};
use rekam_domain::pekerjaan::Pekerjaan;
use rekam_domain::region::{EmbeddedRegions, Region, RegionCode, RegionLevel};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::{Date, Duration, Month};

/// A deliberate case for eligibility, recording and handover to handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeCase {
    /// Not in the population database: no NIK (refer to F-1.07).
    NoNik,
    /// 15 or 16 and never married: refused.
    Under17,
    /// 16 and married: eligible by marriage.
    MarriedUnder17,
    /// Already recorded before: recording refused, routed to reissue.
    AlreadyRecorded,
    /// A foreign resident whose KITAP has expired.
    KitapExpired,
    /// A finger that cannot be captured (amputated or bandaged): an exception.
    MissingFinger,
}

/// Why a finger cannot be captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingReason {
    /// Amputated: permanent.
    Amputated,
    /// Bandaged: temporary.
    Bandaged,
}

/// A finger that cannot be captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingFinger {
    /// Which.
    pub position: FingerPosition,
    /// Why.
    pub reason: MissingReason,
}

/// One synthetic resident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    /// Stable id within a set (`R0007`).
    pub id: String,
    /// Index within the seed's sequence.
    pub index: u64,
    /// The population database's record; `None` for a resident without a NIK.
    pub biodata: Option<Biodata>,
    /// Name as the resident states it (the biodata's name when there is biodata).
    pub stated_name: String,
    /// Sex, also for residents without biodata (their biometrics need it).
    pub sex: Sex,
    /// Birth date, also for residents without biodata.
    pub birth_date: Date,
    /// The edge case this resident stands for, if any.
    pub edge_case: Option<EdgeCase>,
    /// For [`EdgeCase::AlreadyRecorded`]: the earlier recording's reference.
    pub prior_recording: Option<String>,
    /// Fingers that cannot be captured.
    pub missing_fingers: Vec<MissingFinger>,
    /// The date ages and expiries were computed for.
    pub as_of: Date,
}

/// The region data the generator draws from, loaded once.
#[derive(Debug)]
pub struct RegionPool {
    kecamatan: Vec<Region>,
    villages: HashMap<RegionCode, Vec<Region>>,
    regencies: HashMap<RegionCode, String>,
}

impl RegionPool {
    /// Loads the region master data compiled into `rekam`.
    pub fn load() -> Result<RegionPool, rekam_domain::region::RegionError> {
        let kecamatan = EmbeddedRegions::iter(RegionLevel::Kecamatan)?;
        let mut villages: HashMap<RegionCode, Vec<Region>> = HashMap::new();
        for v in EmbeddedRegions::iter(RegionLevel::Village)? {
            if let Some(p) = v.code.parent() {
                villages.entry(p).or_default().push(v);
            }
        }
        let regencies = EmbeddedRegions::iter(RegionLevel::Regency)?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect();
        // Only kecamatan that have villages can house a resident.
        let kecamatan = kecamatan
            .into_iter()
            .filter(|k| villages.contains_key(&k.code))
            .collect();
        Ok(RegionPool {
            kecamatan,
            villages,
            regencies,
        })
    }

    fn kecamatan(&self, rng: &mut impl Rng) -> &Region {
        self.kecamatan
            .choose(rng)
            .unwrap_or_else(|| unreachable!("the master data has kecamatan"))
    }

    fn village_in(&self, kecamatan: &RegionCode, rng: &mut impl Rng) -> &Region {
        self.villages
            .get(kecamatan)
            .and_then(|v| v.choose(rng))
            .unwrap_or_else(|| unreachable!("pool kecamatan all have villages"))
    }

    fn birth_place(&self, kecamatan: &RegionCode) -> String {
        let regency = kecamatan
            .parent()
            .and_then(|r| self.regencies.get(&r))
            .map(String::as_str)
            .unwrap_or("JAKARTA");
        regency
            .trim_start_matches("Kabupaten Administrasi ")
            .trim_start_matches("Kota Administrasi ")
            .trim_start_matches("Kabupaten ")
            .trim_start_matches("Kota ")
            .to_uppercase()
    }
}

/// The edge case of resident `index`: the first eight residents of every set cover them all,
/// so any set of eight or more has each; later ones draw at realistic rates.
fn edge_case_for(index: u64, rng: &mut impl Rng) -> (Option<EdgeCase>, bool) {
    match index {
        0 => (None, false),
        1 => (None, true),
        2 => (Some(EdgeCase::NoNik), false),
        3 => (Some(EdgeCase::Under17), false),
        4 => (Some(EdgeCase::MarriedUnder17), false),
        5 => (Some(EdgeCase::AlreadyRecorded), false),
        6 => (Some(EdgeCase::MissingFinger), false),
        7 => (Some(EdgeCase::KitapExpired), true),
        _ => {
            let foreign = rng.random_bool(0.03);
            let u: f64 = rng.random_range(0.0..1.0);
            let case = match u {
                u if u < 0.03 => Some(EdgeCase::NoNik),
                u if u < 0.06 => Some(EdgeCase::Under17),
                u if u < 0.08 => Some(EdgeCase::MarriedUnder17),
                u if u < 0.12 => Some(EdgeCase::AlreadyRecorded),
                u if u < 0.14 => Some(EdgeCase::MissingFinger),
                u if u < 0.15 && foreign => Some(EdgeCase::KitapExpired),
                _ => None,
            };
            (case, foreign)
        }
    }
}

/// Generates resident `index` of the sequence seeded by `seed`, as of `as_of`.
pub fn resident(seed: Seed, index: u64, pool: &RegionPool, as_of: Date) -> Resident {
    let mut rng = seed.child_n("resident", index).child("biodata").rng();
    let (edge_case, foreign) = edge_case_for(index, &mut rng);
    let sex = if rng.random_bool(0.5) {
        Sex::Male
    } else {
        Sex::Female
    };

    let age_years = match edge_case {
        Some(EdgeCase::Under17) => rng.random_range(15..17),
        Some(EdgeCase::MarriedUnder17) => 16,
        _ => {
            // Triangular towards the young: most recordings are of new 17-year-olds and adults.
            let a: f64 = rng.random_range(0.0..1.0);
            let b: f64 = rng.random_range(0.0..1.0);
            17 + (a.min(b) * 68.0) as i32
        }
    };
    let birth_date = as_of - Duration::days(i64::from(age_years) * 365 + rng.random_range(1..360));

    let kec = pool.kecamatan(&mut rng).clone();
    let moved = rng.random_bool(0.15);
    let home_kec = if moved {
        pool.kecamatan(&mut rng).clone()
    } else {
        kec.clone()
    };
    let village = pool.village_in(&home_kec.code, &mut rng).clone();
    let province = &kec.code.compact()[..2];

    let (name, nationality) = if foreign {
        let (nat, men, women, family, family_first) = names::FOREIGN
            .choose(&mut rng)
            .copied()
            .unwrap_or(names::FOREIGN[0]);
        let g = pick(&mut rng, sex, men, women);
        let f = family.choose(&mut rng).copied().unwrap_or("");
        let name = match (f.is_empty(), family_first) {
            (true, _) => g.to_owned(),
            (false, true) => format!("{f} {g}"),
            (false, false) => format!("{g} {f}"),
        };
        (name, Some(nat))
    } else {
        (indonesian_name(&mut rng, sex, province), None)
    };

    let id = format!("R{index:04}");
    let missing_fingers = if edge_case == Some(EdgeCase::MissingFinger) {
        let position = *FingerPosition::ALL
            .choose(&mut rng)
            .unwrap_or(&FingerPosition::LeftLittle);
        let reason = if rng.random_bool(0.5) {
            MissingReason::Amputated
        } else {
            MissingReason::Bandaged
        };
        vec![MissingFinger { position, reason }]
    } else {
        vec![]
    };

    let biodata = (edge_case != Some(EdgeCase::NoNik)).then(|| {
        let nik = make_nik(&kec.code, birth_date, sex, &mut rng);
        let kk_issued = as_of - Duration::days(rng.random_range(30..7000));
        let kk_number = make_kk(
            village.code.parent().as_ref().unwrap_or(&kec.code),
            kk_issued,
            &mut rng,
        );
        let marital_status = match edge_case {
            Some(EdgeCase::MarriedUnder17) => StatusPerkawinan::Kawin,
            Some(EdgeCase::Under17) => StatusPerkawinan::BelumKawin,
            _ => marital_status(age_years, &mut rng),
        };
        let citizenship = match nationality {
            None => Kewarganegaraan::Wni,
            Some(nat) => {
                let expires_on = if edge_case == Some(EdgeCase::KitapExpired) {
                    as_of - Duration::days(rng.random_range(1..200))
                } else {
                    as_of + Duration::days(rng.random_range(200..1800))
                };
                Kewarganegaraan::Wna {
                    nationality: nat.to_owned(),
                    kitap: Kitap {
                        number: format!(
                            "2C11{}{}{:04}",
                            char::from(b'A' + rng.random_range(0..26u8)),
                            char::from(b'A' + rng.random_range(0..26u8)),
                            rng.random_range(1..10000)
                        ),
                        expires_on,
                    },
                }
            }
        };
        let street = if village.code.compact().as_bytes()[6] == b'2' {
            format!(
                "DUSUN {}",
                names::STREETS.choose(&mut rng).copied().unwrap_or("RAYA")
            )
        } else {
            format!(
                "JL. {} NO. {}",
                names::STREETS.choose(&mut rng).copied().unwrap_or("RAYA"),
                rng.random_range(1..200)
            )
        };
        Biodata {
            nik,
            kk_number,
            name: name.clone(),
            birth_place: pool.birth_place(&kec.code),
            birth_date,
            sex,
            blood_type: blood_type(&mut rng),
            address: Alamat {
                street,
                rt: rng.random_range(1..20),
                rw: rng.random_range(1..15),
                village: village.code.clone(),
            },
            religion: religion(&mut rng, province),
            marital_status,
            occupation: occupation(age_years, sex, &mut rng),
            citizenship,
        }
    });

    Resident {
        prior_recording: (edge_case == Some(EdgeCase::AlreadyRecorded))
            .then(|| format!("ENR-PRIOR-{id}")),
        id,
        index,
        biodata,
        stated_name: name,
        sex,
        birth_date,
        edge_case,
        missing_fingers,
        as_of,
    }
}

/// A name from the men's or the women's list.
fn pick(
    rng: &mut impl Rng,
    sex: Sex,
    men: &'static [&'static str],
    women: &'static [&'static str],
) -> &'static str {
    let list = if sex == Sex::Male { men } else { women };
    list.choose(rng).copied().unwrap_or_default()
}

fn indonesian_name(rng: &mut impl Rng, sex: Sex, province: &str) -> String {
    let given = |rng: &mut _| pick(rng, sex, names::MALE, names::FEMALE);
    let second = |rng: &mut _| pick(rng, sex, names::SECOND_MALE, names::SECOND_FEMALE);
    match province {
        "51" => {
            let (m, f) = names::BALI_ORDER
                .choose(rng)
                .copied()
                .unwrap_or(names::BALI_ORDER[0]);
            format!("{} {}", if sex == Sex::Male { m } else { f }, given(rng))
        }
        "12" if rng.random_bool(0.6) => {
            format!(
                "{} {}",
                given(rng),
                names::BATAK_CLAN.choose(rng).copied().unwrap_or("LUBIS")
            )
        }
        _ => match rng.random_range(0..10) {
            0..=2 => given(rng).to_owned(),
            3..=7 => format!("{} {}", given(rng), second(rng)),
            _ => format!("{} {} {}", given(rng), given(rng), second(rng)),
        },
    }
}

fn make_nik(kecamatan: &RegionCode, birth: Date, sex: Sex, rng: &mut impl Rng) -> Nik {
    // About 2% of real NIKs carry a date that differs from the birth date (never corrected).
    let date = if rng.random_bool(0.02) {
        birth - Duration::days(rng.random_range(1..40))
    } else {
        birth
    };
    let day = date.day() + if sex == Sex::Female { 40 } else { 0 };
    let text = format!(
        "{}{:02}{:02}{:02}{:04}",
        kecamatan.compact(),
        day,
        date.month() as u8,
        date.year() % 100,
        rng.random_range(1..10000)
    );
    Nik::parse(&text).unwrap_or_else(|e| unreachable!("generated NIK {text} invalid: {e}"))
}

fn make_kk(kecamatan: &RegionCode, issued: Date, rng: &mut impl Rng) -> KkNumber {
    let text = format!(
        "{}{:02}{:02}{:02}{:04}",
        kecamatan.compact(),
        issued.day(),
        issued.month() as u8,
        issued.year() % 100,
        rng.random_range(1..10000)
    );
    KkNumber::parse(&text).unwrap_or_else(|e| unreachable!("generated KK {text} invalid: {e}"))
}

fn marital_status(age: i32, rng: &mut impl Rng) -> StatusPerkawinan {
    let u: f64 = rng.random_range(0.0..1.0);
    let (never, married, divorced) = match age {
        ..=24 => (0.8, 0.18, 0.02),
        25..=40 => (0.25, 0.68, 0.05),
        _ => (0.06, 0.74, 0.08),
    };
    if u < never {
        StatusPerkawinan::BelumKawin
    } else if u < never + married {
        StatusPerkawinan::Kawin
    } else if u < never + married + divorced {
        StatusPerkawinan::CeraiHidup
    } else {
        StatusPerkawinan::CeraiMati
    }
}

fn religion(rng: &mut impl Rng, province: &str) -> Agama {
    if province == "51" && rng.random_bool(0.85) {
        return Agama::Hindu;
    }
    let u: f64 = rng.random_range(0.0..100.0);
    match u {
        u if u < 87.0 => Agama::Islam,
        u if u < 94.3 => Agama::Kristen,
        u if u < 97.4 => Agama::Katholik,
        u if u < 99.1 => Agama::Hindu,
        u if u < 99.8 => Agama::Budha,
        u if u < 99.9 => Agama::Khonghucu,
        _ => Agama::Kepercayaan,
    }
}

fn occupation(age: i32, sex: Sex, rng: &mut impl Rng) -> Pekerjaan {
    let code = match rng.random_range(0..100) {
        0..=39 if age <= 22 => 3,
        0..=24 if sex == Sex::Female => 2,
        0..=14 => 88,
        15..=29 => 15,
        30..=41 => 9,
        42..=49 => 19,
        50..=52 => 5,
        53..=55 if age >= 58 => 4,
        _ => rng.random_range(1..=89),
    };
    Pekerjaan::from_code(code).unwrap_or(Pekerjaan::LAINNYA)
}

fn blood_type(rng: &mut impl Rng) -> Option<GolonganDarah> {
    if rng.random_bool(0.4) {
        return None;
    }
    let group = match rng.random_range(0..100) {
        0..=36 => AboGroup::O,
        37..=65 => AboGroup::B,
        66..=91 => AboGroup::A,
        _ => AboGroup::Ab,
    };
    let rhesus_positive = rng.random_bool(0.6).then(|| rng.random_bool(0.99));
    Some(GolonganDarah {
        group,
        rhesus_positive,
    })
}

/// A fixed date for reproducible sets (the committed fixtures use it).
pub fn reference_date() -> Date {
    Date::from_calendar_date(2026, Month::November, 22).unwrap_or(Date::MIN)
}
