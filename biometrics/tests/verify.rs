//! 1:1 verification of both index fingers against card templates, on the fixture residents.

#![allow(clippy::unwrap_used)]

use rekam_bio::finger::FingerTemplate;
use rekam_bio::finger::extract::{Gray, extract};
use rekam_bio::verify::{card_template, from_card, index_fingers};
use rekam_records::minutiae::{decode, encode};
use std::path::Path;

/// Finger `name` of fixture resident `r`, moved `shift` px right and down (another capture).
fn finger(r: usize, name: &str, shift: usize) -> FingerTemplate {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../fixtures/synth/R{r:04}/finger/{name}"));
    let img = image::open(path).unwrap().into_luma8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.into_raw();
    let moved = rekam_bio::testing::shifted(&src, w, h, shift);
    let g = Gray {
        data: &moved,
        width: w,
        height: h,
    };
    extract(g, name[..2].parse().unwrap()).unwrap()
}

/// What a chip would hold: the compact bytes, and what the reader makes of them.
fn through_card(t: &FingerTemplate) -> FingerTemplate {
    let bytes = encode(&card_template(t)).unwrap();
    assert!(bytes.len() <= 180);
    from_card(t.position, &decode(&bytes).unwrap())
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
