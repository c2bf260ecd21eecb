//! The smart-card reader/writer over PC/SC, and Rekam's card profile (docs/card-profile.md):
//! an application modelled on ICAO 9303 with data groups, a security object signed by the
//! Dinas document signer (passive authentication), mutual authentication before any read
//! (EXTERNAL AUTHENTICATE with a key the secure access module derives, INTERNAL AUTHENTICATE
//! with the chip's own key), and personalisation ending in a one-time lock.

pub mod apdu;
pub mod pcsc;
pub mod profile;
pub mod token;

use self::apdu::{Command, Response, sw};
use self::pcsc::{CardSession, PcscReader};
use self::profile::{Fci, LifeCycle, SecurityObject, SodContent, fid, ins};
use crate::trust::{Signer, TrustError, TrustRoots, now_unix, pem_chain};
use crate::{DeviceInfo, DeviceKind, DeviceStatus, DriverError};
#[cfg(feature = "test-support")]
use ed25519_dalek::pkcs8::DecodePrivateKey;
#[cfg(feature = "test-support")]
use ed25519_dalek::{Signer as _, SigningKey};
use ed25519_dalek::{Verifier, VerifyingKey};
use rekam_i18n::{Lang, Localized};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

const KIND: DeviceKind = DeviceKind::CardReader;

/// What is wrong with the card (not the reader).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CardProblem {
    /// No card in the reader.
    #[error("no card in the reader")]
    Absent,
    /// Not a card of this profile (no such application).
    #[error("not a KTP-el of this profile")]
    NotOurs,
    /// A blank card: never personalised.
    #[error("the card is blank (never personalised)")]
    Blank,
    /// Personalisation asked of a card already locked.
    #[error("the card is already personalised and locked")]
    Locked,
    /// The card refused the station's key (another issuer's card, or a wrong SAM).
    #[error("the card refused the station's authentication")]
    AuthenticationFailed,
    /// Data that its security object does not vouch for.
    #[error("the card's data was altered: {0}")]
    Forged(String),
    /// Signed by a document signer the station does not trust.
    #[error("the card was issued by {0}, which is not trusted here")]
    UnknownIssuer(String),
    /// The chip could not prove its key: data copied to another chip.
    #[error("the chip failed its authentication: a copied card")]
    Cloned,
    /// A status word where the profile expects success.
    #[error("the card answered {sw:04X} to {step}")]
    Status {
        /// The status word.
        sw: u16,
        /// What was being done.
        step: &'static str,
    },
}

impl CardProblem {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            CardProblem::Absent => "CARD_ABSENT",
            CardProblem::NotOurs => "CARD_NOT_OURS",
            CardProblem::Blank => "CARD_BLANK",
            CardProblem::Locked => "CARD_LOCKED",
            CardProblem::AuthenticationFailed => "CARD_AUTH_FAILED",
            CardProblem::Forged(_) => "CARD_FORGED",
            CardProblem::UnknownIssuer(_) => "CARD_UNKNOWN_ISSUER",
            CardProblem::Cloned => "CARD_CLONED",
            CardProblem::Status { .. } => "CARD_STATUS",
        }
    }
}

impl Localized for CardProblem {
    fn localized(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            CardProblem::Absent => "Tidak ada kartu di pembaca: masukkan KTP-el".into(),
            CardProblem::NotOurs => {
                "Kartu ini bukan KTP-el yang dapat dibaca stasiun ini: periksa kartunya".into()
            }
            CardProblem::Blank => "Kartu masih kosong (belum dipersonalisasi)".into(),
            CardProblem::Locked => {
                "Kartu sudah dipersonalisasi dan dikunci: gunakan blangko baru".into()
            }
            CardProblem::AuthenticationFailed => {
                "Kartu menolak autentikasi stasiun: kartu dari penerbit lain atau SAM salah; \
                 hubungi Dinas"
                    .into()
            }
            CardProblem::Forged(what) => format!(
                "Data kartu telah diubah ({what}): JANGAN serahkan, tahan kartu dan laporkan ke \
                 Dinas"
            ),
            CardProblem::UnknownIssuer(who) => format!(
                "Kartu diterbitkan oleh {who} yang tidak dipercaya: JANGAN serahkan, laporkan \
                 ke Dinas"
            ),
            CardProblem::Cloned => {
                "Chip gagal membuktikan kuncinya (kartu salinan): JANGAN serahkan, laporkan ke \
                 Dinas"
                    .into()
            }
            CardProblem::Status { sw, step } => {
                format!("Kartu menjawab {sw:04X} pada langkah {step}: ulangi, atau ganti kartu")
            }
        }
    }
}

