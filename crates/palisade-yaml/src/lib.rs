//! YAML (and therefore JSON) documents as a tree of [`Node`]s that remember their position.
//!
//! Scanners report `file:line:column` and a JSON pointer for every finding, so the parse tree
//! must keep positions, and one broken document must not hide the others in the same stream.
//! The stream is therefore split the way `kubectl` splits it (on `---` lines) and every
//! document is parsed on its own: an error names the document's first line and the error's
//! own line, and parsing carries on with the next document.
//!
//! Scalars keep their source text and whether they were quoted, and are resolved when a
//! reader asks for a type: Kubernetes decodes `name: 0123` into a string field as `"0123"`,
//! and `runAsNonRoot: "true"` (quoted) is a type error, not a boolean.

pub mod edit;
mod fast;
mod json;
mod node;
mod parse;
mod pointer;

pub use node::{Entry, Node, NodeKind, Pos, Scalar, TypeName};
pub use parse::line_starts;
pub use parse::{
    Document, MAX_ALIAS_EXPANSION, ParseError, ParseStats, parse_stream, parse_stream_reference,
    parse_stream_with_lines, parse_stream_with_stats, parse_stream_without_json,
};
pub use pointer::{append_index, append_key, escape_token, push_index, push_key};
