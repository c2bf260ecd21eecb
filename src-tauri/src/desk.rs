//! The counter as the shell holds it between commands: the station, the devices, the logged-in
//! operator and the recording in progress. Every decision is the core's; this module only
//! keeps the objects alive and turns answers into views for the screen.

use rekam::clock::Clock;
use rekam::dedup::Dedup;
use rekam::domain::biodata::{Biodata, Kewarganegaraan};
use rekam::domain::case::{CaseType, Document, Need};
use rekam::domain::nik::MaskedNik;
use rekam::i18n::{Lang, Localized};
use rekam::siak::HttpPopulation;
use rekam::station::{Station, StationPaths};
pub use rekam::workflow::counter::Action;
use rekam::workflow::counter::{self, Outcome};
use rekam::workflow::operators::{self, Session};
use rekam::workflow::recording::{RecordingWorkflow, Step};
use rekam_drivers::DeviceKind;
use rekam_drivers::sbi::{BiometricDevice, SbiClient, SbiDevice};
use rekam_drivers::signature_pad::SerialPad;
use rekam_drivers::trust::TrustRoots;
use serde::Serialize;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// An error as the screen shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct UiError {
    /// Stable code.
    pub code: &'static str,
    /// In the operator's language.
    pub message: String,
}

impl UiError {
    /// The core's error in `lang`.
    pub fn from_core(e: &rekam::Error, lang: Lang) -> Self {
        UiError {
            code: e.code(),
            message: e.localized(lang),
        }
    }

    /// The shell itself failed (a panicked command, a poisoned lock): only a restart helps.
    pub fn internal(lang: Lang) -> Self {
        UiError {
            code: "INTERNAL",
            message: lang
                .pick(
                    "Aplikasi perlu dimulai ulang",
                    "The application needs a restart",
                )
                .into(),
        }
    }

    /// The app was given no data center address: nothing to ask of a sync.
    pub(crate) fn sync_off(lang: Lang) -> Self {
        UiError {
            code: "SYNC_OFF",
            message: lang
                .pick(
                    "Stasiun ini tidak mengirim sendiri: data menunggu ekspor teknisi",
                    "This station does not send by itself: records wait for a technician's export",
                )
                .into(),
        }
    }

    fn not_logged_in(lang: Lang) -> Self {
        UiError {
            code: "NOT_LOGGED_IN",
            message: lang
                .pick(
                    "Masuk dulu dengan ID, kata sandi dan sidik jari",
                    "Log in first with your id, password and finger",
                )
                .into(),
        }
    }

    pub(crate) fn no_recording(lang: Lang) -> Self {
        UiError {
            code: "NO_RECORDING",
            message: lang
                .pick(
                    "Tidak ada perekaman berjalan: mulai dari nomor antrean",
                    "No recording in progress: start from a queue number",
                )
                .into(),
        }
    }
}

/// Where the shell finds everything, from the environment at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// The station's files.
    pub paths: StationPaths,
    /// Serial ports where a signature pad may be.
    pub pad_ports: Vec<String>,
    /// Ports of SBI services.
    pub sbi_ports: RangeInclusive<u16>,
    /// The device providers' CA certificates.
    pub sbi_trust: Option<PathBuf>,
    /// SIAK's address.
    pub siak_url: Option<String>,
    /// Training mode: the simulators' admin addresses (SIAK, SBI).
    pub training: Option<(String, String)>,
    /// The card reader's name (else the first reader pcscd knows).
    pub card_reader: Option<String>,
    /// What cards are checked against: the CSCA certificate and the SAM master key files.
    pub card_trust: Option<(PathBuf, PathBuf)>,
    /// The data center's address, for the background sync.
    pub dc_url: Option<String>,
    /// The Dinas document signer's key and certificate chain (PEM files), for personalisation.
    pub document_signer: Option<(PathBuf, PathBuf)>,
}

/// The counter's devices, opened on first use.
#[derive(Debug)]
pub struct Devices {
    pub(crate) fingerprint: SbiDevice,
    pub(crate) iris: SbiDevice,
    pub(crate) face: SbiDevice,
    pub(crate) pad: SerialPad,
    /// Where the pad is (the device bar says it is in use here).
    pub(crate) pad_port: String,
}

