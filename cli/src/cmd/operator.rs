//! `rekam operator`: add an operator (password and right index finger), give one a new
//! password, unlock one locked out by failed logins, disable one (on a station with key
//! slots: their slot removed, the store re-keyed).

use super::{parse_ports, secret_line};
use crate::Ctx;
use crate::output::Exit;
use anyhow::Context;
use rekam::Error;
use rekam::workflow::operators::{self, NewOperator, Role};
use rekam_drivers::sbi::{BiometricDevice, Finger, SbiClient};
use std::path::PathBuf;

/// Where the fingerprint scanner is.
#[derive(Debug, Clone, clap::Args)]
pub struct Scanner {
    /// The SBI device providers' CA certificates (PEM)
    #[arg(long, env = "REKAM_SBI_TRUST")]
    pub(crate) sbi_trust: PathBuf,
    /// Ports to look for SBI services on, FIRST-LAST
    #[arg(long, env = "REKAM_SBI_PORTS", default_value = "4501-4600", value_parser = parse_ports)]
    pub(crate) sbi_ports: (u16, u16),
}

impl Scanner {
    /// The right index finger of whoever is at the scanner.
    pub fn right_index(&self) -> anyhow::Result<rekam::workflow::operators::FingerTemplate> {
        let roots = rekam_drivers::trust::TrustRoots::from_pem_file(&self.sbi_trust)?;
        let scanner = SbiClient::new(roots)
            .discover(self.sbi_ports.0..=self.sbi_ports.1)
            .into_iter()
            .filter_map(|(_, found)| found.ok())
            .flatten()
            .find(|d| BiometricDevice::info(d).kind == rekam_drivers::DeviceKind::Fingerprint)
            .context("no fingerprint scanner answers on the SBI ports (rekam doctor)")?;
        let (finger, _) = rekam::workflow::capture_finger(&scanner, Finger::RightIndex, "ENROL")
            .map_err(Error::from)?;
        Ok(finger)
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add an operator: password from REKAM_OPERATOR_PASSWORD or the next line of standard
    /// input, right index finger from the fingerprint scanner (SBI)
    Add {
        /// Login id (3-32 letters, digits, dashes)
        #[arg(long)]
        id: String,
        /// Full name
        #[arg(long)]
        name: String,
        /// operator, supervisor, technician or dinas_admin
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[command(flatten)]
        scanner: Scanner,
    },
    /// Give an operator a new password (from REKAM_OPERATOR_PASSWORD or the next line of
    /// standard input), in their key slot and their login alike
    Password {
        /// Login id
        #[arg(long)]
        id: String,
    },
    /// Unlock an operator locked out after five failed logins (run as a supervisor)
    Unlock {
        /// Login id
        #[arg(long)]
        id: String,
    },
    /// Disable an operator: no more logins; on a station with key slots their slot is removed
    /// and the store re-keyed, so their password opens nothing (close the app first)
    Disable {
        /// Login id
        #[arg(long)]
        id: String,
    },
}

pub(crate) fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "one of operator, supervisor, technician, dinas_admin".into())
}

pub fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    match command {
        Command::Add {
            id,
            name,
            role,
            scanner,
        } => {
            let mut station = ctx.open()?;
            let password = secret_line("REKAM_OPERATOR_PASSWORD")?;
            let finger = scanner.right_index()?;
            operators::add(
                &mut station,
                &NewOperator {
                    operator_id: id.clone(),
                    name: name.clone(),
                    role: *role,
                    password,
                    finger,
                },
                None,
            )?;
            // `--json` too: one document on stdout, like every other command.
            ctx.out.message(&format!(
                "{} {id} ({})",
                ctx.lang().pick("Operator ditambahkan:", "Operator added:"),
                role.as_str()
            ));
        }
        Command::Password { id } => {
            let mut station = ctx.open()?;
            let password = secret_line("REKAM_OPERATOR_PASSWORD")?;
            operators::reset_password(&mut station, id, &password, None)?;
            ctx.out.message(&format!(
                "{} {id}",
                ctx.lang().pick("Kata sandi baru untuk", "New password for")
            ));
        }
        Command::Unlock { id } => {
            let mut station = ctx.open()?;
            operators::unlock_operator(&mut station, id, None)?;
            ctx.out.message(&format!(
                "{} {id}",
                ctx.lang().pick("Akun dibuka kembali:", "Unlocked:")
            ));
        }
        Command::Disable { id } => {
            let station = ctx.open()?;
            let sealed = station.is_sealed_station();
            drop(operators::disable(station, id, None)?);
            let said = if sealed {
                ctx.lang().pick(
                    "dinonaktifkan; slot kuncinya dihapus dan penyimpanan dikunci ulang",
                    "disabled; their key slot removed and the store re-keyed",
                )
            } else {
                ctx.lang().pick("dinonaktifkan", "disabled")
            };
            let said = format!("Operator {id} {said}");
            ctx.out.message(&said);
        }
    }
    Ok(Exit::Ok)
}
