//! Personalisation at the Dinas (`../shared/docs/domain.md`, "Regular issuance" step 4): for a
//! record the data center marked PRINT_READY_RECORD, the data center's clean data (a print
//! order it signs with its receipt key, fetched over the sync link) is written to a blank card
//! over PC/SC (data groups, security object signed by the Dinas document signer, one-time
//! lock), and the card face is rendered as PNG and PDF for the card printer.
//!
//! The Dinas picks records from its print queue ([`print_queue`]); each card personalised is
//! kept with its visit row and reported to the data center by the sync pass
//! ([`report_cards`]), which takes the record off the queue; a card that came back
//! ([`record_return`]) puts it on again.
//!
//! Only a Dinas administrator personalises; the order is used only after its signature
//! verifies against the pinned data center identity; each card is one visit row.

use super::WorkflowError;
use super::operators::{Action, Session};
use crate::audit::AuditEvent;
use crate::station::Station;
use crate::store::CardReport;
use crate::store::{NewVisit, VisitOutcome, VisitWorkflow};
use crate::sync::SyncConfig;
use crate::{Error, Result};
pub use rekam_domain::print_order::PrintOrder;
use rekam_drivers::card::{CardReader, DocumentSigner, Personalisation, Sam};
pub use rekam_packet::cards::PrintQueueEntry;
use rekam_packet::cards::{CardIssued, CardReturned};
use rekam_records::face::{FaceFormat, FaceImage};
use rekam_sync::{DcClient, SyncError};

/// Fetches the print order of `packet_id` from the data center, its signature verified against
/// the pinned identity. A record that is not PRINT_READY_RECORD is refused.
pub fn fetch_order(station: &Station, cfg: &SyncConfig, packet_id: &str) -> Result<PrintOrder> {
    let dc = station.data_center()?.ok_or(Error::NotRegistered)?;
    let bytes = crate::sync::client(station, cfg)?
        .print_order(packet_id, &dc)
        .map_err(|e| match e {
            SyncError::Refused { code, .. } if code == "NOT_PRINT_READY" => {
                WorkflowError::NotPrintReady(packet_id.to_owned()).into()
            }
            SyncError::Refused { code, .. } if code == "PRINT_ORDER_FORBIDDEN" => {
                WorkflowError::PrintOrderForbidden(packet_id.to_owned()).into()
            }
            SyncError::Refused { code, .. } if code == "CARD_IN_CIRCULATION" => {
                Error::CardInCirculation {
                    packet_id: packet_id.to_owned(),
                    card_serial: station
                        .store()
                        .card_in_circulation(packet_id)
                        .ok()
                        .flatten(),
                }
            }
            other => Error::Sync(other.to_string()),
        })?;
    serde_json::from_slice(&bytes).map_err(|e| Error::PrintOrderInvalid(e.to_string()))
}

/// The Dinas's print queue: the PRINT_READY_RECORD records of its regency with no card in
/// circulation, as the data center lists them, without those this station made a card for and
/// has not reported yet. A card of this station that the data center retired (a reissue
/// request) is recorded as returned here, so its record can be personalised again.
pub fn print_queue(station: &mut Station, cfg: &SyncConfig) -> Result<Vec<PrintQueueEntry>> {
    let queue = crate::sync::client(station, cfg)?
        .print_queue()
        .map_err(|e| match e {
            SyncError::Refused { code, .. } if code == "PRINT_ORDER_FORBIDDEN" => {
                WorkflowError::PrintOrderForbidden(station.identity().station_id.clone()).into()
            }
            other => Error::Sync(other.to_string()),
        })?;
    // A card made here that the data center knows of, listed again, was retired there (a
    // reissue request): it is out of circulation here too. One not reported yet keeps its
    // record off this station's list.
    let made = station.store().cards_in_circulation()?;
    let retired: Vec<(String, String)> = queue
        .iter()
        .filter(|q| made.contains(&q.packet_id))
        .map(|q| {
            let why = q
                .returned
                .as_deref()
                .unwrap_or("retired by the data center");
            (q.packet_id.clone(), why.to_owned())
        })
        .collect();
    if !retired.is_empty() {
        let n = station.store_mut().cards_retired_by_data_center(&retired)?;
        tracing::info!(cards = n, "cards retired by the data center");
    }
    let made = station.store().cards_in_circulation()?;
    Ok(queue
        .into_iter()
        .filter(|q| !made.contains(&q.packet_id))
        .collect())
}

/// Records that card `card_serial`, personalised here, came back to the Dinas for `reason`
/// (its handover failed, it was damaged): by a Dinas administrator, audited. The sync pass
/// reports it, and the record is on the print queue again. Returns the card's record.
pub fn record_return(
    station: &mut Station,
    session: &Session,
    card_serial: &str,
    reason: &str,
) -> Result<String> {
    session.require(Action::Personalise)?;
    let (card_serial, reason) = (card_serial.trim(), reason.trim());
    if reason.is_empty() {
        return Err(Error::CardReturnReasonMissing);
    }
    station.store_mut().card_returned(
        card_serial,
        reason,
        &AuditEvent::new(
            &session.operator_id,
            "personalisation.card_returned",
            card_serial,
        ),
    )
}

