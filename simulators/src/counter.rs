//! A whole counter on the simulators, for the workflow tests and `rekam demo`: a fresh station
//! in a directory, the SBI device service and the signature pad as separate processes on their
//! real transports, a population database of generated residents, an operator and a supervisor
//! enrolled through the fingerprint scanner, and optionally a reference data center on
//! loopback the station is registered with.
//!
//! The population database (SIAK) is the generator's residents, looked up in memory: SIAK's
//! own interface is not public, and the core only sees the `Population` trait.
//!
//! Its recordings take their steps through `rekam::workflow::counter::step`, the one
//! composition the desktop app's commands use too: a workflow test here tests the app's path.

use crate::error::{Result, SimError};
use rekam::clock::{Clock, SystemClock};
use rekam::dedup::Dedup;
use rekam::domain::biodata::Kewarganegaraan;
use rekam::domain::case::{CaseType, Document, Need};
use rekam::domain::eligibility::RecordingStatus;
use rekam::domain::nik::Nik;
use rekam::domain::region::RegionCode;
use rekam::packet::ExceptionReason;
use rekam::station::{FirstSlot, InitOptions, Station, StationPaths, Unlock};
use rekam::workflow::counter::{self, Action, Outcome};
use rekam::workflow::operators::{self, Approval, NewOperator, Role, Session};
use rekam::workflow::recording::{RecordingWorkflow, SealedRecording};
use rekam::workflow::{Found, Population, PopulationRecord, Source, capture_finger};
use rekam_drivers::DeviceKind;
use rekam_drivers::sbi::{BiometricDevice, Finger, SbiClient, SbiDevice};
use rekam_drivers::signature_pad::SerialPad;
use rekam_drivers::trust::TrustRoots;
use rekam_synth::resident::{MissingReason, RegionPool, reference_date, resident};
use rekam_synth::seed::Seed;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;

/// The seed of the generated residents the simulators play.
pub const SEED: u64 = 20261122;
/// The resident index whose fingers are the operator's.
pub const OPERATOR: u64 = 1000;
/// The resident index whose fingers are the supervisor's.
pub const SUPERVISOR: u64 = 1001;
/// The resident index whose fingers are the technician's.
pub const TECHNICIAN: u64 = 1002;
/// The resident index whose fingers are a Dinas administrator's (enrolled where a test needs
/// one: [`Counter::enrol`]).
pub const DINAS_ADMIN: u64 = 1003;
/// The operator's and supervisor's password in tests and demos.
pub const PASSWORD: &str = "rahasia-uji-123";

const SBI_CA: &str = include_str!("../../fixtures/test-keys/test-sbi-provider-ca.crt.pem");

/// The population database: generated residents by NIK.
#[derive(Debug, Default)]
pub struct SynthPopulation {
    by_nik: HashMap<String, PopulationRecord>,
    nik_of: HashMap<u64, String>,
    missing: HashMap<u64, Vec<(Finger, ExceptionReason)>>,
    roster: Vec<RosterEntry>,
}

/// One generated resident as a trainer sees them: who to call to the counter, and what their
/// visit will show.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RosterEntry {
    /// The generator's index (what the SBI simulator's scenario names).
    pub index: u64,
    /// The NIK on their family card, if they have one (synthetic: shown whole to the trainer).
    pub nik: Option<String>,
    /// The name they give.
    pub name: String,
    /// Born on.
    pub birth_date: time::Date,
    /// The case they were generated to show (`no_nik`, `under17`, `already_recorded`, ...).
    pub edge_case: Option<rekam_synth::resident::EdgeCase>,
    /// The recording case to open for them: a foreign resident with a KITAP is served as one.
    pub case: CaseType,
}

