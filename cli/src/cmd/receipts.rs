//! `rekam receipts import`: the data center's receipts brought back on a disk.

use crate::Ctx;
use crate::output::Exit;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Mark the packets of a data center's receipts file (receipts.json) as sent
    Import {
        /// The receipts file
        file: PathBuf,
    },
}

pub fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    let Command::Import { file } = command;
    let mut station = ctx.open()?;
    let report = rekam::export::import_receipts(&mut station, file)?;
    ctx.out.receipts(&report);
    Ok(if report.invalid.is_empty() {
        Exit::Ok
    } else {
        Exit::Invalid
    })
}
