//! The card secrets in a PKCS#11 token: the secure access module's master key and the Dinas
//! document signer's private key never enter the station's memory, let alone a file.
//!
//! The token holds two objects, found by label:
//! - [`SAM_LABEL`]: a generic secret (CKK_GENERIC_SECRET) that signs with CKM_SHA256_HMAC, from
//!   which each card's authentication key is diversified by its serial
//!   ([`super::profile::card_key`]: the same HMAC, computed inside the token);
//! - [`DS_LABEL`]: an Ed25519 private key (CKK_EC_EDWARDS) that signs the security objects
//!   (CKM_EDDSA).
//!
//! Both are created sensitive and not extractable: the token answers with what they compute,
//! never with them. A counter's token holds the SAM master alone (it reads cards at the
//! handover); the Dinas's holds the document signer too. In tests and the demo the token is
//! SoftHSM2's; at a Dinas it is the HSM or smart card its vendor's PKCS#11 module drives.

use crate::DriverError;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// The SAM master key's label in the token.
pub const SAM_LABEL: &str = "rekam-sam-master";
/// The document signer's private key's label in the token.
pub const DS_LABEL: &str = "rekam-document-signer";

/// DER of the Ed25519 curve's object identifier (1.3.101.112), CKA_EC_PARAMS.
const ED25519_PARAMS: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];

/// Where the token is and how to log in to it.
#[derive(Clone)]
pub struct TokenConfig {
    /// The vendor's PKCS#11 module (SoftHSM2: `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// The token's label.
    pub label: String,
    /// The user PIN.
    pub pin: Zeroizing<String>,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("module", &self.module)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

fn failed(cfg: &TokenConfig, detail: impl std::fmt::Display) -> DriverError {
    DriverError::Token {
        token: cfg.label.clone(),
        detail: detail.to_string(),
    }
}

/// A module loaded and initialised once per process: PKCS#11 allows one C_Initialize per
/// module, and the desk opens the token for the handover and for personalisation alike.
fn module(cfg: &TokenConfig) -> Result<Pkcs11, DriverError> {
    static MODULES: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());
    let mut modules = MODULES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, m)) = modules.iter().find(|(p, _)| p == &cfg.module) {
        return Ok(m.clone());
    }
    if !cfg.module.exists() {
        return Err(failed(
            cfg,
            format!(
                "no PKCS#11 module at {} (SoftHSM2: apt-get install softhsm2)",
                cfg.module.display()
            ),
        ));
    }
    let m = Pkcs11::new(&cfg.module).map_err(|e| failed(cfg, e))?;
    m.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(|e| failed(cfg, e))?;
    modules.push((cfg.module.clone(), m.clone()));
    Ok(m)
}

fn find_slot(m: &Pkcs11, cfg: &TokenConfig) -> Result<Option<cryptoki::slot::Slot>, DriverError> {
    for slot in m.get_slots_with_token().map_err(|e| failed(cfg, e))? {
        let info = m.get_token_info(slot).map_err(|e| failed(cfg, e))?;
        if info.token_initialized() && info.label().trim_end() == cfg.label {
            return Ok(Some(slot));
        }
    }
    Ok(None)
}

fn logged_in(m: &Pkcs11, cfg: &TokenConfig) -> Result<Session, DriverError> {
    let slot = find_slot(m, cfg)?.ok_or_else(|| {
        failed(
            cfg,
            "no token with this label: is the token plugged in, and was it provisioned \
             (`rekam card-token import`)?",
        )
    })?;
    let session = m.open_rw_session(slot).map_err(|e| failed(cfg, e))?;
    session
        .login(UserType::User, Some(&AuthPin::new(cfg.pin.as_str().into())))
        .map_err(|e| failed(cfg, format!("login refused ({e}): check the PIN")))?;
    Ok(session)
}

fn find(session: &Session, class: ObjectClass, label: &str) -> Option<ObjectHandle> {
    session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .ok()?
        .into_iter()
        .next()
}

/// A logged-in session on the card token.
pub struct CardToken {
    label: String,
    session: Mutex<Session>,
    sam: Option<ObjectHandle>,
    signer: Option<ObjectHandle>,
}

