//! The counter's side of its kecamatan server (`rekam-hub`, the SOP's "server AFIS di
//! Kecamatan"): registration, the kecamatan-wide check before sealing, the enrollment of each
//! sealed recording into the kecamatan's gallery, and the conflicts the hub found.
//!
//! The hub is an addition, never a dependency: a station without one records as before, and a
//! station whose hub does not answer checks against its own recordings only, says so
//! ([`Checked::StationOnly`]), and sends the recording when the hub answers again; the hub then
//! checks it against everything recorded meanwhile and a match comes back as a conflict for
//! the supervisor.
//!
//! Invariants: only masked NIKs and templates leave for the hub (the templates over TLS pinned
//! to the hub's certificate, the request signed with the station's key); a sealed recording is
//! pending for the hub until the hub answered with its record number (`store::hub`), so a lost
//! answer or a dead LAN only delays it.

use crate::station::Station;
use crate::store::{HubPending, IndexRow};
use crate::{Error, Result};
use base64::Engine as _;
use rekam_packet::hub::{AfisAnswer, AfisProbe, Conflict, HubEnrollment, HubIdentity, Templates};
use rekam_sync::SyncError;
use rekam_sync::hub::HubClient;

/// Recordings sent per pass.
const BATCH: u32 = 200;

/// What a check before sealing compared the person with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Every recording of the kecamatan the hub holds: the person is claimed for this counter.
    Kecamatan {
        /// The claim, named when the sealed recording is enrolled.
        claim: String,
        /// When the hub answered (RFC 3339).
        at: String,
        /// Recordings the hub compared against.
        gallery: u64,
    },
    /// The counter's copy of the kecamatan's gallery, as of its last refresh: the hub did not
    /// answer. The hub checks the recording again when it sees it.
    KecamatanCopy {
        /// When the copy last caught up with the hub (RFC 3339).
        as_of: String,
        /// Recordings in the copy.
        gallery: u64,
        /// Why the hub was not asked (its code, e.g. `LINK_DOWN`).
        code: String,
    },
    /// The station's own recordings only: the hub did not answer (its code, e.g. `LINK_DOWN`)
    /// and the counter holds no copy of the kecamatan's gallery.
    StationOnly {
        /// Why.
        code: String,
    },
}

/// The first recording of a person the kecamatan server (or the counter's copy of its
/// gallery) knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KecamatanMatch {
    /// Who, where and when.
    pub first: rekam_packet::hub::Match,
    /// Found in the counter's copy as of then (RFC 3339), not by the hub itself.
    pub copy_as_of: Option<String>,
}

fn hub_error(e: SyncError) -> Error {
    Error::Hub {
        code: e.code().to_owned(),
        detail: e.to_string(),
    }
}

fn identity_json(identity: &HubIdentity) -> Result<String> {
    serde_json::to_string(identity).map_err(|e| Error::Internal(e.to_string()))
}

/// Registers the station with the hub at `url` whose identity file the hub's administrator
/// handed over (`expected`), spending `token`; pins the hub.
pub fn register(
    station: &mut Station,
    url: &str,
    expected: &HubIdentity,
    token: &str,
    actor: &str,
) -> Result<()> {
    expected.check()?;
    let kecamatan = station.identity().kecamatan.compact().to_owned();
    if expected.kecamatan != kecamatan {
        return Err(Error::Hub {
            code: "WRONG_KECAMATAN".into(),
            detail: format!(
                "the hub serves kecamatan {}, this station kecamatan {kecamatan}",
                expected.kecamatan
            ),
        });
    }
    let answered = rekam_sync::hub::register(url, expected, &station.registration(token)?)
        .map_err(hub_error)?;
    if &answered != expected {
        return Err(Error::Hub {
            code: "HUB_IDENTITY_MISMATCH".into(),
            detail: "the hub answered with another identity than its file: nothing was pinned"
                .into(),
        });
    }
    let event = crate::audit::AuditEvent::new(actor, "station.hub_register", &expected.hub_id)
        .with_detail(serde_json::json!({
            "hub": expected.hub_id,
            "url": url,
            "tls_certificate_sha256": expected.tls_certificate_sha256,
        }));
    station
        .store_mut()
        .pin_hub(url, &identity_json(expected)?, &event)?;
    Ok(())
}

fn templates(row: &IndexRow) -> Templates {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    Templates {
        codes: b64(&row.codes),
        minutiae: b64(&row.minutiae),
        irises: b64(&row.irises),
    }
}

