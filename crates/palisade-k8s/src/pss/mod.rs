//! The Pod Security Standards, exactly as upstream `k8s.io/pod-security-admission` evaluates
//! them, for every version from v1.0 to v1.37.
//!
//! Each check lives in `checks/<check>.rs` with its rule metadata and its versioned
//! implementations; [`active_checks`] assembles the set for a level and version the way
//! upstream's `policy/registry.go` does (restricted = restricted checks + baseline checks
//! minus the ones a restricted check overrides at that version).

pub mod checks;
mod version;

use palisade_policy::{RuleMeta, Standard};
use palisade_yaml::Pos;

use crate::model::{PodMeta, PodSpec};

pub use version::{LATEST_MINOR, Version};

/// PSS level of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Baseline,
    Restricted,
}

/// What a check sees: the pod template's metadata and its spec.
#[derive(Clone, Copy, Debug)]
pub struct PodView<'v, 'a> {
    pub meta: &'v PodMeta<'a>,
    pub spec: &'v PodSpec<'a>,
}

/// One forbidden value. Upstream aggregates a check's violations into one reason; Palisade
/// keeps one violation per offending field so each gets its own location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Upstream-style detail, e.g. `container "app" must not set securityContext.privileged=true`.
    pub detail: String,
    pub pointer: String,
    pub pos: Pos,
    pub container: Option<String>,
}

pub type CheckFn = fn(&PodView<'_, '_>, &mut Vec<Violation>);

/// One implementation of a check, in force from `min_minor` until the next one.
#[derive(Debug)]
pub struct VersionedCheck {
    pub min_minor: u32,
    pub check: CheckFn,
    /// Baseline check IDs this (restricted) implementation replaces.
    pub overrides: &'static [&'static str],
}

#[derive(Debug)]
pub struct PssCheck {
    /// Upstream check ID (`runAsNonRoot`).
    pub id: &'static str,
    pub level: Level,
    /// Upstream `ForbiddenReason` (`runAsNonRoot != true`).
    pub reason: &'static str,
    pub rule: &'static RuleMeta,
    /// Ordered by `min_minor`.
    pub versions: &'static [VersionedCheck],
}

impl PssCheck {
    /// The implementation in force at `minor`, if the check exists at that version.
    #[must_use]
    pub fn at(&self, minor: u32) -> Option<&VersionedCheck> {
        self.versions.iter().rev().find(|v| v.min_minor <= minor)
    }
}

/// A check selected for a level and version, with the implementation to run.
#[derive(Clone, Copy, Debug)]
pub struct ActiveCheck {
    pub check: &'static PssCheck,
    pub implementation: &'static VersionedCheck,
}

/// The checks upstream runs at `standard` and `version`, baseline IDs first, each group
/// sorted by ID (upstream's result order).
#[must_use]
pub fn active_checks(standard: Standard, version: Version) -> Vec<ActiveCheck> {
    let minor = version.minor();
    let level = match standard {
        Standard::Privileged => return Vec::new(),
        Standard::Baseline => Level::Baseline,
        Standard::Restricted => Level::Restricted,
    };
    let at = |lvl: Level| {
        checks::ALL
            .iter()
            .filter(move |c| c.level == lvl)
            .filter_map(move |c| {
                c.at(minor).map(|implementation| ActiveCheck {
                    check: c,
                    implementation,
                })
            })
    };
    let mut restricted: Vec<ActiveCheck> = if level == Level::Restricted {
        at(Level::Restricted).collect()
    } else {
        Vec::new()
    };
    let overridden: Vec<&str> = restricted
        .iter()
        .flat_map(|a| a.implementation.overrides.iter().copied())
        .collect();
    let mut baseline: Vec<ActiveCheck> = at(Level::Baseline)
        .filter(|a| !overridden.contains(&a.check.id))
        .collect();
    baseline.sort_by_key(|a| a.check.id);
    restricted.sort_by_key(|a| a.check.id);
    baseline.extend(restricted);
    baseline
}

/// Rule metadata of every PSS check.
#[must_use]
pub fn rules() -> Vec<&'static RuleMeta> {
    checks::ALL.iter().map(|c| c.rule).collect()
}

/// `"a"` → `container "a"`; upstream words details per container this way.
#[must_use]
pub fn container_phrase(name: &str) -> String {
    // Pushed, not `format!`ed: a phrase is built for nearly every finding about a container.
    let mut out = String::with_capacity(name.len() + 12);
    out.push_str("container \"");
    out.push_str(name);
    out.push('"');
    out
}

/// Upstream's `joinQuote` for one item: wraps in double quotes without escaping.
#[must_use]
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    out.push_str(s);
    out.push('"');
    out
}

/// Go's `%q` (`strconv.Quote`), which upstream uses for annotation values.
#[must_use]
pub fn go_quote(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c == ' ' || !(c.is_control() || c.is_whitespace()) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x1_0000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quote_escapes_like_strconv_quote() {
        assert_eq!(go_quote("unconfined"), r#""unconfined""#);
        assert_eq!(go_quote("a\"b\\c\n\u{1}"), r#""a\"b\\c\n\x01""#);
        assert_eq!(go_quote("é x"), r#""é x""#);
    }

    #[test]
    fn quote_does_not_escape_like_join_quote() {
        assert_eq!(quote(r#"k="v""#), r#""k="v"""#);
        assert_eq!(container_phrase("app"), r#"container "app""#);
    }
}
