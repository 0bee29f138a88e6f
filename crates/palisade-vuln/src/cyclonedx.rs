//! Matches as a CycloneDX 1.6 `vulnerabilities` array (the VDR form: each vulnerability with
//! its ratings, references to its aliases, the recommendation and the components it affects).

use std::collections::BTreeMap;

use palisade_policy::Severity;
use serde_json::{Value, json};

use crate::matcher::{Match, Package};

/// Where an id is documented: (source name, URL).
#[must_use]
pub fn id_source(id: &str) -> (&'static str, String) {
    if id.starts_with("CVE-") {
        ("NVD", format!("https://nvd.nist.gov/vuln/detail/{id}"))
    } else if id.starts_with("GHSA-") {
        (
            "GitHub Advisories",
            format!("https://github.com/advisories/{id}"),
        )
    } else {
        ("OSV", format!("https://osv.dev/vulnerability/{id}"))
    }
}

/// CycloneDX's `scoreMethod` for a CVSS vector.
fn method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4.0/") {
        "CVSSv4"
    } else if vector.starts_with("CVSS:3.1/") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3.0/") {
        "CVSSv3"
    } else if vector.starts_with("CVSS:") {
        "other"
    } else {
        "CVSSv2"
    }
}

fn severity_word(s: Option<Severity>, score: Option<f64>) -> &'static str {
    match s {
        Some(Severity::Critical) => "critical",
        Some(Severity::High) => "high",
        Some(Severity::Medium) => "medium",
        Some(Severity::Low) => "low",
        Some(Severity::Info) if score == Some(0.0) => "none",
        Some(Severity::Info) => "info",
        None => "unknown",
    }
}

/// One entry per vulnerability id, affecting every component `refs_of` names for the
/// packages it was matched in. Packages for which `refs_of` names nothing are left out, and
/// so is a vulnerability that affects no component.
#[must_use]
pub fn vulnerabilities(
    packages: &[Package],
    matches: &[Match],
    refs_of: &dyn Fn(&Package) -> Vec<String>,
) -> Vec<Value> {
    let mut by_id: BTreeMap<&str, Vec<&Match>> = BTreeMap::new();
    for m in matches {
        by_id.entry(m.id.as_str()).or_default().push(m);
    }
    let mut out = Vec::new();
    for (id, ms) in by_id {
        let mut affects: Vec<Value> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut recommendations = Vec::new();
        for m in &ms {
            let Some(p) = packages.get(m.package) else {
                continue;
            };
            for r in refs_of(p) {
                if seen.insert(r.clone()) {
                    affects.push(json!({
                        "ref": r,
                        "versions": [{"version": p.version, "status": "affected"}],
                    }));
                }
            }
            let rec = match &m.fixed {
                Some(f) => format!("Upgrade {} to {f} or later.", p.match_name()),
                None => format!("No fixed version of {} is known yet.", p.match_name()),
            };
            if !recommendations.contains(&rec) {
                recommendations.push(rec);
            }
        }
        if affects.is_empty() {
            continue;
        }
        let first = ms[0];
        let (name, url) = id_source(id);
        let mut v = json!({
            "bom-ref": format!("vuln-{id}"),
            "id": id,
            "source": {"name": name, "url": url},
            "affects": affects,
            "recommendation": recommendations.join(" "),
        });
        if !first.aliases.is_empty() {
            v["references"] = Value::Array(
                first
                    .aliases
                    .iter()
                    .map(|a| {
                        let (n, u) = id_source(a);
                        json!({"id": a, "source": {"name": n, "url": u}})
                    })
                    .collect(),
            );
        }
        let sev = &first.severity;
        let mut rating = json!({
            "source": {"name": "OSV"},
            "severity": severity_word(sev.severity, sev.score),
        });
        if let Some(score) = sev.score {
            rating["score"] = json!(score);
        }
        if let Some(vector) = &sev.vector {
            rating["method"] = json!(method(vector));
            rating["vector"] = json!(vector);
        } else if sev.severity.is_some() {
            rating["method"] = json!("other");
        }
        v["ratings"] = json!([rating]);
        if !first.summary.is_empty() {
            v["description"] = json!(first.summary);
        }
        out.push(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::SeverityInfo;

    #[test]
    fn one_entry_per_id_with_aliases_ratings_and_affected_refs() {
        let pkgs = vec![
            Package::new("PyPI", "mlflow", "2.9.1"),
            Package::new("PyPI", "other", "1.0"),
        ];
        let m = |package: usize, fixed: Option<&str>| Match {
            package,
            id: "CVE-2023-6909".into(),
            aliases: vec!["GHSA-x".into(), "PYSEC-2023-252".into()],
            severity: SeverityInfo {
                severity: Some(Severity::Critical),
                source: "CVSS_V3 9.1".into(),
                score: Some(9.1),
                vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N".into()),
            },
            fixed: fixed.map(str::to_string),
            summary: "path traversal".into(),
        };
        let matches = vec![m(0, Some("2.9.2")), m(1, None)];
        let refs = |p: &Package| {
            if p.name == "mlflow" {
                vec!["a".to_string(), "a".to_string()]
            } else {
                vec!["b".to_string()]
            }
        };
        let v = vulnerabilities(&pkgs, &matches, &refs);
        assert_eq!(v.len(), 1);
        let v = &v[0];
        assert_eq!(v["id"], "CVE-2023-6909");
        assert_eq!(v["source"]["name"], "NVD");
        assert_eq!(v["affects"].as_array().unwrap().len(), 2);
        assert_eq!(v["affects"][0]["versions"][0]["version"], "2.9.1");
        assert_eq!(v["ratings"][0]["method"], "CVSSv31");
        assert_eq!(v["ratings"][0]["severity"], "critical");
        assert_eq!(v["references"][1]["source"]["name"], "OSV");
        assert_eq!(
            v["recommendation"],
            "Upgrade mlflow to 2.9.2 or later. No fixed version of other is known yet."
        );
        // No component, no entry.
        assert!(vulnerabilities(&pkgs, &matches, &|_| Vec::new()).is_empty());
    }
}
