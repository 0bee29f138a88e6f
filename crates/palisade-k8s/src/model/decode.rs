use palisade_yaml::{Node, Pos, TypeName};

/// A field whose value has the wrong type or shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub pos: Pos,
    pub pointer: String,
    pub message: String,
}

/// Collects type errors while typed views are built; decoding never stops at the first one.
#[derive(Debug, Default)]
pub struct Decoder {
    pub errors: Vec<DecodeError>,
}

impl Decoder {
    pub fn error(&mut self, node: &Node<'_>, pointer: &str, expected: &str) {
        self.errors.push(DecodeError {
            pos: node.pos,
            pointer: pointer.to_string(),
            message: format!(
                "{}: expected {expected}, found {}",
                field_name(pointer),
                describe(node)
            ),
        });
    }

    /// A mapping, or `None` for null/absent. Reports anything else.
    pub fn map<'n, 'a>(
        &mut self,
        node: Option<&'n Node<'a>>,
        pointer: &str,
    ) -> Option<&'n Node<'a>> {
        let node = node?;
        if node.as_map().is_some() {
            Some(node)
        } else {
            if !node.is_null() {
                self.error(node, pointer, "a mapping");
            }
            None
        }
    }

    pub fn seq<'n, 'a>(&mut self, node: Option<&'n Node<'a>>, pointer: &str) -> &'n [Node<'a>] {
        match node {
            Some(n) => match n.as_seq() {
                Some(items) => items,
                None => {
                    if !n.is_null() {
                        self.error(n, pointer, "a list");
                    }
                    &[]
                }
            },
            None => &[],
        }
    }

    pub fn bool(&mut self, node: Option<&Node<'_>>, pointer: &str) -> Option<Sp<bool>> {
        let node = node?;
        match node.as_bool() {
            Some(v) => Some(Sp {
                value: v,
                pos: node.pos,
            }),
            None => {
                if !node.is_null() {
                    self.error(node, pointer, "a boolean (true or false)");
                }
                None
            }
        }
    }

    pub fn int(&mut self, node: Option<&Node<'_>>, pointer: &str) -> Option<Sp<i64>> {
        let node = node?;
        match node.as_i64() {
            Some(v) => Some(Sp {
                value: v,
                pos: node.pos,
            }),
            None => {
                if !node.is_null() {
                    self.error(node, pointer, "an integer");
                }
                None
            }
        }
    }

    /// A string. Plain scalars of other types are accepted as their text, as the API server
    /// accepts `name: 123`; collections are errors.
    pub fn str<'n>(&mut self, node: Option<&'n Node<'_>>, pointer: &str) -> Option<Sp<&'n str>> {
        let node = node?;
        if node.as_map().is_some() || node.as_seq().is_some() {
            self.error(node, pointer, "a string");
            return None;
        }
        node.as_str().map(|v| Sp {
            value: v,
            pos: node.pos,
        })
    }
}

use super::Sp;

fn field_name(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or(pointer)
}

fn describe(node: &Node<'_>) -> String {
    match node.type_name() {
        TypeName::String => format!("string {:?}", node.as_str().unwrap_or_default()),
        TypeName::Sequence => "a list".into(),
        TypeName::Mapping => "a mapping".into(),
        other => format!("{other} `{}`", node.as_str().unwrap_or_default()),
    }
}
