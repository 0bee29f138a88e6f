//! GGUF: header and metadata are parsed with every count and length checked against the
//! file size; tensor data is never read. `*chat_template*` strings are checked for Jinja
//! payloads that reach Python objects.

use std::io::{BufReader, Read};

use super::metadata;
use crate::finding::Severity;
use crate::rules;
use crate::scan::{Ctx, Loc};
use crate::source::{Src, SrcReader};

const MAX_KV: u64 = 1 << 20;
const MAX_TENSORS: u64 = 1 << 24;
const MAX_STRING: u64 = 64 * 1024 * 1024;

struct R<'a> {
    r: BufReader<SrcReader<'a>>,
    pos: u64,
    len: u64,
    v1: bool,
}

impl R<'_> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut b = [0u8; N];
        self.r
            .read_exact(&mut b)
            .map_err(|_| format!("truncated at offset {}", self.pos))?;
        self.pos += N as u64;
        Ok(b)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.bytes::<4>()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.bytes::<8>()?))
    }
    /// Lengths and counts are u32 in GGUF v1, u64 later.
    fn count(&mut self) -> Result<u64, String> {
        if self.v1 {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }
    fn skip(&mut self, n: u64) -> Result<(), String> {
        if n > self.len.saturating_sub(self.pos) {
            return Err(format!(
                "length {n} at offset {} runs past the end of the file",
                self.pos
            ));
        }
        std::io::copy(&mut (&mut self.r).take(n), &mut std::io::sink())
            .map_err(|e| e.to_string())?;
        self.pos += n;
        Ok(())
    }
    fn string(&mut self, keep: bool) -> Result<Option<String>, String> {
        let n = self.count()?;
        if n > MAX_STRING || n > self.len.saturating_sub(self.pos) {
            return Err(format!(
                "string of {n} bytes at offset {} exceeds the file or the limit",
                self.pos
            ));
        }
        if !keep {
            self.skip(n)?;
            return Ok(None);
        }
        let mut buf = vec![0u8; n as usize];
        self.r
            .read_exact(&mut buf)
            .map_err(|_| format!("truncated string at offset {}", self.pos))?;
        self.pos += n;
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }
}

fn scalar_size(t: u32) -> Option<u64> {
    match t {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

pub(crate) fn scan(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) {
    if let Err(e) = parse(ctx, loc, src) {
        let m = rules::GgufInvalidHeader::META;
        ctx.add(&m, m.severity, loc, "gguf", None, e);
    }
}

fn parse(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) -> Result<(), String> {
    let mut r = R {
        r: BufReader::new(src.reader()),
        pos: 0,
        len: src.len(),
        v1: false,
    };
    r.bytes::<4>()?;
    let version = r.u32()?;
    if !(1..=3).contains(&version) {
        return Err(format!("unsupported GGUF version {version}"));
    }
    r.v1 = version == 1;
    let tensors = r.count()?;
    let kvs = r.count()?;
    if tensors > MAX_TENSORS || kvs > MAX_KV {
        return Err(format!(
            "{tensors} tensors / {kvs} metadata entries exceed the limits"
        ));
    }
    let mut alignment = 32u64;
    for _ in 0..kvs {
        let key = r.string(true)?.unwrap_or_default();
        let t = r.u32()?;
        match t {
            8 => {
                let value = r.string(true)?.unwrap_or_default();
                if key.contains("chat_template") {
                    check_template(ctx, loc, &key, &value);
                } else {
                    metadata::check_text(ctx, loc, "gguf", &key, &value, false);
                }
            }
            9 => {
                let et = r.u32()?;
                let n = r.count()?;
                if et == 8 {
                    if n > r.len.saturating_sub(r.pos) / 8 {
                        return Err(format!(
                            "array `{key}` of {n} strings cannot fit in the file"
                        ));
                    }
                    for _ in 0..n {
                        r.string(false)?;
                    }
                } else {
                    let size = scalar_size(et)
                        .ok_or_else(|| format!("array `{key}` has invalid element type {et}"))?;
                    r.skip(n.checked_mul(size).ok_or("array size overflows")?)?;
                }
            }
            t => {
                let size = scalar_size(t)
                    .ok_or_else(|| format!("metadata `{key}` has invalid value type {t}"))?;
                if key == "general.alignment" && t == 4 {
                    alignment = u64::from(r.u32()?);
                    if alignment == 0 || !alignment.is_power_of_two() {
                        return Err(format!(
                            "general.alignment {alignment} is not a power of two"
                        ));
                    }
                } else {
                    r.skip(size)?;
                }
            }
        }
    }
    let mut max_end = 0u64;
    let mut infos = Vec::new();
    for _ in 0..tensors {
        let name = r.string(true)?.unwrap_or_default();
        let dims = r.u32()?;
        if dims > 8 {
            return Err(format!("tensor `{name}` has {dims} dimensions"));
        }
        let mut count: u64 = 1;
        for _ in 0..dims {
            let d = r.count()?;
            count = count
                .checked_mul(d)
                .ok_or_else(|| format!("tensor `{name}` element count overflows"))?;
        }
        let _ggml_type = r.u32()?;
        let offset = r.u64()?;
        if offset % alignment != 0 {
            return Err(format!(
                "tensor `{name}` offset {offset} is not aligned to {alignment}"
            ));
        }
        infos.push((name, offset, count));
        max_end = max_end.max(offset);
    }
    let data_start = r.pos.div_ceil(alignment) * alignment;
    if tensors > 0 && data_start.saturating_add(max_end) > r.len {
        return Err(format!(
            "tensor data offset {max_end} lies beyond the end of the file"
        ));
    }
    Ok(())
}

/// Jinja constructs that reach Python internals from a sandbox-less environment.
const SSTI_MARKERS: &[&str] = &[
    "__class__",
    "__mro__",
    "__subclasses__",
    "__globals__",
    "__builtins__",
    "__import__",
    "__base__",
    "__bases__",
    "__init__",
    "__getattribute__",
    "__dict__",
    "__code__",
    "__reduce__",
    "_TemplateReference__context",
    "func_globals",
    "os.popen",
    "os.system",
    "subprocess",
    "popen(",
    "eval(",
    "exec(",
];

pub(crate) fn check_template(ctx: &mut Ctx<'_>, loc: &Loc, key: &str, template: &str) {
    let hits: Vec<&str> = SSTI_MARKERS
        .iter()
        .copied()
        .filter(|p| template.contains(p))
        .take(5)
        .collect();
    // `attr` filter with a dunder built from pieces: `|attr('_' ~ '_class_' ~ '_')`.
    let attr_trick =
        template.contains("|attr(") && (template.contains("'_'") || template.contains("\\x5f"));
    if hits.is_empty() && !attr_trick {
        return;
    }
    let m = rules::GgufTemplateInjection::META;
    let what = if hits.is_empty() {
        "`attr` filter with built-up dunder names".to_string()
    } else {
        hits.join(", ")
    };
    let f = ctx.add(
        &m,
        Severity::Critical,
        loc,
        "gguf",
        None,
        format!("`{key}` reaches Python objects: {what}"),
    );
    let excerpt: String = template.chars().take(160).collect();
    f.call_chain = Some(excerpt);
}
