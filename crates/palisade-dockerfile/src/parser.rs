//! Dockerfile parser with positions.
//!
//! Follows BuildKit's reading of a Dockerfile (`moby/buildkit` `frontend/dockerfile/parser`):
//! parser directives only at the very top, line continuations with the escape character
//! (comment and blank lines inside a continuation are dropped), heredocs after `RUN`, `COPY`
//! and `ADD`, and JSON (exec) form that silently falls back to shell form when it is not a
//! valid JSON array of strings. Every piece of text keeps a map back to byte offsets in the
//! source so findings can name the line and column of the exact word they are about.
//!
//! Bad input never stops the parse: the offending instruction is reported as a
//! [`ParseError`] with its line and what was expected, and the next line is read as usual.

/// Byte offset in the source text.
pub type SrcOffset = usize;

/// A piece of logical text (possibly joined from several physical lines) with a map from
/// its byte offsets back to source offsets.
#[derive(Clone, Debug, Default)]
pub struct Text {
    pub s: String,
    /// `(offset in s, offset in source)` at the start of each contiguous piece, ascending.
    segs: Vec<(usize, SrcOffset)>,
}

impl Text {
    /// A text that is one contiguous piece of the source.
    #[must_use]
    pub fn contiguous(s: &str, src: SrcOffset) -> Text {
        let mut t = Text::default();
        t.push(s, src);
        t
    }

    /// Appends one character that came from source offset `src`.
    pub(crate) fn push_char(&mut self, c: char, src: SrcOffset) {
        let at = self.s.len();
        let contiguous = self
            .segs
            .last()
            .is_some_and(|&(start, s0)| s0 + (at - start) == src);
        if !contiguous {
            self.segs.push((at, src));
        }
        self.s.push(c);
    }

    pub(crate) fn push(&mut self, piece: &str, src: SrcOffset) {
        if piece.is_empty() {
            return;
        }
        self.segs.push((self.s.len(), src));
        self.s.push_str(piece);
    }

    /// Source offset of byte `i` of the logical text (clamped to the text).
    #[must_use]
    pub fn src(&self, i: usize) -> SrcOffset {
        let idx = self.segs.partition_point(|&(start, _)| start <= i);
        match idx.checked_sub(1).and_then(|k| self.segs.get(k)) {
            Some(&(start, src)) => src + (i - start),
            None => self.segs.first().map_or(0, |&(_, src)| src),
        }
    }

    /// The text from byte `start` on, keeping the source map.
    pub(crate) fn slice_from(&self, start: usize) -> Text {
        let Some(s) = self.s.get(start..) else {
            return Text::default();
        };
        let mut segs = Vec::new();
        for (k, &(seg_start, seg_src)) in self.segs.iter().enumerate() {
            let seg_end = self.segs.get(k + 1).map_or(self.s.len(), |n| n.0);
            if seg_end <= start {
                continue;
            }
            if seg_start <= start {
                segs.push((0, seg_src + (start - seg_start)));
            } else {
                segs.push((seg_start - start, seg_src));
            }
        }
        Text {
            s: s.to_string(),
            segs,
        }
    }
}

/// A word with its source offset (the first character of the word as written, quotes
/// included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub src: SrcOffset,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    From,
    Run,
    Cmd,
    Label,
    Maintainer,
    Expose,
    Env,
    Add,
    Copy,
    Entrypoint,
    Volume,
    User,
    Workdir,
    Arg,
    Onbuild,
    Stopsignal,
    Healthcheck,
    Shell,
}

const KEYWORDS: &[(&str, Kind)] = &[
    ("FROM", Kind::From),
    ("RUN", Kind::Run),
    ("CMD", Kind::Cmd),
    ("LABEL", Kind::Label),
    ("MAINTAINER", Kind::Maintainer),
    ("EXPOSE", Kind::Expose),
    ("ENV", Kind::Env),
    ("ADD", Kind::Add),
    ("COPY", Kind::Copy),
    ("ENTRYPOINT", Kind::Entrypoint),
    ("VOLUME", Kind::Volume),
    ("USER", Kind::User),
    ("WORKDIR", Kind::Workdir),
    ("ARG", Kind::Arg),
    ("ONBUILD", Kind::Onbuild),
    ("STOPSIGNAL", Kind::Stopsignal),
    ("HEALTHCHECK", Kind::Healthcheck),
    ("SHELL", Kind::Shell),
];

