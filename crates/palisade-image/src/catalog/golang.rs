//! Go binaries: the build info the Go linker embeds (`runtime/debug.BuildInfo`).
//!
//! Since Go 1.18 the `.go.buildinfo` section starts, 16-byte aligned, with the 14-byte magic
//! `\xff Go buildinf:`, a pointer-size byte and a flags byte; with flag bit 2 set the Go
//! version and the module info follow the 32-byte header as varint-length-prefixed strings.
//! The module info is framed by two 16-byte sentinels and holds tab-separated lines:
//! `path`, `mod`, `dep`, `=>` (replacement) and `build`. Binaries from Go < 1.18 store
//! pointers instead of inline strings; they are recognised but their modules are not read.

use std::io::{self, Read};

const MAGIC: &[u8] = b"\xff Go buildinf:";
const ALIGN: usize = 16;
/// Bytes kept after the magic: version and module info of very large programs fit.
const TAIL: usize = 1 << 20;

/// A module as the build info lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoModule {
    pub path: String,
    pub version: String,
    pub sum: Option<String>,
    /// A `=>` replacement line.
    pub replaced_by: Option<(String, String)>,
}

/// What a Go binary says about how it was built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoBuildInfo {
    /// `go1.22.5`.
    pub go_version: String,
    /// The `path` line: the main package.
    pub path: Option<String>,
    pub main: Option<GoModule>,
    pub deps: Vec<GoModule>,
    /// Settings like `-ldflags`, `GOOS`, `vcs.revision`.
    pub settings: Vec<(String, String)>,
}

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    let mut s = 0u32;
    for (i, &c) in b.iter().enumerate().take(10) {
        if c < 0x80 {
            return Some((x | (u64::from(c) << s), i + 1));
        }
        x |= u64::from(c & 0x7f) << s;
        s += 7;
    }
    None
}

fn read_string(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (n, used) = uvarint(b)?;
    let n = usize::try_from(n).ok()?;
    let rest = b.get(used..)?;
    Some((rest.get(..n)?, rest.get(n..)?))
}

/// Parses the bytes that start at the magic. `None` when this is not a build info blob
/// (or is the pre-1.18 pointer format, reported as an empty version).
#[must_use]
pub fn parse(blob: &[u8]) -> Option<GoBuildInfo> {
    if !blob.starts_with(MAGIC) || blob.len() < 32 {
        return None;
    }
    let flags = blob[15];
    if flags & 2 == 0 {
        return Some(GoBuildInfo::default());
    }
    let (version, rest) = read_string(&blob[32..])?;
    let (modinfo, _) = read_string(rest)?;
    let mut info = GoBuildInfo {
        go_version: String::from_utf8_lossy(version).into_owned(),
        ..GoBuildInfo::default()
    };
    // Strip the 16-byte sentinels around the module info.
    let text = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    };
    let text = String::from_utf8_lossy(text);
    let module = |f: &[&str]| GoModule {
        path: f.first().copied().unwrap_or_default().to_string(),
        version: f.get(1).copied().unwrap_or_default().to_string(),
        sum: f.get(2).filter(|s| !s.is_empty()).map(|s| (*s).to_string()),
        replaced_by: None,
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.first().copied() {
            Some("path") => info.path = f.get(1).map(|s| (*s).to_string()),
            Some("mod") => info.main = Some(module(&f[1..])),
            Some("dep") => info.deps.push(module(&f[1..])),
            Some("=>") => {
                let r = (
                    f.get(1).copied().unwrap_or_default().to_string(),
                    f.get(2).copied().unwrap_or_default().to_string(),
                );
                if let Some(last) = info.deps.last_mut() {
                    last.replaced_by = Some(r);
                } else if let Some(m) = &mut info.main {
                    m.replaced_by = Some(r);
                }
            }
            Some("build") => {
                if let Some(kv) = f.get(1)
                    && let Some((k, v)) = kv.split_once('=')
                {
                    info.settings.push((k.to_string(), v.to_string()));
                }
            }
            _ => {}
        }
    }
    Some(info)
}

