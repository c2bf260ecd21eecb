//! The TPM 2.0 slot's sealing: a secret that only this machine's TPM gives back, and only while
//! the machine boots as it did when the secret was sealed.
//!
//! The secret (a key slot's private key, [`super::slots`]) is sealed in a keyed-hash object
//! under the TPM's storage primary key in the owner hierarchy. That primary is derived anew
//! from the TPM's own seed at every use (the same template gives the same key), so the sealed
//! blobs in `keyslots.json` load on no other TPM, nor on this one after it is cleared. The
//! object's policy asks for the PCRs chosen at sealing (by default PCR 7, the Secure Boot state,
//! as `systemd-cryptenroll` does) to hold the values they held then: a machine booted another
//! way, or whose firmware settings changed, gets nothing back.
//!
//! The TPM is reached through a TCTI (`device:/dev/tpmrm0` on a real machine, the kernel's
//! resource manager; `swtpm:host=…,port=…` for the software TPM in tests). Every transient object
//! this module loads is flushed before it returns, since a TPM holds only a few at a time.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use tss_esapi::attributes::{ObjectAttributesBuilder, SessionAttributesBuilder};
use tss_esapi::constants::SessionType;
use tss_esapi::handles::{KeyHandle, ObjectHandle, SessionHandle};
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::PolicySession;
use tss_esapi::structures::{
    Digest, EccPoint, KeyedHashScheme, PcrSelectionList, PcrSelectionListBuilder, PcrSlot, Private,
    Public, PublicBuilder, PublicEccParametersBuilder, PublicKeyedHashParameters, SensitiveData,
    SymmetricDefinition, SymmetricDefinitionObject,
};
use tss_esapi::traits::{Marshall, UnMarshall};
use tss_esapi::{Context, TctiNameConf};
use zeroize::Zeroizing;

/// The TPM of a Linux machine, through the kernel's resource manager.
pub const DEFAULT_TCTI: &str = "device:/dev/tpmrm0";

/// The PCRs a slot is bound to unless told otherwise: PCR 7, the Secure Boot policy (what
/// `systemd-cryptenroll --tpm2-device=auto` binds to).
pub const DEFAULT_PCRS: &[u8] = &[7];

/// A secret sealed by a TPM: what the slot file keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sealed {
    /// How the TPM was reached at sealing (used again unless the caller names another).
    pub tcti: String,
    /// The SHA-256 PCRs whose values the secret is bound to.
    pub pcrs: Vec<u8>,
    /// The sealed object's public area (TPM2B_PUBLIC, marshalled), hex.
    pub public: String,
    /// Its private area, encrypted by the TPM under the storage primary, hex.
    pub private: String,
}

fn unavailable(tcti: &str, detail: impl std::fmt::Display) -> Error {
    Error::TpmUnavailable {
        tcti: tcti.to_owned(),
        detail: detail.to_string(),
    }
}

fn refused(detail: impl std::fmt::Display) -> Error {
    Error::TpmRefused {
        detail: detail.to_string(),
    }
}

/// A connection to a TPM, its transient objects flushed when dropped.
struct Tpm {
    ctx: Context,
    loaded: Vec<ObjectHandle>,
    /// Policy sessions: a session is gone once a command succeeded with it, and stays when the
    /// command failed, so flushing one may fail and that is no news.
    sessions: Vec<SessionHandle>,
}

impl Drop for Tpm {
    fn drop(&mut self) {
        for session in self.sessions.drain(..) {
            let _gone_already = self.ctx.flush_context(session.into());
        }
        for handle in self.loaded.drain(..).rev() {
            if let Err(e) = self.ctx.flush_context(handle) {
                tracing::warn!(error = %e, "a TPM object could not be flushed");
            }
        }
    }
}

