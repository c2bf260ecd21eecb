//! The kecamatan server ("server AFIS di Kecamatan", seed 002): one AFIS for every counter of
//! a kecamatan.
//!
//! - counters register with a one-time token from the hub's administrator and sign every
//!   request with their station key, as they do with the data center;
//! - before sealing, a counter asks for a 1:N check against every recording of the kecamatan
//!   (claims of counters recording right now included); a clear answer claims the person for
//!   that counter, so two counters presenting one person in the same second get one clear and
//!   one refusal ([`Hub::check`]);
//! - after sealing, the counter enrols the recording; one sealed while the hub was out of reach
//!   is checked again against everything enrolled meanwhile, and a match becomes a conflict for
//!   both counters' supervisors ([`Hub::enroll`], [`Hub::conflicts`]).
//!
//! Storage is behind [`store::HubStore`]: PostgreSQL for a kecamatan's server ([`pg`], the
//! templates sealed under the hub's template key before they reach it), SQLCipher for a
//! one-machine kecamatan and the demo ([`sqlite`]). Data directory: `keys/` (the SQLCipher key,
//! the template key, the TLS key; 0600), `hub.db` (embedded only), `hub-identity.json`
//! (public: what counters pin), `tls.crt.pem`.
//!
//! Invariants: a check and the claim it makes happen under one lock, so no two counters are
//! both told a person is clear; an enrollment and its conflict are one transaction; templates
//! reach the disk only in the encrypted store; the hub never sees a name or a full NIK.

pub mod afis;
pub mod api;
pub mod error;
pub mod pg;
pub mod population;
pub mod report;
pub mod sqlite;
pub mod store;

pub use error::{HubError, Result};
pub use rekam_serve::Running;

use rekam_domain::clock::Clock;
use rekam_packet::hub::{AfisAnswer, AfisProbe, Conflict, Enrolled, HubEnrollment, HubIdentity};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{FoundConflict, HubStore, NewClaim, NewEnrollment, Record, Registered};

/// Where the hub keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// `hub.db` in the data directory, SQLCipher.
    Embedded,
    /// A PostgreSQL database (libpq connection string or `postgresql://` URL).
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Embedded => f.write_str("Embedded"),
            // The connection string may carry a password.
            Database::Postgres(_) => f.write_str("Postgres(<connection>)"),
        }
    }
}

/// How the hub runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory (keys, identity, and the embedded database).
    pub data_dir: PathBuf,
    /// Where the data is.
    pub database: Database,
    /// Serve HTTPS with the certificate made at `init` (the binary's default); plain HTTP on
    /// loopback otherwise (tests).
    pub tls: bool,
    /// The largest difference between a counter's clock and the hub's, in seconds.
    pub clock_skew: i64,
    /// How long a clear check holds the person for its counter: longer than the steps from
    /// the check to the seal take (statement, operator's finger), short enough that a
    /// recording abandoned there does not block the person for the day.
    pub claim_lifetime: Duration,
    /// How long a registration token stays usable after it is issued.
    pub token_lifetime: Duration,
    /// Connections at once and time for a request's headers.
    pub limits: rekam_serve::ConnectionLimits,
    /// How often the hub tells the data center its kecamatan's backlog, and reads the data
    /// center's results for its counters.
    pub snoop_every: Duration,
}

impl Config {
    /// Defaults for `data_dir`: HTTPS, 5 minutes of clock skew, claims for 30 minutes,
    /// tokens for 7 days.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            database: Database::Embedded,
            tls: true,
            clock_skew: 300,
            claim_lifetime: Duration::from_secs(30 * 60),
            token_lifetime: Duration::from_secs(7 * 24 * 3600),
            snoop_every: Duration::from_secs(60),
            limits: rekam_serve::ConnectionLimits {
                connections: 256,
                headers: Duration::from_secs(20),
            },
        }
    }
}

/// File names inside the data directory.
pub mod paths {
    use std::path::{Path, PathBuf};

