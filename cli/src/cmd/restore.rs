//! `rekam restore`: a backup put back, everything or the keys only.

use super::secret_line;
use crate::Ctx;
use crate::output::Exit;
use rekam::backup::Restore;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backup directory (rekam-backup-<station>-<time>)
    #[arg(long)]
    from: PathBuf,
    /// Restore only the keys
    #[arg(long)]
    keys_only: bool,
    /// Who restores (for the audit log)
    #[arg(long, default_value = "cli")]
    actor: String,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let passphrase = secret_line("REKAM_BACKUP_PASSPHRASE")?;
    let what = if args.keys_only {
        Restore::KeysOnly
    } else {
        Restore::Everything
    };
    let restored = rekam::backup::restore(
        &args.from,
        &ctx.paths()?,
        &passphrase,
        what,
        &args.actor,
        ctx.clock.clone(),
    )?;
    ctx.out.restored(&restored);
    Ok(Exit::Ok)
}
