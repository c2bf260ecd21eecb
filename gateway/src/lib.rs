//! The reference data-center gateway: the other side of the station protocol, for tests and
//! demos (`docs/gateway-api.yaml`).
//!
//! - registration with a one-time token and proof of the station's key; key rotation;
//! - resumable uploads with the tus 1.0 core protocol and its creation extension ([`tus`]);
//! - a commit that verifies the station's signature, decrypts, validates the manifest and
//!   records the packet exactly once by packet id, answering with a receipt signed by the data
//!   center (a repeated commit gets the same receipt);
//! - the result feed: after a configurable delay each packet is de-duplicated against every
//!   packet received before it (same NIK, or the biometric engine's person rule) and gets
//!   PRINT_READY_RECORD, DUPLICATE_RECORD, ADJUDICATE_RECORD or ENROLL_FAILURE_AT_CENTRAL
//!   ([`results`]); an adjudicator decides each ADJUDICATE_RECORD ([`adjudicate`]);
//! - reissue requests answered from the clean record, back on the Dinas's print queue
//!   ([`reissue`]);
//! - station heartbeats with their backlog, and the list of stations with stuck records;
//! - revoking a stolen station's keys ([`revoke`]); the stations' audit heads anchored
//!   append-only, with an alarm when one goes back or forks ([`anchor`]).
//!
//! Data directory: `gateway.db` (SQLCipher), `keys/` (store key, DC keys, 0600),
//! `dc-identity.json` (public: what stations pin), `uploads/` (partial uploads: sealed bytes),
//! `objects/` (sealed packets by their hash, [`objects`]; elsewhere with [`Config::objects`]).

pub mod adjudicate;
pub mod anchor;
pub mod api;
pub mod bundle;
pub mod cards;
pub mod db;
pub mod error;
pub mod objects;
pub mod reissue;
pub mod results;
pub mod revoke;
pub mod tus;

/// The certificate and TLS listener (shared with the kecamatan server).
pub use rekam_serve::tls;

pub use error::{GatewayError, Result};
use rekam_domain::clock::Clock;
use rekam_packet::{DcIdentity, DcKeys};
pub use rekam_serve::Running;
use rusqlite::params;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the gateway runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The largest packet accepted, in bytes (tus `Tus-Max-Size`).
    pub max_packet: u64,
    /// The largest difference between a station's clock and the gateway's, in seconds.
    pub clock_skew: i64,
    /// How long after receipt a packet is de-duplicated and its result published.
    pub results_delay: Duration,
    /// Serve HTTPS with the certificate made at `init` (the binary's default); plain HTTP
    /// otherwise (loopback tests and benchmarks).
    pub tls: bool,
    /// How long a client may take: what keeps slow or silent clients from holding the
    /// gateway.
    pub limits: Limits,
    /// How long a registration token stays usable after it is issued: long enough for a
    /// technician to carry it to the kecamatan, short enough that a token written on a
    /// forgotten note does not register a rogue station months later.
    pub token_lifetime: Duration,
    /// How long the matcher's lease lasts unrenewed: one gateway process at a time decides
    /// results, and another takes over this long after the holder stopped (killed, stalled).
    pub matcher_lease: Duration,
    /// Where sealed packets are kept ([`objects`]); `None`: `objects/` in the data directory.
    /// Several gateway processes over one database share one store.
    pub objects: Option<objects::ObjectsAt>,
}

/// What a station registered with a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StationRole {
    /// Records residents of its kecamatan and sends their packets (every station).
    Counter,
    /// Also the Dinas of its regency: fetches the print orders of that regency's residents
    /// (each fetch audited).
    Dinas,
    /// A kecamatan server: relays the sealed packets of its kecamatan's counters (each still
    /// verified against its own station's key, recorded as that station's).
    Hub,
}

