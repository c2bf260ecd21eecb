//! One counter's desk between an operator's actions: the station, the devices, the logged-in
//! operator, the recording or handover in progress, and what stays on screen after one ended.
//!
//! The desktop's Tauri commands each forward to one method here, and so could any other
//! front end (a command line, a test): what the desk holds, and in what order things happen,
//! is decided here and in the workflows, never in a shell. Everything is held in memory only
//! (nothing half-captured is ever on disk); what was recorded is in the station's store.
//!
//! Errors are the core's [`crate::Error`]; a front end shows them as a [`Problem`] in the
//! operator's language. The device bar's [`survey`] runs outside the desk (a silent port takes
//! seconds), told which pad the desk holds.

mod devices;
mod handover;
mod issuance;
mod office;
mod view;

/// How a duplicate was clarified (the backlog screen's form).
pub use crate::store::Clarified;
pub use crate::workflow::reissue::ReissueLine;
pub use devices::{DeviceView, survey};
pub use handover::HandoverAction;
pub use issuance::{ReissueForm, reissue_cases};
pub use office::{
    BacklogCounts, DataCenterSettings, DeviceSettings, HomeView, SettingsView, StationSettings,
    SyncView,
};
pub use view::{
    BiodataView, ChecklistLine, HandedOverView, HandoverView, PersonalisedView, PrintOrderView,
    PrintQueueLine, Problem, ReissueCase, ReissuedView, SealedView, SessionView, SourceView,
    WizardView, checklist,
};

use crate::clock::Clock;
use crate::dedup::Dedup;
use crate::i18n::Lang;
use crate::population::CounterPopulation;
use crate::siak::HttpPopulation;
use crate::station::{Station, StationPaths};
use crate::workflow::counter::{self, Action};
use crate::workflow::operators::{self, Session};
use crate::workflow::personalisation::PrintOrder;
use crate::workflow::recording::{RecordingWorkflow, Step};
use crate::workflow::{Population, WorkflowError};
use crate::{Error, Result};
use devices::Devices;
use rekam_drivers::DeviceKind;
use rekam_drivers::sbi::SbiDevice;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long a lookup waits for SIAK before the Dinas's extract answers instead.
const SIAK_WAIT: Duration = Duration::from_secs(4);

/// A record is stuck when not at the data center this long after recording (the SOP's 24 h).
pub const STUCK_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Where a desk finds everything, given at start-up.
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
    /// What cards are checked against: the CSCA certificate (PEM file).
    pub card_trust: Option<PathBuf>,
    /// The PKCS#11 token holding the card secrets: the SAM master (every counter, for the
    /// handover) and the document signer's key (the Dinas, for personalisation).
    pub card_token: Option<rekam_drivers::card::token::TokenConfig>,
    /// The data center's address, for the background sync and print orders.
    pub dc_url: Option<String>,
    /// The Dinas document signer's certificate chain (PEM file), for personalisation; its key
    /// is in the card token.
    pub document_signer: Option<PathBuf>,
}

impl Config {
    /// The background sync's configuration for the data center at `url`: SIAK's address too,
    /// so each pass refreshes the Dinas's extract from it.
    pub fn sync_config(&self, url: &str) -> crate::sync::SyncConfig {
        crate::sync::SyncConfig {
            siak_url: self.siak_url.clone(),
            ..crate::sync::SyncConfig::new(url)
        }
    }
}

/// Everything one counter holds between actions.
#[derive(Debug)]
pub struct Desk {
    config: Config,
    clock: Arc<dyn Clock>,
    station: Option<Station>,
    devices: Option<Devices>,
    session: Option<Session>,
    recording: Option<RecordingWorkflow>,
    dedup: Option<Dedup>,
    /// What stays on screen after the recording ended (its summons, its refusal).
    ended: Option<WizardView>,
    /// The handover in progress or just ended.
    handover: handover::Handover,
    /// The print order on the personalisation screen, checked and not yet written.
    print_order: Option<PrintOrder>,
    /// SIAK and the Dinas's extract, opened on the first lookup.
    population: Option<CounterPopulation>,
}

