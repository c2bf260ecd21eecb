//! The kecamatan server's library on both of its storage adapters, the same suite each: the
//! embedded SQLCipher file and a real PostgreSQL server on a private port. Then its HTTP API's
//! refusals, through the real server.

#![allow(clippy::unwrap_used)]

use rekam::clock::SystemClock;
use rekam_bio::finger::record_of;
use rekam_bio::index::codes_to_bytes;
use rekam_bio::person::{PersonTemplate, codes, irises_to_bytes};
use rekam_bio::testing::random_finger;
use rekam_hub::{Config, Database, Hub};
use rekam_packet::StationKey;
use rekam_packet::envelope::PacketId;
use rekam_packet::hub::{AfisAnswer, AfisProbe, HubEnrollment, Templates};
use rekam_packet::protocol::{Registration, RequestAuth, body_hash, header};
use rekam_sim::pg::TestPostgres;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Person `n`: ten fingers of 40 minutiae, no irises.
fn person(n: u64) -> PersonTemplate {
    PersonTemplate::from_fingers((1..=10).map(|f| random_finger(n * 100 + u64::from(f), 40, f)))
}

fn templates(p: &PersonTemplate) -> Templates {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let fingers: Vec<_> = p.fingers.iter().flatten().cloned().collect();
    Templates {
        codes: b64(&codes_to_bytes(&codes(p))),
        minutiae: b64(&record_of(&fingers).unwrap()),
        irises: b64(&irises_to_bytes(&p.irises)),
    }
}

fn probe(p: &PersonTemplate, queue: &str) -> AfisProbe {
    AfisProbe {
        queue_number: queue.into(),
        masked_nik: "327301********01".into(),
        templates: templates(p),
    }
}

fn enrollment(station: &str, p: &PersonTemplate, claim: Option<String>) -> HubEnrollment {
    HubEnrollment {
        claim,
        packet_id: PacketId::for_station(station).unwrap().to_string(),
        masked_nik: "327301********01".into(),
        recorded_at: "2026-12-07T08:00:00Z".into(),
        checked_at_hub: None,
        templates: templates(p),
    }
}

fn init(dir: &Path) -> std::path::PathBuf {
    let hub_dir = dir.join("hub");
    rekam_hub::init(&hub_dir, "HUB-327301", "327301", &["127.0.0.1".into()]).unwrap();
    hub_dir
}

fn register(hub: &Hub, station: &str) -> StationKey {
    let key = StationKey::generate().unwrap();
    let token = hub.issue_token(station).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    hub.register(&Registration::new(&key, station, "327301", &token, now))
        .unwrap();
    key
}

fn code<T: std::fmt::Debug>(r: Result<T, rekam_hub::api::Refusal>) -> &'static str {
    r.unwrap_err().code
}

