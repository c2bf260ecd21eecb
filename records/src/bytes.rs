//! Big-endian reading with bounds checks, and writing.

use crate::RecordError;

/// A cursor over untrusted bytes: every read is checked and named.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], RecordError> {
        let left = self.data.len() - self.pos;
        if n > left {
            return Err(RecordError::Truncated {
                field,
                need: n - left,
            });
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn uint(&mut self, n: usize, field: &'static str) -> Result<u64, RecordError> {
        Ok(self
            .take(n, field)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, RecordError> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, RecordError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, RecordError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Checks the 8-byte format identifier and version.
    pub(crate) fn magic(&mut self, magic: &[u8; 8], part: u8) -> Result<(), RecordError> {
        match self.take(8, "format identifier") {
            Ok(m) if m == magic => Ok(()),
            _ => Err(RecordError::NotThisFormat { part }),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = &self.data[self.pos..];
        self.pos = self.data.len();
        out
    }

    /// Refuses bytes after the end of the record.
    pub(crate) fn end(&self) -> Result<(), RecordError> {
        if self.pos == self.data.len() {
            Ok(())
        } else {
            Err(RecordError::LengthMismatch {
                field: "record length",
                stated: self.pos as u64,
                actual: self.data.len() as u64,
            })
        }
    }
}

/// Checks a stated length against the bytes present.
pub(crate) fn expect_len(
    field: &'static str,
    stated: u64,
    actual: usize,
) -> Result<(), RecordError> {
    if stated == actual as u64 {
        Ok(())
    } else {
        Err(RecordError::LengthMismatch {
            field,
            stated,
            actual: actual as u64,
        })
    }
}

/// Converts a length for a field of `bytes` bytes, or says it does not fit.
pub(crate) fn fits(field: &'static str, len: usize, bytes: u32) -> Result<u64, RecordError> {
    let max = if bytes >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * bytes)) - 1
    };
    match u64::try_from(len) {
        Ok(v) if v <= max => Ok(v),
        _ => Err(RecordError::TooLarge { field, len }),
    }
}

/// Appends the low `n` bytes of `v`, big-endian.
pub(crate) fn put(out: &mut Vec<u8>, v: u64, n: usize) {
    for i in (0..n).rev() {
        out.push((v >> (8 * i)) as u8);
    }
}

/// The checks every image record shares: quality 0-100, a size, some data.
pub(crate) fn check_image(
    quality_field: &'static str,
    quality: u8,
    width: u16,
    height: u16,
    data_len: usize,
) -> Result<(), RecordError> {
    if quality > 100 {
        return Err(RecordError::Invalid {
            field: quality_field,
            value: u64::from(quality),
        });
    }
    if width == 0 || height == 0 || data_len == 0 {
        return Err(RecordError::Invalid {
            field: "image size",
            value: 0,
        });
    }
    Ok(())
}

/// Test helper: `parse` refuses every proper prefix of a valid record and the record with one
/// byte more.
#[cfg(test)]
pub(crate) fn assert_exact_length<T>(
    bytes: &[u8],
    parse: impl Fn(&[u8]) -> Result<T, RecordError>,
) {
    for n in 0..bytes.len() {
        assert!(parse(&bytes[..n]).is_err(), "prefix of {n} bytes");
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(parse(&longer).is_err(), "one byte more");
}
