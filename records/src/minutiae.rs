//! ISO/IEC 19794-2 compact card format: minutiae for a chip, three bytes each. x and y in
//! units of 0.1 mm (0-255), then two bits of type (0 other, 1 ridge ending, 2 bifurcation)
//! above six bits of angle in units of 360/64 degrees. The card data groups for the index
//! fingers hold this format; the number of minutiae is the data length divided by three.

use crate::RecordError;

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
        .flat_map(|m| {
            let t = match m.kind {
                MinutiaKind::Other => 0,
                MinutiaKind::Ending => 1,
                MinutiaKind::Bifurcation => 2,
            };
            [m.x, m.y, (t << 6) | m.angle]
        })
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
            let kind = match c[2] >> 6 {
                0 => MinutiaKind::Other,
                1 => MinutiaKind::Ending,
                2 => MinutiaKind::Bifurcation,
                t => {
                    return Err(RecordError::Invalid {
                        field: "minutia type",
                        value: u64::from(t),
                    });
                }
            };
            Ok(CardMinutia {
                x: c[0],
                y: c[1],
                angle: c[2] & 0x3F,
                kind,
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
}
