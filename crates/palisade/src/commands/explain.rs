use palisade_policy::RuleMeta;

use crate::registry::find_rule;

pub fn run(key: &str) -> i32 {
    match find_rule(key) {
        Some(rule) => super::print_or_fail(&render(rule), 0),
        None => super::fail(format!(
            "no rule with code or name `{key}` (see `palisade rules`)"
        )),
    }
}

/// The rule's documentation as Markdown: header, metadata, then the doc comment.
#[must_use]
pub fn render(rule: &RuleMeta) -> String {
    let mut out = format!("# {} ({})\n\n{}\n\n", rule.name, rule.code, rule.summary);
    out.push_str(&format!(
        "- Severity: {}\n- Family: {}\n",
        rule.severity, rule.family
    ));
    if let Some(id) = rule.pss_check {
        out.push_str(&format!("- Pod Security Standards check: `{id}`\n"));
    }
    if !rule.references.is_empty() {
        out.push_str("- References:\n");
        for r in rule.references {
            let kind = serde_json::to_value(r.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            out.push_str(&format!("  - {kind} {}: <{}>\n", r.id, r.url));
        }
    }
    out.push('\n');
    for line in rule.docs.lines() {
        // Doc comments keep the space after `///`.
        out.push_str(line.strip_prefix(' ').unwrap_or(line));
        out.push('\n');
    }
    out
}
