//! Format detection by content. Extensions are only a tie-breaker for formats without a
//! magic number (ONNX, TensorFlow protobufs, protocol-0 pickles); a `.bin` that holds a
//! pickle is a pickle (CVE-2025-10155 was a scanner that trusted the extension).

/// The formats the scanner knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Pickle,
    TorchLegacy,
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    /// The legacy `.lzma` ("LZMA alone") container, as joblib's `compress='lzma'` writes it.
    Lzma,
    Lz4,
    Zlib,
    Zstd,
    SevenZip,
    Npy,
    Hdf5,
    Safetensors,
    Gguf,
    Onnx,
    SavedModel,
    Unknown,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pickle => "pickle",
            Format::TorchLegacy => "pytorch-legacy",
            Format::Zip => "zip",
            Format::Tar => "tar",
            Format::Gzip => "gzip",
            Format::Bzip2 => "bzip2",
            Format::Xz => "xz",
            Format::Lzma => "lzma",
            Format::Lz4 => "lz4",
            Format::Zlib => "zlib",
            Format::Zstd => "zstd",
            Format::SevenZip => "7z",
            Format::Npy => "numpy",
            Format::Hdf5 => "hdf5",
            Format::Safetensors => "safetensors",
            Format::Gguf => "gguf",
            Format::Onnx => "onnx",
            Format::SavedModel => "tensorflow-savedmodel",
            Format::Unknown => "unknown",
        }
    }
}

/// Legacy `torch.save` magic number pickle: `PROTO 2, LONG1 0x1950a86a20f9469cfc6c`.
const TORCH_LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";

/// Extensions that announce a pickle (or a pickle-based format).
pub(crate) const PICKLE_EXTENSIONS: &[&str] = &[
    "pkl", "pickle", "joblib", "dill", "pt", "pth", "bin", "ckpt", "data", "dat", "sav", "p",
    "npy", "model", "mar",
];

pub(crate) fn extension(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => String::new(),
    }
}

fn file_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// Detects a format from the first bytes (`head`, at least 512 bytes when available) and
/// the total length. `name` is only used for formats that have no magic number.
pub fn detect(head: &[u8], len: u64, name: &str) -> Format {
    let h = head;
    if h.starts_with(b"PK\x03\x04") || h.starts_with(b"PK\x05\x06") || h.starts_with(b"PK\x07\x08")
    {
        return Format::Zip;
    }
    if h.starts_with(b"7z\xbc\xaf\x27\x1c") {
        return Format::SevenZip;
    }
    if h.starts_with(b"\x1f\x8b") {
        return Format::Gzip;
    }
    if h.len() >= 4 && h.starts_with(b"BZh") && (b'1'..=b'9').contains(&h[3]) {
        return Format::Bzip2;
    }
    if h.starts_with(b"\xfd7zXZ\x00") {
        return Format::Xz;
    }
    if h.starts_with(b"\x04\x22\x4d\x18") {
        return Format::Lz4;
    }
    if h.starts_with(b"\x28\xb5\x2f\xfd") {
        return Format::Zstd;
    }
    if h.starts_with(b"\x93NUMPY") {
        return Format::Npy;
    }
    if h.starts_with(b"\x89HDF\r\n\x1a\n") {
        return Format::Hdf5;
    }
    if h.starts_with(b"GGUF") {
        return Format::Gguf;
    }
    if h.len() >= 262 && &h[257..262] == b"ustar" {
        return Format::Tar;
    }
    if h.starts_with(TORCH_LEGACY_MAGIC) {
        return Format::TorchLegacy;
    }
    if h.len() >= 2 && h[0] == 0x80 && (1..=5).contains(&h[1]) {
        return Format::Pickle;
    }
    // zlib: CMF 0x78 (deflate, 32K window) and a valid header checksum (joblib compress=).
    if h.len() >= 2 && h[0] == 0x78 && (u16::from(h[0]) * 256 + u16::from(h[1])) % 31 == 0 {
        return Format::Zlib;
    }
    if is_safetensors(h, len) {
        return Format::Safetensors;
    }
    if is_lzma_alone(h) {
        return Format::Lzma;
    }
    let ext = extension(name);
    let fname = file_name(name).to_ascii_lowercase();
    if fname == "saved_model.pb" || fname == "saved_model.pbtxt" {
        return Format::SavedModel;
    }
    if ext == "onnx" || looks_like_onnx(h) {
        return Format::Onnx;
    }
    if looks_like_protocol0_pickle(h) {
        return Format::Pickle;
    }
    if PICKLE_EXTENSIONS.contains(&ext.as_str()) && !h.is_empty() && starts_with_opcode(h[0]) {
        return Format::Pickle;
    }
    Format::Unknown
}

fn is_safetensors(h: &[u8], len: u64) -> bool {
    if h.len() < 10 {
        return false;
    }
    let n = u64::from_le_bytes(h[..8].try_into().unwrap_or([0; 8]));
    n >= 2 && n.saturating_add(8) <= len && h[8] == b'{'
}

