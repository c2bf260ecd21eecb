//! The kecamatan server's PostgreSQL adapter (the SOP's "Server untuk Database dan AFIS").
//!
//! PostgreSQL writes its pages in clear, so what is personal never reaches it in clear: the
//! templates (screening codes, minutiae, iris codes) are sealed with XChaCha20-Poly1305 under
//! the hub's template key (`keys/hub-templates.key`, beside the hub, never in the database),
//! bound to their column and row kind. Masked NIKs, station ids, packet ids and times are what
//! the hub needs to find and show, and are stored as they are.
//!
//! One serving hub per database: the serving process holds a session advisory lock for as long
//! as it is connected, since the gallery's lock (a check and its claim) lives in that process;
//! the administrator's commands (tokens, lists) work beside it. A
//! connection that broke (PostgreSQL restarted) is opened again at the next call; the call that
//! met the break fails and the counter retries.

use crate::store::{
    ConflictRow, ExtractRow, HeldPacket, HubStore, NewClaim, NewEnrollment, NewExtract, NewStation,
    Record, Registered, ReissueRelayRow, RelayRow, ResultRow, StationRow, Templates,
};
use crate::{HubError, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use zeroize::Zeroizing;

/// The advisory lock a hub holds on its database (an arbitrary constant: "REKAMHUB").
const HUB_LOCK: i64 = 0x5245_4b41_4d48_5542;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS token (
    token      TEXT PRIMARY KEY,
    station_id TEXT NOT NULL,
    issued_at  BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE TABLE IF NOT EXISTS station (
    station_id    TEXT PRIMARY KEY,
    registered_at BIGINT NOT NULL,
    last_contact  BIGINT
);
CREATE TABLE IF NOT EXISTS counter_backlog (
    station_id TEXT NOT NULL REFERENCES station (station_id),
    packet_id  TEXT NOT NULL,
    record     TEXT NOT NULL,
    PRIMARY KEY (station_id, packet_id)
);
CREATE TABLE IF NOT EXISTS station_key (
    key_id     TEXT PRIMARY KEY,
    station_id TEXT NOT NULL REFERENCES station (station_id),
    public_key TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS request_nonce (
    station_id TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    time       BIGINT NOT NULL,
    PRIMARY KEY (station_id, nonce)
);
CREATE TABLE IF NOT EXISTS record (
    id             BIGSERIAL PRIMARY KEY,
    station_id     TEXT NOT NULL REFERENCES station (station_id),
    masked_nik     TEXT NOT NULL,
    claim          TEXT UNIQUE,
    queue_number   TEXT,
    packet_id      TEXT UNIQUE,
    expires_at     BIGINT,
    at             TEXT NOT NULL,
    checked_at_hub TEXT,
    enrolled_at    BIGINT,
    enrolled_seq   BIGINT UNIQUE,
    codes          BYTEA NOT NULL,
    minutiae       BYTEA NOT NULL,
    irises         BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS conflict (
    id       BIGSERIAL PRIMARY KEY,
    later    BIGINT NOT NULL UNIQUE REFERENCES record (id),
    earlier  BIGINT NOT NULL REFERENCES record (id),
    matching SMALLINT NOT NULL,
    compared SMALLINT NOT NULL,
    found_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS conflict_earlier ON conflict (earlier);
CREATE TABLE IF NOT EXISTS relay (
    packet_id    TEXT PRIMARY KEY,
    station_id   TEXT NOT NULL REFERENCES station (station_id),
    sealed       BYTEA NOT NULL,
    received_at  BIGINT NOT NULL,
    receipt      TEXT,
    forwarded_at BIGINT,
    last_error   TEXT
);
CREATE TABLE IF NOT EXISTS queue_ticket (
    day        TEXT NOT NULL,
    number     BIGINT NOT NULL,
    station_id TEXT NOT NULL,
    issued_at  BIGINT NOT NULL,
    PRIMARY KEY (day, number)
);
CREATE INDEX IF NOT EXISTS record_station ON record (station_id);
-- The data center's result feed for the kecamatan's counters, as it signed it.
CREATE TABLE IF NOT EXISTS dc_result (
    cursor     BIGINT PRIMARY KEY,
    station_id TEXT NOT NULL,
    event      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dc_result_station ON dc_result (station_id, cursor);
-- The Dinas's population extracts for the counters: the base and its deltas, as signed.
CREATE TABLE IF NOT EXISTS population_extract (
    sequence    BIGINT PRIMARY KEY,
    base        BOOLEAN NOT NULL,
    as_of       TEXT NOT NULL,
    entries     BIGINT NOT NULL,
    file        BYTEA NOT NULL,
    imported_at BIGINT NOT NULL
);
-- What each counter reported of its day, for the kecamatan's daily report.
CREATE TABLE IF NOT EXISTS counter_day (
    station_id  TEXT NOT NULL REFERENCES station (station_id),
    day         TEXT NOT NULL,
    report      TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    PRIMARY KEY (station_id, day)
);
-- Reissue requests the counters left for the data center, sealed to it (issue 27).
CREATE TABLE IF NOT EXISTS reissue_relay (
    request_id   TEXT PRIMARY KEY,
    station_id   TEXT NOT NULL REFERENCES station (station_id),
    relayed      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    answer       TEXT,
    forwarded_at BIGINT,
    last_error   TEXT
);
"#;

const RECORD: &str = "id, station_id, masked_nik, claim, queue_number, packet_id, expires_at, at, \
                      codes, minutiae, irises";

/// The hub's PostgreSQL database.
pub struct PgStore {
    url: String,
    key: Zeroizing<[u8; 32]>,
    client: Mutex<Option<Client>>,
    /// Whether this process serves (and so holds the hub's lock on the database).
    serving: AtomicBool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.write_str("PgStore")
    }
}

fn db_error(e: postgres::Error) -> HubError {
    if e.code() == Some(&postgres::error::SqlState::DISK_FULL) {
        return HubError::DiskFull(e.to_string());
    }
    HubError::Database(e.to_string())
}

impl From<postgres::Error> for HubError {
    fn from(e: postgres::Error) -> Self {
        db_error(e)
    }
}

impl PgStore {
    /// Connects to `url` (a libpq connection string or URL) and creates what is missing;
    /// `key` seals the templates.
    pub fn open(url: &str, key: &[u8; 32]) -> Result<PgStore> {
        let store = PgStore {
            url: url.to_owned(),
            key: Zeroizing::new(*key),
            client: Mutex::new(None),
            serving: AtomicBool::new(false),
        };
        drop(store.db()?);
        Ok(store)
    }

    fn connect(&self) -> Result<Client> {
        let mut client = Client::connect(&self.url, NoTls)?;
        if self.serving.load(Ordering::SeqCst) {
            lock(&mut client)?;
        }
        let mut tx = client.transaction()?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS hub_schema (version BIGINT NOT NULL)")?;
        let found: Option<i64> = tx
            .query_one("SELECT max(version) FROM hub_schema", &[])?
            .get(0);
        crate::store::check_schema(found.unwrap_or(0))?;
        tx.batch_execute(SCHEMA)?;
        if found != Some(crate::store::SCHEMA_VERSION) {
            tx.execute("DELETE FROM hub_schema", &[])?;
            tx.execute(
                "INSERT INTO hub_schema (version) VALUES ($1)",
                &[&crate::store::SCHEMA_VERSION],
            )?;
        }
        tx.commit()?;
        Ok(client)
    }

    /// The connection, opened again if it broke.
    fn db(&self) -> Result<PgGuard<'_>> {
        let mut guard = self.client.lock().unwrap_or_else(|e| e.into_inner());
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(self.connect()?);
        }
        Ok(PgGuard(guard))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.key.as_ref().into())
    }

    fn seal(&self, column: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| HubError::NoRandomness(e.to_string()))?;
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: column.as_bytes(),
                },
            )
            .map_err(|_| HubError::Database("sealing a template failed".into()))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    fn open_sealed(&self, id: i64, column: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < 24 {
            return Err(HubError::Damaged(id));
        }
        let (nonce, body) = sealed.split_at(24);
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: column.as_bytes(),
                },
            )
            .map_err(|_| HubError::Damaged(id))
    }

    fn sealed(&self, t: &Templates) -> Result<[Vec<u8>; 3]> {
        Ok([
            self.seal("codes", &t.codes)?,
            self.seal("minutiae", &t.minutiae)?,
            self.seal("irises", &t.irises)?,
        ])
    }

    fn record(&self, r: &postgres::Row) -> Result<Record> {
        let id: i64 = r.get(0);
        Ok(Record {
            id,
            station_id: r.get(1),
            masked_nik: r.get(2),
            claim: r.get(3),
            queue_number: r.get(4),
            packet_id: r.get(5),
            expires_at: r.get(6),
            at: r.get(7),
            codes: self.open_sealed(id, "codes", r.get(8))?,
            minutiae: self.open_sealed(id, "minutiae", r.get(9))?,
            irises: self.open_sealed(id, "irises", r.get(10))?,
        })
    }

    fn one_record(
        &self,
        c: &mut Client,
        filter: &str,
        arg: &(dyn postgres::types::ToSql + Sync),
    ) -> Result<Option<Record>> {
        c.query_opt(
            &format!("SELECT {RECORD} FROM record WHERE {filter}"),
            &[arg],
        )?
        .map(|r| self.record(&r))
        .transpose()
    }

    fn conflict_rows(&self, c: &mut Client, rows: Vec<postgres::Row>) -> Result<Vec<ConflictRow>> {
        rows.into_iter()
            .map(|r| {
                let (later, earlier): (i64, i64) = (r.get(1), r.get(2));
                let missing = |id| {
                    HubError::Database(format!(
                        "conflict {} names no record {id}",
                        r.get::<_, i64>(0)
                    ))
                };
                Ok(ConflictRow {
                    id: r.get(0),
                    later: self
                        .one_record(c, "id = $1", &later)?
                        .ok_or_else(|| missing(later))?,
                    earlier: self
                        .one_record(c, "id = $1", &earlier)?
                        .ok_or_else(|| missing(earlier))?,
                    matching: u8::try_from(r.get::<_, i16>(3)).unwrap_or(0),
                    compared: u8::try_from(r.get::<_, i16>(4)).unwrap_or(0),
                    found_at: r.get(5),
                })
            })
            .collect()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // postgres's client blocks on a runtime of its own when it closes: never inside
        // another (the hub's server drops its store on its runtime's thread).
        let client = self
            .client
            .get_mut()
            .map_or_else(|e| e.into_inner().take(), Option::take);
        if let Some(c) = client
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let _ = std::thread::spawn(move || drop(c)).join();
        }
    }
}

