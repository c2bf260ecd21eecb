//! `rekam-rekey-worker`: a station with key slots re-keying its store again and again, for the
//! re-key kill campaign (`simulators/tests/rekey.rs`, `scripts/rekey-campaign`), to be killed
//! with SIGKILL at any moment. It opens the station with SPV-01's password, then forever adds
//! an operator `TMP-<n>` (a new password slot) and disables them (their slot removed, a new
//! store key sealed into every other slot, the database copied under it and renamed into
//! place). `REKEYED <n>` is written and flushed after each re-key returned.
//!
//! With `--purge` it purges instead every recording the data center answered (no retention),
//! writing `PURGED <n>` after each, and ends (`simulators/tests/purge.rs`).

use anyhow::Context;
use clap::Parser;
use rekam::clock::SystemClock;
use rekam::station::{Station, StationPaths, Unlock};
use rekam::workflow::operators::{self, NewOperator, Role};
use rekam_bio::finger::FingerTemplate;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// Adds and disables operators, re-keying the store each time, until killed.
#[derive(Debug, Parser)]
#[command(name = "rekam-rekey-worker", version, about)]
struct Args {
    /// The station's data directory
    #[arg(long)]
    data_dir: PathBuf,
    /// SPV-01's password (a TEST password of the campaign)
    #[arg(long)]
    password: String,
    /// An operator's right index finger: an ISO/IEC 19794-2 record file
    #[arg(long, required_unless_present = "purge")]
    finger: Option<PathBuf>,
    /// Purge the answered recordings instead, then end
    #[arg(long)]
    purge: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let paths = StationPaths::new(&args.data_dir, None);
    let mut station = Station::open_with(
        paths,
        &Unlock::Password {
            operator_id: "SPV-01",
            password: &args.password,
        },
        Arc::new(SystemClock),
    )?;
    if args.purge {
        station.purge(std::time::Duration::ZERO, "campaign", |done, _| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "PURGED {done}").and_then(|()| out.flush());
        })?;
        return Ok(());
    }
    let finger_file = args.finger.context("--finger")?;
    let finger = FingerTemplate::from_record(&std::fs::read(&finger_file)?)?
        .into_iter()
        .next()
        .context("no template in the finger record")?;
    for n in 0.. {
        let id = format!("TMP-{}-{n}", std::process::id());
        operators::add(
            &mut station,
            &NewOperator {
                operator_id: id.clone(),
                name: "Petugas sementara".into(),
                role: Role::Operator,
                password: zeroize::Zeroizing::new(format!("sementara-{n}-sandi")),
                finger: finger.clone(),
            },
            None,
        )?;
        station = operators::disable(station, &id, None)?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "REKEYED {n}")?;
        out.flush()?;
    }
    Ok(())
}
