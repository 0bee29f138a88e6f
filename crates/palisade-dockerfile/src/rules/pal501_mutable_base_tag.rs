use crate::rules::Ctx;

/// Tags that by convention move to new builds.
const MOVING_TAGS: &[&str] = &[
    "latest", "nightly", "edge", "rolling", "main", "master", "stable",
];

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `FROM` lines whose image has no tag (which means `:latest`) or a tag that is
    /// moved by design (`latest`, `nightly`, `edge`, `main`, `stable`, …), and no digest.
    /// Global `ARG`s are substituted first: `ARG BASE=python` + `FROM ${BASE}` is `python`.
    /// Every stage counts, because build stages produce what the final stage copies.
    ///
    /// ## Why is this bad?
    /// The same Dockerfile builds a different image every time the tag moves: a new major
    /// version of Python or CUDA, a different `glibc`, or an image pushed by whoever
    /// controls the tag. Builds stop being reproducible and a compromised upstream image is
    /// picked up silently.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python
    /// FROM pytorch/pytorch:latest
    /// ```
    ///
    /// ## Fix
    /// Use a specific version tag, and better a digest (see `base-without-digest`):
    /// ```dockerfile
    /// FROM python:3.11.9-slim-bookworm@sha256:<digest>
    /// ```
    pub static RULE = {
        code: "PAL501",
        name: "mutable-base-tag",
        family: "dockerfile",
        severity: Medium,
        summary: "Base images must have a specific version tag",
        references: [
            Cis "Docker 4.2" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.5" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Doc "hadolint DL3006" "https://github.com/hadolint/hadolint/wiki/DL3006",
            Doc "hadolint DL3007" "https://github.com/hadolint/hadolint/wiki/DL3007",
            Attack "T1525" "https://attack.mitre.org/techniques/T1525/",
        ],
    };
}

/// `FROM ${BASE}` (= `python:3.11`) when substitution changed the text.
pub(crate) fn shown(raw: &str, resolved: &str) -> String {
    if raw == resolved {
        format!("`{raw}`")
    } else {
        format!("`{raw}` (= `{resolved}`)")
    }
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for st in &a.stages {
        let Some(img) = st.external_image() else {
            continue;
        };
        if img.digest.is_some() {
            continue;
        }
        let resolved = st.base.as_deref().unwrap_or("");
        let problem = match img.tag.as_deref() {
            None => "has no tag, so it means `:latest`".to_string(),
            Some(t) if MOVING_TAGS.iter().any(|m| m.eq_ignore_ascii_case(t)) => {
                format!("uses the moving tag `{t}`")
            }
            Some(_) => continue,
        };
        cx.report(
            &RULE,
            st.from,
            st.base_src,
            format!(
                "base image {} of stage `{}` {problem}; pin a version tag and a digest",
                shown(&st.base_raw, resolved),
                st.label()
            ),
        );
    }
}
