use crate::parser::{Kind, Text, key_values};
use crate::rules::Ctx;
use crate::secrets::{NamedLiteral, URL_PASSWORD, find_credential, named_literal, with_article};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags secrets written into the Dockerfile:
    /// - `ENV`/`ARG` whose name says secret (`*TOKEN*`, `*PASSWORD*`, `*SECRET*`, `*KEY*`,
    ///   `*CREDENTIALS*`, …; not `*_FILE`, `*_PATH`, `*_ID`, `GPG_KEY`) with a literal value
    ///   that looks like a credential or is a well-known default password (`changeme`,
    ///   `admin`); references (`$VAR`, `${VAR}`) and placeholders (`<your-token>`,
    ///   `example`) are not secrets. This is `palisade_secrets::named_literal`, the verdict a
    ///   container's env var gets in a manifest (PAL201) and an image config's `Env` (PAL602);
    /// - well-known token formats anywhere in `ENV`, `ARG`, `LABEL`, `RUN` or a `COPY`
    ///   heredoc: Hugging Face (`hf_…`), OpenAI/Anthropic (`sk-…`), AWS access key IDs
    ///   (`AKIA…`), GitHub (`ghp_…`, `github_pat_…`), GitLab (`glpat-…`), Slack (`xox?-…`),
    ///   Google API keys (`AIza…`) and PEM private keys, except documented samples
    ///   (`AKIAIOSFODNN7EXAMPLE`) and placeholder runs (`hf_xxxx…`);
    /// - URLs with a literal password (`https://user:password@pypi.internal/simple`).
    ///
    /// The finding says where the secret is and what kind it is; it never repeats the value.
    ///
    /// ## Why is this bad?
    /// `ENV` values are in the image configuration (`docker inspect`), `ARG` values and
    /// `RUN` lines in the image history (`docker history`), and all of them in the
    /// repository that holds the Dockerfile. Anyone who can pull the image or read the
    /// repository has the credential: for an `HF_TOKEN` that can mean write access to the
    /// organisation's models.
    ///
    /// ## Example
    /// ```dockerfile
    /// ENV HF_TOKEN=hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345678
    /// RUN pip install --index-url https://ci:hunter2@pypi.corp/simple torch
    /// ```
    ///
    /// ## Fix
    /// Revoke the credential, then pass it as a build secret, which is never stored in a
    /// layer, and at run time from a Kubernetes Secret:
    /// ```dockerfile
    /// RUN --mount=type=secret,id=hf_token,env=HF_TOKEN \
    ///     huggingface-cli download org/model --revision <sha> --local-dir /models
    /// ```
    /// `docker build --secret id=hf_token,env=HF_TOKEN .`
    pub static RULE = {
        code: "PAL509",
        name: "hardcoded-secret",
        family: "dockerfile",
        severity: Critical,
        summary: "Secrets must not be written into the Dockerfile",
        references: [
            Cis "Docker 4.10" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.4" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1552.001" "https://attack.mitre.org/techniques/T1552/001/",
            Atlas "AML.T0055" "https://atlas.mitre.org/techniques/AML.T0055",
        ],
    };
}

/// A credential recognised by its format, or a URL with a literal password, anywhere in an
/// instruction: the verdict a container's env values and arguments get too.
fn scan_text(cx: &mut Ctx<'_>, instr: usize, what: &str, t: &Text) {
    if let Some(found) = find_credential(&t.s) {
        let message = if found.kind == URL_PASSWORD {
            format!("{what} contains a URL with a literal password")
        } else {
            format!("{what} contains {}", with_article(found.kind))
        };
        cx.report(&RULE, instr, t.src(found.start), message);
    }
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for (i, outer) in a.df.instructions.iter().enumerate() {
        // ONBUILD triggers are checked like the instruction they will become.
        let ins = outer.onbuild.as_deref().unwrap_or(outer);
        let kw = crate::parser::kind_name(ins.kind);
        match ins.kind {
            Kind::Env | Kind::Arg | Kind::Label => {
                for kv in key_values(ins) {
                    let Some(value) = kv.value.as_deref() else {
                        continue;
                    };
                    let where_ = match ins.kind {
                        Kind::Env => "the image configuration (docker inspect)",
                        Kind::Arg => "the build history",
                        _ => "the image labels",
                    };
                    if ins.kind != Kind::Label
                        && let Some(verdict) = named_literal(&kv.key, value)
                    {
                        let kind = match (find_credential(value), verdict) {
                            (Some(found), _) if found.kind != URL_PASSWORD => {
                                with_article(found.kind)
                            }
                            (_, NamedLiteral::DefaultPassword) => {
                                "a well-known default password".to_string()
                            }
                            _ => "a secret".to_string(),
                        };
                        cx.report(
                            &RULE,
                            i,
                            kv.value_src,
                            format!(
                                "{kw} `{}` sets {} as a literal value; it is stored in {where_} and in the Dockerfile",
                                kv.key, kind
                            ),
                        );
                        continue;
                    }
                    let t = Text::contiguous(value, kv.value_src);
                    scan_text(cx, i, &format!("{kw} `{}`", kv.key), &t);
                }
            }
            Kind::Run
            | Kind::Copy
            | Kind::Add
            | Kind::Cmd
            | Kind::Entrypoint
            | Kind::Healthcheck => {
                if ins.kind == Kind::Run
                    || ins.kind == Kind::Cmd
                    || ins.kind == Kind::Entrypoint
                    || ins.kind == Kind::Healthcheck
                {
                    scan_text(cx, i, kw, &ins.args);
                }
                for h in &ins.heredocs {
                    scan_text(cx, i, &format!("{kw} heredoc `{}`", h.delim), &h.body);
                }
            }
            _ => {}
        }
    }
}
