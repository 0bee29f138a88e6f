use crate::rules::pod_fields::mounts_of;
use crate::rules::{PodContext, PodRule, Violation};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Flags memory-backed `emptyDir` volumes (`medium: Memory`, a tmpfs) without a
    /// `sizeLimit`. The common case in ML is the volume mounted at `/dev/shm` because the
    /// runtime's default 64 MiB is too small for PyTorch `DataLoader` workers and NCCL; the
    /// message says so when the volume is mounted there.
    ///
    /// ## Why is this bad?
    /// Files in a tmpfs are RAM. Without a `sizeLimit` the tmpfs may grow to the pod's memory
    /// limit, or to the node's allocatable memory when the pod has none; data loaders that
    /// leak shared-memory segments then push the node into memory pressure or get the
    /// container OOM-killed with no hint that `/dev/shm` was the cause (denial of service,
    /// MITRE ATT&CK T1499). Severity is medium because it exhausts memory, not disk.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    ///   - name: dshm
    ///     emptyDir: {medium: Memory}
    /// ```
    ///
    /// ## Fix
    /// Size it for the data loaders (a few GiB is typical) and keep it within the memory
    /// limit of the container that mounts it:
    /// ```yaml
    ///   - name: dshm
    ///     emptyDir: {medium: Memory, sizeLimit: 2Gi}
    /// ```
    pub static RULE = {
        code: "PAL124",
        name: "emptydir-memory-size-limit-missing",
        family: "resources",
        severity: Medium,
        summary: "Memory-backed `emptyDir` volumes (such as `/dev/shm`) must set a `sizeLimit`",
        references: [
            Nsa "Kubernetes Hardening Guide: resource policies" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Attack "T1499" "https://attack.mitre.org/techniques/T1499/",
            Doc "Kubernetes: emptyDir" "https://kubernetes.io/docs/concepts/storage/volumes/#emptydir",
            Doc "PyTorch: multiprocessing and shared memory" "https://pytorch.org/docs/stable/notes/multiprocessing.html",
        ],
    };
}

pub static RULE_IMPL: PodRule = PodRule { rule: &RULE, check };

fn check(cx: &PodContext<'_, '_, '_>, out: &mut Vec<Violation>) {
    let spec = cx.pod.spec;
    for e in super::unbounded_empty_dirs(spec) {
        if !super::is_memory_medium(&e) {
            continue;
        }
        let shm_user = spec.containers.iter().find(|c| {
            mounts_of(c, e.name)
                .iter()
                .any(|(path, _)| path.trim_end_matches('/') == "/dev/shm")
        });
        let detail = match shm_user {
            Some(c) => format!(
                "memory-backed emptyDir {:?} is mounted at /dev/shm in container {:?} without a sizeLimit: \
                 shared memory of PyTorch DataLoader workers and NCCL can grow to the pod's memory \
                 limit or the node's memory; set sizeLimit",
                e.name, c.name
            ),
            None => format!(
                "memory-backed emptyDir {:?} has no sizeLimit: its files are RAM and can grow to the pod's \
                 memory limit or the node's memory",
                e.name
            ),
        };
        out.push(Violation {
            detail,
            pointer: super::size_limit_ptr(spec, e.index),
            pos: e.key_pos,
            container: shm_user.map(|c| c.name.to_string()),
        });
    }
}
