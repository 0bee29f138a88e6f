//! Maven version ordering, as `org.apache.maven.artifact.versioning.ComparableVersion`
//! (maven-artifact 3.8) orders versions; OSV's `Maven` ecosystem ranges use it.
//!
//! A version is lower-cased and split into items: numbers and words, separated by `.` and
//! `-`, and at every switch between digits and letters (`1alpha2` is `1-alpha-2`). A `-` or
//! a digit/letter switch opens a nested list, so `1.0-beta-2` is `[1, [beta, [2]]]` and a
//! dot-separated number after a qualifier stays in its list; a word after a `.` that is
//! followed by a number or ends the version opens one too (`1.0.RC1` = `1.0-RC1`). Each list drops its trailing
//! "null" items (`0`, the empty qualifier, empty lists). Numbers compare as unbounded
//! integers; words compare by their rank in `alpha < beta < milestone < rc < snapshot <
//! "" < sp`, other words after those, alphabetically (`a`, `b`, `m` right before a digit are
//! `alpha`, `beta`, `milestone`; `ga`, `final` and `release` are ""; `cr` is `rc`). A number
//! is above a word and a list; a list is above a word. A missing item compares like a
//! null one (`1` = `1.0` = `1-ga`, `1-sp` > `1`, `1-alpha` < `1`).
//!
//! Every string is a version, so parsing never fails. Only ASCII digits are digits (Java's
//! `Character.isDigit` also takes other scripts' digits).

use std::cmp::Ordering;
use std::fmt;

use super::Num;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Int(Num),
    /// A qualifier after aliasing (`a1` → `alpha`, `ga` → ``).
    Str(String),
    List(Vec<Item>),
}

/// The qualifiers Maven ranks, lowest first; `""` is the release itself.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// `ComparableVersion.StringItem.comparableQualifier`: the rank as a string, or
/// `7-<word>` for words Maven does not know (compared as strings, as Maven does).
fn comparable(q: &str) -> String {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let mut v = value;
    if followed_by_digit && value.chars().count() == 1 {
        v = match value {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        };
    }
    let v = match v {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(v.to_string())
}

fn parse_item(is_digit: bool, text: &str) -> Item {
    if is_digit {
        Item::Int(Num::new(text))
    } else {
        string_item(text, false)
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n.is_zero(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }

    /// `Item.compareTo(other)`, where `None` is Java's `null` (an item the other version
    /// does not have).
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(n), None) => {
                if n.is_zero() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => a.cmp(b),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(s), None) => comparable(s).as_str().cmp("5"),
            (Item::Str(_), Some(Item::Int(_) | Item::List(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => comparable(a).cmp(&comparable(b)),
            // Every item against nothing, the first difference decides (`1-ga.a` > `1`).
            (Item::List(l), None) => l
                .iter()
                .map(|i| i.compare(None))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal),
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => compare_lists(a, b),
        }
    }
}

fn compare_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let result = match (a.get(i), b.get(i)) {
            (Some(l), r) => l.compare(r),
            (None, Some(r)) => r.compare(None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if result != Ordering::Equal {
            return result;
        }
    }
    Ordering::Equal
}

/// `ListItem.normalize`: drop null items from the end, stepping over (non-null) lists.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// A Maven version.
#[derive(Clone, Debug)]
pub struct Version {
    text: String,
    items: Vec<Item>,
}

impl Version {
    /// Parses `text` as `new ComparableVersion(text)` does. Never fails.
    pub fn parse(text: &str) -> Result<Version, String> {
        let lower = text.to_lowercase();
        // Each `-` or digit/letter switch opens a list inside the current one; the lists
        // form a chain (nothing is added to a list after its child is opened), kept here as
        // segments, innermost last.
        let mut segments: Vec<Vec<Item>> = vec![Vec::new()];
        let mut is_digit = false;
        let mut start = 0usize; // byte offset
        for (i, c) in lower.char_indices() {
            let at_start = i == start;
            let cur = segments.last_mut().expect("one segment");
            match c {
                '.' | '-' => {
                    if at_start {
                        cur.push(Item::Int(Num::default()));
                    } else {
                        cur.push(parse_item(is_digit, &lower[start..i]));
                    }
                    start = i + c.len_utf8();
                    if c == '-' {
                        segments.push(Vec::new());
                    }
                }
                c if c.is_ascii_digit() => {
                    if !is_digit && !at_start {
                        // `.X1` is read as `-X1`: a qualifier followed by a number opens a
                        // list unless it starts one (1.0.0.RC1 = 1.0.0-RC1).
                        let word = string_item(&lower[start..i], true);
                        if cur.is_empty() {
                            cur.push(word);
                        } else {
                            segments.push(vec![word]);
                        }
                        start = i;
                        segments.push(Vec::new());
                    }
                    is_digit = true;
                }
                _ => {
                    if is_digit && !at_start {
                        cur.push(parse_item(true, &lower[start..i]));
                        start = i;
                        segments.push(Vec::new());
                    }
                    is_digit = false;
                }
            }
        }
        if lower.len() > start {
            // The same for a final qualifier: `1.0.sp` = `1.0-sp`.
            let item = parse_item(is_digit, &lower[start..]);
            let cur = segments.last_mut().expect("one segment");
            if !is_digit && !cur.is_empty() {
                segments.push(vec![item]);
            } else {
                cur.push(item);
            }
        }
        let mut child: Option<Vec<Item>> = None;
        while let Some(mut list) = segments.pop() {
            if let Some(c) = child.take() {
                list.push(Item::List(c));
            }
            normalize(&mut list);
            child = Some(list);
        }
        Ok(Version {
            text: text.to_string(),
            items: child.unwrap_or_default(),
        })
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_lists(&self.items, &other.items)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(v: &str) -> String {
        fn show(items: &[Item]) -> String {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Item::Int(n) => n.to_string(),
                    Item::Str(s) => s.clone(),
                    Item::List(l) => show(l),
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
        show(&Version::parse(v).unwrap().items)
    }

    #[test]
    fn tokens_as_maven_prints_them() {
        // `java -cp maven-artifact.jar …ComparableVersion V` prints these token lists.
        assert_eq!(items("1alpha1"), "[1, [alpha, [1]]]");
        assert_eq!(items("1.0.0-SNAPSHOT"), "[1, [snapshot]]");
        assert_eq!(items("1-ga"), "[1]");
        assert_eq!(items("1.2.3+build.5"), "[1, 2, 3, [+build, 5]]");
        assert_eq!(items("1-abc2def"), "[1, [abc, [2, [def]]]]");
        assert_eq!(items("01.002"), "[1, 2]");
        assert_eq!(items("1..2"), "[1, 0, 2]");
        assert_eq!(items("-1"), "[[1]]");
        assert_eq!(items(""), "[]");
        assert_eq!(items("1-0.1"), "[1, [0, 1]]");
        assert_eq!(items("2.0.a"), "[2, [a]]");
        assert_eq!(items("1-0.alpha"), "[1, [[alpha]]]");
        assert_eq!(items("0.xyz"), "[[xyz]]");
        assert_eq!(items("8.a-final.RC"), "[8, a, [[rc]]]");
        assert_eq!(items("1.0.CR1"), "[1, [rc, [1]]]");
    }
}
