//! What the campaign's test binaries share: a reference data center on loopback, a station
//! registered with it, and the last sync that must bring every recording there exactly once.

#![allow(clippy::unwrap_used, dead_code)]

use rekam::clock::SystemClock;
use rekam::station::Station;
use rekam::store::SyncState;
use rekam::sync::{SyncConfig, sync_once};
use rekam_gateway::{Config, Gateway, Running};
use rekam_packet::protocol::Status;
use rekam_sim::counter::SynthPopulation;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A reference data center on 127.0.0.1, deciding results at once.
pub struct DataCenter {
    pub gw: Gateway,
    pub url: String,
    pub running: Running,
}

impl DataCenter {
    /// A new data center in `dir`.
    pub fn start(dir: &Path) -> DataCenter {
        rekam_gateway::init(dir, "DC-CAMPAIGN").unwrap();
        let mut cfg = Config::new(dir);
        cfg.results_delay = Duration::ZERO;
        let gw = Gateway::open(cfg, Arc::new(SystemClock)).unwrap();
        let running = gw.clone().spawn("127.0.0.1:0").unwrap();
        let url = format!("http://{}", running.addr);
        DataCenter { gw, url, running }
    }

    /// Registers `station` and pins this data center in it.
    pub fn register(&self, station: &mut Station) {
        let id = station.identity().station_id.clone();
        let token = self.gw.issue_token(&id).unwrap();
        let answered =
            rekam_sync::register(&self.url, None, &station.registration(&token).unwrap()).unwrap();
        station
            .pin_data_center(self.gw.identity(), &answered, "test")
            .unwrap();
    }

