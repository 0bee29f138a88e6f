//! String tests for the short texts rules read (image names, flags, env values).
//!
//! `str::contains(&str)` sets up a Two-Way searcher per call, which costs more than the whole
//! search on a 20-byte image name; rules make dozens of such tests per container.

use std::borrow::Cow;

/// Whether `needle` occurs in `haystack`, by a first-byte scan (fast for short haystacks).
#[must_use]
pub fn contains(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return true;
    };
    if h.len() < n.len() {
        return false;
    }
    (0..=h.len() - n.len()).any(|i| h[i] == first && &h[i + 1..i + n.len()] == rest)
}

/// The part of `s` after its last `/` (all of `s` when it has none), as
/// `s.rsplit('/').next()` gives it without setting up a searcher per call.
#[must_use]
pub fn last_segment(s: &str) -> &str {
    s.bytes()
        .rposition(|b| b == b'/')
        .map_or(s, |i| &s[i + 1..])
}

/// `s` in lower case, borrowed when it already is (image names almost always are).
#[must_use]
pub fn ascii_lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_agrees_with_std() {
        let texts = [
            "",
            "a",
            "ab",
            "aab",
            "tritonserver",
            "nvcr.io/nvidia/tritonserver",
            "abcabd",
        ];
        for h in texts {
            for n in texts
                .iter()
                .copied()
                .chain(["b", "abd", "server", "x", "ca"])
            {
                assert_eq!(contains(h, n), h.contains(n), "{h:?} {n:?}");
            }
        }
    }

    #[test]
    fn last_segment_agrees_with_rsplit() {
        for s in [
            "",
            "/",
            "a",
            "a/",
            "/a",
            "nvidia/cuda",
            "nvcr.io/nvidia/tritonserver",
        ] {
            assert_eq!(Some(last_segment(s)), s.rsplit('/').next(), "{s:?}");
        }
    }

    #[test]
    fn lowercase_borrows_when_it_can() {
        assert!(matches!(
            ascii_lowercase("pytorch/pytorch"),
            Cow::Borrowed(_)
        ));
        assert_eq!(ascii_lowercase("NVIDIA/Cuda"), "nvidia/cuda");
    }
}
