//! Every rule of every feature crate, for `palisade rules`, `explain` and selection.

use palisade_policy::RuleMeta;

#[must_use]
pub fn all_rules() -> Vec<&'static RuleMeta> {
    let mut rules = palisade_k8s::rules();
    rules.extend(palisade_model::policy_rules().iter());
    rules.extend(palisade_dockerfile::rules());
    rules.extend(palisade_image::rules());
    rules.extend(palisade_vuln::findings::rules());
    rules.extend(palisade_admission::rules());
    rules.sort_by_key(|r| r.code);
    rules
}

/// A rule by code (exact, case-insensitive) or name.
#[must_use]
pub fn find_rule(key: &str) -> Option<&'static RuleMeta> {
    all_rules()
        .into_iter()
        .find(|r| r.code.eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(key))
}