impl Devices {
    fn open(config: &Config) -> rekam::Result<Devices> {
        let not_found = |kind: DeviceKind, address: String| {
            rekam::Error::from(rekam_drivers::DriverError::NotConnected { kind, address })
        };
        let roots = match &config.sbi_trust {
            Some(path) => TrustRoots::from_pem_file(path).map_err(|e| {
                rekam::Error::from(rekam_drivers::DriverError::Untrusted {
                    kind: DeviceKind::Fingerprint,
                    detail: format!("{}: {e}", path.display()),
                })
            })?,
            None => {
                return Err(not_found(DeviceKind::Fingerprint, "REKAM_SBI_TRUST".into()));
            }
        };
        let ports = format!(
            "127.0.0.1:{}-{}",
            config.sbi_ports.start(),
            config.sbi_ports.end()
        );
        let found: Vec<SbiDevice> = SbiClient::new(roots)
            .discover(config.sbi_ports.clone())
            .into_iter()
            .filter_map(|(_, d)| d.ok())
            .flatten()
            .collect();
        let take = |kind: DeviceKind| {
            found
                .iter()
                .find(|d| d.info().kind == kind)
                .cloned()
                .ok_or_else(|| not_found(kind, ports.clone()))
        };
        let (pad_port, pad) = config
            .pad_ports
            .iter()
            .find_map(|p| SerialPad::open(p).ok().map(|pad| (p.clone(), pad)))
            .ok_or_else(|| not_found(DeviceKind::SignaturePad, config.pad_ports.join(", ")))?;
        Ok(Devices {
            fingerprint: take(DeviceKind::Fingerprint)?,
            iris: take(DeviceKind::Iris)?,
            face: take(DeviceKind::Face)?,
            pad,
            pad_port,
        })
    }
}

/// The logged-in operator, as the header shows them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SessionView {
    operator_id: String,
    name: String,
    role: &'static str,
    /// What the role may do (`serve`, `approve`, `maintain`, `personalise`, `report`): the
    /// screens the navigation offers. The core checks again on every command.
    may: Vec<&'static str>,
}

/// One document of the case's checklist.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ChecklistLine {
    document: Document,
    label: &'static str,
    required: bool,
    condition: Option<&'static str>,
}

/// The biodata as the resident checks it on the screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BiodataView {
    nik: String,
    name: String,
    birth: String,
    sex: String,
    address: String,
    religion: String,
    marital_status: String,
    occupation: String,
    citizenship: String,
}

impl BiodataView {
    pub(crate) fn of(b: &Biodata, station: &Station) -> BiodataView {
        use rekam::domain::region::RegionDirectory;
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

/// A value as JSON for the screen.
fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The summons letter as the screen shows it beside its PDF.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SealedView {
    queue_number: String,
    packet_id: String,
    masked_nik: MaskedNik,
    name: String,
    qr_svg: String,
    letter_bytes: usize,
}

/// Where a recording is, for the wizard.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct WizardView {
    /// Queue number.
    queue_number: String,
    /// The case.
    case: CaseType,
    /// The case's name.
    case_label: &'static str,
    /// The step to do next (`ended` when over).
    step: Step,
    /// Whether the recording is paused.
    paused: bool,
    /// The case's document checklist.
    checklist: Vec<ChecklistLine>,
    /// The biodata read from SIAK.
    biodata: Option<BiodataView>,
    /// What the last action gave (a score, a progress), for the screen to show. Not typed
    /// yet: each step gives its own shape (the next step of the screen contract).
    #[cfg_attr(test, ts(type = "any"))]
    last: serde_json::Value,
    /// The sealed recording, once sealed.
    sealed: Option<SealedView>,
}

/// Everything the counter holds.
#[derive(Debug, Default)]
pub struct Desk {
    station: Option<Station>,
    devices: Option<Devices>,
    session: Option<Session>,
    recording: Option<RecordingWorkflow>,
    dedup: Option<Dedup>,
    /// The last view: what stays on screen after the recording ended (refusal, summons).
    ended: Option<WizardView>,
    /// The handover in progress or just ended.
    pub(crate) handover: crate::handover::Handover,
    /// The print order on the personalisation screen, checked and not yet written.
    pub(crate) print_order: Option<rekam::workflow::personalisation::PrintOrder>,
}

pub(crate) type Res<T> = Result<T, UiError>;

impl Desk {
    /// The station, opened on first use.
    pub fn station(
        &mut self,
        config: &Config,
        clock: &Arc<dyn Clock>,
        lang: Lang,
    ) -> Res<&mut Station> {
        if self.station.is_none() {
            let station = Station::open(config.paths.clone(), clock.clone())
                .map_err(|e| UiError::from_core(&e, lang))?;
            self.station = Some(station);
        }
        self.station.as_mut().ok_or_else(|| UiError::internal(lang))
    }