/// The station's link to its hub.
#[derive(Debug)]
pub struct HubLink {
    client: HubClient,
}

/// What one pass with the hub did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HubPass {
    /// Recordings the hub took into its gallery.
    pub enrolled: usize,
    /// Conflicts received for the first time.
    pub conflicts: usize,
    /// Recordings still waiting for the hub.
    pub pending: i64,
    /// Other counters' recordings added to this counter's copy of the kecamatan's gallery.
    #[serde(default)]
    pub copied: usize,
    /// Sealed packets left with the hub for the data center in this pass (the data center
    /// was out of reach).
    #[serde(default)]
    pub relayed: usize,
    /// Receipts the hub brought back for packets left with it, verified.
    #[serde(default)]
    pub relay_receipts: usize,
    /// Population extracts imported from the hub (the Dinas's, verified here).
    #[serde(default)]
    pub population: usize,
    /// The data center's results read through the hub (the data center out of reach),
    /// verified against its pinned identity.
    #[serde(default)]
    pub results: usize,
    /// Why the pass stopped early (the hub's or the link's code).
    pub error: Option<String>,
}

impl HubLink {
    /// The link of a station registered with a hub; `None` for a station without one.
    pub fn open(station: &Station) -> Result<Option<HubLink>> {
        let Some((url, json)) = station.store().hub()? else {
            return Ok(None);
        };
        let identity: HubIdentity =
            serde_json::from_str(&json).map_err(|e| Error::Internal(format!("pinned hub: {e}")))?;
        let client = HubClient::new(
            &url,
            &identity,
            &station.identity().station_id,
            station.signing_key()?,
        )
        .map_err(hub_error)?;
        Ok(Some(HubLink { client }))
    }

    /// The kecamatan-wide check of a person before sealing. A match is
    /// [`Error::KecamatanDuplicate`]; a hub that does not answer is
    /// [`Checked::StationOnly`], never a refusal.
    pub fn check(
        &self,
        row: &IndexRow,
        queue_number: &str,
        masked_nik: &str,
        now: String,
    ) -> Result<Checked> {
        let probe = AfisProbe {
            queue_number: queue_number.to_owned(),
            masked_nik: masked_nik.to_owned(),
            templates: templates(row),
        };
        match self.client.check(&probe) {
            Ok(AfisAnswer::Clear { claim, gallery, .. }) => Ok(Checked::Kecamatan {
                claim,
                at: now,
                gallery,
            }),
            Ok(AfisAnswer::Duplicate(m)) => {
                Err(Error::KecamatanDuplicate(Box::new(KecamatanMatch {
                    first: m,
                    copy_as_of: None,
                })))
            }
            Err(e) => {
                tracing::warn!(
                    code = e.code(),
                    "the kecamatan server did not answer the check"
                );
                Ok(Checked::StationOnly {
                    code: e.code().to_owned(),
                })
            }
        }
    }

    /// Enrolls one sealed recording; whether it brought a conflict not kept before.
    fn enroll_one(&self, station: &mut Station, p: &HubPending) -> Result<bool> {
        let enrolled = self
            .client
            .enroll(&HubEnrollment {
                claim: p.claim.clone(),
                packet_id: p.entry.enrollment_id.clone(),
                masked_nik: p.entry.masked_nik.to_string(),
                recorded_at: p.entry.recorded_at.clone(),
                checked_at_hub: p.checked_at.clone(),
                templates: templates(&p.row),
            })
            .map_err(hub_error)?;
        // The conflict first: were the second write lost, the recording stays pending and is
        // sent again, and the hub answers with the same conflict.
        let new = match &enrolled.conflict {
            Some(c) => keep_conflict(station, c)?,
            None => false,
        };
        station
            .store_mut()
            .hub_enrolled(p.entry.seq, enrolled.record)?;
        Ok(new)
    }

    /// Enrolls the recording just sealed at `seq`, when the hub answered its check: the claim
    /// is kept first, so that if the hub does not answer now the next pass names it.
    pub fn after_seal(&self, station: &mut Station, seq: i64, checked: &Checked) -> Result<()> {
        let Checked::Kecamatan { claim, at, .. } = checked else {
            // The hub did not answer a moment ago: the next pass sends it.
            return Ok(());
        };
        station.store_mut().hub_checked(seq, claim, at)?;
        let pending = station.store().hub_pending(BATCH)?;
        if let Some(p) = pending.iter().find(|p| p.entry.seq == seq)
            && let Err(e) = self.enroll_one(station, p)
        {
            tracing::warn!(
                code = e.code(),
                "the sealed recording waits for the kecamatan server"
            );
        }
        Ok(())
    }

