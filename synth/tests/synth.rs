//! The generator's promises: same seed, same bytes; residents that Rekam's own rules accept,
//! with the edge cases they must refuse; biometrics that stay one person across captures and
//! differ between people.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam_domain::eligibility::{self, Applicant, Eligibility, RecordingStatus};
use rekam_domain::region::{EmbeddedRegions, RegionIndex, RegionLevel};
use rekam_synth::face::{self, FaceShot};
use rekam_synth::finger::impression::{Capture, Quality, impression};
use rekam_synth::iris::{IrisCapture, IrisTexture, IrisTruth, iris_image};
use rekam_synth::resident::{EdgeCase, RegionPool, reference_date, resident};
use rekam_synth::seed::Seed;
use rekam_synth::set::{Manifest, SetOptions, masters, write_set};
use rekam_synth::signature::{PenEvent, SignatureStyle};
use std::collections::HashSet;
use std::path::Path;

fn small(residents: u64, seed: u64) -> SetOptions {
    SetOptions::minimal(residents, seed, reference_date())
}

#[test]
fn same_seed_same_bytes_and_another_seed_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_set(&dir.path().join("a"), &small(2, 42), |_, _| {}).unwrap();
    let b = write_set(&dir.path().join("b"), &small(2, 42), |_, _| {}).unwrap();
    assert_eq!(a, b);
    for f in &a.files {
        let x = std::fs::read(dir.path().join("a").join(&f.path)).unwrap();
        let y = std::fs::read(dir.path().join("b").join(&f.path)).unwrap();
        assert!(x == y, "{} differs", f.path);
    }
    let c = write_set(&dir.path().join("c"), &small(2, 43), |_, _| {}).unwrap();
    let hashes = |m: &Manifest| {
        m.files
            .iter()
            .map(|f| f.sha256.clone())
            .collect::<HashSet<_>>()
    };
    assert!(
        hashes(&a).is_disjoint(&hashes(&c)),
        "seed 43 repeats files of seed 42"
    );
    // A non-empty directory is refused, untouched.
    let err = write_set(&dir.path().join("a"), &small(2, 42), |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
}

#[test]
fn a_resident_does_not_depend_on_how_many_are_generated() {
    let pool = RegionPool::load().unwrap();
    let seed = Seed::from_u64(9);
    let alone = resident(seed, 5, &pool, reference_date());
    let dir = tempfile::tempdir().unwrap();
    let m = write_set(
        &dir.path().join("s"),
        &SetOptions {
            slaps: false,
            ..small(7, 9)
        },
        |_, _| {},
    )
    .unwrap();
    let residents: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.path().join("s/residents.json")).unwrap())
            .unwrap();
    assert_eq!(residents[5]["stated_name"], alone.stated_name);
    assert!(m.files.iter().any(|f| f.path.starts_with("R0006/")));
}

#[test]
fn the_committed_fixture_set_regenerates_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/synth");
    let committed: Manifest =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let again = write_set(&dir.path().join("again"), &committed.options, |_, _| {}).unwrap();
    assert_eq!(
        again.files, committed.files,
        "regenerate with the command in fixtures/README.md"
    );
    // And the committed files are the ones the manifest names.
    for f in &committed.files {
        let bytes = std::fs::read(root.join(&f.path)).unwrap();
        use sha2::Digest;
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            f.sha256,
            "{}",
            f.path
        );
    }
}

