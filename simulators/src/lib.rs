//! Shared by the simulators and their tests: what a synthetic resident does at each device.

pub mod campaign;
pub mod card;
pub mod counter;
pub mod error;
pub mod extract;
pub mod link;
#[cfg(target_os = "linux")]
pub mod lossy_disk;
pub mod netns;
pub mod packets;
pub mod pg;
pub mod sbi;
pub mod skip;
pub mod tpm;

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

/// Starts a simulator and waits for its `READY ...` line; returns the child and what follows
/// `READY` (a path, a port, or nothing). For tests and demos; panics name what went wrong.
pub fn spawn_ready(command: &mut std::process::Command) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    match line.trim().strip_prefix("READY") {
        Some(rest) => (child, rest.trim().to_owned()),
        None => panic!("{command:?} said {line:?} instead of READY"),
    }
}
