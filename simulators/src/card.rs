//! The virtual KTP-el chip of Rekam's card profile (docs/card-profile.md), apart from the
//! vpcd transport: files, life cycle, authentication, chaining, and the cards a test needs
//! (personalised, blank, altered data, unknown issuer, a copy on another chip).

use ed25519_dalek::{Signer as _, SigningKey};
use rekam_drivers::card::apdu::{Command, Response, sw};
use rekam_drivers::card::profile::{self, Fci, LifeCycle, fid, ins};
use rekam_drivers::card::{DocumentSigner, Personalisation};
use rekam_records::face::{FaceFormat, FaceImage};
use rekam_records::minutiae;
use rekam_synth::finger::impression::{Capture, Quality, impression};
use rekam_synth::seed::Seed;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// TEST keys: the Dinas document signer certified by the TEST CSCA, a signer nobody certified,
/// and the SAM master the cards' authentication keys derive from.
const DINAS_KEY: &str = include_str!("../../fixtures/test-keys/test-card-ds-dinas.key.pem");
const DINAS_CERT: &str = include_str!("../../fixtures/test-keys/test-card-ds-dinas.crt.pem");
const ROGUE_KEY: &str = include_str!("../../fixtures/test-keys/test-card-ds-rogue.key.pem");
const ROGUE_CERT: &str = include_str!("../../fixtures/test-keys/test-card-ds-rogue.crt.pem");
const SAM_MASTER: &str = include_str!("../../fixtures/test-keys/test-card-sam-master.hex");

/// Which card is in the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CardKind {
    /// Personalised for the resident and locked.
    Personalised,
    /// Never personalised.
    Blank,
    /// Personalised, then its biodata altered.
    ForgedData,
    /// Personalised by a document signer nobody certified.
    ForgedIssuer,
    /// A genuine card's files copied onto another chip.
    Cloned,
}

/// How the chip talks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Talk {
    /// Refuse extended lengths (and say so in the ATR).
    pub short_only: bool,
    /// Answer every command with response data by 61xx, as T=0 cards do.
    pub t0: bool,
}

/// The SAM master key of the TEST cards.
pub fn sam_master() -> [u8; 32] {
    hex::decode(SAM_MASTER.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; 32])
}

/// A chip.
pub struct Chip {
    serial: [u8; 8],
    key: SigningKey,
    auth_key: [u8; 32],
    files: BTreeMap<u16, Vec<u8>>,
    life: LifeCycle,
    talk: Talk,
    app_selected: bool,
    file: Option<u16>,
    challenge: Option<Vec<u8>>,
    authenticated: bool,
    chain: Option<Command>,
    pending: Vec<u8>,
}

impl std::fmt::Debug for Chip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chip")
            .field("serial", &hex::encode(self.serial))
            .field("life", &self.life)
            .finish_non_exhaustive()
    }
}

fn derived<const N: usize>(label: &str, serial: &[u8; 8]) -> [u8; N] {
    let mut h = Sha256::new();
    h.update(label.as_bytes());
    h.update(serial);
    let d = h.finalize();
    let mut out = [0u8; N];
    out.copy_from_slice(&d[..N]);
    out
}

impl Chip {
    /// A blank chip as it leaves the factory: serial, own key pair, DG15 with the public key.
    pub fn manufacture(serial: [u8; 8], talk: Talk) -> Chip {
        let key = SigningKey::from_bytes(&derived::<32>("rekam-sim-chip-key", &serial));
        let mut files = BTreeMap::new();
        files.insert(fid::CARD_KEY, key.verifying_key().to_bytes().to_vec());
        Chip {
            serial,
            key,
            auth_key: profile::card_key(&sam_master(), &serial),
            files,
            life: LifeCycle::Initialisation,
            talk,
            app_selected: false,
            file: None,
            challenge: None,
            authenticated: false,
            chain: None,
            pending: Vec::new(),
        }
    }