#[test]
fn residents_pass_rekams_rules_and_edge_cases_meet_their_refusals() {
    let pool = RegionPool::load().unwrap();
    let today = reference_date();
    let mut regions: Vec<_> = [
        RegionLevel::Province,
        RegionLevel::Regency,
        RegionLevel::Kecamatan,
        RegionLevel::Village,
    ]
    .into_iter()
    .flat_map(|l| EmbeddedRegions::iter(l).unwrap())
    .collect();
    regions.shrink_to_fit();
    let regions = RegionIndex::from_regions(regions);
    let seed = Seed::from_u64(2026);
    let mut niks = HashSet::new();
    let mut seen = HashSet::new();
    for i in 0..300 {
        let r = resident(seed, i, &pool, today);
        let recording = match &r.prior_recording {
            Some(reference) => RecordingStatus::Recorded {
                reference: reference.clone(),
            },
            None => RecordingStatus::NotRecorded,
        };
        let Some(b) = &r.biodata else {
            assert_eq!(r.edge_case, Some(EdgeCase::NoNik), "{}", r.id);
            let got = eligibility::assess(
                rekam_domain::case::CaseType::NewRecording,
                Applicant::NoNik,
                today,
            );
            assert!(matches!(got, Eligibility::Refused(ref x) if x.code == "ELIG_NO_NIK"));
            seen.insert(EdgeCase::NoNik);
            continue;
        };
        let warnings = b
            .validate(today, &regions)
            .unwrap_or_else(|e| panic!("{}: {e}", r.id));
        assert!(
            warnings.iter().all(|w| matches!(
                w,
                rekam_domain::biodata::BiodataWarning::BirthDateDiffersFromNik
            )),
            "{}: {warnings:?}",
            r.id
        );
        assert!(
            niks.insert(b.nik.as_str().to_owned()),
            "{}: NIK repeated",
            r.id
        );
        let case = if matches!(
            b.citizenship,
            rekam_domain::biodata::Kewarganegaraan::Wna { .. }
        ) {
            rekam_domain::case::CaseType::ForeignResident
        } else {
            rekam_domain::case::CaseType::NewRecording
        };
        let got = eligibility::assess(
            case,
            Applicant::Known {
                biodata: b,
                recording: &recording,
            },
            today,
        );
        let code = match &got {
            Eligibility::Eligible { by_marriage: true } => "BY_MARRIAGE",
            Eligibility::Eligible { by_marriage: false } => "ELIGIBLE",
            Eligibility::Refused(x) => x.code,
        };
        let want = match r.edge_case {
            Some(EdgeCase::Under17) => "ELIG_UNDER_AGE",
            Some(EdgeCase::MarriedUnder17) => "BY_MARRIAGE",
            Some(EdgeCase::AlreadyRecorded) => "ELIG_ALREADY_RECORDED",
            Some(EdgeCase::KitapExpired) => "ELIG_KITAP_EXPIRED",
            Some(EdgeCase::NoNik) => unreachable!(),
            Some(EdgeCase::MissingFinger) | None => "ELIGIBLE",
        };
        assert_eq!(code, want, "{} {:?}", r.id, r.edge_case);
        if let Some(e) = r.edge_case {
            seen.insert(e);
        }
        if r.edge_case == Some(EdgeCase::MissingFinger) {
            assert_eq!(r.missing_fingers.len(), 1);
        }
    }
    assert_eq!(seen.len(), 6, "every edge case appears: {seen:?}");
}

#[test]
fn two_impressions_of_a_finger_match_and_two_fingers_do_not() {
    let ms = masters(Seed::from_u64(11), 0);
    let minutiae = |m: &rekam_synth::finger::MasterPrint, k: u64, q: Quality| {
        let s = Seed::from_u64(11).child_n("cap", u64::from(m.position.code()) * 10 + k);
        let img = impression(m, &Capture::draw(&mut s.rng(), q), s);
        let g = fprint_mindtct::GrayImage::new(&img.data, img.width, img.height, 500).unwrap();
        fprint_mindtct::detect_minutiae(g)
            .iter()
            .map(|m| fprint_bozorth3::Minutia::from_xyt(m.x, m.y, m.theta))
            .collect::<Vec<_>>()
    };
    let mut genuine = Vec::new();
    let mut impostor = Vec::new();
    let mut poor = Vec::new();
    for i in 0..4 {
        let a = minutiae(&ms[i], 1, Quality::GOOD);
        let b = minutiae(&ms[i], 2, Quality::GOOD);
        let other = minutiae(&ms[i + 1], 2, Quality::GOOD);
        let bad = minutiae(&ms[i], 3, Quality::UNUSABLE);
        genuine.push(fprint_bozorth3::match_score(&a, &b));
        impostor.push(fprint_bozorth3::match_score(&a, &other));
        poor.push(fprint_bozorth3::match_score(&a, &bad));
    }
    let mean = |v: &[u32]| v.iter().sum::<u32>() as f64 / v.len() as f64;
    assert!(
        genuine.iter().min() > impostor.iter().max(),
        "genuine {genuine:?} impostor {impostor:?}"
    );
    assert!(
        mean(&poor) < mean(&genuine) / 2.0,
        "an unusable capture still matches well: {poor:?} vs {genuine:?}"
    );
}

