//! Event stream → [`Node`] tree, one document at a time.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::node::{Entry, Node, NodeKind, Pos, Scalar};

/// Upper bound on nodes created by expanding aliases in one document, so that a
/// "billion laughs" document costs a clear error instead of all memory.
pub const MAX_ALIAS_EXPANSION: usize = 100_000;

/// Nesting deeper than this is not a Kubernetes object; refusing it keeps recursion bounded.
pub(crate) const MAX_DEPTH: usize = 256;

/// One document of a stream.
#[derive(Debug)]
pub struct Document<'a> {
    /// Position of the document among the non-empty documents of its stream (0-based).
    pub index: usize,
    /// First line of the document's text (1-based), after its `---` separator.
    pub start_line: u32,
    pub root: Node<'a>,
}

/// A document that could not be parsed; the documents around it are still returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    pub index: usize,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Parses every document of a YAML or JSON stream.
///
/// The stream is split on lines that are exactly `---` (optionally followed by a comment),
/// as `k8s.io/apimachinery/pkg/util/yaml.YAMLReader` does, so a syntax error stays inside its
/// document. Empty documents (only comments or whitespace) are skipped.
///
/// Each document first goes to a fast parser (one for JSON documents, one for the YAML manifests
/// actually use); whatever they are unsure about (including every error) is parsed by
/// `saphyr-parser`, with the same result.
#[must_use]
pub fn parse_stream(src: &str) -> Vec<Result<Document<'_>, ParseError>> {
    parse_stream_with_stats(src).0
}

/// How the documents of a stream were parsed: lets tests and benchmarks check that the fast
/// path is actually taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Documents built by a fast path (the JSON one included).
    pub fast: usize,
    /// Of those, documents built by the JSON parser.
    pub json: usize,
    /// Documents (or failed documents) handed to saphyr.
    pub fallback: usize,
}

/// [`parse_stream`], also reporting which parser handled each document.
#[must_use]
pub fn parse_stream_with_stats(src: &str) -> (Vec<Result<Document<'_>, ParseError>>, ParseStats) {
    parse_stream_inner(src, true, true)
}

/// [`parse_stream`] with the saphyr path only: the reference the fast path is tested against.
#[doc(hidden)]
#[must_use]
pub fn parse_stream_reference(src: &str) -> Vec<Result<Document<'_>, ParseError>> {
    parse_stream_inner(src, false, false).0
}

/// [`parse_stream`] without the JSON parser (JSON then goes through the YAML fast path, as it
/// did before that parser existed), so that the benchmark can compare the two.
#[doc(hidden)]
#[must_use]
pub fn parse_stream_without_json(src: &str) -> Vec<Result<Document<'_>, ParseError>> {
    parse_stream_inner(src, false, true).0
}

/// [`parse_stream`], also returning the byte offset of every line start (see [`line_starts`]),
/// found while splitting the stream: a scanner that quotes source lines in its findings gets
/// them without a second pass over the text.
#[must_use]
pub fn parse_stream_with_lines(src: &str) -> (Vec<Result<Document<'_>, ParseError>>, Vec<usize>) {
    let mut lines = Vec::new();
    let (docs, _) = parse_stream_inner_lines(src, true, true, Some(&mut lines));
    (docs, lines)
}

fn parse_stream_inner(
    src: &str,
    json: bool,
    fast: bool,
) -> (Vec<Result<Document<'_>, ParseError>>, ParseStats) {
    parse_stream_inner_lines(src, json, fast, None)
}