/// Takes the serving hub's session lock on the database, or says who holds it.
/// How long a starting hub waits for the serving lock a dead predecessor's session holds.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn lock(client: &mut Client) -> Result<()> {
    let locked: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&HUB_LOCK])?
        .get(0);
    if !locked {
        return Err(HubError::Database(
            "another kecamatan server serves from this database: run one hub process per database"
                .into(),
        ));
    }
    Ok(())
}

/// The locked connection.
struct PgGuard<'a>(MutexGuard<'a, Option<Client>>);

impl std::ops::Deref for PgGuard<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        // `db` leaves a client in place before it hands out a guard.
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("a guard always holds a client"))
    }
}

impl std::ops::DerefMut for PgGuard<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.0
            .as_mut()
            .unwrap_or_else(|| unreachable!("a guard always holds a client"))
    }
}

impl HubStore for PgStore {
    fn serve_exclusively(&self) -> Result<()> {
        let mut c = self.db()?;
        // A hub restarted right after it died (SIGKILL, a supervisor's restart) may find its
        // old session still holding the lock for a moment, until PostgreSQL sees the
        // connection gone: wait for that, not for a second hub that really serves.
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match lock(&mut c) {
                Ok(()) => break,
                Err(e) if std::time::Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
            }
        }
        self.serving.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn issue_token(&self, token: &str, station_id: &str, now: i64) -> Result<()> {
        self.db()?.execute(
            "INSERT INTO token (token, station_id, issued_at) VALUES ($1, $2, $3)",
            &[&token, &station_id, &now],
        )?;
        Ok(())
    }

