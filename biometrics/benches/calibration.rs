//! The finger matchers on prints taken every way the generator knows, the held-out style apart.
//!
//! `cargo bench -p rekam-bio --bench calibration -- [--residents N] [--impressions K]
//! [--seed S] [--quality Q] [--styles live_scan,optical,...] [--nbis-steps G,I] [--gate Q]
//! [--nfiq2 N]`
//!
//! The same residents' fingers (ten each) are printed K times in each style
//! (`rekam_synth::finger::style`); MINDTCT extracts each impression once for both matchers.
//! Impressions our quality gate refuses (below 40 unless `--gate` says otherwise) take part in
//! no pair: a counter retakes them.
//!
//! Two kinds of pair, each in its own table:
//! - impression against impression (de-duplication's case): genuine, every pair of impressions
//!   of a finger; impostors, the first impressions of every two different fingers (all for
//!   ours; every I-th for BOZORTH3, which is 500 times slower, and every G-th genuine pair);
//!   BOZORTH3 gets MINDTCT's full lists, as NBIS runs it;
//! - the handover's: a later impression against the chip's card template of the first
//!   (`verify::card_template`), BOZORTH3 on the same two minutiae lists.
//!
//! The fusion is scored on the pairs both matchers scored. Printed per style, for the tuning
//! styles pooled and for the held-out style: EER, FNMR at FMR 1e-3 and 1e-4, and FNMR and FMR at
//! the shipped thresholds. Thresholds derived here come from the tuning styles' impostors only;
//! the held-out style never tunes anything.
//!
//! With `--nfiq2 N`, NIST NFIQ 2 (`scripts/nfiq2/run`, through PyPI's nbis-python; network on
//! its first run) scores the first N impressions of each style and the same captures rendered
//! again with fresh sensor noise: our quality score's Spearman rank correlation with it, each
//! score's with itself across the two renderings, and which of the two better predicts a failed
//! comparison.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Curve, Sample, sample};
use rayon::prelude::*;
use rekam_bio::calibration::upper_95;
use rekam_bio::finger::FingerTemplate;
use rekam_bio::finger::extract::Gray;
use rekam_bio::finger::matcher::{Prepared, Probe, Scratch};
use rekam_bio::finger::quality::{FingerQuality, assess};
use rekam_bio::person::{Decision, PersonGallery, PersonProbe, PersonTemplate};
use rekam_bio::verify;
use rekam_synth::finger::MasterPrint;
use rekam_synth::finger::impression::Quality;
use rekam_synth::finger::style::{Style, StyledCapture, styled_impression};
use rekam_synth::seed::Seed;
use rekam_synth::set::masters;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// NIST's usual BOZORTH3 threshold for a match ("a score above 40").
const BOZORTH3_THRESHOLD: f64 = 40.0;

struct Args {
    residents: u64,
    impressions: u64,
    seed: u64,
    quality: f32,
    styles: Vec<Style>,
    nbis_steps: (usize, usize),
    /// Impressions our quality score puts below this are left out, as a counter retakes them.
    gate: u8,
    /// Impressions per style NIST NFIQ 2 scores (`scripts/nfiq2/run`); 0: none.
    nfiq2: usize,
}

