//! Key slots: the store key, never written in clear, sealed once for every way in.
//!
//! A station set up with slots (`<data-dir>/keyslots.json`) keeps no key beside its database.
//! Each slot holds the store key sealed to the slot's own X25519 public key
//! ([`rekam_packet::wrap`]):
//!
//! - a **password** slot per operator: the slot's private key is wrapped under a key derived
//!   from the operator's password with Argon2id ([`PASSWORD_KDF`]); logging in opens it;
//! - a **recovery** slot: sealed to the Dinas's recovery public key; only the Dinas's private
//!   key opens it (`rekam recover`, on the Dinas's machine);
//! - at most one **TPM** slot: the slot's private key sealed by this machine's TPM 2.0, bound to
//!   its boot state ([`super::tpm`]), so a fixed counter's background sync opens the store with
//!   nobody logged in. A copy of the data directory taken to another machine does not open it.
//!
//! Because sealing needs only a public key, the station puts a new store key in every slot
//! without anyone's password: removing an operator removes their slot and re-keys the
//! database, so the removed operator's password opens nothing, not even a copy of the slots
//! taken before.
//!
//! Invariants: every slot is bound to its station, kind, name and public key (the AEAD's
//! associated data), so a slot moved into another file or renamed does not open; the file is
//! replaced atomically (written beside, synced, renamed, the directory synced); a re-key
//! writes the new slots to `keyslots.json.next` before the database changes and renames them
//! after, so a kill at any point leaves slots that open the database ([`KeySlots::load`]
//! settles it).

use crate::store::StoreKey;
use crate::{Error, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rekam_packet::wrap::{self, SlotKey, Wrapped};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The TPM slot's name (a station has one TPM).
pub const TPM_SLOT: &str = "tpm";

/// The slots' file in the data directory.
pub const SLOTS_FILE: &str = "keyslots.json";

/// Argon2id cost of a password slot: RFC 9106's second recommended option (64 MiB, 3 passes,
/// 4 lanes), for machines that cannot give a login 2 GiB.
pub const PASSWORD_KDF: Kdf = Kdf {
    memory_kib: 64 * 1024,
    passes: 3,
    lanes: 4,
};

const FORMAT: u32 = 1;
const INFO: &[u8] = b"rekam key slot v1";

/// Argon2id's cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kdf {
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Passes over it.
    pub passes: u32,
    /// Lanes.
    pub lanes: u32,
}

/// The most memory a slot may ask for: a file claiming more is damaged, not obeyed.
const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;

/// 32 bytes from `secret` and `salt` with Argon2id at `kdf`'s cost.
pub(crate) fn argon2id(secret: &str, salt: &[u8], kdf: Kdf) -> Result<Zeroizing<[u8; 32]>> {
    let problem = |e: String| Error::io("argon2", std::io::Error::other(e));
    let params = argon2::Params::new(kdf.memory_kib, kdf.passes, kdf.lanes, Some(32))
        .map_err(|e| problem(e.to_string()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(secret.as_bytes(), salt, key.as_mut())
        .map_err(|e| problem(e.to_string()))?;
    Ok(key)
}

/// What kind of way in a slot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    /// An operator's password.
    Password,
    /// The Dinas's recovery key.
    Recovery,
    /// This machine's TPM.
    Tpm,
}

impl SlotKind {
    fn as_str(self) -> &'static str {
        match self {
            SlotKind::Password => "password",
            SlotKind::Recovery => "recovery",
            SlotKind::Tpm => "tpm",
        }
    }
}

/// A slot's private key wrapped under a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PasswordWrap {
    kdf: Kdf,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// One way in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Slot {
    kind: SlotKind,
    /// The operator id, or the recovery key's id.
    name: String,
    /// The slot's X25519 public key, hex.
    public: String,
    /// The store key sealed to it: encapsulated key and ciphertext, hex.
    enc: String,
    sealed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<PasswordWrap>,
    /// A TPM slot's private key, sealed by the TPM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tpm: Option<super::tpm::Sealed>,
    /// Consecutive wrong passwords tried on this slot at this machine (not part of what the
    /// slot is bound to: a count, not a secret).
    #[serde(default, skip_serializing_if = "is_zero")]
    failures: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A station's key slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySlots {
    format: u32,
    station_id: String,
    slots: Vec<Slot>,
}

