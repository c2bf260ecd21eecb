//! The Dinas's population extract on the station, so a counter or a mobile team reads biodata
//! by NIK with no network at all: trusting the Dinas's key, importing a base extract or a
//! delta, what is in force and how old, and the counter's population that asks SIAK first
//! (when one is configured and answers) and the extract otherwise.
//!
//! Invariants: an extract is applied only after its signature verified against the key the
//! station pinned, only for the station's own kecamatan, and only in the Dinas's order (a base
//! newer than what is held, a delta on exactly the extract it was made from); an import is one
//! transaction, so a refusal or a kill leaves the extract before it whole. The residents live
//! only inside the encrypted store. The repository's TEST Dinas key is trusted only by a build
//! with training mode.

use crate::audit::AuditEvent;
use crate::domain::nik::Nik;
use crate::domain::population::{Extract, ExtractError, ExtractKind, Found, Source, in_order};
use crate::siak::HttpPopulation;
use crate::station::Station;
use crate::store::{ExtractState, PopulationReader};
use crate::workflow::{Population, WorkflowError};
use crate::{Error, Result};
use serde::Serialize;
use time::OffsetDateTime;

/// The public key of the repository's TEST Dinas key (`fixtures/test-keys`): trusted only by
/// builds with training mode (the simulators and the tests).
const TEST_SIGNER: &str = include_str!("../fixtures/test-keys/test-dinas-population.pub");

pub use crate::domain::population::STALE_AFTER_DAYS;

/// Pins the Dinas key extracts must be signed with (its public key, hex). The same key again
/// is no change; another key once one is pinned is refused.
pub fn trust(station: &mut Station, public_hex: &str, actor: &str) -> Result<()> {
    let public_hex = public_hex.trim().to_ascii_lowercase();
    let key = rekam_packet::keys::verifying_key_from_hex(&public_hex)
        .map_err(|_| Error::PopulationSignerInvalid)?;
    if public_hex == TEST_SIGNER.trim() && !cfg!(feature = "training") {
        return Err(Error::TestPopulationSigner);
    }
    let id = rekam_packet::KeyId::of(key.as_bytes()).to_string();
    if let Some(pinned) = station.store().population_signer()? {
        if pinned == public_hex {
            return Ok(());
        }
        let pinned = rekam_packet::keys::verifying_key_from_hex(&pinned)?;
        return Err(Error::PopulationSignerPinned {
            pinned: rekam_packet::KeyId::of(pinned.as_bytes()).to_string(),
            offered: id,
        });
    }
    let event = AuditEvent::new(actor, "population.trust", &station.identity().station_id)
        .with_detail(serde_json::json!({ "key": id }));
    station
        .store_mut()
        .pin_population_signer(&public_hex, &event)?;
    Ok(())
}

/// The station's key for extracts sealed to it (X25519, made the first time it is asked for,
/// kept inside the store).
fn recipient_key(station: &mut Station) -> Result<rekam_packet::wrap::SlotKey> {
    const NAME: &str = "population_key";
    if let Some(secret) = station.store().secret(NAME)? {
        let bytes = zeroize::Zeroizing::new(
            hex::decode(secret.as_str())
                .map_err(|_| Error::Internal("the station's extract key is damaged".into()))?,
        );
        return Ok(rekam_packet::wrap::SlotKey::from_secret(&bytes)?);
    }
    let key = rekam_packet::wrap::SlotKey::generate()?;
    station
        .store_mut()
        .set_secret(NAME, &zeroize::Zeroizing::new(hex::encode(key.secret())))?;
    Ok(key)
}

/// The public key the Dinas seals this station's extracts to (hex), and its id.
pub fn recipient(station: &mut Station) -> Result<(String, String)> {
    let public = recipient_key(station)?.public();
    Ok((
        hex::encode(public),
        hex::encode(rekam_packet::population::recipient_id(&public)),
    ))
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    /// Base or delta.
    pub kind: ExtractKind,
    /// Its number.
    pub sequence: u64,
    /// Entries applied.
    pub entries: u64,
    /// Residents held afterwards.
    pub residents: u64,
    /// The time its data is as of (RFC 3339).
    pub as_of: String,
}