/// A registration token's default lifetime: seven days.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// Time and size limits on clients. A client over a limit is cut off; an upload keeps the
/// bytes that arrived, so an honest station on a slow link resumes where it was cut.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From the connection's start (or the end of the previous request) to the end of a
    /// request's headers; a silent or dribbling client is disconnected after it.
    pub headers: Duration,
    /// A whole request other than an upload's body, body included (`408 REQUEST_TIMEOUT`).
    pub request: Duration,
    /// The longest pause inside an upload's body before the gateway stops waiting.
    pub upload_idle: Duration,
    /// The longest one upload request may last; the station resumes with another.
    pub upload_request: Duration,
    /// The largest body of a request other than an upload (JSON), in bytes.
    pub json_body: usize,
    /// Connections served at once; more wait to be accepted.
    pub connections: usize,
    /// TLS handshakes in progress at once; more connections wait to be accepted. A flood of
    /// connections that never finish their handshake holds at most this many sockets (each
    /// for the handshake's timeout), not one per connection.
    pub handshakes: usize,
    /// Unfinished uploads a station may hold: a new one past this discards the station's
    /// oldest idle one (whose packet then starts over), so a station, however hostile, holds
    /// at most this many times `max_packet` of the data center's disk in partial uploads.
    pub open_uploads: usize,
}

impl Default for Limits {
    /// Generous for a station on a slow rural link, tight enough that a few hundred silent
    /// connections cannot take the gateway.
    fn default() -> Limits {
        Limits {
            headers: Duration::from_secs(20),
            request: Duration::from_secs(60),
            upload_idle: Duration::from_secs(60),
            upload_request: Duration::from_secs(15 * 60),
            json_body: 256 * 1024,
            connections: 1024,
            handshakes: 128,
            // A station sends at most 4 packets at once; the rest is room for uploads a
            // dropped link left behind, which the station resumes on its next pass.
            open_uploads: 32,
        }
    }
}

impl Limits {
    /// What the connection server takes of them.
    fn connection(&self) -> rekam_serve::ConnectionLimits {
        rekam_serve::ConnectionLimits {
            connections: self.connections,
            headers: self.headers,
        }
    }
}

impl Config {
    /// Defaults for `data_dir`: packets up to the station's default budget, 5 minutes of
    /// clock skew, results after 2 seconds.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            max_packet: rekam_domain::manifest::DEFAULT_BUDGET as u64,
            clock_skew: 300,
            results_delay: Duration::from_secs(2),
            tls: false,
            limits: Limits::default(),
            token_lifetime: TOKEN_LIFETIME,
            objects: None,
            matcher_lease: Duration::from_secs(15),
        }
    }
}

/// File names inside the data directory.
pub mod paths {
    use std::path::{Path, PathBuf};

    /// The database.
    pub fn db(dir: &Path) -> PathBuf {
        dir.join("gateway.db")
    }
    /// The database key.
    pub fn store_key(dir: &Path) -> PathBuf {
        dir.join("keys").join("gateway-store.key")
    }
    /// The DC's secret keys.
    pub fn dc_keys(dir: &Path) -> PathBuf {
        dir.join("keys").join("dc.key")
    }
    /// The DC's public identity.
    pub fn identity(dir: &Path) -> PathBuf {
        dir.join("dc-identity.json")
    }
    /// The TLS certificate (PEM, public).
    pub fn tls_certificate(dir: &Path) -> PathBuf {
        dir.join("tls.crt.pem")
    }
    /// The TLS key.
    pub fn tls_key(dir: &Path) -> PathBuf {
        dir.join("keys").join("tls.key")
    }
    /// Partial uploads.
    pub fn uploads(dir: &Path) -> PathBuf {
        dir.join("uploads")
    }
    /// The packet store's default place.
    pub fn objects(dir: &Path) -> PathBuf {
        dir.join("objects")
    }
}

/// Sets up a data directory for a gateway reached at `localhost` or `127.0.0.1`; see
/// [`init_for`].
pub fn init(dir: &Path, dc_id: &str) -> Result<DcIdentity> {
    init_for(dir, dc_id, &["localhost".into(), "127.0.0.1".into()])
}