impl Kind {
    fn from_keyword(k: &str) -> Option<Kind> {
        KEYWORDS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(k))
            .map(|&(_, kind)| kind)
    }

    /// Instructions whose leading `--name[=value]` words are flags.
    fn takes_flags(self) -> bool {
        matches!(
            self,
            Kind::From | Kind::Run | Kind::Copy | Kind::Add | Kind::Healthcheck
        )
    }

    /// Instructions that accept heredocs (BuildKit 1.4+).
    fn takes_heredocs(self) -> bool {
        matches!(self, Kind::Run | Kind::Copy | Kind::Add)
    }
}

/// `--name=value` (or bare `--name`) before an instruction's arguments.
#[derive(Clone, Debug)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
    pub src: SrcOffset,
}

#[derive(Clone, Debug)]
pub struct Heredoc {
    pub delim: String,
    /// `<<-`: leading tabs of the body lines are removed.
    pub strip_tabs: bool,
    /// The delimiter was quoted, so the body is not expanded.
    pub quoted: bool,
    /// Offset of the `<<` in the source.
    pub src: SrcOffset,
    pub body: Text,
}

#[derive(Clone, Debug)]
pub struct Instruction {
    pub kind: Kind,
    /// 1-based line and column of the keyword.
    pub line: u32,
    pub column: u32,
    /// Last physical line of the instruction (heredoc bodies included).
    pub end_line: u32,
    pub src: SrcOffset,
    pub flags: Vec<Flag>,
    /// Everything after the keyword and the flags, continuation lines joined.
    pub args: Text,
    /// Exec form: the JSON array's strings, when `args` is a valid JSON array of strings.
    pub json: Option<Vec<Word>>,
    pub heredocs: Vec<Heredoc>,
    /// `ONBUILD`'s trigger instruction.
    pub onbuild: Option<Box<Instruction>>,
    words: Vec<Word>,
}

impl Instruction {
    #[must_use]
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The arguments split into words, with quotes removed (shell-like, no expansion).
    #[must_use]
    /// Split once at parse time, because most rules ask. `RUN` arguments are not split
    /// here: they go through the shell tokeniser instead.
    pub fn words(&self) -> &[Word] {
        &self.words
    }
}

/// A `# name=value` parser directive.
#[derive(Clone, Debug)]
pub struct Directive {
    pub name: String,
    pub value: String,
    pub line: u32,
}

#[derive(Clone, Debug)]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct Dockerfile {
    pub directives: Vec<Directive>,
    pub escape: char,
    pub instructions: Vec<Instruction>,
    pub errors: Vec<ParseError>,
    line_starts: Vec<SrcOffset>,
}

impl Dockerfile {
    /// 1-based line and column (in characters) of a source offset.
    #[must_use]
    pub fn pos(&self, src: &str, off: SrcOffset) -> (u32, u32) {
        let idx = self.line_starts.partition_point(|&s| s <= off);
        let line_start = idx
            .checked_sub(1)
            .and_then(|i| self.line_starts.get(i))
            .copied()
            .unwrap_or(0);
        let col = src
            .get(line_start..off.min(src.len()))
            .map_or(off.saturating_sub(line_start), |s| s.chars().count());
        (
            u32::try_from(idx.max(1)).unwrap_or(u32::MAX),
            u32::try_from(col + 1).unwrap_or(u32::MAX),
        )
    }

    /// The physical source line `line` (1-based), without its line break.
    #[must_use]
    pub fn line_text<'s>(&self, src: &'s str, line: u32) -> Option<&'s str> {
        let i = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(i)?;
        let end = self.line_starts.get(i + 1).copied().unwrap_or(src.len());
        let l = src.get(start..end)?;
        Some(l.trim_end_matches(['\n', '\r']))
    }

    #[must_use]
    pub fn directive(&self, name: &str) -> Option<&Directive> {
        self.directives
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
    }
}

