//! Background sync: pushes every sealed recording to the data center whenever the link is up,
//! applies the data center's results, reports the backlog in heartbeats, and says for every
//! record that is stuck ("mengendap") why and what a person should do.
//!
//! One pass ([`sync_once`]): check the link (the gateway must present the pinned identity);
//! send the due recordings, one or two at a time, each resuming from the bytes the gateway
//! holds, each receipt verified against the pinned key and the packet's content hash; read the
//! result feed from the stored cursor; send the heartbeat. A failure is recorded on its own
//! recording with its code, reason and next attempt (exponential backoff with jitter, never
//! giving up), so one stuck packet never blocks the others. [`run`] repeats passes until told
//! to stop, waiting longer while the link is down.
//!
//! The HTTP is `rekam-sync`'s; this module only decides what to send and records what
//! happened, through the store, one transaction per change.

use crate::i18n::Lang;
use crate::station::Station;
use crate::store::{BacklogRow, SyncState};
use crate::{Error, Result};
use rekam_packet::DcIdentity;
use rekam_packet::envelope::SealedPacket;
use rekam_packet::protocol::{BacklogSummary, Heartbeat, ResultsPage, Status};
use rekam_sync::{DcClient, Link, SyncError};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How the sync behaves.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// The gateway's address.
    pub url: String,
    /// Uploads at a time (1 or 2 on thin links).
    pub concurrency: usize,
    /// Bytes per upload request.
    pub chunk: usize,
    /// A record not at the data center after this long is stuck (the SOP's 24 h).
    pub stuck_after: Duration,
    /// First retry delay; doubles with each failure.
    pub backoff_base: Duration,
    /// The longest wait between attempts.
    pub backoff_max: Duration,
    /// A pass a person asked for after fixing what the last failure said (the clock, the
    /// registration): every unsent record is tried at once, whatever its next attempt. [`run`]
    /// does so for its first pass only, then keeps the schedule.
    pub retry_now: bool,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of one request.
    pub request_timeout: Duration,
    /// After each pass, recordings the data center answered for good longer ago than this are
    /// purged ([`Station::purge`]); `None` keeps everything.
    pub retention: Option<Duration>,
    /// SIAK online, when one is configured: each pass also imports the Dinas's newer extracts
    /// it offers (sealed to this station, verified against the pinned Dinas key), so the
    /// station holds fresh biodata when the network goes.
    pub siak_url: Option<String>,
}

