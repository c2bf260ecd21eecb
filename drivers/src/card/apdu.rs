//! ISO/IEC 7816-4 APDUs: command encoding in short and extended form, command parsing (the
//! virtual card's side), response parsing, and the card capabilities an ATR announces.

/// What is wrong with APDU bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    /// Fewer bytes than any APDU.
    #[error("APDU of {0} bytes is too short")]
    TooShort(usize),
    /// Lengths that disagree with the bytes present.
    #[error("APDU lengths do not match its {0} bytes")]
    BadLength(usize),
    /// Data or Le beyond what the chosen form can carry.
    #[error("{0} bytes do not fit a {1} APDU")]
    DoesNotFit(usize, &'static str),
}

/// A command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte (bit 0x10: more commands of a chain follow).
    pub cla: u8,
    /// Instruction.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (Lc is its length).
    pub data: Vec<u8>,
    /// Expected response length: `None` for none, up to 256 short or 65536 extended.
    pub le: Option<usize>,
}

impl Command {
    /// A command without data.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Command {
        Command {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    /// With command data.
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Command {
        self.data = data.into();
        self
    }

    /// Expecting up to `le` bytes back.
    pub fn le(mut self, le: usize) -> Command {
        self.le = Some(le);
        self
    }

    /// Whether it needs the extended form.
    pub fn needs_extended(&self) -> bool {
        self.data.len() > 255 || self.le.is_some_and(|l| l > 256)
    }

    /// The bytes, extended form when `extended` (ISO/IEC 7816-4 5.1).
    pub fn encode(&self, extended: bool) -> Result<Vec<u8>, ApduError> {
        let mut out = vec![self.cla, self.ins, self.p1, self.p2];
        let n = self.data.len();
        if extended {
            if n > 65_535 || self.le.is_some_and(|l| l > 65_536) {
                return Err(ApduError::DoesNotFit(n, "extended"));
            }
            if n > 0 {
                out.push(0);
                out.extend_from_slice(&(n as u16).to_be_bytes());
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                if n == 0 {
                    out.push(0);
                }
                out.extend_from_slice(&((le % 65_536) as u16).to_be_bytes());
            }
        } else {
            if n > 255 || self.le.is_some_and(|l| l > 256) {
                return Err(ApduError::DoesNotFit(n, "short"));
            }
            if n > 0 {
                out.push(n as u8);
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                out.push((le % 256) as u8);
            }
        }
        Ok(out)
    }

    /// Reads command bytes (the four cases, short and extended).
    pub fn parse(bytes: &[u8]) -> Result<Command, ApduError> {
        let len = bytes.len();
        if len < 4 {
            return Err(ApduError::TooShort(len));
        }
        let mut cmd = Command::new(bytes[0], bytes[1], bytes[2], bytes[3]);
        let body = &bytes[4..];
        match body.len() {
            0 => {}
            1 => {
                cmd.le = Some(if body[0] == 0 {
                    256
                } else {
                    usize::from(body[0])
                })
            }
            _ if body[0] != 0 => {
                let lc = usize::from(body[0]);
                match body.len() - 1 {
                    n if n == lc => {}
                    n if n == lc + 1 => {
                        let le = body[lc + 1];
                        cmd.le = Some(if le == 0 { 256 } else { usize::from(le) });
                    }
                    _ => return Err(ApduError::BadLength(len)),
                }
                cmd.data = body[1..=lc].to_vec();
            }
            3 => {
                let le = usize::from(u16::from_be_bytes([body[1], body[2]]));
                cmd.le = Some(if le == 0 { 65_536 } else { le });
            }
            n if n > 3 => {
                let lc = usize::from(u16::from_be_bytes([body[1], body[2]]));
                if lc == 0 {
                    return Err(ApduError::BadLength(len));
                }
                match n - 3 {
                    m if m == lc => {}
                    m if m == lc + 2 => {
                        let le = usize::from(u16::from_be_bytes([body[3 + lc], body[4 + lc]]));
                        cmd.le = Some(if le == 0 { 65_536 } else { le });
                    }
                    _ => return Err(ApduError::BadLength(len)),
                }
                cmd.data = body[3..3 + lc].to_vec();
            }
            _ => return Err(ApduError::BadLength(len)),
        }
        Ok(cmd)
    }
}

/// A response APDU: data and the status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data.
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub sw: u16,
}

impl Response {
    /// Reads response bytes: at least SW1 SW2.
    pub fn parse(bytes: &[u8]) -> Result<Response, ApduError> {
        if bytes.len() < 2 {
            return Err(ApduError::TooShort(bytes.len()));
        }
        let (data, sw) = bytes.split_at(bytes.len() - 2);
        Ok(Response {
            data: data.to_vec(),
            sw: u16::from_be_bytes([sw[0], sw[1]]),
        })
    }

    /// A response.
    pub fn new(data: impl Into<Vec<u8>>, sw: u16) -> Response {
        Response {
            data: data.into(),
            sw,
        }
    }

