//! Application cases (jenis permohonan) and the documents each requires (SOP 7.2.1.1 item 7,
//! seed 004; seed 003 step 2; seed 000 for foreign residents).

use rekam_i18n::{Lang, Localized};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// Why a resident is at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CaseType {
    /// Perekaman baru: first (and only) recording of a citizen.
    NewRecording,
    /// Perekaman di rumah: the same recording by a mobile team at the resident's home
    /// (SOP 7.2.1.1 requirement 8).
    HomeVisit,
    /// Penggantian KTP-el rusak: replacement of a damaged card, no recording.
    ReplaceDamaged,
    /// Penggantian KTP-el hilang: replacement of a lost card, no recording (seed 002).
    LostCard,
    /// Perubahan data: data change (status, occupation, address...), no recording (seed 002).
    DataChange,
    /// Pindah datang: a resident moving in, no recording if already recorded (seed 002).
    MovingIn,
    /// KTP-el orang asing: recording of a foreign resident with a KITAP (seed 000).
    ForeignResident,
}

impl CaseType {
    /// Every case.
    pub const ALL: [CaseType; 7] = [
        CaseType::NewRecording,
        CaseType::HomeVisit,
        CaseType::ReplaceDamaged,
        CaseType::LostCard,
        CaseType::DataChange,
        CaseType::MovingIn,
        CaseType::ForeignResident,
    ];

    /// Whether this case captures biometrics (a recording), as opposed to a reissue from the
    /// data center's clean data.
    pub fn is_recording(self) -> bool {
        matches!(
            self,
            CaseType::NewRecording | CaseType::HomeVisit | CaseType::ForeignResident
        )
    }

    /// Whether a card made again for this case carries new biodata (a data change, a move),
    /// as opposed to the same card again (lost, damaged).
    pub fn changes_biodata(self) -> bool {
        matches!(self, CaseType::DataChange | CaseType::MovingIn)
    }

    /// Stable identifier (`new_recording`).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseType::NewRecording => "new_recording",
            CaseType::HomeVisit => "home_visit",
            CaseType::ReplaceDamaged => "replace_damaged",
            CaseType::LostCard => "lost_card",
            CaseType::DataChange => "data_change",
            CaseType::MovingIn => "moving_in",
            CaseType::ForeignResident => "foreign_resident",
        }
    }

    /// The case's name at the counter.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            CaseType::NewRecording => lang.pick("Perekaman baru", "New recording"),
            CaseType::HomeVisit => lang.pick(
                "Perekaman di rumah (tim keliling)",
                "Home-visit recording (mobile team)",
            ),
            CaseType::ReplaceDamaged => {
                lang.pick("Penggantian KTP-el rusak", "Replacement of a damaged card")
            }
            CaseType::LostCard => {
                lang.pick("Penggantian KTP-el hilang", "Replacement of a lost card")
            }
            CaseType::DataChange => lang.pick("Perubahan data", "Data change"),
            CaseType::MovingIn => lang.pick("Pindah datang", "Moving in"),
            CaseType::ForeignResident => lang.pick(
                "KTP-el orang asing (KITAP)",
                "Foreign resident with a permanent stay permit (KITAP)",
            ),
        }
    }

    /// The documents this case asks for.
    pub fn checklist(self) -> &'static [Requirement] {
        use Document::*;
        use Need::*;
        // A macro, not a function: struct literals are promoted to 'static, calls are not.
        macro_rules! r {
            ($document:expr, $need:expr) => {
                Requirement {
                    document: $document,
                    need: $need,
                }
            };
        }
        match self {
            CaseType::NewRecording | CaseType::HomeVisit => &[
                r!(FamilyCardCopy, Required),
                r!(RtRwCoverLetter, Required),
                r!(ApplicationForm, Required),
                r!(BirthCertificateOrDiploma, Required),
                r!(OldKtp, IfApplicable(Condition::HasOldNonElectronicKtp)),
                r!(
                    CivilStatusCertificate,
                    IfApplicable(Condition::MarriedUnder17)
                ),
            ],
            CaseType::ReplaceDamaged => &[
                r!(FamilyCardCopy, Required),
                r!(RtRwCoverLetter, Required),
                r!(DamagedCard, Required),
            ],
            CaseType::LostCard => &[
                r!(FamilyCardCopy, Required),
                r!(RtRwCoverLetter, Required),
                r!(PoliceLossReport, Required),
            ],
            CaseType::DataChange => &[
                r!(FamilyCardCopy, Required),
                r!(RtRwCoverLetter, Required),
                r!(OldKtp, Required),
                r!(
                    CivilStatusCertificate,
                    IfApplicable(Condition::MaritalStatusChange)
                ),
                r!(
                    BirthCertificateOrDiploma,
                    IfApplicable(Condition::NameOrBirthChange)
                ),
            ],
            CaseType::MovingIn => &[
                r!(FamilyCardCopy, Required),
                r!(RtRwCoverLetter, Required),
                r!(MoveCertificate, Required),
                r!(OldKtp, IfApplicable(Condition::CardReceivedAtOrigin)),
            ],
            CaseType::ForeignResident => &[
                r!(FamilyCardCopy, Required),
                r!(KitapCopy, Required),
                r!(ApplicationForm, Required),
            ],
        }
    }
}

