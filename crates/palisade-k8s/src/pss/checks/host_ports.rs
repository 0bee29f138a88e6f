use palisade_yaml::{push_index, push_key};

use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags container ports that are bound on the node: any `ports[*].hostPort` other than 0
    /// (Pod Security Standards, baseline check `hostPorts`).
    ///
    /// ## Why is this bad?
    /// A host port publishes the container on the node's address, outside Services and
    /// NetworkPolicies, and limits scheduling to one such pod per node. Model servers and
    /// notebooks exposed this way (Jupyter on 8888, Triton on 8000–8002, Ray dashboards on
    /// 8265) are reachable by anything that can reach the node.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: triton
    ///     ports:
    ///       - containerPort: 8000
    ///         hostPort: 8000
    /// ```
    ///
    /// ## Fix
    /// Remove `hostPort` and expose the port through a Service (and an Ingress or Gateway if
    /// it must be reachable from outside).
    pub static RULE = {
        code: "PAL005",
        name: "host-ports",
        family: "pss-baseline",
        severity: Medium,
        summary: "Containers must not bind host ports",
        pss_check: "hostPorts",
        references: [
            Pss "baseline/hostPorts" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Cis "5.2.13" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Network separation and hardening" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "hostPorts",
    level: Level::Baseline,
    reason: "hostPort",
    rule: &RULE,
    versions: &[VersionedCheck {
        min_minor: 0,
        check,
        overrides: &[],
    }],
};

fn check(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    for c in &pod.spec.containers {
        for port in &c.ports {
            if let Some(hp) = port.host_port.filter(|hp| hp.value != 0) {
                out.push(Violation {
                    detail: format!("{} uses hostPort {}", container_phrase(c.name), hp.value),
                    pointer: push_key(
                        &push_index(&push_key(&c.ptr, "ports"), port.index),
                        "hostPort",
                    ),
                    pos: hp.pos,
                    container: Some(c.name.to_string()),
                });
            }
        }
    }
}