/// One physical line: `[start, end)` without the line break.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
}

struct Parser<'s> {
    src: &'s str,
    lines: Vec<Line>,
    line_starts: Vec<usize>,
    escape: char,
    errors: Vec<ParseError>,
}

/// Parses a Dockerfile. Never fails: problems are in [`Dockerfile::errors`].
#[must_use]
pub fn parse(src: &str) -> Dockerfile {
    // A UTF-8 byte order mark is not part of the first line.
    let body_start = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut lines = Vec::new();
    let mut line_starts = vec![0];
    let mut start = body_start;
    for (i, b) in src.bytes().enumerate() {
        if b == b'\n' {
            let end = if i > start && src.as_bytes().get(i - 1) == Some(&b'\r') {
                i - 1
            } else {
                i
            };
            lines.push(Line { start, end });
            start = i + 1;
            line_starts.push(start);
        }
    }
    if start < src.len() {
        lines.push(Line {
            start,
            end: src.len(),
        });
    } else {
        // A trailing newline opened no line.
        line_starts.pop();
        if line_starts.is_empty() {
            line_starts.push(0);
        }
    }
    let mut p = Parser {
        src,
        lines,
        line_starts,
        escape: '\\',
        errors: Vec::new(),
    };
    let (directives, first) = p.directives();
    let mut instructions = Vec::new();
    let mut i = first;
    while i < p.lines.len() {
        let (next, instr) = p.instruction(i);
        if let Some(instr) = instr {
            instructions.push(instr);
        }
        i = next.max(i + 1);
    }
    Dockerfile {
        directives,
        escape: p.escape,
        instructions,
        errors: p.errors,
        line_starts: p.line_starts,
    }
}

