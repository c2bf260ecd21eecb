//! Our fingerprint matcher.
//!
//! 1. Each minutia is described by its nearest neighbours, in its own frame: distance, the
//!    direction to the neighbour and the neighbour's direction, both relative to the
//!    minutia's. The description survives translation and rotation.
//! 2. The probe's neighbour triples go into a hash table of quantised cells, each triple into
//!    every cell within tolerance. Each gallery triple looks up one cell; every close triple
//!    found is a vote for the pair (probe minutia, gallery minutia). The probe is prepared once
//!    and compared with many gallery fingers (1:N), so a comparison costs a few hundred table
//!    lookups.
//! 3. The best-voted pairs are tried as anchors: the rigid alignment each implies is applied to
//!    every voted pair, and pairs that land within a tolerance that grows with the distance from
//!    the anchor (skin stretches) are paired one-to-one. The score is the best anchor's number
//!    of pairs, normalised by the minutiae of both fingers.
//!
//! All arithmetic after preparation is integer: angles in 256ths of a turn, distances in
//! pixels, rotations by a sine and cosine scaled by 1024 (computed once per anchor).

use super::FingerTemplate;

/// Neighbours described per minutia.
const NEIGHBOURS: usize = 3;
/// Neighbours closer than this are usually the two ends of one broken ridge: not described.
const MIN_DISTANCE: i32 = 6;
/// Neighbours farther than this are too distorted to compare.
const MAX_DISTANCE: i32 = 160;
/// Tolerances of a neighbour triple: pixels and angle units (256 a turn).
const TOL_D: i32 = 8;
const TOL_A: i32 = 12;
/// Cell sizes of the probe's table.
const CELL_D: i32 = 8;
const CELL_A: i32 = 16;
const CELLS_D: usize = (256 / CELL_D) as usize;
const CELLS_A: usize = (256 / CELL_A) as usize;
const CELLS: usize = CELLS_D * CELLS_A * CELLS_A;
/// Votes a pair needs to take part in consolidation: one neighbour in common happens by
/// chance all the time, two rarely.
const MIN_VOTES: u8 = 2;
// Every probe triple spreads over at most 3 x 3 x 3 cells (tolerance at most a cell's size):
// the table's 16-bit offsets hold every entry.
const _: () = assert!(TOL_D <= CELL_D && TOL_A <= CELL_A);
const _: () = assert!(super::MAX_MINUTIAE * NEIGHBOURS * 27 <= u16::MAX as usize);

/// Anchors tried during consolidation.
const ANCHORS: usize = 6;
/// Pairing tolerance at the anchor, pixels, growing by 1/GROWTH of the distance from it.
const TOL_XY: i32 = 10;
const GROWTH: i32 = 10;
const TOL_ANGLE: i32 = 16;

/// A minutia as the matcher uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Point {
    x: i32,
    y: i32,
    a: i32,
}

/// One neighbour of a minutia, in the minutia's frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Triple {
    d: u8,
    /// Direction to the neighbour minus the minutia's direction.
    r: u8,
    /// The neighbour's direction minus the minutia's.
    t: u8,
}

/// A finger prepared for comparison: points and neighbour triples.
#[derive(Debug, Clone)]
pub struct Prepared {
    points: Vec<Point>,
    triples: Vec<[Triple; NEIGHBOURS]>,
    counts: Vec<u8>,
}

/// A probe prepared for many comparisons: the finger and its hash table.
#[derive(Debug, Clone)]
pub struct Probe {
    finger: Prepared,
    /// Start of each cell's entries in `entries`; `CELLS + 1` offsets. At most
    /// `MAX_MINUTIAE * NEIGHBOURS * 27` entries, so 16 bits hold them and the table stays in
    /// the first-level cache during a 1:N scan.
    offsets: Vec<u16>,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    minutia: u8,
    triple: Triple,
}

/// Scratch space reused between comparisons (one per thread).
#[derive(Debug, Clone)]
pub struct Scratch {
    votes: Vec<u8>,
    touched: Vec<(u8, u8)>,
    /// votes << 16 | probe minutia << 8 | gallery minutia: sorted descending, most votes first.
    pairs: Vec<u32>,
    used_p: Vec<bool>,
    used_g: Vec<bool>,
}

