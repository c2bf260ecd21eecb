//! The counter's workflows as explicit state machines: recording ([`recording`]), handover
//! ([`handover`]), reissue ([`reissue`]) and personalisation ([`personalisation`]), with the
//! operators who run them ([`operators`]); the clarification of a duplicate the data center
//! found ([`clarification`]).
//!
//! Each workflow is a value that knows its current step and refuses a call out of the SOP's
//! order ([`WorkflowError::OutOfOrder`]); each step is timed (pauses excluded) against the SOP's
//! service standard ([`sop_standard`]); every decision is an audit entry, and every finished
//! visit (sealed, refused, cancelled, handed over, failed) is one append-only `visit` row with
//! its step times, which the daily report ([`crate::report`]) reads.
//!
//! Devices are reached through the driver traits only (`rekam_drivers`), so the same workflow
//! runs against a vendor's SBI service, a serial pad and a PC/SC reader, or the simulators.
//!
//! Invariants: nothing half-captured is sealed (captures live in memory until the seal step,
//! which seals all of them or nothing); a workflow that ends for any reason writes exactly one
//! visit row; no full NIK in a visit row or an audit entry.

pub mod clarification;
pub mod counter;
pub mod handover;
pub mod operators;
pub mod personalisation;

pub mod recording;
pub mod reissue;

use crate::clock::Clock;
use crate::domain::case::CaseType;
use crate::domain::eligibility::Refusal;
use crate::domain::nik::Nik;
use crate::i18n::{Lang, Localized};
use crate::store::StepTime;
use rekam_bio::finger::FingerTemplate;
use rekam_bio::finger::extract::{Gray, decode, extract};
use rekam_drivers::DriverError;
use rekam_drivers::sbi::{
    BiometricDevice, CaptureRequest, CaptureSet, Finger, Record, Target, wire::initial_hash,
};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

pub use crate::domain::population::{Found, PopulationRecord, Source};

/// The population data, looked up by NIK: SIAK online, the Dinas's extract on the station
/// (`crate::population`), or both in turn.
pub trait Population {
    /// The record of `nik` and who answered, or `None` when the source does not know the NIK.
    fn lookup(&self, nik: &Nik) -> crate::Result<Option<Found>>;
}

/// The SOP's service standards, shared with the kecamatan's report.
pub use crate::domain::sop::{group as sop_group, standard as sop_standard};

