//! Transport failures are told apart, so the backlog can say what to do.

#![allow(clippy::unwrap_used)]

#[test]
fn a_name_that_does_not_resolve_and_a_closed_port_are_named() {
    let e = rekam_sync::identity("http://no-such-data-center.invalid", None).unwrap_err();
    assert_eq!(e.code(), "DNS", "{e}");
    // Nothing listens on port 9 of the loopback (discard): the connection is refused.
    let e = rekam_sync::identity("http://127.0.0.1:9", None).unwrap_err();
    assert_eq!(e.code(), "LINK_DOWN", "{e}");
    // https without the pinned certificate is refused before connecting.
    let e = rekam_sync::identity("https://127.0.0.1:9", None).unwrap_err();
    assert_eq!(e.code(), "PROTOCOL", "{e}");
}
