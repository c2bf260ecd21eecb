//! Who may be served under which case (domain digest, "Rules (warnings) from the seeds").
//!
//! - No NIK, no service: refer to biodata registration with form F-1.07 (seeds 003, 004).
//! - Recording needs age 17 by the birth certificate (seed 003), or marriage now or before.
//! - Recording happens once per person, ever: anyone already recorded is routed to a reissue;
//!   a lost card, wrong data, a move or a failed handover never allows a second recording
//!   (seed 002).
//! - A reissue needs an earlier recording.
//! - Foreign residents are served under their own case, with a KITAP that has not expired
//!   (seed 000).

use super::biodata::{Biodata, Kewarganegaraan, age_on};
use super::case::CaseType;
use rekam_i18n::{Lang, Localized};
use serde::Serialize;
use time::Date;

/// Minimum age for a card (seed 003: "Batas minimal pembuatan e-KTP 17 tahun").
pub const MINIMUM_AGE: i32 = 17;

/// Whether the resident's biometrics were already recorded, as far as the station knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RecordingStatus {
    /// No recording known.
    NotRecorded,
    /// Recorded before; `reference` names the earlier record (enrollment id or data-center id).
    Recorded {
        /// The earlier record.
        reference: String,
    },
}

/// The person at the counter.
#[derive(Debug, Clone, Copy)]
pub enum Applicant<'a> {
    /// No NIK: not in the population database.
    NoNik,
    /// Found in the population database by NIK.
    Known {
        /// Their biodata.
        biodata: &'a Biodata,
        /// Whether they were recorded before.
        recording: &'a RecordingStatus,
    },
}

/// What to do with a refused applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum Route {
    /// Biodata registration in SIAK with form F-1.07, to obtain a NIK.
    BiodataRegistration,
    /// Come back on the 17th birthday.
    ComeBackOn {
        /// The date.
        date: Date,
    },
    /// Serve under another case.
    Case {
        /// The case to use instead.
        case: CaseType,
    },
    /// Renew the KITAP at the immigration office first.
    RenewKitap,
    /// Serve under the reissue case that fits why they came (lost, damaged, data change,
    /// moving in): the card is printed from the data center's clean data, with no recording.
    Reissue,
}

/// Why an applicant cannot be served under the chosen case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RefusalReason {
    /// No NIK.
    NoNik,
    /// Younger than 17 and never married.
    UnderAge {
        /// Age today.
        age: i32,
    },
    /// Already recorded: never a second recording.
    AlreadyRecorded {
        /// The earlier record.
        reference: String,
    },
    /// A reissue was asked for someone never recorded.
    NotRecorded,
    /// A foreign resident under a citizen's case.
    ForeignResidentCase,
    /// A citizen under the foreign resident's case.
    CitizenCase,
    /// The KITAP has expired.
    KitapExpired {
        /// When it expired.
        expired_on: Date,
    },
}

/// A refusal: a stable code, the reason, and where to send the resident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// Stable code for reports and the UI (`ELIG_NO_NIK`).
    pub code: &'static str,
    /// Why.
    pub reason: RefusalReason,
    /// Where next.
    pub route: Route,
}

/// The outcome of an eligibility check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Eligibility {
    /// May be served.
    Eligible {
        /// Eligible only because married or ever married while under 17: ask for the civil
        /// status certificate.
        by_marriage: bool,
    },
    /// Refused.
    Refused(Refusal),
}

/// Decides whether `applicant` may be served under `case` on `today`.
pub fn assess(case: CaseType, applicant: Applicant<'_>, today: Date) -> Eligibility {
    let refuse = |code, reason, route| {
        Eligibility::Refused(Refusal {
            code,
            reason,
            route,
        })
    };
    let (biodata, recording) = match applicant {
        Applicant::NoNik => {
            return refuse(
                "ELIG_NO_NIK",
                RefusalReason::NoNik,
                Route::BiodataRegistration,
            );
        }
        Applicant::Known { biodata, recording } => (biodata, recording),
    };

    match (&biodata.citizenship, case) {
        (Kewarganegaraan::Wna { .. }, c) if c != CaseType::ForeignResident && c.is_recording() => {
            return refuse(
                "ELIG_FOREIGN_CASE",
                RefusalReason::ForeignResidentCase,
                Route::Case {
                    case: CaseType::ForeignResident,
                },
            );
        }
        (Kewarganegaraan::Wni, CaseType::ForeignResident) => {
            return refuse(
                "ELIG_CITIZEN_CASE",
                RefusalReason::CitizenCase,
                Route::Case {
                    case: CaseType::NewRecording,
                },
            );
        }
        (Kewarganegaraan::Wna { kitap, .. }, _) if kitap.expires_on < today => {
            return refuse(
                "ELIG_KITAP_EXPIRED",
                RefusalReason::KitapExpired {
                    expired_on: kitap.expires_on,
                },
                Route::RenewKitap,
            );
        }
        _ => {}
    }

    if case.is_recording() {
        if let RecordingStatus::Recorded { reference } = recording {
            return refuse(
                "ELIG_ALREADY_RECORDED",
                RefusalReason::AlreadyRecorded {
                    reference: reference.clone(),
                },
                Route::Reissue,
            );
        }
        let age = age_on(biodata.birth_date, today);
        if age < MINIMUM_AGE {
            if biodata.marital_status.ever_married() {
                return Eligibility::Eligible { by_marriage: true };
            }
            return refuse(
                "ELIG_UNDER_AGE",
                RefusalReason::UnderAge { age },
                Route::ComeBackOn {
                    date: seventeenth_birthday(biodata.birth_date),
                },
            );
        }
    } else if *recording == RecordingStatus::NotRecorded {
        return refuse(
            "ELIG_NOT_RECORDED",
            RefusalReason::NotRecorded,
            Route::Case {
                case: if matches!(biodata.citizenship, Kewarganegaraan::Wna { .. }) {
                    CaseType::ForeignResident
                } else {
                    CaseType::NewRecording
                },
            },
        );
    }
    Eligibility::Eligible { by_marriage: false }
}

