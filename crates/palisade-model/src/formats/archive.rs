//! Containers: zip (PyTorch, Keras, npz, plain), tar (incl. legacy PyTorch), 7z and
//! compressed streams (gzip, bzip2, xz, lzma, lz4, zlib as written by joblib). Members are
//! scanned by content, recursively, within the depth, count and size limits of the scan
//! options.

use std::collections::HashMap;
use std::io::Read;

use super::zip::{self, ZipEntry};
use crate::detect::{self, Format};
use crate::scan::{self, Ctx, Loc};
use crate::source::{Src, read_limited};

/// Members at or below this size are decompressed into memory and their CRC is checked.
const SMALL_MEMBER: u64 = 16 * 1024 * 1024;

/// A member path that would land outside the extraction directory.
pub(crate) fn escapes(path: &str) -> bool {
    let p = path.replace('\\', "/");
    if p.starts_with('/') || (p.len() > 1 && p.as_bytes()[1] == b':') {
        return true;
    }
    let mut depth: i64 = 0;
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// Tensor storages of a PyTorch zip (`archive/data/0`, `.data/…`): raw bytes that
/// `torch.load` never unpickles, and the bulk of a checkpoint. Never read.
fn is_torch_storage(name: &str) -> bool {
    let mut parts = name.rsplit('/');
    let last = parts.next().unwrap_or("");
    let parent = parts.next().unwrap_or("");
    (parent == "data" && !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
        || name.contains(".data/")
}

pub(crate) fn scan_zip(ctx: &mut Ctx<'_>, loc: &Loc, _name: &str, src: Src<'_>) {
    let listing = zip::list(src, ctx.opts.max_members);
    for a in &listing.anomalies {
        ctx.anomaly(loc, "zip", None, a.clone());
    }
    if listing.truncated {
        ctx.unscanned(
            loc,
            "zip",
            format!(
                "more than {} members; the rest is not scanned",
                ctx.opts.max_members
            ),
        );
    }
    let torch = listing
        .entries
        .iter()
        .any(|e| e.name == "data.pkl" || e.name.ends_with("/data.pkl"));
    let format: &'static str = if torch { "pytorch-zip" } else { "zip" };
    let overlaps = overlapping(&listing.entries);
    // Data ranges already scanned, and bytes of overlapping members scanned so far.
    let mut scanned: HashMap<(u64, u64, u16), &str> = HashMap::new();
    let mut overlap_bytes = 0u64;
    for (e, &overlaps) in listing.entries.iter().zip(&overlaps) {
        if e.is_dir() {
            continue;
        }
        ctx.members += 1;
        if ctx.members > ctx.opts.max_members {
            ctx.unscanned(
                loc,
                format,
                format!("member limit of {} reached", ctx.opts.max_members),
            );
            return;
        }
        let child = loc.child(&e.name);
        for a in &e.anomalies {
            ctx.anomaly(&child, format, Some(e.header_offset), a.clone());
        }
        if escapes(&e.name) || e.local_name.as_deref().is_some_and(escapes) {
            ctx.anomaly(
                &child,
                format,
                Some(e.header_offset),
                "member path escapes the extraction directory",
            );
        }
        if torch && is_torch_storage(&e.name) {
            continue;
        }
        // No zip writer makes members share bytes: it is how overlapping-member zip bombs
        // are built. The same bytes are scanned once, and overlapping members only up to the
        // size of the archive in all.
        let key = (e.header_offset, e.compressed_size, e.method);
        if let Some(first) = scanned.get(&key) {
            ctx.anomaly(
                &child,
                format,
                Some(e.header_offset),
                format!(
                    "member shares its data with `{first}` (overlapping members); scanned once"
                ),
            );
            continue;
        }
        if overlaps {
            ctx.anomaly(
                &child,
                format,
                Some(e.header_offset),
                "member overlaps another member's data (overlapping members, a zip-bomb construction)",
            );
            overlap_bytes = overlap_bytes.saturating_add(e.compressed_size);
            if overlap_bytes > src.len() {
                ctx.unscanned(
                    &child,
                    format,
                    "overlapping members beyond the size of the archive are not scanned",
                );
                continue;
            }
        }
        scanned.insert(key, &e.name);
        scan_zip_member(ctx, &child, format, src, e);
    }
}

/// For each entry, whether its bytes (local header to end of data) overlap an earlier
/// entry's, in file order.
fn overlapping(entries: &[ZipEntry]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| entries[i].header_offset);
    let mut out = vec![false; entries.len()];
    let mut end = 0u64;
    for (n, &i) in order.iter().enumerate() {
        let e = &entries[i];
        let start = e.header_offset;
        let stop = e
            .data_offset
            .unwrap_or(start.saturating_add(30))
            .saturating_add(e.compressed_size);
        if n > 0 && start < end {
            out[i] = true;
        }
        end = end.max(stop);
    }
    out
}

fn scan_zip_member(
    ctx: &mut Ctx<'_>,
    child: &Loc,
    format: &'static str,
    src: Src<'_>,
    e: &ZipEntry,
) {
    let Some(data_off) = e.data_offset else {
        return;
    };
    if e.encrypted() {
        // Bit 0 claims encryption. Loaders that ignore it read the bytes as they are
        // (CVE-2025-1945), so look at them as they are; real ciphertext detects as nothing.
        let head = match zip::open(src, e) {
            Ok(mut r) => {
                let mut h = vec![0u8; 512];
                let n = read_up_to(&mut r, &mut h);
                h.truncate(n);
                h
            }
            Err(_) => Vec::new(),
        };
        if matches!(detect::detect(&head, e.size, &e.name), Format::Unknown) {
            ctx.unscanned(child, format, "encrypted member not scanned");
            return;
        }
        ctx.anomaly(
            child,
            format,
            Some(e.header_offset),
            "encryption flag is set but the member is not encrypted",
        );
    } else if e.flags & 0x0040 != 0 || e.flags & 0x0020 != 0 {
        ctx.anomaly(child, format, Some(e.header_offset), format!("unusual flag bits 0x{:04x} (strong encryption / patched data) on a readable member", e.flags));
    }
    if e.method == 0 && e.size > SMALL_MEMBER && !e.encrypted() {
        // Large stored member: scan it in place.
        let range = src.slice(data_off, e.compressed_size);
        scan::scan_src(ctx, child, &e.name, range);
        return;
    }
    let reader = match zip::open(src, e) {
        Ok(r) => r,
        Err(msg) => {
            ctx.unscanned(child, format, msg);
            return;
        }
    };
    if e.size <= SMALL_MEMBER {
        let limit = SMALL_MEMBER.min(ctx.budget);
        match read_limited(reader, limit) {
            Ok(data) => {
                ctx.budget = ctx.budget.saturating_sub(data.len() as u64);
                let mut crc = flate2::Crc::new();
                crc.update(&data);
                if crc.sum() != e.crc && !e.encrypted() {
                    ctx.anomaly(child, format, Some(e.header_offset), format!("CRC mismatch (stored 0x{:08x}, actual 0x{:08x}); strict readers reject the member, others load it", e.crc, crc.sum()));
                }
                scan::scan_src(ctx, child, &e.name, Src::Mem(&data));
            }
            Err((data, err)) => {
                ctx.anomaly(
                    child,
                    format,
                    Some(e.header_offset),
                    format!("member does not decompress cleanly: {err}"),
                );
                scan::scan_src(ctx, child, &e.name, Src::Mem(&data));
            }
        }
    } else {
        let mut reader = reader;
        scan::scan_stream(ctx, child, &e.name, &mut *reader);
    }
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// Tar archives. With `src` (an uncompressed tar on disk or in memory) members are scanned in
/// place and skipped by seeking; otherwise (a decompressed stream) they are streamed.
pub(crate) fn scan_tar<R: Read>(ctx: &mut Ctx<'_>, loc: &Loc, reader: R, src: Option<Src<'_>>) {
    match src {
        Some(src) => {
            let mut ar = tar::Archive::new(src.reader());
            match ar.entries_with_seek() {
                Ok(entries) => tar_entries(ctx, loc, entries, Some(src)),
                Err(e) => ctx.anomaly(loc, "tar", None, format!("unreadable tar: {e}")),
            }
        }
        None => {
            let mut ar = tar::Archive::new(reader);
            match ar.entries() {
                Ok(entries) => tar_entries(ctx, loc, entries, None),
                Err(e) => ctx.anomaly(loc, "tar", None, format!("unreadable tar: {e}")),
            }
        }
    }
}

fn tar_entries<R: Read>(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    entries: tar::Entries<'_, R>,
    src: Option<Src<'_>>,
) {
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                ctx.anomaly(loc, "tar", None, format!("tar stream broken: {e}"));
                break;
            }
        };
        ctx.members += 1;
        if ctx.members > ctx.opts.max_members {
            ctx.unscanned(
                loc,
                "tar",
                format!("member limit of {} reached", ctx.opts.max_members),
            );
            return;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let child = loc.child(&path);
        if escapes(&path) {
            ctx.anomaly(
                &child,
                "tar",
                Some(entry.raw_header_position()),
                "member path escapes the extraction directory",
            );
        }
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                && (target.starts_with('/')
                    || escapes(&format!(
                        "{}/{}",
                        path.rsplit_once('/').map_or("", |p| p.0),
                        target
                    )))
            {
                ctx.anomaly(
                    &child,
                    "tar",
                    Some(entry.raw_header_position()),
                    format!("link to {target:?} points outside the archive"),
                );
            }
            continue;
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            continue;
        }
        let size = entry.size();
        match src {
            Some(src) => {
                let off = entry.raw_file_position();
                scan::scan_src(ctx, &child, &path, src.slice(off, size));
            }
            None => scan::scan_stream(ctx, &child, &path, &mut entry as &mut dyn Read),
        }
    }
}