/// Imports the extract `bytes` (a base or the next delta), telling `progress` (done, total)
/// as entries are applied.
pub fn import(
    station: &mut Station,
    bytes: &[u8],
    actor: &str,
    progress: impl FnMut(u64, u64),
) -> Result<ImportReport> {
    let pinned = station
        .store()
        .population_signer()?
        .ok_or(ExtractError::NoSigner)?;
    let key = rekam_packet::keys::verifying_key_from_hex(&pinned)?;
    // The file as the Dinas hands it over is sealed to this station; only the TEST Dinas's
    // extracts (tests, the demo, training) may come in clear.
    let opened;
    let bytes = match rekam_packet::population::sealed_extract_recipient(bytes) {
        Some(recipient) => {
            let own = recipient_key(station)?;
            let not_ours = || ExtractError::NotForThisStation {
                recipient: hex::encode(recipient),
            };
            if recipient != rekam_packet::population::recipient_id(&own.public()) {
                return Err(not_ours().into());
            }
            opened = rekam_packet::population::open_extract(&own, bytes).map_err(|_| not_ours())?;
            &opened[..]
        }
        None if pinned != TEST_SIGNER.trim() => return Err(ExtractError::NotEncrypted.into()),
        None => bytes,
    };
    let extract = Extract::open(bytes, &key)?;
    let header = &extract.header;
    let kecamatan = station.identity().kecamatan.dotted();
    if header.region != kecamatan {
        return Err(ExtractError::ForeignRegion {
            found: header.region.clone(),
            station: kecamatan,
        }
        .into());
    }
    let current = station.store().extract_state()?.map_or(0, |s| s.sequence);
    in_order(header.kind, header.sequence, header.base_sequence, current)?;
    // Room for the residents and the transaction's journal: refused before anything is written.
    let needed = header.body_bytes.saturating_mul(3);
    let free = crate::disk::space(&station.paths().data_dir)?.free_bytes;
    if free < needed.saturating_add(crate::station::RECORDING_RESERVE) {
        return Err(Error::DiskFull {
            free_mb: free / (1024 * 1024),
            needed_mb: needed.saturating_add(crate::station::RECORDING_RESERVE) / (1024 * 1024),
        });
    }
    let event = AuditEvent::new(actor, "population.import", &station.identity().station_id)
        .with_detail(serde_json::json!({
            "kind": header.kind,
            "sequence": header.sequence,
            "entries": header.entries,
            "as_of": crate::clock::rfc3339(header.as_of),
        }));
    station
        .store_mut()
        .apply_extract(header, &extract.entries, &event, progress)?;
    let residents = station.store().extract_state()?.map_or(0, |s| s.residents);
    tracing::info!(
        kind = ?header.kind,
        sequence = header.sequence,
        entries = header.entries,
        residents,
        "population extract imported"
    );
    Ok(ImportReport {
        kind: header.kind,
        sequence: header.sequence,
        entries: header.entries,
        residents,
        as_of: crate::clock::rfc3339(header.as_of),
    })
}

/// A place that offers the Dinas's extracts over the network, sealed to the asking station:
/// the kecamatan server, or SIAK online (the same two requests: what to import after the
/// extract held, then each file).
pub trait ExtractSource {
    /// The extracts to import, in order, for a station holding extract `after` (0: none).
    fn offer(&self, after: u64) -> std::result::Result<Vec<u64>, String>;
    /// Extract `sequence`, sealed to the station's population key `to` (hex).
    fn file(&self, sequence: u64, to: &str) -> std::result::Result<Vec<u8>, String>;
}

impl ExtractSource for rekam_sync::hub::HubClient {
    fn offer(&self, after: u64) -> std::result::Result<Vec<u64>, String> {
        self.population_offer(after)
            .map(|o| o.extracts.iter().map(|e| e.sequence).collect())
            .map_err(|e| e.code().to_owned())
    }

    fn file(&self, sequence: u64, to: &str) -> std::result::Result<Vec<u8>, String> {
        self.population_file(sequence, to)
            .map_err(|e| e.code().to_owned())
    }
}

impl ExtractSource for rekam_sync::siak::SiakClient {
    fn offer(&self, after: u64) -> std::result::Result<Vec<u64>, String> {
        self.population_offer(after)
            .map(|o| o.extracts.iter().map(|e| e.sequence).collect())
            .map_err(|e| format!("SIAK_UNAVAILABLE: {e}"))
    }

    fn file(&self, sequence: u64, to: &str) -> std::result::Result<Vec<u8>, String> {
        self.population_file(sequence, to)
            .map_err(|e| format!("SIAK_UNAVAILABLE: {e}"))
    }
}

