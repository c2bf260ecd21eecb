//! `rekam reissues`: the reissue requests taken at this station and where each stands with the
//! data center (waiting for the sync pass, on the Dinas's print queue, or refused and why).

use crate::Ctx;
use crate::output::Exit;

pub fn run(ctx: &Ctx) -> anyhow::Result<Exit> {
    let station = ctx.open()?;
    ctx.out
        .reissues(&rekam::workflow::reissue::lines(&station, ctx.lang())?);
    Ok(Exit::Ok)
}
