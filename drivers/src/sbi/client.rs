//! The SBI client: discovery over the port range, verified device information, verified
//! captures and the preview stream.

use super::wire::{
    self, BioRequest, BiometricData, CaptureRequestWire, CaptureResponseWire, DeviceInfoPayload,
    DigitalId, DiscoverRequest, DiscoveredDevice, InfoEntry, Num, SbiError,
};
use super::{BiometricDevice, Capture, CaptureRequest, CaptureSet, Record, Target, jws};
use crate::trust::{Signer, TrustRoots, now_unix};
use crate::{DeviceInfo, DeviceKind, DeviceStatus, DriverError};
use reqwest::Method;
use reqwest::blocking::{Client, Response};
use std::io::Read;
use std::ops::RangeInclusive;
use std::time::Duration;

/// How long discovery waits for one port.
const PROBE_TIMEOUT: Duration = Duration::from_millis(400);
/// Extra time over the capture timeout for the answer to travel.
const ANSWER_MARGIN: Duration = Duration::from_secs(2);
/// The largest answer read from a device (ten PNG fingers are far below this).
const MAX_BODY: u64 = 16 * 1024 * 1024;

/// Speaks SBI to the services on this machine, trusting the given device providers.
#[derive(Debug, Clone)]
pub struct SbiClient {
    http: Client,
    roots: TrustRoots,
    host: String,
}

/// A device one SBI service offers.
#[derive(Debug, Clone)]
pub struct SbiDevice {
    client: SbiClient,
    info: DeviceInfo,
    /// The service's port.
    pub port: u16,
    /// The id the service gives it.
    pub device_id: String,
    /// "Slap", "Single", "Double", "Full face".
    pub sub_type: String,
    /// Sensors it has.
    pub sensors: Vec<u8>,
    /// Device provider, as the (unsigned) discovery answer states it.
    pub provider: String,
}

fn kind_of(sbi_type: &str) -> Option<DeviceKind> {
    match sbi_type {
        "Finger" => Some(DeviceKind::Fingerprint),
        "Iris" => Some(DeviceKind::Iris),
        "Face" => Some(DeviceKind::Face),
        _ => None,
    }
}

fn sbi_type(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Iris => "Iris",
        DeviceKind::Face => "Face",
        _ => "Finger",
    }
}

fn status_of(text: &str) -> DeviceStatus {
    match text {
        "Ready" => DeviceStatus::Ready,
        "Busy" => DeviceStatus::Busy,
        _ => DeviceStatus::NotConnected,
    }
}

fn protocol(kind: DeviceKind, detail: impl Into<String>) -> DriverError {
    DriverError::Protocol {
        kind,
        detail: detail.into(),
    }
}

fn untrusted(kind: DeviceKind, detail: impl std::fmt::Display) -> DriverError {
    DriverError::Untrusted {
        kind,
        detail: detail.to_string(),
    }
}

fn method(name: &'static str) -> Method {
    // The names are constant ASCII tokens: this cannot fail.
    Method::from_bytes(name.as_bytes()).unwrap_or(Method::GET)
}

impl SbiClient {
    /// A client for services on 127.0.0.1 that trusts `roots`.
    pub fn new(roots: TrustRoots) -> SbiClient {
        SbiClient::on_host(roots, "127.0.0.1")
    }

    /// The same on another host (the specification says loopback; tests may differ).
    pub fn on_host(roots: TrustRoots, host: &str) -> SbiClient {
        let http = Client::builder()
            .no_proxy()
            .connect_timeout(PROBE_TIMEOUT)
            .build()
            .unwrap_or_else(|_| Client::new());
        SbiClient {
            http,
            roots,
            host: host.to_owned(),
        }
    }

    fn url(&self, port: u16, path: &str) -> String {
        format!("http://{}:{port}/{path}", self.host)
    }