impl SyncConfig {
    /// Defaults for `url`: one upload at a time, 256 KiB requests, stuck after 24 h, retries
    /// from 5 s doubling to 30 min.
    pub fn new(url: impl Into<String>) -> SyncConfig {
        SyncConfig {
            url: url.into(),
            concurrency: 1,
            chunk: 256 * 1024,
            stuck_after: Duration::from_secs(24 * 3600),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(30 * 60),
            retry_now: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            retention: Some(crate::station::RETENTION),
            siak_url: None,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PassReport {
    /// Whether the gateway answered with the pinned identity.
    pub link_up: bool,
    /// Recordings that got their receipt in this pass.
    pub sent: usize,
    /// Attempts that failed.
    pub failed: usize,
    /// Result events applied, from the data center or (out of its reach) through the hub.
    pub results: usize,
    /// Recordings still due after the pass.
    pub remaining: usize,
    /// The pass's first failure, code and words.
    pub error: Option<(String, String)>,
    /// What the pass did with the kecamatan server, at a station registered with one.
    #[serde(default)]
    pub hub: Option<crate::hub::HubPass>,
    /// Population extracts imported from SIAK online in this pass.
    #[serde(default)]
    pub population: usize,
    /// Reissue requests the data center answered in this pass, and those still waiting.
    #[serde(default)]
    pub reissues: crate::workflow::reissue::Sent,
}

/// A failure, classified: its stable code, plain words, and whether it can fix itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Stable code (the gateway's for a refusal).
    pub code: String,
    /// What happened.
    pub reason: String,
    /// Whether waiting can fix it (a dead link) or a person must act (an unknown station).
    pub transient: bool,
}

/// The gateway's refusals of an upload that the next attempt resolves by itself: the upload
/// was lost, cut, busy, behind, too slow for the gateway's limits (its bytes are kept and the
/// next pass resumes from them), or one too many at once.
const UPLOAD_RETRIED: &[&str] = &[
    "UPLOAD_UNKNOWN",
    "UPLOAD_INCOMPLETE",
    "UPLOAD_BUSY",
    "OFFSET_MISMATCH",
    "UPLOAD_TOO_SLOW",
    "REQUEST_TIMEOUT",
    "TOO_MANY_UPLOADS",
];

/// Failures that go away without anyone acting: the link, the data center's own trouble, a
/// retried upload, a resend the data center asked for.
fn retried_automatically(code: &str) -> bool {
    UPLOAD_RETRIED.contains(&code)
        || matches!(
            code,
            "LINK_DOWN"
                | "CONNECTION_DROPPED"
                | "TIMEOUT"
                | "DC_SERVER_ERROR"
                | "ENROLL_FAILURE_AT_CENTRAL"
                | "PROTOCOL"
        )
}

/// Classifies a client error.
pub fn classify(e: &SyncError) -> Failure {
    let transient = match e {
        SyncError::Transport { kind, .. } => *kind != Link::Tls,
        SyncError::Refused { status, code, .. } => {
            *status >= 500 || UPLOAD_RETRIED.contains(&code.as_str())
        }
        SyncError::Protocol(_) => true,
        SyncError::Packet(_) => false,
        _ => false,
    };
    let code = match e {
        SyncError::Refused { status, .. } if *status >= 500 => "DC_SERVER_ERROR".to_owned(),
        other => other.code().to_owned(),
    };
    Failure {
        code,
        reason: e.to_string(),
        transient,
    }
}

/// What a person should do about a failure code, in the operator's language.
pub fn next_step(code: &str, lang: Lang) -> &'static str {
    match code {
        "LINK_DOWN" | "CONNECTION_DROPPED" | "TIMEOUT" => lang.pick(
            "periksa kabel jaringan; pengiriman diulang otomatis",
            "check the network cable; sending is retried automatically",
        ),
        "DNS" => lang.pick(
            "alamat DC tidak dikenal: periksa pengaturan jaringan dan alamat DC",
            "the data center's name does not resolve: check the network settings and the address",
        ),
        "TLS" | "DC_IDENTITY_MISMATCH" => lang.pick(
            "sertifikat atau identitas DC tidak cocok: jangan kirim, hubungi Dinas",
            "the data center's certificate or identity does not match: do not send, call the Dinas",
        ),
        "CLOCK_SKEW" => lang.pick(
            "atur tanggal dan jam stasiun, lalu kirim ulang",
            "set the station's date and time, then send again",
        ),
        "PLAIN_HTTP" => lang.pick(
            "alamat DC memakai http:// ke mesin lain: pakai alamat https:// DC dan berkas identitasnya dari Dinas",
            "the data center's address is plain http:// to another machine: use its https:// address and the identity file from the Dinas",
        ),
        "STATION_KEY_RETIRED" => lang.pick(
            "kunci stasiun sudah diganti di DC: jalankan `rekam keys rotate` lagi untuk menyelesaikan penggantian; bila tidak ada yang mengganti kunci, laporkan ke Dinas sebagai kunci dicuri",
            "the station's key was replaced at the data center: run `rekam keys rotate` again to finish the rotation; if nobody rotated it, report it to the Dinas as a stolen key",
        ),
        "STATION_KEY_REVOKED" => lang.pick(
            "kunci stasiun ini dicabut oleh Dinas (dilaporkan hilang atau dicuri): DC tidak menerima apa pun darinya; hubungi Dinas",
            "this station's key was revoked by the Dinas (reported lost or stolen): the data center accepts nothing from it; call the Dinas",
        ),
        "STATION_UNKNOWN" | "STATION_KEY_UNKNOWN" | "STATION_NOT_REGISTERED" => lang.pick(
            "stasiun belum terdaftar di DC: hubungi Dinas",
            "the station is not registered with the data center: call the Dinas",
        ),
        "DC_SERVER_ERROR" => lang.pick(
            "DC sedang bermasalah; pengiriman diulang otomatis",
            "the data center has a problem; sending is retried automatically",
        ),
        "ENROLL_FAILURE_AT_CENTRAL" => lang.pick(
            "DC meminta kirim ulang; dikirim ulang otomatis",
            "the data center asked for a resend; it is sent again automatically",
        ),
        "PACKET_CORRUPTED" => lang.pick(
            "paket rusak di stasiun: ekspor untuk tim teknis",
            "the packet is damaged at the station: export it for the technical team",
        ),
        "LOCAL_DISK" => lang.pick(
            "penyimpanan stasiun bermasalah (disk penuh atau rusak): hubungi teknisi",
            "the station's storage has a problem (full or failing disk): call a technician",
        ),
        "UPLOAD_TOO_SLOW" | "REQUEST_TIMEOUT" => lang.pick(
            "jaringan terlalu lambat; pengiriman dilanjutkan otomatis dari bagian yang sudah diterima",
            "the link is too slow; sending resumes automatically from what already arrived",
        ),
        c if UPLOAD_RETRIED.contains(&c) => lang.pick(
            "pengiriman diulang otomatis",
            "sending is retried automatically",
        ),
        _ => lang.pick(
            "ditolak DC: ekspor untuk tim teknis dan laporkan kodenya",
            "refused by the data center: export for the technical team and report the code",
        ),
    }
}

/// The client of the station's data center.
pub fn client(station: &Station, cfg: &SyncConfig) -> Result<DcClient> {
    let dc = station.data_center()?;
    DcClient::with_timeouts(
        &cfg.url,
        &station.identity().station_id,
        station.signing_key()?,
        dc.as_ref(),
        cfg.connect_timeout,
        cfg.request_timeout,
    )
    .map(|c| {
        // Requests carry the station's time (its clock may be wrong: the gateway says so).
        let skew = crate::clock::offset_from_system(station.store().clock().as_ref());
        c.with_chunk(cfg.chunk).with_clock_offset(skew)
    })
    .map_err(|e| Error::Sync(e.to_string()))
}

/// How a key rotation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotated {
    /// A new key, accepted by the data center and put in place.
    New,
    /// A rotation cut off after the data center accepted it (the station stopped before
    /// putting the new key in place) finished with the key the data center already holds.
    Finished,
}