/// Streams an executable looking for the build info at 16-byte-aligned offsets. Reads at
/// most `limit` bytes; non-ELF files stop after the first four bytes.
pub fn scan_reader(r: &mut dyn Read, limit: u64) -> io::Result<Option<GoBuildInfo>> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut head[got..])?;
        if n == 0 {
            return Ok(None);
        }
        got += n;
    }
    if &head != b"\x7fELF" {
        return Ok(None);
    }
    let mut r = r.take(limit.saturating_sub(4));
    // `buf` holds bytes from file offset `base`.
    let mut buf: Vec<u8> = head.to_vec();
    let mut base = 0usize;
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        let n = r.read(&mut chunk)?;
        buf.extend_from_slice(&chunk[..n]);
        // Search aligned offsets that have the whole magic in `buf`.
        let first = (base.div_ceil(ALIGN)) * ALIGN;
        let mut off = first;
        while off + MAGIC.len() <= base + buf.len() {
            let i = off - base;
            if buf[i] == 0xff && buf[i..].starts_with(MAGIC) {
                // Collect the tail and parse.
                let mut blob = buf[i..].to_vec();
                if blob.len() < TAIL {
                    (&mut r)
                        .take((TAIL - blob.len()) as u64)
                        .read_to_end(&mut blob)?;
                }
                return Ok(parse(&blob));
            }
            off += ALIGN;
        }
        if n == 0 {
            return Ok(None);
        }
        // Keep the last unaligned stretch that might start a magic.
        let keep_from = (base + buf.len()).saturating_sub(MAGIC.len() + ALIGN);
        let keep_from = (keep_from / ALIGN) * ALIGN;
        if keep_from > base {
            buf.drain(..keep_from - base);
            base = keep_from;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn varstr(s: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        let mut n = s.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                v.push(b);
                break;
            }
            v.push(b | 0x80);
        }
        v.extend_from_slice(s);
        v
    }

    /// An ELF-looking file with a Go 1.18+ build info blob at a 16-aligned offset.
    pub(crate) fn fake_go_binary(pad: usize) -> Vec<u8> {
        let mut f = b"\x7fELF".to_vec();
        f.resize(pad.div_ceil(16) * 16, 0);
        let mut blob = MAGIC.to_vec();
        blob.push(8);
        blob.push(2);
        blob.resize(32, 0);
        blob.extend(varstr(b"go1.22.5"));
        let mut modinfo = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
        modinfo.extend_from_slice(
            b"path\texample.com/cmd/srv\nmod\texample.com\tv1.2.3\th1:abc=\ndep\tgolang.org/x/net\tv0.20.0\th1:def=\ndep\tgithub.com/old/lib\tv1.0.0\n=>\tgithub.com/new/lib\tv1.1.0\th1:x=\nbuild\tGOOS=linux\n",
        );
        modinfo.extend_from_slice(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
        blob.extend(varstr(&modinfo));
        f.extend(blob);
        f.extend(vec![0u8; 100]);
        f
    }

    #[test]
    fn finds_build_info_across_chunks() {
        for pad in [16, 300_000, 262_144 - 8] {
            let bin = fake_go_binary(pad);
            let info = scan_reader(&mut &bin[..], 1 << 30).unwrap().unwrap();
            assert_eq!(info.go_version, "go1.22.5");
            assert_eq!(info.path.as_deref(), Some("example.com/cmd/srv"));
            assert_eq!(info.main.as_ref().unwrap().version, "v1.2.3");
            assert_eq!(info.deps.len(), 2);
            assert_eq!(
                info.deps[1].replaced_by,
                Some(("github.com/new/lib".into(), "v1.1.0".into()))
            );
        }
        assert!(
            scan_reader(&mut &b"#!/bin/sh\n"[..], 100)
                .unwrap()
                .is_none()
        );
        // Truncated and garbage blobs do not panic.
        let bin = fake_go_binary(16);
        for cut in 0..bin.len() {
            let _ = scan_reader(&mut &bin[..cut], 1 << 20);
        }
    }
}