    /// Syncs until the data center has decided every one of the `journal` recordings, then
    /// checks that it holds exactly `journal` packets from the station and that no decision
    /// matched a recording with itself (a packet indexed twice). Returns the packets there and
    /// how many the data center's matcher took for another of the station's recordings
    /// (DUPLICATE_RECORD or ADJUDICATE_RECORD naming a different packet). Those are false
    /// matches on synthetic residents, not a resident recorded twice: the journal holds each
    /// NIK once (`UNIQUE`), and with a thousand residents the person rule's measured false
    /// match rate makes one or two likely.
    pub fn sync_all(&self, station: &mut Station, journal: i64) -> Decided {
        let sync = SyncConfig {
            backoff_base: Duration::ZERO,
            ..SyncConfig::new(&self.url)
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        let decided = |s: &SyncState| {
            matches!(
                s,
                SyncState::PrintReadyRecord
                    | SyncState::DuplicateRecord
                    | SyncState::AdjudicateRecord
            )
        };
        loop {
            sync_once(station, &sync).unwrap();
            let counts = station.store().sync_counts().unwrap();
            let done: i64 = counts
                .iter()
                .filter(|(s, _)| decided(s))
                .map(|(_, n)| n)
                .sum();
            if done == journal {
                break;
            }
            if Instant::now() >= deadline {
                // What is left, and why: state, attempts, last code, seconds to the next try.
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let left: Vec<String> = station
                    .store()
                    .backlog()
                    .unwrap()
                    .iter()
                    .filter(|r| !decided(&r.state))
                    .map(|r| {
                        format!(
                            "{} {:?} attempts {} {:?} retry in {:?} s",
                            r.packet_id,
                            r.state,
                            r.attempts,
                            r.last_code,
                            r.next_retry_at.map(|t| t - now)
                        )
                    })
                    .collect();
                panic!("never all decided at the data center: {counts:?}; left: {left:#?}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let id = station.identity().station_id.clone();
        let at_dc = self
            .gw
            .stations(i64::MAX)
            .unwrap()
            .into_iter()
            .find(|s| s.station_id == id)
            .unwrap()
            .packets_received;
        assert_eq!(
            at_dc, journal,
            "packets at the data center against the journal"
        );
        Decided {
            at_dc,
            matched_another: self.matched_another(station),
        }
    }

    /// Reads the data center's whole result feed as the station (the real protocol, verified
    /// against the pinned identity) and counts the recordings last decided as matching another
    /// of the station's recordings; a match with itself, or with a packet the station never
    /// recorded, fails.
    fn matched_another(&self, station: &Station) -> usize {
        let dc = station.data_center().unwrap().unwrap();
        let client = rekam::sync::client(station, &SyncConfig::new(&self.url)).unwrap();
        let journal: BTreeSet<String> = station
            .store()
            .journal_after(0, i64::MAX)
            .unwrap()
            .into_iter()
            .map(|e| e.enrollment_id)
            .collect();
        let mut last = BTreeMap::new();
        let mut cursor = 0;
        loop {
            let page = client.results(cursor, &dc).unwrap();
            if page.events.is_empty() {
                break;
            }
            cursor = page.next_cursor;
            for e in page.events {
                last.insert(e.packet_id.clone(), e);
            }
        }
        let mut matched = 0;
        for (id, e) in &last {
            if matches!(e.status, Status::DuplicateRecord | Status::AdjudicateRecord) {
                let other = e.matched_packet.as_deref().unwrap_or("(none named)");
                assert!(
                    other != id && journal.contains(other),
                    "{id} decided {:?} against {other}: not another of the station's \
                     recordings ({:?})",
                    e.status,
                    e.reason
                );
                matched += 1;
            }
        }
        matched
    }
}

/// What the data center made of a station's recordings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    /// Packets it holds from the station: as many as the journal.
    pub at_dc: i64,
    /// Recordings its matcher took for another of the station's (false matches).
    pub matched_another: usize,
}

/// What nothing on disk or in a log may show in plain text: every generated resident's full
/// NIK and name.
pub fn personal_strings(population: &SynthPopulation) -> Vec<String> {
    population
        .roster()
        .iter()
        .flat_map(|r| r.nik.iter().cloned().chain([r.name.clone()]))
        .collect()
}

/// Integrity check and audit chain of an open station.
pub fn assert_sound(station: &Station) {
    assert_eq!(station.store().integrity_check().unwrap(), ["ok"]);
    let audit = station.verify_audit().unwrap();
    assert!(audit.first_break.is_none(), "audit chain: {audit:?}");
}

/// A station with key slots (SPV-01 and OP-01 under `password`, the Dinas's recovery key),
/// registered with `dc` and holding `recordings` sealed generated residents, closed again:
/// what the re-key and purge campaigns start from. Returns its paths, the Dinas's key and a
/// file holding an operator's finger record (for the worker to add operators with).
pub struct SealedStation {
    pub paths: rekam::station::StationPaths,
    pub dinas: rekam::store::slots::RecoveryKey,
    pub finger_file: std::path::PathBuf,
    pub residents: Vec<rekam_synth::recording::SynthRecording>,
}

impl SealedStation {
    pub fn set_up(dir: &Path, dc: &DataCenter, password: &str, recordings: usize) -> SealedStation {
        use rekam::domain::region::RegionCode;
        use rekam::station::{FirstSlot, InitOptions, StationPaths};
        use rekam::store::slots::{RecoveryKey, recovery_public};
        use rekam::workflow::operators::{self, FingerTemplate, NewOperator, Role};
        let pool = rekam_synth::resident::RegionPool::load().unwrap();
        let dinas = RecoveryKey::generate().unwrap();
        let paths = StationPaths::new(dir.join("KEC-RK-01"), None);
        let mut station = Station::init_sealed(
            InitOptions {
                paths: paths.clone(),
                station_id: Some("KEC-RK-01".into()),
                kecamatan: RegionCode::parse("32.73.01").unwrap(),
                actor: "setup".into(),
            },
            &FirstSlot {
                operator_id: "SPV-01",
                password,
                recovery: Some(recovery_public(&dinas.public_hex()).unwrap()),
            },
            Arc::new(SystemClock),
        )
        .unwrap();
        let residents: Vec<_> = (0..recordings as u64 * 10)
            .filter_map(|i| {
                rekam_synth::recording::recording(
                    &pool,
                    31,
                    i,
                    rekam_synth::resident::reference_date(),
                    "OP-01",
                )
            })
            .take(recordings.max(1))
            .collect();
        let finger_record = {
            let r = &residents[0].recording;
            r.records[r.manifest.finger_templates.unwrap() as usize]
                .data
                .clone()
        };
        let finger = FingerTemplate::from_record(&finger_record)
            .unwrap()
            .remove(0);
        for (id, role) in [("SPV-01", Role::Supervisor), ("OP-01", Role::Operator)] {
            operators::add(
                &mut station,
                &NewOperator {
                    operator_id: id.into(),
                    name: format!("Petugas {id}"),
                    role,
                    password: zeroize::Zeroizing::new(password.into()),
                    finger: finger.clone(),
                },
                None,
            )
            .unwrap();
        }
        dc.register(&mut station);
        for r in residents.iter().take(recordings) {
            let row = rekam::dedup::Dedup::row(&r.person).unwrap();
            station.seal(r.recording.clone(), Some(row), None).unwrap();
        }
        let finger_file = dir.join("finger.iso");
        std::fs::write(&finger_file, &finger_record).unwrap();
        SealedStation {
            paths,
            dinas,
            finger_file,
            residents: residents.into_iter().take(recordings).collect(),
        }
    }

    /// Opens it with `who`'s password.
    pub fn open(&self, who: &str, password: &str) -> Station {
        Station::open_with(
            self.paths.clone(),
            &rekam::station::Unlock::Password {
                operator_id: who,
                password,
            },
            Arc::new(SystemClock),
        )
        .unwrap()
    }
}
