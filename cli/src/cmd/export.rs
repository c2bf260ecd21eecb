//! `rekam export`: unsent packets onto a removable disk, with progress on stderr.

use crate::Ctx;
use crate::output::Exit;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The disk's directory; the bundle goes to DIR/<station id>/
    #[arg(long)]
    to: PathBuf,
    /// Only these packets (repeat)
    #[arg(long = "packet")]
    packets: Vec<String>,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let mut station = ctx.open()?;
    let quiet = ctx.global.json;
    let lang = ctx.lang();
    let report = rekam::export::export(
        &mut station,
        &args.to,
        &args.packets,
        |done, total, bytes| {
            if !quiet {
                eprint!(
                    "\r{} {done}/{total} ({:.1} MB)",
                    lang.pick("Ekspor", "Export"),
                    bytes as f64 / 1e6
                );
            }
        },
    )?;
    if !quiet && report.packets > 0 {
        eprintln!();
    }
    ctx.out.export(&report);
    Ok(Exit::Ok)
}
