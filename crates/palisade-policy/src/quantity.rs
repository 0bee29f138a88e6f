//! Kubernetes resource quantities, as far as settings need them.

/// Whether `q` is a positive Kubernetes quantity of bytes: digits, an optional fraction, and
/// a binary (`Ki`…`Ei`) or decimal (`k`, `M`…`E`) suffix, or an exponent (`5e9`). `20GB`,
/// `-1Gi`, `0` and `1.Gi` are not.
#[must_use]
pub fn is_storage_quantity(q: &str) -> bool {
    const SUFFIXES: [&str; 12] = [
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E",
    ];
    let number = SUFFIXES
        .iter()
        .find_map(|s| q.strip_suffix(s))
        .or_else(|| {
            q.split_once(['e', 'E'])
                .filter(|(_, exp)| !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit()))
                .map(|(n, _)| n)
        })
        .unwrap_or(q);
    let (int, frac) = number.split_once('.').unwrap_or((number, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && digits(frac) && number.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_quantities() {
        for ok in ["20Gi", "500M", "1.5Ti", "5e9", "1000000", "0.5Gi", "1k"] {
            assert!(is_storage_quantity(ok), "{ok}");
        }
        for bad in [
            "", "0", "0Gi", "20GB", "-1Gi", "1.Gi", "Gi", "1e", "1.5.1", "1 Gi", "1gi",
        ] {
            assert!(!is_storage_quantity(bad), "{bad}");
        }
    }
}
