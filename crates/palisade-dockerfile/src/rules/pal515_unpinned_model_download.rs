use crate::commands::{hf_cli_download, hf_git_clone, hf_url_fetch, python_hub_downloads};
use crate::rules::Ctx;
use crate::shell::Command;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags model downloads at build time that are not pinned to a commit:
    /// - `huggingface-cli download REPO` / `hf download REPO` without `--revision <sha>`
    ///   (or with a branch or tag such as `--revision main`);
    /// - `from_pretrained(…)`, `snapshot_download(…)`, `hf_hub_download(…)` and
    ///   `SentenceTransformer(…)` without `revision="<sha>"` in Python run by the build
    ///   (`python -c '…'` or a Python heredoc); local paths (`"/models/x"`) pass;
    /// - `git clone https://huggingface.co/…` not followed by `git checkout <sha>`;
    /// - `curl`/`wget` of a `huggingface.co/…/resolve/<branch>/…` URL.
    ///
    /// A revision is pinned when it is a full 40-character commit hash; a variable
    /// (`--revision $MODEL_REV`) is trusted to hold one.
    ///
    /// ## Why is this bad?
    /// A model repository is mutable: its owner (or whoever takes over the account or a
    /// leaked write token) can push new weights, a new `config.json` with
    /// `trust_remote_code` modules, or a pickle with a payload, and the next build ships it.
    /// Pinning the commit makes the image reproducible and lets the model be scanned once.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN huggingface-cli download mistralai/Mistral-7B-Instruct-v0.3 --local-dir /models/mistral
    /// RUN python -c "from transformers import AutoModel; AutoModel.from_pretrained('bert-base-uncased')"
    /// ```
    ///
    /// ## Fix
    /// ```dockerfile
    /// RUN huggingface-cli download mistralai/Mistral-7B-Instruct-v0.3 \
    ///     --revision e0bc86c23ce5aae1db576c8cca6f06f1f73af2db --local-dir /models/mistral
    /// ```
    pub static RULE = {
        code: "PAL515",
        name: "unpinned-model-download",
        family: "dockerfile",
        severity: Medium,
        summary: "Model downloads at build time must pin a commit",
        references: [
            Nist "SP 800-190 4.1.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Atlas "AML.T0010.003" "https://atlas.mitre.org/techniques/AML.T0010.003",
            Atlas "AML.T0018" "https://atlas.mitre.org/techniques/AML.T0018",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    let runs = a.runs_in_order();
    for (k, run) in runs.iter().enumerate() {
        let stage = a.stage_of.get(run.instr).copied().flatten();
        let cmds = &run.script.commands;
        for (j, cmd) in cmds.iter().enumerate() {
            // Commands after this one in the same RUN and in later RUNs of the stage, where a
            // `git checkout <sha>` may follow a clone.
            let is_clone = cmd.program() == "git"
                && cmd
                    .effective()
                    .get(1)
                    .is_some_and(|w| w.as_str() == "clone");
            let later: Vec<&Command> = if !is_clone {
                Vec::new()
            } else {
                cmds.iter()
                    .skip(j + 1)
                    .chain(
                        runs.iter()
                            .skip(k + 1)
                            .filter(|r| a.stage_of.get(r.instr).copied().flatten() == stage)
                            .flat_map(|r| r.script.commands.iter()),
                    )
                    .collect()
            };
            let found = hf_cli_download(cmd)
                .or_else(|| hf_git_clone(cmd, &later))
                .or_else(|| hf_url_fetch(cmd));
            if let Some(d) = found {
                cx.report(
                    &RULE,
                    run.instr,
                    d.at.start,
                    format!(
                        "{} {}: the model can change under the same Dockerfile; pin a commit sha",
                        d.what, d.problem
                    ),
                );
            }
        }
        for code in &run.script.python {
            for (off, call, problem) in python_hub_downloads(&code.s) {
                cx.report(
                    &RULE,
                    run.instr,
                    code.src(off),
                    format!(
                        "`{call}(…)` downloads from the Hugging Face Hub at build time and {problem}; pass revision=\"<commit sha>\""
                    ),
                );
            }
        }
    }
}
