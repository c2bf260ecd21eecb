//! `rekam calibrate DIR`: what the shipped finger threshold does on the Dinas's own captures
//! before go-live (docs/biometric-engine.md, "Before go-live").

use crate::Ctx;
use crate::output::Exit;
use rekam::calibration::{Verdict, calibrate};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder of captures, named <person>_<finger 1-10>_<session>.png
    captures: PathBuf,
    /// Captures the quality gate scores below this take part in no pair (a counter retakes
    /// them)
    #[arg(long, default_value_t = 40)]
    gate: u8,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let quiet = ctx.global.json;
    let lang = ctx.lang();
    let c = calibrate(&args.captures, args.gate, |done, total| {
        if !quiet {
            eprint!("\r{} {done}/{total}", lang.pick("Membaca", "Reading"));
            if done == total {
                eprintln!();
            }
        }
    })?;
    ctx.out.calibration(&c);
    Ok(match c.result.verdict {
        Verdict::Ready => Exit::Ok,
        _ => Exit::Invalid,
    })
}
