use crate::rules::ViewCtx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Lists world-writable directories without the sticky bit and world-writable files in
    /// the image's final filesystem (`/proc`, `/sys`, `/dev` and `/run` are left out: the
    /// runtime mounts them). `/tmp` with mode `1777` is fine: the sticky bit stops users from
    /// replacing each other's files.
    ///
    /// ## Why is this bad?
    /// Any process in the container, whatever its user, can replace what is in a
    /// world-writable path: scripts, Python modules, model files or configuration that a
    /// more privileged process later loads. It is how a foothold in one process becomes
    /// code execution in another (and `chmod -R 777` is the usual culprit).
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN chmod -R 777 /app
    /// ```
    ///
    /// ## Fix
    /// Give the paths to the user that needs them (`COPY --chown=10001:10001`, `chmod 755`
    /// / `644`), keep writable data on volumes, and mount the root filesystem read-only.
    pub static RULE = {
        code: "PAL607",
        name: "image-world-writable-path",
        family: "image",
        severity: Medium,
        summary: "Images should not contain world-writable files or non-sticky directories",
        references: [
            Nist "SP 800-190 4.4.4" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1574" "https://attack.mitre.org/techniques/T1574/",
        ],
    };
}

/// Findings listed one by one; beyond this the rest are summed up in one finding.
const MAX_LISTED: usize = 50;

pub(crate) fn check(cx: &mut ViewCtx<'_>) {
    let surface = cx.surface;
    for f in surface.world_writable.iter().take(MAX_LISTED) {
        let what = match cx.view.get(&f.path).map(|n| &n.kind) {
            Some(crate::fs::Kind::Dir) => "directory without the sticky bit",
            _ => "file",
        };
        cx.report(
            &RULE,
            f.layer,
            &f.path,
            0,
            0,
            format!(
                "`/{}` is a world-writable {what} (mode {:04o}); any user in the container can change what is in it",
                f.path, f.mode
            ),
        );
    }
    let rest = surface.world_writable.len().saturating_sub(MAX_LISTED);
    if rest > 0
        && let Some(last) = surface.world_writable.get(MAX_LISTED)
    {
        cx.report(
            &RULE,
            last.layer,
            &last.path,
            0,
            0,
            format!(
                "and {rest} more world-writable paths (from `/{}` on)",
                last.path
            ),
        );
    }
}
