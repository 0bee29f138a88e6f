//! Rule registry of the model scanner (the `PAL8xx` family).
//!
//! One rule, one file: each file declares the rule's metadata and its documentation with
//! [`declare_rule!`]; the doc comment is both the rustdoc and the text that
//! `palisade explain CODE` prints, so the two can never drift apart. The checks themselves
//! live in the format readers (a pickle import is found by the pickle VM, not by a rule
//! walking a tree), and build their findings through the rule's `META`.

use crate::finding::Severity;

/// MITRE ATLAS AML.T0011.000: user execution of unsafe AI artifacts.
pub const ATLAS_UNSAFE_ARTIFACT: &str = "AML.T0011.000";
/// MITRE ATLAS AML.T0010: AI supply chain compromise.
pub const ATLAS_SUPPLY_CHAIN: &str = "AML.T0010";

/// ATLAS technique sets, as ids and as `palisade-policy` references.
pub(crate) mod atlas {
    use palisade_policy::{RefKind, Reference};

    const UNSAFE: Reference = Reference {
        kind: RefKind::Atlas,
        id: super::ATLAS_UNSAFE_ARTIFACT,
        url: "https://atlas.mitre.org/techniques/AML.T0011.000",
    };
    const CHAIN: Reference = Reference {
        kind: RefKind::Atlas,
        id: super::ATLAS_SUPPLY_CHAIN,
        url: "https://atlas.mitre.org/techniques/AML.T0010",
    };

    /// Unsafe artifact executed on load, delivered through the supply chain.
    #[allow(non_snake_case)]
    pub(crate) mod BOTH {
        pub(crate) const IDS: &[&str] = &[
            super::super::ATLAS_UNSAFE_ARTIFACT,
            super::super::ATLAS_SUPPLY_CHAIN,
        ];
        pub(crate) const REFS: &[palisade_policy::Reference] = &[super::UNSAFE, super::CHAIN];
    }

    /// Supply-chain tampering without direct code execution on load.
    #[allow(non_snake_case)]
    pub(crate) mod CHAIN {
        pub(crate) const IDS: &[&str] = &[super::super::ATLAS_SUPPLY_CHAIN];
        pub(crate) const REFS: &[palisade_policy::Reference] = &[super::CHAIN];
    }
}

/// Metadata of one rule, as listed by `palisade rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMeta {
    /// Stable code, never reused: `PAL801`.
    pub code: &'static str,
    /// Kebab-case name: `dangerous-pickle-import`.
    pub name: &'static str,
    /// Default severity; some rules raise or lower it per finding (documented in the rule).
    pub severity: Severity,
    /// One-line summary.
    pub summary: &'static str,
    /// MITRE ATLAS technique ids.
    pub atlas: &'static [&'static str],
    /// Raw doc comment (What it does / Why is this bad? / Example / Fix).
    pub docs: &'static str,
}

impl RuleMeta {
    /// The rule's documentation as Markdown, with the doc-comment indentation removed.
    pub fn documentation(&self) -> String {
        let mut out = String::with_capacity(self.docs.len());
        for line in self.docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }
}

/// Declares a rule: a unit struct carrying the doc comment and a `META` constant whose
/// `docs` field is the same doc comment, concatenated at compile time.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            code: $code:literal,
            name: $kebab:literal,
            severity: $sev:ident,
            atlas: $atlas:ident,
            summary: $summary:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl $name {
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                code: $code,
                name: $kebab,
                severity: $crate::finding::Severity::$sev,
                summary: $summary,
                atlas: $crate::rules::atlas::$atlas::IDS,
                docs: concat!($($doc, "\n"),*),
            };

            /// The same rule in the shared `palisade-policy` model.
            pub const POLICY: palisade_policy::RuleMeta = palisade_policy::RuleMeta {
                code: $code,
                name: $kebab,
                family: "model",
                severity: palisade_policy::Severity::$sev,
                summary: $summary,
                pss_check: None,
                references: $crate::rules::atlas::$atlas::REFS,
                docs: concat!($($doc, "\n"),*),
            };
        }
    };
}

mod pal801_dangerous_pickle_import;
mod pal802_unknown_pickle_import;
mod pal803_unresolved_pickle_call;
mod pal804_pickle_global_state_overwrite;
mod pal805_malformed_pickle;
mod pal806_nested_pickle;
mod pal810_keras_lambda_layer;
mod pal811_keras_custom_object;
mod pal815_tensorflow_dangerous_op;
mod pal820_onnx_external_data_escape;
mod pal821_onnx_custom_operator;
mod pal825_safetensors_invalid_header;
mod pal826_suspicious_metadata;
mod pal830_gguf_template_injection;
mod pal831_gguf_invalid_header;
mod pal840_archive_anomaly;
mod pal841_unscanned_content;
mod pal850_remote_code;
mod pal860_format_mismatch;

