//! The biometric engine's figures, ours and NIST BOZORTH3's side by side in one run.
//!
//! `cargo bench -p rekam-bio --bench engine -- [--residents N] [--impressions K] [--seed S]
//! [--quality Q] [--gallery 10000,100000,300000] [--nbis-steps G,I] [--eyes E]
//! [--iris-captures C]`
//!
//! Residents come from `rekam-synth` (ten fingers each, K impressions per finger at quality
//! Q); minutiae from MINDTCT once, shared by both matchers (BOZORTH3 gets MINDTCT's full list,
//! as NBIS runs it; ours keeps the 64 most reliable). Prints: EER and FNMR at FMR 1e-4 for
//! both; extraction time; comparisons per second per core for both; the finger quality score
//! per quality knob; iris EER; person-level rates; 1:N time for the galleries named.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Sample, rates, sample};
use rayon::prelude::*;
use rekam_bio::finger::FingerTemplate;
use rekam_bio::finger::matcher::{Prepared, Probe, Scratch};
use rekam_bio::index::DedupIndex;
use rekam_bio::person::{self, Decision, PersonGallery, PersonProbe, PersonTemplate};
use rekam_synth::finger::impression::{Capture, Quality, impression};
use rekam_synth::seed::Seed;
use rekam_synth::set::masters;
use std::time::Instant;

struct Args {
    residents: u64,
    impressions: u64,
    seed: u64,
    quality: f32,
    galleries: Vec<usize>,
    /// BOZORTH3 scores every n-th genuine pair and every m-th impostor pair (it is slow).
    nbis_steps: (usize, usize),
    /// Eyes, and captures of each, for the iris figures.
    eyes: u64,
    iris_captures: u64,
}

