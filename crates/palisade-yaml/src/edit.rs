//! RFC 6902 JSON Patch applied to YAML *source text*.
//!
//! `palisade harden` writes the same JSON Patches the admission webhook returns, but a user's
//! manifest is YAML with comments, key order, quoting and blank lines that the user chose.
//! Re-serialising the patched object would lose all of that, so each operation here becomes a
//! small text edit: a replaced scalar keeps the rest of its line, an added key is one new line
//! at the mapping's indentation, a removed key takes exactly its own lines with it.
//!
//! How an operation is applied:
//! 1. It is applied to the document's JSON view (what [`Node::to_json`] gives), with RFC 6902
//!    rules. That decides whether the operation is valid and what the result must mean.
//! 2. The text is located with a span tree built from `saphyr-parser` events (the positioned
//!    [`Node`] tree only has start positions; edits need ends, colons and dashes too), and one
//!    text edit is made, rendering new values in the style of their surroundings: block YAML
//!    inside block collections, flow/JSON inside flow collections and JSON documents.
//! 3. The edited text is parsed again with [`parse_stream`] and must mean exactly the patched
//!    JSON. Anything the editor does not understand (anchors whose aliases would change too,
//!    merge keys, duplicate keys, complex keys) therefore becomes an error, never a wrong file.
//!
//! `add` follows RFC 6902: the parent must exist. Hardening often needs "set this, creating
//! parents as needed"; [`ensure_op`] turns that into one valid `add` against the current JSON,
//! so the patch stays a plain RFC 6902 patch that the webhook can return as it is.

use std::fmt::Write as _;

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::node::{Node, NodeKind, Scalar, TypeName};
use crate::parse::parse_stream;
use crate::pointer::escape_token;

/// One RFC 6902 operation, (de)serialised in the RFC's own form:
/// `{"op": "add", "path": "/spec/x", "value": 1}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum PatchOp {
    Add { path: String, value: Value },
    Remove { path: String },
    Replace { path: String, value: Value },
    Move { from: String, path: String },
    Copy { from: String, path: String },
    Test { path: String, value: Value },
}

impl PatchOp {
    /// The operation's name as RFC 6902 spells it.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            PatchOp::Add { .. } => "add",
            PatchOp::Remove { .. } => "remove",
            PatchOp::Replace { .. } => "replace",
            PatchOp::Move { .. } => "move",
            PatchOp::Copy { .. } => "copy",
            PatchOp::Test { .. } => "test",
        }
    }

    /// The target path.
    #[must_use]
    pub fn path(&self) -> &str {
        match self {
            PatchOp::Add { path, .. }
            | PatchOp::Remove { path }
            | PatchOp::Replace { path, .. }
            | PatchOp::Move { path, .. }
            | PatchOp::Copy { path, .. }
            | PatchOp::Test { path, .. } => path,
        }
    }
}

/// Why a patch could not be applied. Every variant names the operation and path at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The document text is not valid YAML, so there is nothing safe to edit.
    #[error("{line}:{column}: cannot edit a document that does not parse: {message}")]
    Parse {
        line: u32,
        column: u32,
        message: String,
    },
    /// The operation is invalid for this document under RFC 6902 (missing path, failed test…).
    #[error("{op} {path}: {reason}")]
    Patch {
        op: &'static str,
        path: String,
        reason: String,
    },
    /// The operation is valid, but this YAML cannot be edited in place without changing
    /// something else (anchors, merge keys, duplicate keys, unusual layout).
    #[error("{op} {path}: cannot edit the YAML text in place: {reason}")]
    Unsupported {
        op: &'static str,
        path: String,
        reason: String,
    },
    /// An error inside one document of a stream (indices as [`parse_stream`] numbers them).
    #[error("document {index}: {error}")]
    Document { index: usize, error: Box<EditError> },
    #[error("document {index} does not exist: the stream has {count} document(s)")]
    NoSuchDocument { index: usize, count: usize },
}

/// Applies `ops` in order to the text of one YAML (or JSON) document and returns the new text.
///
/// All of the text that the operations do not touch is kept byte for byte. An empty document
/// (only comments or whitespace) has the JSON value `null`: only `add`/`replace` of the whole
/// document (path `""`) apply to it, and the new content is appended after its comments.
///
/// # Errors
/// [`EditError::Parse`] when the text is not YAML, [`EditError::Patch`] when an operation is
/// invalid under RFC 6902, [`EditError::Unsupported`] when it cannot be made as a text edit
/// that means exactly what the patch means.
pub fn apply_patch(doc_src: &str, ops: &[PatchOp]) -> Result<String, EditError> {
    apply_with_eol(doc_src, ops, detect_eol(doc_src).unwrap_or("\n"))
}

/// [`apply_patch`] checking every operation on its own, as it did before operations were
/// batched: the reference that tests compare the batched path with.
///
/// # Errors
/// As [`apply_patch`].
#[doc(hidden)]
pub fn apply_patch_reference(doc_src: &str, ops: &[PatchOp]) -> Result<String, EditError> {
    apply_per_op(doc_src, ops, detect_eol(doc_src).unwrap_or("\n"))
}

/// Applies per-document patches to a multi-document stream.
///
/// Documents are numbered as [`parse_stream`] numbers them (non-empty documents, from 0).
/// Documents without operations, `---` separators and everything between them are kept byte
/// for byte; operations listed under the same index twice are applied in order.
///
/// # Errors
/// As [`apply_patch`], wrapped in [`EditError::Document`]; [`EditError::NoSuchDocument`] for an
/// index the stream does not have.
pub fn apply_patches_to_stream(
    src: &str,
    per_doc: &[(usize, Vec<PatchOp>)],
) -> Result<String, EditError> {
    let eol = detect_eol(src).unwrap_or("\n");
    let wanted = per_doc.iter().map(|(i, _)| *i).max();
    let Some(wanted) = wanted else {
        return Ok(src.to_owned());
    };
    // Map document indices to chunks exactly as `parse_stream` counts them: one per parse
    // result of every non-blank chunk (a chunk may hold several documents for saphyr).
    let mut chunk_of: Vec<(usize, usize, bool)> = Vec::new();
    for (start, end) in split_chunks(src) {
        if chunk_of.len() > wanted {
            break;
        }
        let chunk = &src[start..end];
        if is_blank(chunk) {
            continue;
        }
        let n = documents_in(chunk);
        for _ in 0..n {
            chunk_of.push((start, end, n > 1));
        }
    }
    if wanted >= chunk_of.len() {
        return Err(EditError::NoSuchDocument {
            index: wanted,
            count: chunk_of.len(),
        });
    }
    // Gather the operations per chunk, in chunk order, keeping their order within a chunk.
    let mut jobs: Vec<(usize, usize, usize, Vec<PatchOp>)> = Vec::new();
    for (index, ops) in per_doc {
        let (start, end, shared) = chunk_of[*index];
        if shared {
            return Err(EditError::Document {
                index: *index,
                error: Box::new(EditError::Unsupported {
                    op: "patch",
                    path: String::new(),
                    reason: "the document shares its text with another document (a `---` \
                             line followed by content); split it with a `---` line of its own"
                        .into(),
                }),
            });
        }
        match jobs.iter_mut().find(|j| j.0 == start) {
            Some(job) => job.3.extend(ops.iter().cloned()),
            None => jobs.push((start, end, *index, ops.clone())),
        }
    }
    jobs.sort_by_key(|j| j.0);
    let mut out = String::with_capacity(src.len() + 256);
    let mut copied = 0;
    for (start, end, index, ops) in jobs {
        out.push_str(&src[copied..start]);
        // The document's own line breaks win; the stream's are for a one-line document.
        let chunk = &src[start..end];
        let edited =
            apply_with_eol(chunk, &ops, detect_eol(chunk).unwrap_or(eol)).map_err(|e| {
                EditError::Document {
                    index,
                    error: Box::new(e),
                }
            })?;
        out.push_str(&edited);
        copied = end;
    }
    out.push_str(&src[copied..]);
    Ok(out)
}

/// Returns one RFC 6902 operation that sets `value` at `path` in `doc`, creating missing
/// parents: the first missing key (or a `null`/scalar in the way) gets an `add` whose value
/// nests the rest of the path, e.g. `/spec/securityContext/runAsNonRoot` on a pod without a
/// `securityContext` gives `add /spec/securityContext {"runAsNonRoot": true}`.
///
/// Missing path tokens always create objects, except `-`, which creates a one-item array.
/// An existing array item is replaced.
///
/// # Errors
/// [`EditError::Patch`] when the path is not a JSON pointer or an array index is out of range.
pub fn ensure_op(doc: &Value, path: &str, value: Value) -> Result<PatchOp, EditError> {
    let fail = |reason: String| EditError::Patch {
        op: "add",
        path: path.to_owned(),
        reason,
    };
    let toks = tokens(path).map_err(fail)?;
    let nest = |rest: &[String], value: Value| {
        rest.iter().rev().fold(value, |v, tok| {
            if tok == "-" {
                Value::Array(vec![v])
            } else {
                let mut m = serde_json::Map::new();
                m.insert(tok.clone(), v);
                Value::Object(m)
            }
        })
    };
    let mut cur = doc;
    let mut here = String::new();
    for (i, tok) in toks.iter().enumerate() {
        let last = i + 1 == toks.len();
        let pointer = format!("{here}/{}", escape_token(tok));
        match cur {
            Value::Object(m) => match m.get(tok) {
                Some(next) if !last && (next.is_object() || next.is_array()) => cur = next,
                _ => {
                    return Ok(PatchOp::Add {
                        path: pointer,
                        value: nest(&toks[i + 1..], value),
                    });
                }
            },
            Value::Array(items) => {
                let idx = array_index(tok, items.len(), true).map_err(fail)?;
                match items.get(idx) {
                    Some(next) if !last && (next.is_object() || next.is_array()) => cur = next,
                    Some(_) => {
                        return Ok(PatchOp::Replace {
                            path: pointer,
                            value: nest(&toks[i + 1..], value),
                        });
                    }
                    None => {
                        return Ok(PatchOp::Add {
                            path: pointer,
                            value: nest(&toks[i + 1..], value),
                        });
                    }
                }
            }
            _ => {
                // Only the root can be a scalar here: replace it with the whole nested value.
                return Ok(PatchOp::Replace {
                    path: String::new(),
                    value: nest(&toks, value),
                });
            }
        }
        here = pointer;
    }
    Ok(PatchOp::Replace {
        path: path.to_owned(),
        value,
    })
}

// ---------------------------------------------------------------------------------------------
// The JSON side: RFC 6902 semantics.

/// A text-level operation; `move`, `copy` and `test` are expressed with these.
enum Prim {
    Add(Vec<String>, Value),
    Replace(Vec<String>, Value),
    Remove(Vec<String>),
}

fn tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| "a JSON pointer must be empty or start with '/'".to_owned())?;
    rest.split('/')
        .map(|raw| {
            let mut out = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => {
                            return Err(format!(
                                "invalid escape in token {raw:?} (only ~0 and ~1 exist)"
                            ));
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            Ok(out)
        })
        .collect()
}

/// An array index token: digits without leading zeros, or `-` (one past the end) when allowed.
fn array_index(tok: &str, len: usize, allow_end: bool) -> Result<usize, String> {
    if tok == "-" {
        return if allow_end {
            Ok(len)
        } else {
            Err("'-' (past the end of the array) names no item".into())
        };
    }
    let valid = !tok.is_empty()
        && tok.bytes().all(|b| b.is_ascii_digit())
        && (tok == "0" || !tok.starts_with('0'));
    let idx = tok
        .parse::<usize>()
        .ok()
        .filter(|_| valid)
        .ok_or_else(|| format!("{tok:?} is not an array index"))?;
    let max = if allow_end {
        len
    } else {
        len.saturating_sub(1)
    };
    if idx > max || (!allow_end && len == 0) {
        return Err(format!(
            "index {idx} is out of range: the array has {len} item(s)"
        ));
    }
    Ok(idx)
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn json_get<'v>(mut v: &'v Value, toks: &[String]) -> Result<&'v Value, String> {
    for (i, tok) in toks.iter().enumerate() {
        v = match v {
            Value::Object(m) => m
                .get(tok)
                .ok_or_else(|| format!("no key {tok:?} at {}", join(&toks[..i])))?,
            Value::Array(a) => &a[array_index(tok, a.len(), false)?],
            other => {
                return Err(format!(
                    "{} is {}, not a container",
                    join(&toks[..i]),
                    kind_name(other)
                ));
            }
        };
    }
    Ok(v)
}

fn json_get_mut<'v>(mut v: &'v mut Value, toks: &[String]) -> Result<&'v mut Value, String> {
    for (i, tok) in toks.iter().enumerate() {
        v = match v {
            Value::Object(m) => m
                .get_mut(tok)
                .ok_or_else(|| format!("no key {tok:?} at {}", join(&toks[..i])))?,
            Value::Array(a) => {
                let idx = array_index(tok, a.len(), false)?;
                &mut a[idx]
            }
            other => {
                return Err(format!(
                    "{} is {}, not a container",
                    join(&toks[..i]),
                    kind_name(other)
                ));
            }
        };
    }
    Ok(v)
}