/// The secure access module: what proves to a card that the terminal may read and write it,
/// by the card's key diversified from a master key the station never holds.
#[derive(Clone)]
pub enum Sam {
    /// The master key in a PKCS#11 token.
    Token(Arc<token::CardToken>),
    /// The master key in memory: the simulators' cards and tests about the card protocol, never
    /// a station's configuration.
    #[cfg(feature = "test-support")]
    Memory(Arc<zeroize::Zeroizing<[u8; 32]>>),
}

impl std::fmt::Debug for Sam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sam::Token(t) => write!(f, "Sam::Token({t:?})"),
            #[cfg(feature = "test-support")]
            Sam::Memory(_) => f.write_str("Sam::Memory(..)"),
        }
    }
}

impl Sam {
    /// A master key held in memory (tests and simulators only).
    #[cfg(feature = "test-support")]
    pub fn in_memory(master: [u8; 32]) -> Sam {
        Sam::Memory(Arc::new(zeroize::Zeroizing::new(master)))
    }

    /// Card `serial`'s authentication key.
    pub fn card_key(&self, serial: &[u8; 8]) -> Result<zeroize::Zeroizing<[u8; 32]>, DriverError> {
        match self {
            Sam::Token(t) => t.card_key(serial),
            #[cfg(feature = "test-support")]
            Sam::Memory(master) => Ok(zeroize::Zeroizing::new(profile::card_key(master, serial))),
        }
    }
}

/// What a station trusts and holds to read cards.
#[derive(Debug, Clone)]
pub struct CardTrust {
    /// The country signing CAs (the Ministry's roots).
    pub csca: TrustRoots,
    /// The secure access module.
    pub sam: Sam,
}

impl CardTrust {
    /// From a CSCA PEM file and the SAM master in the PKCS#11 token `token`.
    pub fn from_token(csca: &Path, token: Arc<token::CardToken>) -> Result<CardTrust, DriverError> {
        let roots = TrustRoots::from_pem_file(csca).map_err(|e| DriverError::Io {
            kind: KIND,
            address: csca.display().to_string(),
            detail: e.to_string(),
        })?;
        Ok(CardTrust {
            csca: roots,
            sam: Sam::Token(token),
        })
    }
}

/// A card read and authenticated: every data group vouched for by the security object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardData {
    /// Chip serial, hex.
    pub serial: String,
    /// DG1: biodata JSON.
    pub biodata: Vec<u8>,
    /// DG2: ISO/IEC 19794-5 face record.
    pub face: Vec<u8>,
    /// DG3: right index, compact card minutiae.
    pub right_index: Vec<u8>,
    /// DG4: left index.
    pub left_index: Vec<u8>,
    /// DG5: signature PNG.
    pub signature: Vec<u8>,
    /// The document signer that vouched for it.
    pub issuer: Signer,
}

/// What personalisation writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Personalisation {
    /// DG1.
    pub biodata: Vec<u8>,
    /// DG2.
    pub face: Vec<u8>,
    /// DG3.
    pub right_index: Vec<u8>,
    /// DG4.
    pub left_index: Vec<u8>,
    /// DG5.
    pub signature: Vec<u8>,
}

impl Personalisation {
    fn files(&self) -> [(u16, &[u8]); 5] {
        [
            (fid::BIODATA, &self.biodata),
            (fid::FACE, &self.face),
            (fid::RIGHT_INDEX, &self.right_index),
            (fid::LEFT_INDEX, &self.left_index),
            (fid::SIGNATURE, &self.signature),
        ]
    }
}

