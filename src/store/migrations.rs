//! Versioned schema migrations. The version is SQLite's `user_version`; each migration runs in
//! its own transaction together with the version bump, so a crash leaves the previous version.
//! Migrations are never edited once released: add a new one.

/// One step of the schema.
#[derive(Debug)]
pub(crate) struct Migration {
    /// The version this step produces.
    pub version: i64,
    /// What it does.
    pub name: &'static str,
    /// The SQL.
    pub sql: &'static str,
    /// What SQL cannot do, run first in the same transaction (computing with a key).
    pub before: Option<fn(&rusqlite::Transaction<'_>) -> crate::Result<()>>,
    /// Whether the step rebuilds a table others refer to: foreign keys are off while it runs
    /// (SQLite's procedure for changing a table's definition) and checked after it.
    pub rebuilds: bool,
}

/// Every migration, in order. `MIGRATIONS[i].version == i + 1`.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "station, enrollment journal, audit log",
        sql: r#"
CREATE TABLE station (
    singleton      INTEGER PRIMARY KEY CHECK (singleton = 1),
    station_id     TEXT NOT NULL,
    kecamatan_code TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

-- The outbox: one row per sealed recording, never changed, never removed. `seq` grows
-- monotonically (AUTOINCREMENT never reuses a number), so sync drains "everything after N".
CREATE TABLE enrollment_journal (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id TEXT NOT NULL UNIQUE,
    nik           TEXT NOT NULL UNIQUE,
    case_type     TEXT NOT NULL,
    operator_id   TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    payload       BLOB NOT NULL
);
CREATE TRIGGER enrollment_journal_no_update BEFORE UPDATE ON enrollment_journal
BEGIN SELECT RAISE(ABORT, 'the enrollment journal is append-only'); END;
CREATE TRIGGER enrollment_journal_no_delete BEFORE DELETE ON enrollment_journal
BEGIN SELECT RAISE(ABORT, 'the enrollment journal is append-only'); END;

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    station_id TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE audit_head (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    seq       INTEGER NOT NULL,
    hash      BLOB NOT NULL
);
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 2,
        name: "region master data",
        sql: r#"
CREATE TABLE region (
    code   TEXT PRIMARY KEY,
    level  TEXT NOT NULL,
    parent TEXT,
    name   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX region_by_level_name ON region (level, name COLLATE NOCASE);
CREATE INDEX region_by_parent ON region (parent);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 3,
        name: "biometric de-duplication index",
        sql: r#"
-- One row per recording with biometrics, written in the journal row's transaction. The ten
-- finger screening codes sit alone in `biometric_index`, loaded whole at start into the
-- in-memory index (640 bytes a row, several rows a page: the scan reads nothing else); the
-- ISO/IEC 19794-2 record of the fingers and the two iris codes sit in `biometric_template`,
-- read only for the best candidates of a search. Encrypted with the database.
CREATE TABLE biometric_index (
    seq   INTEGER PRIMARY KEY REFERENCES enrollment_journal(seq),
    codes BLOB NOT NULL
);
CREATE TABLE biometric_template (
    seq      INTEGER PRIMARY KEY REFERENCES biometric_index(seq),
    minutiae BLOB NOT NULL,
    irises   BLOB NOT NULL
);
CREATE TRIGGER biometric_template_no_update BEFORE UPDATE ON biometric_template
BEGIN SELECT RAISE(ABORT, 'the biometric index is append-only'); END;
CREATE TRIGGER biometric_template_no_delete BEFORE DELETE ON biometric_template
BEGIN SELECT RAISE(ABORT, 'the biometric index is append-only'); END;
CREATE TRIGGER biometric_index_no_update BEFORE UPDATE ON biometric_index
BEGIN SELECT RAISE(ABORT, 'the biometric index is append-only'); END;
CREATE TRIGGER biometric_index_no_delete BEFORE DELETE ON biometric_index
BEGIN SELECT RAISE(ABORT, 'the biometric index is append-only'); END;
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 4,
        name: "sync state of each recording",
        sql: r#"
-- Where each sealed recording stands on its way to the data center, beside the append-only
-- journal: one row per journal row, created in the journal row's transaction (and here for the
-- rows already there). States, in the field's words: BIO_CAPTURED, UPLOADING, EXPORTED,
-- SENT_FOR_ENROLLMENT, then the data center's PRINT_READY_RECORD, DUPLICATE_RECORD,
-- ADJUDICATE_RECORD. Every change is also appended to `sync_event`, with its time and reason.
CREATE TABLE sync_state (
    seq            INTEGER PRIMARY KEY REFERENCES enrollment_journal(seq),
    state          TEXT NOT NULL,
    upload_offset  INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_code      TEXT,
    last_reason    TEXT,
    next_retry_at  INTEGER,
    receipt        TEXT,
    matched_packet TEXT,
    updated_at     TEXT NOT NULL
);
CREATE INDEX sync_state_by_state ON sync_state (state, next_retry_at);
INSERT INTO sync_state (seq, state, updated_at)
    SELECT seq, 'BIO_CAPTURED', recorded_at FROM enrollment_journal;
CREATE TABLE sync_event (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    seq    INTEGER NOT NULL REFERENCES enrollment_journal(seq),
    at     TEXT NOT NULL,
    state  TEXT NOT NULL,
    code   TEXT,
    reason TEXT
);
CREATE TRIGGER sync_event_no_update BEFORE UPDATE ON sync_event
BEGIN SELECT RAISE(ABORT, 'the sync event log is append-only'); END;
CREATE TRIGGER sync_event_no_delete BEFORE DELETE ON sync_event
BEGIN SELECT RAISE(ABORT, 'the sync event log is append-only'); END;
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 5,
        name: "operators, queue tickets and counter visits",
        sql: r#"
-- The people who may use the station. The password is an Argon2id PHC string; the finger is the
-- ISO/IEC 19794-2 record of the operator's right index finger, matched when they log in and when
-- they confirm a recording. Operators are disabled, never deleted (the audit log names them).
CREATE TABLE operator (
    operator_id   TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    finger        BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);
-- Queue numbers, one sequence per day, never reused.
CREATE TABLE queue_ticket (
    day       TEXT NOT NULL,
    number    INTEGER NOT NULL,
    issued_at TEXT NOT NULL,
    PRIMARY KEY (day, number)
);
-- Every finished counter visit (a recording sealed, refused or cancelled; a handover; a reissue
-- request; a personalisation): its outcome and the time each step took. Append-only. `detail`
-- never holds a full NIK or biometric data.
CREATE TABLE visit (
    visit_id     TEXT PRIMARY KEY,
    workflow     TEXT NOT NULL,
    day          TEXT NOT NULL,
    queue_number TEXT,
    operator_id  TEXT NOT NULL,
    case_type    TEXT,
    masked_nik   TEXT,
    outcome      TEXT NOT NULL,
    code         TEXT,
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    steps        TEXT NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX visit_by_day ON visit (day, workflow);
CREATE TRIGGER visit_no_update BEFORE UPDATE ON visit
BEGIN SELECT RAISE(ABORT, 'the visit log is append-only'); END;
CREATE TRIGGER visit_no_delete BEFORE DELETE ON visit
BEGIN SELECT RAISE(ABORT, 'the visit log is append-only'); END;
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 6,
        name: "the Dinas's population extract",
        sql: r#"
-- The population extract in force (one row): which region, which number in the Dinas's
-- series, as of when, signed by which key. Replaced with its residents in one transaction.
CREATE TABLE population_extract (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    region      TEXT NOT NULL,
    villages    TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    as_of       TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    signer      TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    residents   INTEGER NOT NULL
);
-- The residents as the counter reads them by NIK (the record as JSON). Inside the encrypted
-- store like everything else; never a file of its own.
CREATE TABLE population (
    nik    TEXT PRIMARY KEY,
    record TEXT NOT NULL
) WITHOUT ROWID;
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 7,
        name: "the station's secrets inside the store",
        sql: r#"
-- A station whose store key sits in key slots keeps its signing key here ('signing', and
-- 'signing.next' while a rotation waits for the data center), never in a file.
CREATE TABLE station_secret (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 8,
        name: "failed logins and locked-out operators",
        sql: r#"
-- Consecutive failed logins of an operator (password or finger); at the limit the operator is
-- locked out (locked_at) until a supervisor unlocks them. Cleared by a login.
CREATE TABLE operator_failures (
    operator_id TEXT PRIMARY KEY REFERENCES operator (operator_id),
    failures    INTEGER NOT NULL,
    locked_at   TEXT
) WITHOUT ROWID;
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 9,
        name: "purging what the data center has answered",
        sql: r#"
-- A recording the data center answered for good (PRINT_READY_RECORD, DUPLICATE_RECORD) is
-- purged after the retention: its sealed packet emptied and its biometric rows removed, the
-- journal row kept (packet id, NIK for the once-only rule, who and when). The purge's own
-- row comes first, in the same transaction, and is the only licence the triggers accept.
CREATE TABLE purged (
    seq          INTEGER PRIMARY KEY REFERENCES enrollment_journal (seq),
    purged_at    TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    bytes        INTEGER NOT NULL
);
CREATE TRIGGER purged_no_update BEFORE UPDATE ON purged
BEGIN SELECT RAISE(ABORT, 'the purge log is append-only'); END;
CREATE TRIGGER purged_no_delete BEFORE DELETE ON purged
BEGIN SELECT RAISE(ABORT, 'the purge log is append-only'); END;
DROP TRIGGER enrollment_journal_no_update;
CREATE TRIGGER enrollment_journal_no_update BEFORE UPDATE ON enrollment_journal
WHEN NOT (
    NEW.seq = OLD.seq AND NEW.enrollment_id = OLD.enrollment_id AND NEW.nik = OLD.nik
    AND NEW.case_type = OLD.case_type AND NEW.operator_id = OLD.operator_id
    AND NEW.recorded_at = OLD.recorded_at AND length(NEW.payload) = 0
    AND EXISTS (SELECT 1 FROM purged WHERE purged.seq = OLD.seq)
)
BEGIN SELECT RAISE(ABORT, 'the enrollment journal is append-only (a purge only empties a packet)'); END;
DROP TRIGGER biometric_template_no_delete;
CREATE TRIGGER biometric_template_no_delete BEFORE DELETE ON biometric_template
WHEN NOT EXISTS (SELECT 1 FROM purged WHERE purged.seq = OLD.seq)
BEGIN SELECT RAISE(ABORT, 'the biometric index is append-only'); END;
DROP TRIGGER biometric_index_no_delete;
CREATE TRIGGER biometric_index_no_delete BEFORE DELETE ON biometric_index
WHEN NOT EXISTS (SELECT 1 FROM purged WHERE purged.seq = OLD.seq)
BEGIN SELECT RAISE(ABORT, 'the biometric index is append-only'); END;
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 10,
        name: "the journal keeps a keyed hash of the NIK, not the NIK",
        sql: r#"
-- The once-only rule and the reissue's lookup need to know whether a NIK was recorded here,
-- not which NIKs were: the journal keeps HMAC-SHA-256 of the NIK under the station's own key
-- ('nik_key' in station_secret) and the masked NIK for people to read. Rebuilt the way SQLite
-- documents for a changed table (foreign keys off, copied, renamed), in one transaction;
-- `nik_hash_v10` was filled by this step's Rust part.
CREATE TABLE enrollment_journal_v10 (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id TEXT NOT NULL UNIQUE,
    nik_hash      TEXT NOT NULL UNIQUE,
    masked_nik    TEXT NOT NULL,
    case_type     TEXT NOT NULL,
    operator_id   TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    payload       BLOB NOT NULL
);
INSERT INTO enrollment_journal_v10
    (seq, enrollment_id, nik_hash, masked_nik, case_type, operator_id, recorded_at, payload)
SELECT j.seq, j.enrollment_id, h.nik_hash, h.masked_nik, j.case_type, j.operator_id,
       j.recorded_at, j.payload
FROM enrollment_journal j JOIN nik_hash_v10 h ON h.seq = j.seq;
DROP TABLE nik_hash_v10;
DROP TABLE enrollment_journal;
ALTER TABLE enrollment_journal_v10 RENAME TO enrollment_journal;
CREATE TRIGGER enrollment_journal_no_update BEFORE UPDATE ON enrollment_journal
WHEN NOT (
    NEW.seq = OLD.seq AND NEW.enrollment_id = OLD.enrollment_id
    AND NEW.nik_hash = OLD.nik_hash AND NEW.masked_nik = OLD.masked_nik
    AND NEW.case_type = OLD.case_type AND NEW.operator_id = OLD.operator_id
    AND NEW.recorded_at = OLD.recorded_at AND length(NEW.payload) = 0
    AND EXISTS (SELECT 1 FROM purged WHERE purged.seq = OLD.seq)
)
BEGIN SELECT RAISE(ABORT, 'the enrollment journal is append-only (a purge only empties a packet)'); END;
CREATE TRIGGER enrollment_journal_no_delete BEFORE DELETE ON enrollment_journal
BEGIN SELECT RAISE(ABORT, 'the enrollment journal is append-only'); END;
"#,
        before: Some(hash_journal_niks),
        rebuilds: true,
    },
    Migration {
        version: 11,
        name: "the kecamatan server: what it was told and what it found",
        sql: r#"
-- One row per sealed recording the kecamatan server (hub) has heard of: the claim of the
-- check before sealing (none when the hub was out of reach then), and once the hub took the
-- recording into its gallery, its number there. A sealed recording without a `record` here is
-- sent at the next pass.
CREATE TABLE hub_enrollment (
    seq         INTEGER PRIMARY KEY REFERENCES enrollment_journal (seq),
    claim       TEXT,
    checked_at  TEXT,
    record      INTEGER,
    enrolled_at TEXT
);
-- Two recordings of one person at two counters, as the hub found them (JSON of
-- `rekam_packet::hub::Conflict`: packet ids, counters, masked NIKs): for the supervisor.
CREATE TABLE hub_conflict (
    id          INTEGER PRIMARY KEY,
    conflict    TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 12,
        name: "the counter's copy of the kecamatan's gallery",
        sql: r#"
-- The other counters' recordings as the hub enrolled them (`seq`, its enrollment order), to
-- check a person against while the hub is out of reach (a mobile team away for days);
-- `meta.hub_gallery_as_of` is when the copy last caught up with the hub.
CREATE TABLE kecamatan_gallery (
    seq         INTEGER PRIMARY KEY,
    station_id  TEXT NOT NULL,
    masked_nik  TEXT NOT NULL,
    packet_id   TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    codes       BLOB NOT NULL,
    minutiae    BLOB NOT NULL,
    irises      BLOB NOT NULL
);
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 13,
        name: "packets left with the kecamatan server for the data center",
        sql: r#"
-- A sealed packet the data center could not be reached for, left with the kecamatan server,
-- which forwards it; the recording stays unsent until a receipt arrives (from the hub, or the
-- station's own upload), verified as any receipt.
CREATE TABLE hub_relay (
    seq          INTEGER PRIMARY KEY REFERENCES enrollment_journal (seq),
    deposited_at TEXT NOT NULL
);
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 14,
        name: "clarification of duplicates",
        sql: r#"
-- A DUPLICATE_RECORD is clarified with the resident at the service point (seed 001, 3b): it
-- stays in the backlog until a supervisor records the outcome here, once.
CREATE TABLE clarification (
    seq     INTEGER PRIMARY KEY REFERENCES enrollment_journal (seq),
    outcome TEXT NOT NULL CHECK (outcome IN ('RECORDED_BEFORE', 'DISPUTED')),
    note    TEXT NOT NULL,
    actor   TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE TRIGGER clarification_no_update BEFORE UPDATE ON clarification
BEGIN SELECT RAISE(ABORT, 'a clarification is final'); END;
CREATE TRIGGER clarification_no_delete BEFORE DELETE ON clarification
BEGIN SELECT RAISE(ABORT, 'a clarification is final'); END;
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 15,
        name: "cards personalised at a Dinas station",
        sql: r#"
-- Each card this station personalised, written with its visit row; `reported_at` once the data
-- center accepted the report (the record leaves the Dinas's print queue); `returned_at` when
-- the card came back (a failed handover), `return_reported_at` once that was reported (the
-- record is on the queue again). Times are Unix seconds.
CREATE TABLE card (
    card_serial        TEXT PRIMARY KEY,
    packet_id          TEXT NOT NULL,
    personalised_at    INTEGER NOT NULL,
    reported_at        INTEGER,
    returned_at        INTEGER,
    return_reason      TEXT,
    return_reported_at INTEGER
);
CREATE UNIQUE INDEX card_in_circulation ON card (packet_id) WHERE returned_at IS NULL;
"#,
        before: None,
        rebuilds: false,
    },
    Migration {
        version: 16,
        name: "reissue requests for the data center",
        sql: r#"
-- Each reissue request taken here (lost, damaged, data change, moving in), written with its
-- visit row: the request as sent (JSON, with the NIK and biodata: the store is encrypted), and
-- the data center's signed answer once it came. Times are Unix seconds.
CREATE TABLE reissue_request (
    request_id  TEXT PRIMARY KEY,
    request     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    answer      TEXT,
    answered_at INTEGER,
    CHECK ((answer IS NULL) = (answered_at IS NULL))
);
CREATE TRIGGER reissue_answered_once BEFORE UPDATE ON reissue_request
WHEN OLD.answer IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a reissue request is answered once'); END;
CREATE TRIGGER reissue_kept BEFORE DELETE ON reissue_request
BEGIN SELECT RAISE(ABORT, 'reissue requests are kept'); END;
"#,
        before: None,
        rebuilds: false,
    },
];

/// Migration 10's first part: the station's NIK key (made once, kept in the store), and each
/// journal row's keyed hash and masked NIK in a scratch table the SQL part copies from.
fn hash_journal_niks(tx: &rusqlite::Transaction<'_>) -> crate::Result<()> {
    let key = super::nik_key(tx)?;
    tx.execute_batch(
        "CREATE TABLE nik_hash_v10 (seq INTEGER PRIMARY KEY, nik_hash TEXT NOT NULL, \
         masked_nik TEXT NOT NULL)",
    )?;
    let mut read = tx.prepare("SELECT seq, nik FROM enrollment_journal")?;
    let mut write = tx.prepare("INSERT INTO nik_hash_v10 VALUES (?1, ?2, ?3)")?;
    let rows = read.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (seq, nik) = row?;
        let nik = crate::domain::nik::Nik::parse(&nik)?;
        write.execute(rusqlite::params![
            seq,
            super::nik_hash(&key, &nik),
            nik.masked().as_str()
        ])?;
    }
    Ok(())
}

/// The newest schema this build knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}
