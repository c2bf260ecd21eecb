//! The technician's drain: unsent packets written to a removable disk as a bundle the data
//! center imports, and the data center's receipts brought back.
//!
//! Bundle layout, `<to>/<station id>/`:
//!
//! ```text
//! packets/<packet id>.rkpk   the sealed packets, byte for byte as stored
//! reissues/<id>.rkrq         reissue requests not yet answered, each sealed to the data center
//! manifest.json              station, time, and per packet: id, file, size, content hash, SHA-256
//! manifest.sig               the station's signature of manifest.json (when its key is there)
//! receipts.json, .sig        written by the data center's import, signed by it
//! ```
//!
//! Invariants: a packet file is written to `.part`, synced and renamed (the renames synced
//! before the manifest is written), so a disk pulled out leaves whole files or `.part` files;
//! `manifest.sig` holds the new manifest's signature beside the old one while the manifest is
//! replaced, so the pair on the disk verifies at every moment; running the export again skips
//! the whole files whose hash matches and rewrites the rest; the manifest is written last
//! (then its signature alone); packets become EXPORTED only after the manifest is on the
//! disk, and are never deleted. A station whose signing key is lost (the machine carried to
//! the data center with its database and store key alone) exports an unsigned manifest:
//! every packet is still signed on its own.

use crate::durable::{create_dir_all, sync_dir};
use crate::station::Station;
use crate::{Error, Result};
use rekam_packet::envelope::SealedPacket;
use rekam_packet::protocol::{
    BundleEntry, BundleManifest, BundleReissue, ReceiptsFile, sign_bundle, verify_bundle,
};
use rekam_packet::sha256;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What an export did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportReport {
    /// The bundle directory.
    pub bundle: PathBuf,
    /// Packets in the bundle.
    pub packets: usize,
    /// Reissue requests in the bundle (sealed to the data center).
    pub reissues: usize,
    /// Files written by this run (the rest were on the disk, whole, from an interrupted run).
    pub written: usize,
    /// Bytes of the packets.
    pub bytes: u64,
    /// Whether the manifest is signed by the station.
    pub signed: bool,
}

fn write_synced(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    crate::durable::replace_file(path, bytes, durable)
}

fn whole(path: &Path, sha: &str) -> bool {
    std::fs::read(path).is_ok_and(|b| hex::encode(sha256(&[&b])) == sha)
}

/// Exports the unsent packets (or the `selected` packet ids) to `<to>/<station id>/`;
/// `progress` hears (done, total, bytes) after each packet.
pub fn export(
    station: &mut Station,
    to: &Path,
    selected: &[String],
    mut progress: impl FnMut(usize, usize, u64),
) -> Result<ExportReport> {
    let rows: Vec<_> = station
        .store()
        .backlog()?
        .into_iter()
        .filter(|r| {
            if selected.is_empty() {
                r.state.unsent()
            } else {
                selected.contains(&r.packet_id)
            }
        })
        .collect();
    if let Some(missing) = selected
        .iter()
        .find(|id| !rows.iter().any(|r| &r.packet_id == *id))
    {
        return Err(Error::PacketNotWaiting(missing.clone()));
    }
    let station_id = station.identity().station_id.clone();
    let bundle = to.join(&station_id);
    let packets_dir = bundle.join("packets");
    // Each new folder's name synced: a bundle reported written survives a power cut or the
    // disk pulled out (the power-cut campaign lost a whole bundle before).
    create_dir_all(&packets_dir, false)?;
    let mut entries = Vec::new();
    let (mut written, mut bytes) = (0, 0u64);
    for (i, row) in rows.iter().enumerate() {
        let payload = station
            .store()
            .enrollment_payload(&row.packet_id)?
            .ok_or_else(|| Error::Internal(format!("packet {} vanished", row.packet_id)))?;
        let packet = SealedPacket::parse(&payload)?;
        let file = format!("packets/{}.rkpk", row.packet_id);
        let sha = hex::encode(sha256(&[&payload]));
        let path = bundle.join(&file);
        if !whole(&path, &sha) {
            // Each file's bytes are synced before its rename; the renames are synced once,
            // below, before the manifest that lists them.
            write_synced(&path, &payload, false)?;
            written += 1;
        }
        bytes += payload.len() as u64;
        entries.push(BundleEntry {
            packet_id: row.packet_id.clone(),
            file,
            size: payload.len() as u64,
            content_hash: hex::encode(packet.content_hash()),
            sha256: sha,
        });
        progress(i + 1, rows.len(), bytes);
    }
    sync_dir(&packets_dir)?;
    let (reissues, reissue_files) = export_reissues(station, &bundle)?;
    written += reissue_files;
    let manifest = BundleManifest {
        format: 1,
        station_id: station_id.clone(),
        created_at: crate::clock::rfc3339(station.store().clock().now()),
        packets: entries,
        reissues,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Internal(e.to_string()))?;
    let sig_path = bundle.join("manifest.sig");
    let signed = match station.signing_key() {
        Ok(key) => {
            // The new signature goes beside the one of the manifest on the disk before that
            // manifest is replaced, and alone after: whichever manifest a kill or a pulled
            // disk leaves verifies.
            let manifest_path = bundle.join("manifest.json");
            let new = sign_bundle(&key, &json);
            let interim = interim_signature(
                &new,
                std::fs::read(&manifest_path).ok().as_deref(),
                &std::fs::read_to_string(&sig_path).unwrap_or_default(),
                &key,
            );
            write_synced(&sig_path, interim.as_bytes(), true)?;
            write_synced(&manifest_path, &json, true)?;
            write_synced(&sig_path, new.as_bytes(), true)?;
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "no signing key: the manifest is not signed");
            if sig_path.exists() {
                std::fs::remove_file(&sig_path).map_err(|e| Error::io(&sig_path, e))?;
            }
            write_synced(&bundle.join("manifest.json"), &json, true)?;
            false
        }
    };
    let to_text = bundle.display().to_string();
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    station.store_mut().sync_exported(&seqs, &to_text)?;
    station.audit(
        &crate::audit::AuditEvent::new("technician", "sync.export", &station_id).with_detail(
            serde_json::json!({
                "to": to_text, "packets": rows.len(), "reissues": manifest.reissues.len(), "signed": signed
            }),
        ),
    )?;
    tracing::info!(
        bundle = %bundle.display(),
        packets = rows.len(),
        written,
        bytes,
        signed,
        "backlog exported"
    );
    Ok(ExportReport {
        bundle,
        packets: rows.len(),
        reissues: manifest.reissues.len(),
        written,
        bytes,
        signed,
    })
}