/// Sends the data center every card report it has not accepted yet (cards personalised here,
/// cards that came back), in order. A report the data center refuses is logged and sent again
/// at the next pass without holding up the others; a dead link ends it.
pub fn report_cards(station: &mut Station, client: &DcClient) -> Result<()> {
    for report in station.store().card_reports()? {
        let answer = match &report {
            CardReport::Issued {
                packet_id,
                card_serial,
                at,
            } => client.card_issued(
                packet_id,
                &CardIssued {
                    card_serial: card_serial.clone(),
                    personalised_at: *at,
                },
            ),
            CardReport::Returned {
                packet_id,
                card_serial,
                reason,
                at,
            } => client.card_returned(
                packet_id,
                &CardReturned {
                    card_serial: card_serial.clone(),
                    reason: reason.clone(),
                    returned_at: *at,
                },
            ),
        };
        match answer {
            Ok(()) => station.store_mut().card_report_sent(&report)?,
            Err(e @ SyncError::Refused { .. }) => {
                tracing::warn!(error = %e, "a card report refused: sent again at the next pass");
            }
            Err(e) => {
                tracing::warn!(error = %e, "card reports not sent: at the next pass");
                return Ok(());
            }
        }
    }
    Ok(())
}

/// A personalised card.
#[derive(Debug, Clone)]
pub struct Personalised {
    /// The chip serial.
    pub card_serial: String,
    /// The card face, PNG (1011 x 638, 300 dpi).
    pub face_png: Vec<u8>,
    /// The card face, PDF of the card's size.
    pub face_pdf: Vec<u8>,
}

/// The portrait as the chip holds it: 240 x 320 JPEG at quality 80, within the profile's file
/// size.
fn chip_face(record: &[u8]) -> Result<Vec<u8>> {
    let bad = |e: String| Error::PrintOrderInvalid(format!("face: {e}"));
    let face = FaceImage::parse(record).map_err(|e| bad(e.to_string()))?;
    let img = image::load_from_memory(&face.data).map_err(|e| bad(e.to_string()))?;
    let small = image::imageops::thumbnail(&img.to_rgb8(), 240, 320);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&small)
        .map_err(|e| bad(e.to_string()))?;
    FaceImage {
        width: small.width() as u16,
        height: small.height() as u16,
        quality: face.quality,
        format: FaceFormat::Jpeg,
        data: jpeg,
    }
    .to_bytes()
    .map_err(|e| bad(e.to_string()))
}

/// Writes `order` to the blank card on `reader`, locks it, and renders its face.
pub fn personalise(
    station: &mut Station,
    session: &Session,
    order: &PrintOrder,
    reader: &dyn CardReader,
    sam: &Sam,
    signer: &DocumentSigner,
) -> Result<Personalised> {
    session.require(Action::Personalise)?;
    // One card in circulation per record: a second blank card is never written for it.
    if let Some(card_serial) = station.store().card_in_circulation(&order.packet_id)? {
        return Err(Error::CardInCirculation {
            packet_id: order.packet_id.clone(),
            card_serial: Some(card_serial),
        });
    }
    let started = station.store().clock().now();
    let t0 = station.store().clock().now();
    let face = chip_face(&order.face)?;
    let biodata = serde_json::to_vec(&order.biodata)
        .map_err(|e| Error::PrintOrderInvalid(format!("biodata: {e}")))?;
    let data = Personalisation {
        biodata,
        face: face.clone(),
        right_index: order.right_index.clone(),
        left_index: order.left_index.clone(),
        signature: order.signature.clone(),
    };
    let visit =
        |outcome: VisitOutcome, code: Option<&str>, serial: Option<&str>, seconds: f64| NewVisit {
            visit_id: uuid::Uuid::new_v4().to_string(),
            workflow: VisitWorkflow::Personalisation,
            queue_number: None,
            operator_id: session.operator_id.clone(),
            case: None,
            masked_nik: Some(order.biodata.nik.masked()),
            outcome,
            code: code.map(str::to_owned),
            started_at: started,
            steps: vec![crate::store::StepTime {
                step: "personalisation".into(),
                seconds,
            }],
            detail: serde_json::json!({ "packet_id": order.packet_id, "card_serial": serial }),
        };
    let elapsed = |s: &Station| (s.store().clock().now() - t0).as_seconds_f64();
    let serial = match reader.personalise(sam, signer, &data) {
        Ok(s) => s,
        Err(e) => {
            let v = visit(VisitOutcome::Failed, Some(e.code()), None, elapsed(station));
            station.store_mut().append_visit(&v)?;
            return Err(WorkflowError::Device(e).into());
        }
    };
    let issued_on = station.store().clock().today();
    let regency = order
        .biodata
        .address
        .village
        .lineage()
        .get(1)
        .and_then(|c| crate::domain::region::RegionDirectory::region(station.store(), c))
        .map(|r| r.name)
        .unwrap_or_default();
    let face_png = crate::card_face::render_png(
        &crate::card_face::CardFace {
            biodata: &order.biodata,
            photo: &FaceImage::parse(&face).map(|f| f.data).unwrap_or_default(),
            signature: &order.signature,
            issued_at: &regency,
            issued_on,
        },
        station.store(),
    )
    .ok_or(Error::CardFonts)?;
    let face_pdf = crate::card_face::render_pdf(&face_png);
    let v = visit(
        VisitOutcome::Personalised,
        None,
        Some(&serial),
        elapsed(station),
    );
    // The card and its visit in one transaction; the sync pass reports the card to the data
    // center, which takes the record off the print queue.
    station
        .store_mut()
        .append_personalised(&v, &order.packet_id, &serial)?;
    Ok(Personalised {
        card_serial: serial,
        face_png,
        face_pdf,
    })
}