/// Why a key rotation stopped: the station's own problem, or the data center's answer (kept
/// whole, so the caller can say what the data center said).
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// At the station.
    #[error(transparent)]
    Station(#[from] Error),
    /// From the data center, or on the way to it.
    #[error(transparent)]
    DataCenter(#[from] SyncError),
}

/// Rotates the station's signing key at the data center of `cfg`. The data center refuses a
/// key from the moment it is replaced, so a rotation it accepted but the station never
/// finished leaves the new key waiting beside the old one as the only key it accepts: that
/// key is tried first, and the rotation finished with it, instead of being thrown away by a
/// fresh start. Only the data center's own word that it does not know the waiting key
/// (`STATION_KEY_UNKNOWN`) lets a fresh rotation replace it.
pub fn rotate_key(
    station: &mut Station,
    cfg: &SyncConfig,
    actor: &str,
) -> std::result::Result<Rotated, RotateError> {
    if let Some(pending) = station.pending_signing_key()? {
        let dc = station.data_center()?.ok_or(Error::NotRegistered)?;
        let probe = DcClient::with_timeouts(
            &cfg.url,
            &station.identity().station_id,
            pending,
            Some(&dc),
            cfg.connect_timeout,
            cfg.request_timeout,
        )?;
        match probe.results(i64::MAX, &dc) {
            Ok(_) => {
                station.finish_key_rotation(actor)?;
                return Ok(Rotated::Finished);
            }
            Err(SyncError::Refused { code, .. }) if code == "STATION_KEY_UNKNOWN" => {}
            Err(e) => return Err(e.into()),
        }
    }
    let rotation = station.begin_key_rotation()?;
    client(station, cfg)?.rotate(&rotation)?;
    station.finish_key_rotation(actor)?;
    Ok(Rotated::New)
}

fn now(station: &Station) -> i64 {
    station.store().clock().now().unix_timestamp()
}

/// Records not yet at the data center, due or not.
fn unsent(station: &Station) -> Result<usize> {
    Ok(station
        .store()
        .sync_due(i64::MAX, i64::MAX, i64::MAX)?
        .len())
}

/// What a pass sends: attempts due by the first time, or set after the second (later than any
/// wait this configuration gives, so scheduled by a clock that ran ahead); with
/// [`SyncConfig::retry_now`], everything unsent.
fn due_window(station: &Station, cfg: &SyncConfig) -> (i64, i64) {
    if cfg.retry_now {
        return (i64::MAX, i64::MAX);
    }
    let now = now(station);
    // The longest wait is `backoff_max` times the highest jitter, 1.5.
    let longest = cfg.backoff_max.mul_f64(1.5).as_secs() as i64 + 1;
    (now, now.saturating_add(longest))
}

/// The wait before attempt `attempts + 1`: `base * 2^attempts`, at most `max`, times a jitter
/// between 0.5 and 1.5 (so stations that lost the link together do not return together).
pub fn backoff(cfg: &SyncConfig, attempts: i64) -> Duration {
    let exp = cfg
        .backoff_base
        .saturating_mul(1u32 << attempts.clamp(0, 20) as u32)
        .min(cfg.backoff_max);
    let mut r = [0u8; 4];
    let jitter = match getrandom::fill(&mut r) {
        Ok(()) => 0.5 + f64::from(u32::from_le_bytes(r)) / f64::from(u32::MAX),
        Err(_) => 1.0,
    };
    exp.mul_f64(jitter)
}

enum Event {
    Progress(i64, u64),
    Done(
        i64,
        std::result::Result<rekam_packet::protocol::Receipt, SyncError>,
    ),
}

/// The last pass and when it ended, kept in the store so the backlog can say why records wait
/// (a dead link fails the pass, not a record) and the screen can show sync progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LastPass {
    /// When it ended (RFC 3339, station time).
    pub at: String,
    /// What it did.
    pub report: PassReport,
}