/// The 17th birthday (1 March for someone born on 29 February whose 17th year is common).
pub fn seventeenth_birthday(birth: Date) -> Date {
    let year = birth.year() + MINIMUM_AGE;
    Date::from_calendar_date(year, birth.month(), birth.day())
        .or_else(|_| Date::from_calendar_date(year, time::Month::March, 1))
        .unwrap_or(birth)
}

impl Localized for Refusal {
    fn localized(&self, lang: Lang) -> String {
        let why = match (&self.reason, lang) {
            (RefusalReason::NoNik, Lang::Id) => {
                "Penduduk belum memiliki NIK, sehingga belum dapat dilayani".to_owned()
            }
            (RefusalReason::NoNik, Lang::En) => {
                "The resident has no NIK and cannot be served yet".to_owned()
            }
            (RefusalReason::UnderAge { age }, Lang::Id) => {
                format!("Umur penduduk {age} tahun: belum 17 tahun dan belum pernah kawin")
            }
            (RefusalReason::UnderAge { age }, Lang::En) => {
                format!("The resident is {age}: under 17 and never married")
            }
            (RefusalReason::AlreadyRecorded { reference }, Lang::Id) => format!(
                "Penduduk sudah pernah direkam (rekaman {reference}). Perekaman hanya satu kali \
                 seumur hidup; perekaman kedua terbaca sebagai identitas ganda"
            ),
            (RefusalReason::AlreadyRecorded { reference }, Lang::En) => format!(
                "The resident was already recorded (record {reference}). Recording happens once \
                 in a lifetime; a second one reads as a duplicate identity"
            ),
            (RefusalReason::NotRecorded, Lang::Id) => {
                "Penduduk belum pernah direkam, sehingga KTP-el tidak dapat diterbitkan ulang"
                    .to_owned()
            }
            (RefusalReason::NotRecorded, Lang::En) => {
                "The resident was never recorded, so no card can be reissued".to_owned()
            }
            (RefusalReason::ForeignResidentCase, Lang::Id) => {
                "Penduduk berkewarganegaraan asing (WNA)".to_owned()
            }
            (RefusalReason::ForeignResidentCase, Lang::En) => {
                "The resident is a foreign national".to_owned()
            }
            (RefusalReason::CitizenCase, Lang::Id) => {
                "Penduduk berkewarganegaraan Indonesia (WNI), bukan orang asing".to_owned()
            }
            (RefusalReason::CitizenCase, Lang::En) => {
                "The resident is an Indonesian citizen, not a foreign resident".to_owned()
            }
            (RefusalReason::KitapExpired { expired_on }, Lang::Id) => {
                format!("KITAP sudah habis berlaku pada {expired_on}")
            }
            (RefusalReason::KitapExpired { expired_on }, Lang::En) => {
                format!("The KITAP expired on {expired_on}")
            }
        };
        let next = match (&self.route, lang) {
            (Route::BiodataRegistration, Lang::Id) => {
                "Arahkan ke pencatatan biodata (formulir F-1.07) di SIAK untuk mendapatkan NIK"
                    .to_owned()
            }
            (Route::BiodataRegistration, Lang::En) => {
                "Refer to biodata registration (form F-1.07) in SIAK to obtain a NIK".to_owned()
            }
            (Route::ComeBackOn { date }, Lang::Id) => {
                format!("Penduduk dapat kembali mulai {date} (ulang tahun ke-17)")
            }
            (Route::ComeBackOn { date }, Lang::En) => {
                format!("The resident may come back from {date} (17th birthday)")
            }
            (Route::Case { case }, lang) => format!(
                "{}: {}",
                lang.pick("Layani sebagai", "Serve as"),
                case.label(lang)
            ),
            (Route::RenewKitap, Lang::Id) => {
                "Perpanjang KITAP di kantor imigrasi terlebih dahulu".to_owned()
            }
            (Route::RenewKitap, Lang::En) => {
                "Renew the KITAP at the immigration office first".to_owned()
            }
            (Route::Reissue, Lang::Id) => "Layani penerbitan ulang tanpa perekaman (hilang, \
                                           rusak, perubahan data atau pindah datang)"
                .to_owned(),
            (Route::Reissue, Lang::En) => "Serve a reissue without recording (lost, damaged, \
                                           data change or moving in)"
                .to_owned(),
        };
        format!("[{}] {why}. {next}.", self.code)
    }
}
