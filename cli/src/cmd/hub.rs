//! `rekam hub`: the station and its kecamatan server (`rekam-hub`): register with it, see
//! what it holds and the conflicts it found.

use crate::Ctx;
use crate::output::Exit;
use anyhow::Context;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Register this station with the kecamatan server (once, with a token from the hub's
    /// administrator and the hub's identity file, whose certificate the hub must present)
    Register {
        /// The hub's address, e.g. https://10.0.0.2:8490
        #[arg(long, env = "REKAM_HUB_URL")]
        url: String,
        /// The hub's identity file (hub-identity.json)
        #[arg(long)]
        hub_identity: PathBuf,
        /// The one-time registration token
        #[arg(long)]
        token: String,
        /// Who registers (for the audit log)
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Send the recordings the hub does not hold yet and fetch its conflicts (one pass)
    Sync,
    /// The conflicts the hub found: one person recorded at two counters of the kecamatan
    Conflicts,
}

pub fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    let lang = ctx.lang();
    let mut station = ctx.open()?;
    match command {
        Command::Register {
            url,
            hub_identity,
            token,
            actor,
        } => {
            let expected: rekam_packet::hub::HubIdentity = serde_json::from_slice(
                &std::fs::read(hub_identity)
                    .with_context(|| format!("--hub-identity {}", hub_identity.display()))?,
            )
            .with_context(|| format!("{} is not a hub identity", hub_identity.display()))?;
            rekam::hub::register(&mut station, url, &expected, token, actor)?;
            ctx.out.message(&format!(
                "{} {} ({} {})",
                lang.pick(
                    "Stasiun terdaftar di server kecamatan",
                    "Station registered with the kecamatan server"
                ),
                expected.hub_id,
                lang.pick("kecamatan", "kecamatan"),
                expected.kecamatan
            ));
            Ok(Exit::Ok)
        }
        Command::Sync => match rekam::hub::pass(&mut station)? {
            None => Err(rekam::Error::Hub {
                code: "HUB_NOT_REGISTERED".into(),
                detail:
                    "this station is not registered with a kecamatan server (rekam hub register)"
                        .into(),
            }
            .into()),
            Some(pass) => {
                ctx.out.hub_pass(&pass);
                Ok(if pass.error.is_none() {
                    Exit::Ok
                } else {
                    Exit::Invalid
                })
            }
        },
        Command::Conflicts => {
            ctx.out.hub_conflicts(&rekam::hub::conflicts(&station)?);
            Ok(Exit::Ok)
        }
    }
}
