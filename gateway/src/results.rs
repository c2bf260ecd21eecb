//! Results: each packet, once it is `results_delay` old, is matched against every packet
//! received before it and its status published on the feed.
//!
//! - same NIK as an earlier packet: DUPLICATE_RECORD naming it;
//! - the biometric engine's person rule (two fingers or irises agree, fused score): a
//!   DUPLICATE_RECORD naming the matched packet; exactly one finger or iris agreeing:
//!   ADJUDICATE_RECORD, for an adjudicator to decide ([`crate::adjudicate`]: the case opens
//!   in the transaction that publishes it);
//! - no usable finger or iris template: ENROLL_FAILURE_AT_CENTRAL, asking the station to
//!   recapture and send again;
//! - otherwise PRINT_READY_RECORD.
//!
//! The gallery is the engine's in-memory index over the `person` table, loaded at start;
//! templates are read for the best candidates only.

use crate::Gateway;
use crate::adjudicate::Evidence;
use crate::api::{Outcome, publish};
use crate::{GatewayError, Result};
use rekam_bio::finger::FingerTemplate;
use rekam_bio::finger::matcher::Scratch;
use rekam_bio::index::{DedupIndex, codes_from_bytes, codes_to_bytes};
use rekam_bio::person::{
    Decision, PersonGallery, PersonProbe, PersonTemplate, codes, irises_from_bytes, irises_to_bytes,
};
use rekam_domain::manifest::{Modality, Recording};
use rekam_domain::print_order::PrintOrder;
use rekam_packet::envelope::SealedPacket;
use rekam_packet::keys::verifying_key_from_hex;
use rekam_packet::protocol::Status;
use rekam_records::iris::{IrisFormat, IrisImage};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// Candidates compared in full after screening.
const CANDIDATES: usize = 100;

/// The gallery of every decided packet.
#[derive(Debug, Default)]
pub struct Index {
    index: DedupIndex,
    /// Whether this process held the matcher's lease at its last look: while it does, no
    /// other process adds people, so the index stays whole.
    leased: bool,
}

impl Index {
    /// Loads the screening codes of every person.
    pub fn load(conn: &Connection) -> Result<Index> {
        let mut index = DedupIndex::new();
        let mut stmt = conn.prepare("SELECT receipt_no, codes FROM person")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let bytes: Vec<u8> = r.get(1)?;
            let c = codes_from_bytes(&bytes)
                .ok_or_else(|| GatewayError::Template(format!("person {seq} damaged")))?;
            index.insert(seq, c);
        }
        Ok(Index {
            index,
            leased: false,
        })
    }
}

