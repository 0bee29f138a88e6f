//! The finding model of the model scanner.
//!
//! These types mirror what every Palisade scanner reports (rule code, severity, subject,
//! location) plus what only model files have: the member path inside (possibly nested)
//! archives, a byte offset inside that member, and the imported callable with the call chain
//! that would run when the file is loaded.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

pub use palisade_policy::Severity;

/// One problem found in a model artifact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelFinding {
    /// Stable rule code, e.g. `PAL801`.
    pub code: &'static str,
    /// Kebab-case rule name, e.g. `dangerous-pickle-import`.
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The file on disk (or the name given to [`crate::scan_bytes`]).
    pub file: PathBuf,
    /// Path of the member inside archives, outermost first, joined with `!/`
    /// (e.g. `model.zip!/archive/data.pkl`); `None` for the file itself.
    pub member: Option<String>,
    /// Byte offset inside the member (or file) where the problem starts.
    pub offset: Option<u64>,
    /// The detected format of the member, e.g. `pickle`, `pytorch-zip`.
    pub format: &'static str,
    /// The imported callable (`module.name`) for pickle findings.
    pub callable: Option<String>,
    /// The call expression that would run on load, rendered like Python
    /// (`builtins.getattr(builtins.__import__('os'), 'system')('id')`).
    pub call_chain: Option<String>,
    /// MITRE ATLAS technique ids.
    pub atlas: &'static [&'static str],
}

impl ModelFinding {
    /// The finding in the shared `palisade-policy` model, for every output format: the
    /// member and offset go in its location, the callable and call chain in its `call`.
    pub fn to_policy(&self) -> palisade_policy::Finding {
        let rule = crate::rules::policy_rules()
            .iter()
            .find(|r| r.code == self.code)
            .expect("every model finding comes from a registered rule");
        let location = palisade_policy::Location {
            file: self.file.to_string_lossy().as_ref().into(),
            member: self.member.clone(),
            offset: self.offset,
            ..Default::default()
        };
        let mut f = palisade_policy::Finding::new(rule, self.message.clone(), location);
        f.severity = self.severity;
        if self.callable.is_some() || self.call_chain.is_some() {
            f.call = Some(Box::new(palisade_policy::CallSite {
                callable: self.callable.clone(),
                call_chain: self.call_chain.clone(),
            }));
        }
        f
    }

    /// `file` plus `!/member` when the finding is inside an archive.
    pub fn location(&self) -> String {
        let mut s = self.file.display().to_string();
        if let Some(m) = &self.member {
            s.push_str("!/");
            s.push_str(m);
        }
        if let Some(o) = self.offset {
            s.push_str(&format!("@{o}"));
        }
        s
    }
}

impl fmt::Display for ModelFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} [{}] {}: {}",
            self.location(),
            self.code,
            self.severity,
            self.rule,
            self.message
        )?;
        if let Some(c) = &self.call_chain {
            write!(f, " (call: {c})")?;
        }
        Ok(())
    }
}
