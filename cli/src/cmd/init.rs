//! `rekam init`: a new station.

use crate::Ctx;
use crate::output::Exit;
use rekam::Error;
use rekam::domain::region::RegionCode;
use rekam::station::{InitOptions, Station};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The kecamatan the station serves (e.g. 32.73.01)
    #[arg(long)]
    kecamatan: String,
    /// Station id (3-32 letters, digits, dashes) [default: <kecamatan>-<random>]
    #[arg(long)]
    station_id: Option<String>,
    /// Who sets the station up (for the audit log)
    #[arg(long, default_value = "cli")]
    actor: String,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let kecamatan = RegionCode::parse(&args.kecamatan).map_err(Error::from)?;
    let station = Station::init(
        InitOptions {
            paths: ctx.paths()?,
            station_id: args.station_id.clone(),
            kecamatan,
            actor: args.actor.clone(),
        },
        ctx.clock.clone(),
    )?;
    let status = station.status()?;
    ctx.out.status(
        &status,
        ctx.lang().pick("Stasiun dibuat", "Station created"),
    );
    Ok(Exit::Ok)
}
