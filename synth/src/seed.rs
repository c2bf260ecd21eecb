//! Seeds and the random streams derived from them.
//!
//! A stream is named by a path of labels (`["resident", "17", "finger", "2"]`) and seeded by
//! SHA-256 of the master seed and that path, so adding a modality or a resident never shifts
//! the randomness of another. ChaCha8 keeps the stream identical on every platform.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// A master seed, or a seed derived from one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seed([u8; 32]);

impl Seed {
    /// The seed of a generation run, from the number the operator typed.
    pub fn from_u64(n: u64) -> Seed {
        Seed::derive_from(&[0u8; 32], &[b"rekam-synth/v1", &n.to_be_bytes()])
    }

    fn derive_from(base: &[u8; 32], parts: &[&[u8]]) -> Seed {
        let mut h = Sha256::new();
        h.update(base);
        for p in parts {
            h.update((p.len() as u32).to_be_bytes());
            h.update(p);
        }
        Seed(h.finalize().into())
    }

    /// A child seed named by `label`.
    pub fn child(&self, label: impl AsRef<[u8]>) -> Seed {
        Seed::derive_from(&self.0, &[label.as_ref()])
    }

    /// A child seed named by `label` and a number.
    pub fn child_n(&self, label: &str, n: u64) -> Seed {
        Seed::derive_from(&self.0, &[label.as_bytes(), &n.to_be_bytes()])
    }

    /// A random stream seeded by this seed.
    pub fn rng(&self) -> ChaCha8Rng {
        ChaCha8Rng::from_seed(self.0)
    }

    /// Hex form, for manifests.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}
