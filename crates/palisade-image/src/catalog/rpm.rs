//! The rpm database, in the three formats rpm has written:
//!
//! - SQLite `rpmdb.sqlite` (rpm ≥ 4.16: RHEL 9, Fedora ≥ 33, Amazon Linux 2023, UBI 9),
//!   table `Packages(hnum, blob)`, read with the SQLite library (rusqlite, bundled) from an
//!   in-memory, read-only copy: nothing is written, not even a `-shm` file;
//! - Berkeley DB hash `Packages` (RHEL/CentOS 7 and 8, Amazon Linux 2): the header blobs are
//!   the values of the hash pages (inline or on overflow-page chains), read here;
//! - NDB `Packages.db` (SUSE, openSUSE): slot pages naming blobs, read here.
//!
//! Each blob is an rpm header (no lead or magic): `il` index entries of 16 bytes and `dl`
//! bytes of data. [`parse_header`] reads the tags a cataloger needs and checks every count,
//! offset and length against the blob before it touches the data (rpm's own limits: at most
//! 65,535 entries and 256 MiB of data).

use super::{Found, OsRelease, Package, PackageType, purl};

/// Largest header rpm accepts (`HEADER_DATA_MAX`).
const MAX_DATA: usize = 0x0fff_ffff;
/// Most index entries rpm accepts (`hdrchkTags`).
const MAX_TAGS: usize = 0xffff;
/// Packages read from one database.
const MAX_PACKAGES: usize = 200_000;

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_LICENSE: u32 = 1014;
const TAG_VENDOR: u32 = 1011;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// The fields of an rpm header the catalogers use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RpmHeader {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<u32>,
    pub arch: String,
    pub source_rpm: String,
    pub license: String,
    pub vendor: String,
}

impl RpmHeader {
    /// `[EPOCH:]VERSION-RELEASE`, as `rpm -q` prints it and OSV's RPM ecosystems compare it.
    #[must_use]
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) if e > 0 => format!("{e}:{}-{}", self.version, self.release),
            _ => format!("{}-{}", self.version, self.release),
        }
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parses an rpm header blob. Errors say what was malformed; nothing is read outside the
/// blob.
pub fn parse_header(blob: &[u8]) -> Result<RpmHeader, String> {
    let il = be32(blob, 0).ok_or("header blob shorter than 8 bytes")? as usize;
    let dl = be32(blob, 4).ok_or("header blob shorter than 8 bytes")? as usize;
    if il == 0 || il > MAX_TAGS {
        return Err(format!("{il} index entries (expected 1 to {MAX_TAGS})"));
    }
    if dl > MAX_DATA {
        return Err(format!("{dl} bytes of data (more than rpm's {MAX_DATA})"));
    }
    let data_start = 8 + il * 16;
    let data = blob.get(data_start..data_start + dl).ok_or_else(|| {
        format!(
            "blob of {} bytes is shorter than its {il} entries and {dl} data bytes",
            blob.len()
        )
    })?;
    let mut h = RpmHeader::default();
    for i in 0..il {
        let e = 8 + i * 16;
        let (Some(tag), Some(ty), Some(off), Some(count)) = (
            be32(blob, e),
            be32(blob, e + 4),
            be32(blob, e + 8),
            be32(blob, e + 12),
        ) else {
            return Err(format!("index entry {i} is cut off"));
        };
        let off = off as usize;
        let field = match tag {
            TAG_NAME => &mut h.name,
            TAG_VERSION => &mut h.version,
            TAG_RELEASE => &mut h.release,
            TAG_ARCH => &mut h.arch,
            TAG_SOURCERPM => &mut h.source_rpm,
            TAG_LICENSE => &mut h.license,
            TAG_VENDOR => &mut h.vendor,
            TAG_EPOCH => {
                if ty != TYPE_INT32 || count < 1 {
                    return Err(format!(
                        "EPOCH has type {ty} and count {count} (expected INT32)"
                    ));
                }
                if !off.is_multiple_of(4) {
                    return Err(format!("EPOCH offset {off} is not 4-byte aligned"));
                }
                h.epoch = Some(be32(data, off).ok_or_else(|| {
                    format!("EPOCH at offset {off} is outside the {dl}-byte data")
                })?);
                continue;
            }
            _ => continue,
        };
        if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return Err(format!("tag {tag} has type {ty} (expected a string)"));
        }
        let rest = data
            .get(off..)
            .ok_or_else(|| format!("tag {tag} at offset {off} is outside the {dl}-byte data"))?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| format!("tag {tag}: string at offset {off} is not terminated"))?;
        *field = String::from_utf8_lossy(&rest[..end]).into_owned();
    }
    if h.name.is_empty() || h.version.is_empty() {
        return Err("header has no NAME or VERSION".into());
    }
    Ok(h)
}

