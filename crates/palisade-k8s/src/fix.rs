//! Fixes: each fixable rule derives JSON Patch operations from its violation.
//!
//! A violation is a fact ("container `app` must set allowPrivilegeEscalation=false"); its fix
//! is computed from that fact, the pod it is about and the user's hardening choices. The same
//! operations are what `palisade harden` writes and what the mutating webhook returns, so a
//! fix is written once, in the rule's own file; this module only maps codes to those functions
//! and holds the shared helpers.

use palisade_yaml::edit::PatchOp;
use serde_json::{Value, json};

use crate::pss::{PodView, Violation, checks};
use crate::rules;

/// Choices a user makes when hardening; the defaults are the safe ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardenOptions {
    /// UID for pods that would otherwise run as root (`--run-as-user`). 65532 is the
    /// `nonroot` user of distroless images.
    pub run_as_user: i64,
    /// Seccomp profile type to set (`--seccomp`): `RuntimeDefault`, or `Localhost` with
    /// `seccomp_localhost_profile`.
    pub seccomp: String,
    pub seccomp_localhost_profile: Option<String>,
    /// Level written into namespaces' `pod-security.kubernetes.io/enforce` label.
    pub pss_level: palisade_policy::Standard,
    /// `sizeLimit` of the `emptyDir` volumes harden gives the cache directories a container
    /// writes once its root filesystem is read-only (`--cache-size-limit`): large enough for
    /// a downloaded model of a few billion parameters, bounded so that a runaway download
    /// evicts the pod instead of filling the node.
    pub cache_size_limit: String,
}

impl Default for HardenOptions {
    fn default() -> Self {
        HardenOptions {
            run_as_user: 65532,
            seccomp: "RuntimeDefault".into(),
            seccomp_localhost_profile: None,
            pss_level: palisade_policy::Standard::Restricted,
            cache_size_limit: "20Gi".into(),
        }
    }
}

impl HardenOptions {
    /// The `seccompProfile` object to write.
    #[must_use]
    pub fn seccomp_profile(&self) -> Value {
        match &self.seccomp_localhost_profile {
            Some(p) if self.seccomp == "Localhost" => {
                json!({"type": "Localhost", "localhostProfile": p})
            }
            _ => json!({"type": self.seccomp}),
        }
    }
}

/// What a fix function sees.
#[derive(Clone, Copy, Debug)]
pub struct FixContext<'c, 'v, 'a> {
    pub options: &'c HardenOptions,
    /// The pod the violation is about, for pod rules.
    pub pod: Option<PodView<'v, 'a>>,
}

pub type FixFn = fn(&Violation, &FixContext<'_, '_, '_>) -> Vec<PatchOp>;

/// The fix function of a rule, by code.
#[must_use]
pub fn fix_for(code: &str) -> Option<FixFn> {
    Some(match code {
        "PAL001" => checks::app_armor_profile::fix,
        "PAL002" => checks::capabilities_baseline::fix,
        "PAL007" => checks::privileged::fix,
        "PAL008" | "PAL015" => checks::proc_mount::fix,
        "PAL010" => checks::seccomp_profile_baseline::fix,
        "PAL013" => checks::allow_privilege_escalation::fix,
        "PAL014" => checks::capabilities_restricted::fix,
        "PAL017" => checks::run_as_non_root::fix,
        "PAL018" => checks::run_as_user::fix,
        "PAL019" => checks::seccomp_profile_restricted::fix,
        "PAL103" => rules::images::pull_policy::fix,
        "PAL141" => rules::gpus::visible_devices_env::fix,
        "PAL142" => rules::gpus::driver_capabilities_env::fix,
        "PAL190" => rules::model_files::writable_model_volume::fix,
        "PAL220" => rules::service_accounts::token_automount::fix,
        "PAL230" => rules::filesystem::read_only_root_filesystem::fix,
        "PAL240" => rules::namespaces::psa_enforce_missing::fix,
        _ => return None,
    })
}

/// "Set `pointer` to `value`", creating parents as needed.
#[must_use]
pub fn set(pointer: impl Into<String>, value: Value) -> PatchOp {
    PatchOp::Add {
        path: pointer.into(),
        value,
    }
}

/// The pointer with its last `n` tokens removed.
#[must_use]
pub fn parent(pointer: &str, n: usize) -> &str {
    let mut p = pointer;
    for _ in 0..n {
        p = p.rsplit_once('/').map_or("", |(head, _)| head);
    }
    p
}

/// The container a violation's pointer is inside of.
#[must_use]
pub fn container_of<'v, 'a>(
    pod: Option<PodView<'v, 'a>>,
    pointer: &str,
) -> Option<&'v crate::model::Container<'a>> {
    pod?.spec.containers.iter().find(|c| {
        pointer
            .strip_prefix(c.ptr.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// `capabilities.add` of the container at `pointer` without the entries `keep` refuses.
#[must_use]
pub fn filtered_capabilities_add(
    cx: &FixContext<'_, '_, '_>,
    pointer: &str,
    keep: impl Fn(&str) -> bool,
) -> Vec<PatchOp> {
    let Some(c) = container_of(cx.pod, pointer) else {
        return Vec::new();
    };
    let Some(caps) = c
        .security_context
        .as_ref()
        .and_then(|sc| sc.capabilities.as_ref())
    else {
        return Vec::new();
    };
    let kept: Vec<Value> = caps
        .add
        .iter()
        .filter(|a| keep(a.value))
        .map(|a| Value::String(a.value.to_string()))
        .collect();
    let add_ptr = format!("{}/securityContext/capabilities/add", c.ptr);
    if kept.is_empty() {
        vec![PatchOp::Remove { path: add_ptr }]
    } else {
        vec![set(add_ptr, Value::Array(kept))]
    }
}

/// Orders one document's fix operations so they can be applied one after another: removals
/// of list items go last and from the highest index down, so no removal shifts the index
/// another operation refers to.
pub fn order_for_application(ops: &mut [PatchOp]) {
    fn key(op: &PatchOp) -> (bool, Vec<std::cmp::Reverse<(u64, String)>>) {
        let is_remove = matches!(op, PatchOp::Remove { .. });
        let tokens = op
            .path()
            .split('/')
            .map(|t| std::cmp::Reverse((t.parse::<u64>().unwrap_or(u64::MAX), t.to_string())))
            .collect();
        (is_remove, if is_remove { tokens } else { Vec::new() })
    }
    ops.sort_by_cached_key(key);
}
