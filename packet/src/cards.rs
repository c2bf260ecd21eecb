//! The Dinas's print queue and the cards made from it (`docs/gateway-api.yaml`): the data
//! center lists, for a Dinas station, the PRINT_READY_RECORD records of its regency with no
//! card in circulation; the Dinas reports each card it personalised, and each card that came
//! back (a failed handover), which puts the record on the list again. Each message travels in a
//! request signed with the station's key, like every other.

use serde::{Deserialize, Serialize};

/// One record of a Dinas's print queue (`GET /v1/print/queue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintQueueEntry {
    /// The record (what the print order is fetched by).
    pub packet_id: String,
    /// The station that recorded it.
    pub station_id: String,
    /// Its kecamatan.
    pub kecamatan: String,
    /// The resident, masked (first 6 and last 2 digits).
    pub masked_nik: String,
    /// When it became PRINT_READY_RECORD (Unix seconds).
    pub ready_at: i64,
    /// Why the last card made for it came back, when one did.
    pub returned: Option<String>,
}

/// A card the Dinas personalised for a record (`POST /v1/print/{packet_id}/card`). Reporting
/// the same card again changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardIssued {
    /// The chip's serial.
    pub card_serial: String,
    /// When it was written (Unix seconds, the station's clock).
    pub personalised_at: i64,
}

/// A card that came back to the Dinas (`POST /v1/print/{packet_id}/card/returned`): its
/// handover failed, or it was damaged before it; the record goes back on the print queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardReturned {
    /// The chip's serial.
    pub card_serial: String,
    /// Why, in the Dinas's words.
    pub reason: String,
    /// When its return was recorded (Unix seconds, the station's clock).
    pub returned_at: i64,
}
