//! Same-kecamatan de-duplication: "a second recording at the same kecamatan is refused at once
//! by the local AFIS" (the SOP). The in-memory index of `rekam_bio` over the store's
//! `biometric_index` and `biometric_template` rows: fingers screen every enrolled person; fingers and irises decide for
//! the best candidates.
//!
//! Invariants: an index row is written in the transaction of its journal row, so the index
//! never misses a sealed recording and never holds one that was not sealed; loading reads the
//! 640-byte screening codes only, and full finger records are read for the best candidates of a
//! search; nothing here writes a template anywhere but the encrypted store.

use crate::hub::{HubLink, KecamatanMatch};
use crate::store::{IndexRow, Store};
use crate::{Error, Result};
use rekam_bio::finger::{FingerTemplate, record_of};
use rekam_bio::index::{DedupIndex, codes_from_bytes, codes_to_bytes, rescore};
use rekam_bio::person::{Decision, PersonProbe, PersonTemplate, codes, irises_to_bytes};

/// Candidates from the screening stage that the matcher compares in full.
pub const CANDIDATES: usize = 100;

/// The best of `index`'s candidates for `person` if the person rule calls them one person:
/// what `fetch` gave for it (its stored templates and what the caller names it by) and the
/// verdict. A stored template that does not parse is [`Error::IndexDamaged`].
fn best_match<T>(
    index: &DedupIndex,
    rule: &Decision,
    person: &PersonTemplate,
    mut fetch: impl FnMut(i64) -> Result<(IndexRow, T)>,
) -> Result<Option<(T, rekam_bio::person::Verdict)>> {
    let probe = PersonProbe::new(person);
    let mut candidates = Vec::new();
    let mut named = std::collections::HashMap::new();
    for (seq, screen) in index.shortlist(&probe, person.count(), CANDIDATES) {
        let (row, name) = fetch(seq)?;
        let template = PersonTemplate::from_stored(&row.minutiae, &row.irises)
            .ok_or(Error::IndexDamaged { seq })?;
        candidates.push((seq, screen, template));
        named.insert(seq, name);
    }
    Ok(rescore(&probe, candidates, rule)
        .into_iter()
        .next()
        .filter(|hit| hit.verdict.same)
        .and_then(|hit| Some((named.remove(&hit.id)?, hit.verdict))))
}

/// The station's index.
#[derive(Debug)]
pub struct Dedup {
    index: DedupIndex,
    rule: Decision,
    /// The kecamatan server, when the station registered with one.
    hub: Option<HubLink>,
    /// The counter's copy of the kecamatan's gallery in memory, and the newest place loaded.
    copy: std::sync::Mutex<(DedupIndex, i64)>,
}

impl Dedup {
    /// Loads every index row of the store.
    pub fn load(store: &Store) -> Result<Dedup> {
        let mut index = DedupIndex::new();
        let mut damaged = None;
        store.index_codes(|seq, bytes| match codes_from_bytes(bytes) {
            Some(c) => index.insert(seq, c),
            None => damaged = damaged.or(Some(seq)),
        })?;
        if let Some(seq) = damaged {
            return Err(Error::IndexDamaged { seq });
        }
        Ok(Dedup {
            index,
            rule: Decision::default(),
            hub: None,
            copy: std::sync::Mutex::default(),
        })
    }

    /// Loads the index and links it to the station's kecamatan server, if it has one.
    pub fn open(station: &crate::station::Station) -> Result<Dedup> {
        let mut dedup = Dedup::load(station.store())?;
        dedup.hub = HubLink::open(station)?;
        Ok(dedup)
    }

    /// The kecamatan server, if the station has one.
    pub fn hub(&self) -> Option<&HubLink> {
        self.hub.as_ref()
    }

    /// Recordings indexed.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Refuses `person` with [`Error::BiometricDuplicate`] naming the earlier recording when
    /// the person rule calls them one person.
    pub fn check(&self, store: &Store, person: &PersonTemplate) -> Result<()> {
        let found = best_match(&self.index, &self.rule, person, |seq| {
            let damaged = || Error::IndexDamaged { seq };
            let (entry, row) = store.index_entry(seq)?.ok_or_else(damaged)?;
            Ok((row, entry))
        })?;
        match found {
            Some((e, verdict)) => Err(Error::BiometricDuplicate {
                enrollment_id: e.enrollment_id,
                masked_nik: e.masked_nik,
                recorded_at: e.recorded_at,
                matching: verdict.matching,
                compared: verdict.compared,
            }),
            None => Ok(()),
        }
    }

    /// Checks `person` against the counter's copy of the kecamatan's gallery (the other
    /// counters' recordings as the hub last gave them), caught up from the store first: the
    /// check of a counter whose hub does not answer. A match is
    /// [`Error::KecamatanDuplicate`] saying the copy's date; clear, the copy's date and size;
    /// `None` for a counter that never copied the gallery.
    pub fn check_copy(
        &self,
        store: &Store,
        person: &PersonTemplate,
    ) -> Result<Option<(String, u64)>> {
        let Some(as_of) = store.gallery_as_of()? else {
            return Ok(None);
        };
        let mut copy = self.copy.lock().unwrap_or_else(|e| e.into_inner());
        let (index, cursor) = &mut *copy;
        let mut damaged = None;
        store.gallery_codes_after(*cursor, |seq, bytes| match codes_from_bytes(bytes) {
            Some(c) => {
                index.insert(seq, c);
                *cursor = seq;
            }
            None => damaged = damaged.or(Some(seq)),
        })?;
        if let Some(seq) = damaged {
            return Err(Error::IndexDamaged { seq });
        }
        let found = best_match(index, &self.rule, person, |seq| {
            let g = store
                .gallery_entry(seq)?
                .ok_or(Error::IndexDamaged { seq })?;
            Ok((g.row.clone(), g))
        })?;
        match found {
            Some((g, verdict)) => Err(Error::KecamatanDuplicate(Box::new(KecamatanMatch {
                first: rekam_packet::hub::Match {
                    station_id: g.station_id,
                    masked_nik: g.masked_nik,
                    packet_id: Some(g.packet_id),
                    recorded_at: g.recorded_at,
                    queue_number: None,
                    matching: verdict.matching,
                    compared: verdict.compared,
                },
                copy_as_of: Some(as_of),
            }))),
            None => Ok(Some((as_of, index.len() as u64))),
        }
    }

    /// The row to store with a new recording of `person`.
    pub fn row(person: &PersonTemplate) -> Result<IndexRow> {
        let fingers: Vec<FingerTemplate> = person.fingers.iter().flatten().cloned().collect();
        let minutiae = record_of(&fingers).map_err(|e| Error::TemplateRejected {
            detail: e.to_string(),
        })?;
        Ok(IndexRow {
            codes: codes_to_bytes(&codes(person)),
            minutiae,
            irises: irises_to_bytes(&person.irises),
        })
    }

    /// Adds a recording just appended to the journal at `seq`.
    pub fn add(&mut self, seq: i64, row: &IndexRow) -> Result<()> {
        let c = codes_from_bytes(&row.codes).ok_or(Error::IndexDamaged { seq })?;
        self.index.insert(seq, c);
        Ok(())
    }
}
