//! The OSV schema (the parts a matcher needs), read from JSON or from the YAML rendering the
//! PyPA advisory database uses. Unknown fields are ignored (minor schema versions only add
//! fields); every version stays the string it was written as.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Advisory {
    pub id: String,
    #[serde(default)]
    pub modified: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Package {
    pub ecosystem: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One event: exactly one of the fields is set.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct SeverityEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

impl Advisory {
    /// Parses one advisory from JSON text.
    pub fn from_json(text: &[u8]) -> Result<Advisory, String> {
        let adv: Advisory = serde_json::from_slice(text).map_err(|e| {
            format!(
                "line {}, column {}: expected an OSV advisory: {e}",
                e.line(),
                e.column()
            )
        })?;
        adv.check()
    }

    /// Parses one advisory from YAML text (the PyPA advisory database's format).
    pub fn from_yaml(text: &str) -> Result<Advisory, String> {
        let docs = palisade_yaml::parse_stream(text);
        let mut roots = docs.into_iter();
        let doc = match roots.next() {
            Some(Ok(doc)) => doc,
            Some(Err(e)) => {
                return Err(format!(
                    "line {}, column {}: {}",
                    e.line, e.column, e.message
                ));
            }
            None => return Err("empty document; expected an OSV advisory".into()),
        };
        let value = to_value(&doc.root);
        let adv: Advisory =
            serde_json::from_value(value).map_err(|e| format!("expected an OSV advisory: {e}"))?;
        adv.check()
    }

    fn check(self) -> Result<Advisory, String> {
        if self.id.trim().is_empty() {
            return Err("advisory has no `id`".into());
        }
        Ok(self)
    }

    /// The one-line summary: `summary`, else the first line of `details`.
    #[must_use]
    pub fn headline(&self) -> String {
        let text = self
            .summary
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .or(self.details.as_deref())
            .unwrap_or("");
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        if line.chars().count() > 200 {
            let mut s: String = line.chars().take(199).collect();
            s.push('…');
            s
        } else {
            line.to_string()
        }
    }
}

/// YAML to JSON with every scalar kept as the string it was written as (only `null`/`~`/empty
/// plain scalars become null), so `2.0` stays the version "2.0", never the number 2.
fn to_value(node: &palisade_yaml::Node<'_>) -> serde_json::Value {
    use palisade_yaml::NodeKind;
    match &node.kind {
        NodeKind::Scalar(s) => {
            if s.plain && matches!(s.text.as_ref(), "" | "~" | "null" | "Null" | "NULL") {
                serde_json::Value::Null
            } else {
                serde_json::Value::String(s.text.to_string())
            }
        }
        NodeKind::Seq(items) => serde_json::Value::Array(items.iter().map(to_value).collect()),
        NodeKind::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|e| (e.key.to_string(), to_value(&e.value)))
                .collect(),
        ),
    }
}
