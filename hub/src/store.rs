//! Where the hub keeps what it knows, behind one trait so that a kecamatan's server runs on
//! PostgreSQL and a one-machine kecamatan (or the demo) on the embedded SQLCipher file
//! ([`crate::sqlite`]).
//!
//! Invariants every adapter keeps (the adapters' shared tests check them):
//! - a registration spends its token and adds the station's key in one transaction, so a token
//!   registers exactly one station once;
//! - a recording is one row from its claim to its enrollment; an enrollment and the conflict
//!   found for it are written in one transaction, so a kill never keeps one without the other;
//! - a packet id is enrolled once: a second enrollment of it finds the first row;
//! - each enrollment takes the next place in the enrollment order (`enrolled_seq`), in its
//!   transaction, so a counter copying the gallery "after place N" misses nothing;
//! - a nonce is remembered once per station: the second time is a replay;
//! - a packet held for the data center is kept until its receipt is, and after (the sealed
//!   bytes are the data center's to open, never the hub's);
//! - a reissue request held for the data center is its counter's (another counter's request
//!   of the same id is refused), kept until its answer is, and after; the hub holds it sealed;
//! - a population extract is kept whole or not at all, and a base replaces the extracts before
//!   it in the same transaction;
//! - the data center's result events are kept in its feed order, each once, and the position
//!   read to is the last event kept: a kill between two pages re-reads a page, never skips one.

use crate::{HubError, Result};

/// The version of the hub's schema this build writes. Each adapter keeps the version of its
/// database (SQLite's `user_version`, PostgreSQL's `hub_schema` table), creates what is
/// missing and records this version in one transaction, and refuses a database a newer build
/// wrote. A build that changes a table raises it and brings the step from the version before.
/// Version 2 added `reissue_relay` (a table alone: the step from 1 is creating it).
pub const SCHEMA_VERSION: i64 = 2;

/// Refuses a database of schema `found` (0: new) that this build does not know.
pub fn check_schema(found: i64) -> Result<()> {
    if found > SCHEMA_VERSION {
        return Err(HubError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// What a registration request becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// The station and its key are in.
    Done,
    /// The token is unknown, used, or for another station.
    TokenInvalid,
    /// The token is older than its lifetime.
    TokenExpired,
    /// The station is registered already.
    StationExists,
}

/// A registration as the store takes it, once its signature verified.
#[derive(Debug, Clone)]
pub struct NewStation<'a> {
    /// The station.
    pub station_id: &'a str,
    /// Its key's id.
    pub key_id: &'a str,
    /// Its Ed25519 public key, hex.
    pub public_key: &'a str,
    /// The token it spends.
    pub token: &'a str,
    /// Now, Unix seconds.
    pub now: i64,
    /// The oldest issue time a token may have to still be good.
    pub issued_after: i64,
}

/// A counter registered with the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationRow {
    /// The station.
    pub station_id: String,
    /// When it registered, Unix seconds.
    pub registered_at: i64,
    /// Its recordings enrolled at the hub.
    pub enrolled: i64,
    /// Its last signed request, Unix seconds.
    pub last_contact: Option<i64>,
}

/// One person's recording in the kecamatan's gallery: a claim while its counter records, an
/// enrolled recording once sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The row's number.
    pub id: i64,
    /// The counter.
    pub station_id: String,
    /// The NIK, masked.
    pub masked_nik: String,
    /// The claim's token; `None` for a recording enrolled without one.
    pub claim: Option<String>,
    /// The queue number of the visit that claimed it.
    pub queue_number: Option<String>,
    /// The packet id, once enrolled; `None` for a claim.
    pub packet_id: Option<String>,
    /// When the claim lapses (Unix seconds); `None` once enrolled.
    pub expires_at: Option<i64>,
    /// When it was sealed (RFC 3339), or when it was claimed.
    pub at: String,
    /// The ten screening codes.
    pub codes: Vec<u8>,
    /// The finger minutiae record.
    pub minutiae: Vec<u8>,
    /// The iris codes.
    pub irises: Vec<u8>,
}

impl Record {
    /// Whether the row is a claim that lapsed at `now`.
    pub fn lapsed(&self, now: i64) -> bool {
        self.packet_id.is_none() && self.expires_at.is_some_and(|t| t < now)
    }
}

/// A claim to insert.
#[derive(Debug, Clone)]
pub struct NewClaim<'a> {
    /// The counter.
    pub station_id: &'a str,
    /// The claim's token.
    pub claim: &'a str,
    /// The visit's queue number.
    pub queue_number: &'a str,
    /// The NIK, masked.
    pub masked_nik: &'a str,
    /// Now (RFC 3339).
    pub at: &'a str,
    /// When the claim lapses, Unix seconds.
    pub expires_at: i64,
    /// The templates.
    pub templates: &'a Templates,
}

