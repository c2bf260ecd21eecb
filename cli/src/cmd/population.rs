//! `rekam population`: the Dinas's population extract on this station, so the counter reads
//! biodata with no network (trust the Dinas's key once, import extracts and deltas, status).

use crate::Ctx;
use crate::output::Exit;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Trust the Dinas's public key (a file holding its 64 hex digits, as the Dinas hands it
    /// over): every extract must be signed with it. Once only
    Trust {
        /// The Dinas's public key file
        key: PathBuf,
        /// Who does it, for the audit log
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Import a base extract, or the next delta, from a file the Dinas issued (one transaction:
    /// a refused or interrupted import leaves the extract before it in force)
    Import {
        /// The extract file
        file: PathBuf,
        /// Who does it, for the audit log
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// The extract in force: region, number, as of when, residents, age
    Status,
}

pub fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    match command {
        Command::Trust { key, actor } => {
            let text = std::fs::read_to_string(key)
                .map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
            let mut station = ctx.open()?;
            rekam::population::trust(&mut station, &text, actor)?;
            ctx.out.message(ctx.lang().pick(
                "Kunci Dinas dipercaya: ekstrak hanya diterima bila ditandatangani kunci ini",
                "The Dinas key is trusted: extracts are accepted only when signed with it",
            ));
            Ok(Exit::Ok)
        }
        Command::Import { file, actor } => {
            let bytes =
                std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let mut station = ctx.open()?;
            let report = rekam::population::import(&mut station, &bytes, actor, |_, _| {})?;
            ctx.out.population_import(&report);
            Ok(Exit::Ok)
        }
        Command::Status => {
            let station = ctx.open()?;
            let status = rekam::population::status(&station)?;
            ctx.out.population_status(status.as_ref());
            Ok(Exit::Ok)
        }
    }
}