impl Desk {
    /// A desk over `config`; nothing is opened until first used (the first screen must not
    /// wait for the store or the devices).
    pub fn new(config: Config, clock: Arc<dyn Clock>) -> Desk {
        Desk {
            config,
            clock,
            station: None,
            devices: None,
            session: None,
            recording: None,
            dedup: None,
            ended: None,
            handover: handover::Handover::default(),
            print_order: None,
            population: None,
        }
    }

    /// The station, opened on first use. A station with key slots opens only at a login
    /// ([`Desk::login`]); before it, and after a logout, this answers [`Error::Locked`].
    pub fn station(&mut self) -> Result<&mut Station> {
        if self.station.is_none() && Station::is_sealed(&self.config.paths.data_dir) {
            return Err(Error::Locked(self.config.paths.data_dir.clone()));
        }
        if self.station.is_none() {
            self.station = Some(Station::open(
                self.config.paths.clone(),
                self.clock.clone(),
            )?);
        }
        self.station
            .as_mut()
            .ok_or_else(|| Error::Internal("the station was just opened".into()))
    }

    /// The devices, opened on first use.
    fn devices(&mut self) -> Result<&mut Devices> {
        if self.devices.is_none() {
            self.devices = Some(Devices::open(&self.config)?);
        }
        self.devices
            .as_mut()
            .ok_or_else(|| Error::Internal("the devices were just opened".into()))
    }

    /// The station and the devices, both opened on first use.
    fn station_and_devices(&mut self) -> Result<(&mut Station, &mut Devices)> {
        self.station()?;
        self.devices()?;
        match (self.station.as_mut(), self.devices.as_mut()) {
            (Some(s), Some(d)) => Ok((s, d)),
            _ => Err(Error::Internal(
                "station and devices were just opened".into(),
            )),
        }
    }

    /// After an error with `code`: forgets devices that went away, so they are looked for
    /// again on the next step (a replugged pad, a restarted SBI service) instead of keeping a
    /// dead handle.
    fn forget_devices_after(&mut self, code: &str) {
        if counter::device_gone(code) {
            self.devices = None;
        }
    }

    /// The SBI device of `kind` (for a live preview beside the step that captures).
    pub fn sbi_device(&mut self, kind: DeviceKind) -> Result<SbiDevice> {
        let d = self.devices()?;
        match kind {
            DeviceKind::Fingerprint => Ok(d.fingerprint.clone()),
            DeviceKind::Iris => Ok(d.iris.clone()),
            DeviceKind::Face => Ok(d.face.clone()),
            other => Err(Error::Internal(format!("{other:?} is not an SBI device"))),
        }
    }

    /// The serial port of the pad this desk holds open, if any (a device survey must not
    /// report it missing: it is in use here).
    pub fn pad_in_use(&self) -> Option<&str> {
        self.devices.as_ref().map(|d| d.pad_port.as_str())
    }

    /// The logged-in operator's live session (the idle lock checked).
    fn live_session(&mut self) -> Result<&mut Session> {
        let session = self.session.as_mut().ok_or(WorkflowError::NotLoggedIn)?;
        if let Err(e) = session.touch() {
            self.close_sealed_store();
            return Err(e);
        }
        self.session
            .as_mut()
            .ok_or_else(|| WorkflowError::NotLoggedIn.into())
    }

    /// On a station with key slots, a locked session or no session means nothing open: the
    /// store closes, and what was read from it goes with it (a recording or handover in
    /// progress stays in memory and goes on after the unlock).
    fn close_sealed_store(&mut self) {
        if self
            .station
            .as_ref()
            .is_some_and(Station::is_sealed_station)
        {
            self.station = None;
            self.dedup = None;
            self.population = None;
        }
    }

    /// The operator leaves the counter for a moment (the lock screen): the session locks, and
    /// on a station with key slots the store closes until [`Desk::unlock`].
    pub fn lock(&mut self) {
        if let Some(s) = self.session.as_mut() {
            s.lock();
        }
        self.close_sealed_store();
    }

