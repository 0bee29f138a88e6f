//! PEM armour (RFC 7468), lenient on input, canonical on output.

use crate::error::{Error, Result};
use crate::util::{b64, unb64};

/// One PEM block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The label between `BEGIN ` and the dashes.
    pub label: String,
    /// Decoded body.
    pub der: Vec<u8>,
}

/// Every PEM block in `text`; `what` names the source in errors.
pub fn parse_all(what: &str, text: &str) -> Result<Vec<Block>> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut closed = false;
        for inner in lines.by_ref() {
            let inner = inner.trim();
            if inner == end {
                closed = true;
                break;
            }
            if inner.contains(':') {
                continue; // RFC 1421 headers such as Proc-Type
            }
            body.push_str(inner);
        }
        if !closed {
            return Err(Error::format(
                what,
                format!("PEM block `{label}` has no `{end}` line"),
            ));
        }
        let der = unb64(what, &body)?;
        blocks.push(Block {
            label: label.to_string(),
            der,
        });
    }
    Ok(blocks)
}

/// The first PEM block in `text`.
pub fn parse_one(what: &str, text: &str) -> Result<Block> {
    parse_all(what, text)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::format(what, "expected a PEM block (`-----BEGIN …-----`)"))
}

/// Canonical PEM: 64-column lines, LF endings, trailing newline (what Go's `pem.Encode` and OpenSSL write).
#[must_use]
pub fn encode(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let der: Vec<u8> = (0..=200).collect();
        let text = encode("PUBLIC KEY", &der);
        let block = parse_one("t", &text).unwrap();
        assert_eq!(block.label, "PUBLIC KEY");
        assert_eq!(block.der, der);
    }

    #[test]
    fn errors_are_clear() {
        assert!(
            parse_one("k.pem", "nothing")
                .unwrap_err()
                .to_string()
                .contains("k.pem")
        );
        let e = parse_one("k.pem", "-----BEGIN X-----\nAAAA\n").unwrap_err();
        assert!(e.to_string().contains("-----END X-----"), "{e}");
    }
}
