//! Which checks upstream's registry runs at each level and version boundary
//! (PSS_CHECKS.md §1–2): restricted = restricted checks + baseline checks minus the ones an
//! active restricted check overrides.

use palisade_k8s::pss::{Version, active_checks};
use palisade_policy::Standard;

fn ids(standard: Standard, version: Version) -> Vec<&'static str> {
    active_checks(standard, version)
        .iter()
        .map(|a| a.check.id)
        .collect()
}

const BASELINE_1_0: &[&str] = &[
    "appArmorProfile",
    "capabilities_baseline",
    "hostNamespaces",
    "hostPathVolumes",
    "hostPorts",
    "privileged",
    "procMount",
    "seLinuxOptions",
    "seccompProfile_baseline",
    "sysctls",
    "windowsHostProcess",
];

const BASELINE_1_34: &[&str] = &[
    "appArmorProfile",
    "capabilities_baseline",
    "hostNamespaces",
    "hostPathVolumes",
    "hostPorts",
    "hostProbesAndHostLifecycle",
    "privileged",
    "procMount",
    "seLinuxOptions",
    "seccompProfile_baseline",
    "sysctls",
    "windowsHostProcess",
];

#[test]
fn privileged_runs_nothing() {
    for v in [Version::v1(0), Version::v1(25), Version::LATEST] {
        assert!(active_checks(Standard::Privileged, v).is_empty());
    }
}

#[test]
fn baseline_per_version() {
    for minor in [0, 7, 8, 18, 19, 21, 22, 24, 25, 31, 33] {
        assert_eq!(
            ids(Standard::Baseline, Version::v1(minor)),
            BASELINE_1_0,
            "v1.{minor}"
        );
    }
    for v in [
        Version::v1(34),
        Version::v1(35),
        Version::v1(37),
        Version::LATEST,
    ] {
        assert_eq!(ids(Standard::Baseline, v), BASELINE_1_34, "{v}");
    }
}

#[test]
fn restricted_per_version() {
    let restricted = |minor: u32| ids(Standard::Restricted, Version::v1(minor));
    let mut v1_0: Vec<&str> = BASELINE_1_0
        .iter()
        .copied()
        .filter(|id| *id != "hostPathVolumes")
        .collect();
    v1_0.extend(["restrictedVolumes", "runAsNonRoot"]);
    assert_eq!(restricted(0), v1_0);
    assert_eq!(
        restricted(7),
        v1_0,
        "no allowPrivilegeEscalation before v1.8"
    );

    assert_eq!(
        restricted(8),
        [
            "appArmorProfile",
            "capabilities_baseline",
            "hostNamespaces",
            "hostPorts",
            "privileged",
            "procMount",
            "seLinuxOptions",
            "seccompProfile_baseline",
            "sysctls",
            "windowsHostProcess",
            "allowPrivilegeEscalation",
            "restrictedVolumes",
            "runAsNonRoot",
        ]
    );
    assert_eq!(
        restricted(18),
        restricted(8),
        "annotation seccomp until v1.18"
    );

    let v1_19 = [
        "appArmorProfile",
        "capabilities_baseline",
        "hostNamespaces",
        "hostPorts",
        "privileged",
        "procMount",
        "seLinuxOptions",
        "sysctls",
        "windowsHostProcess",
        "allowPrivilegeEscalation",
        "restrictedVolumes",
        "runAsNonRoot",
        "seccompProfile_restricted",
    ];
    assert_eq!(
        restricted(19),
        v1_19,
        "seccompProfile_restricted replaces the baseline check"
    );
    assert_eq!(restricted(21), v1_19);

    let v1_22 = [
        "appArmorProfile",
        "hostNamespaces",
        "hostPorts",
        "privileged",
        "procMount",
        "seLinuxOptions",
        "sysctls",
        "windowsHostProcess",
        "allowPrivilegeEscalation",
        "capabilities_restricted",
        "restrictedVolumes",
        "runAsNonRoot",
        "seccompProfile_restricted",
    ];
    assert_eq!(
        restricted(22),
        v1_22,
        "capabilities_restricted replaces the baseline check"
    );

    let v1_23 = [
        "appArmorProfile",
        "hostNamespaces",
        "hostPorts",
        "privileged",
        "procMount",
        "seLinuxOptions",
        "sysctls",
        "windowsHostProcess",
        "allowPrivilegeEscalation",
        "capabilities_restricted",
        "restrictedVolumes",
        "runAsNonRoot",
        "runAsUser",
        "seccompProfile_restricted",
    ];
    assert_eq!(restricted(23), v1_23);
    assert_eq!(restricted(24), v1_23);
    assert_eq!(restricted(25), v1_23);
    assert_eq!(restricted(33), v1_23);

    let v1_34 = [
        "appArmorProfile",
        "hostNamespaces",
        "hostPorts",
        "hostProbesAndHostLifecycle",
        "privileged",
        "procMount",
        "seLinuxOptions",
        "sysctls",
        "windowsHostProcess",
        "allowPrivilegeEscalation",
        "capabilities_restricted",
        "restrictedVolumes",
        "runAsNonRoot",
        "runAsUser",
        "seccompProfile_restricted",
    ];
    assert_eq!(restricted(34), v1_34);

    let v1_35 = [
        "appArmorProfile",
        "hostNamespaces",
        "hostPorts",
        "hostProbesAndHostLifecycle",
        "privileged",
        "seLinuxOptions",
        "sysctls",
        "windowsHostProcess",
        "allowPrivilegeEscalation",
        "capabilities_restricted",
        "procMount_restricted",
        "restrictedVolumes",
        "runAsNonRoot",
        "runAsUser",
        "seccompProfile_restricted",
    ];
    assert_eq!(
        restricted(35),
        v1_35,
        "procMount_restricted replaces procMount"
    );
    assert_eq!(restricted(37), v1_35);
    assert_eq!(ids(Standard::Restricted, Version::LATEST), v1_35);
}

