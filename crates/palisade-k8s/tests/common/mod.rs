//! Shared by the rule-family tests: fixtures under `resources/test/fixtures/rules/<CODE>.yaml`
//! hold failing (`fail-*`) and passing (`pass-*`) objects, and each test pins exactly which
//! object, container and JSON pointer every finding of that code names.

use std::collections::BTreeSet;

use palisade_policy::Finding;

pub fn fixture(code: &str) -> String {
    let path = format!(
        "{}/resources/test/fixtures/rules/{code}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `Kind/name container pointer`.
pub fn describe(f: &Finding) -> String {
    let o = f.object.as_ref().expect("findings name their object");
    format!(
        "{}/{} {} {}",
        o.kind,
        o.name,
        f.container.as_deref().unwrap_or("-"),
        f.location.pointer
    )
}

/// Asserts that `found` (the findings of `code` in its fixture) are exactly `expected`, that
/// every finding has a position and a real message, that every `fail-*` object has one and
/// that no `pass-*` object does.
pub fn assert_fixture_findings(code: &str, found: &[Finding], expected: &[&str]) {
    for f in found {
        assert!(f.location.line > 0 && f.location.column > 0, "{f:?}");
        assert!(f.message.len() > 20, "{f:?}");
    }
    let mut got: Vec<String> = found.iter().map(describe).collect();
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| (*s).to_string()).collect();
    want.sort();
    assert_eq!(got, want, "{code}");
    let named: BTreeSet<&str> = found
        .iter()
        .filter_map(|f| f.object.as_ref().map(|o| o.name.as_str()))
        .collect();
    assert!(
        named.iter().all(|n| !n.starts_with("pass-")),
        "{code}: a pass-* object has a finding: {named:?}"
    );
    for line in fixture(code).lines() {
        if let Some(i) = line.find("name: fail-") {
            let name: String = line[i + 6..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            assert!(
                named.contains(name.as_str()),
                "{code}: {name} has no finding"
            );
        }
    }
}