    pub(crate) fn devices(&mut self, config: &Config, lang: Lang) -> Res<&mut Devices> {
        if self.devices.is_none() {
            self.devices = Some(Devices::open(config).map_err(|e| UiError::from_core(&e, lang))?);
        }
        self.devices.as_mut().ok_or_else(|| UiError::internal(lang))
    }

    /// The open station and devices together (both opened before).
    pub(crate) fn station_and_devices(&mut self, lang: Lang) -> Res<(&mut Station, &mut Devices)> {
        match (self.station.as_mut(), self.devices.as_mut()) {
            (Some(s), Some(d)) => Ok((s, d)),
            _ => Err(UiError::internal(lang)),
        }
    }

    /// After an error with `code`: forgets devices that went away, so they are looked for
    /// again on the next step (a replugged pad, a restarted SBI service) instead of keeping a
    /// dead handle.
    pub(crate) fn forget_devices_after(&mut self, code: &str) {
        if counter::device_gone(code) {
            self.devices = None;
        }
    }

    /// The serial port of the pad this station holds open, if any.
    pub fn pad_in_use(&self) -> Option<&str> {
        self.devices.as_ref().map(|d| d.pad_port.as_str())
    }

    /// The station and the logged-in operator's live session (the idle lock checked).
    pub(crate) fn station_and_session(
        &mut self,
        config: &Config,
        clock: &Arc<dyn Clock>,
        lang: Lang,
    ) -> Res<(&mut Station, &Session)> {
        self.station(config, clock, lang)?;
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| UiError::not_logged_in(lang))?;
        session.touch().map_err(|e| UiError::from_core(&e, lang))?;
        let station = self
            .station
            .as_mut()
            .ok_or_else(|| UiError::internal(lang))?;
        Ok((station, session))
    }

    /// The logged-in operator may do `what`, and their session is alive (the idle lock
    /// checked): a screen's commands ask this first; the core checks again where it acts.
    pub(crate) fn allowed(&mut self, lang: Lang, what: operators::Action) -> Res<()> {
        let core = |e: rekam::Error| UiError::from_core(&e, lang);
        let session = self.session_mut(lang)?;
        session.touch().map_err(core)?;
        session.require(what).map_err(core)
    }

    /// The logged-in operator's session.
    pub(crate) fn session_mut(&mut self, lang: Lang) -> Res<&mut Session> {
        self.session
            .as_mut()
            .ok_or_else(|| UiError::not_logged_in(lang))
    }

    /// Password and right index finger.
    pub fn login(
        &mut self,
        config: &Config,
        clock: &Arc<dyn Clock>,
        lang: Lang,
        operator_id: &str,
        password: &str,
    ) -> Res<SessionView> {
        self.station(config, clock, lang)?;
        self.devices(config, lang)?;
        let (Some(station), Some(devices)) = (self.station.as_mut(), self.devices.as_ref()) else {
            return Err(UiError::internal(lang));
        };
        let session = operators::login(station, operator_id, password, &devices.fingerprint)
            .map_err(|e| UiError::from_core(&e, lang))?;
        let view = session_view(&session);
        self.session = Some(session);
        Ok(view)
    }

