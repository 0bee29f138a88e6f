//! Keras: the model config JSON, from a `.keras` zip's `config.json` or from the
//! `model_config` and `training_config` attributes of a legacy HDF5 file, read by the small
//! HDF5 reader of `hdf5.rs` (with a byte-level search for config text as the fallback when
//! the structure cannot be read). JSON is parsed as Python's `json.loads` accepts it.

use serde_json::Value;

use super::hdf5;
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

/// Root attributes whose values are read: the configs Keras deserialises, and what names the
/// writer for the findings' messages.
const ROOT_ATTRIBUTES: &[&str] = &[
    "model_config",
    "training_config",
    "keras_version",
    "backend",
];
/// Root attributes that `keras.models.load_model` parses with `json.loads` and deserialises.
const CONFIG_ATTRIBUTES: &[&str] = &["model_config", "training_config"];

/// A legacy Keras HDF5 file: the structure is read (`hdf5.rs`) and the root group's
/// `model_config` and `training_config` attributes are parsed as JSON, the way Keras does.
/// When the structure cannot be read, or holds no config, the bytes are searched for config
/// text instead (h5py stores a string attribute contiguously), and a structure that could not
/// be read is reported.
pub(crate) fn scan_hdf5(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) {
    match hdf5::read(src, ROOT_ATTRIBUTES) {
        Ok(file) => {
            if !scan_hdf5_attributes(ctx, loc, &file) {
                search_hdf5_text(ctx, loc, src);
            }
        }
        Err(e) => {
            report_hdf5_error(ctx, loc, &e, "file structure");
            search_hdf5_text(ctx, loc, src);
        }
    }
}

fn report_hdf5_error(ctx: &mut Ctx<'_>, loc: &Loc, e: &hdf5::Error, what: &str) {
    match e {
        hdf5::Error::Malformed { .. } => ctx.anomaly(
            loc,
            "hdf5",
            Some(e.offset()),
            format!(
                "malformed HDF5 {what}: {e}; the Keras config was searched for as text instead"
            ),
        ),
        hdf5::Error::Unsupported { .. } => ctx.unscanned(
            loc,
            "hdf5",
            format!(
                "HDF5 {what} not read ({e}); the Keras config was searched for as text instead"
            ),
        ),
    }
}

/// Walks the config attributes; false when there was none to walk (or it was unreadable).
fn scan_hdf5_attributes(ctx: &mut Ctx<'_>, loc: &Loc, file: &hdf5::File) -> bool {
    let weights: &[hdf5::Attribute] = match &file.model_weights {
        Some(Ok(a)) => a,
        _ => &[],
    };
    let text = |name: &str| {
        file.root
            .iter()
            .chain(weights)
            .find(|a| a.name == name)
            .and_then(hdf5::Attribute::text)
            .filter(|t| !t.is_empty() && t.len() < 64)
    };
    let writer = match (text("keras_version"), text("backend")) {
        (Some(v), Some(b)) => format!(" [saved by Keras {v}, {b} backend]"),
        (Some(v), None) => format!(" [saved by Keras {v}]"),
        (None, Some(b)) => format!(" [saved with the {b} backend]"),
        (None, None) => String::new(),
    };
    let first = ctx.findings.len();
    let mut walked = false;
    for a in file
        .root
        .iter()
        .filter(|a| CONFIG_ATTRIBUTES.contains(&a.name.as_str()))
    {
        match &a.value {
            hdf5::Value::Strings(strings) => {
                for (offset, bytes) in strings {
                    walked = true;
                    match parse_json(bytes) {
                        Ok(json) => {
                            walk_config(ctx, loc, "keras-h5", &json, Some(*offset), &a.name);
                        }
                        Err(e) => ctx.anomaly(
                            loc,
                            "keras-h5",
                            Some(*offset),
                            format!(
                                "`{}` attribute is not JSON that Keras can load: {e}",
                                a.name
                            ),
                        ),
                    }
                }
            }
            hdf5::Value::Unreadable(e) => {
                report_hdf5_error(ctx, loc, e, &format!("attribute `{}`", a.name));
            }
            hdf5::Value::Other => {}
        }
    }
    if !writer.is_empty() {
        for f in &mut ctx.findings[first..] {
            if f.format == "keras-h5" && (f.code == "PAL810" || f.code == "PAL811") {
                f.message.push_str(&writer);
            }
        }
    }
    walked
}

