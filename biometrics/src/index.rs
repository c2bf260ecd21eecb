//! The local de-duplication index.
//!
//! Memory holds, for every enrolled person, the ten screening codes (640 bytes; 300,000
//! residents take 190 MB) and the bits each code sets. A search scans them all (stage 1),
//! keeps the best candidates, fetches their full templates from wherever they are kept (the
//! encrypted store at a station, memory in a benchmark), and compares finger by finger with
//! the matcher (stage 2). The person rule ([`Decision`]) decides.
//!
//! Screening score: for each finger both hold, the bits the codes share beyond what two
//! unrelated codes of those weights share by chance, summed over fingers.

use crate::finger::matcher::Scratch;
use crate::finger::screen::{self, Code, WORDS};
use crate::person::{Decision, PersonGallery, PersonProbe, PersonTemplate, Verdict};
use rayon::prelude::*;

/// Bits in a code.
const BITS: i64 = (WORDS * 64) as i64;

/// Every enrolled person's screening codes.
#[derive(Debug, Default, Clone)]
pub struct DedupIndex {
    ids: Vec<i64>,
    codes: Vec<[Code; 10]>,
    weights: Vec<[u16; 10]>,
}

/// A candidate after both stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The enrolled record's id.
    pub id: i64,
    /// Its screening score.
    pub screen: i64,
    /// The person-level verdict.
    pub verdict: Verdict,
}

impl DedupIndex {
    /// An empty index.
    pub fn new() -> DedupIndex {
        DedupIndex::default()
    }

    /// Adds a person's codes (from [`crate::person::codes`]) under a record id.
    pub fn insert(&mut self, id: i64, codes: [Code; 10]) {
        self.weights.push(codes.map(|c| screen::weight(&c) as u16));
        self.codes.push(codes);
        self.ids.push(id);
    }

    /// Every record id, in insertion order.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.ids.iter().copied()
    }

    /// People indexed.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nobody is indexed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Stage 1: the `k` people whose codes are closest to the probe's, best first.
    pub fn screen(&self, probe: &PersonProbe, k: usize) -> Vec<(i64, i64)> {
        if k == 0 {
            return Vec::new();
        }
        let pc = probe.codes();
        let pw: [i64; 10] = pc.map(|c| i64::from(screen::weight(&c)));
        let chunk = 8192;
        let mut best: Vec<(i64, usize)> = self
            .codes
            .par_chunks(chunk)
            .enumerate()
            .map(|(n, codes)| {
                let mut top: Vec<(i64, usize)> = Vec::with_capacity(k + 1);
                let mut floor = i64::MIN;
                for (o, g) in codes.iter().enumerate() {
                    let at = n * chunk + o;
                    let w = &self.weights[at];
                    let mut s = 0i64;
                    for f in 0..10 {
                        if pw[f] != 0 && w[f] != 0 {
                            s += i64::from(screen::common(&pc[f], &g[f])) * BITS
                                - pw[f] * i64::from(w[f]);
                        }
                    }
                    if top.len() < k || s > floor {
                        let pos = top.partition_point(|&(t, _)| t >= s);
                        top.insert(pos, (s, at));
                        top.truncate(k);
                        if top.len() == k {
                            floor = top[k - 1].0;
                        }
                    }
                }
                top
            })
            .reduce(Vec::new, |mut a, b| {
                a.extend(b);
                a.sort_unstable_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
                a.truncate(k);
                a
            });
        best.sort_unstable_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        best.into_iter()
            .map(|(s, at)| (self.ids[at], s / BITS))
            .collect()
    }

    /// The candidates to compare in full: the `k` best by screening, or, for a probe with no
    /// finger at all (every finger an exception), everyone, to be compared by iris (rare, and
    /// slower: tens of microseconds per person).
    pub fn shortlist(&self, probe: &PersonProbe, fingers: usize, k: usize) -> Vec<(i64, i64)> {
        if fingers > 0 {
            self.screen(probe, k)
        } else {
            self.ids().map(|id| (id, 0)).collect()
        }
    }

    /// Both stages: screens, fetches the `k` best candidates' templates with `fetch`, compares
    /// each, and returns every candidate with its verdict, duplicates first.
    pub fn search<F>(&self, probe: &PersonProbe, k: usize, rule: &Decision, fetch: F) -> Vec<Hit>
    where
        F: Fn(i64) -> Option<PersonTemplate> + Sync,
    {
        let candidates: Vec<(i64, i64, PersonTemplate)> = self
            .screen(probe, k)
            .into_par_iter()
            .filter_map(|(id, screen)| Some((id, screen, fetch(id)?)))
            .collect();
        rescore(probe, candidates, rule)
    }
}

/// Stage 2 on candidates already fetched (`(id, screening score, template)`): duplicates
/// first, then by fused score.
pub fn rescore(
    probe: &PersonProbe,
    candidates: Vec<(i64, i64, PersonTemplate)>,
    rule: &Decision,
) -> Vec<Hit> {
    let mut hits: Vec<Hit> = candidates
        .into_par_iter()
        .map_init(Scratch::default, |scratch, (id, screen, t)| Hit {
            id,
            screen,
            verdict: rule.judge(&probe.scores(&PersonGallery::new(&t), scratch)),
        })
        .collect();
    hits.sort_by(|a, b| {
        b.verdict
            .same
            .cmp(&a.verdict.same)
            .then(b.verdict.fused.cmp(&a.verdict.fused))
            .then(a.id.cmp(&b.id))
    });
    hits
}

/// Bytes of a person's ten codes, as the store keeps them: 640, little-endian words.
pub fn codes_to_bytes(codes: &[Code; 10]) -> Vec<u8> {
    codes
        .iter()
        .flat_map(|c| c.iter().flat_map(|w| w.to_le_bytes()))
        .collect()
}

/// The codes back from [`codes_to_bytes`]; `None` when the length is wrong.
pub fn codes_from_bytes(bytes: &[u8]) -> Option<[Code; 10]> {
    if bytes.len() != 10 * WORDS * 8 {
        return None;
    }
    let mut out = [[0u64; WORDS]; 10];
    for (k, chunk) in bytes.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        out[k / WORDS][k % WORDS] = u64::from_le_bytes(w);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_bytes() {
        let mut codes = [[0u64; WORDS]; 10];
        codes[3][7] = 0x0123_4567_89AB_CDEF;
        codes[9][0] = 1;
        let b = codes_to_bytes(&codes);
        assert_eq!(b.len(), 640);
        assert_eq!(codes_from_bytes(&b), Some(codes));
        assert_eq!(codes_from_bytes(&b[1..]), None);
    }
}
