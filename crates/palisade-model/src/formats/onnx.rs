//! ONNX: external-data paths and custom operator domains, found by walking the protobuf
//! (`ModelProto` → graph → nodes, initializers, attribute subgraphs, functions). Tensor data
//! is skipped, not read.

use super::protobuf::{Fields, Value, string};
use crate::finding::Severity;
use crate::rules;
use crate::scan::{Ctx, Loc};
use crate::source::Src;

const STANDARD_DOMAINS: &[&str] = &[
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.training",
    "ai.onnx.preview.training",
    "com.microsoft",
    "com.microsoft.nchwc",
    "org.pytorch.aten",
];

#[derive(Default)]
struct State {
    domains: Vec<(String, String)>,
    external: Vec<(String, String)>,
    error: Option<String>,
    nodes: usize,
}

pub(crate) fn scan(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) {
    let mut st = State::default();
    for (field, v) in model_fields(src, &mut st) {
        match (field, v) {
            (7, Value::Bytes(g)) => graph(g, &mut st, 0),
            (8, Value::Bytes(op)) => {
                let mut domain = String::new();
                for (f, v) in Fields::new(op) {
                    if let (1, Value::Bytes(s)) = (f, v) {
                        domain = string(s, 256);
                    }
                }
                note_domain(&mut st, domain, "opset_import".into());
            }
            // FunctionProto: nodes in field 7.
            (25, Value::Bytes(func)) => {
                for (f, v) in Fields::new(func) {
                    if let (7, Value::Bytes(n)) = (f, v) {
                        node(n, &mut st, 1);
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(e) = &st.error {
        let m = rules::ArchiveAnomaly::META;
        ctx.add(
            &m,
            Severity::Low,
            loc,
            "onnx",
            None,
            format!("ONNX protobuf is malformed: {e}"),
        );
    }
    for (location, tensor) in &st.external {
        let m = rules::OnnxExternalDataEscape::META;
        ctx.add(&m, m.severity, loc, "onnx", None, format!("tensor `{tensor}` reads external data from {location:?}, outside the model directory"));
    }
    for (domain, op) in &st.domains {
        let m = rules::OnnxCustomOperator::META;
        ctx.add(&m, m.severity, loc, "onnx", None, format!("operator `{op}` uses the custom domain `{domain}`; running it needs a native custom-op library"));
    }
}

fn model_fields<'a>(src: Src<'a>, st: &mut State) -> Vec<(u32, Value<'a>)> {
    let mut it = Fields::new(src);
    let v: Vec<_> = it.by_ref().collect();
    if let Some(e) = it.error {
        st.error.get_or_insert(e);
    }
    v
}

fn note_domain(st: &mut State, domain: String, op: String) {
    if !STANDARD_DOMAINS.contains(&domain.as_str())
        && !st.domains.iter().any(|(d, _)| *d == domain)
        && st.domains.len() < 32
    {
        st.domains.push((domain, op));
    }
}

fn graph(src: Src<'_>, st: &mut State, depth: u32) {
    if depth > 16 {
        return;
    }
    for (field, v) in model_fields(src, st) {
        match (field, v) {
            (1, Value::Bytes(n)) => node(n, st, depth),
            (5, Value::Bytes(t)) => tensor(t, st),
            (15, Value::Bytes(sp)) => {
                for (f, v) in Fields::new(sp) {
                    if let (1 | 2, Value::Bytes(t)) = (f, v) {
                        tensor(t, st);
                    }
                }
            }
            _ => {}
        }
    }
}

fn node(src: Src<'_>, st: &mut State, depth: u32) {
    st.nodes += 1;
    if st.nodes > 1_000_000 {
        return;
    }
    let mut op = String::new();
    let mut domain = String::new();
    for (field, v) in model_fields(src, st) {
        match (field, v) {
            (4, Value::Bytes(s)) => op = string(s, 256),
            (7, Value::Bytes(s)) => domain = string(s, 256),
            (5, Value::Bytes(attr)) => {
                for (f, v) in Fields::new(attr) {
                    match (f, v) {
                        (5, Value::Bytes(t)) => tensor(t, st),
                        (6 | 11, Value::Bytes(g)) => graph(g, st, depth + 1),
                        (10, Value::Bytes(t)) => tensor(t, st),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    note_domain(st, domain, op);
}

fn tensor(src: Src<'_>, st: &mut State) {
    let mut name = String::new();
    let mut location = None;
    for (field, v) in Fields::new(src) {
        match (field, v) {
            (8, Value::Bytes(s)) => name = string(s, 256),
            (13, Value::Bytes(entry)) => {
                let mut key = String::new();
                let mut value = String::new();
                for (f, v) in Fields::new(entry) {
                    match (f, v) {
                        (1, Value::Bytes(s)) => key = string(s, 64),
                        (2, Value::Bytes(s)) => value = string(s, 4096),
                        _ => {}
                    }
                }
                if key == "location" {
                    location = Some(value);
                }
            }
            _ => {}
        }
    }
    if let Some(l) = location
        && escapes_model_dir(&l)
        && st.external.len() < 64
    {
        st.external.push((l, name));
    }
}

/// Absolute paths, drive letters, URLs and `..` that climb above the model directory.
pub(crate) fn escapes_model_dir(location: &str) -> bool {
    location.contains("://") || super::archive::escapes(location)
}