/// The byte-level fallback: every `{"class_name"` in the file is taken as the start of a
/// config and parsed.
fn search_hdf5_text(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) {
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
                && let Ok(v) = parse_json(&json)
            {
                configs += 1;
                walk_config(ctx, loc, "keras-h5", &v, Some(at), "model_config");
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
    let Ok(v) = parse_json(data) else {
        return;
    };
    let keras_like = v.value.get("class_name").is_some()
        || v.value
            .get("config")
            .is_some_and(|c| c.get("layers").is_some());
    if keras_like {
        walk_config(ctx, loc, "keras", &v, None, "config.json");
    }
}

/// Walks a parsed config and says when part of it was too deep to be parsed.
fn walk_config(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    format: &'static str,
    json: &Json,
    offset: Option<u64>,
    what: &str,
) {
    walk(ctx, loc, format, &json.value, 0, offset);
    if json.truncated {
        ctx.unscanned(
            loc,
            format,
            format!(
                "`{what}` nests deeper than {MAX_JSON_DEPTH} levels; the deeper values were not scanned"
            ),
        );
    }
}

/// Nesting kept by [`parse_json`]; deeper values become `null` (serde_json stops at 128).
const MAX_JSON_DEPTH: usize = 100;

/// A parsed config, and whether values nested too deeply were dropped.
pub(crate) struct Json {
    pub value: Value,
    pub truncated: bool,
}

/// Parses JSON as Python's `json.loads` accepts it, which Keras uses: besides strict JSON,
/// `NaN`, `Infinity` and `-Infinity`, lone UTF-16 surrogate escapes, floats beyond `f64` and
/// nesting deeper than serde_json's limit. Text serde_json rejects is rewritten (those values
/// become `null` or U+FFFD) and parsed again, so a config cannot hide from the scan by being
/// valid only for Python.
pub(crate) fn parse_json(data: &[u8]) -> Result<Json, String> {
    match serde_json::from_slice::<Value>(data) {
        Ok(value) => Ok(Json {
            value,
            truncated: false,
        }),
        Err(first) => {
            let (text, truncated) = pythonic_json(data);
            serde_json::from_slice::<Value>(&text)
                .map(|value| Json { value, truncated })
                .map_err(|_| first.to_string())
        }
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(b.get(..4)?).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// Rewrites what Python's `json` accepts and serde_json does not (see [`parse_json`]).
fn pythonic_json(data: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(data.len());
    let mut depth = 0usize;
    let mut truncated = false;
    let mut i = 0;
    while i < data.len() {
        let rest = &data[i..];
        match data[i] {
            b'"' => i = copy_string(data, i, &mut out),
            b'{' | b'[' if depth >= MAX_JSON_DEPTH => {
                truncated = true;
                i = skip_value(data, i);
                out.extend_from_slice(b"null");
            }
            b'{' | b'[' => {
                depth += 1;
                out.push(data[i]);
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                out.push(data[i]);
                i += 1;
            }
            _ if rest.starts_with(b"NaN") => {
                out.extend_from_slice(b"null");
                i += 3;
            }
            _ if rest.starts_with(b"Infinity") => {
                out.extend_from_slice(b"null");
                i += 8;
            }
            _ if rest.starts_with(b"-Infinity") => {
                out.extend_from_slice(b"null");
                i += 9;
            }
            b'-' | b'0'..=b'9' => {
                let n = rest
                    .iter()
                    .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .unwrap_or(rest.len());
                let num = &rest[..n];
                let huge = num.iter().any(|b| matches!(b, b'.' | b'e' | b'E'))
                    && std::str::from_utf8(num)
                        .ok()
                        .and_then(|s| s.parse::<f64>().ok())
                        .is_some_and(f64::is_infinite);
                out.extend_from_slice(if huge { b"null" } else { num });
                i += n.max(1);
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    (out, truncated)
}

/// Copies the string starting at `data[start]` (a quote), replacing lone surrogate escapes
/// with U+FFFD; returns the index after it.
fn copy_string(data: &[u8], start: usize, out: &mut Vec<u8>) -> usize {
    out.push(b'"');
    let mut i = start + 1;
    while i < data.len() {
        match data[i] {
            b'"' => {
                out.push(b'"');
                return i + 1;
            }
            b'\\' if data.get(i + 1) == Some(&b'u') => {
                let cp = hex4(&data[i + 2..]);
                let low = |j: usize| {
                    (data.get(j) == Some(&b'\\') && data.get(j + 1) == Some(&b'u'))
                        .then(|| data.get(j + 2..).and_then(hex4))
                        .flatten()
                        .filter(|c| (0xDC00..0xE000).contains(c))
                };
                match cp {
                    Some(0xD800..=0xDBFF) if low(i + 6).is_some() => {
                        out.extend_from_slice(&data[i..i + 12]);
                        i += 12;
                    }
                    Some(0xD800..=0xDFFF) => {
                        out.extend_from_slice(b"\\ufffd");
                        i += 6;
                    }
                    _ => {
                        out.push(b'\\');
                        i += 1;
                    }
                }
            }
            b'\\' => {
                out.extend_from_slice(&data[i..(i + 2).min(data.len())]);
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    data.len()
}

/// The index after the balanced value starting at `data[start]` (strings honoured).
fn skip_value(data: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    let mut sink = Vec::new();
    while i < data.len() {
        match data[i] {
            b'"' => {
                i = copy_string(data, i, &mut sink);
                sink.clear();
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    data.len()
}

fn walk(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    format: &'static str,
    v: &Value,
    depth: u32,
    offset: Option<u64>,
) {
    // serde_json stops at 128 levels, so every parsed value is walked
    if depth > 128 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Json {
        parse_json(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn python_json_extensions_parse() {
        let j = parse(r#"{"a": NaN, "b": [Infinity, -Infinity], "c": 1e400, "d": -2.5e-3}"#);
        assert_eq!(j.value["a"], Value::Null);
        assert_eq!(j.value["b"], serde_json::json!([null, null]));
        assert_eq!(j.value["c"], Value::Null);
        assert_eq!(j.value["d"], serde_json::json!(-2.5e-3));
        assert!(!j.truncated);
        // NaN inside a string is text
        assert_eq!(parse(r#"{"NaN": "NaN"}"#).value["NaN"], "NaN");
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let j = parse(
            r#"{"x": "\ud800", "y": "\udc00z", "ok": "\ud83d\ude00", "class_name": "Lambda"}"#,
        );
        assert_eq!(j.value["x"], "\u{fffd}");
        assert_eq!(j.value["y"], "\u{fffd}z");
        assert_eq!(j.value["ok"], "\u{1f600}");
        assert_eq!(j.value["class_name"], "Lambda");
    }

    #[test]
    fn deep_nesting_is_cut_and_said() {
        let deep = format!(
            r#"{{"class_name": "Lambda", "junk": {}1{}}}"#,
            "[".repeat(500),
            "]".repeat(500)
        );
        let j = parse(&deep);
        assert!(j.truncated);
        assert_eq!(j.value["class_name"], "Lambda");
    }

    #[test]
    fn invalid_json_is_still_an_error() {
        assert!(parse_json(b"{\"a\": }").is_err());
        assert!(parse_json(b"{\"a\": 1} trailing").is_err());
        assert!(parse_json(b"\"unterminated").is_err());
    }
}
