use super::pointer;
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase, quote};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags probes and lifecycle hooks that target another host: a non-empty `host` in the
    /// `httpGet` or `tcpSocket` action of `livenessProbe`, `readinessProbe`, `startupProbe`,
    /// `lifecycle.postStart` or `lifecycle.preStop` (Pod Security Standards, baseline check
    /// `hostProbesAndHostLifecycle`, from Kubernetes v1.34).
    ///
    /// ## Why is this bad?
    /// The kubelet runs these actions from the node's network namespace. A `host` field turns
    /// it into a proxy: a pod can make the node send requests to the cloud metadata endpoint,
    /// to services on the node's loopback, or to internal addresses its NetworkPolicy forbids,
    /// and learn from probe results whether they answer. Model servers' health checks only
    /// ever need their own pod IP, which is the default.
    ///
    /// ## Example
    /// ```yaml
    /// livenessProbe:
    ///   httpGet:
    ///     host: 169.254.169.254
    ///     path: /latest/meta-data/
    ///     port: 80
    /// ```
    ///
    /// ## Fix
    /// Remove `host` so the probe targets the pod's own IP.
    pub static RULE = {
        code: "PAL006",
        name: "host-probes-and-host-lifecycle",
        family: "pss-baseline",
        severity: Medium,
        summary: "Probes and lifecycle hooks must not target another host",
        pss_check: "hostProbesAndHostLifecycle",
        references: [
            Pss "baseline/hostProbesAndHostLifecycle" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Nsa "Network separation and hardening" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1090" "https://attack.mitre.org/techniques/T1090/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "hostProbesAndHostLifecycle",
    level: Level::Baseline,
    reason: "probe or lifecycle host",
    rule: &RULE,
    versions: &[VersionedCheck {
        min_minor: 34,
        check,
        overrides: &[],
    }],
};

fn check(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    for c in &pod.spec.containers {
        for h in &c.handlers {
            for (action, host) in [
                ("httpGet", h.http_get_host),
                ("tcpSocket", h.tcp_socket_host),
            ] {
                let Some(host) = host.filter(|h| !h.value.is_empty()) else {
                    continue;
                };
                let mut keys: Vec<&str> = h.field.split('/').collect();
                keys.extend([action, "host"]);
                out.push(Violation {
                    detail: format!(
                        "{} uses probe or lifecycle host {}",
                        container_phrase(c.name),
                        quote(host.value)
                    ),
                    pointer: pointer(&c.ptr, &keys),
                    pos: host.pos,
                    container: Some(c.name.to_string()),
                });
            }
        }
    }
}