/// Writes the reissue requests not yet answered into `bundle/reissues/`, each sealed to the
/// pinned data center (the disk carries no NIK in the clear). The seal is new each time, so a
/// request's file is rewritten whole by every export. Returns the manifest's entries and the
/// files written.
fn export_reissues(station: &Station, bundle: &Path) -> Result<(Vec<BundleReissue>, usize)> {
    let waiting = station.store().reissue_requests(true)?;
    let Some(dc) = station.data_center()? else {
        return Ok((Vec::new(), 0));
    };
    if waiting.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let dir = bundle.join("reissues");
    create_dir_all(&dir, false)?;
    let station_id = &station.identity().station_id;
    let mut entries = Vec::new();
    for row in &waiting {
        let sealed = rekam_packet::reissue::seal_request(
            &dc,
            station_id,
            &row.request_id,
            row.request.as_bytes(),
        )?;
        let file = format!("reissues/{}.rkrq", row.request_id);
        write_synced(&bundle.join(&file), &sealed, false)?;
        entries.push(BundleReissue {
            request_id: row.request_id.clone(),
            file,
            sha256: hex::encode(sha256(&[&sealed])),
        });
    }
    sync_dir(&dir)?;
    Ok((entries, waiting.len()))
}

/// `manifest.sig` while the manifest is being replaced: the `new` signature, and the line of
/// the `old` signature file that verifies the manifest still on the disk (with this key; the
/// first line when none does, as after a key rotation). An export cut at this point leaves a
/// file of two lines, only one of which is the disk's manifest's: the next run must keep that
/// one, not merely the first.
fn interim_signature(
    new: &str,
    on_disk: Option<&[u8]>,
    old: &str,
    key: &rekam_packet::StationKey,
) -> String {
    let verifies = |line: &&str| {
        on_disk.is_some_and(|m| {
            verify_bundle(m, line, |id| (id == key.id()).then(|| key.public())).is_ok()
        })
    };
    let keep = old.lines().find(verifies).or_else(|| old.lines().next());
    format!("{new}{}\n", keep.unwrap_or_default())
}

/// What a receipts import did.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReceiptsReport {
    /// Packets now SENT_FOR_ENROLLMENT.
    pub accepted: usize,
    /// Receipts for packets already further along.
    pub already: usize,
    /// Receipts refused here: (packet id, why).
    pub invalid: Vec<(String, String)>,
    /// Packets the data center refused: (packet id, code, words).
    pub refused_by_dc: Vec<(String, String, String)>,
    /// Reissue requests answered by the file (queued or refused: `rekam reissues`).
    pub reissues_answered: usize,
}

