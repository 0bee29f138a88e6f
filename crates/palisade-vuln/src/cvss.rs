//! CVSS base scores computed from vectors, per the FIRST specifications: v2.0 (section 3.2.1
//! equations), v3.0 and v3.1 (section 7.1, with v3.1's `Roundup`) and v4.0 (section 8: macro
//! vectors, the lookup table and severity-distance interpolation, in [`crate::cvss4`]).

use palisade_policy::Severity;

/// A parsed CVSS vector and, where computed, its base score.
#[derive(Clone, Debug, PartialEq)]
pub enum Cvss {
    V2 {
        score: f64,
    },
    V3 {
        minor: u8,
        score: f64,
    },
    /// v4.0, with threat and environmental metrics applied when the vector has them.
    V4 {
        score: f64,
    },
}

impl Cvss {
    #[must_use]
    pub fn score(&self) -> Option<f64> {
        match self {
            Cvss::V2 { score } | Cvss::V3 { score, .. } | Cvss::V4 { score } => Some(*score),
        }
    }

    /// The qualitative rating (v3/v4 scale: 0 none, <4 low, <7 medium, <9 high, else
    /// critical; v2 has no critical band per NVD: 7.0–10.0 is high).
    #[must_use]
    pub fn severity(&self) -> Option<Severity> {
        let s = self.score()?;
        Some(match self {
            Cvss::V2 { .. } if s >= 7.0 => Severity::High,
            _ => rating(s),
        })
    }
}

/// CVSS v3/v4 rating of a score; `0.0` (none) maps to `Info`.
#[must_use]
pub fn rating(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

fn metrics<'a>(parts: impl Iterator<Item = &'a str>) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for p in parts {
        let (k, v) = p
            .split_once(':')
            .ok_or_else(|| format!("metric `{p}` is not KEY:VALUE"))?;
        if out.iter().any(|(ok, _)| *ok == k) {
            return Err(format!("metric `{k}` given twice"));
        }
        out.push((k, v));
    }
    Ok(out)
}

fn get<'a>(m: &[(&'a str, &'a str)], key: &str) -> Result<&'a str, String> {
    m.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("base metric `{key}` missing"))
}

fn pick(m: &[(&str, &str)], key: &str, table: &[(&str, f64)]) -> Result<f64, String> {
    let v = get(m, key)?;
    table
        .iter()
        .find(|(k, _)| *k == v)
        .map(|(_, x)| *x)
        .ok_or_else(|| format!("`{key}:{v}` is not a valid value"))
}

/// Parses a vector string: `CVSS:3.1/…`, `CVSS:3.0/…`, `CVSS:4.0/…` or a bare v2 vector
/// (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, optionally prefixed `CVSS:2.0/`).
pub fn parse(vector: &str) -> Result<Cvss, String> {
    let v = vector.trim();
    let v2 = v
        .strip_prefix("CVSS:2.0/")
        .or_else(|| v.strip_prefix("("))
        .unwrap_or(v);
    if let Some(rest) = v.strip_prefix("CVSS:3.1/") {
        return v3(rest, 1);
    }
    if let Some(rest) = v.strip_prefix("CVSS:3.0/") {
        return v3(rest, 0);
    }
    if let Some(rest) = v.strip_prefix("CVSS:4.0/") {
        return crate::cvss4::score(rest).map(|score| Cvss::V4 { score });
    }
    if v.starts_with("CVSS:") {
        return Err(format!("unknown CVSS version in `{v}`"));
    }
    v2score(v2.trim_end_matches(')'))
}

