//! A reissue request as the station sends it to the data center (`POST /v1/reissues/{id}`):
//! a card made again for a resident recorded before, without recording again
//! (`../shared/docs/domain.md`, "Rules"). The data center answers with a signed
//! `rekam_packet::reissue::ReissueAnswer`: the resident's clean record back on the Dinas's print
//! queue (the card in circulation retired; for a data change or a move, printed with the
//! biodata the population register holds now), or a refusal with what to do.

use crate::biodata::Biodata;
use crate::case::{CaseType, Document};
use serde::{Deserialize, Serialize};

/// What the station asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReissueRequest {
    /// The request's id (the temporary letter names it).
    pub request_id: String,
    /// Lost, damaged, data change or moving in.
    pub case: CaseType,
    /// The resident's NIK: the data center finds the clean record by it.
    pub nik: String,
    /// The resident's recording, when it was made at this station.
    pub packet_id: Option<String>,
    /// The documents presented (the checklist passed).
    pub evidence: Vec<Document>,
    /// For a data change or a move: the biodata as the population register holds it now,
    /// which the new card carries.
    pub biodata: Option<Biodata>,
    /// For a move: the new address as the resident declared it.
    pub new_address: Option<String>,
    /// When the operator took it (Unix seconds, the station's clock).
    pub requested_at: i64,
}
