use crate::cli::RulesArgs;
use crate::registry::all_rules;

pub fn run(args: &RulesArgs) -> i32 {
    let rules = all_rules();
    if args.format == "json" {
        match serde_json::to_string_pretty(&rules) {
            Ok(json) => println!("{json}"),
            Err(e) => return super::fail(e),
        }
        return 0;
    }
    let name_width = rules.iter().map(|r| r.name.len()).max().unwrap_or(4);
    let family_width = rules.iter().map(|r| r.family.len()).max().unwrap_or(6);
    println!(
        "{:<7} {:<name_width$} {:<8} {:<family_width$} SUMMARY",
        "CODE", "NAME", "SEVERITY", "FAMILY"
    );
    for r in rules {
        println!(
            "{:<7} {:<name_width$} {:<8} {:<family_width$} {}",
            r.code,
            r.name,
            r.severity.as_str(),
            r.family,
            r.summary
        );
    }
    0
}