/// Why a workflow step was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// A step asked for out of the SOP's order.
    #[error(
        "step \"{}\" asked for while the workflow is at \"{}\"",
        step_label(got, Lang::En),
        step_label(expected, Lang::En)
    )]
    OutOfOrder {
        /// Where the workflow is.
        expected: &'static str,
        /// What was asked.
        got: &'static str,
    },
    /// The workflow is paused: resume it first.
    #[error("the workflow is paused: resume it first")]
    Paused,
    /// The workflow already ended.
    #[error("the workflow already ended ({0})")]
    Ended(String),
    /// Documents of the case's checklist were not presented.
    #[error("documents missing: {0}")]
    MissingDocuments(String),
    /// The applicant cannot be served under this case.
    #[error("{}", refusal_text(.0, Lang::En))]
    Refused(Refusal),
    /// The resident did not confirm the biodata.
    #[error("the resident did not confirm the biodata: correct it in SIAK first (data change)")]
    BiodataNotConfirmed,
    /// Fingers or eyes stayed below the quality gate after every attempt.
    #[error("quality still too low after {attempts} attempts: {}", .what.names(Lang::En))]
    StillUnreadable {
        /// Which fingers or eyes.
        what: Unreadable,
        /// Attempts made.
        attempts: u32,
    },
    /// An exception without a supervisor's approval.
    #[error(
        "an exception needs a supervisor's approval: their id and password, then their right \
         index finger on the scanner"
    )]
    ApprovalRequired,
    /// The photo failed its gate.
    #[error("the photo failed its check (score {score}): {advice}")]
    PhotoRejected {
        /// Score 0-100.
        score: u8,
        /// What to do (English).
        advice: String,
        /// What to do (Bahasa Indonesia).
        advice_id: String,
    },
    /// The index fingers did not match the slaps just captured.
    #[error("the index fingers do not match the slaps (right {right}, left {left})")]
    IndexMismatch {
        /// Right index score.
        right: u8,
        /// Left index score.
        left: u8,
    },
    /// The finger on the scanner is not the logged-in operator's.
    #[error("the finger is not operator {0}'s")]
    OperatorMismatch(String),
    /// The operator may not do this.
    #[error("{operator} ({role}) may not {action}")]
    NotPermitted {
        /// Who.
        operator: String,
        /// Their role.
        role: String,
        /// What.
        action: String,
    },
    /// Unknown operator, wrong password or wrong finger (not said which).
    #[error("login failed: unknown operator, wrong password or wrong finger")]
    LoginFailed,
    /// Too many failed logins: the operator is locked out until a supervisor unlocks them.
    #[error(
        "operator {operator} is locked out after {attempts} failed logins: a supervisor unlocks them"
    )]
    LockedOut {
        /// The operator.
        operator: String,
        /// The limit reached.
        attempts: u32,
    },
    /// The session locked itself after being idle.
    #[error("the session locked after {0} minutes without activity: log in again")]
    Locked(u64),
    /// A device could not do what was asked.
    #[error(transparent)]
    Device(#[from] DriverError),
    /// The live fingers do not match the chip: the card is not handed over.
    #[error("the fingers do not match the card (right {right}, left {left})")]
    HandoverMismatch {
        /// Right index score.
        right: u8,
        /// Left index score.
        left: u8,
    },
    /// Dispensation without its conditions.
    #[error("dispensation refused: {0}")]
    DispensationRefused(&'static str),
    /// The chip's data is not the resident's.
    #[error("the chip's data was not confirmed by the resident")]
    ChipDataRejected,
    /// A reissue without the document its case needs.
    #[error("the reissue needs {0}")]
    ReissueEvidence(&'static str),
    /// Personalisation of a record that is not print-ready.
    #[error("record {0} is not PRINT_READY_RECORD")]
    NotPrintReady(String),
    /// A print order this station may not fetch: it is not the Dinas of the resident's
    /// regency.
    #[error(
        "this station may not fetch the print order of record {0}: print orders go to the Dinas of the resident's regency only"
    )]
    PrintOrderForbidden(String),
    /// The population database did not answer.
    #[error("the population database (SIAK) did not answer: {0}")]
    SiakUnavailable(String),
    /// No population database is configured on this station.
    #[error(
        "the population database (SIAK) is not configured on this station: set its address \
         (REKAM_SIAK_URL) and start the app again"
    )]
    SiakNotConfigured,
    /// A case this workflow does not serve (a reissue case at a recording, or the reverse).
    #[error("{} is not served here: a recording and a reissue each have their own screen", .0.label(Lang::En))]
    WrongCase(CaseType),
    /// Neither SIAK nor a Dinas extract can answer on this station.
    #[error(
        "this station has no population data: import the Dinas's extract (`rekam population \
         import FILE`, or Import on the settings screen) or configure SIAK (REKAM_SIAK_URL)"
    )]
    NoPopulationData,
    /// A NIK the station's extract does not hold, where the extract covers only some desa (a
    /// mobile team's): the resident may live in another desa, so "no NIK yet" would be wrong.
    #[error(
        "NIK not in the Dinas's extract on this station, which covers only desa {}: the \
         resident may live in another desa of the kecamatan; check the address on the family \
         card and serve them at the kecamatan office (with SIAK), not as a resident without a NIK",
        .villages.join(", ")
    )]
    NotInDesaExtract {
        /// The desa the extract covers.
        villages: Vec<String>,
    },
    /// A command that needs an operator while nobody is logged in.
    #[error("log in first with your id, password and finger")]
    NotLoggedIn,
    /// A recording step while no recording is in progress.
    #[error("no recording in progress: start from a queue number")]
    NoRecording,
    /// A handover step while no handover is in progress.
    #[error("no handover in progress: start from the summons letter")]
    NoHandover,
    /// Personalisation before a print order was fetched and checked.
    #[error("no print order yet: enter the packet id from the summons letter")]
    NoPrintOrder,
    /// Something this station was not given at set-up.
    #[error("{} is not configured ({}): call a technician", .0.what(Lang::En), .0.variables())]
    NotConfigured(Setting),
    /// An export to a folder that does not exist (the disk not plugged in).
    #[error(
        "the destination folder does not exist: plug in the external disk and choose its folder"
    )]
    ExportTargetMissing,
}

