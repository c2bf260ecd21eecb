//! `rekam keys rotate`: a new signing key, accepted by the data center on the old key's word.

use crate::Ctx;
use crate::output::Exit;
use rekam::sync::SyncConfig;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Replace the signing key: the data center accepts the new key on the old key's word
    Rotate {
        /// The data center gateway
        #[arg(long, env = "REKAM_DC_URL")]
        gateway: String,
        /// Who rotates (for the audit log)
        #[arg(long, default_value = "cli")]
        actor: String,
    },
}

pub fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    let Command::Rotate { gateway, actor } = command;
    let mut station = ctx.open()?;
    let rotation = station.begin_key_rotation()?;
    let client = rekam::sync::client(&station, &SyncConfig::new(gateway.clone()))?;
    client.rotate(&rotation)?;
    station.finish_key_rotation(actor)?;
    ctx.out.message(&format!(
        "{} {}",
        ctx.lang()
            .pick("Kunci stasiun diganti:", "Station key rotated:"),
        station.signing_key()?.id()
    ));
    Ok(Exit::Ok)
}
