//! Builds the operator's screen (`ui/`, TypeScript) into `ui/dist` before Tauri embeds it, so
//! a plain `cargo build` gives a complete app (the Tauri CLI's `beforeBuildCommand` would need
//! the CLI, which takes twenty minutes to install). Needs Node.js; the compiler comes from
//! `ui/package-lock.json` on first use.

use std::path::Path;
use std::process::Command;

fn main() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
    for input in [
        "src",
        "public",
        "build.mjs",
        "package-lock.json",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", ui.join(input).display());
    }
    // Regenerating the screen's types (`REKAM_BLESS=1 cargo test -p rekam-desktop bindings`)
    // must not wait for a screen that only compiles against the new types: the build after it
    // compiles the screen again.
    println!("cargo:rerun-if-env-changed=REKAM_BLESS");
    if std::env::var_os("REKAM_BLESS").is_none() || !ui.join("dist").exists() {
        let status = Command::new("node")
            .arg(ui.join("build.mjs"))
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run node to build ui/ ({e}): install Node.js 18 or newer")
            });
        assert!(
            status.success() || std::env::var_os("REKAM_BLESS").is_some(),
            "building ui/ failed: {status}"
        );
    }
    tauri_build::build()
}
