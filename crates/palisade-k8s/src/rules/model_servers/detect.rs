//! Recognising model servers and ML control planes from a container's image, command, args
//! and env, and reading those fields with their positions. Shared by the model-server,
//! model-file and whole-scan rules.

use std::borrow::Cow;
use std::cell::OnceCell;

use palisade_yaml::{Node, Pos, push_index, push_key};

use crate::model::{Container, ContainerKind, PodSpec};
use crate::rules::text::{contains, last_segment};
use crate::rules::{ImageRef, parse_image};

/// One word of a container's command line, with where it was written.
///
/// Words are read for every container of every pod, and only the few that end up in a
/// finding need a pointer, so the pointer is built on demand from borrowed parts.
#[derive(Clone, Debug)]
pub struct Word<'w> {
    /// The word with shell quotes removed (`--NotebookApp.token=''` reads `--NotebookApp.token=`).
    pub text: Cow<'w, str>,
    container_ptr: &'w str,
    /// `command` or `args`.
    field: &'static str,
    /// Index of the element in its list.
    index: usize,
    pub pos: Pos,
    /// The element held several words (a `sh -c` script): editing it means rewriting the script.
    pub in_script: bool,
    /// Length of the text before its first `=`: the flag name of `--name=value`.
    name_len: usize,
}

impl Word<'_> {
    /// Pointer of the `command`/`args` element the word is in.
    #[must_use]
    pub fn ptr(&self) -> String {
        push_index(&self.list_ptr(), self.index)
    }

    /// Pointer of the list (`…/args`) the element is in.
    #[must_use]
    pub fn list_ptr(&self) -> String {
        push_key(self.container_ptr, self.field)
    }

    /// Whether both words come from the same `command`/`args` element.
    fn same_element(&self, other: &Word<'_>) -> bool {
        self.field == other.field && self.index == other.index
    }

    /// Whether the word is one of the flags `names` (none of which has a `=`): `Some(Some(v))`
    /// for `--name=v`, `Some(None)` for a bare `--name`. The name is split off once, when
    /// the word is read, so that the many flag look-ups of the rules compare whole strings
    /// (mostly settled by their lengths) instead of testing prefixes.
    fn as_flag(&self, names: &[&str]) -> Option<Option<&str>> {
        let name = &self.text[..self.name_len];
        names
            .contains(&name)
            .then(|| self.text.get(self.name_len + 1..))
    }
}

/// `command` then `args`, split into words. Elements with whitespace are shell scripts
/// (`sh -c "jupyter lab --ServerApp.token=''"`), so their words are read too.
#[must_use]
pub fn words<'w>(container: &'w Node<'w>, container_ptr: &'w str) -> Vec<Word<'w>> {
    let mut out = Vec::new();
    for field in ["command", "args"] {
        let Some(items) = container.get(field).and_then(Node::as_seq) else {
            continue;
        };
        out.reserve(items.len());
        for (index, item) in items.iter().enumerate() {
            let Some(text) = item.as_str() else { continue };
            let first = out.len();
            for w in split_words(text) {
                // Borrow unless there are quotes to strip: almost no word has any.
                let text = if w.bytes().any(|b| b == b'\'' || b == b'"') {
                    Cow::Owned(w.replace(['\'', '"'], ""))
                } else {
                    Cow::Borrowed(w)
                };
                out.push(Word {
                    name_len: text.bytes().position(|b| b == b'=').unwrap_or(text.len()),
                    text,
                    container_ptr,
                    field,
                    index,
                    pos: item.pos,
                    in_script: false,
                });
            }
            if out.len() - first > 1 {
                for w in &mut out[first..] {
                    w.in_script = true;
                }
            }
        }
    }
    out
}

/// `str::split_whitespace`, by bytes when the text is ASCII: decoding characters one by one
/// was most of the cost of reading a command line, and command lines are nearly always ASCII.
fn split_words(text: &str) -> impl Iterator<Item = &str> {
    // The ASCII characters `char::is_whitespace` accepts (`u8::is_ascii_whitespace` lacks
    // the vertical tab).
    fn space(b: u8) -> bool {
        matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
    }
    let b = text.as_bytes();
    let mut unicode = (!text.is_ascii()).then(|| text.split_whitespace());
    let mut i = 0;
    std::iter::from_fn(move || {
        if let Some(words) = &mut unicode {
            return words.next();
        }
        while i < b.len() && space(b[i]) {
            i += 1;
        }
        let start = i;
        while i < b.len() && !space(b[i]) {
            i += 1;
        }
        (i > start).then(|| &text[start..i])
    })
}

