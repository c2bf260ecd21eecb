//! The print order: the clean data of one PRINT_READY_RECORD that the data center signs with
//! its receipt key (`rekam_packet::protocol::SignedPrintOrder`) and the Dinas writes to a blank
//! card (`../shared/docs/domain.md`, "Regular issuance" step 4). The data center builds it from
//! a packet it opened; the station verifies its signature before reading it.

use crate::biodata::Biodata;
use serde::{Deserialize, Serialize};

/// The clean data of one print-ready record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrintOrder {
    /// The record (packet id).
    pub packet_id: String,
    /// The biodata as the data center holds it.
    pub biodata: Biodata,
    /// The portrait, ISO/IEC 19794-5 record, hex.
    #[serde(with = "hex::serde")]
    pub face: Vec<u8>,
    /// The specimen signature, PNG, hex.
    #[serde(with = "hex::serde")]
    pub signature: Vec<u8>,
    /// Right index, ISO/IEC 19794-2 compact card template, hex (empty when an exception).
    #[serde(with = "hex::serde")]
    pub right_index: Vec<u8>,
    /// Left index, likewise.
    #[serde(with = "hex::serde")]
    pub left_index: Vec<u8>,
}