impl fmt::Display for CaseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CaseType::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| {
                let all: Vec<&str> = CaseType::ALL.iter().map(|c| c.as_str()).collect();
                format!("unknown case {s:?}: use one of {}", all.join(", "))
            })
    }
}

/// A document the counter checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Document {
    /// Fotokopi Kartu Keluarga.
    FamilyCardCopy,
    /// Surat pengantar RT/RW.
    RtRwCoverLetter,
    /// Formulir permohonan KTP-el (F-1.07 from the kelurahan for a first issuance, seed 003).
    ApplicationForm,
    /// Fotokopi akta kelahiran atau ijazah (proof of age, seed 003).
    BirthCertificateOrDiploma,
    /// KTP lama (the old card, withdrawn).
    OldKtp,
    /// Surat nikah / akta perceraian / surat kematian (change of civil status).
    CivilStatusCertificate,
    /// KTP-el yang rusak (the damaged card).
    DamagedCard,
    /// Surat keterangan kehilangan dari kepolisian (police loss report).
    PoliceLossReport,
    /// Surat keterangan pindah (move certificate).
    MoveCertificate,
    /// Fotokopi KITAP (permanent stay permit).
    KitapCopy,
}

impl Document {
    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Document::FamilyCardCopy => "family_card_copy",
            Document::RtRwCoverLetter => "rt_rw_cover_letter",
            Document::ApplicationForm => "application_form",
            Document::BirthCertificateOrDiploma => "birth_certificate_or_diploma",
            Document::OldKtp => "old_ktp",
            Document::CivilStatusCertificate => "civil_status_certificate",
            Document::DamagedCard => "damaged_card",
            Document::PoliceLossReport => "police_loss_report",
            Document::MoveCertificate => "move_certificate",
            Document::KitapCopy => "kitap_copy",
        }
    }

    /// The document's name at the counter.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Document::FamilyCardCopy => {
                lang.pick("Fotokopi Kartu Keluarga", "Copy of the family card (KK)")
            }
            Document::RtRwCoverLetter => {
                lang.pick("Surat pengantar RT/RW", "Cover letter from the RT/RW")
            }
            Document::ApplicationForm => lang.pick(
                "Formulir permohonan KTP-el (F-1.07)",
                "e-KTP application form (F-1.07)",
            ),
            Document::BirthCertificateOrDiploma => lang.pick(
                "Fotokopi akta kelahiran atau ijazah",
                "Copy of the birth certificate or a diploma",
            ),
            Document::OldKtp => lang.pick("KTP lama (ditarik)", "Old identity card (withdrawn)"),
            Document::CivilStatusCertificate => lang.pick(
                "Surat nikah, akta perceraian atau surat kematian",
                "Marriage, divorce or death certificate",
            ),
            Document::DamagedCard => lang.pick("KTP-el yang rusak", "The damaged e-KTP"),
            Document::PoliceLossReport => lang.pick(
                "Surat keterangan kehilangan dari kepolisian",
                "Police report of the loss",
            ),
            Document::MoveCertificate => lang.pick("Surat keterangan pindah", "Move certificate"),
            Document::KitapCopy => lang.pick("Fotokopi KITAP", "Copy of the KITAP"),
        }
    }
}