impl SynthPopulation {
    /// Residents `0..n` of [`SEED`], as the simulators generate them (as of `as_of`, the
    /// generator's reference date).
    pub fn generate(n: u64, as_of: time::Date) -> Result<SynthPopulation> {
        let pool = RegionPool::load()?;
        let mut p = SynthPopulation::default();
        for i in 0..n {
            let r = resident(Seed::from_u64(SEED), i, &pool, as_of);
            let missing = r
                .missing_fingers
                .iter()
                .filter_map(|m| {
                    let reason = match m.reason {
                        MissingReason::Amputated => ExceptionReason::Amputated,
                        MissingReason::Bandaged => ExceptionReason::Bandaged,
                    };
                    Finger::from_code(m.position.code()).map(|f| (f, reason))
                })
                .collect();
            p.missing.insert(i, missing);
            p.roster.push(RosterEntry {
                index: i,
                nik: r.biodata.as_ref().map(|b| b.nik.as_str().to_owned()),
                name: r.stated_name.clone(),
                birth_date: r.birth_date,
                edge_case: r.edge_case,
                case: match r.biodata.as_ref().map(|b| &b.citizenship) {
                    Some(Kewarganegaraan::Wna { .. }) => CaseType::ForeignResident,
                    _ => CaseType::NewRecording,
                },
            });
            let Some(biodata) = r.biodata else { continue };
            let recording = match r.prior_recording {
                Some(reference) => RecordingStatus::Recorded { reference },
                None => RecordingStatus::NotRecorded,
            };
            p.nik_of.insert(i, biodata.nik.as_str().to_owned());
            p.by_nik.insert(
                biodata.nik.as_str().to_owned(),
                PopulationRecord { biodata, recording },
            );
        }
        Ok(p)
    }

    /// The fingers resident `i` cannot give, and why.
    pub fn missing(&self, i: u64) -> Vec<(Finger, ExceptionReason)> {
        self.missing.get(&i).cloned().unwrap_or_default()
    }

    /// Every generated resident, in order.
    pub fn roster(&self) -> &[RosterEntry] {
        &self.roster
    }

    /// The NIK on resident `i`'s family card, if they have one.
    pub fn nik(&self, i: u64) -> Option<&str> {
        self.nik_of.get(&i).map(String::as_str)
    }
}

impl SynthPopulation {
    /// The record of `nik`, if generated.
    pub fn get(&self, nik: &Nik) -> Option<&PopulationRecord> {
        self.by_nik.get(nik.as_str())
    }

    /// The Dinas changes resident `nik`'s biodata in the register (a data change, a move);
    /// `false` for a NIK not generated.
    pub fn update(
        &mut self,
        nik: &str,
        edit: impl FnOnce(&mut rekam::domain::biodata::Biodata),
    ) -> bool {
        match self.by_nik.get_mut(nik) {
            Some(record) => {
                edit(&mut record.biodata);
                true
            }
            None => false,
        }
    }

    /// Every generated record (residents with a NIK), in no particular order.
    pub fn records(&self) -> impl Iterator<Item = &PopulationRecord> {
        self.by_nik.values()
    }
}

impl Population for SynthPopulation {
    fn lookup(&self, nik: &Nik) -> rekam::Result<Option<Found>> {
        Ok(self.get(nik).map(|record| Found {
            record: record.clone(),
            source: Source::Siak,
        }))
    }
}

/// A simulator process, killed when dropped.
#[derive(Debug)]
pub struct Process(Child);