/// Sets up a data directory: fresh DC keys, the database key, a TLS certificate for `names`,
/// the public identity file (keys, certificate and its pin). Refuses a directory that holds
/// keys already.
pub fn init_for(dir: &Path, dc_id: &str, names: &[String]) -> Result<DcIdentity> {
    let key_file = paths::dc_keys(dir);
    if key_file.exists() {
        return Err(GatewayError::AlreadyInitialised(key_file));
    }
    let keys_dir = dir.join("keys");
    std::fs::create_dir_all(&keys_dir).map_err(|e| GatewayError::io(&keys_dir, e))?;
    let (keys, text) = DcKeys::generate_with_text()?;
    write_private(&key_file, text.as_bytes())?;
    let db_key = db::DbKey::generate().map_err(|e| GatewayError::NoRandomness(e.to_string()))?;
    write_private(&paths::store_key(dir), db_key.to_text().as_bytes())?;
    let (cert, tls_key, pin) = tls::generate(names, "Rekam reference data center")?;
    write_private(&paths::tls_key(dir), tls_key.as_bytes())?;
    let cert_file = paths::tls_certificate(dir);
    std::fs::write(&cert_file, &cert).map_err(|e| GatewayError::io(&cert_file, e))?;
    let mut identity = keys.identity(dc_id, Some(pin));
    identity.tls_certificate = Some(cert);
    let mut public = serde_json::to_vec_pretty(&identity)?;
    public.push(b'\n');
    let identity_file = paths::identity(dir);
    std::fs::write(&identity_file, public).map_err(|e| GatewayError::io(&identity_file, e))?;
    Ok(identity)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| GatewayError::io(path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| GatewayError::io(path, e))
}

/// A running gateway's shared state.
#[derive(Debug, Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cfg: Config,
    db: Mutex<rusqlite::Connection>,
    objects: objects::Objects,
    dc: DcKeys,
    identity: DcIdentity,
    index: Mutex<results::Index>,
    /// This process's name in the matcher's lease.
    process: String,
    clock: Arc<dyn Clock>,
}

impl Drop for Inner {
    /// A process that stops in order lets go of the matcher's lease, so another takes over at
    /// once rather than when the lease lapses.
    fn drop(&mut self) {
        let conn = self
            .db
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = conn.execute(
            "DELETE FROM matcher_lease WHERE holder = ?1",
            [&self.process],
        ) {
            tracing::warn!(error = %e, "the matcher's lease not let go: it lapses");
        }
    }
}