fn args() -> Args {
    let mut a = Args {
        residents: 40,
        impressions: 3,
        seed: 2026,
        quality: 0.75,
        styles: Style::ALL.to_vec(),
        nbis_steps: (1, 20),
        gate: 40,
        nfiq2: 0,
    };
    for (name, v) in common::flags() {
        match name.as_str() {
            "--residents" => a.residents = v.parse().unwrap(),
            "--impressions" => a.impressions = v.parse().unwrap(),
            "--seed" => a.seed = v.parse().unwrap(),
            "--quality" => a.quality = v.parse().unwrap(),
            "--gate" => a.gate = v.parse().unwrap(),
            "--nfiq2" => a.nfiq2 = v.parse().unwrap(),
            "--styles" => {
                a.styles = v
                    .split(',')
                    .map(|s| Style::from_name(s).unwrap_or_else(|| panic!("no style {s}")))
                    .collect()
            }
            "--nbis-steps" => a.nbis_steps = common::steps(&v),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// Comparison scores of one kind of pair.
#[derive(Default)]
struct Pairs {
    ours_genuine: Vec<f64>,
    ours_impostor: Vec<f64>,
    /// (ours, BOZORTH3) on the pairs BOZORTH3 scored.
    both_genuine: Vec<(f64, f64)>,
    both_impostor: Vec<(f64, f64)>,
}

/// Scores of one style's prints.
struct Scores {
    style: Style,
    /// Impression against impression, both templates as extracted (the de-duplication case).
    pairs: Pairs,
    /// The handover: a live impression's template against the chip's compact card template of
    /// the recorded one (`verify::card_template`, at most 60 minutiae in 0.1 mm and 64ths of a
    /// turn); BOZORTH3 gets the same two minutiae lists (what `verify` holds at a handover).
    handover: Pairs,
    minutiae: Vec<f64>,
    quality: Vec<f64>,
    /// Impressions written for NFIQ 2.
    nfiq2: Vec<Rescored>,
    /// Every genuine pair of the fingers NFIQ 2 scores, the gate ignored: indices into
    /// `nfiq2` and our comparison score.
    nfiq2_genuine: Vec<(usize, usize, f64)>,
    /// A resident's first impressions against each of their later ones, finger by finger.
    person_genuine: Vec<[Option<u8>; 12]>,
}

/// An impression written for NFIQ 2, and the same capture rendered again with fresh sensor
/// noise (the same finger, placement, pressure, moisture and blur): how much a score moves on
/// what no capture controls.
struct Rescored {
    path: PathBuf,
    again: PathBuf,
    ours: FingerQuality,
    ours_again: u8,
}

fn score_style(a: &Args, fingers: &[MasterPrint], style: Style, images: &Path) -> Scores {
    let seed = Seed::from_u64(a.seed).child(style.as_str());
    let q = Quality(a.quality);
    let png = |f: usize, k: u64, again: &str| {
        images.join(format!("{}-{f}-{k}{again}.png", style.as_str()))
    };
    let for_nfiq2 = |f: usize, k: u64| f as u64 * a.impressions + k < a.nfiq2 as u64;
    // samples[finger][impression], with our quality score of each (and, for NFIQ 2, the
    // impression rendered again)
    let rendered: Vec<Vec<(Sample, FingerQuality, Option<Rescored>)>> = fingers
        .par_iter()
        .enumerate()
        .map(|(f, m)| {
            (0..a.impressions)
                .map(|k| {
                    let s = seed.child_n("capture", f as u64 * 100 + k);
                    let cap = StyledCapture::draw(&mut s.rng(), q, style);
                    let img = styled_impression(m, &cap, s.child("sensor"));
                    let smp = sample(&img, m.position.code());
                    let g = Gray {
                        data: &img.data,
                        width: img.width,
                        height: img.height,
                    };
                    let quality = assess(g, &smp.ours);
                    let rescored = for_nfiq2(f, k).then(|| {
                        let again = styled_impression(m, &cap, s.child("sensor-again"));
                        let g2 = Gray {
                            data: &again.data,
                            width: again.width,
                            height: again.height,
                        };
                        let ours_again = assess(g2, &sample(&again, m.position.code()).ours);
                        std::fs::write(png(f, k, ""), img.to_png()).unwrap();
                        std::fs::write(png(f, k, "-again"), again.to_png()).unwrap();
                        Rescored {
                            path: png(f, k, ""),
                            again: png(f, k, "-again"),
                            ours: quality,
                            ours_again: ours_again.score,
                        }
                    });
                    (smp, quality, rescored)
                })
                .collect()
        })
        .collect();
    let mut nfiq2 = Vec::new();
    let mut nfiq2_at = std::collections::HashMap::new();
    let samples: Vec<Vec<(Sample, FingerQuality)>> = rendered
        .into_iter()
        .enumerate()
        .map(|(f, ks)| {
            ks.into_iter()
                .enumerate()
                .map(|(k, (smp, q, rescored))| {
                    if let Some(r) = rescored {
                        nfiq2_at.insert((f, k), nfiq2.len());
                        nfiq2.push(r);
                    }
                    (smp, q)
                })
                .collect()
        })
        .collect();
    let prepared: Vec<Vec<Prepared>> = samples
        .iter()
        .map(|f| f.iter().map(|(s, _)| Prepared::new(&s.ours)).collect())
        .collect();
    let probes: Vec<Probe> = samples.iter().map(|f| Probe::new(&f[0].0.ours)).collect();
    let k = a.impressions as usize;
    let nf = samples.len();
    let passes = |f: usize, i: usize| samples[f][i].1.score >= a.gate;
    let genuine_pairs: Vec<(usize, usize, usize)> = (0..nf)
        .flat_map(|f| (0..k).flat_map(move |i| (i + 1..k).map(move |j| (f, i, j))))
        .filter(|&(f, i, j)| passes(f, i) && passes(f, j))
        .collect();
    let impostor_pairs: Vec<(usize, usize)> = (0..nf)
        .flat_map(|x| (x + 1..nf).map(move |y| (x, y)))
        .filter(|&(x, y)| passes(x, 0) && passes(y, 0))
        .collect();
    let ours = |f: usize, i: usize, g: usize, j: usize, s: &mut Scratch| {
        f64::from(Probe::from_prepared(prepared[f][i].clone()).compare(&prepared[g][j], s))
    };
    let ours_genuine: Vec<f64> = genuine_pairs
        .par_iter()
        .map_init(Scratch::default, |s, &(f, i, j)| ours(f, i, f, j, s))
        .collect();
    let ours_impostor: Vec<f64> = impostor_pairs
        .par_iter()
        .map_init(Scratch::default, |s, &(x, y)| {
            f64::from(probes[x].compare(&prepared[y][0], s))
        })
        .collect();
    let bz = |a: &Sample, b: &Sample| f64::from(fprint_bozorth3::match_score(&a.nbis, &b.nbis));
    let (gstep, istep) = a.nbis_steps;
    let both_genuine: Vec<(f64, f64)> = genuine_pairs
        .par_iter()
        .step_by(gstep)
        .map_init(Scratch::default, |s, &(f, i, j)| {
            (ours(f, i, f, j, s), bz(&samples[f][i].0, &samples[f][j].0))
        })
        .collect();
    let both_impostor: Vec<(f64, f64)> = impostor_pairs
        .par_iter()
        .step_by(istep)
        .map_init(Scratch::default, |s, &(x, y)| {
            (ours(x, 0, y, 0, s), bz(&samples[x][0].0, &samples[y][0].0))
        })
        .collect();
    let pairs = Pairs {
        ours_genuine,
        ours_impostor,
        both_genuine,
        both_impostor,
    };
    let handover = handover(a, &samples, fingers, &passes);
    let person = |r: usize, k: usize| {
        PersonTemplate::from_fingers(
            (r * 10..r * 10 + 10)
                .filter(|&f| passes(f, k))
                .map(|f| samples[f][k].0.ours.clone()),
        )
    };
    let person_genuine = (0..nf / 10)
        .into_par_iter()
        .flat_map_iter(|r| {
            let enrolled = PersonGallery::new(&person(r, 0));
            let mut s = Scratch::default();
            (1..k)
                .map(|i| PersonProbe::new(&person(r, i)).scores(&enrolled, &mut s))
                .collect::<Vec<_>>()
        })
        .collect();
    let nfiq2_genuine = (0..nf)
        .flat_map(|f| (0..k).flat_map(move |i| (i + 1..k).map(move |j| (f, i, j))))
        .filter_map(|(f, i, j)| Some((f, i, j, *nfiq2_at.get(&(f, i))?, *nfiq2_at.get(&(f, j))?)))
        .map(|(f, i, j, x, y)| (x, y, ours(f, i, f, j, &mut Scratch::default())))
        .collect();
    let flat = samples.iter().flatten();
    Scores {
        style,
        pairs,
        handover,
        minutiae: flat.clone().map(|(s, _)| s.nbis.len() as f64).collect(),
        quality: flat.map(|(_, q)| f64::from(q.score)).collect(),
        nfiq2,
        nfiq2_genuine,
        person_genuine,
    }
}

/// NFIQ 2 scores of `images` through `scripts/nfiq2/run`, one process per thread; `None` for
/// an image it could not score.
fn nfiq2_scores(images: &[PathBuf]) -> Vec<Option<u8>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/nfiq2/run");
    let chunk = images.len().div_ceil(rayon::current_num_threads()).max(1);
    let scored: Vec<(PathBuf, Option<u8>)> = images
        .par_chunks(chunk)
        .flat_map_iter(|paths| {
            let mut child = Command::new(&script)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
            let list: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(list.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{} failed", script.display());
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| {
                    let (path, score) = l.rsplit_once(' ').unwrap();
                    (
                        PathBuf::from(path),
                        u8::try_from(score.parse::<i32>().unwrap()).ok(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let by_path: std::collections::HashMap<PathBuf, Option<u8>> = scored.into_iter().collect();
    images
        .iter()
        .map(|p| by_path.get(p).copied().flatten())
        .collect()
}

/// Ranks with ties sharing their mean rank.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            r[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation.
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt().max(1e-12)
}

/// Our quality score against NFIQ 2's, per style and overall: how the two rank the same
/// prints, how each ranks the same captures rendered again with fresh sensor noise (the bound
/// on any agreement: a score cannot follow NFIQ 2 more closely than NFIQ 2 follows itself), and
/// which of them better foretells a failed comparison (ISO/IEC 29794-1's error-versus-reject
/// view: the genuine pairs left after dropping the lowest-quality share, their FNMR at the
/// shipped threshold).
fn quality_against_nfiq2(scores: &[Scores], threshold: f64) {
    let all: Vec<(Style, &Rescored)> = scores
        .iter()
        .flat_map(|s| s.nfiq2.iter().map(move |r| (s.style, r)))
        .collect();
    let t = Instant::now();
    let paths: Vec<PathBuf> = all
        .iter()
        .flat_map(|(_, r)| [r.path.clone(), r.again.clone()])
        .collect();
    let nfiq2: Vec<(Option<u8>, Option<u8>)> = nfiq2_scores(&paths)
        .chunks(2)
        .map(|c| (c[0], c[1]))
        .collect();
    println!();
    println!(
        "## Our quality score against NIST NFIQ 2 ({} impressions, each also rendered again with fresh sensor noise; {:.0} s)",
        all.len(),
        t.elapsed().as_secs_f64()
    );
    println!(
        "| prints | scored by NFIQ 2 | ours ~ NFIQ 2 | NFIQ 2 ~ NFIQ 2 again | ours ~ ours again | NFIQ 2 median | ours median |"
    );
    println!("|---|---|---|---|---|---|---|");
    let line = |name: &str, keep: &dyn Fn(Style) -> bool| {
        let kept: Vec<(&Rescored, f64, f64)> = all
            .iter()
            .zip(&nfiq2)
            .filter(|((style, _), _)| keep(*style))
            .filter_map(|((_, r), n)| Some((*r, f64::from(n.0?), f64::from(n.1?))))
            .collect();
        let col =
            |f: &dyn Fn(&(&Rescored, f64, f64)) -> f64| kept.iter().map(f).collect::<Vec<_>>();
        let (ours, ours_again) = (
            col(&|k| f64::from(k.0.ours.score)),
            col(&|k| f64::from(k.0.ours_again)),
        );
        let (theirs, theirs_again) = (col(&|k| k.1), col(&|k| k.2));
        println!(
            "| {name} | {} of {} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} |",
            kept.len(),
            all.iter().filter(|(s, _)| keep(*s)).count(),
            spearman(&ours, &theirs),
            spearman(&theirs, &theirs_again),
            spearman(&ours, &ours_again),
            median(&theirs),
            median(&ours)
        );
    };
    for s in scores {
        line(s.style.as_str(), &|style| style == s.style);
    }
    line("all styles", &|_| true);
    // Which of the score's features rank as NFIQ 2 does, all styles together.
    let scored: Vec<(&FingerQuality, f64)> = all
        .iter()
        .zip(&nfiq2)
        .filter_map(|((_, r), n)| Some((&r.ours, f64::from(n.0?))))
        .collect();
    let theirs: Vec<f64> = scored.iter().map(|(_, n)| *n).collect();
    type Feature = fn(&FingerQuality) -> f64;
    let features: [(&str, Feature); 7] = [
        ("foreground", |q| f64::from(q.foreground)),
        ("coherence", |q| f64::from(q.coherence)),
        ("frequency", |q| f64::from(q.frequency)),
        ("contrast", |q| f64::from(q.contrast)),
        ("darkness", |q| f64::from(q.darkness)),
        ("minutiae", |q| q.minutiae as f64),
        ("reliability", |q| f64::from(q.reliability)),
    ];
    let each: Vec<String> = features
        .iter()
        .map(|(name, f)| {
            let ours: Vec<f64> = scored.iter().map(|(q, _)| f(q)).collect();
            format!("{name} {:.2}", spearman(&ours, &theirs))
        })
        .collect();
    println!("Spearman of each feature with NFIQ 2: {}", each.join(", "));

    // Error versus reject: every genuine pair of the scored fingers (the gate ignored), a pair's
    // quality the lower of its two prints'.
    let mut offset = 0;
    let mut pairs: Vec<RatedPair> = Vec::new();
    for s in scores {
        for &(x, y, score) in &s.nfiq2_genuine {
            let (nx, ny) = (nfiq2[offset + x].0, nfiq2[offset + y].0);
            if let (Some(nx), Some(ny)) = (nx, ny) {
                let ours = s.nfiq2[x].ours.score.min(s.nfiq2[y].ours.score);
                pairs.push(RatedPair {
                    style: s.style,
                    ours: f64::from(ours),
                    nfiq2: f64::from(nx.min(ny)),
                    score,
                });
            }
        }
        offset += s.nfiq2.len();
    }
    println!();
    println!(
        "## Which quality foretells a failed comparison: FNMR at the shipped threshold ({threshold}) of the genuine pairs left after dropping the lowest-quality share"
    );
    println!(
        "| prints | genuine pairs | dropped | FNMR, none dropped | dropped by ours | dropped by NFIQ 2 |"
    );
    println!("|---|---|---|---|---|---|");
    let erc = |name: &str, keep: &dyn Fn(Style) -> bool| {
        let group: Vec<&RatedPair> = pairs.iter().filter(|p| keep(p.style)).collect();
        let fnmr_after = |share: f64, quality: fn(&RatedPair) -> f64| {
            let mut by = group.clone();
            by.sort_by(|a, b| quality(a).total_cmp(&quality(b)));
            let rest = &by[(share * by.len() as f64).round() as usize..];
            rest.iter().filter(|p| p.score < threshold).count() as f64 / rest.len().max(1) as f64
        };
        for share in [0.05, 0.1, 0.2] {
            println!(
                "| {name} | {} | {:.0}% | {:.2}% | {:.2}% | {:.2}% |",
                group.len(),
                share * 100.0,
                fnmr_after(0.0, |p| p.ours) * 100.0,
                fnmr_after(share, |p| p.ours) * 100.0,
                fnmr_after(share, |p| p.nfiq2) * 100.0
            );
        }
    };
    erc("tuning styles", &|s| Style::TUNING.contains(&s));
    erc(&format!("held-out ({})", Style::HELD_OUT.as_str()), &|s| {
        s == Style::HELD_OUT
    });
}

/// A genuine pair of prints NFIQ 2 scored: the lower quality of its two by each score, and
/// our comparison score.
struct RatedPair {
    style: Style,
    ours: f64,
    nfiq2: f64,
    score: f64,
}

/// False duplicates one recording may cause at this gallery size: the derived person rule keeps
/// them at or under [`FALSE_DUPLICATES_PER_RECORDING`].
const GALLERY: f64 = 100_000.0;
/// A resident wrongly told "already recorded" is sent to clarification at the Dinas: at most one
/// recording in a thousand at [`GALLERY`] enrolled.
const FALSE_DUPLICATES_PER_RECORDING: f64 = 1e-3;

/// The chance that at least `m` of ten fingers of two different people each clear a threshold
/// a finger pair clears with probability `f`, fingers independent.
fn at_least(m: u8, f: f64) -> f64 {
    (u32::from(m)..=10)
        .map(|j| {
            let c = (1..=j).fold(1.0, |c, i| c * f64::from(10 - i + 1) / f64::from(i));
            c * f.powi(j as i32) * (1.0 - f).powi(10 - j as i32)
        })
        .sum()
}

/// False duplicates per new recording at `size` enrolled for a finger FMR `f`.
fn per_recording(rule: &Decision, f: f64, size: f64) -> f64 {
    1.0 - (1.0 - at_least(rule.fingers, f)).powf(size)
}

/// The person rule: the shipped one and one whose finger threshold is derived from the tuning
/// styles' impostors: the lowest whose finger FMR is shown (95% upper bound) small enough for
/// [`FALSE_DUPLICATES_PER_RECORDING`] at [`GALLERY`]; per style, the duplicates each misses
/// (measured) and the false ones it would cause at 10k and 100k enrolled (from the 95% upper
/// bound of the style's finger FMR at the rule's threshold, fingers independent).
fn persons(scores: &[Scores], tuning: &[&Scores]) {
    let shipped = Decision::default();
    let pooled: Vec<f64> = tuning
        .iter()
        .flat_map(|s| s.pairs.ours_impostor.iter().copied())
        .collect();
    let pooled = Curve::new(&[], &pooled);
    // the finger FMR whose two-finger chance gives the target at the gallery size
    let target = (1.0 - (1.0 - FALSE_DUPLICATES_PER_RECORDING).powf(1.0 / GALLERY)) / 45.0;
    let target = target.sqrt();
    // shown, not estimated: the false duplicates below come from the same upper bound
    let derived = pooled.threshold_shown_at(target).map(|t| Decision {
        finger: t as u8,
        ..shipped
    });
    println!();
    println!("## Persons (fingers only: irises would only add to a genuine person's scores)");
    println!(
        "shipped rule {shipped:?}; derived for at most {FALSE_DUPLICATES_PER_RECORDING:e} false duplicates per recording at {GALLERY} enrolled (finger FMR {target:.1e} on the tuning styles): {}",
        derived.map_or("n/a (too few impostor pairs)".into(), |d| format!("{d:?}"))
    );
    println!();
    println!(
        "| prints | rule | genuine persons | missed duplicates (measured) | false duplicates per recording at 10k (model) | at 100k (model) |"
    );
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, members: &[&Scores], rule: &Decision, label: &str| {
        let genuine: Vec<&[Option<u8>; 12]> =
            members.iter().flat_map(|s| &s.person_genuine).collect();
        let missed = genuine.iter().filter(|g| !rule.judge(g).same).count();
        let impostors: Vec<f64> = members
            .iter()
            .flat_map(|s| s.pairs.ours_impostor.iter().copied())
            .collect();
        let over = impostors
            .iter()
            .filter(|&&x| x >= f64::from(rule.finger))
            .count();
        let f = upper_95(over, impostors.len());
        println!(
            "| {name} | {label} | {} | {missed} ({:.2}%) | {:.1e} | {:.1e} |",
            genuine.len(),
            100.0 * missed as f64 / genuine.len().max(1) as f64,
            per_recording(rule, f, 10_000.0),
            per_recording(rule, f, 100_000.0),
        );
    };
    let groups: Vec<(String, Vec<&Scores>)> = scores
        .iter()
        .map(|s| (s.style.as_str().to_string(), vec![s]))
        .chain([("tuning styles pooled".to_string(), tuning.to_vec())])
        .chain([(
            "held out".to_string(),
            scores
                .iter()
                .filter(|s| s.style == Style::HELD_OUT)
                .collect(),
        )])
        .collect();
    for (name, members) in &groups {
        if members.is_empty() {
            continue;
        }
        row(
            name,
            members,
            &shipped,
            &format!("shipped, finger {}", shipped.finger),
        );
        if let Some(d) = &derived {
            row(name, members, d, &format!("derived, finger {}", d.finger));
        }
    }
}

/// The handover's pairs: each finger's first impression recorded as the chip's card template;
/// genuine, each later impression of the finger against it; impostors, the second impression
/// of every other finger against it (every I-th for BOZORTH3, every G-th genuine pair).
fn handover(
    a: &Args,
    samples: &[Vec<(Sample, FingerQuality)>],
    fingers: &[MasterPrint],
    passes: &(dyn Fn(usize, usize) -> bool + Sync),
) -> Pairs {
    let nf = samples.len();
    let k = samples.first().map_or(0, Vec::len);
    if k < 2 {
        return Pairs::default();
    }
    let cards: Vec<FingerTemplate> = samples
        .iter()
        .zip(fingers)
        .map(|(f, m)| {
            let code = m.position.code();
            verify::from_card(code, &verify::card_template(&f[0].0.ours))
        })
        .collect();
    let prepared: Vec<Prepared> = cards.iter().map(Prepared::new).collect();
    let card_nbis: Vec<Vec<fprint_bozorth3::Minutia>> = cards.iter().map(nbis_of).collect();
    let live_nbis: Vec<Vec<Vec<fprint_bozorth3::Minutia>>> = samples
        .iter()
        .map(|f| f.iter().map(|(s, _)| nbis_of(&s.ours)).collect())
        .collect();
    // (card's finger, live finger, live impression)
    let genuine: Vec<(usize, usize, usize)> = (0..nf)
        .flat_map(|f| (1..k).map(move |j| (f, f, j)))
        .filter(|&(f, _, j)| passes(f, 0) && passes(f, j))
        .collect();
    let impostor: Vec<(usize, usize, usize)> = (0..nf)
        .flat_map(|x| (0..nf).filter(move |&y| y != x).map(move |y| (x, y, 1)))
        .filter(|&(x, y, j)| passes(x, 0) && passes(y, j))
        .collect();
    let ours = |(c, f, j): (usize, usize, usize), s: &mut Scratch| {
        f64::from(Probe::new(&samples[f][j].0.ours).compare(&prepared[c], s))
    };
    let bz = |(c, f, j): (usize, usize, usize)| {
        f64::from(fprint_bozorth3::match_score(
            &live_nbis[f][j],
            &card_nbis[c],
        ))
    };
    let only_ours = |pairs: &[(usize, usize, usize)]| -> Vec<f64> {
        pairs
            .par_iter()
            .map_init(Scratch::default, |s, &p| ours(p, s))
            .collect()
    };
    let both = |pairs: &[(usize, usize, usize)], step: usize| -> Vec<(f64, f64)> {
        pairs
            .par_iter()
            .step_by(step)
            .map_init(Scratch::default, |s, &p| (ours(p, s), bz(p)))
            .collect()
    };
    // Impostors are ordered pairs here, twice as many: BOZORTH3 takes every 2I-th.
    let (gstep, istep) = a.nbis_steps;
    Pairs {
        ours_genuine: only_ours(&genuine),
        ours_impostor: only_ours(&impostor),
        both_genuine: both(&genuine, gstep),
        both_impostor: both(&impostor, istep * 2),
    }
}

/// A template's minutiae as BOZORTH3 reads them. BOZORTH3 is invariant to translation, so the
/// template's rows (counted from the top) become MINDTCT's (from the bottom) about any fixed row.
fn nbis_of(t: &FingerTemplate) -> Vec<fprint_bozorth3::Minutia> {
    t.minutiae
        .iter()
        .map(|m| {
            let theta = (i32::from(m.angle) * 360 + 128) / 256 % 360;
            fprint_bozorth3::Minutia::from_xyt(i32::from(m.x), 1000 - i32::from(m.y), theta)
        })
        .collect()
}

/// Score-level fusion: each matcher's score as standard deviations above its impostor mean
/// (on the tuning styles), summed.
#[derive(Clone, Copy, Debug)]
struct Fusion {
    ours: (f64, f64),
    nbis: (f64, f64),
}

impl Fusion {
    fn fit(impostors: &[(f64, f64)]) -> Fusion {
        let stats = |v: Vec<f64>| {
            let n = v.len().max(1) as f64;
            let mean = v.iter().sum::<f64>() / n;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            (mean, sd.max(1e-9))
        };
        Fusion {
            ours: stats(impostors.iter().map(|p| p.0).collect()),
            nbis: stats(impostors.iter().map(|p| p.1).collect()),
        }
    }

    fn score(&self, (o, b): (f64, f64)) -> f64 {
        (o - self.ours.0) / self.ours.1 + (b - self.nbis.0) / self.nbis.1
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{:.2}%", v * 100.0))
}

/// One table row: a matcher on one group of pairs, at its own thresholds and at `shipped`.
fn row(group: &str, matcher: &str, c: &Curve, shipped: Option<f64>) {
    let at_shipped = shipped.map_or("n/a".into(), |t| {
        format!("{:.2}% / {:.1e}", c.fnmr(t) * 100.0, c.fmr(t))
    });
    println!(
        "| {group} | {matcher} | {} | {} | {:.3}% | {} | {} | {at_shipped} |",
        c.genuine(),
        c.impostors(),
        c.eer() * 100.0,
        pct(c.fnmr_at_fmr(1e-3)),
        pct(c.fnmr_at_fmr(1e-4)),
    );
}

/// One section of the side-by-side table: each style, the tuning styles pooled and the held-out
/// style, for ours (at the shipped threshold and at the one derived here), BOZORTH3 (at its
/// usual 40) and the fusion (at its threshold derived here). Thresholds and the fusion's
/// parameters come from the tuning styles' impostors only.
fn comparisons(scores: &[Scores], tuning: &[&Scores], pick: fn(&Scores) -> &Pairs) {
    let pool = |f: &dyn Fn(&Pairs) -> Vec<f64>| -> Vec<f64> {
        tuning.iter().flat_map(|s| f(pick(s))).collect()
    };
    let tuning_imp_pairs: Vec<(f64, f64)> = tuning
        .iter()
        .flat_map(|s| pick(s).both_impostor.iter().copied())
        .collect();
    let fusion = Fusion::fit(&tuning_imp_pairs);
    let fused = |v: &[(f64, f64)]| v.iter().map(|&p| fusion.score(p)).collect::<Vec<f64>>();
    let derived_ours = Curve::new(
        &pool(&|p| p.ours_genuine.clone()),
        &pool(&|p| p.ours_impostor.clone()),
    )
    .threshold_at(1e-4);
    let derived_fusion = Curve::new(
        &pool(&|p| fused(&p.both_genuine)),
        &pool(&|p| fused(&p.both_impostor)),
    )
    .threshold_at(1e-4);
    println!(
        "Shipped thresholds: ours {} (`verify::THRESHOLD`), BOZORTH3 {BOZORTH3_THRESHOLD}; derived at FMR 1e-4 on the tuning styles' impostors: ours {}, fusion {} (fusion: {:?})",
        verify::THRESHOLD,
        derived_ours.map_or("n/a".into(), |t| format!("{t}")),
        derived_fusion.map_or("n/a".into(), |t| format!("{t:.2}")),
        fusion,
    );
    println!();
    println!(
        "| prints | matcher | genuine | impostors | EER | FNMR at FMR 1e-3 | FNMR at FMR 1e-4 | at shipped threshold: FNMR / FMR |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let ours_shipped = Some(f64::from(verify::THRESHOLD));
    let group = |name: &str, members: &[&Scores]| {
        let cat = |f: &dyn Fn(&Pairs) -> Vec<f64>| -> Vec<f64> {
            members.iter().flat_map(|s| f(pick(s))).collect()
        };
        let ours = Curve::new(
            &cat(&|p| p.ours_genuine.clone()),
            &cat(&|p| p.ours_impostor.clone()),
        );
        let nbis = Curve::new(
            &cat(&|p| p.both_genuine.iter().map(|p| p.1).collect()),
            &cat(&|p| p.both_impostor.iter().map(|p| p.1).collect()),
        );
        let fus = Curve::new(
            &cat(&|p| fused(&p.both_genuine)),
            &cat(&|p| fused(&p.both_impostor)),
        );
        row(name, "ours", &ours, ours_shipped);
        row(name, "BOZORTH3", &nbis, Some(BOZORTH3_THRESHOLD));
        row(name, "fusion (derived threshold)", &fus, derived_fusion);
        println!(
            "| {name} | ours at the derived threshold | | | | | | {} |",
            derived_ours.map_or("n/a".into(), |t| format!(
                "{:.2}% / {:.1e}",
                ours.fnmr(t) * 100.0,
                ours.fmr(t)
            ))
        );
        ours.fnmr(f64::from(verify::THRESHOLD))
    };
    for s in scores {
        group(s.style.as_str(), &[s]);
    }
    let fnmr_tuning = group("tuning styles pooled", tuning);
    let held: Vec<&Scores> = scores
        .iter()
        .filter(|s| s.style == Style::HELD_OUT)
        .collect();
    if !held.is_empty() {
        let fnmr_held = group("held out", &held);
        println!();
        println!(
            "ours at the shipped threshold: FNMR held out {:.2}% vs tuning {:.2}% (ratio {:.2}; the issue asks for at most 2)",
            fnmr_held * 100.0,
            fnmr_tuning * 100.0,
            fnmr_held / fnmr_tuning.max(1e-9)
        );
    }
}

fn main() {
    let a = args();
    let seed = Seed::from_u64(a.seed);
    println!(
        "# rekam-bio calibration bench: {} residents, {} fingers x {} impressions per style, quality {}, seed {}, {} threads",
        a.residents,
        a.residents * 10,
        a.impressions,
        a.quality,
        a.seed,
        rayon::current_num_threads()
    );
    println!(
        "held-out style (never tuned on): {}; BOZORTH3 scores every {} genuine and every {} impostor pair; impressions scoring below {} on our quality gate are left out (retaken at a counter)",
        Style::HELD_OUT.as_str(),
        a.nbis_steps.0,
        a.nbis_steps.1,
        a.gate
    );
    let t0 = Instant::now();
    let fingers: Vec<MasterPrint> = (0..a.residents)
        .into_par_iter()
        .flat_map_iter(|r| masters(seed, r))
        .collect();
    eprintln!(
        "  {} master prints in {:.0} s",
        fingers.len(),
        t0.elapsed().as_secs_f64()
    );
    let images = std::env::temp_dir().join(format!("rekam-calibration-{}", std::process::id()));
    std::fs::create_dir_all(&images).unwrap();
    let scores: Vec<Scores> = a
        .styles
        .iter()
        .map(|&style| {
            let t = Instant::now();
            let s = score_style(&a, &fingers, style, &images);
            eprintln!("  {} in {:.0} s", style.as_str(), t.elapsed().as_secs_f64());
            s
        })
        .collect();

    println!();
    println!("## The prints (MINDTCT minutiae, our quality score 0-100)");
    println!(
        "| style | impressions | minutiae median | quality median | quality below {} |",
        a.gate
    );
    println!("|---|---|---|---|---|");
    for s in &scores {
        let below = s.quality.iter().filter(|&&q| q < f64::from(a.gate)).count() as f64;
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.1}% |",
            s.style.as_str(),
            s.quality.len(),
            median(&s.minutiae),
            median(&s.quality),
            100.0 * below / s.quality.len().max(1) as f64
        );
    }

    let tuning: Vec<&Scores> = scores
        .iter()
        .filter(|s| Style::TUNING.contains(&s.style))
        .collect();
    println!();
    println!("## Finger comparisons: impression against impression (de-duplication's case)");
    comparisons(&scores, &tuning, |s| &s.pairs);
    println!();
    println!(
        "## At handover: a live impression against the chip's card template of the recorded one"
    );
    comparisons(&scores, &tuning, |s| &s.handover);
    println!();
    println!(
        "## Genuine scores, median (ours / BOZORTH3): {}",
        scores
            .iter()
            .map(|s| format!(
                "{} {:.0} / {:.0}",
                s.style.as_str(),
                median(&s.pairs.ours_genuine),
                median(&s.pairs.both_genuine.iter().map(|p| p.1).collect::<Vec<_>>())
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    persons(&scores, &tuning);
    if a.nfiq2 > 0 {
        quality_against_nfiq2(&scores, f64::from(verify::THRESHOLD));
    }
    std::fs::remove_dir_all(&images).unwrap();
    println!("whole run: {:.0} s", t0.elapsed().as_secs_f64());
}
