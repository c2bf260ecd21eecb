//! The embedded adapter: one SQLCipher file (`hub.db`, raw 256-bit key in
//! `keys/hub-store.key`), WAL, `synchronous = FULL`, for a one-machine kecamatan and the demo.

#[cfg(feature = "test-support")]
use crate::store::Templates;
use crate::store::{
    ConflictRow, ExtractRow, HeldPacket, HubStore, NewClaim, NewEnrollment, NewExtract, NewStation,
    Record, Registered, ReissueRelayRow, RelayRow, ResultRow, StationRow,
};
use crate::{HubError, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS token (
    token      TEXT PRIMARY KEY,
    station_id TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE TABLE IF NOT EXISTS station (
    station_id    TEXT PRIMARY KEY,
    registered_at INTEGER NOT NULL,
    last_contact  INTEGER
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
    time       INTEGER NOT NULL,
    PRIMARY KEY (station_id, nonce)
);
CREATE TABLE IF NOT EXISTS record (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id     TEXT NOT NULL REFERENCES station (station_id),
    masked_nik     TEXT NOT NULL,
    claim          TEXT UNIQUE,
    queue_number   TEXT,
    packet_id      TEXT UNIQUE,
    expires_at     INTEGER,
    at             TEXT NOT NULL,
    checked_at_hub TEXT,
    enrolled_at    INTEGER,
    enrolled_seq   INTEGER UNIQUE,
    codes          BLOB NOT NULL,
    minutiae       BLOB NOT NULL,
    irises         BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS conflict (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    later      INTEGER NOT NULL UNIQUE REFERENCES record (id),
    earlier    INTEGER NOT NULL REFERENCES record (id),
    matching   INTEGER NOT NULL,
    compared   INTEGER NOT NULL,
    found_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conflict_earlier ON conflict (earlier);
CREATE TABLE IF NOT EXISTS relay (
    packet_id    TEXT PRIMARY KEY,
    station_id   TEXT NOT NULL REFERENCES station (station_id),
    sealed       BLOB NOT NULL,
    received_at  INTEGER NOT NULL,
    receipt      TEXT,
    forwarded_at INTEGER,
    last_error   TEXT
);
CREATE TABLE IF NOT EXISTS queue_ticket (
    day        TEXT NOT NULL,
    number     INTEGER NOT NULL,
    station_id TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    PRIMARY KEY (day, number)
);
CREATE INDEX IF NOT EXISTS record_station ON record (station_id);
-- The data center's result feed for the kecamatan's counters, as it signed it.
CREATE TABLE IF NOT EXISTS dc_result (
    cursor     INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    event      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dc_result_station ON dc_result (station_id, cursor);
-- The Dinas's population extracts for the counters: the base and its deltas, as signed.
CREATE TABLE IF NOT EXISTS population_extract (
    sequence    INTEGER PRIMARY KEY,
    base        BOOLEAN NOT NULL,
    as_of       TEXT NOT NULL,
    entries     INTEGER NOT NULL,
    file        BLOB NOT NULL,
    imported_at INTEGER NOT NULL
);
-- What each counter reported of its day, for the kecamatan's daily report.
CREATE TABLE IF NOT EXISTS counter_day (
    station_id  TEXT NOT NULL REFERENCES station (station_id),
    day         TEXT NOT NULL,
    report      TEXT NOT NULL,
    reported_at INTEGER NOT NULL,
    PRIMARY KEY (station_id, day)
);
-- Reissue requests the counters left for the data center, sealed to it (issue 27).
CREATE TABLE IF NOT EXISTS reissue_relay (
    request_id   TEXT PRIMARY KEY,
    station_id   TEXT NOT NULL REFERENCES station (station_id),
    relayed      TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    answer       TEXT,
    forwarded_at INTEGER,
    last_error   TEXT
);
"#;

const RECORD: &str = "id, station_id, masked_nik, claim, queue_number, packet_id, expires_at, at, \
                      codes, minutiae, irises";

fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        id: r.get(0)?,
        station_id: r.get(1)?,
        masked_nik: r.get(2)?,
        claim: r.get(3)?,
        queue_number: r.get(4)?,
        packet_id: r.get(5)?,
        expires_at: r.get(6)?,
        at: r.get(7)?,
        codes: r.get(8)?,
        minutiae: r.get(9)?,
        irises: r.get(10)?,
    })
}

/// The hub's SQLCipher database.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Opens (creating) the database at `path` with the raw key `key`.
    pub fn open(path: &Path, key: &[u8; 32]) -> Result<SqliteStore> {
        let conn = rekam_sqlcipher::open(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            key,
        )?;
        let cipher: Option<String> = conn
            .query_row("PRAGMA cipher_version", [], |r| r.get(0))
            .optional()?;
        if cipher.is_none() {
            return Err(HubError::NoEncryption);
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY; PRAGMA busy_timeout = 5000;",
        )?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        crate::store::check_schema(found)?;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {}; COMMIT;",
            crate::store::SCHEMA_VERSION
        ))?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// Writes enrolled recordings of `station_id` (registered here if it is not) in one
    /// transaction, unchecked: a benchmark's gallery of hundreds of thousands, which the
    /// hub's own path (a check per enrollment) would take hours to build.
    #[cfg(feature = "test-support")]
    pub fn fill_unchecked(
        &self,
        station_id: &str,
        rows: impl Iterator<Item = (String, Templates)>,
    ) -> Result<usize> {
        let mut conn = self.db();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR IGNORE INTO station (station_id, registered_at) VALUES (?1, 0)",
            [station_id],
        )?;
        let mut n = 0;
        {
            let mut insert = tx.prepare(
                "INSERT INTO record (station_id, masked_nik, packet_id, at, enrolled_at,
                                     enrolled_seq, codes, minutiae, irises)
                 VALUES (?1, '327301********01', ?2, '2026-12-01T08:00:00Z', 0,
                         (SELECT COALESCE(MAX(enrolled_seq), 0) + 1 FROM record), ?3, ?4, ?5)",
            )?;
            for (packet_id, t) in rows {
                insert.execute(params![
                    station_id, packet_id, t.codes, t.minutiae, t.irises
                ])?;
                n += 1;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolled back).
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn conflict_rows(
        conn: &Connection,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ConflictRow>> {
        let sql = format!(
            "SELECT id, later, earlier, matching, compared, found_at FROM conflict WHERE {filter}"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map(args, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, u8>(3)?,
                    r.get::<_, u8>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let one = |id: i64| -> Result<Record> {
            conn.query_row(
                &format!("SELECT {RECORD} FROM record WHERE id = ?1"),
                [id],
                record,
            )
            .map_err(HubError::from)
        };
        rows.into_iter()
            .map(|(id, later, earlier, matching, compared, found_at)| {
                Ok(ConflictRow {
                    id,
                    later: one(later)?,
                    earlier: one(earlier)?,
                    matching,
                    compared,
                    found_at,
                })
            })
            .collect()
    }
}

impl HubStore for SqliteStore {
    fn issue_token(&self, token: &str, station_id: &str, now: i64) -> Result<()> {
        self.db().execute(
            "INSERT INTO token (token, station_id, issued_at) VALUES (?1, ?2, ?3)",
            params![token, station_id, now],
        )?;
        Ok(())
    }

    fn register(&self, s: &NewStation<'_>) -> Result<Registered> {
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let token: Option<(String, Option<i64>, i64)> = tx
            .query_row(
                "SELECT station_id, used_at, issued_at FROM token WHERE token = ?1",
                [s.token],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match token {
            Some((station, None, issued)) if station == s.station_id => {
                if issued < s.issued_after {
                    return Ok(Registered::TokenExpired);
                }
            }
            _ => return Ok(Registered::TokenInvalid),
        }
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM station WHERE station_id = ?1)",
            [s.station_id],
            |r| r.get(0),
        )?;
        if exists {
            return Ok(Registered::StationExists);
        }
        tx.execute(
            "UPDATE token SET used_at = ?1 WHERE token = ?2",
            params![s.now, s.token],
        )?;
        tx.execute(
            "INSERT INTO station (station_id, registered_at) VALUES (?1, ?2)",
            params![s.station_id, s.now],
        )?;
        tx.execute(
            "INSERT INTO station_key (key_id, station_id, public_key) VALUES (?1, ?2, ?3)",
            params![s.key_id, s.station_id, s.public_key],
        )?;
        tx.commit()?;
        Ok(Registered::Done)
    }

    fn station_key(&self, station_id: &str, key_id: &str) -> Result<Option<String>> {
        Ok(self
            .db()
            .query_row(
                "SELECT public_key FROM station_key WHERE station_id = ?1 AND key_id = ?2",
                [station_id, key_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn stations(&self) -> Result<Vec<StationRow>> {
        let conn = self.db();
        let mut stmt = conn.prepare(
            "SELECT s.station_id, s.registered_at,
                    (SELECT COUNT(*) FROM record r
                      WHERE r.station_id = s.station_id AND r.packet_id IS NOT NULL),
                    s.last_contact
             FROM station s ORDER BY s.station_id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StationRow {
                    station_id: r.get(0)?,
                    registered_at: r.get(1)?,
                    enrolled: r.get(2)?,
                    last_contact: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn remember_nonce(&self, station_id: &str, nonce: &str, time: i64) -> Result<bool> {
        let inserted = self.db().execute(
            "INSERT OR IGNORE INTO request_nonce (station_id, nonce, time) VALUES (?1, ?2, ?3)",
            params![station_id, nonce, time],
        )?;
        Ok(inserted == 1)
    }

    fn forget_nonces(&self, before: i64) -> Result<()> {
        self.db()
            .execute("DELETE FROM request_nonce WHERE time < ?1", [before])?;
        Ok(())
    }

    fn each_codes(&self, f: &mut dyn FnMut(i64, &[u8])) -> Result<()> {
        let conn = self.db();
        let mut stmt = conn.prepare("SELECT id, codes FROM record ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let codes = r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            f(r.get(0)?, codes);
        }
        Ok(())
    }

    fn record(&self, id: i64) -> Result<Option<Record>> {
        Ok(self
            .db()
            .query_row(
                &format!("SELECT {RECORD} FROM record WHERE id = ?1"),
                [id],
                record,
            )
            .optional()?)
    }

    fn by_packet(&self, packet_id: &str) -> Result<Option<Record>> {
        Ok(self
            .db()
            .query_row(
                &format!("SELECT {RECORD} FROM record WHERE packet_id = ?1"),
                [packet_id],
                record,
            )
            .optional()?)
    }

    fn claim(&self, c: &NewClaim<'_>) -> Result<i64> {
        let conn = self.db();
        conn.execute(
            "INSERT INTO record (station_id, masked_nik, claim, queue_number, expires_at, at,
                                 codes, minutiae, irises)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                c.station_id,
                c.masked_nik,
                c.claim,
                c.queue_number,
                c.expires_at,
                c.at,
                c.templates.codes,
                c.templates.minutiae,
                c.templates.irises
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn enroll(&self, e: &NewEnrollment<'_>) -> Result<(i64, bool)> {
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let claimed: Option<i64> = match e.claim {
            Some(claim) => tx
                .query_row(
                    "SELECT id FROM record
                      WHERE claim = ?1 AND station_id = ?2 AND packet_id IS NULL",
                    [claim, e.station_id],
                    |r| r.get(0),
                )
                .optional()?,
            None => None,
        };
        let (id, new) = match claimed {
            Some(id) => {
                // The sealed recording replaces what its claim held: the same person, the
                // templates as sealed.
                tx.execute(
                    "UPDATE record SET packet_id = ?1, masked_nik = ?2, at = ?3, expires_at = NULL,
                            checked_at_hub = ?4, enrolled_at = ?5, codes = ?6, minutiae = ?7,
                            irises = ?8,
                            enrolled_seq = (SELECT COALESCE(MAX(enrolled_seq), 0) + 1 FROM record)
                      WHERE id = ?9",
                    params![
                        e.packet_id,
                        e.masked_nik,
                        e.recorded_at,
                        e.checked_at_hub,
                        e.now,
                        e.templates.codes,
                        e.templates.minutiae,
                        e.templates.irises,
                        id
                    ],
                )?;
                (id, false)
            }
            None => {
                tx.execute(
                    "INSERT INTO record (station_id, masked_nik, packet_id, at, checked_at_hub,
                                         enrolled_at, enrolled_seq, codes, minutiae, irises)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6,
                             (SELECT COALESCE(MAX(enrolled_seq), 0) + 1 FROM record), ?7, ?8, ?9)",
                    params![
                        e.station_id,
                        e.masked_nik,
                        e.packet_id,
                        e.recorded_at,
                        e.checked_at_hub,
                        e.now,
                        e.templates.codes,
                        e.templates.minutiae,
                        e.templates.irises
                    ],
                )?;
                (tx.last_insert_rowid(), true)
            }
        };
        if let Some(c) = e.conflict_with {
            tx.execute(
                "INSERT INTO conflict (later, earlier, matching, compared, found_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, c.earlier, c.matching, c.compared, e.now],
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
        let conn = self.db();
        let mut stmt = conn.prepare(&format!(
            "SELECT {RECORD}, enrolled_seq FROM record
              WHERE enrolled_seq > ?1 AND station_id <> ?2 ORDER BY enrolled_seq LIMIT ?3"
        ))?;
        let rows = stmt
            .query_map(params![after, station_id, limit], |r| {
                Ok((r.get(11)?, record(r)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn next_ticket(&self, day: &str, station_id: &str, now: i64) -> Result<i64> {
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let number: i64 = tx.query_row(
            "INSERT INTO queue_ticket (day, number, station_id, issued_at)
             VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM queue_ticket WHERE day = ?1),
                     ?2, ?3)
             RETURNING number",
            params![day, station_id, now],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(number)
    }

    fn hold(&self, packet_id: &str, station_id: &str, sealed: &[u8], now: i64) -> Result<bool> {
        let n = self.db().execute(
            "INSERT INTO relay (packet_id, station_id, sealed, received_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (packet_id) DO UPDATE SET receipt = NULL, forwarded_at = NULL, last_error = NULL
              WHERE relay.station_id = excluded.station_id AND relay.receipt IS NOT NULL",
            params![packet_id, station_id, sealed, now],
        )?;
        Ok(n == 1)
    }

    fn relay_state(&self, packet_id: &str) -> Result<Option<RelayRow>> {
        Ok(self
            .db()
            .query_row(
                "SELECT station_id, receipt, last_error FROM relay WHERE packet_id = ?1",
                [packet_id],
                |r| {
                    Ok(RelayRow {
                        station_id: r.get(0)?,
                        receipt: r.get(1)?,
                        last_error: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn relay_due(&self, limit: u32) -> Result<Vec<(String, Vec<u8>)>> {
        let conn = self.db();
        let mut stmt = conn.prepare(
            "SELECT packet_id, sealed FROM relay WHERE receipt IS NULL
              ORDER BY received_at, packet_id LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn relayed(&self, packet_id: &str, receipt_json: &str, now: i64) -> Result<()> {
        self.db().execute(
            "UPDATE relay SET receipt = ?2, forwarded_at = ?3, last_error = NULL
              WHERE packet_id = ?1",
            params![packet_id, receipt_json, now],
        )?;
        Ok(())
    }

    fn relay_failed(&self, packet_id: &str, code: &str) -> Result<()> {
        self.db().execute(
            "UPDATE relay SET last_error = ?2 WHERE packet_id = ?1",
            params![packet_id, code],
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
        let n = self.db().execute(
            "INSERT INTO reissue_relay (request_id, station_id, relayed, received_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (request_id) DO NOTHING",
            params![request_id, station_id, relayed, now],
        )?;
        Ok(n == 1)
    }

    fn reissue_relay_state(&self, request_id: &str) -> Result<Option<ReissueRelayRow>> {
        Ok(self
            .db()
            .query_row(
                "SELECT station_id, answer, last_error FROM reissue_relay WHERE request_id = ?1",
                [request_id],
                |r| {
                    Ok(ReissueRelayRow {
                        station_id: r.get(0)?,
                        answer: r.get(1)?,
                        last_error: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn reissues_due(&self, limit: u32) -> Result<Vec<(String, String)>> {
        let conn = self.db();
        let mut stmt = conn.prepare(
            "SELECT request_id, relayed FROM reissue_relay WHERE answer IS NULL
              ORDER BY received_at, request_id LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn reissue_relayed(&self, request_id: &str, answer_json: &str, now: i64) -> Result<()> {
        self.db().execute(
            "UPDATE reissue_relay SET answer = ?2, forwarded_at = ?3, last_error = NULL
              WHERE request_id = ?1",
            params![request_id, answer_json, now],
        )?;
        Ok(())
    }

    fn reissue_relay_failed(&self, request_id: &str, code: &str) -> Result<()> {
        self.db().execute(
            "UPDATE reissue_relay SET last_error = ?2 WHERE request_id = ?1",
            params![request_id, code],
        )?;
        Ok(())
    }

    fn touch(&self, station_id: &str, now: i64) -> Result<()> {
        self.db().execute(
            "UPDATE station SET last_contact = ?2 WHERE station_id = ?1",
            params![station_id, now],
        )?;
        Ok(())
    }

    fn report_backlog(
        &self,
        station_id: &str,
        records: &[rekam_packet::hub::BacklogRecord],
        _now: i64,
    ) -> Result<()> {
        let mut conn = self.db();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM counter_backlog WHERE station_id = ?1",
            [station_id],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT OR REPLACE INTO counter_backlog (station_id, packet_id, record)
                 VALUES (?1, ?2, ?3)",
            )?;
            for r in records {
                let json =
                    serde_json::to_string(r).map_err(|e| HubError::Database(e.to_string()))?;
                insert.execute(params![station_id, r.packet_id, json])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn backlog(&self) -> Result<Vec<rekam_packet::hub::BacklogRecord>> {
        let conn = self.db();
        let mut stmt =
            conn.prepare("SELECT record FROM counter_backlog ORDER BY station_id, packet_id")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter()
            .map(|json| serde_json::from_str(json).map_err(|e| HubError::Database(e.to_string())))
            .collect()
    }

    fn relay_backlog(&self) -> Result<Vec<HeldPacket>> {
        let conn = self.db();
        let mut stmt = conn.prepare(
            "SELECT packet_id, station_id, received_at, last_error FROM relay
              WHERE receipt IS NULL ORDER BY received_at",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(HeldPacket {
                    packet_id: r.get(0)?,
                    station_id: r.get(1)?,
                    received_at: r.get(2)?,
                    last_error: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn drop_lapsed_claims(&self, now: i64) -> Result<Vec<i64>> {
        let conn = self.db();
        let mut stmt = conn.prepare(
            "DELETE FROM record WHERE packet_id IS NULL AND expires_at < ?1 RETURNING id",
        )?;
        let ids = stmt
            .query_map([now], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(ids)
    }

    fn conflict_of(&self, later: i64) -> Result<Option<ConflictRow>> {
        let conn = self.db();
        Ok(Self::conflict_rows(&conn, "later = ?1", &[&later])?
            .into_iter()
            .next())
    }

    fn conflicts(&self, station_id: &str, after: i64, limit: u32) -> Result<Vec<ConflictRow>> {
        let conn = self.db();
        Self::conflict_rows(
            &conn,
            "id > ?1 AND (later IN (SELECT id FROM record WHERE station_id = ?2)
                       OR earlier IN (SELECT id FROM record WHERE station_id = ?2))
             ORDER BY id LIMIT ?3",
            &[&after, &station_id, &limit],
        )
    }

    fn keep_results(&self, events: &[ResultRow]) -> Result<()> {
        let mut conn = self.db();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO dc_result (cursor, station_id, event) VALUES (?1, ?2, ?3)",
            )?;
            for e in events {
                insert.execute(params![e.cursor, e.station_id, e.event])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn results_cursor(&self) -> Result<i64> {
        Ok(self
            .db()
            .query_row("SELECT COALESCE(MAX(cursor), 0) FROM dc_result", [], |r| {
                r.get(0)
            })?)
    }

    fn results_for(&self, station_id: &str, after: i64, limit: u32) -> Result<Vec<ResultRow>> {
        let conn = self.db();
        let mut stmt = conn.prepare(
            "SELECT cursor, station_id, event FROM dc_result
              WHERE station_id = ?1 AND cursor > ?2 ORDER BY cursor LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(params![station_id, after, limit], |r| {
                Ok(ResultRow {
                    cursor: r.get(0)?,
                    station_id: r.get(1)?,
                    event: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn report_day(&self, station_id: &str, day: &str, report: &str, now: i64) -> Result<()> {
        self.db().execute(
            "INSERT INTO counter_day (station_id, day, report, reported_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (station_id, day) DO UPDATE
                SET report = excluded.report, reported_at = excluded.reported_at",
            params![station_id, day, report, now],
        )?;
        Ok(())
    }

    fn keep_extract(&self, e: &NewExtract<'_>) -> Result<()> {
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if e.row.base {
            tx.execute("DELETE FROM population_extract", [])?;
        }
        tx.execute(
            "INSERT INTO population_extract (sequence, base, as_of, entries, file, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                e.row.sequence as i64,
                e.row.base,
                e.row.as_of,
                e.row.entries as i64,
                e.file,
                e.now
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn extracts(&self) -> Result<Vec<ExtractRow>> {
        let conn = self.db();
        let mut stmt = conn.prepare(
            "SELECT sequence, base, as_of, entries FROM population_extract ORDER BY sequence",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ExtractRow {
                    sequence: r.get::<_, i64>(0)? as u64,
                    base: r.get(1)?,
                    as_of: r.get(2)?,
                    entries: r.get::<_, i64>(3)? as u64,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn extract_file(&self, sequence: u64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .db()
            .query_row(
                "SELECT file FROM population_extract WHERE sequence = ?1",
                [sequence as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn days(&self, day: &str) -> Result<Vec<(String, String)>> {
        let conn = self.db();
        let mut stmt = conn.prepare(
            "SELECT station_id, report FROM counter_day WHERE day = ?1 ORDER BY station_id",
        )?;
        let rows = stmt
            .query_map([day], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
