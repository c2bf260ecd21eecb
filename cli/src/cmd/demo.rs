//! `rekam demo`: runs `rekam-demo` (built with the simulators) beside this binary.
//!
//! The demo makes its own station and data center in a temporary directory (or in `--keep
//! DIR`) and prints text as it goes, or one JSON object at the end with `--json`; it refuses
//! `--data-dir` or `--key-file` given on the command line rather than ignoring them (a
//! station's own directory is never the demo's).

use crate::Ctx;
use crate::output::Exit;
use anyhow::Context;
use clap::parser::ValueSource;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many residents come to the counter
    #[arg(long, default_value_t = 10)]
    residents: u64,
    /// Keep the demo's station and data center in this directory
    #[arg(long)]
    keep: Option<PathBuf>,
    /// No network: biodata from an extract the demo issues itself, no data center; every
    /// recording sealed and left waiting (runs inside `unshare -n`)
    #[arg(long)]
    offline: bool,
    /// Counters of the kecamatan; more than one brings up its kecamatan server, and the first
    /// counter's first resident is presented again at the second
    #[arg(long, default_value_t = 1)]
    counters: usize,
}

/// Why the demo refuses what the command line asked, if it does. `sources` says where each
/// global flag came from: set in the environment, it is the station's standing configuration
/// and not a request to the demo.
pub fn refusal(
    data_dir: Option<ValueSource>,
    key_file: Option<ValueSource>,
) -> Option<&'static str> {
    let given = |s: Option<ValueSource>| s == Some(ValueSource::CommandLine);
    if given(data_dir) || given(key_file) {
        return Some(
            "rekam demo makes its own station and never uses a station's --data-dir or \
             --key-file: keep what it makes with --keep DIR",
        );
    }
    None
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let exe = std::env::current_exe()?;
    let demo = exe.with_file_name("rekam-demo");
    if !demo.exists() {
        anyhow::bail!(
            "{} is missing: build the simulators first (cargo build -p rekam-sim)",
            demo.display()
        );
    }
    let mut cmd = std::process::Command::new(&demo);
    cmd.args(["--residents", &args.residents.to_string()])
        .args(["--lang", ctx.lang().pick("id", "en")]);
    if args.offline {
        cmd.arg("--offline");
    }
    cmd.args(["--counters", &args.counters.to_string()]);
    if ctx.global.json {
        cmd.arg("--json");
    }
    if let Some(dir) = &args.keep {
        cmd.arg("--dir").arg(dir).arg("--keep");
    }
    let status = cmd
        .status()
        .with_context(|| format!("running {}", demo.display()))?;
    Ok(if status.success() {
        Exit::Ok
    } else {
        Exit::Internal
    })
}