impl<'s> Parser<'s> {
    fn text(&self, l: Line) -> &'s str {
        self.src.get(l.start..l.end).unwrap_or("")
    }

    fn line_no(i: usize) -> u32 {
        u32::try_from(i + 1).unwrap_or(u32::MAX)
    }

    fn error(&mut self, line: usize, column: u32, message: String) {
        self.errors.push(ParseError {
            line: Self::line_no(line),
            column,
            message,
        });
    }

    /// Reads `# name=value` directives at the top; returns them and the first line after.
    fn directives(&mut self) -> (Vec<Directive>, usize) {
        let mut out: Vec<Directive> = Vec::new();
        for i in 0..self.lines.len() {
            let Some(&l) = self.lines.get(i) else { break };
            let t = self.text(l).trim();
            let Some(rest) = t.strip_prefix('#') else {
                return (out, i);
            };
            let Some((name, value)) = rest.split_once('=') else {
                return (out, i);
            };
            let name = name.trim();
            let value = value.trim();
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric())
                || !name.starts_with(|c: char| c.is_ascii_alphabetic())
                || out.iter().any(|d| d.name.eq_ignore_ascii_case(name))
            {
                // Not a directive (or a repeated one): it is a comment, and the directive
                // section is over, as in BuildKit.
                return (out, i);
            }
            let lname = name.to_ascii_lowercase();
            if lname == "escape" {
                match value {
                    "\\" => self.escape = '\\',
                    "`" => self.escape = '`',
                    _ => self.error(
                        i,
                        1,
                        format!(
                            "invalid escape directive value `{value}` (expected `\\` or `` ` ``)"
                        ),
                    ),
                }
            } else if lname != "syntax" && lname != "check" {
                return (out, i);
            }
            out.push(Directive {
                name: lname,
                value: value.to_string(),
                line: Self::line_no(i),
            });
        }
        (out, self.lines.len())
    }

    /// Whether a line ends with the escape character (trailing blanks allowed), and the
    /// line's content without it.
    fn continued(&self, t: &'s str) -> Option<&'s str> {
        let trimmed = t.trim_end_matches([' ', '\t']);
        trimmed.strip_suffix(self.escape)
    }

    /// Parses the instruction starting at line `i`; returns the next line to read.
    fn instruction(&mut self, i: usize) -> (usize, Option<Instruction>) {
        let Some(&first) = self.lines.get(i) else {
            return (i + 1, None);
        };
        let t = self.text(first);
        let trimmed = t.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return (i + 1, None);
        }
        // Join continuation lines.
        let mut logical = Text::default();
        let mut j = i;
        let lead = t.len() - trimmed.len();
        let mut piece_start = first.start + lead;
        let mut piece = trimmed;
        loop {
            match self.continued(piece) {
                Some(content) => {
                    logical.push(content, piece_start);
                    j += 1;
                    // Skip comment lines and blank lines inside the continuation.
                    while let Some(&l) = self.lines.get(j) {
                        let lt = self.text(l).trim_start();
                        if lt.is_empty() || lt.starts_with('#') {
                            j += 1;
                        } else {
                            break;
                        }
                    }
                    let Some(&l) = self.lines.get(j) else {
                        break;
                    };
                    piece_start = l.start;
                    piece = self.text(l);
                }
                None => {
                    logical.push(piece, piece_start);
                    j += 1;
                    break;
                }
            }
        }
        let end_line = j; // exclusive, 0-based
        let s = logical.s.as_str();
        let kw_end = s.find(char::is_whitespace).unwrap_or(s.len());
        let keyword = s.get(..kw_end).unwrap_or("").to_string();
        let args_start = s
            .get(kw_end..)
            .map_or(s.len(), |r| kw_end + (r.len() - r.trim_start().len()));
        let src_off = logical.src(0);
        let column = {
            let ls = first.start;
            self.src
                .get(ls..src_off)
                .map_or(1, |p| u32::try_from(p.chars().count() + 1).unwrap_or(1))
        };
        let Some(kind) = Kind::from_keyword(&keyword) else {
            let expected = KEYWORDS.iter().map(|(k, _)| *k).collect::<Vec<_>>();
            let shown: String = keyword.chars().take(40).collect();
            self.error(
                i,
                column,
                format!(
                    "unknown instruction `{shown}` (expected one of {})",
                    expected.join(", ")
                ),
            );
            return (end_line, None);
        };
        let mut args = logical.slice_from(args_start);
        let mut flags = Vec::new();
        if kind.takes_flags() {
            loop {
                let s = args.s.as_str();
                if !s.starts_with("--") {
                    break;
                }
                let end = s.find(char::is_whitespace).unwrap_or(s.len());
                let word = s.get(2..end).unwrap_or("");
                let (name, value) = match word.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(unquote(v))),
                    None => (word.to_string(), None),
                };
                flags.push(Flag {
                    name,
                    value,
                    src: args.src(0),
                });
                let rest = s.get(end..).unwrap_or("");
                let skip = end + (rest.len() - rest.trim_start().len());
                args = args.slice_from(skip);
            }
        }
        // Trailing blanks are not part of the arguments.
        let trimmed_len = args.s.trim_end().len();
        args.s.truncate(trimmed_len);

        let mut next = end_line;
        let mut heredocs = Vec::new();
        if kind.takes_heredocs() {
            for (delim, strip_tabs, quoted, at) in heredoc_starts(&args.s) {
                let body_line = next;
                let mut body = Text::default();
                let mut k = next;
                let mut terminated = false;
                while let Some(&l) = self.lines.get(k) {
                    let lt = self.text(l);
                    let content = if strip_tabs {
                        lt.trim_start_matches('\t')
                    } else {
                        lt
                    };
                    k += 1;
                    if content == delim {
                        terminated = true;
                        break;
                    }
                    let off = l.start + (lt.len() - content.len());
                    body.push(content, off);
                    body.push("\n", l.end);
                }
                if !terminated {
                    self.error(
                        i,
                        column,
                        format!(
                            "heredoc `{delim}` is not terminated (expected a line `{delim}` after line {})",
                            Self::line_no(body_line.saturating_sub(1))
                        ),
                    );
                }
                next = k;
                heredocs.push(Heredoc {
                    delim,
                    strip_tabs,
                    quoted,
                    src: args.src(at),
                    body,
                });
            }
        }

        let json = match kind {
            Kind::Run
            | Kind::Cmd
            | Kind::Entrypoint
            | Kind::Shell
            | Kind::Copy
            | Kind::Add
            | Kind::Volume
            | Kind::Healthcheck => parse_json_array(&args),
            _ => None,
        };

        let mut onbuild = None;
        if kind == Kind::Onbuild {
            if args.s.is_empty() {
                self.error(
                    i,
                    column,
                    "ONBUILD requires an instruction (expected `ONBUILD INSTRUCTION ARGS`)".into(),
                );
            } else {
                onbuild = self.onbuild_trigger(i, &args);
            }
        }

        let words = match (&json, kind) {
            (Some(j), _) => j.clone(),
            (None, Kind::Run) => Vec::new(),
            (None, _) => split_words(&args, self.escape),
        };
        let instr = Instruction {
            words,
            kind,
            line: Self::line_no(i),
            column,
            end_line: u32::try_from(next).unwrap_or(u32::MAX),
            src: src_off,
            flags,
            args,
            json,
            heredocs,
            onbuild,
        };
        self.validate(i, &instr);
        (next, Some(instr))
    }

    /// `ONBUILD RUN …`: the trigger is parsed like a top-level instruction.
    fn onbuild_trigger(&mut self, i: usize, args: &Text) -> Option<Box<Instruction>> {
        let s = args.s.as_str();
        let kw_end = s.find(char::is_whitespace).unwrap_or(s.len());
        let kw = s.get(..kw_end).unwrap_or("");
        let (line, column) = {
            let off = args.src(0);
            let ls = self.lines.get(i).map_or(0, |l| l.start);
            let col = self
                .src
                .get(ls..off)
                .map_or(1, |p| u32::try_from(p.chars().count() + 1).unwrap_or(1));
            (Self::line_no(i), col)
        };
        let Some(kind) = Kind::from_keyword(kw) else {
            self.error(
                i,
                column,
                format!(
                    "unknown ONBUILD trigger `{kw}` (expected an instruction such as RUN or COPY)"
                ),
            );
            return None;
        };
        if matches!(kind, Kind::Onbuild | Kind::From | Kind::Maintainer) {
            self.error(
                i,
                column,
                format!(
                    "{} is not allowed as an ONBUILD trigger",
                    kw.to_ascii_uppercase()
                ),
            );
            return None;
        }
        let rest = s.get(kw_end..).unwrap_or("");
        let trimmed = rest.trim_start();
        let inner = args.slice_from(kw_end + (rest.len() - trimmed.len()));
        let json = match kind {
            Kind::Run | Kind::Cmd | Kind::Entrypoint | Kind::Copy | Kind::Add => {
                parse_json_array(&inner)
            }
            _ => None,
        };
        let words = match &json {
            Some(j) => j.clone(),
            None if kind == Kind::Run => Vec::new(),
            None => split_words(&inner, self.escape),
        };
        Some(Box::new(Instruction {
            words,
            kind,
            line,
            column,
            end_line: line,
            src: args.src(0),
            flags: Vec::new(),
            args: inner,
            json,
            heredocs: Vec::new(),
            onbuild: None,
        }))
    }

    /// Argument checks that BuildKit makes at parse time.
    fn validate(&mut self, i: usize, instr: &Instruction) {
        let col = instr.column;
        let empty = instr.args.s.is_empty() && instr.heredocs.is_empty();
        if empty {
            let expected = match instr.kind {
                Kind::From => "`FROM [--platform=PLATFORM] IMAGE[:TAG|@DIGEST] [AS NAME]`",
                Kind::Run => "a command: `RUN COMMAND` or `RUN [\"EXECUTABLE\", \"ARG\"]`",
                Kind::Copy | Kind::Add => "at least one source and a destination",
                Kind::User => "`USER NAME[:GROUP]` or `USER UID[:GID]`",
                Kind::Expose => "`EXPOSE PORT[/PROTOCOL] …`",
                Kind::Env => "`ENV NAME=VALUE …`",
                Kind::Arg => "`ARG NAME[=DEFAULT]`",
                Kind::Label => "`LABEL KEY=VALUE …`",
                Kind::Workdir => "a directory",
                Kind::Healthcheck => "`HEALTHCHECK [OPTIONS] CMD COMMAND` or `HEALTHCHECK NONE`",
                Kind::Shell => "a JSON array such as `[\"/bin/bash\", \"-c\"]`",
                _ => "arguments",
            };
            self.error(
                i,
                col,
                format!(
                    "{} has no arguments (expected {expected})",
                    kind_name(instr.kind)
                ),
            );
            return;
        }
        match instr.kind {
            Kind::From => {
                let words = instr.words();
                match words.len() {
                    1 => {}
                    3 if words
                        .get(1)
                        .is_some_and(|w| w.text.eq_ignore_ascii_case("as")) => {}
                    _ => self.error(
                        i,
                        col,
                        "FROM takes an image and an optional `AS NAME` (expected `FROM [--platform=PLATFORM] IMAGE [AS NAME]`)"
                            .into(),
                    ),
                }
            }
            Kind::Copy | Kind::Add => {
                let n = instr
                    .json
                    .as_ref()
                    .map_or_else(|| instr.words().len(), Vec::len);
                if n < 2 {
                    self.error(
                        i,
                        col,
                        format!(
                            "{} requires at least one source and a destination",
                            kind_name(instr.kind)
                        ),
                    );
                }
            }
            Kind::Shell if instr.json.is_none() => self.error(
                i,
                col,
                "SHELL requires the JSON form (expected `SHELL [\"EXECUTABLE\", \"PARAMETERS\"]`)"
                    .into(),
            ),
            Kind::Env | Kind::Label => {
                let words = instr.words();
                if words.first().is_some_and(|w| !w.text.contains('=')) && words.len() < 2 {
                    self.error(
                        i,
                        col,
                        format!(
                            "{} requires a value (expected `{} NAME=VALUE`)",
                            kind_name(instr.kind),
                            kind_name(instr.kind)
                        ),
                    );
                }
            }
            _ => {}
        }
    }
}

