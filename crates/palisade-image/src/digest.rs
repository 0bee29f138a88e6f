//! Digests: parsing `sha256:<hex>`, hashing, and a reader that checks content as it streams.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// Lower-case hex of a byte string.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// `sha256:<hex>` of `data`.
#[must_use]
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(data)))
}

/// Checks that `digest` is `sha256:` followed by 64 lower-case hex digits and returns the
/// hex part. Other algorithms are refused: the OCI spec registers sha256 and sha512, and
/// every registry and builder in use writes sha256.
pub fn parse_sha256(digest: &str) -> Result<&str> {
    let hex = digest.strip_prefix("sha256:").ok_or_else(|| {
        Error::format(
            format!("digest `{digest}`"),
            "expected `sha256:` followed by 64 hex digits",
        )
    })?;
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(Error::format(
            format!("digest `{digest}`"),
            "expected `sha256:` followed by 64 lower-case hex digits",
        ));
    }
    Ok(hex)
}

/// Verifies `data` against `digest`.
pub fn verify(what: &str, data: &[u8], digest: &str) -> Result<()> {
    parse_sha256(digest)?;
    let actual = sha256_digest(data);
    if actual == digest {
        Ok(())
    } else {
        Err(Error::Digest {
            what: what.to_string(),
            expected: digest.to_string(),
            actual,
        })
    }
}

/// Hashes what passes through and, at end of stream, fails with `InvalidData` when the
/// content does not match the expected digest (or size). Nothing read from an unverified
/// stream is trusted: callers discard a layer whose reader failed.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: Sha256,
    expected: String,
    expected_size: Option<u64>,
    read: u64,
    done: bool,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: &str, expected_size: Option<u64>) -> Self {
        VerifyingReader {
            inner,
            hasher: Sha256::new(),
            expected: expected.to_string(),
            expected_size,
            read: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.done = true;
            let actual = format!("sha256:{}", hex(&self.hasher.clone().finalize()));
            if actual != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("digest mismatch: expected {}, got {actual}", self.expected),
                ));
            }
            if let Some(size) = self.expected_size
                && size != self.read
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "size mismatch: descriptor says {size} bytes, read {}",
                        self.read
                    ),
                ));
            }
            return Ok(0);
        }
        self.read += n as u64;
        if let Some(size) = self.expected_size
            && self.read > size
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blob is larger than its descriptor's {size} bytes"),
            ));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifying_reader() {
        let data = b"hello";
        let d = sha256_digest(data);
        let mut out = Vec::new();
        VerifyingReader::new(&data[..], &d, Some(5))
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let bad = VerifyingReader::new(&b"hellO"[..], &d, None).read_to_end(&mut out);
        assert!(bad.unwrap_err().to_string().contains("digest mismatch"));
        let short = VerifyingReader::new(&data[..], &d, Some(6)).read_to_end(&mut out);
        assert!(short.unwrap_err().to_string().contains("size mismatch"));
        assert!(parse_sha256("sha256:abc").is_err());
        assert!(parse_sha256(&d).is_ok());
    }
}
