//! HTTP routes, request authentication, refusals, and the commit.
//!
//! Every station request but registration carries the `rekam-*` headers of
//! [`rekam_packet::protocol::RequestAuth`]: the station, its key id, its time and a signature
//! over method, path, time and the body's hash. A refusal is JSON `{code, message}` with a
//! stable code.

use crate::{Gateway, Limits, db, results};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rekam_domain::manifest::Recording;
use rekam_packet::envelope::SealedPacket;
use rekam_packet::keys::verifying_key_from_hex;
use rekam_packet::protocol::{
    ApiError, CommitRequest, Heartbeat, KeyRotation, Receipt, Registration, RequestAuth,
    ResultEvent, ResultsPage, SignedPrintOrder, Status, body_hash, header,
};
use rekam_packet::{KeyId, PacketError};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Deserialize;

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

    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "the data center failed to process the request; try again later",
        )
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        Refusal::internal(e)
    }
}

impl From<PacketError> for Refusal {
    fn from(e: PacketError) -> Self {
        let status = match e {
            PacketError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            PacketError::UnknownKey { .. } | PacketError::BadSignature { .. } => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Refusal::new(status, e.code(), e.to_string())
    }
}

impl From<crate::GatewayError> for Refusal {
    /// What the gateway's own storage failed at: the station sends again later.
    fn from(e: crate::GatewayError) -> Self {
        tracing::error!(error = %e, code = e.code(), "storage failed");
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "STORAGE_UNAVAILABLE",
            "the data center cannot store or read packets right now; the station sends again later",
        )
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

/// The gateway's routes.
pub fn router(gw: Gateway) -> Router {
    let limits = gw.inner.cfg.limits;
    Router::new()
        .route("/v1/identity", get(identity))
        .route("/v1/stations/register", post(register))
        .route("/v1/stations/rotate", post(rotate))
        .merge(
            Router::new()
                .route(
                    "/v1/uploads",
                    axum::routing::options(crate::tus::options).post(crate::tus::create),
                )
                .route(
                    "/v1/uploads/{upload_id}",
                    axum::routing::head(crate::tus::head).patch(crate::tus::patch),
                )
                .layer(axum::middleware::from_fn(crate::tus::protocol)),
        )
        .route("/v1/packets/{packet_id}/commit", post(commit))
        .route("/v1/results", get(results))
        .route("/v1/print/queue", get(crate::cards::queue))
        .route("/v1/print/{packet_id}", get(print_order))
        .route("/v1/print/{packet_id}/card", post(crate::cards::issued))
        .route(
            "/v1/print/{packet_id}/card/returned",
            post(crate::cards::returned),
        )
        .route("/v1/reissues/{request_id}", post(crate::reissue::request))
        .route(
            "/v1/relay/reissues/{request_id}",
            post(crate::reissue::relayed),
        )
        .route("/v1/heartbeat", post(heartbeat))
        .route("/v1/hubs/snoop", post(snoop))
        .route("/v1/hubs/results", get(hub_results))
        .layer(axum::middleware::from_fn_with_state(limits, deadline))
        .layer(axum::extract::DefaultBodyLimit::max(limits.json_body))
        .with_state(gw)
}

/// Bounds a request's time, body included, with [`Limits::request`]; an upload's body is
/// bounded by the upload itself ([`crate::tus::patch`]), which keeps what arrived.
async fn deadline(
    State(limits): State<Limits>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if req.method() == Method::PATCH {
        return next.run(req).await;
    }
    match tokio::time::timeout(limits.request, next.run(req)).await {
        Ok(response) => response,
        Err(_) => Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            format!(
                "the request took longer than {} s: send it again",
                limits.request.as_secs_f32()
            ),
        )
        .into_response(),
    }
}

impl Gateway {
    /// Authenticates a signed station request; returns the station id.
    pub(crate) fn authenticate(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body_hash: &str,
    ) -> Result<String, Refusal> {
        let auth =
            RequestAuth::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok()))
                .map_err(|problem| {
                    Refusal::new(StatusCode::UNAUTHORIZED, "AUTH_MISSING", problem)
                })?;
        let (station_id, key, time) = (auth.station_id.clone(), auth.key, auth.time);
        let public = {
            let conn = self.db();
            if !db::station_exists(&conn, &station_id)? {
                return Err(Refusal::new(
                    StatusCode::UNAUTHORIZED,
                    "STATION_UNKNOWN",
                    format!("station {station_id} is not registered at this data center"),
                ));
            }
            let what = format!("request {method} {}", uri.path());
            self.current_key(&conn, &station_id, key, &what)?
        };
        let public = verifying_key_from_hex(&public)?;
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        auth.verify(&public, method.as_str(), path, body_hash)
            .map_err(|_| {
                Refusal::new(
                    StatusCode::UNAUTHORIZED,
                    "BAD_SIGNATURE",
                    "the request's signature does not verify",
                )
            })?;
        self.check_clock(time)?;
        self.remember_nonce(&station_id, &auth.nonce, time)?;
        Ok(station_id)
    }

    /// The public key (hex) of the station's key `key` if it is its current one; the refusal
    /// otherwise: unknown, retired, or revoked (each use of a revoked key is kept, as `what`).
    pub(crate) fn current_key(
        &self,
        conn: &rusqlite::Connection,
        station_id: &str,
        key: KeyId,
        what: &str,
    ) -> Result<String, Refusal> {
        let row = db::station_key(conn, station_id, &key.to_string())?.ok_or_else(|| {
            Refusal::new(
                StatusCode::UNAUTHORIZED,
                "STATION_KEY_UNKNOWN",
                format!("station {station_id} has no key {key}"),
            )
        })?;
        if let Some(at) = row.revoked_at {
            return Err(crate::revoke::refuse_revoked(
                conn,
                self.now(),
                station_id,
                &key.to_string(),
                at,
                what,
            ));
        }
        Ok(row
            .current()
            .ok_or_else(|| retired(station_id, key, &row))?
            .to_owned())
    }

    /// Refuses a nonce the station already used within the clock window: a replayed request.
    /// Nonces are kept in the database for that window ([`Gateway::forget_old_nonces`]), so a
    /// restart forgets none and every gateway process on the database sees the others'.
    fn remember_nonce(&self, station_id: &str, nonce: &str, time: i64) -> Result<(), Refusal> {
        let inserted = self.db().execute(
            "INSERT INTO request_nonce (station_id, nonce, time) VALUES (?1, ?2, ?3)",
            params![station_id, nonce, time],
        );
        match inserted {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(Refusal::new(
                    StatusCode::UNAUTHORIZED,
                    "REQUEST_REPLAYED",
                    "this signed request was received before: a replay is refused (a station signs every request anew; if this station did not send it twice, report it)",
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Drops the nonces of requests too old to pass the clock check again.
    pub(crate) fn forget_old_nonces(&self) -> Result<(), Refusal> {
        let oldest = self.now() - self.inner.cfg.clock_skew;
        self.db()
            .execute("DELETE FROM request_nonce WHERE time < ?1", [oldest])?;
        Ok(())
    }

    fn check_clock(&self, time: i64) -> Result<(), Refusal> {
        let skew = time - self.now();
        if skew.abs() > self.inner.cfg.clock_skew {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "CLOCK_SKEW",
                format!(
                    "the station's clock is {skew} s off the data center's (tolerance {} s): set the station's date and time",
                    self.inner.cfg.clock_skew
                ),
            ));
        }
        Ok(())
    }

    /// Registers a station: the token must be unused and issued for this station id.
    pub fn register(&self, reg: &Registration) -> Result<(), Refusal> {
        let key = reg.verify()?;
        self.check_clock(reg.time)?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let token: Option<(String, Option<i64>, i64)> = tx
            .query_row(
                "SELECT station_id, used_at, issued_at FROM token WHERE token = ?1",
                [&reg.token],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let lifetime = self.inner.cfg.token_lifetime.as_secs() as i64;
        match token {
            Some((station, None, issued)) if station == reg.station_id => {
                if now - issued > lifetime {
                    return Err(Refusal::new(
                        StatusCode::FORBIDDEN,
                        "TOKEN_EXPIRED",
                        format!(
                            "the registration token expired {} day(s) after it was issued: ask the Dinas for a new one",
                            lifetime / 86_400
                        ),
                    ));
                }
            }
            _ => {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    "TOKEN_INVALID",
                    "the registration token is unknown, used, or for another station: ask the Dinas for a new one",
                ));
            }
        }
        // A station registers once; after its keys were revoked (a stolen laptop), a
        // replacement machine registers under the same id with a new token.
        let existing: Option<(String, i64)> = tx
            .query_row(
                "SELECT s.kecamatan, (SELECT COUNT(*) FROM station_key k
                     WHERE k.station_id = s.station_id
                       AND NOT EXISTS (SELECT 1 FROM key_revocation r WHERE r.key_id = k.key_id))
                 FROM station s WHERE s.station_id = ?1",
                [&reg.station_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match existing {
            Some((_, live)) if live > 0 => {
                return Err(Refusal::new(
                    StatusCode::CONFLICT,
                    "STATION_EXISTS",
                    format!(
                        "station {} is registered already: rotate its key instead",
                        reg.station_id
                    ),
                ));
            }
            Some((kecamatan, _)) if kecamatan != reg.kecamatan => {
                return Err(Refusal::new(
                    StatusCode::CONFLICT,
                    "STATION_EXISTS",
                    format!(
                        "station {} was registered for kecamatan {kecamatan}: a replacement keeps its kecamatan",
                        reg.station_id
                    ),
                ));
            }
            Some(_) => {}
            None => {
                tx.execute(
                    "INSERT INTO station (station_id, kecamatan, registered_at) VALUES (?1, ?2, ?3)",
                    params![reg.station_id, reg.kecamatan, now],
                )?;
            }
        }
        tx.execute(
            "UPDATE token SET used_at = ?1 WHERE token = ?2",
            params![now, reg.token],
        )?;
        // A token may grant a role beyond the counter's: the hub's or the Dinas's.
        let role: Option<String> = tx
            .query_row(
                "SELECT role FROM token_role WHERE token = ?1",
                [&reg.token],
                |r| r.get(0),
            )
            .optional()?;
        match role.as_deref() {
            Some("hub") => {
                tx.execute(
                    "INSERT OR REPLACE INTO hub_station (station_id, kecamatan, granted_at)
                     VALUES (?1, ?2, ?3)",
                    params![reg.station_id, reg.kecamatan, now],
                )?;
            }
            Some("dinas") => {
                let kecamatan = db::station_kecamatan(&tx, &reg.station_id)?
                    .ok_or_else(|| Refusal::internal("a station registered and gone"))?;
                tx.execute(
                    "INSERT OR REPLACE INTO dinas_station (station_id, regency, granted_at)
                     VALUES (?1, ?2, ?3)",
                    params![reg.station_id, regency(&kecamatan), now],
                )?;
            }
            _ => {}
        }
        tx.execute(
            "INSERT INTO station_key (key_id, station_id, public_key, added_at) VALUES (?1, ?2, ?3, ?4)",
            params![KeyId::of(key.as_bytes()).to_string(), reg.station_id, reg.public_key, now],
        )?;
        tx.commit()?;
        tracing::info!(station = %reg.station_id, "station registered");
        Ok(())
    }

    /// Commits the upload `upload_id` as packet `packet_id` for `station_id`: the receipt, the
    /// same one for a repeated commit. An upload whose bytes are refused is discarded, so the
    /// station's next attempt sends the packet afresh instead of committing the same bad bytes.
    pub fn commit(
        &self,
        station_id: &str,
        packet_id: &str,
        upload_id: &str,
    ) -> Result<Receipt, Refusal> {
        let result = self.commit_upload(station_id, packet_id, upload_id);
        if let Err(r) = &result {
            let keep = r.status.is_server_error()
                || matches!(
                    r.code,
                    "UPLOAD_INCOMPLETE" | "UPLOAD_UNKNOWN" | "PACKET_CONFLICT"
                );
            if !keep {
                self.forget_upload(station_id, upload_id);
            }
        }
        result
    }

    fn commit_upload(
        &self,
        station_id: &str,
        packet_id: &str,
        upload_id: &str,
    ) -> Result<Receipt, Refusal> {
        let upload: Option<(String, String, i64)> = self
            .db()
            .query_row(
                "SELECT station_id, packet_id, length FROM upload WHERE upload_id = ?1",
                [upload_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((_, upload_packet, length)) = upload.filter(|u| u.0 == station_id) else {
            return self.consumed(station_id, packet_id, upload_id);
        };
        let file = crate::tus::file(self, upload_id);
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            // Another process committed it between the two reads and let go of the upload.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return self.consumed(station_id, packet_id, upload_id);
            }
            Err(e) => return Err(Refusal::internal(e)),
        };
        if bytes.len() as i64 != length {
            return Err(Refusal::new(
                StatusCode::CONFLICT,
                "UPLOAD_INCOMPLETE",
                format!(
                    "the upload holds {} of {length} bytes: resume it before committing",
                    bytes.len()
                ),
            ));
        }
        if upload_packet != packet_id {
            return Err(Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "PACKET_HEADER_MISMATCH",
                format!("upload {upload_id} is for packet {upload_packet}, not {packet_id}"),
            ));
        }
        let owner = match self.hub_kecamatan(station_id)? {
            Some(kecamatan) => self.relayed_for(&kecamatan, &bytes)?,
            None => station_id.to_owned(),
        };
        let receipt = self.record(&owner, packet_id, &bytes)?;
        self.forget_upload(station_id, upload_id);
        Ok(receipt)
    }

    /// A commit whose upload was consumed already (repeated, or committed by another process
    /// at the same time) answers from the packet row (a hub's, from the row of the station it
    /// relayed for).
    fn consumed(
        &self,
        station_id: &str,
        packet_id: &str,
        upload_id: &str,
    ) -> Result<Receipt, Refusal> {
        let owner = match self.hub_kecamatan(station_id)? {
            Some(kecamatan) => self.relayed_owner(&kecamatan, packet_id)?,
            None => Some(station_id.to_owned()),
        };
        owner
            .map(|owner| self.stored_receipt(&owner, packet_id, None))
            .transpose()?
            .flatten()
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::NOT_FOUND,
                    "UPLOAD_UNKNOWN",
                    format!("no upload {upload_id} of this station: upload the packet again"),
                )
            })
    }

    /// The kecamatan a station relays for, if it is a kecamatan server.
    pub(crate) fn hub_kecamatan(&self, station_id: &str) -> Result<Option<String>, Refusal> {
        Ok(self
            .db()
            .query_row(
                "SELECT kecamatan FROM hub_station WHERE station_id = ?1",
                [station_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The station a hub of `kecamatan` relays `bytes` for: the one that sealed it, which must
    /// be registered in the hub's kecamatan.
    fn relayed_for(&self, kecamatan: &str, bytes: &[u8]) -> Result<String, Refusal> {
        let owner = SealedPacket::parse(bytes)?.header().station_id.clone();
        self.of_hubs_kecamatan(kecamatan, &owner, "packets")?;
        Ok(owner)
    }

    /// Refuses what a kecamatan server of `kecamatan` carries (`what`: its packets, its
    /// requests) for `station` unless the station is registered in that kecamatan.
    pub(crate) fn of_hubs_kecamatan(
        &self,
        kecamatan: &str,
        station: &str,
        what: &str,
    ) -> Result<(), Refusal> {
        if db::station_kecamatan(&self.db(), station)?.as_deref() == Some(kecamatan) {
            return Ok(());
        }
        Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "NOT_THE_HUBS_KECAMATAN",
            format!(
                "station {station} is not a station of kecamatan {kecamatan}: a kecamatan server carries its own kecamatan's {what} only"
            ),
        ))
    }

    /// The station whose packet `packet_id` a hub of `kecamatan` relayed, if it is recorded
    /// and of that kecamatan.
    fn relayed_owner(&self, kecamatan: &str, packet_id: &str) -> Result<Option<String>, Refusal> {
        Ok(self
            .db()
            .query_row(
                "SELECT p.station_id FROM packet p JOIN station s ON s.station_id = p.station_id
                  WHERE p.packet_id = ?1 AND s.kecamatan = ?2",
                [packet_id, kecamatan],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records the sealed packet `bytes` of `station_id` as `packet_id`, exactly once: verifies
    /// the station's signature, decrypts, validates the manifest, and answers with the receipt
    /// (the stored one for a packet recorded before).
    pub fn record(
        &self,
        station_id: &str,
        packet_id: &str,
        bytes: &[u8],
    ) -> Result<Receipt, Refusal> {
        let sealed = SealedPacket::parse(bytes)?;
        let header = sealed.header().clone();
        if header.station_id != station_id {
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "STATION_MISMATCH",
                format!(
                    "the packet was sealed by station {}, not by {station_id}: a station sends its own packets only",
                    header.station_id
                ),
            ));
        }
        if header.packet_id.belongs_to(station_id) == Some(false) {
            return Err(not_the_stations(station_id, packet_id));
        }
        let id = header.packet_id.to_string();
        if id != packet_id {
            return Err(Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "PACKET_HEADER_MISMATCH",
                format!("the upload holds packet {id}, not {packet_id}"),
            ));
        }
        let content_hash = sealed.content_hash();
        if let Some(r) = self.stored_receipt(station_id, packet_id, Some(&sealed))? {
            return Ok(r);
        }
        // Any key the station has held: a packet sealed before a rotation is still in its
        // outbox. Online, the request that delivers it was signed with the current key.
        let key = {
            let conn = self.db();
            let key = db::station_key(&conn, station_id, &header.station_key.to_string())?.ok_or(
                PacketError::UnknownKey {
                    role: "station",
                    id: header.station_key,
                },
            )?;
            // Not even a packet sealed before the revocation: the thief can seal with any
            // date, so a revoked key's word is worth nothing.
            if let Some(at) = key.revoked_at {
                return Err(crate::revoke::refuse_revoked(
                    &conn,
                    self.now(),
                    station_id,
                    &header.station_key.to_string(),
                    at,
                    &format!("packet {packet_id}"),
                ));
            }
            key
        };
        let public = key.public_key;
        let opened = sealed.open(&verifying_key_from_hex(&public)?, &self.inner.dc)?;
        let recording = Recording::from_contents(&opened.contents).map_err(|why| {
            Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "RECORDING_INVALID",
                format!("the packet's manifest is invalid: {why}"),
            )
        })?;
        // Written before the row that names it: a committed packet's bytes are always there.
        let object = self.inner.objects.put(bytes)?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Recorded by another process since the check above: its receipt, once.
        let recorded = tx
            .query_row(
                "SELECT 1 FROM packet WHERE packet_id = ?1",
                [packet_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if recorded {
            drop(tx);
            drop(conn);
            return self
                .stored_receipt(station_id, packet_id, Some(&sealed))?
                .ok_or_else(|| Refusal::internal("a packet recorded and gone"));
        }
        let kecamatan = db::station_kecamatan(&tx, station_id)?
            .ok_or_else(|| Refusal::internal("a station with a key and no row"))?;
        if recording.manifest.kecamatan != kecamatan {
            return Err(Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "RECORDING_INVALID",
                format!(
                    "the packet names kecamatan {}, the station is registered for {kecamatan}",
                    recording.manifest.kecamatan
                ),
            ));
        }
        let receipt_no: i64 = tx.query_row(
            "SELECT COALESCE(MAX(receipt_no), 0) + 1 FROM packet",
            [],
            |r| r.get(0),
        )?;
        let receipt = Receipt::new(
            &self.inner.dc,
            packet_id,
            station_id,
            &content_hash,
            now,
            receipt_no,
        );
        let receipt_json = serde_json::to_string(&receipt).map_err(Refusal::internal)?;
        // Biodata from an extract older than the limit when sealed: recorded, and listed.
        if let Some(rekam_domain::population::Source::Extract {
            region,
            sequence,
            as_of,
            ..
        }) = &recording.manifest.biodata_source
        {
            let age_days = (header.sealed_at - as_of.unix_timestamp()) / 86_400;
            if age_days > rekam_domain::population::STALE_AFTER_DAYS {
                tx.execute(
                    "INSERT OR IGNORE INTO stale_biodata
                         (packet_id, station_id, region, sequence, age_days, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        packet_id,
                        station_id,
                        region,
                        *sequence as i64,
                        age_days,
                        now
                    ],
                )?;
            }
        }
        tx.execute(
            "INSERT INTO packet (receipt_no, packet_id, station_id, content_hash, size, sealed, object, received_at, receipt)
             VALUES (?1, ?2, ?3, ?4, ?5, x'', ?6, ?7, ?8)",
            params![
                receipt_no,
                packet_id,
                station_id,
                hex::encode(content_hash),
                bytes.len() as i64,
                object,
                now,
                receipt_json
            ],
        )?;
        publish(
            &tx,
            &self.inner.dc,
            packet_id,
            station_id,
            Outcome::new(Status::SentForEnrollment),
            now,
        )?;
        tx.commit()?;
        drop(conn);
        tracing::info!(packet = %packet_id, station = %station_id, receipt_no, "packet recorded");
        Ok(receipt)
    }

    /// The receipt of a packet already recorded for this station. With the packet `sent`
    /// again, a packet id recorded with other content is a conflict; a packet whose last
    /// result asked for a resend is stored again (replacing a damaged or lost copy) and queued
    /// for matching again.
    fn stored_receipt(
        &self,
        station_id: &str,
        packet_id: &str,
        sent: Option<&SealedPacket>,
    ) -> Result<Option<Receipt>, Refusal> {
        let hash = sent.map(SealedPacket::content_hash);
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String, String)> = tx
            .query_row(
                "SELECT station_id, content_hash, receipt FROM packet WHERE packet_id = ?1",
                [packet_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((owner, stored_hash, receipt)) = row else {
            return Ok(None);
        };
        if owner != station_id {
            // Packet ids are random: another station's id means one of the two learned it
            // (a summons letter prints it) and sealed a packet under it first. The genuine
            // packet cannot be recorded until packets are keyed by station as well (issue 27);
            // until then both stations are flagged for the Dinas.
            let now = self.now();
            for (station, what) in [
                (
                    station_id,
                    format!(
                        "its packet {packet_id} is recorded already from station {owner}: a packet id taken by another station; call the Dinas"
                    ),
                ),
                (
                    owner.as_str(),
                    format!(
                        "station {station_id} sent a packet under the id of this station's packet {packet_id}"
                    ),
                ),
            ] {
                tx.execute(
                    "INSERT INTO audit_alarm (station_id, at, what) VALUES (?1, ?2, ?3)",
                    params![station, now, what],
                )?;
            }
            tx.commit()?;
            tracing::warn!(%station_id, %owner, %packet_id, "a packet id used by two stations");
            return Err(Refusal::new(
                StatusCode::CONFLICT,
                "PACKET_CONFLICT",
                format!(
                    "packet {packet_id} is recorded already from another station: the data center's staff were alerted; keep the packet and call the Dinas"
                ),
            ));
        }
        if hash.is_some_and(|h| hex::encode(h) != stored_hash) {
            return Err(Refusal::new(
                StatusCode::CONFLICT,
                "PACKET_CONFLICT",
                format!(
                    "packet {packet_id} is recorded already with other content: a packet id is used once"
                ),
            ));
        }
        let last: Option<String> = tx
            .query_row(
                "SELECT event FROM result WHERE packet_id = ?1 ORDER BY cursor DESC LIMIT 1",
                [packet_id],
                |r| r.get(0),
            )
            .optional()?;
        let failed = last
            .and_then(|e| serde_json::from_str::<ResultEvent>(&e).ok())
            .is_some_and(|e| e.status == Status::EnrollFailureAtCentral);
        if let (true, Some(sent)) = (failed, sent) {
            let object = self.inner.objects.put(sent.as_bytes())?;
            tx.execute(
                "UPDATE packet SET decided = 0, received_at = ?1, object = ?3 WHERE packet_id = ?2",
                params![self.now(), packet_id, object],
            )?;
            publish(
                &tx,
                &self.inner.dc,
                packet_id,
                station_id,
                Outcome::new(Status::SentForEnrollment)
                    .because("sent again after a failure at the data center"),
                self.now(),
            )?;
        }
        tx.commit()?;
        Ok(Some(
            serde_json::from_str(&receipt).map_err(Refusal::internal)?,
        ))
    }

    fn forget_upload(&self, station_id: &str, upload_id: &str) {
        let removed = self.db().execute(
            "DELETE FROM upload WHERE upload_id = ?1 AND station_id = ?2",
            [upload_id, station_id],
        );
        match removed {
            Ok(1) => {
                let _ = std::fs::remove_file(crate::tus::file(self, upload_id));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "upload row not removed"),
        }
    }
}

/// What the data center says of a packet: a status, the packet it matched, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub status: Status,
    pub matched: Option<String>,
    pub reason: Option<String>,
}

impl Outcome {
    pub(crate) fn new(status: Status) -> Outcome {
        Outcome {
            status,
            matched: None,
            reason: None,
        }
    }

    pub(crate) fn because(mut self, reason: impl Into<String>) -> Outcome {
        self.reason = Some(reason.into());
        self
    }

    pub(crate) fn matching(mut self, packet: Option<String>) -> Outcome {
        self.matched = packet;
        self
    }
}

/// Appends a signed result event for `packet_id` of `station_id`.
pub(crate) fn publish(
    tx: &rusqlite::Transaction<'_>,
    dc: &rekam_packet::DcKeys,
    packet_id: &str,
    station_id: &str,
    outcome: Outcome,
    at: i64,
) -> rusqlite::Result<()> {
    let cursor: i64 = tx.query_row("SELECT COALESCE(MAX(cursor), 0) + 1 FROM result", [], |r| {
        r.get(0)
    })?;
    // Another station's record is named by the data center's reference, never by its packet
    // id: a packet id is what the Dinas fetches a print order by, and is printed on that
    // resident's summons letter.
    let matched = match outcome.matched {
        Some(m) => Some(
            tx.query_row(
                "SELECT station_id, receipt_no FROM packet WHERE packet_id = ?1",
                [&m],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()?
            .map_or_else(
                || m.clone(),
                |(owner, receipt_no)| {
                    if owner == station_id {
                        m.clone()
                    } else {
                        opaque_reference(receipt_no)
                    }
                },
            ),
        ),
        None => None,
    };
    let mut event = ResultEvent {
        cursor,
        packet_id: packet_id.into(),
        station_id: station_id.into(),
        status: outcome.status,
        matched_packet: matched,
        reason: outcome.reason,
        at,
        signature: String::new(),
    };
    event.sign(dc);
    let json = serde_json::to_string(&event)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.execute(
        "INSERT INTO result (cursor, packet_id, station_id, event) VALUES (?1, ?2, ?3, ?4)",
        params![cursor, packet_id, station_id, json],
    )?;
    Ok(())
}

/// A packet id bound to another station ([`PacketId::for_station`]): one learnt from a summons
/// letter, sent before the genuine packet; refused, so the genuine packet is recorded when it
/// comes.
pub(crate) fn not_the_stations(station_id: &str, packet_id: &str) -> Refusal {
    tracing::warn!(%station_id, %packet_id, "a packet under another station's packet id");
    Refusal::new(
        StatusCode::FORBIDDEN,
        "PACKET_ID_NOT_YOURS",
        format!(
            "packet id {packet_id} belongs to another station: a station sends packets under its own ids only"
        ),
    )
}

/// How a result names a record of another station: its receipt number at the data center,
/// which an adjudicator looks up there and which opens nothing anywhere else.
pub fn opaque_reference(receipt_no: i64) -> String {
    format!("DC-{receipt_no:08}")
}

async fn identity(State(gw): State<Gateway>) -> Json<rekam_packet::DcIdentity> {
    Json(gw.identity().clone())
}

/// What a signed request brings: its method, path, headers and body.
pub(crate) type SignedParts = (Method, Uri, HeaderMap, Bytes);

/// A signed request with a JSON body about the path's `id`, handled off the async threads:
/// the signature checked, the body read as `T`, then `handle(gateway, station, id, body)`.
pub(crate) async fn signed_json<T, R>(
    gw: Gateway,
    id: String,
    (method, uri, headers, body): SignedParts,
    handle: fn(&Gateway, &str, &str, &T) -> Result<R, Refusal>,
) -> Result<R, Refusal>
where
    T: serde::de::DeserializeOwned + Send + 'static,
    R: Send + 'static,
{
    let station = gw.authenticate(&method, &uri, &headers, &body_hash(&body))?;
    let parsed: T = json_body(&body)?;
    tokio::task::spawn_blocking(move || handle(&gw, &station, &id, &parsed))
        .await
        .map_err(Refusal::internal)?
}

pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            format!("the request body is not valid: {e}"),
        )
    })
}

