//! What the gateway reads from an upload, on arbitrary bytes: the sealed envelope (header,
//! lengths, signature position) and the plaintext framing (manifest and record container).
//! Whatever parses must give back its own bytes; opening with the TEST keys must refuse, never
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rekam_packet::envelope::SealedPacket;
use rekam_packet::{Contents, DcKeys, StationKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = SealedPacket::parse(data) {
        assert_eq!(p.as_bytes(), data);
        let _ = p.content_hash();
        let station = StationKey::from_seed(&[7; 32]);
        let dc = DcKeys::from_seeds(&[1; 32], &[2; 32]);
        let _ = p.open(&station.public(), &dc);
    }
    if let Ok(c) = Contents::parse(data) {
        let again = c.to_bytes().expect("parsed contents write");
        assert_eq!(Contents::parse(&again).as_ref(), Ok(&c));
        let _ = c.ids();
    }
});
