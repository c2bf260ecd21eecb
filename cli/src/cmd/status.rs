//! `rekam status`: the station's identity, store and counts.

use crate::Ctx;
use crate::output::Exit;

pub fn run(ctx: &Ctx) -> anyhow::Result<Exit> {
    let station = ctx.open()?;
    ctx.out.status(
        &station.status()?,
        ctx.lang().pick("Status stasiun", "Station status"),
    );
    Ok(Exit::Ok)
}
