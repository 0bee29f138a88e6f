//! Light POSIX shell tokenising for `RUN` commands.
//!
//! Not a shell: no expansion, no evaluation. It splits a script into simple commands at
//! `&&`, `||`, `;`, `&`, `|` (keeping pipelines together), newlines and subshell
//! parentheses; removes quotes; keeps `$(…)`, `${…}` and backquotes inside their word;
//! separates redirections from arguments; and reads here-documents inside scripts so their
//! bodies are not mistaken for commands. `sh -c 'script'` and scripts fed to a shell
//! through a heredoc are tokenised recursively (to a fixed depth), which is how
//! `RUN bash -c "curl … | sh"` is still seen as a pipe into a shell.
//!
//! Every word keeps a source map, so a finding on `sudo` points at `sudo`.

use crate::parser::{SrcOffset, Text};

/// Deepest `sh -c` nesting that is tokenised; deeper scripts are left as plain words.
const MAX_DEPTH: u8 = 4;

#[derive(Clone, Debug)]
pub struct SWord {
    pub text: Text,
    /// Where the word starts in the source (its opening quote, if any).
    pub start: SrcOffset,
}

impl SWord {
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text.s
    }

    /// Source offset of byte `i` of the unquoted text.
    #[must_use]
    pub fn src_at(&self, i: usize) -> SrcOffset {
        if self.text.s.is_empty() {
            self.start
        } else {
            self.text.src(i)
        }
    }
}

#[derive(Clone, Debug)]
pub struct Redirect {
    pub op: String,
    pub target: SWord,
}

#[derive(Clone, Debug, Default)]
pub struct Command {
    pub words: Vec<SWord>,
    pub redirects: Vec<Redirect>,
    /// Commands connected by `|` share a pipeline id.
    pub pipeline: u32,
    /// Position inside the pipeline (0 = first).
    pub pipe_pos: u32,
    /// Heredoc body fed to this command's standard input.
    pub stdin: Option<Text>,
    /// `sh -c` nesting level (0 = the RUN line itself).
    pub depth: u8,
    /// Index of the first word of [`Command::effective`], computed once: every rule asks.
    eff_start: usize,
}

impl Command {
    /// The command without leading assignments, `sudo`, `env` and similar wrappers, and
    /// shell keywords such as `then` and `do`.
    #[must_use]
    pub fn effective(&self) -> &[SWord] {
        self.words.get(self.eff_start..).unwrap_or(&[])
    }

    /// Basename of the program of [`Command::effective`] (`/usr/bin/pip3` → `pip3`).
    #[must_use]
    pub fn program(&self) -> &str {
        self.effective()
            .first()
            .map_or("", |w| basename(w.as_str()))
    }

    /// Whether `sudo` is the command's first program (after assignments and keywords).
    #[must_use]
    pub fn sudo_word(&self) -> Option<&SWord> {
        let mut i = 0;
        while let Some(w) = self.words.get(i) {
            let s = w.as_str();
            if is_assignment(s) || is_keyword(s) {
                i += 1;
                continue;
            }
            return (basename(s) == "sudo").then_some(w);
        }
        None
    }
}

/// A shell script split into commands, in order.
#[derive(Clone, Debug, Default)]
pub struct Script {
    pub commands: Vec<Command>,
    /// Python source run by the script (`python -c CODE`, or a heredoc fed to python).
    pub python: Vec<Text>,
    next_pipeline: u32,
}

impl Script {
    /// Tokenises `t`, whose `<<DELIM` heredoc bodies (already cut out by the Dockerfile
    /// parser) are in `heredocs`.
    #[must_use]
    pub fn parse(t: &Text, heredocs: &[(String, Text)]) -> Script {
        let mut script = Script::default();
        script.add(t, heredocs, 0);
        script
    }

    /// Adds a script that runs as a Python program (a `RUN <<EOF` heredoc with a python
    /// shebang, for example).
    pub fn add_python(&mut self, code: Text) {
        self.python.push(code);
    }