/// A flag found on the command line.
#[derive(Clone, Copy, Debug)]
pub struct Flag<'f, 'w> {
    pub word: &'f Word<'w>,
    /// `--x=v` or `--x v`; `None` for a bare `--x`.
    pub value: Option<&'f str>,
}

/// The last occurrence of any of `names` (argparse and traitlets let the last one win), as
/// `--name=value`, `--name value` or a bare `--name`.
#[must_use]
pub fn flag<'f, 'w>(words: &'f [Word<'w>], names: &[&str]) -> Option<Flag<'f, 'w>> {
    let mut found = None;
    let dashed = all_dashed(names);
    for (i, w) in words.iter().enumerate() {
        if dashed && !w.text.starts_with('-') {
            continue;
        }
        match w.as_flag(names) {
            Some(Some(value)) => {
                found = Some(Flag {
                    word: w,
                    value: Some(value),
                });
            }
            Some(None) => {
                let value = words
                    .get(i + 1)
                    .filter(|n| n.same_element(w) || !n.in_script)
                    .map(|n| n.text.as_ref())
                    .filter(|v| !v.starts_with('-'));
                found = Some(Flag { word: w, value });
            }
            None => {}
        }
    }
    found
}

/// Every flag occurrence of `names` (for repeatable flags such as `--http-restricted-api`).
#[must_use]
pub fn flag_values<'f, 'w>(words: &'f [Word<'w>], names: &[&str]) -> Vec<Flag<'f, 'w>> {
    let mut out = Vec::new();
    let dashed = all_dashed(names);
    for (i, w) in words.iter().enumerate() {
        if dashed && !w.text.starts_with('-') {
            continue;
        }
        match w.as_flag(names) {
            Some(Some(value)) => out.push(Flag {
                word: w,
                value: Some(value),
            }),
            Some(None) => out.push(Flag {
                word: w,
                value: words
                    .get(i + 1)
                    .map(|n| n.text.as_ref())
                    .filter(|v| !v.starts_with('-')),
            }),
            None => {}
        }
    }
    out
}

/// Whether every flag name starts with `-`: then only words that do can be one (most words
/// of a command line are programs, paths and values).
fn all_dashed(names: &[&str]) -> bool {
    names.iter().all(|n| n.starts_with('-'))
}

/// Whether any word is exactly `text`.
#[must_use]
pub fn has_word(words: &[Word<'_>], text: &str) -> bool {
    words.iter().any(|w| w.text == text)
}

/// One `env` entry.
#[derive(Clone, Debug)]
pub struct EnvVar<'a> {
    pub name: &'a str,
    /// The literal value; `None` for `valueFrom` (a Secret or ConfigMap decides it).
    pub value: Option<&'a str>,
    pub from_ref: bool,
    container_ptr: &'a str,
    /// Index of the entry in `env`.
    index: usize,
    pub pos: Pos,
    /// Where the value is written (the entry when there is no `value`).
    pub value_pos: Pos,
}

impl EnvVar<'_> {
    /// Pointer of the entry, built on demand (only findings need it).
    #[must_use]
    pub fn ptr(&self) -> String {
        push_index(&push_key(self.container_ptr, "env"), self.index)
    }
}

/// The container's env entries in order.
#[must_use]
pub fn env<'a>(container: &'a Container<'a>) -> Vec<EnvVar<'a>> {
    container
        .env
        .iter()
        .map(|e| EnvVar {
            name: e.name,
            // A present-but-null `value` is the empty string to the API server.
            value: match e.value {
                Some(v) => Some(v.as_str().unwrap_or("")),
                None if e.value_from => None,
                None => Some(""),
            },
            from_ref: e.value_from,
            container_ptr: &container.ptr,
            index: e.index,
            pos: e.pos,
            value_pos: e.value.map_or(e.pos, |v| v.pos),
        })
        .collect()
}