impl Gateway {
    /// Opens the gateway of `cfg.data_dir` (set up by [`init`]).
    pub fn open(cfg: Config, clock: Arc<dyn Clock>) -> Result<Gateway> {
        let dir = &cfg.data_dir;
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(paths::dc_keys(dir))
                .map_err(|_| GatewayError::NotInitialised(dir.clone()))?,
        );
        let dc = DcKeys::from_text(&text)?;
        let identity_file = paths::identity(dir);
        let identity_bytes =
            std::fs::read(&identity_file).map_err(|e| GatewayError::io(&identity_file, e))?;
        let identity: DcIdentity =
            serde_json::from_slice(&identity_bytes).map_err(|e| GatewayError::BadFile {
                path: identity_file,
                problem: format!("not a data center identity: {e}"),
            })?;
        if identity.packet_key.id != dc.packet_key_id()
            || identity.receipt_key.id != dc.receipt_key_id()
        {
            return Err(GatewayError::IdentityMismatch);
        }
        let key_file = paths::store_key(dir);
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&key_file).map_err(|e| GatewayError::io(&key_file, e))?,
        );
        let key = db::DbKey::from_text(&text).ok_or_else(|| GatewayError::BadFile {
            path: key_file.clone(),
            problem: "expected 64 hex digits".into(),
        })?;
        let conn = db::open(&paths::db(dir), &key)?;
        let objects = objects::Objects::open(
            &cfg.objects
                .clone()
                .unwrap_or_else(|| objects::ObjectsAt::Directory(paths::objects(dir))),
        )?;
        db::move_packets_out(&conn, &objects)?;
        let uploads = paths::uploads(dir);
        std::fs::create_dir_all(&uploads).map_err(|e| GatewayError::io(&uploads, e))?;
        Ok(Gateway {
            inner: Arc::new(Inner {
                cfg,
                db: Mutex::new(conn),
                objects,
                dc,
                identity,
                // Loaded when this process takes the matcher's lease: a standby holds none.
                index: Mutex::default(),
                process: {
                    let mut raw = [0u8; 8];
                    getrandom::fill(&mut raw)
                        .map_err(|e| GatewayError::NoRandomness(e.to_string()))?;
                    format!("{}-{}", std::process::id(), hex::encode(raw))
                },
                clock,
            }),
        })
    }

    /// The public identity.
    pub fn identity(&self) -> &DcIdentity {
        &self.inner.identity
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.cfg
    }

    fn now(&self) -> i64 {
        self.inner.clock.now().unix_timestamp()
    }

    fn db(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back on
        // drop), so a poisoned lock is still usable.
        self.inner
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Issues a one-time registration token for `station_id`.
    pub fn issue_token(&self, station_id: &str) -> Result<String> {
        self.issue_token_for(station_id, StationRole::Counter)
    }

    /// A one-time registration token for `station_id` in `role`.
    pub fn issue_token_for(&self, station_id: &str, role: StationRole) -> Result<String> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|e| GatewayError::NoRandomness(e.to_string()))?;
        let token = hex::encode(raw);
        let mut conn = self.db();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO token (token, station_id, issued_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![token, station_id, self.now()],
        )?;
        let role = match role {
            StationRole::Counter => None,
            StationRole::Dinas => Some("dinas"),
            StationRole::Hub => Some("hub"),
        };
        if let Some(role) = role {
            tx.execute(
                "INSERT INTO token_role (token, role) VALUES (?1, ?2)",
                [&token, role],
            )?;
        }
        tx.commit()?;
        Ok(token)
    }

    /// What every kecamatan server (of `kecamatan`, if given) last told the data center: its
    /// counters and how long each has been silent, and every record waiting, stuck or failed
    /// with why; a hub or counter silent longer than `silent_after` seconds says so.
    pub fn snoop(&self, kecamatan: Option<&str>, silent_after: i64) -> Result<Vec<SnoopReport>> {
        let now = self.now();
        let conn = self.db();
        let mut stmt = conn.prepare(
            "SELECT station_id, kecamatan, received_at, snoop FROM hub_snoop
              WHERE ?1 IS NULL OR kecamatan = ?1 ORDER BY kecamatan, station_id",
        )?;
        let rows = stmt
            .query_map([kecamatan], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(hub_id, kecamatan, received_at, json)| {
                let snoop: rekam_packet::hub::Snoop = serde_json::from_str(&json)?;
                let silent_for = now - received_at;
                Ok(SnoopReport {
                    hub_id,
                    kecamatan,
                    silent_for,
                    silent: silent_for > silent_after,
                    stations: snoop
                        .stations
                        .into_iter()
                        .map(|s| {
                            let quiet = s.last_contact.map(|t| now - t);
                            SnoopStationLine {
                                station_id: s.station_id,
                                silent_for: quiet,
                                silent: quiet.is_none_or(|q| q > silent_after),
                            }
                        })
                        .collect(),
                    records: snoop.records,
                })
            })
            .collect()
    }

    /// Plain HTTP is served on loopback only (a test, a demo, a TLS endpoint in front on the
    /// same machine): stations' requests and packets never cross a network in clear.
    fn check_plain_http(&self, addr: std::net::SocketAddr) -> std::io::Result<()> {
        rekam_serve::plain_http_only_on_loopback(
            self.inner.cfg.tls,
            addr,
            "serve HTTPS (drop --plain-http) to listen on a network",
        )
    }

    /// Serves on `addr` from a thread of its own, for tests, benchmarks and demos (port 0
    /// picks a free one); [`Running::stop`] shuts it down, as a restart of the data center.
    pub fn spawn(self, addr: &str) -> std::io::Result<Running> {
        let listener = std::net::TcpListener::bind(addr)?;
        self.check_plain_http(listener.local_addr()?)?;
        rekam_serve::spawn(listener, "gateway", move |l| self.serve(l))
    }

    /// Serves on `listener` until the process ends, deciding results in the background.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        self.check_plain_http(listener.local_addr()?)?;
        let worker = self.clone();
        tokio::spawn(async move {
            let tick = (worker.inner.cfg.results_delay / 4)
                .clamp(Duration::from_millis(50), Duration::from_secs(1));
            loop {
                tokio::time::sleep(tick).await;
                let w = worker.clone();
                let forgotten = tokio::task::spawn_blocking(move || w.forget_old_nonces()).await;
                if let Ok(Err(e)) = forgotten {
                    tracing::error!(error = %e.message, "forgetting old request nonces failed");
                }
                let w = worker.clone();
                match tokio::task::spawn_blocking(move || w.decide_ready()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "deciding results failed"),
                    Err(e) => tracing::error!(error = %e, "result worker panicked"),
                }
            }
        });
        let router = api::router(self.clone());
        let limits = self.inner.cfg.limits;
        if self.inner.cfg.tls {
            let dir = &self.inner.cfg.data_dir;
            let acceptor = tls::acceptor(&paths::tls_certificate(dir), &paths::tls_key(dir))
                .map_err(std::io::Error::other)?;
            let tls = tls::TlsListener::new(listener, acceptor, limits.handshakes)?;
            rekam_serve::serve(tls, router, limits.connection()).await
        } else {
            rekam_serve::serve(listener, router, limits.connection()).await
        }
    }
}

