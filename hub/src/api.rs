//! The hub's HTTP routes and refusals. Every request but the identity and a registration is
//! signed by a registered counter ([`rekam_packet::protocol::RequestAuth`]); a refusal is JSON
//! `{code, message}` with a stable code, as the data center's.
//!
//! - `GET /v1/identity`: the identity counters pin;
//! - `POST /v1/stations/register`: a counter's registration with its one-time token;
//! - `POST /v1/afis/check`: the 1:N check before sealing ([`rekam_packet::hub::AfisProbe`]);
//! - `POST /v1/afis/enroll`: a sealed recording joins the gallery;
//! - `GET /v1/afis/conflicts?after=N`: conflicts naming the counter;
//! - `GET /v1/afis/gallery?after=N`: the other counters' recordings for the counter's copy;
//! - `POST /v1/queue`: the next number of the kecamatan's queue today;
//! - `POST /v1/backlog`: a counter's records not yet final (replacing what it reported before);
//! - `POST /v1/relay/{packet_id}` (the sealed packet) and `GET` of it: a packet left with the
//!   hub for the data center, and its receipt once forwarded.

use crate::Hub;
use crate::store::Templates;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use rekam_packet::hub::{AfisAnswer, AfisProbe, ConflictsPage, Enrolled, HubEnrollment};
use rekam_packet::keys::verifying_key_from_hex;
use rekam_packet::protocol::{ApiError, Registration, RequestAuth, body_hash, header};

/// A refusal: HTTP status, stable code, plain words.
#[derive(Debug)]
pub struct Refusal {
    /// The status.
    pub status: StatusCode,
    /// The code.
    pub code: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<crate::HubError> for Refusal {
    fn from(e: crate::HubError) -> Self {
        if let crate::HubError::DiskFull(_) = e {
            // The technician's to fix; the counter keeps the recording and sends it again.
            tracing::error!(error = %e, "disk full");
            return Refusal::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "HUB_DISK_FULL",
                "the kecamatan server's disk is full: the counter keeps its recordings and sends them again once its technician freed space",
            );
        }
        tracing::error!(error = %e, "internal error");
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "HUB_UNAVAILABLE",
            "the kecamatan server could not process the request; the counter goes on with its own check and tries again later",
        )
    }
}

impl From<rekam_packet::PacketError> for Refusal {
    fn from(e: rekam_packet::PacketError) -> Self {
        Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CODE, self.code)],
            Json(ApiError {
                code: self.code.into(),
                message: self.message,
            }),
        )
            .into_response()
    }
}

pub(crate) fn template_invalid() -> Refusal {
    Refusal::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "TEMPLATE_INVALID",
        "the templates do not parse (screening codes, ISO/IEC 19794-2 minutiae, iris codes): the counter's software and the hub's disagree; update the counter",
    )
}

pub(crate) fn not_yours(station_id: &str, packet_id: &str) -> Refusal {
    Refusal::new(
        StatusCode::FORBIDDEN,
        "PACKET_ID_NOT_YOURS",
        format!(
            "packet {packet_id} was not made by station {station_id}: report it to the hub's administrator"
        ),
    )
}

/// Decodes the base64 of a counter's templates.
pub(crate) fn templates(t: &rekam_packet::hub::Templates) -> Result<Templates, Refusal> {
    let b64 = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| template_invalid())
    };
    Ok(Templates {
        codes: b64(&t.codes)?,
        minutiae: b64(&t.minutiae)?,
        irises: b64(&t.irises)?,
    })
}

/// The largest body taken: a sealed packet is at most the station's budget (2 MiB);
/// everything else is small.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// The hub's routes.
pub fn router(hub: Hub) -> Router {
    Router::new()
        .route("/v1/identity", get(identity))
        .route("/v1/stations/register", post(register))
        .route("/v1/afis/check", post(check))
        .route("/v1/afis/enroll", post(enroll))
        .route("/v1/afis/conflicts", get(conflicts))
        .route("/v1/afis/gallery", get(gallery))
        .route("/v1/queue", post(queue))
        .route("/v1/backlog", post(report_backlog))
        .route("/v1/day", post(report_day))
        .route("/v1/relay/{packet_id}", post(hold).get(relay_state))
        .route("/v1/relay/reissues/{request_id}", post(hold_reissue))
        .route("/v1/results", get(results))
        .route("/v1/population", get(population_offer))
        .route("/v1/population/{sequence}", get(population_file))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(hub)
}

