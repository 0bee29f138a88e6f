//! The positioned tree.

use std::borrow::Cow;
use std::fmt;

/// A 1-based line and column (columns count characters, as editors do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A scalar as written: its text and whether it was quoted or a block scalar.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar<'a> {
    pub text: Cow<'a, str>,
    /// `true` for plain (unquoted) scalars, the only ones YAML resolves to null, bool or number.
    pub plain: bool,
}

/// A mapping entry. Keys are strings in every format Palisade reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry<'a> {
    pub key: Cow<'a, str>,
    pub key_pos: Pos,
    pub value: Node<'a>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind<'a> {
    Scalar(Scalar<'a>),
    Seq(Vec<Node<'a>>),
    Map(Vec<Entry<'a>>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node<'a> {
    pub kind: NodeKind<'a>,
    pub pos: Pos,
}

/// What a node is, for "expected X, found Y" messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeName {
    Null,
    Bool,
    Integer,
    Number,
    String,
    Sequence,
    Mapping,
}

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TypeName::Null => "null",
            TypeName::Bool => "boolean",
            TypeName::Integer => "integer",
            TypeName::Number => "number",
            TypeName::String => "string",
            TypeName::Sequence => "list",
            TypeName::Mapping => "mapping",
        })
    }
}

/// Booleans as sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) resolves plain scalars, which is what
/// `kubectl apply` sends to the API server.
fn plain_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" | "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            Some(true)
        }
        "false" | "False" | "FALSE" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

fn plain_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn plain_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else {
        let mut underscores = false;
        if digits.is_empty()
            || !digits.bytes().all(|b| {
                underscores |= b == b'_';
                b.is_ascii_digit() || b == b'_'
            })
        {
            return None;
        }
        // Underscores (YAML 1.1 digit separators) are rare: parse in place without them.
        if underscores {
            digits.replace('_', "").parse::<i64>().ok()?
        } else {
            digits.parse::<i64>().ok()?
        }
    };
    Some(if neg { -value } else { value })
}

fn plain_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ => {
            let looks_numeric = text
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
            if looks_numeric && text.bytes().any(|b| b.is_ascii_digit()) {
                text.parse().ok()
            } else {
                None
            }
        }
    }
}

