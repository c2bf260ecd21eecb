//! The desk's back office: the home screen's status, the backlog, sync progress, the
//! technician's export and the receipts brought back, the daily report and the settings page.
//! The role checks are the operators' (`Session::require`), asked first here and again where
//! the store is changed.

use super::{Desk, STUCK_AFTER};
use crate::Result;
use crate::disk::{Space, Target};
use crate::export::{ExportReport, ReceiptsReport};
use crate::i18n::Lang;
use crate::population::{ExtractStatus, ImportReport};
use crate::report::DailyReport;
use crate::station::StationStatus;
use crate::store::{Clarified, SyncState};
use crate::sync::{BacklogLine, LastPass};
use crate::workflow::WorkflowError;
use crate::workflow::operators::Action as Permission;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The home screen: the station and how much of its work is not yet at the data center.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HomeView {
    /// The station's identity, store and master data.
    pub status: StationStatus,
    /// The backlog's counts.
    pub backlog: BacklogCounts,
    /// The Dinas's population extract in force, if any.
    pub population: Option<ExtractStatus>,
}

/// How many records are open, not yet sent, and stuck.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BacklogCounts {
    /// Not yet final.
    pub open: usize,
    /// Not yet at the data center.
    pub unsent: usize,
    /// Past the SOP's 24 hours.
    pub stuck: usize,
}

/// Where the station's sync stands, for the sync screen.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncView {
    /// The data center this app syncs to, if given.
    pub dc_url: Option<String>,
    /// Whether this app runs a background sync.
    pub running: bool,
    /// The last pass (this app's or a `rekam sync` beside it).
    pub last_pass: Option<LastPass>,
    /// What to do about the last pass's error, in the operator's language.
    pub last_pass_next: Option<&'static str>,
    /// Records per sync state.
    pub by_state: BTreeMap<String, i64>,
    /// Records in all.
    pub total: i64,
    /// Records the data center holds.
    pub at_dc: i64,
    /// Records on a technician's disk.
    pub exported: i64,
    /// Whether the station is registered with a kecamatan server.
    pub hub: bool,
    /// The conflicts the kecamatan server found (a person recorded at two counters), for
    /// the supervisor.
    pub hub_conflicts: Vec<crate::hub::ConflictView>,
}

/// The settings page: what this station is and where it finds everything (read-only).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SettingsView {
    /// The station.
    pub station: StationSettings,
    /// Its data center.
    pub data_center: DataCenterSettings,
    /// Where its devices are looked for.
    pub devices: DeviceSettings,
    /// SIAK's address.
    pub siak_url: Option<String>,
    /// The Dinas's population extract in force, if any.
    pub population: Option<ExtractStatus>,
    /// Whether training mode is on.
    pub training: bool,
    /// The station's default language.
    pub lang: Lang,
}

/// The station's part of [`SettingsView`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StationSettings {
    /// Its id.
    pub station_id: String,
    /// Its kecamatan's code and names.
    pub kecamatan: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Its signing key's fingerprint.
    pub signing_key: Option<String>,
    /// Space on the data directory's filesystem.
    pub space: Option<Space>,
}

/// The data center's part of [`SettingsView`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DataCenterSettings {
    /// The data center's id, once registered.
    pub dc_id: Option<String>,
    /// The address registered with.
    pub registered_url: Option<String>,
    /// The address this app syncs to.
    pub sync_url: Option<String>,
}

/// The devices' part of [`SettingsView`].
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceSettings {
    /// Serial ports a pad is looked for on.
    pub pad_ports: Vec<String>,
    /// SBI services' ports.
    pub sbi_ports: String,
    /// The device providers' CA certificates.
    pub sbi_trust: Option<String>,
    /// The card reader.
    pub card_reader: Option<String>,
    /// The CSCA certificate.
    pub card_csca: Option<String>,
    /// The document signer's certificate chain.
    pub document_signer: Option<String>,
}

impl Desk {
    /// The home screen's data, opening the station on first use.
    pub fn home(&mut self, lang: Lang) -> Result<HomeView> {
        let station = self.station()?;
        let lines = crate::sync::backlog(station, STUCK_AFTER, lang)?;
        Ok(HomeView {
            population: crate::population::status(station)?,
            status: station.status()?,
            backlog: BacklogCounts {
                open: lines.len(),
                unsent: lines.iter().filter(|l| l.row.state.unsent()).count(),
                stuck: lines.iter().filter(|l| l.stuck).count(),
            },
        })
    }

    /// The backlog ("Data mengendap"): every record not yet final, with its reason, age and
    /// next step.
    pub fn backlog(&mut self, lang: Lang) -> Result<Vec<BacklogLine>> {
        crate::sync::backlog(self.station()?, STUCK_AFTER, lang)
    }

    /// Records how a duplicate the data center found was clarified with the resident (a
    /// supervisor's step): the record leaves the backlog.
    pub fn clarify(&mut self, packet_id: &str, outcome: Clarified, note: &str) -> Result<()> {
        let (station, session) = self.station_and_session()?;
        crate::workflow::clarification::clarify(station, packet_id, outcome, note, Some(session))
    }