    /// The station and the logged-in operator's live session.
    fn station_and_session(&mut self) -> Result<(&mut Station, &mut Session)> {
        self.station()?;
        self.live_session()?;
        match (self.station.as_mut(), self.session.as_mut()) {
            (Some(st), Some(se)) => Ok((st, se)),
            _ => Err(Error::Internal(
                "station and session were just checked".into(),
            )),
        }
    }

    /// The station, once the logged-in operator may do `what` (the idle lock checked): the
    /// commands behind the counter ask this first; the core checks again where it acts.
    pub fn station_for(&mut self, what: operators::Action) -> Result<&mut Station> {
        self.live_session()?.require(what)?;
        self.station()
    }

    /// The population the counter reads biodata from: SIAK at its configured address first
    /// (a short wait), the Dinas's extract on the station otherwise; opened on first use.
    fn population(&mut self) -> Result<&CounterPopulation> {
        if self.population.is_none() {
            let siak = match self.config.siak_url.as_deref() {
                Some(url) => Some(HttpPopulation::new(url, SIAK_WAIT)?),
                None => None,
            };
            let population = CounterPopulation::new(self.station()?, siak)?;
            self.population = Some(population);
        }
        self.population
            .as_ref()
            .ok_or_else(|| Error::Internal("the population was just opened".into()))
    }

    /// Password and right index finger. On a station with key slots the password first opens
    /// the store (the operator's slot); the finger is then checked as on any station.
    pub fn login(&mut self, operator_id: &str, password: &str) -> Result<SessionView> {
        if self.station.is_none() && Station::is_sealed(&self.config.paths.data_dir) {
            self.station = Some(Station::open_with(
                self.config.paths.clone(),
                &crate::station::Unlock::Password {
                    operator_id,
                    password,
                },
                self.clock.clone(),
            )?);
        }
        let (station, devices) = self.station_and_devices()?;
        let session = match operators::login(station, operator_id, password, &devices.fingerprint) {
            Ok(s) => s,
            Err(e) => {
                // A slot opened but the login failed (the finger): nothing stays open.
                if station.is_sealed_station() && self.session.is_none() {
                    self.station = None;
                }
                return Err(e);
            }
        };
        let view = SessionView::of(&session);
        self.session = Some(session);
        Ok(view)
    }

    /// The operator leaves; a recording or handover in progress is cancelled, never sealed
    /// half-done.
    pub fn logout(&mut self) -> Result<()> {
        if let Some(station) = self.station.as_mut() {
            if let Some(w) = self.recording.take() {
                w.cancel(station, "operator logged out")?;
            }
            self.handover.cancel(station, "operator logged out")?;
        }
        self.session = None;
        self.ended = None;
        self.print_order = None;
        // With key slots, nobody logged in means nothing open.
        self.close_sealed_store();
        Ok(())
    }

    /// Who is logged in, after the idle lock's check (an error when it closed the session).
    pub fn session(&mut self) -> Result<Option<SessionView>> {
        match self.session.as_mut() {
            None => Ok(None),
            Some(s) => match s.touch() {
                Ok(()) => Ok(Some(SessionView::of(s))),
                Err(e) => {
                    self.close_sealed_store();
                    Err(e)
                }
            },
        }
    }

    /// Unlocks a session the idle lock closed, with the operator's password.
    pub fn unlock(&mut self, password: &str) -> Result<SessionView> {
        if self.station.is_none() && Station::is_sealed(&self.config.paths.data_dir) {
            let operator_id = self
                .session
                .as_ref()
                .ok_or(WorkflowError::NotLoggedIn)?
                .operator_id
                .clone();
            self.station = Some(Station::open_with(
                self.config.paths.clone(),
                &crate::station::Unlock::Password {
                    operator_id: &operator_id,
                    password,
                },
                self.clock.clone(),
            )?);
        }
        self.station()?;
        let (Some(station), Some(session)) = (self.station.as_mut(), self.session.as_mut()) else {
            return Err(WorkflowError::NotLoggedIn.into());
        };
        session.unlock(station, password)?;
        Ok(SessionView::of(session))
    }

