//! 1:1 verification of both index fingers against card templates, on the fixture residents'
//! finger records as a scanner delivers them.

#![allow(clippy::unwrap_used)]

use image::GenericImageView;
use rekam_bio::finger::FingerTemplate;
use rekam_bio::finger::extract::{Gray, decode, extract};
use rekam_bio::verify::{card_template, from_card, index_fingers};
use rekam_records::finger::{Acquisition, Compression, FingerImage};
use rekam_records::minutiae;
use std::path::Path;

/// The fixture image as the scanner delivers it: an ISO/IEC 19794-4 record with a PNG inside.
fn record(r: usize, name: &str) -> FingerImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../fixtures/synth/R{r:04}/finger/{name}"));
    let png = std::fs::read(path).unwrap();
    let (w, h) = image::load_from_memory(&png).unwrap().dimensions();
    FingerImage {
        position: name[..2].parse().unwrap(),
        quality: 80,
        impression: 0,
        width: w as u16,
        height: h as u16,
        acquisition: Acquisition::live_scan(500),
        compression: Compression::Png,
        data: png,
    }
}

/// Finger `name` of fixture resident `r`, moved `shift` px right and down (another capture).
fn finger(r: usize, name: &str, shift: usize) -> FingerTemplate {
    let rec = record(r, name);
    let (src, w, h) = decode(&rec).unwrap();
    let moved = rekam_bio::testing::shifted(&src, w, h, shift);
    let g = Gray {
        data: &moved,
        width: w,
        height: h,
    };
    extract(g, rec.position).unwrap()
}

#[test]
fn only_500_ppi_records_whose_image_fits_their_header_are_read() {
    let good = record(0, "02-right_index-1.png");
    let mut other_ppi = good.clone();
    other_ppi.acquisition = Acquisition::live_scan(1000);
    assert!(decode(&other_ppi).is_err());
    let mut wrong_size = good.clone();
    wrong_size.width -= 1;
    assert!(decode(&wrong_size).is_err());
    let mut wsq = good;
    wsq.compression = Compression::Wsq;
    assert!(decode(&wsq).is_err());
}

/// What a chip would hold: the compact bytes, and what the reader makes of them.
fn through_card(t: &FingerTemplate) -> FingerTemplate {
    let bytes = minutiae::encode(&card_template(t)).unwrap();
    assert!(bytes.len() <= 180);
    from_card(t.position, &minutiae::decode(&bytes).unwrap())
}

#[test]
fn both_index_fingers_verify_against_the_card_and_another_resident_does_not() {
    let card = |r| {
        (
            through_card(&finger(r, "02-right_index-1.png", 0)),
            through_card(&finger(r, "07-left_index-1.png", 0)),
        )
    };
    let live = |r| {
        (
            finger(r, "02-right_index-1.png", 11),
            finger(r, "07-left_index-1.png", 11),
        )
    };
    let (c0, l0, l1) = (card(0), live(0), live(1));
    let same = index_fingers((&l0.0, &l0.1), (&c0.0, &c0.1));
    assert!(same.passed, "{same:?}");
    let other = index_fingers((&l1.0, &l1.1), (&c0.0, &c0.1));
    assert!(
        !other.passed && other.right < 15 && other.left < 15,
        "{other:?}"
    );
    // Swapped hands fail too: the right index is not the left.
    let swapped = index_fingers((&l0.1, &l0.0), (&c0.0, &c0.1));
    assert!(!swapped.passed, "{swapped:?}");
}
