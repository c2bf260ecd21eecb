//! Reissue requests (`POST /v1/reissues/{request_id}`): a card made again for a resident
//! recorded before, from the data center's clean record, never from a second recording.
//!
//! The station sends `rekam_domain::reissue::ReissueRequest` in a request signed with its key.
//! The data center finds the resident's PRINT_READY_RECORD by NIK (or by the packet the station
//! names), retires the card in circulation (lost, damaged, or carrying data that changed) so
//! the record is back on the Dinas's print queue, keeps the new biodata of a data change or a
//! move for the print order, and answers with a decision signed by its receipt key. A request
//! it cannot serve is answered too, signed, with the refusal's code and what to do; the same
//! request again gets the same answer (`reissue`, keyed by the request id).
//!
//! A counter whose only link is its kecamatan server sends the request through it
//! (`POST /v1/relay/reissues/{request_id}`): sealed to the data center and signed with the
//! counter's key ([`RelayedReissue`]), so the server reads nothing of the resident and cannot
//! ask in a counter's name; the data center checks that the counter is of the server's
//! kecamatan and its key is current, then answers as if the counter had asked itself.
//!
//! A resident asks where they live (regular service at their domicile): a request is served
//! only from a station of the regency where the resident lives now, that of the new address
//! for a move or a data change, else that of the record ([`crate::api::HOME_REGENCY`]). So a
//! station, stolen or misused, cannot retire the cards of residents elsewhere; and after a
//! move the record goes to the print queue of the new regency's Dinas.

use crate::Gateway;
use crate::api::{Refusal, home_regency, json_body, latest_status, regency, signed_json};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use rekam_domain::biodata::Biodata;
use rekam_domain::reissue::ReissueRequest;
use rekam_packet::protocol::Status;
use rekam_packet::reissue::{ReissueAnswer, ReissueDecision, RelayedReissue};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

