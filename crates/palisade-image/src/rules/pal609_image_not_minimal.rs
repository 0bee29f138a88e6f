use crate::rules::ViewCtx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Says, once per image, which shells, package managers and download or tunnel tools
    /// (`curl`, `wget`, `nc`, `socat`, `ssh`) the final filesystem holds, with a short plan
    /// towards a minimal or distroless image (the same plan `palisade scan image` prints in
    /// its attack-surface notice). Informational: most images built on a distribution have
    /// a shell and a package manager; the finding is the nudge, not a gate.
    ///
    /// ## Why is this bad?
    /// After an exploit, a shell, a package manager and `curl` are what an intruder uses
    /// next: to explore, install tools and pull the second stage. Distroless and minimal
    /// images (distroless, Chainguard, ubi-micro, `scratch`) remove them, along with most of
    /// the packages vulnerability scanners report.
    ///
    /// ## Example
    /// ```text
    /// shells: sh bash; package managers: apt-get dpkg pip; network tools: curl
    /// ```
    ///
    /// ## Fix
    /// Follow the plan in the message: build in one stage, copy the application into a
    /// distroless or minimal final stage, remove download tools.
    pub static RULE = {
        code: "PAL609",
        name: "image-not-minimal",
        family: "image",
        severity: Info,
        summary: "Images should not ship shells, package managers or download tools",
        references: [
            Nist "SP 800-190 4.1.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Doc "Distroless images" "https://github.com/GoogleContainerTools/distroless",
        ],
    };
}

pub(crate) fn check(cx: &mut ViewCtx<'_>) {
    let s = cx.surface;
    let mut parts = Vec::new();
    for (what, tools) in [
        ("shells", &s.shells),
        ("package managers", &s.package_managers),
        ("network tools", &s.network_tools),
    ] {
        if !tools.is_empty() {
            let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            parts.push(format!("{what}: {}", names.join(" ")));
        }
    }
    let Some(first) = s
        .shells
        .first()
        .or(s.package_managers.first())
        .or(s.network_tools.first())
    else {
        return;
    };
    let plan = s
        .plan
        .iter()
        .find(|p| p.contains("distroless"))
        .cloned()
        .unwrap_or_default();
    cx.report(
        &RULE,
        first.layer,
        &first.path,
        0,
        0,
        format!("the image is not minimal ({}); {plan}", parts.join("; ")),
    );
}
