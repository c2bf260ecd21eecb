//! The crate's one error type. Variants carry what the operator needs to act; `Display` is
//! English for logs, [`Localized`] gives the operator's language.

use crate::domain::biodata::BiodataError;
use crate::domain::kk::KkError;
use crate::domain::nik::MaskedNik;
use crate::domain::nik::NikError;
use crate::domain::population::ExtractError;
use crate::domain::region::RegionError;
use crate::i18n::{Lang, Localized};
use std::path::PathBuf;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An invalid NIK.
    #[error(transparent)]
    Nik(#[from] NikError),
    /// An invalid family card number.
    #[error(transparent)]
    Kk(#[from] KkError),
    /// A bad region code, or one the master data lacks.
    #[error(transparent)]
    Region(#[from] RegionError),
    /// Biodata that cannot be accepted.
    #[error(transparent)]
    Biodata(#[from] BiodataError),
    /// No station has been set up in this data directory.
    #[error("no station in {0}: run `rekam init` first")]
    NotInitialised(PathBuf),
    /// `init` on a data directory that already holds a station.
    #[error("a station already exists in {0}: nothing was changed")]
    AlreadyInitialised(PathBuf),
    /// A station id that is not 3-32 letters, digits or dashes.
    #[error("station id {0:?} is invalid: use 3-32 letters, digits or dashes")]
    InvalidStationId(String),
    /// A station must sit in a kecamatan.
    #[error("a station's region must be a kecamatan code (6 digits, e.g. 32.73.01), not {0}")]
    StationRegionLevel(String),
    /// The key does not open the database (or the file is not a Rekam database).
    #[error(
        "the store key does not open {0}: wrong key file, a damaged database, or not a Rekam \
         database; delete nothing, and restore the key or the database from the last backup \
         (`rekam restore`)"
    )]
    WrongKey(PathBuf),
    /// The key slot file is damaged or of an unknown format.
    #[error("the station's key slots: {problem}")]
    KeySlots {
        /// What is wrong.
        problem: String,
    },
    /// No TPM answers where the station looked for one.
    #[error(
        "no TPM 2.0 at {tcti} ({detail}): this machine cannot hold a TPM slot; the station works \
         with its operators' passwords and the Dinas's recovery key"
    )]
    TpmUnavailable {
        /// Where the station looked (a TCTI).
        tcti: String,
        /// What went wrong.
        detail: String,
    },
    /// The TPM would not give back what the station's TPM slot sealed.
    #[error(
        "the TPM refused the station's TPM slot: {detail}; log in with an operator's password, \
         then enroll the TPM slot again (`rekam keys tpm enroll`) if the change was expected"
    )]
    TpmRefused {
        /// Why.
        detail: String,
    },
    /// Another program has the store open, where this needs it alone.
    #[error(
        "another program has the station's store open (the app or its background sync): close it and try again"
    )]
    StoreBusy,
    /// The station's store is sealed and nobody has opened it.
    #[error(
        "the station is locked: its store opens with an operator's password (log in), or the Dinas's recovery key"
    )]
    Locked(PathBuf),
    /// The key file is missing, unreadable, malformed or too open.
    #[error("key file {path}: {problem}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The database was written by a newer Rekam.
    #[error(
        "the station database has schema version {found}, newer than this Rekam build knows \
         ({supported}): install the newer Rekam that wrote it; nothing was changed"
    )]
    NewerSchema {
        /// The database's version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// The operating system gave no randomness (keys and ids cannot be made).
    #[error("the operating system gave no randomness: {0}")]
    NoRandomness(String),
    /// The linked SQLite cannot encrypt: personal data must never be stored with it.
    #[error("this build's SQLite has no encryption (SQLCipher): refusing to store personal data")]
    NoEncryption,
    /// A second recording of the same NIK at this station.
    #[error("NIK {masked_nik} is already recorded at this station (record {enrollment_id})")]
    AlreadyRecorded {
        /// The masked NIK.
        masked_nik: MaskedNik,
        /// The earlier record.
        enrollment_id: String,
    },
    /// The fingers and irises of a new recording match a recording already made at this
    /// station.
    #[error(
        "the biometrics match recording {enrollment_id} (NIK {masked_nik}, {recorded_at}; \
         {matching} of {compared} fingers and irises agree): a person is recorded once"
    )]
    BiometricDuplicate {
        /// The earlier record.
        enrollment_id: String,
        /// Its masked NIK.
        masked_nik: MaskedNik,
        /// When it was recorded.
        recorded_at: String,
        /// Fingers and irises that matched, of those compared.
        matching: u8,
        /// Fingers and irises compared.
        compared: u8,
    },
    /// The kecamatan server found the person recorded, or being recorded right now, at
    /// another counter of the kecamatan (who, where and when, masked).
    #[error(
        "{} matched this person to {} at counter {} (NIK {}, {}; {} of {} fingers and irises agree): a person is recorded once",
        .0.copy_as_of.as_ref().map_or("the kecamatan server".to_owned(), |t| format!("this counter's copy of the kecamatan's gallery (as of {t})")),
        first_recording(&.0.first), .0.first.station_id, .0.first.masked_nik, .0.first.recorded_at, .0.first.matching, .0.first.compared
    )]
    KecamatanDuplicate(Box<crate::hub::KecamatanMatch>),
    /// The kecamatan server could not be reached, or refused (registration, its identity).
    #[error("kecamatan server: {detail} ({code})")]
    Hub {
        /// The hub's code, or the link's (`LINK_DOWN`, `TLS`, ...).
        code: String,
        /// What happened.
        detail: String,
    },
    /// A stored de-duplication entry cannot be read.
    #[error("de-duplication index entry {seq} is damaged")]
    IndexDamaged {
        /// Journal position.
        seq: i64,
    },
    /// A template could not be written as a standard record.
    #[error("the biometric template cannot be stored: {detail}")]
    TemplateRejected {
        /// Why.
        detail: String,
    },
    /// The station has not been registered with a data center, so it has no key to seal to.
    #[error(
        "this station is not registered with the data center: ask the Dinas for a registration \
         token and the data center identity file, then run `rekam register`"
    )]
    NotRegistered,
    /// A packet could not be sealed or read.
    #[error("packet: {0}")]
    Packet(#[from] rekam_packet::PacketError),
    /// A recording's manifest does not account for its records, or a step's result is missing
    /// at the seal.
    #[error("the recording is incomplete or inconsistent: {0}")]
    RecordingInvalid(String),
    /// An export asked for a packet that is not waiting at this station.
    #[error(
        "packet {0} is not waiting at this station: check its id against `rekam backlog`; \
         nothing was exported"
    )]
    PacketNotWaiting(String),
    /// A clarification for a packet that is no duplicate awaiting one.
    #[error(
        "packet {packet_id} {why}: only a DUPLICATE_RECORD not yet clarified takes an outcome \
         (`rekam backlog` lists them); nothing was changed"
    )]
    NotToClarify {
        /// The packet named.
        packet_id: String,
        /// What it is instead (English).
        why: String,
    },
    /// A card this station cannot record as returned.
    #[error("card {card_serial} cannot be recorded as returned: {why}; nothing was changed")]
    CardNotInCirculation {
        /// The serial named.
        card_serial: String,
        /// Why (English).
        why: String,
    },
    /// A record with a card in circulation, asked to be personalised again: one of this
    /// station's (its serial), or one the data center knows of from another Dinas station.
    #[error("{}", card_in_circulation_text(.packet_id, .card_serial.as_deref()))]
    CardInCirculation {
        /// The record.
        packet_id: String,
        /// The card out, when this station made it.
        card_serial: Option<String>,
    },
    /// A returned card without the reason.
    #[error(
        "a returned card needs the reason (the handover failed, the card is damaged): nothing was changed"
    )]
    CardReturnReasonMissing,
    /// A clarification without its note.
    #[error(
        "a clarification needs a note (the statement's number, what the resident said): \
         nothing was changed"
    )]
    ClarificationNoteMissing,
    /// A file that is not a data center receipts file.
    #[error(
        "{path} is not a data center receipts file ({problem}): bring the receipts.json the \
         data center wrote for this station; nothing was changed"
    )]
    ReceiptsUnreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A receipts file of another station.
    #[error(
        "the receipts are for station {found}, not this one ({station}): bring this station's \
         receipts file; nothing was changed"
    )]
    ReceiptsForeign {
        /// The station the receipts name.
        found: String,
        /// This station.
        station: String,
    },
    /// The data center's print order, signature verified, cannot be used.
    #[error(
        "the data center's print order cannot be used ({0}): fetch it again; if it repeats, \
         report the packet id to the data center"
    )]
    PrintOrderInvalid(String),
    /// The card face's fonts compiled into this build do not load.
    #[error("the card face's fonts do not load: this installation is damaged; reinstall Rekam")]
    CardFonts,
    /// A fault of this program, not of the operator's input or the station's data.
    #[error("internal error ({0}): report it to the technician with the log")]
    Internal(String),
    /// The data center answered with an identity other than the one pinned.
    #[error(
        "the data center's identity ({found}) is not the pinned one ({pinned}): wrong address, \
         or someone in between; nothing was changed"
    )]
    DataCenterMismatch {
        /// Key ids pinned.
        pinned: String,
        /// Key ids found.
        found: String,
    },
    /// A population extract refused (see [`ExtractError`]).
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// A Dinas key to trust while another one is pinned.
    #[error(
        "this station already trusts Dinas key {pinned}, not {offered}: a Dinas changes its key \
         through a technician who sets the station up again; nothing was changed"
    )]
    PopulationSignerPinned {
        /// The key pinned.
        pinned: String,
        /// The key offered.
        offered: String,
    },
    /// A Dinas key file that does not hold a public key.
    #[error(
        "this is not a Dinas public key (64 hex digits of an Ed25519 key): bring the key file the \
         Dinas handed over; nothing was changed"
    )]
    PopulationSignerInvalid,
    /// The repository's TEST Dinas key, offered to a build without training mode.
    #[error(
        "this is the TEST Dinas key from the Rekam sources: an installed station trusts only the \
         Dinas's own key; nothing was changed"
    )]
    TestPopulationSigner,
    /// A file of a calibration set not named as the procedure says.
    #[error(
        "{file}: a calibration capture is named <person>_<finger 1-10>_<session>.png (for \
         example relawan07_2_hari1.png); rename it or take it out of the folder"
    )]
    CalibrationName {
        /// The file's name.
        file: String,
    },
    /// A calibration capture that is not a finger image the engine reads.
    #[error(
        "{file} is not a readable 500 ppi grey finger image ({reason}): export it again from the \
         scanner's tool or take it out of the folder"
    )]
    CalibrationImage {
        /// The file's name.
        file: String,
        /// Why.
        reason: String,
    },
    /// A calibration folder with no captures.
    #[error(
        "{0}: no .png captures in this folder; see docs/biometric-engine.md, \"Before go-live\""
    )]
    CalibrationEmpty(PathBuf),
    /// A counter workflow refused a step (see [`crate::workflow::WorkflowError`]).
    #[error(transparent)]
    Workflow(Box<crate::workflow::WorkflowError>),
    /// An operator id that is taken.
    #[error("operator {0} already exists")]
    OperatorExists(String),
    /// An operator id this station does not know.
    #[error("there is no operator {0} at this station")]
    OperatorUnknown(String),
    /// A password too short.
    #[error("a password needs at least {0} characters")]
    WeakPassword(usize),
    /// The sync could not talk to the data center as planned.
    #[error("sync: {0}")]
    Sync(String),
    /// Too little free space to start a recording.
    #[error(
        "the station's disk has {free_mb} MB free and a recording needs {needed_mb} MB: no \
         recording was started; send or export the waiting recordings and ask a technician to \
         free space (never by deleting Rekam's files)"
    )]
    DiskFull {
        /// Free megabytes.
        free_mb: u64,
        /// Megabytes a recording needs free before it starts.
        needed_mb: u64,
    },
    /// The disk filled while a recording was being sealed; the seal was rolled back whole.
    #[error(
        "the station's disk filled while sealing ({free_mb} MB free): this recording is not \
         saved yet and nothing saved before was harmed; keep the recording open, have a \
         technician free space, then seal again"
    )]
    DiskFullAtSeal {
        /// Free megabytes after the failure.
        free_mb: u64,
    },
    /// The database fails SQLite's integrity check, or a page fails its authentication.
    #[error(
        "the station database {path} is damaged ({problem}): stop recording, keep the file as \
         it is, and restore the last backup into a new data directory (`rekam restore --from`)"
    )]
    DatabaseDamaged {
        /// The database.
        path: PathBuf,
        /// What SQLite found first.
        problem: String,
    },
    /// A backup whose files are missing or do not match its manifest.
    #[error("the backup {path} is damaged or incomplete ({problem}): use another backup")]
    BackupDamaged {
        /// The backup.
        path: PathBuf,
        /// What does not match.
        problem: String,
    },
    /// The passphrase does not open a backup's keys.
    #[error("the passphrase does not open the keys of backup {0}: nothing was changed")]
    BackupPassphrase(PathBuf),
    /// Any other database failure; one that finds the file damaged (SQLite's CORRUPT or
    /// NOTADB after the key opened it) is reported as `DATABASE_DAMAGED`, with what to do.
    #[error("{}", database_text(.0))]
    Database(#[from] rusqlite::Error),
    /// A file-system failure.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Whether SQLite found the file damaged. NOTADB after the store key opened the file means
/// a damaged first page (a wrong key is caught at open as [`Error::WrongKey`]).
fn damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

fn database_text(e: &rusqlite::Error) -> String {
    if damage(e) {
        format!(
            "the station database is damaged ({e}): stop recording, leave the file as it is, \
             run `rekam check`, and restore the last backup into a new data directory \
             (`rekam restore --from`)"
        )
    } else {
        format!("station database error: {e}")
    }
}

/// How the kecamatan server named the first recording of a person.
fn first_recording(m: &rekam_packet::hub::Match) -> String {
    match (&m.packet_id, &m.queue_number) {
        (Some(p), _) => format!("recording {p}"),
        (None, Some(q)) => format!("queue number {q}, being recorded now"),
        (None, None) => "a recording in progress".to_owned(),
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A stable machine-readable code for the CLI's JSON and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Nik(e) => e.code(),
            Error::Kk(e) => e.code(),
            Error::Region(_) => "REGION",
            Error::Biodata(_) => "BIODATA",
            Error::NotInitialised(_) => "NOT_INITIALISED",
            Error::AlreadyInitialised(_) => "ALREADY_INITIALISED",
            Error::InvalidStationId(_) => "INVALID_STATION_ID",
            Error::StationRegionLevel(_) => "STATION_REGION_LEVEL",
            Error::WrongKey(_) => "WRONG_KEY",
            Error::KeyFile { .. } => "KEY_FILE",
            Error::KeySlots { .. } => "KEY_SLOTS",
            Error::Locked(_) => "STATION_LOCKED",
            Error::TpmUnavailable { .. } => "TPM_UNAVAILABLE",
            Error::TpmRefused { .. } => "TPM_REFUSED",
            Error::StoreBusy => "STORE_BUSY",
            Error::NewerSchema { .. } => "NEWER_SCHEMA",
            Error::NoRandomness(_) => "NO_RANDOMNESS",
            Error::NoEncryption => "NO_ENCRYPTION",
            Error::AlreadyRecorded { .. } => "ALREADY_RECORDED",
            Error::BiometricDuplicate { .. } => "BIOMETRIC_DUPLICATE",
            Error::IndexDamaged { .. } => "INDEX_DAMAGED",
            Error::KecamatanDuplicate(m) if m.first.packet_id.is_some() => "KECAMATAN_DUPLICATE",
            Error::KecamatanDuplicate(_) => "KECAMATAN_DUPLICATE_IN_PROGRESS",
            Error::Hub { .. } => "HUB",
            Error::TemplateRejected { .. } => "TEMPLATE_REJECTED",
            Error::NotRegistered => "STATION_NOT_REGISTERED",
            Error::Packet(e) => e.code(),
            Error::RecordingInvalid(_) => "RECORDING_INVALID",
            Error::PacketNotWaiting(_) => "PACKET_NOT_WAITING",
            Error::NotToClarify { .. } => "NOT_TO_CLARIFY",
            Error::ClarificationNoteMissing => "CLARIFICATION_NOTE_MISSING",
            Error::CardNotInCirculation { .. } => "CARD_NOT_IN_CIRCULATION",
            Error::CardReturnReasonMissing => "CARD_RETURN_REASON_MISSING",
            Error::CardInCirculation { .. } => "CARD_IN_CIRCULATION",
            Error::ReceiptsUnreadable { .. } => "RECEIPTS_INVALID",
            Error::ReceiptsForeign { .. } => "RECEIPTS_FOREIGN",
            Error::PrintOrderInvalid(_) => "PRINT_ORDER_INVALID",
            Error::CardFonts => "CARD_FONTS",
            Error::Internal(_) => "INTERNAL",
            Error::DataCenterMismatch { .. } => "DC_IDENTITY_MISMATCH",
            Error::Extract(e) => e.code(),
            Error::PopulationSignerPinned { .. } => "POPULATION_SIGNER_PINNED",
            Error::TestPopulationSigner => "POPULATION_TEST_SIGNER",
            Error::CalibrationName { .. } => "CALIBRATION_NAME",
            Error::CalibrationImage { .. } => "CALIBRATION_IMAGE",
            Error::CalibrationEmpty(_) => "CALIBRATION_EMPTY",
            Error::PopulationSignerInvalid => "POPULATION_SIGNER_INVALID",
            Error::Workflow(e) => e.code(),
            Error::OperatorExists(_) => "OPERATOR_EXISTS",
            Error::OperatorUnknown(_) => "OPERATOR_UNKNOWN",
            Error::WeakPassword(_) => "WEAK_PASSWORD",
            Error::Sync(_) => "SYNC",
            Error::DiskFull { .. } => "DISK_FULL",
            Error::DiskFullAtSeal { .. } => "DISK_FULL_AT_SEAL",
            Error::DatabaseDamaged { .. } => "DATABASE_DAMAGED",
            Error::BackupDamaged { .. } => "BACKUP_DAMAGED",
            Error::BackupPassphrase(_) => "BACKUP_PASSPHRASE",
            Error::Database(e) if damage(e) => "DATABASE_DAMAGED",
            Error::Database(_) => "DATABASE",
            Error::Io { .. } => "IO",
        }
    }
}