/// A sealed recording to enroll.
#[derive(Debug, Clone)]
pub struct NewEnrollment<'a> {
    /// The counter.
    pub station_id: &'a str,
    /// The claim named, if any: its row becomes the enrolled recording when it is this
    /// counter's and not enrolled yet; otherwise a new row is written.
    pub claim: Option<&'a str>,
    /// The packet id.
    pub packet_id: &'a str,
    /// The NIK, masked.
    pub masked_nik: &'a str,
    /// When it was sealed (RFC 3339).
    pub recorded_at: &'a str,
    /// When the counter checked against the hub before sealing (RFC 3339), if it did.
    pub checked_at_hub: Option<&'a str>,
    /// Now, Unix seconds.
    pub now: i64,
    /// The templates.
    pub templates: &'a Templates,
    /// The earlier recording this one matched, if the hub found one: written as a conflict in
    /// the enrollment's transaction.
    pub conflict_with: Option<FoundConflict>,
}

/// What the hub found when it enrolled a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundConflict {
    /// The earlier recording's row.
    pub earlier: i64,
    /// Fingers that matched.
    pub matching: u8,
    /// Fingers compared.
    pub compared: u8,
}

/// A packet the hub holds for the data center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRow {
    /// The counter that sealed it.
    pub station_id: String,
    /// The data center's receipt (JSON), once forwarded.
    pub receipt: Option<String>,
    /// The last forward's failure code.
    pub last_error: Option<String>,
}

/// A packet held for the data center, not forwarded yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPacket {
    /// The packet id.
    pub packet_id: String,
    /// The counter that left it.
    pub station_id: String,
    /// When, Unix seconds.
    pub received_at: i64,
    /// The last forward's failure code.
    pub last_error: Option<String>,
}

/// A reissue request held for the data center, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReissueRelayRow {
    /// The counter that left it.
    pub station_id: String,
    /// The data center's answer (JSON), once carried.
    pub answer: Option<String>,
    /// The last forward's failure code.
    pub last_error: Option<String>,
}

/// A person's templates, decoded from base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    /// The ten screening codes.
    pub codes: Vec<u8>,
    /// The finger minutiae record.
    pub minutiae: Vec<u8>,
    /// The iris codes.
    pub irises: Vec<u8>,
}

/// A conflict as stored: the two rows and the match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRow {
    /// Its number.
    pub id: i64,
    /// The later recording.
    pub later: Record,
    /// The earlier one.
    pub earlier: Record,
    /// Fingers that matched.
    pub matching: u8,
    /// Fingers compared.
    pub compared: u8,
    /// When it was found, Unix seconds.
    pub found_at: i64,
}

