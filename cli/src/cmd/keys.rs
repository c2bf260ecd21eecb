//! `rekam keys`: `rotate`, a new signing key accepted by the data center on the old key's
//! word; `slots`, the station's key slots; `recovery-key`, a new Dinas recovery key pair;
//! `tpm`, this machine's TPM as a way in for a fixed counter's unattended sync.

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
    /// This machine's TPM 2.0 as a way into the store, so a fixed counter's background sync
    /// (`rekam sync`) runs with nobody logged in. Never on a mobile team's laptop: whoever
    /// takes the whole machine then takes what its TPM opens
    Tpm {
        #[command(subcommand)]
        command: TpmCommand,
    },
}

/// `rekam keys tpm ...`
#[derive(Debug, clap::Subcommand)]
pub enum TpmCommand {
    /// Whether a TPM 2.0 answers, and whose it is
    Probe,
    /// Seal the store key with this machine's TPM, bound to the PCRs' current values
    Enroll {
        /// PCRs the slot is bound to (SHA-256 bank): comma-separated, or `none`
        #[arg(long, default_value = "7")]
        pcrs: String,
    },
    /// Remove the TPM slot and re-key the store (needs the store alone: stop the app first)
    Remove,
}

/// The TPM to use: `REKAM_TPM_TCTI`, or the kernel's resource manager.
fn tcti() -> String {
    std::env::var("REKAM_TPM_TCTI").unwrap_or_else(|_| rekam::store::tpm::DEFAULT_TCTI.into())
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
        Command::Tpm { command } => tpm(command, ctx),
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

fn tpm(command: &TpmCommand, ctx: &Ctx) -> anyhow::Result<Exit> {
    let tcti = tcti();
    let actor = ctx.global.operator.as_deref().unwrap_or("cli");
    match command {
        TpmCommand::Probe => {
            let vendor = rekam::store::tpm::probe(&tcti)?;
            ctx.out.message(&format!(
                "{} {tcti}: {vendor}",
                ctx.lang()
                    .pick("TPM 2.0 menjawab di", "A TPM 2.0 answers at")
            ));
        }
        TpmCommand::Enroll { pcrs } => {
            let pcrs = rekam::store::tpm::parse_pcrs(pcrs)?;
            let mut station = ctx.open()?;
            station.set_tpm_slot(&tcti, &pcrs, actor)?;
            ctx.out.message(&format!(
                "{} {tcti}, PCR {pcrs:?}",
                ctx.lang().pick(
                    "Slot TPM terpasang: sinkronisasi latar membuka penyimpanan tanpa login, di \
                     mesin ini saja. TPM:",
                    "TPM slot enrolled: the background sync opens the store with nobody logged \
                     in, on this machine only. TPM:"
                )
            ));
        }
        TpmCommand::Remove => {
            let station = ctx.open()?;
            station.remove_slot(
                rekam::store::slots::SlotKind::Tpm,
                rekam::store::slots::TPM_SLOT,
                actor,
            )?;
            ctx.out.message(ctx.lang().pick(
                "Slot TPM dihapus dan kunci penyimpanan diganti.",
                "TPM slot removed and the store re-keyed.",
            ));
        }
    }
    Ok(Exit::Ok)
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