    /// The operator leaves; a recording in progress is cancelled, never sealed half-done.
    pub fn logout(&mut self, lang: Lang) -> Res<()> {
        if let Some(station) = self.station.as_mut() {
            let core = |e: rekam::Error| UiError::from_core(&e, lang);
            if let Some(w) = self.recording.take() {
                w.cancel(station, "operator logged out").map_err(core)?;
            }
            self.handover
                .cancel(station, "operator logged out")
                .map_err(core)?;
        }
        self.session = None;
        self.ended = None;
        self.handover = Default::default();
        self.print_order = None;
        Ok(())
    }

    /// Who is logged in, after the idle lock's check.
    pub fn session(&mut self, lang: Lang) -> Res<Option<SessionView>> {
        match self.session.as_mut() {
            None => Ok(None),
            Some(s) => {
                s.touch().map_err(|e| UiError::from_core(&e, lang))?;
                Ok(Some(session_view(s)))
            }
        }
    }

    /// Unlocks a locked session with the password.
    pub fn unlock(
        &mut self,
        config: &Config,
        clock: &Arc<dyn Clock>,
        lang: Lang,
        password: &str,
    ) -> Res<SessionView> {
        self.station(config, clock, lang)?;
        let (Some(station), Some(session)) = (self.station.as_mut(), self.session.as_mut()) else {
            return Err(UiError::not_logged_in(lang));
        };
        session
            .unlock(station, password)
            .map_err(|e| UiError::from_core(&e, lang))?;
        Ok(session_view(session))
    }

    /// The recording in progress, or the one that just ended.
    pub fn current(&self, lang: Lang) -> Option<WizardView> {
        match &self.recording {
            Some(w) => self
                .station
                .as_ref()
                .map(|station| view(w, station, lang, serde_json::Value::Null, None)),
            None => self.ended.clone(),
        }
    }

    /// Leaves the ended recording's screen (its summons or its refusal).
    pub fn close(&mut self) {
        self.ended = None;
    }

    /// One step of the recording.
    pub fn recording(
        &mut self,
        config: &Config,
        clock: &Arc<dyn Clock>,
        lang: Lang,
        action: Action,
    ) -> Res<WizardView> {
        let core = |e: rekam::Error| UiError::from_core(&e, lang);
        self.station(config, clock, lang)?;
        if !matches!(action, Action::Cancel { .. }) {
            self.devices(config, lang)?;
        }
        if self.dedup.is_none() {
            let station = self
                .station
                .as_ref()
                .ok_or_else(|| UiError::internal(lang))?;
            self.dedup = Some(Dedup::load(station.store()).map_err(core)?);
        }
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| UiError::not_logged_in(lang))?;
        session.touch().map_err(core)?;
        let (Some(station), Some(dedup)) = (self.station.as_mut(), self.dedup.as_mut()) else {
            return Err(UiError::internal(lang));
        };
        if let Action::Start { case } = action {
            if let Some(w) = self.recording.take() {
                // Nothing half-captured is sealed: an abandoned recording is cancelled.
                w.cancel(station, "a new queue number was taken")
                    .map_err(core)?;
            }
            self.ended = None;
            let w = RecordingWorkflow::start(station, session, case).map_err(core)?;
            let v = view(&w, station, lang, serde_json::Value::Null, None);
            self.recording = Some(w);
            return Ok(v);
        }
        let mut w = self
            .recording
            .take()
            .ok_or_else(|| UiError::no_recording(lang))?;
        if let Action::Cancel { reason } = &action {
            let v = view(
                &w,
                station,
                lang,
                serde_json::json!({ "cancelled": true }),
                None,
            );
            w.cancel(station, reason).map_err(core)?;
            self.ended = None;
            return Ok(v);
        }
        let result = match action {
            Action::Seal => seal(&mut w, station, dedup, lang),
            other => step(&mut w, station, dedup, self.devices.as_mut(), config, other)
                .map(|last| view(&w, station, lang, last, None)),
        };
        match result {
            Ok(v) if w.step() == Step::Ended => {
                self.ended = Some(v.clone());
                Ok(v)
            }
            Ok(v) => {
                self.recording = Some(w);
                Ok(v)
            }
            Err(e) if w.step() == Step::Ended => {
                // Refused: the visit is over and recorded; the screen keeps the refusal.
                let refused = serde_json::json!({
                    "refused": { "code": e.code(), "message": e.localized(lang) }
                });
                self.ended = Some(view(&w, station, lang, refused, None));
                Err(UiError::from_core(&e, lang))
            }
            Err(e) => {
                // Still at the same step with everything captured so far: retry it.
                self.forget_devices_after(e.code());
                self.recording = Some(w);
                Err(UiError::from_core(&e, lang))
            }
        }
    }
}

