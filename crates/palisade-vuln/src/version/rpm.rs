//! RPM versions (`[epoch:]version[-release]`), ordered as rpm's `rpmvercmp` (with `~` and
//! `^`) applied to epoch, version and release in turn.

use std::cmp::Ordering;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    pub epoch: u64,
    pub version: String,
    pub release: String,
}

impl Version {
    pub fn parse(text: &str) -> Result<Version, String> {
        let s = text.trim();
        if s.is_empty() {
            return Err("version string is empty".into());
        }
        if s.contains(char::is_whitespace) {
            return Err("version string has embedded spaces".into());
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) => (
                e.parse::<u64>()
                    .map_err(|_| format!("epoch `{e}` is not a number"))?,
                rest,
            ),
            None => (0, s),
        };
        let (version, release) = rest.rsplit_once('-').unwrap_or((rest, ""));
        if version.is_empty() {
            return Err("version part is empty".into());
        }
        if let Some(c) = rest
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && !"._+~^-".contains(*c))
        {
            return Err(format!("invalid character `{c}`"));
        }
        Ok(Version {
            epoch,
            version: version.to_string(),
            release: release.to_string(),
        })
    }
}

/// rpm's `rpmvercmp`.
#[must_use]
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let a = a.as_bytes();
    let b = b.as_bytes();
    let (mut i, mut j) = (0usize, 0usize);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else {
            break;
        };
        let isnum = ca.is_ascii_digit();
        let class = |c: &u8| {
            if isnum {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let ei = i + a[i..].iter().take_while(|c| class(c)).count();
        let ej = j + b[j..].iter().take_while(|c| class(c)).count();
        if ej == j {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut sa, mut sb) = (&a[i..ei], &b[j..ej]);
        if isnum {
            while sa.first() == Some(&b'0') {
                sa = &sa[1..];
            }
            while sb.first() == Some(&b'0') {
                sb = &sb[1..];
            }
            match sa.len().cmp(&sb.len()) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match sa.cmp(sb) {
            Ordering::Equal => {}
            o => return o,
        }
        i = ei;
        j = ej;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| rpmvercmp(&self.release, &other.release))
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
        f.write_str(&self.version)?;
        if !self.release.is_empty() {
            write!(f, "-{}", self.release)?;
        }
        Ok(())
    }
}
