use std::collections::HashMap;

use crate::parser::SrcOffset;
use crate::rules::Ctx;
use crate::shell::{Command, SWord, basename, is_python, is_shell};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `RUN` commands that download a script and execute it without looking at it:
    /// `curl … | sh`, `wget -qO- … | sudo bash -s -- …`, `curl … | python3 -`, and the
    /// substitution forms `bash <(curl …)` and `sh -c "$(curl …)"`, in any stage, also
    /// inside `sh -c '…'` and `RUN <<EOF` scripts. A pipe into an interpreter that runs a
    /// script *file* or `-c CODE` (such as `curl … | python3 -c 'import json…'`) reads data,
    /// not code, and is not flagged.
    ///
    /// Also flags a script saved to a file and then run in the same stage with nothing
    /// checking it in between: `curl -o ~/miniconda.sh …` (or `-O`, `wget -O`, `wget URL`,
    /// `> file`) followed, in that `RUN` or a later one, by `bash ~/miniconda.sh`,
    /// `python3 get-pip.py` or `./install.sh`. A `sha256sum`/`shasum`/`sha512sum` check, a
    /// `gpg --verify`, `cosign verify-blob`, `minisign` or `openssl dgst` that names the
    /// file, or a `sha256sum -c` of a checksum list, counts as checking it.
    ///
    /// ## Why is this bad?
    /// The script is whatever the server returns at build time: a compromised CDN, a
    /// hijacked domain or a man in the middle of a `http://` URL runs code as root in the
    /// build, and the result is baked into the image. Installers for ML tooling (`uv`,
    /// `ollama`, `conda`, CUDA repos) are common targets because they are fetched this way.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN curl -fsSL https://ollama.com/install.sh | sh
    /// RUN wget -qO /tmp/miniconda.sh https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh \
    ///  && bash /tmp/miniconda.sh -b -p /opt/conda
    /// ```
    ///
    /// ## Fix
    /// Download a pinned version, verify its checksum or signature, then run it:
    /// ```dockerfile
    /// ADD --checksum=sha256:<sha256> https://example.com/install-1.2.3.sh /tmp/install.sh
    /// RUN sh /tmp/install.sh && rm /tmp/install.sh
    /// ```
    /// or install from a package repository whose signing key is pinned.
    pub static RULE = {
        code: "PAL508",
        name: "curl-pipe-shell",
        family: "dockerfile",
        severity: High,
        summary: "Do not pipe downloaded scripts into a shell",
        references: [
            Cis "Docker 4.11" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.3" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1195.002" "https://attack.mitre.org/techniques/T1195/002/",
            Attack "T1059.004" "https://attack.mitre.org/techniques/T1059/004/",
        ],
    };
}

fn is_fetcher(prog: &str) -> bool {
    matches!(
        prog,
        "curl" | "wget" | "fetch" | "http" | "https" | "aria2c"
    )
}

fn is_interpreter(prog: &str) -> bool {
    is_shell(prog) || is_python(prog) || matches!(prog, "perl" | "ruby" | "node" | "php")
}

/// Whether an interpreter reads its program from standard input: no script file and no
/// `-c`/`-e` code (`bash`, `bash -s -- args`, `python3 -`).
fn reads_stdin(eff: &[SWord]) -> bool {
    for w in eff.iter().skip(1) {
        let s = w.as_str();
        if s == "--" || s == "-" || s == "-s" {
            return true;
        }
        if s == "-c" || s == "-e" || s == "-m" {
            return false;
        }
        if !s.starts_with('-') && !s.starts_with('+') {
            return false;
        }
    }
    true
}

fn substitution_fetch(cmd: &Command) -> Option<&SWord> {
    let eff = cmd.effective();
    if !is_interpreter(basename(eff.first()?.as_str())) {
        return None;
    }
    eff.iter().skip(1).find(|w| {
        let s = w.as_str();
        ["<(curl", "<(wget", "$(curl", "$(wget", "`curl", "`wget"]
            .iter()
            .any(|p| s.contains(p))
    })
}