/// The last pass recorded at this station, if any.
pub fn last_pass(station: &Station) -> Result<Option<LastPass>> {
    Ok(station
        .store()
        .last_pass()?
        .and_then(|json| serde_json::from_str(&json).ok()))
}

fn record_pass(station: &mut Station, report: &PassReport) -> Result<()> {
    let last = LastPass {
        at: crate::clock::rfc3339(station.store().clock().now()),
        report: report.clone(),
    };
    let json = serde_json::to_string(&last).map_err(|e| Error::Sync(e.to_string()))?;
    station.store_mut().set_last_pass(&json)
}

/// One pass: link check, uploads, results, heartbeat; its report is kept as the
/// [`last_pass`].
pub fn sync_once(station: &mut Station, cfg: &SyncConfig) -> Result<PassReport> {
    // The kecamatan server first: it is on the LAN, and what it finds concerns the counter
    // today, whatever the link to the data center does.
    let mut hub = crate::hub::HubRound::run(station)?;
    let mut report = pass(station, cfg)?;
    // What the data center could not be reached for goes through the hub, which forwards it;
    // the receipts it brought back for what was left before count as the station's own.
    if let Some(round) = hub.as_mut() {
        round.relay(station, !report.link_up)?;
        if !report.link_up {
            round.results(station, &mut report.results)?;
            report.reissues = round.reissues(station)?;
        }
    }
    report.hub = hub.map(crate::hub::HubRound::into_pass);
    if report.hub.as_ref().is_some_and(|h| h.relay_receipts > 0) {
        // Receipts relayed by the hub moved recordings out of the count (or were kept for
        // recordings already past it): counted again.
        report.remaining = unsent(station)?;
    }
    match &report.error {
        None => tracing::info!(
            sent = report.sent,
            results = report.results,
            remaining = report.remaining,
            "sync pass"
        ),
        Some((code, reason)) => tracing::warn!(
            link_up = report.link_up,
            sent = report.sent,
            failed = report.failed,
            remaining = report.remaining,
            %code,
            %reason,
            "sync pass with a failure"
        ),
    }
    if let Some(url) = &cfg.siak_url {
        report.population = population_from_siak(station, url)?;
    }
    record_pass(station, &report)?;
    if let Some(retention) = cfg.retention {
        station.purge(retention, "system", |_, _| {})?;
    }
    Ok(report)
}

/// How long SIAK may take to offer or send an extract (a base of a large kecamatan is tens of
/// megabytes).
const SIAK_EXTRACT_WAIT: Duration = Duration::from_secs(120);

/// Imports the newer extracts SIAK online offers, at a station that pinned the Dinas's key;
/// how many. SIAK out of reach is logged, never a failure of the pass (the extract held still
/// answers).
fn population_from_siak(station: &mut Station, url: &str) -> Result<usize> {
    if station.store().population_signer()?.is_none() {
        return Ok(0);
    }
    let siak = match rekam_sync::siak::SiakClient::new(url, SIAK_EXTRACT_WAIT) {
        Ok(siak) => siak,
        Err(e) => {
            tracing::warn!(error = %e, "SIAK cannot be asked for the population extract");
            return Ok(0);
        }
    };
    let (imported, stopped) = crate::population::update(station, &siak, "siak")?;
    if let Some(code) = stopped {
        tracing::warn!(%code, imported, "the population extract from SIAK stopped");
    }
    Ok(imported)
}

fn pass(station: &mut Station, cfg: &SyncConfig) -> Result<PassReport> {
    let dc = station.data_center()?.ok_or(Error::NotRegistered)?;
    let mut report = PassReport::default();
    let probe = client(station, cfg)?;
    match probe.identity() {
        Ok(found) => {
            if let Err(e) = crate::station::same_data_center(&dc, &found) {
                // Someone else answers at the address: send nothing, say so, keep trying.
                report.error = Some((e.code().to_owned(), e.to_string()));
                report.remaining = unsent(station)?;
                return Ok(report);
            }
        }
        Err(e) => {
            let f = classify(&e);
            report.error = Some((f.code, f.reason));
            report.remaining = unsent(station)?;
            return Ok(report);
        }
    }
    report.link_up = true;
    send_due(station, cfg, &dc, &mut report)?;
    if let Some(e) = apply_feed(station, |c| probe.results(c, &dc), &mut report.results)? {
        let f = classify(&e);
        report.error.get_or_insert((f.code, f.reason));
    }
    // A Dinas station's cards: each personalised or returned card told to the data center,
    // which keeps the print queue (a failure waits for the next pass and is logged there).
    crate::workflow::personalisation::report_cards(station, &probe)?;
    // Reissue requests taken here, each answered by the data center (signed).
    report.reissues = crate::workflow::reissue::send_requests(station, &probe)?;
    if let Err(e) = probe.heartbeat(&heartbeat(station, &report)?) {
        tracing::warn!(error = %e, "heartbeat not sent");
    }
    report.remaining = unsent(station)?;
    Ok(report)
}

