//! Alpine apk versions (`{digit}{.digit}…{letter}{_suffix{N}}…{~hash}{-rN}`), tokenised and
//! ordered as apk-tools' `version.c` does.

use std::cmp::Ordering;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

const SUFFIX_NONE: u8 = 5;

fn suffix_value(s: &str) -> Option<u8> {
    Some(match s {
        "alpha" => 1,
        "beta" => 2,
        "pre" => 3,
        "rc" => 4,
        "cvs" => 6,
        "svn" => 7,
        "git" => 8,
        "hg" => 9,
        "p" => 10,
        _ => return None,
    })
}

struct State<'a> {
    s: &'a [u8],
    i: usize,
    token: Token,
    suffix: u8,
    value: &'a [u8],
}

impl<'a> State<'a> {
    fn new(s: &'a str) -> State<'a> {
        let mut st = State {
            s: s.as_bytes(),
            i: 0,
            token: Token::InitialDigit,
            suffix: 0,
            value: &[],
        };
        st.digits();
        st
    }

    fn digits(&mut self) {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.value = &self.s[start..self.i];
        if self.value.is_empty() {
            self.token = Token::Invalid;
        }
    }

    fn span(&mut self, ok: impl Fn(u8) -> bool) {
        let start = self.i;
        while self.s.get(self.i).is_some_and(|c| ok(*c)) {
            self.i += 1;
        }
        self.value = &self.s[start..self.i];
    }

    fn next(&mut self) {
        let Some(&c) = self.s.get(self.i) else {
            self.token = Token::End;
            return;
        };
        match c {
            b'a'..=b'z' if self.token <= Token::Digit => {
                self.value = &self.s[self.i..=self.i];
                self.token = Token::Letter;
                self.i += 1;
            }
            b'.' if self.token <= Token::Digit => {
                self.i += 1;
                self.token = Token::Digit;
                self.digits();
            }
            b'_' if self.token <= Token::SuffixNo => {
                self.i += 1;
                self.span(|c| c.is_ascii_lowercase());
                match suffix_value(std::str::from_utf8(self.value).unwrap_or("")) {
                    Some(v) => {
                        self.suffix = v;
                        self.token = Token::Suffix;
                    }
                    None => self.token = Token::Invalid,
                }
            }
            b'-' if self.token < Token::RevisionNo => {
                if self.s.get(self.i + 1) == Some(&b'r') {
                    self.i += 2;
                    self.token = Token::RevisionNo;
                    self.digits();
                } else {
                    self.token = Token::Invalid;
                }
            }
            b'~' if self.token < Token::CommitHash => {
                self.i += 1;
                self.span(|c| c.is_ascii_hexdigit());
                self.token = if self.value.is_empty() {
                    Token::Invalid
                } else {
                    Token::CommitHash
                };
            }
            _ if self.token == Token::Suffix => {
                self.token = Token::SuffixNo;
                self.digits();
            }
            _ => self.token = Token::Invalid,
        }
    }

    fn number(&self) -> &'a [u8] {
        let v = self.value;
        let start = v.iter().position(|c| *c != b'0').unwrap_or(v.len());
        &v[start..]
    }
}

fn cmp_num(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn token_cmp(a: &State<'_>, b: &State<'_>) -> Ordering {
    match a.token {
        Token::Digit => {
            if a.value.first() == Some(&b'0') || b.value.first() == Some(&b'0') {
                let o = a.value.cmp(b.value);
                if o != Ordering::Equal {
                    return o;
                }
            }
            cmp_num(a.number(), b.number())
        }
        Token::Letter => a.value.first().cmp(&b.value.first()),
        Token::Suffix => a.suffix.cmp(&b.suffix),
        Token::CommitHash => a.value.cmp(b.value),
        _ => cmp_num(a.number(), b.number()),
    }
}

/// Whether apk-tools accepts `s` as a version.
#[must_use]
pub fn validate(s: &str) -> bool {
    let mut t = State::new(s);
    while t.token != Token::End && t.token != Token::Invalid {
        t.next();
    }
    t.token == Token::End
}

/// apk-tools' comparison; with `fuzzy`, `a` matches when `b` is a prefix of it (`~`).
#[must_use]
pub fn compare(a: &str, b: &str, fuzzy: bool) -> Ordering {
    let mut ta = State::new(a);
    let mut tb = State::new(b);
    while ta.token == tb.token && ta.token != Token::End && ta.token != Token::Invalid {
        let r = token_cmp(&ta, &tb);
        if r != Ordering::Equal {
            return r;
        }
        ta.next();
        tb.next();
    }
    if ta.token == tb.token || (tb.token == Token::End && fuzzy) {
        return Ordering::Equal;
    }
    if ta.token == Token::Suffix && ta.suffix < SUFFIX_NONE {
        return Ordering::Less;
    }
    if tb.token == Token::Suffix && tb.suffix < SUFFIX_NONE {
        return Ordering::Greater;
    }
    tb.token.cmp(&ta.token)
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version(String);

impl Version {
    pub fn parse(text: &str) -> Result<Version, String> {
        let s = text.trim();
        if validate(s) {
            Ok(Version(s.to_string()))
        } else {
            Err("expected digits{.digits}[letter]{_suffix[N]}[~hash][-rN]".into())
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.0, &other.0, false)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