/// A slot as a technician sees it (no key material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotInfo {
    /// Password or recovery.
    pub kind: SlotKind,
    /// The operator id, or the recovery key's id.
    pub name: String,
}

/// The Dinas's recovery key: an X25519 key pair whose private half stays at the Dinas.
pub struct RecoveryKey(SlotKey);

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryKey({})", self.id())
    }
}

impl RecoveryKey {
    /// A fresh key pair (on the Dinas's machine).
    pub fn generate() -> Result<RecoveryKey> {
        Ok(RecoveryKey(SlotKey::generate()?))
    }

    /// The private key from its file form (64 hex digits).
    pub fn from_hex(text: &str) -> Option<RecoveryKey> {
        let bytes = Zeroizing::new(hex::decode(text.trim()).ok()?);
        SlotKey::from_secret(&bytes).ok().map(RecoveryKey)
    }

    /// The private key's file form. Wiped when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.secret()))
    }

    /// The public key, hex: what a station is given at set-up.
    pub fn public_hex(&self) -> String {
        hex::encode(self.0.public())
    }

    /// The key's id: the first 16 hex digits of the public key's SHA-256.
    pub fn id(&self) -> String {
        recovery_id(&self.0.public())
    }
}

fn recovery_id(public: &[u8; 32]) -> String {
    hex::encode(&rekam_packet::sha256(&[public])[..8])
}

/// Parses a recovery public key (64 hex digits).
pub fn recovery_public(hex_text: &str) -> Result<[u8; 32]> {
    let mut p = [0u8; 32];
    hex::decode_to_slice(hex_text.trim(), &mut p).map_err(|_| Error::KeySlots {
        problem: "the recovery public key must be 64 hex digits".into(),
    })?;
    Ok(p)
}

fn damaged(problem: impl Into<String>) -> Error {
    Error::KeySlots {
        problem: problem.into(),
    }
}

fn unhex(text: &str) -> Result<Vec<u8>> {
    hex::decode(text).map_err(|_| damaged("a slot holds something other than hex"))
}

impl Slot {
    fn context(&self, station_id: &str) -> Vec<u8> {
        format!(
            "REKAM-KEYSLOT-V1\n{station_id}\n{}\n{}\n{}",
            self.kind.as_str(),
            self.name,
            self.public
        )
        .into_bytes()
    }

    fn public(&self) -> Result<[u8; 32]> {
        let mut p = [0u8; 32];
        hex::decode_to_slice(&self.public, &mut p)
            .map_err(|_| damaged("a malformed public key"))?;
        Ok(p)
    }

    /// Puts `key` in this slot (sealed to its public key).
    fn seal(&mut self, station_id: &str, key: &StoreKey) -> Result<()> {
        let w = wrap::seal(
            &self.public()?,
            INFO,
            &self.context(station_id),
            key.bytes(),
        )?;
        self.enc = hex::encode(w.enc);
        self.sealed = hex::encode(w.ciphertext);
        Ok(())
    }

    /// The store key, with the slot's private key.
    fn open(&self, station_id: &str, private: &SlotKey) -> Option<StoreKey> {
        let enc: [u8; wrap::ENC_LEN] = hex::decode(&self.enc).ok()?.try_into().ok()?;
        let w = Wrapped {
            enc,
            ciphertext: hex::decode(&self.sealed).ok()?,
        };
        let bytes = wrap::open(private, INFO, &self.context(station_id), &w).ok()?;
        StoreKey::from_bytes(&bytes)
    }

