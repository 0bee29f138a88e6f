//! A small, read-only HDF5 reader: just enough of the format to list the attributes of the
//! root group (and of one named child group), which is where Keras keeps `model_config`.
//!
//! It follows the HDF5 file format specification for what h5py and Keras write: superblock
//! versions 0-3, object headers v1 and v2 (continuation blocks and `OCHK` chunks), attribute
//! messages v1-v3, compact and dense attribute storage (attribute info message → fractal heap
//! addressed through the v2 B-tree name index), fixed-length and variable-length strings
//! (global heap collections), and, to find a child group, v1 symbol tables (B-tree v1 and
//! local heap) and v2 link messages.
//!
//! Every read is positional and bounded: addresses are checked against the file length, every
//! count (messages, chunks, heap objects, B-tree nodes, attributes) has a cap, allocation sizes
//! come from checked lengths with caps, and nothing recurses without a depth limit. Checksums
//! are not verified (a bad checksum makes h5py refuse a file, never read more of it).

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use crate::source::Src;

/// Most bytes read for one attribute's string value (the same cap as the JSON search).
pub(crate) const MAX_STRING: u64 = 64 * 1024 * 1024;
/// Most bytes of object header chunks read for one object.
const MAX_HEADER_BYTES: u64 = 64 * 1024 * 1024;
/// Most object header chunks (continuations) of one object.
const MAX_CHUNKS: usize = 1024;
/// Most messages of one object.
const MAX_MESSAGES: usize = 65_536;
/// Most attributes read for one object.
const MAX_ATTRS: usize = 4096;
/// Most string elements decoded from one attribute.
const MAX_ELEMENTS: u64 = 1024;
/// Most objects stepped over in one global heap collection.
const MAX_HEAP_OBJECTS: usize = 1 << 20;
/// Most v2 B-tree nodes visited for one object's dense attributes.
const MAX_NODES: usize = 1024;
/// Largest v2 B-tree node read (HDF5 writes 512 bytes).
const MAX_NODE_SIZE: u64 = 64 * 1024;
/// Most positional reads for one file, and most bytes read by them: the bound on the work an
/// adversarial file can cause, whatever its pointers and counts say.
const MAX_READS: u64 = 200_000;
const MAX_READ_BYTES: u64 = 256 * 1024 * 1024;
/// Deepest v2 B-tree or fractal heap indirect block nesting followed.
const MAX_TREE_DEPTH: u32 = 16;
/// Most v1 B-tree nodes / symbol table nodes visited to find a child group.
const MAX_GROUP_NODES: usize = 4096;

/// What one object's header chunks may cost: a continuation chain is bounded in length and
/// bytes and may not come back to a chunk already read.
#[derive(Default)]
struct ChunkBudget {
    chunks: usize,
    bytes: u64,
    seen: HashSet<u64>,
}

impl ChunkBudget {
    fn admit(&mut self, at: u64, size: u64) -> Result<()> {
        self.chunks += 1;
        if self.chunks > MAX_CHUNKS {
            return bad(at, format!("more than {MAX_CHUNKS} object header chunks"));
        }
        if !self.seen.insert(at) {
            return bad(at, "object header continuation loop");
        }
        self.bytes = self.bytes.saturating_add(size);
        if self.bytes > MAX_HEADER_BYTES {
            return bad(at, "object header larger than 64 MiB");
        }
        Ok(())
    }
}

/// Why the structure could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Error {
    /// The bytes contradict the format (truncated, out of range, bad signature, loops).
    Malformed { at: u64, what: String },
    /// Valid HDF5 that this reader does not follow (shared messages, huge heap objects, ...).
    Unsupported { at: u64, what: String },
}

impl Error {
    pub(crate) fn offset(&self) -> u64 {
        match self {
            Error::Malformed { at, .. } | Error::Unsupported { at, .. } => *at,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed { at, what } => write!(f, "{what} (at byte {at})"),
            Error::Unsupported { at, what } => write!(f, "unsupported: {what} (at byte {at})"),
        }
    }
}

type Result<T> = std::result::Result<T, Error>;

fn bad<T>(at: u64, what: impl Into<String>) -> Result<T> {
    Err(Error::Malformed {
        at,
        what: what.into(),
    })
}

fn unsupported<T>(at: u64, what: impl Into<String>) -> Result<T> {
    Err(Error::Unsupported {
        at,
        what: what.into(),
    })
}

/// The value of one attribute, as far as a Keras loader cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// Strings (fixed or variable length), each with the file offset of its bytes. A scalar
    /// attribute has one; trailing NULs of fixed-length strings are removed, as numpy does.
    Strings(Vec<(u64, Vec<u8>)>),
    /// Any other datatype (numbers, compounds, ...): not read.
    Other,
    /// A string attribute whose value could not be read (the reason says why).
    Unreadable(Error),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    pub name: String,
    pub value: Value,
    /// Where the attribute message starts.
    pub offset: u64,
}

