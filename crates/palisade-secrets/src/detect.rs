//! Credentials recognised by their format anywhere in a text: one pass of an Aho-Corasick
//! automaton over the markers that start (or announce) a credential, then an exact check at
//! each marker. Most text holds no marker at all, so the cost is the automaton's scan.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// One credential in a text: where it is and what kind it is. The value itself is never
/// copied; [`redact`] gives a printable hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    /// Byte range of the secret value in the text.
    pub start: usize,
    pub end: usize,
    /// What it is, without an article: `Hugging Face token`, `AWS secret access key`.
    pub kind: &'static str,
    /// A documented sample or a placeholder (`AKIAIOSFODNN7EXAMPLE`, `hf_xxxx…`): the format
    /// matches but the value is not a working credential. Scanners of real artifacts skip
    /// these; linters of build files may still flag them.
    pub placeholder: bool,
}

/// What follows a marker.
#[derive(Clone, Copy)]
enum Check {
    /// A token that starts with the marker: at least `min` token characters follow it
    /// (exactly `min` upper-case letters and digits when `exact`).
    Prefix {
        min: usize,
        exact: bool,
        extra: &'static [u8],
    },
    /// `-----BEGIN … PRIVATE KEY-----` followed by a key body.
    Pem,
    /// `"service_account"` in a JSON key file with a `"private_key"`.
    ServiceAccount,
    /// A key word (`aws_secret_access_key`) then `=`/`:` then a 40-character secret.
    AwsSecret,
    /// `AccountKey=` then an 88-character base64 key.
    AzureAccountKey,
    /// Azure AD client secrets: `xxx8Q~` followed by 31–34 characters.
    AzureClientSecret,
    /// `https://hooks.slack.com/services/T…`.
    SlackWebhook,
}

const TOK: &[u8] = b"_-";

/// (marker, kind, check), the markers fed to the automaton in this order.
const MARKERS: &[(&str, &str, Check)] = &[
    ("-----BEGIN ", "private key", Check::Pem),
    (
        "\"service_account\"",
        "Google Cloud service-account key",
        Check::ServiceAccount,
    ),
    (
        "aws_secret_access_key",
        "AWS secret access key",
        Check::AwsSecret,
    ),
    (
        "AWS_SECRET_ACCESS_KEY",
        "AWS secret access key",
        Check::AwsSecret,
    ),
    ("SecretAccessKey", "AWS secret access key", Check::AwsSecret),
    ("secretAccessKey", "AWS secret access key", Check::AwsSecret),
    (
        "AccountKey=",
        "Azure storage account key",
        Check::AzureAccountKey,
    ),
    ("Q~", "Azure client secret", Check::AzureClientSecret),
    (
        "hooks.slack.com/services/T",
        "Slack webhook URL",
        Check::SlackWebhook,
    ),
    (
        "AKIA",
        "AWS access key ID",
        Check::Prefix {
            min: 16,
            exact: true,
            extra: b"",
        },
    ),
    (
        "ASIA",
        "AWS access key ID",
        Check::Prefix {
            min: 16,
            exact: true,
            extra: b"",
        },
    ),
    (
        "hf_",
        "Hugging Face token",
        Check::Prefix {
            min: 30,
            exact: false,
            extra: b"",
        },
    ),
    (
        "api_org_",
        "Hugging Face organization token",
        Check::Prefix {
            min: 30,
            exact: false,
            extra: b"",
        },
    ),
    (
        "sk-ant-",
        "Anthropic API key",
        Check::Prefix {
            min: 32,
            exact: false,
            extra: TOK,
        },
    ),
    (
        "sk-",
        "OpenAI-style API key (sk-…)",
        Check::Prefix {
            min: 20,
            exact: false,
            extra: TOK,
        },
    ),
    (
        "sk_live_",
        "Stripe secret key",
        Check::Prefix {
            min: 16,
            exact: false,
            extra: b"",
        },
    ),
    (
        "ghp_",
        "GitHub token",
        Check::Prefix {
            min: 36,
            exact: false,
            extra: b"",
        },
    ),
    (
        "gho_",
        "GitHub token",
        Check::Prefix {
            min: 36,
            exact: false,
            extra: b"",
        },
    ),
    (
        "ghu_",
        "GitHub token",
        Check::Prefix {
            min: 36,
            exact: false,
            extra: b"",
        },
    ),
    (
        "ghs_",
        "GitHub token",
        Check::Prefix {
            min: 36,
            exact: false,
            extra: b"",
        },
    ),
    (
        "ghr_",
        "GitHub token",
        Check::Prefix {
            min: 36,
            exact: false,
            extra: b"",
        },
    ),
    (
        "github_pat_",
        "GitHub token",
        Check::Prefix {
            min: 22,
            exact: false,
            extra: b"_",
        },
    ),
    (
        "glpat-",
        "GitLab token",
        Check::Prefix {
            min: 20,
            exact: false,
            extra: TOK,
        },
    ),
    (
        "xoxb-",
        "Slack token",
        Check::Prefix {
            min: 10,
            exact: false,
            extra: b"-",
        },
    ),
    (
        "xoxp-",
        "Slack token",
        Check::Prefix {
            min: 10,
            exact: false,
            extra: b"-",
        },
    ),
    (
        "xoxa-",
        "Slack token",
        Check::Prefix {
            min: 10,
            exact: false,
            extra: b"-",
        },
    ),
    (
        "xoxr-",
        "Slack token",
        Check::Prefix {
            min: 10,
            exact: false,
            extra: b"-",
        },
    ),
    (
        "xoxs-",
        "Slack token",
        Check::Prefix {
            min: 10,
            exact: false,
            extra: b"-",
        },
    ),
    (
        "AIza",
        "Google API key",
        Check::Prefix {
            min: 35,
            exact: false,
            extra: TOK,
        },
    ),
    (
        "pypi-AgE",
        "PyPI API token",
        Check::Prefix {
            min: 50,
            exact: false,
            extra: TOK,
        },
    ),
    (
        "npm_",
        "npm access token",
        Check::Prefix {
            min: 36,
            exact: false,
            extra: b"",
        },
    ),
];

