//! Every rule of every scanner, as `palisade rules` lists them: unique codes and names, and
//! documentation in the house sections with at least one reference.

use std::collections::HashSet;

use palisade::registry::all_rules;

#[test]
fn codes_and_names_are_unique() {
    let rules = all_rules();
    let mut codes = HashSet::new();
    let mut names = HashSet::new();
    for r in &rules {
        assert!(codes.insert(r.code), "duplicate code {}", r.code);
        assert!(
            names.insert(r.name),
            "duplicate name {} ({})",
            r.name,
            r.code
        );
        assert!(r.code.starts_with("PAL") && r.code.len() == 6, "{}", r.code);
    }
}

#[test]
fn every_rule_is_documented_with_references() {
    let mut missing = Vec::new();
    for r in all_rules() {
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Fix",
        ] {
            if !r.docs.contains(section) {
                missing.push(format!("{} {}: no `{section}`", r.code, r.name));
            }
        }
        if r.references.is_empty() {
            missing.push(format!("{} {}: no reference", r.code, r.name));
        }
        if r.summary.trim().is_empty() {
            missing.push(format!("{} {}: no summary", r.code, r.name));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}
