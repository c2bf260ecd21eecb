//! Iris segmentation, codes and quality on synthetic eyes with known geometry.

#![allow(clippy::unwrap_used)]

use rekam_bio::finger::extract::Gray;
use rekam_bio::iris::{SAME_EYE, assess, code};
use rekam_synth::iris::{IrisCapture, IrisTexture, IrisTruth, iris_image};
use rekam_synth::seed::Seed;

fn capture(eye: u64, k: u64, quality: f32) -> (rekam_synth::gray::Gray8, IrisTruth) {
    let seed = Seed::from_u64(31).child_n("eye", eye);
    let texture = IrisTexture::new(seed);
    let s = seed.child_n("capture", k);
    let cap = IrisCapture::draw(&mut s.rng(), quality);
    iris_image(&texture, &cap, s.child("sensor"))
}

fn gray(img: &rekam_synth::gray::Gray8) -> Gray<'_> {
    Gray {
        data: &img.data,
        width: img.width,
        height: img.height,
    }
}

#[test]
fn segmentation_finds_the_circles_the_generator_drew() {
    for eye in 0..6 {
        let (img, truth) = capture(eye, 0, 0.9);
        let (_, s) = code(gray(&img)).unwrap();
        let (px, py, pr) = s.pupil;
        let (_, _, ir) = s.iris;
        let d = ((px - truth.pupil.x).powi(2) + (py - truth.pupil.y).powi(2)).sqrt();
        assert!(d < 4.0, "eye {eye}: pupil centre off by {d:.1} px");
        assert!(
            (pr - truth.pupil.r).abs() < 0.1 * truth.pupil.r,
            "eye {eye}: pupil {pr} vs {}",
            truth.pupil.r
        );
        assert!(
            (ir - truth.iris.r).abs() < 0.08 * truth.iris.r,
            "eye {eye}: iris {ir} vs {}",
            truth.iris.r
        );
    }
}

#[test]
fn one_eye_matches_itself_across_captures_and_no_other() {
    let codes: Vec<Vec<_>> = (0..6)
        .map(|eye| {
            (0..3)
                .map(|k| code(gray(&capture(eye, k, 0.8).0)).unwrap().0)
                .collect()
        })
        .collect();
    let mut genuine = Vec::new();
    let mut impostor = Vec::new();
    for (a, ca) in codes.iter().enumerate() {
        for (b, cb) in codes.iter().enumerate() {
            if a == b {
                genuine.push(ca[0].distance(&cb[1]).unwrap());
                genuine.push(ca[1].distance(&cb[2]).unwrap());
            } else if a < b {
                impostor.push(ca[0].distance(&cb[0]).unwrap());
            }
        }
    }
    println!("genuine {genuine:?}\nimpostor {impostor:?}");
    assert!(genuine.iter().all(|&d| d <= SAME_EYE), "{genuine:?}");
    assert!(impostor.iter().all(|&d| d > 0.40), "{impostor:?}");
    let bytes = codes[0][0].to_bytes();
    assert_eq!(
        rekam_bio::iris::IrisCode::from_bytes(&bytes).as_ref(),
        Some(&codes[0][0])
    );
}

#[test]
fn quality_follows_the_knob_and_says_what_to_do() {
    let mean = |q: f32| {
        let scores: Vec<u8> = (0..6)
            .map(|eye| {
                let (img, _) = capture(eye, 5, q);
                match code(gray(&img)) {
                    Ok((c, s)) => {
                        let q = assess(gray(&img), &c, &s);
                        println!("  {q:?}");
                        q.score
                    }
                    Err(_) => 0,
                }
            })
            .collect();
        println!("knob {q}: {scores:?}");
        scores.iter().map(|&s| f32::from(s)).sum::<f32>() / scores.len() as f32
    };
    let (good, poor, bad) = (mean(1.0), mean(0.5), mean(0.0));
    assert!(good > poor && poor > bad, "{good} {poor} {bad}");
    assert!(good >= 60.0 && bad < 40.0, "{good} {bad}");
    // A blurred capture is told to hold still.
    let (img, _) = capture(0, 5, 0.0);
    let (c, s) = code(gray(&img)).unwrap();
    let advice = assess(gray(&img), &c, &s).advice(40);
    assert_eq!(advice, Some(rekam_bio::iris::IrisAdvice::HoldStill));
    assert_eq!(
        advice.unwrap().message(rekam_i18n::Lang::Id),
        "tahan kepala, jangan bergerak; bersihkan lensa bila perlu"
    );
}
