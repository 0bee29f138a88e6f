//! Minimal executables with chosen sections, for tests and benchmarks of the binary
//! catalogers (a real linker is not needed to put bytes in a named section): ELF (32 or
//! 64-bit, either byte order), PE (PE32 or PE32+) and Mach-O (32 or 64-bit, either byte
//! order). A section given an address is loaded there (an ELF `PT_LOAD` segment, a PE
//! section's RVA, a Mach-O segment), so pointers between sections can be followed.

use std::io::Write;

/// `SHT_PROGBITS`: bytes in the file.
pub const SHT_PROGBITS: u32 = 1;
const SHT_STRTAB: u32 = 3;
/// `SHF_ALLOC`: loaded at run time. `cargo auditable`'s `.dep-v0` is not (rust-lld puts
/// it near the end of the file, after `.comment`), code and data are.
const SHF_ALLOC: u64 = 2;

/// Pointer width of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bits {
    B32,
    B64,
}

/// One section: name, bytes, and where it is loaded, if anywhere.
#[derive(Clone, Debug)]
pub struct Section {
    /// For Mach-O, `SEGMENT,section` names the segment too (`__DATA` when not given).
    pub name: String,
    pub data: Vec<u8>,
    pub addr: Option<u64>,
}

impl Section {
    #[must_use]
    pub fn new(name: &str, data: impl Into<Vec<u8>>) -> Section {
        Section {
            name: name.into(),
            data: data.into(),
            addr: None,
        }
    }

    /// The section loaded at virtual address `addr`.
    #[must_use]
    pub fn at(mut self, addr: u64) -> Section {
        self.addr = Some(addr);
        self
    }
}

/// Writes integers in one byte order and width.
#[derive(Clone, Copy)]
struct Put {
    little: bool,
}

impl Put {
    /// Writes the low `n` bytes of `v` at `at`.
    fn uint(self, out: &mut [u8], at: usize, n: usize, v: u64) {
        let b = if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        let b = if self.little { &b[..n] } else { &b[8 - n..] };
        out[at..at + n].copy_from_slice(b);
    }
}

fn align(out: &mut Vec<u8>, to: usize) {
    out.resize(out.len().div_ceil(to) * to, 0);
}