/// Who signs a security object.
enum SignerKey {
    /// The document signer's key in a PKCS#11 token.
    Token(Arc<token::CardToken>),
    /// In memory: the simulators' card factory and tests, never a station's configuration.
    #[cfg(feature = "test-support")]
    Memory(Box<SigningKey>),
}

/// The Dinas document signer: its key (in a token) and certificate chain.
pub struct DocumentSigner {
    key: SignerKey,
    chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for DocumentSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentSigner").finish_non_exhaustive()
    }
}

impl DocumentSigner {
    /// The key in `token`, the certificate chain from the PEM file `chain`.
    pub fn from_token(
        token: Arc<token::CardToken>,
        chain: &Path,
    ) -> Result<DocumentSigner, DriverError> {
        let io = |detail: String| DriverError::Io {
            kind: KIND,
            address: chain.display().to_string(),
            detail,
        };
        if !token.has_signer() {
            return Err(DriverError::Token {
                token: format!("{token:?}"),
                detail: "the token holds no document signer: this is a counter's token, not                          the Dinas's"
                    .into(),
            });
        }
        let pem = std::fs::read_to_string(chain).map_err(|e| io(e.to_string()))?;
        Ok(DocumentSigner {
            key: SignerKey::Token(token),
            chain: pem_chain(pem.as_bytes()).map_err(|e| io(e.to_string()))?,
        })
    }

    /// From PEM in memory: a PKCS#8 Ed25519 key and its certificate (chain). For the
    /// simulators' card factory and tests only.
    #[cfg(feature = "test-support")]
    pub fn from_pem(key: &str, chain: &str) -> Result<DocumentSigner, TrustError> {
        Ok(DocumentSigner {
            key: SignerKey::Memory(Box::new(
                SigningKey::from_pkcs8_pem(key)
                    .map_err(|e| TrustError::BadCertificate(format!("signer key: {e}")))?,
            )),
            chain: pem_chain(chain.as_bytes())?,
        })
    }

    /// The security object for `files` on chip `serial`.
    pub fn security_object(
        &self,
        serial: &[u8; 8],
        files: &[(u16, &[u8])],
    ) -> Result<Vec<u8>, DriverError> {
        let content = SodContent::for_files(serial, files);
        let sod = SecurityObject::sign(&content, &self.chain, |b| match &self.key {
            SignerKey::Token(t) => t.sign(b),
            #[cfg(feature = "test-support")]
            SignerKey::Memory(k) => Ok(k.sign(b).to_bytes()),
        })?;
        Ok(sod.encode())
    }
}

fn card_err(p: CardProblem) -> DriverError {
    DriverError::Card(p)
}

fn expect_ok(resp: &Response, step: &'static str) -> Result<(), DriverError> {
    match resp.sw {
        sw::OK => Ok(()),
        sw => Err(card_err(CardProblem::Status { sw, step })),
    }
}

fn random<const N: usize>() -> Result<[u8; N], DriverError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| DriverError::Io {
        kind: KIND,
        address: "getrandom".into(),
        detail: e.to_string(),
    })?;
    Ok(b)
}

fn select_application(s: &mut CardSession) -> Result<Fci, DriverError> {
    let resp = s.transmit(
        &Command::new(0, ins::SELECT, 0x04, 0x00)
            .data(profile::AID)
            .le(256),
    )?;
    if resp.sw == sw::NOT_FOUND {
        return Err(card_err(CardProblem::NotOurs));
    }
    expect_ok(&resp, "SELECT")?;
    Fci::parse(&resp.data).ok_or(DriverError::Protocol {
        kind: KIND,
        detail: "SELECT answer is not the profile's FCI".into(),
    })
}

/// GET CHALLENGE and EXTERNAL AUTHENTICATE: the station proves it holds the card's key.
fn authenticate_terminal(s: &mut CardSession, fci: &Fci, sam: &Sam) -> Result<(), DriverError> {
    let resp = s.transmit(&Command::new(0, ins::GET_CHALLENGE, 0, 0).le(profile::CHALLENGE_LEN))?;
    expect_ok(&resp, "GET CHALLENGE")?;
    let key = sam.card_key(&fci.serial)?;
    let cryptogram = profile::external_cryptogram(&key, &resp.data, &fci.serial);
    let resp = s.transmit(&Command::new(0, ins::EXTERNAL_AUTHENTICATE, 0, 0).data(cryptogram))?;
    match resp.sw {
        sw::OK => Ok(()),
        _ => Err(card_err(CardProblem::AuthenticationFailed)),
    }
}

