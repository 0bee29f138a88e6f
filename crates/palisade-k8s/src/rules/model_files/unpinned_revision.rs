use palisade_yaml::{Node, push_key};

use crate::rules::model_servers::detect::{EnvVar, Flag, Word, env_set, env_var, flag};
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags model weights fetched from the Hugging Face Hub at start-up without a pinned
    /// revision (a 40-character commit hash):
    /// - vLLM `--model org/name` or `vllm serve org/name` without `--revision <sha>`;
    /// - text-generation-inference `--model-id org/name` / `MODEL_ID` without `--revision` /
    ///   `REVISION`;
    /// - KServe's Hugging Face runtime `--model_id` without `--model_revision`;
    /// - `HF_MODEL_ID` without `HF_MODEL_REVISION` (Hugging Face inference containers);
    /// - KServe `storageUri: hf://org/name` without `:<sha>`.
    ///
    /// Local paths (`/models/…`) and pods with `HF_HUB_OFFLINE=1` (nothing is downloaded)
    /// pass. A branch or tag (`main`, `v1.0`) is not pinned: both can be moved.
    ///
    /// ## Why is this bad?
    /// Every restart downloads whatever the repository holds at that moment: a compromised
    /// or renamed account, or a routine push by the model owner, changes the weights and
    /// code the cluster runs with no change to any manifest (MITRE ATLAS AML.T0010, AI supply
    /// chain compromise; AML.T0018, backdoor ML model). Replicas started on different days
    /// may serve different models. Severity medium.
    ///
    /// ## Example
    /// ```yaml
    /// args: ["--model", "meta-llama/Llama-3.1-8B-Instruct"]
    /// ```
    ///
    /// ## Fix
    /// Add the revision where the finding points (`…/args/-` for a flag, `…/env/-` for
    /// the env form, the `storageUri` value for KServe):
    /// ```yaml
    /// args: ["--model", "meta-llama/Llama-3.1-8B-Instruct",
    ///        "--revision", "0e9e39f249a16976918f6564b8830bc894c89659"]
    /// ```
    pub static RULE = {
        code: "PAL191",
        name: "model-revision-unpinned",
        family: "model-files",
        severity: Medium,
        summary: "Models fetched at start-up must be pinned to a commit revision",
        references: [
            Atlas "AML.T0010" "https://atlas.mitre.org/techniques/AML.T0010",
            Atlas "AML.T0018" "https://atlas.mitre.org/techniques/AML.T0018",
            Nist "SP 800-190 4.1.1" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

/// `org/name` as the Hub spells repository ids; paths and URLs are not.
#[must_use]
pub fn is_hub_id(s: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && !p.starts_with(['.', '-'])
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    match s.split_once('/') {
        Some((org, name)) => part(org) && part(name) && !s.starts_with('/'),
        None => false,
    }
}

/// A full commit hash: the only revision the Hub cannot move.
#[must_use]
pub fn is_pinned(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

fn append_ptr(w: &Word<'_>) -> String {
    if w.in_script {
        w.ptr()
    } else {
        push_key(&w.list_ptr(), "-")
    }
}

/// A model named on the command line, checked against its revision flag.
fn flag_model(
    c_name: &str,
    model: Option<(&str, &Word<'_>)>,
    revision: Option<Flag<'_, '_>>,
    env_revision: bool,
    rev_name: &str,
) -> Option<Violation> {
    let (id, w) = model?;
    if !is_hub_id(id) || env_revision {
        return None;
    }
    let (detail, pointer, pos) = match revision {
        Some(r) if r.value.is_some_and(is_pinned) => return None,
        Some(r) => (
            format!(
                "revision {:?}, a branch or tag, not a commit",
                r.value.unwrap_or("")
            ),
            r.word.ptr(),
            r.word.pos,
        ),
        None => (format!("no {rev_name}"), append_ptr(w), w.pos),
    };
    Some(Violation {
        detail: format!(
            "container {c_name:?} downloads {id} from the Hugging Face Hub at start-up with {detail}: a push to the repository changes the model"
        ),
        pointer,
        pos,
        container: Some(c_name.to_string()),
    })
}

fn env_model(
    c_name: &str,
    c_ptr: &str,
    env: &[EnvVar<'_>],
    id_var: &str,
    rev_var: &str,
) -> Option<Violation> {
    let e = env_var(env, id_var)?;
    let id = e.value?;
    if !is_hub_id(id) {
        return None;
    }
    let (detail, pointer, pos) = match env_var(env, rev_var) {
        Some(r) if r.from_ref || r.value.is_some_and(is_pinned) => return None,
        Some(r) => (
            format!(
                "{rev_var}={:?}, a branch or tag, not a commit",
                r.value.unwrap_or("")
            ),
            push_key(&r.ptr(), "value"),
            r.value_pos,
        ),
        None => (
            format!("no {rev_var}"),
            push_key(&push_key(c_ptr, "env"), "-"),
            e.value_pos,
        ),
    };
    Some(Violation {
        detail: format!(
            "container {c_name:?} downloads {id} ({id_var}) from the Hugging Face Hub at start-up with {detail}: a push to the repository changes the model"
        ),
        pointer,
        pos,
        container: Some(c_name.to_string()),
    })
}

fn storage_uri(node: &Node<'_>, ptr: &str, container: Option<&str>) -> Option<Violation> {
    let uri_node = node.get("storageUri")?;
    let uri = uri_node.as_str()?;
    let repo = uri.strip_prefix("hf://")?;
    // KServe spells a revision `hf://org/name:revision`.
    let (id, rev) = repo
        .split_once(':')
        .map_or((repo, None), |(i, r)| (i, Some(r)));
    if rev.is_some_and(is_pinned) {
        return None;
    }
    Some(Violation {
        detail: format!(
            "storageUri {uri:?} downloads {id} from the Hugging Face Hub {}: a push to the repository changes the model",
            match rev {
                Some(r) => format!("at {r:?}, a branch or tag, not a commit"),
                None => "without a revision".to_string(),
            }
        ),
        pointer: push_key(ptr, "storageUri"),
        pos: uri_node.pos,
        container: container.map(str::to_string),
    })
}

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    let spec = cx.pod.spec;
    // KServe: `predictor.storageUri` beside the containers, or inside `predictor.model`.
    out.extend(storage_uri(spec.raw, &spec.ptr, None));
    for (c, facts) in cx.serving() {
        let (words, env) = (&facts.words, &facts.env);
        if let Some(v) = storage_uri(c.raw, &c.ptr, Some(c.name)) {
            out.push(v);
        }
        if env_set(env, "HF_HUB_OFFLINE") || env_set(env, "TRANSFORMERS_OFFLINE") {
            continue;
        }
        let name = c.name;
        let positional = words
            .windows(3)
            .find(|w| w[0].text.ends_with("vllm") && w[1].text == "serve")
            .map(|w| (w[2].text.as_ref(), &w[2]));
        let named = |names: &[&str]| flag(words, names).and_then(|f| f.value.map(|v| (v, f.word)));
        let before = out.len();
        out.extend(flag_model(
            name,
            named(&["--model"]).or(positional),
            flag(words, &["--revision"]),
            false,
            "--revision",
        ));
        out.extend(flag_model(
            name,
            named(&["--model-id"]),
            flag(words, &["--revision"]),
            env_set(env, "REVISION"),
            "--revision",
        ));
        out.extend(flag_model(
            name,
            named(&["--model_id"]),
            flag(words, &["--model_revision"]),
            false,
            "--model_revision",
        ));
        if out.len() == before {
            out.extend(env_model(name, &c.ptr, env, "MODEL_ID", "REVISION"));
        }
        out.extend(env_model(
            name,
            &c.ptr,
            env,
            "HF_MODEL_ID",
            "HF_MODEL_REVISION",
        ));
    }
}
