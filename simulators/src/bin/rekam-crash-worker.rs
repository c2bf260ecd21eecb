//! `rekam-crash-worker`: the station at work for the crash campaign (`simulators/tests/crash.rs`,
//! `scripts/crash-campaign`), to be killed with SIGKILL at any moment. It reopens the station as
//! the last run left it, then records residents through the device simulators (started by the
//! campaign, so they outlive it), seals each, syncs after each, and exports the backlog to a
//! folder after the residents at every third place of the roster, until the residents run out.
//! Before recording it imports the data center's receipts for the last bundle, when the
//! campaign has had the data center import one (`<export-to>/<station>/receipts.json`).
//!
//! Each line on stdout is written and flushed only after the step it names returned:
//! `SEALED <packet id> <resident>` once the packet is committed, `SYNCED`, `EXPORTED`,
//! `RECEIPTS`; `IMPORTING` just before the receipts are read. The campaign holds the station to
//! every `SEALED` line after a kill.

use anyhow::Context;
use clap::Parser;
use rekam::sync::{SyncConfig, sync_once};
use rekam_sim::counter::{Counter, Devices};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Records, seals, syncs and exports until killed.
#[derive(Debug, Parser)]
#[command(name = "rekam-crash-worker", version, about)]
struct Args {
    /// The directory holding the station's directory
    #[arg(long)]
    dir: PathBuf,
    /// The station's id (its directory's name)
    #[arg(long)]
    station: String,
    /// How many generated residents there are; the next one not recorded yet comes next
    #[arg(long)]
    residents: u64,
    /// The SBI simulator's port
    #[arg(long)]
    sbi_port: u16,
    /// The signature pad simulator's serial port
    #[arg(long)]
    pad: String,
    /// The data center's address
    #[arg(long)]
    dc: String,
    /// Where exports go
    #[arg(long)]
    export_to: PathBuf,
}

fn say(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Everything the station logs, down to debug, on stderr: the campaign scans it for the
    // residents' NIKs and names, which no log line may carry.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "rekam=debug,rekam_sync=debug,rekam_sim=debug,rekam_drivers=debug,info",
        ))
        .with_writer(std::io::stderr)
        .init();
    let devices = Devices::connect(args.sbi_port, &args.pad).context("the devices")?;
    let mut c = Counter::reopen(&args.dir, &args.station, args.residents, devices)
        .context("reopening the station")?;
    let sync = SyncConfig {
        backoff_base: Duration::ZERO,
        connect_timeout: Duration::from_millis(500),
        ..SyncConfig::new(&args.dc)
    };
    say("READY")?;
    let receipts = args.export_to.join(&args.station).join("receipts.json");
    if receipts.exists() {
        say("IMPORTING")?;
        let report = rekam::export::import_receipts(&mut c.station, &receipts)?;
        say(&format!(
            "RECEIPTS {} {} {} {}",
            report.accepted,
            report.already,
            report.invalid.len(),
            report.refused_by_dc.len()
        ))?;
    }
    let ordinary: Vec<u64> = c
        .population
        .roster()
        .iter()
        .filter(|r| r.edge_case.is_none() && r.nik.is_some())
        .map(|r| r.index)
        .collect();
    for (n, &i) in ordinary.iter().enumerate() {
        let nik = c.population.nik(i).context("a NIK")?;
        let nik = rekam::domain::nik::Nik::parse(nik)?;
        if c.station.store().enrollment_by_nik(&nik)?.is_some() {
            continue;
        }
        let sealed = c
            .record(i)
            .with_context(|| format!("recording resident {i}"))?;
        say(&format!("SEALED {} {i}", sealed.packet_id))?;
        let pass = sync_once(&mut c.station, &sync)?;
        say(&format!("SYNCED {} {}", pass.sent, pass.remaining))?;
        if n % 3 == 2 {
            let report = rekam::export::export(&mut c.station, &args.export_to, &[], |_, _, _| {})?;
            say(&format!("EXPORTED {}", report.packets))?;
        }
    }
    say("DONE")?;
    Ok(())
}