fn join(toks: &[String]) -> String {
    if toks.is_empty() {
        return "the document root".into();
    }
    toks.iter().fold(String::new(), |mut s, t| {
        s.push('/');
        s.push_str(&escape_token(t));
        s
    })
}

fn json_add(doc: &mut Value, toks: &[String], value: Value) -> Result<(), String> {
    let Some((last, parent)) = toks.split_last() else {
        *doc = value;
        return Ok(());
    };
    match json_get_mut(doc, parent).map_err(|e| format!("the parent does not exist: {e}"))? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            let idx = array_index(last, a.len(), true)?;
            a.insert(idx, value);
            Ok(())
        }
        other => Err(format!(
            "the parent {} is {}, not an object or array",
            join(parent),
            kind_name(other)
        )),
    }
}

fn json_remove(doc: &mut Value, toks: &[String]) -> Result<Value, String> {
    let Some((last, parent)) = toks.split_last() else {
        return Err("the whole document cannot be removed".into());
    };
    match json_get_mut(doc, parent)? {
        Value::Object(m) => m
            .remove(last)
            .ok_or_else(|| format!("no key {last:?} at {}", join(parent))),
        Value::Array(a) => {
            let idx = array_index(last, a.len(), false)?;
            Ok(a.remove(idx))
        }
        other => Err(format!(
            "{} is {}, not a container",
            join(parent),
            kind_name(other)
        )),
    }
}

/// Applies `op` to the JSON view and returns the text operations that do the same.
fn apply_json(doc: &mut Value, op: &PatchOp) -> Result<Vec<Prim>, String> {
    Ok(match op {
        PatchOp::Add { path, value } => {
            let toks = tokens(path)?;
            json_add(doc, &toks, value.clone())?;
            vec![Prim::Add(toks, value.clone())]
        }
        PatchOp::Replace { path, value } => {
            let toks = tokens(path)?;
            *json_get_mut(doc, &toks)? = value.clone();
            vec![Prim::Replace(toks, value.clone())]
        }
        PatchOp::Remove { path } => {
            let toks = tokens(path)?;
            json_remove(doc, &toks)?;
            vec![Prim::Remove(toks)]
        }
        PatchOp::Test { path, value } => {
            let toks = tokens(path)?;
            if !json_eq(json_get(doc, &toks)?, value) {
                return Err("test failed: the value differs".into());
            }
            Vec::new()
        }
        PatchOp::Copy { from, path } => {
            let value = json_get(doc, &tokens(from)?)
                .map_err(|e| format!("from {from}: {e}"))?
                .clone();
            let toks = tokens(path)?;
            json_add(doc, &toks, value.clone())?;
            vec![Prim::Add(toks, value)]
        }
        PatchOp::Move { from, path } => {
            let from_toks = tokens(from)?;
            let toks = tokens(path)?;
            if from_toks == toks {
                json_get(doc, &toks)?;
                return Ok(Vec::new());
            }
            if toks.starts_with(&from_toks) {
                return Err(format!("cannot move {from} into one of its own children"));
            }
            let value = json_remove(doc, &from_toks).map_err(|e| format!("from {from}: {e}"))?;
            json_add(doc, &toks, value.clone())?;
            vec![Prim::Remove(from_toks), Prim::Add(toks, value)]
        }
    })
}

/// JSON equality with numbers compared by value (`1` equals `1.0`), as RFC 6902 `test` wants
/// and as YAML resolution needs (`1.0` in YAML comes back as `1`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// The JSON meaning of one document's text (`null` when it has no content).
fn json_of_text(src: &str) -> Result<Value, EditError> {
    let docs = parse_stream(src);
    match docs.as_slice() {
        [] => Ok(Value::Null),
        [Ok(doc)] => json_of_node(&doc.root),
        [Err(e), ..] => Err(EditError::Parse {
            line: e.line,
            column: e.column,
            message: e.message.clone(),
        }),
        _ => Err(EditError::Unsupported {
            op: "patch",
            path: String::new(),
            reason: "the text holds more than one document; use apply_patches_to_stream".into(),
        }),
    }
}

/// The JSON meaning of a parsed document: built directly, or through the text form where the
/// direct conversion declines (so errors read as they always did).
fn json_of_node(node: &crate::Node<'_>) -> Result<Value, EditError> {
    if let Some(v) = node.to_json_value() {
        return Ok(v);
    }
    serde_json::from_str(&node.to_json()).map_err(|e| EditError::Unsupported {
        op: "patch",
        path: String::new(),
        reason: format!("the document's JSON form cannot be read back: {e}"),
    })
}

fn apply_with_eol(src: &str, ops: &[PatchOp], eol: &'static str) -> Result<String, EditError> {
    let original = json_of_text(src)?;
    apply_to_meaning(src, original, ops, eol)
}

/// Applies `ops` to `src`, whose JSON meaning is `original`.
///
/// The batched path makes every edit and checks the final text once; when it cannot (an
/// error anywhere, an edit it cannot plan, or a final text that means something else) the
/// per-operation path runs from the start, so errors and their wording are exactly those of
/// checking every operation.
fn apply_to_meaning(
    src: &str,
    original: Value,
    ops: &[PatchOp],
    eol: &'static str,
) -> Result<String, EditError> {
    if let Some(text) = apply_batched(src, original, ops, eol) {
        return Ok(text);
    }
    apply_per_op(src, ops, eol)
}

/// All operations, then one check that the text means exactly the patched JSON. Every edit
/// is planned on the text as the edits before it left it, exactly as the per-operation path
/// does, so the two give the same text whenever both succeed.
fn apply_batched(
    src: &str,
    mut expected: Value,
    ops: &[PatchOp],
    eol: &'static str,
) -> Option<String> {
    let mut prims = Vec::with_capacity(ops.len());
    for op in ops {
        prims.extend(apply_json(&mut expected, op).ok()?);
    }
    if prims.is_empty() {
        return Some(src.to_owned());
    }
    let mut text = src.to_owned();
    let mut done = 0;
    while done < prims.len() {
        let (edits, n) = plan_round(&text, &prims[done..], eol)?;
        text = splice(&text, edits)?;
        done += n;
    }
    let got = json_of_text(&text).ok()?;
    json_eq(&got, &expected).then_some(text)
}

/// Makes edits planned on the same text. Edits at one position (new keys for one mapping)
/// go in their given order; edits that overlap give `None`.
fn splice(src: &str, edits: Vec<Edit>) -> Option<String> {
    let mut order: Vec<usize> = (0..edits.len()).collect();
    order.sort_by_key(|&i| (edits[i].start, i));
    let mut out =
        String::with_capacity(src.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut copied = 0;
    let mut prev: Option<&Edit> = None;
    for i in order {
        let e = &edits[i];
        let inserts_at = |x: &Edit, at: usize| x.start == at && x.end == at;
        let apart = prev
            .is_none_or(|p| p.end < e.start || (inserts_at(p, e.start) && inserts_at(e, e.start)));
        if !apart || e.end < e.start {
            return None;
        }
        out.push_str(src.get(copied..e.start)?);
        out.push_str(&e.text);
        copied = e.end;
        prev = Some(e);
    }
    out.push_str(src.get(copied..)?);
    Some(out)
}

/// The reference path: every operation is checked on its own, so an error names the
/// operation that went wrong.
fn apply_per_op(src: &str, ops: &[PatchOp], eol: &'static str) -> Result<String, EditError> {
    let mut expected = json_of_text(src)?;
    let mut text = src.to_owned();
    for op in ops {
        let prims = apply_json(&mut expected, op).map_err(|reason| EditError::Patch {
            op: op.name(),
            path: op.path().to_owned(),
            reason,
        })?;
        if prims.is_empty() {
            continue;
        }
        let unsupported = |reason: String| EditError::Unsupported {
            op: op.name(),
            path: op.path().to_owned(),
            reason,
        };
        for prim in &prims {
            let edit = plan(&text, prim, eol).map_err(unsupported)?;
            text.replace_range(edit.start..edit.end, &edit.text);
        }
        // The safety net: the new text must mean exactly the patched JSON. Checked per
        // operation so that the error names the operation that went wrong.
        let got = json_of_text(&text)
            .map_err(|e| unsupported(format!("the edited text does not parse ({e})")))?;
        if !json_eq(&got, &expected) {
            return Err(unsupported(
                "the edit would also change other values (anchors and aliases, merge keys, \
                 duplicate keys or block scalars kept with `+`)"
                    .into(),
            ));
        }
    }
    Ok(text)
}

// ---------------------------------------------------------------------------------------------
// Splitting a stream, as `parse_stream` does (kept here so that this module does not depend on
// the parser's internals, which are being optimised separately).

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

/// Byte ranges of the `---`-separated chunks, separators excluded.
fn split_chunks(src: &str) -> Vec<(usize, usize)> {
    let mut chunks = Vec::new();
    let (mut start, mut offset) = (0usize, 0usize);
    for line in src.split_inclusive('\n') {
        if line.starts_with("---") && is_separator(line.trim_end_matches(['\n', '\r'])) {
            chunks.push((start, offset));
            start = offset + line.len();
        }
        offset += line.len();
    }
    chunks.push((start, src.len()));
    chunks
}

/// How many results `parse_stream` gives for a non-blank chunk. Without document markers,
/// directives or a BOM, saphyr sees exactly one document (or one error), so only chunks with
/// those are parsed to count: counting was a full parse of every document.
fn documents_in(chunk: &str) -> usize {
    let markers = chunk.contains('\u{feff}')
        || chunk
            .split('\n')
            .any(|l| l.starts_with("---") || l.starts_with("...") || l.starts_with('%'));
    if markers {
        parse_stream(chunk).len()
    } else {
        1
    }
}

fn detect_eol(src: &str) -> Option<&'static str> {
    let nl = src.find('\n')?;
    Some(if src[..nl].ends_with('\r') {
        "\r\n"
    } else {
        "\n"
    })
}

// ---------------------------------------------------------------------------------------------
// The span tree.

/// Where a node sits in its parent: what text an edit of the whole value may replace.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Root,
    /// A mapping value; `colon_end` is the byte after the `:` (None if there is no colon).
    MapValue {
        colon_end: Option<usize>,
        key_col: usize,
        flow: bool,
    },
    /// A sequence item; `dash` is the byte of its `-` in block sequences.
    SeqItem {
        dash: Option<usize>,
        flow: bool,
    },
}

impl Slot {
    fn in_flow(self) -> bool {
        matches!(
            self,
            Slot::MapValue { flow: true, .. } | Slot::SeqItem { flow: true, .. }
        )
    }
}

#[derive(Debug, PartialEq)]
struct SNode {
    /// First byte of the node, properties (`&anchor`, `!tag`) included; for block scalars the
    /// `|`/`>` indicator; for block sequences the first `-`.
    start: usize,
    /// One past the last byte of content (trailing blank lines of block scalars excluded).
    end: usize,
    kind: SKind,
    slot: Slot,
}

#[derive(Debug, PartialEq)]
enum SKind {
    Scalar {
        style: ScalarStyle,
    },
    /// `open` is the byte of `{` for flow mappings.
    Map {
        open: Option<usize>,
        entries: Vec<SEntry>,
        merge: bool,
    },
    Seq {
        open: Option<usize>,
        items: Vec<SNode>,
    },
    Alias,
}

#[derive(Debug, PartialEq)]
struct SEntry {
    key: String,
    key_start: usize,
    value: SNode,
}

enum Frame {
    Map {
        start: usize,
        open: Option<usize>,
        slot: Slot,
        entries: Vec<SEntry>,
        key: Option<(String, usize)>,
        merge: bool,
    },
    Seq {
        start: usize,
        open: Option<usize>,
        slot: Slot,
        items: Vec<SNode>,
    },
}

/// Nesting deeper than this is not a manifest; refusing it keeps every recursion bounded.
const MAX_DEPTH: usize = 256;

struct Builder<'s> {
    src: &'s str,
    cursor: usize,
    stack: Vec<Frame>,
    root: Option<SNode>,
}

impl Builder<'_> {
    /// Consumes the `:` or `-` that introduces the next value and says where the value sits.
    fn enter_slot(&mut self) -> Slot {
        let src = self.src;
        match self.stack.last() {
            None => Slot::Root,
            Some(Frame::Map { key, open, .. }) => {
                let key_col = key.as_ref().map_or(0, |(_, s)| column(src, *s));
                let p = skip_trivia(src, self.cursor);
                let colon_end = if src[p..].starts_with(':') {
                    self.cursor = p + 1;
                    Some(p + 1)
                } else {
                    None
                };
                Slot::MapValue {
                    colon_end,
                    key_col,
                    flow: open.is_some(),
                }
            }
            Some(Frame::Seq { open: None, .. }) => {
                let p = skip_trivia(src, self.cursor);
                let dash = if src[p..].starts_with('-') {
                    self.cursor = p + 1;
                    Some(p)
                } else {
                    None
                };
                Slot::SeqItem { dash, flow: false }
            }
            Some(Frame::Seq { open: Some(_), .. }) => Slot::SeqItem {
                dash: None,
                flow: true,
            },
        }
    }

    fn awaiting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn finish(&mut self, node: SNode) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => {
                let (key, key_start) = key.take().unwrap_or_default();
                entries.push(SEntry {
                    key,
                    key_start,
                    value: node,
                });
            }
        }
    }
}

