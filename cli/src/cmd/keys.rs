//! `rekam keys rotate`: a new signing key, accepted by the data center on the old key's word.

use crate::Ctx;
use crate::output::Exit;
use rekam::sync::{RotateError, Rotated, SyncConfig};

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
    let how = rekam::sync::rotate_key(&mut station, &SyncConfig::new(gateway.clone()), actor)
        .map_err(|e| match e {
            RotateError::Station(e) => anyhow::Error::from(e),
            RotateError::DataCenter(e) => anyhow::Error::from(e),
        })?;
    let said = match how {
        Rotated::New => ctx
            .lang()
            .pick("Kunci stasiun diganti:", "Station key rotated:"),
        Rotated::Finished => ctx.lang().pick(
            "Penggantian kunci yang terputus sudah diterima DC dan kini selesai:",
            "The rotation cut off earlier had been accepted by the data center and is now finished:",
        ),
    };
    ctx.out
        .message(&format!("{said} {}", station.signing_key()?.id()));
    Ok(Exit::Ok)
}
