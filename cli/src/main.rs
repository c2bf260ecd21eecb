//! `rekam`: the station's command line. A thin layer over the `rekam` library: parse, call,
//! print (human text in the operator's language, or `--json`), exit with a documented code.
//! One module per subcommand under `cmd/`; each honours every flag it accepts or refuses it.

mod cmd;
mod output;

use anyhow::Context;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use output::{Exit, Out};
use rekam::Error;
use rekam::clock::{Clock, SystemClock};
use rekam::i18n::{Lang, Localized};
use rekam::station::{Station, StationPaths, Unlock};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Rekam: offline-first e-KTP enrollment station.
#[derive(Debug, Parser)]
#[command(name = "rekam", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// The flags every subcommand takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The station's data directory [default: the platform's data directory]
    #[arg(long, global = true, env = "REKAM_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The store key file of a station without key slots [default: <data-dir>/keys/store.key]
    #[arg(long, global = true, env = "REKAM_KEY_FILE", value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// On a station with key slots: the operator whose password opens the store (the password
    /// from REKAM_PASSWORD or the first line of standard input)
    #[arg(long, global = true, env = "REKAM_OPERATOR", value_name = "ID")]
    operator: Option<String>,
    /// Machine-readable output
    #[arg(long, global = true)]
    json: bool,
    /// Language of messages: id (Bahasa Indonesia) or en
    #[arg(long, global = true, env = "REKAM_LANG", default_value = "id")]
    lang: Lang,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Set up a new station: data directory, key, encrypted database, region master data
    Init(cmd::init::Args),
    /// Show the station's identity, store and counts
    Status,
    /// The day's report: time per step against the SOP, visits by case and outcome, refusals,
    /// backlog (JSON with --json)
    Report(cmd::report::Args),
    /// Operators of the station
    Operator {
        #[command(subcommand)]
        command: cmd::operator::Command,
    },
    /// Enroll N generated residents headless through the device simulators, sync them to a
    /// local reference data center, and print what happened (runs `rekam-demo`, built with
    /// the simulators: cargo build -p rekam-sim)
    #[cfg(feature = "demo")]
    Demo(cmd::demo::Args),
    /// Check identity numbers
    Nik {
        #[command(subcommand)]
        command: cmd::nik::Command,
    },
    /// Look up regions of the master data by code or name
    Region(cmd::region::Args),
    /// The hash-chained audit log
    Audit {
        #[command(subcommand)]
        command: cmd::audit::Command,
    },
    /// Register this station with the data center (once, with the Dinas' token and the data
    /// center identity file, whose keys the gateway must answer with)
    Register(cmd::register::Args),
    /// Send the recordings to the data center: one pass with --once, else until stopped
    /// (Ctrl-C is safe: every change is its own transaction)
    Sync(cmd::sync::Args),
    /// Every recording not yet final, and every duplicate not yet clarified: state, age,
    /// attempts, last failure and the next step
    Backlog(cmd::backlog::Args),
    /// Record how a duplicate the data center found was clarified with the resident (a
    /// supervisor's step; the record then leaves the backlog)
    Clarify(cmd::clarify::Args),
    /// The reissue requests taken at this station (lost, damaged, data change, moving in) and
    /// where each stands with the data center
    Reissues,
    /// Write the unsent packets (or --packet ones) to a removable disk for the data center;
    /// run it again after an interruption to finish
    Export(cmd::export::Args),
    /// Check the station database: SQLite's integrity check of every page and the audit chain
    Check,
    /// Back the station up into a new directory on an external disk: the database (encrypted
    /// as it is) and its keys sealed under a passphrase from REKAM_BACKUP_PASSPHRASE or the
    /// first line of standard input (12 characters or more; keep it apart from the disk)
    Backup(cmd::backup::Args),
    /// Restore a backup made by `rekam backup` (passphrase as for `backup`): everything into a
    /// data directory without a station, or with --keys-only only the keys beside a database
    /// whose key file is lost (recordings made since the backup are kept)
    Restore(cmd::restore::Args),
    /// Before go-live: what the finger threshold does on the Dinas's own captures of its
    /// volunteers (exit 0 only when it may go live)
    Calibrate(cmd::calibrate::Args),
    /// The Dinas's population extract: biodata by NIK with no network
    Population {
        #[command(subcommand)]
        command: cmd::population::Command,
    },
    /// The kecamatan server: register with it, one pass with it, the conflicts it found
    Hub {
        #[command(subcommand)]
        command: cmd::hub::Command,
    },
    /// Receipts from the data center
    Receipts {
        #[command(subcommand)]
        command: cmd::receipts::Command,
    },
    /// Purge the recordings the data center answered for good more than --days ago (30): their
    /// sealed packet and biometric rows; the journal keeps the rest
    Purge(cmd::purge::Args),
    /// On the Dinas's machine, with the Dinas's recovery key: a new password for an operator
    /// of a station nobody can open any more
    Recover(cmd::recover::Args),
    /// The station's keys: its signing key, its key slots, the Dinas's recovery key
    Keys {
        #[command(subcommand)]
        command: cmd::keys::Command,
    },
    /// The card secrets (SAM master, document signer) in a PKCS#11 token
    CardToken {
        #[command(subcommand)]
        command: cmd::card_token::Command,
    },
    /// List the devices found, their status and identity, and what is wrong
    Doctor(cmd::doctor::Args),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REKAM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    #[cfg(feature = "demo")]
    if let Some(("demo", sub)) = matches.subcommand() {
        let source = |id| sub.value_source(id).or(matches.value_source(id));
        if let Some(why) = cmd::demo::refusal(source("data_dir"), source("key_file")) {
            Cli::command()
                .error(clap::error::ErrorKind::ArgumentConflict, why)
                .exit();
        }
    }
    let out = Out::new(cli.global.json, cli.global.lang);
    let ctx = Ctx {
        global: &cli.global,
        out: &out,
        clock: Arc::new(SystemClock),
    };
    match run(&cli.command, &ctx) {
        Ok(code) => code.into(),
        Err(err) => out.fail(&err),
    }
}

