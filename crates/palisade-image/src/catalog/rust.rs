//! Rust binaries built with `cargo auditable`: the dependency list it links into the section
//! `.dep-v0` (ELF, PE, and Mach-O's `__DATA,.dep-v0`), a zlib stream of JSON
//! `{"packages":[{"name","version","source","kind","dependencies","root"}]}` (`kind` is
//! `runtime` when absent, `root` false; newer writers may add a `format` key first).
//!
//! Executables are streamed once, in the layer's thread, together with the Go build-info
//! search (see [`Tap`]), so nothing is buffered whole. An ELF section header table usually
//! sits at the end of the file, after the section's bytes have gone by, so the stream is
//! searched for a zlib header whose first inflated bytes look like the audit JSON, and the
//! stream found there is inflated as the bytes pass (bounded: compressed bytes, inflated
//! bytes, packages). When the section table is known as well (PE and Mach-O keep it in
//! their headers, read by [`super::exe`]; ELF's when its end is reached), a candidate
//! counts only if a section starts exactly at its offset (named `.dep-v0`, where the
//! format's table gives names) and holds all of its compressed bytes: audit data of
//! another binary embedded in this one (`include_bytes!`) lies inside `.rodata`, not at a
//! section start. Without a reachable ELF header table (beyond the scan limit, or stripped
//! by `sstrip`) the stream is trusted on its content alone.

use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};
use serde::Deserialize;

use super::exe::{self, Layout};

/// Bounds on what one binary's dependency list may make Palisade read or hold.
#[derive(Clone, Debug)]
pub struct RustLimits {
    /// Compressed bytes of the `.dep-v0` stream (real lists of 1,000 crates are ~30 KiB).
    pub max_section: u64,
    /// Inflated JSON bytes: a zlib bomb stops here.
    pub max_json: u64,
    /// Packages in one list.
    pub max_packages: usize,
}

impl Default for RustLimits {
    fn default() -> Self {
        RustLimits {
            max_section: 4 << 20,
            max_json: 16 << 20,
            max_packages: 20_000,
        }
    }
}

/// One crate as `cargo auditable` records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crate {
    pub name: String,
    pub version: String,
    /// `crates.io`, `git`, `local`, `registry` (an alternative registry) or `other`.
    pub source: String,
    /// A build dependency (build scripts, proc macros): compiled, but not in the binary.
    pub build: bool,
    /// The binary's own package.
    pub root: bool,
}

/// What a Rust binary says about its dependencies, and what went wrong reading it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RustBinary {
    pub crates: Vec<Crate>,
    /// Problems with a dependency list that was found; reported as entry errors.
    pub errors: Vec<String>,
}

/// A zlib header: deflate with a 32 KiB window (`0x78`), no preset dictionary, FCHECK right.
fn zlib_header(cmf: u8, flg: u8) -> bool {
    cmf == 0x78 && flg & 0x20 == 0 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// Input bytes a candidate needs in view before its first inflated bytes are judged: a
/// dynamic Huffman block header is at most ~300 bytes.
const PROBE_INPUT: usize = 1024;
/// Inflated bytes judged: `{"format":1,"packages":[` fits.
const PROBE_OUTPUT: usize = 32;
/// Candidates inflated to the end; more would mean a file built to waste time.
const MAX_CANDIDATES: usize = 8;
/// The section `cargo auditable` writes.
const SECTION: &str = ".dep-v0";
/// Largest section header table kept (4,096 64-bit headers).
const MAX_SHT: u64 = 256 << 10;

/// Whether inflated bytes start like the audit JSON.
fn looks_like_audit_json(out: &[u8]) -> bool {
    out.starts_with(b"{\"") && out.windows(11).any(|w| w == b"\"packages\":")
}

/// A zlib stream that looked like audit JSON, and what inflating it gave.
#[derive(Debug)]
struct Candidate {
    offset: u64,
    /// Compressed bytes consumed so far.
    consumed: u64,
    /// The inflated JSON, or why it could not be had.
    result: Result<Vec<u8>, String>,
}

/// An inflation in progress.
struct Active {
    offset: u64,
    consumed: u64,
    out: Vec<u8>,
}

/// Looks for a `cargo auditable` dependency list in bytes fed in file order.
pub struct Scanner<'l> {
    limits: &'l RustLimits,
    /// File offset of the next byte fed.
    pos: u64,
    /// The file's first bytes, up to [`exe::HEAD`], for its headers.
    head: Vec<u8>,
    layout: Option<Layout>,
    /// Not an executable: nothing more is looked at.
    off: bool,
    /// Bytes not yet searched (plus a tail kept for probing), from file offset `window_at`.
    window: Vec<u8>,
    window_at: u64,
    active: Option<Active>,
    inflater: Decompress,
    candidates: Vec<Candidate>,
    sht: Vec<u8>,
}

