//! The station's side of the data center protocol (`docs/gateway-api.yaml`): a blocking HTTP
//! client that registers, uploads sealed packets with tus 1.0 (creation + resume from the
//! gateway's offset), commits them and checks the signed receipt, reads the result feed and
//! sends heartbeats. It knows bytes and protocol, not the station's store: the background
//! sync task (and the CLI) drive it.
//!
//! Every request but registration is signed with the station's key
//! ([`rekam_packet::protocol::RequestAuth`]).

pub mod hub;
pub mod siak;
#[cfg(feature = "training")]
pub mod training;

use base64::Engine as _;
use rekam_packet::envelope::SealedPacket;
use rekam_packet::protocol::{
    ApiError, CommitRequest, Heartbeat, KeyRotation, Receipt, Registration, RequestAuth,
    ResultsPage, UNSIGNED_BODY, body_hash, header,
};
use rekam_packet::{DcIdentity, PacketError, StationKey};
use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder, Response};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The tus protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";

/// Why a call to the data center failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The request did not reach the data center or its answer did not arrive.
    #[error("the data center could not be reached ({kind:?}): {detail}")]
    Transport {
        /// What went wrong on the way.
        kind: Link,
        /// The transport's own words.
        detail: String,
    },
    /// The data center refused, with its code.
    #[error("the data center refused ({status} {code}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The gateway's stable code.
        code: String,
        /// Its words.
        message: String,
    },
    /// The answer is not what the protocol says.
    #[error("the data center's answer breaks the protocol: {0}")]
    Protocol(String),
    /// A receipt, result or identity that does not verify.
    #[error(transparent)]
    Packet(#[from] PacketError),
    /// A plain `http://` address of another machine: nothing is sent in clear over a network.
    #[error(
        "{0} is plain http:// to another machine: use the data center's https:// address with its identity file"
    )]
    PlainHttp(String),
}

/// Why a request did not get through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// No connection: cable, network, or the gateway is down.
    Down,
    /// The name of the data center could not be resolved.
    Dns,
    /// TLS failed: certificate not the pinned one, or the handshake broke.
    Tls,
    /// No answer in time.
    Timeout,
    /// The connection broke during the request.
    Dropped,
}

impl SyncError {
    /// The gateway's code for a refusal; for the rest a code of this client: `LINK_DOWN`,
    /// `DNS`, `TLS`, `TIMEOUT`, `CONNECTION_DROPPED`, `PROTOCOL`.
    pub fn code(&self) -> &str {
        match self {
            SyncError::Transport { kind, .. } => match kind {
                Link::Down => "LINK_DOWN",
                Link::Dns => "DNS",
                Link::Tls => "TLS",
                Link::Timeout => "TIMEOUT",
                Link::Dropped => "CONNECTION_DROPPED",
            },
            SyncError::Refused { code, .. } => code,
            SyncError::Protocol(_) => "PROTOCOL",
            SyncError::Packet(e) => e.code(),
            SyncError::PlainHttp(_) => "PLAIN_HTTP",
        }
    }
}

pub(crate) fn transport(e: reqwest::Error) -> SyncError {
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        chain.push_str(&s.to_string().to_lowercase());
        chain.push_str(": ");
        source = s.source();
    }
    let kind = if e.is_timeout() {
        Link::Timeout
    } else if chain.contains("dns error") || chain.contains("failed to lookup") {
        Link::Dns
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake")
    {
        Link::Tls
    } else if e.is_connect() {
        Link::Down
    } else {
        Link::Dropped
    };
    SyncError::Transport {
        kind,
        detail: chain.trim_end_matches(": ").to_owned(),
    }
}