#[must_use]
pub fn kind_name(k: Kind) -> &'static str {
    KEYWORDS
        .iter()
        .find(|(_, kind)| *kind == k)
        .map_or("?", |(n, _)| n)
}

/// Finds `<<EOF`, `<<-EOF`, `<<"EOF"` and `<<'EOF'` outside quotes (not `<<<`).
/// Returns (delimiter, strip tabs, quoted, offset of `<<`).
fn heredoc_starts(s: &str) -> Vec<(String, bool, bool, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(0);
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == b'\\' && q == b'"' {
                    i += 1;
                }
                i += 1;
                continue;
            }
            None if c == b'\'' || c == b'"' => {
                quote = Some(c);
                i += 1;
                continue;
            }
            None => {}
        }
        if c == b'<' && b.get(i + 1) == Some(&b'<') && b.get(i + 2) != Some(&b'<') {
            let at = i;
            let mut k = i + 2;
            let strip = b.get(k) == Some(&b'-');
            if strip {
                k += 1;
            }
            let q = b.get(k).copied().filter(|&c| c == b'"' || c == b'\'');
            if q.is_some() {
                k += 1;
            }
            let start = k;
            while let Some(&c) = b.get(k) {
                if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' {
                    k += 1;
                } else {
                    break;
                }
            }
            let delim = s.get(start..k).unwrap_or("");
            if let Some(q) = q {
                if b.get(k) == Some(&q) {
                    k += 1;
                } else {
                    i = k.max(i + 1);
                    continue;
                }
            }
            if !delim.is_empty() {
                out.push((delim.to_string(), strip, q.is_some(), at));
            }
            i = k.max(i + 2);
            continue;
        }
        i += 1;
    }
    out
}

