//! Recognising pickles carried as data (raw, hex, base64) and sweeping unparsable bytes for
//! dangerous names.

use std::collections::HashSet;

use super::classify;
use super::vm::Encoding;

/// Cheap structural test: does `data` start and end like a pickle stream?
pub(crate) fn looks_like_pickle(data: &[u8]) -> bool {
    if data.len() < 4 || *data.last().unwrap_or(&0) != b'.' {
        return false;
    }
    match data[0] {
        0x80 => (2..=5).contains(&data[1]),
        // Protocol 0/1 streams open with MARK, GLOBAL, an empty list/dict or a list/dict MARK.
        b'c' => data[1..].iter().take(64).any(|&b| b == b'\n'),
        b'(' | b']' | b'}' => matches!(
            data[1],
            b'l' | b'd' | b'c' | b'i' | b'q' | b'(' | b'K' | b'X' | b'U'
        ),
        _ => false,
    }
}

/// If `data` is (or encodes) a pickle stream, returns the decoded stream.
pub(crate) fn decode_candidate(data: &[u8]) -> Option<(Encoding, Vec<u8>)> {
    if looks_like_pickle(data) {
        return Some((Encoding::Raw, data.to_vec()));
    }
    let text = trim_ascii(data);
    // "80 02/03/04/05" in hex.
    if text.len() >= 8
        && text.len().is_multiple_of(2)
        && text[..2].eq_ignore_ascii_case(b"80")
        && text.iter().all(u8::is_ascii_hexdigit)
    {
        let decoded = decode_hex(text)?;
        if looks_like_pickle(&decoded) {
            return Some((Encoding::Hex, decoded));
        }
    }
    // base64 of 0x80 0x02..0x05 starts with "gA".
    if text.len() >= 12 && text.starts_with(b"gA") {
        let decoded = decode_base64(text)?;
        if looks_like_pickle(&decoded) {
            return Some((Encoding::Base64, decoded));
        }
    }
    None
}

fn trim_ascii(data: &[u8]) -> &[u8] {
    let start = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(data.len());
    let end = data
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &data[start..end]
}

fn decode_hex(text: &[u8]) -> Option<Vec<u8>> {
    text.chunks_exact(2)
        .map(|c| {
            let s = std::str::from_utf8(c).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// Standard or URL-safe base64, padding optional, whitespace ignored.
pub(crate) fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            c if c.is_ascii_whitespace() => continue,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Most distinct candidates classified by one sweep: adversarial bytes full of distinct
/// identifiers (a fuzzer found them) must not cost seconds per stream.
const MAX_SWEEP_CHECKS: usize = 20_000;

/// Finds `module.name` pairs in bytes that could not be parsed as opcodes, and returns those
/// on the denylist with their offset. Names appear as runs of identifier characters
/// (`GLOBAL` lines, `SHORT_BINUNICODE` arguments); a module run followed closely by a name
/// run, or a single dotted run, is a candidate. Each distinct candidate is classified once.
pub(crate) fn sweep_names<'a>(data: &'a [u8]) -> Vec<(usize, String, String)> {
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < data.len() {
        if is_ident(data[i]) {
            let start = i;
            while i < data.len() && is_ident(data[i]) {
                i += 1;
            }
            if i - start <= 128 {
                runs.push((start, i));
            }
            if runs.len() > 200_000 {
                break;
            }
        } else {
            i += 1;
        }
    }
    // Runs hold ASCII identifier characters only, so they are always valid UTF-8.
    let text =
        |r: (usize, usize)| -> &'a str { std::str::from_utf8(&data[r.0..r.1]).unwrap_or("") };
    let mut checked: HashSet<(&str, &str)> = HashSet::new();
    let mut found: Vec<(usize, String, String)> = Vec::new();
    let mut check = |off: usize, module: &'a str, name: &'a str| -> bool {
        if found.len() >= 64 || checked.len() >= MAX_SWEEP_CHECKS {
            return false;
        }
        if checked.insert((module, name)) && classify::is_denied(module, name) {
            found.push((off, module.to_string(), name.to_string()));
        }
        true
    };
    for (k, &run) in runs.iter().enumerate() {
        let t = text(run).trim_matches('.');
        if t.is_empty() {
            continue;
        }
        // A leading opcode letter may be glued to the name (`cos` for GLOBAL 'os').
        let glued = t.len() > 1 && (t.starts_with('c') || t.starts_with('i'));
        let variants = [Some(t), glued.then(|| &t[1..])];
        for m in variants.into_iter().flatten() {
            if let Some((module, name)) = m.rsplit_once('.')
                && !check(run.0, module, name)
            {
                return found;
            }
            if let Some(&next) = runs.get(k + 1)
                && next.0 - run.1 <= 12
            {
                let n = text(next).trim_matches('.');
                if !n.is_empty() && !check(run.0, m, n) {
                    return found;
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_in_all_encodings() {
        let raw = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00N.";
        assert_eq!(decode_candidate(raw).unwrap().0, Encoding::Raw);
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(decode_candidate(hex.as_bytes()).unwrap().1, raw.to_vec());
        // base64 of the same bytes
        assert_eq!(
            decode_candidate(b"gASVBQAAAAAAAABOLg==").unwrap(),
            (Encoding::Base64, raw.to_vec())
        );
        assert!(decode_candidate(b"just some text.").is_none());
        assert!(decode_candidate(b"gAAAAABhbG9yZW0=").is_none());
    }

    #[test]
    fn sweep_finds_denied_pairs_only() {
        let data = b"\xff\xfecos\nsystem\n\x00\x8c\x08builtins\x8c\x04eval\x93junk collections OrderedDict";
        let found = sweep_names(data);
        let names: Vec<String> = found.iter().map(|(_, m, n)| format!("{m}.{n}")).collect();
        assert!(names.contains(&"os.system".to_string()), "{names:?}");
        assert!(names.contains(&"builtins.eval".to_string()), "{names:?}");
        assert!(!names.iter().any(|n| n.contains("OrderedDict")));
    }
}