    fn add(&mut self, t: &Text, heredocs: &[(String, Text)], depth: u8) {
        let first = self.commands.len();
        let mut lexer = Lexer {
            t,
            i: 0,
            depth,
            out: Vec::new(),
            cur: Command::default(),
            word: None,
            pending_redirect: None,
            pending_heredocs: Vec::new(),
            pipeline: self.next_pipeline,
            pipe_pos: 0,
        };
        lexer.run();
        self.next_pipeline = lexer.pipeline + 1;
        self.commands.extend(lexer.out);
        // Heredocs cut out by the Dockerfile parser belong to the commands that named them.
        for cmd in self.commands.iter_mut().skip(first) {
            if cmd.stdin.is_some() {
                continue;
            }
            for r in &cmd.redirects {
                if r.op.starts_with("<<")
                    && r.op != "<<<"
                    && let Some((_, body)) = heredocs.iter().find(|(d, _)| *d == r.target.as_str())
                {
                    cmd.stdin = Some(body.clone());
                    break;
                }
            }
        }
        if depth >= MAX_DEPTH {
            return;
        }
        // Recurse into `sh -c SCRIPT` and scripts fed to a shell or python on stdin.
        let mut nested: Vec<(Text, bool)> = Vec::new();
        for cmd in self.commands.iter().skip(first) {
            let eff = cmd.effective();
            let prog = cmd.program();
            if is_shell(prog) {
                if let Some(script) = dash_c_arg(eff) {
                    nested.push((script.text.clone(), false));
                } else if eff.len() == 1
                    && let Some(body) = &cmd.stdin
                {
                    nested.push((body.clone(), false));
                }
            } else if is_python(prog) {
                if let Some(code) = python_c_arg(eff) {
                    nested.push((code.text.clone(), true));
                } else if let Some(body) = &cmd.stdin {
                    nested.push((body.clone(), true));
                }
            } else if eff.is_empty()
                && let Some(body) = &cmd.stdin
            {
                // `RUN <<EOF`: the heredoc is the script, run by its shebang or the shell.
                if shebang_is_python(&body.s) {
                    nested.push((body.clone(), true));
                } else {
                    nested.push((body.clone(), false));
                }
            }
        }
        for (text, python) in nested {
            if python {
                self.python.push(text);
            } else {
                self.add(&text, &[], depth + 1);
            }
        }
    }
}

fn shebang_is_python(s: &str) -> bool {
    s.lines()
        .next()
        .and_then(|l| l.strip_prefix("#!"))
        .is_some_and(|l| l.contains("python"))
}

/// The script argument of `sh -c SCRIPT` (also `-ec`, `-xc`, `-o pipefail -c`).
fn dash_c_arg(eff: &[SWord]) -> Option<&SWord> {
    let mut it = eff.iter().skip(1);
    while let Some(w) = it.next() {
        let s = w.as_str();
        if s == "-o" || s == "+o" {
            it.next();
            continue;
        }
        if let Some(flags) = s.strip_prefix('-').filter(|f| !f.starts_with('-')) {
            if flags.contains('c') {
                return it.next();
            }
            continue;
        }
        return None;
    }
    None
}

/// The code argument of `python -c CODE`.
fn python_c_arg(eff: &[SWord]) -> Option<&SWord> {
    let mut it = eff.iter().skip(1);
    while let Some(w) = it.next() {
        let s = w.as_str();
        if s == "-c" {
            return it.next();
        }
        if s.starts_with('-') && s != "-m" {
            continue;
        }
        return None;
    }
    None
}

#[must_use]
pub fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

#[must_use]
pub fn is_shell(prog: &str) -> bool {
    matches!(
        prog,
        "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh" | "busybox"
    )
}

#[must_use]
pub fn is_python(prog: &str) -> bool {
    prog.strip_prefix("python")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn is_assignment(s: &str) -> bool {
    match s.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "then" | "do" | "else" | "elif" | "if" | "while" | "until" | "!" | "{" | "time"
    )
}

