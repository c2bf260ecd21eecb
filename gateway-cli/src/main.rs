//! `rekam-gateway`: the reference data-center gateway.
//!
//! ```text
//! rekam-gateway init --data DIR --dc-id NAME      keys, database, dc-identity.json
//! rekam-gateway token --data DIR --station ID     a one-time registration token (--dinas:
//!                                                 the Dinas's station, gets print orders;
//!                                                 --hub: a kecamatan server, relays packets)
//! rekam-gateway serve --data DIR [--listen ADDR]  the API (prints "listening on ADDR")
//! rekam-gateway import --data DIR BUNDLE          a technician's export; writes receipts.json
//! rekam-gateway stations --data DIR [--stuck]     stations and their stuck records
//! rekam-gateway snoop --data DIR [KECAMATAN]      what the kecamatan servers report
//! rekam-gateway revoke --data DIR STATION         a stolen station's keys stop working
//! rekam-gateway revocations --data DIR            revoked stations: packets to review, uses
//! rekam-gateway adjudicate list --data DIR [--all] the open adjudication cases
//! rekam-gateway adjudicate decide --data DIR PACKET (--same | --different) --by NAME --reason TEXT
//! ```

use anyhow::Context;
use clap::{Parser, Subcommand};
use rekam_domain::clock::SystemClock;
use rekam_gateway::{Config, Gateway, StationRole};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "rekam-gateway",
    version,
    about = "Reference data-center gateway for Rekam stations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Where sealed packets are kept: a directory, as a path or a file:// URL (default: objects/
    /// in the data directory), or an S3-compatible bucket, s3://bucket/prefix, reached with
    /// AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the
    /// environment. Every process and command of one data center names the same.
    #[arg(long, global = true, env = "REKAM_GATEWAY_OBJECTS")]
    objects: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sets up a data directory: data center keys, database, public identity.
    Init {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The data center's name, in the identity stations pin.
        #[arg(long, default_value = "DC-DUKCAPIL")]
        dc_id: String,
        /// Host names and addresses the TLS certificate is for (repeat)
        #[arg(long = "tls-name", default_values_t = ["localhost".to_owned(), "127.0.0.1".to_owned()])]
        tls_names: Vec<String>,
    },
    /// Issues a one-time registration token for a station.
    Token {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The station the token is for.
        #[arg(long)]
        station: String,
        /// The station is the Dinas's: it may fetch the print orders of its regency's
        /// residents (each fetch audited).
        #[arg(long)]
        dinas: bool,
        /// The station is a kecamatan server: it relays the packets of its kecamatan's
        /// counters
        #[arg(long, conflicts_with = "dinas")]
        hub: bool,
    },
    /// Serves the API.
    Serve {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8480")]
        listen: String,
        /// Seconds after receipt before a packet's result is published.
        #[arg(long, default_value_t = 2)]
        results_delay: u64,
        /// The largest packet accepted, in bytes.
        #[arg(long, default_value_t = rekam_domain::manifest::DEFAULT_BUDGET as u64)]
        max_packet: u64,
        /// The largest clock difference accepted, in seconds.
        #[arg(long, default_value_t = 300)]
        clock_skew: i64,
        /// Serve plain HTTP instead of HTTPS (a loopback demo behind another TLS endpoint;
        /// refused on any other address)
        #[arg(long)]
        plain_http: bool,
        /// Days a registration token stays usable after it is issued.
        #[arg(long, default_value_t = 7)]
        token_days: u64,
        /// Seconds another process on the same database waits, after this one stops renewing
        /// it (killed, stalled), before it takes over deciding results.
        #[arg(long, default_value_t = 15)]
        matcher_lease: u64,
    },
    /// Reads every recorded packet back from the object store and checks it against its hash
    /// (after a disk failure or a restore); exits 1 naming each packet missing or damaged.
    Check {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
    },
    /// Imports a technician's export bundle and writes receipts.json into it.
    Import {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The bundle directory (the one holding manifest.json).
        bundle: PathBuf,
    },
    /// Revokes every key of a station (a stolen or lost machine): from now on nothing they
    /// sign is accepted, and each attempt is kept. A replacement registers with a new token.
    Revoke {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The station.
        station: String,
        /// When the machine may have left the station's hands (RFC 3339, e.g.
        /// 2026-12-01T08:00:00+07:00): packets received since are listed for review
        #[arg(long)]
        from: Option<String>,
        /// Why, for the record (e.g. the police report's number).
        #[arg(long, default_value = "reported stolen")]
        reason: String,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Lists revoked stations: their keys, the packets to review and every refused use since.
    Revocations {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// What the kecamatan servers last told (snoop): their counters, how long each has been
    /// silent, and every record waiting, stuck or failed with why.
    Snoop {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// Only this kecamatan (six digits).
        kecamatan: Option<String>,
        /// Hours of silence after which a hub or a counter is named silent.
        #[arg(long, default_value_t = 24)]
        silent_hours: i64,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Adjudication: recordings of which one finger or iris agrees with an earlier one, for
    /// an adjudicator to decide.
    Adjudicate {
        #[command(subcommand)]
        command: Adjudicate,
    },
    /// Lists stations with their backlog; `--stuck` only those that need attention.
    Stations {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// Only stations with stuck records, failures or silence.
        #[arg(long)]
        stuck: bool,
        /// Hours after which a waiting record counts as stuck (the SOP's 24 h).
        #[arg(long, default_value_t = 24)]
        hours: i64,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum Adjudicate {
    /// Lists the open cases, oldest first: the two recordings' stations and dates and every
    /// finger and iris compared with its score (no biodata).
    List {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// Decided cases too, with who decided what and why.
        #[arg(long)]
        all: bool,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Records a decision and sends its result to the station: the same person
    /// (DUPLICATE_RECORD) or another (PRINT_READY_RECORD). A decision is final.
    Decide {
        /// The data directory.
        #[arg(long)]
        data: PathBuf,
        /// The packet the case is about.
        packet: String,
        /// The same person as the earlier recording.
        #[arg(
            long,
            required_unless_present = "different",
            conflicts_with = "different"
        )]
        same: bool,
        /// Another person.
        #[arg(long)]
        different: bool,
        /// Who decides (name or staff number), kept with the decision.
        #[arg(long)]
        by: String,
        /// Why, kept with the decision and sent to the station.
        #[arg(long)]
        reason: String,
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
    let objects = cli
        .objects
        .as_deref()
        .map(rekam_gateway::objects::ObjectsAt::parse)
        .transpose()?;
    let config = |data: PathBuf| Config {
        objects: objects.clone(),
        ..Config::new(data)
    };
    match cli.command {
        Command::Init {
            data,
            dc_id,
            tls_names,
        } => {
            let id = rekam_gateway::init_for(&data, &dc_id, &tls_names)?;
            println!(
                "data center {} ready in {}\npacket key {}, receipt key {}\ngive stations {}",
                id.dc_id,
                data.display(),
                id.packet_key.id,
                id.receipt_key.id,
                rekam_gateway::paths::identity(&data).display()
            );
        }
        Command::Token {
            data,
            station,
            dinas,
            hub,
        } => {
            let gw = Gateway::open(config(data), clock)?;
            let role = match (dinas, hub) {
                (true, _) => StationRole::Dinas,
                (_, true) => StationRole::Hub,
                _ => StationRole::Counter,
            };
            println!("{}", gw.issue_token_for(&station, role)?);
        }
        Command::Serve {
            data,
            listen,
            results_delay,
            max_packet,
            clock_skew,
            plain_http,
            token_days,
            matcher_lease,
        } => {
            let cfg = Config {
                max_packet,
                clock_skew,
                tls: !plain_http,
                token_lifetime: Duration::from_secs(token_days * 24 * 3600),
                results_delay: Duration::from_secs(results_delay),
                matcher_lease: Duration::from_secs(matcher_lease),
                ..config(data)
            };
            let gw = Gateway::open(cfg, clock)?;
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
                gw.serve(listener).await?;
                anyhow::Ok(())
            })?;
        }
        Command::Check { data } => {
            let gw = Gateway::open(config(data), clock)?;
            let check = gw.check_objects()?;
            for (packet, object) in &check.missing {
                println!("MISSING  packet {packet}: object {object} is not in the store");
            }
            for (packet, object) in &check.damaged {
                println!("DAMAGED  packet {packet}: object {object} does not hash to its name");
            }
            if !check.is_sound() {
                println!(
                    "{} of {} packets need their object restored from the backup (or sent again by their station)",
                    check.missing.len() + check.damaged.len(),
                    check.packets
                );
                std::process::exit(1);
            }
            println!(
                "{} packets, every one whole in the object store",
                check.packets
            );
        }
        Command::Import { data, bundle } => {
            let gw = Gateway::open(config(data), clock)?;
            let done = gw.import_bundle(&bundle)?;
            println!(
                "{}: {} recorded or already recorded, {} refused{}; receipts in {}",
                done.receipts.station_id,
                done.receipts.receipts.len(),
                done.receipts.refused.len(),
                if done.manifest_signed {
                    ""
                } else {
                    " (manifest unsigned: each packet verified on its own)"
                },
                bundle.join("receipts.json").display()
            );
            for r in &done.receipts.refused {
                println!("  refused {} [{}]: {}", r.packet_id, r.code, r.message);
            }
        }
        Command::Revoke {
            data,
            station,
            from,
            reason,
            json,
        } => {
            let from = from
                .map(|t| {
                    time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                        .map(|t| t.unix_timestamp())
                        .with_context(|| {
                            format!("--from {t}: expected a time like 2026-12-01T08:00:00+07:00")
                        })
                })
                .transpose()?;
            let gw = Gateway::open(config(data), clock)?;
            let done = gw.revoke(&station, from, &reason)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&done)?);
            } else {
                println!(
                    "{}: {} key(s) revoked{}; nothing they sign is accepted from now on",
                    done.station_id,
                    done.keys.len(),
                    if done.keys.is_empty() {
                        " (all were revoked before)"
                    } else {
                        ""
                    }
                );
                print_suspect(&done.suspect);
                println!(
                    "a replacement machine registers as {} with a new token (`rekam-gateway token --station {}`)",
                    done.station_id, done.station_id
                );
            }
        }
        Command::Revocations { data, json } => {
            let gw = Gateway::open(config(data), clock)?;
            let list = gw.revocations()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no station key has been revoked");
            }
            for r in list.iter().filter(|_| !json) {
                println!(
                    "{} ({}): {} key(s) revoked",
                    r.station_id,
                    r.reason,
                    r.keys.len()
                );
                print_suspect(&r.suspect);
                for (at, key, what) in &r.refused_uses {
                    println!("  refused {} with key {key}: {what}", rfc3339(*at));
                }
            }
        }
        Command::Snoop {
            data,
            kecamatan,
            silent_hours,
            json,
        } => {
            let gw = Gateway::open(config(data), clock)?;
            let reports = gw.snoop(kecamatan.as_deref(), silent_hours * 3600)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            } else if reports.is_empty() {
                println!("no kecamatan server has reported");
            }
            if !json {
                for r in reports {
                    println!(
                        "{} (kecamatan {}): last heard {} min ago{}",
                        r.hub_id,
                        r.kecamatan,
                        r.silent_for / 60,
                        if r.silent { ", SILENT" } else { "" }
                    );
                    for s in &r.stations {
                        match s.silent_for {
                            Some(q) => println!(
                                "  counter {}: last contact {} min before{}",
                                s.station_id,
                                q / 60,
                                if s.silent { ", SILENT" } else { "" }
                            ),
                            None => println!("  counter {}: never heard from", s.station_id),
                        }
                    }
                    for rec in &r.records {
                        println!(
                            "  {} {} {} {} h{}: {}",
                            rec.station_id,
                            rec.packet_id,
                            rec.state,
                            rec.age_seconds / 3600,
                            rec.code
                                .as_deref()
                                .map_or(String::new(), |c| format!(" [{c}]")),
                            rec.next_step
                        );
                    }
                }
            }
        }
        Command::Adjudicate {
            command: Adjudicate::List { data, all, json },
        } => {
            let gw = Gateway::open(config(data), clock)?;
            let cases = gw.cases(all)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&cases)?);
            } else if cases.is_empty() {
                println!("no adjudication case is open");
            }
            for c in cases.iter().filter(|_| !json) {
                print_case(c);
            }
        }
        Command::Adjudicate {
            command:
                Adjudicate::Decide {
                    data,
                    packet,
                    same,
                    different: _,
                    by,
                    reason,
                    json,
                },
        } => {
            use rekam_gateway::adjudicate::Ruling;
            let gw = Gateway::open(config(data), clock)?;
            let ruling = if same {
                Ruling::SamePerson
            } else {
                Ruling::DifferentPerson
            };
            let case = gw.adjudicate(&packet, ruling, &by, &reason)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&case)?);
            } else {
                print_case(&case);
                println!(
                    "  the result is on the feed of {}: {}",
                    case.station_id,
                    if same {
                        "DUPLICATE_RECORD, for the kecamatan to clarify with the resident"
                    } else {
                        "PRINT_READY_RECORD, the Dinas may print the card"
                    }
                );
            }
        }
        Command::Stations {
            data,
            stuck,
            hours,
            json,
        } => {
            let gw = Gateway::open(config(data), clock)?;
            let list: Vec<_> = gw
                .stations(hours * 3600)?
                .into_iter()
                .filter(|s| !stuck || !s.problems.is_empty())
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no station needs attention");
            } else {
                for s in list {
                    println!(
                        "{} (kecamatan {}): {} received, {} waiting at the station{}",
                        s.station_id,
                        s.kecamatan,
                        s.packets_received,
                        s.waiting,
                        if s.problems.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", s.problems.join("; "))
                        }
                    );
                }
            }
        }
    }
    Ok(())
}

