use crate::rules::Ctx;
use crate::rules::pal501_mutable_base_tag::shown;

const MOVING_TAGS: &[&str] = &[
    "latest", "nightly", "edge", "rolling", "main", "master", "stable",
];

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `FROM` lines with a version tag but no `@sha256:` digest. (A missing or moving
    /// tag is `mutable-base-tag` instead, so one line gets one finding.) Stage references
    /// (`FROM builder`) and `scratch` are not images and are never flagged; a base that
    /// depends on a build argument without a default cannot be judged and is skipped.
    ///
    /// ## Why is this bad?
    /// Tags are mutable pointers: `python:3.11-slim` is rebuilt and re-pushed every few
    /// weeks, and a registry or account compromise can point it at anything. Only a digest
    /// names exactly one image, which is what `images.requireDigest` in the Palisade policy
    /// and signature verification (`palisade verify`) expect.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
    /// ```
    ///
    /// ## Fix
    /// Keep the tag for humans and add the digest (`docker buildx imagetools inspect`
    /// prints it); let Renovate or Dependabot update both:
    /// ```dockerfile
    /// FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04@sha256:<digest>
    /// ```
    pub static RULE = {
        code: "PAL502",
        name: "base-without-digest",
        family: "dockerfile",
        severity: Low,
        summary: "Base images should be pinned by digest",
        references: [
            Cis "Docker 4.2" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.2.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1525" "https://attack.mitre.org/techniques/T1525/",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for st in &a.stages {
        let Some(img) = st.external_image() else {
            continue;
        };
        let Some(tag) = img.tag.as_deref() else {
            continue;
        };
        if img.digest.is_some() || MOVING_TAGS.iter().any(|m| m.eq_ignore_ascii_case(tag)) {
            continue;
        }
        cx.report(
            &RULE,
            st.from,
            st.base_src,
            format!(
                "base image {} of stage `{}` is not pinned by digest; append `@sha256:…` so the build always starts from the same image",
                shown(&st.base_raw, st.base.as_deref().unwrap_or("")),
                st.label()
            ),
        );
    }
}
