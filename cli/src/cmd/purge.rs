//! `rekam purge`: less to lose. Recordings the data center answered for good (PRINT_READY_RECORD,
//! DUPLICATE_RECORD) longer ago than the retention lose their sealed packet and biometric rows;
//! their journal row stays. The background sync does the same after each pass.

use crate::Ctx;
use crate::output::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Days an answered recording stays whole
    #[arg(long, default_value_t = 30)]
    days: u64,
    /// Who purges (for the audit log)
    #[arg(long, default_value = "cli")]
    actor: String,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let mut station = ctx.open()?;
    let report = station.purge(
        std::time::Duration::from_secs(args.days * 24 * 3600),
        &args.actor,
        |done, of| {
            if !ctx.global.json && (done == of || done % 500 == 0) {
                eprintln!("{done}/{of}");
            }
        },
    )?;
    ctx.out.message(&format!(
        "{} {} ({:.1} MB)",
        ctx.lang().pick(
            "Rekaman yang sudah dijawab DC dan dibersihkan:",
            "Recordings answered by the data center and purged:"
        ),
        report.recordings,
        report.bytes as f64 / 1e6
    ));
    Ok(Exit::Ok)
}