    /// The chip of `kind` for resident `index` of `seed`.
    pub fn for_resident(
        kind: CardKind,
        seed: u64,
        index: u64,
        talk: Talk,
    ) -> crate::error::Result<Chip> {
        let serial = derived::<8>(&format!("rekam-sim-card-{seed}-{index}"), &[0; 8]);
        let mut chip = Chip::manufacture(serial, talk);
        if kind == CardKind::Blank {
            return Ok(chip);
        }
        let data = personalisation(seed, index)?;
        let (key, cert) = if kind == CardKind::ForgedIssuer {
            (ROGUE_KEY, ROGUE_CERT)
        } else {
            (DINAS_KEY, DINAS_CERT)
        };
        let signer = DocumentSigner::from_pem(key, cert)?;
        chip.write_personalisation(&signer, &data);
        match kind {
            CardKind::ForgedData => {
                // Someone edits the name on the chip; the security object still has the old hash.
                if let Some(dg1) = chip.files.get_mut(&fid::BIODATA)
                    && let Some(b) = dg1.iter_mut().find(|b| b.is_ascii_uppercase())
                {
                    *b = if *b == b'A' { b'B' } else { b'A' };
                }
            }
            CardKind::Cloned => {
                // The files copied, but this chip's key is not the one DG15 names.
                chip.key = SigningKey::from_bytes(&derived::<32>("another-chip", &serial));
            }
            _ => {}
        }
        Ok(chip)
    }

    /// Personalises in place, as the station's personaliser would over the air.
    fn write_personalisation(&mut self, signer: &DocumentSigner, data: &Personalisation) {
        let card_key = self.files.get(&fid::CARD_KEY).cloned().unwrap_or_default();
        let mut files: Vec<(u16, Vec<u8>)> = vec![
            (fid::BIODATA, data.biodata.clone()),
            (fid::FACE, data.face.clone()),
            (fid::RIGHT_INDEX, data.right_index.clone()),
            (fid::LEFT_INDEX, data.left_index.clone()),
            (fid::SIGNATURE, data.signature.clone()),
        ];
        let mut hashed: Vec<(u16, &[u8])> = files.iter().map(|(f, b)| (*f, b.as_slice())).collect();
        hashed.push((fid::CARD_KEY, &card_key));
        // An in-memory signer cannot fail; were it to, the card would carry no security object
        // and every read of it would say so.
        let sod = signer
            .security_object(&self.serial, &hashed)
            .unwrap_or_default();
        files.push((fid::SOD, sod));
        self.files.extend(files);
        self.life = LifeCycle::Operational;
    }

    /// The ATR: T=1, card capabilities (chaining, extended lengths unless short-only).
    pub fn atr(&self) -> Vec<u8> {
        let caps = 0x80 | if self.talk.short_only { 0 } else { 0x40 };
        let hist = [0x80, 0x73, 0x00, 0x00, caps];
        let mut atr = vec![0x3B, 0x80 | hist.len() as u8, 0x80, 0x01];
        atr.extend_from_slice(&hist);
        let tck = atr[1..].iter().fold(0u8, |a, b| a ^ b);
        atr.push(tck);
        atr
    }

    /// Power off or reset: selections and authentication are lost, files stay.
    pub fn reset(&mut self) {
        self.app_selected = false;
        self.file = None;
        self.challenge = None;
        self.authenticated = false;
        self.chain = None;
        self.pending.clear();
    }

    /// Answers one command APDU.
    pub fn process(&mut self, bytes: &[u8]) -> Vec<u8> {
        let extended = bytes.len() > 5 && bytes[4] == 0;
        if extended && self.talk.short_only {
            return Response::status(sw::WRONG_LENGTH).encode();
        }
        let Ok(mut cmd) = Command::parse(bytes) else {
            return Response::status(sw::WRONG_LENGTH).encode();
        };
        if cmd.ins != ins::GET_RESPONSE {
            self.pending.clear();
        }
        // Command chaining: collect pieces until the last one.
        if cmd.cla & 0x10 != 0 {
            match &mut self.chain {
                Some(c) if c.ins == cmd.ins => c.data.extend_from_slice(&cmd.data),
                Some(_) => {
                    self.chain = None;
                    return Response::status(sw::CHAIN).encode();
                }
                None => {
                    let mut first = cmd.clone();
                    first.cla &= !0x10;
                    self.chain = Some(first);
                }
            }
            return Response::status(sw::OK).encode();
        }
        if let Some(mut head) = self.chain.take() {
            if head.ins != cmd.ins {
                return Response::status(sw::CHAIN).encode();
            }
            head.data.extend_from_slice(&cmd.data);
            head.le = cmd.le;
            cmd = head;
        }
        let resp = self.execute(&cmd);
        if self.talk.t0 && !resp.data.is_empty() && cmd.ins != ins::GET_RESPONSE {
            self.pending = resp.data;
            let n = self.pending.len().min(256);
            return Response::status(0x6100 | (n % 256) as u16).encode();
        }
        resp.encode()
    }