/// An executable: the ELF header, program headers for the sections with an address, the
/// sections in order (16-byte aligned), a `.shstrtab`, then the section header table at
/// the end, where linkers put it. Nothing here is meant to run.
#[must_use]
pub fn elf(bits: Bits, little: bool, sections: &[Section]) -> Vec<u8> {
    let p = Put { little };
    let is64 = bits == Bits::B64;
    let (w, ehsize, phentsize, shentsize) = if is64 {
        (8, 64, 56, 64)
    } else {
        (4, 52, 32, 40)
    };
    let loaded = sections.iter().filter(|s| s.addr.is_some()).count();
    let mut out = vec![0u8; ehsize + loaded * phentsize];
    // (name offset, type, flags, offset, size)
    let mut headers: Vec<(u64, u32, u64, u64, u64)> = vec![(0, 0, 0, 0, 0)];
    let mut phdrs = Vec::new();
    let mut shstrtab = vec![0u8];
    for s in sections {
        align(&mut out, 16);
        let flags = if s.name.starts_with(".dep") {
            0
        } else {
            SHF_ALLOC
        };
        let at = out.len() as u64;
        headers.push((
            shstrtab.len() as u64,
            SHT_PROGBITS,
            flags,
            at,
            s.data.len() as u64,
        ));
        if let Some(addr) = s.addr {
            phdrs.push((at, addr, s.data.len() as u64));
        }
        shstrtab.extend_from_slice(s.name.as_bytes());
        shstrtab.push(0);
        out.extend_from_slice(&s.data);
    }
    let name = shstrtab.len() as u64;
    shstrtab.extend_from_slice(b".shstrtab\0");
    headers.push((name, SHT_STRTAB, 0, out.len() as u64, shstrtab.len() as u64));
    out.extend_from_slice(&shstrtab);
    align(&mut out, 8);
    let shoff = out.len() as u64;
    for (name, ty, flags, offset, size) in &headers {
        let mut h = vec![0u8; shentsize];
        p.uint(&mut h, 0, 4, *name);
        p.uint(&mut h, 4, 4, u64::from(*ty));
        p.uint(&mut h, 8, w, *flags);
        p.uint(&mut h, 8 + 2 * w, w, *offset);
        p.uint(&mut h, 8 + 3 * w, w, *size);
        p.uint(&mut h, 8 + 4 * w + 8, w, 1);
        out.extend_from_slice(&h);
    }
    for (i, (offset, addr, size)) in phdrs.iter().enumerate() {
        let h = ehsize + i * phentsize;
        p.uint(&mut out, h, 4, 1); // PT_LOAD
        if is64 {
            p.uint(&mut out, h + 4, 4, 4); // PF_R
            for (at, v) in [(8, offset), (16, addr), (24, addr), (32, size), (40, size)] {
                p.uint(&mut out, h + at, 8, *v);
            }
        } else {
            for (at, v) in [(4, offset), (8, addr), (12, addr), (16, size), (20, size)] {
                p.uint(&mut out, h + at, 4, *v);
            }
            p.uint(&mut out, h + 24, 4, 4);
        }
    }
    out[..7].copy_from_slice(&[
        0x7f,
        b'E',
        b'L',
        b'F',
        if is64 { 2 } else { 1 },
        if little { 1 } else { 2 },
        1,
    ]);
    p.uint(&mut out, 16, 2, 2); // ET_EXEC
    p.uint(&mut out, 18, 2, if is64 { 0x3e } else { 0x03 }); // x86-64, i386
    p.uint(&mut out, 20, 4, 1);
    p.uint(
        &mut out,
        24 + w,
        w,
        if phdrs.is_empty() { 0 } else { ehsize as u64 },
    );
    p.uint(&mut out, 24 + 2 * w, w, shoff);
    let counts = 24 + 3 * w + 4;
    p.uint(&mut out, counts, 2, ehsize as u64);
    p.uint(&mut out, counts + 2, 2, phentsize as u64);
    p.uint(&mut out, counts + 4, 2, phdrs.len() as u64);
    p.uint(&mut out, counts + 6, 2, shentsize as u64);
    p.uint(&mut out, counts + 8, 2, headers.len() as u64);
    p.uint(&mut out, counts + 10, 2, (headers.len() - 1) as u64);
    out
}

/// A 64-bit little-endian ELF executable (x86-64).
#[must_use]
pub fn elf64(sections: &[Section]) -> Vec<u8> {
    elf(Bits::B64, true, sections)
}

