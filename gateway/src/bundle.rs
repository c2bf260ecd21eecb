//! Bundles carried on a disk: a technician's export from a station (`rekam export`), imported
//! here with the same checks and the same exactly-once recording as an online commit, and
//! answered with a receipts file the station imports (`rekam receipts import`).

use crate::Gateway;
use crate::{GatewayError, Result};
use rekam_packet::keys::verifying_key_from_hex;
use rekam_packet::protocol::{BundleManifest, ReceiptsFile, Refused, sign_receipts, verify_bundle};
use rekam_packet::sha256;
use std::path::Path;

/// What an import found.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The receipts file written into the bundle.
    pub receipts: ReceiptsFile,
    /// Whether the manifest carried a valid station signature.
    pub manifest_signed: bool,
}

impl Gateway {
    /// Imports the bundle in `dir` (`manifest.json`, `manifest.sig`, `packets/`), records each
    /// packet exactly once (a packet that also arrived online gets its existing receipt) and
    /// writes `receipts.json` beside the manifest.
    pub fn import_bundle(&self, dir: &Path) -> Result<Imported> {
        let refused = |problem: String| GatewayError::Bundle {
            path: dir.to_owned(),
            problem,
        };
        let manifest_bytes = std::fs::read(dir.join("manifest.json"))
            .map_err(|e| refused(format!("no manifest.json ({e})")))?;
        let manifest: BundleManifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| refused(format!("manifest.json is not a bundle manifest ({e})")))?;
        if manifest.format != 1 {
            return Err(refused(format!(
                "bundle format {} is unknown",
                manifest.format
            )));
        }
        let manifest_signed = match std::fs::read_to_string(dir.join("manifest.sig")) {
            Ok(sig) => {
                let conn = self.db();
                // The station's current key only: a bundle signed by a retired key is refused
                // whole (the station exports it again, signed with its current key).
                let not_current = std::cell::Cell::new(None);
                verify_bundle(&manifest_bytes, &sig, |id| {
                    let row = crate::db::station_key(&conn, &manifest.station_id, &id.to_string())
                        .ok()
                        .flatten()?;
                    if row.current().is_none() {
                        not_current.set(Some((id, row.revoked_at)));
                    }
                    verifying_key_from_hex(row.current()?).ok()
                })
                .map_err(|e| match not_current.get() {
                    Some((id, Some(at))) => {
                        let what = format!("bundle {}", dir.display());
                        let r = crate::revoke::refuse_revoked(
                            &conn,
                            self.now(),
                            &manifest.station_id,
                            &id.to_string(),
                            at,
                            &what,
                        );
                        refused(format!("refused whole: {}", r.message))
                    }
                    Some((id, None)) => refused(format!(
                        "the manifest is signed with key {id}, which the station has since replaced: refused whole; export the bundle again from the station (its packets are kept), or report the key as stolen if nobody there rotated it"
                    )),
                    None => refused(format!(
                        "the manifest's signature does not verify ({e}): refused whole"
                    )),
                })?;
                true
            }
            Err(_) => {
                tracing::warn!(
                    station = %manifest.station_id,
                    "unsigned bundle (drained without the station key): each packet is verified on its own"
                );
                false
            }
        };
        let mut receipts = Vec::new();
        let mut refused = Vec::new();
        for entry in &manifest.packets {
            // Exactly where a station's export writes it: a manifest naming any other path
            // (`../`, an absolute one) would have the data center read files outside the
            // bundle.
            if entry.file != format!("packets/{}.rkpk", entry.packet_id)
                || entry.packet_id.contains(['/', '\\'])
                || entry.packet_id.contains("..")
            {
                refused.push(Refused {
                    packet_id: entry.packet_id.clone(),
                    code: "FILE_OUTSIDE_BUNDLE".into(),
                    message: format!(
                        "{} is not packets/<packet id>.rkpk inside the bundle: not read; export the bundle again",
                        entry.file
                    ),
                });
                continue;
            }
            let file = dir.join(&entry.file);
            let bytes = match std::fs::read(&file) {
                Ok(b) if hex::encode(sha256(&[&b])) == entry.sha256 => b,
                Ok(_) => {
                    refused.push(Refused {
                        packet_id: entry.packet_id.clone(),
                        code: "FILE_DAMAGED".into(),
                        message: format!("{} does not match its hash: export it again", entry.file),
                    });
                    continue;
                }
                Err(e) => {
                    refused.push(Refused {
                        packet_id: entry.packet_id.clone(),
                        code: "FILE_MISSING".into(),
                        message: format!("{}: {e}", entry.file),
                    });
                    continue;
                }
            };
            match self.record(&manifest.station_id, &entry.packet_id, &bytes) {
                Ok(r) => receipts.push(r),
                Err(r) => refused.push(Refused {
                    packet_id: entry.packet_id.clone(),
                    code: r.code.into(),
                    message: r.message,
                }),
            }
        }
        let reissues = self.import_reissues(dir, &manifest, manifest_signed);
        let file = ReceiptsFile {
            dc_id: self.identity().dc_id.clone(),
            station_id: manifest.station_id.clone(),
            receipts,
            refused,
            reissues,
        };
        let bytes = serde_json::to_vec_pretty(&file)?;
        let signature = sign_receipts(&self.inner.dc, &bytes);
        for (name, content) in [
            ("receipts.sig", signature.as_bytes()),
            ("receipts.json", bytes.as_slice()),
        ] {
            let tmp = dir.join(format!("{name}.part"));
            std::fs::write(&tmp, content)
                .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
                .and_then(|()| std::fs::rename(&tmp, dir.join(name)))
                .map_err(|e| GatewayError::io(&tmp, e))?;
        }
        Ok(Imported {
            receipts: file,
            manifest_signed,
        })
    }
}

