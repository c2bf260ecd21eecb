//! The JSON of SBI 1.0 (MOSIP Device Service specification, registration devices), shared by
//! the client and the simulator so both sides read the same field names. Values that devices
//! send as either numbers or strings (`deviceSubId`, `count`, scores, `timeout`) are read as
//! either.

use serde::{Deserialize, Deserializer, Serialize};

/// The specification version Rekam speaks.
pub const SPEC_VERSION: &str = "0.9.5";
/// The first port of the SBI range.
pub const FIRST_PORT: u16 = 4501;
/// The last port of the SBI range.
pub const LAST_PORT: u16 = 4600;

/// A number that may arrive as a JSON string.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Whole numbers go out as integers, as the specification's examples show them.
        if self.0.fract() == 0.0 && self.0.abs() < 9.0e15 {
            s.serialize_i64(self.0 as i64)
        } else {
            s.serialize_f64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            N(f64),
            S(String),
        }
        match Either::deserialize(d)? {
            Either::N(n) => Ok(Num(n)),
            Either::S(s) => s
                .trim()
                .parse()
                .map(Num)
                .map_err(|_| serde::de::Error::custom(format!("not a number: {s:?}"))),
        }
    }
}

/// `error` of every SBI answer; code "0" is success.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SbiError {
    /// "0" for success, else the specification's code (100-109, 202, 5xx vendor).
    pub error_code: String,
    /// Text for the user.
    #[serde(default)]
    pub error_info: String,
}

impl SbiError {
    /// Success.
    pub fn ok() -> SbiError {
        SbiError {
            error_code: "0".into(),
            error_info: "Success".into(),
        }
    }

    /// Whether this is success.
    pub fn is_ok(&self) -> bool {
        self.error_code.trim() == "0"
    }
}

/// MOSIPDISC request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoverRequest {
    /// "Biometric Device", "Finger", "Iris" or "Face".
    #[serde(rename = "type")]
    pub kind: String,
}

/// One device in a MOSIPDISC answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredDevice {
    /// Internal id within the service.
    pub device_id: String,
    /// "Ready", "Busy", "Not Ready", "Not Registered".
    pub device_status: String,
    /// "L0" or "L1".
    #[serde(default)]
    pub certification: String,
    /// Service version.
    #[serde(default)]
    pub service_version: String,
    /// Sensors: 1 left slap/iris, 2 right, 3 thumbs/both irises, 0 unknown.
    #[serde(default)]
    pub device_sub_id: Vec<Num>,
    /// Base URL.
    #[serde(default)]
    pub callback_id: String,
    /// Unsigned digital id: base64url of [`DigitalId`] JSON.
    pub digital_id: String,
    /// Serial number.
    #[serde(default)]
    pub device_code: String,
    /// Supported specification versions.
    #[serde(default)]
    pub spec_version: Vec<String>,
    /// "Registration", "Auth" or empty.
    #[serde(default)]
    pub purpose: String,
    /// Outcome.
    #[serde(default)]
    pub error: Option<SbiError>,
}

/// The device's identity (payload of `digitalId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigitalId {
    /// Serial number, as printed on the device.
    pub serial_no: String,
    /// Brand.
    pub make: String,
    /// Model.
    pub model: String,
    /// "Finger", "Iris" or "Face".
    #[serde(rename = "type")]
    pub kind: String,
    /// "Slap", "Single", "Touchless", "Double", "Full face".
    pub device_sub_type: String,
    /// Legal name of the provider.
    pub device_provider: String,
    /// Provider id.
    pub device_provider_id: String,
    /// When this was issued (ISO 8601).
    pub date_time: String,
}

/// One entry of a MOSIPDINFO answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoEntry {
    /// JWS of [`DeviceInfo`], signed by the device key.
    #[serde(default)]
    pub device_info: String,
    /// Outcome.
    #[serde(default)]
    pub error: Option<SbiError>,
}

