//! The checks. Each `#[test]` is one rule of `ARCHITECTURE.md` ("Architecture invariants",
//! "Who may depend on whom"); its failure names every place that breaks it and what to do.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Who may depend on whom: every workspace crate and the workspace crates its normal
/// (non-dev) dependencies may name. Dependencies point down this list's layers, never up:
/// nothing beneath the core knows it, and the data center knows neither the station core nor
/// its devices. A new crate, or a new edge, is added here and in `ARCHITECTURE.md` together.
const MAY_DEPEND_ON: &[(&str, &[&str])] = &[
    ("rekam-i18n", &[]),
    ("rekam-records", &[]),
    ("rekam-packet", &["rekam-records"]),
    ("rekam-bio", &["rekam-i18n", "rekam-records"]),
    ("rekam-drivers", &["rekam-i18n", "rekam-records"]),
    ("rekam-sync", &["rekam-packet"]),
    (
        "rekam-domain",
        &["rekam-i18n", "rekam-packet", "rekam-records"],
    ),
    (
        "rekam",
        &[
            "rekam-bio",
            "rekam-domain",
            "rekam-drivers",
            "rekam-i18n",
            "rekam-packet",
            "rekam-records",
            "rekam-sqlcipher",
            "rekam-sync",
        ],
    ),
    ("rekam-serve", &["rekam-packet"]),
    ("rekam-sqlcipher", &[]),
    (
        "rekam-gateway",
        &[
            "rekam-bio",
            "rekam-domain",
            "rekam-packet",
            "rekam-records",
            "rekam-serve",
            "rekam-sqlcipher",
        ],
    ),
    (
        "rekam-hub",
        &[
            "rekam-bio",
            "rekam-domain",
            "rekam-packet",
            "rekam-serve",
            "rekam-sqlcipher",
            "rekam-sync",
        ],
    ),
    (
        "rekam-cli",
        &["rekam", "rekam-drivers", "rekam-packet", "rekam-sync"],
    ),
    ("rekam-desktop", &["rekam", "rekam-drivers"]),
    ("rekam-gateway-cli", &["rekam-domain", "rekam-gateway"]),
    ("rekam-hub-cli", &["rekam-domain", "rekam-hub"]),
    (
        "rekam-synth",
        &["rekam-bio", "rekam-domain", "rekam-records"],
    ),
    (
        "rekam-sim",
        &[
            "rekam",
            "rekam-bio",
            "rekam-drivers",
            "rekam-gateway",
            "rekam-hub",
            "rekam-packet",
            "rekam-records",
            "rekam-sync",
            "rekam-synth",
        ],
    ),
    ("rekam-tidy", &[]),
];

/// What a crate may do, by the external crates that do it, and the workspace crates allowed
/// to depend on them directly (normal dependencies).
const CAPABILITIES: &[(&str, &[&str], &[&str])] = &[
    (
        "HTTP",
        &[
            "reqwest",
            "axum",
            "hyper",
            "hyper-util",
            "ureq",
            "tiny_http",
        ],
        // the client of the data center, the kecamatan server and SIAK; the servers (the
        // gateway, the hub, what they share); the SBI client on loopback; the simulators
        &[
            "rekam-sync",
            "rekam-serve",
            "rekam-gateway",
            "rekam-hub",
            "rekam-drivers",
            "rekam-sim",
        ],
    ),
    (
        "SQL",
        &["rusqlite", "postgres", "tokio-postgres"],
        &["rekam", "rekam-gateway", "rekam-hub", "rekam-sqlcipher"],
    ),
    (
        "Tauri",
        &["tauri", "tauri-build", "webkit2gtk", "wry"],
        &["rekam-desktop"],
    ),
    (
        "a serial port",
        &["serialport"],
        &["rekam-drivers", "rekam-sim"],
    ),
    ("PC/SC", &["pcsc"], &["rekam-drivers"]),
    (
        "the screen's TypeScript types",
        &["ts-rs"],
        // the shell (its tests); beneath it only as an optional `ts` feature (the test below)
        &[
            "rekam-desktop",
            "rekam",
            "rekam-domain",
            "rekam-drivers",
            "rekam-i18n",
        ],
    ),
    (
        "PDF and drawing",
        &["pdf-writer", "qrcode", "ab_glyph"],
        &["rekam"],
    ),
    (
        "anyhow (binaries only)",
        &["anyhow"],
        &[
            "rekam-cli",
            "rekam-gateway-cli",
            "rekam-hub-cli",
            "rekam-desktop",
            "rekam-sim",
            "rekam-synth",
        ],
    ),
    (
        "a command line",
        &["clap", "tracing-subscriber"],
        &[
            "rekam-cli",
            "rekam-gateway-cli",
            "rekam-hub-cli",
            "rekam-desktop",
            "rekam-sim",
            "rekam-synth",
        ],
    ),
];

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tidy/ is in the workspace root")
        .to_owned()
}

