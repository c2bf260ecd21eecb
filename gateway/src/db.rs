//! The gateway's database: one SQLCipher file (`gateway.db`, key in `keys/gateway-store.key`),
//! WAL, `synchronous = FULL`.
//!
//! Invariants: a packet is a row keyed by its packet id, inserted with its receipt and its
//! first result event in one transaction, naming its sealed bytes in the object store
//! ([`crate::objects`]), written before it, so a packet is recorded exactly once and a receipt
//! exists exactly when the packet does; `results.cursor` only grows; templates derived from a
//! packet (`person`) are written in the transaction that publishes its decision.

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::Path;
use zeroize::Zeroizing;

/// The key of the gateway's database: 32 random bytes that SQLCipher uses directly, kept as
/// hex in a 0600 file beside the other keys and wiped from memory on drop.
pub struct DbKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(<redacted>)")
    }
}

impl DbKey {
    /// A fresh random key.
    pub fn generate() -> Result<DbKey, getrandom::Error> {
        let mut k = Zeroizing::new([0u8; 32]);
        getrandom::fill(k.as_mut())?;
        Ok(DbKey(k))
    }

    /// The key's file form: 64 hex digits and a newline. Wiped when dropped.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(*self.0) + "\n")
    }

    /// Reads the file form; `None` when it is not 64 hex digits.
    pub fn from_text(text: &str) -> Option<DbKey> {
        let mut k = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), k.as_mut()).ok()?;
        Some(DbKey(k))
    }
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS token (
    token      TEXT PRIMARY KEY,
    station_id TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE TABLE IF NOT EXISTS station (
    station_id    TEXT PRIMARY KEY,
    kecamatan     TEXT NOT NULL,
    registered_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS station_key (
    key_id     TEXT PRIMARY KEY,
    station_id TEXT NOT NULL REFERENCES station (station_id),
    public_key TEXT NOT NULL,
    added_at   INTEGER NOT NULL,
    retired_at INTEGER
);
CREATE TABLE IF NOT EXISTS upload (
    upload_id  TEXT PRIMARY KEY,
    station_id TEXT NOT NULL,
    packet_id  TEXT NOT NULL,
    length     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (station_id, packet_id)
);
CREATE TABLE IF NOT EXISTS packet (
    receipt_no   INTEGER PRIMARY KEY AUTOINCREMENT,
    packet_id    TEXT NOT NULL UNIQUE,
    station_id   TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size         INTEGER NOT NULL,
    -- Empty: the sealed bytes are in the object store under `object` (gateways before the
    -- store kept them here; `move_packets_out` moves them on open).
    sealed       BLOB NOT NULL,
    object       TEXT,
    received_at  INTEGER NOT NULL,
    receipt      TEXT NOT NULL,
    decided      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS result (
    cursor     INTEGER PRIMARY KEY AUTOINCREMENT,
    packet_id  TEXT NOT NULL,
    station_id TEXT NOT NULL,
    event      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS result_by_station ON result (station_id, cursor);
CREATE TABLE IF NOT EXISTS person (
    receipt_no INTEGER PRIMARY KEY,
    packet_id  TEXT NOT NULL UNIQUE,
    nik        TEXT NOT NULL,
    codes      BLOB NOT NULL,
    minutiae   BLOB,
    irises     BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS person_by_nik ON person (nik);
CREATE TABLE IF NOT EXISTS token_role (
    token TEXT PRIMARY KEY REFERENCES token (token),
    role  TEXT NOT NULL
);
-- The last snoop of each kecamatan server: its counters and every record not yet final.
CREATE TABLE IF NOT EXISTS hub_snoop (
    station_id  TEXT PRIMARY KEY REFERENCES station (station_id),
    kecamatan   TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    snoop       TEXT NOT NULL
);
-- Kecamatan servers: they relay the packets of their kecamatan's stations.
CREATE TABLE IF NOT EXISTS hub_station (
    station_id TEXT PRIMARY KEY REFERENCES station (station_id),
    kecamatan  TEXT NOT NULL,
    granted_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dinas_station (
    station_id TEXT PRIMARY KEY REFERENCES station (station_id),
    regency    TEXT NOT NULL,
    granted_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS print_fetch (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    station_id TEXT NOT NULL,
    packet_id  TEXT NOT NULL,
    outcome    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS key_revocation (
    key_id     TEXT PRIMARY KEY REFERENCES station_key (key_id),
    station_id TEXT NOT NULL,
    revoked_at INTEGER NOT NULL,
    -- packets received from the station since then are listed for review
    suspect_from INTEGER NOT NULL,
    reason     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked_use (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    at         INTEGER NOT NULL,
    what       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_anchor (
    station_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (station_id, seq, hash)
);
CREATE TRIGGER IF NOT EXISTS audit_anchor_append_only_update BEFORE UPDATE ON audit_anchor
BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_anchor_append_only_delete BEFORE DELETE ON audit_anchor
BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END;
-- Recordings whose biodata came from a Dinas extract older than STALE_AFTER_DAYS when they
-- were sealed: recorded as usual, listed for the Dinas to check their biodata.
CREATE TABLE IF NOT EXISTS stale_biodata (
    packet_id  TEXT PRIMARY KEY,
    station_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    sequence   INTEGER NOT NULL,
    age_days   INTEGER NOT NULL,
    at         INTEGER NOT NULL
);
-- Nonces of signed requests within the clock window, so a replay is refused across a restart
-- and by every gateway process on this database; older ones are dropped by the worker.
CREATE TABLE IF NOT EXISTS request_nonce (
    station_id TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    time       INTEGER NOT NULL,
    PRIMARY KEY (station_id, nonce)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS request_nonce_time ON request_nonce (time);
CREATE TABLE IF NOT EXISTS audit_alarm (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    what       TEXT NOT NULL
);
-- Adjudication cases (`adjudicate.rs`): opened with a packet's ADJUDICATE_RECORD, decided
-- once, never deleted.
CREATE TABLE IF NOT EXISTS adjudication (
    packet_id      TEXT PRIMARY KEY REFERENCES packet (packet_id),
    station_id     TEXT NOT NULL,
    matched_packet TEXT NOT NULL REFERENCES packet (packet_id),
    evidence       TEXT NOT NULL,
    opened_at      INTEGER NOT NULL,
    decision       TEXT CHECK (decision IN ('SAME_PERSON', 'DIFFERENT_PERSON')),
    adjudicator    TEXT,
    reason         TEXT,
    decided_at     INTEGER,
    CHECK ((decision IS NULL) = (decided_at IS NULL))
);
CREATE TRIGGER IF NOT EXISTS adjudication_decided_once BEFORE UPDATE ON adjudication
WHEN OLD.decided_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'an adjudication decision is final'); END;
CREATE TRIGGER IF NOT EXISTS adjudication_kept BEFORE DELETE ON adjudication
BEGIN SELECT RAISE(ABORT, 'adjudication cases are kept'); END;
-- Cards personalised from print orders (`cards.rs`), reported by the Dinas; a record has at
-- most one card in circulation (not returned).
CREATE TABLE IF NOT EXISTS card (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    packet_id       TEXT NOT NULL REFERENCES packet (packet_id),
    card_serial     TEXT NOT NULL,
    dinas           TEXT NOT NULL,
    personalised_at INTEGER NOT NULL,
    reported_at     INTEGER NOT NULL,
    returned_at     INTEGER,
    return_reason   TEXT,
    returned_by     TEXT,
    UNIQUE (packet_id, card_serial)
);
CREATE UNIQUE INDEX IF NOT EXISTS card_in_circulation ON card (packet_id) WHERE returned_at IS NULL;
CREATE INDEX IF NOT EXISTS result_by_packet ON result (packet_id, cursor);
-- Reissue requests (`reissue.rs`), each answered once (the signed answer kept), and the
-- biodata a data change or a move gave a record: its print orders carry the newest.
CREATE TABLE IF NOT EXISTS reissue (
    request_id TEXT PRIMARY KEY,
    station_id TEXT NOT NULL,
    case_type  TEXT NOT NULL,
    packet_id  TEXT REFERENCES packet (packet_id),
    refused    TEXT,
    answer     TEXT NOT NULL,
    at         INTEGER NOT NULL,
    CHECK ((packet_id IS NULL) != (refused IS NULL))
);
CREATE TABLE IF NOT EXISTS record_biodata (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    packet_id  TEXT NOT NULL REFERENCES packet (packet_id),
    request_id TEXT NOT NULL UNIQUE REFERENCES reissue (request_id) DEFERRABLE INITIALLY DEFERRED,
    biodata    TEXT NOT NULL,
    at         INTEGER NOT NULL,
    -- The regency of the new address, four digits: where the resident lives now, whose Dinas
    -- prints the card (NULL in rows from before it was kept: the recording's regency).
    regency    TEXT
);
-- The matcher's lease (`results.rs`): the one gateway process that decides results, until
-- it stops renewing it.
CREATE TABLE IF NOT EXISTS matcher_lease (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS heartbeat (
    station_id TEXT PRIMARY KEY,
    at         INTEGER NOT NULL,
    version    TEXT NOT NULL,
    backlog    TEXT NOT NULL
);
"#;

/// Opens (creating when absent) the gateway database with `key`.
pub fn open(path: &Path, key: &DbKey) -> crate::Result<Connection> {
    let conn = rekam_sqlcipher::open(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        &key.0,
    )?;
    let cipher: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .optional()?;
    if cipher.is_none() {
        return Err(crate::GatewayError::NoEncryption);
    }
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY; PRAGMA busy_timeout = 5000;",
    )?;
    conn.execute_batch(SCHEMA)?;
    upgrade(&conn)?;
    Ok(conn)
}

/// Adds what later versions of the schema added to a database made before them.
fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    let has_object = conn
        .prepare("SELECT 1 FROM pragma_table_info('packet') WHERE name = 'object'")?
        .exists([])?;
    if !has_object {
        conn.execute_batch("ALTER TABLE packet ADD COLUMN object TEXT")?;
    }
    let has_regency = conn
        .prepare("SELECT 1 FROM pragma_table_info('record_biodata') WHERE name = 'regency'")?
        .exists([])?;
    if !has_regency {
        conn.execute_batch("ALTER TABLE record_biodata ADD COLUMN regency TEXT")?;
    }
    Ok(())
}

/// Moves the sealed bytes of packets recorded before the object store into it: each is
/// written (durably) before its row names it and lets go of its copy, so a crash in between
/// leaves the row as it was, moved on the next open.
pub fn move_packets_out(conn: &Connection, objects: &crate::objects::Objects) -> crate::Result<()> {
    let mut moved = 0;
    loop {
        let batch: Vec<(String, Vec<u8>)> = conn
            .prepare("SELECT packet_id, sealed FROM packet WHERE object IS NULL LIMIT 50")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        if batch.is_empty() {
            break;
        }
        for (packet_id, sealed) in batch {
            let name = objects.put(&sealed)?;
            conn.execute(
                "UPDATE packet SET object = ?2, sealed = x'' WHERE packet_id = ?1",
                params![packet_id, name],
            )?;
            moved += 1;
        }
    }
    if moved > 0 {
        tracing::info!(moved, "packets moved from the database to the object store");
    }
    Ok(())
}

/// One of a station's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    /// The Ed25519 public key, hex.
    pub public_key: String,
    /// When a rotation replaced it (Unix seconds); `None` for the station's current key.
    pub retired_at: Option<i64>,
    /// When the Dinas revoked it (`rekam-gateway revoke`): from then on nothing it signs is
    /// accepted, not even a packet sealed before.
    pub revoked_at: Option<i64>,
}

impl KeyRow {
    /// The key, if it is the station's current one: what requests, bundle manifests and
    /// rotations must be signed with. A retired key is refused for them from the moment it is
    /// retired; a packet it sealed before still verifies ([`KeyRow::public_key`]), since the
    /// request that delivers the packet is signed with the current key.
    pub fn current(&self) -> Option<&str> {
        (self.retired_at.is_none() && self.revoked_at.is_none()).then_some(self.public_key.as_str())
    }
}

/// A station's key by id, if it belongs to `station_id`.
pub fn station_key(
    conn: &Connection,
    station_id: &str,
    key_id: &str,
) -> rusqlite::Result<Option<KeyRow>> {
    conn.query_row(
        "SELECT k.public_key, k.retired_at, r.revoked_at
         FROM station_key k LEFT JOIN key_revocation r ON r.key_id = k.key_id
         WHERE k.key_id = ?1 AND k.station_id = ?2",
        params![key_id, station_id],
        |r| {
            Ok(KeyRow {
                public_key: r.get(0)?,
                retired_at: r.get(1)?,
                revoked_at: r.get(2)?,
            })
        },
    )
    .optional()
}

/// The kecamatan a station registered in, if it is registered.
pub fn station_kecamatan(conn: &Connection, station_id: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT kecamatan FROM station WHERE station_id = ?1",
        [station_id],
        |r| r.get(0),
    )
    .optional()
}

/// Whether the station is registered.
pub fn station_exists(conn: &Connection, station_id: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM station WHERE station_id = ?1",
            [station_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}
