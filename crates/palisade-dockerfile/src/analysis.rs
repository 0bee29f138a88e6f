//! What the rules look at, computed once per Dockerfile: build stages (names, bases with
//! global `ARG`s substituted, which stage builds on which), the chain of stages that makes up
//! the final image, and every `RUN` tokenised into shell commands.

use std::collections::HashMap;

use crate::parser::{Dockerfile, Instruction, Kind, SrcOffset, Text, Word, key_values};
use crate::shell::Script;

/// An image reference split the way the distribution spec does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// `registry/repository` as written (without tag and digest).
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    #[must_use]
    pub fn parse(s: &str) -> ImageRef {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (s, None),
        };
        // A `:` after the last `/` starts the tag; before it, it is a registry port.
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest.get(slash..).and_then(|last| last.rfind(':')) {
            Some(c) => (
                rest.get(..slash + c).unwrap_or(rest),
                rest.get(slash + c + 1..).map(str::to_string),
            ),
            None => (rest, None),
        };
        ImageRef {
            name: name.to_string(),
            tag,
            digest,
        }
    }

    /// The repository's last path component (`nvidia/cuda` → `cuda`).
    #[must_use]
    pub fn short_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }
}

#[derive(Clone, Debug)]
pub struct Stage {
    pub index: usize,
    /// Index of the `FROM` instruction.
    pub from: usize,
    /// Instructions of the stage, `FROM` excluded: `from + 1 .. end`.
    pub end: usize,
    pub name: Option<String>,
    /// The base as written, and after substituting global `ARG`s (`None` when a variable
    /// has no value).
    pub base_raw: String,
    pub base: Option<String>,
    pub base_src: SrcOffset,
    /// The earlier stage this one builds on (`FROM builder`).
    pub parent: Option<usize>,
}

impl Stage {
    /// Human-readable stage label for messages and finding objects.
    #[must_use]
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("stage {}", self.index),
        }
    }

    /// The external image this stage starts from (not `scratch`, not another stage).
    #[must_use]
    pub fn external_image(&self) -> Option<ImageRef> {
        if self.parent.is_some() {
            return None;
        }
        let base = self.base.as_deref()?;
        if base.eq_ignore_ascii_case("scratch") {
            return None;
        }
        Some(ImageRef::parse(base))
    }
}

/// A `RUN` (or `ONBUILD RUN`) tokenised.
#[derive(Clone, Debug)]
pub struct Run {
    pub instr: usize,
    pub script: Script,
    /// The `RUN` mounts a cache or secret at these targets (`--mount=type=cache,target=…`).
    pub cache_mounts: Vec<String>,
}

pub struct Analysis<'a> {
    pub df: &'a Dockerfile,
    pub src: &'a str,
    pub stages: Vec<Stage>,
    /// Stage of each instruction (`None` before the first `FROM`).
    pub stage_of: Vec<Option<usize>>,
    /// Stages whose instructions end up in the final image, root first, final last.
    pub final_chain: Vec<usize>,
    /// Tokenised `RUN`s, by instruction index.
    pub runs: HashMap<usize, Run>,
    /// Global `ARG`s declared before the first `FROM`.
    pub global_args: HashMap<String, Option<String>>,
    /// `SHELL` is PowerShell or cmd in this stage: RUN is not POSIX shell.
    windows_shell: Vec<bool>,
}

