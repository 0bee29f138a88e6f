//! A fast path for the YAML that Kubernetes manifests actually use.
//!
//! `saphyr-parser` is a complete YAML 1.2 implementation, and most of its cost goes into
//! generality a manifest never needs (a token queue, simple-key bookkeeping, an owned
//! `String` for every scalar). This parser reads the common subset directly into the same
//! [`Node`] tree, borrowing scalar text from the source where it can.
//!
//! It is deliberately timid: the moment it meets anything it has not been written for
//! (anchors, aliases, tags, merge keys, complex keys, directives, multi-line plain or quoted
//! scalars, tabs where YAML treats them specially, odd indentation, any syntax error) it gives
//! up on the whole document and the caller parses that document with saphyr. Errors and
//! exotic YAML therefore keep exactly the behaviour and messages of the saphyr path, and the
//! fast path only has to be right about what it accepts. Positions follow saphyr's rules
//! (which are not always where a reader would put them), see the notes on each construct.

use std::borrow::Cow;
use std::cell::Cell;

use crate::node::{Entry, Node, NodeKind, Pos, Scalar};

/// Nesting the fast path handles itself; deeper documents go to saphyr, which enforces
/// the real limit (`MAX_DEPTH`) with its error message. Also bounds our recursion.
const MAX_FAST_DEPTH: usize = 100;

/// saphyr forgets a simple key after 1024 characters ("could not find expected ':'"), so
/// longer keys are left to it. Compared against bytes, which are never fewer than chars.
const MAX_KEY_LEN: usize = 1000;

/// Collections under construction, shared by every document of a stream.
///
/// A collection's children are pushed here while it is parsed and moved into a `Vec` of
/// exactly the right size when it ends: one allocation per collection instead of the
/// 4 → 8 → 16 … growth of pushing into a fresh `Vec`, and none for the stacks themselves
/// after the first documents. Nested collections use the part above their parent's, and a
/// document abandoned half-way (fallback to saphyr) is cleared by the next `parse_document`.
///
/// `line_starts` collects, for the whole stream, the offset after every `\n` the parser
/// consumes: the stream splitter then gets each document's line count and the line starts a
/// finding quotes from the parse itself, instead of a search for every line break.
#[derive(Default)]
pub(crate) struct Scratch<'a> {
    pub(crate) entries: Vec<Entry<'a>>,
    pub(crate) items: Vec<Node<'a>>,
    pub(crate) line_starts: Vec<usize>,
}

/// Parses one `---`-separated chunk, or returns `None` when the chunk should go to saphyr.
/// `line_offset` is added to the 1-based line of every position, as in the saphyr path.
/// On success, the offset (plus `base`, the chunk's offset in its stream) after every line
/// break of the chunk has been pushed to `scratch.line_starts`; after a `None` the caller
/// must drop whatever was pushed.
pub(crate) fn parse_document<'a>(
    chunk: &'a str,
    base: usize,
    line_offset: u32,
    scratch: &mut Scratch<'a>,
) -> Option<Node<'a>> {
    let ascii = plain_text(chunk)?;
    scratch.entries.clear();
    scratch.items.clear();
    let mut p = Fast {
        src: chunk,
        b: chunk.as_bytes(),
        pos: 0,
        base,
        line: line_offset.checked_add(1)?,
        line_start: 0,
        depth: 0,
        ascii,
        column_cache: Cell::new((0, 0, 0)),
        content_line: (usize::MAX, 0),
        key_hint: None,
        scratch,
    };
    p.document()
}

/// Rejects characters whose handling in saphyr is subtle: control characters (a NUL even
/// ends its input), carriage returns (CRLF line breaks and positions) and byte order marks.
/// Returns whether the chunk is pure ASCII (then columns are byte offsets), or `None` to
/// reject it.
///
/// This pass touches every byte of the input, so it works on 64-byte blocks without an
/// early exit inside a block, which the compiler turns into vector code; the precise BOM
/// check only runs for chunks that have non-ASCII bytes at all.
fn plain_text(s: &str) -> Option<bool> {
    let b = s.as_bytes();
    let mut high = false;
    for block in b.chunks(64) {
        let (ctrl, hi) = block.iter().fold((false, false), |(ctrl, hi), &c| {
            (
                ctrl | ((c < 0x20) & (c != b'\n') & (c != b'\t')),
                hi | (c >= 0x80),
            )
        });
        if ctrl {
            return None;
        }
        high |= hi;
    }
    if high && s.contains('\u{FEFF}') {
        return None;
    }
    Some(!high)
}

/// Stands for "end of input" in byte look-ups; `plain_text` rejects real NULs.
const EOF: u8 = 0;

