//! Same-station de-duplication against a real encrypted store: a second recording of the same
//! person (fingers moved on the glass, irises as stored) is refused naming the first, after the
//! store is closed and opened again; other people pass.

#![allow(clippy::unwrap_used)]

use rekam::clock::SystemClock;
use rekam::dedup::Dedup;
use rekam::domain::case::CaseType;
use rekam::domain::nik::Nik;
use rekam::domain::region::RegionCode;
use rekam::station::{InitOptions, Station, StationPaths};
use rekam::store::NewEnrollment;
use rekam_bio::finger::extract::{Gray, extract};
use rekam_bio::person::PersonTemplate;
use std::path::Path;
use std::sync::Arc;

const FINGERS: [&str; 4] = [
    "02-right_index-1.png",
    "03-right_middle-1.png",
    "07-left_index-1.png",
    "08-left_middle-1.png",
];

/// Four fingers of fixture resident `r`; `shift` moves every image right and down by that many
/// pixels with the sensor's background behind, so the extractor sees another capture.
fn person(r: usize, shift: usize) -> PersonTemplate {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/synth/R{r:04}/finger"));
    let mut p = PersonTemplate::from_fingers(FINGERS.iter().map(|name| {
        let img = image::open(dir.join(name)).unwrap().into_luma8();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let src = img.into_raw();
        let moved = rekam_bio::testing::shifted(&src, w, h, shift);
        let position: u8 = name[..2].parse().unwrap();
        extract(
            Gray {
                data: &moved,
                width: w,
                height: h,
            },
            position,
        )
        .unwrap()
    }));
    let eye_dir = dir.with_file_name("iris");
    p.irises = ["right-1.png", "left-1.png"].map(|name| {
        let img = image::open(eye_dir.join(name)).unwrap().into_luma8();
        let g = Gray {
            data: img.as_raw(),
            width: img.width() as usize,
            height: img.height() as usize,
        };
        Some(rekam_bio::iris::code(g).unwrap().0)
    });
    p
}

fn paths(dir: &Path) -> StationPaths {
    StationPaths::new(dir.join("data"), None)
}

#[test]
fn a_second_recording_of_the_same_fingers_is_refused_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut station = Station::init(
        InitOptions {
            paths: paths(dir.path()),
            station_id: Some("BDG-SUKASARI-01".into()),
            kecamatan: RegionCode::parse("32.73.01").unwrap(),
            actor: "test".into(),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let mut dedup = Dedup::load(station.store()).unwrap();
    for (r, nik) in [(0, "3273010101900001"), (1, "3273014101920002")] {
        let p = person(r, 0);
        dedup.check(station.store(), &p).unwrap();
        let row = Dedup::row(&p).unwrap();
        let entry = station
            .store_mut()
            .append_enrollment(&NewEnrollment {
                enrollment_id: format!("REC-{r}"),
                nik: Nik::parse(nik).unwrap(),
                case: CaseType::NewRecording,
                operator_id: "op-1".into(),
                payload: vec![1, 2, 3],
                biometrics: Some(row.clone()),
                visit: None,
            })
            .unwrap();
        dedup.add(entry.seq, &row).unwrap();
    }
    drop(station);

    let station = Station::open(paths(dir.path()), Arc::new(SystemClock)).unwrap();
    let store = station.store();
    let dedup = Dedup::load(store).unwrap();
    assert_eq!(dedup.len(), 2);
    // Resident 1 again, another capture, under another NIK: refused, naming REC-1.
    let err = dedup.check(store, &person(1, 9)).unwrap_err();
    assert_eq!(err.code(), "BIOMETRIC_DUPLICATE");
    let rekam::Error::BiometricDuplicate {
        matching, compared, ..
    } = &err
    else {
        unreachable!()
    };
    // Four fingers and two irises compared; the irises (the same images) and the fingers agree.
    assert_eq!(*compared, 6);
    assert!(*matching >= 5, "{err:?}");
    let shown = rekam::i18n::Localized::localized(&err, rekam::i18n::Lang::Id);
    assert!(
        shown.contains("REC-1") && shown.contains("327301"),
        "{shown}"
    );
    assert!(
        !shown.contains("3273014101920002"),
        "full NIK shown: {shown}"
    );
    // Resident 1 once more with every finger an exception: the irises alone find the record.
    let mut no_fingers = person(1, 9);
    no_fingers.fingers = Default::default();
    let err = dedup.check(store, &no_fingers).unwrap_err();
    assert!(
        matches!(&err, rekam::Error::BiometricDuplicate { enrollment_id, compared: 2, .. } if enrollment_id == "REC-1"),
        "{err:?}"
    );
    // Resident 2 is nobody recorded here.
    dedup.check(store, &person(2, 9)).unwrap();
}