    /// Status only.
    pub fn status(sw: u16) -> Response {
        Response::new(Vec::new(), sw)
    }

    /// The bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&self.sw.to_be_bytes());
        out
    }

    /// 90 00.
    pub fn is_ok(&self) -> bool {
        self.sw == sw::OK
    }
}

/// Status words used by the profile.
pub mod sw {
    /// Success.
    pub const OK: u16 = 0x9000;
    /// Wrong length.
    pub const WRONG_LENGTH: u16 = 0x6700;
    /// Security status not satisfied (authenticate first).
    pub const SECURITY: u16 = 0x6982;
    /// Authentication failed.
    pub const AUTH_FAILED: u16 = 0x6300;
    /// Conditions of use not satisfied (wrong life cycle state).
    pub const CONDITIONS: u16 = 0x6985;
    /// Wrong data.
    pub const WRONG_DATA: u16 = 0x6A80;
    /// File or application not found.
    pub const NOT_FOUND: u16 = 0x6A82;
    /// Not enough memory in the file.
    pub const NO_SPACE: u16 = 0x6A84;
    /// File already exists.
    pub const EXISTS: u16 = 0x6A89;
    /// Wrong P1 P2 (offset beyond the file).
    pub const WRONG_P1P2: u16 = 0x6B00;
    /// Instruction not supported.
    pub const INS: u16 = 0x6D00;
    /// Class not supported (a chain where none is allowed).
    pub const CLA: u16 = 0x6E00;
    /// Last command of a chain expected.
    pub const CHAIN: u16 = 0x6883;
}

/// What an ATR's historical bytes say the card can do (ISO/IEC 7816-4 8.1.1.2.7, "card
/// capabilities", compact-TLV tag 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Command chaining.
    pub chaining: bool,
    /// Extended Lc and Le.
    pub extended: bool,
}

/// The historical bytes of an ATR (ISO/IEC 7816-3 8.2), if it is well-formed.
pub fn historical_bytes(atr: &[u8]) -> Option<&[u8]> {
    let t0 = *atr.get(1)?;
    let k = usize::from(t0 & 0x0F);
    let mut i = 2;
    let mut y = t0 >> 4;
    loop {
        let present = (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1);
        let td = y & 0x8 != 0;
        i += usize::from(present);
        if !td {
            break;
        }
        y = *atr.get(i)? >> 4;
        i += 1;
    }
    atr.get(i..i + k)
}

/// Card capabilities from an ATR; none when it states none.
pub fn capabilities(atr: &[u8]) -> Capabilities {
    let Some(hist) = historical_bytes(atr) else {
        return Capabilities::default();
    };
    if hist.first() != Some(&0x80) {
        return Capabilities::default();
    }
    let mut i = 1;
    while i < hist.len() {
        let (tag, len) = (hist[i] >> 4, usize::from(hist[i] & 0x0F));
        let Some(value) = hist.get(i + 1..i + 1 + len) else {
            break;
        };
        if tag == 7 && len == 3 {
            return Capabilities {
                chaining: value[2] & 0x80 != 0,
                extended: value[2] & 0x40 != 0,
            };
        }
        i += 1 + len;
    }
    Capabilities::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_cases_round_trip_in_both_forms() {
        let cases = [
            Command::new(0, 0x84, 0, 0),
            Command::new(0, 0xB0, 0x01, 0x00).le(256),
            Command::new(0, 0xD6, 0, 0).data(vec![7; 200]),
            Command::new(0, 0x88, 0, 0).data(vec![1; 16]).le(64),
        ];
        for c in &cases {
            assert_eq!(Command::parse(&c.encode(false).unwrap()).unwrap(), *c);
            assert_eq!(Command::parse(&c.encode(true).unwrap()).unwrap(), *c);
        }
        let big = Command::new(0, 0xB0, 0, 0).le(4096);
        assert!(big.encode(false).is_err());
        assert_eq!(big.encode(true).unwrap(), [0, 0xB0, 0, 0, 0, 0x10, 0]);
        assert_eq!(Command::parse(&big.encode(true).unwrap()).unwrap(), big);
        let long = Command::new(0, 0xD6, 0, 0).data(vec![1; 1000]).le(65_536);
        assert_eq!(Command::parse(&long.encode(true).unwrap()).unwrap(), long);
        assert!(Command::parse(&[0, 0xD6, 0, 0, 5, 1, 2]).is_err());
        assert!(Command::parse(&[0, 0xD6]).is_err());
    }

    #[test]
    fn capabilities_from_the_atr() {
        // 3B 85 80 01 | 80 73 00 00 C0 | TCK
        let atr = [0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0xC0, 0x00];
        assert_eq!(
            capabilities(&atr),
            Capabilities {
                chaining: true,
                extended: true
            }
        );
        assert_eq!(capabilities(&[0x3B, 0x00]), Capabilities::default());
        assert_eq!(capabilities(&[0x3B]), Capabilities::default());
    }
}
