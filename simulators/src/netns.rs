//! Tests that prove "no network at all": a test re-runs one of its own test functions inside a
//! new network namespace (`unshare -n`, as root) with only the loopback interface up, where the
//! device simulators and a data center on loopback still answer and nothing else exists.
//!
//! Without the right to unshare, the outer test fails unless `REKAM_ALLOW_SKIP=netns`
//! (`crate::skip`).

use std::process::Command;

/// The variable that tells a re-run test it is inside the namespace.
const INSIDE: &str = "REKAM_IN_NETNS";

/// Whether this process runs inside the namespace [`run`] made; when it does, it checks there
/// is no interface but loopback and that an outside address cannot be reached.
///
/// # Panics
///
/// Inside a namespace that has another interface.
pub fn inside() -> bool {
    if std::env::var_os(INSIDE).is_none() {
        return false;
    }
    let links = Command::new("ip")
        .args(["-o", "link"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert_eq!(
        links.lines().count(),
        1,
        "interfaces besides loopback:\n{links}"
    );
    assert!(
        std::net::TcpStream::connect_timeout(
            &std::net::SocketAddr::from(([1, 1, 1, 1], 443)),
            std::time::Duration::from_secs(2)
        )
        .is_err(),
        "an outside address answered"
    );
    true
}

/// Runs test `name` of the current test binary (an `#[ignore]`d one that starts with
/// `if !netns::inside() { return; }`) inside a new network namespace with only `lo` up, and
/// returns its standard output; panics with its output when it fails. `None` when the namespace
/// cannot be made and `REKAM_ALLOW_SKIP=netns` allows skipping.
pub fn run(name: &str) -> Option<String> {
    let exe = std::env::current_exe().unwrap_or_default();
    let script = format!(
        "ip link set lo up && exec '{}' --exact {name} --ignored --nocapture",
        exe.display()
    );
    let out = match Command::new("unshare")
        .args(["-n", "sh", "-c", &script])
        .env(INSIDE, "1")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            crate::skip::or_fail("netns", &format!("unshare: {e}"));
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && err.contains("unshare failed") {
        crate::skip::or_fail("netns", &err.trim());
        return None;
    }
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{name} inside the network namespace:\n{text}\n{err}"
    );
    Some(text)
}
