//! The finger matchers on prints taken every way the generator knows, the held-out style apart.
//!
//! `cargo bench -p rekam-bio --bench calibration -- [--residents N] [--impressions K]
//! [--seed S] [--quality Q] [--styles live_scan,optical,...] [--nbis-steps G,I] [--gate Q]`
//!
//! The same residents' fingers (ten each) are printed K times in each style
//! (`rekam_synth::finger::style`); MINDTCT extracts each impression once for both matchers.
//! Genuine pairs: every pair of impressions of a finger. Impostor pairs: the first impressions
//! of every two different fingers (all for ours; every I-th for BOZORTH3, which is 500 times
//! slower, and every G-th genuine pair). The fusion is scored on the pairs both matchers scored.
//! Impressions our quality gate refuses (below 40 unless `--gate` says otherwise) take part in
//! no pair: a counter retakes them.
//!
//! Printed per style, for the tuning styles pooled and for the held-out style: EER, FNMR at
//! FMR 1e-3 and 1e-4 (with each style's own threshold), and FNMR and FMR at the shipped
//! thresholds. Thresholds derived here come from the tuning styles' impostors only; the
//! held-out style never tunes anything.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Curve, Sample, sample};
use rayon::prelude::*;
use rekam_bio::finger::extract::Gray;
use rekam_bio::finger::matcher::{Prepared, Probe, Scratch};
use rekam_bio::finger::quality::assess;
use rekam_bio::verify;
use rekam_synth::finger::MasterPrint;
use rekam_synth::finger::impression::Quality;
use rekam_synth::finger::style::{Style, StyledCapture, styled_impression};
use rekam_synth::seed::Seed;
use rekam_synth::set::masters;
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
    };
    for (name, v) in common::flags() {
        match name.as_str() {
            "--residents" => a.residents = v.parse().unwrap(),
            "--impressions" => a.impressions = v.parse().unwrap(),
            "--seed" => a.seed = v.parse().unwrap(),
            "--quality" => a.quality = v.parse().unwrap(),
            "--gate" => a.gate = v.parse().unwrap(),
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

/// Scores of one style's pairs.
struct Scores {
    style: Style,
    ours_genuine: Vec<f64>,
    ours_impostor: Vec<f64>,
    /// (ours, BOZORTH3) on the pairs BOZORTH3 scored.
    both_genuine: Vec<(f64, f64)>,
    both_impostor: Vec<(f64, f64)>,
    minutiae: Vec<f64>,
    quality: Vec<f64>,
}

fn score_style(a: &Args, fingers: &[MasterPrint], style: Style) -> Scores {
    let seed = Seed::from_u64(a.seed).child(style.as_str());
    let q = Quality(a.quality);
    // samples[finger][impression], with our quality score of each
    let samples: Vec<Vec<(Sample, u8)>> = fingers
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
                    let quality = assess(g, &smp.ours).score;
                    (smp, quality)
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
    let passes = |f: usize, i: usize| samples[f][i].1 >= a.gate;
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
    let flat = samples.iter().flatten();
    Scores {
        style,
        ours_genuine,
        ours_impostor,
        both_genuine,
        both_impostor,
        minutiae: flat.clone().map(|(s, _)| s.nbis.len() as f64).collect(),
        quality: flat.map(|(_, q)| f64::from(*q)).collect(),
    }
}

/// Score-level fusion: each matcher's score as standard deviations above its impostor mean
/// (on the tuning styles), summed.
#[derive(Clone, Copy)]
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
    let scores: Vec<Scores> = a
        .styles
        .iter()
        .map(|&style| {
            let t = Instant::now();
            let s = score_style(&a, &fingers, style);
            eprintln!("  {} in {:.0} s", style.as_str(), t.elapsed().as_secs_f64());
            s
        })
        .collect();

    println!();
    println!("## The prints (MINDTCT minutiae, our quality score 0-100)");
    println!("| style | impressions | minutiae median | quality median | quality below 40 |");
    println!("|---|---|---|---|---|");
    for s in &scores {
        let below = s.quality.iter().filter(|&&q| q < 40.0).count() as f64;
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.1}% |",
            s.style.as_str(),
            s.quality.len(),
            median(&s.minutiae),
            median(&s.quality),
            100.0 * below / s.quality.len().max(1) as f64
        );
    }

    // Derived from the tuning styles only.
    let tuning: Vec<&Scores> = scores
        .iter()
        .filter(|s| Style::TUNING.contains(&s.style))
        .collect();
    let pool = |f: &dyn Fn(&Scores) -> Vec<f64>| -> Vec<f64> {
        tuning.iter().flat_map(|s| f(s)).collect()
    };
    let tuning_imp_pairs: Vec<(f64, f64)> = tuning
        .iter()
        .flat_map(|s| s.both_impostor.iter().copied())
        .collect();
    let fusion = Fusion::fit(&tuning_imp_pairs);
    let fused = |v: &[(f64, f64)]| v.iter().map(|&p| fusion.score(p)).collect::<Vec<f64>>();
    let ours_tuning = Curve::new(
        &pool(&|s| s.ours_genuine.clone()),
        &pool(&|s| s.ours_impostor.clone()),
    );
    let fused_tuning = Curve::new(
        &pool(&|s| fused(&s.both_genuine)),
        &pool(&|s| fused(&s.both_impostor)),
    );
    let derived_ours = ours_tuning.threshold_at(1e-4);
    let derived_fusion = fused_tuning.threshold_at(1e-4);

    println!();
    println!("## Finger comparisons");
    println!(
        "Shipped thresholds: ours {} (`verify::THRESHOLD`), BOZORTH3 {BOZORTH3_THRESHOLD}; derived at FMR 1e-4 on the tuning styles' impostors: ours {}, fusion {}",
        verify::THRESHOLD,
        derived_ours.map_or("n/a".into(), |t| format!("{t}")),
        derived_fusion.map_or("n/a".into(), |t| format!("{t:.2}")),
    );
    println!();
    println!(
        "| prints | matcher | genuine | impostors | EER | FNMR at FMR 1e-3 | FNMR at FMR 1e-4 | at shipped threshold: FNMR / FMR |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let ours_shipped = Some(f64::from(verify::THRESHOLD));
    let group = |name: &str, members: &[&Scores]| {
        let cat = |f: &dyn Fn(&Scores) -> Vec<f64>| -> Vec<f64> {
            members.iter().flat_map(|s| f(s)).collect()
        };
        let ours = Curve::new(
            &cat(&|s| s.ours_genuine.clone()),
            &cat(&|s| s.ours_impostor.clone()),
        );
        let nbis = Curve::new(
            &cat(&|s| s.both_genuine.iter().map(|p| p.1).collect()),
            &cat(&|s| s.both_impostor.iter().map(|p| p.1).collect()),
        );
        let fus = Curve::new(
            &cat(&|s| fused(&s.both_genuine)),
            &cat(&|s| fused(&s.both_impostor)),
        );
        row(name, "ours", &ours, ours_shipped);
        row(name, "BOZORTH3", &nbis, Some(BOZORTH3_THRESHOLD));
        row(name, "fusion", &fus, derived_fusion);
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
    for s in &scores {
        group(s.style.as_str(), &[s]);
    }
    let fnmr_tuning = group("tuning styles pooled", &tuning);
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
    println!();
    println!(
        "## Genuine scores, median (ours / BOZORTH3): {}",
        scores
            .iter()
            .map(|s| format!(
                "{} {:.0} / {:.0}",
                s.style.as_str(),
                median(&s.ours_genuine),
                median(&s.both_genuine.iter().map(|p| p.1).collect::<Vec<_>>())
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("whole run: {:.0} s", t0.elapsed().as_secs_f64());
}
