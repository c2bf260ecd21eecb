//! The tidy test (`cargo test -p rekam-tidy`): the architecture's rules that a machine can
//! check, read from `cargo metadata` and from the sources, so that the next rule broken fails
//! CI instead of living on in `ARCHITECTURE.md` alone. After rust-analyzer's `xtask` tidy
//! test. This crate has no code of its own; the checks are its tests (`src/tidy.rs`).
//!
//! A rule changes in three places at once: here, in `ARCHITECTURE.md`, and in the code.

#[cfg(test)]
mod tidy;
