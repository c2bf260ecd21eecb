//! `rekam audit verify`: every entry of the hash-chained audit log.

use crate::Ctx;
use crate::output::Exit;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify every entry of the audit chain
    Verify,
}

pub fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    let Command::Verify = command;
    let report = ctx.open()?.verify_audit()?;
    ctx.out.audit(&report);
    Ok(if report.is_intact() {
        Exit::Ok
    } else {
        Exit::Invalid
    })
}
