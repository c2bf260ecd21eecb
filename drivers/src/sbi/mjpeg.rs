//! The STREAM preview: `multipart/x-mixed-replace` parts, each a JPEG frame with its
//! `Content-Length`, as the SBI specification shows. Read from the socket as it arrives.

use std::io::{BufRead, BufReader, Read};

/// Largest part header line and frame accepted.
const MAX_LINE: usize = 1024;
const MAX_FRAME: usize = 8 * 1024 * 1024;
/// Header lines per part before giving up.
const MAX_HEADERS: usize = 32;

/// Why a stream cannot be read on.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The connection failed.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// Something else than the parts the specification describes.
    #[error("{0}")]
    Malformed(&'static str),
}

/// Frames of an M-JPEG stream.
#[derive(Debug)]
pub struct Frames<R> {
    input: BufReader<R>,
}

impl<R: Read> Frames<R> {
    /// Reads frames from `input`.
    pub fn new(input: R) -> Self {
        Frames {
            input: BufReader::new(input),
        }
    }

    fn line(&mut self) -> Result<Option<String>, StreamError> {
        let mut buf = Vec::new();
        let n = (&mut self.input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        if buf.len() > MAX_LINE {
            return Err(StreamError::Malformed("header line too long"));
        }
        let text = String::from_utf8(buf).map_err(|_| StreamError::Malformed("header not text"))?;
        Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
    }

    /// The next frame, or `None` when the stream ends cleanly between parts.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, StreamError> {
        // Skip the blank lines between parts, then expect a boundary.
        let boundary = loop {
            match self.line()? {
                None => return Ok(None),
                Some(l) if l.is_empty() => continue,
                Some(l) => break l,
            }
        };
        if !boundary.starts_with("--") {
            return Err(StreamError::Malformed("part without a boundary"));
        }
        if boundary.ends_with("--") && boundary.len() > 2 {
            return Ok(None); // closing boundary
        }
        let mut length = None;
        for _ in 0..MAX_HEADERS {
            match self.line()? {
                None => return Err(StreamError::Malformed("stream ended inside a part header")),
                Some(l) if l.is_empty() => break,
                Some(l) => {
                    if let Some((name, value)) = l.split_once(':')
                        && name.trim().eq_ignore_ascii_case("content-length")
                    {
                        length = Some(
                            value
                                .trim()
                                .parse::<usize>()
                                .map_err(|_| StreamError::Malformed("bad Content-Length"))?,
                        );
                    }
                }
            }
        }
        let length = length.ok_or(StreamError::Malformed("part without Content-Length"))?;
        if length > MAX_FRAME {
            return Err(StreamError::Malformed("frame too large"));
        }
        let mut frame = vec![0; length];
        self.input.read_exact(&mut frame)?;
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(data: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "--BoundaryString\r\nAccess-Control-Allow-Origin:*\r\nContent-Type:image/jpeg\r\nContent-Length:{}\r\n\r\n",
            data.len()
        )
        .into_bytes();
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
        out
    }

    #[test]
    fn reads_frames_split_anywhere() {
        let mut stream = part(b"\xFF\xD8one\xFF\xD9");
        stream.extend(part(b"\xFF\xD8second frame\r\n--BoundaryString\xFF\xD9"));
        let mut frames = Frames::new(&stream[..]);
        assert_eq!(
            frames.next_frame().unwrap().unwrap(),
            b"\xFF\xD8one\xFF\xD9"
        );
        assert_eq!(
            frames.next_frame().unwrap().unwrap(),
            b"\xFF\xD8second frame\r\n--BoundaryString\xFF\xD9"
        );
        assert!(frames.next_frame().unwrap().is_none());
    }

    #[test]
    fn refuses_what_is_not_a_part() {
        assert!(Frames::new(&b"garbage\r\n"[..]).next_frame().is_err());
        assert!(
            Frames::new(&b"--B\r\nContent-Type: image/jpeg\r\n\r\nxx"[..])
                .next_frame()
                .is_err()
        );
        let cut = part(b"0123456789");
        assert!(Frames::new(&cut[..cut.len() - 5]).next_frame().is_err());
    }
}