impl<'l> Scanner<'l> {
    #[must_use]
    pub fn new(limits: &'l RustLimits) -> Scanner<'l> {
        Scanner {
            limits,
            pos: 0,
            head: Vec::new(),
            layout: None,
            off: false,
            window: Vec::new(),
            window_at: 0,
            active: None,
            inflater: Decompress::new(true),
            candidates: Vec::new(),
            sht: Vec::new(),
        }
    }

    /// Feeds the next bytes of the file.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.off || chunk.is_empty() {
            return;
        }
        let at = self.pos;
        self.pos += chunk.len() as u64;
        if self.layout.is_none() {
            let need = exe::HEAD - self.head.len();
            self.head.extend_from_slice(&chunk[..need.min(chunk.len())]);
            if exe::sniff(&self.head) == Some(None) {
                self.off = true;
                return;
            }
            if self.head.len() == exe::HEAD {
                self.read_headers();
                if self.off {
                    return;
                }
            }
        }
        self.keep_sht(at, chunk);
        self.push(at, chunk);
    }

    /// Parses the headers from the bytes kept, and takes the part of the ELF section
    /// header table that lies among them.
    fn read_headers(&mut self) {
        match Layout::parse(&self.head) {
            Ok(l) => {
                if let Some(t) = l.elf_sht
                    && t.len <= MAX_SHT
                    && t.offset < self.head.len() as u64
                {
                    let end = (t.offset + t.len).min(self.head.len() as u64);
                    self.sht = self.head[t.offset as usize..end as usize].to_vec();
                }
                self.layout = Some(l);
            }
            Err(_) => self.off = true,
        }
        self.head = Vec::new();
    }

    /// Copies the part of `chunk` (at file offset `at`) that is section header table and
    /// follows what is already kept.
    fn keep_sht(&mut self, at: u64, chunk: &[u8]) {
        let Some(t) = self.layout.as_ref().and_then(|l| l.elf_sht) else {
            return;
        };
        if t.len > MAX_SHT {
            return;
        }
        let start = (t.offset + self.sht.len() as u64).max(at);
        let end = (t.offset + t.len).min(at + chunk.len() as u64);
        if start < end && start == t.offset + self.sht.len() as u64 {
            self.sht
                .extend_from_slice(&chunk[(start - at) as usize..(end - at) as usize]);
        }
    }

    /// Hands `chunk` to the inflation in progress, or searches it.
    fn push(&mut self, at: u64, chunk: &[u8]) {
        let mut chunk = chunk;
        let mut at = at;
        if self.active.is_some() {
            let used = self.inflate(chunk, false);
            chunk = &chunk[used..];
            at += used as u64;
            if self.active.is_some() || chunk.is_empty() {
                return;
            }
        }
        if self.window.is_empty() {
            self.window_at = at;
        }
        self.window.extend_from_slice(chunk);
        self.search(false);
    }

    /// Searches the window for candidates that have [`PROBE_INPUT`] bytes in view (all of
    /// them at the `tail` of what is read), then drops what no later candidate can need.
    fn search(&mut self, tail: bool) {
        let mut i = 0;
        while self.active.is_none() && self.candidates.len() < MAX_CANDIDATES {
            let Some(j) = memchr::memchr(0x78, &self.window[i..]) else {
                i = self.window.len();
                break;
            };
            let c = i + j;
            if c + 1 >= self.window.len() || (!tail && c + PROBE_INPUT > self.window.len()) {
                i = c;
                break;
            }
            i = c + 1;
            if !zlib_header(self.window[c], self.window[c + 1]) || !self.probe(c) {
                continue;
            }
            self.active = Some(Active {
                offset: self.window_at + c as u64,
                consumed: 0,
                out: Vec::new(),
            });
            self.inflater.reset(true);
            let rest = self.window.split_off(c);
            self.window.clear();
            let used = self.inflate(&rest, false);
            if self.active.is_some() {
                return;
            }
            // A short stream ended inside the window: search on after it.
            self.window_at += (c + used) as u64;
            self.window = rest[used..].to_vec();
            i = 0;
        }
        if self.active.is_none() {
            // Keep the unsearched tail for the next chunk.
            let keep_from = i.min(self.window.len());
            self.window.drain(..keep_from);
            self.window_at += keep_from as u64;
            if self.candidates.len() >= MAX_CANDIDATES {
                self.window.clear();
            }
        }
    }

    /// Whether the zlib stream at window offset `c` starts like the audit JSON.
    fn probe(&mut self, c: usize) -> bool {
        self.inflater.reset(true);
        let end = (c + PROBE_INPUT).min(self.window.len());
        let mut out = [0u8; PROBE_OUTPUT];
        let mut got = 0;
        let mut input = &self.window[c..end];
        while got < PROBE_OUTPUT {
            let (before_in, before_out) = (self.inflater.total_in(), self.inflater.total_out());
            match self
                .inflater
                .decompress(input, &mut out[got..], FlushDecompress::None)
            {
                Ok(status) => {
                    let used = (self.inflater.total_in() - before_in) as usize;
                    let made = (self.inflater.total_out() - before_out) as usize;
                    input = &input[used..];
                    got += made;
                    if status == Status::StreamEnd || (used == 0 && made == 0) {
                        break;
                    }
                }
                Err(_) => return false,
            }
        }
        looks_like_audit_json(&out[..got])
    }

    /// Inflates `input` into the active candidate; returns the input bytes used. Ends the
    /// candidate at the stream's end, on an error or a limit, or at `eof`.
    fn inflate(&mut self, input: &[u8], eof: bool) -> usize {
        let Some(a) = self.active.as_mut() else {
            return 0;
        };
        let limits = self.limits;
        let mut used_total = 0;
        let mut buf = [0u8; 32 * 1024];
        let mut input = input;
        let outcome: Option<Result<(), String>> = loop {
            let (before_in, before_out) = (self.inflater.total_in(), self.inflater.total_out());
            let r = self
                .inflater
                .decompress(input, &mut buf, FlushDecompress::None);
            let used = (self.inflater.total_in() - before_in) as usize;
            let made = (self.inflater.total_out() - before_out) as usize;
            input = &input[used..];
            used_total += used;
            a.consumed += used as u64;
            if a.out.len() as u64 + made as u64 > limits.max_json {
                break Some(Err(format!(
                    "inflates to more than {} bytes; not read",
                    limits.max_json
                )));
            }
            a.out.extend_from_slice(&buf[..made]);
            if a.consumed > limits.max_section {
                break Some(Err(format!(
                    "compressed list over the {}-byte limit; not read",
                    limits.max_section
                )));
            }
            match r {
                Ok(Status::StreamEnd) => break Some(Ok(())),
                Ok(_) if used == 0 && made == 0 => {
                    break eof.then(|| {
                        Err("the file ends inside the compressed list (truncated)".into())
                    });
                }
                Ok(_) => {}
                // zlib-rs names its internal state, not the fault in the data.
                Err(_) => break Some(Err("corrupt zlib stream".into())),
            }
        };
        if let Some(outcome) = outcome {
            let a = self.active.take().expect("active");
            self.candidates.push(Candidate {
                offset: a.offset,
                consumed: a.consumed,
                result: outcome.map(|()| a.out),
            });
        }
        used_total
    }

    /// The dependency list of the whole file (`eof`: the file was read to its end, so a
    /// list still being inflated is truncated). `None` when there is none.
    #[must_use]
    pub fn finish(mut self, eof: bool) -> Option<RustBinary> {
        if self.layout.is_none() && !self.off {
            // A file shorter than the bytes kept for headers.
            self.read_headers();
        }
        if self.off {
            return None;
        }
        if self.active.is_none() {
            // The last bytes had too little after them to be probed while streaming.
            self.search(true);
        }
        if self.active.is_some() {
            if eof {
                self.inflate(&[], true);
            } else {
                // Cut by the scan limit: say so rather than guess.
                let a = self.active.take().expect("active");
                self.candidates.push(Candidate {
                    offset: a.offset,
                    consumed: a.consumed,
                    result: Err("the list lies beyond the bytes searched in executables".into()),
                });
            }
        }
        let layout = self.layout.as_ref()?;
        // PE and Mach-O name their sections in the header; an ELF's table is whole only
        // when it was read to its end.
        let sections = match layout.elf_sht {
            Some(t) if self.sht.len() as u64 == t.len => Some(layout.elf_sections(&self.sht)),
            Some(_) => None,
            None if layout.format == exe::Format::Elf => None,
            None => Some(layout.sections.clone()),
        };
        let mut out = RustBinary::default();
        let mut found = false;
        for c in self.candidates {
            let mut result = c.result;
            if let Some(sections) = &sections {
                let Some(size) = sections
                    .iter()
                    .find(|s| {
                        s.offset == c.offset && s.name.as_deref().is_none_or(|n| n == SECTION)
                    })
                    .map(|s| s.size)
                else {
                    continue;
                };
                if result.is_ok() && c.consumed > size {
                    result = Err(format!(
                        "the zlib stream runs {} bytes past the end of its {size}-byte section (truncated section)",
                        c.consumed - size
                    ));
                }
            }
            let parsed = result.and_then(|json| parse(&json, self.limits));
            match parsed {
                Ok(crates) if !found => {
                    found = true;
                    out.crates = crates;
                }
                Ok(_) => {}
                Err(e) => out.errors.push(format!(
                    "Rust dependency list (cargo auditable) at offset {}: {e}",
                    c.offset
                )),
            }
        }
        (found || !out.errors.is_empty()).then_some(out)
    }
}

