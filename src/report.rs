//! The daily report of a station: time per step against the SOP's service standards, visits by
//! workflow, case and outcome, refusals by code, and the backlog (what has not reached the data
//! center, and how much of it is stuck). As JSON and as a PDF.
//!
//! Read only from the `visit` log and the sync state; no full NIK and no names appear in it.

use crate::Result;
use crate::i18n::Lang;
use crate::station::Station;
use crate::workflow::sop_group;
use rekam_packet::hub::CounterDay;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

pub use crate::domain::sop::StepLine;

/// The day's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DailyReport {
    /// The station.
    pub station_id: String,
    /// The day (station time).
    pub day: String,
    /// Time per step against the SOP.
    pub steps: Vec<StepLine>,
    /// Visits by workflow, then outcome.
    pub visits: BTreeMap<String, BTreeMap<String, usize>>,
    /// Visits by case, then outcome.
    pub cases: BTreeMap<String, BTreeMap<String, usize>>,
    /// Refusals and failures by code.
    pub refusals: BTreeMap<String, usize>,
    /// Recordings by sync state (all days: the backlog is what is still at the station).
    pub sync_states: BTreeMap<String, i64>,
    /// Recordings not yet at the data center.
    pub backlog: usize,
    /// Of those, stuck ("mengendap") longer than the threshold.
    pub stuck: usize,
}

/// The day's visits at this counter as times and counts (no NIK, no name): what the daily
/// report is built from, and what the counter tells its kecamatan server for the kecamatan's.
pub fn counter_day(station: &Station, day: &str) -> Result<CounterDay> {
    let mut d = CounterDay {
        day: day.to_owned(),
        seconds: BTreeMap::new(),
        visits: BTreeMap::new(),
        cases: BTreeMap::new(),
        refusals: BTreeMap::new(),
    };
    for v in &station.store().visits_on(day)? {
        let v = &v.visit;
        let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
        for s in &v.steps {
            *sums.entry(sop_group(&s.step)).or_default() += s.seconds;
        }
        for (group, seconds) in sums {
            d.seconds.entry(group.to_owned()).or_default().push(seconds);
        }
        *d.visits
            .entry(v.workflow.as_str().to_owned())
            .or_default()
            .entry(v.outcome.as_str().to_owned())
            .or_default() += 1;
        if let Some(case) = &v.case {
            *d.cases
                .entry(case.as_str().to_owned())
                .or_default()
                .entry(v.outcome.as_str().to_owned())
                .or_default() += 1;
        }
        if let Some(code) = &v.code {
            *d.refusals.entry(code.clone()).or_default() += 1;
        }
    }
    Ok(d)
}

/// Builds the report of `day` (YYYY-MM-DD). `stuck_after` is the backlog's threshold.
pub fn daily(station: &Station, day: &str, stuck_after: Duration) -> Result<DailyReport> {
    let d = counter_day(station, day)?;
    let lines = crate::sync::backlog(station, stuck_after, Lang::En)?;
    Ok(DailyReport {
        station_id: station.identity().station_id.clone(),
        day: day.to_owned(),
        steps: crate::domain::sop::lines(&d.seconds),
        visits: d.visits,
        cases: d.cases,
        refusals: d.refusals,
        sync_states: station
            .store()
            .sync_counts()?
            .into_iter()
            .map(|(s, n)| (s.as_str().to_owned(), n))
            .collect(),
        backlog: lines.len(),
        stuck: lines.iter().filter(|l| l.stuck).count(),
    })
}

impl DailyReport {
    /// The report as a PDF, in `lang`.
    pub fn to_pdf(&self, lang: Lang) -> Vec<u8> {
        let t = |id: &'static str, en: &'static str| lang.pick(id, en);
        let minutes = |s: f64| format!("{:.1} {}", s / 60.0, t("mnt", "min"));
        let steps = self
            .steps
            .iter()
            .map(|s| {
                format!(
                    "{:<24} {:>4} {}   {} {:>9}   {} {:>9}   {} {}",
                    s.step,
                    s.visits,
                    t("kunjungan", "visits"),
                    t("median", "median"),
                    minutes(s.median_seconds),
                    t("maks", "max"),
                    minutes(s.max_seconds),
                    t("standar SOP", "SOP standard"),
                    s.standard_seconds.map_or("-".into(), |x| format!(
                        "{} ({}/{} {})",
                        minutes(x),
                        s.within_standard,
                        s.visits,
                        t("memenuhi", "within")
                    )),
                )
            })
            .collect();
        let counts = |m: &BTreeMap<String, BTreeMap<String, usize>>| {
            m.iter()
                .map(|(k, o)| {
                    let parts: Vec<String> = o.iter().map(|(o, n)| format!("{o} {n}")).collect();
                    format!("{k}: {}", parts.join(", "))
                })
                .collect::<Vec<_>>()
        };
        let mut backlog: Vec<String> = self
            .sync_states
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        backlog.push(format!(
            "{}: {}   {}: {}",
            t("Belum sampai di DC", "Not yet at the data center"),
            self.backlog,
            t("mengendap", "stuck"),
            self.stuck
        ));
        let sections = vec![
            (
                t(
                    "Waktu per langkah terhadap standar SOP",
                    "Time per step against the SOP",
                )
                .into(),
                steps,
            ),
            (t("Kunjungan", "Visits").into(), counts(&self.visits)),
            (
                t("Per jenis permohonan", "By case").into(),
                counts(&self.cases),
            ),
            (
                t("Penolakan dan kegagalan", "Refusals and failures").into(),
                self.refusals
                    .iter()
                    .map(|(c, n)| format!("{c}: {n}"))
                    .collect(),
            ),
            (t("Data belum terkirim", "Backlog").into(), backlog),
        ];
        crate::documents::report_pdf(
            &format!(
                "{} {} - {}",
                t("Laporan harian", "Daily report"),
                self.station_id,
                self.day
            ),
            &sections,
        )
    }
}