/// Fingers or eyes that stayed below the quality gate, for [`WorkflowError::StillUnreadable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// These fingers.
    Fingers(Vec<Finger>),
    /// These eyes.
    Eyes(Vec<counter::EyeName>),
}

impl Unreadable {
    /// Their names for an operator, in `lang`.
    pub fn names(&self, lang: Lang) -> String {
        let names: Vec<&str> = match self {
            Unreadable::Fingers(f) => f.iter().map(|f| f.label(lang)).collect(),
            Unreadable::Eyes(e) => e.iter().map(|e| e.label(lang)).collect(),
        };
        names.join(", ")
    }
}

/// A step's name for an operator, from its stable name (a recording's or a handover's); an
/// unknown name is shown as it is.
pub fn step_label(name: &str, lang: Lang) -> &str {
    recording::Step::ALL
        .iter()
        .map(|s| (s.name(), s.label(lang)))
        .chain(
            handover::Step::ALL
                .iter()
                .map(|s| (s.name(), s.label(lang))),
        )
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, label)| label)
}

/// What a station may lack at set-up, for [`WorkflowError::NotConfigured`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The CSCA certificate and SAM key cards are checked against.
    CardTrust,
    /// The Dinas's document signer, for personalisation.
    DocumentSigner,
    /// The data center's address.
    DataCenter,
}

impl Setting {
    /// What is missing, in `lang`.
    pub fn what(self, lang: Lang) -> &'static str {
        match self {
            Setting::CardTrust => lang.pick(
                "Sertifikat CSCA dan kunci SAM",
                "The CSCA certificate and SAM key",
            ),
            Setting::DocumentSigner => {
                lang.pick("Penanda tangan dokumen Dinas", "The Dinas document signer")
            }
            Setting::DataCenter => lang.pick("Alamat pusat data", "The data center's address"),
        }
    }

    /// The settings that give it.
    pub fn variables(self) -> &'static str {
        match self {
            Setting::CardTrust => "REKAM_CARD_CSCA, REKAM_CARD_TOKEN, REKAM_CARD_PIN",
            Setting::DocumentSigner => "REKAM_CARD_TOKEN, REKAM_CARD_PIN, REKAM_CARD_DS_CERT",
            Setting::DataCenter => "REKAM_DC_URL",
        }
    }
}