/// For each byte, the [`MARKERS`] (as a bit set) that start with it, and [`SCHEME`] for
/// `:`. Most bytes of most values start none, so [`marker_or_scheme`] reads a value with one
/// table lookup per byte.
const MARKER_STARTS: [u64; 256] = {
    assert!(MARKERS.len() < 64);
    let mut table = [0u64; 256];
    let mut k = 0;
    while k < MARKERS.len() {
        table[MARKERS[k].0.as_bytes()[0] as usize] |= 1 << k;
        k += 1;
    }
    table[b':' as usize] |= SCHEME;
    table
};

/// The bit of [`MARKER_STARTS`] for a possible `://`.
const SCHEME: u64 = 1 << 63;

/// Whether `text` holds any marker [`scan`] looks at (first), and whether it holds a `://`
/// before the first marker (second; without one no word can be a URL with a password).
///
/// Every env value and argument of every container goes through [`find_credential`], and
/// nearly none holds a marker: on such short texts this loop costs a fraction of setting up
/// the automaton's search, which then runs only for the few that do.
fn marker_or_scheme(text: &[u8]) -> (bool, bool) {
    let mut scheme = false;
    for (i, &b) in text.iter().enumerate() {
        let mut candidates = MARKER_STARTS[usize::from(b)];
        if candidates == 0 {
            continue;
        }
        let rest = &text[i..];
        if candidates & SCHEME != 0 {
            scheme |= rest.starts_with(b"://");
            candidates &= !SCHEME;
        }
        while candidates != 0 {
            let k = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            if rest.starts_with(MARKERS[k].0.as_bytes()) {
                return (true, scheme);
            }
        }
    }
    (false, scheme)
}

fn automaton() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(MARKERS.iter().map(|m| m.0))
            .expect("the markers are a small fixed set")
    })
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Count of bytes from `i` that satisfy `f`.
fn run_len(b: &[u8], i: usize, f: impl Fn(u8) -> bool) -> usize {
    b.get(i..)
        .map_or(0, |r| r.iter().take_while(|&&c| f(c)).count())
}

/// Whether position `i` starts a word (not preceded by a token character). `-` counts: it
/// joins the words of kebab-case names (`train-sk-learn-pipeline-v2`), and a prefix after one
/// is inside a longer word, not the start of a token.
fn boundary_before(b: &[u8], i: usize) -> bool {
    i == 0
        || b.get(i - 1)
            .is_none_or(|&c| !is_alnum(c) && c != b'_' && c != b'-')
}

