//! `rekam`: the station's command line. A thin layer over the `rekam` library: parse, call,
//! print (human text in the operator's language, or `--json`), exit with a documented code.

mod output;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use output::{Exit, Out};
use rekam::clock::{Clock, SystemClock};
use rekam::domain::nik;
use rekam::domain::region::{EmbeddedRegions, RegionCode, RegionDirectory, RegionLevel};
use rekam::i18n::Lang;
use rekam::station::{InitOptions, Station, StationPaths};
use rekam::{Error, i18n::Localized};
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

#[derive(Debug, Args)]
struct Global {
    /// The station's data directory [default: the platform's data directory]
    #[arg(long, global = true, env = "REKAM_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The store key file [default: <data-dir>/keys/store.key]
    #[arg(long, global = true, env = "REKAM_KEY_FILE", value_name = "FILE")]
    key_file: Option<PathBuf>,
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
    Init {
        /// The kecamatan the station serves (e.g. 32.73.01)
        #[arg(long)]
        kecamatan: String,
        /// Station id (3-32 letters, digits, dashes) [default: <kecamatan>-<random>]
        #[arg(long)]
        station_id: Option<String>,
        /// Who sets the station up (for the audit log)
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Show the station's identity, store and counts
    Status,
    /// The day's report: time per step against the SOP, visits by case and outcome, refusals,
    /// backlog (JSON with --json)
    Report {
        /// The day, YYYY-MM-DD [default: today, station time]
        #[arg(long)]
        day: Option<String>,
        /// Also write it as a PDF
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
        /// Hours after which an unsent recording counts as stuck
        #[arg(long, default_value_t = 24)]
        stuck_hours: u64,
    },
    /// Operators of the station
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Enroll N generated residents headless through the device simulators, sync them to a
    /// local reference data center, and print what happened (runs `rekam-demo`, built with
    /// the simulators: cargo build -p rekam-sim)
    Demo {
        /// How many residents come to the counter
        #[arg(long, default_value_t = 10)]
        residents: u64,
        /// Keep the demo's station and data center in this directory
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// Check identity numbers
    Nik {
        #[command(subcommand)]
        command: NikCommand,
    },
    /// Look up regions of the master data by code or name
    Region {
        /// A region code (32.73.01) or part of a name (sukasari)
        query: String,
        /// Only this level: province, regency, kecamatan, village
        #[arg(long)]
        level: Option<RegionLevel>,
        /// At most this many results
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// The hash-chained audit log
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Register this station with the data center (once, with the Dinas' token and the data
    /// center identity file, whose keys the gateway must answer with)
    Register {
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
    },
    /// Send the recordings to the data center: one pass with --once, else until stopped
    /// (Ctrl-C is safe: every change is its own transaction)
    Sync {
        /// One pass, then exit (0 when nothing is left to send)
        #[arg(long)]
        once: bool,
        /// With --once: try every unsent record now, whatever its next attempt (after fixing
        /// what the backlog said: the clock, the registration)
        #[arg(long, requires = "once")]
        now: bool,
        /// The data center gateway [default: the address given at registration]
        #[arg(long, env = "REKAM_DC_URL")]
        gateway: Option<String>,
        /// Uploads at a time (1 or 2 on thin links)
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        /// Seconds between passes when there is nothing to send
        #[arg(long, default_value_t = 30)]
        idle: u64,
    },
    /// Every recording not yet final: state, age, attempts, last failure and the next step
    Backlog {
        /// Counts by state and by age instead of the list
        #[arg(long)]
        summary: bool,
        /// Hours after which an unsent record counts as stuck (the SOP's 24 h)
        #[arg(long, default_value_t = 24)]
        stuck_hours: u64,
    },
    /// Write the unsent packets (or --packet ones) to a removable disk for the data center;
    /// run it again after an interruption to finish
    Export {
        /// The disk's directory; the bundle goes to DIR/<station id>/
        #[arg(long)]
        to: PathBuf,
        /// Only these packets (repeat)
        #[arg(long = "packet")]
        packets: Vec<String>,
    },
    /// Check the station database: SQLite's integrity check of every page and the audit chain
    Check,
    /// Back the station up into a new directory on an external disk: the database (encrypted
    /// as it is) and its keys sealed under a passphrase from REKAM_BACKUP_PASSPHRASE or the
    /// first line of standard input (12 characters or more; keep it apart from the disk)
    Backup {
        /// The disk or folder the backup directory is made in
        #[arg(long)]
        to: PathBuf,
        /// Who backs up (for the audit log)
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Restore a backup made by `rekam backup` (passphrase as for `backup`): everything into a
    /// data directory without a station, or with --keys-only only the keys beside a database
    /// whose key file is lost (recordings made since the backup are kept)
    Restore {
        /// The backup directory (rekam-backup-<station>-<time>)
        #[arg(long)]
        from: PathBuf,
        /// Restore only the keys
        #[arg(long)]
        keys_only: bool,
        /// Who restores (for the audit log)
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Receipts from the data center
    Receipts {
        #[command(subcommand)]
        command: ReceiptsCommand,
    },
    /// The station's signing key
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// List the devices found, their status and identity, and what is wrong
    Doctor {
        /// A signature pad's serial port (repeat for several) [default: /dev/ttyACM*, /dev/ttyUSB*]
        #[arg(long = "pad", env = "REKAM_PAD", value_delimiter = ',')]
        pads: Vec<String>,
        /// The SBI device providers' CA certificates (PEM) that device signatures must chain to
        #[arg(long, env = "REKAM_SBI_TRUST")]
        sbi_trust: Option<std::path::PathBuf>,
        /// Ports to look for SBI services on, FIRST-LAST
        #[arg(long, env = "REKAM_SBI_PORTS", default_value = "4501-4600", value_parser = parse_ports)]
        sbi_ports: (u16, u16),
    },
}

#[derive(Debug, Subcommand)]
enum OperatorCommand {
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
        role: rekam::workflow::operators::Role,
        /// The SBI device providers' CA certificates (PEM)
        #[arg(long, env = "REKAM_SBI_TRUST")]
        sbi_trust: std::path::PathBuf,
        /// Ports to look for SBI services on, FIRST-LAST
        #[arg(long, env = "REKAM_SBI_PORTS", default_value = "4501-4600", value_parser = parse_ports)]
        sbi_ports: (u16, u16),
    },
}

fn parse_role(s: &str) -> Result<rekam::workflow::operators::Role, String> {
    rekam::workflow::operators::Role::parse(s)
        .ok_or_else(|| "one of operator, supervisor, technician, dinas_admin".into())
}

#[derive(Debug, Subcommand)]
enum NikCommand {
    /// Validate a NIK: structure, birth date, sex and region prefix
    Check {
        /// The 16-digit NIK (spaces and dots are ignored)
        nik: String,
    },
}

#[derive(Debug, Subcommand)]
enum ReceiptsCommand {
    /// Mark the packets of a data center's receipts file (receipts.json) as sent
    Import {
        /// The receipts file
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Replace the signing key: the data center accepts the new key on the old key's word
    Rotate {
        /// The data center gateway
        #[arg(long, env = "REKAM_DC_URL")]
        gateway: String,
        /// Who rotates (for the audit log)
        #[arg(long, default_value = "cli")]
        actor: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify every entry of the audit chain
    Verify,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REKAM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let out = Out::new(cli.global.json, cli.global.lang);
    match run(&cli, &out) {
        Ok(code) => code.into(),
        Err(err) => out.fail(&err),
    }
}

fn run(cli: &Cli, out: &Out) -> anyhow::Result<Exit> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let lang = cli.global.lang;
    match &cli.command {
        Command::Init {
            kecamatan,
            station_id,
            actor,
        } => {
            let kecamatan = RegionCode::parse(kecamatan).map_err(Error::from)?;
            let station = Station::init(
                InitOptions {
                    paths: paths(&cli.global)?,
                    station_id: station_id.clone(),
                    kecamatan,
                    actor: actor.clone(),
                },
                clock,
            )?;
            let status = station.status()?;
            out.status(&status, lang.pick("Stasiun dibuat", "Station created"));
            Ok(Exit::Ok)
        }
        Command::Report {
            day,
            pdf,
            stuck_hours,
        } => {
            let station = Station::open(paths(&cli.global)?, clock.clone())?;
            let day = day.clone().unwrap_or_else(|| clock.today().to_string());
            let report = rekam::report::daily(
                &station,
                &day,
                std::time::Duration::from_secs(stuck_hours * 3600),
            )?;
            if let Some(file) = pdf {
                std::fs::write(file, report.to_pdf(lang))
                    .with_context(|| format!("writing {}", file.display()))?;
            }
            if cli.global.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "{} {} - {}",
                    lang.pick("Laporan harian", "Daily report"),
                    report.station_id,
                    report.day
                );
                for s in &report.steps {
                    println!(
                        "  {:<24} {:>4}  median {:>7.1} s  max {:>7.1} s  SOP {}",
                        s.step,
                        s.visits,
                        s.median_seconds,
                        s.max_seconds,
                        s.standard_seconds.map_or("-".into(), |x| format!(
                            "{x:.0} s ({}/{})",
                            s.within_standard, s.visits
                        ))
                    );
                }
                for (w, o) in &report.visits {
                    println!("  {w}: {o:?}");
                }
                for (code, n) in &report.refusals {
                    println!("  {code}: {n}");
                }
                println!(
                    "  {}: {} ({} {})",
                    lang.pick("belum di DC", "not yet at the data center"),
                    report.backlog,
                    report.stuck,
                    lang.pick("mengendap", "stuck")
                );
            }
            Ok(Exit::Ok)
        }
        Command::Operator {
            command:
                OperatorCommand::Add {
                    id,
                    name,
                    role,
                    sbi_trust,
                    sbi_ports,
                },
        } => {
            let mut station = Station::open(paths(&cli.global)?, clock)?;
            let password = secret_line("REKAM_OPERATOR_PASSWORD")?;
            let roots = rekam_drivers::trust::TrustRoots::from_pem_file(sbi_trust)?;
            let scanner = rekam_drivers::sbi::SbiClient::new(roots)
                .discover(sbi_ports.0..=sbi_ports.1)
                .into_iter()
                .filter_map(|(_, found)| found.ok())
                .flatten()
                .find(|d| {
                    rekam_drivers::sbi::BiometricDevice::info(d).kind
                        == rekam_drivers::DeviceKind::Fingerprint
                })
                .context("no fingerprint scanner answers on the SBI ports (rekam doctor)")?;
            let (finger, _) = rekam::workflow::capture_finger(
                &scanner,
                rekam_drivers::sbi::Finger::RightIndex,
                "ENROL",
            )
            .map_err(Error::from)?;
            rekam::workflow::operators::add(
                &mut station,
                &rekam::workflow::operators::NewOperator {
                    operator_id: id.clone(),
                    name: name.clone(),
                    role: *role,
                    password,
                    finger,
                },
                None,
            )?;
            println!(
                "{} {id} ({})",
                lang.pick("Operator ditambahkan:", "Operator added:"),
                role.as_str()
            );
            Ok(Exit::Ok)
        }
        Command::Demo { residents, keep } => {
            let exe = std::env::current_exe()?;
            let demo = exe.with_file_name("rekam-demo");
            if !demo.exists() {
                anyhow::bail!(
                    "{} is missing: build the simulators first (cargo build -p rekam-sim)",
                    demo.display()
                );
            }
            let mut cmd = std::process::Command::new(&demo);
            cmd.args(["--residents", &residents.to_string()])
                .args(["--lang", lang.pick("id", "en")]);
            if let Some(dir) = keep {
                cmd.arg("--dir").arg(dir).arg("--keep");
            }
            let status = cmd
                .status()
                .with_context(|| format!("running {}", demo.display()))?;
            Ok(if status.success() {
                Exit::Ok
            } else {
                Exit::Internal
            })
        }
        Command::Status => {
            let station = Station::open(paths(&cli.global)?, clock)?;
            out.status(
                &station.status()?,
                lang.pick("Status stasiun", "Station status"),
            );
            Ok(Exit::Ok)
        }
        Command::Nik {
            command: NikCommand::Check { nik: input },
        } => {
            let today = clock.today();
            let station = open_if_present(&cli.global, clock)?;
            let embedded;
            let regions: &dyn RegionDirectory = match &station {
                Some(s) => s.store(),
                None => {
                    embedded = EmbeddedRegions::index().map_err(Error::from)?;
                    &embedded
                }
            };
            match nik::check(input, regions, today) {
                Ok(report) => {
                    out.nik_report(&report);
                    Ok(Exit::Ok)
                }
                Err(e) => {
                    out.nik_invalid(&e);
                    Ok(Exit::Invalid)
                }
            }
        }
        Command::Region {
            query,
            level,
            limit,
        } => {
            let station = Station::open(paths(&cli.global)?, clock)?;
            let store = station.store();
            let found = match RegionCode::parse(query) {
                Ok(code) => store.region(&code).into_iter().collect(),
                Err(_) => store.search_regions(query, *level, *limit)?,
            };
            let lines: Vec<_> = found
                .into_iter()
                .map(|r| {
                    let path = store
                        .lineage(&r.code)
                        .into_iter()
                        .flatten()
                        .map(|r| r.name)
                        .collect::<Vec<_>>();
                    (r, path)
                })
                .collect();
            out.regions(&lines);
            Ok(if lines.is_empty() {
                Exit::Invalid
            } else {
                Exit::Ok
            })
        }
        Command::Doctor {
            pads,
            sbi_trust,
            sbi_ports,
        } => {
            let sbi_trust = match sbi_trust {
                Some(path) => Some(
                    rekam_drivers::trust::TrustRoots::from_pem_file(path)
                        .with_context(|| format!("--sbi-trust {}", path.display()))?,
                ),
                None => None,
            };
            let config = rekam_drivers::survey::SurveyConfig {
                pads: if pads.is_empty() {
                    rekam_drivers::signature_pad::default_ports()
                } else {
                    pads.clone()
                },
                sbi_ports: sbi_ports.0..=sbi_ports.1,
                sbi_trust,
            };
            let found = rekam_drivers::survey::survey(&config);
            out.doctor(&found);
            Ok(
                if !found.is_empty() && found.iter().all(|f| f.problem.is_none()) {
                    Exit::Ok
                } else {
                    Exit::Invalid
                },
            )
        }
        Command::Register {
            gateway,
            dc_identity,
            token,
            actor,
        } => {
            let mut station = Station::open(paths(&cli.global)?, clock)?;
            let expected: rekam_packet::DcIdentity = serde_json::from_slice(
                &std::fs::read(dc_identity)
                    .with_context(|| format!("--dc-identity {}", dc_identity.display()))?,
            )
            .with_context(|| format!("{} is not a data center identity", dc_identity.display()))?;
            rekam::station::same_data_center(
                &expected,
                &rekam_sync::identity(gateway, Some(&expected))?,
            )?;
            let answered =
                rekam_sync::register(gateway, Some(&expected), &station.registration(token)?)?;
            station.pin_data_center(&expected, &answered, actor)?;
            station.store_mut().set_dc_url(gateway)?;
            out.message(&format!(
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
        Command::Sync {
            once,
            now,
            gateway,
            concurrency,
            idle,
        } => {
            let mut station = Station::open(paths(&cli.global)?, clock)?;
            let url = match gateway {
                Some(u) => u.clone(),
                None => station.store().dc_url()?.ok_or(Error::NotRegistered)?,
            };
            let cfg = rekam::sync::SyncConfig {
                concurrency: *concurrency,
                retry_now: *now,
                ..rekam::sync::SyncConfig::new(url)
            };
            if *once {
                let report = rekam::sync::sync_once(&mut station, &cfg)?;
                out.sync_pass(&report);
                return Ok(if report.link_up && report.remaining == 0 {
                    Exit::Ok
                } else if report.link_up {
                    Exit::Invalid
                } else {
                    Exit::DataCenter
                });
            }
            let stop = std::sync::atomic::AtomicBool::new(false);
            rekam::sync::run(
                &mut station,
                &cfg,
                std::time::Duration::from_secs(*idle),
                &stop,
                |r| {
                    if r.sent + r.failed + r.results > 0 || !r.link_up {
                        out.sync_pass(r);
                    }
                },
            )?;
            Ok(Exit::Ok)
        }
        Command::Backlog {
            summary,
            stuck_hours,
        } => {
            let station = Station::open(paths(&cli.global)?, clock)?;
            let lines = rekam::sync::backlog(
                &station,
                std::time::Duration::from_secs(stuck_hours * 3600),
                lang,
            )?;
            if *summary {
                out.backlog_summary(&rekam::sync::summary(&station, &lines)?);
            } else {
                out.backlog(&lines);
            }
            Ok(Exit::Ok)
        }
        Command::Export { to, packets } => {
            let mut station = Station::open(paths(&cli.global)?, clock)?;
            let quiet = cli.global.json;
            let report = rekam::export::export(&mut station, to, packets, |done, total, bytes| {
                if !quiet {
                    eprint!(
                        "\r{} {done}/{total} ({:.1} MB)",
                        lang.pick("Ekspor", "Export"),
                        bytes as f64 / 1e6
                    );
                }
            })?;
            if !quiet && report.packets > 0 {
                eprintln!();
            }
            out.export(&report);
            Ok(Exit::Ok)
        }
        Command::Check => {
            let station = Station::open(paths(&cli.global)?, clock)?;
            let report = rekam::backup::check(&station)?;
            out.audit(&report);
            Ok(Exit::Ok)
        }
        Command::Backup { to, actor } => {
            let mut station = Station::open(paths(&cli.global)?, clock)?;
            let passphrase = secret_line("REKAM_BACKUP_PASSPHRASE")?;
            let made = rekam::backup::backup(&mut station, to, &passphrase, actor)?;
            out.backup(&made);
            Ok(Exit::Ok)
        }
        Command::Restore {
            from,
            keys_only,
            actor,
        } => {
            let passphrase = secret_line("REKAM_BACKUP_PASSPHRASE")?;
            let what = if *keys_only {
                rekam::backup::Restore::KeysOnly
            } else {
                rekam::backup::Restore::Everything
            };
            let restored = rekam::backup::restore(
                from,
                &paths(&cli.global)?,
                &passphrase,
                what,
                actor,
                clock,
            )?;
            out.restored(&restored);
            Ok(Exit::Ok)
        }
        Command::Receipts {
            command: ReceiptsCommand::Import { file },
        } => {
            let mut station = Station::open(paths(&cli.global)?, clock)?;
            let report = rekam::export::import_receipts(&mut station, file)?;
            out.receipts(&report);
            Ok(if report.invalid.is_empty() {
                Exit::Ok
            } else {
                Exit::Invalid
            })
        }
        Command::Keys {
            command: KeysCommand::Rotate { gateway, actor },
        } => {
            let mut station = Station::open(paths(&cli.global)?, clock)?;
            let rotation = station.begin_key_rotation()?;
            let cfg = rekam::sync::SyncConfig::new(gateway.clone());
            let client = rekam::sync::client(&station, &cfg)?;
            client.rotate(&rotation)?;
            station.finish_key_rotation(actor)?;
            out.message(&format!(
                "{} {}",
                lang.pick("Kunci stasiun diganti:", "Station key rotated:"),
                station.signing_key()?.id()
            ));
            Ok(Exit::Ok)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let station = Station::open(paths(&cli.global)?, clock)?;
            let report = station.verify_audit()?;
            out.audit(&report);
            Ok(if report.is_intact() {
                Exit::Ok
            } else {
                Exit::Invalid
            })
        }
    }
}

/// A secret from the environment variable `var`, else the first line of standard input;
/// wiped from memory when dropped.
fn secret_line(var: &str) -> std::io::Result<zeroize::Zeroizing<String>> {
    if let Ok(v) = std::env::var(var) {
        return Ok(zeroize::Zeroizing::new(v));
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin().read_line(&mut line)?;
    let end = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(end);
    Ok(line)
}

fn parse_ports(text: &str) -> Result<(u16, u16), String> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
        (Ok(a), Ok(b)) if a <= b => Ok((a, b)),
        _ => Err(format!("{text:?} is not FIRST-LAST, for example 4501-4600")),
    }
}

fn paths(g: &Global) -> anyhow::Result<StationPaths> {
    let data_dir = match &g.data_dir {
        Some(d) => d.clone(),
        None => StationPaths::default_data_dir()
            .context("no data directory for this user: pass --data-dir")?,
    };
    Ok(StationPaths::new(data_dir, g.key_file.clone()))
}

fn open_if_present(g: &Global, clock: Arc<dyn Clock>) -> anyhow::Result<Option<Station>> {
    let paths = paths(g)?;
    if !paths.db().exists() {
        return Ok(None);
    }
    Ok(Some(Station::open(paths, clock)?))
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
                | Error::BackupDamaged { .. } => Exit::Invalid,
                Error::NotInitialised(_)
                | Error::AlreadyInitialised(_)
                | Error::WrongKey(_)
                | Error::KeyFile { .. }
                | Error::NewerSchema { .. }
                | Error::NoEncryption
                | Error::NotRegistered
                | Error::DataCenterMismatch { .. }
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