/// Sends every due record, a few at a time: only a batch of packets is in memory (a station
/// drained after months offline holds thousands), and a dropped link ends the pass.
fn send_due(
    station: &mut Station,
    cfg: &SyncConfig,
    dc: &DcIdentity,
    report: &mut PassReport,
) -> Result<()> {
    let (at, latest) = due_window(station, cfg);
    let due = station.store().sync_due(at, latest, i64::MAX)?;
    if due.is_empty() {
        return Ok(());
    }
    let workers = cfg.concurrency.clamp(1, 4);
    let clients = (0..workers)
        .map(|_| client(station, cfg))
        .collect::<Result<Vec<_>>>()?;
    let stop = AtomicBool::new(false);
    for batch in due.chunks(workers * 2) {
        send_batch(station, cfg, dc, &clients, batch, &stop, report)?;
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    Ok(())
}

fn send_batch(
    station: &mut Station,
    cfg: &SyncConfig,
    dc: &DcIdentity,
    clients: &[DcClient],
    due: &[crate::store::DueItem],
    stop: &AtomicBool,
    report: &mut PassReport,
) -> Result<()> {
    let mut work = Vec::new();
    for item in due {
        let bytes = station.store().enrollment_payload(&item.packet_id)?;
        match bytes.map(|b| SealedPacket::parse(&b).map(|p| (b, p))) {
            Some(Ok((bytes, packet))) => {
                work.push((item.seq, item.packet_id.clone(), bytes, packet))
            }
            other => {
                let why = match other {
                    Some(Err(e)) => format!("the stored packet does not parse: {e}"),
                    _ => "the stored packet is missing".to_owned(),
                };
                let retry = now(station) + cfg.backoff_max.as_secs() as i64;
                tracing::error!(packet = %item.packet_id, %why, "stored packet unusable");
                station
                    .store_mut()
                    .sync_failed(item.seq, "PACKET_CORRUPTED", &why, retry)?;
                report.failed += 1;
            }
        }
    }
    let queue = std::sync::Mutex::new(work.into_iter());
    let (tx, rx) = mpsc::channel::<Event>();
    let attempts: std::collections::HashMap<i64, i64> =
        due.iter().map(|d| (d.seq, d.attempts)).collect();
    std::thread::scope(|scope| -> Result<()> {
        for c in clients {
            let (tx, queue) = (tx.clone(), &queue);
            scope.spawn(move || {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let next = queue
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .next();
                    let Some((seq, id, bytes, packet)) = next else {
                        break;
                    };
                    let progress = tx.clone();
                    let result = c
                        .upload(&id, &bytes, |sent, _| {
                            let _ = progress.send(Event::Progress(seq, sent));
                        })
                        .and_then(|upload| c.commit(&id, &upload))
                        .and_then(|r| {
                            r.verify(dc, &id, &packet.content_hash())?;
                            Ok(r)
                        });
                    if matches!(result, Err(SyncError::Transport { .. })) {
                        // The link went: the others would fail the same way.
                        stop.store(true, Ordering::Relaxed);
                    }
                    let _ = tx.send(Event::Done(seq, result));
                }
            });
        }
        drop(tx);
        for event in rx {
            match event {
                Event::Progress(seq, sent) => {
                    station.store_mut().sync_progress(seq, sent as i64)?;
                }
                Event::Done(seq, Ok(receipt)) => {
                    let json =
                        serde_json::to_string(&receipt).map_err(|e| Error::Sync(e.to_string()))?;
                    station
                        .store_mut()
                        .sync_sent(seq, &json, "receipt received online")?;
                    tracing::debug!(
                        seq,
                        receipt = receipt.receipt_no,
                        "packet received by the data center"
                    );
                    report.sent += 1;
                }
                Event::Done(seq, Err(e)) => {
                    let f = classify(&e);
                    let tries = attempts.get(&seq).copied().unwrap_or(0);
                    let wait = if f.transient {
                        backoff(cfg, tries)
                    } else {
                        cfg.backoff_max
                    };
                    let retry = now(station) + wait.as_secs().max(1) as i64;
                    tracing::warn!(
                        seq,
                        code = %f.code,
                        reason = %f.reason,
                        transient = f.transient,
                        retry_in_s = wait.as_secs(),
                        "packet not sent"
                    );
                    station
                        .store_mut()
                        .sync_failed(seq, &f.code, &f.reason, retry)?;
                    report.failed += 1;
                    report.error.get_or_insert((f.code, f.reason));
                }
            }
        }
        Ok(())
    })
}

