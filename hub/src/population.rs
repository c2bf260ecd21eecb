//! The kecamatan's population data at its server (the SOP's "Data SIAK" in the kecamatan's
//! equipment): the Dinas seals its extracts to the hub's population key as it would to a
//! station's; the hub verifies each against the Dinas key it pinned, keeps the base and its
//! deltas in the Dinas's order (encrypted in its store), and hands a counter each extract it
//! lacks sealed to that counter's own population key. The counter verifies the Dinas's
//! signature itself and imports it as it would a file from a USB stick, so the hub can hold an
//! extract back but never alter one.

use crate::{Hub, HubError, Result, api, paths};
use rekam_domain::population::{Extract, ExtractError, ExtractKind, in_order};
use rekam_packet::hub::{OfferedExtract, PopulationOffer};
use rekam_packet::population::{
    open_extract, recipient_id, seal_extract, sealed_extract_recipient,
};
use rekam_packet::wrap::SlotKey;

/// What an import at the hub did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    /// Its number.
    pub sequence: u64,
    /// A base or a delta.
    pub base: bool,
    /// Its entries.
    pub entries: u64,
    /// The time its data is as of (RFC 3339).
    pub as_of: String,
}

fn offered(row: crate::store::ExtractRow) -> OfferedExtract {
    OfferedExtract {
        sequence: row.sequence,
        base: row.base,
        as_of: row.as_of,
        entries: row.entries,
    }
}

impl Hub {
    /// The hub's population key, made on first use (a hub set up before it had one).
    fn population_key(&self) -> Result<SlotKey> {
        let file = paths::population_key(&self.inner.cfg.data_dir);
        if !file.exists() {
            crate::write_private(
                &file,
                zeroize::Zeroizing::new(crate::random_hex(32)? + "\n").as_bytes(),
            )?;
        }
        let secret = crate::read_key(&self.inner.cfg.data_dir, &file)?;
        SlotKey::from_secret(secret.as_ref()).map_err(|e| HubError::BadFile {
            path: file,
            problem: e.to_string(),
        })
    }

    /// The public key the Dinas seals the kecamatan's extracts to (hex), and its id.
    pub fn population_recipient(&self) -> Result<(String, String)> {
        let public = self.population_key()?.public();
        Ok((hex::encode(public), hex::encode(recipient_id(&public))))
    }

    /// Pins the Dinas's extract key (hex Ed25519 public key): only extracts it signed are
    /// taken. The same key again is no change; another key once one is pinned is refused, as
    /// at a station.
    pub fn trust_dinas(&self, public_hex: &str) -> Result<()> {
        let public_hex = public_hex.trim().to_ascii_lowercase();
        let key = rekam_packet::keys::verifying_key_from_hex(&public_hex).map_err(|e| {
            HubError::Extract(
                format!("{public_hex:?} is not a Dinas key ({e})"),
                "EXTRACT_NO_SIGNER",
            )
        })?;
        match self.pinned_dinas_key()? {
            None => {}
            Some(pinned) if pinned == key => return Ok(()),
            Some(pinned) => {
                return Err(HubError::Extract(
                    format!(
                        "the Dinas key {} is pinned already; {} was not taken (a kecamatan \
                         server trusts one Dinas key: set up a new hub to change it)",
                        rekam_packet::KeyId::of(pinned.as_bytes()),
                        rekam_packet::KeyId::of(key.as_bytes())
                    ),
                    "EXTRACT_SIGNER_PINNED",
                ));
            }
        }
        let file = paths::population_signer(&self.inner.cfg.data_dir);
        crate::write_private(&file, format!("{public_hex}\n").as_bytes())
    }