/// Distinct bytes in a value: placeholders (`xxxx`, `0000`, `abcabc`) have few.
fn distinct(v: &[u8]) -> usize {
    let mut seen = [false; 256];
    let mut n = 0;
    for &b in v {
        if !seen[usize::from(b)] {
            seen[usize::from(b)] = true;
            n += 1;
        }
    }
    n
}

fn placeholder(v: &[u8]) -> bool {
    distinct(v) < 8
        || v.windows(7).any(|w| w.eq_ignore_ascii_case(b"EXAMPLE"))
        || v.windows(11)
            .any(|w| w.eq_ignore_ascii_case(b"placeholder"))
}

/// Checks the candidate marker at `i`; returns (value start, value end, placeholder).
fn check(b: &[u8], i: usize, marker: &str, c: Check) -> Option<(usize, usize, bool)> {
    let after = i + marker.len();
    match c {
        Check::Prefix { min, exact, extra } => {
            if !boundary_before(b, i) {
                return None;
            }
            let n = if exact {
                run_len(b, after, |c| c.is_ascii_uppercase() || c.is_ascii_digit())
            } else {
                run_len(b, after, |c| is_alnum(c) || extra.contains(&c))
            };
            let ok = if exact {
                n == min && b.get(after + n).is_none_or(|&c| !is_alnum(c))
            } else {
                n >= min
            };
            ok.then(|| {
                let v = b.get(after..after + n).unwrap_or_default();
                (i, after + n, placeholder(v))
            })
        }
        Check::Pem => {
            let rest = b.get(i..)?;
            let line_end = rest
                .iter()
                .take(100)
                .position(|&c| c == b'\n' || c == b'"' || c == b'\\' || c == b'\'')
                .unwrap_or(rest.len().min(100));
            let header = rest.get(..line_end)?;
            let close = header.windows(5).rposition(|w| w == b"-----")?;
            if close < 11 || !header.windows(11).any(|w| w == b"PRIVATE KEY") {
                return None;
            }
            // The header alone is a string constant in every crypto library; a key has a
            // body: base64 on the next line (or after a literal `\n` in JSON and code).
            let mut j = i + close + 5;
            let mut skipped = 0;
            while skipped < 4 {
                match b.get(j..) {
                    Some([b'\r' | b'\n', ..]) => j += 1,
                    Some([b'\\', b'n', ..]) => j += 2,
                    _ => break,
                }
                skipped += 1;
            }
            let body = b.get(j..).unwrap_or_default();
            let legacy_encrypted = body.starts_with(b"Proc-Type:");
            let n = run_len(b, j, |c| is_b64(c) || c == b'=');
            if !legacy_encrypted && n < 40 {
                return None;
            }
            // The value ends at the END line, within a bound.
            let span = b.get(j..).unwrap_or_default();
            let lim = span.len().min(16 * 1024);
            let end = span[..lim]
                .windows(8)
                .position(|w| w == b"-----END")
                .map_or(j + n, |p| j + p);
            let body_sample = b.get(j..j + n.min(64)).unwrap_or_default();
            Some((i, end, !legacy_encrypted && placeholder(body_sample)))
        }
        Check::ServiceAccount => {
            // The private key follows in the same JSON document.
            let rest = b.get(after..)?;
            let lim = rest.len().min(64 * 1024);
            let p = rest[..lim]
                .windows(13)
                .position(|w| w == b"\"private_key\"")?;
            let k = after + p + 13;
            let rest = b.get(k..)?;
            let q = rest.iter().take(8).position(|&c| c == b'"')?;
            let vstart = k + q + 1;
            if !b.get(vstart..)?.starts_with(b"-----BEGIN ") {
                return None;
            }
            let n = run_len(b, vstart, |c| c != b'"');
            Some((vstart, vstart + n, false))
        }
        Check::AwsSecret => {
            // aws_secret_access_key = wJalr…, "SecretAccessKey": "wJalr…", KEY: value
            let mut j = after;
            let mut seen_sep = false;
            for _ in 0..8 {
                match b.get(j) {
                    Some(b' ' | b'\t' | b'"' | b'\'') => j += 1,
                    Some(b'=' | b':') if !seen_sep => {
                        seen_sep = true;
                        j += 1;
                    }
                    _ => break,
                }
            }
            if !seen_sep {
                return None;
            }
            let n = run_len(b, j, is_b64);
            (n == 40).then(|| {
                let v = &b[j..j + 40];
                (j, j + 40, placeholder(v))
            })
        }
        Check::AzureAccountKey => {
            let n = run_len(b, after, is_b64);
            let eq = run_len(b, after + n, |c| c == b'=');
            (n + eq == 88 && eq <= 2).then(|| {
                let v = &b[after..after + n];
                (after, after + 88, placeholder(v))
            })
        }
        Check::AzureClientSecret => {
            let class = |c: u8| is_alnum(c) || c == b'_' || c == b'~' || c == b'.';
            if i < 4 || !b[i - 1].is_ascii_digit() || !b[i - 4..i - 1].iter().all(|&c| class(c)) {
                return None;
            }
            let start = i - 4;
            if start > 0 && (class(b[start - 1]) || b[start - 1] == b'-') {
                return None;
            }
            let n = run_len(b, after, |c| class(c) || c == b'-');
            (31..=34).contains(&n).then(|| {
                let v = &b[after..after + n];
                (start, after + n, placeholder(v))
            })
        }
        Check::SlackWebhook => {
            let n = run_len(b, after, |c| is_alnum(c) || c == b'/');
            (n >= 20).then(|| {
                let start = b[..i]
                    .iter()
                    .rposition(|&c| !(is_alnum(c) || b":/.".contains(&c)))
                    .map_or(0, |p| p + 1);
                (start, after + n, placeholder(&b[after..after + n]))
            })
        }
    }
}

