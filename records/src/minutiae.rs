//! ISO/IEC 19794-2:2005 finger minutiae: the record format ("FMR") that packets carry, and the
//! compact card format that the chip's index-finger data groups hold.
//!
//! Record format: header (24 bytes) "FMR\0", " 20\0", record length (4), capture equipment
//! (2), image width and height (2 + 2), horizontal and vertical resolution in pixels per
//! centimetre (2 + 2), number of finger views (1), reserved (1); then per view: finger position
//! (1), view number (high nibble) and impression type (low nibble) (1), finger quality (1),
//! number of minutiae (1), six bytes per minutia (two bits of type above fourteen of x; two
//! reserved bits above fourteen of y; angle in units of 360/256 degrees, counter-clockwise from
//! the x axis; quality 0-100) and the extended data length (2), which this profile keeps at 0.
//! Coordinates are pixels from the top left corner, y downwards.
//!
//! Compact card format: three bytes per minutia. x and y in units of 0.1 mm (0-255), then two
//! bits of type (0 other, 1 ridge ending, 2 bifurcation) above six bits of angle in units of
//! 360/64 degrees. The number of minutiae is the data length divided by three.

use crate::RecordError;
use crate::bytes::{Reader, expect_len, fits, put};

/// Most minutiae a compact template may hold on a card (ISO/IEC 7816-11 on-card comparison
/// limits are about this size; 60 keeps a data group under 200 bytes).
pub const MAX_MINUTIAE: usize = 60;

/// Minutia types of the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinutiaKind {
    /// Unknown or other.
    Other,
    /// Ridge ending.
    Ending,
    /// Bifurcation.
    Bifurcation,
}

/// One minutia in card units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardMinutia {
    /// Column, 0.1 mm.
    pub x: u8,
    /// Row, 0.1 mm.
    pub y: u8,
    /// Angle, 360/64 degree units (0-63).
    pub angle: u8,
    /// Type.
    pub kind: MinutiaKind,
}

impl CardMinutia {
    /// From pixel coordinates at `ppi` and an angle in degrees; `None` outside the card's
    /// 25.5 mm range.
    pub fn from_pixels(x: f64, y: f64, degrees: f64, ppi: f64, kind: MinutiaKind) -> Option<Self> {
        let mm10 = |p: f64| {
            let v = (p * 254.0 / ppi).round();
            (0.0..=255.0).contains(&v).then_some(v as u8)
        };
        Some(CardMinutia {
            x: mm10(x)?,
            y: mm10(y)?,
            angle: ((degrees.rem_euclid(360.0) / 5.625).round() as u8) % 64,
            kind,
        })
    }
}

impl MinutiaKind {
    fn code(self) -> u8 {
        match self {
            MinutiaKind::Other => 0,
            MinutiaKind::Ending => 1,
            MinutiaKind::Bifurcation => 2,
        }
    }

    fn from_code(code: u8) -> Result<Self, RecordError> {
        match code {
            0 => Ok(MinutiaKind::Other),
            1 => Ok(MinutiaKind::Ending),
            2 => Ok(MinutiaKind::Bifurcation),
            t => Err(RecordError::Invalid {
                field: "minutia type",
                value: u64::from(t),
            }),
        }
    }
}

const MAGIC: &[u8; 8] = b"FMR\x00 20\x00";
const HEADER: usize = 24;
const VIEW_HEADER: usize = 4;
const MINUTIA: usize = 6;
/// The largest coordinate the record's 14 bits hold.
pub const MAX_COORDINATE: u16 = (1 << 14) - 1;

/// One minutia of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minutia {
    /// Type.
    pub kind: MinutiaKind,
    /// Column, pixels from the left (at most [`MAX_COORDINATE`]).
    pub x: u16,
    /// Row, pixels from the top.
    pub y: u16,
    /// Direction in units of 360/256 degrees, counter-clockwise from the x axis.
    pub angle: u8,
    /// Reliability 0-100 (0: not reported).
    pub quality: u8,
}

/// The minutiae of one finger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerView {
    /// Finger position code, as in part 4 (1 right thumb ... 10 left little).
    pub position: u8,
    /// View number, 0-15.
    pub view: u8,
    /// Impression type: 0 live-scan plain, 1 live-scan rolled (0-15).
    pub impression: u8,
    /// Finger quality 0-100.
    pub quality: u8,
    /// At most 255 minutiae.
    pub minutiae: Vec<Minutia>,
}

/// A finger minutiae record: one or more fingers captured on one image geometry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinutiaeRecord {
    /// Image width, pixels.
    pub width: u16,
    /// Image height, pixels.
    pub height: u16,
    /// Resolution, pixels per centimetre (500 ppi is 197).
    pub ppcm: u16,
    /// The fingers, at most 255.
    pub views: Vec<FingerView>,
}

