//! The face photo gates on the generator's portraits: each deliberate fault is caught and named.

#![allow(clippy::unwrap_used)]

use rekam_bio::face::{FaceAdvice, check};
use rekam_synth::face::{FaceShot, portrait};
use rekam_synth::seed::Seed;

#[test]
fn each_fault_of_a_portrait_gets_its_advice() {
    for (year, k) in [(1990, 1u64), (1987, 2), (2001, 3)] {
        let seed = Seed::from_u64(5).child_n("face", k);
        let result = |shot| {
            let c = check(&portrait(year, shot, seed), year);
            println!("{year} {shot:?}: {c:?}");
            c
        };
        let good = result(FaceShot::Good);
        assert_eq!(good.faces.len(), 1, "{good:?}");
        assert!(good.score >= 60, "{good:?}");
        assert_eq!(good.advice(40), None);
        let expect = [
            (FaceShot::WrongBackground, FaceAdvice::Background),
            (FaceShot::NoFace, FaceAdvice::FaceCamera),
            (FaceShot::TwoFaces, FaceAdvice::OnePerson),
            (FaceShot::TooDark, FaceAdvice::Lighting),
            (FaceShot::Blurred, FaceAdvice::HoldStill),
        ];
        for (shot, advice) in expect {
            let c = result(shot);
            assert_eq!(c.advice(40), Some(advice), "{year} {shot:?}: {c:?}");
        }
    }
    assert_eq!(
        FaceAdvice::Background.message(rekam_i18n::Lang::Id),
        "ganti latar: merah untuk tahun lahir ganjil, biru untuk tahun lahir genap"
    );
}