impl Localized for Error {
    fn localized(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            Error::Nik(e) => e.localized(lang),
            Error::Kk(e) => e.localized(lang),
            Error::Region(e) => e.localized(lang),
            Error::Biodata(e) => e.localized(lang),
            Error::NotInitialised(p) => format!(
                "Belum ada stasiun di {}: jalankan `rekam init` terlebih dahulu",
                p.display()
            ),
            Error::AlreadyInitialised(p) => {
                format!(
                    "Stasiun sudah ada di {}: tidak ada yang diubah",
                    p.display()
                )
            }
            Error::InvalidStationId(s) => {
                format!("ID stasiun {s:?} tidak sah: gunakan 3-32 huruf, angka atau tanda hubung")
            }
            Error::StationRegionLevel(s) => format!(
                "Wilayah stasiun harus kode kecamatan (6 digit, misalnya 32.73.01), bukan {s}"
            ),
            Error::WrongKey(p) => format!(
                "Kunci penyimpanan tidak dapat membuka {}: berkas kunci salah, basis data rusak, \
                 atau bukan basis data Rekam. Jangan hapus apa pun; hubungi teknisi untuk \
                 memulihkan kunci atau basis data dari cadangan terakhir (`rekam restore`)",
                p.display()
            ),
            Error::KeyFile { path, problem } => {
                format!("Berkas kunci {}: {problem}", path.display())
            }
            Error::KeySlots { problem } => format!(
                "Slot kunci stasiun bermasalah ({problem}): jangan hapus apa pun; hubungi teknisi \
                 atau Dinas (pemulihan dengan kunci Dinas: `rekam recover`)"
            ),
            Error::TpmUnavailable { tcti, detail } => format!(
                "Tidak ada TPM 2.0 di {tcti} ({detail}): mesin ini tidak dapat memegang slot TPM; \
                 stasiun tetap bekerja dengan kata sandi operator dan kunci pemulihan Dinas"
            ),
            Error::TpmRefused { detail } => format!(
                "TPM menolak membuka slot TPM stasiun: {detail}. Masuk dengan kata sandi operator, \
                 lalu daftarkan slot TPM lagi (`rekam keys tpm enroll`) bila perubahan itu memang \
                 disengaja"
            ),
            Error::StoreBusy => "Program lain sedang membuka penyimpanan stasiun (aplikasi atau \
                                  sinkronisasi latarnya): tutup dulu, lalu ulangi"
                .into(),
            Error::Locked(_) => "Stasiun terkunci: penyimpanannya hanya terbuka dengan kata \
                                 sandi operator (masuk; di baris perintah: --operator ID, kata \
                                 sandi di REKAM_PASSWORD)"
                .into(),
            Error::NewerSchema { found, supported } => format!(
                "Basis data stasiun berversi skema {found}, lebih baru daripada yang dikenal \
                 aplikasi ini ({supported}): pasang Rekam versi yang lebih baru; tidak ada yang \
                 diubah"
            ),
            Error::NoRandomness(e) => {
                format!("Sistem operasi tidak memberi bilangan acak ({e}): hubungi teknisi")
            }
            Error::NoEncryption => "SQLite pada aplikasi ini tanpa enkripsi (SQLCipher): data \
                                    pribadi tidak akan disimpan"
                .into(),
            Error::BiometricDuplicate {
                enrollment_id,
                masked_nik,
                recorded_at,
                matching,
                compared,
            } => format!(
                "Biometrik cocok dengan rekaman {enrollment_id} (NIK {masked_nik}, {recorded_at}; \
                 {matching} dari {compared} jari dan iris cocok): penduduk ini sudah direkam di \
                 stasiun ini. Jangan rekam ulang; periksa identitasnya dan layani sebagai \
                 penggantian KTP"
            ),
            Error::KecamatanDuplicate(k) => {
                let m = &k.first;
                let by = k.copy_as_of.as_ref().map_or_else(
                    || "Server AFIS kecamatan".to_owned(),
                    |t| format!("Salinan galeri kecamatan di loket ini (per {t})"),
                );
                let first = match (&m.packet_id, &m.queue_number) {
                    (Some(p), _) => format!("rekaman {p}"),
                    (None, Some(q)) => format!("nomor antrean {q} yang sedang direkam"),
                    (None, None) => "rekaman yang sedang berlangsung".to_owned(),
                };
                format!(
                    "{by} mencocokkan penduduk ini dengan {first} di loket {} \
                     (NIK {}, {}; {} dari {} jari dan iris cocok): penduduk hanya direkam \
                     sekali. Jangan rekam ulang; periksa identitasnya dengan supervisor",
                    m.station_id, m.masked_nik, m.recorded_at, m.matching, m.compared
                )
            }
            Error::Hub { code, detail } => format!(
                "Server kecamatan: {detail} ({code}). Perekaman tetap berjalan dengan pemeriksaan \
                 stasiun sendiri; hubungi teknisi bila berlanjut"
            ),
            Error::TemplateRejected { detail } => format!(
                "Templat biometrik tidak dapat disimpan ({detail}): ulangi pengambilan; bila \
                 berulang, hubungi teknisi"
            ),
            Error::IndexDamaged { seq } => format!(
                "Indeks biometrik rusak pada entri {seq}: hentikan perekaman dan hubungi teknisi \
                 (pulihkan dari cadangan)"
            ),
            Error::AlreadyRecorded {
                masked_nik,
                enrollment_id,
            } => format!(
                "NIK {masked_nik} sudah direkam di stasiun ini (rekaman {enrollment_id}): \
                 perekaman hanya satu kali"
            ),
            Error::NotRegistered => "Stasiun belum terdaftar di DC: minta token pendaftaran dan \
                                     berkas identitas DC kepada Dinas, lalu jalankan `rekam \
                                     register`"
                .into(),
            Error::Packet(rekam_packet::PacketError::TooLarge { size, limit }) => format!(
                "Paket rekaman {} KB melebihi batas {} KB: ulangi pengambilan foto atau iris \
                 (berkas terlalu besar); bila berulang, hubungi teknisi",
                size / 1024,
                limit / 1024
            ),
            Error::Packet(e) => format!(
                "Paket rekaman tidak dapat dibuat atau dibaca ({}): hubungi teknisi",
                e.code()
            ),
            Error::RecordingInvalid(why) => format!(
                "Rekaman belum lengkap atau tidak konsisten ({why}): lengkapi langkah yang \
                 kurang; tidak ada yang disegel"
            ),
            Error::NotToClarify { packet_id, .. } => format!(
                "Paket {packet_id} bukan data ganda yang menunggu klarifikasi: hanya hasil DC \
                 DUPLICATE_RECORD yang belum diklarifikasi dapat dicatat hasilnya (lihat \
                 `rekam backlog`); tidak ada yang diubah"
            ),
            Error::CardInCirculation {
                packet_id,
                card_serial: Some(serial),
            } => format!(
                "Rekaman {packet_id} sudah punya kartu {serial} yang beredar dari stasiun ini: \
                 catat dulu kartu itu kembali (penyerahan gagal, kartu rusak); tidak ada kartu \
                 yang ditulis"
            ),
            Error::CardInCirculation {
                packet_id,
                card_serial: None,
            } => format!(
                "Menurut pusat data, rekaman {packet_id} sudah punya kartu yang beredar (dibuat \
                 di stasiun Dinas lain): pengembalian kartu itu dicatat dulu di sana; tidak ada \
                 kartu yang ditulis"
            ),
            Error::CardReturnReasonMissing => "Kartu yang kembali perlu alasannya (verifikasi \
                saat penyerahan gagal, kartu rusak): tidak ada yang diubah"
                .to_owned(),
            Error::CardNotInCirculation { card_serial, .. } => format!(
                "Kartu {card_serial} tidak dapat dicatat kembali: kartu itu tidak beredar dari \
                 stasiun ini (belum dipersonalisasi di sini, atau pengembaliannya sudah dicatat); \
                 periksa nomor seri pada chip; tidak ada yang diubah"
            ),
            Error::ClarificationNoteMissing => "Klarifikasi perlu catatan (nomor berita \
                acara, keterangan penduduk): tidak ada yang diubah"
                .to_owned(),
            Error::PacketNotWaiting(id) => format!(
                "Paket {id} tidak menunggu di stasiun ini: periksa ID-nya di daftar data \
                 mengendap (`rekam backlog`); tidak ada yang diekspor"
            ),
            Error::ReceiptsUnreadable { path, problem } => format!(
                "{} bukan berkas tanda terima DC ({problem}): bawa receipts.json yang dibuat DC \
                 untuk stasiun ini; tidak ada yang diubah",
                path.display()
            ),
            Error::ReceiptsForeign { found, station } => format!(
                "Tanda terima ini untuk stasiun {found}, bukan stasiun ini ({station}): bawa \
                 berkas tanda terima stasiun ini; tidak ada yang diubah"
            ),
            Error::PrintOrderInvalid(why) => format!(
                "Perintah cetak dari DC tidak dapat dipakai ({why}): ambil lagi; bila berulang, \
                 laporkan ID paketnya ke DC"
            ),
            Error::CardFonts => "Huruf untuk wajah kartu tidak dapat dimuat: instalasi ini \
                                 rusak; pasang ulang Rekam"
                .into(),
            Error::Internal(why) => {
                format!("Kesalahan program ({why}): laporkan ke teknisi beserta log-nya")
            }
            Error::DataCenterMismatch { pinned, found } => format!(
                "Identitas DC ({found}) bukan yang tersimpan ({pinned}): alamat salah atau ada \
                 pihak lain di tengah jalur; tidak ada yang diubah. Hubungi Dinas"
            ),
            Error::Extract(e) => e.localized(lang),
            Error::PopulationSignerPinned { pinned, offered } => format!(
                "Stasiun ini sudah memercayai kunci Dinas {pinned}, bukan {offered}: pergantian \
                 kunci Dinas dilakukan teknisi dengan menyiapkan ulang stasiun; tidak ada yang \
                 diubah"
            ),
            Error::PopulationSignerInvalid => {
                "Ini bukan kunci publik Dinas (64 digit heksadesimal \
                                               kunci Ed25519): bawa berkas kunci dari Dinas; \
                                               tidak ada yang diubah"
                    .into()
            }
            Error::TestPopulationSigner => "Ini kunci UJI Dinas dari kode sumber Rekam: stasiun \
                                            terpasang hanya memercayai kunci Dinas sendiri; \
                                            tidak ada yang diubah"
                .into(),
            Error::CalibrationName { file } => format!(
                "{file}: rekaman kalibrasi dinamai <orang>_<jari 1-10>_<sesi>.png (misalnya \
                 relawan07_2_hari1.png); ganti namanya atau keluarkan dari folder"
            ),
            Error::CalibrationImage { file, reason } => format!(
                "{file} bukan citra sidik jari abu-abu 500 ppi yang dapat dibaca ({reason}): \
                 ekspor ulang dari perangkat lunak pemindai atau keluarkan dari folder"
            ),
            Error::CalibrationEmpty(dir) => format!(
                "{}: tidak ada rekaman .png di folder ini; lihat docs/biometric-engine.md, \
                 \"Before go-live\"",
                dir.display()
            ),
            Error::Workflow(e) => e.localized(lang),
            Error::OperatorExists(id) => format!("Operator {id} sudah ada: pilih ID lain"),
            Error::OperatorUnknown(id) => format!("Tidak ada operator {id} di stasiun ini"),
            Error::WeakPassword(n) => format!("Kata sandi minimal {n} karakter"),
            Error::Sync(e) => format!("Sinkronisasi gagal ({e}): hubungi teknisi"),
            Error::DiskFull { free_mb, needed_mb } => format!(
                "Ruang disk stasiun tinggal {free_mb} MB, perekaman memerlukan {needed_mb} MB: \
                 perekaman tidak dimulai. Kirim atau ekspor rekaman yang menunggu, lalu minta \
                 teknisi mengosongkan ruang (jangan dengan menghapus berkas Rekam)"
            ),
            Error::DiskFullAtSeal { free_mb } => format!(
                "Disk stasiun penuh saat penyegelan ({free_mb} MB tersisa): rekaman ini belum \
                 tersimpan dan rekaman sebelumnya tidak terganggu. Biarkan rekaman tetap \
                 terbuka, minta teknisi mengosongkan ruang, lalu segel lagi"
            ),
            Error::DatabaseDamaged { path, problem } => format!(
                "Basis data stasiun {} rusak ({problem}): hentikan perekaman, biarkan berkasnya \
                 apa adanya, dan pulihkan cadangan terakhir ke direktori data baru (`rekam \
                 restore --from`)",
                path.display()
            ),
            Error::BackupDamaged { path, problem } => format!(
                "Cadangan {} rusak atau tidak lengkap ({problem}): gunakan cadangan lain",
                path.display()
            ),
            Error::BackupPassphrase(path) => format!(
                "Frasa sandi tidak membuka kunci cadangan {}: tidak ada yang diubah",
                path.display()
            ),
            Error::Database(e) if damage(e) => format!(
                "Basis data stasiun rusak ({e}): hentikan perekaman, biarkan berkasnya apa \
                 adanya, jalankan `rekam check`, dan pulihkan cadangan terakhir ke direktori \
                 data baru (`rekam restore --from`)"
            ),
            Error::Database(e) => format!("Kesalahan basis data stasiun: {e}"),
            Error::Io { path, source } => format!("{}: {source}", path.display()),
        }
    }
}

/// The English text of [`Error::CardInCirculation`].
fn card_in_circulation_text(packet_id: &str, serial: Option<&str>) -> String {
    match serial {
        Some(serial) => format!(
            "record {packet_id} has card {serial} in circulation from this station: record that \
             card's return first (a failed handover, a damaged card); no card was written"
        ),
        None => format!(
            "the data center says record {packet_id} has a card in circulation (made at another \
             Dinas station): its return is recorded there first; no card was written"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_page_met_by_any_query_is_named_damage_with_what_to_do() {
        let sqlite = |code| {
            Error::Database(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                Some("database disk image is malformed".into()),
            ))
        };
        for code in [rusqlite::ffi::SQLITE_CORRUPT, rusqlite::ffi::SQLITE_NOTADB] {
            let e = sqlite(code);
            assert_eq!(e.code(), "DATABASE_DAMAGED");
            assert!(e.localized(Lang::Id).contains("rekam restore"), "{e:?}");
            assert!(e.to_string().contains("rekam restore"), "{e}");
        }
        let busy = sqlite(rusqlite::ffi::SQLITE_BUSY);
        assert_eq!(busy.code(), "DATABASE");
        assert!(!busy.to_string().contains("restore"));
    }
}