fn parse_stream_inner_lines<'a>(
    src: &'a str,
    json: bool,
    fast: bool,
    line_starts: Option<&mut Vec<usize>>,
) -> (Vec<Result<Document<'a>, ParseError>>, ParseStats) {
    let mut out = Vec::new();
    let mut stats = ParseStats::default();
    let mut index = 0;
    let mut scratch = crate::fast::Scratch::default();
    // Manifests average a few dozen bytes per line; a rough guess saves most regrowth.
    scratch.line_starts.reserve(src.len() / 32 + 1);
    scratch.line_starts.push(0);
    let separators = Separators::new(src);
    let mut chunk_start = 0;
    let mut start_line = 1u32;
    loop {
        let separator = separators.next_from(chunk_start);
        let chunk_end = separator.map_or(src.len(), |line| line.start);
        let chunk = &src[chunk_start..chunk_end];
        let lines_before = scratch.line_starts.len();
        // Whether the YAML fast path parsed the chunk, and so recorded its line breaks.
        let mut lines_recorded = false;
        if !is_blank(chunk) {
            let mut root = None;
            if fast {
                if json && crate::json::looks_like_json(chunk) {
                    root = crate::json::parse_document(chunk, start_line - 1, &mut scratch);
                    stats.json += usize::from(root.is_some());
                }
                if root.is_none() {
                    root = crate::fast::parse_document(
                        chunk,
                        chunk_start,
                        start_line - 1,
                        &mut scratch,
                    );
                    lines_recorded = root.is_some();
                }
            }
            if let Some(root) = root {
                out.push(Ok(Document {
                    index,
                    start_line,
                    root,
                }));
                index += 1;
                stats.fast += 1;
            } else {
                stats.fallback += 1;
                parse_chunk(chunk, start_line, &mut index, &mut out);
            }
        }
        if !lines_recorded {
            scratch.line_starts.truncate(lines_before);
            scratch
                .line_starts
                .extend(newlines(chunk.as_bytes()).map(|i| chunk_start + i + 1));
        }
        let Some(separator) = separator else { break };
        let breaks = scratch.line_starts.len() - lines_before;
        if separator.end > separator.start && src.as_bytes()[separator.end - 1] == b'\n' {
            scratch.line_starts.push(separator.end);
        }
        // The chunk's lines, then the separator's.
        start_line = start_line
            .saturating_add(u32::try_from(breaks).unwrap_or(u32::MAX))
            .saturating_add(1);
        chunk_start = separator.end;
    }
    if let Some(line_starts) = line_starts {
        *line_starts = std::mem::take(&mut scratch.line_starts);
    }
    (out, stats)
}

fn is_separator(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("---") else {
        return false;
    };
    let rest = rest.trim();
    rest.is_empty() || rest.starts_with('#')
}

fn is_blank(chunk: &str) -> bool {
    chunk.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t.starts_with('%') || t == "..."
    })
}

/// A separator line: from its first byte to just past its `\n` (or the end of input).
#[derive(Clone, Copy)]
struct SeparatorLine {
    start: usize,
    end: usize,
}

/// Finds the lines that split a stream into documents.
///
/// Only lines starting with `---` can separate documents, so this jumps from one `\n---` to
/// the next with a substring search and never visits the other lines: the documents' line
/// breaks are counted by the parser that reads them anyway (see `Scratch::line_starts`).
struct Separators<'a> {
    src: &'a str,
    finder: memchr::memmem::Finder<'static>,
}

impl<'a> Separators<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            finder: memchr::memmem::Finder::new(b"\n---"),
        }
    }

    /// The first separator line starting at or after `from`, which must be a line start.
    fn next_from(&self, from: usize) -> Option<SeparatorLine> {
        let b = self.src.as_bytes();
        let mut at = from;
        loop {
            if !b.get(at..)?.starts_with(b"---") {
                at = at + 1 + self.finder.find(&b[at..])?;
                continue;
            }
            let line_end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |i| at + i);
            if is_separator(self.src[at..line_end].trim_end_matches(['\n', '\r'])) {
                return Some(SeparatorLine {
                    start: at,
                    end: (line_end + 1).min(b.len()),
                });
            }
            at = line_end;
        }
    }
}

/// Byte offsets of the first character of every line of `src` (`0`, then one past each
/// `\n`), for turning a [`crate::Pos`] line back into source text.
#[must_use]
pub fn line_starts(src: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(newlines(src.as_bytes()).map(|i| i + 1))
        .collect()
}

/// Offsets of the `\n` bytes of `b`, in order. `memchr` reads 32 bytes per step with SIMD;
/// manifest lines are short, but the per-match cost still beat the earlier word-at-a-time
/// scan several times over (callgrind, 50-document files).
fn newlines(b: &[u8]) -> memchr::Memchr<'_> {
    memchr::memchr_iter(b'\n', b)
}

enum Frame<'a> {
    Seq {
        items: Vec<Node<'a>>,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry<'a>>,
        pos: Pos,
        anchor: usize,
        key: Option<(Cow<'a, str>, Pos)>,
    },
}

struct Builder<'a> {
    stack: Vec<Frame<'a>>,
    anchors: HashMap<usize, Node<'a>>,
    expanded: usize,
    line_offset: u32,
}