impl WorkflowError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            WorkflowError::OutOfOrder { .. } => "WORKFLOW_ORDER",
            WorkflowError::WrongCase(_) => "WRONG_CASE",
            WorkflowError::Paused => "WORKFLOW_PAUSED",
            WorkflowError::Ended(_) => "WORKFLOW_ENDED",
            WorkflowError::MissingDocuments(_) => "DOCUMENTS_MISSING",
            WorkflowError::Refused(r) => r.code,
            WorkflowError::BiodataNotConfirmed => "BIODATA_NOT_CONFIRMED",
            WorkflowError::StillUnreadable { .. } => "QUALITY_EXCEPTION_NEEDED",
            WorkflowError::ApprovalRequired => "APPROVAL_REQUIRED",
            WorkflowError::PhotoRejected { .. } => "PHOTO_REJECTED",
            WorkflowError::IndexMismatch { .. } => "INDEX_MISMATCH",
            WorkflowError::OperatorMismatch(_) => "OPERATOR_FINGER_MISMATCH",
            WorkflowError::NotPermitted { .. } => "NOT_PERMITTED",
            WorkflowError::LoginFailed => "LOGIN_FAILED",
            WorkflowError::LockedOut { .. } => "OPERATOR_LOCKED_OUT",
            WorkflowError::Locked(_) => "SESSION_LOCKED",
            WorkflowError::Device(e) => e.code(),
            WorkflowError::HandoverMismatch { .. } => "HANDOVER_FINGER_MISMATCH",
            WorkflowError::DispensationRefused(_) => "DISPENSATION_REFUSED",
            WorkflowError::ChipDataRejected => "CHIP_DATA_REJECTED",
            WorkflowError::ReissueEvidence(_) => "REISSUE_EVIDENCE_MISSING",
            WorkflowError::NotPrintReady(_) => "NOT_PRINT_READY",
            WorkflowError::PrintOrderForbidden(_) => "PRINT_ORDER_FORBIDDEN",
            WorkflowError::SiakUnavailable(_) => "SIAK_UNAVAILABLE",
            WorkflowError::SiakNotConfigured => "SIAK_NOT_CONFIGURED",
            WorkflowError::NoPopulationData => "NO_POPULATION_DATA",
            WorkflowError::NotInDesaExtract { .. } => "NIK_NOT_IN_DESA_EXTRACT",
            WorkflowError::NotLoggedIn => "NOT_LOGGED_IN",
            WorkflowError::NoRecording => "NO_RECORDING",
            WorkflowError::NoHandover => "NO_HANDOVER",
            WorkflowError::NoPrintOrder => "NO_PRINT_ORDER",
            WorkflowError::NotConfigured(Setting::CardTrust) => "CARD_TRUST_MISSING",
            WorkflowError::NotConfigured(_) => "PERSONALISATION_NOT_CONFIGURED",
            WorkflowError::ExportTargetMissing => "EXPORT_TARGET_MISSING",
        }
    }
}

