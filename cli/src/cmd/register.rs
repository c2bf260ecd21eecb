//! `rekam register`: the station registered with the data center, its identity pinned.

use crate::Ctx;
use crate::output::Exit;
use anyhow::Context;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data center gateway, e.g. http://127.0.0.1:8480
    #[arg(long, env = "REKAM_DC_URL")]
    gateway: String,
    /// The data center identity file from the Dinas (dc-identity.json)
    #[arg(long)]
    dc_identity: PathBuf,
    /// The one-time registration token from the Dinas
    #[arg(long)]
    token: String,
    /// Who registers (for the audit log)
    #[arg(long, default_value = "cli")]
    actor: String,
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let lang = ctx.lang();
    let mut station = ctx.open()?;
    let file = &args.dc_identity;
    let expected: rekam_packet::DcIdentity = serde_json::from_slice(
        &std::fs::read(file).with_context(|| format!("--dc-identity {}", file.display()))?,
    )
    .with_context(|| format!("{} is not a data center identity", file.display()))?;
    rekam::station::same_data_center(
        &expected,
        &rekam_sync::identity(&args.gateway, Some(&expected))?,
    )?;
    let answered = rekam_sync::register(
        &args.gateway,
        Some(&expected),
        &station.registration(&args.token)?,
    )?;
    station.pin_data_center(&expected, &answered, &args.actor)?;
    station.store_mut().set_dc_url(&args.gateway)?;
    ctx.out.message(&format!(
        "{} {} ({} {}, {} {})",
        lang.pick("Stasiun terdaftar di", "Station registered with"),
        expected.dc_id,
        lang.pick("kunci paket", "packet key"),
        expected.packet_key.id,
        lang.pick("kunci tanda terima", "receipt key"),
        expected.receipt_key.id
    ));
    Ok(Exit::Ok)
}
