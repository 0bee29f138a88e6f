use palisade_yaml::{Node, Pos, TypeName, append_index, append_key};

/// A JSON pointer that is only spelled out when an error needs it.
///
/// Decoding checks every field of every pod spec, and almost all of them are well-typed:
/// building a `String` pointer per field read (most of them absent) used to cost more than
/// the checks. Field pointers are therefore chains of [`Key`] and [`Index`] on the stack,
/// rendered by [`Decoder::error`].
pub trait Pointer {
    fn write_to(&self, out: &mut String);

    fn render(&self) -> String {
        // Room for a container's pointer (`/spec/template/spec/containers/0`) at once.
        let mut out = String::with_capacity(64);
        self.write_to(&mut out);
        out
    }
}

impl Pointer for str {
    fn write_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Pointer for String {
    fn write_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

/// `parent` extended with a mapping key (escaped per RFC 6901 when rendered).
#[derive(Clone, Copy)]
pub struct Key<'p>(pub &'p dyn Pointer, pub &'p str);

impl Pointer for Key<'_> {
    fn write_to(&self, out: &mut String) {
        self.0.write_to(out);
        append_key(out, self.1);
    }
}

/// `parent` extended with a sequence index.
#[derive(Clone, Copy)]
pub struct Index<'p>(pub &'p dyn Pointer, pub usize);

impl Pointer for Index<'_> {
    fn write_to(&self, out: &mut String) {
        self.0.write_to(out);
        append_index(out, self.1);
    }
}

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
    pub fn error(&mut self, node: &Node<'_>, pointer: &(impl Pointer + ?Sized), expected: &str) {
        let pointer = pointer.render();
        self.errors.push(DecodeError {
            pos: node.pos,
            message: format!(
                "{}: expected {expected}, found {}",
                field_name(&pointer),
                describe(node)
            ),
            pointer,
        });
    }

    /// A mapping, or `None` for null/absent. Reports anything else.
    pub fn map<'n, 'a>(
        &mut self,
        node: Option<&'n Node<'a>>,
        pointer: &(impl Pointer + ?Sized),
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

    pub fn seq<'n, 'a>(
        &mut self,
        node: Option<&'n Node<'a>>,
        pointer: &(impl Pointer + ?Sized),
    ) -> &'n [Node<'a>] {
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

    pub fn bool(
        &mut self,
        node: Option<&Node<'_>>,
        pointer: &(impl Pointer + ?Sized),
    ) -> Option<Sp<bool>> {
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

    pub fn int(
        &mut self,
        node: Option<&Node<'_>>,
        pointer: &(impl Pointer + ?Sized),
    ) -> Option<Sp<i64>> {
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
    pub fn str<'n>(
        &mut self,
        node: Option<&'n Node<'_>>,
        pointer: &(impl Pointer + ?Sized),
    ) -> Option<Sp<&'n str>> {
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