/// A case as the adjudicator reads it.
fn print_case(c: &rekam_gateway::adjudicate::Case) {
    println!(
        "{} ({}, received {}) against {} ({}, received {})",
        c.packet_id,
        c.station_id,
        rfc3339(c.received_at),
        c.matched_packet,
        c.matched_station,
        rfc3339(c.matched_received_at)
    );
    let e = &c.evidence;
    println!(
        "  fused score {} (a duplicate needs {} and {} agreeing); compared:",
        e.fused, e.fused_needed, e.needed
    );
    for p in &e.compared {
        println!(
            "    {:<13} {:>3} / {:<3}{}",
            p.name,
            p.score,
            p.threshold,
            if p.agrees() { "  agrees" } else { "" }
        );
    }
    match &c.decided {
        Some(d) => println!(
            "  decided {} by {}: {} ({})",
            rfc3339(d.at),
            d.adjudicator,
            d.ruling.as_str(),
            d.reason
        ),
        None => println!("  open since {}", rfc3339(c.opened_at)),
    }
}

/// The packets received in the window before a revocation.
fn print_suspect(suspect: &[rekam_gateway::revoke::SuspectPacket]) {
    if suspect.is_empty() {
        println!("  no packet received in the window before the revocation");
        return;
    }
    println!(
        "  {} packet(s) received in the window before the revocation, to review:",
        suspect.len()
    );
    for p in suspect {
        println!("  {} received {}", p.packet_id, rfc3339(p.received_at));
    }
}

fn rfc3339(t: i64) -> String {
    rekam_gateway::revoke::rfc3339(t)
}
