//! numpy `.npy`: the header is a Python dict literal; object arrays (`descr` containing `O`)
//! store their elements as a pickle right after it, which `numpy.load(allow_pickle=True)`
//! unpickles.

use std::io::Read;

use crate::scan::{self, Ctx, Loc};
use crate::source::Src;

const MAX_HEADER: usize = 1024 * 1024;

pub(crate) fn scan_npy(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) {
    scan_npy_reader(ctx, loc, src.reader());
}

pub(crate) fn scan_npy_reader<R: Read>(ctx: &mut Ctx<'_>, loc: &Loc, mut reader: R) {
    let mut pre = [0u8; 10];
    if reader.read_exact(&mut pre).is_err() {
        malformed(ctx, loc, "truncated .npy preamble");
        return;
    }
    let major = pre[6];
    let (hlen, base) = match major {
        1 => (u16::from_le_bytes([pre[8], pre[9]]) as usize, 10u64),
        2 | 3 => {
            let mut rest = [0u8; 2];
            if reader.read_exact(&mut rest).is_err() {
                malformed(ctx, loc, "truncated .npy preamble");
                return;
            }
            (
                u32::from_le_bytes([pre[8], pre[9], rest[0], rest[1]]) as usize,
                12u64,
            )
        }
        v => {
            malformed(ctx, loc, &format!("unsupported .npy format version {v}"));
            return;
        }
    };
    if hlen > MAX_HEADER {
        malformed(
            ctx,
            loc,
            &format!(".npy header of {hlen} bytes exceeds the limit"),
        );
        return;
    }
    let mut header = vec![0u8; hlen];
    if reader.read_exact(&mut header).is_err() {
        malformed(ctx, loc, "truncated .npy header");
        return;
    }
    let text = String::from_utf8_lossy(&header);
    if !text.contains("'descr'") {
        malformed(ctx, loc, ".npy header has no 'descr'");
        return;
    }
    if has_object_dtype(&text) {
        let looked =
            scan::scan_pickle_reader(ctx, loc, "numpy-object", reader, base + hlen as u64, false);
        if !looked {
            malformed(ctx, loc, "object array payload is not a pickle stream");
        }
    }
}

/// True when any dtype string in the header's `descr` is an object type (`|O`, `O8`, …),
/// including fields of structured dtypes.
pub(crate) fn has_object_dtype(header: &str) -> bool {
    let Some(start) = header.find("'descr'") else {
        return false;
    };
    let rest = &header[start + 7..];
    let end = rest
        .find("'fortran_order'")
        .or_else(|| rest.find("'shape'"))
        .unwrap_or(rest.len());
    let descr = &rest[..end];
    // Quoted strings in type position: after `:` (plain descr) or after `,` inside a
    // `(name, type)` tuple; field names follow `(` and are ignored.
    let bytes = descr.as_bytes();
    let mut i = 0;
    while let Some(q) = descr[i..].find('\'') {
        let open = i + q;
        let Some(len) = descr[open + 1..].find('\'') else {
            break;
        };
        let close = open + 1 + len;
        let s = &descr[open + 1..close];
        let before = descr[..open].trim_end().as_bytes().last().copied();
        if matches!(before, Some(b':') | Some(b',')) {
            let t = s.trim_start_matches(['|', '<', '>', '=']);
            if t.starts_with('O') && t[1..].bytes().all(|c| c.is_ascii_digit()) {
                return true;
            }
        }
        i = close + 1;
        if i >= bytes.len() {
            break;
        }
    }
    false
}

fn malformed(ctx: &mut Ctx<'_>, loc: &Loc, msg: &str) {
    let m = crate::rules::MalformedPickle::META;
    ctx.add(
        &m,
        crate::finding::Severity::Low,
        loc,
        "numpy",
        None,
        msg.to_string(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_dtype_detection() {
        assert!(has_object_dtype(
            "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"
        ));
        assert!(has_object_dtype(
            "{'descr': [('a', '<i4'), ('b', '|O')], 'fortran_order': False, 'shape': (2,), }"
        ));
        assert!(!has_object_dtype(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        ));
        assert!(!has_object_dtype(
            "{'descr': [('O', '<i4')], 'fortran_order': False, 'shape': (2,), }"
        ));
    }
}