fn run(command: &Command, ctx: &Ctx) -> anyhow::Result<Exit> {
    use cmd::*;
    match command {
        Command::Init(args) => init::run(args, ctx),
        Command::Status => status::run(ctx),
        Command::Report(args) => report::run(args, ctx),
        Command::Operator { command } => operator::run(command, ctx),
        #[cfg(feature = "demo")]
        Command::Demo(args) => demo::run(args, ctx),
        Command::Nik { command } => nik::run(command, ctx),
        Command::Region(args) => region::run(args, ctx),
        Command::Audit { command } => audit::run(command, ctx),
        Command::Register(args) => register::run(args, ctx),
        Command::Sync(args) => sync::run(args, ctx),
        Command::Backlog(args) => backlog::run(args, ctx),
        Command::Clarify(args) => clarify::run(args, ctx),
        Command::Reissues => cmd::reissues::run(ctx),
        Command::Export(args) => export::run(args, ctx),
        Command::Check => check::run(ctx),
        Command::Backup(args) => backup::run(args, ctx),
        Command::Restore(args) => restore::run(args, ctx),
        Command::Population { command } => population::run(command, ctx),
        Command::Calibrate(args) => calibrate::run(args, ctx),
        Command::Receipts { command } => receipts::run(command, ctx),
        Command::Hub { command } => hub::run(command, ctx),
        Command::Keys { command } => keys::run(command, ctx),
        Command::Recover(args) => recover::run(args, ctx),
        Command::Purge(args) => purge::run(args, ctx),
        Command::CardToken { command } => card_token::run(command, ctx),
        Command::Doctor(args) => doctor::run(args, ctx),
    }
}

/// What every subcommand runs with: the global flags, the output and the clock.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub global: &'a Global,
    pub out: &'a Out,
    pub clock: Arc<dyn Clock>,
}