/// Every credential in `text`, in order, at most `max` of them. Overlapping finds are
/// merged (a private key inside a service-account file is reported as the service-account
/// key).
#[must_use]
pub fn scan(text: &[u8], max: usize) -> Vec<Secret> {
    let mut out: Vec<Secret> = Vec::new();
    if max == 0 {
        return out;
    }
    for m in automaton().find_iter(text) {
        let (marker, kind, c) = MARKERS[m.pattern().as_usize()];
        let Some((start, end, placeholder)) = check(text, m.start(), marker, c) else {
            continue;
        };
        if let Some(last) = out.last_mut()
            && start < last.end
        {
            continue;
        }
        out.push(Secret {
            start,
            end,
            kind,
            placeholder,
        });
        if out.len() >= max {
            break;
        }
    }
    // A service-account file's key also matched the PEM marker when it came first.
    if out
        .iter()
        .any(|s| s.kind == "Google Cloud service-account key")
    {
        let sa: Vec<(usize, usize)> = out
            .iter()
            .filter(|s| s.kind == "Google Cloud service-account key")
            .map(|s| (s.start, s.end))
            .collect();
        out.retain(|s| {
            s.kind != "private key" || !sa.iter().any(|&(a, b)| s.start >= a && s.start < b)
        });
    }
    out
}

/// [`Secret::kind`] of a URL with a literal password, as [`find_credential`] reports it.
pub const URL_PASSWORD: &str = "URL with an embedded password";

/// Length of `://u:abc@h`: no credential [`find_credential`] recognises is shorter (the token
/// formats need 15 bytes and more, and a password of fewer than three distinct characters is
/// a placeholder).
const SHORTEST_CREDENTIAL: usize = 10;

/// The first working credential in a short text such as an env value, a command argument or
/// a ConfigMap entry: a format [`scan`] recognises that is not a placeholder, else a URL with
/// a literal password ([`URL_PASSWORD`], the range of the password). This is the verdict
/// every gate shares for "this value is a credential".
#[must_use]
#[inline]
pub fn find_credential(text: &str) -> Option<Secret> {
    // Every env value and argument of every container of every manifest comes through here,
    // and most (`4`, `info`, `/cache`, a model name) are shorter than anything recognised or
    // hold no marker: those are rejected without a call.
    if text.len() < SHORTEST_CREDENTIAL {
        return None;
    }
    let (marker, scheme) = marker_or_scheme(text.as_bytes());
    if !marker && !scheme {
        return None;
    }
    credential_at_marker(text, marker)
}

