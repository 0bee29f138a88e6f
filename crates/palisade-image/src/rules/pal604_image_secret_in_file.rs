use crate::rules::ViewCtx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Searches the text files of the image's final filesystem for credentials: private
    /// keys, AWS access key IDs and secret access keys, Google Cloud service-account keys and
    /// API keys, Azure storage account keys and client secrets, Hugging Face, OpenAI-style,
    /// Anthropic, GitHub, GitLab, Slack, Stripe, PyPI and npm tokens, and what credential
    /// files say by their format (`.netrc` and `.pypirc` passwords, Docker `config.json`
    /// `auths`, literal secrets in `.env` files, `.git-credentials`, `.npmrc` tokens). The
    /// finding names the layer, the file, the line and the kind of credential with a redacted
    /// hint (`hf_… (37 characters)`), never the value.
    ///
    /// Files up to 1 MiB are searched; binaries (a NUL byte in the first 8 KiB), documented
    /// samples (`AKIAIOSFODNN7EXAMPLE`) and placeholders (`hf_xxxx…`) are skipped, and so are
    /// the trees distributions and package managers own (`/usr/share`, `/usr/lib`,
    /// `site-packages`, `node_modules`, test suites), where keys are test fixtures.
    ///
    /// ## Why is this bad?
    /// Every copy of the image carries the file: the registry, every node that pulled it,
    /// every CI cache. Anyone who can pull the image can read the credential, and it stays
    /// valid in those copies until it is rotated.
    ///
    /// ## Example
    /// ```dockerfile
    /// COPY . /app          # brings /app/.env with HF_TOKEN=hf_… along
    /// ```
    ///
    /// ## Fix
    /// Rotate the credential now. Keep it out of the build context (`.dockerignore`), pass
    /// build-time secrets with `RUN --mount=type=secret`, and give them to the container at
    /// run time from a Kubernetes Secret.
    pub static RULE = {
        code: "PAL604",
        name: "image-secret-in-file",
        family: "image",
        severity: Critical,
        summary: "Image layers must not contain credentials in files",
        references: [
            Cis "Docker 4.10" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.4" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1552.001" "https://attack.mitre.org/techniques/T1552/001/",
            Atlas "AML.T0055" "https://atlas.mitre.org/techniques/AML.T0055",
        ],
    };
}

pub(crate) fn check(cx: &mut ViewCtx<'_>) {
    let view = cx.view;
    for (path, node) in view.iter() {
        for s in node.secrets.iter() {
            let layer = cx.layer(node.layer).to_string();
            cx.report(
                &RULE,
                node.layer,
                path,
                s.line,
                s.column,
                format!(
                    "`/{path}` line {} holds a {} ({}); layer {layer} ships it to everyone who pulls the image",
                    s.line, s.kind, s.hint
                ),
            );
        }
    }
}
