//! What the counter's screen shows, as typed values: every field the screen reads is here, so
//! the desktop's generated TypeScript contract (`ui/src/bindings.ts`) names each one. Labels
//! are already in the operator's language; identifiers (`case`, `step`, `document`) are for
//! the screen's logic, never shown.

use crate::domain::biodata::{Biodata, Kewarganegaraan};
use crate::domain::case::{CaseType, Document, Need};
use crate::domain::nik::MaskedNik;
use crate::domain::population::Source;
use crate::i18n::{Lang, Localized};
use crate::station::Station;
use crate::workflow::counter::Outcome;
use crate::workflow::operators::{self, Session};
use crate::workflow::recording::{RecordingWorkflow, Step};
use serde::Serialize;

/// An error as the screen shows it: a stable code and what to do, in the operator's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Problem {
    /// Stable code.
    pub code: &'static str,
    /// In the operator's language.
    pub message: String,
}

impl Problem {
    /// The core's error in `lang`.
    pub fn of(e: &crate::Error, lang: Lang) -> Problem {
        Problem {
            code: e.code(),
            message: e.localized(lang),
        }
    }
}

/// The logged-in operator, as the header shows them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionView {
    /// Their id.
    pub operator_id: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: &'static str,
    /// What the role may do (`serve`, `approve`, `maintain`, `personalise`, `report`): the
    /// screens the navigation offers. The core checks again on every command.
    pub may: Vec<&'static str>,
}

impl SessionView {
    /// `s` as the header shows it.
    pub fn of(s: &Session) -> SessionView {
        use operators::Action as A;
        SessionView {
            operator_id: s.operator_id.clone(),
            name: s.name.clone(),
            role: s.role.as_str(),
            may: [
                (A::Serve, "serve"),
                (A::Approve, "approve"),
                (A::Maintain, "maintain"),
                (A::Personalise, "personalise"),
                (A::Report, "report"),
            ]
            .into_iter()
            .filter(|(a, _)| s.role.allows(*a))
            .map(|(_, name)| name)
            .collect(),
        }
    }
}

/// One document of the case's checklist.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChecklistLine {
    /// The document.
    pub document: Document,
    /// Its name.
    pub label: &'static str,
    /// Whether every resident of the case brings it.
    pub required: bool,
    /// When it applies, if only sometimes.
    pub condition: Option<&'static str>,
}

/// The case's document checklist as the screen shows it.
pub fn checklist(case: CaseType, lang: Lang) -> Vec<ChecklistLine> {
    case.checklist()
        .iter()
        .map(|r| ChecklistLine {
            document: r.document,
            label: r.document.label(lang),
            required: r.need == Need::Required,
            condition: match r.need {
                Need::Required => None,
                Need::IfApplicable(c) => Some(c.label(lang)),
            },
        })
        .collect()
}

/// The biodata as the resident checks it on the screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BiodataView {
    /// The NIK, whole: the resident checks it digit by digit (never logged).
    pub nik: String,
    /// The name.
    pub name: String,
    /// Place and date of birth.
    pub birth: String,
    /// Sex, as the card prints it.
    pub sex: String,
    /// Street, RT/RW and the region's names.
    pub address: String,
    /// Religion.
    pub religion: String,
    /// Marital status.
    pub marital_status: String,
    /// Occupation.
    pub occupation: String,
    /// WNI, or WNA with the KITAP.
    pub citizenship: String,
}

impl BiodataView {
    /// `b`, with its region's names from the station's master data.
    pub fn of(b: &Biodata, station: &Station) -> BiodataView {
        use crate::domain::region::RegionDirectory;
        let place: Vec<String> = station
            .store()
            .lineage(&b.address.village)
            .into_iter()
            .flatten()
            .map(|r| r.name)
            .collect();
        BiodataView {
            nik: b.nik.as_str().to_owned(),
            name: b.name.clone(),
            birth: format!("{}, {}", b.birth_place, b.birth_date),
            sex: b.sex.card_label().to_owned(),
            address: format!(
                "{} RT {:03}/RW {:03}, {}",
                b.address.street,
                b.address.rt,
                b.address.rw,
                place.join(", ")
            ),
            religion: b.religion.to_string(),
            marital_status: b.marital_status.to_string(),
            occupation: b.occupation.to_string(),
            citizenship: match &b.citizenship {
                Kewarganegaraan::Wni => "WNI".into(),
                Kewarganegaraan::Wna { nationality, kitap } => format!(
                    "WNA {nationality} (KITAP {}, {})",
                    kitap.number, kitap.expires_on
                ),
            },
        }
    }
}

/// The summons letter as the screen shows it beside its PDF.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SealedView {
    /// The queue number.
    pub queue_number: String,
    /// The packet id (printed and as a QR code on the letter).
    pub packet_id: String,
    /// The masked NIK.
    pub masked_nik: MaskedNik,
    /// The resident's name.
    pub name: String,
    /// The packet id's QR code, SVG.
    pub qr_svg: String,
    /// The letter's PDF size.
    pub letter_bytes: usize,
}