impl MinutiaeRecord {
    /// The record's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RecordError> {
        if self.views.len() > 255 {
            return Err(RecordError::TooLarge {
                field: "finger views",
                len: self.views.len(),
            });
        }
        let body: usize = self
            .views
            .iter()
            .map(|v| VIEW_HEADER + MINUTIA * v.minutiae.len() + 2)
            .sum();
        let total = fits("record", HEADER + body, 4)?;
        let mut out = Vec::with_capacity(total as usize);
        out.extend_from_slice(MAGIC);
        put(&mut out, total, 4);
        put(&mut out, 0, 2); // capture equipment: not certified, device unreported
        put(&mut out, u64::from(self.width), 2);
        put(&mut out, u64::from(self.height), 2);
        put(&mut out, u64::from(self.ppcm), 2);
        put(&mut out, u64::from(self.ppcm), 2);
        out.push(self.views.len() as u8);
        out.push(0);
        for v in &self.views {
            check_view(v)?;
            out.push(v.position);
            out.push((v.view << 4) | v.impression);
            out.push(v.quality);
            out.push(v.minutiae.len() as u8);
            for m in &v.minutiae {
                if m.x > MAX_COORDINATE || m.y > MAX_COORDINATE || m.quality > 100 {
                    return Err(RecordError::Invalid {
                        field: "minutia",
                        value: u64::from(m.x.max(m.y)),
                    });
                }
                put(
                    &mut out,
                    (u64::from(m.kind.code()) << 14) | u64::from(m.x),
                    2,
                );
                put(&mut out, u64::from(m.y), 2);
                out.push(m.angle);
                out.push(m.quality);
            }
            put(&mut out, 0, 2); // no extended data
        }
        Ok(out)
    }

    /// Reads a record; refuses extended data blocks (this profile writes none).
    pub fn parse(bytes: &[u8]) -> Result<MinutiaeRecord, RecordError> {
        let mut r = Reader::new(bytes);
        r.magic(MAGIC, 2)?;
        let total = r.u32("record length")?;
        expect_len("record length", u64::from(total), r.len())?;
        r.u16("capture equipment")?;
        let width = r.u16("image width")?;
        let height = r.u16("image height")?;
        let ppcm = r.u16("horizontal resolution")?;
        let vertical = r.u16("vertical resolution")?;
        if vertical != ppcm || ppcm == 0 {
            return Err(RecordError::Invalid {
                field: "resolution",
                value: u64::from(vertical),
            });
        }
        let count = r.u8("number of finger views")?;
        r.u8("reserved")?;
        let mut views = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let position = r.u8("finger position")?;
            let vi = r.u8("view number and impression type")?;
            let quality = r.u8("finger quality")?;
            let n = r.u8("number of minutiae")?;
            let mut minutiae = Vec::with_capacity(usize::from(n));
            for _ in 0..n {
                let tx = r.u16("minutia x")?;
                let y = r.u16("minutia y")?;
                if y >> 14 != 0 {
                    return Err(RecordError::Invalid {
                        field: "minutia reserved bits",
                        value: u64::from(y >> 14),
                    });
                }
                minutiae.push(Minutia {
                    kind: MinutiaKind::from_code((tx >> 14) as u8)?,
                    x: tx & MAX_COORDINATE,
                    y,
                    angle: r.u8("minutia angle")?,
                    quality: r.u8("minutia quality")?,
                });
            }
            let extended = r.u16("extended data length")?;
            if extended != 0 {
                return Err(RecordError::Invalid {
                    field: "extended data length",
                    value: u64::from(extended),
                });
            }
            let v = FingerView {
                position,
                view: vi >> 4,
                impression: vi & 0x0F,
                quality,
                minutiae,
            };
            check_view(&v)?;
            views.push(v);
        }
        r.end()?;
        Ok(MinutiaeRecord {
            width,
            height,
            ppcm,
            views,
        })
    }
}

fn check_view(v: &FingerView) -> Result<(), RecordError> {
    let bad = |field, value: u64| Err(RecordError::Invalid { field, value });
    if !(1..=10).contains(&v.position) && v.position != 0 {
        return bad("finger position", u64::from(v.position));
    }
    if v.view > 15 || v.impression > 15 {
        return bad("view number", u64::from(v.view.max(v.impression)));
    }
    if v.quality > 100 {
        return bad("finger quality", u64::from(v.quality));
    }
    if v.minutiae.len() > 255 {
        return bad("number of minutiae", v.minutiae.len() as u64);
    }
    if let Some(m) = v.minutiae.iter().find(|m| m.quality > 100) {
        return bad("minutia quality", u64::from(m.quality));
    }
    Ok(())
}