pub use pal801_dangerous_pickle_import::DangerousPickleImport;
pub use pal802_unknown_pickle_import::UnknownPickleImport;
pub use pal803_unresolved_pickle_call::UnresolvedPickleCall;
pub use pal804_pickle_global_state_overwrite::PickleGlobalStateOverwrite;
pub use pal805_malformed_pickle::MalformedPickle;
pub use pal806_nested_pickle::NestedPickle;
pub use pal810_keras_lambda_layer::KerasLambdaLayer;
pub use pal811_keras_custom_object::KerasCustomObject;
pub use pal815_tensorflow_dangerous_op::TensorflowDangerousOp;
pub use pal820_onnx_external_data_escape::OnnxExternalDataEscape;
pub use pal821_onnx_custom_operator::OnnxCustomOperator;
pub use pal825_safetensors_invalid_header::SafetensorsInvalidHeader;
pub use pal826_suspicious_metadata::SuspiciousMetadata;
pub use pal830_gguf_template_injection::GgufTemplateInjection;
pub use pal831_gguf_invalid_header::GgufInvalidHeader;
pub use pal840_archive_anomaly::ArchiveAnomaly;
pub use pal841_unscanned_content::UnscannedContent;
pub use pal850_remote_code::RemoteCode;
pub use pal860_format_mismatch::FormatMismatch;

/// Every rule of the model scanner, ordered by code.
pub fn all() -> &'static [RuleMeta] {
    const ALL: &[RuleMeta] = &[
        DangerousPickleImport::META,
        UnknownPickleImport::META,
        UnresolvedPickleCall::META,
        PickleGlobalStateOverwrite::META,
        MalformedPickle::META,
        NestedPickle::META,
        KerasLambdaLayer::META,
        KerasCustomObject::META,
        TensorflowDangerousOp::META,
        OnnxExternalDataEscape::META,
        OnnxCustomOperator::META,
        SafetensorsInvalidHeader::META,
        SuspiciousMetadata::META,
        GgufTemplateInjection::META,
        GgufInvalidHeader::META,
        ArchiveAnomaly::META,
        UnscannedContent::META,
        RemoteCode::META,
        FormatMismatch::META,
    ];
    ALL
}

/// Every rule in the shared `palisade-policy` model (family `model`), ordered by code.
pub fn policy_rules() -> &'static [palisade_policy::RuleMeta] {
    static ALL: [palisade_policy::RuleMeta; 19] = [
        DangerousPickleImport::POLICY,
        UnknownPickleImport::POLICY,
        UnresolvedPickleCall::POLICY,
        PickleGlobalStateOverwrite::POLICY,
        MalformedPickle::POLICY,
        NestedPickle::POLICY,
        KerasLambdaLayer::POLICY,
        KerasCustomObject::POLICY,
        TensorflowDangerousOp::POLICY,
        OnnxExternalDataEscape::POLICY,
        OnnxCustomOperator::POLICY,
        SafetensorsInvalidHeader::POLICY,
        SuspiciousMetadata::POLICY,
        GgufTemplateInjection::POLICY,
        GgufInvalidHeader::POLICY,
        ArchiveAnomaly::POLICY,
        UnscannedContent::POLICY,
        RemoteCode::POLICY,
        FormatMismatch::POLICY,
    ];
    &ALL
}

/// Looks a rule up by code (`PAL801`) or name (`dangerous-pickle-import`), case-insensitively.
pub fn find(code_or_name: &str) -> Option<&'static RuleMeta> {
    all().iter().find(|r| {
        r.code.eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_documented() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for r in all() {
            assert!(codes.insert(r.code), "duplicate code {}", r.code);
            assert!(names.insert(r.name), "duplicate name {}", r.name);
            assert!(
                r.code.starts_with("PAL8"),
                "{} outside the PAL8xx family",
                r.code
            );
            for section in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Fix",
            ] {
                assert!(
                    r.documentation().contains(section),
                    "{} lacks section {section}",
                    r.code
                );
            }
            assert!(!r.atlas.is_empty(), "{} has no ATLAS reference", r.code);
        }
        let mut sorted: Vec<_> = all().iter().map(|r| r.code).collect();
        sorted.sort_unstable();
        assert_eq!(sorted, all().iter().map(|r| r.code).collect::<Vec<_>>());
    }

    #[test]
    fn policy_rules_mirror_local_metadata() {
        assert_eq!(policy_rules().len(), all().len());
        for (p, r) in policy_rules().iter().zip(all()) {
            assert_eq!(
                (p.code, p.name, p.severity, p.summary, p.docs),
                (r.code, r.name, r.severity, r.summary, r.docs)
            );
            assert_eq!(
                p.references.iter().map(|x| x.id).collect::<Vec<_>>(),
                r.atlas.to_vec()
            );
            assert!(p.matches("model"));
        }
    }

    #[test]
    fn find_by_code_or_name() {
        assert_eq!(
            find("pal801").map(|r| r.name),
            Some("dangerous-pickle-import")
        );
        assert_eq!(find("nested-pickle").map(|r| r.code), Some("PAL806"));
        assert!(find("PAL999").is_none());
    }
}