impl<'a> Analysis<'a> {
    #[must_use]
    pub fn new(df: &'a Dockerfile, src: &'a str) -> Analysis<'a> {
        let mut global_args: HashMap<String, Option<String>> = HashMap::new();
        let mut stages: Vec<Stage> = Vec::new();
        let mut stage_of = Vec::with_capacity(df.instructions.len());
        for (i, instr) in df.instructions.iter().enumerate() {
            if instr.kind == Kind::From {
                if let Some(last) = stages.last_mut() {
                    last.end = i;
                }
                let words = instr.words();
                let (base_raw, base_src) = words
                    .first()
                    .map_or((String::new(), instr.src), |w| (w.text.clone(), w.src));
                let name = match (words.get(1), words.get(2)) {
                    (Some(as_kw), Some(n)) if as_kw.text.eq_ignore_ascii_case("as") => {
                        Some(n.text.to_ascii_lowercase())
                    }
                    _ => None,
                };
                let base = expand(&base_raw, &global_args);
                let parent = base.as_deref().and_then(|b| {
                    // Only names refer to stages in FROM (`FROM 0` is an image called 0).
                    let b = b.to_ascii_lowercase();
                    stages
                        .iter()
                        .rev()
                        .find(|s| s.name.as_deref() == Some(b.as_str()))
                        .map(|s| s.index)
                });
                stages.push(Stage {
                    index: stages.len(),
                    from: i,
                    end: df.instructions.len(),
                    name,
                    base_raw,
                    base,
                    base_src,
                    parent,
                });
                stage_of.push(Some(stages.len() - 1));
            } else {
                if stages.is_empty() && instr.kind == Kind::Arg {
                    for kv in key_values(instr) {
                        let v = kv.value.as_deref().and_then(|v| expand(v, &global_args));
                        global_args.insert(kv.key, v);
                    }
                }
                stage_of.push(stages.len().checked_sub(1));
            }
        }
        let mut final_chain = Vec::new();
        let mut cur = stages.len().checked_sub(1);
        while let Some(s) = cur {
            if final_chain.contains(&s) {
                break;
            }
            final_chain.push(s);
            cur = stages.get(s).and_then(|st| st.parent);
        }
        final_chain.reverse();

        let mut windows_shell = vec![false; stages.len()];
        let mut runs = HashMap::new();
        for (i, instr) in df.instructions.iter().enumerate() {
            let stage = stage_of.get(i).copied().flatten();
            if instr.kind == Kind::Shell
                && let (Some(s), Some(json)) = (stage, &instr.json)
            {
                let prog = json
                    .first()
                    .map(|w| w.text.to_ascii_lowercase())
                    .unwrap_or_default();
                let win = prog.contains("powershell")
                    || prog.contains("pwsh")
                    || prog.ends_with("cmd")
                    || prog.ends_with("cmd.exe");
                // A stage's SHELL carries over to stages built on it.
                for (k, st) in stages.iter().enumerate().skip(s) {
                    if (k == s || st.parent == Some(s))
                        && let Some(w) = windows_shell.get_mut(k)
                    {
                        *w = win;
                    }
                }
            }
            let windows = stage.is_some_and(|s| windows_shell.get(s).copied().unwrap_or(false));
            let run_instr = match instr.kind {
                Kind::Run => Some(instr),
                Kind::Onbuild => instr.onbuild.as_deref().filter(|t| t.kind == Kind::Run),
                _ => None,
            };
            if let Some(run) = run_instr
                && !windows
            {
                runs.insert(i, tokenise_run(run));
            }
        }
        for (i, r) in &mut runs {
            r.instr = *i;
        }
        Analysis {
            df,
            src,
            stages,
            stage_of,
            final_chain,
            runs,
            global_args,
            windows_shell,
        }
    }

    /// Whether instruction `i` is part of the final image.
    #[must_use]
    pub fn in_final(&self, i: usize) -> bool {
        self.stage_of
            .get(i)
            .copied()
            .flatten()
            .is_some_and(|s| self.final_chain.contains(&s))
    }

    /// Instructions of the final image, in build order.
    pub fn final_instructions(&self) -> impl Iterator<Item = (usize, &'a Instruction)> + '_ {
        let df = self.df;
        self.final_chain.iter().flat_map(move |&s| {
            let st = self.stages.get(s);
            let range = st.map_or(0..0, |st| st.from + 1..st.end);
            range.filter_map(move |i| df.instructions.get(i).map(|ins| (i, ins)))
        })
    }

    #[must_use]
    pub fn stage(&self, i: usize) -> Option<&Stage> {
        self.stage_of
            .get(i)
            .copied()
            .flatten()
            .and_then(|s| self.stages.get(s))
    }

    #[must_use]
    pub fn final_stage(&self) -> Option<&Stage> {
        self.final_chain.last().and_then(|&s| self.stages.get(s))
    }

    #[must_use]
    pub fn is_windows(&self, stage: usize) -> bool {
        self.windows_shell.get(stage).copied().unwrap_or(false)
    }

    /// `RUN`s in instruction order.
    #[must_use]
    pub fn runs_in_order(&self) -> Vec<&Run> {
        let mut v: Vec<&Run> = self.runs.values().collect();
        v.sort_by_key(|r| r.instr);
        v
    }
}

