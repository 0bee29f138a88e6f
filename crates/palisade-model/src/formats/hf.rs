//! Hugging Face model directories: `auto_map` in `config.json`/`tokenizer_config.json`
//! points `trust_remote_code=True` at Python files that run on `from_pretrained`.

use std::path::Path;

use serde_json::Value;

use crate::rules;
use crate::scan::{Ctx, Loc};

pub(crate) fn scan_config_json(ctx: &mut Ctx<'_>, loc: &Loc, data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Some(map) = v.get("auto_map").and_then(Value::as_object) else {
        return;
    };
    let mut targets: Vec<String> = Vec::new();
    for val in map.values() {
        match val {
            Value::String(s) => targets.push(s.clone()),
            Value::Array(a) => {
                targets.extend(a.iter().filter_map(Value::as_str).map(str::to_owned))
            }
            _ => {}
        }
    }
    if targets.is_empty() {
        return;
    }
    // `repo--module.Class` loads code from another repository.
    let remote: Vec<&String> = targets.iter().filter(|t| t.contains("--")).collect();
    let m = rules::RemoteCode::META;
    let mut msg = format!(
        "auto_map makes `trust_remote_code` run {}",
        targets
            .iter()
            .take(4)
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !remote.is_empty() {
        msg.push_str(&format!(
            "; {} of them from another repository",
            remote.len()
        ));
    }
    let f = ctx.add(&m, m.severity, loc, "huggingface", None, msg);
    f.callable = targets.first().cloned();
}

/// Python files shipped in a model directory that has a `config.json`.
pub(crate) fn scan_dir(ctx: &mut Ctx<'_>, dir: &Path, files: &[String]) {
    let has_config = files.iter().any(|f| f == "config.json");
    if !has_config {
        return;
    }
    let py: Vec<&String> = files.iter().filter(|f| f.ends_with(".py")).collect();
    if py.is_empty() {
        return;
    }
    let m = rules::RemoteCode::META;
    let loc = Loc::default();
    let f = ctx.add(
        &m,
        m.severity,
        &loc,
        "huggingface",
        None,
        format!(
            "model directory {} ships Python code ({}) that `trust_remote_code=True` would import",
            dir.display(),
            py.iter()
                .take(5)
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    f.callable = py.first().map(|p| p.to_string());
}