/// Imports what `source` offers after the extract held, in order, each file verified as one
/// from a USB stick is (`actor` in the audit log: `hub`, `siak`). How many were imported, and
/// the code that stopped it (the source unreachable, or an extract refused: the next pass
/// tries again).
pub fn update(
    station: &mut Station,
    source: &dyn ExtractSource,
    actor: &str,
) -> Result<(usize, Option<String>)> {
    let current = station.store().extract_state()?.map_or(0, |s| s.sequence);
    let offered = match source.offer(current) {
        Ok(offered) => offered,
        Err(code) => return Ok((0, Some(code))),
    };
    if offered.is_empty() {
        return Ok((0, None));
    }
    let (to, _) = recipient(station)?;
    let mut imported = 0;
    for sequence in offered {
        let file = match source.file(sequence, &to) {
            Ok(file) => file,
            Err(code) => return Ok((imported, Some(code))),
        };
        if let Err(err) = import(station, &file, actor, |_, _| {}) {
            tracing::warn!(
                code = err.code(),
                sequence,
                source = actor,
                "an offered population extract was refused"
            );
            return Ok((imported, Some(err.code().to_owned())));
        }
        imported += 1;
    }
    Ok((imported, None))
}

/// The extract in force, as the screens and `rekam population status` show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExtractStatus {
    /// Its kecamatan.
    pub region: String,
    /// The desa it is limited to; empty: the whole kecamatan.
    pub villages: Vec<String>,
    /// Its number in the series.
    pub sequence: u64,
    /// The time its data is as of (RFC 3339).
    pub as_of: String,
    /// Who issued it.
    pub issuer: String,
    /// When it was imported here (RFC 3339).
    pub imported_at: String,
    /// Residents it holds.
    pub residents: u64,
    /// Whole days since its data's time.
    pub age_days: i64,
    /// Whether it is older than [`STALE_AFTER_DAYS`].
    pub stale: bool,
}

impl ExtractStatus {
    fn of(s: ExtractState, now: OffsetDateTime) -> ExtractStatus {
        let age_days = (now - s.as_of).whole_days().max(0);
        ExtractStatus {
            region: s.region,
            villages: s.villages,
            sequence: s.sequence,
            as_of: crate::clock::rfc3339(s.as_of),
            issuer: s.issuer,
            imported_at: s.imported_at,
            residents: s.residents,
            age_days,
            stale: age_days > STALE_AFTER_DAYS,
        }
    }
}

/// The extract in force on `station`, if any.
pub fn status(station: &Station) -> Result<Option<ExtractStatus>> {
    let now = station.store().clock().now();
    Ok(station
        .store()
        .extract_state()?
        .map(|s| ExtractStatus::of(s, now)))
}

/// The counter's population: SIAK online first when one is configured (a short wait), the
/// Dinas's extract on the station when SIAK does not answer or is not configured.
#[derive(Debug)]
pub struct CounterPopulation {
    siak: Option<HttpPopulation>,
    extract: PopulationReader,
}

impl CounterPopulation {
    /// SIAK at `siak` (if any) and the extract of `station` (on a connection of its own, so a
    /// lookup never waits on the station's).
    pub fn new(station: &Station, siak: Option<HttpPopulation>) -> Result<CounterPopulation> {
        let extract = PopulationReader::open(&station.paths().db(), station.store_key())?;
        Ok(CounterPopulation { siak, extract })
    }

    /// The extract's answer: `None` when no extract was imported. A NIK an extract of some
    /// desa only does not hold is refused as such ([`WorkflowError::NotInDesaExtract`]), not
    /// answered "not found": the resident may well have a NIK, in another desa.
    fn in_extract(&self, nik: &Nik) -> Result<Option<Option<Found>>> {
        let Some(state) = self.extract.state()? else {
            return Ok(None);
        };
        match self.extract.lookup(nik)? {
            Some(record) => Ok(Some(Some(Found {
                record,
                source: state.source(),
            }))),
            None if !state.villages.is_empty() => Err(WorkflowError::NotInDesaExtract {
                villages: state.villages.clone(),
            }
            .into()),
            None => Ok(Some(None)),
        }
    }
}

impl Population for CounterPopulation {
    fn lookup(&self, nik: &Nik) -> Result<Option<Found>> {
        if let Some(siak) = &self.siak {
            match siak.lookup(nik) {
                Ok(found) => return Ok(found),
                Err(e) if e.code() == "SIAK_UNAVAILABLE" => {
                    // Offline: the extract answers if there is one; else SIAK's own refusal.
                    tracing::info!("SIAK did not answer: the Dinas's extract answers instead");
                    return self.in_extract(nik)?.ok_or(e);
                }
                Err(e) => return Err(e),
            }
        }
        self.in_extract(nik)?
            .ok_or_else(|| WorkflowError::NoPopulationData.into())
    }
}

/// Where the biodata came from, for the screen: `Source`'s label and whether it is stale.
pub fn describe(source: &Source, now: OffsetDateTime, lang: crate::i18n::Lang) -> (String, bool) {
    let stale = source.age_days(now).is_some_and(|d| d > STALE_AFTER_DAYS);
    (source.label(lang, now), stale)
}
