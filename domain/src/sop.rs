//! The SOP's service standards (`../shared/docs/domain.md`, "Service standards") and how a
//! day's visits fare against them: the same lines for one counter's daily report and for the
//! kecamatan's, which pools the counters' times.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The SOP's service standard for a group of steps, in seconds: queue 1 min, documents 5
/// (kecamatan), the recording steps together 10, personalisation 4, handover verification 2,
/// handover 3.
pub fn standard(group: &str) -> Option<f64> {
    Some(match group {
        "queue" => 60.0,
        "documents" => 300.0,
        "recording" => 600.0,
        "personalisation" => 240.0,
        "handover_verification" => 120.0,
        "handover" => 180.0,
        _ => return None,
    })
}

/// Which SOP standard a workflow step's time counts against.
pub fn group(step: &str) -> &str {
    match step {
        "queue" | "documents" | "personalisation" | "handover_verification" => step,
        "card" | "chip_data" | "receipt" | "old_ktp" => "handover",
        "biodata" | "eligibility" | "photo" | "signature" | "fingers" | "irises"
        | "index_verification" | "dedup" | "statement" | "operator_finger" | "seal" => "recording",
        other => other,
    }
}

/// One SOP standard and how the day's visits fared against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StepLine {
    /// The standard's group (`queue`, `documents`, `recording`, `handover`, ...).
    pub step: String,
    /// Visits that went through it.
    pub visits: usize,
    /// Median seconds per visit.
    pub median_seconds: f64,
    /// Slowest visit, seconds.
    pub max_seconds: f64,
    /// The SOP's standard, seconds, if it sets one.
    pub standard_seconds: Option<f64>,
    /// Visits within the standard.
    pub within_standard: usize,
}

/// The lines of the day from the seconds each visit spent in each group, one line a group in
/// the groups' order.
pub fn lines(seconds: &BTreeMap<String, Vec<f64>>) -> Vec<StepLine> {
    seconds
        .iter()
        .filter(|(_, times)| !times.is_empty())
        .map(|(step, times)| {
            let mut times = times.clone();
            times.sort_by(f64::total_cmp);
            let standard = standard(step);
            StepLine {
                visits: times.len(),
                median_seconds: times[times.len() / 2],
                max_seconds: times.last().copied().unwrap_or_default(),
                within_standard: standard
                    .map_or(times.len(), |s| times.iter().filter(|t| **t <= s).count()),
                standard_seconds: standard,
                step: step.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_pool_visits_against_each_standard() {
        let mut seconds = BTreeMap::new();
        seconds.insert("queue".to_owned(), vec![30.0, 90.0, 45.0]);
        seconds.insert("recording".to_owned(), vec![700.0]);
        seconds.insert("other".to_owned(), vec![5.0]);
        seconds.insert("documents".to_owned(), vec![]);
        let lines = lines(&seconds);
        let by = |s: &str| lines.iter().find(|l| l.step == s).unwrap();
        assert_eq!(lines.len(), 3, "a group nobody went through has no line");
        let queue = by("queue");
        assert_eq!((queue.visits, queue.within_standard), (3, 2));
        assert_eq!((queue.median_seconds, queue.max_seconds), (45.0, 90.0));
        assert_eq!(by("recording").within_standard, 0);
        assert_eq!(by("other").standard_seconds, None);
        assert_eq!(
            by("other").within_standard,
            1,
            "no standard: every visit within"
        );
        assert_eq!(group("fingers"), "recording");
        assert_eq!(group("old_ktp"), "handover");
    }
}
