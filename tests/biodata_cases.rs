//! Biodata validation, value lists, case checklists and eligibility, as tables.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam::domain::biodata::{
    AboGroup, Agama, Alamat, BerlakuHingga, Biodata, BiodataWarning, Field, GolonganDarah,
    Kewarganegaraan, Kitap, StatusPerkawinan,
};
use rekam::domain::case::{CaseType, Document, DocumentChecklist, Need};
use rekam::domain::eligibility::{self, Applicant, Eligibility, RecordingStatus, Route};
use rekam::domain::kk::KkNumber;
use rekam::domain::nik::{Nik, NikWarning, Sex};
use rekam::domain::pekerjaan::Pekerjaan;
use rekam::domain::region::{EmbeddedRegions, RegionCode, RegionIndex, RegionLevel};
use rekam::i18n::{Lang, Localized};
use time::Date;
use time::macros::date;

const TODAY: Date = date!(2026 - 11 - 22);

fn regions() -> RegionIndex {
    // The kecamatan index plus the villages of Sukasari, as the store would answer.
    let mut all: Vec<_> = [
        RegionLevel::Province,
        RegionLevel::Regency,
        RegionLevel::Kecamatan,
    ]
    .into_iter()
    .flat_map(|l| EmbeddedRegions::iter(l).unwrap())
    .collect();
    all.extend(
        EmbeddedRegions::iter(RegionLevel::Village)
            .unwrap()
            .into_iter()
            .filter(|v| v.code.dotted().starts_with("32.73.01.")),
    );
    RegionIndex::from_regions(all)
}

/// A woman born 1 January 1990 in Bandung, living in Gegerkalong (32.73.01.1002).
fn siti() -> Biodata {
    Biodata {
        nik: Nik::parse("3273014101900001").unwrap(),
        kk_number: KkNumber::parse("3273012501150007").unwrap(),
        name: "SITI NURHALIZA".into(),
        birth_place: "BANDUNG".into(),
        birth_date: date!(1990 - 01 - 01),
        sex: Sex::Female,
        blood_type: GolonganDarah::parse("O+").unwrap(),
        address: Alamat {
            street: "JL. GEGERKALONG HILIR NO. 12".into(),
            rt: 3,
            rw: 7,
            village: RegionCode::parse("32.73.01.1002").unwrap(),
        },
        religion: Agama::Islam,
        marital_status: StatusPerkawinan::Kawin,
        occupation: Pekerjaan::WIRASWASTA,
        citizenship: Kewarganegaraan::Wni,
    }
}

fn foreigner() -> Biodata {
    Biodata {
        name: "TANAKA HIROSHI".into(),
        nik: Nik::parse("3273010505800002").unwrap(),
        sex: Sex::Male,
        birth_date: date!(1980 - 05 - 05),
        birth_place: "OSAKA".into(),
        citizenship: Kewarganegaraan::Wna {
            nationality: "JPN".into(),
            kitap: Kitap {
                number: "2C11AB1234".into(),
                expires_on: date!(2030 - 06 - 30),
            },
        },
        ..siti()
    }
}

