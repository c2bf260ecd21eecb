//! `rekam keys`: `rotate`, a new signing key accepted by the data center on the old key's
//! word; `slots`, the station's key slots; `recovery-key`, a new Dinas recovery key pair.

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
    /// The ways into the station's store: a key file, or its key slots (an operator's
    /// password each, the Dinas's recovery key)
    Slots,
    /// Move a station kept by its key file into key slots: the first slot for OPERATOR (their
    /// password from REKAM_OPERATOR_PASSWORD or the first line of standard input), the key
    /// files removed; every other operator gets a slot with a new password
    /// (`rekam operator password`)
    Seal {
        /// The operator whose password opens the first slot (a supervisor)
        #[arg(long = "first")]
        first: String,
        /// The Dinas's recovery public key (64 hex digits)
        #[arg(long)]
        recovery_key: Option<String>,
    },
    /// On the Dinas's machine: a new recovery key pair. The private key goes to FILE (0600,
    /// never overwritten; keep it off every station), the public key is printed for
    /// `rekam init --recovery-key`
    RecoveryKey {
        /// Where the private key is written
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

pub fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    match command {
        Command::Rotate { gateway, actor } => rotate(gateway, actor, ctx),
        Command::Slots => {
            let station = ctx.open()?;
            match station.key_slots()? {
                None => ctx.out.message(ctx.lang().pick(
                    "Kunci penyimpanan: berkas kunci (tanpa slot)",
                    "Store key: a key file (no slots)",
                )),
                Some(slots) => {
                    let list: Vec<String> = slots
                        .iter()
                        .map(|s| format!("{:?}:{}", s.kind, s.name).to_lowercase())
                        .collect();
                    ctx.out.message(&format!(
                        "{} {}",
                        ctx.lang().pick("Slot kunci:", "Key slots:"),
                        list.join(", ")
                    ));
                }
            }
            Ok(Exit::Ok)
        }
        Command::Seal {
            first,
            recovery_key,
        } => {
            let recovery = recovery_key
                .as_deref()
                .map(rekam::store::slots::recovery_public)
                .transpose()?;
            let mut station = ctx.open()?;
            let password = super::secret_line("REKAM_OPERATOR_PASSWORD")?;
            rekam::workflow::operators::seal_station(
                &mut station,
                first,
                &password,
                recovery,
                "cli",
            )?;
            ctx.out.message(&format!(
                "{} {first}",
                ctx.lang().pick(
                    "Kunci penyimpanan kini dalam slot; berkas kunci dihapus. Slot pertama:",
                    "The store key is now in key slots; the key files are removed. First slot:"
                )
            ));
            Ok(Exit::Ok)
        }
        Command::RecoveryKey { out } => {
            let key = rekam::store::slots::RecoveryKey::generate()?;
            rekam::store::write_secret(out, &(key.to_hex().to_string() + "\n"))?;
            ctx.out.message(&format!(
                "{} {} (id {})",
                ctx.lang()
                    .pick("Kunci publik pemulihan:", "Recovery public key:"),
                key.public_hex(),
                key.id()
            ));
            Ok(Exit::Ok)
        }
    }
}

fn rotate(gateway: &str, actor: &str, ctx: &Ctx) -> anyhow::Result<Exit> {
    let mut station = ctx.open()?;
    let how = rekam::sync::rotate_key(&mut station, &SyncConfig::new(gateway), actor).map_err(
        |e| match e {
            RotateError::Station(e) => anyhow::Error::from(e),
            RotateError::DataCenter(e) => anyhow::Error::from(e),
        },
    )?;
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
