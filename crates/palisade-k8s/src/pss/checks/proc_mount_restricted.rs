use super::proc_mount;
use crate::pss::{Level, PssCheck, VersionedCheck};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags containers that set `securityContext.procMount` to anything but `Default`, even
    /// in a user namespace (Pod Security Standards, restricted check `procMount_restricted`,
    /// from v1.35, where it replaces the baseline `procMount` check that lets
    /// `hostUsers: false` pods unmask `/proc`).
    ///
    /// ## Why is this bad?
    /// A user namespace maps root in the container to an unprivileged user on the node, which
    /// defuses most of what an unmasked `/proc` exposes, but not all of it: kernel information
    /// leaks and the extra attack surface remain. The restricted profile keeps the masks for
    /// every pod; shared GPU nodes running many tenants' notebooks are where that matters.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostUsers: false
    ///   containers:
    ///     - name: builder
    ///       securityContext:
    ///         procMount: Unmasked
    /// ```
    ///
    /// ## Fix
    /// Remove `procMount` (or set it to `Default`), or run the pod under `baseline`.
    pub static RULE = {
        code: "PAL015",
        name: "proc-mount-restricted",
        family: "pss-restricted",
        severity: High,
        summary: "Containers must use the default masked /proc, even in a user namespace",
        pss_check: "procMount_restricted",
        references: [
            Pss "restricted/procMount" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
            Cis "5.7.3" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: hardening container environments" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "procMount_restricted",
    level: Level::Restricted,
    reason: "procMount",
    rule: &RULE,
    versions: &[VersionedCheck {
        min_minor: 35,
        check: proc_mount::check_1_0,
        overrides: &["procMount"],
    }],
};
