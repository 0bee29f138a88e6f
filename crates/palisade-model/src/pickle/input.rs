//! A buffered, position-tracking byte reader for the pickle VM.
//!
//! The VM streams: a multi-gigabyte pickle (joblib with inline arrays, a compressed stream)
//! is read through a fixed buffer, never loaded whole, and large arguments that the VM does
//! not need are skipped instead of stored.

use std::io::{self, Read};

const BUF: usize = 64 * 1024;

/// Why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InputError {
    /// The stream ended in the middle of an opcode or argument.
    Eof,
    /// The underlying reader failed (decompression error, I/O error).
    Io(String),
    /// A text argument (protocol 0 line) is longer than the limit.
    LineTooLong,
}

pub(crate) struct Input<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Absolute offset of `buf[start]` in the stream.
    pos: u64,
    eof: bool,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(inner: R, base: u64) -> Self {
        Input {
            inner,
            buf: vec![0u8; BUF].into_boxed_slice(),
            start: 0,
            end: 0,
            pos: base,
            eof: false,
        }
    }

    /// Offset of the next byte to be read.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    fn fill(&mut self) -> Result<bool, InputError> {
        if self.start < self.end {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.start = 0;
        self.end = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.eof = true;
                    return Err(InputError::Io(e.to_string()));
                }
            }
        }
    }

    /// Returns `Ok(None)` at a clean end of stream.
    pub(crate) fn byte(&mut self) -> Result<Option<u8>, InputError> {
        if !self.fill()? {
            return Ok(None);
        }
        let b = self.buf[self.start];
        self.start += 1;
        self.pos += 1;
        Ok(Some(b))
    }

    /// Peeks at the next byte without consuming it.
    pub(crate) fn peek(&mut self) -> Result<Option<u8>, InputError> {
        if !self.fill()? {
            return Ok(None);
        }
        Ok(Some(self.buf[self.start]))
    }

    pub(crate) fn exact<const N: usize>(&mut self) -> Result<[u8; N], InputError> {
        let mut out = [0u8; N];
        for slot in &mut out {
            *slot = self.byte()?.ok_or(InputError::Eof)?;
        }
        Ok(out)
    }

    /// Reads `n` bytes, keeping at most `keep` of them (the rest is consumed and dropped).
    /// Returns the kept prefix.
    pub(crate) fn take(&mut self, n: u64, keep: usize) -> Result<Vec<u8>, InputError> {
        let keep_n = n.min(keep as u64) as usize;
        let mut out = Vec::with_capacity(keep_n.min(BUF));
        let mut remaining = n;
        while remaining > 0 {
            if !self.fill()? {
                return Err(InputError::Eof);
            }
            let avail = (self.end - self.start) as u64;
            let chunk = avail.min(remaining) as usize;
            if out.len() < keep_n {
                let want = (keep_n - out.len()).min(chunk);
                out.extend_from_slice(&self.buf[self.start..self.start + want]);
            }
            self.start += chunk;
            self.pos += chunk as u64;
            remaining -= chunk as u64;
        }
        Ok(out)
    }

    /// Reads a protocol-0 text argument up to and excluding `\n`.
    pub(crate) fn line(&mut self, max: usize) -> Result<Vec<u8>, InputError> {
        let mut out = Vec::new();
        loop {
            match self.byte()? {
                None => return Err(InputError::Eof),
                Some(b'\n') => return Ok(out),
                Some(b) => {
                    if out.len() >= max {
                        return Err(InputError::LineTooLong);
                    }
                    out.push(b);
                }
            }
        }
    }

    /// Reads up to `keep` of the bytes that are left (for the sweep after a fatal error;
    /// a multi-gigabyte tail is not worth reading to the end).
    pub(crate) fn rest(&mut self, keep: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < keep {
            match self.fill() {
                Ok(true) => {}
                _ => break,
            }
            let want = (keep - out.len()).min(self.end - self.start);
            out.extend_from_slice(&self.buf[self.start..self.start + want]);
            self.start += want;
            self.pos += want as u64;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_keeps_prefix_and_tracks_position() {
        let data: Vec<u8> = (0..200u8).collect();
        let mut input = Input::new(&data[..], 10);
        assert_eq!(input.byte().unwrap(), Some(0));
        let kept = input.take(100, 5).unwrap();
        assert_eq!(kept, vec![1, 2, 3, 4, 5]);
        assert_eq!(input.pos(), 111);
        assert_eq!(input.take(1000, 0), Err(InputError::Eof));
    }

    #[test]
    fn line_stops_at_newline_and_limit() {
        let mut input = Input::new(&b"os\nsystem\n"[..], 0);
        assert_eq!(input.line(10).unwrap(), b"os");
        assert_eq!(input.line(3), Err(InputError::LineTooLong));
    }
}
