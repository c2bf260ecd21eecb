//! Rekam's device drivers.
//!
//! Architecture invariant: this is the only crate that knows a device's wire protocol. The core
//! and the desktop shell see device kinds, identities, statuses, captures and [`DriverError`]s
//! that tell an operator what to do; never bytes.
//!
//! Backends: fingerprint scanners, iris and face cameras through MOSIP SBI ([`sbi`]), the
//! signature pad over a serial port ([`signature_pad`]), the smart-card reader through PC/SC
//! ([`card`]). Signed data from devices and cards is checked against trust roots ([`trust`]).

pub mod card;
pub mod sbi;
pub mod signature_pad;
pub mod survey;
pub mod trust;

use rekam_i18n::{Lang, Localized};
use serde::Serialize;
use std::time::Duration;

/// The kinds of device a station drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// Ten-print scanner (slaps 4-4-2, single fingers).
    Fingerprint,
    /// Iris camera (both eyes).
    Iris,
    /// Face camera.
    Face,
    /// Signature pad.
    SignaturePad,
    /// Smart-card reader/writer.
    CardReader,
}

impl DeviceKind {
    /// The device's name at the counter.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            DeviceKind::Fingerprint => lang.pick("Pemindai sidik jari", "Fingerprint scanner"),
            DeviceKind::Iris => lang.pick("Kamera iris", "Iris camera"),
            DeviceKind::Face => lang.pick("Kamera wajah", "Face camera"),
            DeviceKind::SignaturePad => lang.pick("Bantalan tanda tangan", "Signature pad"),
            DeviceKind::CardReader => lang.pick("Pembaca kartu", "Card reader"),
        }
    }
}

/// Who a device says it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// Its kind.
    pub kind: DeviceKind,
    /// Make and model.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// Firmware version.
    pub firmware: String,
    /// Where it is attached (a port, a URL, a reader name).
    pub address: String,
}

/// Whether a device can be used now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Connected and idle.
    Ready,
    /// Capturing for someone else.
    Busy,
    /// Not answering.
    NotConnected,
}

/// What went wrong with a device, in terms an operator can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// Nothing answers at the configured address.
    #[error("{} not connected at {address}", .kind.label(Lang::En))]
    NotConnected {
        /// The device kind.
        kind: DeviceKind,
        /// Where it was looked for.
        address: String,
    },
    /// The device went away during an operation.
    #[error("{} disconnected during the operation", .0.label(Lang::En))]
    Disconnected(DeviceKind),
    /// Another operation holds the device.
    #[error("{} is busy", .0.label(Lang::En))]
    Busy(DeviceKind),
    /// No answer within the time allowed.
    #[error("{} did not answer within {} s", .kind.label(Lang::En), .after.as_secs())]
    Timeout {
        /// The device kind.
        kind: DeviceKind,
        /// How long was waited.
        after: Duration,
    },
    /// The person at the device cancelled.
    #[error("cancelled at the {}", .0.label(Lang::En))]
    Cancelled(DeviceKind),
    /// A capture ended with nothing in it.
    #[error("the {} captured nothing", .0.label(Lang::En))]
    Empty(DeviceKind),
    /// The device speaks something else than expected.
    #[error("{} answered outside its protocol: {detail}", .kind.label(Lang::En))]
    Protocol {
        /// The device kind.
        kind: DeviceKind,
        /// What was wrong.
        detail: String,
    },
    /// What the device sent is not signed by a device the station trusts, or was altered.
    #[error("{} sent data that cannot be trusted: {detail}", .kind.label(Lang::En))]
    Untrusted {
        /// The device kind.
        kind: DeviceKind,
        /// What failed.
        detail: String,
    },
    /// The device itself reported an error (SBI error codes).
    #[error("{} reported error {code}: {info}", .kind.label(Lang::En))]
    Refused {
        /// The device kind.
        kind: DeviceKind,
        /// The device's code.
        code: String,
        /// The device's text.
        info: String,
    },
    /// A slap showed another number of fingers than expected.
    #[error("the slap shows {found} fingers, {expected} expected")]
    WrongFingerCount {
        /// Fingers asked for (the slap minus exceptions).
        expected: u8,
        /// Fingers the device found.
        found: u8,
    },
    /// Quality stayed below the threshold on every attempt.
    #[error(
        "{} quality {best} is below {required} after {attempts} attempts",
        .kind.label(Lang::En)
    )]
    QualityTooLow {
        /// The device kind.
        kind: DeviceKind,
        /// The best score reached.
        best: u8,
        /// The score required.
        required: u8,
        /// Attempts made.
        attempts: u32,
    },
    /// The card in the reader is the problem.
    #[error("{0}")]
    Card(card::CardProblem),
    /// The system service that carries the device is not running (pcscd for card readers).
    #[error("the {service} service is not running; start it (systemctl start {service})")]
    ServiceDown {
        /// The device kind.
        kind: DeviceKind,
        /// The service's name.
        service: &'static str,
    },
    /// The PKCS#11 token holding the card secrets (the SAM master, the document signer) is
    /// missing, locked or refused.
    #[error("card token {token}: {detail}")]
    Token {
        /// The token's label.
        token: String,
        /// What went wrong.
        detail: String,
    },
    /// The operating system refused (permissions, port in use by another program).
    #[error("{} at {address}: {detail}", .kind.label(Lang::En))]
    Io {
        /// The device kind.
        kind: DeviceKind,
        /// Where.
        address: String,
        /// The system's words.
        detail: String,
    },
}

