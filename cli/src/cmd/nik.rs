//! `rekam nik check`: a NIK's structure, birth date, sex and region prefix.

use crate::Ctx;
use crate::output::Exit;
use rekam::Error;
use rekam::domain::nik;
use rekam::domain::region::{EmbeddedRegions, RegionDirectory};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate a NIK: structure, birth date, sex and region prefix
    Check {
        /// The 16-digit NIK (spaces and dots are ignored)
        nik: String,
    },
}

pub fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    let Command::Check { nik: input } = command;
    let today = ctx.clock.today();
    let station = ctx.open_if_present()?;
    let embedded;
    let regions: &dyn RegionDirectory = match &station {
        Some(s) => s.store(),
        None => {
            embedded = EmbeddedRegions::index().map_err(Error::from)?;
            &embedded
        }
    };
    match nik::check(input, regions, today) {
        Ok(report) => {
            ctx.out.nik_report(&report);
            Ok(Exit::Ok)
        }
        Err(e) => {
            ctx.out.nik_invalid(&e);
            Ok(Exit::Invalid)
        }
    }
}