/// `(minor, Some(min_minor of the implementation in force) | None when inactive)`.
type Switches = &'static [(u32, Option<u32>)];

/// The implementation in force changes at the versions where upstream registers a new one.
#[test]
fn implementations_switch_at_their_minimum_version() {
    let min_of = |standard: Standard, minor: u32, id: &str| {
        active_checks(standard, Version::v1(minor))
            .into_iter()
            .find(|a| a.check.id == id)
            .map(|a| a.implementation.min_minor)
    };
    let cases: &[(Standard, &str, Switches)] = &[
        (
            Standard::Baseline,
            "seccompProfile_baseline",
            &[(18, Some(0)), (19, Some(19))],
        ),
        (
            Standard::Baseline,
            "seLinuxOptions",
            &[(30, Some(0)), (31, Some(31))],
        ),
        (
            Standard::Baseline,
            "sysctls",
            &[
                (26, Some(0)),
                (27, Some(27)),
                (28, Some(27)),
                (29, Some(29)),
                (31, Some(29)),
                (32, Some(32)),
                (36, Some(32)),
                (37, Some(37)),
            ],
        ),
        (
            Standard::Baseline,
            "procMount",
            &[(34, Some(0)), (35, Some(35))],
        ),
        (
            Standard::Baseline,
            "hostProbesAndHostLifecycle",
            &[(33, None), (34, Some(34))],
        ),
        (
            Standard::Restricted,
            "allowPrivilegeEscalation",
            &[(7, None), (8, Some(8)), (24, Some(8)), (25, Some(25))],
        ),
        (
            Standard::Restricted,
            "capabilities_restricted",
            &[(21, None), (22, Some(22)), (24, Some(22)), (25, Some(25))],
        ),
        (
            Standard::Restricted,
            "seccompProfile_restricted",
            &[(18, None), (19, Some(19)), (24, Some(19)), (25, Some(25))],
        ),
        (
            Standard::Restricted,
            "runAsUser",
            &[(22, None), (23, Some(23)), (34, Some(23)), (35, Some(35))],
        ),
        (
            Standard::Restricted,
            "runAsNonRoot",
            &[(0, Some(0)), (34, Some(0)), (35, Some(35))],
        ),
        (
            Standard::Restricted,
            "procMount_restricted",
            &[(34, None), (35, Some(35))],
        ),
    ];
    for (standard, id, expectations) in cases {
        for (minor, expected) in *expectations {
            assert_eq!(
                min_of(*standard, *minor, id),
                *expected,
                "{id} at v1.{minor}"
            );
        }
    }
}

#[test]
fn newer_versions_clamp_to_latest() {
    assert_eq!(
        ids(Standard::Restricted, Version::v1(99)),
        ids(Standard::Restricted, Version::LATEST)
    );
    assert_eq!(Version::v1(99).minor(), 37);
}
