use crate::rules::ViewCtx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Lists executables in the image's final filesystem with the setuid or setgid bit
    /// (`find / -perm /6000 -type f`), with their mode and owner. Base images ship several
    /// (`su`, `passwd`, `mount`, `chsh`, `newgrp`); a container needs none of them.
    ///
    /// ## Why is this bad?
    /// A setuid-root binary runs as root whatever user the container runs as: one bug in it
    /// (or a misconfiguration like a setuid interpreter) turns code execution as an
    /// unprivileged user into root in the container, the first step of most container
    /// escapes. Kubernetes' `allowPrivilegeEscalation: false` blocks the effect, but only
    /// where the pod sets it.
    ///
    /// ## Example
    /// ```text
    /// -rwsr-xr-x root root /usr/bin/passwd
    /// ```
    ///
    /// ## Fix
    /// Strip the bits in the last stage (`RUN find / -xdev -perm /6000 -type f -exec chmod
    /// a-s {} +`), use a distroless base, and set `allowPrivilegeEscalation: false` in the
    /// pod's security context.
    pub static RULE = {
        code: "PAL606",
        name: "image-setuid-binary",
        family: "image",
        severity: Medium,
        summary: "Images should not ship setuid or setgid executables",
        references: [
            Cis "Docker 4.8" "https://www.cisecurity.org/benchmark/docker",
            Nist "SP 800-190 4.1.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1548.001" "https://attack.mitre.org/techniques/T1548/001/",
        ],
    };
}

pub(crate) fn check(cx: &mut ViewCtx<'_>) {
    let surface = cx.surface;
    for f in &surface.setuid {
        let bits = match (f.mode & 0o4000 != 0, f.mode & 0o2000 != 0) {
            (true, true) => "setuid and setgid",
            (true, false) => "setuid",
            _ => "setgid",
        };
        let owner = if f.mode & 0o4000 != 0 {
            format!("uid {}", f.uid)
        } else {
            format!("gid {}", f.gid)
        };
        let root = if (f.mode & 0o4000 != 0 && f.uid == 0) || (f.mode & 0o4000 == 0 && f.gid == 0) {
            " (root)"
        } else {
            ""
        };
        cx.report(
            &RULE,
            f.layer,
            &f.path,
            0,
            0,
            format!(
                "`/{}` is {bits} {owner}{root}, mode {:04o}; strip the bit (chmod a-s) or use a distroless base",
                f.path, f.mode
            ),
        );
    }
}