/// Strips one level of matching quotes.
fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    v.to_string()
}

/// Splits on blanks, honouring quotes and the escape character (no variable expansion).
#[must_use]
pub fn split_words(t: &Text, escape: char) -> Vec<Word> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut chars = t.s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else if c == escape && q == '"' {
                match chars.peek() {
                    Some(&(_, n)) if n == '"' || n == escape => {
                        cur.push(n);
                        chars.next();
                    }
                    _ => cur.push(c),
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push(Word {
                    text: std::mem::take(&mut cur),
                    src: t.src(s),
                });
            }
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
        } else if c == escape {
            if let Some((_, n)) = chars.next() {
                cur.push(n);
            }
        } else {
            cur.push(c);
        }
    }
    if let Some(s) = start {
        out.push(Word {
            text: cur,
            src: t.src(s),
        });
    }
    out
}

/// Parses a JSON array of strings with each string's source offset; `None` when the text
/// is not exactly that (Docker then reads it as shell form).
fn parse_json_array(t: &Text) -> Option<Vec<Word>> {
    let s = t.s.as_str();
    let b = s.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while b.get(*i).is_some_and(u8::is_ascii_whitespace) {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    let mut out = Vec::new();
    skip_ws(&mut i);
    if b.get(i) == Some(&b']') {
        i += 1;
        skip_ws(&mut i);
        return (i == b.len()).then_some(out);
    }
    loop {
        skip_ws(&mut i);
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let start = i;
        i += 1;
        let mut val = String::new();
        loop {
            let rest = s.get(i..)?;
            let c = rest.chars().next()?;
            i += c.len_utf8();
            match c {
                '"' => break,
                '\\' => {
                    let e = *b.get(i)?;
                    i += 1;
                    match e {
                        b'"' => val.push('"'),
                        b'\\' => val.push('\\'),
                        b'/' => val.push('/'),
                        b'b' => val.push('\u{8}'),
                        b'f' => val.push('\u{c}'),
                        b'n' => val.push('\n'),
                        b'r' => val.push('\r'),
                        b't' => val.push('\t'),
                        b'u' => {
                            let hex = s.get(i..i + 4)?;
                            let code = u32::from_str_radix(hex, 16).ok()?;
                            i += 4;
                            val.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                        _ => return None,
                    }
                }
                c if (c as u32) < 0x20 => return None,
                c => val.push(c),
            }
        }
        out.push(Word {
            text: val,
            src: t.src(start),
        });
        skip_ws(&mut i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b']') => {
                i += 1;
                skip_ws(&mut i);
                return (i == b.len()).then_some(out);
            }
            _ => return None,
        }
    }
}

/// `KEY=VALUE` pairs of `ENV`, `LABEL` and `ARG` (and the legacy `ENV KEY VALUE` form).
#[derive(Clone, Debug)]
pub struct KeyValue {
    pub key: String,
    pub key_src: SrcOffset,
    /// `None` for `ARG NAME` without a default.
    pub value: Option<String>,
    pub value_src: SrcOffset,
}

#[must_use]
pub fn key_values(instr: &Instruction) -> Vec<KeyValue> {
    let words = instr.words();
    let legacy = instr.kind == Kind::Env && words.first().is_some_and(|w| !w.text.contains('='));
    if legacy {
        // `ENV KEY the rest of the line`
        let Some(first) = words.first() else {
            return Vec::new();
        };
        let s = instr.args.s.as_str();
        let key_len = s.find(char::is_whitespace).unwrap_or(s.len());
        let rest = s.get(key_len..).unwrap_or("");
        let value_at = key_len + (rest.len() - rest.trim_start().len());
        let value = words
            .iter()
            .skip(1)
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        return vec![KeyValue {
            key: first.text.clone(),
            key_src: first.src,
            value: Some(value),
            value_src: instr.args.src(value_at),
        }];
    }
    words
        .iter()
        .map(|w| match w.text.split_once('=') {
            Some((k, v)) => {
                // The value starts after `KEY=` in the source (quotes around the key are rare).
                let value_src = w.src + k.len() + 1;
                KeyValue {
                    key: k.to_string(),
                    key_src: w.src,
                    value: Some(v.to_string()),
                    value_src,
                }
            }
            None => KeyValue {
                key: w.text.clone(),
                key_src: w.src,
                value: None,
                value_src: w.src,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_comments_and_positions() {
        let src = "FROM python:3.11\nRUN apt-get update \\\n# comment\n\n    && apt-get install -y curl\n";
        let df = parse(src);
        assert!(df.errors.is_empty(), "{:?}", df.errors);
        assert_eq!(df.instructions.len(), 2);
        let run = &df.instructions[1];
        assert_eq!(run.args.s, "apt-get update     && apt-get install -y curl");
        let at = run.args.s.find("curl").unwrap();
        assert_eq!(df.pos(src, run.args.src(at)), (5, 27));
        assert_eq!(run.end_line, 5);
    }

    #[test]
    fn escape_directive_backtick() {
        let src = "# escape=`\n# syntax=docker/dockerfile:1\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\n";
        let df = parse(src);
        assert_eq!(df.escape, '`');
        assert_eq!(df.directives.len(), 2);
        assert_eq!(df.instructions[1].args.s, "dir   c:\\");
    }

    #[test]
    fn directive_after_comment_is_a_comment() {
        let df = parse("# hello\n# escape=`\nFROM x\n");
        assert_eq!(df.escape, '\\');
        assert!(df.directives.is_empty());
    }

    #[test]
    fn heredocs() {
        let src = "FROM x\nRUN <<EOF bash\napt-get update\nEOF\nCOPY <<-'A' /a <<B /b\n\tone\n\tA\ntwo\nB\nUSER app\n";
        let df = parse(src);
        assert!(df.errors.is_empty(), "{:?}", df.errors);
        let kinds: Vec<_> = df.instructions.iter().map(|i| i.kind).collect();
        assert_eq!(kinds, [Kind::From, Kind::Run, Kind::Copy, Kind::User]);
        assert_eq!(df.instructions[1].heredocs[0].body.s, "apt-get update\n");
        let copy = &df.instructions[2];
        assert_eq!(copy.heredocs[0].body.s, "one\n");
        assert!(copy.heredocs[0].quoted && copy.heredocs[0].strip_tabs);
        assert_eq!(copy.heredocs[1].body.s, "two\n");
        let h = &df.instructions[1].heredocs[0];
        assert_eq!(df.pos(src, h.body.src(8)), (3, 9));
    }

    #[test]
    fn unterminated_heredoc_is_an_error() {
        let df = parse("FROM x\nRUN <<EOF\necho\n");
        assert_eq!(df.errors.len(), 1);
        assert!(df.errors[0].message.contains("not terminated"));
    }

    #[test]
    fn json_and_shell_forms() {
        let df = parse("FROM x\nCMD [\"uvicorn\", \"app:app\"]\nCMD [uvicorn]\n");
        assert_eq!(
            df.instructions[1]
                .json
                .as_ref()
                .unwrap()
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>(),
            ["uvicorn", "app:app"]
        );
        assert!(df.instructions[2].json.is_none());
    }

    #[test]
    fn flags_and_errors_continue() {
        let src = "FROM x AS\nBOGUS thing\nCOPY --from=build --chown=1000:1000 /a /b\nRUN --mount=type=cache,target=/root/.cache pip install x\n";
        let df = parse(src);
        assert_eq!(df.errors.len(), 2, "{:?}", df.errors);
        assert_eq!(df.errors[0].line, 1);
        assert_eq!(df.errors[1].line, 2);
        let copy = &df.instructions[1];
        assert_eq!(copy.flag("from").unwrap().value.as_deref(), Some("build"));
        assert_eq!(
            copy.flag("chown").unwrap().value.as_deref(),
            Some("1000:1000")
        );
        assert_eq!(copy.args.s, "/a /b");
        let run = &df.instructions[2];
        assert_eq!(run.flags[0].name, "mount");
        assert_eq!(run.args.s, "pip install x");
    }

    #[test]
    fn env_forms() {
        let df = parse("FROM x\nENV A=1 B=\"two words\"\nENV LEGACY some value\nARG X\n");
        let kv = key_values(&df.instructions[1]);
        assert_eq!(kv[1].key, "B");
        assert_eq!(kv[1].value.as_deref(), Some("two words"));
        let kv = key_values(&df.instructions[2]);
        assert_eq!(kv[0].value.as_deref(), Some("some value"));
        let kv = key_values(&df.instructions[3]);
        assert!(kv[0].value.is_none());
    }
}