fn template(conn: &Connection, seq: i64) -> Option<PersonTemplate> {
    let (minutiae, irises): (Option<Vec<u8>>, Vec<u8>) = conn
        .query_row(
            "SELECT minutiae, irises FROM person WHERE receipt_no = ?1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()?;
    let fingers = match minutiae {
        Some(m) => FingerTemplate::from_record(&m).ok()?,
        None => Vec::new(),
    };
    let mut p = PersonTemplate::from_fingers(fingers);
    p.irises = irises_from_bytes(&irises)?;
    Some(p)
}

/// The engine's template of a recording: fingers from its minutiae record, irises coded from
/// its iris images.
fn person_of(rec: &Recording) -> PersonTemplate {
    let fingers = rec
        .manifest
        .finger_templates
        .and_then(|i| rec.records.get(i as usize))
        .and_then(|b| FingerTemplate::from_record(&b.data).ok())
        .unwrap_or_default();
    let mut p = PersonTemplate::from_fingers(fingers);
    for c in &rec.manifest.captures {
        let (Modality::Iris, Some(pos @ 1..=2), Some(i)) = (c.modality, c.position, c.record)
        else {
            continue;
        };
        let code = rec
            .records
            .get(i as usize)
            .and_then(|b| IrisImage::parse(&b.data).ok())
            .and_then(|img| {
                let gray = match img.format {
                    IrisFormat::MonoRaw => img.data,
                    _ => image::load_from_memory(&img.data)
                        .ok()?
                        .to_luma8()
                        .into_raw(),
                };
                let g = rekam_bio::finger::extract::Gray {
                    data: &gray,
                    width: usize::from(img.width),
                    height: usize::from(img.height),
                };
                (gray.len() == g.width * g.height)
                    .then(|| rekam_bio::iris::code(g).ok().map(|(c, _)| c))
                    .flatten()
            });
        p.irises[usize::from(pos) - 1] = code;
    }
    p
}

impl Gateway {
    /// Takes or renews the matcher's lease (`matcher_lease`): one process at a time decides,
    /// so every packet is matched against every person decided before it, and a result is
    /// published once. A process that takes the lease over (its holder stopped renewing it:
    /// killed, or cut from the database) first reloads the gallery, which the holder grew.
    /// Whether this process holds it.
    pub fn hold_matcher_lease(&self) -> Result<bool> {
        let now = self.now();
        let ttl = self.inner.cfg.matcher_lease.as_secs().max(1) as i64;
        let held = self.db().execute(
            "INSERT INTO matcher_lease (id, holder, expires_at) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
              WHERE matcher_lease.holder = excluded.holder OR matcher_lease.expires_at < ?3",
            params![self.inner.process, now + ttl, now],
        )? == 1;
        let mut index = self
            .inner
            .index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held && !index.leased {
            *index = Index::load(&self.db())?;
            index.leased = true;
            tracing::info!(process = %self.inner.process, people = index.index.len(), "matcher lease taken: gallery reloaded");
        } else if !held {
            index.leased = false;
        }
        Ok(held)
    }

    /// Decides every packet whose delay has passed, if this process holds the matcher's lease;
    /// returns how many.
    pub fn decide_ready(&self) -> Result<usize> {
        if !self.hold_matcher_lease()? {
            return Ok(0);
        }
        let due = self.now() - self.inner.cfg.results_delay.as_secs() as i64;
        let ready: Vec<(i64, String, String, String)> = {
            let conn = self.db();
            let mut stmt = conn.prepare(
                "SELECT receipt_no, packet_id, station_id, object FROM packet
                 WHERE decided = 0 AND received_at <= ?1 ORDER BY receipt_no LIMIT 100",
            )?;
            stmt.query_map([due], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (seq, packet_id, station_id, object) in &ready {
            // Renewed before each packet: a lease lost mid-batch (this process stalled past it)
            // leaves the rest to the new holder.
            if !self.hold_matcher_lease()? {
                return Ok(0);
            }
            let decided = match self.inner.objects.get(object) {
                // The store out of reach: nothing is decided until it is back.
                Err(e) if e.code() == "OBJECTS_UNAVAILABLE" => return Err(e),
                Err(e) => Err(e),
                Ok(sealed) => self.decide(*seq, packet_id, station_id, &sealed),
            };
            if let Err(e) = decided {
                if e.code() == "DECIDED_ELSEWHERE" {
                    // Another process decided it (its lease was taken over mid-batch).
                    tracing::info!(packet = %packet_id, "decided by another process");
                    continue;
                }
                // One packet that cannot be matched must not hold up the others: it is
                // answered with a failure, and the station's resend queues it again.
                tracing::error!(packet = %packet_id, error = %e, "matching failed");
                self.fail(*seq, packet_id, station_id, &e)?;
            }
        }
        Ok(ready.len())
    }

    fn fail(&self, seq: i64, packet_id: &str, station_id: &str, e: &GatewayError) -> Result<()> {
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.conclude(
            &tx,
            seq,
            packet_id,
            station_id,
            Outcome::new(Status::EnrollFailureAtCentral).because(format!(
                "the data center could not match the packet ({e}): send it again"
            )),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Publishes a packet's result and marks it decided, in the caller's transaction; a packet
    /// decided already (by a process whose lease this one took over) is refused, so its
    /// result is published once.
    fn conclude(
        &self,
        tx: &rusqlite::Transaction<'_>,
        seq: i64,
        packet_id: &str,
        station_id: &str,
        outcome: Outcome,
    ) -> Result<()> {
        let undecided = tx.execute(
            "UPDATE packet SET decided = 1 WHERE receipt_no = ?1 AND decided = 0",
            [seq],
        )?;
        if undecided == 0 {
            return Err(GatewayError::DecidedElsewhere(packet_id.to_owned()));
        }
        publish(
            tx,
            &self.inner.dc,
            packet_id,
            station_id,
            outcome,
            self.now(),
        )?;
        Ok(())
    }

    /// Opens a stored packet of `station_id`: its signature against the station's key, then
    /// the recording inside.
    pub(crate) fn open_recording(&self, station_id: &str, sealed: &[u8]) -> Result<Recording> {
        let sealed = SealedPacket::parse(sealed)?;
        let key_id = sealed.header().station_key.to_string();
        // Any key the station has held: the packet was verified when it arrived.
        let public = crate::db::station_key(&self.db(), station_id, &key_id)?
            .ok_or_else(|| GatewayError::StationKeyMissing {
                station_id: station_id.to_owned(),
                key_id,
            })?
            .public_key;
        let opened = sealed.open(&verifying_key_from_hex(&public)?, &self.inner.dc)?;
        Recording::from_contents(&opened.contents).map_err(GatewayError::Recording)
    }

    fn decide(&self, seq: i64, packet_id: &str, station_id: &str, sealed: &[u8]) -> Result<()> {
        let rec = self.open_recording(station_id, sealed)?;
        let nik = rec.manifest.biodata.nik.as_str().to_owned();
        let person = person_of(&rec);
        let usable = person.count() > 0 || person.irises.iter().any(Option::is_some);

        let (outcome, case) = if !usable {
            let o = Outcome::new(Status::EnrollFailureAtCentral)
                .because("no usable fingerprint or iris template: recapture and send again");
            (o, None)
        } else if let Some(first) = self.same_nik(&nik, seq)? {
            let o = Outcome::new(Status::DuplicateRecord)
                .matching(Some(first))
                .because("the same NIK was recorded before");
            (o, None)
        } else {
            self.biometric_verdict(&person)
        };

        let status = outcome.status;
        let mut conn = self.db();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if usable {
            let fingers: Vec<FingerTemplate> = person.fingers.iter().flatten().cloned().collect();
            let minutiae = if fingers.is_empty() {
                None
            } else {
                Some(
                    rekam_bio::finger::record_of(&fingers)
                        .map_err(|e| GatewayError::Template(e.to_string()))?,
                )
            };
            tx.execute(
                "INSERT OR REPLACE INTO person (receipt_no, packet_id, nik, codes, minutiae, irises)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    seq,
                    packet_id,
                    nik,
                    codes_to_bytes(&codes(&person)),
                    minutiae,
                    irises_to_bytes(&person.irises)
                ],
            )?;
        }
        if let (Some(evidence), Some(matched)) = (&case, &outcome.matched) {
            crate::adjudicate::open_case(
                &tx,
                packet_id,
                station_id,
                matched,
                evidence,
                self.now(),
            )?;
        }
        self.conclude(&tx, seq, packet_id, station_id, outcome)?;
        tx.commit()?;
        drop(conn);
        if usable {
            self.inner
                .index
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .index
                .insert(seq, codes(&person));
        }
        tracing::info!(packet = %packet_id, status = status.as_str(), "result published");
        Ok(())
    }

    fn same_nik(&self, nik: &str, seq: i64) -> rusqlite::Result<Option<String>> {
        self.db()
            .query_row(
                "SELECT packet_id FROM person WHERE nik = ?1 AND receipt_no <> ?2 ORDER BY receipt_no LIMIT 1",
                params![nik, seq],
                |r| r.get(0),
            )
            .optional()
    }

    /// The verdict of the biometric engine on `person`, with the evidence of an adjudication
    /// case when one finger or iris agrees.
    fn biometric_verdict(&self, person: &PersonTemplate) -> (Outcome, Option<Evidence>) {
        let probe = PersonProbe::new(person);
        let rule = Decision::default();
        let hits = {
            let index = self
                .inner
                .index
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let shortlist: Vec<i64> = if person.count() > 0 {
                index
                    .index
                    .screen(&probe, CANDIDATES)
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect()
            } else {
                index.index.ids().collect()
            };
            drop(index);
            let conn = self.db();
            let candidates = shortlist
                .into_iter()
                .filter_map(|id| Some((id, 0, template(&conn, id)?)))
                .collect();
            rekam_bio::index::rescore(&probe, candidates, &rule)
        };
        let packet_of = |seq: i64| {
            self.db()
                .query_row(
                    "SELECT packet_id FROM person WHERE receipt_no = ?1",
                    [seq],
                    |r| r.get::<_, String>(0),
                )
                .ok()
        };
        match hits.first() {
            Some(h) if h.verdict.same => {
                let o = Outcome::new(Status::DuplicateRecord)
                    .matching(packet_of(h.id))
                    .because(format!(
                        "{} of {} fingers and irises agree (fused score {})",
                        h.verdict.matching, h.verdict.compared, h.verdict.fused
                    ));
                (o, None)
            }
            Some(h) if h.verdict.matching >= 1 => {
                // What the adjudicator reads: the score of every position compared.
                let evidence = template(&self.db(), h.id).map(|t| {
                    let scores = probe.scores(&PersonGallery::new(&t), &mut Scratch::default());
                    Evidence::new(&scores, &rule)
                });
                let agreeing = evidence
                    .as_ref()
                    .map(|e| e.agreeing().join(", "))
                    .unwrap_or_default();
                let o = Outcome::new(Status::AdjudicateRecord)
                    .matching(packet_of(h.id))
                    .because(format!(
                        "{} of {} fingers and irises agree ({agreeing}): an adjudicator decides",
                        h.verdict.matching, h.verdict.compared
                    ));
                (o, evidence)
            }
            _ => (Outcome::new(Status::PrintReadyRecord), None),
        }
    }
}

/// The print order of a recording: its clean data for the Dinas to write to a blank card.
pub fn print_order(rec: &Recording) -> Result<PrintOrder, String> {
    let m = &rec.manifest;
    let record_of = |modality: Modality| {
        m.captures
            .iter()
            .find(|c| c.modality == modality)
            .and_then(|c| c.record)
            .and_then(|i| rec.records.get(i as usize))
            .map(|b| b.data.clone())
            .ok_or_else(|| format!("no {modality:?} record"))
    };
    let templates = match m.finger_templates {
        Some(i) => rec
            .records
            .get(i as usize)
            .map(|b| FingerTemplate::from_record(&b.data))
            .transpose()
            .map_err(|e| e.to_string())?
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let card = |position: u8| -> std::result::Result<Vec<u8>, String> {
        match templates.iter().find(|t| t.position == position) {
            Some(t) => rekam_records::minutiae::encode(&rekam_bio::verify::card_template(t))
                .map_err(|e| e.to_string()),
            None => Ok(Vec::new()),
        }
    };
    Ok(PrintOrder {
        packet_id: m.packet_id.clone(),
        biodata: m.biodata.clone(),
        face: record_of(Modality::Face)?,
        signature: record_of(Modality::Signature)?,
        right_index: card(2)?,
        left_index: card(7)?,
    })
}