/// Skips assignments, keywords and wrapper programs at the start of a command.
#[must_use]
pub fn effective(words: &[SWord]) -> &[SWord] {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let s = w.as_str();
        if is_assignment(s) || is_keyword(s) {
            i += 1;
            continue;
        }
        // Options of the wrapper that take a value.
        let valued: &[&str] = match basename(s) {
            "sudo" => &["-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "-D"],
            "env" => &["-u", "-C", "-S"],
            "xargs" => &["-n", "-I", "-P", "-L", "-d", "-a", "-s", "-E"],
            "nice" => &["-n"],
            "timeout" => &["-s", "-k"],
            "nohup" | "exec" | "command" | "stdbuf" | "eatmydata" | "tini" => &[],
            _ => break,
        };
        let timeout = basename(s) == "timeout";
        i += 1;
        while let Some(w) = words.get(i) {
            let s = w.as_str();
            if s == "--" {
                i += 1;
                break;
            }
            if s.starts_with('-') && s.len() > 1 {
                i += if valued.contains(&s) { 2 } else { 1 };
            } else if is_assignment(s) {
                i += 1;
            } else {
                break;
            }
        }
        if timeout && words.get(i).is_some() {
            i += 1; // the duration
        }
    }
    words.get(i..).unwrap_or(&[])
}

struct Lexer<'t> {
    t: &'t Text,
    i: usize,
    depth: u8,
    out: Vec<Command>,
    cur: Command,
    word: Option<SWord>,
    pending_redirect: Option<String>,
    /// Heredocs opened on the current line: (command index in `out` or current, delim,
    /// strip tabs).
    pending_heredocs: Vec<(HeredocOwner, String, bool)>,
    pipeline: u32,
    pipe_pos: u32,
}