fn tokenise_run(instr: &Instruction) -> Run {
    let heredocs: Vec<(String, Text)> = instr
        .heredocs
        .iter()
        .map(|h| (h.delim.clone(), h.body.clone()))
        .collect();
    let script = match &instr.json {
        // Exec form: the words are the command; `["sh", "-c", "…"]` is still a script.
        Some(words) => {
            let mut t = Text::default();
            let mut sep = false;
            let mut joined = Script::default();
            let is_sh = words
                .first()
                .is_some_and(|w| crate::shell::is_shell(crate::shell::basename(&w.text)));
            if is_sh
                && let Some(pos) = words.iter().position(|w| w.text == "-c")
                && let Some(script) = words.get(pos + 1)
            {
                // JSON strings map character-for-character only without escapes; the
                // start of the string is exact, later offsets are close enough.
                joined = Script::parse(&json_word_text(script), &heredocs);
            } else {
                for w in words {
                    if sep {
                        t.push(" ", w.src);
                    }
                    sep = true;
                    push_quoted(&mut t, w);
                }
                joined = if t.s.is_empty() {
                    joined
                } else {
                    Script::parse(&t, &heredocs)
                };
            }
            joined
        }
        None => Script::parse(&instr.args, &heredocs),
    };
    let cache_mounts = instr
        .flags
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case("mount"))
        .filter_map(|f| {
            let v = f.value.as_deref()?;
            let mut kind = "bind";
            let mut target = None;
            for part in v.split(',') {
                match part.split_once('=') {
                    Some(("type", t)) => kind = t,
                    Some(("target" | "dst" | "destination", t)) => target = Some(t),
                    _ => {}
                }
            }
            (kind == "cache" || kind == "tmpfs").then(|| target.unwrap_or("").to_string())
        })
        .collect();
    Run {
        instr: 0,
        script,
        cache_mounts,
    }
}

/// An exec-form word quoted for the shell tokeniser, so it stays one word.
fn push_quoted(t: &mut Text, w: &Word) {
    // Single quotes keep the word literal; a word with a single quote is pushed bare (the
    // tokeniser may split it, which only matters for odd commands).
    if w.text.contains('\'') {
        t.push(&w.text, w.src + 1);
    } else {
        t.push("'", w.src);
        t.push(&w.text, w.src + 1);
        t.push("'", w.src + 1 + w.text.len());
    }
}

fn json_word_text(w: &Word) -> Text {
    Text::contiguous(&w.text, w.src + 1)
}