/// What a kecamatan server last told the data center ([`Gateway::snoop`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SnoopReport {
    /// The hub.
    pub hub_id: String,
    /// Its kecamatan.
    pub kecamatan: String,
    /// Seconds since its last snoop arrived.
    pub silent_for: i64,
    /// Whether that is longer than the limit asked.
    pub silent: bool,
    /// Its counters: each with seconds since the hub last heard from it (`None`: never), and
    /// whether that is longer than the limit.
    pub stations: Vec<SnoopStationLine>,
    /// Every record of the kecamatan not yet final, as the hub reported it.
    pub records: Vec<rekam_packet::hub::BacklogRecord>,
}

/// A counter in a [`SnoopReport`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct SnoopStationLine {
    /// The station.
    pub station_id: String,
    /// Seconds between its last contact with the hub and the snoop's arrival.
    pub silent_for: Option<i64>,
    /// Silent longer than the limit (or never heard from).
    pub silent: bool,
}

/// A station as the data center sees it: its last heartbeat and what it has delivered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StationReport {
    /// The station.
    pub station_id: String,
    /// Its kecamatan.
    pub kecamatan: String,
    /// Packets recorded from it.
    pub packets_received: i64,
    /// Its last heartbeat, Unix seconds.
    pub last_heartbeat: Option<i64>,
    /// The backlog it reported.
    pub backlog: Option<rekam_packet::protocol::BacklogSummary>,
    /// Records waiting at the station (every state but the data center's results).
    pub waiting: i64,
    /// Why this station needs attention; empty when it does not.
    pub problems: Vec<String>,
}

/// States of a station's backlog that mean "not at the data center yet".
const WAITING_STATES: [&str; 3] = ["BIO_CAPTURED", "UPLOADING", "EXPORTED"];