/// Unwraps the lower half of the iris (away from the upper lid) onto a rubber sheet, undoing
/// the capture's rotation, as a segmenter with the true circles would.
fn rubber_sheet(img: &rekam_synth::gray::Gray8, t: &IrisTruth) -> Vec<f64> {
    let mut out = Vec::new();
    for ri in 0..8 {
        let rho = 0.15 + 0.06 * ri as f32;
        for ai in 0..90 {
            let theta = (20.0 + 140.0 * ai as f32 / 90.0).to_radians();
            let a = theta + t.capture.rotation_deg.to_radians();
            let (ux, uy) = (a.cos(), a.sin());
            let (px, py) = (t.pupil.x - t.iris.x, t.pupil.y - t.iris.y);
            let b = ux * px + uy * py;
            let limbus = -b + (b * b - (px * px + py * py - t.iris.r * t.iris.r)).sqrt();
            let r = t.pupil.r + rho * (limbus - t.pupil.r);
            let (x, y) = (t.pupil.x + r * ux, t.pupil.y + r * uy);
            out.push(f64::from(img.data[y as usize * img.width + x as usize]));
        }
    }
    out
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn an_eye_keeps_its_texture_across_captures_and_two_eyes_differ() {
    let capture = |eye: u64, k: u64| {
        let texture = IrisTexture::new(Seed::from_u64(eye));
        let s = Seed::from_u64(eye).child_n("capture", k);
        let mut cap = IrisCapture::draw(&mut s.rng(), 0.9);
        cap.lower_lid = cap.lower_lid.min(0.1);
        let (img, truth) = iris_image(&texture, &cap, s);
        rubber_sheet(&img, &truth)
    };
    let (a1, a2, b1) = (capture(1, 1), capture(1, 2), capture(2, 1));
    let same = correlation(&a1, &a2);
    let different = correlation(&a1, &b1);
    assert!(
        same > 0.6 && different < 0.3,
        "same eye {same:.2}, different eyes {different:.2}"
    );
}

#[test]
fn portraits_follow_the_background_rule_and_faults_break_it() {
    let corner = |img: &image::RgbImage| img.get_pixel(4, 4).0;
    let close = |a: [u8; 3], b: [u8; 3]| {
        a.iter()
            .zip(b)
            .all(|(x, y)| (i32::from(*x) - i32::from(y)).abs() < 30)
    };
    for (year, want) in [(1991, face::RED), (1990, face::BLUE), (2009, face::RED)] {
        let good = face::portrait(year, FaceShot::Good, Seed::from_u64(year as u64));
        assert!(close(corner(&good), want), "{year}: {:?}", corner(&good));
        let wrong = face::portrait(year, FaceShot::WrongBackground, Seed::from_u64(year as u64));
        assert!(!close(corner(&wrong), want), "{year}");
        let dark = face::portrait(year, FaceShot::TooDark, Seed::from_u64(1));
        let mean = |img: &image::RgbImage| {
            img.as_raw().iter().map(|v| f64::from(*v)).sum::<f64>() / img.as_raw().len() as f64
        };
        assert!(mean(&dark) < mean(&good) / 3.0);
        // A face shows skin near the centre; an empty frame does not.
        let centre = |img: &image::RgbImage| img.get_pixel(240, 200).0;
        let skin = |p: [u8; 3]| p[0] > 150 && p[1] > 90 && p[0] > p[2] + 30;
        assert!(skin(centre(&good)), "{:?}", centre(&good));
        assert!(!skin(centre(&face::portrait(
            year,
            FaceShot::NoFace,
            Seed::from_u64(3)
        ))));
    }
}

#[test]
fn a_resident_signs_alike_but_not_like_another() {
    let shape = |ev: &[PenEvent]| -> Vec<(f64, f64)> {
        let down: Vec<_> = ev.iter().filter(|e| e.pen_down).collect();
        (0..64)
            .map(|i| {
                let e = down[i * (down.len() - 1) / 63];
                (f64::from(e.x), f64::from(e.y))
            })
            .collect()
    };
    let distance = |a: &[(f64, f64)], b: &[(f64, f64)]| {
        a.iter()
            .zip(b)
            .map(|(p, q)| ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt())
            .sum::<f64>()
            / 64.0
    };
    let style_a = SignatureStyle::new(Seed::from_u64(1));
    let style_b = SignatureStyle::new(Seed::from_u64(2));
    let a1 = shape(&style_a.sign(Seed::from_u64(10)));
    let a2 = shape(&style_a.sign(Seed::from_u64(11)));
    let b1 = shape(&style_b.sign(Seed::from_u64(10)));
    let (same, other) = (distance(&a1, &a2), distance(&a1, &b1));
    assert!(same * 2.0 < other, "same {same:.0}, other {other:.0}");
    assert!(same > 0.0, "two signings must not be identical");
    let ev = style_a.sign(Seed::from_u64(10));
    assert!(
        ev.windows(2).all(|w| w[0].t_ms <= w[1].t_ms),
        "time runs forward"
    );
    assert!(
        ev.iter().any(|e| !e.pen_down) && ev.iter().filter(|e| e.pen_down).all(|e| e.pressure > 0)
    );
}

#[test]
fn every_capture_style_prints_a_finger_nist_tools_read_and_match() {
    use rekam_synth::finger::style::Style;
    use rekam_synth::report::{ReportOptions, run};
    for style in Style::ALL {
        let r = run(
            ReportOptions {
                residents: 1,
                seed: 5,
                quality: Quality::GOOD,
                style,
            },
            |_, _| {},
        );
        let name = style.as_str();
        assert!(
            (25.0..=90.0).contains(&r.minutiae.p50),
            "{name}: MINDTCT finds {} minutiae",
            r.minutiae.p50
        );
        assert!(
            (7.0..=12.5).contains(&r.ridge_period.p50),
            "{name}: ridge period {} px",
            r.ridge_period.p50
        );
        assert!(
            r.genuine.p50 > r.impostor.p95,
            "{name}: genuine {:?} impostor {:?}",
            r.genuine,
            r.impostor
        );
    }
}