    fn register(&self, s: &NewStation<'_>) -> Result<Registered> {
        let mut c = self.db()?;
        let mut tx = c.transaction()?;
        let token = tx.query_opt(
            "SELECT station_id, used_at, issued_at FROM token WHERE token = $1 FOR UPDATE",
            &[&s.token],
        )?;
        match token.map(|r| {
            (
                r.get::<_, String>(0),
                r.get::<_, Option<i64>>(1),
                r.get::<_, i64>(2),
            )
        }) {
            Some((station, None, issued)) if station == s.station_id => {
                if issued < s.issued_after {
                    return Ok(Registered::TokenExpired);
                }
            }
            _ => return Ok(Registered::TokenInvalid),
        }
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM station WHERE station_id = $1)",
                &[&s.station_id],
            )?
            .get(0);
        if exists {
            return Ok(Registered::StationExists);
        }
        tx.execute(
            "UPDATE token SET used_at = $1 WHERE token = $2",
            &[&s.now, &s.token],
        )?;
        tx.execute(
            "INSERT INTO station (station_id, registered_at) VALUES ($1, $2)",
            &[&s.station_id, &s.now],
        )?;
        tx.execute(
            "INSERT INTO station_key (key_id, station_id, public_key) VALUES ($1, $2, $3)",
            &[&s.key_id, &s.station_id, &s.public_key],
        )?;
        tx.commit()?;
        Ok(Registered::Done)
    }

    fn station_key(&self, station_id: &str, key_id: &str) -> Result<Option<String>> {
        Ok(self
            .db()?
            .query_opt(
                "SELECT public_key FROM station_key WHERE station_id = $1 AND key_id = $2",
                &[&station_id, &key_id],
            )?
            .map(|r| r.get(0)))
    }

    fn stations(&self) -> Result<Vec<StationRow>> {
        Ok(self
            .db()?
            .query(
                "SELECT s.station_id, s.registered_at,
                        (SELECT COUNT(*) FROM record r
                          WHERE r.station_id = s.station_id AND r.packet_id IS NOT NULL),
                        s.last_contact
                 FROM station s ORDER BY s.station_id",
                &[],
            )?
            .iter()
            .map(|r| StationRow {
                station_id: r.get(0),
                registered_at: r.get(1),
                enrolled: r.get(2),
                last_contact: r.get(3),
            })
            .collect())
    }

    fn remember_nonce(&self, station_id: &str, nonce: &str, time: i64) -> Result<bool> {
        let inserted = self.db()?.execute(
            "INSERT INTO request_nonce (station_id, nonce, time) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&station_id, &nonce, &time],
        )?;
        Ok(inserted == 1)
    }

    fn forget_nonces(&self, before: i64) -> Result<()> {
        self.db()?
            .execute("DELETE FROM request_nonce WHERE time < $1", &[&before])?;
        Ok(())
    }

    fn each_codes(&self, f: &mut dyn FnMut(i64, &[u8])) -> Result<()> {
        let mut c = self.db()?;
        // In pages, so a gallery of 300,000 is never one result in memory twice.
        let mut after = 0i64;
        loop {
            let rows = c.query(
                "SELECT id, codes FROM record WHERE id > $1 ORDER BY id LIMIT 10000",
                &[&after],
            )?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            after = last.get(0);
            for r in &rows {
                let id: i64 = r.get(0);
                f(id, &self.open_sealed(id, "codes", r.get(1))?);
            }
        }
    }

    fn record(&self, id: i64) -> Result<Option<Record>> {
        self.one_record(&mut *self.db()?, "id = $1", &id)
    }

    fn by_packet(&self, packet_id: &str) -> Result<Option<Record>> {
        self.one_record(&mut *self.db()?, "packet_id = $1", &packet_id)
    }

    fn claim(&self, c: &NewClaim<'_>) -> Result<i64> {
        let [codes, minutiae, irises] = self.sealed(c.templates)?;
        Ok(self
            .db()?
            .query_one(
                "INSERT INTO record (station_id, masked_nik, claim, queue_number, expires_at, at,
                                     codes, minutiae, irises)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                &[
                    &c.station_id,
                    &c.masked_nik,
                    &c.claim,
                    &c.queue_number,
                    &c.expires_at,
                    &c.at,
                    &codes,
                    &minutiae,
                    &irises,
                ],
            )?
            .get(0))
    }

    fn enroll(&self, e: &NewEnrollment<'_>) -> Result<(i64, bool)> {
        let [codes, minutiae, irises] = self.sealed(e.templates)?;
        let mut c = self.db()?;
        let mut tx = c.transaction()?;
        let claimed: Option<i64> = match e.claim {
            Some(claim) => tx
                .query_opt(
                    "SELECT id FROM record
                      WHERE claim = $1 AND station_id = $2 AND packet_id IS NULL FOR UPDATE",
                    &[&claim, &e.station_id],
                )?
                .map(|r| r.get(0)),
            None => None,
        };
        let (id, new) = match claimed {
            Some(id) => {
                tx.execute(
                    "UPDATE record SET packet_id = $1, masked_nik = $2, at = $3, expires_at = NULL,
                            checked_at_hub = $4, enrolled_at = $5, codes = $6, minutiae = $7,
                            irises = $8,
                            enrolled_seq = (SELECT COALESCE(MAX(enrolled_seq), 0) + 1 FROM record)
                      WHERE id = $9",
                    &[
                        &e.packet_id,
                        &e.masked_nik,
                        &e.recorded_at,
                        &e.checked_at_hub,
                        &e.now,
                        &codes,
                        &minutiae,
                        &irises,
                        &id,
                    ],
                )?;
                (id, false)
            }
            None => {
                let id: i64 = tx
                    .query_one(
                        "INSERT INTO record (station_id, masked_nik, packet_id, at, checked_at_hub,
                                             enrolled_at, enrolled_seq, codes, minutiae, irises)
                         VALUES ($1, $2, $3, $4, $5, $6,
                                 (SELECT COALESCE(MAX(enrolled_seq), 0) + 1 FROM record),
                                 $7, $8, $9) RETURNING id",
                        &[
                            &e.station_id,
                            &e.masked_nik,
                            &e.packet_id,
                            &e.recorded_at,
                            &e.checked_at_hub,
                            &e.now,
                            &codes,
                            &minutiae,
                            &irises,
                        ],
                    )?
                    .get(0);
                (id, true)
            }
        };
        if let Some(found) = e.conflict_with {
            tx.execute(
                "INSERT INTO conflict (later, earlier, matching, compared, found_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &id,
                    &found.earlier,
                    &i16::from(found.matching),
                    &i16::from(found.compared),
                    &e.now,
                ],
            )?;
        }
        tx.commit()?;
        Ok((id, new))
    }

    fn gallery_after(
        &self,
        station_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Record)>> {
        self.db()?
            .query(
                &format!(
                    "SELECT {RECORD}, enrolled_seq FROM record
                      WHERE enrolled_seq > $1 AND station_id <> $2 ORDER BY enrolled_seq LIMIT $3"
                ),
                &[&after, &station_id, &i64::from(limit)],
            )?
            .iter()
            .map(|r| Ok((r.get(11), self.record(r)?)))
            .collect()
    }

    fn next_ticket(&self, day: &str, station_id: &str, now: i64) -> Result<i64> {
        // The hub's one connection serialises tickets; the key refuses a number twice.
        Ok(self
            .db()?
            .query_one(
                "INSERT INTO queue_ticket (day, number, station_id, issued_at)
                 VALUES ($1, (SELECT COALESCE(MAX(number), 0) + 1 FROM queue_ticket WHERE day = $1),
                         $2, $3)
                 RETURNING number",
                &[&day, &station_id, &now],
            )?
            .get(0))
    }

    fn hold(&self, packet_id: &str, station_id: &str, sealed: &[u8], now: i64) -> Result<bool> {
        // Sealed to the data center already: stored as it came, the hub cannot open it.
        let n = self.db()?.execute(
            "INSERT INTO relay (packet_id, station_id, sealed, received_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (packet_id) DO UPDATE SET receipt = NULL, forwarded_at = NULL, last_error = NULL
              WHERE relay.station_id = excluded.station_id AND relay.receipt IS NOT NULL",
            &[&packet_id, &station_id, &sealed, &now],
        )?;
        Ok(n == 1)
    }

    fn relay_state(&self, packet_id: &str) -> Result<Option<RelayRow>> {
        Ok(self
            .db()?
            .query_opt(
                "SELECT station_id, receipt, last_error FROM relay WHERE packet_id = $1",
                &[&packet_id],
            )?
            .map(|r| RelayRow {
                station_id: r.get(0),
                receipt: r.get(1),
                last_error: r.get(2),
            }))
    }

    fn relay_due(&self, limit: u32) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(self
            .db()?
            .query(
                "SELECT packet_id, sealed FROM relay WHERE receipt IS NULL
                  ORDER BY received_at, packet_id LIMIT $1",
                &[&i64::from(limit)],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn relayed(&self, packet_id: &str, receipt_json: &str, now: i64) -> Result<()> {
        self.db()?.execute(
            "UPDATE relay SET receipt = $2, forwarded_at = $3, last_error = NULL
              WHERE packet_id = $1",
            &[&packet_id, &receipt_json, &now],
        )?;
        Ok(())
    }

    fn relay_failed(&self, packet_id: &str, code: &str) -> Result<()> {
        self.db()?.execute(
            "UPDATE relay SET last_error = $2 WHERE packet_id = $1",
            &[&packet_id, &code],
        )?;
        Ok(())
    }

    fn hold_reissue(
        &self,
        request_id: &str,
        station_id: &str,
        relayed: &str,
        now: i64,
    ) -> Result<bool> {
        // Sealed to the data center already: the hub cannot open it.
        let n = self.db()?.execute(
            "INSERT INTO reissue_relay (request_id, station_id, relayed, received_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO NOTHING",
            &[&request_id, &station_id, &relayed, &now],
        )?;
        Ok(n == 1)
    }

    fn reissue_relay_state(&self, request_id: &str) -> Result<Option<ReissueRelayRow>> {
        Ok(self
            .db()?
            .query_opt(
                "SELECT station_id, answer, last_error FROM reissue_relay WHERE request_id = $1",
                &[&request_id],
            )?
            .map(|r| ReissueRelayRow {
                station_id: r.get(0),
                answer: r.get(1),
                last_error: r.get(2),
            }))
    }

    fn reissues_due(&self, limit: u32) -> Result<Vec<(String, String)>> {
        Ok(self
            .db()?
            .query(
                "SELECT request_id, relayed FROM reissue_relay WHERE answer IS NULL
                  ORDER BY received_at, request_id LIMIT $1",
                &[&i64::from(limit)],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn reissue_relayed(&self, request_id: &str, answer_json: &str, now: i64) -> Result<()> {
        self.db()?.execute(
            "UPDATE reissue_relay SET answer = $2, forwarded_at = $3, last_error = NULL
              WHERE request_id = $1",
            &[&request_id, &answer_json, &now],
        )?;
        Ok(())
    }

    fn reissue_relay_failed(&self, request_id: &str, code: &str) -> Result<()> {
        self.db()?.execute(
            "UPDATE reissue_relay SET last_error = $2 WHERE request_id = $1",
            &[&request_id, &code],
        )?;
        Ok(())
    }

    fn touch(&self, station_id: &str, now: i64) -> Result<()> {
        self.db()?.execute(
            "UPDATE station SET last_contact = $2 WHERE station_id = $1",
            &[&station_id, &now],
        )?;
        Ok(())
    }

    fn report_backlog(
        &self,
        station_id: &str,
        records: &[rekam_packet::hub::BacklogRecord],
        _now: i64,
    ) -> Result<()> {
        let mut c = self.db()?;
        let mut tx = c.transaction()?;
        tx.execute(
            "DELETE FROM counter_backlog WHERE station_id = $1",
            &[&station_id],
        )?;
        for r in records {
            let json = serde_json::to_string(r).map_err(|e| HubError::Database(e.to_string()))?;
            tx.execute(
                "INSERT INTO counter_backlog (station_id, packet_id, record) VALUES ($1, $2, $3)
                 ON CONFLICT (station_id, packet_id) DO UPDATE SET record = excluded.record",
                &[&station_id, &r.packet_id, &json],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn backlog(&self) -> Result<Vec<rekam_packet::hub::BacklogRecord>> {
        self.db()?
            .query(
                "SELECT record FROM counter_backlog ORDER BY station_id, packet_id",
                &[],
            )?
            .iter()
            .map(|r| {
                serde_json::from_str(r.get::<_, &str>(0))
                    .map_err(|e| HubError::Database(e.to_string()))
            })
            .collect()
    }

    fn relay_backlog(&self) -> Result<Vec<HeldPacket>> {
        Ok(self
            .db()?
            .query(
                "SELECT packet_id, station_id, received_at, last_error FROM relay
                  WHERE receipt IS NULL ORDER BY received_at",
                &[],
            )?
            .iter()
            .map(|r| HeldPacket {
                packet_id: r.get(0),
                station_id: r.get(1),
                received_at: r.get(2),
                last_error: r.get(3),
            })
            .collect())
    }

    fn drop_lapsed_claims(&self, now: i64) -> Result<Vec<i64>> {
        Ok(self
            .db()?
            .query(
                "DELETE FROM record WHERE packet_id IS NULL AND expires_at < $1 RETURNING id",
                &[&now],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn conflict_of(&self, later: i64) -> Result<Option<ConflictRow>> {
        let mut c = self.db()?;
        let rows = c.query(
            "SELECT id, later, earlier, matching, compared, found_at FROM conflict WHERE later = $1",
            &[&later],
        )?;
        Ok(self.conflict_rows(&mut c, rows)?.into_iter().next())
    }

    fn conflicts(&self, station_id: &str, after: i64, limit: u32) -> Result<Vec<ConflictRow>> {
        let mut c = self.db()?;
        let rows = c.query(
            "SELECT id, later, earlier, matching, compared, found_at FROM conflict
              WHERE id > $1 AND (later IN (SELECT id FROM record WHERE station_id = $2)
                              OR earlier IN (SELECT id FROM record WHERE station_id = $2))
              ORDER BY id LIMIT $3",
            &[&after, &station_id, &i64::from(limit)],
        )?;
        self.conflict_rows(&mut c, rows)
    }

    fn keep_results(&self, events: &[ResultRow]) -> Result<()> {
        let mut c = self.db()?;
        let mut tx = c.transaction()?;
        for e in events {
            tx.execute(
                "INSERT INTO dc_result (cursor, station_id, event) VALUES ($1, $2, $3)
                 ON CONFLICT (cursor) DO NOTHING",
                &[&e.cursor, &e.station_id, &e.event],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn results_cursor(&self) -> Result<i64> {
        Ok(self
            .db()?
            .query_one("SELECT COALESCE(MAX(cursor), 0) FROM dc_result", &[])?
            .get(0))
    }

    fn results_for(&self, station_id: &str, after: i64, limit: u32) -> Result<Vec<ResultRow>> {
        Ok(self
            .db()?
            .query(
                "SELECT cursor, station_id, event FROM dc_result
                  WHERE station_id = $1 AND cursor > $2 ORDER BY cursor LIMIT $3",
                &[&station_id, &after, &i64::from(limit)],
            )?
            .iter()
            .map(|r| ResultRow {
                cursor: r.get(0),
                station_id: r.get(1),
                event: r.get(2),
            })
            .collect())
    }

    fn report_day(&self, station_id: &str, day: &str, report: &str, now: i64) -> Result<()> {
        self.db()?.execute(
            "INSERT INTO counter_day (station_id, day, report, reported_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (station_id, day) DO UPDATE
                SET report = excluded.report, reported_at = excluded.reported_at",
            &[&station_id, &day, &report, &now],
        )?;
        Ok(())
    }

    fn keep_extract(&self, e: &NewExtract<'_>) -> Result<()> {
        let sealed = self.seal("population_extract", e.file)?;
        let mut c = self.db()?;
        let mut tx = c.transaction()?;
        if e.row.base {
            tx.execute("DELETE FROM population_extract", &[])?;
        }
        tx.execute(
            "INSERT INTO population_extract (sequence, base, as_of, entries, file, imported_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &(e.row.sequence as i64),
                &e.row.base,
                &e.row.as_of,
                &(e.row.entries as i64),
                &sealed,
                &e.now,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn extracts(&self) -> Result<Vec<ExtractRow>> {
        Ok(self
            .db()?
            .query(
                "SELECT sequence, base, as_of, entries FROM population_extract ORDER BY sequence",
                &[],
            )?
            .iter()
            .map(|r| ExtractRow {
                sequence: r.get::<_, i64>(0) as u64,
                base: r.get(1),
                as_of: r.get(2),
                entries: r.get::<_, i64>(3) as u64,
            })
            .collect())
    }

    fn extract_file(&self, sequence: u64) -> Result<Option<Vec<u8>>> {
        let row = self.db()?.query_opt(
            "SELECT file FROM population_extract WHERE sequence = $1",
            &[&(sequence as i64)],
        )?;
        row.map(|r| {
            let sealed: Vec<u8> = r.get(0);
            self.open_sealed(sequence as i64, "population_extract", &sealed)
                .map_err(|_| {
                    HubError::Database(format!(
                        "the stored population extract {sequence} does not open: import it again"
                    ))
                })
        })
        .transpose()
    }

    fn days(&self, day: &str) -> Result<Vec<(String, String)>> {
        Ok(self
            .db()?
            .query(
                "SELECT station_id, report FROM counter_day WHERE day = $1 ORDER BY station_id",
                &[&day],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }
}