impl From<Child> for Process {
    fn from(child: Child) -> Process {
        Process(child)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The counter's devices on the simulators.
#[derive(Debug)]
pub struct Devices {
    /// The simulators this handle started (none when it connected to running ones).
    _processes: Vec<Process>,
    sbi_port: u16,
    /// Where the pad is.
    pad_path: String,
    /// The slap scanner.
    pub fingerprint: SbiDevice,
    /// The iris camera.
    pub iris: SbiDevice,
    /// The face camera.
    pub face: SbiDevice,
    /// The signature pad.
    pub pad: SerialPad,
}

impl Devices {
    /// Starts `rekam-sim-sbi` and `rekam-sim-pad` from `bin_dir` and opens every device.
    pub fn start(bin_dir: &Path) -> Result<Devices> {
        let (sbi, port) =
            crate::spawn_ready(Command::new(bin_dir.join("rekam-sim-sbi")).args(["--port", "0"]));
        let sbi = Process(sbi);
        let (pad, path) =
            crate::spawn_ready(Command::new(bin_dir.join("rekam-sim-pad")).args(["--speed", "0"]));
        let mut devices = Devices::connect(port.parse()?, &path)?;
        devices._processes = vec![sbi, Process(pad)];
        Ok(devices)
    }

    /// Opens every device on simulators already running: the SBI service on `sbi_port`, the
    /// pad at `pad_path` (a worker that may be killed leaves them to its parent).
    pub fn connect(port: u16, path: &str) -> Result<Devices> {
        let roots = TrustRoots::from_pem(SBI_CA.as_bytes())?;
        let found = SbiClient::new(roots).discover(port..=port);
        let devices = found
            .into_iter()
            .next()
            .ok_or_else(|| SimError::Setup(format!("no SBI service on port {port}")))?
            .1?;
        let take = |kind: DeviceKind| {
            devices
                .iter()
                .find(|d| d.info().kind == kind)
                .cloned()
                .ok_or_else(|| SimError::Setup(format!("the SBI service has no {kind:?} device")))
        };
        Ok(Devices {
            fingerprint: take(DeviceKind::Fingerprint)?,
            iris: take(DeviceKind::Iris)?,
            face: take(DeviceKind::Face)?,
            pad: SerialPad::open(path)?,
            pad_path: path.to_owned(),
            sbi_port: port,
            _processes: Vec::new(),
        })
    }

    /// Sets the SBI simulator's scenario (see `rekam_sim::sbi::Scenario`): who is at the
    /// devices and how captures go. Fields not given take their defaults.
    pub fn scenario(&self, json: serde_json::Value) -> Result<()> {
        scenario(self.sbi_port, json)
    }

    /// Resident `i` steps up to the devices.
    pub fn resident(&self, i: u64) -> Result<()> {
        self.scenario(serde_json::json!({ "resident": i }))
    }

    /// Closes every device and hands the simulators over to a client that finds them itself
    /// (the core's `rekam::desk::Desk`): they keep running until the result is dropped.
    pub fn release(self) -> Simulators {
        Simulators {
            _processes: self._processes,
            sbi_port: self.sbi_port,
            pad_path: self.pad_path,
        }
    }
}

/// Device simulators running with no device open here ([`Devices::release`]).
#[derive(Debug)]
pub struct Simulators {
    _processes: Vec<Process>,
    /// The SBI service's port.
    pub sbi_port: u16,
    /// The signature pad's serial port.
    pub pad_path: String,
}

impl Simulators {
    /// Resident `i` steps up to the devices.
    pub fn resident(&self, i: u64) -> Result<()> {
        scenario(self.sbi_port, serde_json::json!({ "resident": i }))
    }
}

/// The SBI simulator's scenario on `port` (see `rekam_sim::sbi::Scenario`); fields not given
/// take their defaults.
fn scenario(port: u16, json: serde_json::Value) -> Result<()> {
    let mut full = serde_json::json!({ "seed": SEED });
    if let (Some(f), Some(j)) = (full.as_object_mut(), json.as_object()) {
        f.extend(j.clone());
    }
    let resp = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/admin/scenario"))
        .json(&full)
        .send()?;
    if !resp.status().is_success() {
        return Err(SimError::Setup(format!(
            "scenario refused: {}",
            resp.text()?
        )));
    }
    Ok(())
}

/// A station with its operator and supervisor, its population and its de-duplication index.
#[derive(Debug)]
pub struct Counter {
    /// The station.
    pub station: Station,
    /// The devices.
    pub devices: Devices,
    /// SIAK.
    pub population: SynthPopulation,
    /// The logged-in operator (`OP-01`).
    pub session: Session,
    /// The de-duplication index.
    pub dedup: Dedup,
    /// The Dinas's extract of the population, imported into the station, when the counter
    /// reads biodata from it instead of SIAK ([`Counter::read_from_extract`]).
    pub extract: Option<rekam::population::CounterPopulation>,
}

/// Finds the simulators' binaries: beside the running executable, or one level up (test
/// executables live in `target/<profile>/deps`).
pub fn bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if !dir.join("rekam-sim-sbi").exists() {
        dir.pop();
    }
    if !dir.join("rekam-sim-sbi").exists() {
        return Err(SimError::Setup(format!(
            "rekam-sim-sbi is not beside {}: build the simulators first (cargo build -p rekam-sim)",
            exe.display()
        )));
    }
    Ok(dir)
}

impl Counter {
    /// A fresh station `station_id` in `dir`, its devices, a population of `residents`
    /// generated residents, the operator `OP-01`, supervisor `SPV-01` and technician `TEK-01`
    /// enrolled through the fingerprint scanner, and the operator logged in.
    pub fn open(dir: &Path, station_id: &str, residents: u64) -> Result<Counter> {
        Self::open_with_clock(dir, station_id, residents, Arc::new(SystemClock))
    }

