use palisade_yaml::{push_index, push_key};

use crate::pss::{Level, PodView, PssCheck, VersionedCheck, Violation, quote};

palisade_policy::declare_rule! {
    /// ## What it does
    /// Allows only ephemeral and API-backed inline volumes: `configMap`, `csi`,
    /// `downwardAPI`, `emptyDir`, `ephemeral`, `image`, `persistentVolumeClaim`, `projected`
    /// and `secret` (Pod Security Standards, restricted check `restrictedVolumes`, which
    /// replaces `host-path-volumes`). Everything else (`hostPath`, `nfs`, `gitRepo`, `iscsi`,
    /// cloud disks, …) is reported with its type; a source Palisade does not recognise is
    /// reported as `unknown`. A volume with no source at all is accepted: the API server
    /// defaults it to `emptyDir`.
    ///
    /// ## Why is this bad?
    /// Inline volume sources bypass the PersistentVolume layer where administrators decide
    /// which storage a namespace may reach: any pod could mount any NFS export or cloud disk
    /// it can name, including another team's datasets and model registry. `hostPath` opens the
    /// node's filesystem, and `gitRepo` runs `git` on the node against a URL from the manifest
    /// (CVE-2024-10220).
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    ///   - name: datasets
    ///     nfs:
    ///       server: nas.internal
    ///       path: /exports/datasets
    /// ```
    ///
    /// ## Fix
    /// Mount storage through a PersistentVolumeClaim bound to an administrator-defined
    /// PersistentVolume or StorageClass; use an `image` volume or an init container for model
    /// weights and code.
    pub static RULE = {
        code: "PAL016",
        name: "restricted-volumes",
        family: "pss-restricted",
        severity: High,
        summary: "Pods may only use ephemeral, projected and PVC-backed volume types",
        pss_check: "restrictedVolumes",
        references: [
            Pss "restricted/volumeTypes" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
            Cis "5.2.12" "https://www.cisecurity.org/benchmark/kubernetes",
            Nsa "Pod security: pod security enforcement" "https://media.defense.gov/2022/Aug/29/2003066362/-1/-1/0/CTR_KUBERNETES_HARDENING_GUIDANCE_1.2_20220829.PDF",
            Nist "SP 800-190 4.5.5" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Attack "T1611" "https://attack.mitre.org/techniques/T1611/",
        ],
    };
}

pub static CHECK: PssCheck = PssCheck {
    id: "restrictedVolumes",
    level: Level::Restricted,
    reason: "restricted volume types",
    rule: &RULE,
    versions: &[VersionedCheck {
        min_minor: 0,
        check,
        overrides: &["hostPathVolumes"],
    }],
};

const ALLOWED: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Upstream's order of precedence when a volume names several sources.
const RESTRICTED: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn check(pod: &PodView<'_, '_>, out: &mut Vec<Violation>) {
    for v in &pod.spec.volumes {
        // A volume without a source is defaulted to `emptyDir` by the API server.
        if v.sources.is_empty() || v.sources.iter().any(|s| ALLOWED.contains(&s.value)) {
            continue;
        }
        let known = RESTRICTED
            .iter()
            .find_map(|t| v.sources.iter().find(|s| s.value == *t));
        let (type_name, source) = match known {
            Some(s) => (s.value, s),
            None => ("unknown", &v.sources[0]),
        };
        out.push(Violation {
            detail: format!(
                "volume {} uses restricted volume type {}",
                quote(v.name),
                quote(type_name)
            ),
            pointer: push_key(
                &push_index(&push_key(&pod.spec.ptr, "volumes"), v.index),
                source.value,
            ),
            pos: source.pos,
            container: None,
        });
    }
}
