//! Shared by the simulators and their tests: what a synthetic resident does at each device.

pub mod card;
pub mod sbi;

use rekam_drivers::signature_pad::PenSample;

/// The pen samples of signing `k` (from 0) of resident `index` of `seed`, as the pad simulator
/// plays them and a test expects to receive them.
pub fn pad_samples(seed: u64, index: u64, k: u64) -> Vec<PenSample> {
    rekam_synth::set::signing(seed, index, k)
        .into_iter()
        .map(|e| PenSample {
            t_ms: e.t_ms,
            x: e.x,
            y: e.y,
            pressure: e.pressure,
            pen_down: e.pen_down,
        })
        .collect()
}