impl std::fmt::Debug for CardToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardToken")
            .field("label", &self.label)
            .field("sam", &self.sam.is_some())
            .field("signer", &self.signer.is_some())
            .finish()
    }
}

impl CardToken {
    /// Logs in to the token `cfg` names and finds its keys. A login belongs to the process,
    /// not to a session (PKCS#11 answers a second one with "already logged in", whatever the
    /// PIN): while this process has the token open, the same handle is given again, to the
    /// same PIN only.
    pub fn open(cfg: &TokenConfig) -> Result<Arc<CardToken>, DriverError> {
        type Open = (PathBuf, String, [u8; 32], std::sync::Weak<CardToken>);
        static OPEN: Mutex<Vec<Open>> = Mutex::new(Vec::new());
        let pin_hash: [u8; 32] = {
            use sha2::Digest;
            sha2::Sha256::digest(cfg.pin.as_bytes()).into()
        };
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|(_, _, _, token)| token.strong_count() > 0);
        if let Some((_, _, hash, token)) = open
            .iter()
            .find(|(module, label, _, _)| module == &cfg.module && label == &cfg.label)
        {
            if hash != &pin_hash {
                return Err(failed(cfg, "login refused: check the PIN"));
            }
            if let Some(token) = token.upgrade() {
                return Ok(token);
            }
        }
        let token = Self::log_in(cfg)?;
        open.push((
            cfg.module.clone(),
            cfg.label.clone(),
            pin_hash,
            Arc::downgrade(&token),
        ));
        Ok(token)
    }

    fn log_in(cfg: &TokenConfig) -> Result<Arc<CardToken>, DriverError> {
        let m = module(cfg)?;
        let session = logged_in(&m, cfg)?;
        let sam = find(&session, ObjectClass::SECRET_KEY, SAM_LABEL);
        let signer = find(&session, ObjectClass::PRIVATE_KEY, DS_LABEL);
        if sam.is_none() && signer.is_none() {
            return Err(failed(
                cfg,
                "the token holds neither the SAM master nor the document signer",
            ));
        }
        Ok(Arc::new(CardToken {
            label: cfg.label.clone(),
            session: Mutex::new(session),
            sam,
            signer,
        }))
    }

    fn error(&self, detail: impl std::fmt::Display) -> DriverError {
        DriverError::Token {
            token: self.label.clone(),
            detail: detail.to_string(),
        }
    }

    fn sign_with(
        &self,
        key: Option<ObjectHandle>,
        what: &str,
        mechanism: &Mechanism<'_>,
        data: &[u8],
    ) -> Result<Vec<u8>, DriverError> {
        let key = key.ok_or_else(|| self.error(format!("the token holds no {what}")))?;
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        session
            .sign(mechanism, key, data)
            .map_err(|e| self.error(format!("{what}: {e}")))
    }

    /// Card `serial`'s authentication key, diversified inside the token.
    pub fn card_key(&self, serial: &[u8; 8]) -> Result<Zeroizing<[u8; 32]>, DriverError> {
        let mut message = super::profile::CARD_KEY_CONTEXT.to_vec();
        message.extend_from_slice(serial);
        let mac = Zeroizing::new(self.sign_with(
            self.sam,
            "SAM master",
            &Mechanism::Sha256Hmac,
            &message,
        )?);
        let mut key = Zeroizing::new([0u8; 32]);
        if mac.len() != key.len() {
            return Err(self.error("the SAM master's HMAC is not 32 bytes"));
        }
        key.copy_from_slice(&mac);
        Ok(key)
    }

    /// An Ed25519 signature of `data` by the document signer.
    pub fn sign(&self, data: &[u8]) -> Result<[u8; 64], DriverError> {
        let signature = self.sign_with(
            self.signer,
            "document signer",
            &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
            data,
        )?;
        signature
            .try_into()
            .map_err(|_| self.error("the document signer's signature is not 64 bytes"))
    }

    /// Whether the token holds the document signer (a Dinas's token).
    pub fn has_signer(&self) -> bool {
        self.signer.is_some()
    }
}

