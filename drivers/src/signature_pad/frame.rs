//! Frames of the signature pad protocol (`drivers/PROTOCOL-signature-pad.md`): encoding, and a
//! streaming decoder that survives partial frames, garbage and damaged frames.

use serde::{Deserialize, Serialize};

/// The two bytes that start every frame.
pub const SYNC: [u8; 2] = [0xA5, 0x5A];
/// Largest payload a frame may carry.
pub const MAX_PAYLOAD: usize = 200;

/// What the pad reports about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PadInfo {
    /// Protocol version (1).
    pub version: u8,
    /// Largest x.
    pub max_x: u16,
    /// Largest y.
    pub max_y: u16,
    /// Largest pressure.
    pub max_pressure: u16,
    /// Samples per second.
    pub rate_hz: u16,
    /// Make and model.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// Firmware version.
    pub firmware: String,
}

/// One pen report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PenSample {
    /// Milliseconds since START.
    pub t_ms: u32,
    /// Horizontal position, pad units.
    pub x: u16,
    /// Vertical position, pad units (downwards).
    pub y: u16,
    /// Pressure; 0 when not touching.
    pub pressure: u16,
    /// Whether the pen touches the pad.
    pub pen_down: bool,
}

/// A button on the pad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Button {
    /// "Selesai": the signature is done.
    Ok,
    /// "Ulangi": start again.
    Clear,
    /// "Batal": give up.
    Cancel,
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Host: who are you?
    Hello,
    /// Host: begin a capture.
    Start,
    /// Host: end the capture.
    Stop,
    /// Pad: who it is.
    Info(PadInfo),
    /// Pad: capture ended.
    Stopped,
    /// Pad: a pen report.
    Pen(PenSample),
    /// Pad: a button was pressed.
    Button {
        /// When.
        t_ms: u32,
        /// Which.
        button: Button,
    },
    /// Pad: something went wrong inside it.
    Error {
        /// Its code.
        code: u8,
        /// Its words.
        message: String,
    },
}

const T_HELLO: u8 = 0x01;
const T_START: u8 = 0x02;
const T_STOP: u8 = 0x03;
const T_INFO: u8 = 0x81;
const T_STOPPED: u8 = 0x83;
const T_PEN: u8 = 0x90;
const T_BUTTON: u8 = 0x91;
const T_ERROR: u8 = 0x9E;

/// CRC-16/CCITT-FALSE.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for b in bytes {
        crc ^= u16::from(*b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(60)];
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