    /// [`Counter::open`] with the station on `clock` (days passing, in a test).
    pub fn open_with_clock(
        dir: &Path,
        station_id: &str,
        residents: u64,
        clock: Arc<dyn Clock>,
    ) -> Result<Counter> {
        Self::set_up(dir, station_id, residents, clock, None)
    }

    /// [`Counter::open`] for a station whose store key lives in key slots: SPV-01's password
    /// first (and the Dinas's `recovery` key), then a slot for each operator as they are added;
    /// no key file anywhere.
    pub fn open_sealed(
        dir: &Path,
        station_id: &str,
        residents: u64,
        recovery: Option<[u8; 32]>,
    ) -> Result<Counter> {
        let first = FirstSlot {
            operator_id: "SPV-01",
            password: PASSWORD,
            recovery,
        };
        Self::set_up(
            dir,
            station_id,
            residents,
            Arc::new(SystemClock),
            Some(&first),
        )
    }

    fn set_up(
        dir: &Path,
        station_id: &str,
        residents: u64,
        clock: Arc<dyn Clock>,
        sealed: Option<&FirstSlot<'_>>,
    ) -> Result<Counter> {
        let devices = Devices::start(&bin_dir()?)?;
        let opts = InitOptions {
            paths: StationPaths::new(dir.join(station_id), None),
            station_id: Some(station_id.into()),
            kecamatan: RegionCode::parse("32.73.01")?,
            actor: "setup".into(),
        };
        let mut station = match sealed {
            None => Station::init(opts, clock.clone())?,
            Some(first) => Station::init_sealed(opts, first, clock.clone())?,
        };
        let population = SynthPopulation::generate(residents, reference_date())?;
        for (id, name, role, who) in [
            ("OP-01", "Siti Operator", Role::Operator, OPERATOR),
            ("SPV-01", "Budi Supervisor", Role::Supervisor, SUPERVISOR),
            ("TEK-01", "Andi Teknisi", Role::Technician, TECHNICIAN),
        ] {
            enrol(&mut station, &devices, id, name, role, who)?;
        }
        Self::login(station, devices, population)
    }

    /// The station `station_id` in `dir` as it was left (after a crash, too), on `devices`,
    /// with `OP-01` logged in.
    pub fn reopen(
        dir: &Path,
        station_id: &str,
        residents: u64,
        devices: Devices,
    ) -> Result<Counter> {
        let station = Station::open(
            StationPaths::new(dir.join(station_id), None),
            Arc::new(SystemClock),
        )?;
        let population = SynthPopulation::generate(residents, reference_date())?;
        Self::login(station, devices, population)
    }

    /// [`Counter::reopen`] for a station with key slots: OP-01's password opens the store.
    pub fn reopen_sealed(
        dir: &Path,
        station_id: &str,
        residents: u64,
        devices: Devices,
    ) -> Result<Counter> {
        let station = Station::open_with(
            StationPaths::new(dir.join(station_id), None),
            &Unlock::Password {
                operator_id: "OP-01",
                password: PASSWORD,
            },
            Arc::new(SystemClock),
        )?;
        let population = SynthPopulation::generate(residents, reference_date())?;
        Self::login(station, devices, population)
    }