    /// The recording in progress, or the one that just ended.
    pub fn current(&self, lang: Lang) -> Option<WizardView> {
        match (&self.recording, &self.station) {
            (Some(w), Some(station)) => Some(WizardView::of(w, station, lang)),
            _ => self.ended.clone(),
        }
    }

    /// Leaves the ended recording's screen (its summons or its refusal).
    pub fn close(&mut self) {
        self.ended = None;
    }

    /// One step of the recording, in the SOP's order (the workflow refuses any other).
    pub fn recording(&mut self, action: Action, lang: Lang) -> Result<WizardView> {
        self.station()?;
        if self.dedup.is_none() {
            let station = self
                .station
                .as_ref()
                .ok_or_else(|| Error::Internal("the station was just opened".into()))?;
            self.dedup = Some(Dedup::open(station)?);
        }
        // A cancel goes on without devices (the scanner unplugged); every other step needs
        // the counter's devices found first, and says which one is missing.
        if !matches!(action, Action::Cancel { .. }) {
            self.devices()?;
        }
        let population = match action {
            Action::Biodata { .. } => Some(self.population().map(|_| ())),
            _ => None,
        };
        let (Some(station), Some(session), Some(dedup)) = (
            self.station.as_mut(),
            self.session.as_mut(),
            self.dedup.as_mut(),
        ) else {
            return Err(WorkflowError::NotLoggedIn.into());
        };
        session.touch()?;
        if let Action::Start { case } = action {
            if let Some(w) = self.recording.take() {
                // Nothing half-captured is sealed: an abandoned recording is cancelled.
                w.cancel(station, "a new queue number was taken")?;
            }
            self.ended = None;
            let w = RecordingWorkflow::start(station, session, case)?;
            let view = WizardView::of(&w, station, lang);
            self.recording = Some(w);
            return Ok(view);
        }
        let mut w = self.recording.take().ok_or(WorkflowError::NoRecording)?;
        if let Action::Cancel { reason } = &action {
            let view = WizardView {
                cancelled: true,
                ..WizardView::of(&w, station, lang)
            };
            w.cancel(station, reason)?;
            self.ended = None;
            return Ok(view);
        }
        // From here on every error keeps the recording (below): nothing captured is lost.
        let result = match action {
            Action::Seal => seal(&mut w, station, dedup, lang),
            other => population.transpose().and_then(|_| {
                let parts = counter::Counter {
                    station: &mut *station,
                    dedup: &*dedup,
                    devices: self.devices.as_mut().map(Devices::for_step),
                    population: self.population.as_ref().map(|p| p as &dyn Population),
                };
                let last = counter::step(&mut w, parts, other)?;
                Ok(WizardView {
                    last: Some(last),
                    ..WizardView::of(&w, station, lang)
                })
            }),
        };
        match result {
            Ok(view) if w.step() == Step::Ended => {
                self.ended = Some(view.clone());
                Ok(view)
            }
            Ok(view) => {
                self.recording = Some(w);
                Ok(view)
            }
            Err(e) if w.step() == Step::Ended => {
                // Refused: the visit is over and recorded; the screen keeps the refusal.
                self.ended = Some(WizardView {
                    refused: Some(Problem::of(&e, lang)),
                    ..WizardView::of(&w, station, lang)
                });
                Err(e)
            }
            Err(e) => {
                // Still at the same step with everything captured so far: retry it.
                self.forget_devices_after(e.code());
                self.recording = Some(w);
                Err(e)
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
) -> Result<WizardView> {
    let name = w.biodata().map(|b| b.name.clone()).unwrap_or_default();
    let sealed = w.seal(station, dedup)?;
    let sealed = SealedView {
        qr_svg: crate::documents::qr_svg(&sealed.packet_id).unwrap_or_default(),
        letter_bytes: sealed.summons_letter.len(),
        queue_number: sealed.queue_number,
        packet_id: sealed.packet_id,
        masked_nik: sealed.masked_nik,
        name,
    };
    Ok(WizardView {
        sealed: Some(sealed),
        ..WizardView::of(w, station, lang)
    })
}