/// Every working credential in a text that may be a whole file (a ConfigMap entry holding
/// `config.yaml` or a `.env`), in order, at most `max`: the formats [`scan`] recognises that
/// are not placeholders, and on each line holding none of those, a URL with a literal
/// password. A one-line text gives what [`find_credential`] gives.
#[must_use]
pub fn find_credentials(text: &str, max: usize) -> Vec<Secret> {
    if !text.contains('\n') {
        return find_credential(text).into_iter().take(max).collect();
    }
    let mut out: Vec<Secret> = scan(text.as_bytes(), max)
        .into_iter()
        .filter(|s| !s.placeholder)
        .collect();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let taken = out.iter().any(|s| s.start < line_end && s.end > line_start);
        if !taken && let Some(start) = crate::names::url_credentials(line) {
            let end = start + line[start..].find('@').unwrap_or(line.len() - start);
            out.push(Secret {
                start: line_start + start,
                end: line_start + end,
                kind: URL_PASSWORD,
                placeholder: false,
            });
        }
        line_start = line_end;
    }
    out.sort_by_key(|s| s.start);
    out.truncate(max);
    out
}

/// [`find_credential`] for a text that holds a marker or a `://`.
fn credential_at_marker(text: &str, marker: bool) -> Option<Secret> {
    if marker
        && let Some(s) = scan(text.as_bytes(), usize::MAX)
            .into_iter()
            .find(|s| !s.placeholder)
    {
        return Some(s);
    }
    let start = crate::names::url_credentials(text)?;
    let end = start + text[start..].find('@').unwrap_or(text.len() - start);
    Some(Secret {
        start,
        end,
        kind: URL_PASSWORD,
        placeholder: false,
    })
}