impl<'a> Node<'a> {
    #[must_use]
    pub fn type_name(&self) -> TypeName {
        match &self.kind {
            NodeKind::Seq(_) => TypeName::Sequence,
            NodeKind::Map(_) => TypeName::Mapping,
            NodeKind::Scalar(s) if !s.plain => TypeName::String,
            NodeKind::Scalar(s) => {
                if plain_null(&s.text) {
                    TypeName::Null
                } else if plain_bool(&s.text).is_some() {
                    TypeName::Bool
                } else if plain_int(&s.text).is_some() {
                    TypeName::Integer
                } else if plain_float(&s.text).is_some() {
                    TypeName::Number
                } else {
                    TypeName::String
                }
            }
        }
    }

    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar(s) if s.plain && plain_null(&s.text))
    }

    #[must_use]
    pub fn as_map(&self) -> Option<&[Entry<'a>]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_seq(&self) -> Option<&[Node<'a>]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The scalar's text when the node is a non-null scalar. Any scalar decodes into a
    /// Kubernetes string field (`tag: 1.20` is the string `"1.20"`), so this accepts numbers too.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s) if !(s.plain && plain_null(&s.text)) => Some(&s.text),
            _ => None,
        }
    }

    /// A string in the strict JSON sense: quoted, or plain and not resolving to another type.
    #[must_use]
    pub fn as_strict_str(&self) -> Option<&str> {
        match self.type_name() {
            TypeName::String => self.as_str(),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            NodeKind::Scalar(s) if s.plain => plain_bool(&s.text),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match &self.kind {
            NodeKind::Scalar(s) if s.plain => plain_int(&s.text),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match &self.kind {
            NodeKind::Scalar(s) if s.plain => plain_int(&s.text)
                .map(|i| i as f64)
                .or_else(|| plain_float(&s.text)),
            _ => None,
        }
    }

    /// The value under `key` when this node is a mapping. With duplicate keys the last wins,
    /// as in Go's YAML-to-JSON conversion.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.get_entry(key).map(|e| &e.value)
    }

    #[must_use]
    pub fn get_entry(&self, key: &str) -> Option<&Entry<'a>> {
        self.as_map()?.iter().rev().find(|e| e.key == key)
    }

    /// Follows a JSON pointer (RFC 6901) from this node.
    #[must_use]
    pub fn pointer(&self, pointer: &str) -> Option<&Node<'a>> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut node = self;
        for raw in pointer.strip_prefix('/')?.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            node = match &node.kind {
                NodeKind::Map(_) => node.get(&token)?,
                NodeKind::Seq(items) => items.get(token.parse::<usize>().ok()?)?,
                NodeKind::Scalar(_) => return None,
            };
        }
        Some(node)
    }

    /// Copies borrowed text so the tree can outlive its source buffer.
    #[must_use]
    pub fn into_owned(self) -> Node<'static> {
        let kind = match self.kind {
            NodeKind::Scalar(s) => NodeKind::Scalar(Scalar {
                text: Cow::Owned(s.text.into_owned()),
                plain: s.plain,
            }),
            NodeKind::Seq(items) => {
                NodeKind::Seq(items.into_iter().map(Node::into_owned).collect())
            }
            NodeKind::Map(entries) => NodeKind::Map(
                entries
                    .into_iter()
                    .map(|e| Entry {
                        key: Cow::Owned(e.key.into_owned()),
                        key_pos: e.key_pos,
                        value: e.value.into_owned(),
                    })
                    .collect(),
            ),
        };
        Node {
            kind,
            pos: self.pos,
        }
    }

    /// Converts to `serde_json`-like plain JSON text, resolving scalars as Kubernetes would.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// The same JSON as [`Node::to_json`], built directly as a `serde_json::Value`: editing and
    /// hardening need the value, and printing it only to parse it again cost more than the
    /// parse of the YAML. `None` for nesting deeper than this bothers to follow (serde_json's
    /// own reader stops at 128 levels); callers then take the text round trip, which decides.
    #[must_use]
    pub fn to_json_value(&self) -> Option<serde_json::Value> {
        self.json_value(0)
    }

    fn json_value(&self, depth: usize) -> Option<serde_json::Value> {
        use serde_json::Value;
        const MAX_JSON_DEPTH: usize = 100;
        Some(match &self.kind {
            NodeKind::Seq(items) => {
                if depth >= MAX_JSON_DEPTH {
                    return None;
                }
                Value::Array(
                    items
                        .iter()
                        .map(|i| i.json_value(depth + 1))
                        .collect::<Option<_>>()?,
                )
            }
            NodeKind::Map(entries) => {
                if depth >= MAX_JSON_DEPTH {
                    return None;
                }
                let mut map = serde_json::Map::new();
                // Inserted in order, so a duplicate key ends as the text round trip leaves it.
                for e in entries {
                    map.insert(e.key.to_string(), e.value.json_value(depth + 1)?);
                }
                Value::Object(map)
            }
            NodeKind::Scalar(s) => match self.type_name() {
                TypeName::Null => Value::Null,
                TypeName::Bool => Value::Bool(plain_bool(&s.text) == Some(true)),
                TypeName::Integer => Value::from(plain_int(&s.text).unwrap_or(0)),
                // Floats go through their text exactly as `to_json` writes them (`1.0` is
                // written `1` and read back as an integer); they are rare in manifests.
                TypeName::Number => match plain_float(&s.text) {
                    Some(f) if f.is_finite() => serde_json::from_str(&f.to_string()).ok()?,
                    _ => Value::String(s.text.to_string()),
                },
                _ => Value::String(s.text.to_string()),
            },
        })
    }

    fn write_json(&self, out: &mut String) {
        match &self.kind {
            NodeKind::Seq(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            NodeKind::Map(entries) => {
                out.push('{');
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(out, &e.key);
                    out.push(':');
                    e.value.write_json(out);
                }
                out.push('}');
            }
            NodeKind::Scalar(s) => match self.type_name() {
                TypeName::Null => out.push_str("null"),
                TypeName::Bool => out.push_str(if plain_bool(&s.text) == Some(true) {
                    "true"
                } else {
                    "false"
                }),
                TypeName::Integer => out.push_str(&plain_int(&s.text).unwrap_or(0).to_string()),
                TypeName::Number => match plain_float(&s.text) {
                    Some(f) if f.is_finite() => out.push_str(&f.to_string()),
                    _ => write_json_string(out, &s.text),
                },
                _ => write_json_string(out, &s.text),
            },
        }
    }
}

fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
