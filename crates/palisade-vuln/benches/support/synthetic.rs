//! The synthetic OSV corpus of the `vuln_db` benchmark: advisories with two
//! introduced/fixed pairs each, over PyPI, npm, Go and Debian:12, and a 2,000-package
//! inventory of which half has advisories. `tests/differential.rs` includes this file too
//! (`#[path]`) to check the fast matcher against the reference path on the same corpus.

use palisade_vuln::Package;

pub const ECOSYSTEMS: [&str; 4] = ["PyPI", "npm", "Go", "Debian:12"];

/// The `i`th package name of ecosystem `eco` (Go modules look like module paths).
pub fn package_name(eco: usize, i: usize) -> String {
    match eco {
        2 => format!("github.com/org{}/mod{i}", i % 97),
        _ => format!("pkg-{i}"),
    }
}

/// Advisory `n` of a corpus spread over `packages` names per ecosystem, as OSV JSON of a
/// typical size (a 400-byte `details`, a reference).
pub fn advisory(n: usize, packages: usize) -> String {
    let eco = n % ECOSYSTEMS.len();
    let pkg = (n / ECOSYSTEMS.len()) % packages;
    let (a, b) = (n % 7, n % 11);
    let (intro, fixed, intro2, fixed2) = if eco == 3 {
        (
            format!("{a}.0-1"),
            format!("{a}.{b}-2"),
            format!("{}.0-1", a + 1),
            format!("{}.{b}-3", a + 1),
        )
    } else {
        (
            format!("{a}.0.0"),
            format!("{a}.{b}.1"),
            format!("{}.0.0", a + 1),
            format!("{}.{b}.2", a + 1),
        )
    };
    format!(
        r#"{{"id":"SYN-{n}","modified":"2026-01-01T00:00:00Z","aliases":["CVE-2026-{n}"],"summary":"synthetic advisory {n} with a summary of typical length for benchmarking","details":"{}","severity":[{{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],"affected":[{{"package":{{"ecosystem":"{}","name":"{}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"{intro}"}},{{"fixed":"{fixed}"}},{{"introduced":"{intro2}"}},{{"fixed":"{fixed2}"}}]}}]}}],"references":[{{"type":"WEB","url":"https://example.invalid/{n}"}}]}}"#,
        "x".repeat(400),
        ECOSYSTEMS[eco],
        package_name(eco, pkg)
    )
}

/// 2,000 packages: half name packages with advisories, half do not.
pub fn inventory(packages: usize) -> Vec<Package> {
    (0..2000)
        .map(|i| {
            let eco = i % ECOSYSTEMS.len();
            let version = if eco == 3 {
                format!("{}.{}-1", i % 9, i % 5)
            } else {
                format!("{}.{}.0", i % 9, i % 5)
            };
            let name = if i % 2 == 0 {
                package_name(eco, (i * 7) % packages)
            } else {
                format!("absent-{i}")
            };
            Package::new(ECOSYSTEMS[eco], &name, &version)
        })
        .collect()
}