fn unsupported_layout(what: &str) -> EditError {
    EditError::Unsupported {
        op: "patch",
        path: String::new(),
        reason: what.to_owned(),
    }
}

/// What the span tree needs of a parser event. Both the saphyr adapter and the fast lexer
/// ([`fast_events`]) produce these, with byte offsets, so one builder serves both.
#[derive(Debug, PartialEq)]
enum Ev<'s> {
    DocumentStart,
    Scalar(std::borrow::Cow<'s, str>, ScalarStyle),
    MappingStart,
    SequenceStart,
    /// The end of a mapping or sequence.
    End,
    Alias,
}

/// One event with the byte range saphyr gives it.
type Spanned<'s> = (Ev<'s>, usize, usize);

/// Builds the span tree of one document (`None` when it has no content).
///
/// The fast lexer handles the block YAML manifests are made of; anything else goes to saphyr.
fn build(src: &str) -> Result<Option<SNode>, EditError> {
    let root = match fast_events(src) {
        Some(events) => build_from(src, events.into_iter().map(Ok))?,
        None => build_saphyr(src)?,
    };
    // Every edit slices the text at these spans; saphyr's marks for some odd input (an
    // anchor named `-` on a block sequence after a CRLF) run backwards. Refuse such a tree
    // rather than slice with it.
    if root.as_ref().is_some_and(|r| !spans_fit(r, src)) {
        return Err(unsupported_layout(
            "the parser reported positions outside the text or out of order",
        ));
    }
    Ok(root)
}

/// Whether every span of the tree lies inside `src`, starts before it ends and falls on
/// character boundaries.
fn spans_fit(node: &SNode, src: &str) -> bool {
    let fits = |start: usize, end: usize| {
        start <= end && src.is_char_boundary(start) && src.is_char_boundary(end)
    };
    fits(node.start, node.end)
        && match &node.kind {
            SKind::Scalar { .. } | SKind::Alias => true,
            SKind::Seq { open, items } => {
                open.is_none_or(|o| fits(o, o)) && items.iter().all(|i| spans_fit(i, src))
            }
            SKind::Map { open, entries, .. } => {
                open.is_none_or(|o| fits(o, o))
                    && entries
                        .iter()
                        .all(|e| fits(e.key_start, e.key_start) && spans_fit(&e.value, src))
            }
        }
}

/// Whether the fast lexer, where it answers, builds the same span tree as saphyr. For tests.
#[doc(hidden)]
#[must_use]
pub fn fast_spans_agree(src: &str) -> bool {
    match fast_events(src) {
        None => true,
        Some(events) => build_from(src, events.into_iter().map(Ok)).ok() == build_saphyr(src).ok(),
    }
}

/// Whether the fast lexer handles `src` (for tests that must exercise it).
#[doc(hidden)]
#[must_use]
pub fn fast_spans_handle(src: &str) -> bool {
    fast_events(src).is_some()
}

/// [`build`] with saphyr's events only: the reference the fast lexer is tested against.
fn build_saphyr(src: &str) -> Result<Option<SNode>, EditError> {
    // Byte offset of every char index (saphyr counts characters); `None` for ASCII text.
    let offsets = (!src.is_ascii()).then(|| {
        let mut v: Vec<usize> = src.char_indices().map(|(i, _)| i).collect();
        v.push(src.len());
        v
    });
    let byte = |char_index: usize| match &offsets {
        None => char_index.min(src.len()),
        Some(offsets) => offsets.get(char_index).copied().unwrap_or(src.len()),
    };
    let events = Parser::new_from_str(src).filter_map(|event| {
        let (event, span) = match event {
            Ok(ev) => ev,
            Err(e) => {
                return Some(Err(EditError::Parse {
                    line: u32::try_from(e.marker().line()).unwrap_or(u32::MAX),
                    column: u32::try_from(e.marker().col() + 1).unwrap_or(u32::MAX),
                    message: format!("invalid YAML: {}", e.info()),
                }));
            }
        };
        let ev = match event {
            Event::DocumentStart(_) => Ev::DocumentStart,
            Event::Scalar(text, style, _, _) => Ev::Scalar(text, style),
            Event::MappingStart(..) => Ev::MappingStart,
            Event::SequenceStart(..) => Ev::SequenceStart,
            Event::MappingEnd | Event::SequenceEnd => Ev::End,
            Event::Alias(_) => Ev::Alias,
            _ => return None,
        };
        Some(Ok((ev, byte(span.start.index()), byte(span.end.index()))))
    });
    build_from(src, events)
}

fn build_from<'s>(
    src: &str,
    events: impl Iterator<Item = Result<Spanned<'s>, EditError>>,
) -> Result<Option<SNode>, EditError> {
    let mut b = Builder {
        src,
        cursor: 0,
        stack: Vec::new(),
        root: None,
    };
    let mut documents = 0;
    for event in events {
        let (event, s, e) = event?;
        match event {
            Ev::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(unsupported_layout("the text holds more than one document"));
                }
            }
            Ev::Scalar(text, style) => {
                if b.awaiting_key() {
                    if let Some(Frame::Map { key, merge, .. }) = b.stack.last_mut() {
                        *merge |= style == ScalarStyle::Plain && text == "<<";
                        *key = Some((text.into_owned(), s));
                    }
                    b.cursor = e.max(b.cursor);
                    continue;
                }
                let slot = b.enter_slot();
                let (start, end) = match style {
                    ScalarStyle::Literal | ScalarStyle::Folded => {
                        // saphyr's span starts at the content; the node starts at `|`/`>`.
                        let ind =
                            find_indicator(src, b.cursor, s.max(b.cursor)).ok_or_else(|| {
                                unsupported_layout("a block scalar without indicator")
                            })?;
                        let header_end = ind
                            + 1
                            + src[ind + 1..]
                                .bytes()
                                .take_while(|c| matches!(c, b'+' | b'-' | b'0'..=b'9'))
                                .count();
                        // The span runs into the next line's indentation; content ends earlier,
                        // except that `+` (keep) makes the trailing blank lines content too:
                        // then it ends before the last line break the span covers.
                        let end = if src[ind..header_end].contains('+') {
                            let ls = line_start(src, e);
                            let last_break = if ls > 0 && src.as_bytes()[ls - 1] == b'\n' {
                                ls - 1
                            } else {
                                ls
                            };
                            if last_break > 0 && src.as_bytes()[last_break - 1] == b'\r' {
                                last_break - 1
                            } else {
                                last_break
                            }
                        } else {
                            trim_back(src, e)
                        };
                        (ind, end.max(trim_back(src, e)).max(header_end))
                    }
                    ScalarStyle::Plain if text.is_empty() && s == e => (b.cursor, b.cursor),
                    // saphyr's span of a quoted scalar can run on over a trailing comment.
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                        let end = quoted_end(src, s, style == ScalarStyle::SingleQuoted)
                            .ok_or_else(|| {
                                unsupported_layout("a quoted scalar without its quotes")
                            })?;
                        (s, end)
                    }
                    _ => (s, e),
                };
                b.cursor = end.max(b.cursor);
                b.finish(SNode {
                    start,
                    end,
                    kind: SKind::Scalar { style },
                    slot,
                });
            }
            Ev::MappingStart | Ev::SequenceStart => {
                if b.awaiting_key() {
                    return Err(unsupported_layout("a mapping key that is a collection"));
                }
                if b.stack.len() >= MAX_DEPTH {
                    return Err(unsupported_layout("nesting deeper than 256 levels"));
                }
                let slot = b.enter_slot();
                // The bracket of a flow collection is in its start mark, which saphyr runs on
                // over the spaces after it (`{ ` for `{ }` and `{ a: 1 }`); block collections
                // have no bracket there.
                let open = src
                    .as_bytes()
                    .get(s..e)
                    .and_then(|mark| mark.iter().rposition(|c| matches!(c, b'{' | b'[')))
                    .map(|i| s + i);
                if open.is_some() {
                    b.cursor = e;
                }
                b.stack.push(if matches!(event, Ev::MappingStart) {
                    Frame::Map {
                        start: s,
                        open,
                        slot,
                        entries: Vec::new(),
                        key: None,
                        merge: false,
                    }
                } else {
                    Frame::Seq {
                        start: s,
                        open,
                        slot,
                        items: Vec::new(),
                    }
                });
            }
            Ev::End => {
                let Some(frame) = b.stack.pop() else {
                    continue;
                };
                let (start, open, slot) = match &frame {
                    Frame::Map {
                        start, open, slot, ..
                    }
                    | Frame::Seq {
                        start, open, slot, ..
                    } => (*start, *open, *slot),
                };
                let end = if open.is_some() {
                    if !matches!(src.as_bytes().get(s), Some(b'}' | b']')) {
                        return Err(unsupported_layout("a flow collection without its bracket"));
                    }
                    s + 1
                } else {
                    let last_end = match &frame {
                        Frame::Map { entries, .. } => entries.last().map(|e| e.value.end),
                        Frame::Seq { items, .. } => items.last().map(|i| i.end),
                    };
                    last_end.unwrap_or(start)
                };
                b.cursor = end.max(b.cursor);
                let node = match frame {
                    Frame::Map { entries, merge, .. } => SNode {
                        start,
                        end,
                        kind: SKind::Map {
                            open,
                            entries,
                            merge,
                        },
                        slot,
                    },
                    Frame::Seq { items, .. } => {
                        let first_dash = items.first().and_then(|i| match i.slot {
                            Slot::SeqItem { dash, .. } => dash,
                            _ => None,
                        });
                        SNode {
                            start: first_dash.map_or(start, |d| d.min(start)),
                            end,
                            kind: SKind::Seq { open, items },
                            slot,
                        }
                    }
                };
                b.finish(node);
            }
            Ev::Alias => {
                if b.awaiting_key() {
                    return Err(unsupported_layout("an alias used as a mapping key"));
                }
                let slot = b.enter_slot();
                b.cursor = e.max(b.cursor);
                b.finish(SNode {
                    start: s,
                    end: e,
                    kind: SKind::Alias,
                    slot,
                });
            }
        }
    }
    Ok(b.root)
}

// ---------------------------------------------------------------------------------------------
// The fast lexer.
//
// saphyr-parser cost most of an edit: the span tree is built again after every text edit, and
// saphyr is general and slow. Manifests use a small part of YAML (block mappings and
// sequences, one-line scalars, literal/folded blocks, small flow collections), and for that
// part this lexer produces the events saphyr would, with the spans the builder reads.
// It is timid in the same way as the fast parser: anything outside that part (anchors, tags,
// multi-line plain scalars, tabs, CR, directives, odd indentation, anything it is unsure is
// even valid) returns `None` and saphyr builds the tree, errors included. A test checks that
// the trees are equal wherever the lexer answers.

/// Collections nested deeper than this go to saphyr (which enforces the real limit).
const MAX_FAST_DEPTH: usize = 64;

/// saphyr forgets a simple key after 1024 characters; longer keys are left to it.
const MAX_FAST_KEY: usize = 1000;

struct Lex<'s> {
    src: &'s str,
    b: &'s [u8],
    out: Vec<Spanned<'s>>,
    depth: usize,
}

/// The events of `src` for the builder, or `None` to let saphyr decide.
fn fast_events(src: &str) -> Option<Vec<Spanned<'_>>> {
    let b = src.as_bytes();
    // Tabs, CR, control characters and BOMs have subtle rules; `---`, `...` and `%` lines
    // are document markers and directives.
    let odd_byte = b.iter().any(|&c| (c < 0x20 && c != b'\n') || c == 0x7f);
    if odd_byte || src.contains('\u{feff}') {
        return None;
    }
    let mut at = 0;
    while at < b.len() {
        let line = &b[at..];
        if line.starts_with(b"---") || line.starts_with(b"...") || line.starts_with(b"%") {
            return None;
        }
        at = next_line(src, at);
    }
    let mut lx = Lex {
        src,
        b,
        out: Vec::with_capacity(src.len() / 8),
        depth: 0,
    };
    let Some(p) = lx.content(0) else {
        return Some(Vec::new());
    };
    // A block scalar as the whole document (`>` or `|` at the root) is never a manifest, and
    // saphyr spans its empty forms in ways not worth copying.
    if matches!(b.get(p), Some(b'>' | b'|')) {
        return None;
    }
    lx.out.push((Ev::DocumentStart, 0, 0));
    let next = lx.node(p, -1)?;
    // Anything left over (a second root node, a less indented line) is not for us.
    lx.content(next).is_none().then_some(lx.out)
}

/// YAML's indicator characters (YAML 1.2 §5.3), shared with the fast parser.
pub(crate) fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

impl<'s> Lex<'s> {
    fn at(&self, p: usize) -> u8 {
        self.b.get(p).copied().unwrap_or(b'\n')
    }

    /// Column of `p`, whose line holds only ASCII before it (indentation, `- `).
    fn col(&self, p: usize) -> isize {
        isize::try_from(p - line_start(self.src, p)).unwrap_or(isize::MAX)
    }

    fn skip_spaces(&self, mut p: usize) -> usize {
        while self.b.get(p) == Some(&b' ') {
            p += 1;
        }
        p
    }