    /// The Dinas key pinned, if one is.
    fn pinned_dinas_key(&self) -> Result<Option<ed25519_dalek::VerifyingKey>> {
        let file = paths::population_signer(&self.inner.cfg.data_dir);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(HubError::io(&file, e)),
        };
        rekam_packet::keys::verifying_key_from_hex(text.trim())
            .map(Some)
            .map_err(|e| HubError::BadFile {
                path: file,
                problem: e.to_string(),
            })
    }

    /// Imports an extract the Dinas sealed to this hub: verified against the pinned Dinas
    /// key, of this kecamatan, in the Dinas's order after what the hub holds.
    pub fn import_population(&self, sealed: &[u8]) -> Result<Imported> {
        let trusted = self
            .pinned_dinas_key()?
            .ok_or_else(|| extract_error(&ExtractError::NoSigner))?;
        let key = self.population_key()?;
        let own = recipient_id(&key.public());
        let not_ours = |recipient: [u8; 8]| {
            extract_error(&ExtractError::NotForThisStation {
                recipient: hex::encode(recipient),
            })
        };
        let file = match sealed_extract_recipient(sealed) {
            None => return Err(extract_error(&ExtractError::NotEncrypted)),
            Some(r) if r != own => return Err(not_ours(r)),
            Some(r) => open_extract(&key, sealed).map_err(|_| not_ours(r))?,
        };
        let extract = Extract::open(&file, &trusted).map_err(|e| extract_error(&e))?;
        let header = &extract.header;
        let kecamatan = dotted(&self.inner.identity.kecamatan);
        if header.region != kecamatan {
            return Err(extract_error(&ExtractError::ForeignRegion {
                found: header.region.clone(),
                station: kecamatan,
            }));
        }
        let current = self.store().extracts()?.last().map_or(0, |e| e.sequence);
        in_order(header.kind, header.sequence, header.base_sequence, current)
            .map_err(|e| extract_error(&e))?;
        let row = crate::store::ExtractRow {
            sequence: header.sequence,
            base: header.kind == ExtractKind::Base,
            as_of: self.rfc3339(header.as_of.unix_timestamp()),
            entries: header.entries,
        };
        self.store().keep_extract(&crate::store::NewExtract {
            row: row.clone(),
            file: &file,
            now: self.now(),
        })?;
        tracing::info!(
            sequence = row.sequence,
            base = row.base,
            entries = row.entries,
            "population extract imported"
        );
        Ok(Imported {
            sequence: row.sequence,
            base: row.base,
            entries: row.entries,
            as_of: row.as_of,
        })
    }

    /// The extracts held, in order.
    pub fn population(&self) -> Result<Vec<OfferedExtract>> {
        Ok(self.store().extracts()?.into_iter().map(offered).collect())
    }

    /// What a counter holding extract `after` (0: none) should import, in order.
    pub fn population_offer(&self, after: u64) -> Result<PopulationOffer> {
        let held = self.store().extracts()?;
        let base = held.first().map_or(0, |e| e.sequence);
        let extracts = held
            .into_iter()
            // A counter on an older base (or none) takes the base and every delta on it.
            .filter(|e| {
                if after < base {
                    true
                } else {
                    e.sequence > after
                }
            })
            .map(offered)
            .collect();
        Ok(PopulationOffer { extracts })
    }

    /// Extract `sequence` sealed to the counter's population key `to` (hex).
    pub fn population_for(
        &self,
        sequence: u64,
        to: &str,
    ) -> std::result::Result<Vec<u8>, api::Refusal> {
        use axum::http::StatusCode;
        let mut recipient = [0u8; 32];
        hex::decode_to_slice(to, &mut recipient).map_err(|_| {
            api::Refusal::new(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "`to` must be the counter's population key: 64 hex digits",
            )
        })?;
        let Some(file) = self.store().extract_file(sequence)? else {
            return Err(api::Refusal::new(
                StatusCode::NOT_FOUND,
                "EXTRACT_UNKNOWN",
                format!(
                    "the kecamatan server holds no extract {sequence}: ask for the offer again"
                ),
            ));
        };
        let sealed = seal_extract(&recipient, &file).map_err(|e| {
            api::Refusal::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", e.to_string())
        })?;
        Ok(sealed)
    }
}

/// `327301` as an extract names it, `32.73.01`.
fn dotted(kecamatan: &str) -> String {
    if kecamatan.len() == 6 {
        format!(
            "{}.{}.{}",
            &kecamatan[..2],
            &kecamatan[2..4],
            &kecamatan[4..]
        )
    } else {
        kecamatan.to_owned()
    }
}

fn extract_error(e: &ExtractError) -> HubError {
    HubError::Extract(e.to_string(), e.code())
}