    fn send(
        &self,
        kind: DeviceKind,
        port: u16,
        verb: &'static str,
        path: &str,
        body: &impl serde::Serialize,
        timeout: Duration,
    ) -> Result<Vec<u8>, DriverError> {
        let address = self.url(port, path);
        let resp = self
            .http
            .request(method(verb), &address)
            .timeout(timeout)
            .json(body)
            .send()
            .map_err(|e| transport_error(kind, &address, timeout, &e))?;
        read_body(kind, &address, timeout, resp)
    }

    /// Asks every port of `ports` which devices its service offers. Ports with nothing
    /// listening are skipped; a service that answers nonsense is reported as such.
    pub fn discover(
        &self,
        ports: RangeInclusive<u16>,
    ) -> Vec<(u16, Result<Vec<SbiDevice>, DriverError>)> {
        let request = DiscoverRequest {
            kind: "Biometric Device".into(),
        };
        let mut found = Vec::new();
        for port in ports {
            let kind = DeviceKind::Fingerprint;
            match self.send(kind, port, "MOSIPDISC", "device", &request, PROBE_TIMEOUT) {
                Err(DriverError::NotConnected { .. }) => continue,
                Err(e) => found.push((port, Err(e))),
                Ok(body) => found.push((port, self.devices_from(port, &body))),
            }
        }
        found
    }

    fn devices_from(&self, port: u16, body: &[u8]) -> Result<Vec<SbiDevice>, DriverError> {
        let list: Vec<DiscoveredDevice> = serde_json::from_slice(body)
            .map_err(|e| protocol(DeviceKind::Fingerprint, format!("MOSIPDISC answer: {e}")))?;
        let mut out = Vec::new();
        for d in list {
            // Unsigned in discovery by the specification: used to list, never to trust.
            let id: DigitalId = jws::b64url(&d.digital_id)
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or_else(|| protocol(DeviceKind::Fingerprint, "MOSIPDISC digitalId"))?;
            let Some(kind) = kind_of(&id.kind) else {
                continue;
            };
            out.push(SbiDevice {
                client: self.clone(),
                info: DeviceInfo {
                    kind,
                    model: format!("{} {}", id.make, id.model),
                    serial: id.serial_no.clone(),
                    firmware: String::new(),
                    address: self.url(port, ""),
                },
                port,
                device_id: d.device_id,
                sub_type: id.device_sub_type,
                sensors: d
                    .device_sub_id
                    .iter()
                    .filter_map(|n| u8::try_from(n.0 as i64).ok())
                    .collect(),
                provider: id.device_provider,
            });
        }
        Ok(out)
    }
}

impl SbiDevice {
    /// MOSIPDINFO: the device's signed information, verified against the trust root. Also
    /// fills in the firmware.
    pub fn verified_info(&mut self) -> Result<(DeviceInfoPayload, Signer), DriverError> {
        let kind = self.info.kind;
        let body = self.client.send(
            kind,
            self.port,
            "MOSIPDINFO",
            "info",
            &serde_json::json!({}),
            PROBE_TIMEOUT * 5,
        )?;
        let entries: Vec<InfoEntry> = serde_json::from_slice(&body)
            .map_err(|e| protocol(kind, format!("MOSIPDINFO answer: {e}")))?;
        let now = now_unix();
        for entry in entries {
            if let Some(err) = entry.error.as_ref().filter(|e| !e.is_ok())
                && entry.device_info.is_empty()
            {
                return Err(refused(kind, err));
            }
            let (payload, signer) = jws::verify(&entry.device_info, &self.client.roots, now)
                .map_err(|e| untrusted(kind, e))?;
            let info: DeviceInfoPayload = serde_json::from_slice(&payload)
                .map_err(|e| protocol(kind, format!("deviceInfo: {e}")))?;
            if info.device_id != self.device_id {
                continue;
            }
            let id = verified_digital_id(kind, &info.digital_id, &signer, &self.client.roots, now)?;
            if id.serial_no != info.device_code || id.serial_no != self.info.serial {
                return Err(untrusted(
                    kind,
                    "the signed serial number differs from the one announced",
                ));
            }
            self.info.firmware = info.firmware.clone();
            return Ok((info, signer));
        }
        Err(protocol(kind, "MOSIPDINFO did not describe this device"))
    }