/// `name-version-release.src.rpm` → (name, version-release).
#[must_use]
pub fn split_source_rpm(s: &str) -> Option<(String, String)> {
    let base = s
        .strip_suffix(".src.rpm")
        .or_else(|| s.strip_suffix(".nosrc.rpm"))?;
    let (nv, release) = base.rsplit_once('-')?;
    let (name, version) = nv.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_string(), format!("{version}-{release}")))
}

/// Which database format a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbFormat {
    Sqlite,
    BerkeleyDb,
    Ndb,
}

/// Where rpm keeps its database, by format.
pub const DB_PATHS: &[(&str, DbFormat)] = &[
    ("var/lib/rpm/rpmdb.sqlite", DbFormat::Sqlite),
    ("usr/lib/sysimage/rpm/rpmdb.sqlite", DbFormat::Sqlite),
    ("var/lib/rpm/Packages", DbFormat::BerkeleyDb),
    ("usr/lib/sysimage/rpm/Packages", DbFormat::BerkeleyDb),
    ("var/lib/rpm/Packages.db", DbFormat::Ndb),
    ("usr/lib/sysimage/rpm/Packages.db", DbFormat::Ndb),
];

/// The header blobs of an `rpmdb.sqlite`, from an in-memory read-only copy.
pub fn sqlite_blobs(db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if !db.starts_with(b"SQLite format 3\0") || db.len() < 100 {
        return Err("not an SQLite 3 database".into());
    }
    let mut copy = db.to_vec();
    // rpm leaves the file in WAL mode; the in-memory VFS reads only rollback-journal files.
    // Bytes 18 and 19 are the write and read format versions (1 = legacy, 2 = WAL).
    copy[18] = 1;
    copy[19] = 1;
    let e = |e: rusqlite::Error| format!("SQLite: {e}");
    let mut conn = rusqlite::Connection::open_in_memory_with_flags(
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(e)?;
    // A hostile file must not run code: no triggers or views from its schema, no
    // extensions, defensive mode (no writes to the schema, no corrupting pragmas).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA,
        false,
    )
    .map_err(e)?;
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .map_err(e)?;
    let len = copy.len();
    conn.deserialize_read_exact(rusqlite::MAIN_DB, &copy[..], len, true)
        .map_err(e)?;
    let mut stmt = conn
        .prepare("SELECT blob FROM Packages ORDER BY hnum")
        .map_err(e)?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).map_err(e)?;
    let mut out = Vec::new();
    for r in rows.take(MAX_PACKAGES) {
        out.push(r.map_err(e)?);
    }
    Ok(out)
}

/// Berkeley DB page types.
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
/// Hash item types.
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
const BDB_HASH_MAGIC: u32 = 0x0006_1561;
/// Size of the generic page header (`PAGE` in db_page.h).
const PAGE_HEADER: usize = 26;

