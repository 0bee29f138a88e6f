//! Go binaries: the build info the Go linker embeds (`runtime/debug.BuildInfo`), read as
//! Go's `debug/buildinfo` reads it, from ELF, PE and Mach-O files.
//!
//! The build info starts, 16-byte aligned, with the 14-byte magic `\xff Go buildinf:`, a
//! pointer-size byte and a flags byte. Since Go 1.18 (flag bit 2) the Go version and the
//! module info follow the 32-byte header as varint-length-prefixed strings. Go 1.13 to
//! 1.17 wrote instead the addresses of two Go string headers (`runtime.buildVersion`,
//! `runtime.modinfo`), each a (data address, length) pair pointing into `.rodata`; they
//! are followed through the segments of the executable's headers ([`super::exe`]). The
//! module info is framed by two 16-byte sentinels and holds tab-separated lines: `path`,
//! `mod`, `dep`, `=>` (replacement) and `build`.
//!
//! Executables are streamed once, so a pointer can only be followed to bytes that are
//! still ahead or were kept. The string headers lie in `.data`, after the build info
//! header or a short way before it (the last [`BACK`] bytes are kept); the strings lie in
//! `.rodata`, before it. So while searching, the bytes where a string could start are kept
//! (bounded): at each module-info start sentinel, and at each `go1.` or `devel ` (how Go
//! versions start). A pointer to anything else before the header is reported, not
//! guessed at. Binaries from Go < 1.13 have no build info.

use std::collections::VecDeque;
use std::io::{self, Read};

use super::exe::{self, Layout};

pub(crate) const MAGIC: &[u8] = b"\xff Go buildinf:";
const ALIGN: u64 = 16;
/// Bytes kept after the magic: version and module info of very large programs fit.
const TAIL: u64 = 1 << 20;
/// Longest string a pre-1.18 header may point at (the same bound as [`TAIL`]).
const MAX_STRING: u64 = 1 << 20;
/// `cmd/go/internal/modload`'s `infoStart` and `infoEnd`, around the module info.
pub(crate) const INFO_START: &[u8] = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
pub(crate) const INFO_END: &[u8] = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";
/// How Go versions start: releases (`go1.16.15`) and toolchains built from source.
const VERSION_STARTS: [&[u8]; 2] = [b"go1.", b"devel "];
/// Bytes kept where a version may start (`devel +e496e612b7 Mon Sep 14 17:00:35 2020 +0000`
/// fits), and how many such places.
const VERSION_KEEP: u64 = 128;
const MAX_VERSIONS: usize = 512;
/// Module-info starts kept (each up to [`MAX_STRING`] bytes).
const MAX_MODINFOS: usize = 8;
/// Recent bytes kept for pointers that lead back a short way (at least this, less than one
/// [`CHUNK`] more).
const BACK: usize = 1 << 20;
const CHUNK: usize = 256 * 1024;

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
    /// Why (part of) a build info that was found could not be read; reported as entry
    /// errors.
    pub notes: Vec<String>,
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

/// Parses an inline (Go 1.18+) build info blob, the bytes that start at the magic. `None`
/// when it is not one.
#[must_use]
pub fn parse(blob: &[u8]) -> Option<GoBuildInfo> {
    if !blob.starts_with(MAGIC) || blob.len() < 32 || blob[15] & 2 == 0 {
        return None;
    }
    let (version, rest) = read_string(&blob[32..])?;
    let (modinfo, _) = read_string(rest)?;
    Some(from_strings(version, modinfo))
}

/// The build info from its two strings.
fn from_strings(version: &[u8], modinfo: &[u8]) -> GoBuildInfo {
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
    info
}

/// A byte range collected as the file streams past.
struct Capture {
    at: u64,
    bytes: Vec<u8>,
    /// Most bytes collected.
    want: u64,
    /// Module info: complete at its end sentinel.
    framed: bool,
    done: bool,
}

impl Capture {
    fn new(at: u64, want: u64, framed: bool) -> Capture {
        Capture {
            at,
            bytes: Vec::new(),
            want,
            framed,
            done: want == 0,
        }
    }

    fn end(&self) -> u64 {
        self.at + self.bytes.len() as u64
    }