impl Frame {
    /// The frame's bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let (kind, payload) = match self {
            Frame::Hello => (T_HELLO, vec![]),
            Frame::Start => (T_START, vec![]),
            Frame::Stop => (T_STOP, vec![]),
            Frame::Stopped => (T_STOPPED, vec![]),
            Frame::Info(i) => {
                let mut p = vec![i.version];
                for v in [i.max_x, i.max_y, i.max_pressure, i.rate_hz] {
                    p.extend_from_slice(&v.to_be_bytes());
                }
                for s in [&i.model, &i.serial, &i.firmware] {
                    put_str(&mut p, s);
                }
                (T_INFO, p)
            }
            Frame::Pen(s) => {
                let mut p = s.t_ms.to_be_bytes().to_vec();
                for v in [s.x, s.y, s.pressure] {
                    p.extend_from_slice(&v.to_be_bytes());
                }
                p.push(u8::from(s.pen_down) | 0b10);
                (T_PEN, p)
            }
            Frame::Button { t_ms, button } => {
                let mut p = t_ms.to_be_bytes().to_vec();
                p.push(match button {
                    Button::Ok => 1,
                    Button::Clear => 2,
                    Button::Cancel => 3,
                });
                (T_BUTTON, p)
            }
            Frame::Error { code, message } => {
                let mut p = vec![*code];
                put_str(&mut p, message);
                (T_ERROR, p)
            }
        };
        let mut out = Vec::with_capacity(payload.len() + 6);
        out.extend_from_slice(&SYNC);
        out.push(kind);
        out.push(payload.len() as u8);
        out.extend_from_slice(&payload);
        let crc = crc16(&out[2..]);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    fn parse(kind: u8, p: &[u8]) -> Option<Frame> {
        let u16_at = |i: usize| Some(u16::from_be_bytes([*p.get(i)?, *p.get(i + 1)?]));
        let u32_at = |i: usize| {
            Some(u32::from_be_bytes([
                *p.get(i)?,
                *p.get(i + 1)?,
                *p.get(i + 2)?,
                *p.get(i + 3)?,
            ]))
        };
        let str_at = |i: usize| -> Option<(String, usize)> {
            let n = usize::from(*p.get(i)?);
            let bytes = p.get(i + 1..i + 1 + n)?;
            Some((String::from_utf8_lossy(bytes).into_owned(), i + 1 + n))
        };
        match kind {
            T_HELLO if p.is_empty() => Some(Frame::Hello),
            T_START if p.is_empty() => Some(Frame::Start),
            T_STOP if p.is_empty() => Some(Frame::Stop),
            T_STOPPED if p.is_empty() => Some(Frame::Stopped),
            T_INFO => {
                let (model, i) = str_at(9)?;
                let (serial, i) = str_at(i)?;
                let (firmware, i) = str_at(i)?;
                (i == p.len()).then_some(())?;
                Some(Frame::Info(PadInfo {
                    version: *p.first()?,
                    max_x: u16_at(1)?,
                    max_y: u16_at(3)?,
                    max_pressure: u16_at(5)?,
                    rate_hz: u16_at(7)?,
                    model,
                    serial,
                    firmware,
                }))
            }
            T_PEN if p.len() == 11 => Some(Frame::Pen(PenSample {
                t_ms: u32_at(0)?,
                x: u16_at(4)?,
                y: u16_at(6)?,
                pressure: u16_at(8)?,
                pen_down: p[10] & 1 == 1,
            })),
            T_BUTTON if p.len() == 5 => Some(Frame::Button {
                t_ms: u32_at(0)?,
                button: match p[4] {
                    1 => Button::Ok,
                    2 => Button::Clear,
                    3 => Button::Cancel,
                    _ => return None,
                },
            }),
            T_ERROR => {
                let (message, i) = str_at(1)?;
                (i == p.len()).then_some(())?;
                Some(Frame::Error {
                    code: *p.first()?,
                    message,
                })
            }
            _ => None,
        }
    }
}

/// What a decoder threw away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DecodeStats {
    /// Bytes before a sync, or of headers that made no sense.
    pub garbage_bytes: u64,
    /// Frames whose CRC failed.
    pub bad_crc: u64,
    /// Frames of an unknown type or the wrong size for their type.
    pub malformed: u64,
    /// Good frames.
    pub frames: u64,
}

/// A streaming decoder: push bytes as they arrive, take frames as they complete.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    stats: DecodeStats,
}

impl FrameDecoder {
    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// What was discarded so far.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// When the line has gone quiet with a partial frame still pending, that frame's header was
    /// probably noise: drop its first byte so the next [`FrameDecoder::next_frame`] rescans.
    /// Returns whether anything was dropped.
    pub fn skip_stalled(&mut self) -> bool {
        if self.buf.is_empty() {
            return false;
        }
        self.stats.garbage_bytes += 1;
        self.buf.drain(..1);
        true
    }

    /// The line has ended: every frame the buffer still holds, releasing stalled headers as a
    /// quiet line does.
    pub fn finish(&mut self) -> Vec<Frame> {
        let mut out = Vec::new();
        loop {
            while let Some(f) = self.next_frame() {
                out.push(f);
            }
            if !self.skip_stalled() {
                return out;
            }
        }
    }