impl Tpm {
    fn connect(tcti: &str) -> Result<Tpm> {
        let conf = TctiNameConf::from_str(tcti)
            .map_err(|e| unavailable(tcti, format!("not a TCTI this Rekam reads ({e})")))?;
        if let Some(path) = tcti.strip_prefix("device:") {
            let path = if path.is_empty() { "/dev/tpmrm0" } else { path };
            if !std::path::Path::new(path).exists() {
                return Err(unavailable(tcti, format!("{path} does not exist")));
            }
        }
        let ctx = Context::new(conf).map_err(|e| unavailable(tcti, e))?;
        Ok(Tpm {
            ctx,
            loaded: Vec::new(),
            sessions: Vec::new(),
        })
    }

    /// The owner hierarchy's storage primary (ECC P-256, AES-128-CFB for its children): the
    /// same key every time on the same TPM, another on any other.
    fn primary(&mut self) -> Result<KeyHandle> {
        let attributes = ObjectAttributesBuilder::new()
            .with_fixed_tpm(true)
            .with_fixed_parent(true)
            .with_sensitive_data_origin(true)
            .with_user_with_auth(true)
            .with_no_da(true)
            .with_decrypt(true)
            .with_restricted(true)
            .build()
            .map_err(refused)?;
        let params = PublicEccParametersBuilder::new_restricted_decryption_key(
            SymmetricDefinitionObject::AES_128_CFB,
            EccCurve::NistP256,
        )
        .build()
        .map_err(refused)?;
        let template = PublicBuilder::new()
            .with_public_algorithm(PublicAlgorithm::Ecc)
            .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
            .with_object_attributes(attributes)
            .with_ecc_parameters(params)
            .with_ecc_unique_identifier(EccPoint::default())
            .build()
            .map_err(refused)?;
        let handle = self
            .ctx
            .execute_with_nullauth_session(|c| {
                c.create_primary(Hierarchy::Owner, template, None, None, None, None)
            })
            .map_err(|e| refused(format!("the storage primary key ({e})")))?
            .key_handle;
        self.loaded.push(handle.into());
        Ok(handle)
    }

    /// A policy session (or a trial one, to compute the digest) that has asserted the PCRs.
    fn pcr_policy(&mut self, kind: SessionType, pcrs: &PcrSelectionList) -> Result<PolicySession> {
        let session = self
            .ctx
            .start_auth_session(
                None,
                None,
                None,
                kind,
                SymmetricDefinition::AES_128_CFB,
                HashingAlgorithm::Sha256,
            )
            .map_err(refused)?
            .ok_or_else(|| refused("the TPM started no session"))?;
        self.sessions.push(session.into());
        let (attributes, mask) = SessionAttributesBuilder::new()
            .with_decrypt(true)
            .with_encrypt(true)
            .build();
        self.ctx
            .tr_sess_set_attributes(session, attributes, mask)
            .map_err(refused)?;
        let policy = PolicySession::try_from(session).map_err(refused)?;
        self.ctx
            .policy_pcr(policy, Digest::default(), pcrs.clone())
            .map_err(refused)?;
        Ok(policy)
    }
}

fn selection(pcrs: &[u8]) -> Result<Option<PcrSelectionList>> {
    if pcrs.is_empty() {
        return Ok(None);
    }
    let slots = pcrs
        .iter()
        .map(|&n| {
            if n > 23 {
                return Err(refused(format!("PCR {n} does not exist (0 to 23)")));
            }
            PcrSlot::try_from(1u32 << n).map_err(refused)
        })
        .collect::<Result<Vec<_>>>()?;
    PcrSelectionListBuilder::new()
        .with_selection(HashingAlgorithm::Sha256, &slots)
        .build()
        .map(Some)
        .map_err(refused)
}

