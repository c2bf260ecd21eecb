//! What the kill campaigns share (`hub-cli/tests/kill.rs`, `gateway-cli/tests/kill.rs`): the
//! run's seed, printed so a failing run can be replayed with `REKAM_CRASH_SEED`; the kill
//! times drawn from it; the settings read from the environment; a server binary started and
//! waited for until it listens.

use crate::error::SimError;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// xorshift: reproducible kill times and choices from a seed.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The number in the environment variable `name`, if it holds one.
pub fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The run's seed: `REKAM_CRASH_SEED` to replay a run, else new from the clock (odd, never 0).
pub fn seed() -> u64 {
    env_u64("REKAM_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1
    })
}

/// Starts `server` (a `serve` command) and returns it once its first line says it listens on
/// `scheme`; what it said instead is the error.
pub fn listening(server: &mut Command, scheme: &str) -> Result<Child, SimError> {
    let mut child = server.stdout(Stdio::piped()).spawn()?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    if !line.starts_with(&format!("listening on {scheme}://")) {
        let _ = child.kill();
        return Err(SimError::Setup(format!(
            "the server did not start listening on {scheme}: {line:?}"
        )));
    }
    Ok(child)
}
