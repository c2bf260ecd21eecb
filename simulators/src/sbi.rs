//! The SBI device service simulator's logic, apart from HTTP: which resident is at the
//! devices, what the devices answer, signed as a registration (L0) device signs.
//!
//! Three devices on one service, as vendors ship them: a ten-print slap scanner (sensors 1, 2,
//! 3 and 0 for a single finger), a dual iris camera, a face camera. Images come from the
//! synthetic resident generator; the ISO/IEC 19794 records are built with `rekam-records`.

use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signer as _, SigningKey};
use rekam_drivers::sbi::wire::{
    self, BiometricData, BiometricEntry, CaptureRequestWire, CaptureResponseWire,
    DeviceInfoPayload, DigitalId, DiscoveredDevice, InfoEntry, Num, SbiError,
};
use rekam_drivers::sbi::{Eye, Finger, Record, jws};
use rekam_drivers::trust::pem_chain;
use rekam_records::face::{FaceFormat, FaceImage};
use rekam_records::finger::{Compression, FingerImage};
use rekam_records::iris::{IrisFormat, IrisImage};
use rekam_synth::finger::MasterPrint;
use rekam_synth::finger::impression::{Capture as FingerCapture, Quality, impression};
use rekam_synth::resident::{RegionPool, reference_date, resident};
use rekam_synth::seed::Seed;
use serde::{Deserialize, Serialize};

/// The device key and certificate the simulator signs with: TEST keys from
/// `fixtures/test-keys`, certified by the TEST device provider CA.
const DEVICE_KEY: &str = include_str!("../../fixtures/test-keys/test-sbi-device.key.pem");
const DEVICE_CERT: &str = include_str!("../../fixtures/test-keys/test-sbi-device.crt.pem");
/// A device nobody certified (self-signed), for `--rogue`.
const ROGUE_KEY: &str = include_str!("../../fixtures/test-keys/test-sbi-rogue-device.key.pem");
const ROGUE_CERT: &str = include_str!("../../fixtures/test-keys/test-sbi-rogue-device.crt.pem");
/// The serial number in the TEST device certificate's name.
pub const SERIAL: &str = "REKAMSIM0001";

/// What the admin endpoint sets: who is at the devices and how captures go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Seed of the synthetic residents.
    pub seed: u64,
    /// Which resident is at the devices.
    pub resident: u64,
    /// Quality 0-100 the devices report, and the generator's quality knob (quality / 100).
    pub quality: u8,
    /// The next this many captures are poor (score 20, poor images), then `quality` again.
    pub poor_captures: u32,
    /// Milliseconds before a capture answers.
    pub delay_ms: u64,
    /// SBI error code every capture answers with (for example "101", unable to detect).
    pub error: Option<String>,
    /// Fingers (SBI names) this resident does not have, beyond the generator's own.
    pub missing: Vec<String>,
    /// Four-finger slaps find only three fingers.
    pub three_fingers: bool,
    /// Alter each capture after signing it.
    pub tamper: bool,
    /// Devices report Busy.
    pub busy: bool,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            seed: 20261122,
            resident: 0,
            quality: 80,
            poor_captures: 0,
            delay_ms: 0,
            error: None,
            missing: Vec::new(),
            three_fingers: false,
            tamper: false,
            busy: false,
        }
    }
}

struct Device {
    id: &'static str,
    kind: &'static str,
    sub_type: &'static str,
    model: &'static str,
    sensors: &'static [u8],
}

const DEVICES: [Device; 3] = [
    Device {
        id: "1",
        kind: "Finger",
        sub_type: "Slap",
        model: "SIM-SLAP-442",
        sensors: &[1, 2, 3, 0],
    },
    Device {
        id: "2",
        kind: "Iris",
        sub_type: "Double",
        model: "SIM-IRIS-2",
        sensors: &[3],
    },
    Device {
        id: "3",
        kind: "Face",
        sub_type: "Full face",
        model: "SIM-FACE-1",
        sensors: &[0],
    },
];

/// What the simulator needs of the resident at the devices, generated once per resident.
struct Person {
    seed: u64,
    index: u64,
    masters: Vec<MasterPrint>,
    /// SBI names of the fingers the generator gave this resident as missing.
    missing: Vec<String>,
    birth_year: i32,
}