/// The hub's storage. Calls block (the server runs them off its async threads).
pub trait HubStore: Send + Sync + std::fmt::Debug {
    /// Claims the store for the one process that serves (a check and its claim are atomic
    /// within that process only); a store that allows one process anyway does nothing.
    fn serve_exclusively(&self) -> Result<()> {
        Ok(())
    }
    /// Issues a one-time registration token for `station_id`.
    fn issue_token(&self, token: &str, station_id: &str, now: i64) -> Result<()>;
    /// Spends a token on a station and its key (one transaction).
    fn register(&self, station: &NewStation<'_>) -> Result<Registered>;
    /// A station's public key by its id, hex.
    fn station_key(&self, station_id: &str, key_id: &str) -> Result<Option<String>>;
    /// Every station registered.
    fn stations(&self) -> Result<Vec<StationRow>>;
    /// Remembers a request's nonce; `false` when the station used it before (a replay).
    fn remember_nonce(&self, station_id: &str, nonce: &str, time: i64) -> Result<bool>;
    /// Forgets the nonces of requests older than `before`.
    fn forget_nonces(&self, before: i64) -> Result<()>;
    /// Calls `f` with every row's id and screening codes, in id order.
    fn each_codes(&self, f: &mut dyn FnMut(i64, &[u8])) -> Result<()>;
    /// One row.
    fn record(&self, id: i64) -> Result<Option<Record>>;
    /// The row enrolled under a packet id.
    fn by_packet(&self, packet_id: &str) -> Result<Option<Record>>;
    /// Inserts a claim; returns its row.
    fn claim(&self, claim: &NewClaim<'_>) -> Result<i64>;
    /// Enrolls a sealed recording (and its conflict) in one transaction; returns its row, and
    /// whether it is a new row the gallery must add (`false` when a claim's row became it).
    fn enroll(&self, enrollment: &NewEnrollment<'_>) -> Result<(i64, bool)>;
    /// Recordings of counters other than `station_id` enrolled after the place `after` in the
    /// enrollment order, with their place, up to `limit`.
    fn gallery_after(&self, station_id: &str, after: i64, limit: u32)
    -> Result<Vec<(i64, Record)>>;
    /// The next number of the kecamatan's queue on `day`, for `station_id` (one transaction:
    /// each number is issued once).
    fn next_ticket(&self, day: &str, station_id: &str, now: i64) -> Result<i64>;
    /// Holds a counter's sealed packet for the data center; `false` when it is held already
    /// and not yet forwarded. Left again after it was forwarded (the data center asked the
    /// counter to send it again), it is forwarded again: its old receipt is dropped.
    fn hold(&self, packet_id: &str, station_id: &str, sealed: &[u8], now: i64) -> Result<bool>;
    /// A held packet's state: its counter, the data center's receipt (JSON) once forwarded,
    /// and the last failure's code.
    fn relay_state(&self, packet_id: &str) -> Result<Option<RelayRow>>;
    /// Up to `limit` held packets the data center has not received, oldest first.
    fn relay_due(&self, limit: u32) -> Result<Vec<(String, Vec<u8>)>>;
    /// The data center's receipt for a held packet.
    fn relayed(&self, packet_id: &str, receipt_json: &str, now: i64) -> Result<()>;
    /// A failed forward, with its code.
    fn relay_failed(&self, packet_id: &str, code: &str) -> Result<()>;
    /// Holds a counter's reissue request for the data center (`relayed`: the JSON of a
    /// `RelayedReissue`, sealed to the data center); `false` when it is held already.
    fn hold_reissue(
        &self,
        request_id: &str,
        station_id: &str,
        relayed: &str,
        now: i64,
    ) -> Result<bool>;
    /// A held reissue request's state.
    fn reissue_relay_state(&self, request_id: &str) -> Result<Option<ReissueRelayRow>>;
    /// Up to `limit` held reissue requests without an answer, oldest first: (id, relayed).
    fn reissues_due(&self, limit: u32) -> Result<Vec<(String, String)>>;
    /// The data center's answer to a held reissue request.
    fn reissue_relayed(&self, request_id: &str, answer_json: &str, now: i64) -> Result<()>;
    /// A failed forward of a reissue request, with its code.
    fn reissue_relay_failed(&self, request_id: &str, code: &str) -> Result<()>;
    /// Notes a signed request of `station_id` at `now`.
    fn touch(&self, station_id: &str, now: i64) -> Result<()>;
    /// Replaces what `station_id` reported of its records not yet final (one transaction).
    fn report_backlog(
        &self,
        station_id: &str,
        records: &[rekam_packet::hub::BacklogRecord],
        now: i64,
    ) -> Result<()>;
    /// What every counter last reported of its records not yet final.
    fn backlog(&self) -> Result<Vec<rekam_packet::hub::BacklogRecord>>;
    /// The packets held for the data center without a receipt, oldest first.
    fn relay_backlog(&self) -> Result<Vec<HeldPacket>>;
    /// Deletes claims that lapsed before `now`; returns their rows.
    fn drop_lapsed_claims(&self, now: i64) -> Result<Vec<i64>>;
    /// The conflict found for a row, if any.
    fn conflict_of(&self, later: i64) -> Result<Option<ConflictRow>>;
    /// Conflicts naming `station_id` on either side, after `after`, oldest first.
    fn conflicts(&self, station_id: &str, after: i64, limit: u32) -> Result<Vec<ConflictRow>>;
    /// Keeps result events of the data center's feed for the kecamatan (each verified by the
    /// caller), in one transaction; an event kept already is kept once.
    fn keep_results(&self, events: &[ResultRow]) -> Result<()>;
    /// The data center's feed position the hub has read to: the last event kept, 0 for none.
    fn results_cursor(&self) -> Result<i64>;
    /// The events kept for `station_id` after the feed position `after`, up to `limit`, in
    /// feed order.
    fn results_for(&self, station_id: &str, after: i64, limit: u32) -> Result<Vec<ResultRow>>;
    /// Keeps what `station_id` reported of `day` (JSON), replacing its earlier report of it.
    fn report_day(&self, station_id: &str, day: &str, report: &str, now: i64) -> Result<()>;
    /// Every counter's report of `day`: the station and the report (JSON), by station.
    fn days(&self, day: &str) -> Result<Vec<(String, String)>>;
    /// Keeps a population extract the hub verified (one transaction): a base replaces every
    /// extract held before.
    fn keep_extract(&self, extract: &NewExtract<'_>) -> Result<()>;
    /// The extracts held, in their order (the base first).
    fn extracts(&self) -> Result<Vec<ExtractRow>>;
    /// The signed file of extract `sequence`.
    fn extract_file(&self, sequence: u64) -> Result<Option<Vec<u8>>>;
}

/// A population extract to keep, verified.
#[derive(Debug, Clone)]
pub struct NewExtract<'a> {
    /// What it is.
    pub row: ExtractRow,
    /// The file as the Dinas signed it (it holds residents' biodata: the adapters keep it
    /// encrypted).
    pub file: &'a [u8],
    /// Now, Unix seconds.
    pub now: i64,
}

/// A population extract the hub holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractRow {
    /// Its number in the Dinas's series.
    pub sequence: u64,
    /// A base, or a delta on `sequence - 1`.
    pub base: bool,
    /// The time its data is as of (RFC 3339).
    pub as_of: String,
    /// Its entries.
    pub entries: u64,
}

/// One event of the data center's result feed, kept for the counter it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    /// Its position in the data center's feed.
    pub cursor: i64,
    /// The counter.
    pub station_id: String,
    /// The event as the data center signed it (JSON): the counter verifies it itself.
    pub event: String,
}
