//! Layer streams: compression sniffed from the first bytes (gzip, zstd or a plain tar), and
//! digests checked as the bytes pass, never extracted to disk.
//!
//! gzip is inflated by flate2 on its `zlib-rs` backend (pure Rust, about twice as fast as
//! `miniz_oxide` here), zstd by the reference C library (`zstd` crate; several times faster
//! than the pure-Rust `ruzstd`, which still writes the test images so that decoder and
//! encoder are independent implementations). Concatenated frames and skippable frames
//! (zstd:chunked) are read as one stream.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::MultiGzDecoder;

use crate::digest::VerifyingReader;

/// Raw blob bytes, as a source hands them out.
pub type Raw = Box<dyn Read + Send>;

const BUF: usize = 256 * 1024;

/// How a layer's content is named, so it can be verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verify {
    /// The stored (usually compressed) blob has the descriptor's digest and size (OCI
    /// layouts, registries).
    Blob { digest: String, size: Option<u64> },
    /// The uncompressed tar has this digest (the config's `diff_id`; `docker save`).
    DiffId(String),
}

/// Which compression a stream uses, by magic number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    #[must_use]
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// A decompressor chosen by sniffing.
pub enum Decoder<R: BufRead> {
    Plain(R),
    Gzip(Box<MultiGzDecoder<R>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, R>>),
}

impl<R: BufRead> Decoder<R> {
    pub fn new(mut r: R) -> io::Result<(Self, Compression)> {
        let c = Compression::sniff(r.fill_buf()?);
        let d = match c {
            Compression::None => Decoder::Plain(r),
            Compression::Gzip => Decoder::Gzip(Box::new(MultiGzDecoder::new(r))),
            Compression::Zstd => {
                Decoder::Zstd(Box::new(zstd::stream::read::Decoder::with_buffer(r)?))
            }
        };
        Ok((d, c))
    }

    pub fn into_inner(self) -> R {
        match self {
            Decoder::Plain(r) => r,
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Zstd(d) => d.finish(),
        }
    }
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(r) => r.read(buf),
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
        }
    }
}

enum Stage {
    Blob(Decoder<BufReader<VerifyingReader<Raw>>>),
    Diff(VerifyingReader<Decoder<BufReader<Raw>>>),
}

/// The uncompressed tar stream of a layer. Call [`LayerReader::finish`] after the tar is
/// read: it drains what the tar reader left (padding, trailing data) so the digest is
/// checked over the whole blob.
pub struct LayerReader {
    stage: Stage,
    /// Bytes of uncompressed tar delivered so far.
    pub uncompressed: u64,
    pub compression: Compression,
}

impl LayerReader {
    pub fn new(raw: Raw, verify: &Verify) -> io::Result<LayerReader> {
        match verify {
            Verify::Blob { digest, size } => {
                let v = VerifyingReader::new(raw, digest, *size);
                let (d, c) = Decoder::new(BufReader::with_capacity(BUF, v))?;
                Ok(LayerReader {
                    stage: Stage::Blob(d),
                    uncompressed: 0,
                    compression: c,
                })
            }
            Verify::DiffId(diff_id) => {
                let (d, c) = Decoder::new(BufReader::with_capacity(BUF, raw))?;
                Ok(LayerReader {
                    stage: Stage::Diff(VerifyingReader::new(d, diff_id, None)),
                    uncompressed: 0,
                    compression: c,
                })
            }
        }
    }

    /// Reads to the end of the decompressed stream and of the raw blob, so a digest or size
    /// mismatch anywhere is reported.
    pub fn finish(mut self) -> io::Result<()> {
        io::copy(&mut self, &mut io::sink())?;
        if let Stage::Blob(d) = self.stage {
            let mut raw = d.into_inner();
            io::copy(&mut raw, &mut io::sink())?;
        }
        Ok(())
    }
}

impl Read for LayerReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.stage {
            Stage::Blob(d) => d.read(buf)?,
            Stage::Diff(v) => v.read(buf)?,
        };
        self.uncompressed += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256_digest;

    fn roundtrip(raw: Vec<u8>, verify: Verify) -> io::Result<Vec<u8>> {
        let mut r = LayerReader::new(Box::new(io::Cursor::new(raw)), &verify)?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        r.finish()?;
        Ok(out)
    }

    #[test]
    fn gzip_zstd_plain_verified() {
        let data: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &data).unwrap();
        let gz = gz.finish().unwrap();
        let zs = ruzstd::encoding::compress_to_vec(
            &data[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        // Two frames with a skippable frame between them.
        let mut multi = ruzstd::encoding::compress_to_vec(
            &data[..1000],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        multi.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        multi.extend(ruzstd::encoding::compress_to_vec(
            &data[1000..],
            ruzstd::encoding::CompressionLevel::Fastest,
        ));
        for raw in [gz, zs, multi, data.clone()] {
            let v = Verify::Blob {
                digest: sha256_digest(&raw),
                size: Some(raw.len() as u64),
            };
            assert_eq!(roundtrip(raw.clone(), v).unwrap(), data);
            let v = Verify::DiffId(sha256_digest(&data));
            assert_eq!(roundtrip(raw.clone(), v).unwrap(), data);
            let bad = Verify::DiffId(sha256_digest(b"other"));
            assert!(
                roundtrip(raw, bad)
                    .unwrap_err()
                    .to_string()
                    .contains("digest mismatch")
            );
        }
    }

    #[test]
    fn corrupt_zstd_is_an_error() {
        let data = vec![7u8; 100_000];
        let mut zs = ruzstd::encoding::compress_to_vec(
            &data[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let n = zs.len();
        zs[n / 2] ^= 0xff;
        zs.truncate(n - 3);
        let v = Verify::Blob {
            digest: sha256_digest(&zs),
            size: None,
        };
        assert!(roundtrip(zs, v).is_err());
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let raw = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff];
        let v = Verify::Blob {
            digest: sha256_digest(&raw),
            size: None,
        };
        assert!(roundtrip(raw, v).is_err());
    }
}
