use crate::rules::Ctx;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags an image config that exposes port 22 (`22/tcp`, `22/udp`, `22`), the SSH port.
    ///
    /// ## Why is this bad?
    /// An SSH daemon in a container is a second, unmonitored way in, with its own
    /// credentials to leak and patch; it is a common leftover in GPU development and
    /// notebook images. `kubectl exec` gives operators a shell without one, audited by the
    /// API server.
    ///
    /// ## Example
    /// ```json
    /// {"config": {"ExposedPorts": {"22/tcp": {}, "8888/tcp": {}}}}
    /// ```
    ///
    /// ## Fix
    /// Remove the SSH server and `EXPOSE 22` from the Dockerfile (see `PAL518`); use
    /// `kubectl exec`, or for MPI jobs the training operator's launcher.
    pub static RULE = {
        code: "PAL603",
        name: "image-exposes-ssh",
        family: "image",
        severity: Medium,
        summary: "Images must not expose SSH",
        references: [
            Cis "Docker 5.6" "https://www.cisecurity.org/benchmark/docker",
            Attack "T1021.004" "https://attack.mitre.org/techniques/T1021/004/",
        ],
    };
}

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let ports: Vec<String> = cx
        .config
        .config
        .exposed_ports
        .iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .collect();
    for p in ports {
        if p.split('/').next() == Some("22") {
            let pointer = format!(
                "/config/ExposedPorts/{}",
                p.replace('~', "~0").replace('/', "~1")
            );
            cx.report(
                &RULE,
                &pointer,
                format!("the image exposes {p} (SSH); use kubectl exec instead of an SSH server"),
            );
        }
    }
}
