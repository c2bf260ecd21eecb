//! Transport failures are told apart, so the backlog can say what to do.

#![allow(clippy::unwrap_used)]

/// A data center identity whose pinned certificate names `host`.
fn pinned_to(host: &str) -> rekam_packet::DcIdentity {
    let cert = rcgen::generate_simple_self_signed(vec![host.to_owned()]).unwrap();
    let mut dc = rekam_packet::DcKeys::generate()
        .unwrap()
        .identity("dc-test", None);
    dc.tls_certificate = Some(cert.cert.pem());
    dc
}

#[test]
fn a_name_that_does_not_resolve_and_a_closed_port_are_named() {
    let host = "no-such-data-center.invalid";
    let dc = pinned_to(host);
    let e = rekam_sync::identity(&format!("https://{host}"), Some(&dc)).unwrap_err();
    assert_eq!(e.code(), "DNS", "{e}");
    // Plain http:// to another machine is refused before any lookup.
    let e = rekam_sync::identity(&format!("http://{host}"), Some(&dc)).unwrap_err();
    assert_eq!(e.code(), "PLAIN_HTTP", "{e}");
    // Nothing listens on port 9 of the loopback (discard): the connection is refused.
    let e = rekam_sync::identity("http://127.0.0.1:9", None).unwrap_err();
    assert_eq!(e.code(), "LINK_DOWN", "{e}");
    // https without the pinned certificate is refused before connecting.
    let e = rekam_sync::identity("https://127.0.0.1:9", None).unwrap_err();
    assert_eq!(e.code(), "PROTOCOL", "{e}");
}