impl Hub {
    /// Authenticates a signed counter request; returns the station id.
    pub(crate) fn authenticate(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body_hash: &str,
    ) -> Result<String, Refusal> {
        let unauthorized =
            |code, message: String| Refusal::new(StatusCode::UNAUTHORIZED, code, message);
        let auth =
            RequestAuth::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()))
                .map_err(|problem| unauthorized("AUTH_MISSING", problem))?;
        let public = self
            .store()
            .station_key(&auth.station_id, &auth.key.to_string())?
            .ok_or_else(|| {
                unauthorized(
                    "STATION_UNKNOWN",
                    format!(
                        "station {} is not registered at this hub: register it with a token from the hub's administrator",
                        auth.station_id
                    ),
                )
            })?;
        let public = verifying_key_from_hex(&public)?;
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        auth.verify(&public, method.as_str(), path, body_hash)
            .map_err(|_| {
                unauthorized(
                    "BAD_SIGNATURE",
                    "the request's signature does not verify".into(),
                )
            })?;
        self.check_clock(auth.time)?;
        if !self
            .store()
            .remember_nonce(&auth.station_id, &auth.nonce, auth.time)?
        {
            return Err(unauthorized(
                "REQUEST_REPLAYED",
                "this signed request was received before: a replay is refused".into(),
            ));
        }
        self.store().touch(&auth.station_id, self.now())?;
        Ok(auth.station_id)
    }
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            format!("the body is not what the hub's protocol says: {e}"),
        )
    })
}

/// Runs `f` on a blocking thread (the store and the matcher block).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "a request's task failed");
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "the hub failed to process the request; try again",
        )
    })?
}

async fn identity(State(hub): State<Hub>) -> Json<rekam_packet::hub::HubIdentity> {
    Json(hub.identity().clone())
}

async fn register(
    State(hub): State<Hub>,
    body: Bytes,
) -> Result<Json<rekam_packet::hub::HubIdentity>, Refusal> {
    let reg: Registration = json_body(&body)?;
    blocking(move || {
        hub.register(&reg)?;
        Ok(Json(hub.identity().clone()))
    })
    .await
}

/// A request signed by a registered counter: who it is, and the body its signature covers
/// (empty for a `GET`). Authenticated off the async threads (the store blocks).
pub(crate) struct Signed {
    station: String,
    body: Bytes,
}

impl axum::extract::FromRequest<Hub> for Signed {
    type Rejection = Refusal;

    async fn from_request(req: axum::extract::Request, hub: &Hub) -> Result<Self, Refusal> {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
            Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BODY_TOO_LARGE",
                format!("the body is over {BODY_LIMIT} bytes or was cut"),
            )
        })?;
        let (hub, signed) = (hub.clone(), body.clone());
        let station = blocking(move || {
            hub.authenticate(
                &parts.method,
                &parts.uri,
                &parts.headers,
                &body_hash(&signed),
            )
        })
        .await?;
        Ok(Signed { station, body })
    }
}

async fn check(State(hub): State<Hub>, s: Signed) -> Result<Json<AfisAnswer>, Refusal> {
    blocking(move || {
        let probe: AfisProbe = json_body(&s.body)?;
        Ok(Json(hub.check(&s.station, &probe)?))
    })
    .await
}

async fn enroll(State(hub): State<Hub>, s: Signed) -> Result<Json<Enrolled>, Refusal> {
    blocking(move || {
        let e: HubEnrollment = json_body(&s.body)?;
        Ok(Json(hub.enroll(&s.station, &e)?))
    })
    .await
}

#[derive(Debug, serde::Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
}