async fn register(
    State(gw): State<Gateway>,
    body: Bytes,
) -> Result<(StatusCode, Json<rekam_packet::DcIdentity>), Refusal> {
    let reg: Registration = json_body(&body)?;
    gw.register(&reg)?;
    Ok((StatusCode::CREATED, Json(gw.identity().clone())))
}

/// The refusal of a retired key, with what to do.
fn retired(station: &str, key: KeyId, row: &db::KeyRow) -> Refusal {
    let when = row.retired_at.map_or_else(String::new, |t| {
        format!(" at {}", crate::revoke::rfc3339(t))
    });
    Refusal::new(
        StatusCode::UNAUTHORIZED,
        "STATION_KEY_RETIRED",
        format!(
            "key {key} of station {station} was replaced{when}: sign with the station's current key (a rotation cut off before the station put its new key in place is finished by running it again); if nobody at the station rotated it, report the key as stolen"
        ),
    )
}

async fn rotate(
    State(gw): State<Gateway>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Refusal> {
    let station = gw.authenticate(&method, &uri, &headers, &body_hash(&body))?;
    let rot: KeyRotation = json_body(&body)?;
    if rot.station_id != station {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "STATION_MISMATCH",
            "a station rotates its own key only",
        ));
    }
    let mut conn = gw.db();
    let old = db::station_key(&conn, &station, &rot.old_key.to_string())?.ok_or(
        PacketError::UnknownKey {
            role: "station",
            id: rot.old_key,
        },
    )?;
    if let Some(at) = old.revoked_at {
        return Err(crate::revoke::refuse_revoked(
            &conn,
            gw.now(),
            &station,
            &rot.old_key.to_string(),
            at,
            "key rotation",
        ));
    }
    // Only the current key rotates: a retired key (a copy of an old laptop, a replayed
    // statement) must not bring a key of its own in.
    let old = old
        .current()
        .ok_or_else(|| retired(&station, rot.old_key, &old))?;
    let new = rot.verify(&verifying_key_from_hex(old)?)?;
    let now = gw.now();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "UPDATE station_key SET retired_at = ?1 WHERE key_id = ?2 AND retired_at IS NULL",
        params![now, rot.old_key.to_string()],
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO station_key (key_id, station_id, public_key, added_at) VALUES (?1, ?2, ?3, ?4)",
        params![KeyId::of(new.as_bytes()).to_string(), station, rot.new_public_key, now],
    )?;
    tx.commit()?;
    tracing::info!(%station, old = %rot.old_key, "station key rotated");
    Ok(StatusCode::NO_CONTENT)
}

