//! `rekam sync`: recordings sent to the data center, one pass or until stopped.

use crate::Ctx;
use crate::output::Exit;
use rekam::Error;
use rekam::sync::SyncConfig;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One pass, then exit (0 when nothing is left to send)
    #[arg(long)]
    once: bool,
    /// With --once: try every unsent record now, whatever its next attempt (after fixing
    /// what the backlog said: the clock, the registration)
    #[arg(long, requires = "once")]
    now: bool,
    /// The data center gateway [default: the address given at registration]
    #[arg(long, env = "REKAM_DC_URL")]
    gateway: Option<String>,
    /// SIAK online: each pass also imports the Dinas's newer population extracts it offers
    #[arg(long, env = "REKAM_SIAK_URL")]
    siak: Option<String>,
    /// Uploads at a time (1 or 2 on thin links)
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Seconds between passes when there is nothing to send
    #[arg(long, default_value_t = 30)]
    idle: u64,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    // A fixed counter with a TPM slot syncs with nobody logged in.
    let mut station = ctx.open_unattended()?;
    let url = match &args.gateway {
        Some(u) => u.clone(),
        None => station.store().dc_url()?.ok_or(Error::NotRegistered)?,
    };
    let cfg = SyncConfig {
        concurrency: args.concurrency,
        retry_now: args.now,
        siak_url: args.siak.clone(),
        ..SyncConfig::new(url)
    };
    if args.once {
        let report = rekam::sync::sync_once(&mut station, &cfg)?;
        ctx.out.sync_pass(&report);
        return Ok(if report.link_up && report.remaining == 0 {
            Exit::Ok
        } else if report.link_up {
            Exit::Invalid
        } else {
            Exit::DataCenter
        });
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    rekam::sync::run(
        &mut station,
        &cfg,
        Duration::from_secs(args.idle),
        &stop,
        |r| {
            if r.sent + r.failed + r.results > 0 || !r.link_up {
                ctx.out.sync_pass(r);
            }
        },
    )?;
    Ok(Exit::Ok)
}
