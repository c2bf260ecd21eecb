//! Resumable uploads: the tus 1.0.0 core protocol and its creation extension
//! (<https://tus.io/protocols/resumable-upload>).
//!
//! `POST /v1/uploads` with `Upload-Length` and `Upload-Metadata: packet_id <base64>` creates
//! an upload (the same packet of the same station gets the same upload back, so a client that
//! lost the `Location` does not start over); `HEAD` answers `Upload-Offset`; `PATCH` appends at
//! `Upload-Offset` and keeps every byte that arrived, even when the connection drops in the
//! middle of a request. The bytes are a sealed packet (ciphertext): they sit in
//! `uploads/<id>.part` until the commit records them in the database.
//!
//! An upload is written by one request at a time, whichever gateway process on the data
//! directory takes it: a request holds an exclusive lock on the part file (`flock`) while it
//! writes, so a station resuming through another process after its link dropped meets
//! `UPLOAD_BUSY` until the first request has let go, and the offset it is told is read under
//! the lock.

use crate::Gateway;
use crate::api::Refusal;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rekam_packet::protocol::{UNSIGNED_BODY, body_hash};
use rusqlite::{OptionalExtension, params};
use std::io::Write;
use std::path::PathBuf;

/// The protocol version.
pub const TUS_VERSION: &str = "1.0.0";
/// The content type of `PATCH` bodies.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

pub(crate) fn file(gw: &Gateway, upload_id: &str) -> PathBuf {
    crate::paths::uploads(&gw.inner.cfg.data_dir).join(format!("{upload_id}.part"))
}

fn tus_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    r
}

/// The tus layer of the upload routes: every request but `OPTIONS` must carry
/// `Tus-Resumable: 1.0.0` (else 412 with `Tus-Version`), and every answer, refusals included,
/// carries `Tus-Resumable` and `Cache-Control: no-store`.
pub async fn protocol(req: Request, next: Next) -> Response {
    let speaks_tus = req
        .headers()
        .get("tus-resumable")
        .and_then(|v| v.to_str().ok())
        == Some(TUS_VERSION);
    if req.method() != Method::OPTIONS && !speaks_tus {
        let mut r = Refusal::new(
            StatusCode::PRECONDITION_FAILED,
            "TUS_VERSION",
            "Tus-Resumable must be 1.0.0",
        )
        .into_response();
        r.headers_mut()
            .insert("tus-version", HeaderValue::from_static(TUS_VERSION));
        return tus_headers(r);
    }
    tus_headers(next.run(req).await)
}

fn number(headers: &HeaderMap, name: &str) -> Result<u64, Refusal> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                format!("header {name} must be a non-negative integer"),
            )
        })
}

fn metadata(headers: &HeaderMap, key: &str) -> Option<String> {
    use base64::Engine as _;
    let text = headers.get("upload-metadata")?.to_str().ok()?;
    text.split(',').find_map(|pair| {
        let mut it = pair.trim().splitn(2, ' ');
        (it.next()? == key).then_some(())?;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(it.next()?)
                .ok()?,
        )
        .ok()
    })
}

/// `OPTIONS /v1/uploads`: what the server supports.
pub async fn options(State(gw): State<Gateway>) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert("tus-extension", HeaderValue::from_static("creation"));
    h.insert("tus-max-size", HeaderValue::from(gw.inner.cfg.max_packet));
    r
}