    /// From the line starting at `line`: the first byte of the first line that is neither
    /// blank nor a comment, or `None` at the end of the text.
    fn content(&self, mut line: usize) -> Option<usize> {
        while line < self.b.len() {
            let p = self.skip_spaces(line);
            match self.b.get(p) {
                None => return None,
                Some(b'\n' | b'#') => line = next_line(self.src, p),
                Some(_) => return Some(p),
            }
        }
        None
    }

    /// After a value: spaces and maybe a comment until the line break. Returns the next
    /// line's start.
    fn end_of_line(&self, p: usize) -> Option<usize> {
        let q = self.skip_spaces(p);
        match self.b.get(q) {
            None => Some(q),
            Some(b'\n') => Some(q + 1),
            Some(b'#') if q > p || self.b.get(q.wrapping_sub(1)) == Some(&b' ') => {
                Some(next_line(self.src, q))
            }
            Some(_) => None,
        }
    }

    /// Whether a plain scalar may start at `p`: no indicator, except `-`, `?` and `:` followed
    /// by something other than a space.
    fn plain_start(&self, p: usize) -> bool {
        match self.at(p) {
            b'-' | b'?' | b':' => !matches!(self.at(p + 1), b' ' | b'\n' | b',' | b']' | b'}'),
            c => !is_indicator(c) && c != b'\n',
        }
    }

    fn is_dash(&self, p: usize) -> bool {
        self.at(p) == b'-' && matches!(self.at(p + 1), b' ' | b'\n')
    }

    /// A block mapping key starting at `p`: `(key, style, start, end, colon)`.
    fn key(
        &self,
        p: usize,
    ) -> Option<(std::borrow::Cow<'s, str>, ScalarStyle, usize, usize, usize)> {
        let (key, style, end) = match self.at(p) {
            q @ (b'"' | b'\'') => self.quoted_key(p, q == b'\'')?,
            c if is_indicator(c) => return None,
            _ => {
                let mut i = p;
                loop {
                    match self.at(i) {
                        b'\n' => return None,
                        b':' if matches!(self.at(i + 1), b' ' | b'\n') => break,
                        b'#' if self.b[i - 1] == b' ' => return None,
                        _ => i += 1,
                    }
                }
                let end = p + self.src[p..i].trim_end_matches(' ').len();
                let key = &self.src[p..end];
                if key == "<<" {
                    return None;
                }
                (key.into(), ScalarStyle::Plain, end)
            }
        };
        if end - p > MAX_FAST_KEY {
            return None;
        }
        let colon = self.skip_spaces(end);
        (self.at(colon) == b':' && matches!(self.at(colon + 1), b' ' | b'\n'))
            .then_some((key, style, p, end, colon))
    }

    /// A quoted key on one line without escapes: `(key, style, end)`.
    fn quoted_key(
        &self,
        p: usize,
        single: bool,
    ) -> Option<(std::borrow::Cow<'s, str>, ScalarStyle, usize)> {
        let end = quoted_end(self.src, p, single)?;
        let raw = &self.src[p + 1..end - 1];
        if raw.contains(['\n', '\\']) {
            return None;
        }
        Some(if single {
            let key = if raw.contains('\'') {
                raw.replace("''", "'").into()
            } else {
                raw.into()
            };
            (key, ScalarStyle::SingleQuoted, end)
        } else {
            (raw.into(), ScalarStyle::DoubleQuoted, end)
        })
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_FAST_DEPTH).then_some(())
    }

    /// The node whose first token is at `p`, inside a parent indented `parent`; returns the
    /// start of the line after it.
    fn node(&mut self, p: usize, parent: isize) -> Option<usize> {
        if self.is_dash(p) {
            self.block_seq(p)
        } else if self.key(p).is_some() {
            self.block_map(p)
        } else {
            self.inline(p, parent)
        }
    }

    fn block_map(&mut self, first: usize) -> Option<usize> {
        self.enter()?;
        let col = self.col(first);
        self.out.push((Ev::MappingStart, first, first));
        let mut p = first;
        let next = loop {
            let (key, style, ks, ke, colon) = self.key(p)?;
            self.out.push((Ev::Scalar(key, style), ks, ke));
            let next = self.map_value(colon + 1, col)?;
            match self.content(next) {
                Some(q) if self.col(q) == col => p = q,
                Some(q) if self.col(q) > col => return None,
                _ => break next,
            }
        };
        self.out.push((Ev::End, next, next));
        self.depth -= 1;
        Some(next)
    }

    fn map_value(&mut self, after: usize, key_col: isize) -> Option<usize> {
        let p = self.skip_spaces(after);
        if matches!(self.at(p), b'\n' | b'#') {
            let nl = self.end_of_line(p)?;
            return match self.content(nl) {
                Some(q) if self.col(q) > key_col => self.node(q, key_col),
                Some(q) if self.col(q) == key_col && self.is_dash(q) => self.block_seq(q),
                _ => {
                    self.out
                        .push((Ev::Scalar("".into(), ScalarStyle::Plain), after, after));
                    Some(nl)
                }
            };
        }
        if self.is_dash(p) {
            return None;
        }
        self.inline(p, key_col)
    }

    fn block_seq(&mut self, first: usize) -> Option<usize> {
        self.enter()?;
        let col = self.col(first);
        self.out.push((Ev::SequenceStart, first, first));
        let mut p = first;
        let next = loop {
            let next = self.seq_item(p + 1, col)?;
            match self.content(next) {
                Some(q) if self.col(q) == col && self.is_dash(q) => p = q,
                Some(q) if self.col(q) > col => return None,
                _ => break next,
            }
        };
        self.out.push((Ev::End, next, next));
        self.depth -= 1;
        Some(next)
    }

    fn seq_item(&mut self, after: usize, dash_col: isize) -> Option<usize> {
        let p = self.skip_spaces(after);
        if matches!(self.at(p), b'\n' | b'#') {
            let nl = self.end_of_line(p)?;
            return match self.content(nl) {
                Some(q) if self.col(q) > dash_col => self.node(q, dash_col),
                _ => {
                    self.out
                        .push((Ev::Scalar("".into(), ScalarStyle::Plain), after, after));
                    Some(nl)
                }
            };
        }
        self.node(p, dash_col)
    }

    /// A scalar or flow collection starting at `p`; what follows on its line must be a comment.
    fn inline(&mut self, p: usize, parent: isize) -> Option<usize> {
        let next = match self.at(p) {
            b'|' | b'>' => return self.block_scalar(p, parent),
            q @ (b'"' | b'\'') => {
                let end = quoted_end(self.src, p, q == b'\'')?;
                let raw = &self.src[p..end];
                if raw.contains('\n') {
                    return None;
                }
                let style = if q == b'"' {
                    ScalarStyle::DoubleQuoted
                } else {
                    ScalarStyle::SingleQuoted
                };
                self.out.push((Ev::Scalar(raw.into(), style), p, end));
                self.end_of_line(end)?
            }
            b'{' | b'[' => {
                let end = self.flow(p, parent)?;
                self.end_of_line(end)?
            }
            _ if !self.plain_start(p) => return None,
            _ => {
                let mut i = p;
                loop {
                    match self.at(i) {
                        b'\n' => break,
                        b'#' if self.b[i - 1] == b' ' => break,
                        b':' if matches!(self.at(i + 1), b' ' | b'\n') => return None,
                        _ => i += 1,
                    }
                }
                let end = p + self.src[p..i].trim_end_matches(' ').len();
                self.out.push((
                    Ev::Scalar(self.src[p..end].into(), ScalarStyle::Plain),
                    p,
                    end,
                ));
                self.end_of_line(end)?
            }
        };
        // A more indented line after a one-line scalar would continue it (or be an error).
        match self.content(next) {
            Some(q) if self.col(q) > parent => None,
            _ => Some(next),
        }
    }

    /// A `|` or `>` block scalar whose indicator is at `p`.
    fn block_scalar(&mut self, p: usize, parent: isize) -> Option<usize> {
        let style = if self.at(p) == b'|' {
            ScalarStyle::Literal
        } else {
            ScalarStyle::Folded
        };
        // Only clip and strip chomping, and automatic indentation.
        let h = if self.at(p + 1) == b'-' { p + 2 } else { p + 1 };
        // No comment after the header either: it would move the end of an empty scalar.
        let h = self.skip_spaces(h);
        // A header at the very end of the text starts an empty scalar: saphyr's spans for the
        // empty forms are not worth copying, so it decides those.
        if h >= self.b.len() || self.at(h) != b'\n' {
            return None;
        }
        let first = (h + 1).min(self.b.len());
        // The first non-blank line sets the indentation; blank lines before it may not be
        // longer than that.
        let mut line = first;
        let mut longest_blank = 0;
        let indent = loop {
            if line >= self.b.len() {
                break 0;
            }
            let q = self.skip_spaces(line);
            if self.at(q) == b'\n' {
                longest_blank = longest_blank.max(q - line);
                line = q + 1;
                continue;
            }
            break q - line;
        };
        let indented = isize::try_from(indent).ok()? > parent;
        if longest_blank > indent && indented {
            return None;
        }
        let mut end = line;
        if indented {
            while end < self.b.len() {
                let q = self.skip_spaces(end);
                if self.at(q) != b'\n' && q - end < indent {
                    break;
                }
                end = next_line(self.src, q);
            }
        } else {
            // An empty block scalar: leave it to saphyr, as above.
            return None;
        }
        // Where saphyr's span ends when comment lines follow is not worth knowing: leave
        // those cases to it.
        let mut l = end;
        loop {
            let q = self.skip_spaces(l);
            match self.b.get(q) {
                Some(b'\n') => l = q + 1,
                Some(b'#') => return None,
                _ => break,
            }
        }
        self.out
            .push((Ev::Scalar("|".into(), style), first.max(p + 1), end));
        Some(end)
    }

    /// Spaces, line breaks and comments inside a flow collection. Lines must stay indented
    /// past the enclosing block (`parent`), as YAML wants.
    fn flow_trivia(&self, mut p: usize, parent: isize) -> Option<usize> {
        loop {
            match self.at(p) {
                b' ' => p += 1,
                b'\n' if p < self.b.len() => {
                    p = self.skip_spaces(p + 1);
                    let blank = matches!(self.at(p), b'\n' | b'#');
                    if !blank && self.col(p) <= parent {
                        return None;
                    }
                }
                b'#' if matches!(self.b.get(p.wrapping_sub(1)), Some(b' ' | b'\n')) => {
                    p = next_line(self.src, p).min(self.b.len());
                    p -= usize::from(self.b.get(p.wrapping_sub(1)) == Some(&b'\n'));
                }
                _ => return Some(p),
            }
        }
    }

    /// A flow collection opening at `p`; returns the byte after its closing bracket.
    fn flow(&mut self, p: usize, parent: isize) -> Option<usize> {
        self.enter()?;
        let map = self.at(p) == b'{';
        let close = if map { b'}' } else { b']' };
        self.out.push((
            if map {
                Ev::MappingStart
            } else {
                Ev::SequenceStart
            },
            p,
            p + 1,
        ));
        let mut q = self.flow_trivia(p + 1, parent)?;
        if self.at(q) != close {
            loop {
                if map {
                    let (key, style, end) = match self.at(q) {
                        c @ (b'"' | b'\'') => self.quoted_key(q, c == b'\'')?,
                        _ => {
                            let end = self.flow_plain_end(q)?;
                            (self.src[q..end].into(), ScalarStyle::Plain, end)
                        }
                    };
                    if end - q > MAX_FAST_KEY || key == "<<" {
                        return None;
                    }
                    self.out.push((Ev::Scalar(key, style), q, end));
                    q = self.flow_trivia(end, parent)?;
                    if self.at(q) != b':' {
                        return None;
                    }
                    q = self.flow_trivia(q + 1, parent)?;
                }
                let end = match self.at(q) {
                    b'{' | b'[' => self.flow(q, parent)?,
                    c @ (b'"' | b'\'') => {
                        let end = quoted_end(self.src, q, c == b'\'')?;
                        if self.src[q..end].contains('\n') {
                            return None;
                        }
                        let style = if c == b'"' {
                            ScalarStyle::DoubleQuoted
                        } else {
                            ScalarStyle::SingleQuoted
                        };
                        self.out
                            .push((Ev::Scalar(self.src[q..end].into(), style), q, end));
                        end
                    }
                    _ => {
                        let end = self.flow_plain_end(q)?;
                        self.out.push((
                            Ev::Scalar(self.src[q..end].into(), ScalarStyle::Plain),
                            q,
                            end,
                        ));
                        end
                    }
                };
                q = self.flow_trivia(end, parent)?;
                match self.at(q) {
                    b',' => {
                        q = self.flow_trivia(q + 1, parent)?;
                        // Trailing commas and empty entries are left to saphyr.
                        if matches!(self.at(q), b',' | b'}' | b']') {
                            return None;
                        }
                    }
                    c if c == close => break,
                    _ => return None,
                }
            }
        }
        self.out.push((Ev::End, q, q + 1));
        self.depth -= 1;
        Some(q + 1)
    }

    /// The end of a one-line plain scalar in a flow collection starting at `p` (trailing
    /// spaces excluded).
    fn flow_plain_end(&self, p: usize) -> Option<usize> {
        if !self.plain_start(p) {
            return None;
        }
        let mut i = p;
        loop {
            match self.at(i) {
                b'\n' | b',' | b']' | b'}' => break,
                b'[' | b'{' => return None,
                b':' if matches!(self.at(i + 1), b' ' | b'\n' | b',' | b']' | b'}') => break,
                b'#' if self.b[i - 1] == b' ' => break,
                b' ' => {
                    while self.at(i) == b' ' {
                        i += 1;
                    }
                    // saphyr checks every word of a flow scalar, not only the first, for a
                    // `-` before a flow indicator (`[z -]` is an error).
                    if self.at(i) == b'-'
                        && matches!(self.at(i + 1), b',' | b'[' | b']' | b'{' | b'}')
                    {
                        return None;
                    }
                }
                _ => i += 1,
            }
        }
        let end = p + self.src[p..i].trim_end_matches(' ').len();
        (end > p).then_some(end)
    }
}

