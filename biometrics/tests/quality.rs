//! The finger quality score against the generator's quality knob.

#![allow(clippy::unwrap_used)]

use rekam_bio::finger::extract::{Gray, extract};
use rekam_bio::finger::quality::{Advice, assess};
use rekam_synth::finger::impression::{Capture, Quality, impression};
use rekam_synth::seed::Seed;
use rekam_synth::set::masters;

fn scores(knob: f32) -> Vec<(u8, Option<Advice>)> {
    let seed = Seed::from_u64(77);
    let mut out = Vec::new();
    for r in 0..2 {
        for m in masters(seed, r).iter().step_by(3) {
            let s = seed.child_n("quality", u64::from(m.position.code()) * 10 + r);
            let cap = Capture::draw(&mut s.rng(), Quality(knob));
            let img = impression(m, &cap, s.child("sensor"));
            let g = Gray {
                data: &img.data,
                width: img.width,
                height: img.height,
            };
            let q = assess(g, &extract(g, m.position.code()).unwrap());
            out.push((q.score, q.advice(40)));
        }
    }
    out
}

#[test]
fn the_score_follows_the_knob_and_gates_at_40() {
    let levels = [1.0, 0.75, 0.35, 0.0];
    let assessed: Vec<Vec<(u8, Option<Advice>)>> = levels.iter().map(|&k| scores(k)).collect();
    let all: Vec<Vec<u8>> = assessed
        .iter()
        .map(|v| v.iter().map(|(s, _)| *s).collect())
        .collect();
    let mean = |v: &Vec<u8>| v.iter().map(|&s| f64::from(s)).sum::<f64>() / v.len() as f64;
    for (k, v) in levels.iter().zip(&all) {
        println!("knob {k}: mean {:.1}, scores {v:?}", mean(v));
    }
    for pair in all.windows(2) {
        assert!(mean(&pair[0]) > mean(&pair[1]), "{all:?}");
    }
    // Good captures pass MOSIP's 40; unusable ones do not.
    assert!(
        all[1].iter().filter(|&&s| s >= 40).count() * 10 >= all[1].len() * 8,
        "{all:?}"
    );
    assert!(all[3].iter().all(|&s| s < 40), "{all:?}");
    // Below the threshold there is always something to tell the resident, above it nothing.
    for (score, advice) in assessed.iter().flatten() {
        assert_eq!(advice.is_some(), *score < 40, "{score} {advice:?}");
    }
    println!(
        "advice on unusable captures: {:?}",
        assessed[3].iter().map(|(_, a)| a).collect::<Vec<_>>()
    );
}