    fn execute(&mut self, cmd: &Command) -> Response {
        let s = Response::status;
        match cmd.ins {
            ins::GET_RESPONSE => {
                let n = cmd.le.unwrap_or(256).min(self.pending.len());
                let data: Vec<u8> = self.pending.drain(..n).collect();
                match self.pending.len() {
                    0 => Response::new(data, sw::OK),
                    left => Response::new(data, 0x6100 | (left.min(256) % 256) as u16),
                }
            }
            ins::SELECT if cmd.p1 == 0x04 => {
                if cmd.data != profile::AID {
                    return s(sw::NOT_FOUND);
                }
                self.reset();
                self.app_selected = true;
                let fci = Fci {
                    serial: self.serial,
                    life_cycle: self.life,
                };
                Response::new(fci.encode(), sw::OK)
            }
            _ if !self.app_selected => s(sw::CONDITIONS),
            ins::SELECT if cmd.p1 == 0x02 => {
                let Ok(f) = <[u8; 2]>::try_from(cmd.data.as_slice()).map(u16::from_be_bytes) else {
                    return s(sw::WRONG_DATA);
                };
                match self.files.get(&f) {
                    Some(content) => {
                        self.file = Some(f);
                        Response::new(profile::fcp(f, content.len()), sw::OK)
                    }
                    None => s(sw::NOT_FOUND),
                }
            }
            ins::GET_CHALLENGE => {
                let mut c = vec![0u8; profile::CHALLENGE_LEN];
                if getrandom::fill(&mut c).is_err() {
                    return s(sw::CONDITIONS);
                }
                self.challenge = Some(c.clone());
                Response::new(c, sw::OK)
            }
            ins::EXTERNAL_AUTHENTICATE => {
                let Some(challenge) = self.challenge.take() else {
                    return s(sw::CONDITIONS);
                };
                let expected =
                    profile::external_cryptogram(&self.auth_key, &challenge, &self.serial);
                if cmd.data == expected {
                    self.authenticated = true;
                    s(sw::OK)
                } else {
                    self.authenticated = false;
                    s(sw::AUTH_FAILED)
                }
            }
            _ if !self.authenticated => s(sw::SECURITY),
            ins::INTERNAL_AUTHENTICATE => {
                if cmd.data.len() != profile::TERMINAL_CHALLENGE_LEN {
                    return s(sw::WRONG_DATA);
                }
                let msg = profile::internal_message(&cmd.data, &self.serial);
                Response::new(self.key.sign(&msg).to_bytes().to_vec(), sw::OK)
            }
            ins::READ_BINARY => {
                let Some(content) = self.file.and_then(|f| self.files.get(&f)) else {
                    return s(sw::CONDITIONS);
                };
                let off = usize::from(u16::from_be_bytes([cmd.p1 & 0x7F, cmd.p2]));
                if off > content.len() {
                    return s(sw::WRONG_P1P2);
                }
                let n = cmd.le.unwrap_or(256).min(content.len() - off);
                Response::new(content[off..off + n].to_vec(), sw::OK)
            }
            _ if self.life != LifeCycle::Initialisation => s(sw::CONDITIONS),
            ins::CREATE_FILE => {
                let Some((f, size)) = profile::parse_fcp(&cmd.data) else {
                    return s(sw::WRONG_DATA);
                };
                if self.files.contains_key(&f) {
                    return s(sw::EXISTS);
                }
                self.files.insert(f, vec![0; size]);
                s(sw::OK)
            }
            ins::UPDATE_BINARY => {
                let Some(content) = self.file.and_then(|f| self.files.get_mut(&f)) else {
                    return s(sw::CONDITIONS);
                };
                let off = usize::from(u16::from_be_bytes([cmd.p1 & 0x7F, cmd.p2]));
                let Some(dst) = content.get_mut(off..off + cmd.data.len()) else {
                    return s(sw::NO_SPACE);
                };
                dst.copy_from_slice(&cmd.data);
                s(sw::OK)
            }
            ins::ACTIVATE => {
                self.life = LifeCycle::Operational;
                s(sw::OK)
            }
            _ => s(sw::INS),
        }
    }
}