// ---------------------------------------------------------------------------------------------
// Text helpers (byte offsets; YAML indentation and indicators are ASCII).

fn line_start(src: &str, pos: usize) -> usize {
    src[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// The byte after the line break of `pos`'s line (or the end of the text).
fn next_line(src: &str, pos: usize) -> usize {
    src[pos..].find('\n').map_or(src.len(), |i| pos + i + 1)
}

/// The end of `pos`'s line content, before `\r\n` or `\n`.
fn line_content_end(src: &str, pos: usize) -> usize {
    let end = src[pos..].find('\n').map_or(src.len(), |i| pos + i);
    if end > pos && src.as_bytes()[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// Column in characters, as editors and [`crate::Pos`] count them (0-based here).
fn column(src: &str, pos: usize) -> usize {
    src[line_start(src, pos)..pos].chars().count()
}

fn line_of(src: &str, pos: usize) -> usize {
    src.as_bytes()[..pos]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Skips whitespace, line breaks and comments.
fn skip_trivia(src: &str, mut pos: usize) -> usize {
    let bytes = src.as_bytes();
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\r' | b'\n' => pos += 1,
            b'#' => pos = src[pos..].find('\n').map_or(src.len(), |i| pos + i),
            _ => break,
        }
    }
    pos
}

/// Moves back over whitespace and line breaks.
fn trim_back(src: &str, mut pos: usize) -> usize {
    let bytes = src.as_bytes();
    while pos > 0 && matches!(bytes[pos - 1], b' ' | b'\t' | b'\r' | b'\n') {
        pos -= 1;
    }
    pos
}

/// The `|` or `>` of a block scalar header between `from` and `to`, outside comments.
fn find_indicator(src: &str, from: usize, to: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut pos = from;
    while pos < to {
        match bytes[pos] {
            b'|' | b'>'
                if pos == from || matches!(bytes[pos - 1], b' ' | b'\t' | b'\n' | b':' | b'-') =>
            {
                return Some(pos);
            }
            b'#' if pos == from || matches!(bytes[pos - 1], b' ' | b'\t' | b'\n') => {
                pos = src[pos..].find('\n').map_or(to, |i| pos + i);
            }
            _ => pos += 1,
        }
    }
    None
}

/// One past the closing quote of the quoted scalar whose node (properties first) starts at
/// `start`.
fn quoted_end(src: &str, start: usize, single: bool) -> Option<usize> {
    let quote = if single { b'\'' } else { b'"' };
    let bytes = src.as_bytes();
    let open = start + bytes.get(start..)?.iter().position(|&b| b == quote)?;
    let mut pos = open + 1;
    while pos < bytes.len() {
        match bytes[pos] {
            b'\\' if !single => pos += 2,
            b'\'' if single && bytes.get(pos + 1) == Some(&b'\'') => pos += 2,
            b if b == quote => return Some(pos + 1),
            _ => pos += 1,
        }
    }
    None
}

fn only_spaces(s: &str) -> bool {
    s.bytes().all(|b| b == b' ' || b == b'\t')
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

// ---------------------------------------------------------------------------------------------
// Rendering values.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    Plain,
    Single,
    Double,
}

/// How the document writes things, so that new text looks like its neighbours.
struct Style {
    eol: &'static str,
    /// Indentation added per block mapping level.
    step: usize,
    /// Block sequences under a key at the key's own column (`key:\n- a`), as kubectl writes.
    indentless: bool,
    /// The document is a flow collection (JSON): new content is JSON too.
    json: bool,
}

fn detect_style(src: &str, root: Option<&SNode>, eol: &'static str) -> Style {
    let mut style = Style {
        eol,
        step: 2,
        indentless: false,
        json: matches!(
            root.map(|r| &r.kind),
            Some(SKind::Map { open: Some(_), .. } | SKind::Seq { open: Some(_), .. })
        ),
    };
    let (mut step, mut indentless) = (None, None);
    // Breadth-first over block mappings until both habits are seen.
    let mut queue: Vec<&SNode> = root.into_iter().collect();
    let mut i = 0;
    while i < queue.len() && (step.is_none() || indentless.is_none()) && i < 4096 {
        let node = queue[i];
        i += 1;
        match &node.kind {
            SKind::Map {
                open: None,
                entries,
                ..
            } => {
                for e in entries {
                    let key_col = column(src, e.key_start);
                    match &e.value.kind {
                        SKind::Map {
                            open: None,
                            entries: inner,
                            ..
                        } if step.is_none() => {
                            if let Some(first) = inner.first() {
                                let c = column(src, first.key_start);
                                if c > key_col
                                    && src
                                        .get(e.key_start..first.key_start)
                                        .is_some_and(|between| between.contains('\n'))
                                {
                                    step = Some(c - key_col);
                                }
                            }
                        }
                        SKind::Seq { open: None, .. } if indentless.is_none() => {
                            if let Slot::SeqItem { dash: Some(d), .. } = first_item_slot(&e.value) {
                                indentless = Some(column(src, d) == key_col);
                            }
                        }
                        _ => {}
                    }
                    queue.push(&e.value);
                }
            }
            SKind::Seq { open: None, items } => queue.extend(items.iter()),
            _ => {}
        }
    }
    style.step = step.unwrap_or(2);
    style.indentless = indentless.unwrap_or(false);
    style
}

fn first_item_slot(seq: &SNode) -> Slot {
    match &seq.kind {
        SKind::Seq { items, .. } => items.first().map_or(Slot::Root, |i| i.slot),
        _ => Slot::Root,
    }
}

/// YAML's printable set, minus the characters YAML 1.1 readers take as line breaks and the BOM.
fn printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}' | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// Whether `s` can be written without quotes and read back as the same string, both by this
/// crate's resolver and by YAML 1.1 readers such as kubectl's.
fn plain_ok(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !s.chars().all(printable)
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with("---")
        || s.starts_with("...")
        || s == "<<"
    {
        return false;
    }
    let second = s[first.len_utf8()..].chars().next();
    let indicator = match first {
        '-' | '?' | ':' => second.is_none_or(|c| c == ' '),
        ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
        | '@' | '`' => true,
        _ => false,
    };
    if indicator || s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if flow && s.contains([',', '[', ']', '{', '}', ':']) {
        return false;
    }
    // Dates are strings here but timestamps to YAML 1.1 readers.
    let b = s.as_bytes();
    if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
        return false;
    }
    let node = Node {
        kind: NodeKind::Scalar(Scalar {
            text: s.into(),
            plain: true,
        }),
        pos: crate::Pos::default(),
    };
    node.type_name() == TypeName::String
}

/// A double-quoted string that is valid in both YAML and JSON.
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if printable(c) => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

fn scalar_text(v: &Value, flow: bool, json: bool, prefer: Quote) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s, flow, json, prefer),
        // Collections are never passed here; render them as flow to be total.
        other => flow_text(other, json),
    }
}

fn string_text(s: &str, flow: bool, json: bool, prefer: Quote) -> String {
    if json {
        return double_quoted(s);
    }
    match prefer {
        Quote::Single if s.chars().all(printable) => format!("'{}'", s.replace('\'', "''")),
        Quote::Double => double_quoted(s),
        _ if plain_ok(s, flow) => s.to_owned(),
        _ => double_quoted(s),
    }
}

fn key_text(k: &str, flow: bool, json: bool) -> String {
    string_text(k, flow, json, Quote::Plain)
}

/// A value on one line in flow style (JSON when `json`).
fn flow_text(v: &Value, json: bool) -> String {
    match v {
        Value::Object(m) => {
            let body: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", key_text(k, true, json), flow_text(v, json)))
                .collect();
            format!("{{{}}}", body.join(", "))
        }
        Value::Array(a) => {
            let body: Vec<String> = a.iter().map(|v| flow_text(v, json)).collect();
            format!("[{}]", body.join(", "))
        }
        scalar => scalar_text(scalar, true, json, Quote::Plain),
    }
}

/// A value in multi-line flow style, its closing bracket at column `col`.
fn flow_pretty(v: &Value, json: bool, col: usize, st: &Style) -> String {
    let inner = col + st.step;
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut out = String::from("{");
            for (i, (k, v)) in m.iter().enumerate() {
                out.push_str(if i == 0 { "" } else { "," });
                let _ = write!(
                    out,
                    "{}{}{}: {}",
                    st.eol,
                    spaces(inner),
                    key_text(k, true, json),
                    flow_pretty(v, json, inner, st)
                );
            }
            let _ = write!(out, "{}{}}}", st.eol, spaces(col));
            out
        }
        Value::Array(a) if !a.is_empty() => {
            let mut out = String::from("[");
            for (i, v) in a.iter().enumerate() {
                out.push_str(if i == 0 { "" } else { "," });
                let _ = write!(
                    out,
                    "{}{}{}",
                    st.eol,
                    spaces(inner),
                    flow_pretty(v, json, inner, st)
                );
            }
            let _ = write!(out, "{}{}]", st.eol, spaces(col));
            out
        }
        other => flow_text(other, json),
    }
}

/// The text after `key:` for a value in a block mapping whose keys are at `key_col`.
fn block_value(v: &Value, key_col: usize, st: &Style) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => {
            let col = key_col + st.step;
            for (k, v) in m {
                let _ = write!(
                    out,
                    "{}{}{}:{}",
                    st.eol,
                    spaces(col),
                    key_text(k, false, false),
                    block_value(v, col, st)
                );
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let col = if st.indentless {
                key_col
            } else {
                key_col + st.step
            };
            for v in a {
                let _ = write!(out, "{}{}-{}", st.eol, spaces(col), block_item(v, col, st));
            }
        }
        other => {
            out.push(' ');
            out.push_str(&flow_text(other, false));
        }
    }
    out
}

/// The text after the `-` of a block sequence item whose dash is at `dash_col`.
fn block_item(v: &Value, dash_col: usize, st: &Style) -> String {
    let col = dash_col + 2;
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (i, (k, v)) in m.iter().enumerate() {
                if i == 0 {
                    out.push(' ');
                } else {
                    out.push_str(st.eol);
                    out.push_str(&spaces(col));
                }
                let _ = write!(
                    out,
                    "{}:{}",
                    key_text(k, false, false),
                    block_value(v, col, st)
                );
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, v) in a.iter().enumerate() {
                if i == 0 {
                    out.push(' ');
                } else {
                    out.push_str(st.eol);
                    out.push_str(&spaces(col));
                }
                out.push('-');
                out.push_str(&block_item(v, col, st));
            }
        }
        other => {
            out.push(' ');
            out.push_str(&flow_text(other, false));
        }
    }
    out
}

/// A whole document's content in block style, starting at column 0.
fn block_root(v: &Value, st: &Style) -> String {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let lines: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", key_text(k, false, false), block_value(v, 0, st)))
                .collect();
            lines.join(st.eol)
        }
        Value::Array(a) if !a.is_empty() => {
            let lines: Vec<String> = a
                .iter()
                .map(|v| format!("-{}", block_item(v, 0, st)))
                .collect();
            lines.join(st.eol)
        }
        other => flow_text(other, false),
    }
}

// ---------------------------------------------------------------------------------------------
// Planning one text edit.

struct Edit {
    start: usize,
    end: usize,
    text: String,
}

struct Planner<'s> {
    src: &'s str,
    st: Style,
}

fn plan(src: &str, prim: &Prim, eol: &'static str) -> Result<Edit, String> {
    let root = build(src).map_err(|e| match e {
        EditError::Unsupported { reason, .. } => reason,
        other => other.to_string(),
    })?;
    let p = Planner {
        src,
        st: detect_style(src, root.as_ref(), eol),
    };
    p.plan(root.as_ref(), prim)
}

