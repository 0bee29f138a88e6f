//! Debian package versions (`[epoch:]upstream[-revision]`), parsed and ordered as dpkg's
//! `parseversion` and `verrevcmp` do.

use std::cmp::Ordering;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    pub epoch: u32,
    pub upstream: String,
    pub revision: String,
}

impl Version {
    /// Parses like dpkg's `parseversion`, treating its warnings (a version that does not start
    /// with a digit, invalid characters) as errors, as `Dpkg::Version::is_valid` does.
    pub fn parse(text: &str) -> Result<Version, String> {
        let s = text.trim();
        if s.is_empty() {
            return Err("version string is empty".into());
        }
        if s.contains(char::is_whitespace) {
            return Err("version string has embedded spaces".into());
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) => {
                if e.is_empty() {
                    return Err("epoch in version is empty".into());
                }
                if !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("epoch in version is not number".into());
                }
                let epoch: u32 = e
                    .parse()
                    .ok()
                    .filter(|n| i32::try_from(*n).is_ok())
                    .ok_or("epoch in version is too big")?;
                if rest.is_empty() {
                    return Err("nothing after colon in version number".into());
                }
                (epoch, rest)
            }
            None => (0, s),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => {
                if r.is_empty() {
                    return Err("revision number is empty".into());
                }
                (u, r)
            }
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err("version number is empty".into());
        }
        if !upstream.as_bytes()[0].is_ascii_digit() {
            return Err("version number does not start with digit".into());
        }
        if let Some(c) = upstream
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && !".-+~:".contains(*c))
        {
            return Err(format!("invalid character `{c}` in version number"));
        }
        if let Some(c) = revision
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && !".+~".contains(*c))
        {
            return Err(format!("invalid character `{c}` in revision number"));
        }
        Ok(Version {
            epoch,
            upstream: upstream.to_string(),
            revision: revision.to_string(),
        })
    }
}

fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternating non-digit runs (letters < non-letters, `~` before
/// everything, even the end) and digit runs compared numerically.
#[must_use]
pub fn verrevcmp(a: &str, b: &str) -> Ordering {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let (mut i, mut j) = (0usize, 0usize);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(&self.upstream, &other.upstream))
            .then_with(|| verrevcmp(&self.revision, &other.revision))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch > 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}
