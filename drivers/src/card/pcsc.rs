//! PC/SC transport (pcsc-lite's `pcscd` on Linux): readers, card insertion and removal, and
//! APDU exchange with GET RESPONSE, wrong-Le retries and command chaining handled here so the
//! profile code sends whole commands.

use super::apdu::{Capabilities, Command, Response, capabilities, sw};
use super::profile::ins;
use crate::{DeviceInfo, DeviceKind, DeviceStatus, DriverError};
use pcsc::{Context, Protocols, ReaderState, Scope, ShareMode, State};
use std::ffi::CString;
use std::time::Duration;

const KIND: DeviceKind = DeviceKind::CardReader;

fn pcsc_error(reader: &str, e: pcsc::Error) -> DriverError {
    match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => DriverError::ServiceDown {
            kind: KIND,
            service: "pcscd",
        },
        pcsc::Error::NoReadersAvailable => DriverError::NotConnected {
            kind: KIND,
            address: if reader.is_empty() {
                "pcscd".to_owned()
            } else {
                reader.to_owned()
            },
        },
        pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable => DriverError::NotConnected {
            kind: KIND,
            address: reader.to_owned(),
        },
        pcsc::Error::NoSmartcard => DriverError::Card(super::CardProblem::Absent),
        pcsc::Error::RemovedCard | pcsc::Error::ResetCard | pcsc::Error::UnpoweredCard => {
            DriverError::Disconnected(KIND)
        }
        pcsc::Error::Timeout => DriverError::Timeout {
            kind: KIND,
            after: Duration::ZERO,
        },
        pcsc::Error::SharingViolation => DriverError::Busy(KIND),
        other => DriverError::Io {
            kind: KIND,
            address: reader.to_owned(),
            detail: other.to_string(),
        },
    }
}

/// The names of the readers pcscd knows.
pub fn list_readers() -> Result<Vec<String>, DriverError> {
    let ctx = Context::establish(Scope::User).map_err(|e| pcsc_error("", e))?;
    readers_of(&ctx)
}

fn readers_of(ctx: &Context) -> Result<Vec<String>, DriverError> {
    let names = match ctx.list_readers_owned() {
        Ok(n) => n,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(pcsc_error("", e)),
    };
    Ok(names
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect())
}

/// A card reader known to pcscd.
pub struct PcscReader {
    ctx: Context,
    name: CString,
    info: DeviceInfo,
}

impl std::fmt::Debug for PcscReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscReader")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl PcscReader {
    /// The reader called `name` (as [`list_readers`] gives it).
    pub fn open(name: &str) -> Result<PcscReader, DriverError> {
        let ctx = Context::establish(Scope::User).map_err(|e| pcsc_error(name, e))?;
        if !readers_of(&ctx)?.iter().any(|n| n == name) {
            return Err(DriverError::NotConnected {
                kind: KIND,
                address: name.to_owned(),
            });
        }
        let cname = CString::new(name).map_err(|_| DriverError::NotConnected {
            kind: KIND,
            address: name.to_owned(),
        })?;
        Ok(PcscReader {
            ctx,
            name: cname,
            info: DeviceInfo {
                kind: KIND,
                model: name.to_owned(),
                serial: String::new(),
                firmware: String::new(),
                address: format!("pcsc:{name}"),
            },
        })
    }

    /// Who it is.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn name(&self) -> String {
        self.name.to_string_lossy().into_owned()
    }

    /// Whether a card is in the reader now.
    pub fn card_present(&self) -> Result<bool, DriverError> {
        let mut states = [ReaderState::new(self.name.clone(), State::UNAWARE)];
        self.ctx
            .get_status_change(Duration::ZERO, &mut states)
            .map_err(|e| pcsc_error(&self.name(), e))?;
        Ok(states[0].event_state().contains(State::PRESENT))
    }

    /// Waits until a card is present (`true`) or gone (`false`), at most `timeout`. Returns
    /// whether that happened in time.
    pub fn wait_for(&self, present: bool, timeout: Duration) -> Result<bool, DriverError> {
        let deadline = std::time::Instant::now() + timeout;
        let mut states = [ReaderState::new(self.name.clone(), State::UNAWARE)];
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.ctx.get_status_change(left, &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => return Ok(false),
                Err(e) => return Err(pcsc_error(&self.name(), e)),
            }
            if states[0].event_state().contains(State::PRESENT) == present {
                return Ok(true);
            }
            states[0].sync_current_state();
            if left.is_zero() {
                return Ok(false);
            }
        }
    }

    /// Whether it answers, and whether a card is in it.
    pub fn status(&self) -> DeviceStatus {
        match self.card_present() {
            Ok(_) => DeviceStatus::Ready,
            Err(_) => DeviceStatus::NotConnected,
        }
    }

    /// Connects to the card in the reader.
    pub fn connect(&self) -> Result<CardSession, DriverError> {
        // A card just put in is briefly pcscd's own (powering it up, reading its ATR), and a
        // PC/SC monitor may hold it a moment: a sharing violation is tried again for a second
        // before the reader is said to be busy.
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        let card = loop {
            match self
                .ctx
                .connect(&self.name, ShareMode::Exclusive, Protocols::ANY)
            {
                Err(pcsc::Error::SharingViolation) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => break other.map_err(|e| pcsc_error(&self.name(), e))?,
            }
        };
        let atr = card
            .status2_owned()
            .map_err(|e| pcsc_error(&self.name(), e))?
            .atr()
            .to_vec();
        Ok(CardSession {
            caps: capabilities(&atr),
            card,
            reader: self.name(),
            atr,
        })
    }
}