/// Imports the data center's `receipts.json`: the file's signature (`receipts.sig`) and then
/// each receipt are verified against the pinned identity, each against the stored packet's
/// content hash, before its packet becomes SENT_FOR_ENROLLMENT.
pub fn import_receipts(station: &mut Station, file: &Path) -> Result<ReceiptsReport> {
    let dc = station.data_center()?.ok_or(Error::NotRegistered)?;
    let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
    // The file is signed as a whole (`receipts.sig` beside it), and each receipt on its own.
    let sig_path = file.with_extension("sig");
    let signature = std::fs::read_to_string(&sig_path).map_err(|e| Error::io(&sig_path, e))?;
    rekam_packet::protocol::verify_receipts(&dc, &bytes, &signature)?;
    let receipts: ReceiptsFile =
        serde_json::from_slice(&bytes).map_err(|e| Error::ReceiptsUnreadable {
            path: file.to_owned(),
            problem: e.to_string(),
        })?;
    let mut report = ReceiptsReport::default();
    if receipts.station_id != station.identity().station_id {
        return Err(Error::ReceiptsForeign {
            found: receipts.station_id,
            station: station.identity().station_id.clone(),
        });
    }
    let how = format!("receipt imported from {}", file.display());
    // The records still waiting, read once: packet id -> journal position.
    let mut waiting: std::collections::HashMap<String, i64> = station
        .store()
        .backlog()?
        .into_iter()
        .filter(|b| b.state.unsent())
        .map(|b| (b.packet_id, b.seq))
        .collect();
    for r in &receipts.receipts {
        let stored = station.store().enrollment_payload(&r.packet_id)?;
        let check = stored
            .ok_or_else(|| "no such packet at this station".to_owned())
            .and_then(|b| SealedPacket::parse(&b).map_err(|e| e.to_string()))
            .and_then(|p| {
                r.verify(&dc, &r.packet_id, &p.content_hash())
                    .map_err(|e| e.to_string())
            });
        if let Err(why) = check {
            tracing::warn!(packet = %r.packet_id, %why, "receipt refused");
            report.invalid.push((r.packet_id.clone(), why));
            continue;
        }
        match waiting.remove(&r.packet_id) {
            Some(seq) => {
                let json = serde_json::to_string(r).map_err(|e| Error::Internal(e.to_string()))?;
                station.store_mut().sync_sent(seq, &json, &how)?;
                report.accepted += 1;
            }
            None => report.already += 1,
        }
    }
    let now = station.store().clock().now().unix_timestamp();
    for f in &receipts.refused {
        // The refusal is shown in the backlog with its code; the sync keeps offering the
        // packet online, where the data center's answer may differ (a fixed clock, a key).
        if let Some(&seq) = waiting.get(&f.packet_id) {
            station
                .store_mut()
                .sync_failed(seq, &f.code, &f.message, now)?;
        }
        report
            .refused_by_dc
            .push((f.packet_id.clone(), f.code.clone(), f.message.clone()));
    }
    let station_id = station.identity().station_id.clone();
    for answer in &receipts.reissues {
        let id = &answer.decision.request_id;
        if let Err(e) = answer.verify(&dc, &station_id, id) {
            tracing::warn!(request = %id, error = %e, "reissue answer refused");
            report.invalid.push((id.clone(), e.to_string()));
            continue;
        }
        let json = serde_json::to_string(answer).map_err(|e| Error::Internal(e.to_string()))?;
        if station.store_mut().reissue_answered(id, &json)? {
            report.reissues_answered += 1;
        }
    }
    tracing::info!(
        file = %file.display(),
        reissues_answered = report.reissues_answered,
        accepted = report.accepted,
        already = report.already,
        invalid = report.invalid.len(),
        refused_by_dc = report.refused_by_dc.len(),
        "receipts imported"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rekam_packet::StationKey;

    #[test]
    fn a_rewrite_cut_twice_keeps_the_signature_of_the_manifest_on_the_disk() {
        let key = StationKey::from_seed(&[3; 32]);
        let lookup = |id| (id == key.id()).then(|| key.public());
        let (m0, m1, m2) = (
            b"{\"n\":0}".as_slice(),
            b"{\"n\":1}".as_slice(),
            b"{\"n\":2}".as_slice(),
        );
        let sign = |m| sign_bundle(&key, m);
        // The first rewrite was cut after its interim signature: the disk holds m0 and the
        // signatures of m1 and m0.
        let cut = interim_signature(&sign(m1), Some(m0), &sign(m0), &key);
        verify_bundle(m0, &cut, lookup).unwrap();
        // The second rewrite's interim file must still verify m0 (and m2, once written).
        let again = interim_signature(&sign(m2), Some(m0), &cut, &key);
        verify_bundle(m0, &again, lookup).unwrap();
        verify_bundle(m2, &again, lookup).unwrap();
        assert_eq!(again.lines().count(), 2);
        // A first export: nothing on the disk, the new signature alone.
        assert_eq!(
            interim_signature(&sign(m0), None, "", &key).trim(),
            sign(m0).trim()
        );
    }
}
