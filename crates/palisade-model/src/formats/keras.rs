//! Keras: the model config JSON, from a `.keras` zip's `config.json` or from the
//! `model_config` attribute of a legacy HDF5 file. There is no maintained pure-Rust HDF5
//! reader, so for `.h5` the attribute's JSON text is found by a byte-level search (h5py
//! stores it as one contiguous string) and parsed with serde_json.

use serde_json::Value;

use crate::finding::Severity;
use crate::pickle::classify::{Verdict, classify};
use crate::pickle::embedded::decode_base64;
use crate::rules;
use crate::scan::{Ctx, Loc};
use crate::source::Src;

const CHUNK: u64 = 8 * 1024 * 1024;
const MAX_JSON: usize = 64 * 1024 * 1024;

/// Names that identify what Lambda bytecode does (found in the marshalled code's constants).
const BYTECODE_HINTS: &[&str] = &[
    "__import__",
    "system",
    "popen",
    "subprocess",
    "eval",
    "exec",
    "open",
    "socket",
    "getattr",
    "builtins",
];

pub(crate) fn scan_hdf5(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) {
    let mut off = 0u64;
    let mut configs = 0;
    let needle = b"{\"class_name\"";
    while off < src.len() && configs < 8 {
        let Ok(chunk) = src.read_vec(off, CHUNK + 4096) else {
            break;
        };
        let mut i = 0;
        while let Some(p) = find(&chunk[i..], needle) {
            let at = off + (i + p) as u64;
            let json = extract_json(src, at);
            i += p + needle.len();
            if let Some(json) = json
                && let Ok(v) = serde_json::from_slice::<Value>(&json)
            {
                configs += 1;
                walk(ctx, loc, "keras-h5", &v, 0, Some(at));
            }
        }
        off += CHUNK;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads the balanced JSON object starting at `at` (strings and escapes honoured).
fn extract_json(src: Src<'_>, at: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_str = false;
    let mut esc = false;
    let mut pos = at;
    loop {
        let buf = src.read_vec(pos, 64 * 1024).ok()?;
        if buf.is_empty() {
            return None;
        }
        for &b in &buf {
            out.push(b);
            if in_str {
                if esc {
                    esc = false;
                } else if b == b'\\' {
                    esc = true;
                } else if b == b'"' {
                    in_str = false;
                }
            } else {
                match b {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(out);
                        }
                    }
                    0 => return None,
                    _ => {}
                }
            }
            if out.len() > MAX_JSON {
                return None;
            }
        }
        pos += buf.len() as u64;
    }
}

/// A `config.json` inside a `.keras` zip (or any zip).
pub(crate) fn scan_config_json(ctx: &mut Ctx<'_>, loc: &Loc, data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let keras_like =
        v.get("class_name").is_some() || v.get("config").is_some_and(|c| c.get("layers").is_some());
    if keras_like {
        walk(ctx, loc, "keras", &v, 0, None);
    }
}

fn walk(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    format: &'static str,
    v: &Value,
    depth: u32,
    offset: Option<u64>,
) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Object(o) => {
            let class = o.get("class_name").and_then(Value::as_str);
            if class == Some("Lambda") {
                lambda(ctx, loc, format, o, offset);
            }
            // Keras 3 serialises a function as `{"module": "m", "class_name": "function",
            // "config": "name"}` and imports `m.name` on load.
            let name = match (class, o.get("config").and_then(Value::as_str)) {
                (Some("function"), Some(function)) => Some(function),
                _ => class,
            };
            if let (Some(module), Some(name)) = (o.get("module").and_then(Value::as_str), name) {
                custom_object(ctx, loc, format, module, name, offset);
            }
            for child in o.values() {
                walk(ctx, loc, format, child, depth + 1, offset);
            }
        }
        Value::Array(a) => {
            for child in a {
                walk(ctx, loc, format, child, depth + 1, offset);
            }
        }
        _ => {}
    }
}

fn lambda(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    format: &'static str,
    o: &serde_json::Map<String, Value>,
    offset: Option<u64>,
) {
    let cfg = o.get("config");
    let name = cfg
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    let function = cfg.and_then(|c| c.get("function"));
    // Keras 3: {"class_name": "__lambda__", "config": {"code": b64}}; Keras 2: [b64, defaults, closure].
    let code = function.and_then(|f| {
        f.get("config")
            .and_then(|c| c.get("code"))
            .and_then(Value::as_str)
            .or_else(|| f.get(0).and_then(Value::as_str))
    });
    let mut detail = String::new();
    if let Some(code) = code
        && let Some(bytes) = decode_base64(code.as_bytes())
    {
        let text = String::from_utf8_lossy(&bytes);
        let hints: Vec<&str> = BYTECODE_HINTS
            .iter()
            .copied()
            .filter(|h| text.contains(h))
            .collect();
        detail = format!(" ({} bytes of marshalled bytecode", bytes.len());
        if !hints.is_empty() {
            detail.push_str(&format!(" referencing {}", hints.join(", ")));
        }
        detail.push(')');
    } else if let Some(f) = function.and_then(Value::as_str) {
        detail = format!(" (function `{f}`)");
    }
    let m = rules::KerasLambdaLayer::META;
    let f = ctx.add(
        &m,
        m.severity,
        loc,
        format,
        offset,
        format!("Lambda layer `{name}` carries Python code that runs on load{detail}"),
    );
    f.callable = Some(format!("Lambda:{name}"));
}

fn custom_object(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    format: &'static str,
    module: &str,
    class: &str,
    offset: Option<u64>,
) {
    const KERAS_MODULES: &[&str] = &[
        "keras",
        "tensorflow",
        "tf_keras",
        "keras_nlp",
        "keras_hub",
        "keras_cv",
        "builtins",
    ];
    let root = module.split('.').next().unwrap_or(module);
    let verdict = classify(module, class, &ctx.opts.import_policy);
    let m = rules::KerasCustomObject::META;
    let callable = format!("{module}.{class}");
    if let Verdict::Dangerous(reason) = verdict {
        let f = ctx.add(
            &m,
            Severity::Critical,
            loc,
            format,
            offset,
            format!("object `{callable}` is imported on load, and {reason}"),
        );
        f.callable = Some(callable);
    } else if !KERAS_MODULES.contains(&root) {
        let f = ctx.add(
            &m,
            m.severity,
            loc,
            format,
            offset,
            format!("custom object `{callable}` makes Keras import `{module}` on load"),
        );
        f.callable = Some(callable);
    }
}