/// A Windows executable: DOS header, `PE\0\0`, COFF and optional headers, the section
/// table, then each section's bytes at a 512-byte file alignment. Sections without an
/// address get the next free 4 KiB-aligned RVA.
#[must_use]
pub fn pe(bits: Bits, image_base: u64, sections: &[Section]) -> Vec<u8> {
    const NT: usize = 0x80;
    const FILE_ALIGN: usize = 0x200;
    let p = Put { little: true };
    let opt_size = if bits == Bits::B64 { 240 } else { 224 };
    let table = NT + 24 + opt_size;
    let mut out = vec![0u8; table + 40 * sections.len()];
    align(&mut out, FILE_ALIGN);
    let headers_size = out.len();
    let mut next_rva = 0x1000u64;
    for s in sections {
        let end = s.addr.map_or(0, |a| a - image_base + s.data.len() as u64);
        next_rva = next_rva.max(end.div_ceil(0x1000) * 0x1000);
    }
    for (i, s) in sections.iter().enumerate() {
        let rva = s.addr.map_or_else(
            || {
                let r = next_rva;
                next_rva += (s.data.len() as u64).div_ceil(0x1000).max(1) * 0x1000;
                r
            },
            |a| a - image_base,
        );
        let raw_at = out.len();
        out.extend_from_slice(&s.data);
        align(&mut out, FILE_ALIGN);
        let h = table + 40 * i;
        let n = s.name.len().min(8);
        out[h..h + n].copy_from_slice(&s.name.as_bytes()[..n]);
        p.uint(&mut out, h + 8, 4, s.data.len() as u64);
        p.uint(&mut out, h + 12, 4, rva);
        let raw_size = (out.len() - raw_at) as u64;
        p.uint(&mut out, h + 16, 4, raw_size);
        p.uint(&mut out, h + 20, 4, raw_at as u64);
        let characteristics = if s.name == ".text" {
            0x6000_0020
        } else {
            0x4000_0040
        };
        p.uint(&mut out, h + 36, 4, characteristics);
    }
    out[..2].copy_from_slice(b"MZ");
    p.uint(&mut out, 0x3c, 4, NT as u64);
    out[NT..NT + 4].copy_from_slice(b"PE\0\0");
    let coff = NT + 4;
    p.uint(
        &mut out,
        coff,
        2,
        if bits == Bits::B64 { 0x8664 } else { 0x14c },
    );
    p.uint(&mut out, coff + 2, 2, sections.len() as u64);
    p.uint(&mut out, coff + 16, 2, opt_size as u64);
    p.uint(&mut out, coff + 18, 2, 0x22); // executable, large-address aware
    let opt = coff + 20;
    if bits == Bits::B64 {
        p.uint(&mut out, opt, 2, 0x20b);
        p.uint(&mut out, opt + 24, 8, image_base);
        p.uint(&mut out, opt + 108, 4, 16); // NumberOfRvaAndSizes
    } else {
        p.uint(&mut out, opt, 2, 0x10b);
        p.uint(&mut out, opt + 28, 4, image_base);
        p.uint(&mut out, opt + 92, 4, 16);
    }
    p.uint(&mut out, opt + 32, 4, 0x1000); // SectionAlignment
    p.uint(&mut out, opt + 36, 4, FILE_ALIGN as u64);
    p.uint(&mut out, opt + 56, 4, next_rva); // SizeOfImage
    p.uint(&mut out, opt + 60, 4, headers_size as u64);
    out
}

/// A macOS executable: the Mach header, a `__PAGEZERO` segment, then one segment per
/// section (its name from `SEGMENT,section`), the sections' bytes 16-byte aligned after
/// the load commands. Sections without an address are placed after the others.
#[must_use]
pub fn macho(bits: Bits, little: bool, sections: &[Section]) -> Vec<u8> {
    let p = Put { little };
    let is64 = bits == Bits::B64;
    let w = if is64 { 8 } else { 4 };
    let (header, seg_len, sect_len) = if is64 { (32, 72, 80) } else { (28, 56, 68) };
    let cmds = seg_len * (1 + sections.len()) + sect_len * sections.len();
    let mut out = vec![0u8; header + cmds];
    let mut next_addr = sections
        .iter()
        .filter_map(|s| s.addr.map(|a| a + s.data.len() as u64))
        .max()
        .unwrap_or(0x1000)
        .div_ceil(0x1000)
        * 0x1000;
    // __PAGEZERO: cmd, cmdsize, name, vmaddr 0, vmsize one page, nothing from the file.
    let mut at = header;
    p.uint(&mut out, at, 4, if is64 { 0x19 } else { 0x1 });
    p.uint(&mut out, at + 4, 4, seg_len as u64);
    out[at + 8..at + 18].copy_from_slice(b"__PAGEZERO");
    p.uint(&mut out, at + 24 + w, w, 0x1000);
    at += seg_len;
    for s in sections {
        let (seg, sect) = s.name.split_once(',').unwrap_or(("__DATA", &s.name));
        let addr = s.addr.unwrap_or_else(|| {
            let a = next_addr;
            next_addr += (s.data.len() as u64).div_ceil(0x1000).max(1) * 0x1000;
            a
        });
        align(&mut out, 16);
        let offset = out.len() as u64;
        out.extend_from_slice(&s.data);
        let size = s.data.len() as u64;
        p.uint(&mut out, at, 4, if is64 { 0x19 } else { 0x1 });
        p.uint(&mut out, at + 4, 4, (seg_len + sect_len) as u64);
        let seg_name = &seg.as_bytes()[..seg.len().min(16)];
        out[at + 8..at + 8 + seg_name.len()].copy_from_slice(seg_name);
        for (i, v) in [addr, size, offset, size].into_iter().enumerate() {
            p.uint(&mut out, at + 24 + i * w, w, v);
        }
        p.uint(&mut out, at + 24 + 4 * w, 4, 3); // maxprot rw
        p.uint(&mut out, at + 24 + 4 * w + 4, 4, 3); // initprot rw
        p.uint(&mut out, at + 24 + 4 * w + 8, 4, 1); // nsects
        let h = at + seg_len;
        let sect_name = &sect.as_bytes()[..sect.len().min(16)];
        out[h..h + sect_name.len()].copy_from_slice(sect_name);
        out[h + 16..h + 16 + seg_name.len()].copy_from_slice(seg_name);
        p.uint(&mut out, h + 32, w, addr);
        p.uint(&mut out, h + 32 + w, w, size);
        p.uint(&mut out, h + 32 + 2 * w, 4, offset);
        at = h + sect_len;
    }
    let magic: u64 = if is64 { 0xfeed_facf } else { 0xfeed_face };
    p.uint(&mut out, 0, 4, magic);
    p.uint(&mut out, 4, 4, if is64 { 0x0100_0007 } else { 7 }); // x86-64, i386
    p.uint(&mut out, 12, 4, 2); // MH_EXECUTE
    p.uint(&mut out, 16, 4, (1 + sections.len()) as u64);
    p.uint(&mut out, 20, 4, cmds as u64);
    out
}