fn select_file(s: &mut CardSession, file: u16) -> Result<usize, DriverError> {
    let resp = s.transmit(
        &Command::new(0, ins::SELECT, 0x02, 0x04)
            .data(file.to_be_bytes())
            .le(256),
    )?;
    expect_ok(&resp, "SELECT FILE")?;
    profile::parse_fcp(&resp.data)
        .filter(|(f, _)| *f == file)
        .map(|(_, size)| size)
        .ok_or(DriverError::Protocol {
            kind: KIND,
            detail: "SELECT FILE answer is not the profile's FCP".into(),
        })
}

fn chunk(s: &CardSession) -> usize {
    if s.capabilities().extended { 4096 } else { 256 }
}

fn read_file(s: &mut CardSession, file: u16) -> Result<Vec<u8>, DriverError> {
    let size = select_file(s, file)?;
    let mut out = Vec::with_capacity(size);
    while out.len() < size {
        let want = (size - out.len()).min(chunk(s));
        let off = (out.len() as u16).to_be_bytes();
        let resp = s.transmit(&Command::new(0, ins::READ_BINARY, off[0], off[1]).le(want))?;
        expect_ok(&resp, "READ BINARY")?;
        if resp.data.is_empty() || resp.data.len() > want {
            return Err(DriverError::Protocol {
                kind: KIND,
                detail: "READ BINARY returned the wrong length".into(),
            });
        }
        out.extend_from_slice(&resp.data);
    }
    Ok(out)
}

/// Reads and authenticates the card in `session`: application, terminal authentication, every
/// data group, passive authentication against `trust.csca`, then the chip's own authentication
/// with the key the security object vouches for.
pub fn read_card(s: &mut CardSession, trust: &CardTrust) -> Result<CardData, DriverError> {
    let fci = select_application(s)?;
    if fci.life_cycle == LifeCycle::Initialisation {
        return Err(card_err(CardProblem::Blank));
    }
    authenticate_terminal(s, &fci, &trust.sam)?;
    let sod = read_file(s, fid::SOD)?;
    let mut groups = Vec::new();
    for f in fid::PERSONAL.into_iter().chain([fid::CARD_KEY]) {
        groups.push((f, read_file(s, f)?));
    }

    // Passive authentication.
    let profile::ParsedSod {
        content_bytes,
        content,
        chain,
        signature,
    } = SecurityObject::parse(&sod).map_err(|e| card_err(CardProblem::Forged(e.to_string())))?;
    let issuer = trust
        .csca
        .verify_chain(&chain, now_unix())
        .map_err(|e| match e {
            TrustError::UnknownIssuer { issuer, .. } => {
                card_err(CardProblem::UnknownIssuer(issuer))
            }
            other => card_err(CardProblem::Forged(other.to_string())),
        })?;
    issuer
        .verify(&content_bytes, &signature, "the security object")
        .map_err(|e| card_err(CardProblem::Forged(e.to_string())))?;
    if content.card_serial != hex::encode(fci.serial) {
        return Err(card_err(CardProblem::Forged(
            "security object of another chip".into(),
        )));
    }
    for (f, bytes) in &groups {
        let actual = hex::encode(Sha256::digest(bytes));
        if content.hash_of(*f) != Some(actual.as_str()) {
            return Err(card_err(CardProblem::Forged(format!("data group {f:04X}"))));
        }
    }

    // Active authentication: the chip signs our challenge with the key DG15 vouches for.
    let card_key = groups
        .iter()
        .find(|(f, _)| *f == fid::CARD_KEY)
        .and_then(|(_, k)| <[u8; 32]>::try_from(k.as_slice()).ok())
        .and_then(|k| VerifyingKey::from_bytes(&k).ok())
        .ok_or(card_err(CardProblem::Cloned))?;
    let challenge = random::<{ profile::TERMINAL_CHALLENGE_LEN }>()?;
    let resp = s.transmit(
        &Command::new(0, ins::INTERNAL_AUTHENTICATE, 0, 0)
            .data(challenge)
            .le(64),
    )?;
    let sig = ed25519_dalek::Signature::from_slice(&resp.data)
        .map_err(|_| card_err(CardProblem::Cloned))?;
    if !resp.is_ok()
        || card_key
            .verify(&profile::internal_message(&challenge, &fci.serial), &sig)
            .is_err()
    {
        return Err(card_err(CardProblem::Cloned));
    }

    let take = |f: u16| {
        groups
            .iter()
            .find(|(g, _)| *g == f)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    };
    Ok(CardData {
        serial: hex::encode(fci.serial),
        biodata: take(fid::BIODATA),
        face: take(fid::FACE),
        right_index: take(fid::RIGHT_INDEX),
        left_index: take(fid::LEFT_INDEX),
        signature: take(fid::SIGNATURE),
        issuer,
    })
}