    /// Takes the part of `chunk` (at file offset `at`) that continues this range.
    fn feed(&mut self, at: u64, chunk: &[u8]) {
        let from = self.end();
        if self.done || from < at || from >= at + chunk.len() as u64 {
            return;
        }
        let rest = &chunk[(from - at) as usize..];
        let before = self.bytes.len();
        let take = rest.len().min((self.want - before as u64) as usize);
        self.bytes.extend_from_slice(&rest[..take]);
        if self.framed {
            let look = before
                .saturating_sub(INFO_END.len() - 1)
                .max(INFO_START.len());
            if let Some(i) = self
                .bytes
                .get(look..)
                .and_then(|b| memchr::memmem::find(b, INFO_END))
            {
                self.bytes.truncate(look + i + INFO_END.len());
                self.done = true;
            }
        }
        self.done |= self.bytes.len() as u64 >= self.want;
    }

    /// `len` bytes at file offset `off`, when this range holds them.
    fn get(&self, off: u64, len: u64) -> Option<&[u8]> {
        let start = off.checked_sub(self.at)?;
        let end = start.checked_add(len)?;
        self.bytes.get(start as usize..usize::try_from(end).ok()?)
    }
}

/// An executable read once, front to back, keeping what the search may need.
struct Stream<'r> {
    r: io::Take<&'r mut dyn Read>,
    /// File offset of the next byte read.
    pos: u64,
    eof: bool,
    /// The first bytes, for the headers.
    head: Vec<u8>,
    /// Bytes not yet searched for the magic, from file offset `base`.
    buf: Vec<u8>,
    base: u64,
    /// The latest chunks read, oldest first, about [`BACK`] bytes.
    recent: VecDeque<(u64, Vec<u8>)>,
    recent_len: usize,
    captures: Vec<Capture>,
    versions: usize,
    modinfos: usize,
    /// Places a string could start that were not kept (over the bounds).
    dropped: usize,
    /// The buffer of a chunk that fell out of `recent`, for the next read.
    spare: Option<Vec<u8>>,
}