#[test]
fn biodata_table() {
    let regions = regions();
    type Edit = fn(&mut Biodata);
    type Want = Result<Vec<BiodataWarning>, Field>;
    let cases: &[(&str, Edit, Want)] = &[
        ("as recorded", |_| {}, Ok(vec![])),
        ("foreign resident", |b| *b = foreigner(), Ok(vec![])),
        (
            "apostrophe and comma in name",
            |b| b.name = "MA'RUF, S.PD.".into(),
            Ok(vec![]),
        ),
        ("empty name", |b| b.name = "  ".into(), Err(Field::Name)),
        (
            "digit in name",
            |b| b.name = "SITI 2".into(),
            Err(Field::Name),
        ),
        (
            "name too long",
            |b| b.name = "A".repeat(61),
            Err(Field::Name),
        ),
        (
            "empty birth place",
            |b| b.birth_place = String::new(),
            Err(Field::BirthPlace),
        ),
        (
            "born tomorrow",
            |b| b.birth_date = date!(2026 - 11 - 23),
            Err(Field::BirthDate),
        ),
        ("RT 0", |b| b.address.rt = 0, Err(Field::Rt)),
        ("RW 1000", |b| b.address.rw = 1000, Err(Field::Rw)),
        (
            "street with symbols",
            |b| b.address.street = "JL. A <script>".into(),
            Err(Field::Street),
        ),
        (
            "address is a kecamatan",
            |b| b.address.village = RegionCode::parse("32.73.01").unwrap(),
            Err(Field::Village),
        ),
        (
            "unknown village",
            |b| b.address.village = RegionCode::parse("32.73.01.9999").unwrap(),
            Err(Field::Village),
        ),
        (
            "foreigner with IDN nationality",
            |b| {
                *b = foreigner();
                if let Kewarganegaraan::Wna { nationality, .. } = &mut b.citizenship {
                    *nationality = "IDN".into();
                }
            },
            Err(Field::Nationality),
        ),
        (
            "foreigner without KITAP number",
            |b| {
                *b = foreigner();
                if let Kewarganegaraan::Wna { kitap, .. } = &mut b.citizenship {
                    kitap.number = " ".into();
                }
            },
            Err(Field::Kitap),
        ),
        (
            "sex differs from NIK",
            |b| b.sex = Sex::Male,
            Ok(vec![BiodataWarning::SexDiffersFromNik]),
        ),
        (
            "birth date differs from NIK (the field prevails)",
            |b| b.birth_date = date!(1990 - 01 - 02),
            Ok(vec![BiodataWarning::BirthDateDiffersFromNik]),
        ),
        (
            "NIK from an unknown regency",
            |b| b.nik = Nik::parse("3299014101900001").unwrap(),
            Ok(vec![BiodataWarning::Nik(NikWarning::UnknownRegion {
                code: RegionCode::parse("32.99").unwrap(),
                level: RegionLevel::Regency,
            })]),
        ),
        (
            "KK from an unknown province",
            |b| b.kk_number = KkNumber::parse("9901012501150007").unwrap(),
            Ok(vec![BiodataWarning::UnknownKkRegion {
                code: RegionCode::parse("99").unwrap(),
            }]),
        ),
    ];
    for (name, edit, want) in cases {
        let mut b = siti();
        edit(&mut b);
        let got = b.validate(TODAY, &regions).map_err(|e| {
            assert!(!e.localized(Lang::Id).is_empty());
            e.field()
        });
        assert_eq!(&got, want, "{name}");
    }
}

#[test]
fn card_validity_follows_citizenship() {
    assert_eq!(siti().berlaku_hingga(), BerlakuHingga::SeumurHidup);
    assert_eq!(
        foreigner().berlaku_hingga(),
        BerlakuHingga::Until(date!(2030 - 06 - 30))
    );
}