/// `POST /v1/reissues/{request_id}`.
pub(crate) async fn request(
    State(gw): State<Gateway>,
    Path(request_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ReissueAnswer>, Refusal> {
    let request = (method, uri, headers, body);
    signed_json(gw, request_id, request, Gateway::reissue)
        .await
        .map(Json)
}

/// `POST /v1/relay/reissues/{request_id}`: a counter's request carried by its kecamatan
/// server.
pub(crate) async fn relayed(
    State(gw): State<Gateway>,
    Path(request_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ReissueAnswer>, Refusal> {
    let request = (method, uri, headers, body);
    signed_json(gw, request_id, request, Gateway::relayed_reissue)
        .await
        .map(Json)
}

/// What the data center decides before it signs.
struct Decided {
    packet_id: Option<String>,
    refused: Option<&'static str>,
    reason: String,
}

fn refused(code: &'static str, reason: String) -> Decided {
    Decided {
        packet_id: None,
        refused: Some(code),
        reason,
    }
}

impl Gateway {
    /// Decides the request `request_id` that the kecamatan server `hub` carried for one of its
    /// counters: the counter must be of the server's kecamatan, and its signature verify
    /// under its current key.
    pub fn relayed_reissue(
        &self,
        hub: &str,
        request_id: &str,
        relayed: &RelayedReissue,
    ) -> Result<ReissueAnswer, Refusal> {
        let Some(kecamatan) = self.hub_kecamatan(hub)? else {
            return Err(crate::api::not_a_hub(hub, "any kecamatan"));
        };
        if relayed.request_id != request_id {
            return Err(Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "BAD_REQUEST",
                format!(
                    "the body carries request {}, the path names {request_id}",
                    relayed.request_id
                ),
            ));
        }
        let station = relayed.station_id.as_str();
        self.of_hubs_kecamatan(&kecamatan, station, "requests")?;
        let public = self.current_key(
            &self.db(),
            station,
            relayed.station_key,
            &format!("reissue request {request_id}"),
        )?;
        let sealed = relayed.verified(&rekam_packet::keys::verifying_key_from_hex(&public)?)?;
        let json = self.inner.dc.open_request(station, request_id, &sealed)?;
        let req: ReissueRequest = json_body(&json)?;
        self.reissue(station, request_id, &req)
    }

    /// Decides the reissue request `request_id` of `station` (the same answer for the same
    /// request again).
    pub fn reissue(
        &self,
        station: &str,
        request_id: &str,
        req: &ReissueRequest,
    ) -> Result<ReissueAnswer, Refusal> {
        if req.request_id != request_id || request_id.is_empty() || request_id.len() > 64 {
            return Err(Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "BAD_REQUEST",
                format!(
                    "the body names request {}, the path {request_id}: one id of 1-64 characters",
                    req.request_id
                ),
            ));
        }
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored: Option<(String, String)> = tx
            .query_row(
                "SELECT station_id, answer FROM reissue WHERE request_id = ?1",
                [request_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((owner, answer)) = stored {
            if owner != station {
                return Err(Refusal::new(
                    StatusCode::CONFLICT,
                    "REQUEST_ID_TAKEN",
                    format!("request {request_id} is another station's: a request id is used once"),
                ));
            }
            return serde_json::from_str(&answer).map_err(Refusal::internal);
        }
        let now = self.now();
        let decided = self.decide_reissue(&tx, station, req, now)?;
        let answer = ReissueAnswer::sign(
            &self.inner.dc,
            ReissueDecision {
                request_id: request_id.to_owned(),
                station_id: station.to_owned(),
                packet_id: decided.packet_id.clone(),
                refused: decided.refused.map(str::to_owned),
                reason: decided.reason,
                answered_at: now,
            },
        )?;
        tx.execute(
            "INSERT INTO reissue (request_id, station_id, case_type, packet_id, refused, answer, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                request_id,
                station,
                req.case.as_str(),
                decided.packet_id,
                decided.refused,
                serde_json::to_string(&answer).map_err(Refusal::internal)?,
                now
            ],
        )?;
        tx.commit()?;
        tracing::info!(request = %request_id, %station, refused = ?decided.refused, "reissue request answered");
        Ok(answer)
    }

    fn decide_reissue(
        &self,
        tx: &Transaction<'_>,
        station: &str,
        req: &ReissueRequest,
        now: i64,
    ) -> Result<Decided, Refusal> {
        if req.case.is_recording() {
            return Ok(refused(
                "NOT_A_REISSUE",
                format!(
                    "{} is a recording, not a reissue: send the recording's packet",
                    req.case.as_str()
                ),
            ));
        }
        let Some(packet_id) = clean_record(tx, &req.nik, req.packet_id.as_deref())? else {
            return Ok(refused(
                "NO_CLEAN_RECORD",
                "the data center holds no print-ready recording of this NIK: if the resident was recorded, the recording is not decided yet (ask again later) or was found a duplicate (clarify it); otherwise record the resident".into(),
            ));
        };
        let new_biodata = match (&req.biodata, req.case.changes_biodata()) {
            (Some(b), true) if b.nik.as_str() == req.nik => Some(b),
            (Some(_), true) => {
                return Ok(refused(
                    "BIODATA_MISMATCH",
                    "the new biodata is another resident's (its NIK differs): read the resident's biodata again by NIK".into(),
                ));
            }
            (None, true) => {
                return Ok(refused(
                    "BIODATA_MISSING",
                    "a data change or a move carries the biodata the population register holds now: update the register (SIAK) first, then ask again".into(),
                ));
            }
            (_, false) => None,
        };
        let lives_in = match new_biodata {
            Some(b) => regency(b.address.village.compact()),
            None => home_regency(tx, &packet_id)?.unwrap_or_default(),
        };
        let kecamatan = crate::db::station_kecamatan(tx, station)?.unwrap_or_default();
        if regency(&kecamatan) != lives_in {
            return Ok(refused(
                "NOT_THIS_REGENCY",
                // Where the resident lives is not told: any station may name any NIK.
                format!(
                    "the resident does not live in regency {}, which this station serves: a reissue is asked at a service point of the resident's regency (after a move, of the new one, with the move's biodata)",
                    regency(&kecamatan)
                ),
            ));
        }
        let retired: Option<String> = tx
            .query_row(
                "SELECT card_serial FROM card WHERE packet_id = ?1 AND returned_at IS NULL",
                [&packet_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(serial) = &retired {
            tx.execute(
                "UPDATE card SET returned_at = ?1, return_reason = ?2, returned_by = ?3
                 WHERE packet_id = ?4 AND card_serial = ?5",
                params![
                    now,
                    format!(
                        "reissue: {} (request {})",
                        req.case.as_str(),
                        req.request_id
                    ),
                    station,
                    packet_id,
                    serial
                ],
            )?;
        }
        if let Some(b) = new_biodata {
            tx.execute(
                "INSERT INTO record_biodata (packet_id, request_id, biodata, at, regency)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    packet_id,
                    req.request_id,
                    serde_json::to_string(b).map_err(Refusal::internal)?,
                    now,
                    lives_in.replace('.', "")
                ],
            )?;
        }
        let reason = match (retired, req.case) {
            (Some(serial), _) => format!(
                "card {serial} is retired; the resident's record is on the Dinas's print queue for a new card"
            ),
            (None, case) if case.changes_biodata() => {
                "the new card will carry the new biodata; the record is on the Dinas's print queue"
                    .into()
            }
            (None, _) => {
                "no card of this record is in circulation; the record is on the Dinas's print queue"
                    .into()
            }
        };
        Ok(Decided {
            packet_id: Some(packet_id),
            refused: None,
            reason,
        })
    }
}

/// The resident's clean record: the PRINT_READY_RECORD of `nik` (the one named, when the
/// station knows it and it is that resident's).
fn clean_record(
    tx: &Transaction<'_>,
    nik: &str,
    named: Option<&str>,
) -> rusqlite::Result<Option<String>> {
    let candidates: Vec<String> = tx
        .prepare("SELECT packet_id FROM person WHERE nik = ?1 ORDER BY receipt_no")?
        .query_map([nik], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for packet_id in candidates {
        if named.is_some_and(|n| n != packet_id) {
            continue;
        }
        if latest_status(tx, &packet_id)? == Some(Status::PrintReadyRecord) {
            return Ok(Some(packet_id));
        }
    }
    Ok(None)
}

/// The newest biodata a reissue gave the record `packet_id`, if any.
pub(crate) fn changed_biodata(
    conn: &rusqlite::Connection,
    packet_id: &str,
) -> Result<Option<Biodata>, Refusal> {
    let json: Option<String> = conn
        .query_row(
            "SELECT biodata FROM record_biodata WHERE packet_id = ?1 ORDER BY seq DESC LIMIT 1",
            [packet_id],
            |r| r.get(0),
        )
        .optional()?;
    json.map(|j| serde_json::from_str(&j).map_err(Refusal::internal))
        .transpose()
}