impl Localized for WorkflowError {
    fn localized(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            WorkflowError::OutOfOrder { expected, got } => format!(
                "Langkah \"{}\" belum boleh: proses sedang di langkah \"{}\"; ikuti urutan SOP",
                step_label(got, lang),
                step_label(expected, lang)
            ),
            WorkflowError::WrongCase(case) => format!(
                "{} tidak dilayani di sini: perekaman dan penggantian KTP-el punya layarnya \
                 sendiri",
                case.label(lang)
            ),
            WorkflowError::Paused => "Proses sedang dijeda: lanjutkan terlebih dahulu".into(),
            WorkflowError::Ended(how) => format!("Proses sudah selesai ({how})"),
            WorkflowError::MissingDocuments(d) => format!(
                "Dokumen belum lengkap: {d}. Minta penduduk melengkapi, lalu ambil antrean lagi"
            ),
            WorkflowError::Refused(r) => refusal_text(r, lang),
            WorkflowError::BiodataNotConfirmed => "Penduduk tidak membenarkan biodatanya: \
                                                   perbaiki dulu di SIAK (layanan perubahan \
                                                   data); perekaman tidak dilanjutkan"
                .into(),
            WorkflowError::StillUnreadable { what, attempts } => format!(
                "Kualitas masih kurang setelah {attempts} kali ({}): catat sebagai \
                 pengecualian (tidak terbaca) dengan persetujuan supervisor",
                what.names(lang)
            ),
            WorkflowError::ApprovalRequired => {
                "Pengecualian memerlukan persetujuan supervisor: ID dan kata sandinya, lalu \
                 telunjuk kanannya pada pemindai"
                    .into()
            }
            WorkflowError::PhotoRejected {
                score, advice_id, ..
            } => format!("Foto belum memenuhi syarat (nilai {score}): {advice_id}"),
            WorkflowError::IndexMismatch { right, left } => format!(
                "Telunjuk tidak cocok dengan sidik jari yang baru direkam (kanan {right}, kiri \
                 {left}): ulangi verifikasi; bila tetap gagal, ulangi perekaman sidik jari"
            ),
            WorkflowError::OperatorMismatch(id) => format!(
                "Sidik jari bukan milik operator {id} yang sedang masuk: operator yang merekam \
                 harus meletakkan telunjuk kanannya sendiri"
            ),
            WorkflowError::NotPermitted {
                operator,
                role,
                action,
            } => format!("{operator} ({role}) tidak berwenang untuk {action}"),
            WorkflowError::LoginFailed => "Gagal masuk: ID operator, kata sandi atau sidik jari \
                                           salah"
                .into(),
            WorkflowError::LockedOut { operator, attempts } => format!(
                "Akun {operator} dikunci setelah {attempts} kali gagal masuk: minta supervisor \
                 membukanya (`rekam operator unlock --id {operator}`)"
            ),
            WorkflowError::Locked(m) => format!(
                "Sesi terkunci setelah {m} menit tanpa aktivitas: masuk lagi dengan kata sandi"
            ),
            WorkflowError::Device(e) => e.localized(lang),
            WorkflowError::HandoverMismatch { right, left } => format!(
                "Sidik jari tidak cocok dengan chip (kanan {right}, kiri {left}): KTP-el TIDAK \
                 diserahkan; kartu dikembalikan ke Kementerian untuk dimusnahkan"
            ),
            WorkflowError::DispensationRefused(why) => {
                format!("Dispensasi ditolak: {}", dispensation_text(why))
            }
            WorkflowError::ChipDataRejected => "Penduduk tidak membenarkan data di chip: kartu \
                                                tidak diserahkan; laporkan salah cetak ke \
                                                Kementerian"
                .into(),
            WorkflowError::ReissueEvidence(what) => {
                format!("Penggantian memerlukan {}", evidence_text(what))
            }
            WorkflowError::NotPrintReady(id) => format!(
                "Rekaman {id} belum berstatus PRINT_READY_RECORD dari DC: belum boleh dicetak"
            ),
            WorkflowError::PrintOrderForbidden(id) => format!(
                "Stasiun ini tidak berhak mengambil data cetak rekaman {id}: data cetak hanya untuk \
                 Dinas kabupaten/kota tempat penduduk direkam (stasiun Dinas didaftarkan dengan \
                 token Dinas dari administrator DC)"
            ),
            WorkflowError::SiakUnavailable(why) => format!(
                "Database kependudukan (SIAK) tidak menjawab ({why}): periksa jaringan ke SIAK, \
                 lalu baca NIK lagi; proses tetap di langkah biodata"
            ),
            WorkflowError::SiakNotConfigured => "Database kependudukan (SIAK) belum diatur di \
                                                 stasiun ini: atur alamatnya (REKAM_SIAK_URL), \
                                                 lalu jalankan aplikasi lagi"
                .into(),
            WorkflowError::NoPopulationData => "Stasiun ini belum punya data kependudukan: \
                                                impor ekstrak dari Dinas (`rekam population \
                                                import BERKAS`) atau atur SIAK (REKAM_SIAK_URL)"
                .into(),
            WorkflowError::NotInDesaExtract { villages } => format!(
                "NIK tidak ada dalam ekstrak Dinas di stasiun ini, yang hanya memuat desa {}: \
                 penduduk mungkin tinggal di desa lain di kecamatan ini; periksa alamat pada \
                 kartu keluarga dan layani di kantor kecamatan (dengan SIAK), bukan sebagai \
                 penduduk tanpa NIK",
                villages.join(", ")
            ),
            WorkflowError::NotLoggedIn => "Masuk dulu dengan ID, kata sandi dan sidik jari".into(),
            WorkflowError::NoRecording => {
                "Tidak ada perekaman berjalan: mulai dari nomor antrean".into()
            }
            WorkflowError::NoHandover => {
                "Tidak ada pengambilan berjalan: mulai dari surat panggilan".into()
            }
            WorkflowError::NoPrintOrder => {
                "Belum ada data cetak: masukkan nomor paket dari surat panggilan".into()
            }
            WorkflowError::NotConfigured(s) => format!(
                "{} belum diatur ({}): hubungi teknisi",
                s.what(lang),
                s.variables()
            ),
            WorkflowError::ExportTargetMissing => "Folder tujuan tidak ada: pasang disk eksternal \
                                                   dan pilih foldernya"
                .into(),
        }
    }
}

