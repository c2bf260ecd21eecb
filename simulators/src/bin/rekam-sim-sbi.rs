//! `rekam-sim-sbi`: an SBI 1.0 device service on 127.0.0.1, in the spirit of MOSIP's MockMDS,
//! serving the synthetic residents: a slap scanner, a dual iris camera and a face camera.
//!
//! It prints `READY <port>` once listening (the first free port of 4501-4600 unless `--port`).
//! Methods: MOSIPDISC /device, MOSIPDINFO /info, RCAPTURE /capture, STREAM /stream. The admin
//! endpoint `POST /admin/scenario` (JSON, see `rekam_sim::sbi::Scenario`) sets which resident is
//! at the devices, capture quality, delay, device errors, missing fingers, three fingers on a
//! slap, tampering and busy; `GET /admin/scenario` shows it.

use anyhow::Context;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use clap::Parser;
use rekam_drivers::sbi::wire::{CaptureRequestWire, DiscoverRequest, FIRST_PORT, LAST_PORT};
use rekam_sim::sbi::{Scenario, Service};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A simulated SBI device service.
#[derive(Debug, Parser)]
#[command(name = "rekam-sim-sbi", version, about)]
struct Args {
    /// Port (default: the first free one of 4501-4600)
    #[arg(long)]
    port: Option<u16>,
    /// Sign with a device key no provider certified (the station must refuse everything)
    #[arg(long)]
    rogue: bool,
    /// Seed of the synthetic residents
    #[arg(long, default_value_t = 20261122)]
    seed: u64,
    /// Which resident is at the devices at start
    #[arg(long, default_value_t = 0)]
    resident: u64,
}

type Shared = Arc<Mutex<Service>>;

/// Preview frames per second (the specification asks for at least 3).
const FPS: u64 = 5;
/// Default STREAM length when the request names none: five minutes, as the specification says.
const DEFAULT_STREAM_MS: u64 = 300_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = match args.port {
        Some(p) => tokio::net::TcpListener::bind(("127.0.0.1", p))
            .await
            .with_context(|| format!("port {p}"))?,
        None => {
            let mut found = None;
            for p in FIRST_PORT..=LAST_PORT {
                if let Ok(l) = tokio::net::TcpListener::bind(("127.0.0.1", p)).await {
                    found = Some(l);
                    break;
                }
            }
            found.context("no free port in 4501-4600")?
        }
    };
    let port = listener.local_addr()?.port();
    let mut service = Service::new(port, args.rogue)?;
    service.set_scenario(Scenario {
        seed: args.seed,
        resident: args.resident,
        ..Scenario::default()
    });
    let shared: Shared = Arc::new(Mutex::new(service));
    let app = Router::new().fallback(handle).with_state(shared);
    println!("READY {port}");
    axum::serve(listener, app).await?;
    Ok(())
}

fn json(value: &impl serde::Serialize) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(value).unwrap_or_default(),
    )
        .into_response()
}

fn bad(detail: String) -> Response {
    (StatusCode::BAD_REQUEST, detail).into_response()
}

/// Runs `f` on the service off the async threads (image generation is heavy).
async fn with_service<T: Send + 'static>(
    shared: &Shared,
    f: impl FnOnce(&mut Service) -> T + Send + 'static,
) -> Option<T> {
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    })
    .await
    .ok()
}

async fn handle(State(shared): State<Shared>, method: Method, uri: Uri, body: Bytes) -> Response {
    let path = uri.path().trim_end_matches('/');
    match (method.as_str(), path) {
        ("MOSIPDISC", "/device") => {
            let kind = serde_json::from_slice::<DiscoverRequest>(&body)
                .map(|r| r.kind)
                .unwrap_or_else(|_| "Biometric Device".into());
            match with_service(&shared, move |s| s.discover(&kind)).await {
                Some(list) => json(&list),
                None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        ("MOSIPDINFO", "/info") => match with_service(&shared, |s| s.info()).await {
            Some(list) => json(&list),
            None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        ("RCAPTURE", "/capture") => {
            let req: CaptureRequestWire = match serde_json::from_slice(&body) {
                Ok(r) => r,
                Err(e) => return bad(format!("RCAPTURE: {e}")),
            };
            let delay = with_service(&shared, |s| s.scenario().delay_ms)
                .await
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(delay)).await;
            match with_service(&shared, move |s| s.capture(&req)).await {
                Some(resp) => json(&resp),
                None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        ("STREAM", "/stream") => stream(shared, &body),
        ("POST", "/admin/scenario") => match serde_json::from_slice::<Scenario>(&body) {
            Ok(sc) => {
                let echo = sc.clone();
                with_service(&shared, move |s| s.set_scenario(sc)).await;
                json(&echo)
            }
            Err(e) => bad(format!("scenario: {e}")),
        },
        ("GET", "/admin/scenario") => match with_service(&shared, |s| s.scenario().clone()).await {
            Some(sc) => json(&sc),
            None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        _ => (StatusCode::NOT_FOUND, format!("no {method} {path} here")).into_response(),
    }
}

fn stream(shared: Shared, body: &[u8]) -> Response {
    let req: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let device = match &req["deviceId"] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let millis = match &req["timeout"] {
        serde_json::Value::String(s) => s.parse().ok(),
        other => other.as_u64(),
    }
    .unwrap_or(DEFAULT_STREAM_MS);
    if !["1", "2", "3"].contains(&device.as_str()) {
        return json(&serde_json::json!({
            "error": {"errorCode": "202", "errorInfo": "No Device Connected."}
        }));
    }
    let deadline = Instant::now() + Duration::from_millis(millis);
    let frames = futures_util::stream::unfold(
        (shared, device, deadline, true),
        |(shared, device, deadline, first)| async move {
            if Instant::now() >= deadline {
                return None;
            }
            if !first {
                tokio::time::sleep(Duration::from_millis(1000 / FPS)).await;
            }
            let d = device.clone();
            let frame = with_service(&shared, move |s| s.preview(&d))
                .await
                .flatten()?;
            let mut part = format!(
                "--BoundaryString\r\nAccess-Control-Allow-Origin:*\r\nContent-Type:image/jpeg\r\n\
                 Content-Length:{}\r\n\r\n",
                frame.len()
            )
            .into_bytes();
            part.extend_from_slice(&frame);
            part.extend_from_slice(b"\r\n");
            Some((
                Ok::<_, std::convert::Infallible>(Bytes::from(part)),
                (shared, device, deadline, false),
            ))
        },
    );
    (
        [(
            header::CONTENT_TYPE,
            "multipart/x-mixed-replace; boundary=--BoundaryString",
        )],
        Body::from_stream(frames),
    )
        .into_response()
}
