use crate::parser::Kind;
use crate::rules::Ctx;
use crate::secrets::secret_path;
use crate::shell::basename;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags credential files put into an image:
    /// - `COPY`/`ADD` whose source or destination is one: `.env`, SSH keys (`id_rsa`,
    ///   `id_ed25519`, `.ssh/`), `~/.aws/`, `.netrc`, `.pypirc`, `.git-credentials`, `.npmrc`,
    ///   `.docker/config.json`, `.kube/config`, `kaggle.json`, Google service-account JSON,
    ///   private keys (`*.pem`, `*.key` not named as certificates or CA bundles, `*.p12`,
    ///   `*.pfx`), and Hugging Face token files (`~/.cache/huggingface/token`);
    /// - `RUN` that writes one with a redirection (`echo … > ~/.netrc`), or logs in with a
    ///   tool that stores a token in the image: `huggingface-cli login`, `hf auth login`,
    ///   `wandb login`, `docker login`, `aws configure set aws_secret_access_key`.
    ///
    /// Files copied into a build stage that is not part of the final image are reported
    /// too: they stay in that stage's layers and in the build cache, which CI often pushes.
    ///
    /// ## Why is this bad?
    /// A file in a layer stays in the image even if a later `RUN rm` deletes it, and every
    /// node, registry mirror and developer that pulls the image can read it. Token files
    /// for model hubs and experiment trackers are easy to copy by accident with `COPY . .`
    /// or `COPY ~/.cache …`.
    ///
    /// ## Example
    /// ```dockerfile
    /// COPY .env /app/.env
    /// COPY id_rsa /root/.ssh/id_rsa
    /// RUN huggingface-cli login --token $HF_TOKEN
    /// ```
    ///
    /// ## Fix
    /// Use build secrets and SSH forwarding, which are mounted only for one `RUN`:
    /// ```dockerfile
    /// RUN --mount=type=ssh git clone git@github.com:org/private.git
    /// RUN --mount=type=secret,id=hf_token,env=HF_TOKEN huggingface-cli download …
    /// ```
    /// and list credential files in `.dockerignore`.
    pub static RULE = {
        code: "PAL510",
        name: "secret-file-in-image",
        family: "dockerfile",
        severity: High,
        summary: "Credential files must not be copied or written into an image",
        references: [
            Cis "Docker 4.10" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.4" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1552.001" "https://attack.mitre.org/techniques/T1552/001/",
            Atlas "AML.T0055" "https://atlas.mitre.org/techniques/AML.T0055",
        ],
    };
}

fn where_(cx: &Ctx<'_>, instr: usize) -> String {
    if cx.a.in_final(instr) {
        "into the image".into()
    } else {
        let s = cx.a.stage(instr).map(|s| s.label()).unwrap_or_default();
        format!("into build stage `{s}` (kept in its layers and the build cache)")
    }
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for (i, ins) in a.df.instructions.iter().enumerate() {
        if !matches!(ins.kind, Kind::Copy | Kind::Add) {
            continue;
        }
        let words = ins.words();
        let mut source_reported = false;
        for (k, w) in words.iter().enumerate() {
            let s = w.text.as_str();
            if s.starts_with("<<") || s.contains("://") {
                continue;
            }
            if let Some(kind) = secret_path(s) {
                let verb = crate::parser::kind_name(ins.kind);
                let is_dest = k + 1 == words.len();
                // `COPY id_rsa /root/.ssh/id_rsa` is one problem, reported at the source.
                if is_dest && source_reported {
                    continue;
                }
                source_reported |= !is_dest;
                let msg = if is_dest {
                    format!("{verb} writes to `{s}` ({kind}) {}", where_(cx, i))
                } else {
                    format!("{verb} puts `{s}` ({kind}) {}", where_(cx, i))
                };
                cx.report(
                    &RULE,
                    i,
                    w.src,
                    format!("{msg}; use RUN --mount=type=secret (or type=ssh) instead"),
                );
            }
        }
    }
    for run in a.runs_in_order() {
        for cmd in &run.script.commands {
            for r in &cmd.redirects {
                if (r.op.starts_with('>') || r.op.starts_with("&>"))
                    && let Some(kind) = secret_path(r.target.as_str())
                {
                    let msg = format!(
                        "RUN writes {kind} to `{}` {}; use RUN --mount=type=secret instead",
                        r.target.as_str(),
                        where_(cx, run.instr)
                    );
                    cx.report(&RULE, run.instr, r.target.start, msg);
                }
            }
            let eff = cmd.effective();
            let prog = cmd.program();
            let arg = |n: usize| eff.get(n).map_or("", |w| w.as_str());
            let login = match prog {
                "huggingface-cli" if arg(1) == "login" => {
                    Some("the Hugging Face token in ~/.cache/huggingface/token")
                }
                "hf" if arg(1) == "auth" && arg(2) == "login" => {
                    Some("the Hugging Face token in ~/.cache/huggingface/token")
                }
                "wandb" if arg(1) == "login" => Some("the Weights & Biases API key in ~/.netrc"),
                "docker" | "podman" | "skopeo" | "helm"
                    if arg(1) == "login" || arg(2) == "login" =>
                {
                    Some("registry credentials")
                }
                "aws"
                    if arg(1) == "configure"
                        && eff.iter().any(|w| w.as_str().contains("secret_access_key")) =>
                {
                    Some("an AWS secret key in ~/.aws/credentials")
                }
                _ => None,
            };
            if let Some(what) = login
                && let Some(w) = eff.first()
            {
                let msg = format!(
                    "`{} login` stores {what} {}; pass the token with RUN --mount=type=secret,env=… for the one command that needs it",
                    basename(w.as_str()),
                    where_(cx, run.instr)
                );
                cx.report(&RULE, run.instr, w.start, msg);
            }
        }
    }
}
