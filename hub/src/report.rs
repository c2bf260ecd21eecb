//! The kecamatan's daily report: every counter's day pooled against the SOP's service
//! standards, with the kecamatan's backlog. Counters tell the hub their day with every pass
//! ([`rekam_packet::hub::CounterDay`]: times and counts, no NIK, no name); the report is built
//! when asked, from the last word of each counter.

use crate::{Hub, HubError, Result, api};
use rekam_domain::sop::StepLine;
use rekam_packet::hub::CounterDay;
use serde::Serialize;
use std::collections::BTreeMap;

/// The kecamatan's day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KecamatanDay {
    /// The kecamatan.
    pub kecamatan: String,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// Every counter that reported the day, with its visits.
    pub counters: BTreeMap<String, usize>,
    /// Registered counters that reported nothing of the day (closed, or out of reach).
    pub silent: Vec<String>,
    /// Time per SOP standard, every counter's visits pooled.
    pub steps: Vec<StepLine>,
    /// Visits by workflow, then outcome.
    pub visits: BTreeMap<String, BTreeMap<String, usize>>,
    /// Visits by case, then outcome.
    pub cases: BTreeMap<String, BTreeMap<String, usize>>,
    /// Refusals and failures by code.
    pub refusals: BTreeMap<String, usize>,
    /// Records of the kecamatan not yet final now (`rekam-hub backlog`), and of those stuck.
    pub backlog: usize,
    /// Of the backlog, the records stuck ("mengendap").
    pub stuck: usize,
}

/// Refuses what is not a day (`YYYY-MM-DD`).
pub(crate) fn check_day(day: &str) -> std::result::Result<(), api::Refusal> {
    let valid = day.len() == 10
        && time::Date::parse(
            day,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .is_ok();
    if valid {
        Ok(())
    } else {
        Err(api::Refusal::new(
            axum::http::StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            format!("{day:?} is not a day (YYYY-MM-DD)"),
        ))
    }
}

fn add(
    into: &mut BTreeMap<String, BTreeMap<String, usize>>,
    from: BTreeMap<String, BTreeMap<String, usize>>,
) {
    for (k, outcomes) in from {
        let row = into.entry(k).or_default();
        for (outcome, n) in outcomes {
            *row.entry(outcome).or_default() += n;
        }
    }
}

impl Hub {
    /// Keeps what `station_id` reported of its day, replacing its earlier report of that day.
    pub fn report_day(
        &self,
        station_id: &str,
        day: &CounterDay,
    ) -> std::result::Result<(), api::Refusal> {
        check_day(&day.day)?;
        if day
            .seconds
            .values()
            .flatten()
            .any(|s| !s.is_finite() || *s < 0.0)
        {
            return Err(api::Refusal::new(
                axum::http::StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "a visit's time is negative or not a number",
            ));
        }
        let json = serde_json::to_string(day).map_err(|e| HubError::Database(e.to_string()))?;
        self.store()
            .report_day(station_id, &day.day, &json, self.now())?;
        Ok(())
    }

    /// The kecamatan's report of `day` (`YYYY-MM-DD`).
    pub fn kecamatan_day(&self, day: &str) -> Result<KecamatanDay> {
        check_day(day).map_err(|_| HubError::BadDay(day.to_owned()))?;
        let mut report = KecamatanDay {
            kecamatan: self.identity().kecamatan.clone(),
            day: day.to_owned(),
            counters: BTreeMap::new(),
            silent: Vec::new(),
            steps: Vec::new(),
            visits: BTreeMap::new(),
            cases: BTreeMap::new(),
            refusals: BTreeMap::new(),
            backlog: 0,
            stuck: 0,
        };
        let mut seconds: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for (station, json) in self.store().days(day)? {
            let d: CounterDay = serde_json::from_str(&json)
                .map_err(|e| HubError::Database(format!("{station}'s day: {e}")))?;
            let visits = d.visits.values().flat_map(|o| o.values()).sum();
            report.counters.insert(station, visits);
            for (group, times) in d.seconds {
                seconds.entry(group).or_default().extend(times);
            }
            add(&mut report.visits, d.visits);
            add(&mut report.cases, d.cases);
            for (code, n) in d.refusals {
                *report.refusals.entry(code).or_default() += n;
            }
        }
        report.steps = rekam_domain::sop::lines(&seconds);
        report.silent = self
            .store()
            .stations()?
            .into_iter()
            .map(|s| s.station_id)
            .filter(|s| !report.counters.contains_key(s))
            .collect();
        let backlog = self.backlog()?;
        report.backlog = backlog.len();
        report.stuck = backlog.iter().filter(|r| r.stuck).count();
        Ok(report)
    }
}
