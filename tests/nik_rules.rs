//! NIK and KK number rules, as tables. NIKs are built from real region codes of the master data
//! (32.73.01 Sukasari, Kota Bandung; 31.71.01 Gambir, Jakarta Pusat; 96.01.01 Makbon, Papua Barat
//! Daya, one of the provinces created in 2022).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam::domain::kk::{KkError, KkNumber};
use rekam::domain::nik::{self, Nik, NikError, NikPart, NikWarning, Sex};
use rekam::domain::region::{EmbeddedRegions, RegionCode, RegionLevel};
use rekam::i18n::{Lang, Localized};
use time::Date;
use time::macros::date;

const TODAY: Date = date!(2026 - 11 - 22);

enum Want {
    Valid(Sex, &'static [Date]),
    ValidWarn(Sex, &'static [Date], &'static str, RegionLevel),
    Invalid(NikError, NikPart),
}
use Want::*;

#[test]
fn nik_table() {
    let regions = EmbeddedRegions::index().unwrap();
    let cases: &[(&str, &str, Want)] = &[
        // --- valid, men and women, both centuries -------------------------------------------
        (
            "man, 1990",
            "3273010101900001",
            Valid(Sex::Male, &[date!(1990 - 01 - 01)]),
        ),
        (
            "woman: day + 40",
            "3273014101900001",
            Valid(Sex::Female, &[date!(1990 - 01 - 01)]),
        ),
        (
            "woman, day 71 = 31",
            "3171017112990123",
            Valid(Sex::Female, &[date!(1999 - 12 - 31)]),
        ),
        (
            "man, day 31",
            "3171013112990123",
            Valid(Sex::Male, &[date!(1999 - 12 - 31)]),
        ),
        (
            "spaces as printed",
            "3273 0101 0190 0001",
            Valid(Sex::Male, &[date!(1990 - 01 - 01)]),
        ),
        (
            "dots and padding",
            " 32.73.01.010190.0001 ",
            Valid(Sex::Male, &[date!(1990 - 01 - 01)]),
        ),
        (
            "YY 10: both centuries possible",
            "3273010101100001",
            Valid(Sex::Male, &[date!(1910 - 01 - 01), date!(2010 - 01 - 01)]),
        ),
        (
            "YY 26: 2026-12-15 is still ahead, only 1926",
            "3273011512260001",
            Valid(Sex::Male, &[date!(1926 - 12 - 15)]),
        ),
        (
            "serial 9999",
            "3273010101909999",
            Valid(Sex::Male, &[date!(1990 - 01 - 01)]),
        ),
        (
            "new Papua province 96",
            "9601010101900001",
            Valid(Sex::Male, &[date!(1990 - 01 - 01)]),
        ),
        // --- leap days ------------------------------------------------------------------------
        (
            "29 Feb 2000 (1900 was not leap)",
            "3273012902000001",
            Valid(Sex::Male, &[date!(2000 - 02 - 29)]),
        ),
        (
            "woman 29 Feb 2000",
            "3273016902000001",
            Valid(Sex::Female, &[date!(2000 - 02 - 29)]),
        ),
        (
            "29 Feb 1996",
            "3273012902960001",
            Valid(Sex::Male, &[date!(1996 - 02 - 29)]),
        ),
        (
            "29 Feb 2024 (and 1924)",
            "3273016902240001",
            Valid(Sex::Female, &[date!(1924 - 02 - 29), date!(2024 - 02 - 29)]),
        ),
        (
            "29 Feb of a common year in both centuries",
            "3273012902010001",
            Invalid(
                NikError::ImpossibleDate {
                    day: 29,
                    month: 2,
                    yy: 1,
                },
                NikPart::BirthDate,
            ),
        ),
        (
            "woman, 29 Feb 2023",
            "3273016902230001",
            Invalid(
                NikError::ImpossibleDate {
                    day: 29,
                    month: 2,
                    yy: 23,
                },
                NikPart::BirthDate,
            ),
        ),
        // --- impossible dates -------------------------------------------------------------------
        (
            "31 February",
            "3273013102900001",
            Invalid(
                NikError::ImpossibleDate {
                    day: 31,
                    month: 2,
                    yy: 90,
                },
                NikPart::BirthDate,
            ),
        ),
        (
            "31 April",
            "3273013104900001",
            Invalid(
                NikError::ImpossibleDate {
                    day: 31,
                    month: 4,
                    yy: 90,
                },
                NikPart::BirthDate,
            ),
        ),
        (
            "woman 30 February",
            "3273017002900001",
            Invalid(
                NikError::ImpossibleDate {
                    day: 30,
                    month: 2,
                    yy: 90,
                },
                NikPart::BirthDate,
            ),
        ),
        (
            "day 00",
            "3273010001900001",
            Invalid(NikError::DayOutOfRange { value: 0 }, NikPart::Day),
        ),
        (
            "day 32",
            "3273013201900001",
            Invalid(NikError::DayOutOfRange { value: 32 }, NikPart::Day),
        ),
        (
            "day 40",
            "3273014001900001",
            Invalid(NikError::DayOutOfRange { value: 40 }, NikPart::Day),
        ),
        (
            "day 72",
            "3273017201900001",
            Invalid(NikError::DayOutOfRange { value: 72 }, NikPart::Day),
        ),
        (
            "month 00",
            "3273010100900001",
            Invalid(NikError::MonthOutOfRange { value: 0 }, NikPart::Month),
        ),
        (
            "month 13",
            "3273010113900001",
            Invalid(NikError::MonthOutOfRange { value: 13 }, NikPart::Month),
        ),
        // --- region and serial parts -------------------------------------------------------------
        (
            "province 00",
            "0073010101900001",
            Invalid(
                NikError::ZeroRegion {
                    part: NikPart::Province,
                },
                NikPart::Province,
            ),
        ),
        (
            "regency 00",
            "3200010101900001",
            Invalid(
                NikError::ZeroRegion {
                    part: NikPart::Regency,
                },
                NikPart::Regency,
            ),
        ),
        (
            "kecamatan 00",
            "3273000101900001",
            Invalid(
                NikError::ZeroRegion {
                    part: NikPart::Kecamatan,
                },
                NikPart::Kecamatan,
            ),
        ),
        (
            "serial 0000",
            "3273010101900000",
            Invalid(NikError::ZeroSerial, NikPart::Serial),
        ),
        // --- unknown prefixes: warnings, not refusals ---------------------------------------
        (
            "unknown province 99",
            "9901010101900001",
            ValidWarn(
                Sex::Male,
                &[date!(1990 - 01 - 01)],
                "99",
                RegionLevel::Province,
            ),
        ),
        (
            "unknown regency 32.99",
            "3299010101900001",
            ValidWarn(
                Sex::Male,
                &[date!(1990 - 01 - 01)],
                "32.99",
                RegionLevel::Regency,
            ),
        ),
        (
            "unknown kecamatan 32.73.99",
            "3273994101900001",
            ValidWarn(
                Sex::Female,
                &[date!(1990 - 01 - 01)],
                "32.73.99",
                RegionLevel::Kecamatan,
            ),
        ),
        // --- garbage -----------------------------------------------------------------------------
        ("empty", "", Invalid(NikError::Empty, NikPart::Whole)),
        ("blanks", "   ", Invalid(NikError::Empty, NikPart::Whole)),
        (
            "14 digits",
            "32730101019000",
            Invalid(NikError::WrongLength { found: 14 }, NikPart::Whole),
        ),
        (
            "17 digits",
            "32730101019000011",
            Invalid(NikError::WrongLength { found: 17 }, NikPart::Whole),
        ),
        (
            "letter at the end",
            "327301010190000X",
            Invalid(
                NikError::NotADigit {
                    position: 16,
                    found: 'X',
                },
                NikPart::Whole,
            ),
        ),
        (
            "dashes",
            "3273-0101-0190-0001",
            Invalid(
                NikError::NotADigit {
                    position: 5,
                    found: '-',
                },
                NikPart::Whole,
            ),
        ),
        (
            "full-width digits",
            "３２７３０１０１０１９００００１",
            Invalid(
                NikError::NotADigit {
                    position: 1,
                    found: '３',
                },
                NikPart::Whole,
            ),
        ),
        (
            "letter O for zero",
            "32730101O1900001",
            Invalid(
                NikError::NotADigit {
                    position: 9,
                    found: 'O',
                },
                NikPart::Whole,
            ),
        ),
        (
            "SQL in the field",
            "1'; DROP TABLE x",
            Invalid(
                NikError::NotADigit {
                    position: 2,
                    found: '\'',
                },
                NikPart::Whole,
            ),
        ),
    ];

    for (name, input, want) in cases {
        let got = nik::check(input, &regions, TODAY);
        match (want, got) {
            (Valid(sex, dates), Ok(r)) => {
                assert_eq!(
                    (r.sex, r.birth_date_candidates.as_slice()),
                    (*sex, *dates),
                    "{name}"
                );
                assert!(
                    r.warnings.is_empty(),
                    "{name}: unexpected warnings {:?}",
                    r.warnings
                );
                assert!(r.region.iter().all(|l| l.name.is_some()), "{name}");
            }
            (ValidWarn(sex, dates, code, level), Ok(r)) => {
                assert_eq!(
                    (r.sex, r.birth_date_candidates.as_slice()),
                    (*sex, *dates),
                    "{name}"
                );
                assert_eq!(
                    r.warnings,
                    [NikWarning::UnknownRegion {
                        code: RegionCode::parse(code).unwrap(),
                        level: *level
                    }],
                    "{name}"
                );
            }
            (Invalid(err, part), Err(e)) => {
                assert_eq!((&e, e.part()), (err, *part), "{name}");
                // Every error names its part in both languages.
                assert!(!e.localized(Lang::Id).is_empty() && !e.localized(Lang::En).is_empty());
            }
            (_, got) => panic!("{name}: unexpected {got:?}"),
        }
    }
}

#[test]
fn a_date_in_the_future_in_every_reading_is_refused() {
    // On 1 January 1999, "29-02-00" can only be 29 February 2000 (1900 was not leap): future.
    let regions = EmbeddedRegions::index().unwrap();
    let got = nik::check("3273012902000001", &regions, date!(1999 - 01 - 01));
    assert_eq!(
        got.unwrap_err(),
        NikError::FutureDate {
            day: 29,
            month: 2,
            yy: 0
        }
    );
}

#[test]
fn region_lines_name_every_level() {
    let regions = EmbeddedRegions::index().unwrap();
    let r = nik::check("3171014101900001", &regions, TODAY).unwrap();
    let names: Vec<_> = r.region.iter().map(|l| l.name.clone().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Daerah Khusus Ibukota Jakarta",
            "Kota Administrasi Jakarta Pusat",
            "Gambir"
        ]
    );
}