fn is_blank_or_end(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\t' | EOF)
}

/// Characters that cannot start a plain scalar (or that start one saphyr treats specially):
/// YAML's indicators, blanks and the end of input.
fn is_indicator(c: u8) -> bool {
    crate::edit::is_indicator(c) || is_blank_or_end(c)
}

fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

/// Bytes a plain scalar's loop must look at; every other byte just extends the scalar. The
/// loops skip runs of the others with one table look-up per byte instead of a `match`.
const fn stop_table(flow: bool) -> [bool; 256] {
    let mut t = [false; 256];
    t[EOF as usize] = true;
    t[b'\n' as usize] = true;
    t[b' ' as usize] = true;
    t[b'\t' as usize] = true;
    t[b':' as usize] = true;
    if flow {
        t[b',' as usize] = true;
        t[b'[' as usize] = true;
        t[b']' as usize] = true;
        t[b'{' as usize] = true;
        t[b'}' as usize] = true;
    }
    t
}

static BLOCK_STOPS: [bool; 256] = stop_table(false);
static FLOW_STOPS: [bool; 256] = stop_table(true);

/// Where a plain scalar in block context stopped.
enum Stop {
    /// End of line or input.
    Eol,
    /// ` #`: a comment follows.
    Comment,
    /// `: ` or `:` at the end of the line: the scalar was a mapping key; `pos` is on the `:`.
    Colon,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

struct Fast<'a, 's> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Offset of `src` in the stream, for `scratch.line_starts`.
    base: usize,
    /// Absolute 1-based line of `line_start`.
    line: u32,
    line_start: usize,
    depth: usize,
    /// The whole chunk is ASCII, so a column is a byte offset from the line start.
    ascii: bool,
    /// `(line start, offset, characters from the line start to the offset)` of the last
    /// column counted on a non-ASCII line, to count on from: recounting from the line start
    /// made every position on a long line (minified JSON is one) cost the whole line so far.
    column_cache: Cell<(usize, usize, usize)>,
    /// `(offset, indentation)` of the content line `next_content_line` last stopped at. A
    /// line that closes several nested collections is asked about by each of them in turn;
    /// they get the answer without measuring the indentation again.
    content_line: (usize, usize),
    /// `(start, end, colon)` of the plain key `looks_like_key` just scanned, so that the
    /// mapping it starts does not scan it a second time.
    key_hint: Option<(usize, usize, usize)>,
    scratch: &'s mut Scratch<'a>,
}