/// Where a fetcher saves what it downloads, when it saves it to a file: `curl -o F`,
/// `curl -O URL` (the URL's last segment), `wget -O F`, `wget URL`, or `> F`.
fn saved_file(c: &Command) -> Option<String> {
    let eff = c.effective();
    let args: Vec<&str> = eff.iter().skip(1).map(SWord::as_str).collect();
    let url_name = || {
        args.iter()
            .rev()
            .find(|a| a.contains("://"))
            .map(|u| basename(u.split(['?', '#']).next().unwrap_or(u)).to_string())
            .filter(|n| !n.is_empty())
    };
    if let Some(r) = c.redirects.iter().find(|r| r.op == ">" || r.op == ">>") {
        return to_file(r.target.as_str());
    }
    match c.program() {
        "curl" => output_option(&args, "--output", 'o').unwrap_or_else(|| {
            let remote_name = args.iter().any(|a| {
                *a == "--remote-name"
                    || (a.starts_with('-') && !a.starts_with("--") && a.contains('O'))
            });
            remote_name.then(url_name).flatten()
        }),
        "wget" => output_option(&args, "--output-document", 'O').unwrap_or_else(url_name),
        _ => None,
    }
}

/// A file a download is written to; `-` is standard output.
fn to_file(f: &str) -> Option<String> {
    (f != "-" && !f.is_empty()).then(|| f.to_string())
}

/// The file a fetcher's output option names, when the option is given: `--long=F`,
/// `--long F`, `-s F`, or `-s` inside a cluster of short options (`-fsSLo F`, `-oF`, `-qO-`).
/// `Some(None)` when it names standard output.
fn output_option(args: &[&str], long: &str, short: char) -> Option<Option<String>> {
    for (i, a) in args.iter().enumerate() {
        let next = || args.get(i + 1).copied();
        let value = if let Some(v) = a.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
            Some(v)
        } else if *a == long {
            next()
        } else if a.starts_with('-')
            && !a.starts_with("--")
            && let Some(p) = a.find(short)
        {
            let rest = &a[p + 1..];
            if rest.is_empty() { next() } else { Some(rest) }
        } else {
            continue;
        };
        return Some(value.and_then(to_file));
    }
    None
}

/// Whether `word` names the file saved as `file`: the same path, or, where one of them is
/// relative to a working directory the scan does not follow, the other ends with it
/// (`install.sh` saved by `curl -O` and run as `/usr/src/install.sh` after `WORKDIR
/// /usr/src`; not `/tmp/install.sh` and `scripts/install.sh`, two different files).
fn names(word: &str, file: &str) -> bool {
    let w = word.strip_prefix("./").unwrap_or(word);
    let f = file.strip_prefix("./").unwrap_or(file);
    if w == f {
        return true;
    }
    let ends_with = |path: &str, rel: &str| {
        !rel.starts_with('/')
            && path
                .strip_suffix(rel)
                .is_some_and(|head| head.ends_with('/'))
    };
    ends_with(w, f) || ends_with(f, w)
}

/// Programs that check a file's checksum or signature.
fn is_verifier(prog: &str) -> bool {
    matches!(
        prog,
        "sha256sum"
            | "sha512sum"
            | "sha384sum"
            | "sha1sum"
            | "shasum"
            | "b2sum"
            | "gpg"
            | "gpgv"
            | "cosign"
            | "minisign"
            | "signify"
            | "openssl"
    )
}

/// The file a command runs as a program: `bash F …`, `python3 F`, `./F`, `/tmp/F`.
fn runs_file<'c>(c: &'c Command, pending: &HashMap<String, Download>) -> Option<&'c SWord> {
    let eff = c.effective();
    let first = eff.first()?;
    if pending.keys().any(|f| names(first.as_str(), f)) && first.as_str().contains('/') {
        return Some(first);
    }
    if !is_interpreter(basename(first.as_str())) {
        return None;
    }
    // The interpreter's script is its first operand after its options.
    let script = eff.iter().skip(1).find(|w| !w.as_str().starts_with('-'))?;
    let before = &eff[1..];
    if before
        .iter()
        .take_while(|w| !std::ptr::eq(*w, script))
        .any(|w| matches!(w.as_str(), "-c" | "-e" | "-m"))
    {
        return None;
    }
    pending
        .keys()
        .any(|f| names(script.as_str(), f))
        .then_some(script)
}

