//! A parser for documents that are strict JSON (RFC 8259).
//!
//! JSON is YAML's flow style, and the block-oriented fast path (`fast.rs`) reads it with the
//! same line and indentation bookkeeping it needs for YAML. Admission requests (the
//! AdmissionReview's `object`) and `kubectl get -o json` output are JSON every time, so they
//! get a parser of their own that knows nothing but JSON's grammar.
//!
//! It only accepts what it is sure saphyr reads the same way, and returns `None` for anything
//! else, including every syntax error: the caller then tries the YAML fast path and saphyr,
//! so errors and YAML flow extras (comments, trailing commas, plain strings, single quotes,
//! YAML-only escapes) keep the messages and trees of the saphyr path. Among the JSON it
//! gives up on: escaped UTF-16 surrogates (saphyr rejects `\uD83D\uDE00` as an invalid
//! code point), a key named `<<` (a merge key to saphyr's builder), a line break between a
//! key and its `:`, a tab right after a `:` before a number or literal, lone carriage returns,
//! byte order marks, and nesting deeper than the saphyr path allows (which reports it as an
//! error).
//!
//! Positions follow saphyr: collections at their bracket, scalars (keys included) at their
//! first character, a quoted one at its opening quote; columns count characters.

use std::borrow::Cow;

use crate::fast::Scratch;
use crate::node::{Entry, Node, NodeKind, Pos, Scalar};
use crate::parse::MAX_DEPTH;

/// saphyr counts open flow collections in a `u8` and fails on the 256th ("recursion limit
/// exceeded"), before the builder's own `MAX_DEPTH` applies.
const MAX_JSON_DEPTH: usize = if MAX_DEPTH < 255 { MAX_DEPTH } else { 255 };

/// Whether the document starts like JSON: its first byte after whitespace opens a
/// collection. Cheap, so that YAML documents lose nothing by being asked.
pub(crate) fn looks_like_json(chunk: &str) -> bool {
    chunk
        .bytes()
        .find(|c| !matches!(c, b' ' | b'\n' | b'\r' | b'\t'))
        .is_some_and(|c| c == b'{' || c == b'[')
}

/// Parses one `---`-separated chunk holding a single JSON object or array, or returns `None`
/// when the chunk should go to the YAML parsers. `line_offset` is added to every line.
pub(crate) fn parse_document<'a>(
    chunk: &'a str,
    line_offset: u32,
    scratch: &mut Scratch<'a>,
) -> Option<Node<'a>> {
    scratch.entries.clear();
    scratch.items.clear();
    let mut p = Json {
        src: chunk,
        b: chunk.as_bytes(),
        pos: 0,
        line: line_offset.checked_add(1)?,
        line_start: 0,
        continuation: 0,
        depth: 0,
        scratch,
    };
    p.space()?;
    let root = match p.peek() {
        b'{' | b'[' => p.value()?,
        _ => return None,
    };
    p.space()?;
    (p.pos == p.b.len()).then_some(root)
}

/// Moves the children a collection pushed (from `base` up) into a `Vec` of their own, of
/// exactly their number: a copy of the block, cheaper than draining through an iterator.
fn take_from<T>(scratch: &mut Vec<T>, base: usize) -> Vec<T> {
    if base == 0 {
        // `split_off(0)` would hand over the scratch buffer itself, spare capacity and all.
        let mut out = Vec::with_capacity(scratch.len());
        out.append(scratch);
        return out;
    }
    scratch.split_off(base)
}

/// Stands for "end of input" in byte look-ups. A real NUL can only occur inside a string,
/// where control characters are refused anyway.
const EOF: u8 = 0;

struct Json<'a, 's> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Absolute 1-based line of `line_start`.
    line: u32,
    line_start: usize,
    /// UTF-8 continuation bytes between `line_start` and `pos`. Only strings can hold
    /// non-ASCII text, so counting them while strings are read turns byte offsets into
    /// character columns without scanning the line again (a minified document is one line).
    continuation: usize,
    /// Collections open around `pos`.
    depth: usize,
    scratch: &'s mut Scratch<'a>,
}

