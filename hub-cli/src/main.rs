//! `rekam-hub`: the kecamatan server. Every command takes `--database URL` (or
//! `REKAM_HUB_DATABASE`): the kecamatan's PostgreSQL database; without it, the embedded
//! SQLCipher store in the data directory.
//!
//! ```text
//! rekam-hub init --data DIR --kecamatan 327301 [--hub-id NAME] [--tls-name HOST]...
//!                                               store key, certificate, hub-identity.json
//! rekam-hub token --data DIR --station ID       a one-time registration token for a counter
//! rekam-hub serve --data DIR [--listen ADDR]    the counters' API (prints "listening on URL")
//! rekam-hub stations --data DIR [--json]        the counters registered and their recordings
//! rekam-hub backlog --data DIR [--json]         every record of the kecamatan not yet final
//! rekam-hub report --data DIR [--day D] [--json] the kecamatan's day against the SOP
//! rekam-hub join-dc --data DIR --url URL --dc-identity FILE --token T
//!                                               relay packets to the data center, snoop
//! rekam-hub population key|trust KEY|import FILE|status --data DIR
//!                                               the Dinas's extracts for the counters
//! ```

use anyhow::Context;
use clap::{Parser, Subcommand};
use rekam_domain::clock::SystemClock;
use rekam_hub::{Config, Database, Hub};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "rekam-hub",
    version,
    about = "The kecamatan server of Rekam counters"
)]
struct Cli {
    /// The kecamatan's PostgreSQL database (a libpq connection string or a postgresql:// URL);
    /// without it, the embedded SQLCipher store in the data directory
    #[arg(
        long,
        global = true,
        env = "REKAM_HUB_DATABASE",
        hide_env_values = true
    )]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sets up a data directory: database key, TLS certificate, public identity.
    Init {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The kecamatan served (six digits, as 327301).
        #[arg(long)]
        kecamatan: String,
        /// The hub's name, in the identity counters pin.
        #[arg(long)]
        hub_id: Option<String>,
        /// Host names and addresses the TLS certificate is for (repeat)
        #[arg(long = "tls-name", default_values_t = ["localhost".to_owned(), "127.0.0.1".to_owned()])]
        tls_names: Vec<String>,
    },
    /// Issues a one-time registration token for a counter.
    Token {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The counter's station id.
        #[arg(long)]
        station: String,
    },
    /// Serves the counters' API.
    Serve {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8490")]
        listen: String,
        /// Serve plain HTTP instead of HTTPS (refused on any address but loopback)
        #[arg(long)]
        plain_http: bool,
        /// Minutes a clear check holds a person for its counter.
        #[arg(long, default_value_t = 30)]
        claim_minutes: u64,
    },
    /// Every record of every counter not yet final, with its state, age, code and next step,
    /// and the packets held for the data center.
    Backlog {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The Dinas's population extracts the hub hands its counters.
    Population {
        #[command(subcommand)]
        command: PopulationCommand,
    },
    /// The kecamatan's daily report: every counter's visits pooled against the SOP's service
    /// standards, the counters silent that day, and the kecamatan's backlog.
    Report {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The day, YYYY-MM-DD (today when left out).
        #[arg(long)]
        day: Option<String>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Joins the data center with a token from `rekam-gateway token --hub --station <hub id>`:
    /// from then on the hub forwards the packets counters leave with it and sends its snoop.
    JoinDc {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The data center's address.
        #[arg(long)]
        url: String,
        /// The data center's identity file (dc-identity.json).
        #[arg(long)]
        dc_identity: PathBuf,
        /// The one-time token.
        #[arg(long)]
        token: String,
    },
    /// Lists the counters registered and their recordings at the hub.
    Stations {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PopulationCommand {
    /// Prints the key the Dinas seals the kecamatan's extracts to (`rekam population seal
    /// --to KEY` at the Dinas), and its id.
    Key {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
    },
    /// Pins the Dinas's extract key (hex): only extracts it signed are taken.
    Trust {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The Dinas's public key, 64 hex digits.
        key: String,
    },
    /// Imports an extract (the base, or the next delta) the Dinas sealed to this hub; the
    /// counters take it at their next pass.
    Import {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The sealed extract file.
        file: PathBuf,
    },
    /// The extracts held: the base and its deltas.
    Status {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REKAM_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let clock = Arc::new(SystemClock);
    let cli = Cli::parse();
    let database = cli.database;
    // The data directory holds the keys and the identity; the data live where --database says.
    let config = |data: PathBuf| Config {
        database: database
            .clone()
            .map_or(Database::Embedded, Database::Postgres),
        ..Config::new(data)
    };
    match cli.command {
        Command::Init {
            data,
            kecamatan,
            hub_id,
            tls_names,
        } => {
            let hub_id = hub_id.unwrap_or_else(|| format!("HUB-{kecamatan}"));
            let id = rekam_hub::init(&data, &hub_id, &kecamatan, &tls_names)?;
            println!(
                "kecamatan server {} for kecamatan {} ready in {}\ngive counters {}",
                id.hub_id,
                id.kecamatan,
                data.display(),
                rekam_hub::paths::identity(&data).display()
            );
        }
        Command::Token { data, station } => {
            let hub = Hub::open(config(data), clock)?;
            println!("{}", hub.issue_token(&station)?);
        }
        Command::Serve {
            data,
            listen,
            plain_http,
            claim_minutes,
        } => {
            let cfg = Config {
                tls: !plain_http,
                claim_lifetime: Duration::from_secs(claim_minutes * 60),
                ..config(data)
            };
            let hub = Hub::open(cfg, clock)?;
            // One server per database: refused before it listens.
            hub.store().serve_exclusively()?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                println!(
                    "listening on {}://{}",
                    if plain_http { "http" } else { "https" },
                    listener.local_addr()?
                );
                hub.serve(listener).await.context("serving")
            })?;
        }
        Command::Backlog { data, json } => {
            let hub = Hub::open(config(data), clock)?;
            let records = hub.backlog()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&records)?);
            } else if records.is_empty() {
                println!("Tidak ada rekaman yang menunggu");
            }
            if !json {
                for r in records {
                    println!(
                        "{}  {}  {}  {} jam{}{}: {}",
                        r.station_id,
                        r.packet_id,
                        r.state,
                        r.age_seconds / 3600,
                        if r.stuck { ", MENGENDAP" } else { "" },
                        r.code.map_or(String::new(), |c| format!(" [{c}]")),
                        r.next_step
                    );
                }
            }
        }
        Command::Population { command } => population(command, &config, clock)?,
        Command::Report { data, day, json } => {
            let hub = Hub::open(config(data), clock.clone())?;
            let day = day
                .unwrap_or_else(|| rekam_domain::clock::Clock::today(clock.as_ref()).to_string());
            let r = hub.kecamatan_day(&day)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_day(&r);
            }
        }
        Command::JoinDc {
            data,
            url,
            dc_identity,
            token,
        } => {
            let identity = serde_json::from_slice(
                &std::fs::read(&dc_identity)
                    .with_context(|| format!("--dc-identity {}", dc_identity.display()))?,
            )
            .with_context(|| format!("{} is not a data center identity", dc_identity.display()))?;
            let hub = Hub::open(config(data), clock)?;
            hub.join_data_center(&url, &identity, &token)?;
            println!(
                "joined the data center at {url}: held packets are forwarded by `rekam-hub serve`"
            );
        }
        Command::Stations { data, json } => {
            let hub = Hub::open(config(data), clock)?;
            let rows = hub.store().stations()?;
            if json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "station_id": s.station_id,
                            "registered_at": s.registered_at,
                            "enrolled": s.enrolled,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for s in rows {
                    println!("{}\t{} recording(s)", s.station_id, s.enrolled);
                }
            }
        }
    }
    Ok(())
}

