//! Random-access byte sources: a file (or a byte range of it) or a buffer in memory.
//!
//! Formats that only need a few places of a file (the zip central directory, a safetensors
//! header, a GGUF header) read exactly those through positional reads; stored archive members
//! become sub-ranges of the same file, so a 10 GB checkpoint is never copied or mapped.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

#[derive(Clone, Copy)]
pub(crate) enum Src<'a> {
    Mem(&'a [u8]),
    File { file: &'a File, base: u64, len: u64 },
}

#[cfg(unix)]
fn pread(file: &File, buf: &mut [u8], off: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, off)
}

#[cfg(windows)]
fn pread(file: &File, buf: &mut [u8], off: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, off)
}

impl<'a> Src<'a> {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Src::Mem(m) => m.len() as u64,
            Src::File { len, .. } => *len,
        }
    }

    /// Reads up to `buf.len()` bytes at `off`; returns how many were read.
    pub(crate) fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<usize> {
        if off >= self.len() {
            return Ok(0);
        }
        let n = (self.len() - off).min(buf.len() as u64) as usize;
        match self {
            Src::Mem(m) => {
                let o = off as usize;
                buf[..n].copy_from_slice(&m[o..o + n]);
                Ok(n)
            }
            Src::File { file, base, .. } => {
                let mut done = 0;
                while done < n {
                    match pread(file, &mut buf[done..n], base + off + done as u64) {
                        Ok(0) => break,
                        Ok(k) => done += k,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(done)
            }
        }
    }

    /// Reads `[off, off+len)` (clamped to the source) into a vector.
    pub(crate) fn read_vec(&self, off: u64, len: u64) -> io::Result<Vec<u8>> {
        let len = len.min(self.len().saturating_sub(off));
        let mut v = vec![0u8; len as usize];
        let n = self.read_at(off, &mut v)?;
        v.truncate(n);
        Ok(v)
    }

    /// A sub-range of this source (clamped).
    pub(crate) fn slice(&self, off: u64, len: u64) -> Src<'a> {
        let off = off.min(self.len());
        let len = len.min(self.len() - off);
        match *self {
            Src::Mem(m) => Src::Mem(&m[off as usize..(off + len) as usize]),
            Src::File { file, base, .. } => Src::File {
                file,
                base: base + off,
                len,
            },
        }
    }

    /// A sequential reader over the whole source.
    pub(crate) fn reader(&self) -> SrcReader<'a> {
        SrcReader { src: *self, pos: 0 }
    }
}

pub(crate) struct SrcReader<'a> {
    src: Src<'a>,
    pos: u64,
}

impl Read for SrcReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.src.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SrcReader<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let len = self.src.len() as i128;
        let target = match pos {
            SeekFrom::Start(o) => o as i128,
            SeekFrom::End(d) => len + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before start",
            ));
        }
        self.pos = target as u64;
        Ok(self.pos)
    }
}

/// A reader that fails once more than `limit` bytes were read: the guard against
/// decompression bombs and oversized members.
pub(crate) struct Limited<R> {
    inner: R,
    remaining: u64,
    pub(crate) exceeded: bool,
    pub(crate) consumed: u64,
}

impl<R: Read> Limited<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Self {
        Limited {
            inner,
            remaining: limit,
            exceeded: false,
            consumed: 0,
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // Probe one byte to tell "exactly at the limit" from "over the limit".
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.exceeded = true;
                    Err(io::Error::other("size limit reached"))
                }
            };
        }
        let want = (buf.len() as u64).min(self.remaining) as usize;
        let n = self.inner.read(&mut buf[..want])?;
        self.remaining -= n as u64;
        self.consumed += n as u64;
        Ok(n)
    }
}

/// Reads everything from `r` up to `limit` bytes; `Err` carries what was read when the
/// limit was exceeded or the stream failed.
pub(crate) fn read_limited<R: Read>(r: R, limit: u64) -> Result<Vec<u8>, (Vec<u8>, String)> {
    let mut lim = Limited::new(r, limit);
    let mut out = Vec::new();
    match lim.read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(e) => Err((out, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_and_reads() {
        let data: Vec<u8> = (0..100u8).collect();
        let src = Src::Mem(&data);
        let s = src.slice(10, 20);
        assert_eq!(s.len(), 20);
        assert_eq!(s.read_vec(5, 100).unwrap(), (15..30u8).collect::<Vec<_>>());
        let mut r = s.reader();
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        assert_eq!(v.len(), 20);
    }

    #[test]
    fn limited_reader_flags_overflow() {
        let data = [7u8; 100];
        assert_eq!(read_limited(&data[..], 100).unwrap().len(), 100);
        let (partial, _) = read_limited(&data[..], 50).unwrap_err();
        assert_eq!(partial.len(), 50);
    }
}