/// A Go binary as a Go 1.13–1.17 linker lays it out, its pointers open to tampering: the
/// header in `.go.buildinfo` points at two Go string headers in `.data` ([`Self::headers`]),
/// which hold (address, length) pairs ([`Self::strings`]) into `.rodata`, where the version
/// `go1.16.15` and the framed [`GO_MODINFO`] lie.
#[derive(Clone, Debug)]
pub struct GoLegacy {
    pub bits: Bits,
    pub little: bool,
    /// Addresses of the version's and the module info's string headers.
    pub headers: [u64; 2],
    /// What the string headers say: (address, length) of the version and module info.
    pub strings: [(u64, u64); 2],
    /// `.data` before `.go.buildinfo` in the file, as an external linker may order them.
    pub data_first: bool,
    /// Bytes of `.gopclntab` between `.rodata` and the header, as in real binaries: over
    /// what the Go search keeps behind it (1 MiB and at most one 256 KiB read more) by
    /// default, so the strings must come from what the search kept where strings start.
    pub gap: usize,
}

/// The module info of the fake Go binaries, between its sentinels: a main module, two
/// dependencies (the second replaced) and a build setting.
pub const GO_MODINFO: &[u8] = b"path\texample.com/cmd/srv\nmod\texample.com\tv1.2.3\th1:abc=\ndep\tgolang.org/x/net\tv0.20.0\th1:def=\ndep\tgithub.com/old/lib\tv1.0.0\n=>\tgithub.com/new/lib\tv1.1.0\th1:x=\nbuild\tGOOS=linux\n";

impl GoLegacy {
    pub const RODATA: u64 = 0x50_0000;
    pub const BUILDINFO: u64 = 0x60_0000;
    pub const DATA: u64 = 0x60_1000;
    pub const VERSION: &[u8] = b"go1.16.15";
    /// Where the strings sit in `.rodata`.
    pub const VERSION_AT: u64 = Self::RODATA + 100;
    pub const MODINFO_AT: u64 = Self::RODATA + 300;

    #[must_use]
    pub fn new(bits: Bits, little: bool) -> GoLegacy {
        let p = if bits == Bits::B64 { 8 } else { 4 };
        GoLegacy {
            bits,
            little,
            headers: [Self::DATA, Self::DATA + 2 * p],
            strings: [
                (Self::VERSION_AT, Self::VERSION.len() as u64),
                (Self::MODINFO_AT, Self::framed_modinfo().len() as u64),
            ],
            data_first: false,
            gap: (1 << 20) + (256 << 10) + 65_536,
        }
    }