/// A script saved by a fetcher and not yet checked.
#[derive(Clone, Copy)]
struct Download {
    fetcher: &'static str,
    line: u32,
}

/// A downloaded file run later in the same stage with no check in between.
fn check_saved_scripts(cx: &mut Ctx<'_>) {
    let a = cx.a;
    let mut pending: HashMap<String, Download> = HashMap::new();
    let mut stage = None;
    for run in a.runs_in_order() {
        let this_stage = a.stage_of.get(run.instr).copied().flatten();
        if this_stage != stage {
            pending.clear();
            stage = this_stage;
        }
        let cmds = &run.script.commands;
        for c in cmds {
            let prog = c.program();
            if is_verifier(prog) {
                let pipeline: Vec<&Command> = cmds
                    .iter()
                    .filter(|d| d.pipeline == c.pipeline && d.depth == c.depth)
                    .collect();
                let checks_list = c
                    .effective()
                    .iter()
                    .any(|w| matches!(w.as_str(), "-c" | "--check"));
                pending.retain(|f, _| {
                    let named = pipeline.iter().any(|d| {
                        d.effective()
                            .iter()
                            .any(|w| w.as_str().split_whitespace().any(|t| names(t, f)))
                    });
                    !(named || checks_list)
                });
                continue;
            }
            if let Some(w) = runs_file(c, &pending) {
                let key = pending.keys().find(|f| names(w.as_str(), f)).cloned();
                if let Some(key) = key
                    && let Some(d) = pending.remove(&key)
                {
                    let at: SrcOffset = w.start;
                    let runs = if is_interpreter(prog) {
                        format!("`{prog}` runs {key}")
                    } else {
                        format!("`{}` runs", w.as_str())
                    };
                    cx.report(
                        &RULE,
                        run.instr,
                        at,
                        format!(
                            "{runs} as `{}` downloaded it on line {}, with no checksum or signature check in between; check its sha256 (or use ADD --checksum) before running it",
                            d.fetcher, d.line
                        ),
                    );
                }
                continue;
            }
            if is_fetcher(prog)
                && let Some(file) = saved_file(c)
            {
                let fetcher = if prog == "wget" { "wget" } else { "curl" };
                let Some(first) = c.effective().first() else {
                    continue;
                };
                let (line, _) = a.df.pos(a.src, first.start);
                pending.insert(file, Download { fetcher, line });
            }
        }
    }
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    check_saved_scripts(cx);
    let a = cx.a;
    for run in a.runs_in_order() {
        let cmds = &run.script.commands;
        for (k, c) in cmds.iter().enumerate() {
            if let Some(w) = substitution_fetch(c) {
                cx.report(
                    &RULE,
                    run.instr,
                    w.start,
                    format!(
                        "`{}` runs a script downloaded at build time without verifying it",
                        c.program()
                    ),
                );
                continue;
            }
            let eff = c.effective();
            if !is_fetcher(c.program()) {
                continue;
            }
            let sink = cmds.iter().skip(k + 1).find(|d| {
                d.pipeline == c.pipeline
                    && d.depth == c.depth
                    && d.pipe_pos > c.pipe_pos
                    && is_interpreter(d.program())
                    && reads_stdin(d.effective())
            });
            if let Some(d) = sink {
                let at = eff.first().map_or(run.instr, |w| w.start);
                cx.report(
                    &RULE,
                    run.instr,
                    at,
                    format!(
                        "`{} … | {}` runs a script downloaded at build time without verifying it; download a pinned version, check its sha256, then run it",
                        c.program(),
                        d.program()
                    ),
                );
            }
        }
    }
}
