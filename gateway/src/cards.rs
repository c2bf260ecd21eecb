//! The Dinas's print queue and the cards made from it (`rekam_packet::cards`): a Dinas station
//! lists the PRINT_READY_RECORD records of its regency with no card in circulation
//! (`GET /v1/print/queue`), reports each card it personalised (`POST /v1/print/{id}/card`), and
//! each card that came back (`POST /v1/print/{id}/card/returned`), which puts the record on
//! the list again.
//!
//! Invariant: a record has at most one card in circulation (`card`: a partial unique index on
//! the packet where `returned_at` is null), so two Dinas screens cannot both be told to print
//! it; a card's report and its return are each recorded once (a repeat is answered the same).

use crate::Gateway;
use crate::api::{HOME_REGENCY, Refusal, latest_status, regency};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use rekam_packet::cards::{CardIssued, CardReturned, PrintQueueEntry};
use rekam_packet::protocol::{ResultEvent, Status, body_hash};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::de::DeserializeOwned;

/// `GET /v1/print/queue`.
pub(crate) async fn queue(
    State(gw): State<Gateway>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Vec<PrintQueueEntry>>, Refusal> {
    let station = gw.authenticate(&method, &uri, &headers, &body_hash(b""))?;
    tokio::task::spawn_blocking(move || gw.print_queue(&station).map(Json))
        .await
        .map_err(Refusal::internal)?
}

/// `POST /v1/print/{packet_id}/card`.
pub(crate) async fn issued(
    State(gw): State<Gateway>,
    Path(packet_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Refusal> {
    let request = (method, uri, headers, body);
    record(gw, packet_id, request, Gateway::card_issued).await
}

/// `POST /v1/print/{packet_id}/card/returned`.
pub(crate) async fn returned(
    State(gw): State<Gateway>,
    Path(packet_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Refusal> {
    let request = (method, uri, headers, body);
    record(gw, packet_id, request, Gateway::card_returned).await
}

/// A Dinas's signed report about a card of `packet_id`, authenticated, read as `T` and kept
/// with `keep` off the runtime's threads.
async fn record<T: DeserializeOwned + Send + 'static>(
    gw: Gateway,
    packet_id: String,
    request: crate::api::SignedParts,
    keep: fn(&Gateway, &str, &str, &T) -> Result<(), Refusal>,
) -> Result<StatusCode, Refusal> {
    crate::api::signed_json(gw, packet_id, request, keep).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The card of `packet_id` in circulation, with the Dinas station that reported it.
fn card_out(
    conn: &rusqlite::Connection,
    packet_id: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT card_serial, dinas FROM card WHERE packet_id = ?1 AND returned_at IS NULL",
        [packet_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

fn in_circulation(packet_id: &str, serial: &str, by: &str) -> Refusal {
    Refusal::new(
        StatusCode::CONFLICT,
        "CARD_IN_CIRCULATION",
        format!(
            "packet {packet_id} has card {serial} in circulation (personalised by {by}): record that card's return before another is made"
        ),
    )
}

fn no_such_card(packet_id: &str, serial: &str) -> Refusal {
    Refusal::new(
        StatusCode::NOT_FOUND,
        "NO_SUCH_CARD",
        format!(
            "no card {serial} in circulation for packet {packet_id}: report the card when it is personalised, and check the serial on the chip"
        ),
    )
}

impl Gateway {
    /// Refuses a print order for a record with a card in circulation (reported by any Dinas
    /// station): a second card is made only after the first one's return is recorded.
    pub(crate) fn no_card_in_circulation(&self, packet_id: &str) -> Result<(), Refusal> {
        match card_out(&self.db(), packet_id)? {
            Some((serial, by)) => Err(in_circulation(packet_id, &serial, &by)),
            None => Ok(()),
        }
    }

    /// The regency `station` is the Dinas of, or the refusal a counter gets.
    pub(crate) fn dinas_regency(&self, station: &str) -> Result<String, Refusal> {
        self.db()
            .query_row(
                "SELECT regency FROM dinas_station WHERE station_id = ?1",
                [station],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::FORBIDDEN,
                    "PRINT_ORDER_FORBIDDEN",
                    format!(
                        "station {station} is not registered as a Dinas station: print orders and the print queue go to the Dinas of the resident's regency only (its station registers with a Dinas token)"
                    ),
                )
            })
    }

    /// The print queue of the Dinas `station`: its regency's PRINT_READY_RECORD records with no
    /// card in circulation, oldest result first.
    pub fn print_queue(&self, station: &str) -> Result<Vec<PrintQueueEntry>, Refusal> {
        let dinas_of = self.dinas_regency(station)?;
        let conn = self.db();
        let mut stmt = conn.prepare(&format!(
            "SELECT p.packet_id, p.station_id, s.kecamatan, n.nik, r.event,
                    (SELECT c.return_reason FROM card c WHERE c.packet_id = p.packet_id
                     ORDER BY c.seq DESC LIMIT 1)
             FROM packet p
             JOIN station s ON s.station_id = p.station_id
             JOIN person n ON n.packet_id = p.packet_id
             JOIN result r ON r.cursor = (SELECT MAX(cursor) FROM result WHERE packet_id = p.packet_id)
             WHERE json_extract(r.event, '$.status') = ?1
               AND {HOME_REGENCY} = ?2
               AND NOT EXISTS (SELECT 1 FROM card c WHERE c.packet_id = p.packet_id AND c.returned_at IS NULL)
             ORDER BY r.cursor",
        ))?;
        let regency_digits = dinas_of.replace('.', "");
        let rows = stmt.query_map(
            params![Status::PrintReadyRecord.as_str(), regency_digits],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            },
        )?;
        let mut queue = Vec::new();
        for row in rows {
            let (packet_id, station_id, kecamatan, nik, event, returned) = row?;
            let event: ResultEvent = serde_json::from_str(&event).map_err(Refusal::internal)?;
            queue.push(PrintQueueEntry {
                packet_id,
                station_id,
                kecamatan,
                masked_nik: rekam_domain::nik::Nik::parse(&nik)
                    .map(|n| n.masked().as_str().to_owned())
                    .map_err(Refusal::internal)?,
                ready_at: event.at,
                returned,
            });
        }
        Ok(queue)
    }

    /// Records that the Dinas `station` personalised `card` for `packet_id`. The same card
    /// again is answered as before; another card while one is in circulation is refused
    /// (`CARD_IN_CIRCULATION`), as is a record not on the Dinas's queue.
    pub fn card_issued(
        &self,
        station: &str,
        packet_id: &str,
        card: &CardIssued,
    ) -> Result<(), Refusal> {
        let serial = card.card_serial.trim();
        if serial.is_empty() || serial.len() > 64 {
            return Err(Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "CARD_SERIAL_INVALID",
                "a card's serial is 1-64 characters, as read from its chip",
            ));
        }
        let dinas_of = self.dinas_regency(station)?;
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        match card_out(&tx, packet_id)? {
            Some((s, _)) if s == serial => return Ok(()),
            Some((s, by)) => return Err(in_circulation(packet_id, &s, &by)),
            None => {}
        }
        let kecamatan: Option<String> = tx
            .query_row(
                "SELECT s.kecamatan FROM packet p JOIN station s ON s.station_id = p.station_id
                 WHERE p.packet_id = ?1",
                [packet_id],
                |r| r.get(0),
            )
            .optional()?;
        let ready = latest_status(&tx, packet_id)? == Some(Status::PrintReadyRecord);
        if !ready || kecamatan.as_deref().map(regency) != Some(dinas_of) {
            return Err(Refusal::new(
                StatusCode::CONFLICT,
                "NOT_ON_PRINT_QUEUE",
                format!(
                    "packet {packet_id} is not on the print queue of {station}: only a PRINT_READY_RECORD of the Dinas's regency is personalised"
                ),
            ));
        }
        tx.execute(
            "INSERT INTO card (packet_id, card_serial, dinas, personalised_at, reported_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![packet_id, serial, station, card.personalised_at, self.now()],
        )?;
        tx.commit()?;
        tracing::info!(packet = %packet_id, %station, "card personalised");
        Ok(())
    }

    /// Records that `card` of `packet_id` came back to the Dinas `station`: the record is on
    /// its print queue again. The same return again is answered as before.
    pub fn card_returned(
        &self,
        station: &str,
        packet_id: &str,
        card: &CardReturned,
    ) -> Result<(), Refusal> {
        let reason = card.reason.trim();
        if reason.is_empty() {
            return Err(Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "RETURN_REASON_MISSING",
                "a returned card needs the reason (the handover failed, the card is damaged)",
            ));
        }
        self.dinas_regency(station)?;
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let card_row: Option<Option<i64>> = tx
            .query_row(
                "SELECT returned_at FROM card WHERE packet_id = ?1 AND card_serial = ?2",
                params![packet_id, card.card_serial.trim()],
                |r| r.get(0),
            )
            .optional()?;
        match card_row {
            None => return Err(no_such_card(packet_id, &card.card_serial)),
            Some(Some(_)) => return Ok(()),
            Some(None) => {}
        }
        tx.execute(
            "UPDATE card SET returned_at = ?1, return_reason = ?2, returned_by = ?3
             WHERE packet_id = ?4 AND card_serial = ?5",
            params![
                card.returned_at,
                reason,
                station,
                packet_id,
                card.card_serial.trim()
            ],
        )?;
        tx.commit()?;
        tracing::info!(packet = %packet_id, %station, "card returned: back on the print queue");
        Ok(())
    }
}