impl Default for Scratch {
    fn default() -> Self {
        let n = super::MAX_MINUTIAE;
        Scratch {
            votes: vec![0; n * n],
            touched: Vec::with_capacity(n * n),
            pairs: Vec::with_capacity(n * n),
            used_p: vec![false; n],
            used_g: vec![false; n],
        }
    }
}

/// Angle of a vector in 256ths of a turn.
fn angle_of(dx: f32, dy: f32) -> i32 {
    // Image rows grow downwards; angles are counter-clockwise as seen, so y is negated.
    let a = (-dy).atan2(dx) / std::f32::consts::TAU * 256.0;
    (a.round() as i32).rem_euclid(256)
}

/// Smallest difference of two angles in 256ths, 0-128.
#[inline]
fn angle_diff(a: i32, b: i32) -> i32 {
    i32::from((a.wrapping_sub(b) as u8 as i8).unsigned_abs())
}

/// The same for angles held in a byte.
#[inline]
fn byte_diff(a: u8, b: u8) -> i32 {
    i32::from((a.wrapping_sub(b) as i8).unsigned_abs())
}

/// sin and cos of k/256 of a turn, scaled by 1024.
fn sin_cos(k: i32) -> (i32, i32) {
    let t = (k.rem_euclid(256) as f32) / 256.0 * std::f32::consts::TAU;
    (
        (t.sin() * 1024.0).round() as i32,
        (t.cos() * 1024.0).round() as i32,
    )
}

impl Prepared {
    /// Prepares a template.
    pub fn new(t: &FingerTemplate) -> Prepared {
        let points: Vec<Point> = t
            .minutiae
            .iter()
            .take(super::MAX_MINUTIAE)
            .map(|m| Point {
                x: i32::from(m.x),
                y: i32::from(m.y),
                a: i32::from(m.angle),
            })
            .collect();
        let mut triples = Vec::with_capacity(points.len());
        let mut counts = Vec::with_capacity(points.len());
        let mut near: Vec<(i64, usize)> = Vec::with_capacity(points.len());
        for (i, p) in points.iter().enumerate() {
            near.clear();
            for (j, q) in points.iter().enumerate() {
                // Coordinates are at most 16 bits: the squares fit an i32 only just, so i64.
                let (dx, dy) = (i64::from(q.x - p.x), i64::from(q.y - p.y));
                let d2 = dx * dx + dy * dy;
                let (lo, hi) = (i64::from(MIN_DISTANCE), i64::from(MAX_DISTANCE));
                if j != i && d2 >= lo * lo && d2 <= hi * hi {
                    near.push((d2, j));
                }
            }
            near.sort_unstable();
            let mut row = [Triple::default(); NEIGHBOURS];
            for (slot, &(d2, j)) in row.iter_mut().zip(near.iter()) {
                let q = points[j];
                let (dx, dy) = ((q.x - p.x) as f32, (q.y - p.y) as f32);
                *slot = Triple {
                    d: (d2 as f32).sqrt().round().min(255.0) as u8,
                    r: (angle_of(dx, dy) - p.a).rem_euclid(256) as u8,
                    t: (q.a - p.a).rem_euclid(256) as u8,
                };
            }
            triples.push(row);
            counts.push(near.len().min(NEIGHBOURS) as u8);
        }
        Prepared {
            points,
            triples,
            counts,
        }
    }

    /// Minutiae in this finger.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether there is nothing to compare.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Calls `f(minutia, cell)` for the first `nearest` neighbour triples of every minutia,
    /// with the triple's cell of the probe table (for the screening code).
    pub(crate) fn each_triple(&self, nearest: usize, mut f: impl FnMut(usize, usize)) {
        for (i, row) in self.triples.iter().enumerate() {
            let n = usize::from(self.counts[i]).min(nearest);
            for tr in &row[..n] {
                f(i, cell(i32::from(tr.d), i32::from(tr.r), i32::from(tr.t)));
            }
        }
    }
}

fn cell(d: i32, r: i32, t: i32) -> usize {
    let d = (d / CELL_D).clamp(0, CELLS_D as i32 - 1) as usize;
    let r = (r.rem_euclid(256) / CELL_A) as usize;
    let t = (t.rem_euclid(256) / CELL_A) as usize;
    (d * CELLS_A + r) * CELLS_A + t
}