/// A [`Secret::kind`] with its indefinite article, as it is said: "an AWS access key ID",
/// "a private key", "an npm access token" ("en-pee-em"), "a URL …" ("you-are-ell"). Every
/// gate words its findings with it.
#[must_use]
pub fn with_article(kind: &str) -> String {
    let an =
        kind.starts_with("npm") || kind.starts_with(['A', 'E', 'I', 'O', 'a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if an { "an" } else { "a" })
}

/// A printable hint of a secret that gives nothing away: the public prefix that names its
/// format and its length (`hf_… (37 characters)`), or the PEM header of a private key.
#[must_use]
pub fn redact(text: &[u8], s: &Secret) -> String {
    let v = text.get(s.start..s.end).unwrap_or_default();
    if v.starts_with(b"-----BEGIN ") {
        let end = v
            .iter()
            .position(|&c| c == b'\n' || c == b'\\' || c == b'"')
            .unwrap_or(v.len());
        return String::from_utf8_lossy(&v[..end]).trim().to_string();
    }
    let prefix = MARKERS
        .iter()
        .filter(|m| matches!(m.2, Check::Prefix { .. }))
        .map(|m| m.0.as_bytes())
        .filter(|p| v.starts_with(p))
        .max_by_key(|p| p.len())
        .unwrap_or_default();
    format!(
        "{}… ({} characters)",
        String::from_utf8_lossy(prefix),
        v.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_of_a_file() {
        let hf = tok("hf_", "kQz7RwX2mN9pLs4TvB8y", 34);
        let text = format!(
            "token: {hf}\nlevel: info\nurl: postgresql://u:Fe4tur3St0re@db/x\nsample: {}\n",
            tok("hf_", "x", 34)
        );
        let found = find_credentials(&text, 10);
        let kinds: Vec<&str> = found.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, ["Hugging Face token", URL_PASSWORD], "{found:?}");
        assert_eq!(&text[found[1].start..found[1].end], "Fe4tur3St0re");
        assert_eq!(find_credentials(&text, 1).len(), 1);
        // One line: what find_credential says.
        assert_eq!(
            find_credentials(&hf, 10).len(),
            usize::from(find_credential(&hf).is_some())
        );
    }

    fn kinds(t: &str) -> Vec<(&'static str, bool)> {
        scan(t.as_bytes(), 100)
            .into_iter()
            .map(|s| (s.kind, s.placeholder))
            .collect()
    }

    // Test tokens are assembled at run time so this file holds no credential-shaped literal.
    fn tok(prefix: &str, body: &str, n: usize) -> String {
        let mut s = prefix.to_string();
        while s.len() < prefix.len() + n {
            s.push_str(body);
        }
        s.truncate(prefix.len() + n);
        s
    }

    #[test]
    fn kinds_with_their_article() {
        assert_eq!(with_article("AWS access key ID"), "an AWS access key ID");
        assert_eq!(with_article("Hugging Face token"), "a Hugging Face token");
        assert_eq!(with_article("private key"), "a private key");
        assert_eq!(with_article("npm access token"), "an npm access token");
        assert_eq!(
            with_article(URL_PASSWORD),
            "a URL with an embedded password"
        );
    }

    #[test]
    fn token_formats() {
        let body = "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7cF0";
        let hf = tok("hf_", body, 34);
        assert_eq!(
            kinds(&format!("x {hf} y")),
            vec![("Hugging Face token", false)]
        );
        assert_eq!(
            find_credential(&format!("x {hf}")).map(|s| (s.start, s.kind)),
            Some((2, "Hugging Face token"))
        );
        assert!(kinds("pip install hf_transfer").is_empty());
        assert_eq!(
            kinds(&tok("hf_", "x", 34)),
            vec![("Hugging Face token", true)],
            "a run of one character is a placeholder"
        );
        assert_eq!(
            kinds("AKIAIOSFODNN7EXAMPLE"),
            vec![("AWS access key ID", true)]
        );
        assert_eq!(
            kinds("AKIAZ4Q7RT2WX5MPL3KD"),
            vec![("AWS access key ID", false)]
        );
        assert!(kinds("AKIAZ4Q7RT2WX5MPL3KDX").is_empty(), "21 characters");
        assert!(kinds("task-manager-and-other-very-long-words").is_empty());
        assert_eq!(
            kinds(&tok("sk-ant-api03-", body, 40)),
            vec![("Anthropic API key", false)]
        );
        assert_eq!(
            kinds(&tok("sk-proj-", body, 40)),
            vec![("OpenAI-style API key (sk-…)", false)]
        );
        assert_eq!(kinds(&tok("ghp_", body, 36)), vec![("GitHub token", false)]);
        assert_eq!(
            kinds(&tok("github_pat_", body, 60)),
            vec![("GitHub token", false)]
        );
        assert_eq!(
            kinds(&tok("npm_", body, 36)),
            vec![("npm access token", false)]
        );
        assert_eq!(
            kinds(&tok("pypi-AgEIcHlwaS5vcmc", body, 60)),
            vec![("PyPI API token", false)]
        );
    }

    #[test]
    fn private_keys_need_a_body() {
        let key = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            tok(
                "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
                "AbCdEf0123",
                70
            )
        );
        let s = scan(key.as_bytes(), 10);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, "private key");
        assert_eq!(
            redact(key.as_bytes(), &s[0]),
            "-----BEGIN OPENSSH PRIVATE KEY-----"
        );
        // A constant in a crypto library is not a key.
        assert!(kinds("if line == \"-----BEGIN RSA PRIVATE KEY-----\":\n    pass\n").is_empty());
        assert!(
            kinds(
                "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n"
            )
            .is_empty()
        );
        // Escaped newlines, as JSON and source code write them.
        let esc = format!(
            "\"-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n\"",
            tok("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "Zq8x", 64)
        );
        assert_eq!(kinds(&esc), vec![("private key", false)]);
    }

    #[test]
    fn cloud_credentials() {
        let secret = tok("", "wJa1rXUtnFEMI7K9MDENGbPxRfiCYzQ3", 40);
        let aws = format!(
            "[default]\naws_access_key_id = AKIAZ4Q7RT2WX5MPL3KD\naws_secret_access_key = {secret}\n"
        );
        assert_eq!(
            kinds(&aws),
            vec![
                ("AWS access key ID", false),
                ("AWS secret access key", false)
            ]
        );
        let json = format!(
            "{{\"AccessKeyId\": \"ASIAZ4Q7RT2WX5MPL3KD\", \"SecretAccessKey\": \"{secret}\"}}"
        );
        assert_eq!(
            kinds(&json),
            vec![
                ("AWS access key ID", false),
                ("AWS secret access key", false)
            ]
        );
        assert!(kinds("aws_secret_access_key = ${AWS_SECRET}").is_empty());
        let sa = format!(
            "{{\"type\": \"service_account\", \"project_id\": \"p\", \"private_key_id\": \"1\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n\"}}",
            tok("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "Zq8x", 64)
        );
        assert_eq!(
            kinds(&sa),
            vec![("Google Cloud service-account key", false)]
        );
        let az = format!(
            "DefaultEndpointsProtocol=https;AccountName=ml;AccountKey={}==;EndpointSuffix=core.windows.net",
            tok("", "Xk3pL9qRt7Vw2Yz5Ab8Cd1Ef4Gh6Jm0N+/", 86)
        );
        assert_eq!(kinds(&az), vec![("Azure storage account key", false)]);
        let cs = format!(
            "AZURE_CLIENT_SECRET=abc8Q~{}",
            tok("", "Xk3pL9qRt7Vw2Yz5Ab8Cd1Ef4Gh6Jm0N", 34)
        );
        assert_eq!(kinds(&cs), vec![("Azure client secret", false)]);
    }

    fn credential(t: &str) -> Option<&'static str> {
        find_credential(t).map(|s| s.kind)
    }

    #[test]
    fn every_marker_is_seen() {
        for (m, _, _) in MARKERS {
            assert_eq!(
                marker_or_scheme(format!("x {m}").as_bytes()),
                (true, false),
                "{m}"
            );
        }
        assert_eq!(marker_or_scheme(b"http://x"), (false, true));
        assert_eq!(marker_or_scheme(b"a:b"), (false, false));
        assert_eq!(marker_or_scheme(b"meta-llama/Llama-3.1-8B"), (false, false));
    }

    #[test]
    fn one_verdict_on_short_values() {
        let body = "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7cF0";
        assert_eq!(
            credential(&tok("AKIA", "2E0A8F3B244C9986", 16)),
            Some("AWS access key ID")
        );
        // Documented samples and placeholder runs are not credentials.
        assert_eq!(credential("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(credential(&tok("hf_", "x", 34)), None);
        assert_eq!(credential(&tok("sk-", "x", 32)), None);
        assert_eq!(
            credential(&format!("--token={}", tok("ghp_", body, 36))),
            Some("GitHub token")
        );
        assert_eq!(
            credential(&tok("sk-proj-", body, 30)),
            Some("OpenAI-style API key (sk-…)")
        );
        // Look-alike words: a prefix inside a kebab-case word is not a token.
        for word in [
            "risk-assessment-model-for-loans-v2",
            "task-scheduler-worker-pool-main",
            "--mask-token-id=103",
            "train-sk-learn-pipeline-job-v2",
            "pip install hf_transfer",
        ] {
            assert_eq!(credential(word), None, "{word}");
        }
        // URLs: a literal password, not a variable or a placeholder.
        let url = "postgres://app:S3cr3tPw@db:5432/x";
        let found = find_credential(url).unwrap();
        assert_eq!(
            (found.kind, &url[found.start..found.end]),
            (URL_PASSWORD, "S3cr3tPw")
        );
        assert_eq!(credential("://u:abc@h"), Some(URL_PASSWORD));
        assert_eq!("://u:abc@h".len(), SHORTEST_CREDENTIAL);
        assert_eq!(credential("postgres://app:$(DB_PASSWORD)@db:5432/x"), None);
        assert_eq!(credential("postgres://app:${PW}@db:5432/x"), None);
        // A key needs a body; a header alone is a string constant.
        assert_eq!(credential("-----BEGIN OPENSSH PRIVATE KEY-----\nabc"), None);
        assert_eq!(credential("-----BEGIN PUBLIC KEY-----"), None);
        // The first working credential in text order, past placeholders.
        let two = format!(
            "AKIAIOSFODNN7EXAMPLE https://u:Zx9vQ2mLp7@h {}",
            tok("hf_", body, 34)
        );
        assert_eq!(credential(&two), Some("Hugging Face token"));
    }

    #[test]
    fn redaction_never_shows_the_value() {
        let t = tok("hf_", "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7cF0", 34);
        let s = scan(t.as_bytes(), 1);
        let r = redact(t.as_bytes(), &s[0]);
        assert_eq!(r, "hf_… (37 characters)");
        assert!(!r.contains("aB3"));
    }

    #[test]
    fn bounded() {
        let many = format!("{} ", tok("ghp_", "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7cF0", 36)).repeat(50);
        assert_eq!(scan(many.as_bytes(), 7).len(), 7);
        assert!(scan(many.as_bytes(), 0).is_empty());
    }
}