    /// The embedded database.
    pub fn db(dir: &Path) -> PathBuf {
        dir.join("hub.db")
    }
    /// The embedded database's key.
    pub fn store_key(dir: &Path) -> PathBuf {
        dir.join("keys").join("hub-store.key")
    }
    /// The key that seals templates before they reach PostgreSQL.
    pub fn template_key(dir: &Path) -> PathBuf {
        dir.join("keys").join("hub-templates.key")
    }
    /// The public identity counters pin.
    pub fn identity(dir: &Path) -> PathBuf {
        dir.join("hub-identity.json")
    }
    /// The TLS certificate (PEM, public).
    pub fn tls_certificate(dir: &Path) -> PathBuf {
        dir.join("tls.crt.pem")
    }
    /// The TLS key.
    pub fn tls_key(dir: &Path) -> PathBuf {
        dir.join("keys").join("tls.key")
    }
    /// The hub's signing key: what the data center knows it by when it relays packets.
    pub fn signing_key(dir: &Path) -> PathBuf {
        dir.join("keys").join("hub-signing.key")
    }
    /// The X25519 key the Dinas seals the kecamatan's population extracts to.
    pub fn population_key(dir: &Path) -> PathBuf {
        dir.join("keys").join("hub-population.key")
    }
    /// The Dinas's extract key the hub trusts (public, hex).
    pub fn population_signer(dir: &Path) -> PathBuf {
        dir.join("population-signer.pub")
    }
    /// The data center the hub relays to (its address and pinned identity), once joined.
    pub fn data_center(dir: &Path) -> PathBuf {
        dir.join("data-center.json")
    }
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|e| HubError::NoRandomness(e.to_string()))?;
    Ok(hex::encode(b))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| HubError::io(path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| HubError::io(path, e))
}

/// A 32-byte key from its file (64 hex digits).
fn read_key(dir: &Path, file: &Path) -> Result<zeroize::Zeroizing<[u8; 32]>> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(file).map_err(|_| HubError::NotInitialised(dir.to_owned()))?,
    );
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), key.as_mut()).map_err(|_| HubError::BadFile {
        path: file.to_owned(),
        problem: "expected 64 hex digits".into(),
    })?;
    Ok(key)
}

/// Sets up a data directory for the hub of `kecamatan` (six digits) reached at `names` (the
/// TLS certificate's host names and addresses): the store key, the certificate, and the
/// identity file counters pin.
pub fn init(dir: &Path, hub_id: &str, kecamatan: &str, names: &[String]) -> Result<HubIdentity> {
    if kecamatan.len() != 6 || !kecamatan.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HubError::BadKecamatan(kecamatan.to_owned()));
    }
    let identity_file = paths::identity(dir);
    if identity_file.exists() {
        return Err(HubError::AlreadyInitialised(identity_file));
    }
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).map_err(|e| HubError::io(&keys, e))?;
    for key in [
        paths::store_key(dir),
        paths::template_key(dir),
        paths::population_key(dir),
    ] {
        write_private(
            &key,
            zeroize::Zeroizing::new(random_hex(32)? + "\n").as_bytes(),
        )?;
    }
    let signing =
        rekam_packet::StationKey::generate().map_err(|e| HubError::NoRandomness(e.to_string()))?;
    write_private(&paths::signing_key(dir), signing.to_hex().as_bytes())?;
    let (cert, tls_key, pin) = rekam_serve::tls::generate(names, "Rekam kecamatan server")?;
    write_private(&paths::tls_key(dir), tls_key.as_bytes())?;
    let cert_file = paths::tls_certificate(dir);
    std::fs::write(&cert_file, &cert).map_err(|e| HubError::io(&cert_file, e))?;
    let identity = HubIdentity {
        hub_id: hub_id.to_owned(),
        kecamatan: kecamatan.to_owned(),
        tls_certificate_sha256: pin,
        tls_certificate: cert,
    };
    let mut json = serde_json::to_vec_pretty(&identity).map_err(|e| HubError::BadFile {
        path: identity_file.clone(),
        problem: e.to_string(),
    })?;
    json.push(b'\n');
    std::fs::write(&identity_file, json).map_err(|e| HubError::io(&identity_file, e))?;
    Ok(identity)
}

/// The data center the hub relays to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct JoinedDc {
    url: String,
    identity: rekam_packet::DcIdentity,
}

/// A running hub's shared state.
#[derive(Debug, Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cfg: Config,
    identity: HubIdentity,
    store: Arc<dyn HubStore>,
    /// The gallery; its lock is held from a check's search to its claim, and from an
    /// enrollment's search to its write.
    gallery: Mutex<afis::Gallery>,
    clock: Arc<dyn Clock>,
}

impl Hub {
    /// Opens the hub of `cfg.data_dir` on the database `cfg.database`.
    pub fn open(cfg: Config, clock: Arc<dyn Clock>) -> Result<Hub> {
        let dir = &cfg.data_dir;
        let store: Arc<dyn HubStore> = match &cfg.database {
            Database::Embedded => Arc::new(sqlite::SqliteStore::open(
                &paths::db(dir),
                &*read_key(dir, &paths::store_key(dir))?,
            )?),
            Database::Postgres(url) => Arc::new(pg::PgStore::open(
                url,
                &*read_key(dir, &paths::template_key(dir))?,
            )?),
        };
        Hub::with_store(cfg, store, clock)
    }