fn dispensation_text(why: &str) -> &'static str {
    match why {
        "old KTP not surrendered" => "KTP lama belum diserahkan (wajib pada dispensasi)",
        _ => "dispensasi hanya dengan persetujuan supervisor",
    }
}

fn evidence_text(what: &str) -> &'static str {
    match what {
        "a police loss report" => "surat keterangan kehilangan dari kepolisian",
        "the damaged card" => "KTP-el yang rusak",
        "a move certificate and the new address" => "surat keterangan pindah dan alamat baru",
        _ => "dokumen pendukung perubahan data",
    }
}

/// A refusal in the operator's words: why, and where the resident goes next.
pub fn refusal_text(r: &Refusal, lang: Lang) -> String {
    use crate::domain::eligibility::{RefusalReason as R, Route};
    let why = match (&r.reason, lang) {
        (R::NoNik, Lang::Id) => "penduduk belum memiliki NIK".to_owned(),
        (R::NoNik, Lang::En) => "the resident has no NIK yet".to_owned(),
        (R::UnderAge { age }, Lang::Id) => {
            format!("umur {age} tahun, belum 17 dan belum pernah kawin")
        }
        (R::UnderAge { age }, Lang::En) => {
            format!("{age} years old, under 17 and never married")
        }
        (R::AlreadyRecorded { reference }, Lang::Id) => {
            format!("sudah pernah direkam ({reference}); perekaman hanya sekali seumur hidup")
        }
        (R::AlreadyRecorded { reference }, Lang::En) => {
            format!("already recorded ({reference}); a person is recorded once in a lifetime")
        }
        (R::NotRecorded, Lang::Id) => "belum pernah direkam".to_owned(),
        (R::NotRecorded, Lang::En) => "never recorded".to_owned(),
        (R::ForeignResidentCase, Lang::Id) => {
            "orang asing dilayani dengan jenis KTP-el orang asing".into()
        }
        (R::ForeignResidentCase, Lang::En) => {
            "a foreign resident is served under the foreign resident's case".into()
        }
        (R::CitizenCase, Lang::Id) => "WNI dilayani dengan perekaman biasa".into(),
        (R::CitizenCase, Lang::En) => "a citizen is served as a new recording".into(),
        (R::KitapExpired { expired_on }, Lang::Id) => format!("KITAP habis berlaku {expired_on}"),
        (R::KitapExpired { expired_on }, Lang::En) => format!("the KITAP expired on {expired_on}"),
    };
    let next = match (&r.route, lang) {
        (Route::BiodataRegistration, Lang::Id) => {
            "daftarkan biodata di SIAK dengan formulir F-1.07".into()
        }
        (Route::BiodataRegistration, Lang::En) => {
            "register the biodata in SIAK with form F-1.07".into()
        }
        (Route::ComeBackOn { date }, Lang::Id) => format!("datang kembali pada {date}"),
        (Route::ComeBackOn { date }, Lang::En) => format!("come back on {date}"),
        (Route::Case { case }, Lang::Id) => format!("layani sebagai {}", case.label(lang)),
        (Route::Case { case }, Lang::En) => format!("serve as {}", case.label(lang)),
        (Route::RenewKitap, Lang::Id) => "perpanjang KITAP di kantor imigrasi".into(),
        (Route::RenewKitap, Lang::En) => "renew the KITAP at the immigration office".into(),
        (Route::Reissue, Lang::Id) => {
            "layani sebagai penggantian KTP-el tanpa perekaman ulang".into()
        }
        (Route::Reissue, Lang::En) => "serve as a card replacement, without recording again".into(),
    };
    match lang {
        Lang::Id => format!("Ditolak ({}): {why}. Langkah berikut: {next}", r.code),
        Lang::En => format!("Refused ({}): {why}. Next: {next}", r.code),
    }
}