/// Applies the result events `fetch` gives after the station's feed position, page by page,
/// counting them in `applied`; the first failure to fetch ends it and is returned.
pub(crate) fn apply_feed(
    station: &mut Station,
    fetch: impl Fn(i64) -> std::result::Result<ResultsPage, SyncError>,
    applied: &mut usize,
) -> Result<Option<SyncError>> {
    loop {
        let cursor = station.store().feed_cursor()?;
        let page = match fetch(cursor) {
            Ok(p) => p,
            Err(e) => return Ok(Some(e)),
        };
        if page.events.is_empty() {
            return Ok(None);
        }
        for e in &page.events {
            let state = match e.status {
                Status::SentForEnrollment => Some(SyncState::SentForEnrollment),
                Status::PrintReadyRecord => Some(SyncState::PrintReadyRecord),
                Status::DuplicateRecord => Some(SyncState::DuplicateRecord),
                Status::AdjudicateRecord => Some(SyncState::AdjudicateRecord),
                Status::EnrollFailureAtCentral => None,
            };
            station.store_mut().sync_result(
                &e.packet_id,
                state,
                e.matched_packet.as_deref(),
                e.reason.as_deref(),
            )?;
            *applied += 1;
        }
        station.store_mut().set_feed_cursor(page.next_cursor)?;
    }
}

/// The heartbeat: counts by state, the oldest unsent record, the last failure, the audit head.
pub fn heartbeat(station: &Station, report: &PassReport) -> Result<Heartbeat> {
    let counts = station.store().sync_counts()?;
    let backlog = station.store().backlog()?;
    let oldest_unsent_at = backlog
        .iter()
        .filter(|r| r.state.unsent())
        .filter_map(|r| unix(&r.captured_at))
        .min();
    let last_error = report
        .error
        .as_ref()
        .map(|(c, r)| format!("{c}: {r}"))
        .or_else(|| {
            backlog.iter().filter(|r| r.state.unsent()).find_map(|r| {
                Some(format!(
                    "{}: {}",
                    r.last_code.as_ref()?,
                    r.last_reason.as_deref().unwrap_or("")
                ))
            })
        });
    let head = station.store().audit_head()?;
    let reissues = station.store().reissues_waiting()?;
    Ok(Heartbeat {
        version: env!("CARGO_PKG_VERSION").into(),
        backlog: BacklogSummary {
            counts: counts
                .into_iter()
                .map(|(s, n)| (s.as_str().to_owned(), n))
                // Reissue requests the data center has not answered: visible there too.
                .chain((reissues > 0).then(|| (REISSUE_WAITING.to_owned(), reissues)))
                .collect(),
            oldest_unsent_at,
            last_error,
            audit_head: Some(format!("{}:{}", head.seq, hex::encode(head.hash))),
        },
    })
}

/// The heartbeat's count of reissue requests not answered yet.
pub const REISSUE_WAITING: &str = "REISSUE_WAITING";