fn v2score(v: &str) -> Result<Cvss, String> {
    let m = metrics(v.split('/'))?;
    let av = pick(&m, "AV", &[("L", 0.395), ("A", 0.646), ("N", 1.0)])?;
    let ac = pick(&m, "AC", &[("H", 0.35), ("M", 0.61), ("L", 0.71)])?;
    let au = pick(&m, "Au", &[("M", 0.45), ("S", 0.56), ("N", 0.704)])?;
    let cia = [("N", 0.0), ("P", 0.275), ("C", 0.660)];
    let c = pick(&m, "C", &cia)?;
    let i = pick(&m, "I", &cia)?;
    let a = pick(&m, "A", &cia)?;
    let impact = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    let exploitability = 20.0 * av * ac * au;
    let f = if impact == 0.0 { 0.0 } else { 1.176 };
    let base = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f;
    Ok(Cvss::V2 {
        score: (base * 10.0).round() / 10.0,
    })
}

/// CVSS v3.1 `Roundup`: the smallest number, to one decimal, not below the input, computed
/// on integers to avoid floating-point surprises.
fn roundup31(x: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation)]
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

fn roundup30(x: f64) -> f64 {
    (x * 10.0).ceil() / 10.0
}

fn v3(rest: &str, minor: u8) -> Result<Cvss, String> {
    let m = metrics(rest.split('/'))?;
    let changed = match get(&m, "S")? {
        "U" => false,
        "C" => true,
        other => return Err(format!("`S:{other}` is not a valid value")),
    };
    let av = pick(
        &m,
        "AV",
        &[("N", 0.85), ("A", 0.62), ("L", 0.55), ("P", 0.2)],
    )?;
    let ac = pick(&m, "AC", &[("L", 0.77), ("H", 0.44)])?;
    let pr = if changed {
        pick(&m, "PR", &[("N", 0.85), ("L", 0.68), ("H", 0.5)])?
    } else {
        pick(&m, "PR", &[("N", 0.85), ("L", 0.62), ("H", 0.27)])?
    };
    let ui = pick(&m, "UI", &[("N", 0.85), ("R", 0.62)])?;
    let cia = [("H", 0.56), ("L", 0.22), ("N", 0.0)];
    let c = pick(&m, "C", &cia)?;
    let i = pick(&m, "I", &cia)?;
    let a = pick(&m, "A", &cia)?;
    let iss = 1.0 - ((1.0 - c) * (1.0 - i) * (1.0 - a));
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    let round = if minor == 1 { roundup31 } else { roundup30 };
    let score = if impact <= 0.0 {
        0.0
    } else if changed {
        round((1.08 * (impact + exploitability)).min(10.0))
    } else {
        round((impact + exploitability).min(10.0))
    };
    Ok(Cvss::V3 { minor, score })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_known_scores() {
        // Scores as published by NVD for these vectors.
        for (v, want) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
            ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        ] {
            assert_eq!(parse(v).unwrap().score(), Some(want), "{v}");
        }
        assert_eq!(
            parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
                .unwrap()
                .severity(),
            Some(Severity::Critical)
        );
    }

    #[test]
    fn v2_known_scores() {
        for (v, want) in [
            ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
            ("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0),
            ("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3),
            ("AV:L/AC:L/Au:N/C:P/I:N/A:N", 2.1),
        ] {
            assert_eq!(parse(v).unwrap().score(), Some(want), "{v}");
        }
        assert_eq!(
            parse("AV:N/AC:L/Au:N/C:C/I:C/A:C").unwrap().severity(),
            Some(Severity::High)
        );
    }

    #[test]
    fn v4_is_scored_and_garbage_is_rejected() {
        // FIRST calculator: 9.3 critical.
        let v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        assert_eq!(parse(v4).unwrap(), Cvss::V4 { score: 9.3 });
        assert_eq!(parse(v4).unwrap().severity(), Some(Severity::Critical));
        assert!(parse("CVSS:4.0/AV:N").is_err());
        assert!(parse("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").is_err());
        assert!(parse("CVSS:3.1/AV:N/AV:N").is_err());
        assert!(parse("hello").is_err());
        assert!(parse("CVSS:9.9/AV:N").is_err());
    }
}