    /// Sends every sealed recording the hub has not taken yet, then reads the conflicts the
    /// hub found for this station, copies what is new of the kecamatan's gallery and reports
    /// the station's backlog. A dead link stops the pass (the next one goes on); a recording
    /// the hub refuses is skipped with its code, so one refused recording never holds back
    /// the others.
    pub fn pass(&self, station: &mut Station) -> Result<HubPass> {
        let mut pass = HubPass::default();
        let mut down = false;
        'send: loop {
            let pending = station.store().hub_pending(BATCH)?;
            let mut sent = false;
            for p in &pending {
                match self.enroll_one(station, p) {
                    Ok(new) => {
                        pass.enrolled += 1;
                        pass.conflicts += usize::from(new);
                        sent = true;
                    }
                    Err(Error::Hub { code, detail }) => {
                        down = link_failure(&code);
                        if !down {
                            tracing::warn!(
                                packet = %p.entry.enrollment_id,
                                %code,
                                %detail,
                                "the kecamatan server refused a recording"
                            );
                        }
                        pass.error = Some(code);
                        if down {
                            break 'send;
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            if !sent {
                break;
            }
        }
        if !down {
            let result = match self
                .client
                .conflicts(station.store().hub_conflict_cursor()?)
            {
                Ok(list) => {
                    for c in &list {
                        pass.conflicts += usize::from(keep_conflict(station, c)?);
                    }
                    Ok(())
                }
                Err(e) => Err(e.code().to_owned()),
            };
            note(&mut pass, &mut down, result);
        }
        if !down {
            let copied = self.refresh_copy(station, &mut pass)?;
            note(&mut pass, &mut down, copied);
        }
        if !down {
            let reported = self
                .client
                .report_backlog(&backlog(station)?)
                .map_err(|e| e.code().to_owned());
            note(&mut pass, &mut down, reported);
        }
        // Today so far, and yesterday whole (its last visits may have come after the last
        // pass of the day): the kecamatan's daily report pools them.
        let today = station.store().clock().today();
        for day in [today.previous_day(), Some(today)].into_iter().flatten() {
            if down {
                break;
            }
            let day = crate::report::counter_day(station, &day.to_string())?;
            let reported = self
                .client
                .report_day(&day)
                .map_err(|e| e.code().to_owned());
            note(&mut pass, &mut down, reported);
        }
        if !down && station.store().population_signer()?.is_some() {
            let imported = self.population(station, &mut pass)?;
            note(&mut pass, &mut down, imported);
        }
        pass.pending = station.store().hub_pending_count()?;
        Ok(pass)
    }

    /// Imports the Dinas's extracts the hub holds and the station lacks, in order, each
    /// sealed to this station and verified here as a file from a USB stick would be; the
    /// first refusal stops (the next pass tries again).
    fn population(
        &self,
        station: &mut Station,
        pass: &mut HubPass,
    ) -> Result<std::result::Result<(), String>> {
        let (imported, stopped) = crate::population::update(station, &self.client, "hub")?;
        pass.population += imported;
        Ok(stopped.map_or(Ok(()), Err))
    }
}

/// Keeps a step's failure in the pass; a dead link stops the steps after it.
fn note(pass: &mut HubPass, down: &mut bool, result: std::result::Result<(), String>) {
    if let Err(code) = result {
        *down = *down || link_failure(&code);
        pass.error = Some(code);
    }
}

/// Whether a code of the hub client means the hub cannot take anything now (unreachable, or
/// its disk full), as opposed to a refusal of one request.
fn link_failure(code: &str) -> bool {
    matches!(
        code,
        "LINK_DOWN"
            | "DNS"
            | "TLS"
            | "TIMEOUT"
            | "CONNECTION_DROPPED"
            | "HUB_UNAVAILABLE"
            | "HUB_DISK_FULL"
    )
}

impl HubLink {
    /// Brings the copy of the kecamatan's gallery up to the hub's, a page at a time (each in
    /// its own transaction, so a cut link keeps what arrived); the hub's or the link's code
    /// when it stopped early.
    fn refresh_copy(
        &self,
        station: &mut Station,
        pass: &mut HubPass,
    ) -> Result<std::result::Result<(), String>> {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).ok();
        loop {
            let page = match self.client.gallery(station.store().gallery_cursor()?) {
                Ok(page) => page,
                Err(e) => return Ok(Err(e.code().to_owned())),
            };
            let mut rows = Vec::with_capacity(page.records.len());
            for g in page.records {
                let (Some(codes), Some(minutiae), Some(irises)) = (
                    b64(&g.templates.codes),
                    b64(&g.templates.minutiae),
                    b64(&g.templates.irises),
                ) else {
                    return Ok(Err("PROTOCOL".into()));
                };
                rows.push(crate::store::GalleryRow {
                    seq: g.seq,
                    station_id: g.station_id,
                    masked_nik: g.masked_nik,
                    packet_id: g.packet_id,
                    recorded_at: g.recorded_at,
                    row: IndexRow {
                        codes,
                        minutiae,
                        irises,
                    },
                });
            }
            pass.copied += rows.len();
            let now = (!page.more).then(|| crate::clock::rfc3339(station.store().clock().now()));
            station.store_mut().add_gallery(&rows, now.as_deref())?;
            if !page.more {
                return Ok(Ok(()));
            }
        }
    }
}

/// The station's records not yet final as its hub (and through it the data center) sees them:
/// state, age, code and next step; no name, no NIK.
fn backlog(station: &Station) -> Result<rekam_packet::hub::CounterBacklog> {
    let lines = crate::sync::backlog(station, crate::desk::STUCK_AFTER, crate::i18n::Lang::Id)?;
    Ok(rekam_packet::hub::CounterBacklog {
        records: lines
            .into_iter()
            .map(|l| rekam_packet::hub::BacklogRecord {
                packet_id: l.row.packet_id,
                station_id: String::new(),
                state: l.row.state.as_str().to_owned(),
                recorded_at: l.row.captured_at,
                age_seconds: l.age_seconds,
                stuck: l.stuck,
                code: l.row.last_code.or(l.pass_failure),
                next_step: l.next_step,
            })
            .collect(),
    })
}

fn keep_conflict(station: &mut Station, c: &Conflict) -> Result<bool> {
    let json = serde_json::to_string(c).map_err(|e| Error::Internal(e.to_string()))?;
    let new = station.store_mut().add_hub_conflict(c.id, &json)?;
    if new {
        tracing::warn!(
            conflict = c.id,
            packet = %c.packet_id,
            earlier_station = %c.earlier.station_id,
            "the kecamatan server found a person recorded at two counters"
        );
    }
    Ok(new)
}

/// The next visit's queue number on `day`. At a station with a kecamatan server, the
/// kecamatan's (one sequence across every counter: `A-017`); when the hub does not answer, the
/// counter's own sequence under its own prefix (`L01-003`: the last part of the station id), so
/// that it never repeats a kecamatan number; at a station without one, its own (`A-003`).
pub fn queue_number(station: &mut Station, day: &str) -> Result<String> {
    // `None`: no hub; `Some(None)`: a hub that cannot be asked (its pinned identity unreadable).
    let hub = match HubLink::open(station) {
        Ok(link) => link.map(Some),
        Err(e) => {
            tracing::warn!(
                code = e.code(),
                "the kecamatan server cannot be asked for a number"
            );
            Some(None)
        }
    };
    if let Some(link) = hub {
        match link.map(|l| l.client.ticket(day)) {
            Some(Ok(n)) => return Ok(format!("A-{n:03}")),
            Some(Err(e)) => tracing::warn!(
                code = e.code(),
                "the kecamatan server gave no queue number: the counter's own"
            ),
            None => {}
        }
        let own = station.store_mut().issue_queue_ticket(day)?;
        let id = &station.identity().station_id;
        let suffix = id.rsplit('-').next().unwrap_or(id);
        return Ok(format!("L{}-{own:03}", suffix.to_uppercase()));
    }
    let own = station.store_mut().issue_queue_ticket(day)?;
    Ok(format!("A-{own:03}"))
}

/// One pass with the station's hub, if it has one ([`HubRound::run`]).
pub fn pass(station: &mut Station) -> Result<Option<HubPass>> {
    Ok(HubRound::run(station)?.map(HubRound::into_pass))
}

/// The station's hub during one sync: its link, opened once, and what was done with it.
#[derive(Debug)]
pub struct HubRound {
    /// `None` when the hub could not even be linked (the pass says why).
    link: Option<HubLink>,
    pass: HubPass,
}

impl HubRound {
    /// Links the station's hub and makes its pass ([`HubLink::pass`]); `None` for a station
    /// without a hub. A hub that cannot be linked (its pinned identity unreadable) is reported
    /// in the pass, not raised.
    pub fn run(station: &mut Station) -> Result<Option<HubRound>> {
        let link = match HubLink::open(station) {
            Ok(Some(link)) => link,
            Ok(None) => return Ok(None),
            Err(e) => {
                let pass = HubPass {
                    error: Some(e.code().to_owned()),
                    pending: station.store().hub_pending_count()?,
                    ..HubPass::default()
                };
                return Ok(Some(HubRound { link: None, pass }));
            }
        };
        let pass = link.pass(station)?;
        match &pass.error {
            None => tracing::info!(
                enrolled = pass.enrolled,
                conflicts = pass.conflicts,
                "hub pass"
            ),
            Some(code) => tracing::warn!(%code, pending = pass.pending, "hub pass stopped"),
        }
        Ok(Some(HubRound {
            link: Some(link),
            pass,
        }))
    }

    /// Relays through the hub: takes the receipts of packets left with it before, and with
    /// `deposit` (the data center was out of reach) leaves with it every recording not at the
    /// data center yet.
    pub fn relay(&mut self, station: &mut Station, deposit: bool) -> Result<()> {
        let Some(link) = &self.link else {
            return Ok(());
        };
        if let Err(code) = link.relay(station, deposit, &mut self.pass)? {
            self.pass.error.get_or_insert(code);
        }
        Ok(())
    }

    /// Leaves the reissue requests not answered yet with the hub (the data center was out of
    /// reach), sealed to the data center and signed, and keeps each answer the hub brought
    /// back, verified as if the data center had answered the station itself.
    pub fn reissues(&mut self, station: &mut Station) -> Result<crate::workflow::reissue::Sent> {
        let (Some(link), Some(dc)) = (&self.link, station.data_center()?) else {
            return Ok(Default::default());
        };
        let key = station.signing_key()?;
        let station_id = station.identity().station_id.clone();
        let sent = crate::workflow::reissue::carry(station, &mut |row| {
            let relayed = rekam_packet::reissue::RelayedReissue::new(
                &key,
                &dc,
                &station_id,
                &row.request_id,
                row.request.as_bytes(),
            )?;
            Ok(link.client.hold_reissue(&relayed)?.answer)
        })?;
        Ok(sent)
    }

    /// Applies the data center's results the hub kept for this station (the data center was
    /// out of reach); counts them in `applied` too. Each event is verified against the data
    /// center's pinned identity, as if read from the data center itself.
    pub fn results(&mut self, station: &mut Station, applied: &mut usize) -> Result<()> {
        let (Some(link), Some(dc)) = (&self.link, station.data_center()?) else {
            return Ok(());
        };
        let before = *applied;
        let failed =
            crate::sync::apply_feed(station, |cursor| link.client.results(cursor, &dc), applied)?;
        self.pass.results += *applied - before;
        if let Some(e) = failed {
            self.pass.error.get_or_insert_with(|| e.code().to_owned());
        }
        Ok(())
    }

    /// What the round did.
    pub fn into_pass(self) -> HubPass {
        self.pass
    }
}

/// What the de-duplication compared a person with, as the wizard shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckedView {
    /// Whether the whole kecamatan was compared (false: this station only).
    pub kecamatan: bool,
    /// In the operator's language.
    pub label: String,
}

impl CheckedView {
    /// `checked` in `lang`.
    pub fn of(checked: &Checked, lang: crate::i18n::Lang) -> CheckedView {
        match checked {
            Checked::Kecamatan { gallery, .. } => CheckedView {
                kecamatan: true,
                label: match lang {
                    crate::i18n::Lang::Id => format!(
                        "Diperiksa terhadap seluruh kecamatan oleh server kecamatan ({gallery} rekaman)"
                    ),
                    crate::i18n::Lang::En => format!(
                        "Checked against the whole kecamatan by its server ({gallery} recordings)"
                    ),
                },
            },
            Checked::KecamatanCopy {
                as_of,
                gallery,
                code,
            } => CheckedView {
                kecamatan: true,
                label: match lang {
                    crate::i18n::Lang::Id => format!(
                        "Diperiksa terhadap salinan galeri kecamatan di loket ini per {as_of} \
                         ({gallery} rekaman): server kecamatan tidak terjangkau ({code}) dan \
                         memeriksanya lagi saat tersambung"
                    ),
                    crate::i18n::Lang::En => format!(
                        "Checked against this counter's copy of the kecamatan's gallery as of \
                         {as_of} ({gallery} recordings): the kecamatan server did not answer \
                         ({code}) and checks the recording again when it does"
                    ),
                },
            },
            Checked::StationOnly { code } => CheckedView {
                kecamatan: false,
                label: match lang {
                    crate::i18n::Lang::Id => format!(
                        "Diperiksa terhadap rekaman stasiun ini saja: server kecamatan tidak \
                         terjangkau ({code}); server memeriksanya lagi saat tersambung"
                    ),
                    crate::i18n::Lang::En => format!(
                        "Checked against this station's recordings only: the kecamatan server \
                         did not answer ({code}); it checks the recording again when it does"
                    ),
                },
            },
        }
    }
}

/// A conflict the hub found, as the sync screen lists it for the supervisor.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictView {
    /// The hub's number.
    pub id: i64,
    /// In the operator's language: which two recordings, where, what to do.
    pub text: String,
}

