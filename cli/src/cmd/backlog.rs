//! `rekam backlog`: every recording not yet final, or their counts.

use crate::Ctx;
use crate::output::Exit;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Counts by state and by age instead of the list
    #[arg(long)]
    summary: bool,
    /// Hours after which an unsent record counts as stuck (the SOP's 24 h)
    #[arg(long, default_value_t = 24)]
    stuck_hours: u64,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let station = ctx.open()?;
    let lines = rekam::sync::backlog(
        &station,
        Duration::from_secs(args.stuck_hours * 3600),
        ctx.lang(),
    )?;
    if args.summary {
        ctx.out
            .backlog_summary(&rekam::sync::summary(&station, &lines)?);
    } else {
        ctx.out.backlog(&lines);
    }
    Ok(Exit::Ok)
}
