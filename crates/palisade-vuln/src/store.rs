//! The on-disk database: one file, opened without parsing the advisories.
//!
//! Layout (version 2, integers little-endian):
//!
//! ```text
//! header   64 bytes: magic "PLSDVULN", format u32, reserved u32,
//!          meta (off u64, len u64), directory (off u64, len u64), blocks off u64, crc u32
//! records  one per advisory: a binary match section, then the advisory as compact JSON
//!          (details dropped); see `record`
//! blocks   the sorted key table, cut into blocks of up to 64 keys:
//!          per key: len u16, key bytes ("<ecosystem>\0<normalised name>"), n u32,
//!          n × (record off u64, record len u32)
//! dir      n u32; per block: first-key len u16, first key, block off u64, block len u32
//! meta     JSON: creation time, sources, per-ecosystem counts
//! ```
//!
//! Opening reads the header, the block directory and the metadata: a few hundred kilobytes
//! even for half a million advisories. A lookup binary-searches the directory in memory, then
//! reads one block and the records it points at with positional reads. This is the
//! "sorted key → offset table" alternative to memory-mapping: `memmap2::Mmap::map` is an
//! `unsafe fn`, and the workspace forbids `unsafe` in our code, so the file is read with
//! `std::fs` only. The header's CRC-32 covers the directory and metadata, so a truncated or
//! corrupted file is refused at open; each record is checked when its parts are read.
//!
//! Format 1 stored records as JSON only; a format-1 file is refused at open with the
//! command that rebuilds it, as any other format is.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::osv::Advisory;

pub const MAGIC: &[u8; 8] = b"PLSDVULN";
/// 2: records start with a match section (`record`), read without decoding the JSON.
/// 3: Red Hat product streams indexed under `Red Hat:<major>` (`ecosystem::canonical`).
pub const FORMAT_VERSION: u32 = 3;
const HEADER_LEN: u64 = 64;
const BLOCK_KEYS: usize = 64;
/// Refuse keys, blocks and records beyond these sizes instead of allocating what a corrupt
/// file claims.
const MAX_BLOCK: u32 = 64 << 20;
const MAX_RECORD: u32 = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What `db info` shows.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    pub format: u32,
    /// Seconds since the Unix epoch when the database was built.
    pub created: u64,
    pub sources: Vec<String>,
    pub advisories: u64,
    pub keys: u64,
    pub withdrawn_skipped: u64,
    pub invalid_skipped: u64,
    pub ecosystems: BTreeMap<String, EcosystemCount>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct EcosystemCount {
    pub advisories: u64,
    pub packages: u64,
}

/// Builds a database file: records are streamed to disk, only keys stay in memory.
pub struct Writer {
    path: PathBuf,
    out: BufWriter<File>,
    pos: u64,
    /// id → (modified, offset, length, keys)
    entries: BTreeMap<String, (String, u64, u32, Vec<String>)>,
    pub meta: Meta,
}