fn scalar(text: Cow<'_, str>, plain: bool, pos: Pos) -> Node<'_> {
    Node {
        kind: NodeKind::Scalar(Scalar { text, plain }),
        pos,
    }
}

impl<'a> Fast<'a, '_> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(EOF)
    }

    fn peek(&self) -> u8 {
        self.at(self.pos)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    /// Characters (not bytes) from the line start to `i`, as saphyr counts columns.
    fn chars_before(&self, i: usize) -> usize {
        if self.ascii {
            return i.saturating_sub(self.line_start);
        }
        let (start, at, chars) = self.column_cache.get();
        let (from, before) = if start == self.line_start && at <= i {
            (at, chars)
        } else {
            (self.line_start, 0)
        };
        let Some(text) = self.b.get(from..i) else {
            return 0;
        };
        // UTF-8 continuation bytes are 0b10xx_xxxx; everything else starts a character.
        let chars = before + text.iter().filter(|&&c| (c & 0xC0) != 0x80).count();
        self.column_cache.set((self.line_start, i, chars));
        chars
    }

    fn pos_of(&self, i: usize) -> Option<Pos> {
        Some(Pos {
            line: self.line,
            column: u32::try_from(self.chars_before(i) + 1).ok()?,
        })
    }

    /// Consumes the `\n` at `pos`. Every line break goes through here (the parser never
    /// backtracks over one), which is what makes `line_starts` complete.
    fn newline(&mut self) {
        self.pos += 1;
        self.line = self.line.saturating_add(1);
        self.line_start = self.pos;
        self.scratch.line_starts.push(self.base + self.pos);
    }

    fn skip_to_eol(&mut self) {
        match self.b[self.pos.min(self.b.len())..]
            .iter()
            .position(|&c| c == b'\n')
        {
            Some(n) => self.pos += n,
            None => self.pos = self.b.len(),
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_FAST_DEPTH).then_some(())
    }

    /// From a line start, skips blank and comment-only lines. Leaves `pos` at the start of the
    /// next content line and returns its indentation, or `Some(None)` at the end of input.
    fn next_content_line(&mut self) -> Option<Option<usize>> {
        if self.content_line.0 == self.pos {
            return Some(Some(self.content_line.1));
        }
        loop {
            let i = self.pos + self.spaces_at(self.pos);
            match self.at(i) {
                EOF => return Some(None),
                b'\n' => {
                    self.pos = i;
                    self.newline();
                }
                b'#' => {
                    self.pos = i;
                    self.skip_to_eol();
                    if self.at_end() {
                        return Some(None);
                    }
                    self.newline();
                }
                // Tabs in indentation have their own rules in YAML; saphyr decides.
                b'\t' => return None,
                _ => {
                    let indent = i - self.pos;
                    // A document marker inside the chunk (`--- x`, `...`) starts or ends a
                    // document the splitter did not see; saphyr knows what to do with it.
                    if indent == 0
                        && (self.b[i..].starts_with(b"---") || self.b[i..].starts_with(b"..."))
                        && is_blank_or_end(self.at(i + 3))
                    {
                        return None;
                    }
                    self.content_line = (self.pos, indent);
                    return Some(Some(indent));
                }
            }
        }
    }

    /// After a value: only spaces and a comment may follow. Consumes the line break.
    fn end_of_line(&mut self) -> Option<()> {
        while self.peek() == b' ' {
            self.pos += 1;
        }
        match self.peek() {
            EOF => Some(()),
            b'\n' => {
                self.newline();
                Some(())
            }
            // saphyr rejects a comment glued to a token ("comments must be separated ...").
            // (A plain scalar stops on the `#` of ` #`, after the spaces.)
            b'#' if self.pos > 0 && self.b[self.pos - 1] == b' ' => {
                self.skip_to_eol();
                if !self.at_end() {
                    self.newline();
                }
                Some(())
            }
            _ => None,
        }
    }

    fn document(&mut self) -> Option<Node<'a>> {
        let indent = self.next_content_line()??;
        self.pos += indent;
        let root = match self.peek() {
            b'-' if is_blank_or_end(self.at(self.pos + 1)) => self.block_seq(indent, false)?,
            b'[' | b'{' => {
                let node = self.flow(-1)?;
                self.end_of_line()?;
                node
            }
            // A scalar document root is rare enough to leave to saphyr (its block scalars
            // have their own indentation rules at the top level).
            _ => {
                if !self.looks_like_key()? {
                    return None;
                }
                self.block_map(indent)?
            }
        };
        // Anything after the root (a less indented line, a second root) is saphyr's business.
        match self.next_content_line()? {
            None => Some(root),
            Some(_) => None,
        }
    }

    /// Whether a mapping key (`key:` followed by a blank) starts at `pos`. Does not move.
    fn looks_like_key(&mut self) -> Option<bool> {
        let save = self.pos;
        let c = self.peek();
        let is_key = if c == b'"' || c == b'\'' {
            self.quoted()?;
            while self.peek() == b' ' {
                self.pos += 1;
            }
            self.peek() == b':' && is_blank_or_end(self.at(self.pos + 1))
        } else if plain_start(c, self.at(self.pos + 1)) {
            let (end, stop) = self.plain_block()?;
            let colon = matches!(stop, Stop::Colon);
            if colon {
                self.key_hint = Some((save, end, self.pos));
            }
            colon
        } else {
            false
        };
        self.pos = save;
        Some(is_key)
    }

    /// A block mapping whose first key is at `pos`, in column `col` (0-based, in characters;
    /// only spaces and `- ` precede it, so bytes and characters agree). Like saphyr, the
    /// mapping's position is its first key's. Returns at a line start.
    fn block_map(&mut self, col: usize) -> Option<Node<'a>> {
        self.enter()?;
        let map_pos = self.pos_of(self.pos)?;
        let base = self.scratch.entries.len();
        loop {
            let (key, key_pos, colon) = self.block_key()?;
            // Merge keys are applied by the saphyr path's builder.
            if key == "<<" {
                return None;
            }
            let colon_pos = self.pos_of(colon)?;
            self.pos = colon + 1;
            let spaces = self.pos;
            while self.peek() == b' ' {
                self.pos += 1;
            }
            let value = match self.peek() {
                EOF | b'\n' => {
                    if !self.at_end() {
                        self.newline();
                    }
                    self.value_below(col, colon_pos)?
                }
                b'#' if self.pos > spaces => {
                    self.skip_to_eol();
                    if !self.at_end() {
                        self.newline();
                    }
                    self.value_below(col, colon_pos)?
                }
                _ => self.inline_value(col)?,
            };
            self.scratch.entries.push(Entry {
                key,
                key_pos,
                value,
            });
            match self.next_content_line()? {
                None => break,
                Some(n) if n == col => {
                    self.pos += n;
                    // A `- ` here is not an item of anything we built: a syntax error.
                    if self.peek() == b'-' && is_blank_or_end(self.at(self.pos + 1)) {
                        return None;
                    }
                }
                Some(n) if n < col => break,
                Some(_) => return None,
            }
        }
        self.depth -= 1;
        Some(Node {
            kind: NodeKind::Map(self.scratch.entries.drain(base..).collect()),
            pos: map_pos,
        })
    }

    /// A key at `pos` and its `:`. Returns the key, its position and the offset of the `:`.
    fn block_key(&mut self) -> Option<(Cow<'a, str>, Pos, usize)> {
        let start = self.pos;
        let key_pos = self.pos_of(start)?;
        let key = match self.peek() {
            b'"' | b'\'' => {
                let text = self.quoted()?;
                while self.peek() == b' ' {
                    self.pos += 1;
                }
                if self.peek() != b':' || !is_blank_or_end(self.at(self.pos + 1)) {
                    return None;
                }
                text
            }
            c if plain_start(c, self.at(self.pos + 1)) => {
                let end = match self.key_hint.take() {
                    Some((hint_start, end, colon)) if hint_start == start => {
                        self.pos = colon;
                        end
                    }
                    _ => {
                        let (end, stop) = self.plain_block()?;
                        if !matches!(stop, Stop::Colon) {
                            return None;
                        }
                        end
                    }
                };
                Cow::Borrowed(&self.src[start..end])
            }
            _ => return None,
        };
        if self.pos - start > MAX_KEY_LEN {
            return None;
        }
        Some((key, key_pos, self.pos))
    }

    /// The value of `key:` when nothing follows the colon on its line: a nested block node,
    /// an indentless sequence, or an empty (null) scalar. saphyr places an empty value at
    /// the `:` (the position of its VALUE token).
    fn value_below(&mut self, parent_col: usize, colon_pos: Pos) -> Option<Node<'a>> {
        let empty = scalar(Cow::Borrowed(""), true, colon_pos);
        match self.next_content_line()? {
            Some(n) if n > parent_col => {
                self.pos += n;
                self.node_on_own_line(n, parent_col)
            }
            Some(n)
                if n == parent_col
                    && self.at(self.pos + n) == b'-'
                    && is_blank_or_end(self.at(self.pos + n + 1)) =>
            {
                self.pos += n;
                self.block_seq(n, true)
            }
            _ => Some(empty),
        }
    }

    /// A node starting a line of its own, at column `col`, below a key of a mapping at
    /// `parent_col`.
    fn node_on_own_line(&mut self, col: usize, parent_col: usize) -> Option<Node<'a>> {
        match self.peek() {
            b'-' if is_blank_or_end(self.at(self.pos + 1)) => self.block_seq(col, false),
            b'[' | b'{' => {
                let node = self.flow(min_flow_indent(parent_col))?;
                self.end_of_line()?;
                Some(node)
            }
            b'"' | b'\'' | b'-' | b'?' | b':' => self.scalar_or_map(col),
            c if is_indicator(c) => None,
            _ => self.scalar_or_map(col),
        }
    }

    /// A one-line scalar, or a block mapping if the scalar turns out to be its first key.
    fn scalar_or_map(&mut self, col: usize) -> Option<Node<'a>> {
        if self.looks_like_key()? {
            return self.block_map(col);
        }
        let node = self.one_line_scalar()?;
        self.end_of_line()?;
        Some(node)
    }

    /// A quoted or plain scalar confined to the current line (a multi-line one shows up later
    /// as an over-indented line, which the enclosing collection refuses).
    fn one_line_scalar(&mut self) -> Option<Node<'a>> {
        let start = self.pos;
        let pos = self.pos_of(start)?;
        match self.peek() {
            b'"' | b'\'' => Some(scalar(self.quoted()?, false, pos)),
            c if plain_start(c, self.at(start + 1)) => {
                let (end, stop) = self.plain_block()?;
                if matches!(stop, Stop::Colon) {
                    return None;
                }
                Some(scalar(Cow::Borrowed(&self.src[start..end]), true, pos))
            }
            _ => None,
        }
    }

    /// The value after `key: ` on the same line, in a mapping at column `map_col`.
    fn inline_value(&mut self, map_col: usize) -> Option<Node<'a>> {
        match self.peek() {
            b'[' | b'{' => {
                let node = self.flow(min_flow_indent(map_col))?;
                self.end_of_line()?;
                Some(node)
            }
            b'|' | b'>' => self.block_scalar(map_col),
            _ => {
                let node = self.one_line_scalar()?;
                self.end_of_line()?;
                Some(node)
            }
        }
    }

    /// A block sequence whose first `-` is at `pos`, in column `col`. saphyr places a block
    /// sequence at its first `-`, but an indentless one (`key:\n- a`, at the key's column) at
    /// the first item's content, because it starts from the BLOCK-ENTRY token whose mark
    /// is taken after the `- `. Returns at a line start.
    fn block_seq(&mut self, col: usize, indentless: bool) -> Option<Node<'a>> {
        self.enter()?;
        let mut seq_pos = None;
        let base = self.scratch.items.len();
        loop {
            let dash = self.pos;
            self.pos += 1;
            while self.peek() == b' ' {
                self.pos += 1;
            }
            // `-` alone on its line (an empty item, or the item on the following lines) and
            // tabs after the dash: positions and rules get subtle, leave them to saphyr.
            if matches!(self.peek(), EOF | b'\n' | b'#' | b'\t') {
                return None;
            }
            if seq_pos.is_none() {
                seq_pos = Some(self.pos_of(if indentless { self.pos } else { dash })?);
            }
            let item_col = self.pos - self.line_start;
            let item = self.seq_item(col, item_col)?;
            self.scratch.items.push(item);
            match self.next_content_line()? {
                None => break,
                Some(n) if n == col => {
                    let i = self.pos + n;
                    if self.at(i) == b'-' && is_blank_or_end(self.at(i + 1)) {
                        self.pos = i;
                    } else if indentless {
                        // Back to the mapping this sequence is a value of.
                        break;
                    } else {
                        return None;
                    }
                }
                Some(n) if n < col => break,
                Some(_) => return None,
            }
        }
        self.depth -= 1;
        Some(Node {
            kind: NodeKind::Seq(self.scratch.items.drain(base..).collect()),
            pos: seq_pos?,
        })
    }

    /// The item after `- `, starting on the dash's line at column `item_col`.
    fn seq_item(&mut self, seq_col: usize, item_col: usize) -> Option<Node<'a>> {
        match self.peek() {
            b'[' | b'{' => {
                let node = self.flow(min_flow_indent(seq_col))?;
                self.end_of_line()?;
                Some(node)
            }
            b'|' | b'>' => self.block_scalar(seq_col),
            // `- - x`: a nested sequence on the same line.
            b'-' if is_blank_or_end(self.at(self.pos + 1)) => None,
            _ => self.scalar_or_map(item_col),
        }
    }

    /// A block scalar (`|` or `>` at `pos`) whose parent block collection is at column
    /// `parent_col`. A port of saphyr's `scan_block_scalar` for the cases it can take:
    /// the scalar's position is its first content character, as in saphyr.
    fn block_scalar(&mut self, parent_col: usize) -> Option<Node<'a>> {
        let literal = self.peek() == b'|';
        self.pos += 1;
        let mut chomp = Chomp::Clip;
        let mut increment = 0usize;
        for _ in 0..2 {
            match self.peek() {
                b'+' if chomp == Chomp::Clip => chomp = Chomp::Keep,
                b'-' if chomp == Chomp::Clip => chomp = Chomp::Strip,
                c @ b'1'..=b'9' if increment == 0 => increment = usize::from(c - b'0'),
                _ => break,
            }
            self.pos += 1;
        }
        // Header must end in a line break, optionally after a separated comment.
        let after = self.pos;
        while self.peek() == b' ' {
            self.pos += 1;
        }
        match self.peek() {
            b'\n' => {}
            b'#' if self.pos > after => self.skip_to_eol(),
            _ => return None,
        }
        if self.at_end() {
            return None;
        }
        self.newline();
        if self.peek() == b'\t' {
            return None;
        }

        let mut trailing_breaks = 0usize;
        let indent = if increment > 0 {
            let indent = parent_col + increment;
            self.skip_block_indent(indent, &mut trailing_breaks);
            indent
        } else {
            // The indentation of the first non-empty line, or of the longest empty line before
            // it, and at least one more than the parent's.
            let mut max_indent = 0;
            loop {
                while self.peek() == b' ' {
                    self.pos += 1;
                }
                max_indent = max_indent.max(self.pos - self.line_start);
                if self.peek() == b'\n' {
                    trailing_breaks += 1;
                    self.newline();
                } else {
                    break;
                }
            }
            max_indent.max(parent_col + 1)
        };
        // No content at all, or a first line less indented than the scalar: an empty
        // scalar or an error, both positioned in ways not worth imitating.
        if self.at_end() || self.pos - self.line_start != indent {
            return None;
        }
        let pos = self.pos_of(self.pos)?;

        let mut text = String::new();
        let mut leading_break = false;
        let mut leading_blank = false;
        while self.pos - self.line_start == indent && !matches!(self.peek(), EOF | b'\n') {
            let trailing_blank = matches!(self.peek(), b' ' | b'\t');
            if !literal && leading_break && !leading_blank && !trailing_blank {
                // Folding: a single line break becomes a space.
                if trailing_breaks == 0 {
                    text.push(' ');
                }
                push_breaks(&mut text, trailing_breaks);
            } else {
                if leading_break {
                    text.push('\n');
                }
                push_breaks(&mut text, trailing_breaks);
            }
            leading_break = false;
            trailing_breaks = 0;
            leading_blank = trailing_blank;
            let start = self.pos;
            self.skip_to_eol();
            text.push_str(&self.src[start..self.pos]);
            if self.at_end() {
                break;
            }
            leading_break = true;
            self.newline();
            self.skip_block_indent(indent, &mut trailing_breaks);
        }
        if chomp != Chomp::Strip {
            if leading_break {
                text.push('\n');
            }
            // Input ending inside a content line still ends that line.
            if self.at_end() && self.chars_before(self.pos) >= indent.max(1) {
                text.push('\n');
            }
        }
        if chomp == Chomp::Keep {
            push_breaks(&mut text, trailing_breaks);
        }
        // The block protocol resumes at the start of the line that ended the scalar.
        if !self.at_end() {
            self.pos = self.line_start;
        }
        Some(scalar(Cow::Owned(text), false, pos))
    }

    /// Skips up to `indent` spaces, and whole empty lines, counting the line breaks.
    fn skip_block_indent(&mut self, indent: usize, breaks: &mut usize) {
        loop {
            while self.pos - self.line_start < indent && self.peek() == b' ' {
                self.pos += 1;
            }
            if self.peek() == b'\n' {
                *breaks += 1;
                self.newline();
            } else {
                break;
            }
        }
    }

    /// A flow collection at `pos`. Lines inside it must be indented more than `min_indent`.
    /// Positions: a collection at its bracket, scalars at their first character.
    fn flow(&mut self, min_indent: isize) -> Option<Node<'a>> {
        self.enter()?;
        let pos = self.pos_of(self.pos)?;
        let open = self.peek();
        self.pos += 1;
        self.flow_space(min_indent)?;
        let kind = if open == b'[' {
            let base = self.scratch.items.len();
            self.flow_items(b']', min_indent, |p| {
                let item = p.flow_node(min_indent)?;
                p.scratch.items.push(item);
                Some(())
            })?;
            NodeKind::Seq(self.scratch.items.drain(base..).collect())
        } else {
            let base = self.scratch.entries.len();
            self.flow_items(b'}', min_indent, |p| {
                let entry = p.flow_entry(min_indent)?;
                p.scratch.entries.push(entry);
                Some(())
            })?;
            NodeKind::Map(self.scratch.entries.drain(base..).collect())
        };
        self.depth -= 1;
        Some(Node { kind, pos })
    }

    /// The items of a flow collection, from just after its opening bracket to just after
    /// `close`; `item` reads one item and keeps it.
    #[inline(always)]
    fn flow_items(
        &mut self,
        close: u8,
        min_indent: isize,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        if self.peek() == close {
            self.pos += 1;
            return Some(());
        }
        loop {
            item(self)?;
            self.flow_space(min_indent)?;
            match self.peek() {
                b',' => {
                    self.pos += 1;
                    self.flow_space(min_indent)?;
                    // A trailing comma: legal YAML, but not worth the risk.
                    if self.peek() == close {
                        return None;
                    }
                }
                c if c == close => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `key: value` inside `{}`; both on the line of the key, value possibly on later lines.
    fn flow_entry(&mut self, min_indent: isize) -> Option<Entry<'a>> {
        let start = self.pos;
        let key_pos = self.pos_of(start)?;
        let quoted = matches!(self.peek(), b'"' | b'\'');
        let key = if quoted {
            self.quoted()?
        } else {
            let (end, _) = self.plain_flow()?;
            Cow::Borrowed(&self.src[start..end])
        };
        while self.peek() == b' ' {
            self.pos += 1;
        }
        // After a plain key the `:` needs a blank; after a quoted (JSON-like) key it does not.
        if self.peek() != b':'
            || (!quoted && !is_blank_or_end(self.at(self.pos + 1)))
            || self.pos - start > MAX_KEY_LEN
            || key == "<<"
        {
            return None;
        }
        self.pos += 1;
        self.flow_space(min_indent)?;
        // An empty value (`{a: }`, `{a:,}`) is positioned by saphyr rules we do not copy.
        if matches!(self.peek(), b',' | b'}') {
            return None;
        }
        let value = self.flow_node(min_indent)?;
        Some(Entry {
            key,
            key_pos,
            value,
        })
    }

    fn flow_node(&mut self, min_indent: isize) -> Option<Node<'a>> {
        let start = self.pos;
        match self.peek() {
            b'[' | b'{' => self.flow(min_indent),
            b'"' | b'\'' => {
                let pos = self.pos_of(start)?;
                Some(scalar(self.quoted()?, false, pos))
            }
            _ => {
                let pos = self.pos_of(start)?;
                let (end, _) = self.plain_flow()?;
                Some(scalar(Cow::Borrowed(&self.src[start..end]), true, pos))
            }
        }
    }

    /// Spaces, comments and line breaks between flow tokens. Every new line must be
    /// indented more than `min_indent` and must not be a document marker.
    ///
    /// Most calls stand on a token, which is decided here without a call; the rest is in
    /// `flow_space_run`.
    #[inline(always)]
    fn flow_space(&mut self, min_indent: isize) -> Option<()> {
        if matches!(self.peek(), b' ' | b'\n' | b'\t' | b'#') {
            self.flow_space_run(min_indent)
        } else {
            Some(())
        }
    }

    #[inline(never)]
    fn flow_space_run(&mut self, min_indent: isize) -> Option<()> {
        // Most runs are one space before a token.
        if self.peek() == b' ' && !matches!(self.at(self.pos + 1), b' ' | b'\n' | b'\t' | b'#') {
            self.pos += 1;
            return Some(());
        }
        let mut separated = self.pos == self.line_start;
        loop {
            match self.peek() {
                b' ' => {
                    self.pos += 1;
                    separated = true;
                }
                b'\n' => {
                    self.newline();
                    separated = true;
                    let mut i = self.pos;
                    while self.at(i) == b' ' {
                        i += 1;
                    }
                    // Comment lines too: saphyr's indentation checks inside flow
                    // collections are not ours to reproduce, so stay on the safe side.
                    if !matches!(self.at(i), b'\n' | EOF) {
                        let indent = isize::try_from(i - self.pos).ok()?;
                        if indent <= min_indent {
                            return None;
                        }
                        if indent == 0
                            && (self.b[i..].starts_with(b"---") || self.b[i..].starts_with(b"..."))
                        {
                            return None;
                        }
                    }
                }
                b'#' if separated => self.skip_to_eol(),
                b'\t' | b'#' => return None,
                _ => return Some(()),
            }
        }
    }

    /// The number of spaces from `i` on.
    #[inline]
    fn spaces_at(&self, i: usize) -> usize {
        let rest = self.b.get(i..).unwrap_or_default();
        // Indentation is often eight spaces and more: compare a word at a time, and find
        // the first other byte of a word from its lowest non-zero byte after `^ spaces`.
        let mut n = 0;
        while let Some(Ok(word)) = rest.get(n..n + 8).map(<[u8; 8]>::try_from) {
            let other = u64::from_le_bytes(word) ^ u64::from_le_bytes([b' '; 8]);
            if other != 0 {
                return n + other.trailing_zeros() as usize / 8;
            }
            n += 8;
        }
        n + rest[n..]
            .iter()
            .position(|&c| c != b' ')
            .unwrap_or(rest.len() - n)
    }

    /// Moves `pos` over the bytes `stops` does not mark; whether it moved.
    #[inline]
    fn skip_plain_run(&mut self, stops: &[bool; 256]) -> bool {
        let rest = self.b.get(self.pos..).unwrap_or_default();
        let run = rest
            .iter()
            .position(|&c| stops[usize::from(c)])
            .unwrap_or(rest.len());
        self.pos += run;
        run > 0
    }

    /// A plain scalar in block context, on one line. Returns the end of its text (trailing
    /// spaces excluded) and why it stopped; `pos` is left at the stop.
    fn plain_block(&mut self) -> Option<(usize, Stop)> {
        let mut end = self.pos;
        loop {
            if self.skip_plain_run(&BLOCK_STOPS) {
                end = self.pos;
            }
            match self.peek() {
                EOF | b'\n' => return Some((end, Stop::Eol)),
                b' ' => {
                    let mut j = self.pos;
                    while self.at(j) == b' ' {
                        j += 1;
                    }
                    match self.at(j) {
                        b'#' => {
                            self.pos = j;
                            return Some((end, Stop::Comment));
                        }
                        EOF | b'\n' => {
                            self.pos = j;
                            return Some((end, Stop::Eol));
                        }
                        _ => self.pos = j,
                    }
                }
                b'\t' => return None,
                b':' if is_blank_or_end(self.at(self.pos + 1)) => {
                    return Some((end, Stop::Colon));
                }
                _ => {
                    self.pos += 1;
                    end = self.pos;
                }
            }
        }
    }

    /// A plain scalar inside a flow collection, on one line. Stops at flow indicators, at
    /// `:` (a key's, or one inside the scalar, which the caller then refuses), at ` #`
    /// and at the end of the line.
    fn plain_flow(&mut self) -> Option<(usize, Stop)> {
        let c = self.peek();
        let next = self.at(self.pos + 1);
        if !plain_start(c, next) || (c == b'-' && is_flow_indicator(next)) {
            return None;
        }
        let mut end = self.pos;
        loop {
            if self.skip_plain_run(&FLOW_STOPS) {
                end = self.pos;
            }
            match self.peek() {
                EOF | b'\n' => return Some((end, Stop::Eol)),
                b' ' => {
                    let mut j = self.pos;
                    while self.at(j) == b' ' {
                        j += 1;
                    }
                    match self.at(j) {
                        b'#' => {
                            self.pos = j;
                            return Some((end, Stop::Comment));
                        }
                        c if c == EOF || c == b'\n' || c == b':' || is_flow_indicator(c) => {
                            self.pos = j;
                            return Some((end, Stop::Eol));
                        }
                        // saphyr checks every word of a flow scalar, not only the first, for
                        // a `-` before a flow indicator (`[a -, b]` is an error).
                        b'-' if is_flow_indicator(self.at(j + 1)) => return None,
                        _ => self.pos = j,
                    }
                }
                b'\t' => return None,
                b':' => return Some((end, Stop::Colon)),
                c if is_flow_indicator(c) => return Some((end, Stop::Eol)),
                _ => {
                    self.pos += 1;
                    end = self.pos;
                }
            }
        }
    }

    /// A single- or double-quoted scalar closed on its own line.
    fn quoted(&mut self) -> Option<Cow<'a, str>> {
        if self.peek() == b'\'' {
            self.single_quoted()
        } else {
            self.double_quoted()
        }
    }

    fn single_quoted(&mut self) -> Option<Cow<'a, str>> {
        self.pos += 1;
        let start = self.pos;
        let mut owned: Option<String> = None;
        let mut chunk = start;
        loop {
            match self.peek() {
                EOF | b'\n' => return None,
                b'\'' if self.at(self.pos + 1) == b'\'' => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.src[chunk..=self.pos]);
                    self.pos += 2;
                    chunk = self.pos;
                }
                b'\'' => {
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
                _ => self.pos += 1,
            }
        }
    }

    fn double_quoted(&mut self) -> Option<Cow<'a, str>> {
        self.pos += 1;
        let start = self.pos;
        let mut owned: Option<String> = None;
        let mut chunk = start;
        loop {
            match self.peek() {
                EOF | b'\n' => return None,
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
                    let (c, len) = self.escape()?;
                    s.push(c);
                    self.pos += len;
                    chunk = self.pos;
                }
                _ => self.pos += 1,
            }
        }
    }

    /// The escape at `pos` (a `\`) as saphyr resolves it, and its length in bytes. A `\` at
    /// the end of the line (a line continuation) is left to saphyr.
    fn escape(&self) -> Option<(char, usize)> {
        let c = match self.at(self.pos + 1) {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' | b'\t' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{A0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' => return self.hex_escape(2),
            b'u' => return self.hex_escape(4),
            b'U' => return self.hex_escape(8),
            _ => return None,
        };
        Some((c, 2))
    }

    fn hex_escape(&self, digits: usize) -> Option<(char, usize)> {
        let hex = self.b.get(self.pos + 2..self.pos + 2 + digits)?;
        let mut value = 0u32;
        for &h in hex {
            value = (value << 4) | char::from(h).to_digit(16)?;
        }
        Some((char::from_u32(value)?, 2 + digits))
    }
}

fn push_breaks(text: &mut String, n: usize) {
    for _ in 0..n {
        text.push('\n');
    }
}

/// Whether a plain scalar may start with `c` followed by `next`. A `-` followed by a
/// non-blank is content (`-1`, `--port`); the other indicators are left to saphyr.
fn plain_start(c: u8, next: u8) -> bool {
    if c == b'-' {
        !is_blank_or_end(next)
    } else {
        !is_indicator(c)
    }
}

/// Continuation lines of a flow collection inside a block collection at `parent_col` must be
/// indented more than it (saphyr: "invalid indentation in flow construct"); asking for one
/// more column than that keeps us clear of its indentation bookkeeping.
fn min_flow_indent(parent_col: usize) -> isize {
    isize::try_from(parent_col).map_or(isize::MAX, |c| c.saturating_add(1))
}
