//! Minimal 64-bit little-endian ELF files with chosen sections, for tests and benchmarks
//! of the binary catalogers (a real linker is not needed to put bytes in a named section).

use std::io::Write;

/// `SHT_PROGBITS`: bytes in the file.
pub const SHT_PROGBITS: u32 = 1;
const SHT_STRTAB: u32 = 3;
/// `SHF_ALLOC`: loaded at run time. `cargo auditable`'s `.dep-v0` is not (rust-lld puts
/// it near the end of the file, after `.comment`), code and data are.
const SHF_ALLOC: u64 = 2;

/// One section: name and bytes.
#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    pub data: Vec<u8>,
}

impl Section {
    #[must_use]
    pub fn new(name: &str, data: impl Into<Vec<u8>>) -> Section {
        Section {
            name: name.into(),
            data: data.into(),
        }
    }
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    out[at..at + bytes.len()].copy_from_slice(bytes);
}

/// An x86-64 executable: the 64-byte header, the sections in order (16-byte aligned), a
/// `.shstrtab`, then the section header table at the end, where linkers put it. No
/// program headers: nothing here is meant to run.
#[must_use]
pub fn elf64(sections: &[Section]) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    // (name offset, type, flags, offset, size)
    let mut headers: Vec<(u32, u32, u64, u64, u64)> = vec![(0, 0, 0, 0, 0)];
    let mut shstrtab = vec![0u8];
    for s in sections {
        out.resize(out.len().div_ceil(16) * 16, 0);
        headers.push((
            shstrtab.len() as u32,
            SHT_PROGBITS,
            if s.name.starts_with(".dep") {
                0
            } else {
                SHF_ALLOC
            },
            out.len() as u64,
            s.data.len() as u64,
        ));
        shstrtab.extend_from_slice(s.name.as_bytes());
        shstrtab.push(0);
        out.extend_from_slice(&s.data);
    }
    let name = shstrtab.len() as u32;
    shstrtab.extend_from_slice(b".shstrtab\0");
    headers.push((name, SHT_STRTAB, 0, out.len() as u64, shstrtab.len() as u64));
    out.extend_from_slice(&shstrtab);
    out.resize(out.len().div_ceil(8) * 8, 0);
    let shoff = out.len() as u64;
    for (name, ty, flags, offset, size) in &headers {
        let mut h = [0u8; 64];
        h[0..4].copy_from_slice(&name.to_le_bytes());
        h[4..8].copy_from_slice(&ty.to_le_bytes());
        h[8..16].copy_from_slice(&flags.to_le_bytes());
        h[24..32].copy_from_slice(&offset.to_le_bytes());
        h[32..40].copy_from_slice(&size.to_le_bytes());
        h[48..56].copy_from_slice(&1u64.to_le_bytes());
        out.extend_from_slice(&h);
    }
    put(&mut out, 0, b"\x7fELF\x02\x01\x01");
    put(&mut out, 16, &2u16.to_le_bytes()); // ET_EXEC
    put(&mut out, 18, &0x3Eu16.to_le_bytes()); // x86-64
    put(&mut out, 20, &1u32.to_le_bytes());
    put(&mut out, 40, &shoff.to_le_bytes());
    put(&mut out, 52, &64u16.to_le_bytes());
    put(&mut out, 58, &64u16.to_le_bytes());
    put(&mut out, 60, &(headers.len() as u16).to_le_bytes());
    put(&mut out, 62, &((headers.len() - 1) as u16).to_le_bytes());
    out
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