/// What the Dinas writes to resident `index`'s card: biodata, a card-sized portrait, both
/// index fingers as compact minutiae, the signature.
pub fn personalisation(seed: u64, index: u64) -> crate::error::Result<Personalisation> {
    let pool = rekam_synth::resident::RegionPool::load()?;
    let s = Seed::from_u64(seed);
    let r =
        rekam_synth::resident::resident(s, index, &pool, rekam_synth::resident::reference_date());
    let rseed = s.child_n("resident", index);
    let biodata = serde_json::to_vec(&r.biodata)?;

    let portrait = rekam_synth::face::portrait(
        r.birth_date.year(),
        rekam_synth::face::FaceShot::Good,
        rseed.child("card-face"),
    );
    let small = image::imageops::thumbnail(&portrait, 240, 320);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80).encode_image(&small)?;
    let face = FaceImage {
        width: small.width() as u16,
        height: small.height() as u16,
        quality: 80,
        format: FaceFormat::Jpeg,
        data: jpeg,
    }
    .to_bytes()?;

    let masters = rekam_synth::set::masters(s, index);
    let template = |code: u8| -> crate::error::Result<Vec<u8>> {
        let Some(m) = masters.iter().find(|m| m.position.code() == code) else {
            return Ok(Vec::new());
        };
        let cseed = rseed
            .child("card-finger")
            .child_n("capture", u64::from(code));
        let img = impression(m, &Capture::draw(&mut cseed.rng(), Quality::GOOD), cseed);
        let gray = rekam_bio::finger::extract::Gray {
            data: &img.data,
            width: img.width,
            height: img.height,
        };
        let t = rekam_bio::finger::extract::extract(gray, code)?;
        Ok(minutiae::encode(&rekam_bio::verify::card_template(&t))?)
    };
    let right_index = template(2)?;
    let left_index = template(7)?;

    let signature = signature_png(&rekam_synth::set::signing(seed, index, 0))?;
    Ok(Personalisation {
        biodata,
        face,
        right_index,
        left_index,
        signature,
    })
}

/// Draws pen-down strokes into a small black-on-white PNG.
fn signature_png(events: &[rekam_synth::signature::PenEvent]) -> crate::error::Result<Vec<u8>> {
    const W: u32 = 300;
    const H: u32 = 100;
    let max_x = events.iter().map(|e| e.x).max().unwrap_or(1).max(1) as f64;
    let max_y = events.iter().map(|e| e.y).max().unwrap_or(1).max(1) as f64;
    let scale = ((W - 1) as f64 / max_x).min((H - 1) as f64 / max_y);
    let mut img = image::GrayImage::from_pixel(W, H, image::Luma([255]));
    for pair in events.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if !(a.pen_down && b.pen_down) {
            continue;
        }
        let steps = 8;
        for k in 0..=steps {
            let t = f64::from(k) / f64::from(steps);
            let x = (f64::from(a.x) + t * (f64::from(b.x) - f64::from(a.x))) * scale;
            let y = (f64::from(a.y) + t * (f64::from(b.y) - f64::from(a.y))) * scale;
            img.put_pixel(
                (x as u32).min(W - 1),
                (y as u32).min(H - 1),
                image::Luma([0]),
            );
        }
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(
        img.as_raw(),
        W,
        H,
        image::ExtendedColorType::L8,
    )?;
    Ok(png)
}

use image::ImageEncoder as _;

/// The reader vpcd's first virtual card plugs into.
pub const VIRTUAL_READER: &str = "Virtual PCD 00 00";