    fn login(
        mut station: Station,
        devices: Devices,
        population: SynthPopulation,
    ) -> Result<Counter> {
        devices.resident(OPERATOR)?;
        // A refused login keeps the core's code (the test reads it), so no context is added.
        let session = operators::login(&mut station, "OP-01", PASSWORD, &devices.fingerprint)?;
        let dedup = Dedup::open(&station)?;
        Ok(Counter {
            station,
            devices,
            population,
            session,
            dedup,
            extract: None,
        })
    }
}

/// Enrols `id` with generated resident `who`'s right index finger, taken through the scanner,
/// and the test password.
fn enrol(
    station: &mut Station,
    devices: &Devices,
    id: &str,
    name: &str,
    role: Role,
    who: u64,
) -> Result<()> {
    devices.resident(who)?;
    let (finger, _) = capture_finger(&devices.fingerprint, Finger::RightIndex, "ENROL")?;
    operators::add(
        station,
        &NewOperator {
            operator_id: id.into(),
            name: name.into(),
            role,
            password: zeroize::Zeroizing::new(PASSWORD.into()),
            finger,
        },
        None,
    )?;
    Ok(())
}

impl Counter {
    /// Enrols one more operator (a Dinas administrator) with resident `who`'s finger.
    pub fn enrol(&mut self, id: &str, name: &str, role: Role, who: u64) -> Result<()> {
        enrol(&mut self.station, &self.devices, id, name, role, who)
    }
}

/// The documents a resident brings: everything the case always requires.
pub fn required_documents(case: CaseType) -> Vec<Document> {
    case.checklist()
        .iter()
        .filter(|r| r.need == Need::Required)
        .map(|r| r.document)
        .collect()
}

impl Counter {
    /// A supervisor's approval: SPV-01 types the password and places their finger on the
    /// scanner (and stays at the devices: present the resident again before their next
    /// capture).
    pub fn approval(&mut self, what: &str) -> rekam::Result<Approval> {
        self.devices
            .resident(SUPERVISOR)
            .map_err(|e| rekam::Error::Internal(e.to_string()))?;
        operators::approve(
            &mut self.station,
            "SPV-01",
            PASSWORD,
            &self.devices.fingerprint,
            what,
            "counter",
        )
    }

    /// Starts a recording of resident `i` (at the devices) and takes it through documents,
    /// biodata and eligibility: the case is the one their citizenship calls for.
    pub fn begin(&mut self, i: u64) -> Result<RecordingWorkflow> {
        self.begin_as(i, CaseType::NewRecording)
    }

    /// [`Counter::begin`] under `case` (a home visit), or the foreign resident's case when
    /// SIAK says so.
    pub fn begin_as(&mut self, i: u64, case: CaseType) -> Result<RecordingWorkflow> {
        self.devices.resident(i)?;
        let nik = self.population.nik(i).map(str::to_owned);
        let foreign = nik
            .as_deref()
            .and_then(|n| Nik::parse(n).ok())
            .and_then(|n| self.population.get(&n))
            .is_some_and(|r| !matches!(r.biodata.citizenship, Kewarganegaraan::Wni));
        let case = if foreign {
            CaseType::ForeignResident
        } else {
            case
        };
        let mut w = RecordingWorkflow::start(&mut self.station, &self.session, case)?;
        let presented = required_documents(case);
        self.step(
            &mut w,
            Action::Documents {
                presented,
                applicable: Vec::new(),
            },
        )?;
        self.step(&mut w, Action::Biodata { nik })?;
        self.step(&mut w, Action::Confirm { confirmed: true })?;
        Ok(w)
    }

    /// From now on the counter reads biodata as a station with no network does: from the
    /// Dinas's extract of its population (written with the TEST Dinas key, as of `as_of`),
    /// trusted and imported into the station's store.
    pub fn read_from_extract(&mut self, as_of: time::OffsetDateTime) -> Result<()> {
        let region = self.station.identity().kecamatan.dotted();
        rekam::population::trust(
            &mut self.station,
            crate::extract::TEST_DINAS_PUBLIC,
            "setup",
        )?;
        let file = crate::extract::base(&self.population, &region, 1, as_of);
        rekam::population::import(&mut self.station, &file, "setup", |_, _| {})?;
        self.extract = Some(rekam::population::CounterPopulation::new(
            &self.station,
            None,
        )?);
        Ok(())
    }

