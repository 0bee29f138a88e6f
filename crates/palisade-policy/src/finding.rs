use std::sync::Arc;

use serde::Serialize;

use crate::{RuleMeta, Severity};

/// The Kubernetes object a finding is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// Where a finding is. `line`/`column` are 1-based and 0 when the input has no positions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
    /// Index of the document in a multi-document stream (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    /// JSON pointer (RFC 6901) of the offending field inside the document.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pointer: String,
    /// Path of a member inside an archive or image layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// Byte offset inside the file or member, for binary inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// One rule violated by one subject at one place.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    /// Effective severity, after the policy's per-rule overrides.
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    /// Shared by every finding about the same object (a pod template gets several).
    pub object: Option<Arc<ObjectRef>>,
    pub container: Option<String>,
    /// The source line the location points at, for excerpts.
    pub snippet: Option<String>,
    /// The fix, as JSON Patch operations against the finding's document, when the rule has
    /// one and fixes were asked for. `add` here means "set, creating parents as needed";
    /// `palisade harden` and the mutating webhook turn it into strict RFC 6902.
    pub fix: Vec<palisade_yaml::edit::PatchOp>,
    /// Set by the vulnerability rule only; boxed so every other finding stays small.
    pub vulnerability: Option<Box<crate::Vulnerability>>,
    /// What a model artifact would run when loaded; set by the model scanner only, boxed so
    /// every other finding stays small.
    pub call: Option<Box<CallSite>>,
}

/// The code a model file runs on load: the callable it imports and the call expression.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallSite {
    /// The imported callable, `module.name` (`posix.system`), or what stands for it in
    /// formats without imports (a Keras `Lambda:name`, a TensorFlow op).
    pub callable: Option<String>,
    /// The call that would run, rendered like Python (`posix.system('id')`), or the
    /// offending excerpt (a chat template).
    pub call_chain: Option<String>,
}

impl Finding {
    #[must_use]
    pub fn new(rule: &'static RuleMeta, message: impl Into<String>, location: Location) -> Self {
        Finding {
            rule,
            severity: rule.severity,
            message: message.into(),
            location,
            object: None,
            container: None,
            snippet: None,
            fix: Vec::new(),
            vulnerability: None,
            call: None,
        }
    }

    /// Sort key giving a stable, reader-friendly order: file, line, column, code.
    #[must_use]
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &str) {
        (
            &self.location.file,
            self.location.line,
            self.location.column,
            self.rule.code,
            &self.message,
        )
    }
}

/// Input that could not be read or understood. It makes the exit code 2 but never stops the
/// rest of the input from being scanned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InputError {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}
