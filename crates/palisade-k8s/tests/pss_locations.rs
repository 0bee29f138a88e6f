//! Each PSS violation is one finding at the offending field (or, when the field is missing,
//! at its nearest written parent), with a JSON pointer, the container, and upstream's words.

use std::sync::Arc;

use palisade_k8s::pss::Version;
use palisade_k8s::{ScanOptions, scan_source};
use palisade_policy::{Selection, Standard};

/// `(code, "line:column", pointer, container, message)` for every PSS finding.
fn findings(
    src: &str,
    standard: Standard,
    minor: u32,
) -> Vec<(String, String, String, String, String)> {
    let opts = ScanOptions::new(standard, Version::v1(minor), Selection::default(), vec![]);
    let scan = scan_source(&Arc::from("t.yaml"), src, &opts);
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    scan.findings
        .iter()
        // Only the PSS checks: the workload rule families have findings of their own here.
        .filter(|f| f.rule.pss_check.is_some())
        .map(|f| {
            (
                f.rule.code.to_string(),
                format!("{}:{}", f.location.line, f.location.column),
                f.location.pointer.clone(),
                f.container.clone().unwrap_or_default(),
                f.message.clone(),
            )
        })
        .collect()
}

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: triton, namespace: ml}
spec:
  template:
    metadata:
      annotations:
        container.apparmor.security.beta.kubernetes.io/server: unconfined
    spec:
      hostIPC: true
      securityContext:
        sysctls:
          - {name: kernel.shmmax, value: \"1\"}
      volumes:
        - name: models
          nfs: {server: nas, path: /models}
      containers:
        - name: server
          image: nvcr.io/nvidia/tritonserver:24.05-py3
          ports:
            - containerPort: 8000
              hostPort: 8000
          livenessProbe:
            httpGet: {host: 169.254.169.254, port: 80}
          securityContext:
            capabilities:
              add: [SYS_ADMIN]
            runAsUser: 0
";

#[test]
fn one_finding_per_offending_field_in_a_template() {
    let got = findings(DEPLOYMENT, Standard::Restricted, 37);
    let expected = [
        (
            "PAL001",
            "8:64",
            "/spec/template/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1server",
            "server",
            r#"forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/server="unconfined"")"#,
        ),
        (
            "PAL003",
            "10:16",
            "/spec/template/spec/hostIPC",
            "",
            "host namespaces (hostIPC=true)",
        ),
        (
            "PAL005",
            "22:25",
            "/spec/template/spec/containers/0/ports/0/hostPort",
            "server",
            r#"hostPort (container "server" uses hostPort 8000)"#,
        ),
        (
            "PAL006",
            "24:29",
            "/spec/template/spec/containers/0/livenessProbe/httpGet/host",
            "server",
            r#"probe or lifecycle host (container "server" uses probe or lifecycle host "169.254.169.254")"#,
        ),
        (
            "PAL011",
            "13:20",
            "/spec/template/spec/securityContext/sysctls/0/name",
            "",
            "forbidden sysctls (kernel.shmmax)",
        ),
        (
            "PAL013",
            "25:11",
            "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation",
            "server",
            r#"allowPrivilegeEscalation != false (container "server" must set securityContext.allowPrivilegeEscalation=false)"#,
        ),
        (
            "PAL014",
            "26:13",
            "/spec/template/spec/containers/0/securityContext/capabilities/drop",
            "server",
            r#"unrestricted capabilities (container "server" must set securityContext.capabilities.drop=["ALL"])"#,
        ),
        (
            "PAL014",
            "27:21",
            "/spec/template/spec/containers/0/securityContext/capabilities/add/0",
            "server",
            r#"unrestricted capabilities (container "server" must not include "SYS_ADMIN" in securityContext.capabilities.add)"#,
        ),
        (
            "PAL016",
            "16:11",
            "/spec/template/spec/volumes/0/nfs",
            "",
            r#"restricted volume types (volume "models" uses restricted volume type "nfs")"#,
        ),
        (
            "PAL017",
            "25:11",
            "/spec/template/spec/containers/0/securityContext/runAsNonRoot",
            "server",
            r#"runAsNonRoot != true (pod or container "server" must set securityContext.runAsNonRoot=true)"#,
        ),
        (
            "PAL018",
            "28:24",
            "/spec/template/spec/containers/0/securityContext/runAsUser",
            "server",
            r#"runAsUser=0 (container "server" must not set runAsUser=0)"#,
        ),
        (
            "PAL019",
            "25:11",
            "/spec/template/spec/containers/0/securityContext/seccompProfile/type",
            "server",
            r#"seccompProfile (pod or container "server" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#,
        ),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(a, b, c, d, e)| {
            (
                a.to_string(),
                b.to_string(),
                c.to_string(),
                d.to_string(),
                e.to_string(),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn seccomp_annotations_before_v1_19_and_fields_after() {
    let src = "\
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: unconfined
spec:
  securityContext:
    seccompProfile: {type: Unconfined}
  containers:
    - name: app
      image: python:3.12
";
    let at = |minor| findings(src, Standard::Baseline, minor);
    assert_eq!(
        at(18),
        [(
            "PAL010".to_string(),
            "6:47".to_string(),
            "/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod".to_string(),
            String::new(),
            r#"seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")"#.to_string(),
        )]
    );
    assert_eq!(
        at(19),
        [(
            "PAL010".to_string(),
            "9:28".to_string(),
            "/spec/securityContext/seccompProfile/type".to_string(),
            String::new(),
            r#"seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")"#.to_string(),
        )]
    );
}

#[test]
fn user_namespaces_and_windows_relax_only_their_checks() {
    let src = "\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostUsers: false
  os: {name: windows}
  securityContext:
    runAsUser: 0
  containers:
    - name: app
      image: python:3.12
      securityContext:
        procMount: Unmasked
";
    let codes = |standard, minor| -> Vec<String> {
        findings(src, standard, minor)
            .into_iter()
            .map(|f| f.0)
            .collect()
    };
    // v1.34: no relaxation yet; Windows already exempts allowPrivilegeEscalation,
    // capabilities and seccomp.
    assert_eq!(
        codes(Standard::Restricted, 34),
        ["PAL008", "PAL017", "PAL018"]
    );
    // v1.35: hostUsers=false relaxes runAsNonRoot and runAsUser, not procMount_restricted.
    assert_eq!(codes(Standard::Restricted, 35), ["PAL015"]);
    // baseline v1.35 relaxes procMount too.
    assert!(codes(Standard::Baseline, 35).is_empty());
    assert_eq!(codes(Standard::Baseline, 34), ["PAL008"]);
    // v1.24: no Windows exemption yet.
    assert_eq!(
        codes(Standard::Restricted, 24),
        ["PAL008", "PAL013", "PAL014", "PAL017", "PAL018", "PAL019"]
    );
}
