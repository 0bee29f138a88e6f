use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags `chmod` (also `mkdir -m`, `install -m`) with a mode that lets every user write:
    /// octal modes whose "other" digit has the write bit (`777`, `666`, `0757`, `-R 777`)
    /// and symbolic modes that add write for `o` or `a` (`a+rwx`, `o+w`, `ugo=rwx`).
    /// Modes with the sticky bit (`1777`, `+t`), the standard for shared directories like
    /// `/tmp`, are not flagged.
    ///
    /// ## Why is this bad?
    /// World-writable code, models or configuration can be replaced by any process in the
    /// container, whichever UID it runs as: a compromised worker rewrites the server's
    /// Python files or the model weights it loads next. `chmod -R 777` is the classic fix
    /// for "permission denied" under a random OpenShift UID; group permissions are the
    /// right one.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN chmod -R 777 /app /models
    /// ```
    ///
    /// ## Fix
    /// Give the files to the user that needs them, or to group 0 for arbitrary UIDs:
    /// ```dockerfile
    /// COPY --chown=10001:0 --chmod=g=u app/ /app/
    /// ```
    pub static RULE = {
        code: "PAL517",
        name: "world-writable-chmod",
        family: "dockerfile",
        severity: Medium,
        summary: "Do not make files world-writable",
        references: [
            Cis "Docker 4.8" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1222.002" "https://attack.mitre.org/techniques/T1222/002/",
        ],
    };
}

/// Whether a `chmod` mode makes files writable by others (sticky modes excepted).
pub(crate) fn world_writable(mode: &str) -> bool {
    if !mode.is_empty() && mode.len() <= 4 && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let digits: Vec<u8> = mode.bytes().map(|b| b - b'0').collect();
        let other = digits.last().copied().unwrap_or(0);
        let sticky = digits.len() == 4 && digits.first().is_some_and(|d| d & 1 == 1);
        return other & 2 == 2 && !sticky;
    }
    let mut any = false;
    for clause in mode.split(',') {
        let who_end = clause
            .find(|c: char| !matches!(c, 'u' | 'g' | 'o' | 'a'))
            .unwrap_or(clause.len());
        let who = clause.get(..who_end).unwrap_or("");
        let rest = clause.get(who_end..).unwrap_or("");
        let Some(op) = rest.chars().next() else {
            continue;
        };
        let perms = rest.get(1..).unwrap_or("");
        if (who.contains('o') || who.contains('a'))
            && (op == '+' || op == '=')
            && perms.contains('w')
            && !perms.contains('t')
        {
            any = true;
        }
    }
    any
}

/// `chmod` options (`-R`, `-f`, `--recursive`); `-w` and friends are modes, not options.
fn is_chmod_option(s: &str) -> bool {
    s.starts_with("--")
        || s.strip_prefix('-').is_some_and(|r| {
            !r.is_empty()
                && r.chars()
                    .all(|c| matches!(c, 'R' | 'f' | 'v' | 'c' | 'H' | 'L' | 'P'))
        })
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let a = cx.a;
    for run in a.runs_in_order() {
        for cmd in &run.script.commands {
            let eff = cmd.effective();
            let mode = match cmd.program() {
                "chmod" => eff.iter().skip(1).find(|w| !is_chmod_option(w.as_str())),
                "mkdir" | "install" => eff
                    .iter()
                    .position(|w| w.as_str() == "-m" || w.as_str() == "--mode")
                    .and_then(|p| eff.get(p + 1))
                    .or_else(|| eff.iter().find(|w| w.as_str().starts_with("--mode="))),
                _ => None,
            };
            let Some(w) = mode else { continue };
            let m = w.as_str().strip_prefix("--mode=").unwrap_or(w.as_str());
            if world_writable(m) {
                cx.report(
                    &RULE,
                    run.instr,
                    w.start,
                    format!(
                        "`{} {m}` makes files writable by every user in the container; grant write to the owner or group instead",
                        if cmd.program() == "chmod" {
                            "chmod".to_string()
                        } else {
                            format!("{} -m", cmd.program())
                        }
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::world_writable;

    #[test]
    fn modes() {
        for m in [
            "777", "0777", "666", "a+rwx", "o+w", "ugo=rwx", "u+x,o+w", "0757",
        ] {
            assert!(world_writable(m), "{m}");
        }
        for m in [
            "755", "0644", "1777", "u+x", "g+w", "a+rx", "a+rwt", "+x", "775",
        ] {
            assert!(!world_writable(m), "{m}");
        }
    }
}