impl Gateway {
    /// Answers the bundle's sealed reissue requests, as online. Only a signed manifest's: a
    /// request is not signed on its own, so an unsigned bundle's are left unanswered (the
    /// station sends them online or in a signed bundle). A file that is damaged, outside the
    /// bundle or does not open is left unanswered too, and logged.
    fn import_reissues(
        &self,
        dir: &Path,
        manifest: &BundleManifest,
        signed: bool,
    ) -> Vec<rekam_packet::reissue::ReissueAnswer> {
        if !signed && !manifest.reissues.is_empty() {
            tracing::warn!(
                station = %manifest.station_id,
                requests = manifest.reissues.len(),
                "reissue requests in an unsigned bundle: not answered"
            );
            return Vec::new();
        }
        let mut answers = Vec::new();
        for entry in &manifest.reissues {
            let id = &entry.request_id;
            let answered = (|| -> std::result::Result<_, String> {
                if entry.file != format!("reissues/{id}.rkrq")
                    || id.contains(['/', '\\'])
                    || id.contains("..")
                {
                    return Err(format!("{} is outside the bundle", entry.file));
                }
                let sealed = std::fs::read(dir.join(&entry.file)).map_err(|e| e.to_string())?;
                if hex::encode(sha256(&[&sealed])) != entry.sha256 {
                    return Err(format!("{} does not match its hash", entry.file));
                }
                let json = self
                    .inner
                    .dc
                    .open_request(&manifest.station_id, id, &sealed)
                    .map_err(|e| e.to_string())?;
                let req: rekam_domain::reissue::ReissueRequest =
                    serde_json::from_slice(&json).map_err(|e| e.to_string())?;
                self.reissue(&manifest.station_id, id, &req)
                    .map_err(|r| format!("{}: {}", r.code, r.message))
            })();
            match answered {
                Ok(a) => answers.push(a),
                Err(why) => {
                    tracing::warn!(request = %id, %why, "a reissue request in a bundle not answered");
                }
            }
        }
        answers
    }
}