/// Turns a non-success answer into [`SyncError::Refused`].
pub(crate) fn checked(r: Response) -> Result<Response, SyncError> {
    if r.status().is_success() {
        return Ok(r);
    }
    let status = r.status().as_u16();
    let header_code = r
        .headers()
        .get(header::CODE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = r.bytes().map_err(transport)?;
    let (code, message) = match serde_json::from_slice::<ApiError>(&body) {
        Ok(e) => (e.code, e.message),
        // A refused HEAD has no body: its code is in the header alone.
        Err(_) => (
            header_code.unwrap_or_else(|| format!("HTTP_{status}")),
            String::from_utf8_lossy(&body).chars().take(200).collect(),
        ),
    };
    Err(SyncError::Refused {
        status,
        code,
        message,
    })
}

/// Registers a station at `base_url` (no key is registered yet, so the request is not
/// signed: the registration carries its own proof). Returns the identity the gateway
/// answers with; the caller compares it with the pinned one.
pub fn register(
    base_url: &str,
    dc: Option<&DcIdentity>,
    reg: &Registration,
) -> Result<DcIdentity, SyncError> {
    post_registration(&short(dc, base_url)?, base_url, reg)
}

/// Posts `reg` to `/v1/stations/register` at `base_url` (a gateway or a hub: both answer
/// with their identity).
fn post_registration<T: serde::de::DeserializeOwned>(
    http: &Client,
    base_url: &str,
    reg: &Registration,
) -> Result<T, SyncError> {
    let r = http
        .post(format!(
            "{}/v1/stations/register",
            base_url.trim_end_matches('/')
        ))
        .json(reg)
        .send()
        .map_err(transport)?;
    checked(r)?
        .json()
        .map_err(|e| SyncError::Protocol(e.to_string()))
}

/// How long a connection may wait in the pool for the next request.
const IDLE: Duration = Duration::from_secs(10);

/// The HTTP client for `base_url`. For `https://` the pinned identity's certificate is the
/// only one trusted (no system roots), so a connection to anything else fails the handshake
/// (`TLS`); plain `http://` is refused unless it goes to this machine (`PLAIN_HTTP`).
fn http(
    base_url: &str,
    pinned: Option<&str>,
    connect: Duration,
    request: Duration,
) -> Result<Client, SyncError> {
    if !base_url.starts_with("https://") && !loopback(base_url) {
        return Err(SyncError::PlainHttp(base_url.to_owned()));
    }
    // A connection left idle is dropped well before the servers close it (they wait 20 s for
    // the next request's headers): reused at the moment the server closes it, a request
    // would fail as "connection closed before message completed".
    let mut b = Client::builder()
        .connect_timeout(connect)
        .timeout(request)
        .pool_idle_timeout(IDLE);
    if base_url.starts_with("https://") {
        let pem = pinned.ok_or_else(|| {
            SyncError::Protocol(
                "https needs the server's certificate from its identity file".into(),
            )
        })?;
        let cert = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| SyncError::Protocol(format!("the pinned certificate: {e}")))?;
        b = b.tls_certs_only([cert]).https_only(true);
    }
    b.build().map_err(transport)
}

/// Whether `url` is `http://` to this machine (`localhost`, 127.0.0.0/8, `[::1]`).
fn loopback(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    let host = u.host_str().unwrap_or_default();
    u.scheme() == "http"
        && (host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()))
}

fn short(dc: Option<&DcIdentity>, base_url: &str) -> Result<Client, SyncError> {
    http(
        base_url,
        dc.and_then(|d| d.tls_certificate.as_deref()),
        Duration::from_secs(10),
        Duration::from_secs(30),
    )
}

/// The identity a gateway presents (compare it with the pinned one before trusting it);
/// `dc` is the identity file whose TLS certificate an `https://` address must present.
pub fn identity(base_url: &str, dc: Option<&DcIdentity>) -> Result<DcIdentity, SyncError> {
    let r = short(dc, base_url)?
        .get(format!("{}/v1/identity", base_url.trim_end_matches('/')))
        .send()
        .map_err(transport)?;
    checked(r)?
        .json()
        .map_err(|e| SyncError::Protocol(e.to_string()))
}

/// A station's client of one data center.
pub struct DcClient {
    base: String,
    http: Client,
    station_id: String,
    key: StationKey,
    chunk: usize,
    clock_offset: i64,
    /// Request nonces: this random prefix, then how many requests came before.
    nonce_prefix: String,
    signed: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for DcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DcClient")
            .field("base", &self.base)
            .field("station_id", &self.station_id)
            .field("key", &self.key.id())
            .finish()
    }
}

