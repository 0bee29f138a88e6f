use palisade_yaml::push_key;

use super::detect::{binds_all, env_var, flag};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags Ray heads whose dashboard (and with it the Jobs API on port 8265) listens on all
    /// interfaces: `--dashboard-host=0.0.0.0` on a `ray start --head` command line, or a
    /// KubeRay `RayCluster` / `RayJob` / `RayService` head whose `rayStartParams` sets
    /// `dashboard-host: 0.0.0.0` or leaves it unset (KubeRay then sets `0.0.0.0` itself).
    /// A head with Ray token authentication on (`RAY_AUTH_MODE=token`) or the dashboard turned
    /// off (`include-dashboard: "false"`) passes.
    ///
    /// ## Why is this bad?
    /// The Ray Jobs API has no authentication by default: whoever reaches port 8265 submits a
    /// job, which is a shell command on every node of the cluster (CVE-2023-48022, disputed by
    /// the vendor as "by design"). The ShadowRay campaign (MITRE ATLAS case study AML.CS0023)
    /// used exactly this to steal models and credentials and mine cryptocurrency on GPU
    /// clusters (AML.T0049, exploit public-facing application; AML.T0034, cost harvesting).
    /// Severity critical.
    ///
    /// ## Example
    /// ```yaml
    /// headGroupSpec:
    ///   rayStartParams:
    ///     dashboard-host: "0.0.0.0"
    /// ```
    ///
    /// ## Fix
    /// Set the field the finding points at to loopback, `rayStartParams/dashboard-host:
    /// "127.0.0.1"` (or the `--dashboard-host=127.0.0.1` element), and reach the dashboard with
    /// `kubectl port-forward`; if clients must submit jobs over the network, turn on Ray token
    /// authentication and put the dashboard behind an authenticating proxy.
    pub static RULE = {
        code: "PAL163",
        name: "ray-dashboard-exposed",
        family: "model-servers",
        severity: Critical,
        summary: "The Ray dashboard and Jobs API must not listen on all interfaces without authentication",
        references: [
            Atlas "AML.CS0023" "https://atlas.mitre.org/studies/AML.CS0023",
            Atlas "AML.T0049" "https://atlas.mitre.org/techniques/AML.T0049",
            Atlas "AML.T0034" "https://atlas.mitre.org/techniques/AML.T0034",
            Doc "CVE-2023-48022" "https://nvd.nist.gov/vuln/detail/CVE-2023-48022",
            Attack "T1190" "https://attack.mitre.org/techniques/T1190/",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn token_auth(cx: &PodContext<'_, '_, '_>) -> bool {
    cx.serving().any(|(_, facts)| {
        env_var(&facts.env, "RAY_AUTH_MODE").is_some_and(|e| e.from_ref || e.value == Some("token"))
    })
}

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    if token_auth(cx) {
        return;
    }
    let res = cx.resource;
    let head_ptr = cx.pod.spec.ptr.strip_suffix("/template/spec");
    if res.group() == "ray.io"
        && let Some(head_ptr) = head_ptr.filter(|p| p.ends_with("/headGroupSpec"))
        && let Some(rel) = head_ptr.strip_prefix(res.ptr.as_str())
        && let Some(head) = res.node.pointer(rel)
    {
        let params = head.get("rayStartParams");
        let params_ptr = push_key(head_ptr, "rayStartParams");
        let get = |k: &str| params.and_then(|p| p.get_entry(k));
        let dashboard_off = get("include-dashboard")
            .and_then(|e| e.value.as_str())
            .is_some_and(|v| v.eq_ignore_ascii_case("false"));
        let host = get("dashboard-host");
        let container = cx.serving().next().map(|(c, _)| c.name.to_string());
        match host.map(|e| (e, e.value.as_str().unwrap_or(""))) {
            _ if dashboard_off => {}
            Some((e, v)) if binds_all(v) => out.push(Violation {
                detail: format!(
                    "Ray head rayStartParams sets dashboard-host: {v:?}: the dashboard and the unauthenticated Jobs API listen on every interface (ShadowRay)"
                ),
                pointer: push_key(&params_ptr, "dashboard-host"),
                pos: e.value.pos,
                container,
            }),
            None => out.push(Violation {
                detail: "Ray head rayStartParams leaves dashboard-host unset, which KubeRay turns into 0.0.0.0: the dashboard and the unauthenticated Jobs API listen on every interface (ShadowRay)".to_string(),
                pointer: push_key(&params_ptr, "dashboard-host"),
                pos: head
                    .get_entry("rayStartParams")
                    .map_or(head.pos, |e| e.key_pos),
                container,
            }),
            Some(_) => {}
        }
        return;
    }
    for (c, facts) in cx.serving() {
        let words = &facts.words;
        if let Some(f) = flag(words, &["--dashboard-host"])
            && f.value.is_some_and(binds_all)
            && flag(words, &["--include-dashboard"])
                .is_none_or(|d| !d.value.is_some_and(|v| v.eq_ignore_ascii_case("false")))
        {
            out.push(Violation {
                detail: format!(
                    "container {:?} starts Ray with --dashboard-host={}: the dashboard and the unauthenticated Jobs API listen on every interface (ShadowRay)",
                    c.name,
                    f.value.unwrap_or_default()
                ),
                pointer: f.word.ptr(),
                pos: f.word.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}
