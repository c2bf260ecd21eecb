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
    /// This station's public key, for the Dinas to seal its extracts to (made the first time)
    Key,
    /// At the Dinas: seal an extract FILE to a station's public key (`rekam population key` on
    /// the station), so the copy on the USB stick reads as noise to whoever finds it
    Seal {
        /// The extract file, as issued and signed
        file: PathBuf,
        /// The public key of the station or kecamatan server (`rekam population key`,
        /// `rekam-hub population key`), 64 hex digits
        #[arg(long)]
        to: String,
        /// Where the sealed extract goes (never overwritten)
        #[arg(long)]
        out: PathBuf,
    },
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
        Command::Key => {
            let mut station = ctx.open()?;
            let (public, id) = rekam::population::recipient(&mut station)?;
            ctx.out.message(&format!(
                "{} {public} (id {id})",
                ctx.lang().pick(
                    "Kunci publik stasiun untuk ekstrak Dinas:",
                    "The station's public key for the Dinas's extracts:"
                )
            ));
            Ok(Exit::Ok)
        }
        Command::Seal { file, to, out } => {
            let mut public = [0u8; 32];
            hex::decode_to_slice(to.trim(), &mut public)
                .map_err(|_| anyhow::anyhow!("--to must be the station's key: 64 hex digits"))?;
            let bytes =
                std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            rekam::domain::population::Extract::peek(&bytes)?;
            let sealed = rekam_packet::population::seal_extract(&public, &bytes)?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(out)
                .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
            std::io::Write::write_all(&mut f, &sealed)?;
            f.sync_all()?;
            ctx.out.message(&format!(
                "{} {} ({} KB)",
                ctx.lang().pick(
                    "Ekstrak tersegel untuk stasiun:",
                    "Extract sealed for the station:"
                ),
                out.display(),
                sealed.len() / 1024
            ));
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
