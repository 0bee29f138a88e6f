//! Dockerfile scanning for Palisade: a positioned Dockerfile parser and the `PAL5xx` rules
//! (family `dockerfile`) for the build-time image gate.
//!
//! ```
//! use std::sync::Arc;
//! let file: Arc<str> = Arc::from("Dockerfile");
//! let (findings, errors) = palisade_dockerfile::scan_dockerfile(
//!     &file,
//!     "FROM python:3.11\nRUN pip install torch\nCMD [\"python\", \"serve.py\"]\n",
//! );
//! assert!(errors.is_empty());
//! assert!(findings.iter().any(|f| f.rule.name == "run-as-root"));
//! ```
//!
//! Parsing ([`parser`]) keeps a map from every piece of logical text back to the source, so
//! each finding names the file, line and column of the word it is about. `RUN` commands
//! are tokenised ([`shell`]) into simple commands and pipelines; rules then read a
//! per-file [`analysis::Analysis`] (stages, the final image's stage chain, tokenised RUNs).

pub mod analysis;
pub mod commands;
pub mod parser;
mod rules;
pub mod secrets;
pub mod shell;

use std::path::Path;
use std::sync::Arc;

use palisade_policy::{Finding, InputError, RuleMeta};

/// Scans one Dockerfile. Parse errors are returned with their line and what was expected;
/// the rest of the file is still scanned. Findings are sorted by position.
#[must_use]
pub fn scan_dockerfile(file: &Arc<str>, src: &str) -> (Vec<Finding>, Vec<InputError>) {
    let df = parser::parse(src);
    let mut errors: Vec<InputError> = df
        .errors
        .iter()
        .map(|e| InputError {
            file: Arc::clone(file),
            line: e.line,
            column: e.column,
            message: e.message.clone(),
        })
        .collect();
    let has_from = df.instructions.iter().any(|i| i.kind == parser::Kind::From);
    if !has_from {
        errors.push(InputError {
            file: Arc::clone(file),
            line: 1,
            column: 1,
            message: "no FROM instruction (expected a Dockerfile with at least one `FROM IMAGE`)"
                .into(),
        });
    } else if let Some(i) = df
        .instructions
        .iter()
        .take_while(|i| i.kind != parser::Kind::From)
        .find(|i| i.kind != parser::Kind::Arg)
    {
        errors.push(InputError {
            file: Arc::clone(file),
            line: i.line,
            column: i.column,
            message: format!(
                "{} before the first FROM (expected only ARG before FROM)",
                parser::kind_name(i.kind)
            ),
        });
    }
    let analysis = analysis::Analysis::new(&df, src);
    let mut findings = rules::run(&analysis, file);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    (findings, errors)
}

/// The model or web server a command line starts (`uvicorn`, `vllm serve`, `python -m
/// vllm.entrypoints…`), if any: the list `missing-healthcheck` uses, shared with the image
/// config rules.
#[must_use]
pub fn server_in(words: &[String]) -> Option<String> {
    rules::pal503_missing_healthcheck::server_in(words)
}

/// Every Dockerfile rule, in code order.
#[must_use]
pub fn rules() -> Vec<&'static RuleMeta> {
    rules::ALL.iter().map(|(meta, _)| *meta).collect()
}

/// Whether a path names a Dockerfile: `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`,
/// `Containerfile`, `Containerfile.*`, `*.containerfile` (case-insensitive).
#[must_use]
pub fn is_dockerfile(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    for base in ["dockerfile", "containerfile"] {
        if lower == base
            || lower
                .strip_prefix(base)
                .is_some_and(|r| r.len() > 1 && r.starts_with('.'))
            || lower
                .strip_suffix(base)
                .is_some_and(|r| r.len() > 1 && r.ends_with('.'))
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for yes in [
            "Dockerfile",
            "dockerfile",
            "Dockerfile.gpu",
            "serve.Dockerfile",
            "Containerfile",
            "x/y/train.containerfile",
            "Containerfile.cuda",
        ] {
            assert!(is_dockerfile(Path::new(yes)), "{yes}");
        }
        for no in [
            "Dockerfile.",
            ".Dockerfile",
            "Dockerfiles",
            "README.md",
            "docker-compose.yml",
        ] {
            assert!(!is_dockerfile(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn codes_are_unique_and_in_range() {
        let rules = rules();
        let mut codes: Vec<_> = rules.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), rules.len());
        for r in &rules {
            let n: u32 = r.code.trim_start_matches("PAL").parse().unwrap();
            assert!((500..600).contains(&n), "{}", r.code);
            assert_eq!(r.family, "dockerfile");
            for section in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Fix",
            ] {
                assert!(r.docs.contains(section), "{} lacks {section}", r.code);
            }
            assert!(!r.references.is_empty(), "{}", r.code);
            assert!(
                r.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit()),
                "{}",
                r.name
            );
        }
    }

    #[test]
    fn missing_from_and_misplaced_instruction() {
        let f: Arc<str> = Arc::from("Dockerfile");
        let (_, e) = scan_dockerfile(&f, "RUN echo\n");
        assert!(e.iter().any(|e| e.message.contains("no FROM")), "{e:?}");
        let (_, e) = scan_dockerfile(&f, "ARG X=1\nENV A=b\nFROM x\n");
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].line, e[0].column), (2, 1));
    }
}