/// `cargo metadata` of the workspace.
fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// A workspace crate as the checks see it.
#[derive(Debug)]
struct Krate {
    name: String,
    /// Its folder.
    dir: PathBuf,
    /// The names of its normal (non-dev, non-build) dependencies.
    normal: BTreeSet<String>,
    /// Of those, the optional ones (behind a feature).
    optional: BTreeSet<String>,
    /// Whether it has a library target, and that library's root file.
    lib: Option<PathBuf>,
}

fn workspace() -> Vec<Krate> {
    let m = metadata();
    let members: BTreeSet<&str> = m["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    m["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| members.contains(p["id"].as_str().unwrap()))
        .map(|p| Krate {
            name: p["name"].as_str().unwrap().to_owned(),
            dir: Path::new(p["manifest_path"].as_str().unwrap())
                .parent()
                .unwrap()
                .to_owned(),
            normal: p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect(),
            optional: p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null() && d["optional"] == true)
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect(),
            lib: p["targets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "lib"))
                .map(|t| PathBuf::from(t["src_path"].as_str().unwrap())),
        })
        .collect()
}

/// Every `.rs` file under `dir`, skipping build output and other workspaces.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | "node_modules" | "fuzz" | ".git") {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Fails listing every problem, with the rule's advice.
fn report(rule: &str, problems: &[String], advice: &str) {
    assert!(
        problems.is_empty(),
        "tidy: {rule}\n  {}\n{advice}",
        problems.join("\n  ")
    );
}

#[test]
fn every_crate_depends_only_on_the_crates_beneath_it() {
    let allowed: BTreeMap<&str, &[&str]> = MAY_DEPEND_ON.iter().copied().collect();
    let mut problems = Vec::new();
    for k in workspace() {
        let Some(may) = allowed.get(k.name.as_str()) else {
            problems.push(format!("{} is not placed in MAY_DEPEND_ON", k.name));
            continue;
        };
        for dep in k.normal.iter().filter(|d| d.starts_with("rekam")) {
            if !may.contains(&dep.as_str()) {
                problems.push(format!("{} depends on {dep}", k.name));
            }
        }
    }
    report(
        "a crate depends on a workspace crate it may not",
        &problems,
        "Dependencies point one way (ARCHITECTURE.md, 'Who may depend on whom'): move the shared \
         part down (rekam-domain holds what station and data center share), or, if the design \
         changed, change the table in tidy/src/tidy.rs and ARCHITECTURE.md together.",
    );
}

#[test]
fn only_the_allowed_crates_speak_http_sql_tauri_serial_pcsc_or_use_anyhow() {
    let mut problems = Vec::new();
    for k in workspace() {
        for (what, crates, allowed) in CAPABILITIES {
            if allowed.contains(&k.name.as_str()) {
                continue;
            }
            for dep in crates.iter().filter(|c| k.normal.contains(**c)) {
                problems.push(format!("{} uses {what} ({dep})", k.name));
            }
        }
    }
    report(
        "a crate does what its layer may not",
        &problems,
        "ARCHITECTURE.md says who speaks HTTP and SQL, who knows Tauri and the devices' \
         transports, and that only binaries use anyhow: go through the crate that may.",
    );
}