impl Attribute {
    /// The first string of the value, lossily decoded (for `keras_version`, `backend`).
    pub(crate) fn text(&self) -> Option<String> {
        match &self.value {
            Value::Strings(v) => v
                .first()
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

/// What was read of a file.
#[derive(Debug, Clone, Default)]
pub(crate) struct File {
    pub root: Vec<Attribute>,
    /// The attributes of the root's `model_weights` group, when there is one and it could be
    /// read (`Err` keeps why not, without failing the root's attributes).
    pub model_weights: Option<Result<Vec<Attribute>>>,
}

/// Reads the root group's attributes and those of its `model_weights` child. Only the values
/// of the attributes named in `wanted` are read; the others are listed as [`Value::Other`].
pub(crate) fn read(src: Src<'_>, wanted: &[&str]) -> Result<File> {
    let mut r = Reader::open(src)?;
    r.wanted = wanted.iter().map(|s| s.to_string()).collect();
    let root_msgs = r.messages(r.root)?;
    let root = r.attributes(&root_msgs)?;
    let model_weights = match r.find_child(&root_msgs, b"model_weights") {
        Ok(Some(addr)) => Some(r.messages(addr).and_then(|m| r.attributes(&m))),
        Ok(None) => None,
        Err(e) => Some(Err(e)),
    };
    Ok(File {
        root,
        model_weights,
    })
}

// --- byte cursor ---------------------------------------------------------------------------

/// A little-endian cursor over bytes that were read from file offset `base`.
struct Cur<'b> {
    buf: &'b [u8],
    pos: usize,
    base: u64,
}

impl<'b> Cur<'b> {
    fn new(buf: &'b [u8], base: u64) -> Self {
        Cur { buf, pos: 0, base }
    }

    fn at(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'b [u8]> {
        if n > self.remaining() {
            return bad(self.at(), format!("{what} truncated"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn skip(&mut self, n: usize, what: &str) -> Result<()> {
        self.take(n, what).map(|_| ())
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(self.uint(2, what)? as u16)
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(self.uint(4, what)? as u32)
    }

    /// An unsigned little-endian integer of `n` bytes (n <= 8).
    fn uint(&mut self, n: usize, what: &str) -> Result<u64> {
        let b = self.take(n, what)?;
        Ok(le(b))
    }
}

fn le(b: &[u8]) -> u64 {
    b.iter()
        .take(8)
        .enumerate()
        .fold(0u64, |acc, (i, &x)| acc | (u64::from(x) << (8 * i)))
}

fn pad8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// Bytes needed to encode `v` (HDF5's `H5VM_limit_enc_size`).
fn enc_size(v: u64) -> usize {
    let log2 = if v == 0 { 0 } else { 63 - v.leading_zeros() };
    (log2 / 8 + 1) as usize
}

// --- the reader ----------------------------------------------------------------------------

struct Reader<'a> {
    src: Src<'a>,
    len: u64,
    /// Size of offsets and of lengths, in bytes.
    so: usize,
    sl: usize,
    base: u64,
    root: u64,
    wanted: Vec<String>,
    reads: Cell<u64>,
    read_bytes: Cell<u64>,
}

/// One object header message.
struct Msg {
    typ: u16,
    flags: u8,
    /// File offset of the message data.
    at: u64,
    data: Vec<u8>,
}

const MSG_LINK_INFO: u16 = 0x02;
const MSG_LINK: u16 = 0x06;
const MSG_ATTRIBUTE: u16 = 0x0C;
const MSG_CONTINUATION: u16 = 0x10;
const MSG_SYMBOL_TABLE: u16 = 0x11;
const MSG_ATTRIBUTE_INFO: u16 = 0x15;

impl<'a> Reader<'a> {
    fn open(src: Src<'a>) -> Result<Self> {
        let len = src.len();
        let head = src
            .read_vec(0, 8 + 16 + 4 * 8 + 40)
            .or_else(|e| bad(0, format!("read error: {e}")))?;
        if !head.starts_with(b"\x89HDF\r\n\x1a\n") {
            return bad(0, "no HDF5 signature at byte 0");
        }
        let mut c = Cur::new(&head, 0);
        c.skip(8, "signature")?;
        let version = c.u8("superblock version")?;
        let mut r = Reader {
            src,
            len,
            so: 8,
            sl: 8,
            base: 0,
            root: 0,
            wanted: Vec::new(),
            reads: Cell::new(0),
            read_bytes: Cell::new(0),
        };
        match version {
            0 | 1 => {
                c.skip(3, "superblock")?; // free-space, root entry, reserved
                c.skip(1, "superblock")?; // shared header message format version
                r.so = c.u8("size of offsets")? as usize;
                r.sl = c.u8("size of lengths")? as usize;
                r.check_sizes()?;
                c.skip(1 + 2 + 2 + 4, "superblock")?; // reserved, leaf K, internal K, flags
                if version == 1 {
                    c.skip(4, "superblock")?; // indexed storage K, reserved
                }
                r.base = r.addr(&mut c)?.unwrap_or(0);
                c.skip(3 * r.so, "superblock addresses")?; // free space, EOF, driver info
                // root group symbol table entry: link name offset, object header address
                c.skip(r.so, "root symbol table entry")?;
                let at = c.at();
                r.root = match r.addr(&mut c)? {
                    Some(a) => a,
                    None => return bad(at, "root group address is undefined"),
                };
            }
            2 | 3 => {
                r.so = c.u8("size of offsets")? as usize;
                r.sl = c.u8("size of lengths")? as usize;
                r.check_sizes()?;
                c.skip(1, "superblock flags")?;
                r.base = r.addr(&mut c)?.unwrap_or(0);
                c.skip(2 * r.so, "superblock addresses")?; // extension, EOF
                let at = c.at();
                r.root = match r.addr(&mut c)? {
                    Some(a) => a,
                    None => return bad(at, "root group address is undefined"),
                };
            }
            v => return unsupported(8, format!("superblock version {v}")),
        }
        r.root = r.abs(r.root, 8)?;
        Ok(r)
    }

    fn check_sizes(&self) -> Result<()> {
        for (n, what) in [(self.so, "offsets"), (self.sl, "lengths")] {
            match n {
                2 | 4 | 8 => {}
                16 => return unsupported(13, format!("size of {what} {n}")),
                _ => return bad(13, format!("impossible size of {what} {n}")),
            }
        }
        Ok(())
    }

    /// Reads an address; `None` for the undefined address (all bits set).
    fn addr(&self, c: &mut Cur<'_>) -> Result<Option<u64>> {
        let v = c.uint(self.so, "address")?;
        let undef = if self.so >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * self.so)) - 1
        };
        Ok((v != undef).then_some(v))
    }

    fn length(&self, c: &mut Cur<'_>) -> Result<u64> {
        c.uint(self.sl, "length")
    }

    /// A file offset from a relative address, checked to lie inside the file.
    fn abs(&self, a: u64, from: u64) -> Result<u64> {
        match self.base.checked_add(a) {
            Some(x) if x < self.len => Ok(x),
            _ => bad(from, format!("address {a} is beyond the end of the file")),
        }
    }

    /// Reads `n` bytes at absolute offset `at`; errors when they are not all in the file.
    fn bytes(&self, at: u64, n: u64, what: &str) -> Result<Vec<u8>> {
        if at.checked_add(n).is_none_or(|end| end > self.len) {
            return bad(
                at,
                format!("{what} of {n} bytes runs past the end of the file"),
            );
        }
        self.reads.set(self.reads.get() + 1);
        self.read_bytes.set(self.read_bytes.get().saturating_add(n));
        if self.reads.get() > MAX_READS || self.read_bytes.get() > MAX_READ_BYTES {
            return unsupported(at, "structure needs more reads than the scan allows");
        }
        read_exact(self.src, at, n)
    }

    // --- object headers --------------------------------------------------------------------

    /// Every message of the object header at `addr`, continuation chunks included.
    fn messages(&self, addr: u64) -> Result<Vec<Msg>> {
        let first = self.bytes(addr, 16, "object header")?;
        let mut out = Vec::new();
        let mut budget = ChunkBudget::default();
        if first.starts_with(b"OHDR") {
            let mut c = Cur::new(&first, addr);
            c.skip(4, "signature")?;
            let ver = c.u8("object header version")?;
            if ver != 2 {
                return unsupported(addr + 4, format!("object header v2 with version {ver}"));
            }
            let flags = c.u8("object header flags")?;
            let mut prefix = 6usize;
            if flags & 0x20 != 0 {
                prefix += 16;
            }
            if flags & 0x10 != 0 {
                prefix += 4;
            }
            let width = 1usize << (flags & 3);
            let size_bytes = self.bytes(addr + prefix as u64, width as u64, "object header")?;
            let size = le(&size_bytes);
            let start = addr + (prefix + width) as u64;
            let mut queue = vec![(start, size, false)];
            while let Some((at, size, ochk)) = queue.pop() {
                budget.admit(at, size)?;
                let chunk = self.bytes(at, size, "object header chunk")?;
                let body = if ochk {
                    if !chunk.starts_with(b"OCHK") || chunk.len() < 8 {
                        return bad(at, "continuation block without OCHK signature");
                    }
                    Cur::new(&chunk[4..chunk.len() - 4], at + 4)
                } else {
                    Cur::new(&chunk, at)
                };
                self.v2_messages(body, flags & 0x04 != 0, &mut out, &mut queue)?;
            }
        } else {
            let mut c = Cur::new(&first, addr);
            let ver = c.u8("object header version")?;
            if ver != 1 {
                return bad(addr, format!("unknown object header version {ver}"));
            }
            c.skip(1, "reserved")?;
            let _count = c.u16("message count")?;
            c.skip(4, "reference count")?;
            let size = u64::from(c.u32("object header size")?);
            let mut queue = vec![(addr + 16, size)];
            while let Some((at, size)) = queue.pop() {
                budget.admit(at, size)?;
                let chunk = self.bytes(at, size, "object header chunk")?;
                let mut c = Cur::new(&chunk, at);
                while c.remaining() >= 8 {
                    let typ = c.u16("message type")?;
                    let len = c.u16("message size")? as usize;
                    let flags = c.u8("message flags")?;
                    c.skip(3, "reserved")?;
                    let at = c.at();
                    let data = c.take(len, "message")?.to_vec();
                    self.push(&mut out, &mut queue, typ, flags, at, data)?;
                }
            }
        }
        Ok(out)
    }

    fn v2_messages(
        &self,
        mut c: Cur<'_>,
        creation_order: bool,
        out: &mut Vec<Msg>,
        queue: &mut Vec<(u64, u64, bool)>,
    ) -> Result<()> {
        let header = if creation_order { 6 } else { 4 };
        // fewer bytes than a message header left: the gap before the checksum
        while c.remaining() >= header {
            let typ = u16::from(c.u8("message type")?);
            let len = c.u16("message size")? as usize;
            let flags = c.u8("message flags")?;
            if creation_order {
                c.skip(2, "creation order")?;
            }
            let at = c.at();
            let data = c.take(len, "message")?.to_vec();
            let mut conts = Vec::new();
            self.push(out, &mut conts, typ, flags, at, data)?;
            queue.extend(conts.into_iter().map(|(a, l)| (a, l, true)));
        }
        Ok(())
    }

    fn push(
        &self,
        out: &mut Vec<Msg>,
        conts: &mut Vec<(u64, u64)>,
        typ: u16,
        flags: u8,
        at: u64,
        data: Vec<u8>,
    ) -> Result<()> {
        if out.len() >= MAX_MESSAGES {
            return bad(
                at,
                format!("more than {MAX_MESSAGES} object header messages"),
            );
        }
        if typ == MSG_CONTINUATION {
            let mut c = Cur::new(&data, at);
            let a = self.addr(&mut c)?;
            let l = self.length(&mut c)?;
            if let Some(a) = a {
                conts.push((self.abs(a, at)?, l));
            }
        }
        out.push(Msg {
            typ,
            flags,
            at,
            data,
        });
        Ok(())
    }

    // --- attributes ------------------------------------------------------------------------

    /// The attributes of an object, compact (attribute messages) and dense (attribute info).
    fn attributes(&self, msgs: &[Msg]) -> Result<Vec<Attribute>> {
        let mut out = Vec::new();
        for m in msgs {
            if out.len() >= MAX_ATTRS {
                break;
            }
            match m.typ {
                MSG_ATTRIBUTE => {
                    if m.flags & 0x02 != 0 {
                        return unsupported(m.at, "shared attribute message");
                    }
                    out.push(self.attribute(&m.data, m.at)?);
                }
                MSG_ATTRIBUTE_INFO => self.dense_attributes(&m.data, m.at, &mut out)?,
                _ => {}
            }
        }
        Ok(out)
    }

    /// Parses one attribute message (versions 1-3).
    fn attribute(&self, data: &[u8], at: u64) -> Result<Attribute> {
        let mut c = Cur::new(data, at);
        let ver = c.u8("attribute version")?;
        if !(1..=3).contains(&ver) {
            return bad(at, format!("unknown attribute message version {ver}"));
        }
        let flags = c.u8("attribute flags")?;
        let name_len = c.u16("attribute name size")? as usize;
        let dt_len = c.u16("datatype size")? as usize;
        let ds_len = c.u16("dataspace size")? as usize;
        if ver == 3 {
            c.skip(1, "name encoding")?;
        }
        let padded = |n: usize| if ver == 1 { pad8(n) } else { n };
        let name_raw = c.take(padded(name_len), "attribute name")?;
        let name_raw = &name_raw[..name_len];
        let name_end = name_raw.iter().position(|&b| b == 0).unwrap_or(name_len);
        let name = String::from_utf8_lossy(&name_raw[..name_end]).into_owned();
        let dt_at = c.at();
        let dt = c.take(padded(dt_len), "attribute datatype")?;
        let dt = &dt[..dt_len];
        let ds_at = c.at();
        let ds = c.take(padded(ds_len), "attribute dataspace")?;
        let ds = &ds[..ds_len];
        let data_at = c.at();
        let raw = &data[c.pos..];
        let value = if !self.wanted.contains(&name) {
            Value::Other
        } else if ver >= 2 && flags & 0x03 != 0 {
            Value::Unreadable(Error::Unsupported {
                at,
                what: "attribute with a shared datatype or dataspace".into(),
            })
        } else {
            match self.datatype(dt, dt_at) {
                Ok(None) => Value::Other,
                Ok(Some(kind)) => match self.dataspace(ds, ds_at) {
                    Ok(n) => match self.strings(kind, n, raw, data_at) {
                        Ok(v) => Value::Strings(v),
                        Err(e) => Value::Unreadable(e),
                    },
                    Err(e) => Value::Unreadable(e),
                },
                Err(e) => Value::Unreadable(e),
            }
        };
        Ok(Attribute {
            name,
            value,
            offset: at,
        })
    }

    /// `Some` for the string datatypes: fixed length (class 3) or variable length (class 9).
    fn datatype(&self, dt: &[u8], at: u64) -> Result<Option<StrKind>> {
        let mut c = Cur::new(dt, at);
        let b0 = c.u8("datatype class")?;
        let bits0 = c.u8("datatype bits")?;
        c.skip(2, "datatype bits")?;
        let size = c.u32("datatype size")?;
        match b0 & 0x0f {
            3 => Ok(Some(StrKind::Fixed(size))),
            9 if bits0 & 0x0f == 1 => {
                if size as usize != 4 + self.so + 4 {
                    return bad(at, format!("variable-length string of element size {size}"));
                }
                Ok(Some(StrKind::Vlen))
            }
            _ => Ok(None),
        }
    }

    /// Number of elements of a dataspace message (versions 1 and 2).
    fn dataspace(&self, ds: &[u8], at: u64) -> Result<u64> {
        let mut c = Cur::new(ds, at);
        let ver = c.u8("dataspace version")?;
        let rank = c.u8("dataspace rank")?;
        let _flags = c.u8("dataspace flags")?;
        match ver {
            1 => c.skip(5, "dataspace reserved")?,
            2 => {
                let kind = c.u8("dataspace type")?;
                if kind == 2 {
                    return Ok(0); // null dataspace: no element
                }
            }
            v => return bad(at, format!("unknown dataspace version {v}")),
        }
        let mut n = 1u64;
        for _ in 0..rank {
            n = n.saturating_mul(self.length(&mut c)?);
        }
        Ok(n)
    }

    fn strings(
        &self,
        kind: StrKind,
        count: u64,
        raw: &[u8],
        at: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        let n = count.min(MAX_ELEMENTS) as usize;
        match kind {
            StrKind::Fixed(size) => {
                let size = size as usize;
                for i in 0..n {
                    let start = i.saturating_mul(size);
                    let Some(s) = raw.get(start..start.saturating_add(size)) else {
                        return bad(at, "attribute data shorter than its dataspace");
                    };
                    let end = s.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                    out.push((at + start as u64, s[..end].to_vec()));
                }
            }
            StrKind::Vlen => {
                let mut c = Cur::new(raw, at);
                for _ in 0..n {
                    let len = u64::from(c.u32("string length")?);
                    let coll_at = c.at();
                    let coll = self.addr(&mut c)?;
                    let index = c.u32("heap object index")?;
                    match coll {
                        None if len == 0 => out.push((coll_at, Vec::new())),
                        None => return bad(coll_at, "string in an undefined heap collection"),
                        Some(a) => {
                            let a = self.abs(a, coll_at)?;
                            out.push(self.global_heap_object(a, index, len)?);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The first `len` bytes of object `index` of the global heap collection at `addr`.
    fn global_heap_object(&self, addr: u64, index: u32, len: u64) -> Result<(u64, Vec<u8>)> {
        let head = self.bytes(addr, 8 + self.sl as u64, "global heap collection")?;
        if !head.starts_with(b"GCOL") {
            return bad(addr, "global heap collection without GCOL signature");
        }
        let mut c = Cur::new(&head, addr);
        c.skip(8, "collection header")?;
        let size = self.length(&mut c)?;
        let end = match addr.checked_add(size) {
            Some(e) if e <= self.len => e,
            _ => return bad(addr, "global heap collection runs past the end of the file"),
        };
        let obj_head = 8 + self.sl as u64;
        let mut pos = addr + 8 + self.sl as u64;
        for _ in 0..MAX_HEAP_OBJECTS {
            if pos + obj_head > end {
                break;
            }
            let h = self.bytes(pos, obj_head, "global heap object")?;
            let mut c = Cur::new(&h, pos);
            let idx = c.u16("heap object index")?;
            c.skip(6, "heap object header")?;
            let osize = self.length(&mut c)?;
            if idx == 0 {
                break; // free space: the rest of the collection
            }
            let data = pos + obj_head;
            if data.checked_add(osize).is_none_or(|e| e > end) {
                return bad(pos, "global heap object runs past its collection");
            }
            if u32::from(idx) == index {
                if len > osize {
                    return bad(pos, "string longer than its global heap object");
                }
                if len > MAX_STRING {
                    return unsupported(pos, "string attribute larger than 64 MiB");
                }
                return Ok((data, self.bytes(data, len, "global heap object")?));
            }
            pos = data + pad8(osize.min(usize::MAX as u64) as usize) as u64;
        }
        bad(
            addr,
            format!("global heap collection has no object {index}"),
        )
    }

    // --- dense attribute storage -----------------------------------------------------------

    fn dense_attributes(&self, data: &[u8], at: u64, out: &mut Vec<Attribute>) -> Result<()> {
        let mut c = Cur::new(data, at);
        let ver = c.u8("attribute info version")?;
        if ver != 0 {
            return bad(at, format!("unknown attribute info version {ver}"));
        }
        let flags = c.u8("attribute info flags")?;
        if flags & 0x01 != 0 {
            c.skip(2, "max creation index")?;
        }
        let heap = self.addr(&mut c)?;
        let name_index = self.addr(&mut c)?;
        let (Some(heap), Some(name_index)) = (heap, name_index) else {
            return Ok(()); // no dense storage
        };
        let heap = FractalHeap::open(self, self.abs(heap, at)?)?;
        let btree = self.abs(name_index, at)?;
        let mut ids = Vec::new();
        self.btree2_records(btree, &mut ids)?;
        for (rec_at, rec) in ids {
            if out.len() >= MAX_ATTRS {
                break;
            }
            let id = rec.get(..heap.id_len).unwrap_or(&rec);
            let (obj_at, obj) = heap.object(self, id, rec_at)?;
            out.push(self.attribute(&obj, obj_at)?);
        }
        Ok(())
    }

    /// Every record of the v2 B-tree whose header is at `addr`, in key order.
    fn btree2_records(&self, addr: u64, out: &mut Vec<(u64, Vec<u8>)>) -> Result<()> {
        let hlen = 4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + self.so + 2 + self.sl + 4;
        let h = self.bytes(addr, hlen as u64, "v2 B-tree header")?;
        if !h.starts_with(b"BTHD") {
            return bad(addr, "v2 B-tree header without BTHD signature");
        }
        let mut c = Cur::new(&h, addr);
        c.skip(6, "B-tree header")?;
        let node_size = u64::from(c.u32("node size")?);
        let rec_size = c.u16("record size")? as u64;
        let depth = c.u16("depth")?;
        c.skip(2, "split/merge")?;
        let root = self.addr(&mut c)?;
        let root_nrec = u64::from(c.u16("root records")?);
        if rec_size == 0 || !(16..=MAX_NODE_SIZE).contains(&node_size) {
            return bad(addr, "v2 B-tree with impossible node or record size");
        }
        if u32::from(depth) > MAX_TREE_DEPTH {
            return bad(addr, format!("v2 B-tree deeper than {MAX_TREE_DEPTH}"));
        }
        let Some(root) = root else { return Ok(()) };
        // node_info of H5B2__hdr_init: records per node and the sizes of the record counts
        let leaf_max = (node_size - 10) / rec_size;
        let max_nrec_size = enc_size(leaf_max);
        let mut cum_max = vec![leaf_max];
        let mut cum_size = vec![0usize];
        for d in 1..=depth as usize {
            let ptr = (self.so + max_nrec_size + if d > 1 { cum_size[d - 1] } else { 0 }) as u64;
            let max = node_size.saturating_sub(10 + ptr) / (rec_size + ptr);
            let cum = (max + 1).saturating_mul(cum_max[d - 1]).saturating_add(max);
            cum_max.push(cum);
            cum_size.push(enc_size(cum));
        }
        let geo = Btree2 {
            node_size,
            rec_size,
            max_nrec_size,
            cum_size,
        };
        let mut visited = 0usize;
        let root = self.abs(root, addr)?;
        self.btree2_node(&geo, root, root_nrec, depth, &mut visited, out)
    }

    fn btree2_node(
        &self,
        geo: &Btree2,
        addr: u64,
        nrec: u64,
        depth: u16,
        visited: &mut usize,
        out: &mut Vec<(u64, Vec<u8>)>,
    ) -> Result<()> {
        *visited += 1;
        if out.len() >= MAX_ATTRS {
            return Ok(());
        }
        if *visited > MAX_NODES {
            return bad(addr, format!("more than {MAX_NODES} v2 B-tree nodes"));
        }
        let node = self.bytes(addr, geo.node_size, "v2 B-tree node")?;
        let sig: &[u8] = if depth == 0 { b"BTLF" } else { b"BTIN" };
        if !node.starts_with(sig) {
            return bad(addr, "v2 B-tree node with a wrong signature");
        }
        let mut c = Cur::new(&node, addr);
        c.skip(6, "node header")?;
        let mut recs = Vec::new();
        for _ in 0..nrec {
            let at = c.at();
            recs.push((at, c.take(geo.rec_size as usize, "B-tree record")?.to_vec()));
        }
        if depth == 0 {
            out.extend(recs);
            return Ok(());
        }
        let mut children = Vec::new();
        for _ in 0..=nrec {
            let at = c.at();
            let child = self.addr(&mut c)?;
            let child_nrec = c.uint(geo.max_nrec_size, "child record count")?;
            if depth > 1 {
                c.skip(geo.cum_size[depth as usize - 1], "child total records")?;
            }
            let Some(child) = child else {
                return bad(at, "v2 B-tree child address is undefined");
            };
            children.push((self.abs(child, at)?, child_nrec));
        }
        let mut recs = recs.into_iter();
        for (i, (child, child_nrec)) in children.into_iter().enumerate() {
            if i > 0
                && let Some(r) = recs.next()
            {
                out.push(r);
            }
            self.btree2_node(geo, child, child_nrec, depth - 1, visited, out)?;
        }
        Ok(())
    }

    // --- groups ----------------------------------------------------------------------------

    /// The object header address of the child `name` of the group whose messages are `msgs`.
    fn find_child(&self, msgs: &[Msg], name: &[u8]) -> Result<Option<u64>> {
        for m in msgs {
            match m.typ {
                MSG_LINK => {
                    if let Some(a) = self.link(&m.data, m.at, name)? {
                        return Ok(Some(a));
                    }
                }
                MSG_SYMBOL_TABLE => {
                    let mut c = Cur::new(&m.data, m.at);
                    let btree = self.addr(&mut c)?;
                    let heap = self.addr(&mut c)?;
                    if let (Some(b), Some(h)) = (btree, heap) {
                        return self.symbol_table_lookup(
                            self.abs(b, m.at)?,
                            self.abs(h, m.at)?,
                            name,
                        );
                    }
                }
                MSG_LINK_INFO => {
                    // dense links (fractal heap + name index); groups with more than 8 links
                    // written with the newest format. Not followed: the child is optional.
                    let mut c = Cur::new(&m.data, m.at);
                    c.skip(1, "link info version")?;
                    let flags = c.u8("link info flags")?;
                    if flags & 1 != 0 {
                        c.skip(8, "max creation index")?;
                    }
                    if self.addr(&mut c)?.is_some() {
                        return unsupported(m.at, "dense link storage");
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// A link message naming `name` with a hard link: its target.
    fn link(&self, data: &[u8], at: u64, name: &[u8]) -> Result<Option<u64>> {
        let mut c = Cur::new(data, at);
        let ver = c.u8("link version")?;
        if ver != 1 {
            return bad(at, format!("unknown link message version {ver}"));
        }
        let flags = c.u8("link flags")?;
        let kind = if flags & 0x08 != 0 {
            c.u8("link type")?
        } else {
            0
        };
        if flags & 0x04 != 0 {
            c.skip(8, "creation order")?;
        }
        if flags & 0x10 != 0 {
            c.skip(1, "link name charset")?;
        }
        let len_size = 1usize << (flags & 3);
        let nlen = c.uint(len_size, "link name length")? as usize;
        let n = c.take(nlen, "link name")?;
        if kind != 0 || n != name {
            return Ok(None);
        }
        Ok(Some(match self.addr(&mut c)? {
            Some(a) => self.abs(a, at)?,
            None => return bad(at, "hard link to an undefined address"),
        }))
    }

    /// Looks `name` up in a v1 group: B-tree v1 (type 0) nodes down to symbol table nodes,
    /// whose entries name their links by offset into the local heap.
    fn symbol_table_lookup(&self, btree: u64, heap: u64, name: &[u8]) -> Result<Option<u64>> {
        let h = self.bytes(heap, 8 + 2 * self.sl as u64 + self.so as u64, "local heap")?;
        if !h.starts_with(b"HEAP") {
            return bad(heap, "local heap without HEAP signature");
        }
        let mut c = Cur::new(&h, heap);
        c.skip(8, "local heap header")?;
        let data_size = self.length(&mut c)?;
        c.skip(self.sl, "free list offset")?;
        let data_at = c.at();
        let Some(data_addr) = self.addr(&mut c)? else {
            return bad(data_at, "local heap data address is undefined");
        };
        let data_addr = self.abs(data_addr, data_at)?;
        let heap_data = self.bytes(data_addr, data_size.min(MAX_STRING), "local heap data")?;
        let mut stack = vec![(btree, 0u32)];
        let mut visited = HashSet::new();
        while let Some((node, depth)) = stack.pop() {
            if visited.len() >= MAX_GROUP_NODES || !visited.insert(node) {
                return bad(node, "v1 B-tree loop or too many nodes");
            }
            if depth > MAX_TREE_DEPTH {
                return bad(node, "v1 B-tree too deep");
            }
            let head = self.bytes(node, 8, "B-tree node")?;
            if head.starts_with(b"SNOD") {
                if let Some(a) = self.symbol_node(node, &heap_data, name)? {
                    return Ok(Some(a));
                }
                continue;
            }
            if !head.starts_with(b"TREE") {
                return bad(node, "v1 B-tree node without TREE signature");
            }
            let mut c = Cur::new(&head, node);
            c.skip(4, "signature")?;
            if c.u8("node type")? != 0 {
                return bad(node, "group B-tree node of a non-group type");
            }
            let _level = c.u8("node level")?;
            let used = u64::from(c.u16("entries used")?);
            // siblings, then keys and children alternating: key0 child0 key1 ... keyN
            let body_len = 2 * self.so as u64 + used * (self.sl + self.so) as u64 + self.sl as u64;
            let body = self.bytes(node + 8, body_len, "B-tree node")?;
            let mut c = Cur::new(&body, node + 8);
            c.skip(2 * self.so, "siblings")?;
            let mut children = Vec::new();
            for _ in 0..used {
                c.skip(self.sl, "key")?;
                let at = c.at();
                if let Some(ch) = self.addr(&mut c)? {
                    children.push(self.abs(ch, at)?);
                }
            }
            // depth-first, first child first
            stack.extend(children.into_iter().rev().map(|ch| (ch, depth + 1)));
        }
        Ok(None)
    }

    fn symbol_node(&self, node: u64, heap: &[u8], name: &[u8]) -> Result<Option<u64>> {
        let head = self.bytes(node, 8, "symbol table node")?;
        let count = u64::from(u16::from_le_bytes([head[6], head[7]]));
        let entry = (2 * self.so + 4 + 4 + 16) as u64;
        let body = self.bytes(node + 8, count * entry, "symbol table node")?;
        let mut c = Cur::new(&body, node + 8);
        for _ in 0..count {
            let name_off = c.uint(self.so, "link name offset")? as usize;
            let at = c.at();
            let obj = self.addr(&mut c)?;
            c.skip(24, "symbol table entry")?;
            let Some(n) = heap.get(name_off..) else {
                return bad(at, "link name outside the local heap");
            };
            let n = &n[..n.iter().position(|&b| b == 0).unwrap_or(n.len())];
            if n == name
                && let Some(obj) = obj
            {
                return Ok(Some(self.abs(obj, at)?));
            }
        }
        Ok(None)
    }
}

#[derive(Debug, Clone, Copy)]
enum StrKind {
    Fixed(u32),
    Vlen,
}

struct Btree2 {
    node_size: u64,
    rec_size: u64,
    max_nrec_size: usize,
    cum_size: Vec<usize>,
}

/// The parts of a fractal heap header needed to find a managed object.
struct FractalHeap {
    id_len: usize,
    width: u64,
    start_block: u64,
    max_direct: u64,
    off_size: usize,
    len_size: usize,
    root: Option<u64>,
    root_rows: u64,
    checksummed: bool,
}

impl FractalHeap {
    fn open(r: &Reader<'_>, addr: u64) -> Result<Self> {
        let hlen = 4 + 1 + 2 + 2 + 1 + 4 + 12 * r.sl + 3 * r.so + 2 + 2 + 2 + 2 + 4 + 64;
        let h = r.bytes(
            addr,
            (hlen as u64).min(r.len.saturating_sub(addr)),
            "fractal heap header",
        )?;
        if !h.starts_with(b"FRHP") {
            return bad(addr, "fractal heap header without FRHP signature");
        }
        let mut c = Cur::new(&h, addr);
        c.skip(4, "signature")?;
        if c.u8("fractal heap version")? != 0 {
            return bad(addr, "unknown fractal heap version");
        }
        let id_len = c.u16("heap ID length")? as usize;
        let filters = c.u16("I/O filters length")?;
        let flags = c.u8("fractal heap flags")?;
        let max_managed = u64::from(c.u32("max managed object size")?);
        c.skip(r.sl, "next huge object ID")?;
        c.skip(r.so, "huge object B-tree")?;
        c.skip(r.sl, "free space")?;
        c.skip(r.so, "free space manager")?;
        c.skip(r.sl * 8, "heap statistics")?;
        let width = u64::from(c.u16("table width")?);
        let start_block = r.length(&mut c)?;
        let max_direct = r.length(&mut c)?;
        let max_heap_bits = c.u16("max heap size")?;
        c.skip(2, "starting rows")?;
        let root = r.addr(&mut c)?;
        let root_rows = u64::from(c.u16("current rows")?);
        if filters != 0 {
            return unsupported(addr, "filtered fractal heap");
        }
        let pow2 = |v: u64| v != 0 && v.is_power_of_two();
        if !pow2(width)
            || !pow2(start_block)
            || !pow2(max_direct)
            || max_direct < start_block
            || !(1..=64).contains(&max_heap_bits)
            || !(1..=64).contains(&id_len)
        {
            return bad(addr, "fractal heap with an impossible doubling table");
        }
        let off_size = (max_heap_bits as usize).div_ceil(8);
        let dir_len_size = (max_direct.trailing_zeros() as usize).div_ceil(8);
        let len_size = dir_len_size.min(enc_size(max_managed));
        let root = match root {
            Some(a) => Some(r.abs(a, addr)?),
            None => None,
        };
        Ok(FractalHeap {
            id_len,
            width,
            start_block,
            max_direct,
            off_size,
            len_size,
            root,
            root_rows,
            checksummed: flags & 0x02 != 0,
        })
    }

    /// Size of the blocks of row `row` of the doubling table.
    fn row_size(&self, row: u64) -> u64 {
        if row == 0 {
            self.start_block
        } else {
            self.start_block.saturating_mul(1u64 << (row - 1).min(62))
        }
    }

    /// The bytes of the object whose heap ID is `id`.
    fn object(&self, r: &Reader<'_>, id: &[u8], at: u64) -> Result<(u64, Vec<u8>)> {
        let mut c = Cur::new(id, at);
        let b0 = c.u8("heap ID")?;
        if b0 >> 6 != 0 {
            return bad(at, "heap ID of an unknown version");
        }
        match (b0 >> 4) & 3 {
            0 => {}
            1 => return unsupported(at, "huge fractal heap object"),
            2 => {
                // tiny: the object is in the ID itself
                let n = usize::from(b0 & 0x0f) + 1;
                return Ok((at + 1, c.take(n, "tiny heap object")?.to_vec()));
            }
            _ => return bad(at, "heap ID of an unknown type"),
        }
        let off = c.uint(self.off_size, "heap object offset")?;
        let len = c.uint(self.len_size, "heap object length")?;
        let Some(root) = self.root else {
            return bad(at, "object in an empty fractal heap");
        };
        let mut block = root;
        let mut block_off = 0u64;
        let mut rows = self.root_rows;
        let mut size = self.start_block;
        for _ in 0..=MAX_TREE_DEPTH {
            if rows == 0 {
                return self.direct(r, block, block_off, size, off, len, at);
            }
            // an indirect block: find the entry holding `off`
            let max_direct_rows =
                u64::from(self.max_direct.trailing_zeros() - self.start_block.trailing_zeros() + 2);
            let entries = rows.saturating_mul(self.width);
            if entries > 1 << 16 {
                return bad(block, "fractal heap indirect block too large");
            }
            let head = 4 + 1 + r.so as u64 + self.off_size as u64;
            let ib = r.bytes(
                block,
                head + entries * r.so as u64,
                "fractal heap indirect block",
            )?;
            if !ib.starts_with(b"FHIB") {
                return bad(block, "indirect block without FHIB signature");
            }
            let mut pos = block_off;
            let mut next = None;
            'rows: for row in 0..rows {
                let rs = self.row_size(row);
                for col in 0..self.width {
                    if off >= pos && off - pos < rs {
                        let e = (head + (row * self.width + col) * r.so as u64) as usize;
                        let mut c = Cur::new(&ib[e..], block + e as u64);
                        let Some(child) = r.addr(&mut c)? else {
                            return bad(at, "heap object in an unallocated block");
                        };
                        let child = r.abs(child, block)?;
                        let child_rows = if row < max_direct_rows {
                            0
                        } else {
                            let first_row_bits =
                                self.start_block.trailing_zeros() + self.width.trailing_zeros();
                            u64::from(rs.trailing_zeros().saturating_sub(first_row_bits)) + 1
                        };
                        next = Some((child, pos, child_rows, rs));
                        break 'rows;
                    }
                    pos = pos.saturating_add(rs);
                }
            }
            let Some((child, child_off, child_rows, child_size)) = next else {
                return bad(at, "heap object offset beyond the heap");
            };
            block = child;
            block_off = child_off;
            rows = child_rows;
            size = child_size;
        }
        bad(at, "fractal heap nested too deeply")
    }

    #[allow(clippy::too_many_arguments)]
    fn direct(
        &self,
        r: &Reader<'_>,
        block: u64,
        block_off: u64,
        size: u64,
        off: u64,
        len: u64,
        at: u64,
    ) -> Result<(u64, Vec<u8>)> {
        let head = r.bytes(block, 4, "fractal heap direct block")?;
        if head != b"FHDB" {
            return bad(block, "direct block without FHDB signature");
        }
        let header = 5 + r.so as u64 + self.off_size as u64 + if self.checksummed { 4 } else { 0 };
        let rel = off - block_off;
        if rel < header || rel.checked_add(len).is_none_or(|e| e > size) {
            return bad(at, "heap object outside its direct block");
        }
        Ok((block + rel, r.bytes(block + rel, len, "heap object")?))
    }
}

fn read_exact(src: Src<'_>, at: u64, n: u64) -> Result<Vec<u8>> {
    match src.read_vec(at, n) {
        Ok(v) if v.len() as u64 == n => Ok(v),
        Ok(_) => bad(at, "unexpected end of file"),
        Err(e) => bad(at, format!("read error: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WANTED: &[&str] = &[
        "model_config",
        "training_config",
        "keras_version",
        "backend",
    ];

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/keras")
            .join(name);
        std::fs::read(p).unwrap()
    }

    fn config(attrs: &[Attribute], name: &str) -> String {
        attrs
            .iter()
            .find(|a| a.name == name)
            .and_then(Attribute::text)
            .unwrap_or_else(|| panic!("no string attribute {name}"))
    }

    fn superblock_version(data: &[u8]) -> u8 {
        data[8]
    }

    fn message_types(data: &[u8]) -> Vec<u16> {
        let r = Reader::open(Src::Mem(data)).unwrap();
        r.messages(r.root).unwrap().iter().map(|m| m.typ).collect()
    }

    #[test]
    fn superblock_v0_object_header_v1_vlen_string() {
        let data = fixture("lambda.h5");
        assert_eq!(superblock_version(&data), 0);
        let f = read(Src::Mem(&data), WANTED).unwrap();
        let cfg = config(&f.root, "model_config");
        assert!(cfg.starts_with("{\"class_name\": \"Sequential\""));
        assert!(cfg.contains("\"Lambda\""));
        assert_eq!(config(&f.root, "keras_version"), "2.15.0");
        assert_eq!(config(&f.root, "backend"), "tensorflow");
        // the string lives in the global heap, not next to the attribute message
        let a = f.root.iter().find(|a| a.name == "model_config").unwrap();
        let Value::Strings(s) = &a.value else {
            panic!()
        };
        assert!(data[s[0].0 as usize - 16..].starts_with(&[1, 0]));
        assert!(s[0].0 > a.offset + 100);
        // the model_weights group, found through the symbol table (B-tree v1, local heap)
        let w = f.model_weights.unwrap().unwrap();
        assert_eq!(config(&w, "keras_version"), "2.15.0");
        assert!(
            w.iter()
                .any(|a| a.name == "layer_names" && a.value == Value::Other)
        );
    }

    #[test]
    fn fixed_length_string() {
        let data = fixture("lambda_fixed_string.h5");
        let f = read(Src::Mem(&data), WANTED).unwrap();
        let cfg = config(&f.root, "model_config");
        assert!(cfg.ends_with("}}"), "trailing NULs are removed: {cfg:?}");
        assert!(cfg.contains("Lambda"));
    }

    #[test]
    fn object_header_v1_continuation() {
        let data = fixture("lambda_continuation.h5");
        assert!(message_types(&data).contains(&MSG_CONTINUATION));
        let f = read(Src::Mem(&data), WANTED).unwrap();
        assert_eq!(f.root.len(), 30 + 3);
        assert!(config(&f.root, "model_config").contains("\"Lambda\""));
    }

    #[test]
    fn superblock_v3_object_header_v2_dense_attributes() {
        let data = fixture("lambda_dense.h5");
        assert_eq!(superblock_version(&data), 3);
        assert!(data.starts_with(b"\x89HDF\r\n\x1a\n") && data.windows(4).any(|w| w == b"OCHK"));
        let types = message_types(&data);
        assert!(types.contains(&MSG_ATTRIBUTE_INFO));
        assert!(!types.contains(&MSG_ATTRIBUTE), "all attributes are dense");
        let f = read(Src::Mem(&data), WANTED).unwrap();
        assert_eq!(f.root.len(), 40 + 4);
        assert!(config(&f.root, "model_config").contains("\"Lambda\""));
        assert!(config(&f.root, "training_config").contains("FocalLoss"));
        // model_weights found through a v2 link message
        let w = f.model_weights.unwrap().unwrap();
        assert_eq!(config(&w, "backend"), "tensorflow");
    }

    #[test]
    fn unwanted_values_are_not_read() {
        let data = fixture("benign_dense.h5");
        let f = read(Src::Mem(&data), &["model_config"]).unwrap();
        assert_eq!(f.root.len(), 12 + 3);
        let other = f.root.iter().filter(|a| a.value == Value::Other).count();
        assert_eq!(other, 12 + 2);
    }

    #[test]
    fn truncated_and_corrupt_files_are_errors() {
        let trunc = read(Src::Mem(&fixture("truncated.h5")), WANTED).unwrap_err();
        assert!(matches!(trunc, Error::Malformed { .. }), "{trunc}");
        let corrupt = read(Src::Mem(&fixture("corrupt_header_lambda.h5")), WANTED).unwrap_err();
        assert!(
            corrupt.to_string().contains("object header version"),
            "{corrupt}"
        );
        // the structure is fine, the string is cut: the attribute says why
        let f = read(Src::Mem(&fixture("truncated_heap.h5")), WANTED).unwrap();
        let a = f.root.iter().find(|a| a.name == "model_config").unwrap();
        assert!(matches!(
            a.value,
            Value::Unreadable(Error::Malformed { .. })
        ));
        // every prefix of a valid file is an error or a result, never a panic
        let data = fixture("lambda_dense.h5");
        for n in (0..data.len()).step_by(7) {
            let _ = read(Src::Mem(&data[..n]), WANTED);
        }
    }

    // --- hand-built structures ---------------------------------------------------------------

    /// Superblock v2 (offsets and lengths of 8 bytes) whose root object header is at 48.
    fn superblock_v2(eof: u64) -> Vec<u8> {
        let mut v = b"\x89HDF\r\n\x1a\n".to_vec();
        v.extend([2, 8, 8, 0]);
        v.extend(0u64.to_le_bytes()); // base
        v.extend(u64::MAX.to_le_bytes()); // extension
        v.extend(eof.to_le_bytes());
        v.extend(48u64.to_le_bytes()); // root
        v.extend([0; 4]); // checksum (not verified)
        assert_eq!(v.len(), 48);
        v
    }

    /// An attribute message of `version` holding a fixed-length scalar string.
    fn fixed_attr(version: u8, name: &str, value: &[u8]) -> Vec<u8> {
        let mut name = name.as_bytes().to_vec();
        name.push(0);
        let mut dt = vec![0x13, 0, 0, 0];
        dt.extend((value.len() as u32).to_le_bytes());
        let ds = vec![2, 0, 0, 0]; // v2 scalar
        let mut m = vec![version, 0];
        m.extend((name.len() as u16).to_le_bytes());
        m.extend((dt.len() as u16).to_le_bytes());
        m.extend((ds.len() as u16).to_le_bytes());
        if version == 3 {
            m.push(0);
        }
        m.extend(&name);
        m.extend(&dt);
        m.extend(&ds);
        m.extend(value);
        m
    }

    fn v2_message(typ: u8, data: &[u8]) -> Vec<u8> {
        let mut m = vec![typ];
        m.extend((data.len() as u16).to_le_bytes());
        m.push(0);
        m.extend(data);
        m
    }

    /// OHDR at 48 with one attribute and a continuation to an OCHK block holding another.
    fn two_chunk_file(cont_target: Option<u64>) -> Vec<u8> {
        let a1 = v2_message(0x0C, &fixed_attr(2, "keras_version", b"2.1"));
        let a2 = v2_message(0x0C, &fixed_attr(3, "model_config", b"{\"a\": 1}"));
        let cont_len = 4 + a2.len() as u64 + 4;
        let chunk0_len = a1.len() + 4 + 16;
        let ochk_at = 48 + 6 + 1 + chunk0_len as u64 + 4;
        let mut cont = Vec::new();
        cont.extend(cont_target.unwrap_or(ochk_at).to_le_bytes());
        cont.extend(cont_len.to_le_bytes());
        let mut v = superblock_v2(0);
        v.extend(b"OHDR\x02\x00");
        v.push(chunk0_len as u8);
        v.extend(&a1);
        v.extend(v2_message(0x10, &cont));
        v.extend([0; 4]);
        assert_eq!(v.len() as u64, ochk_at);
        v.extend(b"OCHK");
        v.extend(&a2);
        v.extend([0; 4]);
        v
    }

    #[test]
    fn attribute_messages_v2_and_v3_across_ochk() {
        let data = two_chunk_file(None);
        let f = read(Src::Mem(&data), WANTED).unwrap();
        assert_eq!(config(&f.root, "keras_version"), "2.1");
        assert_eq!(config(&f.root, "model_config"), "{\"a\": 1}");
        assert!(f.model_weights.is_none());
    }

    #[test]
    fn continuation_loops_and_bad_addresses_are_errors() {
        // continuation back to the first chunk: not an OCHK block
        let e = read(Src::Mem(&two_chunk_file(Some(48))), WANTED).unwrap_err();
        assert!(matches!(e, Error::Malformed { .. }), "{e}");
        let e = read(Src::Mem(&two_chunk_file(Some(1 << 40))), WANTED).unwrap_err();
        assert!(e.to_string().contains("beyond the end"), "{e}");
        // root address beyond the file
        let mut data = superblock_v2(0);
        data[40..48].copy_from_slice(&(1u64 << 50).to_le_bytes());
        assert!(read(Src::Mem(&data), WANTED).is_err());
        // an impossible size of offsets
        let mut data = superblock_v2(0);
        data[9] = 3;
        assert!(matches!(
            read(Src::Mem(&data), WANTED),
            Err(Error::Malformed { .. })
        ));
    }

    #[test]
    fn vlen_string_in_a_missing_heap_object() {
        let mut data = fixture("lambda.h5");
        // renumber every object of the collection: index 1 no longer exists
        let gcol = data.windows(4).position(|w| w == b"GCOL").unwrap();
        data[gcol + 16] = 9;
        let f = read(Src::Mem(&data), WANTED).unwrap();
        let a = f.root.iter().find(|a| a.name == "model_config").unwrap();
        let Value::Unreadable(e) = &a.value else {
            panic!("{:?}", a.value)
        };
        assert!(e.to_string().contains("no object 1"), "{e}");
    }

    #[test]
    fn enc_size_matches_hdf5() {
        assert_eq!(enc_size(0), 1);
        assert_eq!(enc_size(255), 1);
        assert_eq!(enc_size(256), 2);
        assert_eq!(enc_size(29), 1);
        assert_eq!(enc_size(1 << 32), 5);
    }
}
