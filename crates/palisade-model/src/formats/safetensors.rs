//! safetensors: only the JSON header is read. It is validated the way the reference loader
//! does (size, dtypes, shapes, offsets inside the data area, contiguous and non-overlapping)
//! and its free-text `__metadata__` is checked for code and URLs.

use serde_json::Value;

use super::metadata;
use crate::finding::Severity;
use crate::rules;
use crate::scan::{Ctx, Loc};
use crate::source::Src;

/// The reference implementation refuses headers above 100 MB.
const MAX_HEADER: u64 = 100_000_000;

fn dtype_size(d: &str) -> Option<u64> {
    Some(match d {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 1,
        "I16" | "U16" | "F16" | "BF16" => 2,
        "I32" | "U32" | "F32" => 4,
        "I64" | "U64" | "F64" | "C64" => 8,
        "F4" | "F6_E2M3" | "F6_E3M2" => 1, // sub-byte types: sizes checked loosely
        _ => return None,
    })
}

pub(crate) fn scan(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) {
    let mut problems: Vec<String> = Vec::new();
    let n = src
        .read_vec(0, 8)
        .ok()
        .filter(|b| b.len() == 8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    let Some(n) = n else { return };
    if n > MAX_HEADER {
        report(
            ctx,
            loc,
            vec![format!("header of {n} bytes exceeds the 100 MB limit")],
        );
        return;
    }
    let Ok(header) = src.read_vec(8, n) else {
        return;
    };
    if (header.len() as u64) < n {
        report(
            ctx,
            loc,
            vec![format!("header claims {n} bytes but the file is shorter")],
        );
        return;
    }
    let json: Value = match serde_json::from_slice(&header) {
        Ok(v) => v,
        Err(e) => {
            report(ctx, loc, vec![format!("header is not valid JSON: {e}")]);
            return;
        }
    };
    let Some(obj) = json.as_object() else {
        report(ctx, loc, vec!["header is not a JSON object".into()]);
        return;
    };
    let data_len = src.len() - 8 - n;
    let mut ranges: Vec<(u64, u64, String)> = Vec::new();
    for (name, t) in obj {
        if name == "__metadata__" {
            match t.as_object() {
                Some(meta) => {
                    for (k, v) in meta {
                        match v.as_str() {
                            Some(s) => metadata::check_text(
                                ctx,
                                loc,
                                "safetensors",
                                &format!("__metadata__.{k}"),
                                s,
                                true,
                            ),
                            None => {
                                problems.push(format!("__metadata__ value `{k}` is not a string"))
                            }
                        }
                    }
                }
                None => problems.push("__metadata__ is not an object of strings".into()),
            }
            continue;
        }
        let dtype = t.get("dtype").and_then(Value::as_str);
        let shape = t.get("shape").and_then(Value::as_array);
        let offsets = t.get("data_offsets").and_then(Value::as_array);
        let (Some(dtype), Some(shape), Some(offsets)) = (dtype, shape, offsets) else {
            problems.push(format!(
                "tensor `{name}` lacks dtype, shape or data_offsets"
            ));
            continue;
        };
        let Some(size) = dtype_size(dtype) else {
            problems.push(format!("tensor `{name}` has unknown dtype {dtype:?}"));
            continue;
        };
        let mut count: u64 = 1;
        let mut ok = true;
        for d in shape {
            match d.as_u64() {
                Some(d) => count = count.saturating_mul(d),
                None => ok = false,
            }
        }
        let (Some(b), Some(e)) = (
            offsets.first().and_then(Value::as_u64),
            offsets.get(1).and_then(Value::as_u64),
        ) else {
            problems.push(format!("tensor `{name}` has invalid data_offsets"));
            continue;
        };
        if !ok || offsets.len() != 2 {
            problems.push(format!(
                "tensor `{name}` has an invalid shape or data_offsets"
            ));
            continue;
        }
        if e < b || e > data_len {
            problems.push(format!(
                "tensor `{name}` data [{b}, {e}) lies outside the {data_len}-byte data area"
            ));
            continue;
        }
        let sub_byte = matches!(dtype, "F4" | "F6_E2M3" | "F6_E3M2");
        if !sub_byte && count.saturating_mul(size) != e - b {
            problems.push(format!(
                "tensor `{name}`: shape × {dtype} is {} bytes but data_offsets span {}",
                count.saturating_mul(size),
                e - b
            ));
        }
        ranges.push((b, e, name.clone()));
        if problems.len() > 16 {
            break;
        }
    }
    ranges.sort();
    let mut end = 0u64;
    for (b, e, name) in &ranges {
        if *b < end {
            problems.push(format!("tensor `{name}` overlaps the previous tensor"));
        } else if *b > end {
            problems.push(format!(
                "{} unreferenced bytes before tensor `{name}`",
                b - end
            ));
        }
        end = end.max(*e);
    }
    if end < data_len && !ranges.is_empty() {
        problems.push(format!(
            "{} bytes after the last tensor are not referenced",
            data_len - end
        ));
    }
    if !problems.is_empty() {
        report(ctx, loc, problems);
    }
}

fn report(ctx: &mut Ctx<'_>, loc: &Loc, problems: Vec<String>) {
    let m = rules::SafetensorsInvalidHeader::META;
    let mut msg = problems[0].clone();
    if problems.len() > 1 {
        msg.push_str(&format!(" (and {} more problems)", problems.len() - 1));
    }
    ctx.add(&m, Severity::Medium, loc, "safetensors", Some(8), msg);
}