fn unix(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Repeats passes until `stop` is set: right away while there is work, after a backoff with
/// jitter while the link is down, after `idle` otherwise. `on_pass` hears every pass.
pub fn run(
    station: &mut Station,
    cfg: &SyncConfig,
    idle: Duration,
    stop: &AtomicBool,
    on_pass: impl FnMut(&PassReport),
) -> Result<()> {
    run_asked(
        station,
        cfg,
        idle,
        stop,
        &AtomicBool::new(cfg.retry_now),
        on_pass,
    )
}

/// [`run`], and when `asked` is set (a person fixed what the backlog said): the wait ends and
/// the next pass tries every unsent record ([`SyncConfig::retry_now`]), the link's backoff
/// starting over.
fn run_asked(
    station: &mut Station,
    cfg: &SyncConfig,
    idle: Duration,
    stop: &AtomicBool,
    asked: &AtomicBool,
    mut on_pass: impl FnMut(&PassReport),
) -> Result<()> {
    let mut down = 0i64;
    let urgent = SyncConfig {
        retry_now: true,
        ..cfg.clone()
    };
    let cfg = &SyncConfig {
        retry_now: false,
        ..cfg.clone()
    };
    while !stop.load(Ordering::Relaxed) {
        let pass_cfg = if asked.swap(false, Ordering::Relaxed) {
            tracing::info!("a pass asked for: every unsent record is tried now");
            down = 0;
            &urgent
        } else {
            cfg
        };
        // Never giving up: a pass that fails at the station (the store unreadable for a
        // moment, the disk full) is reported and retried like a dead link.
        let report = match sync_once(station, pass_cfg) {
            Ok(report) => report,
            Err(e) => {
                let report = PassReport {
                    error: Some((
                        match e {
                            Error::Database(_) | Error::Io { .. } => "LOCAL_DISK".to_owned(),
                            ref other => other.code().to_owned(),
                        },
                        e.to_string(),
                    )),
                    ..PassReport::default()
                };
                // Best effort: the store may be what failed.
                if let Err(e) = record_pass(station, &report) {
                    tracing::warn!(error = %e, "the failed pass is not recorded");
                }
                report
            }
        };
        on_pass(&report);
        let wait = if !report.link_up {
            down += 1;
            backoff(cfg, down - 1)
        } else {
            down = 0;
            let (at, latest) = due_window(station, cfg);
            let due_now = !station.store().sync_due(at, latest, 1)?.is_empty();
            if due_now { Duration::ZERO } else { idle }
        };
        let until = std::time::Instant::now() + wait;
        while std::time::Instant::now() < until
            && !stop.load(Ordering::Relaxed)
            && !asked.load(Ordering::Relaxed)
        {
            std::thread::sleep(Duration::from_millis(50).min(wait));
        }
    }
    Ok(())
}

/// One line of `rekam backlog`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BacklogLine {
    /// The record.
    #[serde(flatten)]
    pub row: BacklogRow,
    /// Seconds since it was recorded.
    pub age_seconds: i64,
    /// Whether it is stuck: not at the data center after `stuck_after`, or its last attempt
    /// failed for a reason that will not fix itself.
    pub stuck: bool,
    /// What a person should do.
    pub next_step: String,
    /// Why the last pass failed, when it failed before reaching this record (a dead link):
    /// the record has no failure of its own, yet it waits for this.
    pub pass_failure: Option<String>,
}

/// Every record not yet final and every duplicate not yet clarified, with its age, whether it
/// is stuck, and the next step.
pub fn backlog(station: &Station, stuck_after: Duration, lang: Lang) -> Result<Vec<BacklogLine>> {
    let now = now(station);
    let registered = station.data_center()?.is_some();
    let pass_failure = last_pass(station)?
        .filter(|p| !p.report.link_up)
        .and_then(|p| p.report.error)
        .map(|(code, _)| code);
    Ok(station
        .store()
        .backlog()?
        .into_iter()
        .map(|row| {
            let age = unix(&row.captured_at).map_or(0, |t| now - t);
            // A record on its way to the technicians' disk does not wait for the link.
            let waits_for_link = matches!(row.state, SyncState::BioCaptured | SyncState::Uploading)
                && row.last_code.is_none();
            let pass_failure = pass_failure.clone().filter(|_| waits_for_link);
            let code = if !registered {
                Some("STATION_NOT_REGISTERED")
            } else {
                row.last_code.as_deref().or(pass_failure.as_deref())
            };
            let permanent = code.is_some_and(|c| !retried_automatically(c));
            let late = row.state.unsent() && age > stuck_after.as_secs() as i64;
            let next_step = match (row.state, code) {
                (SyncState::SentForEnrollment, _) => lang.pick(
                    "menunggu hasil DC (standar 24 jam)",
                    "waiting for the data center's result (standard: 24 h)",
                ),
                (SyncState::AdjudicateRecord, _) => lang.pick(
                    "menunggu keputusan adjudikasi di DC",
                    "waiting for the data center's adjudication",
                ),
                (SyncState::DuplicateRecord, _) => lang.pick(
                    "data ganda menurut DC: panggil penduduk untuk klarifikasi, lalu supervisor \
                     mencatat hasilnya (rekam clarify)",
                    "a duplicate per the data center: call the resident in to clarify, then a \
                     supervisor records the outcome (rekam clarify)",
                ),
                (SyncState::Exported, None) => lang.pick(
                    "dibawa tim teknis; menunggu tanda terima DC",
                    "carried by the technical team; waiting for the data center's receipt",
                ),
                (_, Some(c)) => next_step(c, lang),
                (_, None) if late => lang.pick(
                    "belum terkirim lebih dari 24 jam: periksa jaringan atau ekspor untuk tim teknis",
                    "not sent for over 24 h: check the network or export for the technical team",
                ),
                (_, None) => lang.pick("menunggu giliran kirim", "waiting to be sent"),
            }
            .to_owned();
            BacklogLine {
                stuck: late || (row.state.unsent() && permanent),
                age_seconds: age,
                next_step,
                pass_failure,
                row,
            }
        })
        .collect())
}

