//! Writes portraits and signatures, to look at: `cargo run --release -p rekam-synth --example face`
#![allow(clippy::unwrap_used)]
use rekam_synth::face::{FaceShot, portrait, to_png};
use rekam_synth::seed::Seed;
use rekam_synth::signature::{SignatureStyle, render};
fn main() {
    let out = std::path::Path::new("/tmp/face");
    std::fs::create_dir_all(out).unwrap();
    for (i, shot) in FaceShot::ALL.iter().enumerate() {
        let img = portrait(1990 + i as i32, *shot, Seed::from_u64(i as u64));
        std::fs::write(
            out.join(format!("f{i}-{}.png", shot.as_str())),
            to_png(&img),
        )
        .unwrap();
    }
    for r in 0..2u64 {
        let style = SignatureStyle::new(Seed::from_u64(r));
        for k in 0..3u64 {
            let ev = style.sign(Seed::from_u64(r).child_n("sign", k));
            std::fs::write(
                out.join(format!("s{r}-{k}.png")),
                render(&ev, 500, 300).to_png(),
            )
            .unwrap();
        }
    }
}