    /// The next complete frame, if the bytes so far hold one.
    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            let start = self.buf.windows(2).position(|w| w == SYNC);
            let Some(start) = start else {
                // Keep a trailing first sync byte: its partner may be in the next read.
                let keep = usize::from(self.buf.last() == Some(&SYNC[0]));
                let drop = self.buf.len() - keep;
                self.stats.garbage_bytes += drop as u64;
                self.buf.drain(..drop);
                return None;
            };
            if start > 0 {
                self.stats.garbage_bytes += start as u64;
                self.buf.drain(..start);
            }
            if self.buf.len() < 4 {
                return None;
            }
            let (kind, len) = (self.buf[2], usize::from(self.buf[3]));
            let fixed = match kind {
                T_HELLO | T_START | T_STOP | T_STOPPED => Some(0),
                T_PEN => Some(11),
                T_BUTTON => Some(5),
                _ => None,
            };
            // A length the type cannot have is line noise that happened to contain the sync
            // bytes: rescan at once instead of waiting for bytes that will never come.
            if len > MAX_PAYLOAD || fixed.is_some_and(|n| n != len) {
                self.stats.garbage_bytes += 1;
                self.buf.drain(..1);
                continue;
            }
            let total = 4 + len + 2;
            if self.buf.len() < total {
                return None;
            }
            let crc = u16::from_be_bytes([self.buf[total - 2], self.buf[total - 1]]);
            if crc != crc16(&self.buf[2..4 + len]) {
                self.stats.bad_crc += 1;
                self.buf.drain(..1);
                continue;
            }
            let frame = Frame::parse(kind, &self.buf[4..4 + len]);
            self.buf.drain(..total);
            match frame {
                Some(f) => {
                    self.stats.frames += 1;
                    return Some(f);
                }
                None => self.stats.malformed += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: u32) -> Frame {
        Frame::Pen(PenSample {
            t_ms: t,
            x: 1000 + t as u16,
            y: 2000,
            pressure: 512,
            pen_down: true,
        })
    }