impl Person {
    fn generate(pool: &RegionPool, seed: u64, index: u64) -> Person {
        let r = resident(Seed::from_u64(seed), index, pool, reference_date());
        Person {
            seed,
            index,
            masters: rekam_synth::set::masters(Seed::from_u64(seed), index),
            missing: r
                .missing_fingers
                .iter()
                .filter_map(|m| Finger::from_code(m.position.code()))
                .map(|f| f.sbi_name().to_owned())
                .collect(),
            birth_year: r.birth_date.year(),
        }
    }
}

/// The simulated service: devices, key, scenario, and the resident at the devices.
pub struct Service {
    key: SigningKey,
    chain: Vec<Vec<u8>>,
    port: u16,
    scenario: Scenario,
    pool: RegionPool,
    person: Option<Person>,
    /// Captures so far: each draws its own impression, the same in every run.
    captures: u64,
    /// Preview frames so far, drawn apart so that a preview never changes a capture.
    previews: u64,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("port", &self.port)
            .field("scenario", &self.scenario)
            .finish_non_exhaustive()
    }
}

fn failure(code: &str, info: &str) -> CaptureResponseWire {
    CaptureResponseWire {
        biometrics: vec![BiometricEntry {
            spec_version: wire::SPEC_VERSION.into(),
            data: String::new(),
            hash: String::new(),
            error: Some(SbiError {
                error_code: code.into(),
                error_info: info.into(),
            }),
        }],
    }
}

impl Service {
    /// A service on `port` signing with the TEST device key, or the rogue one.
    pub fn new(port: u16, rogue: bool) -> crate::error::Result<Service> {
        let (key, cert) = if rogue {
            (ROGUE_KEY, ROGUE_CERT)
        } else {
            (DEVICE_KEY, DEVICE_CERT)
        };
        Ok(Service {
            key: SigningKey::from_pkcs8_pem(key)?,
            chain: pem_chain(cert.as_bytes())?,
            port,
            scenario: Scenario::default(),
            pool: RegionPool::load()?,
            person: None,
            captures: 0,
            previews: 0,
        })
    }

    /// The scenario now.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Replaces the scenario.
    pub fn set_scenario(&mut self, scenario: Scenario) {
        self.scenario = scenario;
    }

    fn sign(&self, payload: &[u8]) -> String {
        jws::sign(payload, &self.chain, |input| {
            self.key.sign(input).to_bytes()
        })
    }

    fn digital_id(&self, d: &Device) -> DigitalId {
        DigitalId {
            serial_no: SERIAL.into(),
            make: "Rekam".into(),
            model: d.model.into(),
            kind: d.kind.into(),
            device_sub_type: d.sub_type.into(),
            device_provider: "Rekam TEST device provider".into(),
            device_provider_id: "REKAM-TEST".into(),
            date_time: wire::now_iso(),
        }
    }

