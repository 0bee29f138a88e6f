use crate::rules::ViewCtx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Finds credentials (the same detector as `image-secret-in-file`) in files that a later
    /// layer deletes (a whiteout, `RUN rm`) or replaces. The file is gone from the container's
    /// filesystem but not from the image: the layer that added it is still part of the image
    /// and anyone who pulls it can unpack that layer. The finding names both layers, the file
    /// and the line, never the value.
    ///
    /// ## Why is this bad?
    /// `RUN rm ~/.netrc` or a `COPY` followed by a deletion in a later step gives a false
    /// sense of safety: `docker save` or `skopeo copy` plus `tar x` of the lower layer
    /// recovers the credential in seconds.
    ///
    /// ## Example
    /// ```dockerfile
    /// COPY id_rsa /root/.ssh/id_rsa
    /// RUN git clone git@github.com:corp/models.git && rm /root/.ssh/id_rsa
    /// ```
    ///
    /// ## Fix
    /// Rotate the credential. Use `RUN --mount=type=secret` (or `--mount=type=ssh`) so it
    /// never lands in a layer, or build in a stage whose layers are not shipped and `COPY
    /// --from` only the result.
    pub static RULE = {
        code: "PAL605",
        name: "image-secret-in-deleted-file",
        family: "image",
        severity: Critical,
        summary: "Credentials deleted by a later layer are still in the image",
        references: [
            Nist "SP 800-190 4.1.4" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1552.001" "https://attack.mitre.org/techniques/T1552/001/",
            Doc "Docker: build secrets" "https://docs.docker.com/build/building/secrets/",
        ],
    };
}

pub(crate) fn check(cx: &mut ViewCtx<'_>) {
    let view = cx.view;
    for b in view.buried() {
        // A file copied up unchanged (a later `chmod`) is reported where it is now.
        let still_there = view
            .get(&b.path)
            .is_some_and(|n| n.secrets.iter().eq(b.secrets.iter()));
        if still_there {
            continue;
        }
        for s in b.secrets.iter() {
            let by = cx.layer(b.removed_by).to_string();
            let layer = cx.layer(b.layer).to_string();
            cx.report(
                &RULE,
                b.layer,
                &b.path,
                s.line,
                s.column,
                format!(
                    "`/{}` line {} holds a {} ({}) in layer {layer}; layer {by} deletes or replaces the file, but the lower layer still carries it",
                    b.path, s.line, s.kind, s.hint
                ),
            );
        }
    }
}
