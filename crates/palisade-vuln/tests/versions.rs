//! Every version comparator against the shared vectors in `../shared/data/versions/`.

use std::cmp::Ordering;
use std::path::PathBuf;

use palisade_vuln::version::{Scheme, apk, dpkg, pep440, rpm};

fn data(name: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/versions")
        .join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(_) => {
            eprintln!("skipping: {} not found", path.display());
            None
        }
    }
}

fn ord(n: &str) -> Ordering {
    match n.trim() {
        "-1" => Ordering::Less,
        "0" => Ordering::Equal,
        "1" => Ordering::Greater,
        other => panic!("bad expectation {other}"),
    }
}

fn rows(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

/// Python repr of a string (`'1.0'` or `"1.0"`) back to the string.
fn unrepr(s: &str) -> String {
    let s = s.trim();
    let inner = &s[1..s.len() - 1];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(q @ ('u' | 'x')) => {
                let n = if q == 'u' { 4 } else { 2 };
                let hex: String = chars.by_ref().take(n).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[test]
fn pep440_sorted_is_strictly_ascending() {
    let Some(text) = data("pep440_sorted.txt") else {
        return;
    };
    let versions: Vec<pep440::Version> = rows(&text)
        .map(|l| pep440::Version::parse(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(versions.len() >= 90);
    for w in versions.windows(2) {
        assert_eq!(w[0].cmp(&w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
    }
}

#[test]
fn pep440_pairs_agree_with_packaging() {
    let Some(text) = data("pep440_pairs.tsv") else {
        return;
    };
    let mut n = 0;
    for line in rows(&text) {
        let f: Vec<&str> = line.split('\t').collect();
        let got = Scheme::Pep440.compare(f[0], f[1]).unwrap();
        assert_eq!(got, ord(f[2]), "{line}");
        n += 1;
    }
    assert_eq!(n, 8464);
}

#[test]
fn pep440_invalid_versions_are_rejected() {
    let Some(text) = data("pep440_invalid.txt") else {
        return;
    };
    let mut n = 0;
    for line in rows(&text) {
        let v = unrepr(line);
        assert!(pep440::Version::parse(&v).is_err(), "accepted {line}");
        n += 1;
    }
    assert_eq!(n, 20);
}

#[test]
fn pep440_normalized_forms() {
    let Some(text) = data("pep440_normalized.tsv") else {
        return;
    };
    let mut n = 0;
    for line in rows(&text) {
        let (input, want) = line.split_once('\t').unwrap();
        let v = pep440::Version::parse(&unrepr(input)).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(v.to_string(), want, "{line}");
        n += 1;
    }
    assert_eq!(n, 102);
}

#[test]
fn dpkg_compare_vectors() {
    let Some(text) = data("dpkg_compare.tsv") else {
        return;
    };
    for line in rows(&text) {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            Scheme::Dpkg.compare(f[0], f[1]).unwrap(),
            ord(f[2]),
            "{line}"
        );
    }
}

#[test]
fn dpkg_oracle_pairs_agree_with_real_dpkg() {
    let Some(text) = data("dpkg_oracle_pairs.tsv") else {
        return;
    };
    let mut n = 0;
    for line in rows(&text) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            Scheme::Dpkg.compare(f[0], f[1]).unwrap(),
            ord(f[2]),
            "{line}"
        );
        n += 1;
    }
    assert_eq!(n, 1500);
}

#[test]
fn dpkg_sorted_and_validity_sections() {
    let Some(text) = data("dpkg_sorted_and_validity.txt") else {
        return;
    };
    let mut section = "";
    let mut prev: Option<String> = None;
    let mut checked = 0;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with('[') {
            section = line;
            prev = None;
            continue;
        }
        match section {
            "[sorted-full]" => {
                if let Some(p) = &prev {
                    assert_eq!(
                        Scheme::Dpkg.compare(p, line).unwrap(),
                        Ordering::Less,
                        "{p} < {line}"
                    );
                }
                prev = Some(line.to_string());
            }
            "[sorted-part]" => {
                if let Some(p) = &prev {
                    assert_eq!(dpkg::verrevcmp(p, line), Ordering::Less, "{p} < {line}");
                }
                prev = Some(line.to_string());
            }
            "[sorted-string]" => {
                if let Some(p) = &prev {
                    assert_eq!(dpkg::verrevcmp(p, line), Ordering::Less, "{p} < {line}");
                }
                prev = Some(line.to_string());
            }
            "[invalid]" => {
                let v = if line == "(empty string)" { "" } else { line };
                assert!(dpkg::Version::parse(v).is_err(), "accepted {line:?}");
            }
            "[valid-equal]" => {
                let (a, b) = line.split_once('\t').unwrap();
                if b == "0:0-" {
                    // lib/dpkg/t/t-version.c's old expectation; dpkg 1.21.22 (the oracle here)
                    // rejects it: "revision number is empty".
                    assert!(dpkg::Version::parse(b).is_err());
                    continue;
                }
                assert_eq!(
                    Scheme::Dpkg.compare(a, b).unwrap(),
                    Ordering::Equal,
                    "{line}"
                );
            }
            other => panic!("unknown section {other}"),
        }
        checked += 1;
    }
    assert!(checked > 30);
}

#[test]
fn apk_version_data() {
    let Some(text) = data("apk_version.data") else {
        return;
    };
    let mut n = 0;
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            [v] => {
                if let Some(bad) = v.strip_prefix('!') {
                    assert!(!apk::validate(bad), "accepted {raw}");
                } else {
                    assert!(apk::validate(v), "rejected {raw}");
                }
            }
            [a, op, b] => {
                let (negate, op) = match op.strip_prefix('!') {
                    Some(op) => (true, op),
                    None => (false, *op),
                };
                let fuzzy = op.contains('~');
                let r = apk::compare(a, b, fuzzy);
                let holds = op.chars().filter(|c| *c != '~').any(|c| match c {
                    '<' => r == Ordering::Less,
                    '>' => r == Ordering::Greater,
                    '=' => r == Ordering::Equal,
                    _ => panic!("bad op {raw}"),
                }) || (op == "~" && r == Ordering::Equal);
                assert_eq!(holds, !negate, "{raw}: got {r:?}");
            }
            _ => panic!("bad line {raw}"),
        }
        n += 1;
    }
    assert!(n > 700, "{n}");
}

#[test]
fn semver_spec_order() {
    let Some(text) = data("semver_spec_sorted.txt") else {
        return;
    };
    let v: Vec<_> = rows(&text)
        .map(|l| Scheme::Semver.parse(l).unwrap())
        .collect();
    for w in v.windows(2) {
        assert_eq!(w[0].cmp(&w[1]), Ordering::Less, "{w:?}");
    }
}

#[test]
fn semver_strict_compare() {
    let Some(text) = data("semver_strict_compare.tsv") else {
        return;
    };
    for line in rows(&text) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            Scheme::Semver.compare(f[0], f[1]).unwrap(),
            ord(f[2]),
            "{line}"
        );
    }
}