/// Seals `secret` (at most 128 bytes) with the TPM at `tcti`, bound to `pcrs`' current values.
pub(crate) fn seal(tcti: &str, pcrs: &[u8], secret: &[u8]) -> Result<Sealed> {
    let selection = selection(pcrs)?;
    let mut tpm = Tpm::connect(tcti)?;
    let primary = tpm.primary()?;
    let mut attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_no_da(true);
    let policy = match &selection {
        Some(s) => {
            let trial = tpm.pcr_policy(SessionType::Trial, s)?;
            tpm.ctx.policy_get_digest(trial).map_err(refused)?
        }
        // No PCRs: the object opens with its (empty) authorisation, on this TPM alone.
        None => {
            attributes = attributes.with_user_with_auth(true);
            Digest::default()
        }
    };
    let template = PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::KeyedHash)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes.build().map_err(refused)?)
        .with_auth_policy(policy)
        .with_keyed_hash_parameters(PublicKeyedHashParameters::new(KeyedHashScheme::Null))
        .with_keyed_hash_unique_identifier(Digest::default())
        .build()
        .map_err(refused)?;
    let data = SensitiveData::try_from(secret.to_vec()).map_err(refused)?;
    let created = tpm
        .ctx
        .execute_with_nullauth_session(|c| {
            c.create(primary, template, None, Some(data), None, None)
        })
        .map_err(|e| refused(format!("sealing ({e})")))?;
    Ok(Sealed {
        tcti: tcti.to_owned(),
        pcrs: pcrs.to_vec(),
        public: hex::encode(created.out_public.marshall().map_err(refused)?),
        private: hex::encode(created.out_private.value()),
    })
}

/// The secret `sealed` holds, from the TPM at `tcti` (or the one it was sealed with).
pub(crate) fn unseal(sealed: &Sealed, tcti: Option<&str>) -> Result<Zeroizing<Vec<u8>>> {
    let tcti = tcti.unwrap_or(&sealed.tcti);
    let damaged = |what: &str| Error::KeySlots {
        problem: format!("the TPM slot's {what} is damaged"),
    };
    let public = hex::decode(&sealed.public)
        .ok()
        .and_then(|b| Public::unmarshall(&b).ok())
        .ok_or_else(|| damaged("public area"))?;
    let private = hex::decode(&sealed.private)
        .ok()
        .and_then(|b| Private::try_from(b).ok())
        .ok_or_else(|| damaged("private area"))?;
    let selection = selection(&sealed.pcrs)?;
    let mut tpm = Tpm::connect(tcti)?;
    let primary = tpm.primary()?;
    let object = tpm
        .ctx
        .execute_with_nullauth_session(|c| c.load(primary, private, public))
        .map_err(|e| {
            refused(format!(
                "this TPM does not hold the slot: another machine's, or a TPM cleared since ({e})"
            ))
        })?;
    tpm.loaded.push(object.into());
    let secret = match &selection {
        Some(s) => {
            let policy = tpm.pcr_policy(SessionType::Policy, s)?;
            tpm.ctx
                .execute_with_session(Some(policy.into()), |c| c.unseal(object.into()))
                .map_err(|e| {
                    refused(format!(
                        "PCR {:?} differ from when the slot was made: the machine boots \
                         otherwise ({e})",
                        sealed.pcrs
                    ))
                })?
        }
        None => tpm
            .ctx
            .execute_with_nullauth_session(|c| c.unseal(object.into()))
            .map_err(refused)?,
    };
    Ok(Zeroizing::new(secret.value().to_vec()))
}

/// Whether a TPM answers at `tcti`: its manufacturer, or why not.
pub fn probe(tcti: &str) -> Result<String> {
    let mut tpm = Tpm::connect(tcti)?;
    tss_esapi::utils::get_tpm_vendor(&mut tpm.ctx).map_err(|e| unavailable(tcti, e))
}

/// Parses a PCR list as an administrator writes it: `7`, `0,7`, or `none`.
pub fn parse_pcrs(text: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("none") || text.is_empty() {
        return Ok(Vec::new());
    }
    let mut pcrs = text
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= 23)
                .ok_or_else(|| Error::KeySlots {
                    problem: format!("{p:?} is not a PCR (0 to 23, comma-separated, or none)"),
                })
        })
        .collect::<Result<Vec<_>>>()?;
    pcrs.sort_unstable();
    pcrs.dedup();
    Ok(pcrs)
}
