//! `rekam-fixtures`: generate synthetic residents, or measure how real their fingerprints look.

use anyhow::Context;
use clap::{Parser, Subcommand};
use rekam_synth::finger::impression::Quality;
use rekam_synth::finger::style::Style;
use rekam_synth::report::{self, ReportOptions};
use rekam_synth::set::{SetOptions, write_set};
use std::io::Write;
use std::path::PathBuf;
use time::Date;

/// Synthetic residents with consistent biometrics, for Rekam's tests, simulators and demos.
#[derive(Debug, Parser)]
#[command(name = "rekam-fixtures", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a set of residents into a new directory
    Generate {
        /// How many residents
        #[arg(long)]
        residents: u64,
        /// Master seed: the same seed gives the same bytes
        #[arg(long)]
        seed: u64,
        /// Output directory (must be missing or empty)
        #[arg(long)]
        out: PathBuf,
        /// Date ages and permit expiries are computed for (YYYY-MM-DD)
        #[arg(long, value_parser = parse_date, default_value = "2026-11-22")]
        as_of: Date,
        /// Good flat impressions per finger
        #[arg(long, default_value_t = 2)]
        impressions: u32,
        /// Leave out the poor impression of each finger
        #[arg(long)]
        no_poor: bool,
        /// Leave out the deliberately faulty portraits
        #[arg(long)]
        no_face_faults: bool,
        /// Leave out the 4-4-2 slaps
        #[arg(long)]
        no_slaps: bool,
        /// Captures per eye
        #[arg(long, default_value_t = 2)]
        iris_captures: u32,
        /// Signings per resident
        #[arg(long, default_value_t = 2)]
        signings: u32,
    },
    /// Measure impressions with NIST NBIS (MINDTCT, BOZORTH3) against real plain prints
    Report {
        /// Residents to generate (ten fingers, two impressions each)
        #[arg(long, default_value_t = 20)]
        residents: u64,
        /// Master seed
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Quality knob of the impressions, 0 (unusable) to 1 (excellent)
        #[arg(long, default_value_t = 0.75)]
        quality: f32,
        /// How the impressions are taken: live_scan, optical, capacitive, ink_plain, ink_rolled
        #[arg(long, default_value = "live_scan", value_parser = parse_style)]
        style: Style,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
}

fn parse_style(s: &str) -> Result<Style, String> {
    Style::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Style::ALL.iter().map(|s| s.as_str()).collect();
        format!("no style {s:?}; one of {}", names.join(", "))
    })
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(
        s,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|e| format!("{s:?} is not a date YYYY-MM-DD: {e}"))
}

fn progress(what: &'static str) -> impl FnMut(u64, u64) {
    move |done, total| {
        eprint!("\r{what} {done}/{total}");
        if done == total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate {
            residents,
            seed,
            out,
            as_of,
            impressions,
            no_poor,
            no_face_faults,
            no_slaps,
            iris_captures,
            signings,
        } => {
            let opts = SetOptions {
                residents,
                seed,
                as_of,
                impressions,
                poor: !no_poor,
                slaps: !no_slaps,
                face_faults: !no_face_faults,
                iris_captures,
                signings,
            };
            let started = std::time::Instant::now();
            let manifest = write_set(&out, &opts, progress("resident"))
                .with_context(|| format!("generating into {}", out.display()))?;
            let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
            println!(
                "{} residents, {} files, {:.1} MB in {} ({:.1} s); seed {seed}, as of {}",
                residents,
                manifest.files.len() + 1,
                bytes as f64 / 1e6,
                out.display(),
                started.elapsed().as_secs_f64(),
                as_of,
            );
        }
        Command::Report {
            residents,
            seed,
            quality,
            style,
            json,
        } => {
            let r = report::run(
                ReportOptions {
                    residents,
                    seed,
                    quality: Quality(quality),
                    style,
                },
                progress("resident"),
            );
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_report(&r);
            }
        }
    }
    Ok(())
}

fn print_report(r: &report::Report) {
    let line = |name: &str, s: &report::Stats| {
        println!(
            "{name:<28} n={:<5} mean={:>7.2} p5={:>7.2} median={:>7.2} p95={:>7.2} min={:>7.2} max={:>7.2}",
            s.n, s.mean, s.p5, s.p50, s.p95, s.min, s.max
        )
    };
    println!(
        "{} residents, {} impressions ({}) measured with MINDTCT / BOZORTH3",
        r.residents,
        r.impressions,
        r.style.as_str()
    );
    line("minutiae per impression", &r.minutiae);
    println!(
        "  within 30-80 (real plain prints): {:.1}%",
        100.0 * r.minutiae_in_range
    );
    line("ridge period, px (MINDTCT)", &r.ridge_period);
    println!(
        "  within 8-11 px at 500 ppi: {:.1}%",
        100.0 * r.ridge_period_in_range
    );
    line("ridge period, px (generator)", &r.generated_period);
    line("genuine scores", &r.genuine);
    line("impostor scores", &r.impostor);
    println!(
        "EER {:.2}%; at threshold 40: FNMR {:.2}%, FMR {:.2}%",
        100.0 * r.eer,
        100.0 * r.fnmr_at_40,
        100.0 * r.fmr_at_40
    );
}