/// `POST /v1/uploads`: creates an upload.
pub async fn create(
    State(gw): State<Gateway>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let station = gw.authenticate(&method, &uri, &headers, &body_hash(b""))?;
    let length = number(&headers, "upload-length")?;
    if length > gw.inner.cfg.max_packet {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PACKET_TOO_LARGE",
            format!(
                "the packet is {length} bytes, over the data center's limit of {}",
                gw.inner.cfg.max_packet
            ),
        ));
    }
    let packet_id = metadata(&headers, "packet_id")
        .filter(|p| rekam_packet::envelope::PacketId::parse(p).is_some())
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "Upload-Metadata must carry packet_id (a UUID, base64)",
            )
        })?;
    // Another station's id is refused before a byte is sent (a kecamatan server relays other
    // stations' packets: its commit checks whose they are).
    if rekam_packet::envelope::PacketId::parse(&packet_id).and_then(|id| id.belongs_to(&station))
        == Some(false)
        && gw.hub_kecamatan(&station)?.is_none()
    {
        return Err(crate::api::not_the_stations(&station, &packet_id));
    }
    let conn = gw.db();
    let existing: Option<(String, i64)> = conn
        .query_row(
            "SELECT upload_id, length FROM upload WHERE station_id = ?1 AND packet_id = ?2",
            params![station, packet_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let upload_id = match existing {
        Some((id, len)) if len as u64 == length => id,
        Some((id, _)) => {
            // Another length for the same packet: its bytes changed. Start again.
            conn.execute("DELETE FROM upload WHERE upload_id = ?1", [&id])?;
            let _ = std::fs::remove_file(file(&gw, &id));
            new_upload(&gw, &conn, &station, &packet_id, length)?
        }
        None => new_upload(&gw, &conn, &station, &packet_id, length)?,
    };
    let mut r = StatusCode::CREATED.into_response();
    r.headers_mut().insert(
        "location",
        HeaderValue::from_str(&format!("/v1/uploads/{upload_id}")).map_err(Refusal::internal)?,
    );
    Ok(r)
}

fn new_upload(
    gw: &Gateway,
    conn: &rusqlite::Connection,
    station: &str,
    packet_id: &str,
    length: u64,
) -> Result<String, Refusal> {
    make_room(gw, conn, station)?;
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(Refusal::internal)?;
    let id = hex::encode(raw);
    std::fs::File::create(file(gw, &id)).map_err(Refusal::internal)?;
    conn.execute(
        "INSERT INTO upload (upload_id, station_id, packet_id, length, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, station, packet_id, length as i64, gw.now()],
    )?;
    Ok(id)
}

/// Keeps the station's unfinished uploads under [`crate::Limits::open_uploads`] by discarding
/// its oldest idle ones; refuses (`429 TOO_MANY_UPLOADS`) only when all of them are being
/// written at this moment.
fn make_room(gw: &Gateway, conn: &rusqlite::Connection, station: &str) -> Result<(), Refusal> {
    let limit = gw.inner.cfg.limits.open_uploads;
    let open: Vec<String> = conn
        .prepare("SELECT upload_id FROM upload WHERE station_id = ?1 ORDER BY created_at, rowid")?
        .query_map([station], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let excess = (open.len() + 1).saturating_sub(limit);
    if excess == 0 {
        return Ok(());
    }
    // Idle: no request of any process holds its part file. Each is kept locked until it is
    // gone, so no request starts writing it meanwhile.
    let idle: Vec<(&String, Option<std::fs::File>)> = open
        .iter()
        .filter_map(|id| match lock(gw, id) {
            Ok(held) => Some((id, held)),
            Err(_) => None,
        })
        .take(excess)
        .collect();
    if idle.len() < excess {
        return Err(Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_UPLOADS",
            format!("this station is writing {limit} uploads at once: finish one first"),
        ));
    }
    for (id, _held) in idle {
        conn.execute("DELETE FROM upload WHERE upload_id = ?1", [id])?;
        let _ = std::fs::remove_file(file(gw, id));
    }
    tracing::warn!(
        station,
        discarded = excess,
        limit,
        "a station's oldest unfinished uploads discarded to stay under the limit"
    );
    Ok(())
}

fn owned_upload(gw: &Gateway, station: &str, upload_id: &str) -> Result<u64, Refusal> {
    gw.db()
        .query_row(
            "SELECT length FROM upload WHERE upload_id = ?1 AND station_id = ?2",
            params![upload_id, station],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .map(|l| l as u64)
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::NOT_FOUND,
                "UPLOAD_UNKNOWN",
                format!("no upload {upload_id} of this station: create it again"),
            )
        })
}

fn offset_of(gw: &Gateway, upload_id: &str) -> Result<u64, Refusal> {
    std::fs::metadata(file(gw, upload_id))
        .map(|m| m.len())
        .map_err(Refusal::internal)
}

fn offsets(status: StatusCode, offset: u64, length: Option<u64>) -> Response {
    let mut r = status.into_response();
    r.headers_mut()
        .insert("upload-offset", HeaderValue::from(offset));
    if let Some(l) = length {
        r.headers_mut()
            .insert("upload-length", HeaderValue::from(l));
    }
    r
}