impl From<WorkflowError> for crate::Error {
    fn from(e: WorkflowError) -> Self {
        crate::Error::Workflow(Box::new(e))
    }
}

impl From<DriverError> for crate::Error {
    fn from(e: DriverError) -> Self {
        WorkflowError::Device(e).into()
    }
}

/// Where a workflow stands, for [`enter_step`].
pub(crate) struct At {
    /// The workflow's name, for [`WorkflowError::Ended`].
    pub workflow: &'static str,
    /// The step it is at.
    pub step: &'static str,
    /// Whether it ended.
    pub ended: bool,
}

/// Lets a workflow take step `got`: refused when it ended, is paused or is at another step;
/// otherwise the operator's session counts the activity (or says it locked) and the step's
/// clock starts.
pub(crate) fn enter_step(
    at: At,
    got: &'static str,
    session: &mut operators::Session,
    timer: &mut StepTimer,
) -> crate::Result<()> {
    if at.ended {
        return Err(WorkflowError::Ended(at.workflow.into()).into());
    }
    if timer.is_paused() {
        return Err(WorkflowError::Paused.into());
    }
    if at.step != got {
        return Err(WorkflowError::OutOfOrder {
            expected: at.step,
            got,
        }
        .into());
    }
    session.touch()?;
    timer.begin(got);
    Ok(())
}

/// Times a workflow's steps against a clock, pauses excluded.
#[derive(Debug)]
pub struct StepTimer {
    clock: Arc<dyn Clock>,
    started_at: OffsetDateTime,
    current: Option<(&'static str, OffsetDateTime)>,
    paused_at: Option<OffsetDateTime>,
    paused: Duration,
    steps: Vec<StepTime>,
}

impl StepTimer {
    /// Starts timing now.
    pub fn start(clock: Arc<dyn Clock>) -> StepTimer {
        let now = clock.now();
        StepTimer {
            clock,
            started_at: now,
            current: None,
            paused_at: None,
            paused: Duration::ZERO,
            steps: Vec::new(),
        }
    }

    /// When the workflow started.
    pub fn started_at(&self) -> OffsetDateTime {
        self.started_at
    }

    /// Begins `step` (ending the one before).
    pub fn begin(&mut self, step: &'static str) {
        self.end();
        self.current = Some((step, self.clock.now()));
        self.paused = Duration::ZERO;
    }

    /// Ends the current step.
    pub fn end(&mut self) {
        if let Some((step, at)) = self.current.take() {
            let spent = (self.clock.now() - at)
                .unsigned_abs()
                .saturating_sub(self.paused);
            match self.steps.iter_mut().find(|s| s.step == step) {
                Some(s) => s.seconds += spent.as_secs_f64(),
                None => self.steps.push(StepTime {
                    step: step.to_owned(),
                    seconds: spent.as_secs_f64(),
                }),
            }
        }
    }

    /// Pauses the clock of the current step.
    pub fn pause(&mut self) {
        self.paused_at.get_or_insert(self.clock.now());
    }

    /// Resumes it.
    pub fn resume(&mut self) {
        if let Some(at) = self.paused_at.take() {
            self.paused += (self.clock.now() - at).unsigned_abs();
        }
    }