    fn status(&self) -> &'static str {
        if self.scenario.busy { "Busy" } else { "Ready" }
    }

    fn callback(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// MOSIPDISC: the devices of `kind` ("Biometric Device" for all).
    pub fn discover(&self, kind: &str) -> Vec<DiscoveredDevice> {
        DEVICES
            .iter()
            .filter(|d| kind == "Biometric Device" || kind == d.kind)
            .map(|d| DiscoveredDevice {
                device_id: d.id.into(),
                device_status: self.status().into(),
                certification: "L0".into(),
                service_version: env!("CARGO_PKG_VERSION").into(),
                device_sub_id: d.sensors.iter().map(|s| Num(f64::from(*s))).collect(),
                callback_id: self.callback(),
                digital_id: jws::b64url_encode(
                    &serde_json::to_vec(&self.digital_id(d)).unwrap_or_default(),
                ),
                device_code: SERIAL.into(),
                spec_version: vec![wire::SPEC_VERSION.into()],
                purpose: "Registration".into(),
                error: Some(SbiError::ok()),
            })
            .collect()
    }

    /// MOSIPDINFO: every device's signed information.
    pub fn info(&self) -> Vec<InfoEntry> {
        DEVICES
            .iter()
            .map(|d| {
                let payload = DeviceInfoPayload {
                    spec_version: vec![wire::SPEC_VERSION.into()],
                    env: "Developer".into(),
                    digital_id: self
                        .sign(&serde_json::to_vec(&self.digital_id(d)).unwrap_or_default()),
                    device_id: d.id.into(),
                    device_code: SERIAL.into(),
                    purpose: "Registration".into(),
                    service_version: env!("CARGO_PKG_VERSION").into(),
                    device_status: self.status().into(),
                    firmware: "sim-1.0".into(),
                    certification: "L0".into(),
                    device_sub_id: d.sensors.iter().map(|s| Num(f64::from(*s))).collect(),
                    callback_id: self.callback(),
                };
                InfoEntry {
                    device_info: self.sign(&serde_json::to_vec(&payload).unwrap_or_default()),
                    error: Some(SbiError::ok()),
                }
            })
            .collect()
    }

    /// The resident the scenario names, generated on first use.
    fn person(&mut self) -> &Person {
        let (seed, index) = (self.scenario.seed, self.scenario.resident);
        if !self
            .person
            .as_ref()
            .is_some_and(|p| p.seed == seed && p.index == index)
        {
            self.person = None;
        }
        let pool = &self.pool;
        self.person
            .get_or_insert_with(|| Person::generate(pool, seed, index))
    }

    fn resident_seed(&self) -> Seed {
        Seed::from_u64(self.scenario.seed).child_n("resident", self.scenario.resident)
    }

    /// RCAPTURE.
    pub fn capture(&mut self, req: &CaptureRequestWire) -> CaptureResponseWire {
        let valid_tx = (4..=50).contains(&req.transaction_id.len())
            && req
                .transaction_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        let Some(bio) = req.bio.first().filter(|_| valid_tx && req.bio.len() == 1) else {
            return failure("101", "Invalid JSON Value");
        };
        if let Some(code) = self.scenario.error.clone() {
            return failure(&code, "Unable to detect a biometric object");
        }
        let Some(device) = DEVICES
            .iter()
            .find(|d| d.id == bio.device_id && d.kind == bio.kind)
        else {
            return failure("106", "Device not found");
        };
        let poor = self.scenario.poor_captures > 0;
        if poor {
            self.scenario.poor_captures -= 1;
        }
        let score = if poor { 20 } else { self.scenario.quality };
        let mut missing = self.person().missing.clone();
        missing.extend(self.scenario.missing.iter().cloned());
        let mut wanted: Vec<String> = bio
            .bio_sub_type
            .iter()
            .filter(|s| !bio.exception.contains(s) && !missing.contains(s))
            .cloned()
            .collect();
        if device.kind == "Finger" && self.scenario.three_fingers && wanted.len() == 4 {
            wanted.pop();
        }
        if device.kind == "Face" {
            wanted = vec![String::new()];
        }
        let mut previous = bio.previous_hash.clone();
        let mut out = Vec::new();
        for sub in wanted {
            self.captures += 1;
            let draw = ("sbi", self.captures);
            let Some(iso) = self
                .record(device.kind, &sub, score, draw)
                .and_then(iso_bytes)
            else {
                return failure("102", "Technical error during extraction");
            };
            let Some(hash) = wire::chain_hash(&previous, &iso) else {
                return failure("101", "Invalid JSON Value");
            };
            let data = BiometricData {
                digital_id: self
                    .sign(&serde_json::to_vec(&self.digital_id(device)).unwrap_or_default()),
                bio_type: device.kind.into(),
                device_code: SERIAL.into(),
                device_service_version: env!("CARGO_PKG_VERSION").into(),
                bio_sub_type: if sub.is_empty() {
                    "UNKNOWN".into()
                } else {
                    sub.clone()
                },
                purpose: "Registration".into(),
                env: req.env.clone(),
                bio_value: jws::b64url_encode(&iso),
                transaction_id: req.transaction_id.clone(),
                timestamp: wire::now_iso(),
                requested_score: bio.requested_score,
                quality_score: Num(f64::from(score)),
            };
            let mut signed = self.sign(&serde_json::to_vec(&data).unwrap_or_default());
            if self.scenario.tamper {
                signed = tamper(&signed);
            }
            out.push(BiometricEntry {
                spec_version: wire::SPEC_VERSION.into(),
                data: signed,
                hash: hash.clone(),
                error: Some(SbiError::ok()),
            });
            previous = hash;
        }
        CaptureResponseWire { biometrics: out }
    }

    /// The ISO record of one finger, eye or face at `score`; `draw` names the random draw
    /// (a capture's or a preview frame's, and its number).
    fn record(&mut self, kind: &str, sub: &str, score: u8, draw: (&str, u64)) -> Option<Record> {
        let q = f32::from(score) / 100.0;
        let cseed = self.resident_seed().child(draw.0).child_n(sub, draw.1);
        match kind {
            "Finger" => {
                let finger = Finger::from_sbi(sub)?;
                let master = self
                    .person()
                    .masters
                    .iter()
                    .find(|m| m.position.code() == finger.code())?
                    .clone();
                let cap = FingerCapture::draw(&mut cseed.rng(), Quality(q));
                let img = impression(&master, &cap, cseed.child("sensor"));
                Some(Record::Finger(FingerImage {
                    position: finger.code(),
                    quality: score,
                    impression: 0,
                    width: u16::try_from(img.width).ok()?,
                    height: u16::try_from(img.height).ok()?,
                    acquisition: rekam_records::finger::Acquisition::live_scan(500),
                    compression: Compression::Png,
                    data: img.to_png(),
                }))
            }
            "Iris" => {
                let eye = match sub {
                    "Left" => Eye::Left,
                    "Right" => Eye::Right,
                    _ => return None,
                };
                let eseed = self.resident_seed().child("iris").child(match eye {
                    Eye::Left => "left",
                    Eye::Right => "right",
                });
                let texture = rekam_synth::iris::IrisTexture::new(eseed.child("texture"));
                let cap = rekam_synth::iris::IrisCapture::draw(&mut cseed.rng(), q);
                let (img, truth) = rekam_synth::iris::iris_image(&texture, &cap, cseed);
                let jpeg = jpeg_gray(&img)?;
                let mut device = [0u8; 16];
                device[..SERIAL.len()].copy_from_slice(SERIAL.as_bytes());
                Some(Record::Iris(IrisImage {
                    eye,
                    quality: score,
                    iris_diameter: (truth.iris.r * 2.0) as u16,
                    width: u16::try_from(img.width).ok()?,
                    height: u16::try_from(img.height).ok()?,
                    format: IrisFormat::MonoJpeg,
                    device,
                    acquisition: rekam_records::iris::Acquisition::live_scan(),
                    data: jpeg,
                }))
            }
            _ => {
                let shot = if score < 40 {
                    rekam_synth::face::FaceShot::Blurred
                } else {
                    rekam_synth::face::FaceShot::Good
                };
                let birth_year = self.person().birth_year;
                let img = rekam_synth::face::portrait(birth_year, shot, cseed);
                let mut jpeg = Vec::new();
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
                    .encode_image(&img)
                    .ok()?;
                Some(Record::Face(FaceImage {
                    width: u16::try_from(img.width()).ok()?,
                    height: u16::try_from(img.height()).ok()?,
                    quality: score,
                    format: FaceFormat::Jpeg,
                    data: jpeg,
                }))
            }
        }
    }

    /// One preview frame for `device_id` (a JPEG), different each call.
    pub fn preview(&mut self, device_id: &str) -> Option<Vec<u8>> {
        self.previews += 1;
        let draw = ("sbi-preview", self.previews);
        let q = self.scenario.quality;
        match device_id {
            "1" => match self.record("Finger", Finger::RightIndex.sbi_name(), q, draw)? {
                Record::Finger(rec) => {
                    // The record holds PNG; the stream carries JPEG.
                    let img = image::load_from_memory(&rec.data).ok()?.to_luma8();
                    let mut out = Vec::new();
                    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
                        .encode_image(&img)
                        .ok()?;
                    Some(out)
                }
                _ => None,
            },
            "2" => match self.record("Iris", "Left", q, draw)? {
                Record::Iris(rec) => Some(rec.data),
                _ => None,
            },
            "3" => match self.record("Face", "", q, draw)? {
                Record::Face(rec) => Some(rec.data),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A record's bytes.
fn iso_bytes(record: Record) -> Option<Vec<u8>> {
    match record {
        Record::Finger(r) => r.to_bytes().ok(),
        Record::Iris(r) => r.to_bytes().ok(),
        Record::Face(r) => r.to_bytes().ok(),
    }
}

fn jpeg_gray(img: &rekam_synth::gray::Gray8) -> Option<Vec<u8>> {
    let gray = image::GrayImage::from_raw(
        u32::try_from(img.width).ok()?,
        u32::try_from(img.height).ok()?,
        img.data.clone(),
    )?;
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92)
        .encode_image(&gray)
        .ok()?;
    Some(out)
}

/// Changes one character of a JWS payload: the signature no longer verifies.
fn tamper(jws: &str) -> String {
    let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
    if let Some(p) = parts.get_mut(1) {
        let mut bytes = p.clone().into_bytes();
        if let Some(b) = bytes.get_mut(40) {
            *b = if *b == b'A' { b'B' } else { b'A' };
        }
        *p = String::from_utf8(bytes).unwrap_or_default();
    }
    parts.join(".")
}
