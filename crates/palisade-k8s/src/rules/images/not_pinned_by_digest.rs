use palisade_yaml::push_key;

use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// When the policy sets `images.requireDigest: true`, flags containers whose image is not
    /// pinned by digest (`@sha256:…`). Without that setting the rule reports nothing: a
    /// released version tag is an acceptable default, and `image-mutable-tag` (PAL100) already
    /// catches `latest`.
    ///
    /// ## Why is this bad?
    /// Every tag can be moved. A digest names exactly one image, so the image that is
    /// admitted, scanned and signed is the one that runs; a re-pushed tag of a model server
    /// image is the classic AI supply-chain compromise (MITRE ATLAS AML.T0010). Opting in
    /// through the policy makes this an explicit requirement, hence severity high.
    ///
    /// ## Example
    /// ```yaml
    /// # policy: spec.images.requireDigest: true
    /// containers:
    ///   - name: triton
    ///     image: nvcr.io/nvidia/tritonserver:24.08-py3
    /// ```
    ///
    /// ## Fix
    /// Resolve the tag to its digest (`crane digest`, `docker buildx imagetools inspect`) and
    /// append it:
    /// ```yaml
    ///     image: nvcr.io/nvidia/tritonserver:24.08-py3@sha256:…
    /// ```
    pub static RULE = {
        code: "PAL101",
        name: "image-not-pinned-by-digest",
        family: "images",
        severity: High,
        summary: "Container images must be pinned by digest when the policy requires it",
        references: [
            Nist "SP 800-190 4.1.1" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Nsa "Kubernetes Hardening Guide: image scanning and provenance" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Atlas "AML.T0010" "https://atlas.mitre.org/techniques/AML.T0010",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    if !cx.config.images.require_digest {
        return;
    }
    for c in &cx.pod.spec.containers {
        let Some(image) = c.image else { continue };
        if c.image_ref.is_some_and(|r| r.digest.is_none()) {
            out.push(Violation {
                detail: format!(
                    "container {:?} uses image {:?} without a digest; the policy requires images pinned by digest",
                    c.name, image.value
                ),
                pointer: push_key(&c.ptr, "image"),
                pos: image.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}
