//! Shared checks for the 16-digit numbers (NIK and KK number).

/// A problem with the characters of a fixed-length decimal number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DigitProblem {
    Empty,
    WrongLength { found: usize },
    NotADigit { position: usize, found: char },
}

/// Removes the spaces and dots operators type or paste between groups ("3273 0101 ..."),
/// then checks that exactly `LEN` ASCII digits remain. Positions are 1-based and count the
/// digits after that cleaning, as an operator counts them on the form.
pub(crate) fn parse_fixed<const LEN: usize>(input: &str) -> Result<[u8; LEN], DigitProblem> {
    let cleaned: Vec<char> = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .collect();
    if cleaned.is_empty() {
        return Err(DigitProblem::Empty);
    }
    if let Some((i, c)) = cleaned
        .iter()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        return Err(DigitProblem::NotADigit {
            position: i + 1,
            found: *c,
        });
    }
    if cleaned.len() != LEN {
        return Err(DigitProblem::WrongLength {
            found: cleaned.len(),
        });
    }
    let mut out = [0u8; LEN];
    for (slot, c) in out.iter_mut().zip(cleaned) {
        *slot = c as u8 - b'0';
    }
    Ok(out)
}

/// The number formed by `digits` (at most 4 of them here).
pub(crate) fn value(digits: &[u8]) -> u16 {
    digits.iter().fold(0u16, |acc, d| acc * 10 + u16::from(*d))
}

/// The digits as a string.
pub(crate) fn text(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}
