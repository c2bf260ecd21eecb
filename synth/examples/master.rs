//! Writes master prints and impressions of them as PNG, to look at:
//! `cargo run --release -p rekam-synth --example master -- /tmp/masters`
#![allow(clippy::unwrap_used)]
use rekam_synth::finger::impression::{Capture, Quality, impression};
use rekam_synth::finger::{FingerPosition, master_print};
use rekam_synth::gray::Gray8;
use rekam_synth::seed::Seed;
fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or("/tmp/masters".into()));
    std::fs::create_dir_all(&out).unwrap();
    for i in 0..3u64 {
        let seed = Seed::from_u64(i);
        let m = master_print(seed, FingerPosition::RightIndex);
        let img = Gray8 {
            width: m.ridges.width,
            height: m.ridges.height,
            data: m
                .ridges
                .data
                .iter()
                .map(|v| (128.0 + 120.0 * v).clamp(0.0, 255.0) as u8)
                .collect(),
        };
        std::fs::write(out.join(format!("m{i}-0master.png")), img.to_png()).unwrap();
        for (k, q) in [
            Quality::EXCELLENT,
            Quality::GOOD,
            Quality::POOR,
            Quality::UNUSABLE,
        ]
        .iter()
        .enumerate()
        {
            let cs = seed.child_n("capture", k as u64);
            let cap = Capture::draw(&mut cs.rng(), *q);
            let t = std::time::Instant::now();
            let img = impression(&m, &cap, cs.child("noise"));
            println!("{i}/{k} {:?}", t.elapsed());
            std::fs::write(
                out.join(format!("m{i}-{}q{:.2}.png", k + 1, q.0)),
                img.to_png(),
            )
            .unwrap();
        }
    }
}