    /// The slot's private key, unwrapped with `password`; `None` when the password is wrong.
    fn private_key(&self, station_id: &str, password: &str) -> Result<Option<SlotKey>> {
        let Some(pw) = &self.password else {
            return Ok(None);
        };
        if pw.kdf.memory_kib > MAX_MEMORY_KIB {
            return Err(damaged(
                "a slot asks for more memory than any login may use",
            ));
        }
        let (salt, nonce, ct) = (unhex(&pw.salt)?, unhex(&pw.nonce)?, unhex(&pw.ciphertext)?);
        if nonce.len() != 24 {
            return Err(damaged("a slot's nonce is not 24 bytes"));
        }
        let kek = argon2id(password, &salt, pw.kdf)?;
        let Ok(secret) = XChaCha20Poly1305::new(kek.as_ref().into()).decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ct,
                aad: &self.context(station_id),
            },
        ) else {
            return Ok(None);
        };
        let secret = Zeroizing::new(secret);
        Ok(SlotKey::from_secret(&secret).ok())
    }
}

impl KeySlots {
    /// No slots yet, for `station_id`.
    pub fn new(station_id: &str) -> KeySlots {
        KeySlots {
            format: FORMAT,
            station_id: station_id.to_owned(),
            slots: Vec::new(),
        }
    }

    /// The station the slots belong to.
    pub fn station_id(&self) -> &str {
        &self.station_id
    }

    /// The slots, without key material.
    pub fn list(&self) -> Vec<SlotInfo> {
        self.slots
            .iter()
            .map(|s| SlotInfo {
                kind: s.kind,
                name: s.name.clone(),
            })
            .collect()
    }

