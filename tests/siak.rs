//! SIAK at the counter through `rekam::siak::HttpPopulation`: whatever happens on the link, a
//! NIK reaches neither the log nor the operator's message whole. The HTTP client's own error
//! text names the request's URL, and the URL carries the NIK; a regression here puts full NIKs
//! into every station's log each time SIAK is down.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use rekam::domain::nik::Nik;
use rekam::i18n::{Lang, Localized};
use rekam::siak::HttpPopulation;
use rekam::workflow::Population;
use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NIK: &str = "3273014101900001";

/// Everything the subscriber writes, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// Looks `NIK` up at `base` with every log line captured; the error and the log's text.
fn lookup_failing(base: &str) -> (rekam::Error, String) {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let nik = Nik::parse(NIK).unwrap();
    let err = tracing::subscriber::with_default(subscriber, || {
        HttpPopulation::new(base, Duration::from_secs(2))
            .unwrap()
            .lookup(&nik)
            .unwrap_err()
    });
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    (err, text)
}

fn assert_no_full_nik(err: &rekam::Error, log: &str) {
    let masked = Nik::parse(NIK).unwrap().masked();
    assert!(log.contains("SIAK did not answer"), "nothing logged: {log}");
    assert!(
        log.contains(masked.as_str()),
        "the masked NIK is not in the log: {log}"
    );
    assert!(!log.contains(NIK), "a full NIK in the log: {log}");
    for lang in [Lang::Id, Lang::En] {
        let message = err.localized(lang);
        assert!(
            !message.contains(NIK),
            "a full NIK in the message: {message}"
        );
    }
    assert!(!format!("{err} {err:?}").contains(NIK));
    assert_eq!(err.code(), "SIAK_UNAVAILABLE");
}

#[test]
fn siak_refusing_connections_logs_no_full_nik() {
    // A port nothing listens on: bound, then released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (err, log) = lookup_failing(&format!("http://127.0.0.1:{port}"));
    assert_no_full_nik(&err, &log);
    assert!(log.contains("no connection"), "{log}");
}

#[test]
fn siak_that_never_answers_logs_no_full_nik() {
    // Accepts the connection and says nothing until the client gives up.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        drop(stream);
    });
    let (err, log) = lookup_failing(&format!("http://127.0.0.1:{port}"));
    held.join().unwrap();
    assert_no_full_nik(&err, &log);
    assert!(log.contains("timeout"), "{log}");
}