/// Seals the recording; on failure it stays at the seal step with every capture.
fn seal(
    w: &mut RecordingWorkflow,
    station: &mut Station,
    dedup: &mut Dedup,
    lang: Lang,
) -> rekam::Result<WizardView> {
    let name = w.biodata().map(|b| b.name.clone()).unwrap_or_default();
    let sealed = w.seal(station, dedup)?;
    let sealed = SealedView {
        qr_svg: rekam::documents::qr_svg(&sealed.packet_id).unwrap_or_default(),
        letter_bytes: sealed.summons_letter.len(),
        queue_number: sealed.queue_number,
        packet_id: sealed.packet_id,
        masked_nik: sealed.masked_nik,
        name,
    };
    Ok(view(
        w,
        station,
        lang,
        serde_json::Value::Null,
        Some(sealed),
    ))
}

fn session_view(s: &Session) -> SessionView {
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

fn view(
    w: &RecordingWorkflow,
    station: &Station,
    lang: Lang,
    last: serde_json::Value,
    sealed: Option<SealedView>,
) -> WizardView {
    let case = w.case();
    WizardView {
        queue_number: w.queue_number().to_owned(),
        case,
        case_label: case.label(lang),
        step: w.step(),
        paused: w.is_paused(),
        checklist: checklist(case, lang),
        biodata: w.biodata().map(|b| BiodataView::of(b, station)),
        last,
        sealed,
    }
}

/// The case's document checklist as the screen shows it.
pub(crate) fn checklist(case: CaseType, lang: Lang) -> Vec<ChecklistLine> {
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

/// SIAK at its configured address; none configured is a refusal that says so, never a guess.
pub(crate) fn siak(config: &Config) -> rekam::Result<HttpPopulation> {
    let url = config.siak_url.as_deref().ok_or_else(|| {
        rekam::Error::Workflow(Box::new(rekam::workflow::WorkflowError::SiakNotConfigured))
    })?;
    HttpPopulation::new(url, Duration::from_secs(10))
}

/// One step that is neither sealing nor cancelling, through the core's one composition of a
/// counter's steps; what it gave, as the screen shows it.
fn step(
    w: &mut RecordingWorkflow,
    station: &mut Station,
    dedup: &mut Dedup,
    devices: Option<&mut Devices>,
    config: &Config,
    action: Action,
) -> rekam::Result<serde_json::Value> {
    let population = match action {
        Action::Biodata { .. } => Some(siak(config)?),
        _ => None,
    };
    let devices = devices.map(|d| counter::Devices {
        fingerprint: &d.fingerprint,
        iris: &d.iris,
        face: &d.face,
        pad: &mut d.pad,
    });
    let parts = counter::Counter {
        station,
        dedup,
        devices,
        population: population
            .as_ref()
            .map(|p| p as &dyn rekam::workflow::Population),
    };
    Ok(match counter::step(w, parts, action)? {
        Outcome::Done => serde_json::Value::Null,
        Outcome::Score(score) => serde_json::json!({ "score": score }),
        Outcome::Fingers(progress) => json(&progress),
        Outcome::Irises(progress) => {
            // Positions 1 and 2 are eyes here: the screen must not name them fingers.
            let mut progress = json(&progress);
            progress["of"] = "irises".into();
            progress
        }
        Outcome::Verified { right, left } => serde_json::json!({ "right": right, "left": left }),
        Outcome::FingerException(finger) => serde_json::json!({ "exception": finger }),
        Outcome::IrisException(eye) => serde_json::json!({ "exception": eye }),
    })
}