impl Writer {
    /// Starts writing `path` (callers pass a temporary path and rename it when done).
    pub fn create(path: &Path) -> Result<Writer, StoreError> {
        let io = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::create(path).map_err(io)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&[0u8; HEADER_LEN as usize]).map_err(io)?;
        Ok(Writer {
            path: path.to_path_buf(),
            out,
            pos: HEADER_LEN,
            entries: BTreeMap::new(),
            meta: Meta {
                format: FORMAT_VERSION,
                ..Meta::default()
            },
        })
    }

    fn io(&self, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Adds an advisory. Withdrawn ones are counted and skipped; of two with the same id the
    /// later `modified` wins.
    pub fn add(&mut self, adv: &Advisory) -> Result<(), StoreError> {
        if adv.withdrawn.is_some() {
            self.meta.withdrawn_skipped += 1;
            return Ok(());
        }
        if let Some((modified, ..)) = self.entries.get(&adv.id)
            && modified.as_str() >= adv.modified.as_str()
        {
            return Ok(());
        }
        let mut keys: Vec<String> = adv
            .affected
            .iter()
            .filter_map(|a| a.package.as_ref())
            .filter(|p| !p.ecosystem.trim().is_empty() && !p.name.trim().is_empty())
            .map(|p| crate::ecosystem::key(&p.ecosystem, &p.name))
            .collect();
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            self.meta.invalid_skipped += 1;
            return Ok(());
        }
        let stored = Advisory {
            details: None,
            summary: Some(adv.headline()).filter(|s| !s.is_empty()),
            ..adv.clone()
        };
        let json = serde_json::to_vec(&stored).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            message: format!("cannot encode {}: {e}", adv.id),
        })?;
        let mut bytes = Vec::with_capacity(json.len() * 2);
        crate::record::encode(&stored, &json, &mut bytes);
        self.out.write_all(&bytes).map_err(|e| self.io(e))?;
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.entries
            .insert(adv.id.clone(), (adv.modified.clone(), self.pos, len, keys));
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Writes the key table, directory, metadata and header, and syncs the file.
    pub fn finish(mut self) -> Result<Meta, StoreError> {
        let mut table: BTreeMap<String, Vec<(u64, u32)>> = BTreeMap::new();
        let mut eco_adv: BTreeMap<String, u64> = BTreeMap::new();
        for (_, off, len, keys) in self.entries.values() {
            let mut seen_eco: Vec<&str> = Vec::new();
            for k in keys {
                table.entry(k.clone()).or_default().push((*off, *len));
                let eco = k.split('\0').next().unwrap_or("");
                if !seen_eco.contains(&eco) {
                    seen_eco.push(eco);
                }
            }
            for eco in seen_eco {
                *eco_adv.entry(eco.to_string()).or_default() += 1;
            }
        }
        for (eco, n) in eco_adv {
            self.meta.ecosystems.entry(eco).or_default().advisories = n;
        }
        for k in table.keys() {
            let eco = k.split('\0').next().unwrap_or("");
            self.meta
                .ecosystems
                .entry(eco.to_string())
                .or_default()
                .packages += 1;
        }
        self.meta.advisories = self.entries.len() as u64;
        self.meta.keys = table.len() as u64;
        if self.meta.created == 0 {
            self.meta.created = now();
        }

        let blocks_off = self.pos;
        let mut dir: Vec<u8> = Vec::new();
        let keys: Vec<(&String, &Vec<(u64, u32)>)> = table.iter().collect();
        dir.extend_from_slice(
            &u32::try_from(keys.len().div_ceil(BLOCK_KEYS))
                .unwrap_or(0)
                .to_le_bytes(),
        );
        for chunk in keys.chunks(BLOCK_KEYS) {
            let mut block = Vec::new();
            for (k, postings) in chunk {
                put_key(&mut block, k);
                block.extend_from_slice(&u32::try_from(postings.len()).unwrap_or(0).to_le_bytes());
                for (off, len) in postings.iter() {
                    block.extend_from_slice(&off.to_le_bytes());
                    block.extend_from_slice(&len.to_le_bytes());
                }
            }
            put_key(&mut dir, chunk[0].0);
            dir.extend_from_slice(&self.pos.to_le_bytes());
            dir.extend_from_slice(&u32::try_from(block.len()).unwrap_or(0).to_le_bytes());
            self.out.write_all(&block).map_err(|e| self.io(e))?;
            self.pos += block.len() as u64;
        }
        let dir_off = self.pos;
        self.out.write_all(&dir).map_err(|e| self.io(e))?;
        self.pos += dir.len() as u64;
        let meta_off = self.pos;
        let meta = serde_json::to_vec(&self.meta).unwrap_or_default();
        self.out.write_all(&meta).map_err(|e| self.io(e))?;

        let mut crc = crc32fast::Hasher::new();
        crc.update(&dir);
        crc.update(&meta);
        let mut header = Vec::with_capacity(HEADER_LEN as usize);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&meta_off.to_le_bytes());
        header.extend_from_slice(&(meta.len() as u64).to_le_bytes());
        header.extend_from_slice(&dir_off.to_le_bytes());
        header.extend_from_slice(&(dir.len() as u64).to_le_bytes());
        header.extend_from_slice(&blocks_off.to_le_bytes());
        header.extend_from_slice(&crc.finalize().to_le_bytes());
        header.resize(HEADER_LEN as usize, 0);
        self.out.seek(SeekFrom::Start(0)).map_err(|e| self.io(e))?;
        self.out.write_all(&header).map_err(|e| self.io(e))?;
        let file = self.out.into_inner().map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: e,
        })?;
        Ok(self.meta)
    }
}

