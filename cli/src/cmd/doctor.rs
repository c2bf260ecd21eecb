//! `rekam doctor`: the devices found, their status and identity, and what is wrong.

use super::parse_ports;
use crate::Ctx;
use crate::output::Exit;
use anyhow::Context;
use rekam_drivers::survey::{SurveyConfig, survey};
use rekam_drivers::trust::TrustRoots;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A signature pad's serial port (repeat for several) [default: /dev/ttyACM*, /dev/ttyUSB*]
    #[arg(long = "pad", env = "REKAM_PAD", value_delimiter = ',')]
    pads: Vec<String>,
    /// The SBI device providers' CA certificates (PEM) that device signatures must chain to
    #[arg(long, env = "REKAM_SBI_TRUST")]
    sbi_trust: Option<PathBuf>,
    /// Ports to look for SBI services on, FIRST-LAST
    #[arg(long, env = "REKAM_SBI_PORTS", default_value = "4501-4600", value_parser = parse_ports)]
    sbi_ports: (u16, u16),
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let sbi_trust = match &args.sbi_trust {
        Some(path) => Some(
            TrustRoots::from_pem_file(path)
                .with_context(|| format!("--sbi-trust {}", path.display()))?,
        ),
        None => None,
    };
    let config = SurveyConfig {
        pads: if args.pads.is_empty() {
            rekam_drivers::signature_pad::default_ports()
        } else {
            args.pads.clone()
        },
        sbi_ports: args.sbi_ports.0..=args.sbi_ports.1,
        sbi_trust,
    };
    let found = survey(&config);
    ctx.out.doctor(&found);
    Ok(
        if !found.is_empty() && found.iter().all(|f| f.problem.is_none()) {
            Exit::Ok
        } else {
            Exit::Invalid
        },
    )
}