/// Plans the longest run at the start of `prims` that can be planned on the one span tree
/// of `src`, and returns its edits (at least one, or `None` when the first cannot be planned).
///
/// A run is planned together only when that gives the edits that planning each primitive
/// on the text its predecessors left would give:
/// - only `add`/`replace` below the root (`remove` changes its neighbours' context);
/// - no primitive's path leads into or through another's target, so every located node is
///   the same either way (this is what ends most runs: `add securityContext` then
///   `add securityContext/capabilities`);
/// - a container that gets a new member is not on any other path of the run (indices
///   would shift, and its last member decides where the others insert), except that
///   several new keys for one block mapping are fine: they land one after the other in run
///   order, as they would one by one;
/// - no two edits touch (checked by [`splice`]).
///
/// New text is rendered in the style detected on the text before the run, which is the
/// style such new text shows itself.
fn plan_round(src: &str, prims: &[Prim], eol: &'static str) -> Option<(Vec<Edit>, usize)> {
    let root = build(src).ok()?;
    let p = Planner {
        src,
        st: detect_style(src, root.as_ref(), eol),
    };
    // (path, parent path, inserts into its parent, the parent is a mapping)
    let mut shapes: Vec<(&[String], &[String], bool, bool)> = Vec::new();
    let mut edits = Vec::new();
    for prim in prims {
        let shape = root.as_ref().and_then(|root| round_shape(root, prim));
        let fits = shape.is_some_and(|a| {
            shapes.iter().all(|b| {
                let same_parent = a.1 == b.1;
                !b.0.starts_with(a.0)
                    && !a.0.starts_with(b.0)
                    && (!same_parent || (a.2 && b.2 && a.3))
                    && (!a.2 || same_parent || !b.0.starts_with(a.1))
                    && (!b.2 || same_parent || !a.0.starts_with(b.1))
            })
        });
        if !edits.is_empty() && !fits {
            break;
        }
        match p.plan(root.as_ref(), prim) {
            Ok(edit) => edits.push(edit),
            Err(_) if !edits.is_empty() => break,
            Err(_) => return None,
        }
        match shape {
            Some(shape) if fits => shapes.push(shape),
            // A primitive that cannot share its run is planned alone.
            _ => break,
        }
    }
    let n = edits.len();
    Some((edits, n))
}

/// The shape of `prim` for [`plan_round`], or `None` when it must be planned alone.
fn round_shape<'p>(
    root: &SNode,
    prim: &'p Prim,
) -> Option<(&'p [String], &'p [String], bool, bool)> {
    let (Prim::Add(toks, _) | Prim::Replace(toks, _)) = prim else {
        return None;
    };
    let (last, parent) = toks.split_last()?;
    let parent_node = locate(root, parent).ok()?;
    let (inserts, map) = match (&parent_node.kind, prim) {
        (SKind::Map { entries, open, .. }, Prim::Add(..)) => {
            let new = !entries.iter().any(|e| e.key == *last);
            if new && open.is_some() {
                return None;
            }
            (new, true)
        }
        (SKind::Map { .. }, _) => (false, true),
        (SKind::Seq { open: None, .. }, Prim::Add(..)) => (true, false),
        (SKind::Seq { open: None, .. }, _) => (false, false),
        _ => return None,
    };
    // Replacing a collection takes away text that the style of new text is detected from
    // (its indentation, block or flow form), so what follows must be planned on the text the
    // replacement leaves, as the per-operation path plans it.
    if !inserts
        && locate(root, toks).is_ok_and(|n| matches!(n.kind, SKind::Map { .. } | SKind::Seq { .. }))
    {
        return None;
    }
    Some((toks, parent, inserts, map))
}

impl Planner<'_> {
    fn plan(&self, root: Option<&SNode>, prim: &Prim) -> Result<Edit, String> {
        let p = self;
        match prim {
            Prim::Add(toks, v) | Prim::Replace(toks, v) if toks.is_empty() => {
                p.replace_root(root, v)
            }
            Prim::Replace(toks, v) => {
                let root = root.ok_or("the document is empty")?;
                p.replace(locate(root, toks)?, v)
            }
            Prim::Add(toks, v) => {
                let root = root.ok_or("the document is empty")?;
                let (last, parent) = toks.split_last().ok_or("no path")?;
                let parent = locate(root, parent)?;
                match &parent.kind {
                    SKind::Map { entries, .. } => {
                        match entries.iter().rev().find(|e| e.key == *last) {
                            Some(e) => p.replace(&e.value, v),
                            None => p.insert_entry(parent, last, v),
                        }
                    }
                    SKind::Seq { items, .. } => {
                        let idx = array_index(last, items.len(), true)?;
                        p.insert_item(parent, idx, v)
                    }
                    SKind::Alias => {
                        Err("the parent is an alias (*name); edit its anchor instead".into())
                    }
                    _ => Err("the parent is not a mapping or sequence".into()),
                }
            }
            Prim::Remove(toks) => {
                let root = root.ok_or("the document is empty")?;
                let (last, parent) = toks.split_last().ok_or("no path")?;
                p.remove(locate(root, parent)?, last)
            }
        }
    }
}

/// Follows `toks` through the span tree, refusing what the JSON view resolves differently.
fn locate<'t>(root: &'t SNode, toks: &[String]) -> Result<&'t SNode, String> {
    let mut node = root;
    for (i, tok) in toks.iter().enumerate() {
        node = match &node.kind {
            SKind::Map { merge: true, .. } => {
                return Err(format!("{} uses a merge key (<<)", join(&toks[..i])));
            }
            SKind::Map { entries, .. } => {
                &entries
                    .iter()
                    .rev()
                    .find(|e| e.key == *tok)
                    .ok_or_else(|| format!("no key {tok:?} at {} in the text", join(&toks[..i])))?
                    .value
            }
            SKind::Seq { items, .. } => &items[array_index(tok, items.len(), false)?],
            SKind::Alias => return Err(format!("{} is an alias (*name)", join(&toks[..i]))),
            SKind::Scalar { .. } => return Err(format!("{} is a scalar", join(&toks[..i]))),
        };
    }
    if let SKind::Map { merge: true, .. } = node.kind {
        return Err(format!("{} uses a merge key (<<)", join(toks)));
    }
    Ok(node)
}

/// Whether the last thing written in `node` is a `|`/`>` block scalar.
fn ends_in_block_scalar(node: &SNode) -> bool {
    let mut node = node;
    loop {
        node = match &node.kind {
            SKind::Scalar { style } => {
                return matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
            }
            SKind::Map {
                open: None,
                entries,
                ..
            } => match entries.last() {
                Some(e) => &e.value,
                None => return false,
            },
            SKind::Seq { open: None, items } => match items.last() {
                Some(i) => i,
                None => return false,
            },
            _ => return false,
        };
    }
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty()) || matches!(v, Value::Array(a) if !a.is_empty())
}