/// Substitutes `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}` and
/// `${VAR+alt}` the way BuildKit does for `FROM`; `None` when a variable has no value.
#[must_use]
pub fn expand(s: &str, vars: &HashMap<String, Option<String>>) -> Option<String> {
    if !s.contains('$') {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(rest.get(..pos)?);
        let after = rest.get(pos + 1..)?;
        if let Some(inner) = after.strip_prefix('{') {
            let close = matching_brace(inner)?;
            let expr = inner.get(..close)?;
            rest = inner.get(close + 1..)?;
            let name_len = expr
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(expr.len());
            let name = expr.get(..name_len)?;
            let op = expr.get(name_len..)?;
            let val = vars.get(name).cloned().flatten();
            let set_nonempty = val.as_deref().is_some_and(|v| !v.is_empty());
            let value = if let Some(d) = op.strip_prefix(":-") {
                if set_nonempty { val } else { expand(d, vars) }
            } else if let Some(d) = op.strip_prefix('-') {
                if val.is_some() { val } else { expand(d, vars) }
            } else if let Some(a) = op.strip_prefix(":+") {
                if set_nonempty {
                    expand(a, vars)
                } else {
                    Some(String::new())
                }
            } else if let Some(a) = op.strip_prefix('+') {
                if val.is_some() {
                    expand(a, vars)
                } else {
                    Some(String::new())
                }
            } else if op.is_empty() {
                val
            } else {
                // Pattern operators (`${VAR%…}`) are not worth emulating for FROM.
                None
            };
            out.push_str(&value?);
        } else {
            let name_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if name_len == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            let name = after.get(..name_len)?;
            out.push_str(vars.get(name)?.as_deref()?);
            rest = after.get(name_len..)?;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// Offset of the `}` closing a `${` whose body starts `s` (nested `${…}` allowed).
fn matching_brace(s: &str) -> Option<usize> {
    let mut level = 0u32;
    for (i, c) in s.char_indices() {
        match c {
            '{' => level += 1,
            '}' if level == 0 => return Some(i),
            '}' => level -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    #[test]
    fn image_refs() {
        let r = ImageRef::parse("localhost:5000/ml/base:1.2@sha256:abc");
        assert_eq!(r.name, "localhost:5000/ml/base");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        let r = ImageRef::parse("localhost:5000/ml/base");
        assert_eq!(r.tag, None);
        assert_eq!(r.short_name(), "base");
    }

    #[test]
    fn expands_global_args() {
        let mut vars = HashMap::new();
        vars.insert("V".to_string(), Some("3.11".to_string()));
        vars.insert("EMPTY".to_string(), Some(String::new()));
        vars.insert("UNSET".to_string(), None);
        assert_eq!(
            expand("python:${V}-slim", &vars).as_deref(),
            Some("python:3.11-slim")
        );
        assert_eq!(expand("python:$V", &vars).as_deref(), Some("python:3.11"));
        assert_eq!(expand("x:${EMPTY:-d}", &vars).as_deref(), Some("x:d"));
        assert_eq!(expand("x:${EMPTY-d}", &vars).as_deref(), Some("x:"));
        assert_eq!(
            expand("x:${UNSET:-a${V}}", &vars).as_deref(),
            Some("x:a3.11")
        );
        assert_eq!(expand("x:${V:+set}", &vars).as_deref(), Some("x:set"));
        assert_eq!(expand("x:${UNSET}", &vars), None);
        assert_eq!(expand("x:${NOPE", &vars), None);
    }

    #[test]
    fn stages_and_final_chain() {
        let src = "ARG BASE=python:3.11-slim\nFROM ${BASE} AS base\nRUN true\nFROM golang:1.22 AS build\nRUN go build\nFROM base AS final\nCOPY --from=build /app /app\n";
        let df = parse(src);
        let a = Analysis::new(&df, src);
        assert_eq!(a.stages.len(), 3);
        assert_eq!(a.stages[0].base.as_deref(), Some("python:3.11-slim"));
        assert_eq!(a.stages[2].parent, Some(0));
        assert_eq!(a.final_chain, [0, 2]);
        assert!(a.in_final(2)); // RUN true in base
        assert!(!a.in_final(4)); // go build
        let finals: Vec<usize> = a.final_instructions().map(|(i, _)| i).collect();
        assert_eq!(finals, [2, 6]);
    }

    #[test]
    fn exec_form_runs_are_tokenised() {
        let src = "FROM x\nRUN [\"pip\", \"install\", \"torch\"]\nRUN [\"/bin/sh\", \"-c\", \"curl x | sh\"]\n";
        let df = parse(src);
        let a = Analysis::new(&df, src);
        let r = &a.runs[&1];
        assert_eq!(r.script.commands[0].program(), "pip");
        assert_eq!(r.script.commands[0].words[2].as_str(), "torch");
        let r = &a.runs[&2];
        assert_eq!(r.script.commands.len(), 2);
    }
}