fn args() -> Args {
    let mut a = Args {
        residents: 200,
        impressions: 8,
        seed: 2026,
        quality: 0.75,
        galleries: vec![10_000, 100_000, 300_000],
        nbis_steps: (1, 10),
        eyes: 100,
        iris_captures: 4,
    };
    for (name, v) in common::flags() {
        match name.as_str() {
            "--residents" => a.residents = v.parse().unwrap(),
            "--impressions" => a.impressions = v.parse().unwrap(),
            "--seed" => a.seed = v.parse().unwrap(),
            "--quality" => a.quality = v.parse().unwrap(),
            "--gallery" => a.galleries = v.split(',').map(|n| n.parse().unwrap()).collect(),
            "--eyes" => a.eyes = v.parse().unwrap(),
            "--iris-captures" => a.iris_captures = v.parse().unwrap(),
            "--nbis-steps" => a.nbis_steps = common::steps(&v),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn per_second(n: usize, secs: f64) -> f64 {
    n as f64 / secs
}

fn main() {
    let a = args();
    let seed = Seed::from_u64(a.seed);
    let q = Quality(a.quality);
    let fingers = a.residents * 10;
    println!(
        "# rekam-bio engine bench: {} residents, {fingers} fingers x {} impressions, quality {}, seed {}, {} threads",
        a.residents,
        a.impressions,
        a.quality,
        a.seed,
        rayon::current_num_threads()
    );
    // samples[resident][finger][impression]
    let t0 = Instant::now();
    let samples: Vec<Vec<Vec<Sample>>> = (0..a.residents)
        .map(|r| {
            let ms = masters(seed, r);
            let cseed = seed.child_n("engine-bench", r);
            let out = ms
                .par_iter()
                .map(|m| {
                    (0..a.impressions)
                        .into_par_iter()
                        .map(|k| {
                            let code = m.position.code();
                            let s = cseed.child_n("capture", u64::from(code) * 100 + k);
                            let cap = Capture::draw(&mut s.rng(), q);
                            sample(&impression(m, &cap, s.child("sensor")), code)
                        })
                        .collect()
                })
                .collect();
            if (r + 1) % 20 == 0 {
                eprintln!("  generated {}/{} residents", r + 1, a.residents);
            }
            out
        })
        .collect();
    let flat: Vec<&Sample> = samples.iter().flatten().flatten().collect();
    let minutiae: Vec<f64> = flat.iter().map(|s| s.ours.minutiae.len() as f64).collect();
    let mean_extract = flat.iter().map(|s| s.extract_ms).sum::<f64>() / flat.len() as f64;
    println!(
        "generated and extracted {} impressions in {:.0} s; minutiae kept per finger: mean {:.1}",
        flat.len(),
        t0.elapsed().as_secs_f64(),
        minutiae.iter().sum::<f64>() / minutiae.len() as f64
    );
    println!(
        "extraction (MINDTCT) per finger: {mean_extract:.1} ms (wall, while both cores extract)"
    );

    // Prepared forms.
    let fingers_of: Vec<&Vec<Sample>> = samples.iter().flatten().collect();
    let prepared: Vec<Vec<Prepared>> = fingers_of
        .iter()
        .map(|f| f.iter().map(|s| Prepared::new(&s.ours)).collect())
        .collect();
    let probes: Vec<Probe> = fingers_of.iter().map(|f| Probe::new(&f[0].ours)).collect();

    // Genuine: every pair of impressions of a finger. Impostor: first impressions of
    // different fingers (all pairs for ours; every 10th pair for BOZORTH3, the same pairs
    // scored by ours for the side-by-side table).
    let k = a.impressions as usize;
    let genuine_pairs: Vec<(usize, usize, usize)> = (0..fingers_of.len())
        .flat_map(|f| (0..k).flat_map(move |i| (i + 1..k).map(move |j| (f, i, j))))
        .collect();
    let nf = fingers_of.len();
    let impostor_pairs: Vec<(usize, usize)> = (0..nf)
        .flat_map(|x| (x + 1..nf).map(move |y| (x, y)))
        .collect();

    let ours_genuine: Vec<f64> = genuine_pairs
        .par_iter()
        .map_init(Scratch::default, |s, &(f, i, j)| {
            f64::from(Probe::from_prepared(prepared[f][i].clone()).compare(&prepared[f][j], s))
        })
        .collect();
    let t = Instant::now();
    let ours_impostor: Vec<f64> = impostor_pairs
        .par_iter()
        .map_init(Scratch::default, |s, &(x, y)| {
            f64::from(probes[x].compare(&prepared[y][0], s))
        })
        .collect();
    let ours_secs = t.elapsed().as_secs_f64();
    let (gstep, istep) = a.nbis_steps;
    let ours_shared: Vec<f64> = ours_impostor.iter().copied().step_by(istep).collect();
    let ours_genuine_shared: Vec<f64> = ours_genuine.iter().copied().step_by(gstep).collect();
    let bz = |a: &Sample, b: &Sample| f64::from(fprint_bozorth3::match_score(&a.nbis, &b.nbis));
    let t = Instant::now();
    let nbis_genuine: Vec<f64> = genuine_pairs
        .par_iter()
        .step_by(gstep)
        .map(|&(f, i, j)| bz(&fingers_of[f][i], &fingers_of[f][j]))
        .collect();
    let nbis_impostor: Vec<f64> = impostor_pairs
        .par_iter()
        .step_by(istep)
        .map(|&(x, y)| bz(&fingers_of[x][0], &fingers_of[y][0]))
        .collect();
    let nbis_secs = t.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads() as f64;

    println!();
    println!("## Finger comparisons");
    println!("| matcher | genuine | impostors | EER | FNMR at FMR 1e-4 | threshold |");
    println!("|---|---|---|---|---|---|");
    let (e_b, f_b, t_b) = rates(&nbis_genuine, &nbis_impostor, 1e-4);
    let (e_s, f_s, t_s) = rates(&ours_genuine_shared, &ours_shared, 1e-4);
    let (e_o, f_o, t_o) = rates(&ours_genuine, &ours_impostor, 1e-4);
    let row = |name: &str, g: usize, i: usize, e: f64, f: f64, t: f64| {
        println!(
            "| {name} | {g} | {i} | {:.3}% | {:.3}% | {t} |",
            e * 100.0,
            f * 100.0
        );
    };
    row(
        "BOZORTH3",
        nbis_genuine.len(),
        nbis_impostor.len(),
        e_b,
        f_b,
        t_b,
    );
    row(
        "ours, same pairs",
        ours_genuine_shared.len(),
        ours_shared.len(),
        e_s,
        f_s,
        t_s,
    );
    row(
        "ours, all pairs",
        ours_genuine.len(),
        ours_impostor.len(),
        e_o,
        f_o,
        t_o,
    );
    println!(
        "EER ratio ours/BOZORTH3 on the same pairs: {:.2}",
        e_s / e_b.max(1e-9)
    );
    let max_imp = ours_impostor.iter().copied().fold(0.0, f64::max);
    println!("ours: highest impostor score {max_imp}");
    for t in [10.0, 15.0, 20.0, 25.0, 30.0] {
        let fmr =
            ours_impostor.iter().filter(|&&s| s >= t).count() as f64 / ours_impostor.len() as f64;
        let fnmr =
            ours_genuine.iter().filter(|&&s| s < t).count() as f64 / ours_genuine.len() as f64;
        println!("ours at {t}: FMR {fmr:.2e}, FNMR {:.3}%", fnmr * 100.0);
    }

    println!();
    println!("## Speed");
    // Single-threaded loops for per-core figures.
    let mut s = Scratch::default();
    // As in 1:N: one probe against every gallery finger, then the next probe.
    let rounds = (200_000 / nf).max(1);
    let t = Instant::now();
    let mut sink = 0u64;
    for r in 0..rounds {
        let probe = &probes[r % nf];
        for g in &prepared {
            sink += u64::from(probe.compare(&g[0], &mut s));
        }
    }
    let ours_one = t.elapsed().as_secs_f64() / (rounds * nf) as f64;
    let breps = 2000;
    let t = Instant::now();
    for r in 0..breps {
        sink += bz(&fingers_of[r % nf][0], &fingers_of[(r * 7 + 1) % nf][0]) as u64;
    }
    let nbis_one = t.elapsed().as_secs_f64() / breps as f64;
    let t = Instant::now();
    for r in 0..2000 {
        sink += Prepared::new(&fingers_of[r % nf][1].ours).len() as u64;
    }
    let prep = t.elapsed().as_secs_f64() / 2000.0;
    std::hint::black_box(sink);
    println!("| | ours | BOZORTH3 | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| one comparison, one core | {:.2} us | {:.0} us | {:.0}x |",
        ours_one * 1e6,
        nbis_one * 1e6,
        nbis_one / ours_one
    );
    println!(
        "| comparisons per second per core | {:.0} | {:.0} | |",
        1.0 / ours_one,
        1.0 / nbis_one
    );
    println!(
        "| all-pairs impostor run, {threads} threads | {:.0}/s | {:.0}/s | |",
        per_second(ours_impostor.len(), ours_secs),
        per_second(nbis_impostor.len() + nbis_genuine.len(), nbis_secs)
    );
    println!(
        "preparing a gallery finger (neighbourhoods): {:.1} us",
        prep * 1e6
    );
    let t = Instant::now();
    let (p, g) = (&fingers_of[0][0], &fingers_of[0][1]);
    let img_cost = mean_extract;
    let one_to_one = rekam_bio::finger::matcher::compare(&p.ours, &g.ours);
    println!(
        "1:1 with extraction: {:.1} ms (one extraction {:.1} ms + prepare and compare {:.3} ms; score {one_to_one})",
        img_cost + t.elapsed().as_secs_f64() * 1e3,
        img_cost,
        t.elapsed().as_secs_f64() * 1e3
    );

    finger_quality(&seed);
    iris(&a);

    // Person level.
    println!();
    println!("## Persons ({} residents, ten fingers)", a.residents);
    let person = |r: usize, imp: usize| {
        PersonTemplate::from_fingers(samples[r].iter().map(|f| f[imp].ours.clone()))
    };
    let n = a.residents as usize;
    let galleries: Vec<PersonGallery> = (0..n).map(|r| PersonGallery::new(&person(r, 0))).collect();
    let person_probes: Vec<Vec<PersonProbe>> = (0..n)
        .map(|r| (1..k).map(|i| PersonProbe::new(&person(r, i))).collect())
        .collect();
    let gen_scores: Vec<[Option<u8>; 12]> = (0..n)
        .into_par_iter()
        .flat_map_iter(|r| {
            let mut s = Scratch::default();
            person_probes[r]
                .iter()
                .map(|p| p.scores(&galleries[r], &mut s))
                .collect::<Vec<_>>()
        })
        .collect();
    let imp_scores: Vec<[Option<u8>; 12]> = (0..n)
        .into_par_iter()
        .flat_map_iter(|r| {
            let mut s = Scratch::default();
            let mut out = Vec::new();
            for (i, p) in person_probes[r].iter().enumerate() {
                for (g, gallery) in galleries.iter().enumerate() {
                    if g != r && (g + i) % 2 == 0 {
                        out.push(p.scores(gallery, &mut s));
                    }
                }
            }
            out
        })
        .collect();
    let rule = Decision::default();
    let missed = gen_scores.iter().filter(|s| !rule.judge(s).same).count();
    let false_dup = imp_scores.iter().filter(|s| rule.judge(s).same).count();
    let p_missed = missed as f64 / gen_scores.len() as f64;
    let p_false = false_dup as f64 / imp_scores.len() as f64;
    let max_fused = imp_scores
        .iter()
        .map(|s| rule.judge(s).fused)
        .max()
        .unwrap_or(0);
    let max_matching = imp_scores
        .iter()
        .map(|s| rule.judge(s).matching)
        .max()
        .unwrap_or(0);
    let min_gen = gen_scores
        .iter()
        .map(|s| rule.judge(s).fused)
        .min()
        .unwrap_or(0);
    println!("rule: {rule:?}");
    println!(
        "genuine person pairs {}: missed duplicates {missed} ({:.3}%), lowest fused score {min_gen}",
        gen_scores.len(),
        p_missed * 100.0
    );
    println!(
        "impostor person pairs {}: false duplicates {false_dup} (rate {p_false:.2e}); highest fused {max_fused}, most matching fingers {max_matching}",
        imp_scores.len()
    );
    // A finger-level tail model for rates at scale: a person pair is a false duplicate only
    // when at least `rule.fingers` fingers clear `rule.finger`; fingers of different people
    // are independent, so P = P(Binomial(10, f) >= m) with f measured on all finger pairs.
    let f = ours_impostor
        .iter()
        .filter(|&&s| s >= f64::from(rule.finger))
        .count() as f64
        / ours_impostor.len() as f64;
    let f_upper = f.max(3.0 / ours_impostor.len() as f64);
    let binom = |f: f64| -> f64 {
        let m = u32::from(rule.fingers);
        (m..=10)
            .map(|j| {
                let c = (1..=j).fold(1.0, |c, i| c * f64::from(10 - i + 1) / f64::from(i));
                c * f.powi(j as i32) * (1.0 - f).powi(10 - j as i32)
            })
            .sum()
    };
    println!(
        "finger FMR at {}: {f:.2e} measured ({} pairs), {f_upper:.2e} upper bound used",
        rule.finger,
        ours_impostor.len()
    );
    for size in [10_000.0, 100_000.0] {
        let p = binom(f_upper);
        println!(
            "at {size} enrolled: false-duplicate rate per new recording {:.2e} (model), missed-duplicate rate {:.3}% (measured, before screening losses below)",
            1.0 - (1.0 - p).powf(size),
            p_missed * 100.0
        );
    }

    // 1:N at scale. The first half of the residents are the probes: their first impression
    // is enrolled, their other impressions come back as new recordings. The other half's
    // fingers (every impression) are the pool from which filler people are assembled, ten
    // fingers from ten random pool fingers each: real synthetic prints, none of a probe's
    // fingers, so any filler judged the same person is a false duplicate, and a probe whose
    // own record is not found is a missed one (screening losses included).
    println!();
    let probes_r = n / 2;
    let pool: Vec<&FingerTemplate> = samples[probes_r..]
        .iter()
        .flatten()
        .flatten()
        .map(|s| &s.ours)
        .collect();
    println!(
        "## 1:N ({probes_r} residents enrolled among people assembled from the other {} residents' {} finger impressions)",
        n - probes_r,
        pool.len()
    );
    let filler = |i: u64| -> PersonTemplate {
        let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        PersonTemplate::from_fingers((1..=10u8).map(|position| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut f = pool[(x % pool.len() as u64) as usize].clone();
            f.position = position;
            f
        }))
    };
    let real_codes: Vec<_> = (0..probes_r)
        .map(|r| person::codes(&person(r, 0)))
        .collect();
    let max_g = a.galleries.iter().copied().max().unwrap_or(0);
    let t = Instant::now();
    let filler_codes: Vec<_> = (probes_r..max_g)
        .into_par_iter()
        .map(|i| person::codes(&filler(i as u64)))
        .collect();
    println!(
        "screening codes of {} people built in {:.0} s",
        filler_codes.len(),
        t.elapsed().as_secs_f64()
    );
    println!(
        "| enrolled | searches | missed duplicates | false duplicates | search time | of which screening |"
    );
    println!("|---|---|---|---|---|---|");
    let bound = |k: usize, n: usize| {
        if k == 0 {
            format!("0 (< {:.2}%)", 300.0 / n as f64)
        } else {
            format!("{k} ({:.2}%)", 100.0 * k as f64 / n as f64)
        }
    };
    for &size in &a.galleries {
        let mut index = DedupIndex::new();
        for (r, c) in real_codes.iter().enumerate() {
            index.insert(r as i64, *c);
        }
        for (i, c) in filler_codes
            .iter()
            .take(size.saturating_sub(probes_r))
            .enumerate()
        {
            index.insert((probes_r + i) as i64, *c);
        }
        let fetch = |id: i64| {
            let id = id as usize;
            Some(if id < probes_r {
                person(id, 0)
            } else {
                filler(id as u64)
            })
        };
        let (mut missed, mut false_dup, mut searches) = (0, 0, 0);
        let t = Instant::now();
        for (r, probes) in person_probes.iter().enumerate().take(probes_r) {
            for probe in probes {
                let hits = index.search(probe, 100, &rule, fetch);
                searches += 1;
                if !hits.iter().any(|h| h.id == r as i64 && h.verdict.same) {
                    missed += 1;
                }
                if hits.iter().any(|h| h.id != r as i64 && h.verdict.same) {
                    false_dup += 1;
                }
            }
        }
        let per = t.elapsed().as_secs_f64() / searches as f64;
        let t = Instant::now();
        for probes in person_probes.iter().take(probes_r) {
            std::hint::black_box(index.screen(&probes[0], 100));
        }
        let screen = t.elapsed().as_secs_f64() / probes_r as f64;
        println!(
            "| {size} | {searches} | {} | {} | {:.0} ms | {:.0} ms |",
            bound(missed, searches),
            bound(false_dup, searches),
            per * 1e3,
            screen * 1e3
        );
    }
    println!();
    println!(
        "(0 (< x%): none seen, x% the 95% upper bound; search on {threads} threads, 100 candidates rescored)"
    );
}

/// The finger quality score per generator knob: mean and share passing MOSIP's 40.
fn finger_quality(seed: &Seed) {
    use rekam_bio::finger::extract::{Gray, extract};
    use rekam_bio::finger::quality::assess;
    println!();
    println!("## Finger quality (NFIQ-style) per generator knob, 40 impressions each");
    println!("| knob | mean score | passing 40 |");
    println!("|---|---|---|");
    for knob in [1.0, 0.75, 0.5, 0.35, 0.2, 0.0] {
        let scores: Vec<u8> = (0..4u64)
            .into_par_iter()
            .flat_map_iter(|r| {
                let ms = masters(seed.child("quality"), r);
                ms.into_iter()
                    .map(|m| {
                        let s =
                            seed.child_n("quality-capture", r * 100 + u64::from(m.position.code()));
                        let cap = Capture::draw(&mut s.rng(), Quality(knob));
                        let img = impression(&m, &cap, s.child("sensor"));
                        let g = Gray {
                            data: &img.data,
                            width: img.width,
                            height: img.height,
                        };
                        assess(g, &extract(g, m.position.code()).unwrap()).score
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let mean = scores.iter().map(|&s| f64::from(s)).sum::<f64>() / scores.len() as f64;
        let pass = scores.iter().filter(|&&s| s >= 40).count() as f64 / scores.len() as f64;
        println!("| {knob} | {mean:.1} | {:.0}% |", pass * 100.0);
    }
}

/// Iris codes: genuine and impostor Hamming distances, EER, speed.
fn iris(a: &Args) {
    use rekam_bio::finger::extract::Gray;
    use rekam_synth::iris::{IrisCapture, IrisTexture, iris_image};
    println!();
    println!(
        "## Irises ({} eyes x {} captures, quality 0.8)",
        a.eyes, a.iris_captures
    );
    let seed = Seed::from_u64(a.seed).child("iris-bench");
    let t = Instant::now();
    let codes: Vec<Vec<Option<rekam_bio::iris::IrisCode>>> = (0..a.eyes)
        .into_par_iter()
        .map(|e| {
            let texture = IrisTexture::new(seed.child_n("eye", e));
            (0..a.iris_captures)
                .map(|k| {
                    let s = seed.child_n("eye", e).child_n("capture", k);
                    let cap = IrisCapture::draw(&mut s.rng(), 0.8);
                    let (img, _) = iris_image(&texture, &cap, s.child("sensor"));
                    let g = Gray {
                        data: &img.data,
                        width: img.width,
                        height: img.height,
                    };
                    rekam_bio::iris::code(g).ok().map(|c| c.0)
                })
                .collect()
        })
        .collect();
    let failed = codes.iter().flatten().filter(|c| c.is_none()).count();
    let t_render = t.elapsed().as_secs_f64();
    let k = a.iris_captures as usize;
    let mut genuine = Vec::new();
    let mut impostor = Vec::new();
    let score =
        |x: &Option<rekam_bio::iris::IrisCode>, y: &Option<rekam_bio::iris::IrisCode>| match (x, y)
        {
            (Some(x), Some(y)) => x.distance(y).map(|d| -f64::from(d)),
            _ => None,
        };
    for (e, c) in codes.iter().enumerate() {
        for i in 0..k {
            for j in i + 1..k {
                genuine.extend(score(&c[i], &c[j]));
            }
        }
        for other in &codes[e + 1..] {
            impostor.extend(score(&c[0], &other[0]));
        }
    }
    let t = Instant::now();
    let mut n = 0;
    for c in codes.iter().take(20) {
        for d in codes.iter().take(20) {
            std::hint::black_box(score(&c[0], &d[1]));
            n += 1;
        }
    }
    let per = t.elapsed().as_secs_f64() / f64::from(n);
    let (eer, fnmr, t_hd) = rates(&genuine, &impostor, 1e-4);
    let worst = |v: &[f64], max: bool| {
        v.iter()
            .map(|d| -d)
            .fold(if max { 0.0 } else { 1.0 }, |m, d| {
                if max { f64::max(m, d) } else { f64::min(m, d) }
            })
    };
    println!(
        "codes failed (no segmentation): {failed} of {}; render and code: {:.0} ms per eye image",
        codes.len() * k,
        t_render * 1e3 / (codes.len() * k) as f64 * rayon::current_num_threads() as f64
    );
    println!(
        "genuine {}: worst HD {:.3}; impostor {}: lowest HD {:.3}",
        genuine.len(),
        worst(&genuine, true),
        impostor.len(),
        worst(&impostor, false)
    );
    println!(
        "EER {:.3}%, FNMR at FMR 1e-4 {:.3}% (HD threshold {:.3}); one comparison (33 rotations) {:.0} us",
        eer * 100.0,
        fnmr * 100.0,
        -t_hd,
        per * 1e6
    );
}
