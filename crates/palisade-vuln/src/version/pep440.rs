//! PEP 440 versions (PyPI), parsed and ordered as `packaging.version.Version` does.

use std::cmp::Ordering;
use std::fmt;

use super::Num;

/// Pre-release phase, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PreKind {
    Alpha,
    Beta,
    Rc,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LocalPart {
    Str(String),
    Int(Num),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    pub epoch: Num,
    pub release: Vec<Num>,
    pub pre: Option<(PreKind, Num)>,
    pub post: Option<Num>,
    pub dev: Option<Num>,
    pub local: Vec<LocalPart>,
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn at(&self, k: usize) -> Option<u8> {
        self.s.get(self.i + k).copied()
    }
    fn digits(&mut self) -> Option<Num> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        (self.i > start)
            .then(|| Num::new(std::str::from_utf8(&self.s[start..self.i]).unwrap_or("")))
    }
    fn eat_word(&mut self, words: &[&str]) -> Option<usize> {
        for (n, w) in words.iter().enumerate() {
            if self.s[self.i..].starts_with(w.as_bytes()) {
                self.i += w.len();
                return Some(n);
            }
        }
        None
    }
    /// `[-_.]?` followed by one of `words`; restores the position when the word is absent.
    fn sep_word(&mut self, words: &[&str]) -> Option<usize> {
        let save = self.i;
        if self.peek().is_some_and(is_sep) {
            self.i += 1;
        }
        let found = self.eat_word(words);
        if found.is_none() {
            self.i = save;
        }
        found
    }
    /// `[-_.]?[0-9]*` after a pre, post or dev label. The separator is taken even when no
    /// number follows, as packaging's pattern takes it (`1.0dev-` and `1.0a.` are valid);
    /// every separator of what may follow is optional, so nothing needs it back.
    fn opt_sep_num(&mut self) -> Option<Num> {
        if self.peek().is_some_and(is_sep) {
            self.i += 1;
        }
        self.digits()
    }
}

fn is_sep(c: u8) -> bool {
    matches!(c, b'-' | b'_' | b'.')
}

impl Version {
    /// Parses a version as `packaging` does: case-insensitive, surrounding whitespace and a
    /// leading `v` allowed, alternative spellings (`alpha`, `c`, `rev`, `-1`, …) normalised.
    pub fn parse(text: &str) -> Result<Version, String> {
        let lower = text.trim().to_ascii_lowercase();
        if lower.is_empty() {
            return Err("empty version".into());
        }
        let mut c = Cursor {
            s: lower.as_bytes(),
            i: 0,
        };
        if c.peek() == Some(b'v') {
            c.i += 1;
        }
        let expected = "expected [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]";
        let first = c.digits().ok_or_else(|| expected.to_string())?;
        let epoch = if c.peek() == Some(b'!') {
            c.i += 1;
            first_release(&mut c, expected)?
        } else {
            None
        };
        let (epoch, first) = match epoch {
            Some(r) => (first, r),
            None => (Num::default(), first),
        };
        let mut release = vec![first];
        while c.peek() == Some(b'.') && c.at(1).is_some_and(|d| d.is_ascii_digit()) {
            c.i += 1;
            release.extend(c.digits());
        }
        let pre = c
            .sep_word(&["alpha", "beta", "preview", "pre", "rc", "a", "b", "c"])
            .map(|w| {
                let kind = match w {
                    0 | 5 => PreKind::Alpha,
                    1 | 6 => PreKind::Beta,
                    _ => PreKind::Rc,
                };
                (kind, c.opt_sep_num().unwrap_or_default())
            });
        let post = if c.peek() == Some(b'-') && c.at(1).is_some_and(|d| d.is_ascii_digit()) {
            c.i += 1;
            c.digits()
        } else {
            c.sep_word(&["post", "rev", "r"])
                .map(|_| c.opt_sep_num().unwrap_or_default())
        };
        let dev = c
            .sep_word(&["dev"])
            .map(|_| c.opt_sep_num().unwrap_or_default());
        let mut local = Vec::new();
        if c.peek() == Some(b'+') {
            c.i += 1;
            let rest = &lower[c.i..];
            for part in rest.split(['-', '_', '.']) {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(format!("invalid local version label `+{rest}`"));
                }
                local.push(if part.bytes().all(|b| b.is_ascii_digit()) {
                    LocalPart::Int(Num::new(part))
                } else {
                    LocalPart::Str(part.to_string())
                });
            }
            c.i = c.s.len();
        }
        if c.i != c.s.len() {
            return Err(format!(
                "unexpected `{}` at offset {}; {expected}",
                &lower[c.i..],
                c.i
            ));
        }
        Ok(Version {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    /// Whether this is a pre-release or development release.
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }
}

fn first_release(c: &mut Cursor<'_>, expected: &str) -> Result<Option<Num>, String> {
    c.digits().map(Some).ok_or_else(|| expected.to_string())
}

impl fmt::Display for Version {
    /// The normalised form (`packaging`'s `str(Version(...))`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.epoch.is_zero() {
            write!(f, "{}!", self.epoch)?;
        }
        for (i, n) in self.release.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
        }
        if let Some((kind, n)) = &self.pre {
            let k = match kind {
                PreKind::Alpha => "a",
                PreKind::Beta => "b",
                PreKind::Rc => "rc",
            };
            write!(f, "{k}{n}")?;
        }
        if let Some(n) = &self.post {
            write!(f, ".post{n}")?;
        }
        if let Some(n) = &self.dev {
            write!(f, ".dev{n}")?;
        }
        for (i, part) in self.local.iter().enumerate() {
            f.write_str(if i == 0 { "+" } else { "." })?;
            match part {
                LocalPart::Str(s) => f.write_str(s)?,
                LocalPart::Int(n) => write!(f, "{n}")?,
            }
        }
        Ok(())
    }
}

/// `packaging`'s `_cmpkey` pre-release slot: a dev-only release sorts before every
/// pre-release, a final release after them.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum PreKey<'a> {
    Below,
    Pre(PreKind, &'a Num),
    Final,
}

impl Version {
    fn pre_key(&self) -> PreKey<'_> {
        match &self.pre {
            Some((k, n)) => PreKey::Pre(*k, n),
            None if self.post.is_none() && self.dev.is_some() => PreKey::Below,
            None => PreKey::Final,
        }
    }
}

fn cmp_release(a: &[Num], b: &[Num]) -> Ordering {
    let zero = Num::default();
    let len = a.len().max(b.len());
    for i in 0..len {
        let x = a.get(i).unwrap_or(&zero);
        let y = b.get(i).unwrap_or(&zero);
        match x.cmp(y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

fn cmp_local(a: &[LocalPart], b: &[LocalPart]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (LocalPart::Int(x), LocalPart::Int(y)) => x.cmp(y),
            (LocalPart::Str(x), LocalPart::Str(y)) => x.cmp(y),
            (LocalPart::Str(_), LocalPart::Int(_)) => Ordering::Less,
            (LocalPart::Int(_), LocalPart::Str(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| cmp_release(&self.release, &other.release))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            .then_with(|| self.post.cmp(&other.post))
            .then_with(|| match (&self.dev, &other.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
            .then_with(|| cmp_local(&self.local, &other.local))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
