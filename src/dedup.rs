//! Same-kecamatan de-duplication: "a second recording at the same kecamatan is refused at once
//! by the local AFIS" (the SOP). The in-memory index of `rekam_bio` over the store's
//! `biometric_index` and `biometric_template` rows: fingers screen every enrolled person; fingers and irises decide for
//! the best candidates.
//!
//! Invariants: an index row is written in the transaction of its journal row, so the index
//! never misses a sealed recording and never holds one that was not sealed; loading reads the
//! 640-byte screening codes only, and full finger records are read for the best candidates of a
//! search; nothing here writes a template anywhere but the encrypted store.

use crate::hub::HubLink;
use crate::store::{IndexRow, Store};
use crate::{Error, Result};
use rekam_bio::finger::{FingerTemplate, record_of};
use rekam_bio::index::{DedupIndex, codes_from_bytes, codes_to_bytes, rescore};
use rekam_bio::person::{Decision, PersonProbe, PersonTemplate, codes, irises_to_bytes};

/// Candidates from the screening stage that the matcher compares in full.
pub const CANDIDATES: usize = 100;

/// The station's index.
#[derive(Debug)]
pub struct Dedup {
    index: DedupIndex,
    rule: Decision,
    /// The kecamatan server, when the station registered with one.
    hub: Option<HubLink>,
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
        let probe = PersonProbe::new(person);
        let mut candidates = Vec::new();
        let mut entries = std::collections::HashMap::new();
        for (seq, screen) in self.index.shortlist(&probe, person.count(), CANDIDATES) {
            let damaged = || Error::IndexDamaged { seq };
            let (entry, row) = store.index_entry(seq)?.ok_or_else(damaged)?;
            let person =
                PersonTemplate::from_stored(&row.minutiae, &row.irises).ok_or_else(damaged)?;
            candidates.push((seq, screen, person));
            entries.insert(seq, entry);
        }
        match rescore(&probe, candidates, &self.rule).first() {
            Some(hit) if hit.verdict.same => {
                let e = &entries[&hit.id];
                Err(Error::BiometricDuplicate {
                    enrollment_id: e.enrollment_id.clone(),
                    masked_nik: e.masked_nik.clone(),
                    recorded_at: e.recorded_at.clone(),
                    matching: hit.verdict.matching,
                    compared: hit.verdict.compared,
                })
            }
            _ => Ok(()),
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