/// The last entry named `name` (the kubelet lets later duplicates win).
#[must_use]
pub fn env_var<'e, 'a>(env: &'e [EnvVar<'a>], name: &str) -> Option<&'e EnvVar<'a>> {
    env.iter().rev().find(|e| e.name == name)
}

/// Whether an env var is set to something that is not empty (a `valueFrom` counts as set:
/// the Secret decides).
#[must_use]
pub fn env_set(env: &[EnvVar<'_>], name: &str) -> bool {
    env_var(env, name).is_some_and(|e| e.from_ref || e.value.is_some_and(|v| !v.trim().is_empty()))
}

/// What the model-server and model-file rules read from one container: its words, its env
/// and the server it runs. Eleven rules read these, so they are worked out once per pod
/// spec (see [`PodFacts`]) instead of once per rule.
#[derive(Debug)]
pub struct ContainerFacts<'w> {
    pub words: Vec<Word<'w>>,
    pub env: Vec<EnvVar<'w>>,
    pub server: Option<Server>,
}

impl<'w> ContainerFacts<'w> {
    #[must_use]
    pub fn new(c: &'w Container<'w>) -> Self {
        let words = words(c.raw, &c.ptr);
        let server = classify_ref(c.image_ref.as_ref(), &words);
        ContainerFacts {
            words,
            env: env(c),
            server,
        }
    }
}

/// Per-pod-spec cache of [`ContainerFacts`] for the serving containers, filled on first use
/// (a pod rule that never asks costs nothing).
#[derive(Debug, Default)]
pub struct PodFacts<'w> {
    serving: OnceCell<Vec<ContainerFacts<'w>>>,
}

impl<'w> PodFacts<'w> {
    /// The serving containers of `spec` (init containers run to completion before anything
    /// listens) with their facts. `spec` must be the spec this cache was made for.
    pub fn serving<'s>(
        &'s self,
        spec: &'w PodSpec<'w>,
    ) -> impl Iterator<Item = (&'w Container<'w>, &'s ContainerFacts<'w>)> {
        let facts = self
            .serving
            .get_or_init(|| serving(&spec.containers).map(ContainerFacts::new).collect());
        serving(&spec.containers).zip(facts)
    }
}

fn serving<'c, 'a>(containers: &'c [Container<'a>]) -> impl Iterator<Item = &'c Container<'a>> {
    containers.iter().filter(|c| c.kind != ContainerKind::Init)
}

/// Model servers and ML control planes Palisade recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Server {
    Triton,
    TorchServe,
    Ray,
    Jupyter,
    Mlflow,
    TfServing,
    Vllm,
    Tgi,
    Ollama,
}

impl Server {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Server::Triton => "Triton Inference Server",
            Server::TorchServe => "TorchServe",
            Server::Ray => "Ray",
            Server::Jupyter => "Jupyter",
            Server::Mlflow => "MLflow",
            Server::TfServing => "TensorFlow Serving",
            Server::Vllm => "vLLM",
            Server::Tgi => "text-generation-inference",
            Server::Ollama => "Ollama",
        }
    }

    /// Servers that serve models for inference (as opposed to notebooks, trackers and
    /// cluster dashboards).
    #[must_use]
    pub fn is_inference(self) -> bool {
        !matches!(self, Server::Ray | Server::Jupyter | Server::Mlflow)
    }
}

