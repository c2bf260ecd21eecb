//! `rekam-demo` (run as `rekam demo`): enrolls N generated residents headless through the
//! device simulators (SBI on loopback HTTP, the signature pad on a pty), seals them, syncs them
//! to a reference data center on loopback, and prints what happened: each visit with its queue
//! number, outcome and time, the data center's results, and the day's report.
//!
//! With `--offline` there is no SIAK and no data center: the station reads biodata from an
//! extract of the residents that the demo issues itself (signed with the TEST Dinas key), seals
//! every recording to a data center it never reaches, and leaves them waiting in the backlog;
//! it runs inside `unshare -n` with only the loopback interface up (the devices' simulators).
//!
//! With `--counters N` (N > 1) the kecamatan has N counters and its kecamatan server
//! (`rekam-hub` on the embedded store, over TLS on loopback): residents come to the counters in
//! turn, every counter checks each person against the whole kecamatan before sealing, and at
//! the end the first resident recorded at the first counter is presented at the second, which
//! refuses them at once naming the first counter.
//!
//! With `--json` it prints one JSON object at the end instead of lines as it goes (the
//! recordings, each sealed or refused with its code; the records per sync state; the daily
//! report; whether the audit chain is intact).
//!
//! Everything lives in a fresh directory (a temporary one unless `--dir`), removed at the end
//! unless `--keep`. Summons letters are not written to disk: they name the resident, and a
//! letter goes to the printer, not into a file nobody encrypted.

use anyhow::Context;
use clap::Parser;
use rekam::clock::SystemClock;
use rekam::i18n::{Lang, Localized};
use rekam::store::SyncState;
use rekam::sync::{SyncConfig, sync_once};
use rekam_gateway::{Config, Gateway};
use rekam_sim::counter::Counter;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Enrolls generated residents through the simulators and syncs them to a local data center.
#[derive(Debug, Parser)]
#[command(name = "rekam-demo", version, about)]
struct Args {
    /// How many residents come to the counter (residents 0-7 are the edge cases: a foreign
    /// resident, no NIK, under 17, married under 17, recorded elsewhere, a missing finger, an
    /// expired KITAP)
    #[arg(long, default_value_t = 10)]
    residents: u64,
    /// Work in this directory instead of a temporary one
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Keep the directory (station, data center) afterwards
    #[arg(long)]
    keep: bool,
    /// Language of messages: id or en
    #[arg(long, env = "REKAM_LANG", default_value = "id")]
    lang: Lang,
    /// No network: biodata from the Dinas's extract, no data center; recordings stay waiting
    #[arg(long)]
    offline: bool,
    /// One JSON object at the end instead of lines as it goes
    #[arg(long)]
    json: bool,
    /// Counters of the kecamatan; more than one brings up its kecamatan server
    #[arg(long, default_value_t = 1)]
    counters: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let lang = args.lang;
    let json = args.json;
    // A line for a person reading along; nothing in JSON mode, whose object comes at the end.
    let say = |line: String| {
        if !json {
            println!("{line}");
        }
    };
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;