/// The header blobs of a Berkeley DB hash `Packages` file: the values of every hash page,
/// inline (`H_KEYDATA`) or on overflow-page chains (`H_OFFPAGE`).
pub fn bdb_blobs(db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    // The metadata page says the byte order by how the magic reads.
    let magic_le = le32(db, 12).ok_or("file shorter than a Berkeley DB metadata page")?;
    let big = if magic_le == BDB_HASH_MAGIC {
        false
    } else if magic_le.swap_bytes() == BDB_HASH_MAGIC {
        true
    } else {
        return Err("not a Berkeley DB hash database (bad magic)".into());
    };
    let u32_at = |b: &[u8], at: usize| le32(b, at).map(|v| if big { v.swap_bytes() } else { v });
    let u16_at = |b: &[u8], at: usize| {
        b.get(at..at + 2).map(|s| {
            let v = u16::from_le_bytes([s[0], s[1]]);
            if big { v.swap_bytes() } else { v }
        })
    };
    let page_size = u32_at(db, 20).ok_or("metadata page cut off")? as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!(
            "page size {page_size} (expected a power of two, 512 to 64 KiB)"
        ));
    }
    let last = u32_at(db, 32).ok_or("metadata page cut off")? as usize;
    let pages = (db.len() / page_size).min(last + 1);
    let page = |n: usize| db.get(n * page_size..(n + 1) * page_size);
    let mut out = Vec::new();
    for n in 1..pages {
        let Some(p) = page(n) else { break };
        if !matches!(p[25], P_HASH | P_HASH_UNSORTED) {
            continue;
        }
        let entries = usize::from(u16_at(p, 20).unwrap_or(0));
        // Entries alternate key, value; each index is a u16 offset into the page.
        let mut offsets = Vec::with_capacity(entries);
        for i in 0..entries {
            match u16_at(p, PAGE_HEADER + 2 * i) {
                Some(o) if usize::from(o) < page_size => offsets.push(usize::from(o)),
                _ => return Err(format!("page {n}: entry {i} points outside the page")),
            }
        }
        for i in (1..entries).step_by(2) {
            let off = offsets[i];
            match p[off] {
                H_OFFPAGE => {
                    let first = u32_at(p, off + 4).ok_or("off-page item cut off")? as usize;
                    let len = u32_at(p, off + 8).ok_or("off-page item cut off")? as usize;
                    if len > MAX_DATA {
                        return Err(format!("page {n}: value of {len} bytes"));
                    }
                    let mut v = Vec::with_capacity(len);
                    let mut next = first;
                    let mut hops = 0usize;
                    while v.len() < len {
                        hops += 1;
                        if next == 0 || next >= pages || hops > pages {
                            return Err(format!(
                                "page {n}: overflow chain is broken at page {next}"
                            ));
                        }
                        let o = page(next).ok_or("overflow page outside the file")?;
                        if o[25] != P_OVERFLOW {
                            return Err(format!("page {next} is not an overflow page"));
                        }
                        // On overflow pages `hf_offset` is the number of bytes used.
                        let used = usize::from(u16_at(o, 22).unwrap_or(0));
                        let chunk = o
                            .get(PAGE_HEADER..PAGE_HEADER + used)
                            .ok_or_else(|| format!("overflow page {next} claims {used} bytes"))?;
                        if used == 0 {
                            return Err(format!("overflow page {next} is empty"));
                        }
                        let want = (len - v.len()).min(chunk.len());
                        v.extend_from_slice(&chunk[..want]);
                        next = u32_at(o, 16).unwrap_or(0) as usize;
                    }
                    out.push(v);
                }
                H_KEYDATA => {
                    // Inline data runs to the previous item's start (items grow down from
                    // the end of the page) or the page end.
                    let end = if i == 0 { page_size } else { offsets[i - 1] };
                    let end = if end > off { end } else { page_size };
                    if let Some(d) = p.get(off + 1..end) {
                        out.push(d.to_vec());
                    }
                }
                _ => {}
            }
            if out.len() >= MAX_PACKAGES {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

const NDB_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const NDB_SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const NDB_BLOB_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const NDB_PAGE: usize = 4096;

/// The header blobs of an NDB `Packages.db` (rpm's `lib/backend/ndb/rpmpkg.c` layout, little
/// endian): a 32-byte header, slot pages of 16-byte slots, blobs at 16-byte blocks.
pub fn ndb_blobs(db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if le32(db, 0) != Some(NDB_MAGIC) {
        return Err("not an rpm NDB Packages.db (bad magic)".into());
    }
    if le32(db, 4) != Some(0) {
        return Err(format!("NDB version {:?} (expected 0)", le32(db, 4)));
    }
    let slot_pages = le32(db, 12).ok_or("header cut off")? as usize;
    let slots_end = slot_pages
        .checked_mul(NDB_PAGE)
        .filter(|&e| e <= db.len())
        .ok_or_else(|| format!("{slot_pages} slot pages do not fit in the file"))?;
    let mut out = Vec::new();
    // The first two slots hold the file header.
    for at in (32..slots_end).step_by(16) {
        let (Some(magic), Some(idx), Some(blkoff), Some(_blkcnt)) = (
            le32(db, at),
            le32(db, at + 4),
            le32(db, at + 8),
            le32(db, at + 12),
        ) else {
            break;
        };
        if magic != NDB_SLOT_MAGIC {
            return Err(format!("slot at byte {at} has a bad magic"));
        }
        if idx == 0 {
            continue;
        }
        let b = (blkoff as usize)
            .checked_mul(16)
            .ok_or("blob offset overflows")?;
        if le32(db, b) != Some(NDB_BLOB_MAGIC) || le32(db, b + 4) != Some(idx) {
            return Err(format!("package {idx}: no blob header at byte {b}"));
        }
        let len = le32(db, b + 12).ok_or("blob header cut off")? as usize;
        if len > MAX_DATA {
            return Err(format!("package {idx}: blob of {len} bytes"));
        }
        let blob = db
            .get(b + 16..b + 16 + len)
            .ok_or_else(|| format!("package {idx}: blob of {len} bytes runs past the end"))?;
        out.push(blob.to_vec());
        if out.len() >= MAX_PACKAGES {
            break;
        }
    }
    Ok(out)
}

/// The purl namespace of an rpm distribution.
fn namespace(os: Option<&OsRelease>) -> String {
    match os.map(|o| o.id.as_str()) {
        Some("rhel") => "redhat".into(),
        Some("amzn") => "amazon".into(),
        Some("opensuse-leap" | "opensuse-tumbleweed" | "opensuse") => "opensuse".into(),
        Some("sles") => "suse".into(),
        Some(id) if !id.is_empty() => id.to_string(),
        _ => "redhat".into(),
    }
}

/// Catalogs an rpm database in any of its formats. Returns an error for an unreadable
/// database; a malformed header is skipped and counted in the error.
pub(crate) fn rpm(
    data: &[u8],
    format: DbFormat,
    os: Option<&OsRelease>,
    at: &Found<'_>,
    out: &mut Vec<Package>,
) -> Result<(), String> {
    let blobs = match format {
        DbFormat::Sqlite => sqlite_blobs(data)?,
        DbFormat::BerkeleyDb => bdb_blobs(data)?,
        DbFormat::Ndb => ndb_blobs(data)?,
    };
    let ecosystem = os.map(OsRelease::ecosystem).unwrap_or_default();
    let distro = os.map(OsRelease::distro).unwrap_or_default();
    let ns = namespace(os);
    let mut bad = Vec::new();
    for (i, blob) in blobs.iter().enumerate() {
        let h = match parse_header(blob) {
            Ok(h) => h,
            Err(e) => {
                bad.push(format!("header {}: {e}", i + 1));
                continue;
            }
        };
        // gpg-pubkey entries are imported keys, not packages.
        if h.name == "gpg-pubkey" {
            continue;
        }
        let epoch = h.epoch.filter(|&e| e > 0).map(|e| e.to_string());
        // A source rpm's file name has no epoch, but the source package has the binary's
        // (one spec file, one `Epoch:`). Without it `2:1.2.3-5` would be matched as
        // `0:1.2.3-5`, older than every fix with an epoch: a fixed package reported affected.
        let (source_name, source_version) = split_source_rpm(&h.source_rpm)
            .map(|(name, vr)| match &epoch {
                Some(e) => (name, format!("{e}:{vr}")),
                None => (name, vr),
            })
            .unzip();
        let vr = format!("{}-{}", h.version, h.release);
        let mut q: Vec<(&str, &str)> = vec![("arch", &h.arch), ("distro", &distro)];
        if let Some(e) = &epoch {
            q.push(("epoch", e));
        }
        if !h.source_rpm.is_empty() {
            q.push(("upstream", &h.source_rpm));
        }
        out.push(Package {
            purl: purl::build("rpm", Some(&ns), &h.name, &vr, &q),
            version: h.evr(),
            name: h.name,
            kind: PackageType::Rpm,
            source_name,
            source_version,
            ecosystem: ecosystem.clone(),
            license: Some(h.license).filter(|l| !l.is_empty()),
            arch: Some(h.arch).filter(|a| !a.is_empty()),
            layer: at.layer.to_string(),
            path: at.path.to_string(),
            found_by: None,
        });
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} package headers unreadable ({})",
            bad.len(),
            blobs.len(),
            bad.into_iter().take(3).collect::<Vec<_>>().join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header blob with the given (tag, type, data) entries.
    pub(crate) fn blob(entries: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, d) in entries {
            if *ty == TYPE_INT32 {
                while !data.len().is_multiple_of(4) {
                    data.push(0);
                }
            }
            index.extend(tag.to_be_bytes());
            index.extend(ty.to_be_bytes());
            index.extend((data.len() as u32).to_be_bytes());
            index.extend(1u32.to_be_bytes());
            data.extend(d);
        }
        let mut b = (entries.len() as u32).to_be_bytes().to_vec();
        b.extend((data.len() as u32).to_be_bytes());
        b.extend(index);
        b.extend(data);
        b
    }

    fn s(v: &str) -> Vec<u8> {
        let mut b = v.as_bytes().to_vec();
        b.push(0);
        b
    }

    #[test]
    fn header_fields_and_bounds() {
        let b = blob(&[
            (TAG_NAME, TYPE_STRING, s("openssl")),
            (TAG_VERSION, TYPE_STRING, s("3.0.7")),
            (TAG_RELEASE, TYPE_STRING, s("27.el9")),
            (TAG_EPOCH, TYPE_INT32, 1u32.to_be_bytes().to_vec()),
            (TAG_ARCH, TYPE_STRING, s("x86_64")),
            (
                TAG_SOURCERPM,
                TYPE_STRING,
                s("openssl-3.0.7-27.el9.src.rpm"),
            ),
            (TAG_LICENSE, TYPE_STRING, s("ASL 2.0")),
        ]);
        let h = parse_header(&b).unwrap();
        assert_eq!(h.evr(), "1:3.0.7-27.el9");
        assert_eq!((h.arch.as_str(), h.license.as_str()), ("x86_64", "ASL 2.0"));
        assert_eq!(
            split_source_rpm(&h.source_rpm),
            Some(("openssl".into(), "3.0.7-27.el9".into()))
        );
        // Every truncation is an error, never a panic or an out-of-bounds read.
        for n in 0..b.len() {
            assert!(parse_header(&b[..n]).is_err(), "{n}");
        }
        // An offset pointing outside the data.
        let mut bad = b.clone();
        bad[8 + 8..8 + 12].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
        assert!(parse_header(&bad).unwrap_err().contains("outside"));
        // Absurd counts.
        let mut huge = b.clone();
        huge[..4].copy_from_slice(&0x0010_0000u32.to_be_bytes());
        assert!(parse_header(&huge).unwrap_err().contains("index entries"));
        // A string without its terminator.
        let unterminated = blob(&[(TAG_NAME, TYPE_STRING, b"abc".to_vec())]);
        assert!(
            parse_header(&unterminated)
                .unwrap_err()
                .contains("terminated")
        );
    }

    #[test]
    fn bad_databases_are_errors() {
        assert!(sqlite_blobs(b"not sqlite").is_err());
        assert!(bdb_blobs(&[0u8; 8192]).is_err());
        assert!(ndb_blobs(b"RpmP\0\0\0\0").is_err());
        let mut ndb = vec![0u8; 4096];
        ndb[..4].copy_from_slice(b"RpmP");
        ndb[12..16].copy_from_slice(&9u32.to_le_bytes());
        assert!(ndb_blobs(&ndb).unwrap_err().contains("slot pages"));
    }
}