impl Gateway {
    /// Every registered station with its heartbeat; `problems` names stuck records (waiting
    /// longer than `stuck_after` seconds), a reported upload failure, or a silent station.
    pub fn stations(&self, stuck_after: i64) -> Result<Vec<StationReport>> {
        let now = self.now();
        let conn = self.db();
        let mut stmt = conn.prepare(
            "SELECT s.station_id, s.kecamatan,
                    (SELECT COUNT(*) FROM packet p WHERE p.station_id = s.station_id),
                    h.at, h.backlog
             FROM station s LEFT JOIN heartbeat h ON h.station_id = s.station_id
             ORDER BY s.station_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (station_id, kecamatan, packets_received, last_heartbeat, backlog) = row?;
            let backlog: Option<rekam_packet::protocol::BacklogSummary> =
                backlog.and_then(|b| serde_json::from_str(&b).ok());
            let waiting = backlog.as_ref().map_or(0, |b| {
                WAITING_STATES.iter().filter_map(|s| b.counts.get(*s)).sum()
            });
            let mut problems = Vec::new();
            match last_heartbeat {
                None => problems.push("never sent a heartbeat".to_owned()),
                Some(at) if now - at > stuck_after => {
                    problems.push(format!("silent for {} h", (now - at) / 3600))
                }
                Some(_) => {}
            }
            if let Some(b) = &backlog {
                if let Some(oldest) = b.oldest_unsent_at.filter(|o| now - o > stuck_after) {
                    problems.push(format!(
                        "{waiting} records waiting, the oldest for {} h (mengendap)",
                        (now - oldest) / 3600
                    ));
                }
                if let Some(e) = &b.last_error {
                    problems.push(format!("last upload failure: {e}"));
                }
                // Sent before the heartbeat in every pass: still waiting means not taken.
                if let Some(n) = b.counts.get("REISSUE_WAITING").filter(|n| **n > 0) {
                    problems.push(format!(
                        "{n} reissue requests not answered (the station sends them with each pass, or on a technician's disk)"
                    ));
                }
            }
            let (stale, oldest): (i64, Option<i64>) = conn
                .prepare_cached(
                    "SELECT COUNT(*), MAX(age_days) FROM stale_biodata WHERE station_id = ?1",
                )?
                .query_row([&station_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            if stale > 0 {
                problems.push(format!(
                    "population data older than {} days behind {stale} of its records (the \
                     oldest {} days): check their biodata against SIAK",
                    rekam_domain::population::STALE_AFTER_DAYS,
                    oldest.unwrap_or(0)
                ));
            }
            let alarms = conn
                .prepare_cached("SELECT what FROM audit_alarm WHERE station_id = ?1 ORDER BY seq")?
                .query_map([&station_id], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            problems.extend(alarms);
            let revoked: Option<i64> = conn
                .prepare_cached("SELECT MAX(revoked_at) FROM key_revocation WHERE station_id = ?1")?
                .query_row([&station_id], |r| r.get(0))?;
            if let Some(at) = revoked {
                // Until a replacement registers, and while the stolen key is still being
                // tried.
                let (live, recent): (i64, i64) = conn
                    .prepare_cached(
                        "SELECT (SELECT COUNT(*) FROM station_key k WHERE k.station_id = ?1
                                   AND NOT EXISTS (SELECT 1 FROM key_revocation r
                                                   WHERE r.key_id = k.key_id)),
                                (SELECT COUNT(*) FROM revoked_use
                                 WHERE station_id = ?1 AND at > ?2)",
                    )?
                    .query_row(params![&station_id, now - stuck_after], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })?;
                if live == 0 {
                    problems.push(format!(
                        "keys revoked at {}: no replacement registered yet",
                        revoke::rfc3339(at)
                    ));
                }
                if recent > 0 {
                    problems.push(format!(
                        "{recent} use(s) of a revoked key refused lately (`rekam-gateway revocations`)"
                    ));
                }
            }
            out.push(StationReport {
                station_id,
                kecamatan,
                packets_received,
                last_heartbeat,
                backlog,
                waiting,
                problems,
            });
        }
        Ok(out)
    }
}