    let started = Instant::now();
    let mut extract = None;
    let mut counters = (1..=args.counters.max(1))
        .map(|k| Counter::open(&dir, &format!("KEC-DEMO-{k:02}"), args.residents.max(8)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut hub = None;
    if counters.len() > 1 {
        let hub_dir = dir.join("hub");
        let identity = rekam_hub::init(&hub_dir, "HUB-DEMO", "327301", &["127.0.0.1".into()])
            .context("the kecamatan server")?;
        let h = rekam_hub::Hub::open(rekam_hub::Config::new(&hub_dir), Arc::new(SystemClock))?;
        let running = h.clone().spawn("127.0.0.1:0")?;
        let url = format!("https://{}", running.addr);
        for c in &mut counters {
            let token = h.issue_token(&c.station.identity().station_id)?;
            c.join_hub(&url, &identity, &token)?;
        }
        say(format!(
            "{}: {url} ({} {})",
            lang.pick("server kecamatan", "kecamatan server"),
            counters.len(),
            lang.pick("loket", "counters")
        ));
        hub = Some((running, url));
    }
    let running = if args.offline {
        // A data center the station was registered with once and cannot reach now (TEST keys).
        let identity =
            rekam_packet::DcKeys::from_seeds(&[1; 32], &[2; 32]).identity("DC-TEST", None);
        for c in &mut counters {
            c.station.pin_data_center(&identity, &identity, "demo")?;
            c.read_from_extract(time::OffsetDateTime::now_utc() - time::Duration::days(2))?;
        }
        let status = rekam::population::status(&counters[0].station)?
            .context("the extract was just imported")?;
        say(format!(
            "{}: {} no. {}, {} {}",
            lang.pick(
                "tanpa jaringan; biodata dari ekstrak Dinas",
                "no network; biodata from the Dinas's extract"
            ),
            status.region,
            status.sequence,
            status.residents,
            lang.pick("penduduk", "residents")
        ));
        extract = Some(serde_json::json!({
            "region": status.region,
            "sequence": status.sequence,
            "residents": status.residents,
        }));
        None
    } else {
        let dc_dir = dir.join("dc");
        rekam_gateway::init(&dc_dir, "DC-DEMO").context("the data center")?;
        let mut cfg = Config::new(&dc_dir);
        cfg.results_delay = Duration::ZERO;
        let gw = Gateway::open(cfg, Arc::new(SystemClock))?;
        let running = gw.clone().spawn("127.0.0.1:0")?;
        let url = format!("http://{}", running.addr);
        say(format!("data center gateway: {url}"));
        for c in &mut counters {
            let token = gw.issue_token(&c.station.identity().station_id)?;
            let answered = rekam_sync::register(&url, None, &c.station.registration(&token)?)?;
            c.station
                .pin_data_center(gw.identity(), &answered, "demo")?;
        }
        Some((running, url))
    };
    for c in &counters {
        say(format!(
            "station {} ready: devices on the simulators, operator OP-01 logged in by password and finger ({:.1} s)",
            c.station.identity().station_id,
            started.elapsed().as_secs_f64()
        ));
    }
    say(String::new());

    let mut recordings = Vec::new();
    let mut first_at_first = None;
    for i in 0..args.residents {
        let t = Instant::now();
        let k = (i as usize) % counters.len();
        let queue = format!("A-{:03}", i / counters.len() as u64 + 1);
        let c = &mut counters[k];
        let station = c.station.identity().station_id.clone();
        match c.record(i) {
            Ok(s) => {
                let seconds = t.elapsed().as_secs_f64();
                if k == 0 && first_at_first.is_none() {
                    first_at_first = Some((i, s.packet_id.clone()));
                }
                say(format!(
                    "{station}  {}  R{i:04}  {}  {}  {} ({seconds:.1} s, summons letter {} KB)",
                    s.queue_number,
                    s.masked_nik,
                    lang.pick("direkam", "recorded"),
                    s.packet_id,
                    s.summons_letter.len() / 1024
                ));
                recordings.push(serde_json::json!({
                    "station_id": station,
                    "queue": s.queue_number,
                    "resident": i,
                    "masked_nik": s.masked_nik,
                    "packet_id": s.packet_id,
                    "seconds": seconds,
                }));
            }
            Err(e) => {
                let (code, text) = match &e {
                    rekam_sim::error::SimError::Core(e) => (e.code(), e.localized(lang)),
                    other => ("DEMO", other.to_string()),
                };
                say(format!("{station}  {queue}  R{i:04}  {text}"));
                recordings.push(serde_json::json!({
                    "station_id": station,
                    "queue": queue,
                    "resident": i,
                    "refused": { "code": code, "message": text },
                }));
            }
        }
    }

    // The kecamatan's AFIS at work: the first counter's first resident at the second counter.
    let mut presented_again = None;
    if let (Some((i, first_packet)), Some(second)) = (&first_at_first, counters.get_mut(1)) {
        say(String::new());
        let station = second.station.identity().station_id.clone();
        let t = Instant::now();
        let outcome = match second.record(*i) {
            Ok(s) => serde_json::json!({ "sealed": s.packet_id }),
            Err(e) => {
                let (code, text) = match &e {
                    rekam_sim::error::SimError::Core(e) => (e.code(), e.localized(lang)),
                    other => ("DEMO", other.to_string()),
                };
                serde_json::json!({ "code": code, "message": text })
            }
        };
        let seconds = t.elapsed().as_secs_f64();
        say(format!(
            "{}: {station} R{i:04} ({seconds:.1} s): [{}] {}",
            lang.pick(
                "datang lagi di loket lain",
                "presented again at another counter"
            ),
            outcome["code"].as_str().unwrap_or("SEALED"),
            outcome["message"].as_str().unwrap_or_default()
        ));
        presented_again = Some(serde_json::json!({
            "resident": i,
            "first_station_id": counters[0].station.identity().station_id,
            "first_packet_id": first_packet,
            "at_station_id": station,
            "outcome": outcome,
        }));
    }

    say(String::new());
    let states = match &running {
        Some((_, url)) => {
            let mut states = std::collections::BTreeMap::new();
            let mut seconds = 0.0;
            for c in &mut counters {
                let (one, s) = sync_all(c, url)?;
                seconds += s;
                for (state, n) in one {
                    *states.entry(state).or_insert(0) += n;
                }
            }
            say(format!(
                "{} ({seconds:.1} s):",
                lang.pick("sinkronisasi ke DC", "sync to the data center")
            ));
            states
        }
        None => {
            say(format!(
                "{}:",
                lang.pick(
                    "menunggu jaringan (tidak ada yang hilang)",
                    "waiting for the link (nothing is lost)"
                )
            ));
            let mut states = std::collections::BTreeMap::new();
            for c in &counters {
                for (state, n) in c.station.store().sync_counts()? {
                    *states.entry(state).or_insert(0) += n;
                }
            }
            states
        }
    };
    for (state, n) in &states {
        say(format!("  {:<22} {n}", state.as_str()));
    }
    let c = &counters[0];
    let day = c.station.store().clock().today().to_string();
    let report = rekam::report::daily(&c.station, &day, Duration::from_secs(3600))?;
    say(String::new());
    say(format!("{}:", lang.pick("laporan harian", "daily report")));
    for s in &report.steps {
        say(format!(
            "  {:<24} {} visits, median {:.1} s, SOP {}",
            s.step,
            s.visits,
            s.median_seconds,
            s.standard_seconds.map_or("-".into(), |x| format!(
                "{x:.0} s ({} within)",
                s.within_standard
            ))
        ));
    }
    for (code, n) in &report.refusals {
        say(format!("  {code:<24} {n}"));
    }
    let mut intact = true;
    for c in &counters {
        intact &= c.station.verify_audit()?.is_intact();
    }
    say(format!(
        "audit chain: {}",
        if intact { "intact" } else { "BROKEN" }
    ));
    let data_center = running.as_ref().map(|(_, url)| url.clone());
    if let Some((running, _)) = running {
        running.stop();
    }
    let kecamatan_server = hub.as_ref().map(|(_, url)| url.clone());
    if let Some((running, _)) = hub {
        running.stop();
    }
    if args.keep {
        say(format!("kept: {}", dir.display()));
        let _ = tmp.keep();
    }
    if json {
        let states: serde_json::Map<String, serde_json::Value> = states
            .iter()
            .map(|(state, n)| (state.as_str().to_owned(), (*n).into()))
            .collect();
        let out = serde_json::json!({
            "station_id": c.station.identity().station_id,
            "stations": counters.iter().map(|c| c.station.identity().station_id.clone()).collect::<Vec<_>>(),
            "kecamatan_server": kecamatan_server,
            "presented_again": presented_again,
            "offline": args.offline,
            "extract": extract,
            "data_center": data_center,
            "recordings": recordings,
            "states": states,
            "daily_report": report,
            "audit_intact": intact,
            "kept": args.keep.then(|| dir.display().to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

/// Syncs until nothing waits on the data center (or 100 passes); the records per state, and
/// how long it took.
fn sync_all(
    c: &mut Counter,
    url: &str,
) -> anyhow::Result<(std::collections::BTreeMap<SyncState, i64>, f64)> {
    let sync = SyncConfig {
        backoff_base: Duration::ZERO,
        ..SyncConfig::new(url)
    };
    let t = Instant::now();
    let mut states = Default::default();
    for _ in 0..100 {
        sync_once(&mut c.station, &sync)?;
        states = c.station.store().sync_counts()?;
        let waiting: i64 = [
            SyncState::BioCaptured,
            SyncState::Uploading,
            SyncState::SentForEnrollment,
        ]
        .iter()
        .filter_map(|s| states.get(s))
        .sum();
        if waiting == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok((states, t.elapsed().as_secs_f64()))
}