impl<'r> Stream<'r> {
    fn new(r: &'r mut dyn Read, limit: u64) -> Stream<'r> {
        Stream {
            r: r.take(limit),
            pos: 0,
            eof: false,
            head: Vec::new(),
            buf: Vec::new(),
            base: 0,
            recent: VecDeque::new(),
            recent_len: 0,
            captures: Vec::new(),
            versions: 0,
            modinfos: 0,
            dropped: 0,
            spare: None,
        }
    }

    /// Reads the next chunk; `false` at the end of the file or the scan limit. A chunk is
    /// [`CHUNK`] bytes however the reader splits them (short only at the end), so what is
    /// kept does not depend on read sizes; its buffer goes into `recent` as it is.
    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = self.spare.take().unwrap_or_default();
        // A recycled buffer is already CHUNK long: nothing to clear.
        chunk.resize(CHUNK, 0);
        let mut n = 0;
        while n < CHUNK {
            match self.r.read(&mut chunk[n..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        chunk.truncate(n);
        if n == 0 {
            self.spare = Some(chunk);
            return Ok(false);
        }
        let at = self.pos;
        self.pos += n as u64;
        for c in &mut self.captures {
            c.feed(at, &chunk);
        }
        if self.head.len() < exe::HEAD {
            let take = (exe::HEAD - self.head.len()).min(n);
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.buf.extend_from_slice(&chunk);
        self.recent.push_back((at, chunk));
        self.recent_len += n;
        while let Some((_, old)) = self.recent.front()
            && self.recent_len - old.len() >= BACK
        {
            let (_, old) = self.recent.pop_front().expect("front exists");
            self.recent_len -= old.len();
            self.spare = Some(old);
        }
        Ok(true)
    }

    /// Keeps the bytes where a version or module info may start, in the part of `buf`
    /// from `*from`. A match must lie wholly in `buf`; near its end one is left for the
    /// next call (which sees more bytes), except at the end of the file.
    fn keep_strings(&mut self, from: &mut u64) {
        let start = (*from).max(self.base);
        let limit = if self.eof {
            self.pos
        } else {
            self.pos.saturating_sub(INFO_START.len() as u64 - 1)
        };
        if start >= limit {
            return;
        }
        let hay = &self.buf[(start - self.base) as usize..];
        let mut found: Vec<(u64, bool)> = memchr::memmem::find_iter(hay, INFO_START)
            .map(|i| (start + i as u64, true))
            .collect();
        for pat in VERSION_STARTS {
            found.extend(memchr::memmem::find_iter(hay, pat).map(|i| (start + i as u64, false)));
        }
        for (at, framed) in found {
            if at >= limit {
                continue;
            }
            let (count, max, want) = if framed {
                (&mut self.modinfos, MAX_MODINFOS, MAX_STRING)
            } else {
                (&mut self.versions, MAX_VERSIONS, VERSION_KEEP)
            };
            if *count >= max {
                self.dropped += 1;
                continue;
            }
            *count += 1;
            let mut c = Capture::new(at, want, framed);
            c.feed(self.base, &self.buf);
            self.captures.push(c);
        }
        *from = limit;
    }

    /// Drops searched bytes before `keep_from`.
    fn trim(&mut self, keep_from: u64) {
        if keep_from > self.base {
            self.buf.drain(..(keep_from - self.base) as usize);
            self.base = keep_from;
        }
    }

    /// Up to `len` bytes at file offset `off`: from what was kept, else read on to them
    /// (fewer at the end of the file). `None` when they came before and were not kept.
    fn fetch(&mut self, off: u64, len: u64) -> io::Result<Option<Vec<u8>>> {
        if let Some(b) = self.captures.iter().find_map(|c| c.get(off, len)) {
            return Ok(Some(b.to_vec()));
        }
        let end = off.saturating_add(len);
        let mut out = Vec::new();
        if off < self.pos {
            // The part already read must be in the recent chunks, in one run.
            for (at, v) in &self.recent {
                let from = off + out.len() as u64;
                let chunk_end = at + v.len() as u64;
                if from >= *at && from < chunk_end {
                    let to = end.min(chunk_end);
                    out.extend_from_slice(&v[(from - at) as usize..(to - at) as usize]);
                }
            }
            if (out.len() as u64) < end.min(self.pos) - off {
                return Ok(None);
            }
        }
        let from = off + out.len() as u64;
        if from < end {
            self.captures.push(Capture::new(from, end - from, false));
            while !self.captures.last().is_some_and(|c| c.done) && self.fill()? {}
            let c = self.captures.pop().expect("pushed above");
            out.extend_from_slice(&c.bytes);
        }
        Ok(Some(out))
    }
}

/// Streams an executable looking for the build info at 16-byte-aligned offsets. Reads at
/// most `limit` bytes; files that are not ELF, PE or Mach-O stop after the first read.
pub fn scan_reader(r: &mut dyn Read, limit: u64) -> io::Result<Option<GoBuildInfo>> {
    let mut s = Stream::new(r, limit);
    loop {
        match exe::sniff(&s.head) {
            Some(Some(_)) => break,
            Some(None) => return Ok(None),
            None if !s.fill()? => return Ok(None),
            None => {}
        }
    }
    // The next aligned offset to test for the magic, and where strings are looked for.
    let mut next = 0u64;
    let mut strings = 0u64;
    let (magic_at, header) = loop {
        s.keep_strings(&mut strings);
        let mut hit = None;
        while next + MAGIC.len() as u64 <= s.pos {
            let i = (next - s.base) as usize;
            if s.buf[i] == 0xff && s.buf[i..].starts_with(MAGIC) {
                hit = Some(next);
                break;
            }
            next += ALIGN;
        }
        if let Some(m) = hit {
            match s.fetch(m, 32)? {
                Some(h) if h.len() == 32 && plausible(&h) => break (m, h),
                // A copy of the magic in other data (Go's own tools hold one): search on.
                Some(h) if h.len() == 32 => {
                    next += ALIGN;
                    continue;
                }
                _ => return Ok(None),
            }
        }
        if s.eof {
            return Ok(None);
        }
        s.trim(next.min(strings));
        s.fill()?;
    };
    if header[15] & 2 != 0 {
        let blob = s.fetch(magic_at, TAIL)?.unwrap_or_default();
        return Ok(parse(&blob));
    }
    legacy(&mut s, &header, magic_at).map(Some)
}

/// Whether a header is what a Go linker writes: a pointer size of 4 or 8, and flags that
/// are a byte-order bit (1: big-endian) and the inline-strings bit (2, Go 1.18+) only.
fn plausible(header: &[u8]) -> bool {
    matches!(header[14], 4 | 8) && header[15] <= 3
}

/// Follows the pointers of a Go 1.13–1.17 header at file offset `at`.
fn legacy(s: &mut Stream<'_>, header: &[u8], at: u64) -> io::Result<GoBuildInfo> {
    let fail = |why: String| GoBuildInfo {
        notes: vec![format!(
            "Go build info (Go < 1.18 format) at offset {at}: {why}; its modules are not listed"
        )],
        ..GoBuildInfo::default()
    };
    let ptr_size = header[14];
    // Go writes 1 for big-endian, 0 for little.
    let little = header[15] == 0;
    let ptr = |b: &[u8]| exe::read_uint(&b[..usize::from(ptr_size)], little);
    // The headers may not all be in yet when the magic came early.
    while s.head.len() < exe::HEAD && s.fill()? {}
    let layout = match Layout::parse(&s.head) {
        Ok(l) => l,
        Err(e) => {
            return Ok(fail(format!(
                "its pointers need the executable's headers: {e}"
            )));
        }
    };
    let p = usize::from(ptr_size);
    let version = follow(
        s,
        &layout,
        ptr_size,
        little,
        ptr(&header[16..]),
        "Go version",
    )?;
    let modinfo = follow(
        s,
        &layout,
        ptr_size,
        little,
        ptr(&header[16 + p..]),
        "module info",
    )?;
    let version = match version {
        Ok(v) if v.is_empty() => return Ok(fail("the Go version string is empty".into())),
        Ok(v) => v,
        Err(e) => return Ok(fail(e)),
    };
    Ok(match modinfo {
        Ok(m) => from_strings(&version, &m),
        Err(e) => GoBuildInfo {
            notes: vec![format!(
                "Go build info (Go < 1.18 format) at offset {at}: {e}; only the Go version is listed"
            )],
            ..from_strings(&version, b"")
        },
    })
}

/// The bytes of the Go string whose header is at virtual address `addr`.
fn follow(
    s: &mut Stream<'_>,
    layout: &Layout,
    ptr_size: u8,
    little: bool,
    addr: u64,
    what: &str,
) -> io::Result<Result<Vec<u8>, String>> {
    let p = u64::from(ptr_size);
    let header_at = match layout.locate(addr, 2 * p) {
        Ok(o) => o,
        Err(e) if addr == 0 => {
            // Position-independent builds leave these pointers to the dynamic loader.
            return Ok(Err(format!(
                "the {what} pointer is 0 (a position-independent binary: Go's own tools cannot read it either): {e}"
            )));
        }
        Err(e) => return Ok(Err(format!("the {what} string header: {e}"))),
    };
    let header = match s.fetch(header_at, 2 * p)? {
        Some(h) if h.len() as u64 == 2 * p => h,
        Some(_) => {
            return Ok(Err(format!(
                "the file ends at offset {} before the {what} string header at offset {header_at}",
                s.pos
            )));
        }
        None => {
            return Ok(Err(format!(
                "the {what} string header at offset {header_at} comes before the build info and was not kept (only the last {BACK} bytes are)"
            )));
        }
    };
    let read = |b: &[u8]| exe::read_uint(&b[..usize::from(ptr_size)], little);
    let (data, len) = (read(&header), read(&header[usize::from(ptr_size)..]));
    if len > MAX_STRING {
        return Ok(Err(format!(
            "the {what} string is {len} bytes, over the {MAX_STRING}-byte limit; not read"
        )));
    }
    let data_at = match layout.locate(data, len) {
        Ok(o) => o,
        Err(e) => return Ok(Err(format!("the {what} string: {e}"))),
    };
    Ok(match s.fetch(data_at, len)? {
        Some(b) if b.len() as u64 == len => Ok(b),
        Some(_) => Err(format!(
            "the file ends at offset {} inside the {what} string at offset {data_at} ({len} bytes)",
            s.pos
        )),
        None => Err(format!(
            "the {what} string at offset {data_at} comes before the build info and was not kept (kept are bytes that start like a Go version or module info{})",
            if s.dropped > 0 {
                format!(", up to a bound that left out {} more", s.dropped)
            } else {
                String::new()
            }
        )),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::build::exe::{Bits, GoLegacy as Legacy, elf, macho, pe};

    fn framed_modinfo() -> Vec<u8> {
        Legacy::framed_modinfo()
    }

    /// What every fake binary's build info says, whatever its format.
    fn assert_modules(info: &GoBuildInfo, go_version: &str, what: &str) {
        assert_eq!(info.notes, Vec::<String>::new(), "{what}");
        assert_eq!(info.go_version, go_version, "{what}");
        assert_eq!(info.path.as_deref(), Some("example.com/cmd/srv"), "{what}");
        assert_eq!(info.main.as_ref().unwrap().version, "v1.2.3", "{what}");
        let deps: Vec<_> = info
            .deps
            .iter()
            .map(|d| (d.path.as_str(), d.version.as_str()))
            .collect();
        assert_eq!(
            deps,
            [
                ("golang.org/x/net", "v0.20.0"),
                ("github.com/old/lib", "v1.0.0")
            ],
            "{what}"
        );
        assert_eq!(
            info.deps[1].replaced_by,
            Some(("github.com/new/lib".into(), "v1.1.0".into())),
            "{what}"
        );
        assert_eq!(info.settings, [("GOOS".into(), "linux".into())], "{what}");
    }

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
        blob.extend(varstr(&framed_modinfo()));
        f.extend(blob);
        f.extend(vec![0u8; 100]);
        f
    }

    #[test]
    fn finds_build_info_across_chunks() {
        for pad in [16, 300_000, 262_144 - 8] {
            let bin = fake_go_binary(pad);
            let info = scan_reader(&mut &bin[..], 1 << 30).unwrap().unwrap();
            assert_modules(&info, "go1.22.5", &format!("pad {pad}"));
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

    /// Reads at most `n` bytes at a time, as a tar entry reader may.
    struct Dribble<'a>(&'a [u8], usize);

    impl Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn scan(bin: &[u8], chunk: usize) -> Option<GoBuildInfo> {
        scan_reader(&mut Dribble(bin, chunk), 1 << 30).unwrap()
    }

    #[test]
    fn reads_pre_118_build_info_in_every_format() {
        // The strings lie further back than the bytes kept behind the stream.
        assert!(Legacy::new(Bits::B64, true).gap > BACK + CHUNK);
        let mut files = Vec::new();
        for (bits, little) in [
            (Bits::B64, true),
            (Bits::B64, false),
            (Bits::B32, true),
            (Bits::B32, false),
        ] {
            let l = Legacy::new(bits, little);
            files.push((format!("ELF {bits:?} little={little}"), l.elf()));
            files.push((
                format!("Mach-O {bits:?} little={little}"),
                macho(bits, little, &l.sections()),
            ));
        }
        for bits in [Bits::B64, Bits::B32] {
            files.push((
                format!("PE {bits:?}"),
                pe(bits, 0x40_0000, &Legacy::new(bits, true).sections()),
            ));
        }
        for (i, (what, bin)) in files.iter().enumerate() {
            let chunks: &[usize] = if i == 0 {
                &[CHUNK, 4093, 7]
            } else {
                &[CHUNK, 4093]
            };
            for &chunk in chunks {
                let info = scan(bin, chunk).unwrap_or_else(|| panic!("{what}"));
                assert_modules(&info, "go1.16.15", &format!("{what}, chunk {chunk}"));
            }
        }
    }

    #[test]
    fn pre_118_string_headers_before_the_header_or_strings_after_it() {
        // `.data` ahead of `.go.buildinfo`: the string headers come from the kept bytes.
        let mut l = Legacy::new(Bits::B64, true);
        l.data_first = true;
        assert_modules(&scan(&l.elf(), 4096).unwrap(), "go1.16.15", "data first");
        // Strings in a section after the header: read on to them.
        let mut late = Legacy::new(Bits::B64, true).sections();
        let rodata = late.remove(1);
        late.push(rodata);
        let bin = elf(Bits::B64, true, &late);
        assert_modules(&scan(&bin, 4096).unwrap(), "go1.16.15", "rodata last");
    }

    /// A change to a well-formed binary.
    type Tamper = fn(&mut Legacy);

    /// The one note a tampered binary gives, with nothing listed but what is said.
    fn note(l: &Legacy) -> (String, String) {
        let info = scan(&l.elf(), 4096).unwrap();
        assert_eq!(info.notes.len(), 1, "{info:?}");
        (info.go_version.clone(), info.notes[0].clone())
    }

    #[test]
    fn malformed_pre_118_pointers_give_notes() {
        let at = "Go build info (Go < 1.18 format) at offset ";
        let cases: [(&str, Tamper); 6] = [
            (
                "the Go version string header: address 0x1234 is not in any part of the ELF file",
                |l| {
                    l.headers[0] = 0x1234;
                },
            ),
            (
                "the Go version pointer is 0 (a position-independent binary",
                |l| l.headers[0] = 0,
            ),
            (
                "the Go version string is 16777216 bytes, over the 1048576-byte limit",
                |l| {
                    l.strings[0].1 = 16 << 20;
                },
            ),
            (
                "the Go version string: 200 bytes at address 0x500578 run past the end",
                |l| {
                    l.strings[0] = (Legacy::RODATA + 1400, 200);
                },
            ),
            ("the Go version string at offset ", |l| {
                l.strings[0].0 = Legacy::RODATA + 10
            }),
            ("the Go version string is empty", |l| l.strings[0].1 = 0),
        ];
        for (want, tamper) in cases {
            let mut l = Legacy::new(Bits::B64, true);
            tamper(&mut l);
            let (version, note) = note(&l);
            assert_eq!(version, "", "{note}");
            assert!(
                note.starts_with(at) && note.contains(want),
                "{want}: {note}"
            );
            assert!(note.ends_with("its modules are not listed"), "{note}");
        }
        // Bytes before the header that do not start like a version are not kept.
        let mut l = Legacy::new(Bits::B64, true);
        l.strings[0].0 = Legacy::RODATA + 10;
        let (_, n) = note(&l);
        assert!(n.contains("comes before the build info and was not kept (kept are bytes that start like a Go version or module info)"), "{n}");
        // A bad module info pointer still lists the Go version.
        let mut l = Legacy::new(Bits::B32, false);
        l.headers[1] = 0xdead_beef;
        let (version, n) = note(&l);
        assert_eq!(version, "go1.16.15");
        assert!(
            n.contains("module info string header: address 0xdeadbeef")
                && n.ends_with("only the Go version is listed"),
            "{n}"
        );
        // The file ends before the string headers it points at.
        let l = Legacy::small(Bits::B64, true);
        let bin = l.elf();
        let header_end = bin.windows(MAGIC.len()).position(|w| w == MAGIC).unwrap() + 32;
        let info = scan(&bin[..header_end + 20], 4096).unwrap();
        assert!(
            info.notes[0].contains("the file ends at offset"),
            "{:?}",
            info.notes
        );
        // Headers that could not be read.
        let mut bin = l.elf();
        bin[4] = 7;
        let info = scan(&bin, 4096).unwrap();
        assert!(
            info.notes[0]
                .contains("its pointers need the executable's headers: ELF header: class byte 7"),
            "{:?}",
            info.notes
        );
    }

    #[test]
    fn implausible_headers_are_passed_over_and_nothing_panics() {
        // A copy of the magic with flags no linker writes, before the real header.
        let mut sections = Legacy::new(Bits::B64, true).sections();
        let mut decoy = MAGIC.to_vec();
        decoy.extend([0x41, 0x42]);
        decoy.resize(64, 0x41);
        sections[0].data.splice(0..0, decoy);
        let bin = elf(Bits::B64, true, &sections);
        assert_modules(&scan(&bin, 4096).unwrap(), "go1.16.15", "decoy");
        // Every prefix, and every byte of the header and string headers changed.
        let small = Legacy::small(Bits::B32, true).elf();
        for n in (0..small.len()).step_by(97) {
            let _ = scan(&small[..n], 4096);
        }
        let at = small.windows(MAGIC.len()).position(|w| w == MAGIC).unwrap();
        for i in at + 14..at + 32 {
            for v in [0, 1, 2, 0xff] {
                let mut bad = small.clone();
                bad[i] = v;
                let _ = scan(&bad, 4096);
            }
        }
    }
}