/// The 13-byte `.lzma` header: a properties byte (joblib and liblzma write `0x5d`: lc=3,
/// lp=0, pb=2), a dictionary size that liblzma always writes as 2^n or 2^n + 2^(n-1), and
/// the uncompressed size, `u64::MAX` when unknown (as with streaming writers). There is no
/// magic number, so all three must look right.
fn is_lzma_alone(h: &[u8]) -> bool {
    if h.len() < 13 || h[0] != 0x5d {
        return false;
    }
    let dict = u32::from_le_bytes([h[1], h[2], h[3], h[4]]);
    let size = u64::from_le_bytes(h[5..13].try_into().unwrap_or([0; 8]));
    let high = if dict == 0 {
        0
    } else {
        1u32 << (31 - dict.leading_zeros())
    };
    let canonical_dict = dict >= 4096 && (dict == high || dict == high + high / 2);
    canonical_dict && (size == u64::MAX || size < 1 << 48)
}

/// ONNX `ModelProto` starts with `ir_version` (field 1, varint) followed by another known
/// field of the model: opset_import (8), producer_name (2), graph (7), …
fn looks_like_onnx(h: &[u8]) -> bool {
    h.len() >= 4
        && h[0] == 0x08
        && (1..=20).contains(&h[1])
        && matches!(h[2], 0x12 | 0x1a | 0x22 | 0x2a | 0x32 | 0x3a | 0x42)
}

fn starts_with_opcode(b: u8) -> bool {
    b"(c]}).NIJKLMSTUVXFGdlti".contains(&b)
}

/// Protocol 0/1 pickles have no header; they start with a GLOBAL, a MARK, a container or a
/// text opcode. Require a second structural hint so text files are not mistaken for them.
fn looks_like_protocol0_pickle(h: &[u8]) -> bool {
    if h.len() < 3 {
        return false;
    }
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
    match h[0] {
        // GLOBAL / INST: identifier line followed by another.
        b'c' | b'i' => {
            let line: Vec<u8> = h[1..]
                .iter()
                .take_while(|&&b| b != b'\n')
                .copied()
                .collect();
            !line.is_empty()
                && line.len() < 200
                && line.iter().all(|&b| ident(b))
                && h.len() > line.len() + 2
        }
        b'(' => matches!(
            h[1],
            b'l' | b'd'
                | b'c'
                | b'i'
                | b'S'
                | b'V'
                | b'I'
                | b'('
                | b'K'
                | b'X'
                | b'U'
                | b'N'
                | b'F'
                | b'J'
                | b'}'
                | b']'
                | b'L'
                | b'G'
        ),
        b']' | b'}' => matches!(h[1], b'q' | b'r' | b'(' | b'.' | b'h' | b'p' | 0x94),
        b'S' => h[1] == b'\'' || h[1] == b'"',
        b'V' => h[1..].iter().take(200).any(|&b| b == b'\n') && h.get(1).is_some_and(|&b| ident(b)),
        _ => false,
    }
}

/// Cheap check for routing: is this path worth handing to the model scanner? Looks at the
/// extension and, for files that exist, at the first bytes.
pub fn is_model_file(path: &std::path::Path) -> bool {
    const MODEL_EXT: &[&str] = &[
        "pkl",
        "pickle",
        "joblib",
        "dill",
        "pt",
        "pth",
        "bin",
        "ckpt",
        "npy",
        "npz",
        "h5",
        "hdf5",
        "keras",
        "onnx",
        "safetensors",
        "gguf",
        "pb",
        "tflite",
        "mar",
        "zip",
        "tar",
        "tgz",
        "gz",
        "7z",
        "xz",
        "lzma",
        "bz2",
        "lz4",
        "model",
        "sav",
    ];
    if path.is_dir() {
        return path.join("saved_model.pb").is_file() || path.join("config.json").is_file();
    }
    let name = path.to_string_lossy();
    let ext = extension(&name);
    if MODEL_EXT.contains(&ext.as_str()) {
        return true;
    }
    let mut head = [0u8; 512];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let n = std::io::Read::read(&mut f, &mut head).unwrap_or(0);
    let len = f.metadata().map(|m| m.len()).unwrap_or(n as u64);
    !matches!(detect(&head[..n], len, &name), Format::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_win_over_extensions() {
        assert_eq!(
            detect(b"\x80\x04\x95", 3, "model.safetensors"),
            Format::Pickle
        );
        assert_eq!(detect(b"PK\x03\x04", 4, "weights.bin"), Format::Zip);
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n", 8, "model.pt"), Format::Unknown);
        assert_eq!(detect(TORCH_LEGACY_MAGIC, 100, "x"), Format::TorchLegacy);
        assert_eq!(
            detect(b"cos\nsystem\n(S'id'\ntR.", 20, "x.txt"),
            Format::Pickle
        );
        assert_eq!(detect(b"\x78\x9c\x01\x02", 4, "m.joblib"), Format::Zlib);
        let lzma = b"\x5d\x00\x00\x80\x00\xff\xff\xff\xff\xff\xff\xff\xff\x00";
        assert_eq!(detect(lzma, 14, "m.joblib"), Format::Lzma);
        // Same first byte, but a dictionary size liblzma never writes.
        let not_lzma = b"\x5d\x00\x00\x81\x00\xff\xff\xff\xff\xff\xff\xff\xff\x00";
        assert_eq!(detect(not_lzma, 14, "notes.txt"), Format::Unknown);
        let mut st = 2u64.to_le_bytes().to_vec();
        st.extend_from_slice(b"{}");
        assert_eq!(detect(&st, 10, "x.bin"), Format::Safetensors);
    }

    #[test]
    fn text_is_not_a_pickle() {
        assert_eq!(detect(b"hello world\n", 12, "readme.txt"), Format::Unknown);
        assert_eq!(detect(b"(this is text).", 15, "notes.txt"), Format::Unknown);
    }
}
