use palisade_yaml::push_key;

use crate::rules::{PodContext, PodRule, Violation, parse_image};

palisade_policy::declare_rule! {
    /// ## What it does
    /// When the policy lists `images.allowedRegistries`, flags containers whose image comes
    /// from anywhere else. An entry is a registry host (`registry.internal`) or a registry
    /// path prefix (`registry.internal/ml`); it matches whole path segments only, so
    /// `registry.internal/ml` allows `registry.internal/ml/triton` but not
    /// `registry.internal/mlx/app`. Images without a registry are Docker Hub images
    /// (`python:3.11` is `docker.io/library/python`), as the container runtime resolves them.
    /// With no allowed registries configured the rule reports nothing.
    ///
    /// ## Why is this bad?
    /// Public registries host typosquatted and backdoored ML images (MITRE ATLAS AML.T0010);
    /// an allow-list keeps every image behind the organisation's scanning, signing and
    /// mirroring. Because the policy states the requirement explicitly, severity is high.
    ///
    /// ## Example
    /// ```yaml
    /// # policy: spec.images.allowedRegistries: [registry.internal/ml]
    /// containers:
    ///   - name: vllm
    ///     image: vllm/vllm-openai:v0.6.3
    /// ```
    ///
    /// ## Fix
    /// Mirror the image into an allowed registry and reference the mirror:
    /// ```yaml
    ///     image: registry.internal/ml/vllm-openai:v0.6.3@sha256:…
    /// ```
    pub static RULE = {
        code: "PAL102",
        name: "image-registry-not-allowed",
        family: "images",
        severity: High,
        summary: "Container images must come from the policy's allowed registries",
        references: [
            Nist "SP 800-190 4.1.5" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Cis "5.5.1" "https://www.cisecurity.org/benchmark/kubernetes",
            Atlas "AML.T0010" "https://atlas.mitre.org/techniques/AML.T0010",
            Attack "T1525" "https://attack.mitre.org/techniques/T1525/",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    let allowed = &cx.config.images.allowed_registries;
    if allowed.is_empty() {
        return;
    }
    for c in &cx.pod.spec.containers {
        let Some(image) = c.image else { continue };
        let full = canonical_name(image.value);
        if !allowed.iter().any(|entry| allows(entry, &full)) {
            out.push(Violation {
                detail: format!(
                    "container {:?} uses image {:?} from {}, which is not in images.allowedRegistries",
                    c.name,
                    image.value,
                    full.split('/').next().unwrap_or_default()
                ),
                pointer: push_key(&c.ptr, "image"),
                pos: image.pos,
                container: Some(c.name.to_string()),
            });
        }
    }
}

/// `registry/repository` as the runtime resolves it: Docker Hub official images live under
/// `library/`, registry hosts are case-insensitive.
fn canonical_name(image: &str) -> String {
    let r = parse_image(image);
    let registry = normalize_registry(r.registry);
    if registry == "docker.io" && !r.repository.contains('/') {
        format!("docker.io/library/{}", r.repository)
    } else {
        format!("{registry}/{}", r.repository)
    }
}

fn normalize_registry(registry: &str) -> String {
    let registry = registry.to_ascii_lowercase();
    match registry.as_str() {
        // Aliases the Docker client resolves to Docker Hub.
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => registry,
    }
}

/// Whether a policy entry (`host`, `host/path`, with or without a scheme or trailing `/`)
/// covers `full` at a path-segment boundary.
fn allows(entry: &str, full: &str) -> bool {
    let entry = entry.trim();
    let entry = entry
        .strip_prefix("https://")
        .or_else(|| entry.strip_prefix("http://"))
        .unwrap_or(entry)
        .trim_end_matches('/');
    if entry.is_empty() {
        return false;
    }
    let (host, path) = entry.split_once('/').unwrap_or((entry, ""));
    let entry = if path.is_empty() {
        normalize_registry(host)
    } else {
        format!("{}/{path}", normalize_registry(host))
    };
    full == entry
        || full
            .strip_prefix(entry.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_match_whole_segments() {
        let full = canonical_name("registry.internal/ml/triton:1");
        assert!(allows("registry.internal/ml", &full));
        assert!(allows("https://Registry.Internal/", &full));
        assert!(!allows("registry.internal/m", &full));
        assert!(!allows("registry.int", &full));
        assert!(!allows("", &full));
        assert_eq!(canonical_name("python:3.11"), "docker.io/library/python");
        assert!(allows("docker.io/library", &canonical_name("python")));
        assert!(allows(
            "docker.io",
            &canonical_name("index.docker.io/vllm/vllm-openai:v0.6.3")
        ));
        assert!(!allows(
            "docker.io/library",
            &canonical_name("vllm/vllm-openai")
        ));
    }
}
