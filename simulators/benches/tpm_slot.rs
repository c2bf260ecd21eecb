//! What the TPM slot costs a fixed counter's unattended sync: the store opened through the TPM
//! (the storage primary derived, the sealed slot key loaded, the PCR policy session, the
//! unseal, then the store key unwrapped), against a login through an operator's password slot
//! (Argon2id at 64 MiB) and the baseline of the same store opened with its key file, all in
//! one run on one machine against `swtpm` over loopback (a real TPM chip is slower per
//! command: figures from a chip belong beside these, not instead).
//!
//! `cargo bench -p rekam-sim --bench tpm_slot -- [--runs N]` (default 7; medians printed)

#![allow(clippy::unwrap_used)]

use rekam::clock::SystemClock;
use rekam::domain::region::RegionCode;
use rekam::station::{FirstSlot, InitOptions, Station, StationPaths, Unlock};
use rekam_sim::tpm::SoftTpm;
use std::sync::Arc;
use std::time::Instant;

const PASSWORD: &str = "sandi-bangku-tpm";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn timed(runs: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect(),
    )
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let runs = argv
        .iter()
        .position(|a| a == "--runs")
        .map_or(7, |i| argv[i + 1].parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(SystemClock);
    let init = |name: &str| InitOptions {
        paths: StationPaths::new(dir.path().join(name), None),
        station_id: Some(format!("BENCH-{name}")),
        kecamatan: RegionCode::parse("32.73.01").unwrap(),
        actor: "bench".into(),
    };
    let tpm = SoftTpm::start().unwrap();
    let sealed = init("SEALED");
    let mut station = Station::init_sealed(
        init("SEALED"),
        &FirstSlot {
            operator_id: "SPV-01",
            password: PASSWORD,
            recovery: None,
        },
        clock.clone(),
    )
    .unwrap();
    let t = Instant::now();
    station.set_tpm_slot(&tpm.tcti(), &[7], "bench").unwrap();
    let enroll_ms = t.elapsed().as_secs_f64() * 1000.0;
    drop(station);
    let plain = init("PLAIN");
    drop(Station::init(plain.clone(), clock.clone()).unwrap());

    let tpm_ms = timed(runs, || {
        drop(
            Station::open_with(
                sealed.paths.clone(),
                &Unlock::Tpm { tcti: None },
                clock.clone(),
            )
            .unwrap(),
        )
    });
    let password_ms = timed(runs, || {
        drop(
            Station::open_with(
                sealed.paths.clone(),
                &Unlock::Password {
                    operator_id: "SPV-01",
                    password: PASSWORD,
                },
                clock.clone(),
            )
            .unwrap(),
        )
    });
    let key_file_ms = timed(runs, || {
        drop(Station::open(plain.paths.clone(), clock.clone()).unwrap())
    });
    println!("TPM slot (swtpm on loopback, PCR 7), median of {runs}:");
    println!("  enrolling the slot:                    {enroll_ms:8.1} ms (once)");
    println!(
        "  store opened through the TPM slot:     {tpm_ms:8.1} ms ({:.1}x the key file)",
        tpm_ms / key_file_ms
    );
    println!(
        "  store opened through a password slot:  {password_ms:8.1} ms ({:.1}x the key file)",
        password_ms / key_file_ms
    );
    println!("  baseline, opened with its key file:    {key_file_ms:8.1} ms");
}
