//! `rekam recover`: on the Dinas's machine, with the Dinas's recovery key, a station whose
//! operators cannot open it (passwords forgotten, the only supervisor gone) gets a new
//! password for one of its operators.

use super::secret_line;
use crate::Ctx;
use crate::output::Exit;
use anyhow::Context;
use rekam::Error;
use rekam::station::{Station, Unlock};
use rekam::store::slots::RecoveryKey;
use rekam::workflow::operators;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Dinas's recovery private key file (from `rekam keys recovery-key`)
    #[arg(long)]
    dinas_key: PathBuf,
    /// The operator who gets a new password (from REKAM_OPERATOR_PASSWORD or the first line
    /// of standard input)
    #[arg(long)]
    reset: String,
    /// Who recovers (for the audit log)
    #[arg(long, default_value = "dinas")]
    actor: String,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let text = std::fs::read_to_string(&args.dinas_key)
        .with_context(|| format!("the recovery key {}", args.dinas_key.display()))?;
    let key = RecoveryKey::from_hex(&text).ok_or_else(|| Error::KeySlots {
        problem: format!(
            "{} is not a recovery key (64 hex digits)",
            args.dinas_key.display()
        ),
    })?;
    let mut station = Station::open_with(ctx.paths()?, &Unlock::Recovery(&key), ctx.clock.clone())?;
    station.audit(&rekam::audit::AuditEvent::new(
        &args.actor,
        "station.recover",
        key.id(),
    ))?;
    let password = secret_line("REKAM_OPERATOR_PASSWORD")?;
    operators::reset_password(&mut station, &args.reset, &password, None)?;
    ctx.out.message(&format!(
        "{} {}",
        ctx.lang().pick(
            "Stasiun dipulihkan dengan kunci Dinas; kata sandi baru untuk",
            "Station recovered with the Dinas's key; new password for"
        ),
        args.reset
    ));
    Ok(Exit::Ok)
}