    /// Takes `action` on the recording `w` the way the desktop app does: through the core's
    /// one composition of a counter's steps (`rekam::workflow::counter::step`).
    pub fn step(&mut self, w: &mut RecordingWorkflow, action: Action) -> rekam::Result<Outcome> {
        let population: &dyn Population = match &self.extract {
            Some(extract) => extract,
            None => &self.population,
        };
        let d = &mut self.devices;
        let parts = counter::Counter {
            station: &mut self.station,
            dedup: &self.dedup,
            devices: Some(counter::Devices {
                fingerprint: &d.fingerprint,
                iris: &d.iris,
                face: &d.face,
                pad: &mut d.pad,
            }),
            population: Some(population),
        };
        counter::step(w, parts, action)
    }

    /// Photo, signature, fingers (declaring the resident's missing fingers first, with the
    /// supervisor's approval) and irises.
    pub fn capture(&mut self, w: &mut RecordingWorkflow, i: u64) -> Result<()> {
        self.step(w, Action::Photo)?;
        self.step(w, Action::Signature)?;
        let missing = self.population.missing(i);
        if !missing.is_empty() {
            // As at the counter: the supervisor approves each exception with their password
            // and their finger on the scanner, then the resident steps up again.
            self.devices.resident(SUPERVISOR)?;
            for (finger, reason) in missing {
                self.step(
                    w,
                    Action::FingerException {
                        finger: finger.code(),
                        reason,
                        supervisor_id: "SPV-01".into(),
                        password: PASSWORD.into(),
                    },
                )?;
            }
            self.devices.resident(i)?;
        }
        self.step(w, Action::Fingers)?;
        self.step(w, Action::Irises)?;
        Ok(())
    }

    /// Index verification, de-duplication, statement, the operator's finger: everything up to
    /// the seal.
    pub fn confirm(&mut self, w: &mut RecordingWorkflow) -> Result<()> {
        self.verify(w)?;
        self.step(w, Action::Dedup)?;
        self.attest(w)
    }

    /// The statement and the operator's finger: the steps after the de-duplication.
    pub fn attest(&mut self, w: &mut RecordingWorkflow) -> Result<()> {
        self.step(w, Action::Statement)?;
        self.devices.resident(OPERATOR)?;
        self.step(w, Action::OperatorFinger)?;
        Ok(())
    }

    /// Index verification, placing an index finger again as the operator would.
    pub fn verify(&mut self, w: &mut RecordingWorkflow) -> Result<()> {
        // As at a counter, and as the mismatch's advice says: an index finger that does not
        // match its slap is placed again, up to three times; if it still fails, the slaps are
        // taken again (the crash campaign's 1000 trials met a false non-match, then a slap
        // that no placement matched).
        'verified: for round in 1..=2 {
            if round > 1 {
                self.step(w, Action::RetakeFingers)?;
            }
            for attempt in 1..=3 {
                match self.step(w, Action::Verify) {
                    Ok(_) => break 'verified,
                    Err(e) if (round, attempt) != (2, 3) && e.code() == "INDEX_MISMATCH" => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }

    /// [`Counter::confirm`], then the seal.
    pub fn finish(&mut self, mut w: RecordingWorkflow) -> Result<SealedRecording> {
        self.confirm(&mut w)?;
        Ok(w.seal(&mut self.station, &mut self.dedup)?)
    }

    /// Registers the station with the kecamatan server at `url` (its identity file as the
    /// hub's administrator hands it over, and a token from it); from the next recording on,
    /// the de-duplication asks the hub too.
    pub fn join_hub(
        &mut self,
        url: &str,
        identity: &rekam_packet::hub::HubIdentity,
        token: &str,
    ) -> Result<()> {
        rekam::hub::register(&mut self.station, url, identity, token, "setup")?;
        self.dedup = Dedup::open(&self.station)?;
        Ok(())
    }

    /// Records resident `i` from queue number to summons letter.
    pub fn record(&mut self, i: u64) -> Result<SealedRecording> {
        let mut w = self.begin(i)?;
        self.capture(&mut w, i)?;
        self.finish(w)
    }
}
