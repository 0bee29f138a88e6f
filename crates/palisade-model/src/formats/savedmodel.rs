//! TensorFlow SavedModel (`saved_model.pb`): operations of every graph and every function in
//! the graph library, checked against ops that touch files or run Python.

use super::protobuf::{Fields, Value, string};
use crate::finding::Severity;
use crate::rules;
use crate::scan::{Ctx, Loc};
use crate::source::Src;

/// Ops that read/write files or call back into Python.
const DANGEROUS_OPS: &[(&str, &str)] = &[
    ("ReadFile", "reads arbitrary files"),
    ("WriteFile", "writes arbitrary files"),
    ("MatchingFiles", "lists the file system"),
    ("PyFunc", "calls a Python function"),
    ("PyFuncStateless", "calls a Python function"),
    ("EagerPyFunc", "calls a Python function"),
    ("ImmutableConst", "memory-maps a file named in the graph"),
    ("ShardedFilespec", "builds file paths"),
    ("DebugIdentityV2", "writes debug events to a file path"),
    ("PrintV2", "writes to an output stream that may be a file"),
];

pub(crate) fn scan(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut error = None;
    let mut it = Fields::new(src);
    for (f, v) in it.by_ref() {
        if let (2, Value::Bytes(meta)) = (f, v) {
            for (f, v) in Fields::new(meta) {
                if let (2, Value::Bytes(graph)) = (f, v) {
                    graph_def(graph, &mut found, &mut error);
                }
            }
        }
    }
    if let Some(e) = it.error.or(error) {
        let m = rules::ArchiveAnomaly::META;
        ctx.add(
            &m,
            Severity::Low,
            loc,
            "tensorflow-savedmodel",
            None,
            format!("SavedModel protobuf is malformed: {e}"),
        );
    }
    for (op, node) in found {
        let why = DANGEROUS_OPS
            .iter()
            .find(|(o, _)| *o == op)
            .map_or("", |(_, w)| *w);
        let severity = if op == "PrintV2" || op == "ShardedFilespec" || op == "DebugIdentityV2" {
            Severity::Low
        } else {
            Severity::High
        };
        let m = rules::TensorflowDangerousOp::META;
        let f = ctx.add(
            &m,
            severity,
            loc,
            "tensorflow-savedmodel",
            None,
            format!("graph node `{node}` uses `{op}`, which {why}"),
        );
        f.callable = Some(op);
    }
}

fn graph_def(src: Src<'_>, found: &mut Vec<(String, String)>, error: &mut Option<String>) {
    let mut it = Fields::new(src);
    for (f, v) in it.by_ref() {
        match (f, v) {
            (1, Value::Bytes(node)) => node_def(node, found),
            // FunctionDefLibrary.function[].node_def[]
            (2, Value::Bytes(lib)) => {
                for (f, v) in Fields::new(lib) {
                    if let (1, Value::Bytes(func)) = (f, v) {
                        for (f, v) in Fields::new(func) {
                            if let (3, Value::Bytes(node)) = (f, v) {
                                node_def(node, found);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(e) = it.error {
        error.get_or_insert(e);
    }
}

fn node_def(src: Src<'_>, found: &mut Vec<(String, String)>) {
    let mut name = String::new();
    let mut op = String::new();
    for (f, v) in Fields::new(src) {
        match (f, v) {
            (1, Value::Bytes(s)) => name = string(s, 256),
            (2, Value::Bytes(s)) => op = string(s, 128),
            _ => {}
        }
    }
    if DANGEROUS_OPS.iter().any(|(o, _)| *o == op)
        && found.len() < 64
        && !found.iter().any(|(o, n)| *o == op && *n == name)
    {
        found.push((op, name));
    }
}