impl Planner<'_> {
    fn col(&self, pos: usize) -> usize {
        column(self.src, pos)
    }

    /// The line breaks before and after a new line inserted at `pos`: a text without a final
    /// line break keeps having none.
    fn line_breaks(&self, pos: usize) -> (&'static str, &'static str) {
        if pos == self.src.len() && !self.src.is_empty() && !self.src.ends_with('\n') {
            (self.st.eol, "")
        } else {
            ("", self.st.eol)
        }
    }

    fn replace_root(&self, root: Option<&SNode>, v: &Value) -> Result<Edit, String> {
        let Some(root) = root else {
            // An empty document: keep its comments and write the content after them.
            let end = self.src.len();
            return Ok(Edit {
                start: end,
                end,
                text: format!(
                    "{}{}{}",
                    self.line_breaks(end).0,
                    block_root(v, &self.st),
                    self.line_breaks(end).1
                ),
            });
        };
        let text = if self.st.json {
            if line_of(self.src, root.start) != line_of(self.src, root.end) {
                flow_pretty(v, true, self.col(root.start), &self.st)
            } else {
                flow_text(v, true)
            }
        } else if self.col(root.start) == 0 || !is_collection(v) {
            block_root(v, &self.st)
        } else {
            return Err("the document's content does not start at column 1".into());
        };
        Ok(Edit {
            start: root.start,
            end: root.end,
            text,
        })
    }

    /// Replaces the value `node` with `v`, keeping a flow collection in flow style.
    fn replace(&self, node: &SNode, v: &Value) -> Result<Edit, String> {
        self.replace_styled(node, v, true)
    }

    /// Replaces the value `node` with `v`; `keep_flow` writes a new collection in flow style
    /// where the old value was a flow collection.
    fn replace_styled(&self, node: &SNode, v: &Value, keep_flow: bool) -> Result<Edit, String> {
        let src = self.src;
        if let Slot::Root = node.slot {
            return self.replace_root(Some(node), v);
        }
        let flow_parent = node.slot.in_flow();
        let json = self.st.json || src[node.start..].starts_with('"');
        // A scalar for a scalar: only the scalar's own text changes, the rest of the line stays.
        if let SKind::Scalar { style } = node.kind
            && !is_collection(v)
            && node.end > node.start
            && matches!(
                style,
                ScalarStyle::Plain | ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
            )
        {
            let prefer = match style {
                ScalarStyle::SingleQuoted => Quote::Single,
                ScalarStyle::DoubleQuoted => Quote::Double,
                _ => Quote::Plain,
            };
            return Ok(Edit {
                start: node.start,
                end: node.end,
                text: scalar_text(v, flow_parent, json, prefer),
            });
        }
        let flow_node = matches!(
            node.kind,
            SKind::Map { open: Some(_), .. } | SKind::Seq { open: Some(_), .. }
        );
        if flow_parent
            || (keep_flow && flow_node && matches!(v, Value::Object(_) | Value::Array(_)))
        {
            let text = if flow_node && line_of(src, node.start) != line_of(src, node.end) {
                flow_pretty(v, json, self.col(node.start), &self.st)
            } else if node.start == node.end {
                // An empty value right after its `:`; `{a:x}` would read as the key "a:x".
                format!(" {}", flow_text(v, json))
            } else {
                flow_text(v, json)
            };
            return Ok(Edit {
                start: node.start,
                end: node.end,
                text,
            });
        }
        match node.slot {
            Slot::MapValue {
                colon_end: Some(c),
                key_col,
                ..
            } => {
                // A block collection after `key: # comment` keeps the comment.
                let start = if is_collection(v) && line_of(src, node.start) > line_of(src, c) {
                    line_content_end(src, c)
                } else {
                    c
                };
                Ok(Edit {
                    start,
                    end: node.end.max(start),
                    text: block_value(v, key_col, &self.st),
                })
            }
            Slot::SeqItem { dash: Some(d), .. } => Ok(Edit {
                start: d + 1,
                end: node.end.max(d + 1),
                text: block_item(v, self.col(d), &self.st),
            }),
            _ => Err("cannot find the ':' or '-' that introduces the value".into()),
        }
    }

    /// Whether an empty flow collection sits where a block collection could replace it.
    fn block_context(&self, node: &SNode) -> bool {
        !self.st.json
            && matches!(
                node.slot,
                Slot::MapValue { flow: false, .. } | Slot::SeqItem { flow: false, .. }
            )
    }

    /// Where to insert after the last member of a flow collection that ends at `end`:
    /// after a trailing comma if there is one.
    fn flow_insert(
        &self,
        last_end: usize,
        first_line: usize,
        member_col: usize,
        body: String,
        pretty: String,
    ) -> Edit {
        let src = self.src;
        let after = skip_trivia(src, last_end);
        let multiline = line_of(src, last_end) != first_line;
        let (pos, comma) = if src[after..].starts_with(',') {
            (after + 1, "")
        } else {
            (last_end, ",")
        };
        let text = if multiline {
            format!("{comma}{}{}{pretty}", self.st.eol, spaces(member_col))
        } else {
            format!("{comma} {body}")
        };
        Edit {
            start: pos,
            end: pos,
            text,
        }
    }

    fn insert_entry(&self, map: &SNode, key: &str, v: &Value) -> Result<Edit, String> {
        let SKind::Map { open, entries, .. } = &map.kind else {
            return Err("not a mapping".into());
        };
        let src = self.src;
        if let Some(open) = *open {
            let Some(last) = entries.last() else {
                if self.block_context(map) {
                    let mut m = serde_json::Map::new();
                    m.insert(key.to_owned(), v.clone());
                    return self.replace_styled(map, &Value::Object(m), false);
                }
                let json = self.st.json;
                return Ok(Edit {
                    start: open + 1,
                    end: open + 1,
                    text: format!("{}: {}", key_text(key, true, json), flow_text(v, json)),
                });
            };
            let json = self.st.json || src[entries[0].key_start..].starts_with('"');
            let col = self.col(last.key_start);
            let k = key_text(key, true, json);
            return Ok(self.flow_insert(
                last.value.end,
                line_of(src, open),
                col,
                format!("{k}: {}", flow_text(v, json)),
                format!("{k}: {}", flow_pretty(v, json, col, &self.st)),
            ));
        }
        let (first, last) = match (entries.first(), entries.last()) {
            (Some(f), Some(l)) => (f, l),
            _ => return Err("an empty block mapping".into()),
        };
        let indent = self.col(first.key_start);
        let pos = next_line(src, last.value.end);
        Ok(Edit {
            start: pos,
            end: pos,
            text: format!(
                "{}{}{}:{}{}",
                self.line_breaks(pos).0,
                spaces(indent),
                key_text(key, false, false),
                block_value(v, indent, &self.st),
                self.line_breaks(pos).1
            ),
        })
    }

    fn insert_item(&self, seq: &SNode, idx: usize, v: &Value) -> Result<Edit, String> {
        let SKind::Seq { open, items } = &seq.kind else {
            return Err("not a sequence".into());
        };
        let src = self.src;
        if let Some(open) = *open {
            let json = self.st.json
                || items
                    .first()
                    .is_some_and(|i| src[i.start..].starts_with('"'));
            if items.is_empty() {
                if self.block_context(seq) {
                    return self.replace_styled(seq, &Value::Array(vec![v.clone()]), false);
                }
                return Ok(Edit {
                    start: open + 1,
                    end: open + 1,
                    text: flow_text(v, json),
                });
            }
            if idx == items.len() {
                let last = &items[items.len() - 1];
                let col = self.col(last.start);
                return Ok(self.flow_insert(
                    last.end,
                    line_of(src, open),
                    col,
                    flow_text(v, json),
                    flow_pretty(v, json, col, &self.st),
                ));
            }
            let item = &items[idx];
            let before = if idx == 0 { open } else { items[idx - 1].end };
            let text = if line_of(src, before) != line_of(src, item.start) {
                let col = self.col(item.start);
                format!(
                    "{},{}{}",
                    flow_pretty(v, json, col, &self.st),
                    self.st.eol,
                    spaces(col)
                )
            } else {
                format!("{}, ", flow_text(v, json))
            };
            return Ok(Edit {
                start: item.start,
                end: item.start,
                text,
            });
        }
        let dash_of = |i: &SNode| match i.slot {
            Slot::SeqItem { dash: Some(d), .. } => Ok(d),
            _ => Err("cannot find the '-' of a sequence item".to_owned()),
        };
        if idx == items.len() {
            let last = items.last().ok_or("an empty block sequence")?;
            let dash_col = self.col(dash_of(&items[0])?);
            let pos = next_line(src, last.end);
            return Ok(Edit {
                start: pos,
                end: pos,
                text: format!(
                    "{}{}-{}{}",
                    self.line_breaks(pos).0,
                    spaces(dash_col),
                    block_item(v, dash_col, &self.st),
                    self.line_breaks(pos).1
                ),
            });
        }
        // Insert before the item's dash, so that a compact `- - a` stays valid too.
        let d = dash_of(&items[idx])?;
        let dash_col = self.col(d);
        Ok(Edit {
            start: d,
            end: d,
            text: format!(
                "-{}{}{}",
                block_item(v, dash_col, &self.st),
                self.st.eol,
                spaces(dash_col)
            ),
        })
    }

    fn remove(&self, parent: &SNode, tok: &str) -> Result<Edit, String> {
        let src = self.src;
        // (start, end) of every member: key to value end, or dash/item start to item end.
        let (members, i, flow, empty): (Vec<(usize, usize)>, usize, bool, Value) =
            match &parent.kind {
                SKind::Map { open, entries, .. } => {
                    let i = entries
                        .iter()
                        .rposition(|e| e.key == tok)
                        .ok_or_else(|| format!("no key {tok:?} in the text"))?;
                    (
                        entries.iter().map(|e| (e.key_start, e.value.end)).collect(),
                        i,
                        open.is_some(),
                        Value::Object(serde_json::Map::new()),
                    )
                }
                SKind::Seq { open, items } => {
                    let i = array_index(tok, items.len(), false)?;
                    let members = items
                        .iter()
                        .map(|it| match it.slot {
                            Slot::SeqItem { dash: Some(d), .. } => Ok((d, it.end)),
                            Slot::SeqItem { flow: true, .. } => Ok((it.start, it.end)),
                            _ => Err("cannot find the '-' of a sequence item".to_owned()),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    (members, i, open.is_some(), Value::Array(Vec::new()))
                }
                SKind::Alias => {
                    return Err("the parent is an alias (*name); edit its anchor instead".into());
                }
                _ => return Err("the parent is not a mapping or sequence".into()),
            };
        let n = members.len();
        let (s, e) = members[i];
        let cut = |start: usize, end: usize| Edit {
            start,
            end,
            text: String::new(),
        };
        if flow {
            return Ok(if n == 1 {
                cut(s, e)
            } else if i + 1 < n {
                cut(s, members[i + 1].0)
            } else {
                cut(members[i - 1].1, e)
            });
        }
        if n == 1 {
            // The last member of a block collection: the collection becomes `{}` / `[]`.
            return self.replace(parent, &empty);
        }
        if only_spaces(&src[line_start(src, s)..s]) {
            let mut end = next_line(src, e);
            // Comment lines indented past the member would become content of a block scalar
            // that ends just above it: they go with the removed member.
            let prev = i.checked_sub(1).and_then(|p| match &parent.kind {
                SKind::Map { entries, .. } => entries.get(p).map(|e| &e.value),
                SKind::Seq { items, .. } => items.get(p),
                _ => None,
            });
            if prev.is_some_and(ends_in_block_scalar) {
                let col = self.col(s);
                loop {
                    let next = next_line(src, end);
                    let line = &src[end..next];
                    let body = line.trim_start_matches(' ');
                    let indent = line.len() - body.len();
                    let blank = body.trim().is_empty();
                    if next == end || !(blank || (body.starts_with('#') && indent > col)) {
                        break;
                    }
                    end = next;
                }
                // Blank lines just before the next member stay where they were.
                while end > next_line(src, e) {
                    let ls = line_start(src, end - 1);
                    if !src[ls..end].trim().is_empty() {
                        break;
                    }
                    end = ls;
                }
            }
            return Ok(cut(line_start(src, s), end));
        }
        if i != 0 {
            return Err("a member that does not start its own line".into());
        }
        // The first member of a compact `- key: v` / `- - a`: pull the next member up.
        let next = members[1].0;
        if !src[e..next].contains('#') {
            return Ok(cut(s, next));
        }
        // Comments in between stay; the dash is left on its own line (`-`), which is valid.
        Ok(cut(
            trim_back(src, s).max(line_start(src, s)),
            line_content_end(src, e),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(patch: &Value) -> Vec<PatchOp> {
        serde_json::from_value(patch.clone()).expect("a valid patch")
    }

    /// Applies `patch`, checks the result against the JSON view, and returns the new text.
    fn edit(src: &str, patch: Value) -> String {
        let ops = ops(&patch);
        let out = apply_patch(src, &ops).unwrap_or_else(|e| panic!("{e}\n{src}"));
        let mut expected = json_of_text(src).unwrap();
        for op in &ops {
            apply_json(&mut expected, op).unwrap();
        }
        assert!(json_eq(&json_of_text(&out).unwrap(), &expected), "{out}");
        out
    }

    fn fails(src: &str, patch: Value) -> EditError {
        apply_patch(src, &ops(&patch)).expect_err("the patch must fail")
    }

    #[test]
    fn patch_ops_use_the_rfc_wire_format() {
        let op: PatchOp = serde_json::from_str(r#"{"op":"add","path":"/a","value":1}"#).unwrap();
        assert_eq!(
            op,
            PatchOp::Add {
                path: "/a".into(),
                value: json!(1)
            }
        );
        assert_eq!(
            serde_json::to_value(PatchOp::Move {
                from: "/a".into(),
                path: "/b".into()
            })
            .unwrap(),
            json!({"op": "move", "from": "/a", "path": "/b"})
        );
    }

    #[test]
    fn replacing_a_scalar_keeps_the_rest_of_the_line() {
        let src = "a: 1  # why\nb: 'x' # quoted\nc: \"y\"\n";
        let out = edit(
            src,
            json!([
                {"op": "replace", "path": "/a", "value": 2},
                {"op": "replace", "path": "/b", "value": "it's"},
                {"op": "replace", "path": "/c", "value": "z"},
            ]),
        );
        assert_eq!(out, "a: 2  # why\nb: 'it''s' # quoted\nc: \"z\"\n");
    }

    #[test]
    fn strings_that_look_like_other_types_are_quoted() {
        let src = "a: x\n";
        for (value, text) in [
            (json!("true"), "\"true\""),
            (json!("yes"), "\"yes\""),
            (json!("123"), "\"123\""),
            (json!("0x1F"), "\"0x1F\""),
            (json!("1.5"), "\"1.5\""),
            (json!("null"), "\"null\""),
            (json!("~"), "\"~\""),
            (json!(""), "\"\""),
            (json!("a: b"), "\"a: b\""),
            (json!("- x"), "\"- x\""),
            (json!("#x"), "\"#x\""),
            (json!("2024-01-01"), "\"2024-01-01\""),
            (json!("two\nlines"), "\"two\\nlines\""),
            (json!(" padded"), "\" padded\""),
            (json!("nginx:1.27"), "nginx:1.27"),
            (json!("--flag=x"), "--flag=x"),
            (json!(true), "true"),
            (json!(null), "null"),
            (json!(1.5), "1.5"),
        ] {
            let out = edit(
                src,
                json!([{"op": "replace", "path": "/a", "value": value}]),
            );
            assert_eq!(out, format!("a: {text}\n"));
        }
    }

    const POD: &str = "\
# A pod
apiVersion: v1
kind: Pod
metadata:
  name: app   # the name
spec:
  containers:
  - name: app
    image: nginx
    args: |
      --port=80

  # trailing comment
  volumes: []
";

    #[test]
    fn adding_a_key_after_nested_children_and_block_scalars() {
        let out = edit(
            POD,
            json!([
                {"op": "add", "path": "/spec/containers/0/securityContext",
                 "value": {"runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}}},
                {"op": "add", "path": "/spec/hostNetwork", "value": false},
            ]),
        );
        assert_eq!(
            out,
            "\
# A pod
apiVersion: v1
kind: Pod
metadata:
  name: app   # the name
spec:
  containers:
  - name: app
    image: nginx
    args: |
      --port=80
    securityContext:
      capabilities:
        drop:
        - ALL
      runAsNonRoot: true

  # trailing comment
  volumes: []
  hostNetwork: false
"
        );
    }

    #[test]
    fn empty_flow_collections_in_block_documents_become_block() {
        let out = edit(
            POD,
            json!([
                {"op": "add", "path": "/spec/volumes/-", "value": {"name": "tmp", "emptyDir": {}}},
                {"op": "add", "path": "/metadata/labels", "value": {}},
                {"op": "add", "path": "/metadata/labels/app", "value": "x"},
            ]),
        );
        assert!(
            out.ends_with("  volumes:\n  - emptyDir: {}\n    name: tmp\n"),
            "{out}"
        );
        assert!(
            out.contains("  name: app   # the name\n  labels:\n    app: x\nspec:"),
            "{out}"
        );
    }

    #[test]
    fn flow_mappings_and_sequences_get_flow_text() {
        let src = "c: {name: app, image: nginx}  # tail\nargs: [a, b]\n";
        let out = edit(
            src,
            json!([
                {"op": "add", "path": "/c/securityContext", "value": {"privileged": false, "x": "a,b"}},
                {"op": "add", "path": "/args/-", "value": "c"},
                {"op": "add", "path": "/args/0", "value": "z"},
            ]),
        );
        assert_eq!(
            out,
            "c: {name: app, image: nginx, securityContext: {privileged: false, x: \"a,b\"}}  # tail\nargs: [z, a, b, c]\n"
        );
        let out = edit(
            src,
            json!([{"op": "remove", "path": "/c/name"}, {"op": "remove", "path": "/args/1"}]),
        );
        assert_eq!(out, "c: {image: nginx}  # tail\nargs: [a]\n");
        let out = edit("c: {a: 1}\n", json!([{"op": "remove", "path": "/c/a"}]));
        assert_eq!(out, "c: {}\n");
    }

    #[test]
    fn block_sequences_indented_and_indentless() {
        let indented = "items:\n  - a\n  - b\nnext: 1\n";
        assert_eq!(
            edit(
                indented,
                json!([{"op": "add", "path": "/items/-", "value": "c"}])
            ),
            "items:\n  - a\n  - b\n  - c\nnext: 1\n"
        );
        assert_eq!(
            edit(
                indented,
                json!([{"op": "add", "path": "/items/1", "value": {"k": "v", "l": [1]}}])
            ),
            "items:\n  - a\n  - k: v\n    l:\n      - 1\n  - b\nnext: 1\n"
        );
        let indentless = "items:\n- a\nnext: 1\n";
        assert_eq!(
            edit(
                indentless,
                json!([{"op": "add", "path": "/more", "value": ["x"]}])
            ),
            "items:\n- a\nnext: 1\nmore:\n- x\n"
        );
        assert_eq!(
            edit(
                indentless,
                json!([{"op": "add", "path": "/items/-", "value": ["x", "y"]}])
            ),
            "items:\n- a\n- - x\n  - \"y\"\nnext: 1\n"
        );
        let nested = "- - a\n  - b\n";
        assert_eq!(
            edit(nested, json!([{"op": "add", "path": "/0/0", "value": "z"}])),
            "- - z\n  - a\n  - b\n"
        );
        assert_eq!(
            edit(nested, json!([{"op": "remove", "path": "/0/0"}])),
            "- - b\n"
        );
    }

    #[test]
    fn removing_keys_and_items_takes_their_lines() {
        let out = edit(
            POD,
            json!([
                {"op": "remove", "path": "/spec/containers/0/args"},
                {"op": "remove", "path": "/metadata"},
            ]),
        );
        assert_eq!(
            out,
            "\
# A pod
apiVersion: v1
kind: Pod
spec:
  containers:
  - name: app
    image: nginx

  # trailing comment
  volumes: []
"
        );
        let out = edit(POD, json!([{"op": "remove", "path": "/spec/containers/0"}]));
        assert!(
            out.contains("spec:\n  containers: []\n\n  # trailing comment\n"),
            "{out}"
        );
        // The first key of a compact `- key: v` item.
        let out = edit(
            POD,
            json!([{"op": "remove", "path": "/spec/containers/0/name"}]),
        );
        assert!(
            out.contains("  containers:\n  - image: nginx\n    args: |\n"),
            "{out}"
        );
        // A comment indented under a removed member must not join the block scalar above.
        let out = edit(
            "- >-\n  folded\n- x\n  # about x\n\n- y\n",
            json!([{"op": "remove", "path": "/1"}]),
        );
        assert_eq!(out, "- >-\n  folded\n\n- y\n");
        let out = edit(
            "- a: 1\n  # about b\n  b: 2\n",
            json!([{"op": "remove", "path": "/0/a"}]),
        );
        assert_eq!(out, "-\n  # about b\n  b: 2\n");
    }

    #[test]
    fn replacing_collections() {
        let out = edit(
            POD,
            json!([
                {"op": "replace", "path": "/spec/containers", "value": [{"name": "b", "image": "busybox"}]},
                {"op": "replace", "path": "/metadata/name", "value": {"a": 1}},
            ]),
        );
        assert!(out.contains("metadata:\n  name:\n    a: 1   # the name\nspec:\n  containers:\n  - image: busybox\n    name: b\n\n  # trailing comment\n"), "{out}");
        let out = edit(
            "a: [1, 2]\nb:\n  c: 1\n",
            json!([
                {"op": "replace", "path": "/a", "value": [3]},
                {"op": "replace", "path": "/b", "value": "scalar"},
            ]),
        );
        assert_eq!(out, "a: [3]\nb: scalar\n");
        let out = edit(
            "a: |\n  text\nb: 1\n",
            json!([{"op": "replace", "path": "/a", "value": "new"}]),
        );
        assert_eq!(out, "a: new\nb: 1\n");
    }

    #[test]
    fn json_documents_stay_json() {
        let src = "{\n  \"kind\": \"Pod\",\n  \"spec\": {\"containers\": []}\n}\n";
        let out = edit(
            src,
            json!([
                {"op": "add", "path": "/metadata", "value": {"name": "x", "labels": {"a": "true"}}},
                {"op": "add", "path": "/spec/containers/-", "value": {"name": "c"}},
            ]),
        );
        assert_eq!(
            out,
            "{\n  \"kind\": \"Pod\",\n  \"spec\": {\"containers\": [{\"name\": \"c\"}]},\n  \"metadata\": {\n    \"labels\": {\n      \"a\": \"true\"\n    },\n    \"name\": \"x\"\n  }\n}\n"
        );
        let out = edit(
            "{\"a\": 1}",
            json!([{"op": "add", "path": "/b", "value": [true]}]),
        );
        assert_eq!(out, "{\"a\": 1, \"b\": [true]}");
        assert_eq!(
            edit("{}", json!([{"op": "add", "path": "/b", "value": 1}])),
            "{\"b\": 1}"
        );
        assert_eq!(
            edit("[]", json!([{"op": "add", "path": "/-", "value": "x"}])),
            "[\"x\"]"
        );
    }

    #[test]
    fn empty_documents_and_roots() {
        assert_eq!(
            edit(
                "# only a comment\n",
                json!([{"op": "add", "path": "", "value": {"a": [1]}}])
            ),
            "# only a comment\na:\n  - 1\n"
        );
        assert_eq!(
            edit("", json!([{"op": "add", "path": "", "value": {}}])),
            "{}\n"
        );
        assert_eq!(
            edit(
                "a: 1\n",
                json!([{"op": "replace", "path": "", "value": [1]}])
            ),
            "- 1\n"
        );
        assert_eq!(
            edit("a: 1\n", json!([{"op": "remove", "path": "/a"}])),
            "{}\n"
        );
        assert_eq!(
            edit("a: 1", json!([{"op": "add", "path": "/b", "value": 2}])),
            "a: 1\nb: 2"
        );
        let e = fails("", json!([{"op": "add", "path": "/a", "value": 1}]));
        assert!(matches!(e, EditError::Patch { .. }), "{e}");
    }

    #[test]
    fn crlf_line_endings_are_kept() {
        let src = "a: 1\r\nb:\r\n  c: 2\r\n";
        let out = edit(
            src,
            json!([
                {"op": "add", "path": "/b/d", "value": {"e": [1]}},
                {"op": "add", "path": "/f", "value": "g"},
                {"op": "remove", "path": "/a"},
            ]),
        );
        assert_eq!(
            out,
            "b:\r\n  c: 2\r\n  d:\r\n    e:\r\n      - 1\r\nf: g\r\n"
        );
    }

    #[test]
    fn indentation_follows_the_document() {
        let src = "a:\n    b:\n        c: 1\n    list:\n        - x\n";
        let out = edit(
            src,
            json!([{"op": "add", "path": "/a/k", "value": {"m": [1]}}]),
        );
        assert_eq!(
            out,
            "a:\n    b:\n        c: 1\n    list:\n        - x\n    k:\n        m:\n            - 1\n"
        );
    }

    #[test]
    fn unicode_columns_and_keys_needing_quotes() {
        let src = "é: {ü: 1}\nlist:\n- ☺\n";
        let out = edit(
            src,
            json!([
                {"op": "add", "path": "/é/a~1b", "value": "x"},
                {"op": "add", "path": "/list/-", "value": "ö"},
                {"op": "add", "path": "/true", "value": {"a: b": "c"}},
            ]),
        );
        assert_eq!(
            out,
            "é: {ü: 1, a/b: x}\nlist:\n- ☺\n- ö\n\"true\":\n  \"a: b\": c\n"
        );
    }

    #[test]
    fn move_copy_and_test() {
        let src = "a: 1\nb:\n  c: 2\n";
        let out = edit(
            src,
            json!([
                {"op": "test", "path": "/a", "value": 1.0},
                {"op": "copy", "from": "/b", "path": "/d"},
                {"op": "move", "from": "/a", "path": "/b/a"},
            ]),
        );
        assert_eq!(out, "b:\n  c: 2\n  a: 1\nd:\n  c: 2\n");
        let e = fails(src, json!([{"op": "test", "path": "/a", "value": 2}]));
        assert_eq!(e.to_string(), "test /a: test failed: the value differs");
        let e = fails(src, json!([{"op": "move", "from": "/b", "path": "/b/x"}]));
        assert!(e.to_string().contains("own children"), "{e}");
    }

    #[test]
    fn errors_name_the_path_and_reason() {
        let src = "a: 1\nl: [1]\n";
        for (patch, expect) in [
            (
                json!({"op": "add", "path": "/x/y", "value": 1}),
                "add /x/y: the parent does not exist: no key \"x\" at the document root",
            ),
            (
                json!({"op": "add", "path": "/a/y", "value": 1}),
                "add /a/y: the parent /a is a number, not an object or array",
            ),
            (
                json!({"op": "add", "path": "/l/5", "value": 1}),
                "add /l/5: index 5 is out of range: the array has 1 item(s)",
            ),
            (
                json!({"op": "add", "path": "/l/01", "value": 1}),
                "add /l/01: \"01\" is not an array index",
            ),
            (
                json!({"op": "remove", "path": "/nope"}),
                "remove /nope: no key \"nope\" at the document root",
            ),
            (
                json!({"op": "replace", "path": "a", "value": 1}),
                "replace a: a JSON pointer must be empty or start with '/'",
            ),
            (
                json!({"op": "remove", "path": "/a~2"}),
                "remove /a~2: invalid escape in token \"a~2\" (only ~0 and ~1 exist)",
            ),
        ] {
            let e = fails(src, json!([patch]));
            assert_eq!(e.to_string(), expect);
        }
        let e = fails("a: [unclosed\n", json!([{"op": "remove", "path": "/a"}]));
        assert!(matches!(e, EditError::Parse { .. }), "{e}");
    }

    #[test]
    fn anchors_and_merge_keys_are_refused_not_miswritten() {
        let src = "base: &b {x: 1}\nd: *b\n";
        let e = fails(src, json!([{"op": "add", "path": "/base/y", "value": 2}]));
        assert!(matches!(e, EditError::Unsupported { .. }), "{e}");
        let e = fails(src, json!([{"op": "add", "path": "/d/y", "value": 2}]));
        assert!(e.to_string().contains("alias"), "{e}");
        let e = fails(
            "b: &b {x: 1}\nd:\n  <<: *b\n",
            json!([{"op": "replace", "path": "/d/x", "value": 2}]),
        );
        assert!(e.to_string().contains("merge key"), "{e}");
        // Replacing an alias itself is fine: the anchor is untouched.
        assert_eq!(
            edit(src, json!([{"op": "replace", "path": "/d", "value": 3}])),
            "base: &b {x: 1}\nd: 3\n"
        );
    }

    #[test]
    fn streams_keep_untouched_documents_byte_for_byte() {
        let src = "# head\na: 1\n--- # sep\n\n---\nb: 2   \n...\n---\r\nc: [3]\n";
        let out = apply_patches_to_stream(
            src,
            &[
                (2, ops(&json!([{"op": "add", "path": "/c/-", "value": 4}]))),
                (
                    0,
                    ops(&json!([{"op": "replace", "path": "/a", "value": "x"}])),
                ),
            ],
        )
        .unwrap();
        // Document 1 is the second non-empty one, `b: 2`: empty chunks are not numbered.
        assert_eq!(
            out,
            "# head\na: x\n--- # sep\n\n---\nb: 2   \n...\n---\r\nc: [3, 4]\n"
        );
        let out = apply_patches_to_stream(
            src,
            &[(2, ops(&json!([{"op": "add", "path": "/c/-", "value": 4}])))],
        )
        .unwrap();
        assert_eq!(
            out,
            "# head\na: 1\n--- # sep\n\n---\nb: 2   \n...\n---\r\nc: [3, 4]\n"
        );
        let e = apply_patches_to_stream(src, &[(3, Vec::new())]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "document 3 does not exist: the stream has 3 document(s)"
        );
        let e =
            apply_patches_to_stream(src, &[(1, ops(&json!([{"op": "remove", "path": "/zz"}])))])
                .unwrap_err();
        assert_eq!(
            e.to_string(),
            "document 1: remove /zz: no key \"zz\" at the document root"
        );
    }

    #[test]
    fn ensure_op_creates_missing_parents_in_one_add() {
        let doc = json!({"spec": {"containers": [{"name": "a"}], "sc": null}});
        let cases = [
            (
                "/spec/securityContext/runAsNonRoot",
                PatchOp::Add {
                    path: "/spec/securityContext".into(),
                    value: json!({"runAsNonRoot": true}),
                },
            ),
            (
                "/spec/containers/0/securityContext/privileged",
                PatchOp::Add {
                    path: "/spec/containers/0/securityContext".into(),
                    value: json!({"privileged": true}),
                },
            ),
            (
                "/spec/sc/x",
                PatchOp::Add {
                    path: "/spec/sc".into(),
                    value: json!({"x": true}),
                },
            ),
            (
                "/spec/containers/0",
                PatchOp::Replace {
                    path: "/spec/containers/0".into(),
                    value: json!(true),
                },
            ),
            (
                "/spec/containers/-",
                PatchOp::Add {
                    path: "/spec/containers/-".into(),
                    value: json!(true),
                },
            ),
            (
                "/spec/volumes/-",
                PatchOp::Add {
                    path: "/spec/volumes".into(),
                    value: json!([true]),
                },
            ),
            (
                "",
                PatchOp::Replace {
                    path: String::new(),
                    value: json!(true),
                },
            ),
        ];
        for (path, want) in cases {
            let op = ensure_op(&doc, path, json!(true)).unwrap();
            assert_eq!(op, want, "{path}");
            let mut patched = doc.clone();
            apply_json(&mut patched, &op).unwrap();
        }
        assert!(ensure_op(&doc, "/spec/containers/7/x", json!(1)).is_err());
    }

    #[test]
    fn never_panics_on_odd_input() {
        let patch = ops(&json!([
            {"op": "add", "path": "/a/-", "value": {"k": [1, {"z": null}]}},
            {"op": "remove", "path": "/a/0"},
            {"op": "replace", "path": "/a", "value": "x"},
        ]));
        for src in [
            "a: [",
            "? [a]\n: 1\n",
            "a:\n  - 1\n - 2\n",
            "a: !!str\n",
            "&x a: 1\n",
            "a: &x\n- 1\n",
            "a:\t1\n",
            "a: |+\n  x\n\nb: 1\n",
            "\u{feff}a: [1]\n",
            "a: [1,]\n",
            "a: {b}\n",
            "%YAML 1.2\n---\na: [1]\n",
            "a: [1]\n...\n",
            "--- a\n",
            "a: [1]\n---\nb: 1\n",
        ] {
            let _ = apply_patch(src, &patch);
            let _ = apply_patch(src, &patch[1..]);
        }
    }

    /// Inputs the `yaml_stream` fuzz target found: the fast span lexer must build what
    /// saphyr's events give, and decline what saphyr rejects.
    #[test]
    fn fast_spans_agree_on_fuzzed_inputs() {
        for src in [
            "a: { }\n",
            "a: [ ]\n",
            "a: { b: 1 }\n",
            "a: &x [ 1, 2 ]\n",
            "a: !!map { b: 1 }\n",
            "[z -]",
            "[z  -, y]",
            "{a: b -}",
        ] {
            assert!(fast_spans_agree(src), "{src:?}");
        }
        assert!(!fast_spans_handle("[z -]"));
        assert!(fast_spans_handle("a: { }\n"));
    }
}