#[test]
fn only_the_shell_knows_the_screen_and_the_rest_only_behind_a_feature() {
    let problems: Vec<String> = workspace()
        .into_iter()
        .filter(|k| k.name != "rekam-desktop")
        .filter(|k| k.normal.contains("ts-rs") && !k.optional.contains("ts-rs"))
        .map(|k| format!("{} depends on ts-rs outside a feature", k.name))
        .collect();
    report(
        "the screen's types leak into a library",
        &problems,
        "Derive ts_rs::TS beneath the shell only behind the crate's optional `ts` feature \
         (`#[cfg_attr(feature = \"ts\", derive(ts_rs::TS))]`); the desktop turns it on.",
    );
}

#[test]
fn libraries_return_their_own_errors_not_anyhow() {
    let mut problems = Vec::new();
    // The tidy crate names anyhow to look for it.
    for k in workspace().into_iter().filter(|k| k.name != "rekam-tidy") {
        let Some(lib) = &k.lib else { continue };
        let src = lib.parent().unwrap();
        for file in rust_files(src) {
            let rel = relative(&file);
            let in_binary = file.starts_with(src.join("bin"))
                || file.file_name().is_some_and(|n| n == "main.rs");
            if in_binary || !read(&file).contains("anyhow") {
                continue;
            }
            problems.push(format!("{rel} (library of {})", k.name));
        }
    }
    report(
        "a library uses anyhow",
        &problems,
        "Libraries return a thiserror enum with stable codes (one error type per crate); \
         anyhow belongs at a binary's edge.",
    );
}

/// The text of a file.
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn only_the_store_speaks_sql_in_the_core() {
    let src = root().join("src");
    let problems: Vec<String> = rust_files(&src)
        .into_iter()
        .filter(|f| !f.starts_with(src.join("store")) && *f != src.join("error.rs"))
        .filter(|f| read(f).contains("rusqlite"))
        .map(|f| relative(&f))
        .collect();
    report(
        "SQL outside the core's store",
        &problems,
        "Only rekam::store speaks SQL (src/error.rs only converts its errors): add a method to \
         the store.",
    );
}

#[test]
fn nothing_in_the_core_reads_the_system_time_but_the_clock() {
    let clock = root().join("domain/src/clock.rs");
    let mut problems = Vec::new();
    for dir in ["src", "domain/src"] {
        for file in rust_files(&root().join(dir)) {
            if file == clock {
                continue;
            }
            for (n, line) in read(&file).lines().enumerate() {
                if ["SystemTime::now", "now_utc()", "now_local()"]
                    .iter()
                    .any(|p| line.contains(p))
                {
                    problems.push(format!("{}:{}: {}", relative(&file), n + 1, line.trim()));
                }
            }
        }
    }
    report(
        "the system time read outside rekam_domain::clock",
        &problems,
        "Take the time from the station's Clock (tests pin 'today' through it).",
    );
}

#[test]
fn the_shell_forwards_and_holds_no_workflow() {
    // The desk (`rekam::desk`) holds the counter and drives the workflows; the shell only
    // forwards to it. Its generated contract (bindings.rs, test-only) names the views.
    let shell = root().join("src-tauri/src");
    let mut problems = Vec::new();
    for file in rust_files(&shell) {
        if file == shell.join("bindings.rs") {
            continue;
        }
        for (n, line) in read(&file).lines().enumerate() {
            let reaches_in = ["rekam::workflow::", "rekam::store", "rekam::dedup"]
                .iter()
                .any(|p| line.contains(p));
            // The recording's action is the one workflow type a command takes as it is.
            if reaches_in && !line.contains("rekam::workflow::counter::Action") {
                problems.push(format!("{}:{}: {}", relative(&file), n + 1, line.trim()));
            }
        }
    }
    report(
        "the desktop shell reaches past the desk into the workflows or the store",
        &problems,
        "Add a method to rekam::desk::Desk and forward the command to it in one line.",
    );
}

