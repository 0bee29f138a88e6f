use palisade_yaml::{push_index, push_key};

use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, quote};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `hostPath` volumes (Pod Security Standards, baseline check `hostPathVolumes`).
    /// Under `restricted` this check is replaced by `restricted-volumes`, which forbids
    /// `hostPath` along with every other non-ephemeral inline volume type.
    ///
    /// ## Why is this bad?
    /// A `hostPath` volume hands the container a piece of the node's filesystem: mounting `/`,
    /// `/var/run/containerd/containerd.sock`, `/var/lib/kubelet` or `/etc` is a node takeover.
    /// ML pods often mount a node directory as a model or dataset cache (`/mnt/models`,
    /// `/raid`); anything that can write there can also swap the weights another tenant's
    /// server loads.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    ///   - name: model-cache
    ///     hostPath:
    ///       path: /mnt/models
    /// ```
    ///
    /// ## Fix
    /// Use a PersistentVolumeClaim (a `local` PersistentVolume still pins data to the node),
    /// an `emptyDir`, or an `image` volume for read-only model weights.
    pub static RULE = {
        code: "PAL004",
        name: "host-path-volumes",
        family: "pss-baseline",
        severity: High,
        summary: "Pods must not mount hostPath volumes",
        pss_check: "hostPathVolumes",
        references: [
            Pss "baseline/hostPathVolumes" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Cis "5.2.12" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: pod security enforcement" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.5.5" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "hostPathVolumes",
    level: Level::Baseline,
    reason: "hostPath volumes",
    rule: &RULE,
    versions: &[VersionedCheck {
        min_minor: 0,
        check,
        overrides: &[],
    }],
};

fn check(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    for v in &pod.spec.volumes {
        if let Some(source) = v.sources.iter().find(|s| s.value == "hostPath") {
            out.push(Violation {
                detail: format!("volume {}", quote(v.name)),
                pointer: push_key(
                    &push_index(&push_key(&pod.spec.ptr, "volumes"), v.index),
                    "hostPath",
                ),
                pos: source.pos,
                container: None,
            });
        }
    }
}
