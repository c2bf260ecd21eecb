//! `rekam operator add`: an operator with password and right index finger.

use super::{parse_ports, secret_line};
use crate::Ctx;
use crate::output::Exit;
use anyhow::Context;
use rekam::Error;
use rekam::workflow::operators::{self, NewOperator, Role};
use rekam_drivers::sbi::{BiometricDevice, Finger, SbiClient};
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add an operator: password from REKAM_OPERATOR_PASSWORD or the first line of standard
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
        /// The SBI device providers' CA certificates (PEM)
        #[arg(long, env = "REKAM_SBI_TRUST")]
        sbi_trust: PathBuf,
        /// Ports to look for SBI services on, FIRST-LAST
        #[arg(long, env = "REKAM_SBI_PORTS", default_value = "4501-4600", value_parser = parse_ports)]
        sbi_ports: (u16, u16),
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "one of operator, supervisor, technician, dinas_admin".into())
}

pub fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    let Command::Add {
        id,
        name,
        role,
        sbi_trust,
        sbi_ports,
    } = command;
    let mut station = ctx.open()?;
    let password = secret_line("REKAM_OPERATOR_PASSWORD")?;
    let roots = rekam_drivers::trust::TrustRoots::from_pem_file(sbi_trust)?;
    let scanner = SbiClient::new(roots)
        .discover(sbi_ports.0..=sbi_ports.1)
        .into_iter()
        .filter_map(|(_, found)| found.ok())
        .flatten()
        .find(|d| BiometricDevice::info(d).kind == rekam_drivers::DeviceKind::Fingerprint)
        .context("no fingerprint scanner answers on the SBI ports (rekam doctor)")?;
    let (finger, _) = rekam::workflow::capture_finger(&scanner, Finger::RightIndex, "ENROL")
        .map_err(Error::from)?;
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
    Ok(Exit::Ok)
}