impl DriverError {
    /// A stable code for logs, reports and the screen.
    pub fn code(&self) -> &'static str {
        match self {
            DriverError::NotConnected { .. } => "DEVICE_NOT_CONNECTED",
            DriverError::Disconnected(_) => "DEVICE_DISCONNECTED",
            DriverError::Busy(_) => "DEVICE_BUSY",
            DriverError::Timeout { .. } => "DEVICE_TIMEOUT",
            DriverError::Cancelled(_) => "DEVICE_CANCELLED",
            DriverError::Empty(_) => "DEVICE_EMPTY_CAPTURE",
            DriverError::Protocol { .. } => "DEVICE_PROTOCOL",
            DriverError::Io { .. } => "DEVICE_IO",
            DriverError::Token { .. } => "CARD_TOKEN",
            DriverError::ServiceDown { .. } => "DEVICE_SERVICE_DOWN",
            DriverError::Card(p) => p.code(),
            DriverError::Untrusted { .. } => "DEVICE_UNTRUSTED",
            DriverError::Refused { .. } => "DEVICE_REFUSED",
            DriverError::WrongFingerCount { .. } => "DEVICE_WRONG_FINGER_COUNT",
            DriverError::QualityTooLow { .. } => "DEVICE_QUALITY_TOO_LOW",
        }
    }
}

impl Localized for DriverError {
    fn localized(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            DriverError::NotConnected { kind, address } => format!(
                "{} tidak terhubung di {address}: periksa kabel dan daya perangkat",
                kind.label(lang)
            ),
            DriverError::Disconnected(kind) => format!(
                "{} terputus di tengah proses: sambungkan kembali, lalu ulangi langkah ini",
                kind.label(lang)
            ),
            DriverError::Busy(kind) => {
                format!(
                    "{} sedang dipakai: tunggu sebentar lalu coba lagi",
                    kind.label(lang)
                )
            }
            DriverError::Timeout { kind, after } => format!(
                "{} tidak menjawab dalam {} detik: ulangi, atau periksa perangkat",
                kind.label(lang),
                after.as_secs()
            ),
            DriverError::Cancelled(kind) => format!("Dibatalkan di {}", kind.label(lang)),
            DriverError::Empty(kind) => format!(
                "{} tidak merekam apa pun: minta penduduk mengulang",
                kind.label(lang)
            ),
            DriverError::Protocol { kind, detail } => format!(
                "{} menjawab di luar protokolnya ({detail}): hubungi teknisi",
                kind.label(lang)
            ),
            DriverError::Card(p) => p.localized(lang),
            DriverError::Untrusted { kind, detail } => format!(
                "Data dari {} tidak dapat dipercaya ({detail}): jangan dipakai, hubungi teknisi",
                kind.label(lang)
            ),
            DriverError::Refused { kind, code, info } => format!(
                "{} melaporkan galat {code} ({info}): ulangi; bila berulang, hubungi teknisi",
                kind.label(lang)
            ),
            DriverError::WrongFingerCount { expected, found } => format!(
                "Terbaca {found} jari, seharusnya {expected}: letakkan semua jari rata di kaca, \
                 atau catat jari yang tidak ada sebagai pengecualian"
            ),
            DriverError::QualityTooLow {
                kind,
                best,
                required,
                attempts,
            } => format!(
                "Kualitas {} masih kurang ({best}, minimal {required}) setelah {attempts} kali: \
                 bersihkan kaca dan jari, tekan lebih ringan, lalu ulangi atau catat pengecualian \
                 dengan persetujuan supervisor",
                kind.label(lang)
            ),
            DriverError::ServiceDown { kind, service } => format!(
                "Layanan {service} untuk {} tidak berjalan: jalankan (systemctl start {service}) \
                 atau hubungi teknisi",
                kind.label(lang).to_lowercase()
            ),
            DriverError::Io {
                kind,
                address,
                detail,
            } => format!(
                "{} di {address}: {detail}. Periksa hak akses port atau tutup program lain yang \
                 memakainya",
                kind.label(lang)
            ),
            DriverError::Token { token, detail } => format!(
                "Token kunci kartu {token}: {detail}. Pasang token Dinas (SAM) dan periksa PIN-nya; \
                 hubungi teknisi bila tetap gagal"
            ),
        }
    }
}
