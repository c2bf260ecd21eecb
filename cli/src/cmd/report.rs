//! `rekam report`: the day's report against the SOP's service standards.

use crate::Ctx;
use crate::output::Exit;
use anyhow::Context;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The day, YYYY-MM-DD [default: today, station time]
    #[arg(long)]
    day: Option<String>,
    /// Also write it as a PDF
    #[arg(long, value_name = "FILE")]
    pdf: Option<PathBuf>,
    /// Hours after which an unsent recording counts as stuck
    #[arg(long, default_value_t = 24)]
    stuck_hours: u64,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let lang = ctx.lang();
    let station = ctx.open()?;
    let day = args
        .day
        .clone()
        .unwrap_or_else(|| ctx.clock.today().to_string());
    let report = rekam::report::daily(
        &station,
        &day,
        std::time::Duration::from_secs(args.stuck_hours * 3600),
    )?;
    if let Some(file) = &args.pdf {
        std::fs::write(file, report.to_pdf(lang))
            .with_context(|| format!("writing {}", file.display()))?;
    }
    if ctx.global.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(Exit::Ok);
    }
    println!(
        "{} {} - {}",
        lang.pick("Laporan harian", "Daily report"),
        report.station_id,
        report.day
    );
    for s in &report.steps {
        println!(
            "  {:<24} {:>4}  median {:>7.1} s  max {:>7.1} s  SOP {}",
            s.step,
            s.visits,
            s.median_seconds,
            s.max_seconds,
            s.standard_seconds.map_or("-".into(), |x| format!(
                "{x:.0} s ({}/{})",
                s.within_standard, s.visits
            ))
        );
    }
    for (w, o) in &report.visits {
        println!("  {w}: {o:?}");
    }
    for (code, n) in &report.refusals {
        println!("  {code}: {n}");
    }
    println!(
        "  {}: {} ({} {})",
        lang.pick("belum di DC", "not yet at the data center"),
        report.backlog,
        report.stuck,
        lang.pick("mengendap", "stuck")
    );
    Ok(Exit::Ok)
}