/// Where a recording is, for the wizard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WizardView {
    /// Queue number.
    pub queue_number: String,
    /// The case.
    pub case: CaseType,
    /// The case's name.
    pub case_label: &'static str,
    /// The step to do next (`ended` when over).
    pub step: Step,
    /// Whether the recording is paused.
    pub paused: bool,
    /// The case's document checklist.
    pub checklist: Vec<ChecklistLine>,
    /// The biodata read by NIK.
    pub biodata: Option<BiodataView>,
    /// Who answered for the biodata (SIAK online, or the Dinas's extract and how old).
    pub biodata_source: Option<SourceView>,
    /// What the last step gave (a score, where the fingers stand), for the screen to show.
    pub last: Option<Outcome>,
    /// Why the visit ended without a recording (the resident refused at eligibility or
    /// de-duplication): the screen keeps it until the operator closes it.
    pub refused: Option<Problem>,
    /// Whether the operator cancelled the recording.
    pub cancelled: bool,
    /// The sealed recording, once sealed.
    pub sealed: Option<SealedView>,
    /// What the de-duplication compared the person with beyond this station (a station with
    /// a kecamatan server): the whole kecamatan, or this station only when the hub did not
    /// answer.
    pub kecamatan: Option<crate::hub::CheckedView>,
}

impl WizardView {
    /// `w` as it stands, with nothing to report from a step.
    pub fn of(w: &RecordingWorkflow, station: &Station, lang: Lang) -> WizardView {
        let case = w.case();
        WizardView {
            queue_number: w.queue_number().to_owned(),
            case,
            case_label: case.label(lang),
            step: w.step(),
            paused: w.is_paused(),
            checklist: checklist(case, lang),
            biodata: w.biodata().map(|b| BiodataView::of(b, station)),
            biodata_source: w
                .biodata_source()
                .map(|s| SourceView::of(s, station.store().clock().now(), lang)),
            last: None,
            refused: None,
            cancelled: false,
            sealed: None,
            kecamatan: w.kecamatan().map(|c| crate::hub::CheckedView::of(c, lang)),
        }
    }
}

/// Where biodata came from, as the biodata step shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SourceView {
    /// In the operator's language, with the data's age.
    pub label: String,
    /// Whether it came from the station's extract, not SIAK online.
    pub offline: bool,
    /// Whole days since the extract's data (none for SIAK online).
    pub age_days: Option<i64>,
    /// Whether the extract is older than the station allows without a flag.
    pub stale: bool,
}

impl SourceView {
    /// `source` as of `now`.
    pub fn of(source: &Source, now: time::OffsetDateTime, lang: Lang) -> SourceView {
        let (label, stale) = crate::population::describe(source, now, lang);
        SourceView {
            label,
            offline: !matches!(source, Source::Siak),
            age_days: source.age_days(now),
            stale,
        }
    }
}

/// The card handed over.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HandedOverView {
    /// The chip serial.
    pub card_serial: String,
    /// `berhasil` or `dispensasi`.
    pub verification: String,
    /// The receipt's PDF size.
    pub receipt_bytes: usize,
}

/// Where a handover is, for its screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HandoverView {
    /// The summons letter's queue number, when the resident has it.
    pub queue_number: Option<String>,
    /// The step to do next: `card`, `chip_data`, `handover_verification`, `receipt`, `ended`.
    pub step: &'static str,
    /// The chip's data, once read.
    pub biodata: Option<BiodataView>,
    /// The index fingers' scores against the chip.
    pub scores: Option<(u8, u8)>,
    /// The card handed over.
    pub handed_over: Option<HandedOverView>,
    /// Why the visit ended without a card (a forged card, fingers that do not match).
    pub refused: Option<Problem>,
}

/// One reissue case the screen offers, with its checklist.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReissueCase {
    /// The case.
    pub case: CaseType,
    /// Its name.
    pub label: &'static str,
    /// Its documents.
    pub checklist: Vec<ChecklistLine>,
    /// Whether the new address is asked for (a move).
    pub needs_address: bool,
}

/// A reissue request taken, as the temporary letter's screen shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReissuedView {
    /// The request's id.
    pub request_id: String,
    /// The masked NIK.
    pub masked_nik: MaskedNik,
    /// The case's name.
    pub case_label: &'static str,
    /// The temporary letter's PDF size.
    pub letter_bytes: usize,
}

/// A print order, for the Dinas administrator to check before the card is written.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PrintOrderView {
    /// The packet id.
    pub packet_id: String,
    /// What the chip will hold.
    pub biodata: BiodataView,
    /// Whether the right index finger's template is in the order.
    pub right_index: bool,
    /// Whether the left index finger's template is in the order.
    pub left_index: bool,
}

/// One record of the Dinas's print queue, as the screen lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PrintQueueLine {
    /// The record (what the print order is fetched by).
    pub packet_id: String,
    /// The resident, masked.
    pub masked_nik: String,
    /// Where it was recorded: the kecamatan's name and the station.
    pub recorded_at: String,
    /// When it became ready to print (date).
    pub ready_on: String,
    /// Why the last card made for it came back, when one did.
    pub returned: Option<String>,
}

/// A card written and locked.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PersonalisedView {
    /// The chip serial.
    pub card_serial: String,
    /// The masked NIK.
    pub masked_nik: MaskedNik,
    /// The card face, as a `data:image/png;base64,` URL.
    pub face_png: String,
    /// The card face's PDF size.
    pub pdf_bytes: usize,
}
