//! What the campaign's test binaries share: a reference data center on loopback, a station
//! registered with it, and the last sync that must bring every recording there exactly once.

#![allow(clippy::unwrap_used, dead_code)]

use rekam::clock::SystemClock;
use rekam::station::Station;
use rekam::store::SyncState;
use rekam::sync::{SyncConfig, sync_once};
use rekam_gateway::{Config, Gateway, Running};
use rekam_sim::counter::SynthPopulation;
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

    /// Syncs until every one of the `journal` recordings is PRINT_READY_RECORD (a resident
    /// recorded twice would come back DUPLICATE_RECORD: that fails), then returns how many
    /// packets the data center holds from the station: it must equal the journal.
    pub fn sync_all(&self, station: &mut Station, journal: i64) -> i64 {
        let sync = SyncConfig {
            backoff_base: Duration::ZERO,
            ..SyncConfig::new(&self.url)
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            sync_once(station, &sync).unwrap();
            let counts = station.store().sync_counts().unwrap();
            let ready = counts.get(&SyncState::PrintReadyRecord).copied();
            if ready.unwrap_or(0) == journal {
                break;
            }
            assert!(
                !counts.contains_key(&SyncState::DuplicateRecord),
                "a recording reached the data center twice: {counts:?}"
            );
            if Instant::now() >= deadline {
                // What is left, and why: state, attempts, last code, seconds to the next try.
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let left: Vec<String> = station
                    .store()
                    .backlog()
                    .unwrap()
                    .iter()
                    .filter(|r| r.state != SyncState::PrintReadyRecord)
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
                panic!("never all at the data center: {counts:?}; left: {left:#?}");
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
        at_dc
    }
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
