//! What cards, packets and the store hand the record readers, on arbitrary bytes: ISO/IEC
//! 19794-2 minutiae records and compact card templates, the CBEFF-style container, and the
//! image records of parts 4, 5 and 6. Whatever parses must write back to bytes that parse to
//! the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rekam_records::{cbeff, face, finger, iris, minutiae};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = minutiae::MinutiaeRecord::parse(data) {
        let again = r.to_bytes().expect("a parsed record writes");
        assert_eq!(minutiae::MinutiaeRecord::parse(&again).as_ref(), Ok(&r));
    }
    if let Ok(m) = minutiae::decode(data) {
        assert_eq!(minutiae::encode(&m).expect("a decoded template encodes"), data);
    }
    if let Ok(b) = cbeff::parse(data) {
        let again = cbeff::to_bytes(&b).expect("a parsed container writes");
        assert_eq!(cbeff::parse(&again).as_ref(), Ok(&b));
    }
    let _ = finger::FingerImage::parse(data);
    let _ = face::FaceImage::parse(data);
    let _ = iris::IrisImage::parse(data);
});