/// What [`import`] put in the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Whether the token was initialised first.
    pub initialised: bool,
    /// The SAM master.
    pub sam: bool,
    /// The document signer's key.
    pub signer: bool,
}

/// Puts the card secrets into the token `cfg` names, initialising it with `so_pin` and the
/// user PIN first when no token carries that label: the SAM master from `sam_hex` (64 hex
/// digits) and the document signer from `signer_pkcs8` (an Ed25519 PKCS#8 PEM). Both go in
/// sensitive and not extractable; an object of the same label is replaced (after the new one
/// is made). The caller
/// destroys the files afterwards: from then on only the token holds the keys.
pub fn import(
    cfg: &TokenConfig,
    so_pin: &str,
    sam_hex: Option<&str>,
    signer_pkcs8: Option<&str>,
) -> Result<Imported, DriverError> {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let sam = sam_hex
        .map(|text| {
            hex::decode(text.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .map(Zeroizing::new)
                .ok_or_else(|| failed(cfg, "the SAM master must be 64 hex digits"))
        })
        .transpose()?;
    let signer = signer_pkcs8
        .map(|pem| {
            ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
                .map(|k| Zeroizing::new(k.to_bytes()))
                .map_err(|e| failed(cfg, format!("the document signer's key: {e}")))
        })
        .transpose()?;
    let m = module(cfg)?;
    let mut initialised = false;
    if find_slot(&m, cfg)?.is_none() {
        let free = m
            .get_slots_with_token()
            .map_err(|e| failed(cfg, e))?
            .into_iter()
            .find(|s| {
                m.get_token_info(*s)
                    .is_ok_and(|info| !info.token_initialized())
            })
            .ok_or_else(|| failed(cfg, "no token with this label and no free slot to make one"))?;
        m.init_token(free, &AuthPin::new(so_pin.into()), &cfg.label)
            .map_err(|e| failed(cfg, format!("initialising the token: {e}")))?;
        let slot = find_slot(&m, cfg)?
            .ok_or_else(|| failed(cfg, "the token made is not found by its label"))?;
        let session = m.open_rw_session(slot).map_err(|e| failed(cfg, e))?;
        session
            .login(UserType::So, Some(&AuthPin::new(so_pin.into())))
            .map_err(|e| failed(cfg, e))?;
        session
            .init_pin(&AuthPin::new(cfg.pin.as_str().into()))
            .map_err(|e| failed(cfg, e))?;
        session.logout().map_err(|e| failed(cfg, e))?;
        initialised = true;
    }
    let session = logged_in(&m, cfg)?;
    // The new key is made before the one it replaces is destroyed: an import that fails leaves
    // the token as it was.
    let put = |class: ObjectClass, label: &str, what: &str, attributes: Vec<Attribute>| {
        let old = find(&session, class, label);
        let mut template = vec![
            Attribute::Class(class),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        template.extend(attributes);
        session
            .create_object(&template)
            .map_err(|e| failed(cfg, format!("{what}: {e}")))?;
        if let Some(old) = old {
            session.destroy_object(old).map_err(|e| failed(cfg, e))?;
        }
        Ok::<(), DriverError>(())
    };
    if let Some(master) = &sam {
        put(
            ObjectClass::SECRET_KEY,
            SAM_LABEL,
            "the SAM master",
            vec![
                Attribute::KeyType(KeyType::GENERIC_SECRET),
                Attribute::Value(master.to_vec()),
            ],
        )?;
    }
    if let Some(seed) = &signer {
        put(
            ObjectClass::PRIVATE_KEY,
            DS_LABEL,
            "the document signer",
            vec![
                Attribute::KeyType(KeyType::EC_EDWARDS),
                Attribute::EcParams(ED25519_PARAMS.to_vec()),
                Attribute::Value(seed.to_vec()),
            ],
        )?;
    }
    Ok(Imported {
        initialised,
        sam: sam.is_some(),
        signer: signer.is_some(),
    })
}

/// SoftHSM2's module where Debian puts it: the token of tests and the demo.
pub const SOFTHSM2_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
