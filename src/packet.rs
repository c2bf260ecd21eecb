//! The recording's manifest (crate `rekam-domain`, shared with the data center) and what only
//! the station adds to it: the signature pad's pen samples as a packet record.

pub use rekam_domain::manifest::*;

/// Pen samples as the [`PEN_STROKES`] block.
pub fn strokes_to_bytes(samples: &[rekam_drivers::signature_pad::PenSample]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * 11);
    for s in samples {
        out.extend_from_slice(&s.x.to_be_bytes());
        out.extend_from_slice(&s.y.to_be_bytes());
        out.extend_from_slice(&s.pressure.to_be_bytes());
        out.extend_from_slice(&s.t_ms.to_be_bytes());
        out.push(u8::from(s.pen_down));
    }
    out
}
