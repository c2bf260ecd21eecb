//! The signature pad's frame decoder on arbitrary line bytes, fed in arbitrary pieces: it must
//! never panic, never loop, and everything it returns must encode back to a frame it decodes
//! again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rekam_drivers::signature_pad::frame::FrameDecoder;

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the piece size, as reads of a serial port split a stream.
    let (piece, line) = match data.split_first() {
        Some((p, rest)) => (usize::from(*p % 16) + 1, rest),
        None => return,
    };
    let mut d = FrameDecoder::new();
    let mut frames = Vec::new();
    for chunk in line.chunks(piece) {
        d.push(chunk);
        while let Some(f) = d.next_frame() {
            frames.push(f);
        }
    }
    frames.extend(d.finish());
    for f in frames {
        let mut again = FrameDecoder::new();
        again.push(&f.encode());
        assert_eq!(again.next_frame(), Some(f));
    }
});