#[test]
fn semver_node_fixtures_strict_rows() {
    let Some(text) = data("semver_node_fixtures.json") else {
        return;
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fx = &json["fixtures"];
    let strict = |row: &[serde_json::Value], idx: usize| {
        row.get(idx).is_none_or(|o| {
            o.is_null()
                || o == false
                || o.as_object()
                    .is_some_and(|m| m.values().all(|v| v == false))
        })
    };
    let mut n = 0;
    for row in fx["comparisons"].as_array().unwrap() {
        let r = row.as_array().unwrap();
        if !strict(r, 2) {
            continue;
        }
        let (a, b) = (r[0].as_str().unwrap(), r[1].as_str().unwrap());
        assert_eq!(
            Scheme::Semver.compare(a, b).unwrap(),
            Ordering::Greater,
            "{a} > {b}"
        );
        n += 1;
    }
    for row in fx["equality"].as_array().unwrap() {
        let r = row.as_array().unwrap();
        if !strict(r, 2) {
            continue;
        }
        let (a, b) = (r[0].as_str().unwrap(), r[1].as_str().unwrap());
        assert_eq!(
            Scheme::Semver.compare(a, b).unwrap(),
            Ordering::Equal,
            "{a} == {b}"
        );
        n += 1;
    }
    for row in fx["invalid-versions"].as_array().unwrap() {
        let r = row.as_array().unwrap();
        if !strict(r, 2) {
            continue;
        }
        if let Some(v) = r[0].as_str() {
            assert!(Scheme::Semver.parse(v).is_err(), "accepted {v}");
            n += 1;
        }
    }
    for row in fx["valid-versions"].as_array().unwrap() {
        let r = row.as_array().unwrap();
        let v = r[0].as_str().unwrap();
        let parsed = Scheme::Semver
            .parse(v)
            .unwrap_or_else(|e| panic!("{v}: {e}"));
        let palisade_vuln::version::Version::Semver(s) = parsed else {
            unreachable!()
        };
        assert_eq!(s.major.to_string(), r[1].to_string(), "{v}");
        n += 1;
    }
    assert!(n >= 49, "{n}");
}

/// rpm's `tests/rpmvercmp.at` cases.
#[test]
fn rpm_vercmp_cases() {
    let cases = [
        ("1.0", "1.0", 0),
        ("1.0", "2.0", -1),
        ("2.0", "1.0", 1),
        ("2.0.1", "2.0.1", 0),
        ("2.0", "2.0.1", -1),
        ("2.0.1", "2.0", 1),
        ("2.0.1a", "2.0.1a", 0),
        ("2.0.1a", "2.0.1", 1),
        ("2.0.1", "2.0.1a", -1),
        ("5.5p1", "5.5p1", 0),
        ("5.5p1", "5.5p2", -1),
        ("5.5p2", "5.5p1", 1),
        ("5.5p10", "5.5p10", 0),
        ("5.5p1", "5.5p10", -1),
        ("5.5p10", "5.5p1", 1),
        ("10xyz", "10.1xyz", -1),
        ("10.1xyz", "10xyz", 1),
        ("xyz10", "xyz10", 0),
        ("xyz10", "xyz10.1", -1),
        ("xyz10.1", "xyz10", 1),
        ("xyz.4", "xyz.4", 0),
        ("xyz.4", "8", -1),
        ("8", "xyz.4", 1),
        ("xyz.4", "2", -1),
        ("2", "xyz.4", 1),
        ("5.5p2", "5.6p1", -1),
        ("5.6p1", "5.5p2", 1),
        ("5.6p1", "6.5p1", -1),
        ("6.5p1", "5.6p1", 1),
        ("6.0.rc1", "6.0", 1),
        ("6.0", "6.0.rc1", -1),
        ("10b2", "10a1", 1),
        ("10a2", "10b2", -1),
        ("1.0aa", "1.0aa", 0),
        ("1.0a", "1.0aa", -1),
        ("1.0aa", "1.0a", 1),
        ("10.0001", "10.0001", 0),
        ("10.0001", "10.1", 0),
        ("10.1", "10.0001", 0),
        ("10.0001", "10.0039", -1),
        ("10.0039", "10.0001", 1),
        ("4.999.9", "5.0", -1),
        ("5.0", "4.999.9", 1),
        ("20101121", "20101121", 0),
        ("20101121", "20101122", -1),
        ("20101122", "20101121", 1),
        ("2_0", "2_0", 0),
        ("2.0", "2_0", 0),
        ("2_0", "2.0", 0),
        ("a", "a", 0),
        ("a+", "a+", 0),
        ("a+", "a_", 0),
        ("a_", "a+", 0),
        ("+a", "+a", 0),
        ("+a", "_a", 0),
        ("_a", "+a", 0),
        ("+_", "+_", 0),
        ("_+", "+_", 0),
        ("_+", "_+", 0),
        ("+", "_", 0),
        ("_", "+", 0),
        ("1.0~rc1", "1.0~rc1", 0),
        ("1.0~rc1", "1.0", -1),
        ("1.0", "1.0~rc1", 1),
        ("1.0~rc1", "1.0~rc2", -1),
        ("1.0~rc2", "1.0~rc1", 1),
        ("1.0~rc1~git123", "1.0~rc1~git123", 0),
        ("1.0~rc1~git123", "1.0~rc1", -1),
        ("1.0~rc1", "1.0~rc1~git123", 1),
        ("1.0^", "1.0^", 0),
        ("1.0^", "1.0", 1),
        ("1.0", "1.0^", -1),
        ("1.0^git1", "1.0^git1", 0),
        ("1.0^git1", "1.0", 1),
        ("1.0", "1.0^git1", -1),
        ("1.0^git1", "1.0^git2", -1),
        ("1.0^git2", "1.0^git1", 1),
        ("1.0^git1", "1.01", -1),
        ("1.01", "1.0^git1", 1),
        ("1.0^20160101", "1.0^20160101", 0),
        ("1.0^20160101", "1.0.1", -1),
        ("1.0.1", "1.0^20160101", 1),
        ("1.0^20160101^git1", "1.0^20160101^git1", 0),
        ("1.0^20160102", "1.0^20160101^git1", 1),
        ("1.0^20160101^git1", "1.0^20160102", -1),
        ("1.0~rc1^git1", "1.0~rc1^git1", 0),
        ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0~rc1", "1.0~rc1^git1", -1),
        ("1.0^git1~pre", "1.0^git1~pre", 0),
        ("1.0^git1", "1.0^git1~pre", 1),
        ("1.0^git1~pre", "1.0^git1", -1),
    ];
    for (a, b, want) in cases {
        let want = ord(&want.to_string());
        assert_eq!(rpm::rpmvercmp(a, b), want, "rpmvercmp({a}, {b})");
    }
    assert_eq!(
        Scheme::Rpm.compare("1:1.0-1", "2.0-1").unwrap(),
        Ordering::Greater
    );
    assert_eq!(
        Scheme::Rpm.compare("1.0-1.el9", "1.0-1.el9_2").unwrap(),
        Ordering::Less
    );
    assert!(Scheme::Rpm.parse("x:1.0").is_err());
}

#[test]
fn go_pseudo_versions_and_v_prefix() {
    let s = Scheme::Semver;
    assert_eq!(s.compare("v1.2.3", "1.2.3").unwrap(), Ordering::Equal);
    assert_eq!(
        s.compare("v0.0.0-20210101000000-abcdef123456", "v0.0.1")
            .unwrap(),
        Ordering::Less
    );
    assert_eq!(
        s.compare("v1.2.4-0.20210101000000-abcdef123456", "v1.2.3")
            .unwrap(),
        Ordering::Greater
    );
    assert_eq!(
        s.compare("v2.0.0+incompatible", "v2.0.0").unwrap(),
        Ordering::Equal
    );
    assert!(s.parse("v1.2").is_err());
    assert!(s.parse("1.02.3").is_err());
}

/// Generated pairs checked against this machine's own `dpkg --compare-versions`.
#[test]
fn dpkg_generated_pairs_agree_with_live_dpkg() {
    if std::process::Command::new("dpkg")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping: dpkg not installed");
        return;
    }
    let parts = [
        "0", "1", "1.0", "1.00", "2", "10", "1a", "1.0a", "1~rc1", "1~~", "1+b1", "1.0+dfsg",
        "2:1", "1:0.9", "a1",
    ];
    let revs = ["", "-1", "-0", "-1~bpo", "-1+deb12u1", "-10", "-1.1", "-a"];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut checked = 0;
    for _ in 0..200 {
        let a = format!("{}{}", parts[next(parts.len())], revs[next(revs.len())]);
        let b = format!("{}{}", parts[next(parts.len())], revs[next(revs.len())]);
        let (Ok(_), Ok(_)) = (dpkg::Version::parse(&a), dpkg::Version::parse(&b)) else {
            continue;
        };
        let ours = Scheme::Dpkg.compare(&a, &b).unwrap();
        let lt = std::process::Command::new("dpkg")
            .args(["--compare-versions", "--", &a, "lt", &b])
            .status()
            .unwrap()
            .success();
        let eq = std::process::Command::new("dpkg")
            .args(["--compare-versions", "--", &a, "eq", &b])
            .status()
            .unwrap()
            .success();
        let theirs = if lt {
            Ordering::Less
        } else if eq {
            Ordering::Equal
        } else {
            Ordering::Greater
        };
        assert_eq!(ours, theirs, "{a} vs {b}");
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
}

/// Random versions (`tests/data/gen_pep440_pairs.py`) judged live by pypa/packaging: the
/// same ones are invalid, and valid pairs compare the same.
#[test]
fn pep440_random_versions_agree_with_live_packaging() {
    let have = std::process::Command::new("python3")
        .args(["-c", "import packaging.version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("skipping: python3 with `packaging` not found (pip install packaging)");
        return;
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/gen_pep440_pairs.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(std::env::var("PALISADE_PEP440_COUNT").unwrap_or_else(|_| "3000".into()))
        .arg(seed.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (mut invalid, mut pairs) = (0, 0);
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f[1] == "INVALID" {
            assert!(
                Scheme::Pep440.parse(f[0]).is_err(),
                "packaging rejects {:?}, we accept it (seed {seed})",
                f[0]
            );
            invalid += 1;
        } else {
            let got = Scheme::Pep440
                .compare(f[0], f[1])
                .unwrap_or_else(|e| panic!("{e} (seed {seed})"));
            assert_eq!(got, ord(f[2]), "{:?} vs {:?} (seed {seed})", f[0], f[1]);
            pairs += 1;
        }
    }
    assert!(
        pairs > 3000 && invalid > 0,
        "{pairs} pairs, {invalid} invalid"
    );
}
