//! Free-text metadata checks shared by safetensors and GGUF.

use crate::finding::Severity;
use crate::rules;
use crate::scan::{Ctx, Loc};

/// Code and shell fragments that have no business in weights metadata.
const CODE_PATTERNS: &[&str] = &[
    "import os",
    "import subprocess",
    "__import__",
    "eval(",
    "exec(",
    "os.system",
    "subprocess.",
    "popen(",
    "<script",
    "javascript:",
    "rm -rf",
    "/bin/sh",
    "/bin/bash",
    "bash -c",
    "sh -c",
    "| sh",
    "|sh",
    "| bash",
    "wget ",
    "curl ",
    "powershell",
    "nc -e",
    "base64 -d",
    "pickle.loads",
    "marshal.loads",
    "${jndi:",
    "onerror=",
    "onload=",
];

/// Reports code/shell fragments (medium) and, when `urls` is set, URLs (low).
pub(crate) fn check_text(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    format: &'static str,
    key: &str,
    value: &str,
    urls: bool,
) {
    let lower = value.to_ascii_lowercase();
    let hits: Vec<&str> = CODE_PATTERNS
        .iter()
        .copied()
        .filter(|p| lower.contains(p))
        .take(4)
        .collect();
    let m = rules::SuspiciousMetadata::META;
    if !hits.is_empty() {
        ctx.add(
            &m,
            Severity::Medium,
            loc,
            format,
            None,
            format!(
                "metadata `{key}` contains code or shell fragments: {}",
                hits.join(", ")
            ),
        );
    } else if urls
        && (lower.contains("http://") || lower.contains("https://") || lower.contains("ftp://"))
    {
        ctx.add(
            &m,
            Severity::Low,
            loc,
            format,
            None,
            format!("metadata `{key}` contains a URL"),
        );
    }
}