async fn conflicts(
    State(hub): State<Hub>,
    Query(q): Query<After>,
    s: Signed,
) -> Result<Json<ConflictsPage>, Refusal> {
    blocking(move || {
        Ok(Json(ConflictsPage {
            conflicts: hub.conflicts(&s.station, q.after)?,
        }))
    })
    .await
}

/// The data center's result events for the counter that the hub kept (the data center's
/// path and page, so the counter reads either the same way).
async fn results(
    State(hub): State<Hub>,
    Query(q): Query<After>,
    s: Signed,
) -> Result<Json<rekam_packet::protocol::ResultsPage>, Refusal> {
    blocking(move || Ok(Json(hub.results_for(&s.station, q.after)?))).await
}

async fn population_offer(
    State(hub): State<Hub>,
    Query(q): Query<After>,
    _counter: Signed,
) -> Result<Json<rekam_packet::hub::PopulationOffer>, Refusal> {
    let after = u64::try_from(q.after).unwrap_or(0);
    blocking(move || Ok(Json(hub.population_offer(after)?))).await
}

#[derive(serde::Deserialize)]
struct To {
    to: String,
}

/// An extract sealed to the counter's population key (the query names it; the request is
/// signed, so nobody in between can substitute another).
async fn population_file(
    State(hub): State<Hub>,
    Path(sequence): Path<u64>,
    Query(q): Query<To>,
    _counter: Signed,
) -> Result<Response, Refusal> {
    blocking(move || {
        let sealed = hub.population_for(sequence, &q.to)?;
        Ok((
            [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
            sealed,
        )
            .into_response())
    })
    .await
}

async fn gallery(
    State(hub): State<Hub>,
    Query(q): Query<After>,
    s: Signed,
) -> Result<Json<rekam_packet::hub::GalleryPage>, Refusal> {
    blocking(move || Ok(Json(hub.gallery_page(&s.station, q.after)?))).await
}

async fn queue(
    State(hub): State<Hub>,
    s: Signed,
) -> Result<Json<rekam_packet::hub::Ticket>, Refusal> {
    blocking(move || {
        let request: rekam_packet::hub::TicketRequest = json_body(&s.body)?;
        Ok(Json(hub.ticket(&s.station, &request.day)?))
    })
    .await
}

async fn hold(
    State(hub): State<Hub>,
    Path(packet_id): Path<String>,
    s: Signed,
) -> Result<Json<rekam_packet::hub::RelayState>, Refusal> {
    blocking(move || Ok(Json(hub.hold(&s.station, &packet_id, &s.body)?))).await
}

async fn relay_state(
    State(hub): State<Hub>,
    Path(packet_id): Path<String>,
    s: Signed,
) -> Result<Json<rekam_packet::hub::RelayState>, Refusal> {
    blocking(move || Ok(Json(hub.relay_state(&s.station, &packet_id)?))).await
}

async fn hold_reissue(
    State(hub): State<Hub>,
    Path(request_id): Path<String>,
    s: Signed,
) -> Result<Json<rekam_packet::hub::ReissueRelayState>, Refusal> {
    blocking(move || {
        let relayed: rekam_packet::reissue::RelayedReissue = json_body(&s.body)?;
        Ok(Json(hub.hold_reissue(&s.station, &request_id, &relayed)?))
    })
    .await
}

async fn report_day(State(hub): State<Hub>, s: Signed) -> Result<StatusCode, Refusal> {
    blocking(move || {
        let day: rekam_packet::hub::CounterDay = json_body(&s.body)?;
        hub.report_day(&s.station, &day)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

async fn report_backlog(State(hub): State<Hub>, s: Signed) -> Result<StatusCode, Refusal> {
    blocking(move || {
        let report: rekam_packet::hub::CounterBacklog = json_body(&s.body)?;
        let records: Vec<_> = report
            .records
            .into_iter()
            .map(|r| rekam_packet::hub::BacklogRecord {
                station_id: s.station.clone(),
                ..r
            })
            .collect();
        hub.store()
            .report_backlog(&s.station, &records, hub.now())?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
