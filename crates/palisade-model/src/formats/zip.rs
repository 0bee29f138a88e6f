//! A defensive zip reader.
//!
//! Written here rather than taken from a zip crate because the scanner must read what
//! *loaders* read, not what a strict reader accepts: members with the encryption flag set but
//! stored in clear, bad CRCs, local headers that disagree with the central directory, or no
//! central directory at all (CVE-2025-1944/1945/10156 are all "the scanner's zip library
//! refused, `torch.load` did not"). It reads the central directory (zip64 included) and the
//! local headers only, so a multi-gigabyte checkpoint costs a few kilobytes of reads, and it
//! reports every inconsistency it sees.

use std::io::Read;

use crate::source::Src;

#[derive(Debug, Clone)]
pub(crate) struct ZipEntry {
    /// Name from the central directory (or the local header when there is none).
    pub name: String,
    pub local_name: Option<String>,
    pub method: u16,
    pub flags: u16,
    pub crc: u32,
    pub compressed_size: u64,
    pub size: u64,
    pub header_offset: u64,
    pub data_offset: Option<u64>,
    pub anomalies: Vec<String>,
}

impl ZipEntry {
    pub(crate) fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }
    pub(crate) fn encrypted(&self) -> bool {
        self.flags & 1 != 0
    }
}

#[derive(Debug, Default)]
pub(crate) struct ZipListing {
    pub entries: Vec<ZipEntry>,
    pub anomalies: Vec<String>,
    pub truncated: bool,
}

