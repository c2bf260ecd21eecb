//! `rekam backup`: the station onto an external disk, its keys sealed under a passphrase.

use super::secret_line;
use crate::Ctx;
use crate::output::Exit;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The disk or folder the backup directory is made in
    #[arg(long)]
    to: PathBuf,
    /// Who backs up (for the audit log)
    #[arg(long, default_value = "cli")]
    actor: String,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let mut station = ctx.open()?;
    let passphrase = secret_line("REKAM_BACKUP_PASSPHRASE")?;
    let made = rekam::backup::backup(&mut station, &args.to, &passphrase, &args.actor)?;
    ctx.out.backup(&made);
    Ok(Exit::Ok)
}
