//! How long one resident's full biometrics take to generate: ten master prints, ten flat
//! impressions, the three 4-4-2 slaps, one capture of each iris, a portrait and a signing.
//!
//! `cargo bench -p rekam-synth` prints the median of several runs on the default thread pool,
//! and the same work on a one-thread pool measured in the same run as the baseline, with the
//! ratio; then the cost of each part.

use rekam_synth::face::{FaceShot, portrait};
use rekam_synth::finger::impression::{Capture, Quality, impression};
use rekam_synth::finger::slap::{Slap, slap};
use rekam_synth::iris::{IrisCapture, IrisTexture, iris_image};
use rekam_synth::resident::{RegionPool, reference_date};
use rekam_synth::seed::Seed;
use rekam_synth::set::{SetOptions, generate_resident, masters};
use rekam_synth::signature::SignatureStyle;
use std::time::{Duration, Instant};

const RUNS: u64 = 7;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let t = Instant::now();
    std::hint::black_box(f());
    t.elapsed()
}

fn main() {
    let pool = RegionPool::load().unwrap_or_else(|e| panic!("region data: {e}"));
    let opts = SetOptions::minimal(1, 1, reference_date());
    // Warm up: region data, the Gabor bank, the face cut-out.
    generate_resident(&opts, &pool, 0);

    let threads = rayon::current_num_threads();
    let parallel = median(
        (0..RUNS)
            .map(|i| time(|| generate_resident(&opts, &pool, i)))
            .collect(),
    );
    let single_pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap_or_else(|e| panic!("thread pool: {e}"));
    let single = median(
        (0..RUNS)
            .map(|i| single_pool.install(|| time(|| generate_resident(&opts, &pool, i))))
            .collect(),
    );
    println!(
        "one resident's full biometrics (10 masters, 10 flats, 3 slaps, 2 irises, face, signature; PNG encoded)"
    );
    println!(
        "  {threads} threads: median {:>7.1} ms over {RUNS} residents",
        parallel.as_secs_f64() * 1e3
    );
    println!(
        "  1 thread (baseline): median {:>7.1} ms",
        single.as_secs_f64() * 1e3
    );
    println!(
        "  speed-up {:.2}x",
        single.as_secs_f64() / parallel.as_secs_f64()
    );

    let seed = Seed::from_u64(3);
    let ms = masters(seed, 0);
    let slap_img = |i: u64| {
        let s = seed.child_n("slap", i);
        let cap = Capture::draw(&mut s.rng(), Quality::GOOD);
        slap(Slap::RightFour, &ms, &[], &cap, s).0
    };
    let parts: [(&str, Duration); 8] = [
        (
            "1 four-finger slap",
            median((0..RUNS).map(|i| time(|| slap_img(i))).collect()),
        ),
        (
            "PNG of 1 slap",
            median(
                (0..RUNS)
                    .map(|i| {
                        let img = slap_img(i);
                        time(|| img.to_png())
                    })
                    .collect(),
            ),
        ),
        (
            "10 master prints",
            median((0..RUNS).map(|i| time(|| masters(seed, i))).collect()),
        ),
        (
            "1 flat impression",
            median(
                (0..RUNS)
                    .map(|i| {
                        let s = seed.child_n("c", i);
                        let cap = Capture::draw(&mut s.rng(), Quality::GOOD);
                        time(|| impression(&ms[1], &cap, s))
                    })
                    .collect(),
            ),
        ),
        (
            "1 iris capture",
            median(
                (0..RUNS)
                    .map(|i| {
                        let s = seed.child_n("i", i);
                        let tex = IrisTexture::new(s);
                        let cap = IrisCapture::draw(&mut s.rng(), 0.9);
                        time(|| iris_image(&tex, &cap, s))
                    })
                    .collect(),
            ),
        ),
        (
            "1 portrait",
            median(
                (0..RUNS)
                    .map(|i| time(|| portrait(1990, FaceShot::Good, seed.child_n("f", i))))
                    .collect(),
            ),
        ),
        (
            "1 signing",
            median(
                (0..RUNS)
                    .map(|i| time(|| SignatureStyle::new(seed.child_n("s", i)).sign(seed)))
                    .collect(),
            ),
        ),
        (
            "PNG of 1 flat impression",
            median(
                (0..RUNS)
                    .map(|i| {
                        let s = seed.child_n("p", i);
                        let img =
                            impression(&ms[2], &Capture::draw(&mut s.rng(), Quality::GOOD), s);
                        time(|| img.to_png())
                    })
                    .collect(),
            ),
        ),
    ];
    for (name, d) in parts {
        println!("  {name:<26} {:>7.1} ms", d.as_secs_f64() * 1e3);
    }
}