fn u16le(b: &[u8], o: usize) -> u16 {
    b.get(o..o + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}
fn u32le(b: &[u8], o: usize) -> u32 {
    b.get(o..o + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}
fn u64le(b: &[u8], o: usize) -> u64 {
    b.get(o..o + 8)
        .map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
}

const MAX_CD_BYTES: u64 = 64 * 1024 * 1024;

/// Lists the members of a zip. Never fails: problems become anomalies, and without a usable
/// central directory the local headers are walked instead.
pub(crate) fn list(src: Src<'_>, max_entries: usize) -> ZipListing {
    let mut out = ZipListing::default();
    match central_directory(src, max_entries, &mut out) {
        Some(entries) if !entries.is_empty() || out.anomalies.is_empty() => out.entries = entries,
        _ => {
            out.anomalies
                .push("no usable central directory; walking local headers".into());
            out.entries = walk_local_headers(src, max_entries, &mut out.truncated);
        }
    }
    for e in &mut out.entries {
        check_local_header(src, e);
    }
    out
}

fn central_directory(
    src: Src<'_>,
    max_entries: usize,
    out: &mut ZipListing,
) -> Option<Vec<ZipEntry>> {
    let len = src.len();
    let tail_len = len.min(65_557);
    let tail = src.read_vec(len - tail_len, tail_len).ok()?;
    let eocd_rel = tail.windows(4).rposition(|w| w == b"PK\x05\x06")?;
    let eocd_pos = len - tail_len + eocd_rel as u64;
    let e = &tail[eocd_rel..];
    let mut total = u16le(e, 10) as u64;
    let mut cd_size = u32le(e, 12) as u64;
    let mut cd_off = u32le(e, 16) as u64;
    let mut cd_end = eocd_pos;
    // zip64: a locator right before the EOCD points at the zip64 record, which then holds
    // the real values (PyTorch always writes one, even for small archives).
    if eocd_pos >= 20 {
        let loc = src.read_vec(eocd_pos - 20, 20).ok()?;
        if loc.starts_with(b"PK\x06\x07") {
            let rec_off = u64le(&loc, 8);
            let rec = src.read_vec(rec_off, 56).ok()?;
            if rec.starts_with(b"PK\x06\x06") {
                let saturated = total == 0xffff || cd_size == 0xffff_ffff || cd_off == 0xffff_ffff;
                let (t64, s64, o64) = (u64le(&rec, 32), u64le(&rec, 40), u64le(&rec, 48));
                if !saturated && (t64 != total || s64 != cd_size || o64 != cd_off) {
                    out.anomalies
                        .push("zip64 record disagrees with the end of central directory".into());
                }
                total = t64;
                cd_size = s64;
                cd_off = o64;
                cd_end = rec_off;
            } else {
                out.anomalies
                    .push("zip64 locator points at no zip64 record".into());
            }
        }
    }
    // Bytes prepended to the archive shift every offset (self-extracting archives, polyglots).
    let shift = cd_end.saturating_sub(cd_off.saturating_add(cd_size));
    if shift > 0 {
        out.anomalies.push(format!(
            "{shift} bytes precede the archive (prepended data or a polyglot file)"
        ));
    }
    let cd_start = cd_off.saturating_add(shift);
    if cd_size > MAX_CD_BYTES || cd_start.saturating_add(cd_size) > len {
        out.anomalies
            .push("central directory is out of range or too large".into());
        return None;
    }
    let cd = src.read_vec(cd_start, cd_size).ok()?;
    let mut entries = Vec::new();
    let mut p = 0usize;
    while p + 46 <= cd.len() {
        if &cd[p..p + 4] != b"PK\x01\x02" {
            out.anomalies.push(format!(
                "garbage inside the central directory at offset {}",
                cd_start + p as u64
            ));
            break;
        }
        if entries.len() >= max_entries {
            out.truncated = true;
            break;
        }
        let flags = u16le(&cd, p + 8);
        let method = u16le(&cd, p + 10);
        let crc = u32le(&cd, p + 16);
        let mut csize = u32le(&cd, p + 20) as u64;
        let mut usize_ = u32le(&cd, p + 24) as u64;
        let nlen = u16le(&cd, p + 28) as usize;
        let xlen = u16le(&cd, p + 30) as usize;
        let clen = u16le(&cd, p + 32) as usize;
        let mut hoff = u32le(&cd, p + 42) as u64;
        let name_end = (p + 46 + nlen).min(cd.len());
        let name = String::from_utf8_lossy(&cd[p + 46..name_end]).into_owned();
        let extra = &cd[name_end..(name_end + xlen).min(cd.len())];
        // zip64 extended information: present fields in order usize, csize, offset.
        let mut x = 0;
        while x + 4 <= extra.len() {
            let id = u16le(extra, x);
            let sz = u16le(extra, x + 2) as usize;
            if id == 0x0001 {
                let mut q = x + 4;
                if usize_ == 0xffff_ffff && q + 8 <= x + 4 + sz {
                    usize_ = u64le(extra, q);
                    q += 8;
                }
                if csize == 0xffff_ffff && q + 8 <= x + 4 + sz {
                    csize = u64le(extra, q);
                    q += 8;
                }
                if hoff == 0xffff_ffff && q + 8 <= x + 4 + sz {
                    hoff = u64le(extra, q);
                }
            }
            x += 4 + sz;
        }
        entries.push(ZipEntry {
            name,
            local_name: None,
            method,
            flags,
            crc,
            compressed_size: csize,
            size: usize_,
            header_offset: hoff.saturating_add(shift),
            data_offset: None,
            anomalies: Vec::new(),
        });
        p = name_end + xlen + clen;
    }
    if entries.len() as u64 != total && !out.truncated {
        out.anomalies.push(format!(
            "end of central directory announces {total} entries, {} found",
            entries.len()
        ));
    }
    Some(entries)
}

/// Reads and cross-checks the local header of `e`, setting `data_offset`.
fn check_local_header(src: Src<'_>, e: &mut ZipEntry) {
    let Ok(h) = src.read_vec(e.header_offset, 30) else {
        e.anomalies.push("local header unreadable".into());
        return;
    };
    if h.len() < 30 || !h.starts_with(b"PK\x03\x04") {
        e.anomalies
            .push("no local header at the offset the central directory gives".into());
        return;
    }
    let flags = u16le(&h, 6);
    let method = u16le(&h, 8);
    let nlen = u16le(&h, 26) as u64;
    let xlen = u16le(&h, 28) as u64;
    let name = src
        .read_vec(e.header_offset + 30, nlen)
        .map(|n| String::from_utf8_lossy(&n).into_owned())
        .unwrap_or_default();
    if name != e.name {
        e.anomalies.push(format!(
            "local header names the member {name:?}, the central directory {:?}",
            e.name
        ));
    }
    if method != e.method {
        e.anomalies.push(format!(
            "compression method {method} in the local header, {} in the central directory",
            e.method
        ));
    }
    if flags != e.flags {
        e.anomalies.push(format!(
            "flag bits 0x{flags:04x} in the local header, 0x{:04x} in the central directory",
            e.flags
        ));
    }
    e.local_name = Some(name);
    e.data_offset = Some(e.header_offset + 30 + nlen + xlen);
}

/// Fallback for archives without a central directory (truncated, or crafted): find local
/// headers by signature and take sizes from them.
fn walk_local_headers(src: Src<'_>, max_entries: usize, truncated: &mut bool) -> Vec<ZipEntry> {
    const WINDOW: u64 = 256 * 1024 * 1024;
    let data = match src.read_vec(0, src.len().min(WINDOW)) {
        Ok(d) => d,
        Err(_) => return Vec::new(),
    };
    let mut entries = Vec::new();
    let mut p = 0usize;
    while let Some(rel) = data[p..].windows(4).position(|w| w == b"PK\x03\x04") {
        let at = p + rel;
        if entries.len() >= max_entries {
            *truncated = true;
            break;
        }
        let h = &data[at..];
        if h.len() < 30 {
            break;
        }
        let flags = u16le(h, 6);
        let method = u16le(h, 8);
        let crc = u32le(h, 14);
        let mut csize = u32le(h, 18) as u64;
        let usize_ = u32le(h, 22) as u64;
        let nlen = u16le(h, 26) as usize;
        let xlen = u16le(h, 28) as usize;
        let name = String::from_utf8_lossy(&h[30..(30 + nlen).min(h.len())]).into_owned();
        let data_off = (at + 30 + nlen + xlen) as u64;
        if csize == 0 || csize == 0xffff_ffff {
            // Sizes in a data descriptor: the member runs to the next signature.
            let next = data[(data_off as usize).min(data.len())..]
                .windows(4)
                .position(|w| w == b"PK\x03\x04" || w == b"PK\x01\x02" || w == b"PK\x07\x08");
            csize = next.map_or(data.len() as u64 - data_off.min(data.len() as u64), |n| {
                n as u64
            });
        }
        entries.push(ZipEntry {
            name,
            local_name: None,
            method,
            flags,
            crc,
            compressed_size: csize,
            size: usize_,
            header_offset: at as u64,
            data_offset: None,
            anomalies: Vec::new(),
        });
        p = at + 4;
    }
    entries
}

/// An LZMA member (method 14, APPNOTE 5.8.8), which Python's `zipfile` writes and reads and
/// so Keras loads: a 4-byte header (version, properties size 5), the properties (the lc/lp/pb
/// byte and the dictionary size), then a raw LZMA stream, ended by a marker when
/// general-purpose bit 1 is set (the size is then not known in advance). A dictionary that
/// would need more decoder memory than the `.lzma` limit is refused, not allocated.
fn lzma_member<'a>(mut raw: impl Read + 'a, e: &ZipEntry) -> Result<Box<dyn Read + 'a>, String> {
    let mut head = [0u8; 9];
    raw.read_exact(&mut head)
        .map_err(|_| "LZMA member shorter than its 9-byte header".to_string())?;
    let props_len = u16::from_le_bytes([head[2], head[3]]);
    if props_len != 5 {
        return Err(format!(
            "LZMA member with {props_len}-byte properties (expected 5)"
        ));
    }
    let props = head[4];
    let dict_size = u32::from_le_bytes([head[5], head[6], head[7], head[8]]);
    let size = if e.flags & 2 != 0 { u64::MAX } else { e.size };
    // With a known size the decoder keeps no more history than the output needs.
    let history = if size == u64::MAX {
        dict_size
    } else {
        dict_size.min(u32::try_from(size).unwrap_or(u32::MAX).max(4096))
    };
    let kib = lzma_rust2::lzma_get_memory_usage_by_props(history, props)
        .map_err(|err| format!("LZMA member properties: {err}"))?;
    if kib > super::archive::LZMA_MEM_LIMIT_KIB {
        return Err(format!(
            "LZMA member needs {} MiB of decoder memory (limit {} MiB)",
            kib / 1024,
            super::archive::LZMA_MEM_LIMIT_KIB / 1024
        ));
    }
    let reader = lzma_rust2::LzmaReader::new_with_props(raw, size, props, history, None)
        .map_err(|err| format!("LZMA member: {err}"))?;
    Ok(Box::new(reader))
}

/// Opens a member's (decompressed) content. `Err` names an unsupported method.
pub(crate) fn open<'a>(src: Src<'a>, e: &ZipEntry) -> Result<Box<dyn Read + 'a>, String> {
    let off = e.data_offset.ok_or("member has no readable local header")?;
    let raw = src.slice(off, e.compressed_size).reader();
    match e.method {
        0 => Ok(Box::new(raw)),
        8 => Ok(Box::new(flate2::read::DeflateDecoder::new(raw))),
        12 => Ok(Box::new(bzip2::read::BzDecoder::new(raw))),
        14 => lzma_member(raw, e),
        93 => Err("zstd-compressed member (method 93) is not supported".into()),
        99 => Err("AES-encrypted member".into()),
        m => Err(format!("unsupported compression method {m}")),
    }
}
