//! The kecamatan's AFIS: the screening codes of every recording the hub holds (claims and
//! enrolled recordings of every counter) in memory, full templates read from the store for the
//! best candidates, and the person rule of the station's own index (`rekam_bio`), so a
//! counter and its hub call the same two recordings one person.

use crate::store::{HubStore, Record, Templates};
use crate::{HubError, Result};
use rekam_bio::index::{DedupIndex, codes_from_bytes, rescore};
use rekam_bio::person::{Decision, PersonProbe, PersonTemplate, Verdict};

/// Candidates from the screening stage compared in full (as at a station).
pub const CANDIDATES: usize = 100;

/// The gallery in memory.
#[derive(Debug, Default)]
pub struct Gallery {
    index: DedupIndex,
    rule: Decision,
}

impl Gallery {
    /// Loads every row's codes from the store.
    pub fn load(store: &dyn HubStore) -> Result<Gallery> {
        let mut index = DedupIndex::new();
        let mut damaged = None;
        store.each_codes(&mut |id, bytes| match codes_from_bytes(bytes) {
            Some(c) => index.insert(id, c),
            None => damaged = damaged.or(Some(id)),
        })?;
        if let Some(id) = damaged {
            return Err(HubError::Damaged(id));
        }
        Ok(Gallery {
            index,
            rule: Decision::default(),
        })
    }

    /// Rows indexed (lapsed claims included until the next start).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Adds a row just written.
    pub fn add(&mut self, id: i64, codes: &[u8]) -> Result<()> {
        let c = codes_from_bytes(codes).ok_or(HubError::Damaged(id))?;
        self.index.insert(id, c);
        Ok(())
    }

    /// The best match of `person` among the rows `consider` accepts, if the person rule calls
    /// them one person.
    pub fn search(
        &self,
        store: &dyn HubStore,
        person: &PersonTemplate,
        consider: impl Fn(&Record) -> bool,
    ) -> Result<Option<(Record, Verdict)>> {
        let probe = PersonProbe::new(person);
        let mut candidates = Vec::new();
        let mut rows = std::collections::HashMap::new();
        for (id, screen) in self.index.shortlist(&probe, person.count(), CANDIDATES) {
            // A row gone from the store is a claim that lapsed: nothing to compare.
            let Some(row) = store.record(id)? else {
                continue;
            };
            if !consider(&row) {
                continue;
            }
            let template = PersonTemplate::from_stored(&row.minutiae, &row.irises)
                .ok_or(HubError::Damaged(id))?;
            candidates.push((id, screen, template));
            rows.insert(id, row);
        }
        Ok(rescore(&probe, candidates, &self.rule)
            .into_iter()
            .next()
            .filter(|hit| hit.verdict.same)
            .and_then(|hit| Some((rows.remove(&hit.id)?, hit.verdict))))
    }
}

/// The person in a counter's templates; `None` when they do not parse.
pub fn person(t: &Templates) -> Option<PersonTemplate> {
    codes_from_bytes(&t.codes)?;
    PersonTemplate::from_stored(&t.minutiae, &t.irises)
}