/// The spans of `tracing` macro calls in `text`: from `tracing::level!(` or `level!(` to the
/// closing parenthesis.
fn log_calls(text: &str) -> Vec<(usize, &str)> {
    let mut calls = Vec::new();
    for macro_name in ["trace!(", "debug!(", "info!(", "warn!(", "error!("] {
        let mut from = 0;
        while let Some(i) = text[from..].find(macro_name) {
            let start = from + i;
            let bytes = text.as_bytes();
            let mut depth = 0usize;
            let mut end = start + macro_name.len() - 1;
            for (j, b) in bytes.iter().enumerate().skip(end) {
                match b {
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let line = text[..start].matches('\n').count() + 1;
            calls.push((line, &text[start..=end.min(text.len() - 1)]));
            from = start + macro_name.len();
        }
    }
    calls
}

#[test]
fn log_calls_are_found_whole() {
    let text = "x;\ntracing::warn!(nik = %nik.masked(), error = %f(a, b), \"gone\");\ninfo!(\"{}\", g(h()));";
    let calls = log_calls(text);
    assert_eq!(
        calls,
        vec![
            (3, "info!(\"{}\", g(h()))"),
            (2, "warn!(nik = %nik.masked(), error = %f(a, b), \"gone\")"),
        ]
    );
}

#[test]
fn a_nik_reaches_a_log_only_masked() {
    let mut problems = Vec::new();
    for k in workspace() {
        for file in rust_files(&k.dir) {
            // Only this crate's own sources: the core's folder holds the other crates' too.
            if k.name == "rekam" && !file.starts_with(k.dir.join("src")) {
                continue;
            }
            let text = read(&file);
            for (line, call) in log_calls(&text) {
                let lower = call.to_lowercase();
                if lower.contains("nik") && !lower.contains("masked") {
                    problems.push(format!("{}:{line}: {call}", relative(&file)));
                }
            }
        }
    }
    report(
        "a log line names a NIK without masking it",
        &problems,
        "Log nik.masked() (327301********01), never the NIK itself nor an error whose text \
         carries it (an HTTP error names its URL).",
    );
}

#[test]
fn a_test_that_cannot_run_fails_unless_told_to_skip() {
    let mut problems = Vec::new();
    for file in rust_files(&root()) {
        let rel = relative(&file);
        if rel == "simulators/src/skip.rs" || rel.starts_with("tidy/") {
            continue;
        }
        for (n, line) in read(&file).lines().enumerate() {
            let lower = line.to_lowercase();
            if (lower.contains("eprintln!") || lower.contains("println!"))
                && lower.contains("skipped")
            {
                problems.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    report(
        "a test says it skipped",
        &problems,
        "A test that cannot run here fails, unless REKAM_ALLOW_SKIP names what it lacks: call \
         rekam_sim::skip::or_fail (CI never sets REKAM_ALLOW_SKIP).",
    );
}

#[test]
fn every_crate_takes_the_workspace_lints() {
    let problems: Vec<String> = workspace()
        .into_iter()
        .filter(|k| {
            let manifest = read(&k.dir.join("Cargo.toml"));
            !manifest.contains("[lints]\nworkspace = true")
        })
        .map(|k| k.name)
        .collect();
    report(
        "a crate without the workspace's lints",
        &problems,
        "Add `[lints]\\nworkspace = true` to its Cargo.toml (unsafe_code = forbid, no unwrap).",
    );
}

#[test]
fn every_module_says_what_it_is() {
    let problems: Vec<String> = rust_files(&root())
        .into_iter()
        .filter(|f| {
            let text = read(f);
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty() && !l.starts_with("#!["));
            !first.is_some_and(|l| l.starts_with("//!"))
        })
        .map(|f| relative(&f))
        .collect();
    report(
        "a module without a header",
        &problems,
        "Start each file with a //! comment that says what it is for and the rule it keeps.",
    );
}

#[test]
fn keys_in_the_repository_are_test_keys_under_fixtures() {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output()
        .expect("git ls-files (the tidy test reads the repository's files)");
    assert!(out.status.success(), "git ls-files failed");
    let mut problems = Vec::new();
    for rel in String::from_utf8_lossy(&out.stdout).split('\0') {
        let path = root().join(rel);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        if !text.contains("PRIVATE KEY-----") || rel.starts_with("tidy/") {
            continue;
        }
        let name = Path::new(rel).file_name().unwrap().to_string_lossy();
        let under_fixtures =
            rel.starts_with("fixtures/test-keys/") || rel.starts_with("fixtures/packet-kat/");
        if !(under_fixtures && name.starts_with("test-")) {
            problems.push(rel.to_owned());
        }
    }
    report(
        "a private key outside fixtures/, or not named test-*",
        &problems,
        "Keys in the repository are TEST keys only: fixtures/test-keys/test-* or \
         fixtures/packet-kat/test-*.",
    );
}

/// The names after `keyword` (`DROP TRIGGER`, `CREATE TRIGGER`) in `sql`, without
/// `IF [NOT] EXISTS`.
fn trigger_names(sql: &str, keyword: &str) -> Vec<String> {
    sql.split(keyword)
        .skip(1)
        .filter_map(|rest| {
            rest.split_whitespace()
                .find(|w| !matches!(*w, "IF" | "NOT" | "EXISTS"))
                .map(|w| w.trim_end_matches(';').to_owned())
        })
        .collect()
}

#[test]
fn a_migration_that_drops_an_append_only_trigger_creates_it_again() {
    let text = read(&root().join("src/store/migrations.rs"));
    let mut problems = Vec::new();
    let mut seen = 0;
    // Each migration's SQL is one raw string.
    for sql in text
        .split("r#\"")
        .skip(1)
        .filter_map(|s| s.split("\"#").next())
    {
        seen += 1;
        let created = trigger_names(sql, "CREATE TRIGGER");
        for dropped in trigger_names(sql, "DROP TRIGGER") {
            if !created.contains(&dropped) {
                problems.push(format!("trigger {dropped} dropped and not created again"));
            }
        }
    }
    assert!(
        seen >= 9,
        "the migrations' SQL was not found ({seen} raw strings)"
    );
    // The rule itself: a drop alone is caught, a drop and a create is not.
    assert_eq!(
        trigger_names("DROP TRIGGER IF EXISTS a_no_update;", "DROP TRIGGER"),
        ["a_no_update"]
    );
    report(
        "a migration that drops a trigger without creating it again",
        &problems,
        "The journal, the audit log, the biometric tables and the logs are append-only by their \
         triggers: a migration may replace a trigger (narrowing what it lets through, as the \
         purge's does), never remove one.",
    );
}

#[test]
fn every_route_of_the_gateway_is_in_its_api_document() {
    let api = read(&root().join("gateway/src/api.rs"));
    let doc = read(&root().join("docs/gateway-api.yaml"));
    let routes: Vec<&str> = api
        .split(".route(")
        .skip(1)
        .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
        .collect();
    assert!(
        routes.len() >= 10,
        "the gateway's routes were not found ({} in gateway/src/api.rs)",
        routes.len()
    );
    let problems: Vec<String> = routes
        .iter()
        .filter(|r| !doc.contains(&format!("\n  {r}:")))
        .map(|r| format!("{r} is served but not in docs/gateway-api.yaml"))
        .collect();
    report(
        "a gateway route missing from its API document",
        &problems,
        "docs/gateway-api.yaml is what a data center's implementer reads: every route the \
         reference gateway serves is there, with its messages and refusals.",
    );
}