impl<'a> Json<'a, '_> {
    fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(EOF)
    }

    fn here(&self) -> Option<Pos> {
        let column = self.pos - self.line_start - self.continuation + 1;
        Some(Pos {
            line: self.line,
            column: u32::try_from(column).ok()?,
        })
    }

    /// JSON whitespace. A lone `\r` is a line break to saphyr but not to the splitter that
    /// numbers the chunk's lines, so it is left to saphyr.
    #[inline]
    fn space(&mut self) -> Option<()> {
        // Minified JSON has no whitespace at all: one comparison for it.
        if self.peek() > b' ' {
            return Some(());
        }
        loop {
            match self.peek() {
                b' ' | b'\t' => self.pos += 1,
                b'\n' => self.newline(1),
                b'\r' if self.b.get(self.pos + 1) == Some(&b'\n') => self.newline(2),
                b'\r' => return None,
                _ => return Some(()),
            }
        }
    }

    fn newline(&mut self, len: usize) {
        self.pos += len;
        self.line = self.line.saturating_add(1);
        self.line_start = self.pos;
        self.continuation = 0;
    }

    fn value(&mut self) -> Option<Node<'a>> {
        let pos = self.here()?;
        let kind = match self.peek() {
            b'{' => self.object()?,
            b'[' => self.array()?,
            b'"' => NodeKind::Scalar(Scalar {
                text: self.string()?,
                plain: false,
            }),
            b't' => self.literal("true")?,
            b'f' => self.literal("false")?,
            b'n' => self.literal("null")?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        };
        Some(Node { kind, pos })
    }

    /// Opens a collection. The saphyr path refuses the collection that would make
    /// `MAX_JSON_DEPTH + 1` open ones, with an error this leaves to it; the limit also bounds
    /// the recursion of `value`.
    fn enter(&mut self) -> Option<()> {
        if self.depth >= MAX_JSON_DEPTH {
            return None;
        }
        self.depth += 1;
        self.pos += 1;
        self.space()
    }

    fn object(&mut self) -> Option<NodeKind<'a>> {
        self.enter()?;
        let base = self.scratch.entries.len();
        if self.peek() == b'}' {
            self.pos += 1;
        } else {
            loop {
                if self.peek() != b'"' {
                    return None;
                }
                let key_pos = self.here()?;
                let key = self.string()?;
                // A line break before the `:` is JSON too, but saphyr's rules for implicit
                // keys over several lines are not worth copying.
                while matches!(self.peek(), b' ' | b'\t') {
                    self.pos += 1;
                }
                if self.peek() != b':' || key == "<<" {
                    return None;
                }
                self.pos += 1;
                let tab = self.peek() == b'\t';
                self.space()?;
                // saphyr rejects `:`, a tab, and a plain scalar on the same line ("':' must be
                // followed by a valid YAML whitespace") unless a space came with the tab.
                if tab && !matches!(self.peek(), b'"' | b'[' | b'{') {
                    return None;
                }
                let value = self.value()?;
                self.scratch.entries.push(Entry {
                    key,
                    key_pos,
                    value,
                });
                self.space()?;
                match self.peek() {
                    b',' => {
                        self.pos += 1;
                        self.space()?;
                    }
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(NodeKind::Map(take_from(&mut self.scratch.entries, base)))
    }

    fn array(&mut self) -> Option<NodeKind<'a>> {
        self.enter()?;
        let base = self.scratch.items.len();
        if self.peek() == b']' {
            self.pos += 1;
        } else {
            loop {
                let item = self.value()?;
                self.scratch.items.push(item);
                self.space()?;
                match self.peek() {
                    b',' => {
                        self.pos += 1;
                        self.space()?;
                    }
                    b']' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(NodeKind::Seq(take_from(&mut self.scratch.items, base)))
    }

    /// A plain scalar must end where JSON says it ends; `truex` or `1.2.3` are YAML plain
    /// scalars with other text, so they go to saphyr.
    fn end_of_plain(&self, start: usize) -> Option<NodeKind<'a>> {
        if !matches!(
            self.peek(),
            b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}' | EOF
        ) {
            return None;
        }
        Some(NodeKind::Scalar(Scalar {
            text: Cow::Borrowed(&self.src[start..self.pos]),
            plain: true,
        }))
    }

    fn literal(&mut self, word: &str) -> Option<NodeKind<'a>> {
        let start = self.pos;
        if !self.b[start..].starts_with(word.as_bytes()) {
            return None;
        }
        self.pos += word.len();
        self.end_of_plain(start)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, kept as written.
    fn number(&mut self) -> Option<NodeKind<'a>> {
        let start = self.pos;
        if self.peek() == b'-' {
            self.pos += 1;
        }
        match self.peek() {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == b'.' {
            self.pos += 1;
            if !self.peek().is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), b'e' | b'E') {
            self.pos += 1;
            if matches!(self.peek(), b'+' | b'-') {
                self.pos += 1;
            }
            if !self.peek().is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        self.end_of_plain(start)
    }

    fn digits(&mut self) {
        while self.peek().is_ascii_digit() {
            self.pos += 1;
        }
    }

    /// A string at `pos` (its opening quote), borrowed from the source unless it has escapes.
    #[inline]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.pos += 1;
        let start = self.pos;
        self.skip_string_text();
        if self.peek() == b'"' {
            self.pos += 1;
            return Some(Cow::Borrowed(&self.src[start..self.pos - 1]));
        }
        self.string_rest(start)
    }

    /// The rest of a string that has escapes, non-ASCII text or an error, from `pos`. Kept
    /// out of line: most strings are plain ASCII, and the common case stays small.
    #[inline(never)]
    fn string_rest(&mut self, start: usize) -> Option<Cow<'a, str>> {
        let mut owned: Option<String> = None;
        let mut chunk = start;
        loop {
            self.skip_string_text();
            match self.peek() {
                b'"' => {
                    let text = match owned {
                        None => Cow::Borrowed(&self.src[start..self.pos]),
                        Some(mut s) => {
                            s.push_str(&self.src[chunk..self.pos]);
                            Cow::Owned(s)
                        }
                    };
                    self.pos += 1;
                    return Some(text);
                }
                b'\\' => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.src[chunk..self.pos]);
                    s.push(self.escape()?);
                    chunk = self.pos;
                }
                // Raw control characters are not JSON (and a NUL or line break means
                // something else to saphyr); EOF is 0 and ends up here too.
                0..=0x1f => return None,
                0x80.. => self.non_ascii()?,
                _ => self.pos += 1,
            }
        }
    }

    /// Skips string bytes that need no attention: printable ASCII other than `"` and `\`.
    /// Most of a Kubernetes object's bytes are string text, so this goes eight bytes at a
    /// time (it was most of the parse's instructions byte by byte).
    fn skip_string_text(&mut self) {
        const ONES: u64 = u64::from_le_bytes([1; 8]);
        const HIGH: u64 = ONES << 7;
        while let Some(block) = self.b.get(self.pos..self.pos + 8) {
            let Ok(block) = <[u8; 8]>::try_from(block) else {
                break;
            };
            let x = u64::from_le_bytes(block);
            // The usual zero-byte test, for `"`, `\`, bytes below 0x20 and bytes with the
            // high bit set. It can flag a byte above a real match (borrows), never below
            // one, so the lowest flag is exact.
            let quote = x ^ (ONES * u64::from(b'"'));
            let backslash = x ^ (ONES * u64::from(b'\\'));
            let flags = (quote.wrapping_sub(ONES) & !quote)
                | (backslash.wrapping_sub(ONES) & !backslash)
                | (x.wrapping_sub(ONES * 0x20) & !x)
                | x;
            let flags = flags & HIGH;
            if flags != 0 {
                self.pos += (flags.trailing_zeros() / 8) as usize;
                return;
            }
            self.pos += 8;
        }
        while matches!(self.peek(), 0x20..=0x7f) && !matches!(self.peek(), b'"' | b'\\') {
            self.pos += 1;
        }
    }

    /// Steps over the character starting at `pos`, counting its continuation bytes. A byte
    /// order mark inside a document is an error to saphyr.
    fn non_ascii(&mut self) -> Option<()> {
        let c = self.src.get(self.pos..)?.chars().next()?;
        if c == '\u{FEFF}' {
            return None;
        }
        let len = c.len_utf8();
        self.pos += len;
        self.continuation += len - 1;
        Some(())
    }

    /// The escape at `pos` (a `\`), decoded as saphyr decodes it. Only JSON's escapes are
    /// taken; YAML's others are left to saphyr.
    fn escape(&mut self) -> Option<char> {
        let c = match self.b.get(self.pos + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\x08',
            b'f' => '\x0c',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hex = self.b.get(self.pos + 2..self.pos + 6)?;
                let mut value = 0u32;
                for &h in hex {
                    value = (value << 4) | char::from(h).to_digit(16)?;
                }
                self.pos += 6;
                // Surrogates are not characters: saphyr rejects them, even in pairs.
                return char::from_u32(value);
            }
            _ => return None,
        };
        self.pos += 2;
        Some(c)
    }
}
