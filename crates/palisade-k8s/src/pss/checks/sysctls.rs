use palisade_yaml::push_index;

use super::pod_sc_ptr;
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags pod sysctls outside the "safe" set (Pod Security Standards, baseline check
    /// `sysctls`). Every `spec.securityContext.sysctls[*].name` must be in the allow-list of
    /// the Kubernetes version, compared exactly:
    /// - v1.0: `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`,
    ///   `net.ipv4.tcp_syncookies`, `net.ipv4.ping_group_range`,
    ///   `net.ipv4.ip_unprivileged_port_start`
    /// - v1.27: + `net.ipv4.ip_local_reserved_ports`
    /// - v1.29: + `net.ipv4.tcp_keepalive_time`, `net.ipv4.tcp_fin_timeout`,
    ///   `net.ipv4.tcp_keepalive_intvl`, `net.ipv4.tcp_keepalive_probes`
    /// - v1.32: + `net.ipv4.tcp_rmem`, `net.ipv4.tcp_wmem`
    /// - v1.37: + `net.ipv4.tcp_slow_start_after_idle`, `net.ipv4.tcp_notsent_lowat`
    ///
    /// ## Why is this bad?
    /// Other sysctls are either not namespaced (they change the whole node: `kernel.*`,
    /// `vm.*`) or can starve or weaken neighbours on the node. Distributed-training and
    /// inference images often ship tuning such as `net.core.somaxconn`,
    /// `kernel.shm*` or `vm.overcommit_memory`; set those on the node pool instead.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     sysctls:
    ///       - name: kernel.shmmax
    ///         value: "68719476736"
    /// ```
    ///
    /// ## Fix
    /// Remove unsafe sysctls from the pod and tune the nodes (or allow them per node with the
    /// kubelet's `--allowed-unsafe-sysctls` and a dedicated, tainted node pool).
    pub static RULE = {
        code: "PAL011",
        name: "sysctls",
        family: "pss-baseline",
        severity: Medium,
        summary: "Pods may only set safe, namespaced sysctls",
        pss_check: "sysctls",
        references: [
            Pss "baseline/sysctls" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            Nsa "Pod security: pod security enforcement" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.5.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Doc "Using sysctls in a Kubernetes cluster" "https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "sysctls",
    level: Level::Baseline,
    reason: "forbidden sysctls",
    rule: &RULE,
    versions: &[
        VersionedCheck {
            min_minor: 0,
            check: check_1_0,
            overrides: &[],
        },
        VersionedCheck {
            min_minor: 27,
            check: check_1_27,
            overrides: &[],
        },
        VersionedCheck {
            min_minor: 29,
            check: check_1_29,
            overrides: &[],
        },
        VersionedCheck {
            min_minor: 32,
            check: check_1_32,
            overrides: &[],
        },
        VersionedCheck {
            min_minor: 37,
            check: check_1_37,
            overrides: &[],
        },
    ],
};

const ADDED_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
const ADDED_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
const ADDED_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const ADDED_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];
const ADDED_1_37: &[&str] = &[
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

fn check_1_0(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    check_with(pod, &[ADDED_1_0], out);
}

fn check_1_27(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    check_with(pod, &[ADDED_1_0, ADDED_1_27], out);
}

fn check_1_29(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    check_with(pod, &[ADDED_1_0, ADDED_1_27, ADDED_1_29], out);
}

fn check_1_32(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    check_with(pod, &[ADDED_1_0, ADDED_1_27, ADDED_1_29, ADDED_1_32], out);
}

fn check_1_37(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    check_with(
        pod,
        &[ADDED_1_0, ADDED_1_27, ADDED_1_29, ADDED_1_32, ADDED_1_37],
        out,
    );
}

fn check_with(pod: &PodView<'_, '_>, allowed: &[&[&str]], out: &mut Vec<Violation>) {
    let Some(sc) = &pod.spec.security_context else {
        return;
    };
    for s in &sc.sysctls {
        if !allowed.iter().any(|group| group.contains(&s.name.value)) {
            out.push(Violation {
                // Upstream's detail is the bare list of names.
                detail: s.name.value.to_string(),
                pointer: palisade_yaml::push_key(
                    &push_index(&pod_sc_ptr(pod.spec, &["sysctls"]), s.index),
                    "name",
                ),
                pos: s.name.pos,
                container: None,
            });
        }
    }
}