impl Ctx<'_> {
    /// The operator's language (`--lang`).
    pub fn lang(&self) -> Lang {
        self.global.lang
    }

    /// The station's paths from `--data-dir` and `--key-file`.
    pub fn paths(&self) -> anyhow::Result<StationPaths> {
        let data_dir = match &self.global.data_dir {
            Some(d) => d.clone(),
            None => StationPaths::default_data_dir()
                .context("no data directory for this user: pass --data-dir")?,
        };
        Ok(StationPaths::new(data_dir, self.global.key_file.clone()))
    }

    /// Opens the station: with its key file, or on a station with key slots with
    /// `--operator`'s password.
    pub fn open(&self) -> anyhow::Result<Station> {
        let paths = self.paths()?;
        if !Station::is_sealed(&paths.data_dir) {
            return Ok(Station::open(paths, self.clock.clone())?);
        }
        let Some(operator_id) = self.global.operator.as_deref() else {
            return Err(Error::Locked(paths.data_dir).into());
        };
        let password = cmd::secret_line("REKAM_PASSWORD")?;
        Ok(Station::open_with(
            paths,
            &Unlock::Password {
                operator_id,
                password: &password,
            },
            self.clock.clone(),
        )?)
    }

    /// Opens the station for work nobody attends (the background sync): as [`Ctx::open`], but
    /// with no `--operator` on a station with a TPM slot, through this machine's TPM
    /// (`REKAM_TPM_TCTI`, or the one the slot was enrolled with).
    pub fn open_unattended(&self) -> anyhow::Result<Station> {
        if self.global.operator.is_some() {
            return self.open();
        }
        let paths = self.paths()?;
        let data_dir = paths.data_dir.clone();
        let tcti = std::env::var("REKAM_TPM_TCTI").ok();
        Station::open_unattended(paths, tcti.as_deref(), self.clock.clone())?
            .ok_or_else(|| Error::Locked(data_dir).into())
    }

    /// Opens the station if there is one.
    pub fn open_if_present(&self) -> anyhow::Result<Option<Station>> {
        if !self.paths()?.db().exists() {
            return Ok(None);
        }
        self.open().map(Some)
    }
}

/// A localized, coded message for anything that stops a command.
fn describe(err: &anyhow::Error, lang: Lang) -> (&'static str, String, Exit) {
    match err.downcast_ref::<Error>() {
        Some(e) => {
            let exit = match e {
                Error::Nik(_)
                | Error::Kk(_)
                | Error::Region(_)
                | Error::Biodata(_)
                | Error::InvalidStationId(_)
                | Error::StationRegionLevel(_)
                | Error::AlreadyRecorded { .. }
                | Error::WeakPassword(_)
                | Error::BackupPassphrase(_)
                | Error::BackupDamaged { .. }
                | Error::Extract(_)
                | Error::TestPopulationSigner
                | Error::PopulationSignerInvalid
                | Error::CalibrationName { .. }
                | Error::CalibrationImage { .. }
                | Error::CalibrationEmpty(_)
                | Error::NotToClarify { .. }
                | Error::ClarificationNoteMissing => Exit::Invalid,
                Error::NotInitialised(_)
                | Error::AlreadyInitialised(_)
                | Error::WrongKey(_)
                | Error::KeyFile { .. }
                | Error::KeySlots { .. }
                | Error::Locked(_)
                | Error::TpmUnavailable { .. }
                | Error::TpmRefused { .. }
                | Error::NewerSchema { .. }
                | Error::NoEncryption
                | Error::NotRegistered
                | Error::DataCenterMismatch { .. }
                | Error::PopulationSignerPinned { .. }
                | Error::DatabaseDamaged { .. } => Exit::Station,
                _ => Exit::Internal,
            };
            (e.code(), e.localized(lang), exit)
        }
        None => match err.downcast_ref::<rekam_sync::SyncError>() {
            Some(e) => {
                let message = match (lang, e) {
                    (Lang::En, _) => e.to_string(),
                    (_, rekam_sync::SyncError::Transport { detail, .. }) => format!(
                        "DC tidak dapat dihubungi ({detail}): periksa kabel jaringan dan alamat DC"
                    ),
                    (_, rekam_sync::SyncError::Refused { code, message, .. }) => {
                        format!("DC menolak ({code}): {message}")
                    }
                    (_, other) => format!("Jawaban DC tidak sah ({other}): hubungi teknisi"),
                };
                // A refusal's code is the gateway's; the CLI reports its own stable name.
                ("DATA_CENTER", message, Exit::DataCenter)
            }
            None => ("INTERNAL", format!("{err:#}"), Exit::Internal),
        },
    }
}
