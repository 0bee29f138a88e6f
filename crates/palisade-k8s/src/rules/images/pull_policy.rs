use palisade_yaml::{Node, push_key};

use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags containers whose image uses a floating tag and whose `imagePullPolicy` is not
    /// `Always`. Floating tags are `latest` (or no tag) and the names projects use for moving
    /// builds: `main`, `master`, `nightly`, `edge`, `dev`, `develop`, `stable`, `rolling`, and
    /// tags ending in `-latest`, `-nightly` or `-dev`. For `latest` and untagged images
    /// Kubernetes already defaults the policy to `Always`, so only an explicit `IfNotPresent`
    /// or `Never` is reported; for the other floating tags the default is `IfNotPresent`, so a
    /// missing policy is reported too. Images pinned by digest are never reported.
    ///
    /// ## Why is this bad?
    /// With `IfNotPresent` each node runs whatever build of the tag it pulled first, so
    /// replicas of one model server can run different code, and a fixed image never reaches
    /// nodes that cached the old one. A node's cached copy of a private image can also be
    /// used by any pod on that node without pull credentials (the reason for CIS 1.2.11,
    /// `AlwaysPullImages`). Severity is low: PAL100 already reports `latest` itself.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: worker
    ///     image: rayproject/ray:nightly
    /// ```
    ///
    /// ## Fix
    /// Pin a version (best), or set `imagePullPolicy: Always`:
    /// ```yaml
    ///     image: rayproject/ray:nightly
    ///     imagePullPolicy: Always
    /// ```
    pub static RULE = {
        code: "PAL103",
        name: "image-pull-policy-not-always",
        family: "images",
        severity: Low,
        summary: "Images with floating tags must use `imagePullPolicy: Always`",
        references: [
            Cis "1.2.11" "https://www.cisecurity.org/benchmark/kubernetes",
            Nist "SP 800-190 4.1.1" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Doc "Kubernetes: image pull policy" "https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for c in &cx.pod.spec.containers {
        let Some(image) = c.image else { continue };
        let Some(r) = c.image_ref else { continue };
        if r.digest.is_some() {
            continue;
        }
        let latest = r.is_mutable_latest();
        if !latest && !r.tag.is_some_and(is_floating) {
            continue;
        }
        let policy = c.raw.get("imagePullPolicy").filter(|n| !n.is_null());
        let pos = match policy.and_then(Node::as_str) {
            Some("Always") => continue,
            Some(_) => policy.map_or(image.pos, |p| p.pos),
            // The API server defaults the policy to `Always` for `latest` and no tag.
            None if latest => continue,
            None => image.pos,
        };
        out.push(Violation {
            detail: format!(
                "container {:?} uses the floating image tag {:?} without `imagePullPolicy: Always`",
                c.name, image.value
            ),
            pointer: push_key(&c.ptr, "imagePullPolicy"),
            pos,
            container: Some(c.name.to_string()),
        });
    }
}

/// Tags that projects move on every build.
fn is_floating(tag: &str) -> bool {
    let tag = crate::rules::ascii_lowercase(tag);
    matches!(
        tag.as_ref(),
        "latest"
            | "main"
            | "master"
            | "nightly"
            | "edge"
            | "dev"
            | "develop"
            | "stable"
            | "rolling"
    ) || ["-latest", "-nightly", "-dev"]
        .iter()
        .any(|s| tag.ends_with(s))
}

/// Pulls on every start, so a moved tag is at least picked up consistently.
pub fn fix(
    v: &Violation,
    _cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    vec![crate::fix::set(v.pointer.clone(), "Always".into())]
}
