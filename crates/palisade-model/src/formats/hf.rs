//! Hugging Face model directories: `auto_map` in `config.json`/`tokenizer_config.json`
//! points `trust_remote_code=True` at Python files that run on `from_pretrained`. The Python
//! files themselves are reported only next to a `transformers` model config, so an
//! application's `config.json` beside its sources is not mistaken for a model.

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

/// Keys that only a `transformers` model config has; a `config.json` without any of them
/// belongs to something else (an application, a Keras model), whose Python files
/// `from_pretrained` never imports.
const MODEL_CONFIG_KEYS: &[&str] = &[
    "model_type",
    "architectures",
    "auto_map",
    "transformers_version",
    "_name_or_path",
];

/// True when `data` is a Hugging Face model config.
fn is_model_config(data: &[u8]) -> bool {
    serde_json::from_slice::<Value>(data)
        .ok()
        .and_then(|v| {
            v.as_object()
                .map(|o| MODEL_CONFIG_KEYS.iter().any(|k| o.contains_key(*k)))
        })
        .unwrap_or(false)
}

/// Python files shipped in a Hugging Face model directory (one whose `config.json` is a
/// model config).
pub(crate) fn scan_dir(ctx: &mut Ctx<'_>, dir: &Path, files: &[String]) {
    const MAX_CONFIG: u64 = 16 * 1024 * 1024;
    let config = dir.join("config.json");
    let is_model_dir = files.iter().any(|f| f == "config.json")
        && std::fs::metadata(&config).is_ok_and(|m| m.len() <= MAX_CONFIG)
        && std::fs::read(&config).is_ok_and(|data| is_model_config(&data));
    if !is_model_dir {
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