    /// Adds (or replaces) `operator_id`'s password slot holding `key`.
    pub fn set_password(
        &mut self,
        key: &StoreKey,
        operator_id: &str,
        password: &str,
        kdf: Kdf,
    ) -> Result<()> {
        let private = SlotKey::generate()?;
        let mut slot = Slot {
            kind: SlotKind::Password,
            name: operator_id.to_owned(),
            public: hex::encode(private.public()),
            enc: String::new(),
            sealed: String::new(),
            password: None,
            tpm: None,
            failures: 0,
        };
        let (mut salt, mut nonce) = ([0u8; 16], [0u8; 24]);
        crate::store::fill_random(&mut salt)?;
        crate::store::fill_random(&mut nonce)?;
        let kek = argon2id(password, &salt, kdf)?;
        let ct = XChaCha20Poly1305::new(kek.as_ref().into())
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: private.secret(),
                    aad: &slot.context(&self.station_id),
                },
            )
            .map_err(|_| damaged("wrapping the slot key failed"))?;
        slot.password = Some(PasswordWrap {
            kdf,
            salt: hex::encode(salt),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ct),
        });
        slot.seal(&self.station_id, key)?;
        self.remove(SlotKind::Password, operator_id);
        self.slots.push(slot);
        Ok(())
    }

    /// Adds (or replaces) the recovery slot sealed to the Dinas's `public` key.
    pub fn set_recovery(&mut self, key: &StoreKey, public: &[u8; 32]) -> Result<()> {
        let mut slot = Slot {
            kind: SlotKind::Recovery,
            name: recovery_id(public),
            public: hex::encode(public),
            enc: String::new(),
            sealed: String::new(),
            password: None,
            tpm: None,
            failures: 0,
        };
        slot.seal(&self.station_id, key)?;
        self.slots.retain(|s| s.kind != SlotKind::Recovery);
        self.slots.push(slot);
        Ok(())
    }

    /// Adds (or replaces) the TPM slot: its private key sealed by the TPM at `tcti`, bound to
    /// `pcrs`' current values.
    pub fn set_tpm(&mut self, key: &StoreKey, tcti: &str, pcrs: &[u8]) -> Result<()> {
        let private = SlotKey::generate()?;
        let mut slot = Slot {
            kind: SlotKind::Tpm,
            name: TPM_SLOT.to_owned(),
            public: hex::encode(private.public()),
            enc: String::new(),
            sealed: String::new(),
            password: None,
            tpm: Some(super::tpm::seal(tcti, pcrs, private.secret())?),
            failures: 0,
        };
        slot.seal(&self.station_id, key)?;
        self.slots.retain(|s| s.kind != SlotKind::Tpm);
        self.slots.push(slot);
        Ok(())
    }

    /// The store key through the TPM slot (with the TPM at `tcti`, or the one it was made
    /// with); `None` when there is no TPM slot. A TPM that refuses is an error that says why.
    pub fn open_with_tpm(&self, tcti: Option<&str>) -> Result<Option<StoreKey>> {
        let Some(slot) = self.slots.iter().find(|s| s.kind == SlotKind::Tpm) else {
            return Ok(None);
        };
        let sealed = slot
            .tpm
            .as_ref()
            .ok_or_else(|| damaged("the TPM slot holds no sealed key"))?;
        let secret = super::tpm::unseal(sealed, tcti)?;
        let private = SlotKey::from_secret(&secret)
            .map_err(|_| damaged("the TPM gave back something other than a slot key"))?;
        Ok(slot.open(&self.station_id, &private))
    }

    /// Whether there is a TPM slot.
    pub fn has_tpm(&self) -> bool {
        self.slots.iter().any(|s| s.kind == SlotKind::Tpm)
    }

    /// Consecutive wrong passwords tried on `operator_id`'s slot.
    pub fn password_failures(&self, operator_id: &str) -> u32 {
        self.password_slot(operator_id).map_or(0, |s| s.failures)
    }

    /// Counts a wrong password on `operator_id`'s slot; whether there is such a slot.
    pub fn note_password_failure(&mut self, operator_id: &str) -> bool {
        match self
            .slots
            .iter_mut()
            .find(|s| s.kind == SlotKind::Password && s.name == operator_id)
        {
            Some(s) => {
                s.failures = s.failures.saturating_add(1);
                true
            }
            None => false,
        }
    }

    /// Clears the count of `operator_id`'s slot; whether it changed.
    pub fn clear_password_failures(&mut self, operator_id: &str) -> bool {
        self.slots
            .iter_mut()
            .filter(|s| s.kind == SlotKind::Password && s.name == operator_id && s.failures > 0)
            .map(|s| s.failures = 0)
            .count()
            > 0
    }

    fn password_slot(&self, operator_id: &str) -> Option<&Slot> {
        self.slots
            .iter()
            .find(|s| s.kind == SlotKind::Password && s.name == operator_id)
    }

    /// Removes the slot of `kind` named `name`; whether there was one.
    pub fn remove(&mut self, kind: SlotKind, name: &str) -> bool {
        let before = self.slots.len();
        self.slots.retain(|s| !(s.kind == kind && s.name == name));
        self.slots.len() != before
    }

    /// The store key through `operator_id`'s password; `None` when there is no such slot or
    /// the password is wrong (the caller does not say which).
    pub fn open_with_password(
        &self,
        operator_id: &str,
        password: &str,
    ) -> Result<Option<StoreKey>> {
        let Some(slot) = self.password_slot(operator_id) else {
            return Ok(None);
        };
        Ok(slot
            .private_key(&self.station_id, password)?
            .and_then(|private| slot.open(&self.station_id, &private)))
    }

    /// The store key through the Dinas's recovery key.
    pub fn open_with_recovery(&self, key: &RecoveryKey) -> Option<StoreKey> {
        let public = hex::encode(key.0.public());
        self.slots
            .iter()
            .find(|s| s.kind == SlotKind::Recovery && s.public == public)
            .and_then(|s| s.open(&self.station_id, &key.0))
    }

    /// The same slots holding `key` instead (a re-key): no password is needed.
    pub fn resealed(&self, key: &StoreKey) -> Result<KeySlots> {
        let mut next = self.clone();
        for slot in &mut next.slots {
            slot.seal(&self.station_id, key)?;
        }
        Ok(next)
    }

    /// The file in `data_dir`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(SLOTS_FILE)
    }

    /// The slots of a re-key in progress (none is left once a re-key ended or was settled).
    pub fn next_path(data_dir: &Path) -> PathBuf {
        data_dir.join(format!("{SLOTS_FILE}.next"))
    }

    /// Reads `path`; `None` when there is no such file.
    pub fn read(path: &Path) -> Result<Option<KeySlots>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let slots: KeySlots = serde_json::from_slice(&bytes)
            .map_err(|e| damaged(format!("{} is not a key slot file ({e})", path.display())))?;
        if slots.format != FORMAT {
            return Err(damaged(format!(
                "{} has format {}, this Rekam reads {FORMAT}",
                path.display(),
                slots.format
            )));
        }
        Ok(Some(slots))
    }

    /// Writes the slots to `path` atomically: beside it, synced, renamed over it, the
    /// directory synced.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(|e| Error::io(path, e.into()))?;
        crate::durable::replace_file(path, &text, true)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A cheap cost: these tests are about the slots, not Argon2id.
    const CHEAP: Kdf = Kdf {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };

    #[test]
    fn each_slot_opens_with_its_own_secret_only() {
        let key = StoreKey::generate().unwrap();
        let dinas = RecoveryKey::generate().unwrap();
        let mut slots = KeySlots::new("KEC-01");
        slots
            .set_password(&key, "OP-01", "sandi-satu", CHEAP)
            .unwrap();
        slots
            .set_password(&key, "OP-02", "sandi-dua", CHEAP)
            .unwrap();
        slots
            .set_recovery(&key, &recovery_public(&dinas.public_hex()).unwrap())
            .unwrap();
        let opened = |k: Option<StoreKey>| k.map(|k| *k.bytes());
        assert_eq!(
            opened(slots.open_with_password("OP-01", "sandi-satu").unwrap()),
            Some(*key.bytes())
        );
        assert_eq!(
            opened(slots.open_with_password("OP-01", "sandi-dua").unwrap()),
            None
        );
        assert_eq!(
            opened(slots.open_with_password("OP-03", "sandi-satu").unwrap()),
            None
        );
        assert_eq!(opened(slots.open_with_recovery(&dinas)), Some(*key.bytes()));
        assert_eq!(
            opened(slots.open_with_recovery(&RecoveryKey::generate().unwrap())),
            None
        );

        // A new password replaces the old; a removed slot opens nothing.
        slots
            .set_password(&key, "OP-01", "sandi-baru", CHEAP)
            .unwrap();
        assert_eq!(
            opened(slots.open_with_password("OP-01", "sandi-satu").unwrap()),
            None
        );
        assert!(slots.remove(SlotKind::Password, "OP-02"));
        assert_eq!(
            opened(slots.open_with_password("OP-02", "sandi-dua").unwrap()),
            None
        );
        assert_eq!(slots.list().len(), 2);
    }

    #[test]
    fn a_re_key_needs_no_password_and_a_slot_is_bound_to_its_station_and_name() {
        let key = StoreKey::generate().unwrap();
        let mut slots = KeySlots::new("KEC-01");
        slots
            .set_password(&key, "OP-01", "sandi-satu", CHEAP)
            .unwrap();
        let new = StoreKey::generate().unwrap();
        let next = slots.resealed(&new).unwrap();
        let got = next
            .open_with_password("OP-01", "sandi-satu")
            .unwrap()
            .unwrap();
        assert_eq!(got.bytes(), new.bytes());

        // Moved into another station's file, or renamed: it does not open.
        let mut moved = slots.clone();
        moved.station_id = "KEC-02".into();
        assert!(
            moved
                .open_with_password("OP-01", "sandi-satu")
                .unwrap()
                .is_none()
        );
        let mut renamed = slots.clone();
        renamed.slots[0].name = "OP-09".into();
        assert!(
            renamed
                .open_with_password("OP-09", "sandi-satu")
                .unwrap()
                .is_none()
        );

        // Written and read back the same; a file claiming absurd memory is damaged.
        let dir = tempfile::tempdir().unwrap();
        let path = KeySlots::path(dir.path());
        slots.write(&path).unwrap();
        assert_eq!(KeySlots::read(&path).unwrap().unwrap(), slots);
        let mut greedy = slots.clone();
        if let Some(pw) = &mut greedy.slots[0].password {
            pw.kdf.memory_kib = u32::MAX;
        }
        assert_eq!(
            greedy.open_with_password("OP-01", "x").unwrap_err().code(),
            "KEY_SLOTS"
        );
    }
}