#[derive(Deserialize)]
struct RawInfo {
    packages: Vec<RawPackage>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    root: bool,
}

/// Parses the inflated JSON.
pub fn parse(json: &[u8], limits: &RustLimits) -> Result<Vec<Crate>, String> {
    let info: RawInfo =
        serde_json::from_slice(json).map_err(|e| format!("not the audit JSON: {e}"))?;
    if info.packages.len() > limits.max_packages {
        return Err(format!(
            "{} packages, over the limit of {}; not read",
            info.packages.len(),
            limits.max_packages
        ));
    }
    Ok(info
        .packages
        .into_iter()
        .map(|p| Crate {
            build: p.kind.as_deref() == Some("build"),
            name: p.name,
            version: p.version,
            source: p.source,
            root: p.root,
        })
        .collect())
}

/// Passes reads through while a [`Scanner`] watches the bytes, so the Go build-info search
/// and this one share one read of the file.
pub struct Tap<'s, 'l, R> {
    pub inner: R,
    pub scanner: &'s mut Scanner<'l>,
    /// Whether `inner` reported its end.
    pub eof: bool,
}

impl<R: Read> Read for Tap<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        self.scanner.feed(&buf[..n]);
        Ok(n)
    }
}

/// Reads all of `r` (at most `limit` bytes) for a dependency list.
pub fn scan_reader(r: &mut dyn Read, limit: u64, limits: &RustLimits) -> Option<RustBinary> {
    let mut scanner = Scanner::new(limits);
    let mut tap = Tap {
        inner: r.take(limit),
        scanner: &mut scanner,
        eof: false,
    };
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match tap.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    let eof = tap.eof && tap.inner.limit() > 0;
    scanner.finish(eof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::exe::{Bits, macho, pe};
    use crate::build::exe::{
        CARGO_AUDITABLE_JSON as REAL_JSON, Section, auditable_binary, elf64, filler, zlib,
    };
    use crate::catalog::exe::read_uint;

    fn scan(bin: &[u8], chunk: usize, limits: &RustLimits) -> Option<RustBinary> {
        let mut s = Scanner::new(limits);
        for c in bin.chunks(chunk) {
            s.feed(c);
        }
        s.finish(true)
    }

    fn names(r: &RustBinary) -> Vec<(String, bool, bool)> {
        r.crates
            .iter()
            .map(|c| {
                (
                    format!("{}@{} {}", c.name, c.version, c.source),
                    c.build,
                    c.root,
                )
            })
            .collect()
    }

    #[test]
    fn reads_the_list_whatever_the_chunking() {
        let bin = auditable_binary(REAL_JSON, 300_000);
        let limits = RustLimits::default();
        for chunk in [1, 7, 64, 1000, 4096, 65_536, 262_144, bin.len()] {
            let r = scan(&bin, chunk, &limits).unwrap_or_else(|| panic!("chunk {chunk}"));
            assert_eq!(r.errors, Vec::<String>::new(), "chunk {chunk}");
            assert_eq!(
                names(&r),
                vec![
                    ("audbin@0.1.0 local".into(), false, true),
                    ("cc@1.0.83 crates.io".into(), true, false),
                    ("libc@0.2.191 crates.io".into(), true, false),
                    ("smallvec@1.6.0 crates.io".into(), false, false),
                ],
                "chunk {chunk}"
            );
        }
        // Through a reader, as the layer pass does.
        let r = scan_reader(&mut &bin[..], 1 << 30, &limits).unwrap();
        assert_eq!(r.crates.len(), 4);
    }

    #[test]
    fn files_without_a_list_give_nothing() {
        let limits = RustLimits::default();
        assert!(scan(b"#!/bin/sh\necho hi\n", 4, &limits).is_none());
        let plain = elf64(&[Section::new(".text", filler(3, 500_000))]);
        assert!(scan(&plain, 65_536, &limits).is_none());
        // zlib data that is not the audit JSON (a compressed asset).
        let asset = elf64(&[
            Section::new(".text", filler(3, 1000)),
            Section::new(".dep-v0", zlib(b"{\"assets\":[1,2,3]}")),
        ]);
        assert!(scan(&asset, 65_536, &limits).is_none());
    }

    #[test]
    fn audit_data_embedded_in_another_section_is_not_this_binarys() {
        // A tool that bundles another binary's audit data (`include_bytes!`) in `.rodata`.
        let mut rodata = filler(5, 1001);
        rodata.extend(zlib(REAL_JSON.as_bytes()));
        rodata.extend(filler(6, 1000));
        let bin = elf64(&[Section::new(".rodata", rodata)]);
        assert!(scan(&bin, 65_536, &RustLimits::default()).is_none());
        // Without a section header table (cut off) the stream is trusted on its content.
        let shoff = read_uint(&bin[0x28..0x30], true) as usize;
        let r = scan(&bin[..shoff], 65_536, &RustLimits::default()).unwrap();
        assert_eq!(r.crates.len(), 4);
    }

    #[test]
    fn a_zlib_bomb_stops_at_the_limit() {
        let mut json = br#"{"packages":["#.to_vec();
        json.extend(std::iter::repeat_n(b' ', 64 << 20));
        json.extend(b"]}");
        let z = zlib(&json);
        assert!(z.len() < 100_000, "{}", z.len());
        let bin = elf64(&[
            Section::new(".text", filler(3, 70_000)),
            Section::new(".dep-v0", z),
        ]);
        let limits = RustLimits::default();
        let r = scan(&bin, 262_144, &limits).unwrap();
        assert!(r.crates.is_empty());
        assert_eq!(r.errors.len(), 1);
        assert!(
            r.errors[0].contains("inflates to more than 16777216 bytes; not read"),
            "{:?}",
            r.errors
        );
        // The compressed size is bounded too.
        let small = RustLimits {
            max_section: 1000,
            ..RustLimits::default()
        };
        let r = scan(&bin, 262_144, &small).unwrap();
        assert!(
            r.errors[0].contains("compressed list over the 1000-byte limit"),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn truncated_sections_and_files_are_errors() {
        let z = zlib(REAL_JSON.as_bytes());
        // The section holds only the first half of the stream; the next section follows.
        let bin = elf64(&[
            Section::new(".text", filler(3, 70_000)),
            Section::new(".dep-v0", z[..z.len() / 2].to_vec()),
            Section::new(".rodata", filler(4, 5000)),
        ]);
        let r = scan(&bin, 65_536, &RustLimits::default()).unwrap();
        assert!(r.crates.is_empty());
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        let e = &r.errors[0];
        assert!(
            e.starts_with("Rust dependency list (cargo auditable) at offset 70064: ")
                && (e.contains("corrupt zlib stream") || e.contains("truncated section")),
            "{e}"
        );
        // The file ends inside the stream.
        let whole = auditable_binary(REAL_JSON, 70_000);
        let cut = &whole[..70_064 + z.len() / 2];
        let r = scan(cut, 65_536, &RustLimits::default()).unwrap();
        assert_eq!(
            r.errors,
            vec![
                "Rust dependency list (cargo auditable) at offset 70064: the file ends inside the compressed list (truncated)"
                    .to_string()
            ]
        );
        // Stopped by the scan limit, not the end of the file: said so.
        let limits = RustLimits::default();
        let mut s = Scanner::new(&limits);
        s.feed(cut);
        let r = s.finish(false).unwrap();
        assert!(r.errors[0].contains("beyond the bytes searched"), "{r:?}");
        // Every prefix of a file is handled without a panic.
        let small = auditable_binary(REAL_JSON, 2000);
        for n in 0..small.len() {
            let _ = scan(&small[..n], 512, &RustLimits::default());
        }
    }

    #[test]
    fn too_many_packages_and_bad_json_are_errors() {
        let pkgs: Vec<String> = (0..50)
            .map(|i| format!(r#"{{"name":"c{i}","version":"1.0.{i}","source":"crates.io"}}"#))
            .collect();
        let json = format!(r#"{{"packages":[{}]}}"#, pkgs.join(","));
        let limits = RustLimits {
            max_packages: 10,
            ..RustLimits::default()
        };
        let r = scan(&auditable_binary(&json, 1000), 4096, &limits).unwrap();
        assert!(r.errors[0].ends_with("50 packages, over the limit of 10; not read"));
        let r = scan(
            &auditable_binary(r#"{"packages":[{"name":1}]}"#, 1000),
            4096,
            &limits,
        )
        .unwrap();
        assert!(r.errors[0].contains("not the audit JSON"), "{r:?}");
    }

    #[test]
    fn reads_the_list_from_pe_and_macho() {
        let limits = RustLimits::default();
        let sections = |dep: &str| {
            vec![
                Section::new(".text", filler(7, 300_000)),
                Section::new(dep, zlib(REAL_JSON.as_bytes())),
                Section::new(".rdata", filler(11, 4096)),
            ]
        };
        let files = [
            ("PE32+", pe(Bits::B64, 0x1_4000_0000, &sections(".dep-v0"))),
            ("PE32", pe(Bits::B32, 0x40_0000, &sections(".dep-v0"))),
            (
                "Mach-O 64",
                macho(Bits::B64, true, &sections("__DATA,.dep-v0")),
            ),
            (
                "Mach-O 32 BE",
                macho(Bits::B32, false, &sections("__DATA,.dep-v0")),
            ),
        ];
        for (what, bin) in &files {
            for chunk in [7, 4096, 262_144] {
                let r = scan(bin, chunk, &limits).unwrap_or_else(|| panic!("{what}"));
                assert_eq!(r.errors, Vec::<String>::new(), "{what}");
                assert_eq!(
                    names(&r).first(),
                    Some(&("audbin@0.1.0 local".to_string(), false, true)),
                    "{what}"
                );
                assert_eq!(r.crates.len(), 4, "{what}");
            }
        }
        // The same stream at the start of a section of another name is not this binary's
        // list (a bundled copy); PE and Mach-O name their sections in the header.
        for bin in [
            pe(Bits::B64, 0x1_4000_0000, &sections(".rdata2")),
            macho(Bits::B64, true, &sections("__DATA,__const")),
        ] {
            assert!(scan(&bin, 4096, &limits).is_none());
        }
        // A section shorter than its stream is a truncated list.
        let z = zlib(REAL_JSON.as_bytes());
        let mut short = sections("__DATA,.dep-v0");
        short[1].data.truncate(z.len() - 10);
        let mut bin = macho(Bits::B64, true, &short);
        // Put the whole stream back in the file, past the section's end.
        let at = bin.windows(20).position(|w| w == &z[..20]).unwrap();
        bin.splice(at..at + z.len() - 10, z.iter().copied());
        let r = scan(&bin, 4096, &limits).unwrap();
        assert!(r.errors[0].contains("past the end of its"), "{r:?}");
        // A file with a PE or Mach-O magic and no valid header gives nothing.
        assert!(scan(b"MZ this is not a PE file at all, only text", 4, &limits).is_none());
    }
}
