use std::fmt::Write as _;

use crate::cli::RulesArgs;
use crate::registry::all_rules;

pub fn run(args: &RulesArgs) -> i32 {
    let rules = all_rules();
    if args.format == "json" {
        return match serde_json::to_string_pretty(&rules) {
            Ok(json) => super::print_or_fail(&format!("{json}\n"), 0),
            Err(e) => super::fail(e),
        };
    }
    let name_width = rules.iter().map(|r| r.name.len()).max().unwrap_or(4);
    let family_width = rules.iter().map(|r| r.family.len()).max().unwrap_or(6);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<7} {:<name_width$} {:<8} {:<family_width$} SUMMARY",
        "CODE", "NAME", "SEVERITY", "FAMILY"
    );
    for r in rules {
        let _ = writeln!(
            out,
            "{:<7} {:<name_width$} {:<8} {:<family_width$} {}",
            r.code,
            r.name,
            r.severity.as_str(),
            r.family,
            r.summary
        );
    }
    super::print_or_fail(&out, 0)
}