    /// Opens the hub of `cfg.data_dir` (its identity) on `store`.
    pub fn with_store(cfg: Config, store: Arc<dyn HubStore>, clock: Arc<dyn Clock>) -> Result<Hub> {
        let file = paths::identity(&cfg.data_dir);
        let bytes =
            std::fs::read(&file).map_err(|_| HubError::NotInitialised(cfg.data_dir.clone()))?;
        let identity: HubIdentity =
            serde_json::from_slice(&bytes).map_err(|e| HubError::BadFile {
                path: file.clone(),
                problem: format!("not a hub identity: {e}"),
            })?;
        let gallery = afis::Gallery::load(store.as_ref())?;
        Ok(Hub {
            inner: Arc::new(Inner {
                cfg,
                identity,
                store,
                gallery: Mutex::new(gallery),
                clock,
            }),
        })
    }

    /// The identity counters pin.
    pub fn identity(&self) -> &HubIdentity {
        &self.inner.identity
    }

    /// The store.
    pub fn store(&self) -> &dyn HubStore {
        self.inner.store.as_ref()
    }

    pub(crate) fn now(&self) -> i64 {
        self.inner.clock.now().unix_timestamp()
    }

    fn rfc3339(&self, unix: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp(unix)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }

    fn gallery(&self) -> std::sync::MutexGuard<'_, afis::Gallery> {
        // Nothing in the gallery is half-written while a panic unwinds: rows are added after
        // their transaction committed.
        self.inner.gallery.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Issues a one-time registration token for `station_id`.
    pub fn issue_token(&self, station_id: &str) -> Result<String> {
        let token = random_hex(16)?;
        self.store().issue_token(&token, station_id, self.now())?;
        Ok(token)
    }

    /// Registers a counter of this kecamatan.
    pub fn register(
        &self,
        reg: &rekam_packet::protocol::Registration,
    ) -> std::result::Result<(), api::Refusal> {
        use axum::http::StatusCode;
        let key = reg.verify()?;
        self.check_clock(reg.time)?;
        if reg.kecamatan != self.inner.identity.kecamatan {
            return Err(api::Refusal::new(
                StatusCode::FORBIDDEN,
                "WRONG_KECAMATAN",
                format!(
                    "this hub serves kecamatan {}, the station is of {}: register it with its own kecamatan's hub",
                    self.inner.identity.kecamatan, reg.kecamatan
                ),
            ));
        }
        let now = self.now();
        let key_id = rekam_packet::KeyId::of(key.as_bytes()).to_string();
        let done = self.store().register(&store::NewStation {
            station_id: &reg.station_id,
            key_id: &key_id,
            public_key: &reg.public_key,
            token: &reg.token,
            now,
            issued_after: now - self.inner.cfg.token_lifetime.as_secs() as i64,
        })?;
        match done {
            Registered::Done => {
                tracing::info!(station = %reg.station_id, "counter registered");
                Ok(())
            }
            Registered::TokenInvalid => Err(api::Refusal::new(
                StatusCode::FORBIDDEN,
                "TOKEN_INVALID",
                "the registration token is unknown, used, or for another station: ask the hub's administrator for a new one",
            )),
            Registered::TokenExpired => Err(api::Refusal::new(
                StatusCode::FORBIDDEN,
                "TOKEN_EXPIRED",
                "the registration token expired: ask the hub's administrator for a new one",
            )),
            Registered::StationExists => Err(api::Refusal::new(
                StatusCode::CONFLICT,
                "STATION_EXISTS",
                format!(
                    "station {} is registered at this hub already",
                    reg.station_id
                ),
            )),
        }
    }