fn strip_compression_ext(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    for ext in [".gz", ".tgz", ".bz2", ".xz", ".lzma", ".lz4", ".z", ".zlib"] {
        if base.len() > ext.len() && base.to_ascii_lowercase().ends_with(ext) {
            let stem = &base[..base.len() - ext.len()];
            return if ext == ".tgz" {
                format!("{stem}.tar")
            } else {
                stem.to_string()
            };
        }
    }
    format!("<{}-decompressed>", base)
}

/// Decoder memory for a `.lzma` stream: its header names the dictionary size, and liblzma's
/// largest preset uses 64 MiB; a header asking for more is refused, not allocated.
pub(crate) const LZMA_MEM_LIMIT_KIB: u32 = 256 * 1024;

/// Compressed streams: joblib `compress=`, `.pkl.gz`, `.tar.gz`, … Scanned while
/// decompressing, within the decompression budget.
pub(crate) fn scan_compressed<R: Read>(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    name: &str,
    fmt: Format,
    reader: R,
) {
    let inner = strip_compression_ext(name);
    let child = loc.child(&inner);
    match fmt {
        Format::Gzip => scan::scan_stream(
            ctx,
            &child,
            &inner,
            &mut flate2::read::MultiGzDecoder::new(reader),
        ),
        Format::Zlib => scan::scan_stream(
            ctx,
            &child,
            &inner,
            &mut flate2::read::ZlibDecoder::new(reader),
        ),
        Format::Bzip2 => scan::scan_stream(
            ctx,
            &child,
            &inner,
            &mut bzip2::read::MultiBzDecoder::new(reader),
        ),
        Format::Lz4 => scan::scan_stream(
            ctx,
            &child,
            &inner,
            &mut lz4_flex::frame::FrameDecoder::new(reader),
        ),
        Format::Xz => scan::scan_stream(
            ctx,
            &child,
            &inner,
            &mut lzma_rust2::XzReader::new(reader, true),
        ),
        Format::Lzma => {
            match lzma_rust2::LzmaReader::new_mem_limit(reader, LZMA_MEM_LIMIT_KIB, None) {
                Ok(mut r) => scan::scan_stream(ctx, &child, &inner, &mut r),
                Err(e) => ctx.unscanned(loc, "lzma", format!("LZMA stream not decoded: {e}")),
            }
        }
        _ => {}
    }
}

/// 7z archives (the nullifAI-style container). Members are decompressed within the budget.
pub(crate) fn scan_7z(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) {
    super::sevenz::scan(ctx, loc, src)
}