    /// STREAM: the live preview of `sensor` as JPEG frames, for at most `timeout`. Each frame
    /// goes to `on_frame`; returning `false` stops. Returns the number of frames.
    pub fn stream(
        &self,
        sensor: u8,
        timeout: Duration,
        on_frame: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<u32, DriverError> {
        let kind = self.info.kind;
        let address = self.client.url(self.port, "stream");
        let resp = self
            .client
            .http
            .request(method("STREAM"), &address)
            .timeout(timeout + ANSWER_MARGIN)
            .json(&serde_json::json!({
                "deviceId": self.device_id,
                "deviceSubId": sensor.to_string(),
                "timeout": timeout.as_millis().to_string(),
            }))
            .send()
            .map_err(|e| transport_error(kind, &address, timeout, &e))?;
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if !content_type.starts_with("multipart/x-mixed-replace") {
            let body = read_body(kind, &address, timeout, resp)?;
            let err: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let err: SbiError = serde_json::from_value(err["error"].clone()).unwrap_or_default();
            return Err(refused(kind, &err));
        }
        let mut frames = super::mjpeg::Frames::new(resp);
        let mut n = 0;
        loop {
            match frames.next_frame() {
                Ok(Some(frame)) => {
                    n += 1;
                    if !on_frame(&frame) {
                        return Ok(n);
                    }
                }
                Ok(None) => return Ok(n),
                Err(super::mjpeg::StreamError::Io(e)) if n > 0 => {
                    tracing::debug!("stream ended: {e}");
                    return Ok(n);
                }
                Err(e) => return Err(protocol(kind, format!("STREAM: {e}"))),
            }
        }
    }
}

impl BiometricDevice for SbiDevice {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn status(&self) -> DeviceStatus {
        let request = DiscoverRequest {
            kind: sbi_type(self.info.kind).into(),
        };
        let body = self.client.send(
            self.info.kind,
            self.port,
            "MOSIPDISC",
            "device",
            &request,
            PROBE_TIMEOUT,
        );
        let Ok(body) = body else {
            return DeviceStatus::NotConnected;
        };
        serde_json::from_slice::<Vec<DiscoveredDevice>>(&body)
            .ok()
            .and_then(|list| list.into_iter().find(|d| d.device_id == self.device_id))
            .map_or(DeviceStatus::NotConnected, |d| status_of(&d.device_status))
    }