/// The server a container runs, from its command line first (a generic Python image can run
/// any of them) and then its image.
#[must_use]
pub fn classify(image: Option<&str>, words: &[Word<'_>]) -> Option<Server> {
    classify_ref(image.map(parse_image).as_ref(), words)
}

/// [`classify`] with the image already split (the pod model keeps it split).
#[must_use]
pub fn classify_ref(image: Option<&ImageRef<'_>>, words: &[Word<'_>]) -> Option<Server> {
    for (i, w) in words.iter().enumerate() {
        let b = last_segment(&w.text);
        let next = words.get(i + 1).map(|n| n.text.as_ref());
        let found = match b {
            "tritonserver" => Some(Server::Triton),
            "torchserve" => Some(Server::TorchServe),
            "tensorflow_model_server" => Some(Server::TfServing),
            "text-generation-launcher" => Some(Server::Tgi),
            "jupyter"
            | "jupyter-lab"
            | "jupyter-notebook"
            | "jupyterhub-singleuser"
            | "start-notebook.sh"
            | "start-notebook.py"
            | "start-singleuser.sh" => Some(Server::Jupyter),
            "mlflow" if matches!(next, Some("server" | "ui")) => Some(Server::Mlflow),
            "vllm" if next == Some("serve") => Some(Server::Vllm),
            "ollama" if next == Some("serve") => Some(Server::Ollama),
            "ray" if next == Some("start") => Some(Server::Ray),
            _ if w.text.starts_with("vllm.entrypoints") => Some(Server::Vllm),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    let repo = crate::rules::ascii_lowercase(image?.repository);
    let last = last_segment(&repo);
    if contains(last, "tritonserver") {
        Some(Server::Triton)
    } else if contains(last, "torchserve") {
        Some(Server::TorchServe)
    } else if repo.ends_with("tensorflow/serving") || contains(last, "tensorflow-serving") {
        Some(Server::TfServing)
    } else if contains(last, "text-generation-inference") {
        Some(Server::Tgi)
    } else if contains(last, "vllm") {
        Some(Server::Vllm)
    } else if last == "ollama" {
        Some(Server::Ollama)
    } else if contains(last, "mlflow") && has_word(words, "server") {
        Some(Server::Mlflow)
    } else if repo.starts_with("rayproject/") || repo.starts_with("anyscale/ray") {
        Some(Server::Ray)
    } else if contains(last, "jupyter") || last.ends_with("-notebook") {
        Some(Server::Jupyter)
    } else {
        None
    }
}

/// Whether an address binds every interface (`0.0.0.0`, `::`, `[::]`, with or without a
/// scheme and port).
#[must_use]
pub fn binds_all(addr: &str) -> bool {
    let a = addr.trim();
    let a = a.split_once("://").map_or(a, |(_, rest)| rest);
    a == "0.0.0.0"
        || a.starts_with("0.0.0.0:")
        || a.starts_with("0.0.0.0/")
        || a == "::"
        || a.starts_with("[::]")
        || a.starts_with(":::")
}

/// Whether an address is loopback only.
#[must_use]
pub fn binds_loopback(addr: &str) -> bool {
    let a = addr.trim();
    let a = a.split_once("://").map_or(a, |(_, rest)| rest);
    a.starts_with("127.") || a.starts_with("localhost") || a.starts_with("[::1]") || a == "::1"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> palisade_yaml::Node<'static> {
        palisade_yaml::parse_stream(src)
            .into_iter()
            .next()
            .unwrap()
            .unwrap()
            .root
            .into_owned()
    }

    #[test]
    fn words_flags_and_scripts() {
        let c = parse(
            "command: [sh, -c, \"jupyter lab --ServerApp.token='' --port 8888\"]\nargs: [--x=1, --y, two]\n",
        );
        let w = words(&c, "/c");
        let f = flag(&w, &["--ServerApp.token"]).unwrap();
        assert_eq!(f.value, Some(""));
        assert_eq!(f.word.ptr(), "/c/command/2");
        assert!(f.word.in_script);
        assert_eq!(flag(&w, &["--port"]).unwrap().value, Some("8888"));
        assert_eq!(flag(&w, &["--y"]).unwrap().value, Some("two"));
        assert_eq!(flag(&w, &["--x"]).unwrap().word.ptr(), "/c/args/0");
        assert_eq!(classify(Some("python:3.11"), &w), Some(Server::Jupyter));
    }

    #[test]
    fn addresses() {
        assert!(binds_all("http://0.0.0.0:8081"));
        assert!(binds_all("[::]:8080"));
        assert!(!binds_all("127.0.0.1"));
        assert!(binds_loopback("http://127.0.0.1:8081"));
    }

    #[test]
    fn images() {
        assert_eq!(
            classify(Some("nvcr.io/nvidia/tritonserver:24.08-py3"), &[]),
            Some(Server::Triton)
        );
        assert_eq!(
            classify(Some("tensorflow/serving:2.16.1"), &[]),
            Some(Server::TfServing)
        );
        assert_eq!(
            classify(Some("vllm/vllm-openai:v0.6.3"), &[]),
            Some(Server::Vllm)
        );
        assert_eq!(classify(Some("redis:7"), &[]), None);
    }
}
