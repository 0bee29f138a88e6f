use palisade_yaml::push_index;

use super::{container_sc_pos, container_sc_ptr};
use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, container_phrase, quote};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Requires every container to drop all capabilities and add back at most
    /// `NET_BIND_SERVICE`: `securityContext.capabilities.drop` must contain `ALL` and
    /// `capabilities.add` may only contain `NET_BIND_SERVICE` (Pod Security Standards,
    /// restricted check `capabilities_restricted`, from v1.22, where it replaces
    /// `capabilities-baseline`). From v1.25, Windows pods are exempt.
    ///
    /// ## Why is this bad?
    /// Even the runtime's default set includes capabilities an application never needs and an
    /// attacker likes: `NET_RAW` (spoofing, ARP poisoning on the pod network), `CHOWN`,
    /// `DAC_OVERRIDE`, `SETUID`/`SETGID`, `MKNOD`. Model servers and training jobs run fine
    /// with none of them.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: vllm
    ///     securityContext:
    ///       capabilities:
    ///         add: ["SYS_NICE"]
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     securityContext:
    ///       capabilities:
    ///         drop: ["ALL"]
    /// ```
    pub static RULE = {
        code: "PAL014",
        name: "capabilities-restricted",
        family: "pss-restricted",
        severity: Medium,
        summary: "Containers must drop ALL capabilities and add only NET_BIND_SERVICE",
        pss_check: "capabilities_restricted",
        references: [
            Pss "restricted/capabilities" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
            Cis "5.2.10" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: pod security enforcement" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.4.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "capabilities_restricted",
    level: Level::Restricted,
    reason: "unrestricted capabilities",
    rule: &RULE,
    versions: &[
        VersionedCheck {
            min_minor: 22,
            check: check_1_22,
            overrides: &["capabilities_baseline"],
        },
        VersionedCheck {
            min_minor: 25,
            check: check_1_25,
            overrides: &["capabilities_baseline"],
        },
    ],
};

/// Upstream reports every container missing `drop: [ALL]` before the forbidden additions.
fn check_1_22(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    let mut added = Vec::new();
    for c in &pod.spec.containers {
        let caps = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.capabilities.as_ref());
        if !caps.is_some_and(|caps| caps.drop.iter().any(|d| d.value == "ALL")) {
            out.push(Violation {
                detail: format!(
                    r#"{} must set securityContext.capabilities.drop=["ALL"]"#,
                    container_phrase(c.name)
                ),
                pointer: container_sc_ptr(c, &["capabilities", "drop"]),
                pos: caps.map_or_else(
                    || container_sc_pos(c),
                    |caps| caps.drop_pos.unwrap_or(caps.pos),
                ),
                container: Some(c.name.to_string()),
            });
        }
        let Some(caps) = caps else {
            continue;
        };
        for (i, cap) in caps.add.iter().enumerate() {
            if cap.value != "NET_BIND_SERVICE" {
                added.push(Violation {
                    detail: format!(
                        "{} must not include {} in securityContext.capabilities.add",
                        container_phrase(c.name),
                        quote(cap.value)
                    ),
                    pointer: push_index(&container_sc_ptr(c, &["capabilities", "add"]), i),
                    pos: cap.pos,
                    container: Some(c.name.to_string()),
                });
            }
        }
    }
    out.extend(added);
}

/// Windows pods are exempt: capabilities cannot be set for them.
fn check_1_25(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    if !pod.spec.is_windows() {
        check_1_22(pod, out);
    }
}

/// Adds `ALL` to `drop` and keeps only `NET_BIND_SERVICE` in `add`.
pub fn fix(
    v: &Violation,
    cx: &crate::fix::FixContext<'_, '_, '_>,
) -> Vec<palisade_yaml::edit::PatchOp> {
    if v.pointer.ends_with("/capabilities/drop") {
        let has_drop = crate::fix::container_of(cx.pod, &v.pointer)
            .and_then(|c| c.security_context.as_ref())
            .and_then(|sc| sc.capabilities.as_ref())
            .is_some_and(|caps| caps.drop_pos.is_some());
        if has_drop {
            vec![palisade_yaml::edit::PatchOp::Add {
                path: format!("{}/-", v.pointer),
                value: "ALL".into(),
            }]
        } else {
            vec![crate::fix::set(
                v.pointer.clone(),
                serde_json::json!(["ALL"]),
            )]
        }
    } else {
        crate::fix::filtered_capabilities_add(cx, &v.pointer, |c| c == "NET_BIND_SERVICE")
    }
}
