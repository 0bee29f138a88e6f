use palisade_yaml::push_key;

use super::detect::{Server, flag, flag_values};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags Triton Inference Server containers started with `--model-control-mode=explicit`
    /// whose HTTP or gRPC endpoint does not restrict the `model-repository` API with
    /// `--http-restricted-api` / `--grpc-restricted-api` (and is not turned off with
    /// `--allow-http=false` / `--allow-grpc=false`).
    ///
    /// ## Why is this bad?
    /// In explicit mode anyone who can reach port 8000 or 8001 can call
    /// `POST /v2/repository/models/<name>/load` and unload models, or load a model whose
    /// configuration points at attacker-controlled files; with the Python backend a loaded
    /// model is arbitrary code on a GPU node (MITRE ATLAS AML.T0049, exploit public-facing
    /// application; AML.T0011, unsafe AI artifacts). Unloading models is a denial of service.
    /// Severity high: code execution needs only network reach to the pod.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["tritonserver", "--model-repository=/models", "--model-control-mode=explicit"]
    /// ```
    ///
    /// ## Fix
    /// Append restriction flags to the container's `args` (the finding's pointer is
    /// `…/args/-`, or the script element when the command is a shell script) so the
    /// repository API needs a header only the operator knows:
    /// ```yaml
    /// args: ["tritonserver", "--model-repository=/models", "--model-control-mode=explicit",
    ///        "--http-restricted-api=model-repository:admin-key=<secret>",
    ///        "--grpc-restricted-api=model-repository:admin-key=<secret>"]
    /// ```
    /// or use `--model-control-mode=none` when models need not change at run time.
    pub static RULE = {
        code: "PAL160",
        name: "triton-model-control-open",
        family: "model-servers",
        severity: High,
        summary: "Triton's model-repository API must be restricted when model control is explicit",
        references: [
            Atlas "AML.T0049" "https://atlas.mitre.org/techniques/AML.T0049",
            Atlas "AML.T0011" "https://atlas.mitre.org/techniques/AML.T0011",
            Doc "Triton restricted APIs" "https://docs.nvidia.com/deeplearning/triton-inference-server/user-guide/docs/customization_guide/inference_protocols.html#limit-endpoint-access-beta",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    for (c, facts) in cx.serving() {
        if facts.server != Some(Server::Triton) {
            continue;
        }
        let words = &facts.words;
        let Some(mode) = flag(words, &["--model-control-mode"]) else {
            continue;
        };
        if mode.value != Some("explicit") {
            continue;
        }
        let mut open = Vec::new();
        for (proto, allow, restrict) in [
            ("HTTP", "--allow-http", "--http-restricted-api"),
            ("gRPC", "--allow-grpc", "--grpc-restricted-api"),
        ] {
            let disabled = flag(words, &[allow])
                .is_some_and(|f| matches!(f.value, Some("false" | "0" | "False")));
            // `--http-restricted-api=API_1,API_2:key=value`, repeatable.
            let restricted = flag_values(words, &[restrict]).iter().any(|f| {
                f.value.is_some_and(|v| {
                    v.split_once(':').is_some_and(|(apis, _)| {
                        apis.split(',').any(|a| a.trim() == "model-repository")
                    })
                })
            });
            if !disabled && !restricted {
                open.push(proto);
            }
        }
        if open.is_empty() {
            continue;
        }
        let w = mode.word;
        out.push(Violation {
            detail: format!(
                "container {:?} runs Triton with --model-control-mode=explicit and an unrestricted model-repository API over {}: anyone who reaches the pod can load and unload models",
                c.name,
                open.join(" and ")
            ),
            pointer: if w.in_script {
                w.ptr()
            } else {
                push_key(&w.list_ptr(), "-")
            },
            pos: w.pos,
            container: Some(c.name.to_string()),
        });
    }
}
