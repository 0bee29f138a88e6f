use palisade_yaml::push_key;

use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags containers whose image uses the `latest` tag or no tag at all (which the runtime
    /// resolves to `latest`) and no digest.
    ///
    /// ## Why is this bad?
    /// A mutable tag means the code that runs can change without any change to the manifest:
    /// a rebuilt `tensorflow/serving:latest` or a compromised upstream push reaches the
    /// cluster on the next pod restart (MITRE ATLAS AML.T0010, AI supply chain compromise).
    /// Rollbacks and audits cannot say which image actually ran.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: tf-serving
    ///     image: tensorflow/serving:latest
    /// ```
    ///
    /// ## Fix
    /// Pin a released version, ideally with its digest:
    /// ```yaml
    ///     image: tensorflow/serving:2.16.1@sha256:…
    /// ```
    pub static RULE = {
        code: "PAL100",
        name: "image-mutable-tag",
        family: "images",
        severity: Medium,
        summary: "Container images must not use `latest` or omit the tag",
        references: [
            Nist "SP 800-190 4.1.1" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Cis "5.5.1" "https://www.cisecurity.org/benchmark/kubernetes",
            Atlas "AML.T0010" "https://atlas.mitre.org/techniques/AML.T0010",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in &cx.pod.spec.containers {
        let Some(image) = c.image else { continue };
        let Some(r) = c.image_ref else { continue };
        if r.is_mutable_latest() {
            out.push(Violation {
                detail: format!(
                    "container {:?} uses image {:?}, which resolves to the mutable tag `latest`",
                    c.name, image.value
                ),
                pointer: push_key(&c.ptr, "image"),
                pos: image.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}