async fn commit(
    State(gw): State<Gateway>,
    Path(packet_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Receipt>, Refusal> {
    let station = gw.authenticate(&method, &uri, &headers, &body_hash(&body))?;
    let req: CommitRequest = json_body(&body)?;
    let receipt =
        tokio::task::spawn_blocking(move || gw.commit(&station, &packet_id, &req.upload_id))
            .await
            .map_err(Refusal::internal)??;
    Ok(Json(receipt))
}

#[derive(Debug, Deserialize)]
struct FeedQuery {
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

async fn results(
    State(gw): State<Gateway>,
    Query(q): Query<FeedQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<ResultsPage>, Refusal> {
    let station = gw.authenticate(&method, &uri, &headers, &body_hash(b""))?;
    feed_page(
        &gw,
        "SELECT event FROM result WHERE station_id = ?1 AND cursor > ?2 ORDER BY cursor LIMIT ?3",
        &station,
        &q,
    )
}

/// The result feed of every counter of the requesting hub's kecamatan, in feed order: the hub
/// keeps it for counters that cannot reach the data center. The events are the ones each
/// counter would read itself, signed by the data center, so the hub can neither forge nor
/// alter one.
async fn hub_results(
    State(gw): State<Gateway>,
    Query(q): Query<FeedQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<ResultsPage>, Refusal> {
    let hub = gw.authenticate(&method, &uri, &headers, &body_hash(b""))?;
    let Some(kecamatan) = gw.hub_kecamatan(&hub)? else {
        return Err(not_a_hub(&hub, "its kecamatan"));
    };
    feed_page(
        &gw,
        "SELECT r.event FROM result r JOIN station s ON s.station_id = r.station_id
          WHERE s.kecamatan = ?1 AND r.cursor > ?2 ORDER BY r.cursor LIMIT ?3",
        &kecamatan,
        &q,
    )
}

/// One page of result events from `sql` (taking the station or kecamatan, the cursor and the
/// limit), with the cursor to read on from.
fn feed_page(
    gw: &Gateway,
    sql: &str,
    whose: &str,
    q: &FeedQuery,
) -> Result<Json<ResultsPage>, Refusal> {
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    let conn = gw.db();
    let mut stmt = conn.prepare(sql)?;
    let events = stmt
        .query_map(params![whose, q.after, limit], |r| r.get::<_, String>(0))?
        .map(|row| {
            let text = row?;
            serde_json::from_str::<ResultEvent>(&text).map_err(Refusal::internal)
        })
        .collect::<Result<Vec<_>, Refusal>>()?;
    let next_cursor = events.last().map_or(q.after, |e| e.cursor);
    Ok(Json(ResultsPage {
        events,
        next_cursor,
    }))
}

/// The refusal of a hub's request from a station registered without a hub token.
pub(crate) fn not_a_hub(station: &str, kecamatan: &str) -> Refusal {
    Refusal::new(
        StatusCode::FORBIDDEN,
        "NOT_A_HUB",
        format!(
            "station {station} is not the kecamatan server of {kecamatan}: register it with a hub token"
        ),
    )
}

/// The clean data of a PRINT_READY_RECORD for personalisation, signed with the receipt key.
/// The reference gives it to any registered station; a production data center would release it
/// only to the Dinas stations of the resident's regency.
async fn print_order(
    State(gw): State<Gateway>,
    Path(packet_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<SignedPrintOrder>, Refusal> {
    let requester = gw.authenticate(&method, &uri, &headers, &body_hash(b""))?;
    tokio::task::spawn_blocking(move || {
        let answer = gw.print_order_for(&requester, &packet_id);
        let outcome = match &answer {
            Ok(_) => "given".to_owned(),
            Err(r) => format!("refused: {}", r.code),
        };
        gw.db().execute(
            "INSERT INTO print_fetch (at, station_id, packet_id, outcome) VALUES (?1, ?2, ?3, ?4)",
            params![gw.now(), requester, packet_id, outcome],
        )?;
        answer.map(Json)
    })
    .await
    .map_err(Refusal::internal)?
}

/// The status of `packet_id`'s latest result event, if it has one.
pub(crate) fn latest_status(
    conn: &rusqlite::Connection,
    packet_id: &str,
) -> rusqlite::Result<Option<Status>> {
    let event: Option<String> = conn
        .query_row(
            "SELECT event FROM result WHERE packet_id = ?1 ORDER BY cursor DESC LIMIT 1",
            [packet_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(event
        .and_then(|e| serde_json::from_str::<ResultEvent>(&e).ok())
        .map(|e| e.status))
}

/// The regency (kabupaten/kota) of a kecamatan code, dotted: `32.73` of `327301` or
/// `32.73.01`.
pub(crate) fn regency(kecamatan: &str) -> String {
    let digits: String = kecamatan.chars().filter(char::is_ascii_digit).collect();
    match (digits.get(..2), digits.get(2..4)) {
        (Some(province), Some(regency)) => format!("{province}.{regency}"),
        _ => kecamatan.to_owned(),
    }
}

/// SQL for the regency, four digits, where the resident of the packet `p` (its station `s`)
/// lives now: that of the newest address a reissue gave the record, else that of the
/// kecamatan that recorded it. Its Dinas prints the card; its service points take the
/// resident's reissue requests.
pub(crate) const HOME_REGENCY: &str = "COALESCE(
    (SELECT b.regency FROM record_biodata b
     WHERE b.packet_id = p.packet_id AND b.regency IS NOT NULL ORDER BY b.seq DESC LIMIT 1),
    substr(replace(s.kecamatan, '.', ''), 1, 4))";

/// The regency, dotted, where the resident recorded in `packet_id` lives now
/// ([`HOME_REGENCY`]); `None` for a packet the data center does not hold.
pub(crate) fn home_regency(
    conn: &rusqlite::Connection,
    packet_id: &str,
) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        &format!(
            "SELECT {HOME_REGENCY} FROM packet p JOIN station s ON s.station_id = p.station_id
             WHERE p.packet_id = ?1"
        ),
        [packet_id],
        |r| r.get::<_, String>(0),
    )
    .optional()
    .map(|home| home.map(|digits| regency(&digits)))
}

impl Gateway {
    /// The signed print order of `packet_id`, if `requester` is the Dinas of the resident's
    /// regency and the record is PRINT_READY_RECORD.
    fn print_order_for(
        &self,
        requester: &str,
        packet_id: &str,
    ) -> Result<SignedPrintOrder, Refusal> {
        let dinas_of = self.dinas_regency(requester)?;
        let (station_id, object, status, changed) = {
            let conn = self.db();
            let Some((station_id, object, home)) = conn
                .query_row(
                    &format!(
                        "SELECT p.station_id, p.object, {HOME_REGENCY}
                         FROM packet p JOIN station s ON s.station_id = p.station_id
                         WHERE p.packet_id = ?1"
                    ),
                    [packet_id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    },
                )
                .optional()?
            else {
                return Err(Refusal::new(
                    StatusCode::NOT_FOUND,
                    "UNKNOWN_PACKET",
                    format!("no packet {packet_id} at this data center"),
                ));
            };
            if regency(&home) != dinas_of {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    "PRINT_ORDER_FORBIDDEN",
                    format!(
                        "the resident of packet {packet_id} lives in regency {}, and station {requester} is the Dinas of {dinas_of}: the Dinas of the resident's regency prints the card",
                        regency(&home)
                    ),
                ));
            }
            (
                station_id,
                object,
                latest_status(&conn, packet_id)?,
                crate::reissue::changed_biodata(&conn, packet_id)?,
            )
        };
        if status != Some(Status::PrintReadyRecord) {
            return Err(Refusal::new(
                StatusCode::CONFLICT,
                "NOT_PRINT_READY",
                format!("packet {packet_id} is {status:?}, not PRINT_READY_RECORD"),
            ));
        }
        self.no_card_in_circulation(packet_id)?;
        let sealed = self.inner.objects.get(&object)?;
        let rec = self
            .open_recording(&station_id, &sealed)
            .map_err(Refusal::internal)?;
        let mut order = results::print_order(&rec).map_err(Refusal::internal)?;
        if let Some(biodata) = changed {
            // A data change or a move since the recording: the card carries the register's
            // biodata now, with the recording's biometrics.
            order.biodata = biodata;
        }
        let bytes = serde_json::to_vec(&order).map_err(Refusal::internal)?;
        Ok(SignedPrintOrder::sign(&self.inner.dc, packet_id, &bytes))
    }

    /// Every print order fetch, granted or refused, oldest first: (Unix seconds, station,
    /// packet, outcome).
    pub fn print_fetches(&self) -> Result<Vec<(i64, String, String, String)>, crate::GatewayError> {
        let conn = self.db();
        let mut stmt = conn
            .prepare("SELECT at, station_id, packet_id, outcome FROM print_fetch ORDER BY seq")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

async fn heartbeat(
    State(gw): State<Gateway>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Refusal> {
    let station = gw.authenticate(&method, &uri, &headers, &body_hash(&body))?;
    let hb: Heartbeat = json_body(&body)?;
    if let Some(head) = &hb.backlog.audit_head {
        gw.anchor_audit_head(&station, head)?;
    }
    gw.db().execute(
        "INSERT INTO heartbeat (station_id, at, version, backlog) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (station_id) DO UPDATE SET at = excluded.at, version = excluded.version, backlog = excluded.backlog",
        params![
            station,
            gw.now(),
            hb.version,
            serde_json::to_string(&hb.backlog).map_err(Refusal::internal)?
        ],
    )?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/hubs/snoop`: a kecamatan server's counters and records not yet final, kept as
/// the hub's latest.
async fn snoop(
    State(gw): State<Gateway>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Refusal> {
    let station = gw.authenticate(&method, &uri, &headers, &body_hash(&body))?;
    let snoop: rekam_packet::hub::Snoop = json_body(&body)?;
    match gw.hub_kecamatan(&station)? {
        Some(kecamatan) if kecamatan == snoop.kecamatan => {}
        _ => {
            return Err(not_a_hub(
                &station,
                &format!("kecamatan {}", snoop.kecamatan),
            ));
        }
    }
    gw.db().execute(
        "INSERT INTO hub_snoop (station_id, kecamatan, received_at, snoop) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (station_id) DO UPDATE SET kecamatan = excluded.kecamatan,
             received_at = excluded.received_at, snoop = excluded.snoop",
        params![
            station,
            snoop.kecamatan,
            gw.now(),
            serde_json::to_string(&snoop).map_err(Refusal::internal)?
        ],
    )?;
    Ok(StatusCode::NO_CONTENT)
}