#[test]
fn value_lists_table() {
    let agama = [
        ("islam", Some(Agama::Islam)),
        ("Kristen", Some(Agama::Kristen)),
        ("KATOLIK", Some(Agama::Katholik)),
        ("KATHOLIK", Some(Agama::Katholik)),
        ("buddha", Some(Agama::Budha)),
        ("Konghucu", Some(Agama::Khonghucu)),
        ("KEPERCAYAAN TERHADAP  TUHAN YME", Some(Agama::Kepercayaan)),
        ("ateis", None),
    ];
    for (s, want) in agama {
        assert_eq!(Agama::parse(s), want, "{s}");
    }
    assert_eq!(Agama::ALL.len(), 7);
    let status = [
        ("belum kawin", Some(StatusPerkawinan::BelumKawin)),
        ("KAWIN", Some(StatusPerkawinan::Kawin)),
        ("cerai hidup", Some(StatusPerkawinan::CeraiHidup)),
        ("CERAI MATI", Some(StatusPerkawinan::CeraiMati)),
        ("janda", None),
    ];
    for (s, want) in status {
        assert_eq!(StatusPerkawinan::parse(s), want, "{s}");
    }
    type Blood = Result<Option<(AboGroup, Option<bool>)>, ()>;
    let blood: [(&str, Blood); 11] = [
        ("A", Ok(Some((AboGroup::A, None)))),
        ("a+", Ok(Some((AboGroup::A, Some(true))))),
        ("AB-", Ok(Some((AboGroup::Ab, Some(false))))),
        ("O", Ok(Some((AboGroup::O, None)))),
        ("B+", Ok(Some((AboGroup::B, Some(true))))),
        ("", Ok(None)),
        ("-", Ok(None)),
        ("tidak tahu", Ok(None)),
        ("C", Err(())),
        ("AB++", Err(())),
        ("0", Err(())),
    ];
    for (s, want) in blood {
        let got = GolonganDarah::parse(s)
            .map(|o| o.map(|g| (g.group, g.rhesus_positive)))
            .map_err(|_| ());
        assert_eq!(got, want, "{s:?}");
    }
    // Card labels round-trip through JSON.
    let json = serde_json::to_string(&siti()).unwrap();
    assert!(json.contains("\"ISLAM\"") && json.contains("\"O+\"") && json.contains("\"88\""));
    // Dates travel as ISO 8601, never as (year, ordinal) pairs.
    assert!(json.contains("\"birth_date\":\"1990-01-01\""), "{json}");
    let back: Biodata = serde_json::from_str(&json).unwrap();
    assert_eq!(back, siti());
    let bad = json.replace("\"ISLAM\"", "\"JEDI\"");
    let err = serde_json::from_str::<Biodata>(&bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ISLAM, KRISTEN"), "{err}");
}

#[test]
fn checklists_table() {
    use Document::*;
    let cases: &[(CaseType, &[Document], &[Document])] = &[
        (
            CaseType::NewRecording,
            &[
                FamilyCardCopy,
                RtRwCoverLetter,
                ApplicationForm,
                BirthCertificateOrDiploma,
            ],
            &[OldKtp, CivilStatusCertificate],
        ),
        (
            CaseType::HomeVisit,
            &[
                FamilyCardCopy,
                RtRwCoverLetter,
                ApplicationForm,
                BirthCertificateOrDiploma,
            ],
            &[OldKtp, CivilStatusCertificate],
        ),
        (
            CaseType::ReplaceDamaged,
            &[FamilyCardCopy, RtRwCoverLetter, DamagedCard],
            &[],
        ),
        (
            CaseType::LostCard,
            &[FamilyCardCopy, RtRwCoverLetter, PoliceLossReport],
            &[],
        ),
        (
            CaseType::DataChange,
            &[FamilyCardCopy, RtRwCoverLetter, OldKtp],
            &[CivilStatusCertificate, BirthCertificateOrDiploma],
        ),
        (
            CaseType::MovingIn,
            &[FamilyCardCopy, RtRwCoverLetter, MoveCertificate],
            &[OldKtp],
        ),
        (
            CaseType::ForeignResident,
            &[FamilyCardCopy, KitapCopy, ApplicationForm],
            &[],
        ),
    ];
    assert_eq!(cases.len(), CaseType::ALL.len());
    for (case, required, conditional) in cases {
        let list = case.checklist();
        let req: Vec<_> = list
            .iter()
            .filter(|r| r.need == Need::Required)
            .map(|r| r.document)
            .collect();
        let cond: Vec<_> = list
            .iter()
            .filter(|r| r.need != Need::Required)
            .map(|r| r.document)
            .collect();
        assert_eq!(
            (req.as_slice(), cond.as_slice()),
            (*required, *conditional),
            "{case}"
        );
        for r in list {
            assert_ne!(r.document.label(Lang::Id), r.document.label(Lang::En));
        }
        assert_eq!(case.as_str().parse::<CaseType>().unwrap(), *case);
    }

    let mut c = DocumentChecklist::new(CaseType::LostCard);
    assert_eq!(
        c.missing(),
        [FamilyCardCopy, RtRwCoverLetter, PoliceLossReport]
    );
    c.presented.extend([FamilyCardCopy, RtRwCoverLetter]);
    assert_eq!(c.missing(), [PoliceLossReport]);
    c.presented.insert(PoliceLossReport);
    assert!(c.is_complete());

    let mut c = DocumentChecklist::new(CaseType::NewRecording);
    c.presented.extend([
        FamilyCardCopy,
        RtRwCoverLetter,
        ApplicationForm,
        BirthCertificateOrDiploma,
    ]);
    assert!(c.is_complete());
    c.applicable.insert(CivilStatusCertificate);
    assert_eq!(c.missing(), [CivilStatusCertificate]);
}

#[test]
fn eligibility_table() {
    let not_recorded = RecordingStatus::NotRecorded;
    let recorded = RecordingStatus::Recorded {
        reference: "ENR-1".into(),
    };
    let born = |d: Date, married: bool| Biodata {
        birth_date: d,
        marital_status: if married {
            StatusPerkawinan::Kawin
        } else {
            StatusPerkawinan::BelumKawin
        },
        ..siti()
    };
    let teen = born(date!(2010 - 01 - 01), false); // 16 on TODAY
    let married_teen = born(date!(2010 - 01 - 01), true);
    let turns_17_today = born(date!(2009 - 11 - 22), false);
    let turns_17_tomorrow = born(date!(2009 - 11 - 23), false);
    let leapling = born(date!(2008 - 02 - 29), false);
    let widowed_teen = Biodata {
        marital_status: StatusPerkawinan::CeraiMati,
        ..teen.clone()
    };
    let mut expired = foreigner();
    if let Kewarganegaraan::Wna { kitap, .. } = &mut expired.citizenship {
        kitap.expires_on = date!(2026 - 11 - 21);
    }
    let adult = siti();
    let alien = foreigner();

    struct Row<'a> {
        name: &'a str,
        case: CaseType,
        who: Applicant<'a>,
        today: Date,
        want: Result<bool, (&'a str, Route)>,
    }
    let known = |b: &'static Biodata, r: &'static RecordingStatus| Applicant::Known {
        biodata: b,
        recording: r,
    };
    // Leak the fixtures so rows can borrow them for 'static; a test process is short-lived.
    let l = |b: Biodata| -> &'static Biodata { Box::leak(Box::new(b)) };
    let nr: &'static RecordingStatus = Box::leak(Box::new(not_recorded));
    let rec: &'static RecordingStatus = Box::leak(Box::new(recorded));
    let rows = [
        Row {
            name: "no NIK",
            case: CaseType::NewRecording,
            who: Applicant::NoNik,
            today: TODAY,
            want: Err(("ELIG_NO_NIK", Route::BiodataRegistration)),
        },
        Row {
            name: "no NIK, lost card",
            case: CaseType::LostCard,
            who: Applicant::NoNik,
            today: TODAY,
            want: Err(("ELIG_NO_NIK", Route::BiodataRegistration)),
        },
        Row {
            name: "adult, first recording",
            case: CaseType::NewRecording,
            who: known(l(adult.clone()), nr),
            today: TODAY,
            want: Ok(false),
        },
        Row {
            name: "adult, home visit",
            case: CaseType::HomeVisit,
            who: known(l(adult.clone()), nr),
            today: TODAY,
            want: Ok(false),
        },
        Row {
            name: "16, never married",
            case: CaseType::NewRecording,
            who: known(l(teen.clone()), nr),
            today: TODAY,
            want: Err((
                "ELIG_UNDER_AGE",
                Route::ComeBackOn {
                    date: date!(2027 - 01 - 01),
                },
            )),
        },
        Row {
            name: "16, never married, home visit",
            case: CaseType::HomeVisit,
            who: known(l(teen.clone()), nr),
            today: TODAY,
            want: Err((
                "ELIG_UNDER_AGE",
                Route::ComeBackOn {
                    date: date!(2027 - 01 - 01),
                },
            )),
        },
        Row {
            name: "16, married",
            case: CaseType::NewRecording,
            who: known(l(married_teen), nr),
            today: TODAY,
            want: Ok(true),
        },
        Row {
            name: "16, widowed",
            case: CaseType::NewRecording,
            who: known(l(widowed_teen), nr),
            today: TODAY,
            want: Ok(true),
        },
        Row {
            name: "17 today",
            case: CaseType::NewRecording,
            who: known(l(turns_17_today), nr),
            today: TODAY,
            want: Ok(false),
        },
        Row {
            name: "17 tomorrow",
            case: CaseType::NewRecording,
            who: known(l(turns_17_tomorrow), nr),
            today: TODAY,
            want: Err((
                "ELIG_UNDER_AGE",
                Route::ComeBackOn {
                    date: date!(2026 - 11 - 23),
                },
            )),
        },
        Row {
            name: "born 29 Feb, 28 Feb of a common year",
            case: CaseType::NewRecording,
            who: known(l(leapling.clone()), nr),
            today: date!(2025 - 02 - 28),
            want: Err((
                "ELIG_UNDER_AGE",
                Route::ComeBackOn {
                    date: date!(2025 - 03 - 01),
                },
            )),
        },
        Row {
            name: "born 29 Feb, 1 Mar of a common year",
            case: CaseType::NewRecording,
            who: known(l(leapling), nr),
            today: date!(2025 - 03 - 01),
            want: Ok(false),
        },
        Row {
            name: "already recorded, new recording",
            case: CaseType::NewRecording,
            who: known(l(adult.clone()), rec),
            today: TODAY,
            want: Err(("ELIG_ALREADY_RECORDED", Route::Reissue)),
        },
        Row {
            name: "already recorded, home visit",
            case: CaseType::HomeVisit,
            who: known(l(adult.clone()), rec),
            today: TODAY,
            want: Err(("ELIG_ALREADY_RECORDED", Route::Reissue)),
        },
        Row {
            name: "already recorded foreigner",
            case: CaseType::ForeignResident,
            who: known(l(alien.clone()), rec),
            today: TODAY,
            want: Err(("ELIG_ALREADY_RECORDED", Route::Reissue)),
        },
        Row {
            name: "lost card, recorded",
            case: CaseType::LostCard,
            who: known(l(adult.clone()), rec),
            today: TODAY,
            want: Ok(false),
        },
        Row {
            name: "damaged card, recorded",
            case: CaseType::ReplaceDamaged,
            who: known(l(adult.clone()), rec),
            today: TODAY,
            want: Ok(false),
        },
        Row {
            name: "data change, recorded",
            case: CaseType::DataChange,
            who: known(l(adult.clone()), rec),
            today: TODAY,
            want: Ok(false),
        },
        Row {
            name: "moving in, recorded",
            case: CaseType::MovingIn,
            who: known(l(adult.clone()), rec),
            today: TODAY,
            want: Ok(false),
        },
        Row {
            name: "lost card, never recorded",
            case: CaseType::LostCard,
            who: known(l(adult.clone()), nr),
            today: TODAY,
            want: Err((
                "ELIG_NOT_RECORDED",
                Route::Case {
                    case: CaseType::NewRecording,
                },
            )),
        },
        Row {
            name: "moving in, never recorded",
            case: CaseType::MovingIn,
            who: known(l(adult.clone()), nr),
            today: TODAY,
            want: Err((
                "ELIG_NOT_RECORDED",
                Route::Case {
                    case: CaseType::NewRecording,
                },
            )),
        },
        Row {
            name: "foreigner, own case",
            case: CaseType::ForeignResident,
            who: known(l(alien.clone()), nr),
            today: TODAY,
            want: Ok(false),
        },
        Row {
            name: "foreigner as citizen",
            case: CaseType::NewRecording,
            who: known(l(alien.clone()), nr),
            today: TODAY,
            want: Err((
                "ELIG_FOREIGN_CASE",
                Route::Case {
                    case: CaseType::ForeignResident,
                },
            )),
        },
        Row {
            name: "citizen as foreigner",
            case: CaseType::ForeignResident,
            who: known(l(adult), nr),
            today: TODAY,
            want: Err((
                "ELIG_CITIZEN_CASE",
                Route::Case {
                    case: CaseType::NewRecording,
                },
            )),
        },
        Row {
            name: "KITAP expired yesterday",
            case: CaseType::ForeignResident,
            who: known(l(expired.clone()), nr),
            today: TODAY,
            want: Err(("ELIG_KITAP_EXPIRED", Route::RenewKitap)),
        },
        Row {
            name: "KITAP expired, lost card",
            case: CaseType::LostCard,
            who: known(l(expired), rec),
            today: TODAY,
            want: Err(("ELIG_KITAP_EXPIRED", Route::RenewKitap)),
        },
        Row {
            name: "foreigner lost card, never recorded",
            case: CaseType::LostCard,
            who: known(l(alien), nr),
            today: TODAY,
            want: Err((
                "ELIG_NOT_RECORDED",
                Route::Case {
                    case: CaseType::ForeignResident,
                },
            )),
        },
    ];
    for row in rows {
        let got = match eligibility::assess(row.case, row.who, row.today) {
            Eligibility::Eligible { by_marriage } => Ok(by_marriage),
            Eligibility::Refused(r) => {
                let id = r.localized(Lang::Id);
                let en = r.localized(Lang::En);
                assert!(
                    id.starts_with(&format!("[{}]", r.code))
                        && en.starts_with(&format!("[{}]", r.code))
                );
                assert_ne!(id, en, "{}", row.name);
                Err((r.code, r.route))
            }
        };
        assert_eq!(got, row.want, "{}", row.name);
    }
}