fn count_nodes(node: &Node<'_>) -> usize {
    1 + match &node.kind {
        NodeKind::Scalar(_) => 0,
        NodeKind::Seq(items) => items.iter().map(count_nodes).sum(),
        NodeKind::Map(entries) => entries.iter().map(|e| count_nodes(&e.value)).sum(),
    }
}

impl<'a> Builder<'a> {
    fn pos(&self, span: &Span) -> Pos {
        let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
        Pos {
            line: line.saturating_add(self.line_offset),
            column: u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX),
        }
    }

    /// Attaches a finished node to its parent; returns it when it is the document root.
    fn finish(&mut self, node: Node<'a>, anchor: usize) -> Result<Option<Node<'a>>, String> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => Ok(Some(node)),
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(None)
            }
            Some(Frame::Map { entries, key, .. }) => {
                if let Some((k, key_pos)) = key.take() {
                    entries.push(Entry {
                        key: k,
                        key_pos,
                        value: node,
                    });
                } else {
                    match node.kind {
                        NodeKind::Scalar(s) => *key = Some((s.text, node.pos)),
                        _ => return Err("expected a string mapping key, found a collection".into()),
                    }
                }
                Ok(None)
            }
        }
    }
}

/// Applies YAML merge keys (`<<: *base`): merged entries never override explicit ones.
fn apply_merge_keys(entries: Vec<Entry<'_>>) -> Vec<Entry<'_>> {
    if !entries.iter().any(|e| e.key == "<<") {
        return entries;
    }
    let mut own = Vec::with_capacity(entries.len());
    let mut merged = Vec::new();
    for e in entries {
        if e.key != "<<" {
            own.push(e);
            continue;
        }
        match e.value.kind {
            NodeKind::Map(m) => merged.extend(m),
            NodeKind::Seq(items) => {
                for item in items {
                    if let NodeKind::Map(m) = item.kind {
                        merged.extend(m);
                    }
                }
            }
            NodeKind::Scalar(_) => own.push(Entry {
                key: e.key,
                key_pos: e.key_pos,
                value: e.value,
            }),
        }
    }
    for m in merged {
        if !own.iter().any(|o| o.key == m.key) {
            own.push(m);
        }
    }
    own
}

fn parse_chunk<'a>(
    chunk: &'a str,
    start_line: u32,
    index: &mut usize,
    out: &mut Vec<Result<Document<'a>, ParseError>>,
) {
    let mut builder = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        expanded: 0,
        line_offset: start_line - 1,
    };
    let mut produced_any = false;
    for event in Parser::new_from_str(chunk) {
        let (event, span) = match event {
            Ok(ev) => ev,
            Err(err) => {
                let m = err.marker();
                out.push(Err(ParseError {
                    index: *index,
                    line: u32::try_from(m.line()).unwrap_or(0) + builder.line_offset,
                    column: u32::try_from(m.col() + 1).unwrap_or(0),
                    message: format!("invalid YAML: {}", err.info()),
                }));
                *index += 1;
                return;
            }
        };
        let pos = builder.pos(&span);
        let result = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => Ok(None),
            Event::DocumentStart(_) => {
                builder.anchors.clear();
                builder.expanded = 0;
                Ok(None)
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let node = Node {
                    kind: NodeKind::Scalar(Scalar {
                        text,
                        plain: style == ScalarStyle::Plain,
                    }),
                    pos,
                };
                builder.finish(node, anchor)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _)
                if builder.stack.len() >= MAX_DEPTH =>
            {
                let _ = anchor;
                Err(format!("nesting deeper than {MAX_DEPTH} levels"))
            }
            Event::SequenceStart(anchor, _) => {
                builder.stack.push(Frame::Seq {
                    items: Vec::new(),
                    pos,
                    anchor,
                });
                Ok(None)
            }
            Event::MappingStart(anchor, _) => {
                builder.stack.push(Frame::Map {
                    entries: Vec::new(),
                    pos,
                    anchor,
                    key: None,
                });
                Ok(None)
            }
            Event::SequenceEnd | Event::MappingEnd => match builder.stack.pop() {
                Some(Frame::Seq { items, pos, anchor }) => builder.finish(
                    Node {
                        kind: NodeKind::Seq(items),
                        pos,
                    },
                    anchor,
                ),
                Some(Frame::Map {
                    entries,
                    pos,
                    anchor,
                    ..
                }) => builder.finish(
                    Node {
                        kind: NodeKind::Map(apply_merge_keys(entries)),
                        pos,
                    },
                    anchor,
                ),
                None => Ok(None),
            },
            Event::Alias(id) => match builder.anchors.get(&id) {
                Some(target) => {
                    builder.expanded += count_nodes(target);
                    if builder.expanded > MAX_ALIAS_EXPANSION {
                        Err(format!(
                            "aliases expand to more than {MAX_ALIAS_EXPANSION} nodes"
                        ))
                    } else {
                        let mut node = target.clone();
                        node.pos = pos;
                        builder.finish(node, 0)
                    }
                }
                None => Err("alias to an unknown anchor".into()),
            },
        };
        match result {
            Ok(Some(root)) => {
                out.push(Ok(Document {
                    index: *index,
                    start_line,
                    root,
                }));
                *index += 1;
                produced_any = true;
            }
            Ok(None) => {}
            Err(message) => {
                out.push(Err(ParseError {
                    index: *index,
                    line: pos.line,
                    column: pos.column,
                    message,
                }));
                *index += 1;
                return;
            }
        }
    }
    let _ = produced_any;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TypeName;

    fn roots(src: &str) -> Vec<Result<Node<'_>, ParseError>> {
        parse_stream(src)
            .into_iter()
            .map(|d| d.map(|d| d.root))
            .collect()
    }

    /// The line-by-line definition the splitting must keep matching.
    fn split_by_lines(src: &str) -> Vec<(u32, &str)> {
        let mut chunks = Vec::new();
        let (mut start, mut start_line, mut offset) = (0usize, 1u32, 0usize);
        for (line_no, line) in (1u32..).zip(src.split_inclusive('\n')) {
            if line.starts_with("---") && is_separator(line.trim_end_matches(['\n', '\r'])) {
                chunks.push((start_line, &src[start..offset]));
                start = offset + line.len();
                start_line = line_no + 1;
            }
            offset += line.len();
        }
        chunks.push((start_line, &src[start..]));
        chunks
    }

    /// The chunks `Separators` cuts, numbered by counting line breaks.
    fn split_by_separators(src: &str) -> Vec<(u32, &str)> {
        let separators = Separators::new(src);
        let (mut chunks, mut start, mut start_line) = (Vec::new(), 0, 1u32);
        while let Some(line) = separators.next_from(start) {
            chunks.push((start_line, &src[start..line.start]));
            start_line += u32::try_from(src[start..line.start].matches('\n').count()).unwrap() + 1;
            start = line.end;
        }
        chunks.push((start_line, &src[start..]));
        chunks
    }

    /// What the stream parser reports: documents where they start, and every line start,
    /// whichever parser read each document.
    fn check_stream(src: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let (docs, starts) = parse_stream_with_lines(src);
        proptest::prop_assert_eq!(&starts, &line_starts(src));
        let reference = parse_stream_reference(src);
        proptest::prop_assert_eq!(docs.len(), reference.len());
        for (doc, expected) in docs.iter().zip(&reference) {
            match (doc, expected) {
                (Ok(doc), Ok(expected)) => {
                    proptest::prop_assert_eq!(doc.start_line, expected.start_line);
                    proptest::prop_assert_eq!(&doc.root, &expected.root);
                }
                (Err(err), Err(expected)) => proptest::prop_assert_eq!(err, expected),
                _ => proptest::prop_assert!(false, "{doc:?} vs {expected:?}"),
            }
        }
        Ok(())
    }

    #[test]
    fn splitting_matches_the_line_by_line_definition() {
        for src in [
            "",
            "---",
            "---\n",
            "a\n---",
            "--- # c\r\na: 1\r\n---\r\n",
            "a: 1\n----\n--- x\n---\n\n---\n  ---\nb: |\n  ---\n",
            "\n\n---\n---\n---",
            "é\n---\nü\n--- #\n",
            "a: 1\n---\nb: {c: d,\n  e: f}\n# end\n---\nc: |\n  x\n\n  y\n\n\n---\nd: [1]",
        ] {
            assert_eq!(split_by_separators(src), split_by_lines(src), "{src:?}");
            check_stream(src).unwrap();
        }
        // The last stream is all fast-path documents: their line starts came from the parser.
        let src = "a: 1\n---\nb: {c: d,\n  e: f}\n# end\n---\nc: |\n  x\n\n  y\n\n\n---\nd: [1]";
        assert_eq!(parse_stream_with_stats(src).1.fast, 4);
    }

    proptest::proptest! {
        #[test]
        fn splitting_matches_on_random_streams(src in "(---|--- #|-|\\.\\.\\.| |#|x|é|\n|\r){0,40}") {
            proptest::prop_assert_eq!(split_by_separators(&src), split_by_lines(&src));
            check_stream(&src)?;
        }
    }

    proptest::proptest! {
        /// Long enough to cross many words of `newlines`, with documents the fast parser
        /// takes (and so counts the lines of) between the separators.
        #[test]
        fn line_starts_and_splitting_across_blocks(src in "(---\n|a: b\n|c:\n  - d\n|e: \\{f: g,\n  h: i\\}\n|j: \\|\n  k\n\n|# x\n|\n|xxxxxxxxxxxxxxxxxxxxxxxxxxxx|é|\r){0,200}") {
            let naive: Vec<usize> = std::iter::once(0)
                .chain(src.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            proptest::prop_assert_eq!(line_starts(&src), naive);
            proptest::prop_assert_eq!(split_by_separators(&src), split_by_lines(&src));
            check_stream(&src)?;
        }
    }

    #[test]
    fn positions_are_file_relative_across_documents() {
        let src = "a: 1\n---\n# comment\nkind: Pod\nspec:\n  x: true\n";
        let docs = parse_stream(src);
        assert_eq!(docs.len(), 2);
        let second = docs[1].as_ref().unwrap();
        assert_eq!(second.index, 1);
        let x = second.root.pointer("/spec/x").unwrap();
        assert_eq!(x.pos, Pos { line: 6, column: 6 });
        assert_eq!(x.as_bool(), Some(true));
    }

    #[test]
    fn a_broken_document_does_not_hide_its_neighbours() {
        let src = "kind: A\n---\nkind: [unclosed\n---\nkind: C\n";
        let docs = roots(src);
        assert_eq!(docs.len(), 3);
        assert_eq!(
            docs[0].as_ref().unwrap().get("kind").unwrap().as_str(),
            Some("A")
        );
        let err = docs[1].as_ref().unwrap_err();
        assert!(err.line >= 3, "{err:?}");
        assert_eq!(
            docs[2].as_ref().unwrap().get("kind").unwrap().as_str(),
            Some("C")
        );
    }

    #[test]
    fn quoted_scalars_are_strings_and_plain_ones_resolve() {
        let root = roots("a: \"true\"\nb: yes\nc: 0123\nd: ~\ne: 1.5\n")
            .remove(0)
            .unwrap();
        assert_eq!(root.get("a").unwrap().type_name(), TypeName::String);
        assert_eq!(root.get("a").unwrap().as_bool(), None);
        assert_eq!(root.get("b").unwrap().as_bool(), Some(true));
        assert_eq!(root.get("c").unwrap().as_i64(), Some(123));
        assert_eq!(root.get("c").unwrap().as_str(), Some("0123"));
        assert!(root.get("d").unwrap().is_null());
        assert_eq!(root.get("e").unwrap().type_name(), TypeName::Number);
    }

    #[test]
    fn json_parses_as_yaml() {
        let root = roots("{\"kind\": \"Pod\", \"spec\": {\"hostPID\": true}}")
            .remove(0)
            .unwrap();
        assert_eq!(root.pointer("/spec/hostPID").unwrap().as_bool(), Some(true));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let src = "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n";
        let root = roots(src).remove(0).unwrap();
        assert_eq!(root.pointer("/derived/x").unwrap().as_i64(), Some(1));
        assert_eq!(root.pointer("/derived/y").unwrap().as_i64(), Some(3));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let docs = roots(&src);
        let err = docs[0].as_ref().unwrap_err();
        assert!(err.message.contains("aliases expand"), "{err:?}");
    }

    #[test]
    fn separator_with_comment_and_empty_documents() {
        let docs = roots("---\n--- # two\na: 1\n---\n\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].as_ref().unwrap().pos.line, 3);
    }

    #[test]
    fn json_output_resolves_scalars() {
        let root = roots("a: [1, \"2\", yes, null, x]\n").remove(0).unwrap();
        assert_eq!(root.to_json(), r#"{"a":[1,"2",true,null,"x"]}"#);
    }
}
