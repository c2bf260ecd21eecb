//! Tests that need what a machine may not give (FUSE, mounting a filesystem as root) run where
//! they must: without it they fail, unless `REKAM_ALLOW_SKIP` names the missing thing (a
//! comma-separated list, e.g. `REKAM_ALLOW_SKIP=fuse,mount`). CI never sets it, so a CI machine
//! that lost FUSE fails instead of passing on tests that did not run.

/// The environment variable that lets named tests skip.
pub const ALLOW_SKIP: &str = "REKAM_ALLOW_SKIP";

/// Whether `REKAM_ALLOW_SKIP` lets tests that need `what` skip.
pub fn allowed(what: &str) -> bool {
    std::env::var(ALLOW_SKIP).is_ok_and(|v| v.split(',').any(|w| w.trim() == what))
}

/// A test cannot have `what` (`why` says what failed): it says it skipped when allowed to,
/// and fails otherwise. The caller returns after it.
///
/// # Panics
///
/// Unless `REKAM_ALLOW_SKIP` names `what`.
pub fn or_fail(what: &str, why: &dyn std::fmt::Display) {
    assert!(
        allowed(what),
        "this test needs {what} and cannot have it here: {why}. Run it as root on a machine \
         with /dev/fuse and mount(8), or set {ALLOW_SKIP}={what} to skip it knowingly"
    );
    eprintln!("SKIPPED ({ALLOW_SKIP}={what}): {why}");
}