    pub(crate) fn check_clock(&self, time: i64) -> std::result::Result<(), api::Refusal> {
        let skew = time - self.now();
        if skew.abs() > self.inner.cfg.clock_skew {
            return Err(api::Refusal::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "CLOCK_SKEW",
                format!(
                    "the station's clock is {skew} s off the hub's (tolerance {} s): set the station's date and time",
                    self.inner.cfg.clock_skew
                ),
            ));
        }
        Ok(())
    }

    fn matched(row: &Record, verdict: &rekam_bio::person::Verdict) -> rekam_packet::hub::Match {
        rekam_packet::hub::Match {
            station_id: row.station_id.clone(),
            masked_nik: row.masked_nik.clone(),
            packet_id: row.packet_id.clone(),
            recorded_at: row.at.clone(),
            queue_number: row
                .packet_id
                .is_none()
                .then(|| row.queue_number.clone())
                .flatten(),
            matching: verdict.matching,
            compared: verdict.compared,
        }
    }

    /// A counter's 1:N check before sealing: the person against every enrolled recording
    /// and every live claim of the other counters (this counter's own claims are its own
    /// earlier attempts, and its own recordings it checks itself). Clear: the person is
    /// claimed for `station_id`.
    pub fn check(
        &self,
        station_id: &str,
        probe: &AfisProbe,
    ) -> std::result::Result<AfisAnswer, api::Refusal> {
        let templates = api::templates(&probe.templates)?;
        let person = afis::person(&templates).ok_or_else(api::template_invalid)?;
        let now = self.now();
        let mut gallery = self.gallery();
        let found = gallery.search(self.store(), &person, |row| {
            if row.lapsed(now) {
                return false;
            }
            row.packet_id.is_some() || row.station_id != station_id
        })?;
        if let Some((row, verdict)) = found {
            tracing::info!(
                station = station_id,
                earlier = row.id,
                "kecamatan duplicate"
            );
            return Ok(AfisAnswer::Duplicate(Self::matched(&row, &verdict)));
        }
        let claim = random_hex(16)?;
        let expires_at = now + self.inner.cfg.claim_lifetime.as_secs() as i64;
        let id = self.store().claim(&NewClaim {
            station_id,
            claim: &claim,
            queue_number: &probe.queue_number,
            masked_nik: &probe.masked_nik,
            at: &self.rfc3339(now),
            expires_at,
            templates: &templates,
        })?;
        gallery.add(id, &templates.codes)?;
        Ok(AfisAnswer::Clear {
            claim,
            gallery: gallery.len() as u64,
            expires_at,
        })
    }

    /// Enrolls a sealed recording. Sent again (a lost answer), it answers as the first time.
    /// A recording is compared with the other counters' enrolled recordings; a match is a
    /// conflict, written with the enrollment.
    pub fn enroll(
        &self,
        station_id: &str,
        e: &HubEnrollment,
    ) -> std::result::Result<Enrolled, api::Refusal> {
        let mut gallery = self.gallery();
        if let Some(row) = self.store().by_packet(&e.packet_id)? {
            if row.station_id != station_id {
                return Err(api::not_yours(station_id, &e.packet_id));
            }
            return self.enrolled(row.id);
        }
        let bound = rekam_packet::envelope::PacketId::parse(&e.packet_id)
            .and_then(|id| id.belongs_to(station_id));
        if bound == Some(false) {
            return Err(api::not_yours(station_id, &e.packet_id));
        }
        let templates = api::templates(&e.templates)?;
        let person = afis::person(&templates).ok_or_else(api::template_invalid)?;
        let found = gallery.search(self.store(), &person, |row| {
            row.packet_id.is_some() && row.station_id != station_id
        })?;
        let conflict_with = found.as_ref().map(|(row, v)| FoundConflict {
            earlier: row.id,
            matching: v.matching,
            compared: v.compared,
        });
        let (id, new) = self.store().enroll(&NewEnrollment {
            station_id,
            claim: e.claim.as_deref(),
            packet_id: &e.packet_id,
            masked_nik: &e.masked_nik,
            recorded_at: &e.recorded_at,
            checked_at_hub: e.checked_at_hub.as_deref(),
            now: self.now(),
            templates: &templates,
            conflict_with,
        })?;
        if new {
            gallery.add(id, &templates.codes)?;
        }
        if let Some((row, _)) = &found {
            tracing::warn!(
                station = station_id,
                record = id,
                earlier = row.id,
                "conflict found at enrollment"
            );
        }
        drop(gallery);
        self.enrolled(id)
    }

    fn enrolled(&self, id: i64) -> std::result::Result<Enrolled, api::Refusal> {
        let conflict = self.store().conflict_of(id)?.map(|c| self.conflict(c));
        Ok(Enrolled {
            record: id,
            conflict,
        })
    }

    fn conflict(&self, c: store::ConflictRow) -> Conflict {
        let verdict = rekam_bio::person::Verdict {
            fused: 0,
            matching: c.matching,
            compared: c.compared,
            same: true,
        };
        Conflict {
            id: c.id,
            packet_id: c.later.packet_id.clone().unwrap_or_default(),
            station_id: c.later.station_id.clone(),
            masked_nik: c.later.masked_nik.clone(),
            earlier: Self::matched(&c.earlier, &verdict),
            found_at: self.rfc3339(c.found_at),
        }
    }

    /// The conflicts naming `station_id` after the cursor `after`.
    pub fn conflicts(&self, station_id: &str, after: i64) -> Result<Vec<Conflict>> {
        Ok(self
            .store()
            .conflicts(station_id, after, 500)?
            .into_iter()
            .map(|c| self.conflict(c))
            .collect())
    }

    /// The other counters' recordings enrolled after place `after`, for `station_id`'s copy of
    /// the gallery (a page of 500 at most).
    pub fn gallery_page(
        &self,
        station_id: &str,
        after: i64,
    ) -> Result<rekam_packet::hub::GalleryPage> {
        use base64::Engine as _;
        const PAGE: u32 = 500;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let rows = self.store().gallery_after(station_id, after, PAGE + 1)?;
        let more = rows.len() > PAGE as usize;
        let records = rows
            .into_iter()
            .take(PAGE as usize)
            .map(|(seq, r)| rekam_packet::hub::GalleryRecord {
                seq,
                station_id: r.station_id,
                masked_nik: r.masked_nik,
                packet_id: r.packet_id.unwrap_or_default(),
                recorded_at: r.at,
                templates: rekam_packet::hub::Templates {
                    codes: b64(&r.codes),
                    minutiae: b64(&r.minutiae),
                    irises: b64(&r.irises),
                },
            })
            .collect();
        Ok(rekam_packet::hub::GalleryPage { records, more })
    }

    /// The next number of the kecamatan's queue on `day` (`YYYY-MM-DD`), for `station_id`.
    pub fn ticket(
        &self,
        station_id: &str,
        day: &str,
    ) -> std::result::Result<rekam_packet::hub::Ticket, api::Refusal> {
        report::check_day(day)?;
        Ok(rekam_packet::hub::Ticket {
            number: self.store().next_ticket(day, station_id, self.now())?,
        })
    }

    /// Joins the data center at `url` whose identity file is `dc`, spending the token the data
    /// center issued for this hub (`rekam-gateway token --hub --station <hub id>`): from then
    /// on the hub forwards the packets counters leave with it.
    pub fn join_data_center(
        &self,
        url: &str,
        dc: &rekam_packet::DcIdentity,
        token: &str,
    ) -> Result<()> {
        let key = self.signing_key()?;
        let id = &self.inner.identity;
        let reg = rekam_packet::protocol::Registration::new(
            &key,
            &id.hub_id,
            &id.kecamatan,
            token,
            self.now(),
        );
        let answered = rekam_sync::register(url, Some(dc), &reg)
            .map_err(|e| HubError::DataCenter(format!("{} ({})", e, e.code())))?;
        if answered.packet_key != dc.packet_key || answered.receipt_key != dc.receipt_key {
            return Err(HubError::DataCenter(
                "the data center answered with other keys than its identity file: nothing pinned"
                    .into(),
            ));
        }
        let file = paths::data_center(&self.inner.cfg.data_dir);
        let json = serde_json::to_vec_pretty(&JoinedDc {
            url: url.to_owned(),
            identity: dc.clone(),
        })
        .map_err(|e| HubError::DataCenter(e.to_string()))?;
        std::fs::write(&file, json).map_err(|e| HubError::io(&file, e))?;
        Ok(())
    }

    fn signing_key(&self) -> Result<rekam_packet::StationKey> {
        let file = paths::signing_key(&self.inner.cfg.data_dir);
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&file).map_err(|e| HubError::io(&file, e))?,
        );
        rekam_packet::StationKey::from_hex(text.trim()).map_err(|_| HubError::BadFile {
            path: file,
            problem: "expected 64 hex digits".into(),
        })
    }

    /// The data center the hub joined, if it did.
    fn joined(&self) -> Result<Option<JoinedDc>> {
        let file = paths::data_center(&self.inner.cfg.data_dir);
        match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| HubError::BadFile {
                    path: file,
                    problem: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HubError::io(&file, e)),
        }
    }

    /// Holds a counter's sealed packet for the data center: it must be the counter's own (its
    /// header's station, its id bound to it) and within `max` bytes. The hub cannot open it.
    pub fn hold(
        &self,
        station_id: &str,
        packet_id: &str,
        sealed: &[u8],
    ) -> std::result::Result<rekam_packet::hub::RelayState, api::Refusal> {
        use axum::http::StatusCode;
        let packet = rekam_packet::SealedPacket::parse(sealed)?;
        let header = packet.header();
        if header.station_id != station_id || header.packet_id.to_string() != packet_id {
            return Err(api::not_yours(station_id, packet_id));
        }
        if header.packet_id.belongs_to(station_id) == Some(false) {
            return Err(api::not_yours(station_id, packet_id));
        }
        if let Some(held) = self.store().relay_state(packet_id)?
            && held.station_id != station_id
        {
            return Err(api::Refusal::new(
                StatusCode::CONFLICT,
                "PACKET_ID_NOT_YOURS",
                format!("packet {packet_id} is held for another counter"),
            ));
        }
        self.store()
            .hold(packet_id, station_id, sealed, self.now())?;
        self.relay_state(station_id, packet_id)
    }

    /// Where a packet the hub holds for `station_id` stands.
    pub fn relay_state(
        &self,
        station_id: &str,
        packet_id: &str,
    ) -> std::result::Result<rekam_packet::hub::RelayState, api::Refusal> {
        let Some(row) = self
            .store()
            .relay_state(packet_id)?
            .filter(|r| r.station_id == station_id)
        else {
            return Err(api::Refusal::new(
                axum::http::StatusCode::NOT_FOUND,
                "RELAY_UNKNOWN",
                format!("the hub holds no packet {packet_id} of this counter: leave it again"),
            ));
        };
        let receipt = row
            .receipt
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| HubError::Database(format!("a stored receipt: {e}")))?;
        Ok(rekam_packet::hub::RelayState {
            receipt,
            last_error: row.last_error,
        })
    }

    /// Holds a counter's reissue request for the data center (sealed to it: the hub reads
    /// nothing of the resident); it must name the counter that sent it, and a request id is
    /// one counter's.
    pub fn hold_reissue(
        &self,
        station_id: &str,
        request_id: &str,
        relayed: &rekam_packet::reissue::RelayedReissue,
    ) -> std::result::Result<rekam_packet::hub::ReissueRelayState, api::Refusal> {
        use axum::http::StatusCode;
        if relayed.station_id != station_id || relayed.request_id != request_id {
            return Err(api::Refusal::new(
                StatusCode::FORBIDDEN,
                "REQUEST_NOT_YOURS",
                format!(
                    "the body is request {} of station {}: a counter leaves its own requests, each under its own id",
                    relayed.request_id, relayed.station_id
                ),
            ));
        }
        if let Some(held) = self.store().reissue_relay_state(request_id)?
            && held.station_id != station_id
        {
            return Err(api::Refusal::new(
                StatusCode::CONFLICT,
                "REQUEST_ID_TAKEN",
                format!("request {request_id} is held for another counter"),
            ));
        }
        let json = serde_json::to_string(relayed).map_err(|e| HubError::Database(e.to_string()))?;
        self.store()
            .hold_reissue(request_id, station_id, &json, self.now())?;
        self.reissue_relay_state(station_id, request_id)
    }

    /// Where a reissue request the hub holds for `station_id` stands.
    pub fn reissue_relay_state(
        &self,
        station_id: &str,
        request_id: &str,
    ) -> std::result::Result<rekam_packet::hub::ReissueRelayState, api::Refusal> {
        let Some(row) = self
            .store()
            .reissue_relay_state(request_id)?
            .filter(|r| r.station_id == station_id)
        else {
            return Err(api::Refusal::new(
                axum::http::StatusCode::NOT_FOUND,
                "RELAY_UNKNOWN",
                format!("the hub holds no request {request_id} of this counter: leave it again"),
            ));
        };
        let answer = row
            .answer
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|e| HubError::Database(format!("a stored reissue answer: {e}")))?;
        Ok(rekam_packet::hub::ReissueRelayState {
            answer,
            last_error: row.last_error,
        })
    }

    /// Forwards the packets held for the data center, each with the resumable upload a counter
    /// uses, then the reissue requests; keeps each receipt after verifying it against the
    /// data center's pinned identity and the packet's content hash, and each answer after
    /// verifying it is the data center's answer to that counter's request. Returns how many
    /// were forwarded; a failure is kept on its packet or request, and the rest still go.
    pub fn forward(&self) -> Result<usize> {
        let Some(joined) = self.joined()? else {
            return Ok(0);
        };
        let due = self.store().relay_due(50)?;
        let reissues = self.store().reissues_due(50)?;
        if due.is_empty() && reissues.is_empty() {
            return Ok(0);
        }
        let client = self.dc_client(&joined)?;
        let mut forwarded = 0;
        let down = |e: &rekam_sync::SyncError| matches!(e, rekam_sync::SyncError::Transport { .. });
        for (packet_id, sealed) in due {
            match client.send(&sealed, &joined.identity) {
                Ok(receipt) => {
                    let json = serde_json::to_string(&receipt)
                        .map_err(|e| HubError::Database(e.to_string()))?;
                    self.store().relayed(&packet_id, &json, self.now())?;
                    forwarded += 1;
                }
                Err(e) => {
                    tracing::warn!(packet = %packet_id, code = e.code(), "forward failed");
                    self.store().relay_failed(&packet_id, e.code())?;
                    if down(&e) {
                        return Ok(forwarded); // the next round tries again
                    }
                }
            }
        }
        for (request_id, json) in reissues {
            let relayed: rekam_packet::reissue::RelayedReissue = serde_json::from_str(&json)
                .map_err(|e| HubError::Database(format!("a held reissue request: {e}")))?;
            let answer = client.relay_reissue(&relayed).and_then(|answer| {
                // Kept only as the data center's answer to this counter's request.
                answer
                    .verify(&joined.identity, &relayed.station_id, &request_id)
                    .map_err(rekam_sync::SyncError::from)?;
                Ok(answer)
            });
            match answer {
                Ok(answer) => {
                    let json = serde_json::to_string(&answer)
                        .map_err(|e| HubError::Database(e.to_string()))?;
                    self.store()
                        .reissue_relayed(&request_id, &json, self.now())?;
                    forwarded += 1;
                }
                Err(e) => {
                    tracing::warn!(request = %request_id, code = e.code(), "forward failed");
                    self.store().reissue_relay_failed(&request_id, e.code())?;
                    if down(&e) {
                        break;
                    }
                }
            }
        }
        Ok(forwarded)
    }

    /// Reads the data center's result feed for the kecamatan's counters on from where the hub
    /// stopped, verifying every event against the pinned identity, and keeps it for counters
    /// that cannot reach the data center themselves. Returns how many events were kept.
    pub fn pull_results(&self) -> Result<usize> {
        let Some(joined) = self.joined()? else {
            return Ok(0);
        };
        let client = self.dc_client(&joined)?;
        let mut kept = 0;
        loop {
            let cursor = self.store().results_cursor()?;
            let page = client
                .kecamatan_results(cursor, &joined.identity)
                .map_err(|e| HubError::DataCenter(format!("{e} ({})", e.code())))?;
            if page.events.is_empty() {
                return Ok(kept);
            }
            let rows = page
                .events
                .iter()
                .map(|e| {
                    Ok(store::ResultRow {
                        cursor: e.cursor,
                        station_id: e.station_id.clone(),
                        event: serde_json::to_string(e)
                            .map_err(|e| HubError::Database(e.to_string()))?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            self.store().keep_results(&rows)?;
            kept += rows.len();
        }
    }

    /// The result events kept for `station_id` after `after`, a page at a time.
    pub fn results_for(
        &self,
        station_id: &str,
        after: i64,
    ) -> Result<rekam_packet::protocol::ResultsPage> {
        let events = self
            .store()
            .results_for(station_id, after, 500)?
            .into_iter()
            .map(|row| {
                serde_json::from_str::<rekam_packet::protocol::ResultEvent>(&row.event)
                    .map_err(|e| HubError::Database(format!("a kept result: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = events.last().map_or(after, |e| e.cursor);
        Ok(rekam_packet::protocol::ResultsPage {
            events,
            next_cursor,
        })
    }

    /// Every record of the kecamatan not yet final: what each counter last reported, and the
    /// packets the hub holds for the data center without a receipt (`HELD_AT_HUB`).
    pub fn backlog(&self) -> Result<Vec<rekam_packet::hub::BacklogRecord>> {
        let now = self.now();
        let mut records = self.store().backlog()?;
        for held in self.store().relay_backlog()? {
            let age = now - held.received_at;
            let code = held.last_error;
            records.push(rekam_packet::hub::BacklogRecord {
                packet_id: held.packet_id,
                station_id: held.station_id,
                state: "HELD_AT_HUB".into(),
                recorded_at: self.rfc3339(held.received_at),
                age_seconds: age,
                stuck: age > 24 * 3600 || code.is_some(),
                next_step: match &code {
                    Some(_) => "server kecamatan belum dapat meneruskan ke pusat data; periksa jaringan server kecamatan".into(),
                    None => "menunggu diteruskan server kecamatan".into(),
                },
                code,
            });
        }
        Ok(records)
    }

    /// The hub's heartbeat to the data center: every counter and its last contact, every
    /// record of the kecamatan not yet final.
    pub fn snoop(&self) -> Result<rekam_packet::hub::Snoop> {
        Ok(rekam_packet::hub::Snoop {
            kecamatan: self.inner.identity.kecamatan.clone(),
            at: self.now(),
            stations: self
                .store()
                .stations()?
                .into_iter()
                .map(|s| rekam_packet::hub::SnoopStation {
                    station_id: s.station_id,
                    last_contact: s.last_contact,
                })
                .collect(),
            records: self.backlog()?,
        })
    }

    /// Sends the snoop to the data center the hub joined (nothing when it joined none).
    pub fn send_snoop(&self) -> Result<bool> {
        let Some(joined) = self.joined()? else {
            return Ok(false);
        };
        let client = self.dc_client(&joined)?;
        client
            .snoop(&self.snoop()?)
            .map_err(|e| HubError::DataCenter(format!("{e} ({})", e.code())))?;
        Ok(true)
    }

    fn dc_client(&self, joined: &JoinedDc) -> Result<rekam_sync::DcClient> {
        rekam_sync::DcClient::with_timeouts(
            &joined.url,
            &self.inner.identity.hub_id,
            self.signing_key()?,
            Some(&joined.identity),
            Duration::from_secs(10),
            Duration::from_secs(120),
        )
        .map_err(|e| HubError::DataCenter(e.to_string()))
    }

    /// Drops lapsed claims and old nonces (the server does it every few seconds).
    pub fn tidy(&self) -> Result<()> {
        let now = self.now();
        let dropped = self.store().drop_lapsed_claims(now)?;
        if !dropped.is_empty() {
            tracing::info!(claims = dropped.len(), "lapsed claims dropped");
        }
        self.store().forget_nonces(now - self.inner.cfg.clock_skew)
    }

    fn check_plain_http(&self, addr: std::net::SocketAddr) -> std::io::Result<()> {
        rekam_serve::plain_http_only_on_loopback(
            self.inner.cfg.tls,
            addr,
            "serve HTTPS (drop --plain-http) to listen on the kecamatan's network",
        )
    }

    /// Serves on `addr` from a thread of its own (tests, the demo); port 0 picks a free one.
    pub fn spawn(self, addr: &str) -> std::io::Result<Running> {
        let listener = std::net::TcpListener::bind(addr)?;
        self.check_plain_http(listener.local_addr()?)?;
        self.store()
            .serve_exclusively()
            .map_err(std::io::Error::other)?;
        rekam_serve::spawn(listener, "hub", move |l| self.serve(l))
    }

    /// Serves on `listener` until the process ends, tidying in the background.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        self.check_plain_http(listener.local_addr()?)?;
        // The store's calls block (PostgreSQL's client runs its own runtime): off this thread.
        let h = self.clone();
        tokio::task::spawn_blocking(move || h.store().serve_exclusively())
            .await
            .map_err(std::io::Error::other)?
            .map_err(std::io::Error::other)?;
        let worker = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let w = worker.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || w.tidy()).await {
                    tracing::error!(error = %e, "tidying the hub failed");
                }
            }
        });
        let snoop = self.clone();
        tokio::spawn(async move {
            // Small and independent of the uploads: it goes when packets cannot.
            loop {
                let w = snoop.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || w.send_snoop()).await {
                    tracing::warn!(error = %e, "the snoop did not reach the data center");
                }
                // The results back at the same pace: a counter that reaches the data center
                // reads its own; the hub's copy is for those that cannot.
                let w = snoop.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || w.pull_results()).await {
                    tracing::warn!(error = %e, "the data center's results were not read");
                }
                tokio::time::sleep(snoop.inner.cfg.snoop_every).await;
            }
        });
        let relay = self.clone();
        tokio::spawn(async move {
            loop {
                let w = relay.clone();
                match tokio::task::spawn_blocking(move || w.forward()).await {
                    Ok(Ok(0)) | Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                    Ok(Ok(n)) => {
                        tracing::info!(forwarded = n, "packets relayed to the data center")
                    }
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "relaying to the data center failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        let router = api::router(self.clone());
        let limits = self.inner.cfg.limits;
        if self.inner.cfg.tls {
            let dir = &self.inner.cfg.data_dir;
            let acceptor =
                rekam_serve::tls::acceptor(&paths::tls_certificate(dir), &paths::tls_key(dir))
                    .map_err(std::io::Error::other)?;
            let tls = rekam_serve::tls::TlsListener::new(listener, acceptor, 64)?;
            rekam_serve::serve(tls, router, limits).await
        } else {
            rekam_serve::serve(listener, router, limits).await
        }
    }
}