/// `HEAD /v1/uploads/{id}`: how many bytes the gateway holds.
pub async fn head(
    State(gw): State<Gateway>,
    Path(upload_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let station = gw.authenticate(&method, &uri, &headers, &body_hash(b""))?;
    let length = owned_upload(&gw, &station, &upload_id)?;
    Ok(offsets(
        StatusCode::OK,
        offset_of(&gw, &upload_id)?,
        Some(length),
    ))
}

/// The part file of `upload_id`, opened for appending and locked against every other
/// request of every process until it is dropped (however the request ends); `None` when it
/// is gone. `Err(UPLOAD_BUSY)` while another request holds it.
fn lock(gw: &Gateway, upload_id: &str) -> Result<Option<std::fs::File>, Refusal> {
    let out = match std::fs::OpenOptions::new()
        .append(true)
        .open(file(gw, upload_id))
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Refusal::internal(e)),
    };
    match out.try_lock() {
        Ok(()) => Ok(Some(out)),
        Err(std::fs::TryLockError::WouldBlock) => Err(Refusal::new(
            StatusCode::LOCKED,
            "UPLOAD_BUSY",
            "another request is writing this upload; ask with HEAD and resume when it ends",
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(Refusal::internal(e)),
    }
}

/// `PATCH /v1/uploads/{id}`: appends the body at `Upload-Offset`.
pub async fn patch(
    State(gw): State<Gateway>,
    Path(upload_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let station = gw.authenticate(&method, &uri, &headers, UNSIGNED_BODY)?;
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some(OFFSET_OCTET_STREAM) {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            format!("Content-Type must be {OFFSET_OCTET_STREAM}"),
        ));
    }
    let length = owned_upload(&gw, &station, &upload_id)?;
    let claimed = number(&headers, "upload-offset")?;
    let mut out = lock(&gw, &upload_id)?.ok_or_else(|| {
        Refusal::new(
            StatusCode::NOT_FOUND,
            "UPLOAD_UNKNOWN",
            format!("no upload {upload_id} of this station: create it again"),
        )
    })?;
    // Read under the lock: no other request is writing it.
    let mut offset = out.metadata().map_err(Refusal::internal)?.len();
    if claimed != offset {
        return Err(Refusal::new(
            StatusCode::CONFLICT,
            "OFFSET_MISMATCH",
            format!(
                "the gateway holds {offset} bytes, not {claimed}: ask with HEAD and resume from there"
            ),
        ));
    }
    let mut stream = body.into_data_stream();
    let limits = gw.inner.cfg.limits;
    let until = tokio::time::Instant::now() + limits.upload_request;
    let mut cut = false;
    loop {
        // A pause longer than `upload_idle`, or a request past `upload_request`, ends the
        // request as if the connection had dropped: the bytes stay, the upload is free for
        // the station's next attempt, and a client dribbling bytes cannot hold it for ever.
        let wait = limits.upload_idle.min(until - tokio::time::Instant::now());
        let chunk = match tokio::time::timeout(wait, stream.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                // The connection dropped: keep what arrived, the client resumes from there.
                cut = true;
                break;
            }
            Err(_) => {
                out.sync_data().map_err(Refusal::internal)?;
                tracing::info!(upload = %upload_id, offset, "upload too slow; bytes kept");
                return Err(Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "UPLOAD_TOO_SLOW",
                    format!(
                        "the upload paused over {} s or ran over {} s; {offset} bytes are kept: resume from there",
                        limits.upload_idle.as_secs_f32(),
                        limits.upload_request.as_secs_f32()
                    ),
                ));
            }
        };
        if offset + chunk.len() as u64 > length {
            let _ = out.sync_data();
            return Err(Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_REQUEST",
                format!("the body goes past Upload-Length ({length} bytes)"),
            ));
        }
        out.write_all(&chunk).map_err(Refusal::internal)?;
        offset += chunk.len() as u64;
    }
    out.sync_data().map_err(Refusal::internal)?;
    if cut {
        tracing::info!(upload = %upload_id, offset, "upload interrupted; bytes kept");
    }
    Ok(offsets(StatusCode::NO_CONTENT, offset, None))
}