fn put_key(out: &mut Vec<u8>, key: &str) {
    let bytes = &key.as_bytes()[..key.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&u16::try_from(bytes.len()).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(bytes);
}

#[must_use]
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A byte slice reader that fails instead of panicking.
struct Bytes<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        Some(s)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn key(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
}

struct BlockRef {
    first: Vec<u8>,
    off: u64,
    len: u32,
}

/// An open database.
pub struct Database {
    path: PathBuf,
    file: File,
    size: u64,
    dir: Vec<BlockRef>,
    pub meta: Meta,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn read_at(file: &File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, off)
    }
    #[cfg(not(unix))]
    {
        use std::io::Read;
        let mut f = file.try_clone()?;
        f.seek(SeekFrom::Start(off))?;
        f.read_exact(buf)
    }
}

impl Database {
    /// Opens a database file, checking its magic, format version and directory checksum.
    pub fn open(path: &Path) -> Result<Database, StoreError> {
        let io = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        let corrupt = |message: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            message,
        };
        let file = File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size < HEADER_LEN {
            return Err(corrupt(format!(
                "{size} bytes: too short for a Palisade vulnerability database (expected a {HEADER_LEN}-byte header)"
            )));
        }
        let mut header = [0u8; HEADER_LEN as usize];
        read_at(&file, &mut header, 0).map_err(io)?;
        let mut h = Bytes { b: &header, i: 0 };
        if h.take(8) != Some(MAGIC.as_slice()) {
            return Err(corrupt(
                "not a Palisade vulnerability database (expected magic `PLSDVULN`); build one with `palisade db import` or `palisade db update`".into(),
            ));
        }
        let format = h.u32().unwrap_or(0);
        if format != FORMAT_VERSION {
            return Err(corrupt(format!(
                "database format {format}, this palisade reads format {FORMAT_VERSION}; rebuild it with `palisade db update` or `palisade db import`"
            )));
        }
        let _ = h.u32();
        let (
            Some(meta_off),
            Some(meta_len),
            Some(dir_off),
            Some(dir_len),
            Some(_blocks),
            Some(crc),
        ) = (h.u64(), h.u64(), h.u64(), h.u64(), h.u64(), h.u32())
        else {
            return Err(corrupt("truncated header".into()));
        };
        let in_file = |off: u64, len: u64| off.checked_add(len).is_some_and(|end| end <= size);
        if !in_file(meta_off, meta_len)
            || !in_file(dir_off, dir_len)
            || dir_len > u64::from(MAX_BLOCK) * 4
            || meta_len > u64::from(MAX_BLOCK)
        {
            return Err(corrupt(format!(
                "header points past the end of the file ({size} bytes): truncated or incomplete"
            )));
        }
        let mut dir = vec![0u8; usize::try_from(dir_len).unwrap_or(0)];
        read_at(&file, &mut dir, dir_off).map_err(io)?;
        let mut meta_bytes = vec![0u8; usize::try_from(meta_len).unwrap_or(0)];
        read_at(&file, &mut meta_bytes, meta_off).map_err(io)?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&dir);
        hasher.update(&meta_bytes);
        if hasher.finalize() != crc {
            return Err(corrupt(
                "index checksum mismatch: the file is corrupt".into(),
            ));
        }
        let meta: Meta = serde_json::from_slice(&meta_bytes)
            .map_err(|e| corrupt(format!("metadata is not valid JSON: {e}")))?;
        let mut d = Bytes { b: &dir, i: 0 };
        let n = d.u32().ok_or_else(|| corrupt("empty directory".into()))?;
        let mut blocks = Vec::with_capacity(n.min(1 << 20) as usize);
        for _ in 0..n {
            let (Some(first), Some(off), Some(len)) = (d.key(), d.u64(), d.u32()) else {
                return Err(corrupt("truncated block directory".into()));
            };
            if len > MAX_BLOCK || !in_file(off, u64::from(len)) {
                return Err(corrupt("block directory points outside the file".into()));
            }
            blocks.push(BlockRef {
                first: first.to_vec(),
                off,
                len,
            });
        }
        Ok(Database {
            path: path.to_path_buf(),
            file,
            size,
            dir: blocks,
            meta,
        })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn corrupt(&self, message: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// The postings (record offset, length) of one key.
    fn postings(&self, key: &[u8], cache: &mut BlockCache) -> Result<Vec<(u64, u32)>, StoreError> {
        let idx = match self.dir.binary_search_by(|b| b.first.as_slice().cmp(key)) {
            Ok(i) => i,
            Err(0) => return Ok(Vec::new()),
            Err(i) => i - 1,
        };
        if cache.index != Some(idx) {
            let b = &self.dir[idx];
            // The buffer is reused from block to block.
            cache.index = None;
            cache.bytes.resize(b.len as usize, 0);
            read_at(&self.file, &mut cache.bytes, b.off).map_err(|e| StoreError::Io {
                path: self.path.clone(),
                source: e,
            })?;
            cache.index = Some(idx);
        }
        let mut r = Bytes {
            b: &cache.bytes,
            i: 0,
        };
        while !r.done() {
            let k = r.key().ok_or_else(|| self.corrupt("truncated key block"))?;
            let n = r.u32().ok_or_else(|| self.corrupt("truncated key block"))?;
            if k == key {
                let mut out = Vec::with_capacity(n.min(4096) as usize);
                for _ in 0..n {
                    let (Some(off), Some(len)) = (r.u64(), r.u32()) else {
                        return Err(self.corrupt("truncated postings"));
                    };
                    out.push((off, len));
                }
                return Ok(out);
            }
            r.take(12 * n as usize)
                .ok_or_else(|| self.corrupt("truncated postings"))?;
            if k > key {
                break;
            }
        }
        Ok(Vec::new())
    }

    /// Appends the bytes of the record at `off` to `buf`.
    fn read_record(&self, off: u64, len: u32, buf: &mut Vec<u8>) -> Result<(), StoreError> {
        if len > MAX_RECORD
            || off
                .checked_add(u64::from(len))
                .is_none_or(|e| e > self.size)
        {
            return Err(self.corrupt(format!("record at {off} points outside the file")));
        }
        let start = buf.len();
        buf.resize(start + len as usize, 0);
        read_at(&self.file, &mut buf[start..], off).map_err(|e| StoreError::Io {
            path: self.path.clone(),
            source: e,
        })
    }

    /// The advisory of a record's bytes.
    fn decode(&self, bytes: &[u8]) -> Result<Advisory, StoreError> {
        let rec = crate::record::Record::parse(bytes)
            .ok_or_else(|| self.corrupt("truncated record match section"))?;
        self.decode_json(&rec)
    }

    /// The advisory of a record, decoded from its JSON.
    pub(crate) fn decode_json(
        &self,
        rec: &crate::record::Record<'_>,
    ) -> Result<Advisory, StoreError> {
        serde_json::from_slice(rec.json).map_err(|e| {
            self.corrupt(format!(
                "record of `{}` is not a valid advisory: {e}",
                rec.id
            ))
        })
    }

    fn record(&self, off: u64, len: u32) -> Result<Advisory, StoreError> {
        let mut buf = Vec::new();
        self.read_record(off, len, &mut buf)?;
        self.decode(&buf)
    }

    /// Reads the records stored under an index key into `arena`, one after another, and
    /// returns their byte ranges in it (in posting order). Matching reads their match
    /// sections in place and decodes the JSON of the few that affect a package.
    pub(crate) fn read_key(
        &self,
        key: &str,
        cache: &mut BlockCache,
        arena: &mut Vec<u8>,
    ) -> Result<Vec<std::ops::Range<usize>>, StoreError> {
        let postings = self.postings(key.as_bytes(), cache)?;
        let mut out = Vec::with_capacity(postings.len());
        for (off, len) in postings {
            let start = arena.len();
            self.read_record(off, len, arena)?;
            out.push(start..arena.len());
        }
        Ok(out)
    }

    /// Advisories stored under an index key (see [`crate::ecosystem::key`]).
    pub fn lookup_key(
        &self,
        key: &str,
        cache: &mut BlockCache,
    ) -> Result<Vec<Advisory>, StoreError> {
        self.postings(key.as_bytes(), cache)?
            .into_iter()
            .map(|(off, len)| self.record(off, len))
            .collect()
    }

    /// Advisories for a package name in an ecosystem (suffixed ecosystems also see advisories
    /// filed under their base name).
    pub fn lookup(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, StoreError> {
        let mut cache = BlockCache::default();
        let mut out = Vec::new();
        for eco in crate::ecosystem::lookup_names(ecosystem) {
            out.extend(self.lookup_key(&crate::ecosystem::key(eco, name), &mut cache)?);
        }
        Ok(out)
    }
}

/// The last key block read; lookups in sorted key order reuse it.
#[derive(Default)]
pub struct BlockCache {
    index: Option<usize>,
    bytes: Vec<u8>,
}
