//! `rekam init`: a new station. With `--operator`, its store key lives in key slots from the
//! start (the first operator's password, and the Dinas's recovery key when given): nothing
//! beside the database opens it. Without, the key is a file (`--key-file`, by default in the
//! data directory): for tests, and for a key kept on removable media.

use super::operator::{Scanner, parse_role};
use super::secret_line;
use crate::Ctx;
use crate::output::Exit;
use rekam::Error;
use rekam::domain::region::RegionCode;
use rekam::station::{FirstSlot, InitOptions, Station};
use rekam::store::slots::recovery_public;
use rekam::workflow::operators::{self, NewOperator, Role};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The kecamatan the station serves (e.g. 32.73.01)
    #[arg(long)]
    kecamatan: String,
    /// Station id (3-32 letters, digits, dashes) [default: <kecamatan>-<random>]
    #[arg(long)]
    station_id: Option<String>,
    /// Who sets the station up (for the audit log)
    #[arg(long, default_value = "cli")]
    actor: String,
    /// The first operator (a supervisor or the Dinas's administrator): the store key is sealed
    /// in key slots, the first under this operator's password (REKAM_OPERATOR_PASSWORD or the
    /// first line of standard input), whose right index finger the scanner takes
    #[arg(long, requires_all = ["name", "role"])]
    operator: Option<String>,
    /// The first operator's full name
    #[arg(long)]
    name: Option<String>,
    /// The first operator's role: supervisor or dinas_admin
    #[arg(long, value_parser = parse_role)]
    role: Option<Role>,
    /// The Dinas's recovery public key (64 hex digits, from `rekam keys recovery-key` on the
    /// Dinas's machine): a slot only the Dinas's private key opens
    #[arg(long, requires = "operator")]
    recovery_key: Option<String>,
    /// The SBI device providers' CA certificates (PEM), for the first operator's finger
    #[arg(long, env = "REKAM_SBI_TRUST")]
    sbi_trust: Option<std::path::PathBuf>,
    /// Ports to look for SBI services on, FIRST-LAST
    #[arg(long, env = "REKAM_SBI_PORTS", default_value = "4501-4600", value_parser = super::parse_ports)]
    sbi_ports: (u16, u16),
}

pub fn run(args: &Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let kecamatan = RegionCode::parse(&args.kecamatan).map_err(Error::from)?;
    let opts = InitOptions {
        paths: ctx.paths()?,
        station_id: args.station_id.clone(),
        kecamatan,
        actor: args.actor.clone(),
    };
    let station = match (&args.operator, &args.name, args.role) {
        (Some(id), Some(name), Some(role)) => {
            let recovery = args
                .recovery_key
                .as_deref()
                .map(recovery_public)
                .transpose()?;
            let scanner = Scanner {
                sbi_trust: args.sbi_trust.clone().ok_or_else(|| {
                    anyhow::anyhow!(
                        "the first operator's finger: give --sbi-trust (REKAM_SBI_TRUST)"
                    )
                })?,
                sbi_ports: args.sbi_ports,
            };
            let password = secret_line("REKAM_OPERATOR_PASSWORD")?;
            if password.chars().count() < operators::MIN_PASSWORD {
                return Err(Error::WeakPassword(operators::MIN_PASSWORD).into());
            }
            // The finger first: a station is not made for an operator who cannot log in.
            let finger = scanner.right_index()?;
            let mut station = Station::init_sealed(
                opts,
                &FirstSlot {
                    operator_id: id,
                    password: &password,
                    recovery,
                },
                ctx.clock.clone(),
            )?;
            operators::add(
                &mut station,
                &NewOperator {
                    operator_id: id.clone(),
                    name: name.clone(),
                    role,
                    password,
                    finger,
                },
                None,
            )?;
            station
        }
        _ => Station::init(opts, ctx.clock.clone())?,
    };
    let status = station.status()?;
    ctx.out.status(
        &status,
        ctx.lang().pick("Stasiun dibuat", "Station created"),
    );
    Ok(Exit::Ok)
}
