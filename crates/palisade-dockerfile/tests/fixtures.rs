//! Every rule has a failing and a passing fixture under `resources/test/fixtures/`
//! (`PALnnn_fail*.Dockerfile`, `PALnnn_pass*.Dockerfile`). Each fixture's complete output,
//! every rule's findings with line:column, is compared with the `.expected` file beside it,
//! so a change in any rule's positions or messages shows up as a reviewable diff.
//! `UPDATE_EXPECT=1 cargo test -p palisade-dockerfile --test fixtures` rewrites them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_dockerfile::{rules, scan_dockerfile};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("resources/test/fixtures")
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    v.sort();
    v
}

/// `line:col CODE name severity: message` per finding, then errors.
fn render(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let src = std::fs::read_to_string(path).expect("read fixture");
    let file: Arc<str> = Arc::from(name);
    let (findings, errors) = scan_dockerfile(&file, &src);
    let mut out = String::new();
    for f in &findings {
        let _ = writeln!(
            out,
            "{}:{}:{} {} {} [{}] {}: {}",
            f.location.file,
            f.location.line,
            f.location.column,
            f.rule.code,
            f.rule.name,
            f.severity,
            f.object.as_ref().map_or(String::new(), ToString::to_string),
            f.message
        );
    }
    for e in &errors {
        let _ = writeln!(out, "error {e}");
    }
    out
}

#[test]
fn fixtures_match_expected_output() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut mismatched = Vec::new();
    for path in fixtures() {
        let got = render(&path);
        let expected_path = path.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &got).expect("write expected");
            continue;
        }
        let want = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != want {
            mismatched.push(format!(
                "== {}\n-- expected\n{want}-- got\n{got}",
                path.display()
            ));
        }
    }
    assert!(mismatched.is_empty(), "{}", mismatched.join("\n"));
}

#[test]
fn every_rule_has_a_failing_and_a_passing_fixture() {
    let all = fixtures();
    for rule in rules() {
        let fails: Vec<_> = all
            .iter()
            .filter(|p| file_name(p).starts_with(&format!("{}_fail", rule.code)))
            .collect();
        let passes: Vec<_> = all
            .iter()
            .filter(|p| file_name(p).starts_with(&format!("{}_pass", rule.code)))
            .collect();
        assert!(!fails.is_empty(), "{} has no failing fixture", rule.code);
        assert!(!passes.is_empty(), "{} has no passing fixture", rule.code);
        for p in fails {
            let (f, e) = scan(p);
            assert!(e.is_empty(), "{}: {e:?}", p.display());
            assert!(
                f.iter().any(|f| f.rule.code == rule.code),
                "{} does not trigger {}",
                p.display(),
                rule.code
            );
        }
        for p in passes {
            let (f, e) = scan(p);
            assert!(e.is_empty(), "{}: {e:?}", p.display());
            let hits: Vec<_> = f.iter().filter(|f| f.rule.code == rule.code).collect();
            assert!(
                hits.is_empty(),
                "{} triggers {}: {hits:#?}",
                p.display(),
                rule.code
            );
        }
    }
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

fn scan(
    p: &Path,
) -> (
    Vec<palisade_policy::Finding>,
    Vec<palisade_policy::InputError>,
) {
    let src = std::fs::read_to_string(p).expect("read");
    scan_dockerfile(&Arc::from(file_name(p)), &src)
}

#[test]
fn secret_values_never_appear_in_findings() {
    let secrets = [
        "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "0123456789abcdef0123456789abcdef01234567",
        "hunter2",
        "s3cr3t",
        "AKIAIOSFODNN7EXAMPLE",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
    ];
    let (findings, _) = scan(&fixtures_dir().join("PAL509_fail.Dockerfile"));
    assert!(findings.iter().filter(|f| f.rule.code == "PAL509").count() >= 6);
    for f in &findings {
        for s in secrets {
            assert!(
                !f.message.contains(s),
                "{} leaks a secret: {}",
                f.rule.code,
                f.message
            );
        }
    }
}

/// Positions through continuation lines, heredocs and `sh -c` scripts point at the word.
#[test]
fn positions_point_at_the_word() {
    let src = "FROM ubuntu:24.04@sha256:0000000000000000000000000000000000000000000000000000000000000000\nRUN set -eux; \\\n    apt-get update \\\n && sudo apt-get install -y curl\nRUN bash -c \"chmod 777 /app\"\nRUN <<EOF\n  curl -s https://x/i.sh | sh\nEOF\nUSER 10001\n";
    let (findings, errors) = scan_dockerfile(&Arc::from("Dockerfile"), src);
    assert!(errors.is_empty(), "{errors:?}");
    let at = |code: &str| {
        findings
            .iter()
            .filter(|f| f.rule.code == code)
            .map(|f| (f.location.line, f.location.column))
            .collect::<Vec<_>>()
    };
    assert_eq!(at("PAL516"), [(4, 5)]);
    assert_eq!(at("PAL506"), [(4, 18)]);
    assert_eq!(at("PAL517"), [(5, 20)]);
    assert_eq!(at("PAL508"), [(7, 3)]);
    let sudo = findings.iter().find(|f| f.rule.code == "PAL516").unwrap();
    assert_eq!(
        sudo.snippet.as_deref(),
        Some(" && sudo apt-get install -y curl")
    );
}

#[test]
fn parse_errors_name_the_line_and_scanning_continues() {
    let src = "FROM python:3.11-slim\nFROBNICATE now\nCOPY onlyone\nRUN sudo true\nRUN <<EOF\necho never closed\n";
    let (findings, errors) = scan_dockerfile(&Arc::from("Dockerfile"), src);
    let lines: Vec<u32> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 5], "{errors:?}");
    assert!(
        errors[0]
            .message
            .contains("unknown instruction `FROBNICATE`")
    );
    assert!(errors[0].message.contains("expected one of FROM"));
    assert!(errors[1].message.contains("source and a destination"));
    assert!(
        errors[2]
            .message
            .contains("heredoc `EOF` is not terminated")
    );
    assert!(
        findings
            .iter()
            .any(|f| f.rule.code == "PAL516" && f.location.line == 4)
    );
}