#[test]
fn a_nik_never_prints_in_full_by_accident() {
    let n = Nik::parse("3273014101900123").unwrap();
    let masked = n.masked();
    for shown in [
        format!("{n}"),
        format!("{n:?}"),
        masked.to_string(),
        format!("{masked:?}"),
        serde_json::to_string(&masked).unwrap(),
    ] {
        assert!(!shown.contains("3273014101900123"), "{shown}");
        assert!(shown.contains("327301********23"), "{shown}");
    }
    assert_eq!(n.masked(), "327301********23");
    assert_eq!(n.as_str(), "3273014101900123");
    // Serialisation keeps the full number: it goes only into the encrypted store and packets.
    assert_eq!(serde_json::to_string(&n).unwrap(), "\"3273014101900123\"");
    let back: Nik = serde_json::from_str("\"3273014101900123\"").unwrap();
    assert_eq!(back, n);
    assert!(serde_json::from_str::<Nik>("\"3273013102900001\"").is_err());
}

/// A `MaskedNik` (what visits, backlogs and refusals keep) cannot hold a full NIK: it is made
/// from a `Nik`, and read back only in its masked shape.
#[test]
fn a_masked_nik_cannot_hold_a_full_one() {
    use rekam::domain::nik::MaskedNik;
    let masked = Nik::parse("3273014101900123").unwrap().masked();
    assert_eq!(MaskedNik::parse("327301********23"), Some(masked.clone()));
    for not_masked in [
        "3273014101900123",
        "327301*******123",
        "327301********2",
        "32730A********23",
        "",
    ] {
        assert_eq!(MaskedNik::parse(not_masked), None, "{not_masked}");
        let json = format!("{not_masked:?}");
        assert!(serde_json::from_str::<MaskedNik>(&json).is_err(), "{json}");
    }
    let back: MaskedNik = serde_json::from_str("\"327301********23\"").unwrap();
    assert_eq!(back, masked);
}

#[test]
fn kk_number_table() {
    let regions = EmbeddedRegions::index().unwrap();
    let cases: &[(&str, Result<Option<&str>, KkError>)] = &[
        ("3273012501150007", Ok(None)),
        ("3273 0125 0115 0007", Ok(None)),
        ("9601010101200001", Ok(None)),
        ("3299012501150007", Ok(Some("32.99"))),
        ("9901012501150007", Ok(Some("99"))),
        ("", Err(KkError::Empty)),
        ("327301250115", Err(KkError::WrongLength { found: 12 })),
        ("32730125011500071", Err(KkError::WrongLength { found: 17 })),
        (
            "3273012501I50007",
            Err(KkError::NotADigit {
                position: 11,
                found: 'I',
            }),
        ),
        ("0073012501150007", Err(KkError::ZeroRegion)),
        ("3273002501150007", Err(KkError::ZeroRegion)),
    ];
    for (input, want) in cases {
        let got = KkNumber::parse(input)
            .map(|kk| kk.unknown_region(&regions).map(|(code, _)| code.dotted()));
        let want = want.clone().map(|o| o.map(str::to_owned));
        assert_eq!(got, want, "{input:?}");
    }
}