    /// Whether paused.
    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// The steps timed so far (the current one included).
    pub fn finish(&mut self) -> Vec<StepTime> {
        self.resume();
        self.end();
        self.steps.clone()
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

/// A verified capture of one finger on the single-finger sensor, as a template: login, the
/// operator's confirmation, the index verification and handover use it.
pub fn capture_finger(
    device: &dyn BiometricDevice,
    finger: Finger,
    transaction: &str,
) -> Result<(FingerTemplate, CaptureSet), WorkflowError> {
    let set = device.capture_until_good(
        &CaptureRequest {
            target: Target::Single(finger),
            requested_score: FINGER_THRESHOLD,
            timeout: CAPTURE_TIMEOUT,
            transaction_id: transaction_id(transaction),
            previous_hash: initial_hash(),
        },
        ATTEMPTS,
        &mut |_, _| {},
    )?;
    let capture = set
        .captures
        .first()
        .ok_or(DriverError::Empty(rekam_drivers::DeviceKind::Fingerprint))?;
    Ok((finger_template(&capture.record, finger.code())?, set))
}

/// The template of a finger record.
pub(crate) fn finger_template(
    record: &Record,
    position: u8,
) -> Result<FingerTemplate, DriverError> {
    let protocol = |detail: String| DriverError::Protocol {
        kind: rekam_drivers::DeviceKind::Fingerprint,
        detail,
    };
    let Record::Finger(image) = record else {
        return Err(protocol("not a finger record".into()));
    };
    let (pixels, width, height) = decode(image).map_err(|e| protocol(e.to_string()))?;
    extract(
        Gray {
            data: &pixels,
            width,
            height,
        },
        position,
    )
    .map_err(|e| protocol(e.to_string()))
}

/// Quality a finger must reach (the SBI device's score; MOSIP registration uses 40).
pub const FINGER_THRESHOLD: u8 = 40;
/// Quality an iris must reach.
pub const IRIS_THRESHOLD: u8 = 40;
/// Quality the photo must reach (the engine's face gate).
pub const FACE_THRESHOLD: u8 = 40;
/// Attempts per finger, eye or photo before an exception is needed (the SOP's three retries).
pub const ATTEMPTS: u32 = 3;
/// How long a device may take per capture.
pub const CAPTURE_TIMEOUT: Duration = Duration::from_secs(30);

/// A fresh SBI transaction id with a readable prefix.
pub(crate) fn transaction_id(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

#[cfg(test)]
mod tests {
    use super::{Unreadable, WorkflowError};
    use crate::domain::case::CaseType;
    use crate::i18n::{Lang, Localized};
    use rekam_drivers::sbi::Finger;

    #[test]
    fn a_step_out_of_order_is_named_as_the_operator_knows_it() {
        let e = crate::Error::from(WorkflowError::OutOfOrder {
            expected: "documents",
            got: "photo",
        });
        assert_eq!(
            e.localized(Lang::Id),
            "Langkah \"Foto\" belum boleh: proses sedang di langkah \"Dokumen\"; ikuti urutan SOP"
        );
        assert!(e.localized(Lang::En).contains("\"Photo\""), "{e}");
        let e = WorkflowError::OutOfOrder {
            expected: "card",
            got: "receipt",
        };
        assert!(e.localized(Lang::Id).contains("\"Baca kartu\""), "{e}");
    }

    #[test]
    fn a_refusal_says_why_and_where_to_go_in_both_languages() {
        use crate::domain::eligibility::{Refusal, RefusalReason, Route};
        let e = WorkflowError::Refused(Refusal {
            code: "ELIG_NO_NIK",
            reason: RefusalReason::NoNik,
            route: Route::BiodataRegistration,
        });
        assert_eq!(
            e.localized(Lang::En),
            "Refused (ELIG_NO_NIK): the resident has no NIK yet. Next: register the biodata in \
             SIAK with form F-1.07"
        );
        assert!(e.localized(Lang::Id).contains("formulir F-1.07"), "{e}");
    }

    #[test]
    fn unreadable_fingers_and_a_wrong_case_speak_the_operators_language() {
        let e = WorkflowError::StillUnreadable {
            what: Unreadable::Fingers(vec![Finger::LeftIndex, Finger::RightThumb]),
            attempts: 3,
        };
        assert!(
            e.localized(Lang::Id)
                .contains("(telunjuk kiri, ibu jari kanan)"),
            "{}",
            e.localized(Lang::Id)
        );
        let e = crate::Error::from(WorkflowError::WrongCase(CaseType::LostCard));
        assert_eq!(e.code(), "WRONG_CASE");
        assert!(
            e.localized(Lang::Id)
                .starts_with("Penggantian KTP-el hilang tidak dilayani di sini"),
            "{}",
            e.localized(Lang::Id)
        );
    }
}