/// The cells a probe triple may be looked up from.
fn spread(tr: Triple, each: &mut dyn FnMut(usize)) {
    let (d, r, t) = (i32::from(tr.d), i32::from(tr.r), i32::from(tr.t));
    let d_lo = ((d - TOL_D).max(0) / CELL_D).min(CELLS_D as i32 - 1);
    let d_hi = ((d + TOL_D) / CELL_D).min(CELLS_D as i32 - 1);
    for dc in d_lo..=d_hi {
        let (r_lo, r_hi) = (
            (r - TOL_A).div_euclid(CELL_A),
            (r + TOL_A).div_euclid(CELL_A),
        );
        for rc in r_lo..=r_hi {
            let (t_lo, t_hi) = (
                (t - TOL_A).div_euclid(CELL_A),
                (t + TOL_A).div_euclid(CELL_A),
            );
            for tc in t_lo..=t_hi {
                each(cell(dc * CELL_D, rc * CELL_A, tc * CELL_A));
            }
        }
    }
}

impl Probe {
    /// Prepares a probe.
    pub fn new(t: &FingerTemplate) -> Probe {
        Probe::from_prepared(Prepared::new(t))
    }

    /// Builds the table of a prepared finger.
    pub fn from_prepared(finger: Prepared) -> Probe {
        let mut counts = vec![0u16; CELLS + 1];
        let each_triple = |f: &mut dyn FnMut(usize, Triple)| {
            for (i, row) in finger.triples.iter().enumerate() {
                for tr in &row[..usize::from(finger.counts[i])] {
                    f(i, *tr);
                }
            }
        };
        each_triple(&mut |_, tr| spread(tr, &mut |c| counts[c + 1] += 1));
        for c in 1..=CELLS {
            counts[c] += counts[c - 1];
        }
        let mut fill = counts.clone();
        let mut entries = vec![Entry::default(); counts[CELLS] as usize];
        each_triple(&mut |i, tr| {
            spread(tr, &mut |c| {
                entries[fill[c] as usize] = Entry {
                    minutia: i as u8,
                    triple: tr,
                };
                fill[c] += 1;
            })
        });
        Probe {
            finger,
            offsets: counts,
            entries,
        }
    }

    /// Minutiae in the probe.
    pub fn len(&self) -> usize {
        self.finger.len()
    }

    /// Whether the probe has no minutiae.
    pub fn is_empty(&self) -> bool {
        self.finger.is_empty()
    }

    /// Compares with one gallery finger: 0 (nothing in common) to 100.
    pub fn compare(&self, gallery: &Prepared, s: &mut Scratch) -> u8 {
        let (np, ng) = (self.finger.len(), gallery.len());
        if np < 3 || ng < 3 {
            return 0;
        }
        // 2. Votes.
        s.touched.clear();
        for (j, row) in gallery.triples.iter().enumerate() {
            for tr in &row[..usize::from(gallery.counts[j])] {
                let c = cell(i32::from(tr.d), i32::from(tr.r), i32::from(tr.t));
                let (lo, hi) = (self.offsets[c] as usize, self.offsets[c + 1] as usize);
                for e in &self.entries[lo..hi] {
                    if (i32::from(e.triple.d) - i32::from(tr.d)).abs() <= TOL_D
                        && byte_diff(e.triple.r, tr.r) <= TOL_A
                        && byte_diff(e.triple.t, tr.t) <= TOL_A
                    {
                        let v = &mut s.votes[usize::from(e.minutia) * super::MAX_MINUTIAE + j];
                        if *v == 0 {
                            s.touched.push((e.minutia, j as u8));
                        }
                        *v = v.saturating_add(1);
                    }
                }
            }
        }
        s.pairs.clear();
        for &(i, j) in &s.touched {
            let v = &mut s.votes[usize::from(i) * super::MAX_MINUTIAE + usize::from(j)];
            if *v >= MIN_VOTES {
                s.pairs
                    .push(u32::from(*v) << 16 | u32::from(i) << 8 | u32::from(j));
            }
            *v = 0;
        }
        if s.pairs.is_empty() {
            return 0;
        }
        s.pairs.sort_unstable_by(|a, b| b.cmp(a));
        // 3. Consolidation.
        let mut best = 0usize;
        for a in 0..ANCHORS.min(s.pairs.len()) {
            let (ai, aj) = ((s.pairs[a] >> 8) as u8, s.pairs[a] as u8);
            let (p0, g0) = (
                self.finger.points[usize::from(ai)],
                gallery.points[usize::from(aj)],
            );
            let rot = (g0.a - p0.a).rem_euclid(256);
            let (sin, cos) = sin_cos(rot);
            s.used_p[..np].fill(false);
            s.used_g[..ng].fill(false);
            let mut n = 0;
            for &pair in &s.pairs {
                let (i, j) = (usize::from((pair >> 8) as u8), usize::from(pair as u8));
                if s.used_p[i] || s.used_g[j] {
                    continue;
                }
                let (p, g) = (self.finger.points[i], gallery.points[j]);
                if angle_diff(p.a + rot, g.a) > TOL_ANGLE {
                    continue;
                }
                // Rotate p about p0 by `rot` (counter-clockwise as seen: rows grow downwards).
                let (dx, dy) = (p.x - p0.x, p.y - p0.y);
                let x = g0.x + (dx * cos + dy * sin) / 1024;
                let y = g0.y + (dy * cos - dx * sin) / 1024;
                let (ex, ey) = (x - g.x, y - g.y);
                let reach = (dx.abs() + dy.abs()) / GROWTH + TOL_XY;
                if ex * ex + ey * ey <= reach * reach {
                    s.used_p[i] = true;
                    s.used_g[j] = true;
                    n += 1;
                }
            }
            best = best.max(n);
        }
        // Pairs squared over the product of the minutiae counts: 100 when every minutia of
        // both fingers pairs up; the smaller finger's count bounds it for partial prints.
        let score = 100 * best * best / (np.min(ng) * (np + ng) / 2).max(1);
        score.min(100) as u8
    }
}

