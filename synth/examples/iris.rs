//! Writes iris captures as PNG, to look at: `cargo run --release -p rekam-synth --example iris`
#![allow(clippy::unwrap_used)]
use rekam_synth::iris::{IrisCapture, IrisTexture, iris_image};
use rekam_synth::seed::Seed;
fn main() {
    let out = std::path::Path::new("/tmp/iris");
    std::fs::create_dir_all(out).unwrap();
    for eye in 0..2u64 {
        let tex = IrisTexture::new(Seed::from_u64(eye));
        for (k, q) in [1.0f32, 0.8, 0.3].iter().enumerate() {
            let s = Seed::from_u64(eye).child_n("cap", k as u64);
            let t = std::time::Instant::now();
            let (img, _) = iris_image(&tex, &IrisCapture::draw(&mut s.rng(), *q), s);
            println!("{eye}/{k} {:?}", t.elapsed());
            std::fs::write(out.join(format!("e{eye}-{k}.png")), img.to_png()).unwrap();
        }
    }
}