/// Counts of the backlog by state and by age.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BacklogSummaryView {
    /// Records by state (every state, final ones included).
    pub by_state: std::collections::BTreeMap<String, i64>,
    /// Records not yet final by age, youngest first: under 1 h, 1-24 h, 1-7 days, over 7 days.
    pub by_age: Vec<AgeBucket>,
    /// Records stuck.
    pub stuck: i64,
}

/// Records of one age bucket.
#[derive(Debug, Clone, Serialize)]
pub struct AgeBucket {
    /// The bucket.
    pub age: &'static str,
    /// Records in it.
    pub count: i64,
}

const AGES: [(&str, i64); 4] = [
    ("< 1 h", 3600),
    ("1-24 h", 24 * 3600),
    ("1-7 d", 7 * 24 * 3600),
    ("> 7 d", i64::MAX),
];

/// The `--summary` view.
pub fn summary(station: &Station, lines: &[BacklogLine]) -> Result<BacklogSummaryView> {
    let mut v = BacklogSummaryView {
        by_state: station
            .store()
            .sync_counts()?
            .into_iter()
            .map(|(s, n)| (s.as_str().to_owned(), n))
            .collect(),
        ..Default::default()
    };
    v.by_age = AGES
        .iter()
        .map(|(age, _)| AgeBucket { age, count: 0 })
        .collect();
    for l in lines {
        let i = AGES
            .iter()
            .position(|(_, under)| l.age_seconds < *under)
            .unwrap_or(AGES.len() - 1);
        v.by_age[i].count += 1;
        v.stuck += i64::from(l.stuck);
    }
    Ok(v)
}

/// A sync running on a thread of its own ([`spawn`]).
#[derive(Debug)]
pub struct Background {
    stop: std::sync::Arc<AtomicBool>,
    asked: std::sync::Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
    passes: mpsc::Receiver<PassReport>,
}

impl Background {
    /// The reports of the passes made since the last call.
    pub fn reports(&self) -> Vec<PassReport> {
        self.passes.try_iter().collect()
    }

    /// Waits up to `timeout` for the next pass's report.
    pub fn next_report(&self, timeout: Duration) -> Option<PassReport> {
        self.passes.recv_timeout(timeout).ok()
    }

    /// Asks for a pass at once that tries every unsent record, whatever its next attempt: for
    /// a person who has fixed what the backlog said (the cable, the clock). Its report comes
    /// like any other.
    pub fn send_now(&self) {
        self.asked.store(true, Ordering::Relaxed);
    }

    /// Stops after the current step (every change is its own transaction, so stopping anywhere
    /// loses nothing) and returns how the loop ended.
    pub fn stop(mut self) -> Result<()> {
        self.halt()
    }

    fn halt(&mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(Error::Sync("the sync thread panicked".into())),
            None => Ok(()),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Err(e) = self.halt() {
            tracing::error!(error = %e, "background sync ended with an error");
        }
    }
}

/// Runs [`run`] on a thread of its own with `station` (open it separately from the one the
/// counter uses: each has its own connection to the store). The desktop app and `rekam sync`
/// keep the sync going this way while recordings are made.
pub fn spawn(mut station: Station, cfg: SyncConfig, idle: Duration) -> Background {
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let (tx, passes) = mpsc::channel();
    let asked = std::sync::Arc::new(AtomicBool::new(false));
    let (flag, ask) = (stop.clone(), asked.clone());
    let thread = std::thread::spawn(move || {
        run_asked(&mut station, &cfg, idle, &flag, &ask, |r| {
            let _ = tx.send(r.clone());
        })
    });
    Background {
        stop,
        asked,
        thread: Some(thread),
        passes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, code: &str) -> SyncError {
        SyncError::Refused {
            status,
            code: code.to_owned(),
            message: String::new(),
        }
    }

    #[test]
    fn an_upload_cut_for_slowness_is_retried_and_a_refused_packet_is_not() {
        let slow = classify(&refusal(408, "UPLOAD_TOO_SLOW"));
        assert!(slow.transient && retried_automatically(&slow.code));
        assert!(next_step(&slow.code, Lang::Id).contains("lambat"));
        let altered = classify(&refusal(422, "PACKET_ALTERED"));
        assert!(!altered.transient && !retried_automatically(&altered.code));
        let down = classify(&refusal(503, "ANYTHING"));
        assert_eq!(
            (down.code.as_str(), down.transient),
            ("DC_SERVER_ERROR", true)
        );
        assert!(retried_automatically(&down.code));
    }
}