/// The payload of `deviceInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfoPayload {
    /// Supported specification versions.
    #[serde(default)]
    pub spec_version: Vec<String>,
    /// Environment.
    #[serde(default)]
    pub env: String,
    /// Signed digital id (JWS).
    pub digital_id: String,
    /// Internal id.
    pub device_id: String,
    /// Serial.
    pub device_code: String,
    /// Purpose.
    #[serde(default)]
    pub purpose: String,
    /// Service version.
    #[serde(default)]
    pub service_version: String,
    /// Status.
    pub device_status: String,
    /// Firmware.
    #[serde(default)]
    pub firmware: String,
    /// Certification level.
    #[serde(default)]
    pub certification: String,
    /// Sensors.
    #[serde(default)]
    pub device_sub_id: Vec<Num>,
    /// Base URL.
    #[serde(default)]
    pub callback_id: String,
}

/// RCAPTURE request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureRequestWire {
    /// Environment.
    pub env: String,
    /// "Registration".
    pub purpose: String,
    /// Specification version.
    pub spec_version: String,
    /// Milliseconds the client waits.
    pub timeout: Num,
    /// When the request was made (ISO 8601).
    pub capture_time: String,
    /// 4-50 letters, digits, hyphens; new for every request.
    pub transaction_id: String,
    /// What to capture.
    pub bio: Vec<BioRequest>,
    /// Vendor options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_opts: Option<serde_json::Value>,
}

/// One modality of an RCAPTURE request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BioRequest {
    /// "Finger", "Iris", "Face".
    #[serde(rename = "type")]
    pub kind: String,
    /// How many to capture.
    pub count: Num,
    /// Which ones.
    #[serde(default)]
    pub bio_sub_type: Vec<String>,
    /// Which are missing (amputated, bandaged, ...).
    #[serde(default)]
    pub exception: Vec<String>,
    /// Quality at which the device captures by itself.
    pub requested_score: Num,
    /// Device.
    pub device_id: String,
    /// Sensor.
    pub device_sub_id: Num,
    /// Hash of the previous capture of this transaction (SHA-256 of "" for the first).
    pub previous_hash: String,
}

/// RCAPTURE answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureResponseWire {
    /// One entry per finger, eye or face; on failure one entry with the error.
    pub biometrics: Vec<BiometricEntry>,
}

/// One capture in an RCAPTURE answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BiometricEntry {
    /// Specification version.
    #[serde(default)]
    pub spec_version: String,
    /// JWS of [`BiometricData`], signed by the device key.
    #[serde(default)]
    pub data: String,
    /// Upper-case hex SHA-256 of (previous hash bytes || SHA-256 of the ISO record).
    #[serde(default)]
    pub hash: String,
    /// Outcome.
    #[serde(default)]
    pub error: Option<SbiError>,
}

/// The signed payload of one capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BiometricData {
    /// Signed digital id (JWS).
    pub digital_id: String,
    /// "Finger", "Iris", "Face".
    pub bio_type: String,
    /// Serial.
    pub device_code: String,
    /// Service version.
    #[serde(default)]
    pub device_service_version: String,
    /// Which finger or eye ("UNKNOWN" or empty for a face).
    #[serde(default)]
    pub bio_sub_type: String,
    /// Purpose.
    #[serde(default)]
    pub purpose: String,
    /// Environment.
    #[serde(default)]
    pub env: String,
    /// base64url of the ISO/IEC 19794 record.
    pub bio_value: String,
    /// As in the request.
    pub transaction_id: String,
    /// Capture time (ISO 8601).
    pub timestamp: String,
    /// As in the request.
    pub requested_score: Num,
    /// The device's quality score 0-100.
    pub quality_score: Num,
}

/// UTC now in ISO 8601, as SBI writes `captureTime`, `timestamp` and `dateTime`.
pub fn now_iso() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// SHA-256 of the empty string, upper-case hex: the first `previousHash` of a transaction.
pub fn initial_hash() -> String {
    use sha2::Digest;
    hex::encode_upper(sha2::Sha256::digest(b""))
}

/// The hash chain of SBI: SHA-256(previous hash bytes || SHA-256(ISO record)), upper-case hex.
/// `None` when `previous` is not hex.
pub fn chain_hash(previous: &str, iso: &[u8]) -> Option<String> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(hex::decode(previous).ok()?);
    h.update(sha2::Sha256::digest(iso));
    Some(hex::encode_upper(h.finalize()))
}
