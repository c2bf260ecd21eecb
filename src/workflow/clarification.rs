//! Clarifying a duplicate (seed 001, step 3b: "Identitas ganda, dilakukan klarifikasi dengan
//! tempat pelayanan KTP elektronik"). The data center's DUPLICATE_RECORD says the resident was
//! recorded before; the service point calls the resident in, and a supervisor records what came
//! of it: the resident had recorded before (this recording is not used; a card comes from the
//! first, through a replacement or a data change where needed), or the resident denies it (the
//! case goes to the Dinas with the note). Until then the record stays in the backlog; the
//! outcome is recorded once, audited, and never changed.

use crate::audit::AuditEvent;
use crate::station::Station;
use crate::store::Clarified;
use crate::workflow::operators::{Action, Session};
use crate::{Error, Result};

/// Records `outcome` for the duplicate `packet_id` with `note` (the statement's number, what
/// the resident said): by a supervisor's session, or without one by whoever opened the store
/// (`rekam clarify`).
pub fn clarify(
    station: &mut Station,
    packet_id: &str,
    outcome: Clarified,
    note: &str,
    by: Option<&Session>,
) -> Result<()> {
    let actor = match by {
        Some(s) => {
            s.require(Action::Approve)?;
            s.operator_id.clone()
        }
        None => "cli".to_owned(),
    };
    let note = note.trim();
    if note.is_empty() {
        return Err(Error::ClarificationNoteMissing);
    }
    station.store_mut().clarify(
        packet_id,
        outcome,
        note,
        &AuditEvent::new(actor, "sync.clarify_duplicate", packet_id),
    )
}