/// The kecamatan's day as the camat's office reads it (Bahasa Indonesia).
fn print_day(r: &rekam_hub::report::KecamatanDay) {
    let minutes = |s: f64| format!("{:.1} mnt", s / 60.0);
    println!("Laporan harian kecamatan {} tanggal {}", r.kecamatan, r.day);
    let visits: usize = r.counters.values().sum();
    println!("Loket melapor: {}, kunjungan: {visits}", r.counters.len());
    for (counter, n) in &r.counters {
        println!("  {counter}: {n} kunjungan");
    }
    if !r.silent.is_empty() {
        println!("Loket tanpa laporan hari itu: {}", r.silent.join(", "));
    }
    println!("Waktu per langkah terhadap standar SOP:");
    for s in &r.steps {
        println!(
            "  {:<22} {:>4} kunjungan  median {:>9}  maks {:>9}  standar {:>9}  sesuai {}/{}",
            s.step,
            s.visits,
            minutes(s.median_seconds),
            minutes(s.max_seconds),
            s.standard_seconds.map_or("-".to_owned(), minutes),
            s.within_standard,
            s.visits
        );
    }
    for (workflow, outcomes) in &r.visits {
        let list: Vec<String> = outcomes.iter().map(|(o, n)| format!("{o} {n}")).collect();
        println!("Kunjungan {workflow}: {}", list.join(", "));
    }
    if !r.refusals.is_empty() {
        let list: Vec<String> = r.refusals.iter().map(|(c, n)| format!("{c} {n}")).collect();
        println!("Penolakan: {}", list.join(", "));
    }
    println!(
        "Belum final di kecamatan: {} rekaman, {} mengendap",
        r.backlog, r.stuck
    );
}

fn population(
    command: PopulationCommand,
    config: &dyn Fn(PathBuf) -> Config,
    clock: Arc<SystemClock>,
) -> anyhow::Result<()> {
    match command {
        PopulationCommand::Key { data } => {
            let hub = Hub::open(config(data), clock)?;
            let (key, id) = hub.population_recipient()?;
            println!("{key}");
            eprintln!("key id {id}: the Dinas seals this kecamatan's extracts to it");
        }
        PopulationCommand::Trust { data, key } => {
            let hub = Hub::open(config(data), clock)?;
            hub.trust_dinas(&key)?;
            println!("the Dinas key {} is trusted for extracts", key.trim());
        }
        PopulationCommand::Import { data, file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let hub = Hub::open(config(data), clock)?;
            let done = hub.import_population(&bytes)?;
            println!(
                "Ekstrak {} nomor {} ({} entri, data per {}) dipasang: loket mengambilnya pada sinkronisasi berikutnya",
                if done.base { "dasar" } else { "perubahan" },
                done.sequence,
                done.entries,
                done.as_of
            );
        }
        PopulationCommand::Status { data, json } => {
            let hub = Hub::open(config(data), clock)?;
            let held = hub.population()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&held)?);
            } else if held.is_empty() {
                println!("Belum ada ekstrak data kependudukan di server kecamatan");
            }
            if !json {
                for e in held {
                    println!(
                        "{} {}: {} entri, data per {}",
                        if e.base { "dasar" } else { "perubahan" },
                        e.sequence,
                        e.entries,
                        e.as_of
                    );
                }
            }
        }
    }
    Ok(())
}
