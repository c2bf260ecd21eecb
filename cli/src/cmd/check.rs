//! `rekam check`: the database's integrity check and the audit chain.

use crate::Ctx;
use crate::output::Exit;

pub fn run(ctx: &Ctx) -> anyhow::Result<Exit> {
    let report = rekam::backup::check(&ctx.open()?)?;
    ctx.out.audit(&report);
    Ok(Exit::Ok)
}