/// A connected card.
pub struct CardSession {
    card: pcsc::Card,
    caps: Capabilities,
    reader: String,
    atr: Vec<u8>,
}

impl std::fmt::Debug for CardSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardSession")
            .field("reader", &self.reader)
            .field("caps", &self.caps)
            .finish_non_exhaustive()
    }
}

impl CardSession {
    /// What the card's ATR announces.
    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }

    /// The card's ATR.
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// Uses only short APDUs even if the card can do more (tests of chaining).
    pub fn force_short(&mut self) {
        self.caps.extended = false;
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<Response, DriverError> {
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let out = self
            .card
            .transmit(bytes, &mut buf)
            .map_err(|e| pcsc_error(&self.reader, e))?;
        if out.is_empty() {
            // A reader whose card went away mid-command may answer nothing at all (vpcd does).
            return Err(DriverError::Disconnected(KIND));
        }
        Response::parse(out).map_err(|e| DriverError::Protocol {
            kind: KIND,
            detail: e.to_string(),
        })
    }

    /// Sends `cmd`: extended when it needs and the card can, else chained in 255-byte
    /// pieces; follows 61xx with GET RESPONSE and answers 6Cxx with the right Le.
    pub fn transmit(&mut self, cmd: &Command) -> Result<Response, DriverError> {
        let extended = self.caps.extended && cmd.needs_extended();
        let mut resp = if cmd.data.len() > 255 && !extended {
            let chunks: Vec<&[u8]> = cmd.data.chunks(255).collect();
            let mut last = Response::status(sw::OK);
            for (i, chunk) in chunks.iter().enumerate() {
                let more = i + 1 < chunks.len();
                let mut piece = cmd.clone();
                piece.data = chunk.to_vec();
                piece.cla |= if more { 0x10 } else { 0 };
                piece.le = if more {
                    None
                } else {
                    cmd.le.map(|l| l.min(256))
                };
                last = self.send(&piece, false)?;
                if more && !last.is_ok() {
                    return Ok(last);
                }
            }
            last
        } else {
            let mut c = cmd.clone();
            if !extended {
                c.le = c.le.map(|l| l.min(256));
            }
            self.send(&c, extended)?
        };
        // Response chaining: 61xx means more bytes wait for GET RESPONSE.
        let mut data = std::mem::take(&mut resp.data);
        let mut rounds = 0;
        while resp.sw >> 8 == 0x61 && rounds < 256 {
            let le = match resp.sw & 0xFF {
                0 => 256,
                n => usize::from(n),
            };
            resp = self.send(
                &Command::new(cmd.cla & !0x10, ins::GET_RESPONSE, 0, 0).le(le),
                false,
            )?;
            data.append(&mut resp.data);
            rounds += 1;
        }
        resp.data = data;
        Ok(resp)
    }

    fn send(&mut self, cmd: &Command, extended: bool) -> Result<Response, DriverError> {
        let bytes = cmd.encode(extended).map_err(|e| DriverError::Protocol {
            kind: KIND,
            detail: e.to_string(),
        })?;
        let resp = self.raw(&bytes)?;
        if resp.sw >> 8 == 0x6C {
            // Wrong Le: the card says how many bytes it has.
            let mut again = cmd.clone();
            again.le = Some(match resp.sw & 0xFF {
                0 => 256,
                n => usize::from(n),
            });
            let bytes = again.encode(extended).map_err(|e| DriverError::Protocol {
                kind: KIND,
                detail: e.to_string(),
            })?;
            return self.raw(&bytes);
        }
        Ok(resp)
    }
}
