//! One file per upstream check ID.

pub(crate) mod allow_privilege_escalation;
pub(crate) mod app_armor_profile;
pub(crate) mod capabilities_baseline;
pub(crate) mod capabilities_restricted;
pub(crate) mod host_namespaces;
pub(crate) mod host_path_volumes;
pub(crate) mod host_ports;
pub(crate) mod host_probes_and_host_lifecycle;
pub(crate) mod privileged;
pub(crate) mod proc_mount;
pub(crate) mod proc_mount_restricted;
pub(crate) mod restricted_volumes;
pub(crate) mod run_as_non_root;
pub(crate) mod run_as_user;
pub(crate) mod seccomp_profile_baseline;
pub(crate) mod seccomp_profile_restricted;
pub(crate) mod selinux_options;
pub(crate) mod sysctls;
pub(crate) mod windows_host_process;

use palisade_yaml::{Pos, append_key};

use super::PssCheck;
use crate::model::{Container, PodSpec};

/// Every check, in upstream's ID order within each level (baseline, then restricted).
pub static ALL: &[&PssCheck] = &[
    &app_armor_profile::CHECK,
    &capabilities_baseline::CHECK,
    &host_namespaces::CHECK,
    &host_path_volumes::CHECK,
    &host_ports::CHECK,
    &host_probes_and_host_lifecycle::CHECK,
    &privileged::CHECK,
    &proc_mount::CHECK,
    &selinux_options::CHECK,
    &seccomp_profile_baseline::CHECK,
    &sysctls::CHECK,
    &windows_host_process::CHECK,
    &allow_privilege_escalation::CHECK,
    &capabilities_restricted::CHECK,
    &proc_mount_restricted::CHECK,
    &restricted_volumes::CHECK,
    &run_as_non_root::CHECK,
    &run_as_user::CHECK,
    &seccomp_profile_restricted::CHECK,
];

/// `base` followed by `keys`, each escaped as a JSON pointer token.
fn pointer(base: &str, keys: &[&str]) -> String {
    pointer_under(base, &[], keys)
}

/// `base`, then `parents`, then `keys`, in one allocation: a pointer is built for nearly
/// every finding about an unhardened pod.
fn pointer_under(base: &str, parents: &[&str], keys: &[&str]) -> String {
    let tokens = || parents.iter().chain(keys);
    let mut out = String::with_capacity(base.len() + tokens().map(|k| k.len() + 1).sum::<usize>());
    out.push_str(base);
    for k in tokens() {
        append_key(&mut out, k);
    }
    out
}

/// Pointer to a field under a container's `securityContext`.
fn container_sc_ptr(c: &Container<'_>, keys: &[&str]) -> String {
    pointer_under(&c.ptr, &["securityContext"], keys)
}

/// Pointer to a field under the pod's `securityContext`.
fn pod_sc_ptr(spec: &PodSpec<'_>, keys: &[&str]) -> String {
    pointer_under(&spec.ptr, &["securityContext"], keys)
}

/// Where a missing container security field is reported: its `securityContext`, else the
/// container.
fn container_sc_pos(c: &Container<'_>) -> Pos {
    c.security_context.as_ref().map_or(c.pos, |sc| sc.pos)
}