    /// Where the sync stands; `running` says whether the caller runs a background sync.
    pub fn sync_view(&mut self, running: bool, lang: Lang) -> Result<SyncView> {
        let dc_url = self.config.dc_url.clone();
        let station = self.station()?;
        let counts = station.store().sync_counts()?;
        let of = |pick: fn(SyncState) -> bool| {
            counts
                .iter()
                .filter(|(s, _)| pick(**s))
                .map(|(_, n)| n)
                .sum::<i64>()
        };
        let last_pass = crate::sync::last_pass(station)?;
        Ok(SyncView {
            dc_url,
            running,
            last_pass_next: last_pass
                .as_ref()
                .and_then(|p| p.report.error.as_ref())
                .map(|(code, _)| crate::sync::next_step(code, lang)),
            last_pass,
            total: of(|_| true),
            at_dc: of(|s| !s.unsent()),
            exported: of(|s| s == SyncState::Exported),
            by_state: counts
                .iter()
                .map(|(s, n)| (s.as_str().to_owned(), *n))
                .collect(),
            hub: station.store().hub()?.is_some(),
            hub_conflicts: crate::hub::conflicts(station)?
                .iter()
                .map(|c| crate::hub::ConflictView::of(c, lang))
                .collect(),
        })
    }

    /// The removable disks an export can go to (a technician's or supervisor's).
    pub fn export_targets(&mut self) -> Result<Vec<Target>> {
        self.live_session()?.require(Permission::Maintain)?;
        Ok(crate::disk::removable_targets())
    }

    /// Exports every waiting packet to `to` (a technician's or supervisor's), telling
    /// `progress` (done, total, bytes) after each.
    pub fn export(
        &mut self,
        to: &Path,
        progress: impl FnMut(usize, usize, u64),
    ) -> Result<ExportReport> {
        let station = self.station_for(Permission::Maintain)?;
        if !to.is_dir() {
            return Err(WorkflowError::ExportTargetMissing.into());
        }
        crate::export::export(station, to, &[], progress)
    }

    /// Imports the data center's receipts from a technician's disk.
    pub fn import_receipts(&mut self, file: &Path) -> Result<ReceiptsReport> {
        crate::export::import_receipts(self.station_for(Permission::Maintain)?, file)
    }

    /// The Dinas's population extracts found on the mounted removable disks.
    pub fn population_files(&mut self) -> Result<Vec<PathBuf>> {
        self.live_session()?.require(Permission::Maintain)?;
        let roots: Vec<PathBuf> = crate::disk::removable_targets()
            .into_iter()
            .map(|t| t.path)
            .collect();
        Ok(crate::disk::extract_files(&roots))
    }

    /// Imports the Dinas's population extract (or its next delta) from `file` on a removable
    /// disk, telling `progress` (done, total) as residents are applied.
    pub fn import_population(
        &mut self,
        file: &Path,
        progress: impl FnMut(u64, u64),
    ) -> Result<ImportReport> {
        let actor = self.live_session()?.operator_id.clone();
        let station = self.station_for(Permission::Maintain)?;
        let bytes = std::fs::read(file).map_err(|e| crate::Error::io(file, e))?;
        crate::population::import(station, &bytes, &actor, progress)
    }

    /// The daily report of `day` (`YYYY-MM-DD`; today when none).
    pub fn daily_report(&mut self, day: Option<&str>) -> Result<DailyReport> {
        let station = self.station_for(Permission::Report)?;
        let today = station.store().clock().today().to_string();
        crate::report::daily(station, day.unwrap_or(&today), STUCK_AFTER)
    }

    /// The settings page; `lang` is the station's default language.
    pub fn settings(&mut self, lang: Lang) -> Result<SettingsView> {
        let c = self.config.clone();
        let station = self.station()?;
        let status = station.status()?;
        let dc = station.data_center()?;
        let registered_url = station.store().dc_url()?;
        let path = |p: Option<&PathBuf>| p.map(|p| p.display().to_string());
        Ok(SettingsView {
            station: StationSettings {
                station_id: status.station_id,
                kecamatan: format!(
                    "{} {}",
                    status.kecamatan_code,
                    status.region_path.join(" / ")
                ),
                data_dir: status.data_dir,
                signing_key: status.signing_key,
                space: crate::disk::space(&c.paths.data_dir).ok(),
            },
            data_center: DataCenterSettings {
                dc_id: dc.map(|d| d.dc_id),
                registered_url,
                sync_url: c.dc_url.clone(),
            },
            devices: DeviceSettings {
                sbi_ports: format!("127.0.0.1:{}-{}", c.sbi_ports.start(), c.sbi_ports.end()),
                sbi_trust: path(c.sbi_trust.as_ref()),
                card_reader: c.card_reader.clone(),
                card_csca: path(c.card_trust.as_ref()),
                document_signer: path(c.document_signer.as_ref()),
                pad_ports: c.pad_ports,
            },
            siak_url: c.siak_url,
            population: crate::population::status(station)?,
            training: c.training.is_some(),
            lang,
        })
    }
}
