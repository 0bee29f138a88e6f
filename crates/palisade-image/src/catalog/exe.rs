//! Executable headers: where an ELF, PE or Mach-O file keeps its sections and which file
//! bytes are loaded at which virtual address. The binary catalogers need both: the Rust
//! one to check that a `cargo auditable` list is the `.dep-v0` section, the Go one to
//! follow the pointers of a pre-1.18 build info header.
//!
//! Catalogers stream executables once, so everything here is read from the first
//! [`HEAD`] bytes, where these formats put their headers (PE section table, Mach-O load
//! commands, ELF program headers). ELF's section header table usually sits at the end of
//! the file; its bytes are handed to [`Layout::elf_sections`] when they have gone by.
//! Parsing is bounded by the bytes given: nothing is trusted to lie within them, and a
//! structure that does not fit is noted, not read.

/// Bytes of a file's start kept for its headers.
pub const HEAD: usize = 64 * 1024;
/// Most sections or segments read from one header; real files have a few dozen.
const MAX_ENTRIES: u64 = 4096;

/// An executable format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Elf,
    Pe,
    MachO,
}

impl Format {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::Elf => "ELF",
            Format::Pe => "PE",
            Format::MachO => "Mach-O",
        }
    }
}

/// The format a file's first bytes announce: `Some(None)` for none of them, `None` when
/// fewer than four bytes were given and they could still start one.
#[must_use]
pub fn sniff(first: &[u8]) -> Option<Option<Format>> {
    const MAGICS: [(&[u8], Format); 6] = [
        (b"\x7fELF", Format::Elf),
        (b"MZ", Format::Pe),
        (b"\xfe\xed\xfa\xce", Format::MachO),
        (b"\xfe\xed\xfa\xcf", Format::MachO),
        (b"\xce\xfa\xed\xfe", Format::MachO),
        (b"\xcf\xfa\xed\xfe", Format::MachO),
    ];
    let mut open = false;
    for (magic, format) in MAGICS {
        if first.starts_with(magic) {
            return Some(Some(format));
        }
        open |= first.len() < magic.len() && magic.starts_with(first);
    }
    if open { None } else { Some(None) }
}

/// File bytes loaded at a virtual address: an ELF `PT_LOAD` segment, a PE section (image
/// base added, as Go's pointers are absolute) or a Mach-O segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub addr: u64,
    pub offset: u64,
    /// Bytes in the file (not in memory: the rest of a segment is zero-filled).
    pub size: u64,
}

/// A section with bytes in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// `None` for ELF sections, whose names are not read.
    pub name: Option<String>,
    pub offset: u64,
    pub size: u64,
}

/// Where an ELF file's section header table lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfSht {
    pub offset: u64,
    /// `e_shnum * e_shentsize`.
    pub len: u64,
    pub entsize: u64,
}

/// What the headers of an executable say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub format: Format,
    pub is64: bool,
    pub little: bool,
    pub segments: Vec<Segment>,
    /// PE and Mach-O sections (from the header); ELF's come from [`Layout::elf_sections`].
    pub sections: Vec<Section>,
    pub elf_sht: Option<ElfSht>,
    /// Parts of the headers that could not be read (beyond the bytes given); the rest
    /// stands.
    pub notes: Vec<String>,
}

/// Reads an unsigned integer of `b.len()` (at most 8) bytes.
#[must_use]
pub fn read_uint(b: &[u8], little: bool) -> u64 {
    let fold = |v: u64, x: &u8| v << 8 | u64::from(*x);
    if little {
        b.iter().rev().fold(0, fold)
    } else {
        b.iter().fold(0, fold)
    }
}

/// Bounded reads from the header bytes: every read names what it wanted when the bytes
/// are not there.
struct Bytes<'a> {
    b: &'a [u8],
    little: bool,
    format: Format,
}

impl Bytes<'_> {
    fn uint(&self, at: u64, n: usize, what: &str) -> Result<u64, String> {
        self.slice(at, n as u64, what)
            .map(|s| read_uint(s, self.little))
    }

    /// A count field; more than [`MAX_ENTRIES`] `of` something is refused.
    fn count(&self, at: u64, n: usize, what: &str, of: &str) -> Result<u64, String> {
        let v = self.uint(at, n, what)?;
        if v > MAX_ENTRIES {
            return Err(format!(
                "{} header says {v} {of}; more than {MAX_ENTRIES} is not a real executable",
                self.format.name()
            ));
        }
        Ok(v)
    }

    fn slice(&self, at: u64, n: u64, what: &str) -> Result<&[u8], String> {
        let end = at.checked_add(n);
        match end {
            Some(end) if end <= self.b.len() as u64 => Ok(&self.b[at as usize..end as usize]),
            _ => Err(format!(
                "{} {what} at offset {at} ({n} bytes) lies beyond the first {} bytes read for headers",
                self.format.name(),
                self.b.len()
            )),
        }
    }
}