/// Personalises a blank card: terminal authentication, the chip's key read from DG15, every
/// data group and the security object created and written, then the one-time lock. Returns
/// the chip serial (hex).
pub fn personalise(
    s: &mut CardSession,
    sam: &Sam,
    signer: &DocumentSigner,
    data: &Personalisation,
) -> Result<String, DriverError> {
    let fci = select_application(s)?;
    if fci.life_cycle != LifeCycle::Initialisation {
        return Err(card_err(CardProblem::Locked));
    }
    authenticate_terminal(s, &fci, sam)?;
    let card_key = read_file(s, fid::CARD_KEY)?;
    let mut files: Vec<(u16, &[u8])> = data.files().to_vec();
    files.push((fid::CARD_KEY, &card_key));
    let sod = signer.security_object(&fci.serial, &files)?;
    files.pop();
    files.push((fid::SOD, &sod));
    for (f, bytes) in files {
        if bytes.len() > profile::MAX_FILE {
            return Err(DriverError::Protocol {
                kind: KIND,
                detail: format!("data group {f:04X} of {} bytes is too large", bytes.len()),
            });
        }
        let resp = s.transmit(
            &Command::new(0, ins::CREATE_FILE, 0, 0).data(profile::fcp(f, bytes.len())),
        )?;
        expect_ok(&resp, "CREATE FILE")?;
        select_file(s, f)?;
        // Pieces of 1000 bytes: chained on a short-only card, one extended APDU otherwise.
        for (i, piece) in bytes.chunks(1000).enumerate() {
            let off = ((i * 1000) as u16).to_be_bytes();
            let resp =
                s.transmit(&Command::new(0, ins::UPDATE_BINARY, off[0], off[1]).data(piece))?;
            expect_ok(&resp, "UPDATE BINARY")?;
        }
    }
    let resp = s.transmit(&Command::new(0, ins::ACTIVATE, 0, 0))?;
    expect_ok(&resp, "ACTIVATE")?;
    Ok(hex::encode(fci.serial))
}

/// A card reader/writer, whatever its transport.
pub trait CardReader {
    /// Who it is.
    fn info(&self) -> &DeviceInfo;
    /// Whether it answers.
    fn status(&self) -> DeviceStatus;
    /// Reads and authenticates the card in it.
    fn read(&self, trust: &CardTrust) -> Result<CardData, DriverError>;
    /// Personalises the blank card in it ([`personalise`]); the chip serial (hex).
    fn personalise(
        &self,
        sam: &Sam,
        signer: &DocumentSigner,
        data: &Personalisation,
    ) -> Result<String, DriverError>;
}

impl CardReader for PcscReader {
    fn info(&self) -> &DeviceInfo {
        PcscReader::info(self)
    }

    fn status(&self) -> DeviceStatus {
        PcscReader::status(self)
    }

    fn read(&self, trust: &CardTrust) -> Result<CardData, DriverError> {
        read_card(&mut self.connect()?, trust)
    }

    fn personalise(
        &self,
        sam: &Sam,
        signer: &DocumentSigner,
        data: &Personalisation,
    ) -> Result<String, DriverError> {
        personalise(&mut self.connect()?, sam, signer, data)
    }
}