/// Whether a document must be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "need", content = "when", rename_all = "snake_case")]
pub enum Need {
    /// Always, for this case.
    Required,
    /// Only when the condition holds; the operator decides.
    IfApplicable(Condition),
}

/// When an [`Need::IfApplicable`] document is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The resident still holds a non-electronic KTP (seed 004, 7f).
    HasOldNonElectronicKtp,
    /// Under 17 and married: marriage is what makes them eligible.
    MarriedUnder17,
    /// The change is of marital status (seed 003, item 6).
    MaritalStatusChange,
    /// The change is of name or date of birth.
    NameOrBirthChange,
    /// The card was already received at the origin.
    CardReceivedAtOrigin,
}

impl Condition {
    /// The condition, for an operator.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Condition::HasOldNonElectronicKtp => lang.pick(
                "bila masih memegang KTP lama",
                "if an old non-electronic card is held",
            ),
            Condition::MarriedUnder17 => lang.pick(
                "bila belum 17 tahun tetapi sudah/pernah kawin",
                "if under 17 but married or ever married",
            ),
            Condition::MaritalStatusChange => lang.pick(
                "bila yang berubah status perkawinan",
                "if the marital status changes",
            ),
            Condition::NameOrBirthChange => lang.pick(
                "bila yang berubah nama atau tanggal lahir",
                "if the name or date of birth changes",
            ),
            Condition::CardReceivedAtOrigin => lang.pick(
                "bila KTP-el sudah diterima di daerah asal",
                "if the card was already received at the origin",
            ),
        }
    }
}

/// One line of a case's checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// The document.
    pub document: Document,
    /// Whether it is needed.
    #[serde(flatten)]
    pub need: Need,
}

/// The documents checked at the counter for one application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentChecklist {
    /// The case.
    pub case: CaseType,
    /// What the resident showed.
    pub presented: BTreeSet<Document>,
    /// Conditional documents the operator marked as needed for this resident.
    pub applicable: BTreeSet<Document>,
}

impl DocumentChecklist {
    /// An empty checklist for `case`.
    pub fn new(case: CaseType) -> Self {
        DocumentChecklist {
            case,
            presented: BTreeSet::new(),
            applicable: BTreeSet::new(),
        }
    }

    /// Documents still missing: the required ones, and the conditional ones marked applicable.
    pub fn missing(&self) -> Vec<Document> {
        self.case
            .checklist()
            .iter()
            .filter(|r| match r.need {
                Need::Required => true,
                Need::IfApplicable(_) => self.applicable.contains(&r.document),
            })
            .map(|r| r.document)
            .filter(|d| !self.presented.contains(d))
            .collect()
    }

    /// Whether the application may go on to recording or reissue.
    pub fn is_complete(&self) -> bool {
        self.missing().is_empty()
    }
}

/// The documents are incomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingDocuments(pub Vec<Document>);

impl Localized for MissingDocuments {
    fn localized(&self, lang: Lang) -> String {
        let names: Vec<&str> = self.0.iter().map(|d| d.label(lang)).collect();
        format!(
            "{}: {}",
            lang.pick("Berkas belum lengkap", "Documents incomplete"),
            names.join("; ")
        )
    }
}