    fn capture(&self, request: &CaptureRequest) -> Result<CaptureSet, DriverError> {
        let kind = request.target.kind();
        if kind != self.info.kind {
            return Err(protocol(kind, "this device does not capture that"));
        }
        let wire = wire_request(&self.device_id, request);
        let body = self.client.send(
            kind,
            self.port,
            "RCAPTURE",
            "capture",
            &wire,
            request.timeout + ANSWER_MARGIN,
        )?;
        parse_capture_response(
            &body,
            request,
            &self.info.serial,
            &self.client.roots,
            now_unix(),
        )
    }
}

fn wire_request(device_id: &str, request: &CaptureRequest) -> CaptureRequestWire {
    let (kind, count, sub_types, exceptions, sensor) = match &request.target {
        Target::Slap { slap, exceptions } => (
            "Finger",
            slap.fingers().len() - exceptions.len(),
            request.target.expected(),
            exceptions.iter().map(|f| f.sbi_name().to_owned()).collect(),
            slap.sensor(),
        ),
        Target::Single(f) => ("Finger", 1, vec![f.sbi_name().to_owned()], vec![], 0),
        Target::Irises { exceptions } => (
            "Iris",
            2 - exceptions.len(),
            request.target.expected(),
            exceptions
                .iter()
                .map(|e| super::eye_sbi_name(*e).to_owned())
                .collect(),
            3,
        ),
        Target::Face => ("Face", 1, vec![], vec![], 0),
    };
    CaptureRequestWire {
        env: "Developer".into(),
        purpose: "Registration".into(),
        spec_version: wire::SPEC_VERSION.into(),
        timeout: Num(request.timeout.as_millis() as f64),
        capture_time: wire::now_iso(),
        transaction_id: request.transaction_id.clone(),
        bio: vec![BioRequest {
            kind: kind.into(),
            count: Num(count as f64),
            bio_sub_type: sub_types,
            exception: exceptions,
            requested_score: Num(f64::from(request.requested_score)),
            device_id: device_id.to_owned(),
            device_sub_id: Num(f64::from(sensor)),
            previous_hash: request.previous_hash.clone(),
        }],
        custom_opts: None,
    }
}

fn refused(kind: DeviceKind, err: &SbiError) -> DriverError {
    DriverError::Refused {
        kind,
        code: err.error_code.clone(),
        info: err.error_info.clone(),
    }
}

fn verified_digital_id(
    kind: DeviceKind,
    token: &str,
    signer: &Signer,
    roots: &TrustRoots,
    now: i64,
) -> Result<DigitalId, DriverError> {
    let (payload, id_signer) = jws::verify(token, roots, now).map_err(|e| untrusted(kind, e))?;
    // A registration (L0) device signs its digital id with the same device key.
    if id_signer.fingerprint != signer.fingerprint {
        return Err(untrusted(
            kind,
            "the digital id and the data are signed by different certificates",
        ));
    }
    serde_json::from_slice(&payload).map_err(|e| protocol(kind, format!("digitalId: {e}")))
}

/// Verifies an RCAPTURE answer for `request` from the device with serial `serial`: every
/// entry signed by a device certificate chaining to `roots` (one and the same certificate for
/// all), the signed serial, transaction and modality as asked, exactly the fingers or eyes
/// asked, the hash chain unbroken from `request.previous_hash`, every record a well-formed
/// ISO/IEC 19794 record of the right finger or eye.
pub fn parse_capture_response(
    body: &[u8],
    request: &CaptureRequest,
    serial: &str,
    roots: &TrustRoots,
    now_unix: i64,
) -> Result<CaptureSet, DriverError> {
    let kind = request.target.kind();
    let resp: CaptureResponseWire = serde_json::from_slice(body)
        .map_err(|e| protocol(kind, format!("RCAPTURE answer: {e}")))?;
    if let Some(err) = resp
        .biometrics
        .iter()
        .filter_map(|b| b.error.as_ref())
        .find(|e| !e.is_ok())
    {
        return Err(refused(kind, err));
    }
    let expected = request.target.expected();
    let mut previous = request.previous_hash.clone();
    let mut captures: Vec<Capture> = Vec::new();
    let mut set_signer: Option<Signer> = None;
    for entry in &resp.biometrics {
        let (payload, signer) =
            jws::verify(&entry.data, roots, now_unix).map_err(|e| untrusted(kind, e))?;
        if let Some(first) = &set_signer
            && first.fingerprint != signer.fingerprint
        {
            return Err(untrusted(kind, "entries signed by different devices"));
        }
        let data: BiometricData = serde_json::from_slice(&payload)
            .map_err(|e| protocol(kind, format!("biometrics data: {e}")))?;
        let id = verified_digital_id(kind, &data.digital_id, &signer, roots, now_unix)?;
        if id.serial_no != serial || data.device_code != serial {
            return Err(untrusted(
                kind,
                format!("signed by device {}, not {serial}", id.serial_no),
            ));
        }
        if data.transaction_id != request.transaction_id {
            return Err(protocol(kind, "answer for another transaction"));
        }
        if kind_of(&data.bio_type) != Some(kind) {
            return Err(protocol(kind, format!("bioType {}", data.bio_type)));
        }
        let sub = if kind == DeviceKind::Face {
            String::new()
        } else {
            data.bio_sub_type.clone()
        };
        if !expected.contains(&sub) || captures.iter().any(|c| c.sub_type == sub) {
            return Err(protocol(kind, format!("unexpected bioSubType {sub:?}")));
        }
        let iso = jws::b64url(&data.bio_value).ok_or_else(|| protocol(kind, "bioValue"))?;
        let record = record_of(kind, &sub, &iso)?;
        let hash = wire::chain_hash(&previous, &iso)
            .ok_or_else(|| protocol(kind, "previous hash is not hex"))?;
        if !hash.eq_ignore_ascii_case(entry.hash.trim()) {
            return Err(untrusted(kind, "the capture hash chain is broken"));
        }
        let quality = data.quality_score.0;
        if !(0.0..=100.0).contains(&quality) {
            return Err(protocol(kind, format!("qualityScore {quality}")));
        }
        previous = hash.clone();
        captures.push(Capture {
            sub_type: sub,
            quality,
            iso,
            record,
            hash,
            timestamp: data.timestamp,
        });
        set_signer = Some(signer);
    }
    if captures.len() != expected.len() {
        return Err(if kind == DeviceKind::Fingerprint {
            DriverError::WrongFingerCount {
                expected: expected.len() as u8,
                found: captures.len() as u8,
            }
        } else {
            DriverError::Empty(kind)
        });
    }
    let Some(signer) = set_signer else {
        return Err(DriverError::Empty(kind));
    };
    Ok(CaptureSet {
        transaction_id: request.transaction_id.clone(),
        captures,
        signer,
        device_serial: serial.to_owned(),
    })
}

fn record_of(kind: DeviceKind, sub: &str, iso: &[u8]) -> Result<Record, DriverError> {
    let bad = |e: rekam_records::RecordError| protocol(kind, format!("ISO record: {e}"));
    match kind {
        DeviceKind::Fingerprint => {
            let rec = rekam_records::finger::FingerImage::parse(iso).map_err(bad)?;
            if super::Finger::from_code(rec.position).map(|f| f.sbi_name()) != Some(sub) {
                return Err(protocol(
                    kind,
                    "record's finger position differs from bioSubType",
                ));
            }
            Ok(Record::Finger(rec))
        }
        DeviceKind::Iris => {
            let rec = rekam_records::iris::IrisImage::parse(iso).map_err(bad)?;
            if super::eye_sbi_name(rec.eye) != sub {
                return Err(protocol(kind, "record's eye differs from bioSubType"));
            }
            Ok(Record::Iris(rec))
        }
        _ => Ok(Record::Face(
            rekam_records::face::FaceImage::parse(iso).map_err(bad)?,
        )),
    }
}

fn transport_error(
    kind: DeviceKind,
    address: &str,
    timeout: Duration,
    e: &reqwest::Error,
) -> DriverError {
    if e.is_connect() {
        DriverError::NotConnected {
            kind,
            address: address.to_owned(),
        }
    } else if e.is_timeout() {
        DriverError::Timeout {
            kind,
            after: timeout,
        }
    } else {
        DriverError::Disconnected(kind)
    }
}

fn read_body(
    kind: DeviceKind,
    address: &str,
    timeout: Duration,
    resp: Response,
) -> Result<Vec<u8>, DriverError> {
    let status = resp.status();
    let mut body = Vec::new();
    resp.take(MAX_BODY).read_to_end(&mut body).map_err(|e| {
        match e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
            Some(re) => transport_error(kind, address, timeout, re),
            None => DriverError::Disconnected(kind),
        }
    })?;
    if !status.is_success() {
        return Err(protocol(kind, format!("HTTP {status}")));
    }
    Ok(body)
}
