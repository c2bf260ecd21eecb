//! Writes impressions of a few fingers in every capture style as PNG, to look at:
//! `cargo run -p rekam-synth --example styles -- /tmp/styles`
#![allow(clippy::unwrap_used)]
use rekam_synth::finger::impression::Quality;
use rekam_synth::finger::style::{Style, StyledCapture, styled_impression};
use rekam_synth::finger::{FingerPosition, master_print};
use rekam_synth::seed::Seed;
fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or("/tmp/styles".into()));
    std::fs::create_dir_all(&out).unwrap();
    for i in 0..2u64 {
        let seed = Seed::from_u64(i);
        let m = master_print(seed, FingerPosition::RightIndex);
        for style in Style::ALL {
            for k in 0..2u64 {
                let cs = seed.child(style.as_str()).child_n("capture", k);
                let cap = StyledCapture::draw(&mut cs.rng(), Quality::GOOD, style);
                let img = styled_impression(&m, &cap, cs.child("sensor"));
                let name = format!("f{i}-{}-{k}.png", style.as_str());
                std::fs::write(out.join(name), img.to_png()).unwrap();
            }
        }
    }
}