/// Compares two templates once (1:1): prepares both and compares.
pub fn compare(probe: &FingerTemplate, gallery: &FingerTemplate) -> u8 {
    Probe::new(probe).compare(&Prepared::new(gallery), &mut Scratch::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finger(seed: u64, n: usize) -> FingerTemplate {
        crate::testing::random_finger(seed, n, 2)
    }

    /// The same finger rotated by `turn` (256ths) about (200, 240), moved 300 px right and down
    /// (so nothing leaves the coordinate range) and by `shift`, with jitter.
    fn moved(f: &FingerTemplate, turn: i32, shift: (i32, i32)) -> FingerTemplate {
        let (sin, cos) = sin_cos(turn);
        let mut out = f.clone();
        for (k, m) in out.minutiae.iter_mut().enumerate() {
            let (dx, dy) = (i32::from(m.x) - 200, i32::from(m.y) - 240);
            let jitter = (k as i32 % 5) - 2;
            m.x = (500 + (dx * cos + dy * sin) / 1024 + shift.0 + jitter) as u16;
            m.y = (540 + (dy * cos - dx * sin) / 1024 + shift.1 - jitter) as u16;
            m.angle = (i32::from(m.angle) + turn + jitter).rem_euclid(256) as u8;
        }
        out
    }

    #[test]
    fn the_same_finger_moved_matches_and_another_does_not() {
        let a = finger(7, 45);
        for turn in [0, 10, -20, 40] {
            let b = moved(&a, turn, (15, -25));
            let genuine = compare(&a, &b);
            assert!(genuine >= 60, "turn {turn}: {genuine}");
        }
        for other in 8..20 {
            let impostor = compare(&a, &finger(other, 45));
            assert!(impostor <= 15, "seed {other}: {impostor}");
        }
    }

    #[test]
    fn missing_minutiae_lower_the_score_but_keep_a_match() {
        let a = finger(3, 50);
        // Partial contact: only the upper part of the finger touched the glass.
        let mut b = moved(&a, 5, (0, 10));
        b.minutiae.retain(|m| m.y < 540);
        let part = compare(&a, &b);
        assert!(b.minutiae.len() < 40, "{}", b.minutiae.len());
        assert!((25..100).contains(&part), "{part}");
        assert_eq!(compare(&a, &finger(99, 2)), 0);
    }

    #[test]
    fn a_probe_compares_the_same_as_a_one_off() {
        let a = finger(11, 40);
        let probe = Probe::new(&a);
        let mut s = Scratch::default();
        for seed in 1..6 {
            let g = moved(&finger(seed, 40), 3, (2, 2));
            assert_eq!(
                probe.compare(&Prepared::new(&g), &mut s),
                compare(&a, &g),
                "scratch is left clean"
            );
        }
    }
}