    /// Without the gap: small enough to cut and corrupt at every place.
    #[must_use]
    pub fn small(bits: Bits, little: bool) -> GoLegacy {
        GoLegacy {
            gap: 0,
            ..GoLegacy::new(bits, little)
        }
    }

    /// [`GO_MODINFO`] between the sentinels `cmd/go` frames it with.
    #[must_use]
    pub fn framed_modinfo() -> Vec<u8> {
        use crate::catalog::golang::{INFO_END, INFO_START};
        [INFO_START, GO_MODINFO, INFO_END].concat()
    }

    fn word(&self, v: u64) -> Vec<u8> {
        let b = if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        match (self.bits, self.little) {
            (Bits::B64, _) => b.to_vec(),
            (Bits::B32, true) => b[..4].to_vec(),
            (Bits::B32, false) => b[4..].to_vec(),
        }
    }

    /// The sections, loaded at their addresses, for [`elf`], [`pe`] or [`macho`].
    #[must_use]
    pub fn sections(&self) -> Vec<Section> {
        let mut rodata = filler(1, (Self::VERSION_AT - Self::RODATA) as usize);
        rodata.extend_from_slice(Self::VERSION);
        rodata.extend(filler(
            2,
            (Self::MODINFO_AT - Self::RODATA) as usize - rodata.len(),
        ));
        rodata.extend(Self::framed_modinfo());
        rodata.extend(filler(3, 1000));
        let mut header = crate::catalog::golang::MAGIC.to_vec();
        header.push(if self.bits == Bits::B64 { 8 } else { 4 });
        header.push(u8::from(!self.little));
        for h in self.headers {
            header.extend(self.word(h));
        }
        header.resize(32, 0);
        let mut data = Vec::new();
        for (addr, len) in self.strings {
            data.extend(self.word(addr));
            data.extend(self.word(len));
        }
        data.extend(filler(4, 64));
        let mut s = vec![
            Section::new(".text", filler(5, 20_000)).at(0x40_1000),
            Section::new(".rodata", rodata).at(Self::RODATA),
        ];
        if self.gap > 0 {
            s.push(Section::new(".gopclntab", filler(6, self.gap)).at(0x70_0000));
        }
        let mut tail = [
            Section::new(".go.buildinfo", header).at(Self::BUILDINFO),
            Section::new(".data", data).at(Self::DATA),
        ];
        if self.data_first {
            tail.reverse();
        }
        s.extend(tail);
        s
    }

    /// The binary as ELF.
    #[must_use]
    pub fn elf(&self) -> Vec<u8> {
        elf(self.bits, self.little, &self.sections())
    }
}

/// `json` zlib-compressed, as `cargo auditable` writes the `.dep-v0` section.
#[must_use]
pub fn zlib(json: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(json).expect("writing to memory");
    z.finish().expect("writing to memory")
}

/// What `cargo auditable build` (0.7) wrote into a small binary with a build script (`cc`,
/// which pulls in `libc`) and `smallvec = "=1.6.0"`: the root package from a path, two
/// build dependencies, one runtime dependency, and the `format` key last.
pub const CARGO_AUDITABLE_JSON: &str = r#"{"packages":[{"name":"audbin","version":"0.1.0","source":"local","dependencies":[1,3],"root":true},{"name":"cc","version":"1.0.83","source":"crates.io","kind":"build","dependencies":[2]},{"name":"libc","version":"0.2.191","source":"crates.io","kind":"build"},{"name":"smallvec","version":"1.6.0","source":"crates.io"}],"format":1}"#;

/// Machine-code-like filler (pseudo-random bytes, with the `0x78` that starts zlib
/// headers as often as in real code) for a `.text` of `len` bytes.
#[must_use]
pub fn filler(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// A Rust-looking executable: `text_len` bytes of `.text`, then `.dep-v0` holding `json`
/// compressed, then `.rodata`.
#[must_use]
pub fn auditable_binary(json: &str, text_len: usize) -> Vec<u8> {
    elf64(&[
        Section::new(".text", filler(7, text_len)),
        Section::new(".dep-v0", zlib(json.as_bytes())),
        Section::new(".rodata", filler(11, 4096)),
    ])
}