/// Makes sure pcscd runs and shows [`VIRTUAL_READER`], starting pcscd when it does not (CI
/// machines have no systemd to start it on demand). For tests and demos.
pub fn ensure_pcscd() -> Result<(), String> {
    use rekam_drivers::card::pcsc::list_readers;
    let ready = || list_readers().is_ok_and(|r| r.iter().any(|n| n == VIRTUAL_READER));
    if ready() {
        return Ok(());
    }
    let status = std::process::Command::new("pcscd").status().map_err(|e| {
        format!(
            "cannot start pcscd ({e}): install pcscd and vsmartcard-vpcd (scripts/setup-system)"
        )
    })?;
    if !status.success() {
        return Err("pcscd did not start".into());
    }
    for _ in 0..50 {
        if ready() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(format!(
        "pcscd runs but {VIRTUAL_READER:?} is missing: is vsmartcard-vpcd installed?"
    ))
}

/// One virtual reader: the card tests of one process take turns.
static READER_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes [`VIRTUAL_READER`] for one test, with pcscd running; released when the guard drops.
pub fn take_reader() -> Result<std::sync::MutexGuard<'static, ()>, String> {
    let guard = READER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    ensure_pcscd()?;
    Ok(guard)
}

/// A TEST key or certificate in `fixtures/test-keys`.
pub fn test_key(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/test-keys")
        .join(name)
}

/// What a station trusts to read the simulated cards: the TEST CSCA, and the TEST SAM master
/// in memory (the card protocol's tests; the station's own configuration takes it from a
/// PKCS#11 token, [`SoftHsm`]).
pub fn test_trust() -> Result<rekam_drivers::card::CardTrust, rekam_drivers::DriverError> {
    let csca = test_key("test-card-csca.crt.pem");
    Ok(rekam_drivers::card::CardTrust {
        csca: rekam_drivers::trust::TrustRoots::from_pem_file(&csca).map_err(|e| {
            rekam_drivers::DriverError::Io {
                kind: rekam_drivers::DeviceKind::CardReader,
                address: csca.display().to_string(),
                detail: e.to_string(),
            }
        })?,
        sam: rekam_drivers::card::Sam::in_memory(sam_master()),
    })
}

/// A SoftHSM2 token store of its own (a directory and its configuration, removed when dropped),
/// holding the TEST card secrets as a station's configuration takes them: the SAM master, and
/// for a Dinas the document signer's key, imported by `rekam card-token import` (the CLI must be
/// built beside the simulators). Whatever opens the token is given [`SoftHsm::env`].
#[derive(Debug)]
pub struct SoftHsm {
    dir: tempfile::TempDir,
}

/// The TEST card token's label and PINs.
pub const TOKEN_LABEL: &str = "rekam-test-dinas";
/// The TEST token's user PIN.
pub const TOKEN_PIN: &str = "123456";
const TOKEN_SO_PIN: &str = "12345678";

impl SoftHsm {
    /// A token `TOKEN_LABEL` with the TEST SAM master and, when `dinas`, the TEST document
    /// signer's key.
    pub fn provision(dinas: bool) -> Result<SoftHsm, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .map_err(|e| e.to_string())?;
        let hsm = SoftHsm { dir };
        let cli = crate::counter::bin_dir()
            .map_err(|e| e.to_string())?
            .join("rekam");
        let mut command = std::process::Command::new(&cli);
        command
            .args(["card-token", "import", "--label", TOKEN_LABEL, "--sam"])
            .arg(test_key("test-card-sam-master.hex"));
        if dinas {
            command
                .arg("--ds-key")
                .arg(test_key("test-card-ds-dinas.key.pem"));
        }
        let out = command
            .envs(hsm.env())
            .env("REKAM_CARD_SO_PIN", TOKEN_SO_PIN)
            .env_remove("REKAM_LANG")
            .output()
            .map_err(|e| {
                format!(
                    "cannot run {} ({e}): build the CLI (cargo build -p rekam-cli)",
                    cli.display()
                )
            })?;
        if !out.status.success() {
            return Err(format!(
                "rekam card-token import: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(hsm)
    }

    /// What a process needs to open the token: SoftHSM2's configuration, the module, the
    /// token's label and PIN.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "SOFTHSM2_CONF",
                self.dir.path().join("softhsm2.conf").display().to_string(),
            ),
            (
                "REKAM_CARD_PKCS11",
                rekam_drivers::card::token::SOFTHSM2_MODULE.into(),
            ),
            ("REKAM_CARD_TOKEN", TOKEN_LABEL.into()),
            ("REKAM_CARD_PIN", TOKEN_PIN.into()),
        ]
    }
}
