//! `rekam-sim-siak`: the population database (SIAK) on 127.0.0.1, serving the generated
//! residents by NIK through Rekam's SIAK interface (`rekam::siak`).
//!
//! With `--write-extract FILE` it writes the Dinas's base extract of the same residents instead
//! (signed with the TEST Dinas key) and exits. Serving, it prints `READY <port>` once
//! listening. Routes:
//! - `GET /v1/penduduk/{nik}`: the resident's population record (biodata and whether they were
//!   recorded before), `404` for an unknown NIK, `400` for a malformed one.
//! - `GET /latihan/penduduk`: the roster for training mode (index, NIK, name, birth date and the
//!   case each resident was generated to show), so a trainer knows whom to call to the counter.
//! - `GET /v1/ekstrak?after=N`: the Dinas's extracts a station holding extract `N` should
//!   import (the kecamatan server's offer): the base extract of `--region` numbered
//!   `--sequence` when `N` is older, nothing otherwise.
//! - `GET /v1/ekstrak/{sequence}?to=KEY`: that extract (signed with the TEST Dinas key) sealed
//!   to the station's population key `KEY` (hex), as a station imports a file.

use anyhow::Context;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Parser;
use rekam::domain::nik::Nik;
use rekam_sim::counter::SynthPopulation;
use std::sync::Arc;

/// A simulated SIAK.
#[derive(Debug, Parser)]
#[command(name = "rekam-sim-siak", version, about)]
struct Args {
    /// Port (0: any free one)
    #[arg(long, default_value_t = 4700)]
    port: u16,
    /// How many generated residents SIAK knows (indexes 0..N of the simulators' seed)
    #[arg(long, default_value_t = 40)]
    residents: u64,
    /// Instead of serving: write the Dinas's base extract of these residents to FILE (signed
    /// with the TEST Dinas key, for `rekam population import`) and exit
    #[arg(long, value_name = "FILE")]
    write_extract: Option<std::path::PathBuf>,
    /// The extract's kecamatan (the station's), written or served
    #[arg(long, default_value = "32.73.01")]
    region: String,
    /// The extract's number in the series
    #[arg(long, default_value_t = 1)]
    sequence: u64,
}

/// What the simulated SIAK serves.
struct Siak {
    population: SynthPopulation,
    /// The Dinas's base extract of the residents, signed, in clear (sealed per request).
    extract: Vec<u8>,
    sequence: u64,
    as_of: String,
}

#[derive(serde::Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
}

#[derive(serde::Deserialize)]
struct To {
    to: String,
}

async fn offer(State(siak): State<Arc<Siak>>, Query(q): Query<After>) -> Response {
    let extracts = if q.after < siak.sequence {
        vec![rekam_packet::hub::OfferedExtract {
            sequence: siak.sequence,
            base: true,
            as_of: siak.as_of.clone(),
            entries: siak.population.records().count() as u64,
        }]
    } else {
        Vec::new()
    };
    axum::Json(rekam_packet::hub::PopulationOffer { extracts }).into_response()
}

async fn extract_file(
    State(siak): State<Arc<Siak>>,
    Path(sequence): Path<u64>,
    Query(q): Query<To>,
) -> Response {
    if sequence != siak.sequence {
        return (StatusCode::NOT_FOUND, "no such extract").into_response();
    }
    let mut key = [0u8; 32];
    if hex::decode_to_slice(&q.to, &mut key).is_err() {
        return (StatusCode::BAD_REQUEST, "to: 64 hex digits").into_response();
    }
    match rekam_packet::population::seal_extract(&key, &siak.extract) {
        Ok(sealed) => sealed.into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn lookup(State(siak): State<Arc<Siak>>, Path(nik): Path<String>) -> Response {
    let Ok(nik) = Nik::parse(&nik) else {
        return (StatusCode::BAD_REQUEST, "malformed NIK").into_response();
    };
    match siak.population.get(&nik) {
        Some(record) => axum::Json(record).into_response(),
        None => (StatusCode::NOT_FOUND, "unknown NIK").into_response(),
    }
}

async fn roster(State(siak): State<Arc<Siak>>) -> Response {
    axum::Json(siak.population.roster()).into_response()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let population = tokio::task::spawn_blocking(move || {
        SynthPopulation::generate(args.residents, rekam_synth::resident::reference_date())
    })
    .await??;
    if let Some(file) = &args.write_extract {
        let now = time::OffsetDateTime::now_utc();
        let bytes = rekam_sim::extract::base(&population, &args.region, args.sequence, now);
        std::fs::write(file, &bytes).with_context(|| file.display().to_string())?;
        println!(
            "{}: base extract no. {} of {} residents for {}",
            file.display(),
            args.sequence,
            population.records().count(),
            args.region
        );
        return Ok(());
    }
    let now = time::OffsetDateTime::now_utc();
    let siak = Siak {
        extract: rekam_sim::extract::base(&population, &args.region, args.sequence, now),
        sequence: args.sequence,
        as_of: rekam::clock::rfc3339(now),
        population,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("port {}", args.port))?;
    let app = Router::new()
        .route("/v1/penduduk/{nik}", get(lookup))
        .route("/latihan/penduduk", get(roster))
        .route("/v1/ekstrak", get(offer))
        .route("/v1/ekstrak/{sequence}", get(extract_file))
        .with_state(Arc::new(siak));
    println!("READY {}", listener.local_addr()?.port());
    axum::serve(listener, app).await?;
    Ok(())
}
