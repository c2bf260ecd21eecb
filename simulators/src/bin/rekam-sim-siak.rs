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

use anyhow::Context;
use axum::Router;
use axum::extract::{Path, State};
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
    /// The extract's kecamatan (the station's)
    #[arg(long, default_value = "32.73.01")]
    region: String,
    /// The extract's number in the series
    #[arg(long, default_value_t = 1)]
    sequence: u64,
}

async fn lookup(State(siak): State<Arc<SynthPopulation>>, Path(nik): Path<String>) -> Response {
    let Ok(nik) = Nik::parse(&nik) else {
        return (StatusCode::BAD_REQUEST, "malformed NIK").into_response();
    };
    match siak.get(&nik) {
        Some(record) => axum::Json(record).into_response(),
        None => (StatusCode::NOT_FOUND, "unknown NIK").into_response(),
    }
}

async fn roster(State(siak): State<Arc<SynthPopulation>>) -> Response {
    axum::Json(siak.roster()).into_response()
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
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("port {}", args.port))?;
    let app = Router::new()
        .route("/v1/penduduk/{nik}", get(lookup))
        .route("/latihan/penduduk", get(roster))
        .with_state(Arc::new(population));
    println!("READY {}", listener.local_addr()?.port());
    axum::serve(listener, app).await?;
    Ok(())
}
