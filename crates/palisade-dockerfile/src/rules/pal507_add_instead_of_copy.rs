use crate::commands::is_commit_sha;
use crate::parser::Kind;
use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `ADD` where `COPY` or a verified download fits:
    /// - `ADD https://…` without `--checksum=sha256:…`: the file is fetched at build time
    ///   and nothing checks what arrived (and, unlike local archives, remote archives are
    ///   *not* extracted, which surprises many);
    /// - `ADD` of a git repository (`https://…/repo.git`, `git@…`) without a commit
    ///   (`#<40-hex sha>`);
    /// - `ADD` of local files, directories or heredocs that are not archives: `COPY` does
    ///   the same without `ADD`'s implicit URL fetching and archive extraction.
    ///
    /// `ADD` of a local `.tar`, `.tar.gz`, `.tgz`, `.tar.bz2`, `.tar.xz` or `.tar.zst`
    /// archive is the one job only `ADD` does (extracting it) and is not flagged.
    ///
    /// ## Why is this bad?
    /// A download without a checksum is a supply-chain input that can change between two
    /// builds of the same commit: a model or binary replaced on the server ends up in the
    /// image. For local files, `ADD`'s extra behaviours turn a harmless-looking change
    /// (renaming `weights.bin` to `weights.tar`) into extraction into the image.
    ///
    /// ## Example
    /// ```dockerfile
    /// ADD https://github.com/ggerganov/llama.cpp/releases/download/b3000/llama.zip /opt/
    /// ADD app/ /app/
    /// ```
    ///
    /// ## Fix
    /// ```dockerfile
    /// ADD --checksum=sha256:<sha256> https://github.com/…/llama.zip /opt/
    /// COPY app/ /app/
    /// ```
    pub static RULE = {
        code: "PAL507",
        name: "add-instead-of-copy",
        family: "dockerfile",
        severity: Medium,
        summary: "Use COPY for local files and verify downloads",
        references: [
            Cis "Docker 4.9" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Doc "hadolint DL3020" "https://github.com/hadolint/hadolint/wiki/DL3020",
            Attack "T1195.002" "https://attack.mitre.org/techniques/T1195/002/",
        ],
    };
}

const ARCHIVES: &[&str] = &[
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tar.zst",
    ".tzst",
    ".tar.lz",
    ".tar.lzma",
];

fn is_git(s: &str) -> bool {
    s.starts_with("git@")
        || s.starts_with("git://")
        || s.split('#').next().is_some_and(|u| u.ends_with(".git"))
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for (i, ins) in a.df.instructions.iter().enumerate() {
        if ins.kind != Kind::Add {
            continue;
        }
        let words = ins.words();
        let Some((_, sources)) = words.split_last() else {
            continue;
        };
        let checksum = ins.flag("checksum").is_some();
        let mut local = None;
        for w in sources {
            let s = w.text.as_str();
            let lower = s.to_ascii_lowercase();
            if is_git(&lower) {
                let pinned = s
                    .split_once('#')
                    .is_some_and(|(_, r)| is_commit_sha(r.split(':').next().unwrap_or("")));
                if !pinned && !checksum {
                    cx.report(
                        &RULE,
                        i,
                        w.src,
                        "ADD of a git repository without a commit (`#<sha>`): the build takes whatever the branch points at",
                    );
                }
            } else if lower.starts_with("http://")
                || lower.starts_with("https://")
                || lower.starts_with("ftp://")
            {
                if !checksum {
                    let host = s
                        .split("://")
                        .nth(1)
                        .and_then(|r| r.split('/').next())
                        .unwrap_or("");
                    let archive =
                        ARCHIVES.iter().any(|x| lower.ends_with(x)) || lower.ends_with(".zip");
                    cx.report(
                        &RULE,
                        i,
                        w.src,
                        format!(
                            "ADD downloads from `{host}` without --checksum, so nothing verifies what was fetched{}; use ADD --checksum=sha256:… or a verified download in RUN",
                            if archive { " (and remote archives are not extracted)" } else { "" }
                        ),
                    );
                }
            } else if s.starts_with("<<") || !ARCHIVES.iter().any(|x| lower.ends_with(x)) {
                local = local.or(Some(w.src));
            }
        }
        if let Some(at) = local {
            cx.report(
                &RULE,
                i,
                at,
                "ADD of local files that are not archives: use COPY, which has no implicit URL download or archive extraction",
            );
        }
    }
}