/// Encodes at most [`MAX_MINUTIAE`] minutiae.
pub fn encode(minutiae: &[CardMinutia]) -> Result<Vec<u8>, RecordError> {
    if minutiae.len() > MAX_MINUTIAE || minutiae.iter().any(|m| m.angle > 63) {
        return Err(RecordError::TooLarge {
            field: "compact template",
            len: minutiae.len(),
        });
    }
    Ok(minutiae
        .iter()
        .flat_map(|m| [m.x, m.y, (m.kind.code() << 6) | m.angle])
        .collect())
}

/// Decodes a compact template.
pub fn decode(bytes: &[u8]) -> Result<Vec<CardMinutia>, RecordError> {
    if !bytes.len().is_multiple_of(3) || bytes.len() / 3 > MAX_MINUTIAE {
        return Err(RecordError::Invalid {
            field: "compact template length",
            value: bytes.len() as u64,
        });
    }
    bytes
        .chunks_exact(3)
        .map(|c| {
            Ok(CardMinutia {
                x: c[0],
                y: c[1],
                angle: c[2] & 0x3F,
                kind: MinutiaKind::from_code(c[2] >> 6)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_units() {
        let m = CardMinutia::from_pixels(250.0, 100.0, 90.0, 500.0, MinutiaKind::Ending).unwrap();
        assert_eq!((m.x, m.y, m.angle), (127, 51, 16));
        let bytes = encode(&[m, m]).unwrap();
        assert_eq!(bytes, [127, 51, 0x40 | 16, 127, 51, 0x40 | 16]);
        assert_eq!(decode(&bytes).unwrap(), vec![m, m]);
        assert!(CardMinutia::from_pixels(600.0, 0.0, 0.0, 500.0, MinutiaKind::Other).is_none());
        assert!(decode(&[1, 2]).is_err());
        assert!(decode(&[1, 2, 0xC0]).is_err());
        assert!(encode(&vec![m; MAX_MINUTIAE + 1]).is_err());
    }

    fn sample() -> MinutiaeRecord {
        let m = |x, y, angle, kind| Minutia {
            kind,
            x,
            y,
            angle,
            quality: 80,
        };
        MinutiaeRecord {
            width: 400,
            height: 480,
            ppcm: 197,
            views: vec![
                FingerView {
                    position: 2,
                    view: 0,
                    impression: 0,
                    quality: 71,
                    minutiae: vec![
                        m(10, 20, 0, MinutiaKind::Ending),
                        m(399, 479, 255, MinutiaKind::Bifurcation),
                    ],
                },
                FingerView {
                    position: 7,
                    view: 1,
                    impression: 0,
                    quality: 55,
                    minutiae: vec![m(MAX_COORDINATE, 1, 64, MinutiaKind::Other)],
                },
            ],
        }
    }

    #[test]
    fn record_round_trip_and_known_bytes() {
        let r = sample();
        let bytes = r.to_bytes().unwrap();
        assert_eq!(bytes.len(), 24 + (4 + 12 + 2) + (4 + 6 + 2));
        assert_eq!(&bytes[..8], b"FMR\x00 20\x00");
        assert_eq!(&bytes[8..12], &(bytes.len() as u32).to_be_bytes());
        assert_eq!(&bytes[14..22], &[1, 144, 1, 224, 0, 197, 0, 197]);
        assert_eq!(bytes[22], 2);
        // first minutia: ending (01) above x = 10; y = 20; angle; quality
        assert_eq!(&bytes[28..34], &[0x40, 10, 0, 20, 0, 80]);
        assert_eq!(MinutiaeRecord::parse(&bytes).unwrap(), r);
        crate::bytes::assert_exact_length(&bytes, MinutiaeRecord::parse);
    }

    #[test]
    fn record_refuses_what_the_standard_does_not_allow() {
        let mut r = sample();
        r.views[0].minutiae[0].x = MAX_COORDINATE + 1;
        assert!(r.to_bytes().is_err());
        let mut r = sample();
        r.views[0].position = 11;
        assert!(r.to_bytes().is_err());
        let good = sample().to_bytes().unwrap();
        let mut b = good.clone();
        b[28] |= 0xC0; // type 3
        assert!(MinutiaeRecord::parse(&b).is_err());
        let mut b = good.clone();
        b[30] |= 0x80; // reserved bits of y
        assert!(MinutiaeRecord::parse(&b).is_err());
        let mut b = good.clone();
        b[41] = 1; // extended data after the first view's two minutiae
        assert!(MinutiaeRecord::parse(&b).is_err());
        let mut b = good;
        b[4] = b'3'; // version 30
        assert_eq!(
            MinutiaeRecord::parse(&b),
            Err(RecordError::NotThisFormat { part: 2 })
        );
    }
}