    #[test]
    fn crc_and_frame_known_answers() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
        // Cross-checked with Python's binascii.crc_hqx(data, 0xFFFF).
        assert_eq!(Frame::Hello.encode(), [0xA5, 0x5A, 0x01, 0x00, 0x2E, 0x3E]);
        assert_eq!(Frame::Start.encode(), [0xA5, 0x5A, 0x02, 0x00, 0x7B, 0x6D]);
        assert_eq!(
            Frame::Button {
                t_ms: 0x0102_0304,
                button: Button::Ok
            }
            .encode()[..9],
            [0xA5, 0x5A, 0x91, 0x05, 0x01, 0x02, 0x03, 0x04, 0x01]
        );
    }

    #[test]
    fn every_frame_round_trips() {
        let frames = [
            Frame::Hello,
            Frame::Start,
            Frame::Stop,
            Frame::Stopped,
            Frame::Info(PadInfo {
                version: 1,
                max_x: 10_000,
                max_y: 6_000,
                max_pressure: 1023,
                rate_hz: 200,
                model: "Rekam SimPad".into(),
                serial: "SP-0001".into(),
                firmware: "1.0.0".into(),
            }),
            sample(7),
            Frame::Button {
                t_ms: 99,
                button: Button::Clear,
            },
            Frame::Button {
                t_ms: 100,
                button: Button::Cancel,
            },
            Frame::Error {
                code: 3,
                message: "sensor".into(),
            },
        ];
        let mut d = FrameDecoder::new();
        for f in &frames {
            d.push(&f.encode());
        }
        for f in &frames {
            assert_eq!(d.next_frame().as_ref(), Some(f));
        }
        assert_eq!(d.next_frame(), None);
        assert_eq!(d.stats().frames, frames.len() as u64);
    }

    #[test]
    fn damage_table() {
        // Each case: the bytes on the line, the frames that must come out, and what was counted.
        let a = sample(1).encode();
        let b = sample(2).encode();
        let mut flipped = a.clone();
        flipped[6] ^= 0x40;
        let mut bad_len = a.clone();
        bad_len[3] = 0xFF;
        let unknown = {
            let mut f = vec![0xA5, 0x5A, 0x77, 0x01, 0x00];
            let crc = crc16(&f[2..]);
            f.extend_from_slice(&crc.to_be_bytes());
            f
        };
        let short_pen = {
            let mut f = vec![0xA5, 0x5A, 0x90, 0x02, 0x00, 0x01];
            let crc = crc16(&f[2..]);
            f.extend_from_slice(&crc.to_be_bytes());
            f
        };
        type Case = (&'static str, Vec<u8>, Vec<Frame>, (u64, u64, u64));
        let cases: Vec<Case> = vec![
            (
                "clean",
                [a.clone(), b.clone()].concat(),
                vec![sample(1), sample(2)],
                (0, 0, 0),
            ),
            (
                "garbage before",
                [vec![1, 2, 3, 0xA5], a.clone()].concat(),
                vec![sample(1)],
                (4, 0, 0),
            ),
            (
                "garbage between",
                [a.clone(), vec![0x00, 0x5A, 0xFF], b.clone()].concat(),
                vec![sample(1), sample(2)],
                (3, 0, 0),
            ),
            (
                "flipped bit",
                [flipped, b.clone()].concat(),
                vec![sample(2)],
                (a.len() as u64 - 1, 1, 0),
            ),
            (
                "impossible length",
                [bad_len, b.clone()].concat(),
                vec![sample(2)],
                (a.len() as u64, 0, 0),
            ),
            (
                "unknown type",
                [unknown, b.clone()].concat(),
                vec![sample(2)],
                (0, 0, 1),
            ),
            (
                "pen header with a pen-less length",
                [short_pen, b.clone()].concat(),
                vec![sample(2)],
                (8, 0, 0),
            ),
            // A false header of an unknown type waits for 90 bytes; the quiet line releases it.
            (
                "sync inside noise, then a stall",
                [vec![0xA5, 0x5A, 0x90, 0x0B, 0xA5, 0x5A], a.clone()].concat(),
                vec![sample(1)],
                (5, 1, 0),
            ),
        ];
        for (name, bytes, want, (garbage, crc, malformed)) in cases {
            let mut d = FrameDecoder::new();
            d.push(&bytes);
            // The whole line at once, then the end of the line releases what is stuck.
            let got = d.finish();
            assert_eq!(got, want, "{name}");
            let s = d.stats();
            assert_eq!(
                (s.garbage_bytes, s.bad_crc, s.malformed),
                (garbage, crc, malformed),
                "{name}"
            );
        }
    }

    #[test]
    fn frames_split_at_every_byte_still_decode() {
        let bytes = [
            sample(1).encode(),
            Frame::Stopped.encode(),
            sample(2).encode(),
        ]
        .concat();
        for cut in 0..bytes.len() {
            let mut d = FrameDecoder::new();
            let mut got = Vec::new();
            d.push(&bytes[..cut]);
            while let Some(f) = d.next_frame() {
                got.push(f);
            }
            d.push(&bytes[cut..]);
            while let Some(f) = d.next_frame() {
                got.push(f);
            }
            assert_eq!(got, [sample(1), Frame::Stopped, sample(2)], "cut at {cut}");
        }
    }

    #[test]
    fn random_streams_never_panic_or_invent_frames() {
        // Seeded noise with real frames mixed in: whatever the decoder returns must be a frame
        // that was sent, in order (it may lose damaged ones, never make one up).
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let mut line = Vec::new();
            let mut sent = Vec::new();
            for _ in 0..(rand() % 6) {
                match rand() % 3 {
                    0 => line.extend((0..rand() % 12).map(|_| rand() as u8)),
                    1 => line.extend_from_slice(&SYNC),
                    _ => {
                        let f = sample((rand() % 5000) as u32);
                        let mut bytes = f.encode();
                        if rand() % 4 == 0 {
                            let i = (rand() as usize) % bytes.len();
                            bytes[i] ^= 1 << (rand() % 8);
                        } else {
                            sent.push(f);
                        }
                        line.extend_from_slice(&bytes);
                    }
                }
            }
            let mut d = FrameDecoder::new();
            let mut got = Vec::new();
            for chunk in line.chunks(1 + (rand() % 7) as usize) {
                d.push(chunk);
                while let Some(f) = d.next_frame() {
                    got.push(f);
                }
            }
            got.extend(d.finish());
            // Every intact frame is found; a damaged one is never passed on as a changed frame.
            for f in &sent {
                assert!(got.contains(f), "lost an intact frame {f:?}");
            }
            for f in &got {
                assert!(sent.contains(f), "invented {f:?}");
            }
        }
    }
}