impl ConflictView {
    /// `c` in `lang`.
    pub fn of(c: &Conflict, lang: crate::i18n::Lang) -> ConflictView {
        let earlier = c.earlier.packet_id.as_deref().unwrap_or("-");
        ConflictView {
            id: c.id,
            text: match lang {
                crate::i18n::Lang::Id => format!(
                    "Rekaman {} (loket {}, NIK {}) cocok dengan rekaman {earlier} di loket {} \
                     (NIK {}): supervisor memeriksa identitas keduanya",
                    c.packet_id,
                    c.station_id,
                    c.masked_nik,
                    c.earlier.station_id,
                    c.earlier.masked_nik
                ),
                crate::i18n::Lang::En => format!(
                    "Recording {} (counter {}, NIK {}) matches recording {earlier} at counter {} \
                     (NIK {}): a supervisor checks both identities",
                    c.packet_id,
                    c.station_id,
                    c.masked_nik,
                    c.earlier.station_id,
                    c.earlier.masked_nik
                ),
            },
        }
    }
}

impl HubLink {
    fn relay(
        &self,
        station: &mut Station,
        deposit: bool,
        pass: &mut HubPass,
    ) -> Result<std::result::Result<(), String>> {
        let Some(dc) = station.data_center()? else {
            return Ok(Ok(()));
        };
        for (seq, packet_id) in station.store().relay_waiting(500)? {
            let state = match self.client.relay_state(&packet_id) {
                Ok(state) => state,
                Err(SyncError::Refused { code, .. }) if code == "RELAY_UNKNOWN" => {
                    // The hub lost it (restored from an older backup): left again below.
                    continue;
                }
                Err(e) => return Ok(Err(e.code().to_owned())),
            };
            let Some(receipt) = state.receipt else {
                continue;
            };
            let sealed = station
                .store()
                .enrollment_payload(&packet_id)?
                .ok_or_else(|| Error::Internal(format!("packet {packet_id} has no payload")))?;
            let packet = rekam_packet::SealedPacket::parse(&sealed)?;
            // The hub only carried it: the receipt must be the data center's own.
            receipt.verify(&dc, &packet_id, &packet.content_hash())?;
            let json =
                serde_json::to_string(&receipt).map_err(|e| Error::Internal(e.to_string()))?;
            if station
                .store_mut()
                .sync_sent(seq, &json, "relayed by the kecamatan server")?
            {
                pass.relay_receipts += 1;
            }
        }
        if !deposit {
            return Ok(Ok(()));
        }
        for (seq, packet_id) in station.store().relay_candidates(200)? {
            let Some(sealed) = station.store().enrollment_payload(&packet_id)? else {
                continue;
            };
            match self.client.hold(&packet_id, &sealed) {
                Ok(_) => {
                    station.store_mut().relay_deposited(seq)?;
                    pass.relayed += 1;
                }
                Err(e) if link_failure(e.code()) => return Ok(Err(e.code().to_owned())),
                // Refused (this packet only): the others still go, and the station's own
                // upload keeps trying this one.
                Err(e) => {
                    tracing::warn!(packet = %packet_id, code = e.code(), "the kecamatan server refused to hold a packet");
                    pass.error = Some(e.code().to_owned());
                }
            }
        }
        Ok(Ok(()))
    }
}

/// The conflicts the hub found for this station, oldest first.
pub fn conflicts(station: &Station) -> Result<Vec<Conflict>> {
    station
        .store()
        .hub_conflicts()?
        .iter()
        .map(|json| {
            serde_json::from_str(json)
                .map_err(|e| Error::Internal(format!("a stored conflict: {e}")))
        })
        .collect()
}
