//! `rekam region`: regions of the master data by code or by part of a name.

use crate::Ctx;
use crate::output::Exit;
use rekam::domain::region::{RegionCode, RegionDirectory, RegionLevel};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A region code (32.73.01) or part of a name (sukasari)
    query: String,
    /// Only this level: province, regency, kecamatan, village
    #[arg(long)]
    level: Option<RegionLevel>,
    /// At most this many results
    #[arg(long, default_value_t = 20)]
    limit: i64,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let station = ctx.open()?;
    let store = station.store();
    let found = match RegionCode::parse(&args.query) {
        Ok(code) => store.region(&code).into_iter().collect(),
        Err(_) => store.search_regions(&args.query, args.level, args.limit)?,
    };
    let lines: Vec<_> = found
        .into_iter()
        .map(|r| {
            let path = store
                .lineage(&r.code)
                .into_iter()
                .flatten()
                .map(|r| r.name)
                .collect::<Vec<_>>();
            (r, path)
        })
        .collect();
    ctx.out.regions(&lines);
    Ok(if lines.is_empty() {
        Exit::Invalid
    } else {
        Exit::Ok
    })
}