/// A fixed-size, NUL-padded name (PE section, Mach-O section and segment).
fn name(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

impl Layout {
    fn empty(format: Format, is64: bool, little: bool) -> Layout {
        Layout {
            format,
            is64,
            little,
            segments: Vec::new(),
            sections: Vec::new(),
            elf_sht: None,
            notes: Vec::new(),
        }
    }

    /// Parses the headers in `head`, the first bytes of a file. Errors name the format
    /// and what was expected.
    pub fn parse(head: &[u8]) -> Result<Layout, String> {
        match sniff(head) {
            Some(Some(Format::Elf)) => elf(head),
            Some(Some(Format::Pe)) => pe(head),
            Some(Some(Format::MachO)) => macho(head),
            _ => Err("not an ELF, PE or Mach-O file (no magic number)".into()),
        }
    }

    /// The file offset of `len` bytes at virtual address `addr`, which must lie in the
    /// file bytes of one segment (as Go's `debug/buildinfo` reads them).
    pub fn locate(&self, addr: u64, len: u64) -> Result<u64, String> {
        let seg = self
            .segments
            .iter()
            .find(|s| addr >= s.addr && addr - s.addr < s.size)
            .ok_or_else(|| {
                format!(
                    "address {addr:#x} is not in any part of the {} file that is loaded from it",
                    self.format.name()
                )
            })?;
        let within = addr - seg.addr;
        if len > seg.size - within {
            return Err(format!(
                "{len} bytes at address {addr:#x} run past the end of the file bytes loaded at {:#x} ({} bytes)",
                seg.addr, seg.size
            ));
        }
        Ok(seg.offset + within)
    }

    /// The sections in an ELF section header table (`sht`, the bytes at
    /// [`ElfSht::offset`]), leaving out those without bytes in the file (`SHT_NOBITS`).
    #[must_use]
    pub fn elf_sections(&self, sht: &[u8]) -> Vec<Section> {
        let Some(t) = self.elf_sht else {
            return Vec::new();
        };
        let n = usize::try_from(t.entsize).unwrap_or(usize::MAX);
        let rd = |e: &[u8], at: usize, len: usize| read_uint(&e[at..at + len], self.little);
        sht.chunks_exact(n)
            .filter(|e| rd(e, 4, 4) != SHT_NOBITS)
            .map(|e| {
                let (offset, size) = if self.is64 {
                    (rd(e, 24, 8), rd(e, 32, 8))
                } else {
                    (rd(e, 16, 4), rd(e, 20, 4))
                };
                Section {
                    name: None,
                    offset,
                    size,
                }
            })
            .collect()
    }
}

const SHT_NOBITS: u64 = 8;
const PT_LOAD: u64 = 1;

/// An ELF identification byte that is 1 (`true`: the first meaning) or 2.
fn ident(byte: u8, what: &str, one: &str, two: &str) -> Result<bool, String> {
    match byte {
        1 => Ok(true),
        2 => Ok(false),
        b => Err(format!(
            "ELF header: {what} byte {b} is neither 1 ({one}) nor 2 ({two})"
        )),
    }
}

fn elf(head: &[u8]) -> Result<Layout, String> {
    let (Some(&class), Some(&data)) = (head.get(4), head.get(5)) else {
        return Err(format!(
            "ELF header: {} bytes, cut before its class and data bytes",
            head.len()
        ));
    };
    let is64 = !ident(class, "class", "32-bit", "64-bit")?;
    let little = ident(data, "data", "little-endian", "big-endian")?;
    let b = Bytes {
        b: head,
        little,
        format: Format::Elf,
    };
    let w = if is64 { 8 } else { 4 };
    // e_phoff and e_shoff follow e_entry; the counts follow e_flags and e_ehsize.
    let (phoff, shoff) = (
        b.uint(24 + w as u64, w, "e_phoff")?,
        b.uint(24 + 2 * w as u64, w, "e_shoff")?,
    );
    let counts = 24 + 3 * w as u64 + 6;
    let phentsize = b.uint(counts, 2, "e_phentsize")?;
    let phnum = b.count(counts + 2, 2, "e_phnum", "program headers")?;
    let shentsize = b.uint(counts + 4, 2, "e_shentsize")?;
    let shnum = b.uint(counts + 6, 2, "e_shnum")?;
    let mut layout = Layout::empty(Format::Elf, is64, little);
    // shnum 0 means "more than 0xff00 sections, count in section 0": not worth it.
    let min_sh = if is64 { 64 } else { 40 };
    if shoff > 0 && shnum > 0 && shentsize >= min_sh {
        layout.elf_sht = Some(ElfSht {
            offset: shoff,
            len: shnum * shentsize,
            entsize: shentsize,
        });
    }
    let min_ph = if is64 { 56 } else { 32 };
    if phnum > 0 && phentsize < min_ph {
        layout.notes.push(format!(
            "ELF program header entries of {phentsize} bytes are shorter than {min_ph}; not read"
        ));
        return Ok(layout);
    }
    for i in 0..phnum {
        let at = phoff.saturating_add(i * phentsize);
        let ph = match b.slice(at, min_ph, "program header") {
            Ok(ph) => ph,
            Err(e) => {
                layout.notes.push(e);
                break;
            }
        };
        let rd = |o: usize, n: usize| read_uint(&ph[o..o + n], little);
        if rd(0, 4) != PT_LOAD {
            continue;
        }
        let (offset, addr, size) = if is64 {
            (rd(8, 8), rd(16, 8), rd(32, 8))
        } else {
            (rd(4, 4), rd(8, 4), rd(16, 4))
        };
        layout.segments.push(Segment { addr, offset, size });
    }
    Ok(layout)
}

fn pe(head: &[u8]) -> Result<Layout, String> {
    let b = Bytes {
        b: head,
        little: true,
        format: Format::Pe,
    };
    let nt = b.uint(0x3c, 4, "e_lfanew")?;
    if b.slice(nt, 4, "signature")? != b"PE\0\0" {
        return Err(format!(
            "PE header: no `PE\\0\\0` signature at offset {nt} (e_lfanew)"
        ));
    }
    let coff = nt + 4;
    let nsections = b.count(coff + 2, 2, "NumberOfSections", "sections")?;
    let opt_size = b.uint(coff + 16, 2, "SizeOfOptionalHeader")?;
    let opt = coff + 20;
    let (is64, image_base) = match b.uint(opt, 2, "optional header magic")? {
        0x10b => (false, b.uint(opt + 28, 4, "ImageBase")?),
        0x20b => (true, b.uint(opt + 24, 8, "ImageBase")?),
        m => {
            return Err(format!(
                "PE optional header: magic {m:#x} is neither 0x10b (PE32) nor 0x20b (PE32+)"
            ));
        }
    };
    let mut layout = Layout::empty(Format::Pe, is64, true);
    let table = opt + opt_size;
    for i in 0..nsections {
        let s = match b.slice(table + i * 40, 40, "section header") {
            Ok(s) => s,
            Err(e) => {
                layout.notes.push(e);
                break;
            }
        };
        let rd = |o: usize| read_uint(&s[o..o + 4], true);
        let (rva, raw_size, raw_at) = (rd(12), rd(16), rd(20));
        // A long name (`/123`, an offset into the COFF string table) stays as written:
        // the table lies past the headers, and `.dep-v0` fits in eight bytes.
        let section_name = name(&s[..8]);
        if raw_size > 0 && raw_at > 0 {
            layout.sections.push(Section {
                name: Some(section_name),
                offset: raw_at,
                size: raw_size,
            });
            // Go's `debug/buildinfo` maps addresses through SizeOfRawData as well.
            layout.segments.push(Segment {
                addr: image_base.saturating_add(rva),
                offset: raw_at,
                size: raw_size,
            });
        }
    }
    Ok(layout)
}

const LC_SEGMENT: u64 = 0x1;
const LC_SEGMENT_64: u64 = 0x19;

fn macho(head: &[u8]) -> Result<Layout, String> {
    // The magic is 0xfeedface/0xfeedfacf in the file's byte order.
    let little = head[0] == 0xce || head[0] == 0xcf;
    let is64 = head[0] == 0xcf || head[3] == 0xcf;
    let b = Bytes {
        b: head,
        little,
        format: Format::MachO,
    };
    let ncmds = b.count(16, 4, "ncmds", "load commands")?;
    let mut layout = Layout::empty(Format::MachO, is64, little);
    let w: u64 = if is64 { 8 } else { 4 };
    // Segment command: cmd, cmdsize, segname[16], then vmaddr, vmsize, fileoff, filesize
    // (pointer-sized), maxprot, initprot, nsects, flags; its sections follow.
    let seg_len = 24 + 4 * w + 16;
    let sect_len = 32 + 2 * w + 4 * 7 + if is64 { 4 } else { 0 };
    let mut at: u64 = if is64 { 32 } else { 28 };
    for _ in 0..ncmds {
        let step = (|| -> Result<u64, String> {
            let cmd = b.uint(at, 4, "load command")?;
            let size = b.uint(at + 4, 4, "load command size")?;
            if size < 8 {
                return Err(format!(
                    "Mach-O load command at offset {at} says it is {size} bytes; at least 8 expected"
                ));
            }
            if cmd == LC_SEGMENT || cmd == LC_SEGMENT_64 {
                let c = b.slice(at, seg_len, "segment command")?;
                let rd = |o: u64| read_uint(&c[o as usize..(o + w) as usize], little);
                let segname = name(&c[8..24]);
                let (addr, offset, filesize) = (rd(24), rd(24 + 2 * w), rd(24 + 3 * w));
                // Go skips the zero page: it maps nothing from the file.
                if segname != "__PAGEZERO" && filesize > 0 {
                    layout.segments.push(Segment {
                        addr,
                        offset,
                        size: filesize,
                    });
                }
                for i in 0..b.count(at + 24 + 4 * w + 8, 4, "nsects", "sections in a segment")? {
                    let s = b.slice(at + seg_len + i * sect_len, sect_len, "section")?;
                    let size = read_uint(&s[32 + w as usize..][..w as usize], little);
                    let offset = read_uint(&s[32 + 2 * w as usize..][..4], little);
                    let flags = read_uint(&s[32 + 2 * w as usize + 16..][..4], little);
                    // Zero-fill sections (S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL)
                    // have no bytes in the file.
                    if !matches!(flags & 0xff, 0x1 | 0xc | 0x12) && size > 0 {
                        layout.sections.push(Section {
                            name: Some(name(&s[..16])),
                            offset,
                            size,
                        });
                    }
                }
            }
            Ok(size)
        })();
        match step {
            Ok(size) => at += size,
            Err(e) => {
                layout.notes.push(e);
                break;
            }
        }
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::exe::{Bits, Section as S, elf, macho, pe};

    fn sections() -> Vec<S> {
        vec![
            S::new(".text", vec![0xcc; 300]).at(0x40_1000),
            S::new(".rodata", b"hello".to_vec()).at(0x40_2000),
            S::new(".dep-v0", vec![7; 33]),
        ]
    }

    #[test]
    fn sniffs_magic_numbers() {
        assert_eq!(sniff(b"\x7fEL"), None);
        assert_eq!(sniff(b"\x7fELF\x02"), Some(Some(Format::Elf)));
        assert_eq!(sniff(b"MZ\x90\0"), Some(Some(Format::Pe)));
        assert_eq!(sniff(b"\xcf\xfa\xed\xfe"), Some(Some(Format::MachO)));
        assert_eq!(sniff(b"#!/b"), Some(None));
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn maps_addresses_in_every_format() {
        let files = [
            elf(Bits::B64, true, &sections()),
            elf(Bits::B32, false, &sections()),
            pe(Bits::B64, 0x40_0000, &sections()),
            pe(Bits::B32, 0x40_0000, &sections()),
            macho(Bits::B64, true, &sections()),
            macho(Bits::B32, false, &sections()),
        ];
        for f in &files {
            let l = Layout::parse(f).unwrap();
            assert_eq!(l.notes, Vec::<String>::new(), "{:?}", l.format);
            let off = l.locate(0x40_2000 + 1, 4).unwrap() as usize;
            assert_eq!(&f[off..off + 4], b"ello", "{:?}", l.format);
            // Past the loaded bytes, and nowhere at all.
            let e = l.locate(0x40_2000 + 3, 0x2000).unwrap_err();
            assert!(e.contains("run past the end"), "{e}");
            let e = l.locate(0x10, 1).unwrap_err();
            assert!(e.contains("address 0x10 is not in any part"), "{e}");
            if l.format != Format::Elf {
                let dep = l
                    .sections
                    .iter()
                    .find(|s| s.name.as_deref() == Some(".dep-v0"))
                    .unwrap();
                assert_eq!(&f[dep.offset as usize..][..33], &[7; 33][..]);
            }
        }
    }

    #[test]
    fn elf_section_table_and_bad_headers() {
        let f = elf(Bits::B64, true, &sections());
        let l = Layout::parse(&f).unwrap();
        let t = l.elf_sht.unwrap();
        let found = l.elf_sections(&f[t.offset as usize..][..t.len as usize]);
        assert!(
            found
                .iter()
                .any(|s| &f[s.offset as usize..][..5] == b"hello")
        );
        let mut bad = f.clone();
        bad[4] = 9;
        let e = Layout::parse(&bad).unwrap_err();
        assert!(e.contains("class byte 9 is neither"), "{e}");
        let e = Layout::parse(b"MZ\0\0").unwrap_err();
        assert!(e.contains("PE e_lfanew at offset 60"), "{e}");
        // Headers cut short: what was read stands, the rest is noted.
        let p = pe(Bits::B64, 0x40_0000, &sections());
        let cut = Layout::parse(&p[..0x1a0]).unwrap();
        assert!(!cut.notes.is_empty());
        // Every prefix of every format parses or fails without a panic.
        for f in [&f, &p, &macho(Bits::B64, false, &sections())] {
            for n in 0..f.len().min(2000) {
                let _ = Layout::parse(&f[..n]);
            }
        }
    }
}