#[derive(Clone, Copy)]
enum HeredocOwner {
    Out(usize),
    Current,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.t.s.get(self.i..).and_then(|r| r.chars().next())
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.t.s.get(self.i..)?.chars();
        it.next();
        it.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        Some(c)
    }

    fn word(&mut self) -> &mut SWord {
        let start = self.t.src(self.i);
        self.word.get_or_insert_with(|| SWord {
            text: Text::default(),
            start,
        })
    }

    /// Appends the character at the current position to the word and advances.
    fn take(&mut self) {
        let src = self.t.src(self.i);
        // The word must exist before advancing, so that its start is this character.
        self.word();
        if let Some(c) = self.bump()
            && let Some(w) = self.word.as_mut()
        {
            w.text.push_char(c, src);
        }
    }

    fn finish_word(&mut self) {
        let Some(w) = self.word.take() else { return };
        match self.pending_redirect.take() {
            Some(op) => {
                if op == "<<" || op == "<<-" {
                    self.pending_heredocs.push((
                        HeredocOwner::Current,
                        w.as_str().to_string(),
                        op == "<<-",
                    ));
                }
                self.cur.redirects.push(Redirect { op, target: w });
            }
            None => self.cur.words.push(w),
        }
    }

    /// Ends the current simple command; `pipe` keeps the pipeline open.
    fn end_command(&mut self, pipe: bool) {
        self.finish_word();
        self.pending_redirect = None;
        let cmd = std::mem::take(&mut self.cur);
        if !cmd.words.is_empty() || !cmd.redirects.is_empty() {
            let idx = self.out.len();
            for h in &mut self.pending_heredocs {
                if matches!(h.0, HeredocOwner::Current) {
                    h.0 = HeredocOwner::Out(idx);
                }
            }
            let eff_start = cmd.words.len() - effective(&cmd.words).len();
            self.out.push(Command {
                eff_start,
                pipeline: self.pipeline,
                pipe_pos: self.pipe_pos,
                depth: self.depth,
                ..cmd
            });
        } else {
            self.pending_heredocs
                .retain(|h| !matches!(h.0, HeredocOwner::Current));
        }
        if pipe {
            self.pipe_pos += 1;
        } else {
            self.pipeline += 1;
            self.pipe_pos = 0;
        }
    }

    /// After a newline: reads the bodies of heredocs opened on the line just ended.
    fn read_heredoc_bodies(&mut self) {
        let pending = std::mem::take(&mut self.pending_heredocs);
        for (owner, delim, strip) in pending {
            let mut body = Text::default();
            while let Some(rest) = self.t.s.get(self.i..).filter(|r| !r.is_empty()) {
                let line_len = rest.find('\n').unwrap_or(rest.len());
                let line = rest.get(..line_len).unwrap_or("");
                let content = if strip {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                let line_at = self.i;
                self.i += (line_len + 1).min(rest.len());
                if content.trim_end_matches('\r') == delim {
                    break;
                }
                let off = line_at + (line.len() - content.len());
                body.push(content, self.t.src(off));
                body.push("\n", self.t.src(line_at + line_len));
            }
            let owner = match owner {
                HeredocOwner::Out(i) => self.out.get_mut(i),
                HeredocOwner::Current => Some(&mut self.cur),
            };
            if let Some(cmd) = owner {
                cmd.stdin = Some(body);
            }
        }
    }

    /// Copies a balanced `(…)` / `{…}` group (the opener is at the current position) into
    /// the current word, following quotes.
    fn take_group(&mut self, open: char, close: char) {
        let mut level = 0u32;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            self.take();
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '\'' || c == '"' => quote = Some(c),
                None if c == open => level += 1,
                None if c == close => {
                    level = level.saturating_sub(1);
                    if level == 0 {
                        return;
                    }
                }
                None => {}
            }
        }
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' => {
                    self.bump();
                    self.finish_word();
                }
                '\n' => {
                    self.bump();
                    self.end_command(false);
                    self.read_heredoc_bodies();
                }
                '#' if self.word.is_none() => {
                    // Comment to the end of the line.
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                '\'' => {
                    self.word();
                    self.bump();
                    while let Some(c) = self.peek() {
                        if c == '\'' {
                            self.bump();
                            break;
                        }
                        self.take();
                    }
                }
                '"' => {
                    self.word();
                    self.bump();
                    while let Some(c) = self.peek() {
                        match c {
                            '"' => {
                                self.bump();
                                break;
                            }
                            '\\' => match self.peek2() {
                                Some('"' | '\\' | '$' | '`') => {
                                    self.bump();
                                    self.take();
                                }
                                Some('\n') => {
                                    self.bump();
                                    self.bump();
                                }
                                _ => self.take(),
                            },
                            '$' if self.peek2() == Some('(') => {
                                self.bump_into_word('$');
                                self.take_group('(', ')');
                            }
                            _ => self.take(),
                        }
                    }
                }
                '\\' => {
                    if self.peek2() == Some('\n') {
                        self.bump();
                        self.bump();
                    } else {
                        self.word();
                        self.bump();
                        self.take();
                    }
                }
                '$' if matches!(self.peek2(), Some('(' | '{')) => {
                    let open = self.peek2().unwrap_or('(');
                    let close = if open == '(' { ')' } else { '}' };
                    self.bump_into_word('$');
                    self.take_group(open, close);
                }
                '`' => {
                    self.take();
                    while let Some(c) = self.peek() {
                        self.take();
                        if c == '`' {
                            break;
                        }
                    }
                }
                '<' | '>' if self.word.is_none() && self.peek2() == Some('(') => {
                    // Process substitution `<(curl …)` is one word.
                    self.take();
                    self.take_group('(', ')');
                }
                '<' | '>' => {
                    // A word of digits right before is a file descriptor, not an argument.
                    if self.word.as_ref().is_some_and(|w| {
                        !w.text.s.is_empty() && w.text.s.bytes().all(|b| b.is_ascii_digit())
                    }) {
                        self.word = None;
                    }
                    self.finish_word();
                    let mut op = String::new();
                    if let Some(c) = self.bump() {
                        op.push(c);
                    }
                    if self.peek() == Some(c) {
                        self.bump();
                        op.push(c);
                        if c == '<' && self.peek() == Some('<') {
                            self.bump();
                            op.push('<');
                        } else if c == '<' && self.peek() == Some('-') {
                            self.bump();
                            op.push('-');
                        }
                    }
                    if matches!(self.peek(), Some('&' | '|'))
                        && let Some(c) = self.bump()
                    {
                        op.push(c);
                    }
                    self.pending_redirect = Some(op);
                }
                '&' => {
                    if self.peek2() == Some('&') {
                        self.bump();
                        self.bump();
                        self.end_command(false);
                    } else if self.peek2() == Some('>') {
                        self.finish_word();
                        self.bump();
                        self.bump();
                        let mut op = String::from("&>");
                        if self.peek() == Some('>') {
                            self.bump();
                            op.push('>');
                        }
                        self.pending_redirect = Some(op);
                    } else {
                        self.bump();
                        self.end_command(false);
                    }
                }
                '|' => {
                    self.bump();
                    match self.peek() {
                        Some('|') => {
                            self.bump();
                            self.end_command(false);
                        }
                        Some('&') => {
                            self.bump();
                            self.end_command(true);
                        }
                        _ => self.end_command(true),
                    }
                }
                ';' => {
                    self.bump();
                    if self.peek() == Some(';') {
                        self.bump();
                    }
                    self.end_command(false);
                }
                '(' | ')' if self.word.is_none() => {
                    self.bump();
                    self.end_command(false);
                }
                _ => self.take(),
            }
        }
        self.end_command(false);
    }

    /// Pushes `c` (the character at the current position) into the word.
    fn bump_into_word(&mut self, c: char) {
        if self.peek() == Some(c) {
            self.take();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &Script) -> Vec<Vec<&str>> {
        s.commands
            .iter()
            .map(|c| c.words.iter().map(SWord::as_str).collect())
            .collect()
    }

    #[test]
    fn splits_on_operators_and_keeps_pipelines() {
        let t = Text::contiguous(
            "set -eux; apt-get update && curl -fsSL 'https://x/y.sh' | sudo bash -s -- -v || true",
            0,
        );
        let s = Script::parse(&t, &[]);
        assert_eq!(
            words(&s),
            [
                vec!["set", "-eux"],
                vec!["apt-get", "update"],
                vec!["curl", "-fsSL", "https://x/y.sh"],
                vec!["sudo", "bash", "-s", "--", "-v"],
                vec!["true"],
            ]
        );
        let (curl, bash) = (&s.commands[2], &s.commands[3]);
        assert_eq!(curl.pipeline, bash.pipeline);
        assert_eq!((curl.pipe_pos, bash.pipe_pos), (0, 1));
        assert_ne!(s.commands[1].pipeline, curl.pipeline);
        assert_eq!(bash.program(), "bash");
        assert!(bash.sudo_word().is_some());
        // Positions: the quoted URL's text starts after the quote.
        assert_eq!(curl.words[2].src_at(0), 40);
        assert_eq!(curl.words[2].start, 39);
    }

    #[test]
    fn redirects_substitutions_and_nested_scripts() {
        let t = Text::contiguous(
            "echo \"$(id -u)\" > /tmp/x 2>&1 && bash -c \"wget -qO- https://x | sh\" && sh <(curl -s https://y)",
            0,
        );
        let s = Script::parse(&t, &[]);
        let w = words(&s);
        assert_eq!(w[0], ["echo", "$(id -u)"]);
        assert_eq!(s.commands[0].redirects.len(), 2);
        assert_eq!(w[2], ["sh", "<(curl -s https://y)"]);
        // The nested `bash -c` script comes after the outer commands.
        assert_eq!(w[3], ["wget", "-qO-", "https://x"]);
        assert_eq!(w[4], ["sh"]);
        assert_eq!(s.commands[3].depth, 1);
        assert_eq!(s.commands[3].pipeline, s.commands[4].pipeline);
    }

    #[test]
    fn heredocs_inside_scripts_are_bodies_not_commands() {
        let t = Text::contiguous(
            "cat > /etc/apt/apt.conf.d/x <<EOT\nsudo rm -rf /\nEOT\npython3 - <<'PY'\nfrom transformers import AutoModel\nPY\necho done\n",
            0,
        );
        let s = Script::parse(&t, &[]);
        assert_eq!(
            words(&s),
            [vec!["cat"], vec!["python3", "-"], vec!["echo", "done"]]
        );
        assert_eq!(s.python.len(), 1);
        assert!(s.python[0].s.contains("AutoModel"));
    }

    #[test]
    fn effective_skips_wrappers() {
        let t = Text::contiguous(
            "DEBIAN_FRONTEND=noninteractive sudo -E -u root env A=1 apt-get install -y x",
            0,
        );
        let s = Script::parse(&t, &[]);
        assert_eq!(s.commands[0].program(), "apt-get");
    }

    #[test]
    fn python_dash_c() {
        let t = Text::contiguous(
            "python -c 'from transformers import AutoModel; AutoModel.from_pretrained(\"gpt2\")'",
            0,
        );
        let s = Script::parse(&t, &[]);
        assert_eq!(s.python.len(), 1);
        assert!(s.python[0].s.starts_with("from transformers"));
        assert_eq!(s.python[0].src(0), 11);
    }
}