/// What every adapter must do, through the hub's library; the packet id of the first
/// recording enrolled (stored as it is, for the caller's check that it sees what reached disk).
fn suite(cfg: Config, leaks: impl Fn(&[u8]) -> bool) -> String {
    let hub = Hub::open(cfg.clone(), Arc::new(SystemClock)).unwrap();
    let _k1 = register(&hub, "KEC-A-01");
    let _k2 = register(&hub, "KEC-B-01");
    // A token registers once.
    let token = hub.issue_token("KEC-C-01").unwrap();
    let key = StationKey::generate().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let reg = Registration::new(&key, "KEC-C-01", "327301", &token, now);
    hub.register(&reg).unwrap();
    assert_eq!(code(hub.register(&reg)), "TOKEN_INVALID");
    let other = Registration::new(&key, "KEC-D-01", "327301", &token, now);
    assert_eq!(code(hub.register(&other)), "TOKEN_INVALID");
    let token = hub.issue_token("KEC-E-01").unwrap();
    let foreign = Registration::new(&key, "KEC-E-01", "327302", &token, now);
    assert_eq!(code(hub.register(&foreign)), "WRONG_KECAMATAN");

    // A clear check claims the person: another counter is refused while the first records,
    // the first counter itself is not (its own earlier attempt).
    let p = person(1);
    let AfisAnswer::Clear { claim, .. } = hub.check("KEC-A-01", &probe(&p, "A-001")).unwrap()
    else {
        panic!("an empty kecamatan has nobody to match");
    };
    match hub.check("KEC-B-01", &probe(&p, "A-007")).unwrap() {
        AfisAnswer::Duplicate(m) => {
            assert_eq!(m.station_id, "KEC-A-01");
            assert_eq!(
                (m.packet_id, m.queue_number.as_deref()),
                (None, Some("A-001"))
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        hub.check("KEC-A-01", &probe(&p, "A-002")).unwrap(),
        AfisAnswer::Clear { .. }
    ));
    // Someone else is clear.
    assert!(matches!(
        hub.check("KEC-B-01", &probe(&person(2), "A-008")).unwrap(),
        AfisAnswer::Clear { .. }
    ));

    // The seal enrolls it once, whatever the retries.
    let first = enrollment("KEC-A-01", &p, Some(claim));
    let enrolled = hub.enroll("KEC-A-01", &first).unwrap();
    assert_eq!(enrolled.conflict, None);
    assert_eq!(hub.enroll("KEC-A-01", &first).unwrap(), enrolled);
    assert_eq!(code(hub.enroll("KEC-B-01", &first)), "PACKET_ID_NOT_YOURS");
    let mut stolen = enrollment("KEC-A-01", &person(3), None);
    assert_eq!(code(hub.enroll("KEC-B-01", &stolen)), "PACKET_ID_NOT_YOURS");
    stolen.templates.minutiae = "AAAA".into();
    assert_eq!(code(hub.enroll("KEC-A-01", &stolen)), "TEMPLATE_INVALID");

    // B recorded the same person while out of reach: enrolled, with the conflict, for both.
    let late = enrollment("KEC-B-01", &p, None);
    let answer = hub.enroll("KEC-B-01", &late).unwrap();
    let conflict = answer.conflict.clone().unwrap();
    assert_eq!(conflict.packet_id, late.packet_id);
    assert_eq!(
        conflict.earlier.packet_id.as_deref(),
        Some(first.packet_id.as_str())
    );
    assert_eq!(
        hub.enroll("KEC-B-01", &late).unwrap(),
        answer,
        "the same answer again"
    );
    assert_eq!(
        hub.conflicts("KEC-A-01", 0).unwrap(),
        vec![conflict.clone()]
    );
    assert_eq!(
        hub.conflicts("KEC-B-01", 0).unwrap(),
        vec![conflict.clone()]
    );
    assert!(hub.conflicts("KEC-B-01", conflict.id).unwrap().is_empty());
    assert!(hub.conflicts("KEC-C-01", 0).unwrap().is_empty());

    // One queue a day for the kecamatan, across counters.
    let numbers: Vec<i64> = ["KEC-A-01", "KEC-B-01", "KEC-A-01"]
        .iter()
        .map(|s| hub.ticket(s, "2026-12-07").unwrap().number)
        .collect();
    assert_eq!(numbers, vec![1, 2, 3]);
    assert_eq!(hub.ticket("KEC-B-01", "2026-12-08").unwrap().number, 1);
    assert_eq!(code(hub.ticket("KEC-B-01", "7 Dec")), "BAD_REQUEST");

    // The gallery a counter copies: the others' enrolled recordings (never a claim), in the
    // order the hub enrolled them, from a cursor.
    let page = hub.gallery_page("KEC-C-01", 0).unwrap();
    let ids: Vec<&str> = page.records.iter().map(|r| r.packet_id.as_str()).collect();
    assert_eq!(ids, vec![first.packet_id.as_str(), late.packet_id.as_str()]);
    assert!(!page.more);
    let mine = hub.gallery_page("KEC-A-01", 0).unwrap();
    assert_eq!(
        mine.records.len(),
        1,
        "a counter's own recordings are not in its copy"
    );
    let after = hub.gallery_page("KEC-C-01", page.records[0].seq).unwrap();
    assert_eq!(after.records.len(), 1);
    assert_eq!(after.records[0].templates, page.records[1].templates);

    // A population extract is kept whole, a base replacing what came before.
    let extract = |sequence: u64, base: bool| rekam_hub::store::ExtractRow {
        sequence,
        base,
        as_of: "2026-12-01T00:00:00Z".into(),
        entries: 1,
    };
    let biodata = b"NAMA LENGKAP PENDUDUK RAHASIA 3273014101900001";
    let store = hub.store();
    for (sequence, base) in [(1, true), (2, false), (3, true), (4, false)] {
        store
            .keep_extract(&rekam_hub::store::NewExtract {
                row: extract(sequence, base),
                file: biodata,
                now: 1,
            })
            .unwrap();
    }
    let held: Vec<u64> = store
        .extracts()
        .unwrap()
        .iter()
        .map(|e| e.sequence)
        .collect();
    assert_eq!(held, [3, 4], "the base 3 replaced 1 and its delta");
    assert_eq!(
        store.extract_file(4).unwrap().as_deref(),
        Some(&biodata[..])
    );
    assert_eq!(store.extract_file(1).unwrap(), None);

    // Nothing personal in clear where the adapter writes.
    let fingers: Vec<_> = p.fingers.iter().flatten().cloned().collect();
    let minutiae = record_of(&fingers).unwrap();
    assert!(
        !leaks(&minutiae[minutiae.len() - 64..]),
        "a template in clear on disk"
    );
    assert!(!leaks(biodata), "an extract in clear on disk");

    // Reopened (a restart), the gallery is whole: a third counter is refused.
    drop(hub);
    let hub = Hub::open(cfg.clone(), Arc::new(SystemClock)).unwrap();
    match hub.check("KEC-C-01", &probe(&p, "A-003")).unwrap() {
        AfisAnswer::Duplicate(m) => assert_eq!(m.station_id, "KEC-A-01"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        hub.store()
            .stations()
            .unwrap()
            .iter()
            .map(|s| s.enrolled)
            .collect::<Vec<_>>(),
        vec![1, 1, 0]
    );

    // The data center's results are kept once each, in feed order, and read per counter.
    let row = |cursor: i64, station: &str| rekam_hub::store::ResultRow {
        cursor,
        station_id: station.into(),
        event: format!("{{\"cursor\":{cursor}}}"),
    };
    let store = hub.store();
    assert_eq!(store.results_cursor().unwrap(), 0);
    store
        .keep_results(&[row(3, "KEC-A-01"), row(5, "KEC-B-01"), row(8, "KEC-A-01")])
        .unwrap();
    // A page read again after a kill is kept once.
    store.keep_results(&[row(8, "KEC-A-01")]).unwrap();
    assert_eq!(store.results_cursor().unwrap(), 8);
    let cursors = |station: &str, after: i64| -> Vec<i64> {
        store
            .results_for(station, after, 10)
            .unwrap()
            .iter()
            .map(|r| r.cursor)
            .collect()
    };
    assert_eq!(cursors("KEC-A-01", 0), [3, 8]);
    assert_eq!(cursors("KEC-A-01", 3), [8]);
    assert_eq!(cursors("KEC-B-01", 0), [5]);
    assert!(cursors("KEC-C-01", 0).is_empty());

    // A counter's day replaces its earlier report of that day, and is read back by day.
    store.report_day("KEC-A-01", "2026-12-07", "{}", 1).unwrap();
    store
        .report_day("KEC-A-01", "2026-12-07", "{\"later\":1}", 2)
        .unwrap();
    store.report_day("KEC-B-01", "2026-12-06", "{}", 2).unwrap();
    assert_eq!(
        store.days("2026-12-07").unwrap(),
        [("KEC-A-01".to_owned(), "{\"later\":1}".to_owned())]
    );

    // A packet held is forwarded once; left again after it was forwarded (the data center
    // failed it and asked for it again) it is forwarded again; another counter cannot.
    let due = |store: &dyn rekam_hub::store::HubStore| {
        store
            .relay_due(10)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    };
    assert!(store.hold("P-HELD", "KEC-A-01", b"sealed", 1).unwrap());
    assert!(!store.hold("P-HELD", "KEC-A-01", b"sealed", 2).unwrap());
    assert_eq!(due(store), ["P-HELD"]);
    store.relayed("P-HELD", "{}", 3).unwrap();
    assert!(due(store).is_empty());
    assert!(!store.hold("P-HELD", "KEC-B-01", b"other", 4).unwrap());
    assert!(
        store
            .relay_state("P-HELD")
            .unwrap()
            .unwrap()
            .receipt
            .is_some()
    );
    assert!(store.hold("P-HELD", "KEC-A-01", b"sealed", 5).unwrap());
    assert_eq!(due(store), ["P-HELD"]);
    let held = store.relay_state("P-HELD").unwrap().unwrap();
    assert_eq!((held.station_id.as_str(), held.receipt), ("KEC-A-01", None));

    // A reissue request is its counter's: held once, due until answered, kept after.
    let reissues_due = |store: &dyn rekam_hub::store::HubStore| {
        store
            .reissues_due(10)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    };
    let dc = rekam_packet::DcKeys::generate()
        .unwrap()
        .identity("DC-TEST", None);
    let mine = rekam_packet::reissue::RelayedReissue::new(
        &StationKey::generate().unwrap(),
        &dc,
        "KEC-A-01",
        "R-MINE",
        b"{}",
    )
    .unwrap();
    assert!(hub.hold_reissue("KEC-A-01", "R-MINE", &mine).is_ok());
    assert_eq!(
        code(hub.hold_reissue("KEC-B-01", "R-MINE", &mine)),
        "REQUEST_NOT_YOURS"
    );
    let taken = rekam_packet::reissue::RelayedReissue {
        station_id: "KEC-B-01".into(),
        ..mine.clone()
    };
    assert_eq!(
        code(hub.hold_reissue("KEC-B-01", "R-MINE", &taken)),
        "REQUEST_ID_TAKEN"
    );
    assert!(store.hold_reissue("R-HELD", "KEC-A-01", "{}", 1).unwrap());
    assert!(!store.hold_reissue("R-HELD", "KEC-B-01", "{}", 2).unwrap());
    assert_eq!(reissues_due(store), ["R-HELD", "R-MINE"], "oldest first");
    store.reissue_relay_failed("R-HELD", "TRANSPORT").unwrap();
    let held = store.reissue_relay_state("R-HELD").unwrap().unwrap();
    assert_eq!(
        (held.station_id.as_str(), held.last_error.as_deref()),
        ("KEC-A-01", Some("TRANSPORT"))
    );
    store
        .reissue_relayed("R-HELD", "{\"answer\":1}", 3)
        .unwrap();
    assert_eq!(reissues_due(store), ["R-MINE"]);
    assert!(!store.hold_reissue("R-HELD", "KEC-A-01", "{}", 4).unwrap());
    let held = store.reissue_relay_state("R-HELD").unwrap().unwrap();
    assert_eq!(
        (held.answer.as_deref(), held.last_error),
        (Some("{\"answer\":1}"), None)
    );

    // A claim whose time ran out no longer holds the person.
    drop(hub);
    let short = Config {
        claim_lifetime: Duration::ZERO,
        ..cfg
    };
    let hub = Hub::open(short, Arc::new(SystemClock)).unwrap();
    let q = person(4);
    assert!(matches!(
        hub.check("KEC-A-01", &probe(&q, "A-004")).unwrap(),
        AfisAnswer::Clear { .. }
    ));
    std::thread::sleep(Duration::from_millis(1100));
    hub.tidy().unwrap();
    assert!(matches!(
        hub.check("KEC-B-01", &probe(&q, "A-009")).unwrap(),
        AfisAnswer::Clear { .. }
    ));
    first.packet_id
}

/// Whether `needle` is in any file under `dir`.
fn on_disk(dir: &Path, needle: &[u8]) -> bool {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .any(|e| {
            std::fs::read(e.path())
                .map(|b| b.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
}

#[test]
fn the_embedded_adapter_keeps_the_hubs_promises() {
    let dir = tempfile::tempdir().unwrap();
    let hub_dir = init(dir.path());
    let packet_id = suite(Config::new(&hub_dir), |needle| on_disk(&hub_dir, needle));
    assert!(
        !on_disk(&hub_dir, packet_id.as_bytes()),
        "SQLCipher encrypts every page"
    );
}

#[test]
fn the_postgres_adapter_keeps_the_hubs_promises() {
    let pg = TestPostgres::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hub_dir = init(dir.path());
    let cfg = Config {
        database: Database::Postgres(pg.database("hub").unwrap()),
        ..Config::new(&hub_dir)
    };
    let data = pg.data_dir();
    let packet_id = suite(cfg, |needle| on_disk(&data, needle));
    // The search sees what PostgreSQL wrote (its log and pages): a packet id, kept in clear
    // to be found, is there; the templates were not.
    assert!(on_disk(&data, packet_id.as_bytes()));
}

#[test]
fn postgres_restarting_under_the_hub_loses_nothing_and_one_hub_serves_a_database() {
    let pg = TestPostgres::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hub_dir = init(dir.path());
    let cfg = Config {
        database: Database::Postgres(pg.database("hub").unwrap()),
        ..Config::new(&hub_dir)
    };
    let hub = Hub::open(cfg.clone(), Arc::new(SystemClock)).unwrap();
    let _serving = hub.clone().spawn("127.0.0.1:0").unwrap();
    // An administrator's second process opens the database beside it; a second server does not.
    let second = Hub::open(cfg.clone(), Arc::new(SystemClock)).unwrap();
    assert!(second.store().stations().is_ok());
    let e = second.spawn("127.0.0.1:0").unwrap_err();
    assert!(
        e.to_string().contains("one hub process per database"),
        "{e}"
    );
    register(&hub, "KEC-A-01");
    let p = person(5);
    let AfisAnswer::Clear { claim, .. } = hub.check("KEC-A-01", &probe(&p, "A-001")).unwrap()
    else {
        panic!()
    };
    pg.restart().unwrap();
    // The call that meets the broken connection fails as the hub being unavailable (the
    // counter tries again); the next one reconnects.
    let e = enrollment("KEC-A-01", &p, Some(claim));
    let first = hub.enroll("KEC-A-01", &e);
    let enrolled = match first {
        Ok(x) => x,
        Err(refusal) => {
            assert_eq!(refusal.code, "HUB_UNAVAILABLE");
            hub.enroll("KEC-A-01", &e).unwrap()
        }
    };
    assert_eq!(hub.enroll("KEC-A-01", &e).unwrap(), enrolled);
    assert_eq!(hub.store().stations().unwrap()[0].enrolled, 1);
}

/// A check request of KEC-A-01 signed with `key`: its headers and body.
fn signed_parts(key: &StationKey, nonce: &str, body: &[u8]) -> (RequestAuth, Vec<u8>) {
    signed_as("KEC-A-01", key, nonce, body)
}

fn signed_as(station: &str, key: &StationKey, nonce: &str, body: &[u8]) -> (RequestAuth, Vec<u8>) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let a = RequestAuth::sign(
        key,
        station,
        "POST",
        "/v1/afis/check",
        now,
        nonce,
        &body_hash(body),
    );
    (a, body.to_vec())
}

fn send(
    http: &reqwest::blocking::Client,
    url: &str,
    (a, body): (RequestAuth, Vec<u8>),
) -> reqwest::blocking::Response {
    http.post(format!("{url}/v1/afis/check"))
        .header(header::STATION, &a.station_id)
        .header(header::KEY, a.key.to_string())
        .header(header::TIME, a.time.to_string())
        .header(header::NONCE, a.nonce)
        .header(header::SIGNATURE, a.signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .unwrap()
}

/// A signed request as a counter sends it; `nonce` chosen by the test.
fn signed(
    http: &reqwest::blocking::Client,
    url: &str,
    station: &str,
    key: &StationKey,
    nonce: &str,
    body: &[u8],
) -> reqwest::blocking::Response {
    send(http, url, signed_as(station, key, nonce, body))
}

fn refused(r: reqwest::blocking::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[test]
fn the_hub_refuses_strangers_forgeries_replays_and_garbage_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let hub_dir = init(dir.path());
    let hub = Hub::open(
        Config {
            tls: false,
            ..Config::new(&hub_dir)
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let key = register(&hub, "KEC-A-01");
    let running = hub.clone().spawn("127.0.0.1:0").unwrap();
    let url = format!("http://{}", running.addr);
    let http = reqwest::blocking::Client::new();
    let body = serde_json::to_vec(&probe(&person(1), "A-001")).unwrap();

    let stranger = StationKey::generate().unwrap();
    let r = signed(
        &http,
        &url,
        "KEC-X-01",
        &stranger,
        "0000000000000001",
        &body,
    );
    assert_eq!(refused(r), (401, "STATION_UNKNOWN".into()));
    let r = signed(
        &http,
        &url,
        "KEC-A-01",
        &stranger,
        "0000000000000002",
        &body,
    );
    assert_eq!(
        refused(r),
        (401, "STATION_UNKNOWN".into()),
        "a key the station never registered"
    );
    let r = http
        .post(format!("{url}/v1/afis/check"))
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(refused(r), (401, "AUTH_MISSING".into()));

    let mut forged = signed_parts(&key, "0000000000000009", &body);
    forged.1 = b"{}".to_vec();
    assert_eq!(
        refused(send(&http, &url, forged)),
        (401, "BAD_SIGNATURE".into())
    );
    let r = signed(&http, &url, "KEC-A-01", &key, "0000000000000003", &body);
    assert_eq!(r.status().as_u16(), 200);
    let r = signed(&http, &url, "KEC-A-01", &key, "0000000000000003", &body);
    assert_eq!(refused(r), (401, "REQUEST_REPLAYED".into()));

    let garbage = br#"{"queue_number":"A-1","masked_nik":"x","templates":{"codes":"AA==","minutiae":"AA==","irises":"AA=="}}"#;
    let r = signed(&http, &url, "KEC-A-01", &key, "0000000000000004", garbage);
    assert_eq!(refused(r), (422, "TEMPLATE_INVALID".into()));
    let r = signed(
        &http,
        &url,
        "KEC-A-01",
        &key,
        "0000000000000005",
        b"{not json",
    );
    assert_eq!(refused(r), (400, "BAD_REQUEST".into()));
    running.stop();
}

/// A database a newer `rekam-hub` wrote is refused by name on both adapters, before anything
/// is read or written: an older build never works on tables it does not know.
#[test]
fn a_database_written_by_a_newer_hub_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hub_dir = init(dir.path());
    let refused = |cfg: Config| {
        let e = Hub::open(cfg, Arc::new(SystemClock)).unwrap_err();
        assert_eq!(e.code(), "HUB_SCHEMA_NEWER", "{e}");
        assert!(e.to_string().contains("schema 99"), "{e}");
    };

    drop(Hub::open(Config::new(&hub_dir), Arc::new(SystemClock)).unwrap());
    let key = std::fs::read_to_string(rekam_hub::paths::store_key(&hub_dir)).unwrap();
    let conn = rusqlite::Connection::open(rekam_hub::paths::db(&hub_dir)).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; PRAGMA user_version = 99;",
        key.trim()
    ))
    .unwrap();
    drop(conn);
    refused(Config::new(&hub_dir));

    let pg = TestPostgres::start().unwrap();
    let url = pg.database("hub").unwrap();
    let cfg = Config {
        database: Database::Postgres(url.clone()),
        ..Config::new(&hub_dir)
    };
    drop(Hub::open(cfg.clone(), Arc::new(SystemClock)).unwrap());
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert_eq!(
        c.execute("UPDATE hub_schema SET version = 99", &[])
            .unwrap(),
        1,
        "one version row"
    );
    drop(c);
    refused(cfg);
}