impl DcClient {
    /// A client of the gateway at `base_url` for `station_id`, signing with `key`.
    pub fn new(base_url: &str, station_id: &str, key: StationKey) -> Result<DcClient, SyncError> {
        DcClient::with_timeouts(
            base_url,
            station_id,
            key,
            None,
            Duration::from_secs(10),
            Duration::from_secs(120),
        )
    }

    /// A client with its own connect and request timeouts (thin links want long ones); an
    /// `https://` address needs `dc`, whose certificate is the only one trusted.
    pub fn with_timeouts(
        base_url: &str,
        station_id: &str,
        key: StationKey,
        dc: Option<&DcIdentity>,
        connect: Duration,
        request: Duration,
    ) -> Result<DcClient, SyncError> {
        DcClient::pinned_to(
            base_url,
            station_id,
            key,
            dc.and_then(|d| d.tls_certificate.as_deref()),
            connect,
            request,
        )
    }

    /// A client of any server that takes the station's signed requests (the data center,
    /// the kecamatan server), trusting only the certificate `pinned` (PEM) for `https://`.
    pub(crate) fn pinned_to(
        base_url: &str,
        station_id: &str,
        key: StationKey,
        pinned: Option<&str>,
        connect: Duration,
        request: Duration,
    ) -> Result<DcClient, SyncError> {
        let http = http(base_url, pinned, connect, request)?;
        Ok(DcClient {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
            station_id: station_id.to_owned(),
            key,
            chunk: 256 * 1024,
            clock_offset: 0,
            nonce_prefix: rekam_packet::protocol::nonce_prefix()?,
            signed: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Bytes per `PATCH` request (smaller on thin links: less to send again after a drop).
    pub fn with_chunk(mut self, bytes: usize) -> DcClient {
        self.chunk = bytes.max(1);
        self
    }

    /// Shifts the time the client signs with (for clock-skew tests).
    pub fn with_clock_offset(mut self, seconds: i64) -> DcClient {
        self.clock_offset = seconds;
        self
    }

    fn now(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
            + self.clock_offset
    }

    /// The signature headers of a request to `path_and_query`.
    pub fn auth(&self, method: &str, path_and_query: &str, body_hash: &str) -> RequestAuth {
        let n = self
            .signed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        RequestAuth::sign(
            &self.key,
            &self.station_id,
            method,
            path_and_query,
            self.now(),
            &format!("{}-{n:x}", self.nonce_prefix),
            body_hash,
        )
    }

    pub(crate) fn signed(&self, method: Method, path: &str, body: Option<&[u8]>) -> RequestBuilder {
        let hash = match body {
            Some(b) => body_hash(b),
            None => UNSIGNED_BODY.to_owned(),
        };
        let a = self.auth(method.as_str(), path, &hash);
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(header::STATION, &a.station_id)
            .header(header::KEY, a.key.to_string())
            .header(header::TIME, a.time.to_string())
            .header(header::NONCE, a.nonce)
            .header(header::SIGNATURE, a.signature);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_vec());
        }
        req
    }

    pub(crate) fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, SyncError> {
        serde_json::to_vec(value).map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// The gateway's identity (for the link check and the comparison with the pinned one).
    pub fn identity(&self) -> Result<DcIdentity, SyncError> {
        let r = self
            .http
            .get(format!("{}/v1/identity", self.base))
            .send()
            .map_err(transport)?;
        checked(r)?
            .json()
            .map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// Sends a key rotation signed by the current and the new key.
    pub fn rotate(&self, rotation: &KeyRotation) -> Result<(), SyncError> {
        self.post_empty("/v1/stations/rotate", rotation)
    }

    /// Creates the tus upload of a packet (or gets back the one already begun).
    pub fn create_upload(&self, packet_id: &str, length: u64) -> Result<String, SyncError> {
        let meta = format!(
            "packet_id {}",
            base64::engine::general_purpose::STANDARD.encode(packet_id)
        );
        let r = self
            .signed(Method::POST, "/v1/uploads", Some(b""))
            .header("tus-resumable", TUS_VERSION)
            .header("upload-length", length.to_string())
            .header("upload-metadata", meta)
            .send()
            .map_err(transport)?;
        let r = checked(r)?;
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| SyncError::Protocol("creation answered without Location".into()))?;
        location
            .rsplit('/')
            .next()
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| SyncError::Protocol(format!("bad Location {location}")))
    }

    /// The bytes of an upload the gateway holds.
    pub fn offset(&self, upload_id: &str) -> Result<u64, SyncError> {
        let r = self
            .signed(Method::HEAD, &format!("/v1/uploads/{upload_id}"), Some(b""))
            .header("tus-resumable", TUS_VERSION)
            .send()
            .map_err(transport)?;
        number(&checked(r)?, "upload-offset")
    }

    /// Sends `bytes` of an upload from `offset`; returns the gateway's new offset.
    pub fn patch(&self, upload_id: &str, offset: u64, bytes: &[u8]) -> Result<u64, SyncError> {
        let r = self
            .signed(Method::PATCH, &format!("/v1/uploads/{upload_id}"), None)
            .header("tus-resumable", TUS_VERSION)
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(bytes.to_vec())
            .send()
            .map_err(transport)?;
        number(&checked(r)?, "upload-offset")
    }

    /// Uploads a sealed packet, resuming from whatever the gateway already holds; `progress`
    /// hears (sent, total) after each chunk. Returns the upload id.
    pub fn upload(
        &self,
        packet_id: &str,
        bytes: &[u8],
        mut progress: impl FnMut(u64, u64),
    ) -> Result<String, SyncError> {
        let total = bytes.len() as u64;
        let upload_id = self.create_upload(packet_id, total)?;
        let mut offset = self.offset(&upload_id)?;
        progress(offset, total);
        while offset < total {
            let end = (offset as usize + self.chunk).min(bytes.len());
            offset = self.patch(&upload_id, offset, &bytes[offset as usize..end])?;
            progress(offset, total);
        }
        Ok(upload_id)
    }

    /// Commits an upload as a packet; returns the receipt as answered (unverified).
    pub fn commit(&self, packet_id: &str, upload_id: &str) -> Result<Receipt, SyncError> {
        self.post_json(
            &format!("/v1/packets/{packet_id}/commit"),
            &CommitRequest {
                upload_id: upload_id.to_owned(),
            },
        )
    }

    /// Uploads and commits a sealed packet and verifies the receipt against the pinned
    /// identity: the receipt must name this packet and its content hash.
    pub fn send(&self, sealed: &[u8], dc: &DcIdentity) -> Result<Receipt, SyncError> {
        let packet = SealedPacket::parse(sealed)?;
        let id = packet.header().packet_id.to_string();
        let upload = self.upload(&id, sealed, |_, _| {})?;
        let receipt = self.commit(&id, &upload)?;
        receipt.verify(dc, &id, &packet.content_hash())?;
        Ok(receipt)
    }

    /// Result events after `cursor`, each verified against the pinned identity.
    pub fn results(&self, cursor: i64, dc: &DcIdentity) -> Result<ResultsPage, SyncError> {
        let page = self.feed(&format!("/v1/results?after={cursor}"), dc)?;
        if let Some(e) = page.events.iter().find(|e| e.station_id != self.station_id) {
            return Err(SyncError::Protocol(format!(
                "the feed sent a result of station {}",
                e.station_id
            )));
        }
        Ok(page)
    }

    /// For a kecamatan server: the result events of every counter of its kecamatan after
    /// `cursor`, each verified against the pinned identity (it keeps them for counters that
    /// cannot reach the data center).
    pub fn kecamatan_results(
        &self,
        cursor: i64,
        dc: &DcIdentity,
    ) -> Result<ResultsPage, SyncError> {
        self.feed(&format!("/v1/hubs/results?after={cursor}"), dc)
    }

    /// A page of a result feed at `path`, every event's signature verified.
    fn feed(&self, path: &str, dc: &DcIdentity) -> Result<ResultsPage, SyncError> {
        let r = self
            .signed(Method::GET, path, Some(b""))
            .send()
            .map_err(transport)?;
        let page: ResultsPage = checked(r)?
            .json()
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        for e in &page.events {
            e.verify(dc)?;
        }
        Ok(page)
    }

    /// The data center's print order of a PRINT_READY_RECORD (personalisation), its
    /// signature verified against `dc`; the bytes of the order.
    pub fn print_order(&self, packet_id: &str, dc: &DcIdentity) -> Result<Vec<u8>, SyncError> {
        let r = self
            .signed(Method::GET, &format!("/v1/print/{packet_id}"), Some(b""))
            .send()
            .map_err(transport)?;
        let signed: rekam_packet::protocol::SignedPrintOrder = checked(r)?
            .json()
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(signed.verify(dc, packet_id)?)
    }

    /// The Dinas's print queue: its regency's PRINT_READY_RECORD records with no card in
    /// circulation (`GET /v1/print/queue`).
    pub fn print_queue(&self) -> Result<Vec<rekam_packet::cards::PrintQueueEntry>, SyncError> {
        let r = self
            .signed(Method::GET, "/v1/print/queue", Some(b""))
            .send()
            .map_err(transport)?;
        checked(r)?
            .json()
            .map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// Reports a card personalised for `packet_id` (the same card again changes nothing).
    pub fn card_issued(
        &self,
        packet_id: &str,
        card: &rekam_packet::cards::CardIssued,
    ) -> Result<(), SyncError> {
        self.post_empty(&format!("/v1/print/{packet_id}/card"), card)
    }

    /// Reports a card of `packet_id` that came back: the record is on the print queue again.
    pub fn card_returned(
        &self,
        packet_id: &str,
        card: &rekam_packet::cards::CardReturned,
    ) -> Result<(), SyncError> {
        self.post_empty(&format!("/v1/print/{packet_id}/card/returned"), card)
    }

    /// Sends a reissue request (`request`, defined by the station's core) as `request_id`
    /// and answers with the data center's signed decision; the same request again gets the
    /// same answer. The caller verifies it against the pinned identity.
    pub fn reissue(
        &self,
        request_id: &str,
        request: &impl serde::Serialize,
    ) -> Result<rekam_packet::reissue::ReissueAnswer, SyncError> {
        self.post_json(&format!("/v1/reissues/{request_id}"), request)
    }

    /// For a kecamatan server: carries a counter's sealed, signed reissue request to the data
    /// center and brings back its answer (unverified: the caller verifies it).
    pub fn relay_reissue(
        &self,
        relayed: &rekam_packet::reissue::RelayedReissue,
    ) -> Result<rekam_packet::reissue::ReissueAnswer, SyncError> {
        self.post_json(
            &format!("/v1/relay/reissues/{}", relayed.request_id),
            relayed,
        )
    }

    /// A signed POST of `body` as JSON whose answer is JSON, read as `T` (unverified).
    fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, SyncError> {
        let body = Self::json(body)?;
        let r = self
            .signed(Method::POST, path, Some(&body))
            .send()
            .map_err(transport)?;
        checked(r)?
            .json()
            .map_err(|e| SyncError::Protocol(e.to_string()))
    }

    /// A signed POST of `body` as JSON whose answer has no body.
    fn post_empty(&self, path: &str, body: &impl serde::Serialize) -> Result<(), SyncError> {
        let body = Self::json(body)?;
        let r = self
            .signed(Method::POST, path, Some(&body))
            .send()
            .map_err(transport)?;
        checked(r).map(drop)
    }

    /// A kecamatan server's snoop: its counters and their records not yet final.
    pub fn snoop(&self, snoop: &rekam_packet::hub::Snoop) -> Result<(), SyncError> {
        self.post_empty("/v1/hubs/snoop", snoop)
    }

    /// Sends a heartbeat.
    pub fn heartbeat(&self, hb: &Heartbeat) -> Result<(), SyncError> {
        self.post_empty("/v1/heartbeat", hb)
    }
}

fn number(r: &Response, name: &str) -> Result<u64, SyncError> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| SyncError::Protocol(format!("answer without {name}")))
}
