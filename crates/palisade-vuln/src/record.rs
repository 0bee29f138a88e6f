//! A stored advisory record: a compact binary match section, then the advisory's JSON.
//!
//! Matching reads every advisory filed under a package's name, and most of them do not
//! affect the installed version. Decoding each one from JSON into an owned [`Advisory`]
//! (a dozen allocations, every field) was 60% of a 1,200-package image's match, so the
//! fields the evaluation needs are written once more at import in a form that is read in
//! place, borrowing from the record's bytes: the id, and per `affected[]` entry with a
//! package its index, trimmed ecosystem and normalised name (compared before anything else
//! of the entry is read), `versions` and ranges. The JSON is decoded only for advisories
//! that affect the package (severity, aliases, summary) and by [`crate::Database::lookup`].
//!
//! ```text
//! record   section len u32, section, JSON
//! section  id str, withdrawn u8, entries u32, per entry:
//!          index u32, body len u32, ecosystem str, name str, body
//! body     versions u32 × str, ranges u32 × (type str, events u32 × (kind u8, value str))
//! str      len u32, UTF-8 bytes
//! ```
//!
//! An event keeps only its first set field in OSV's order (introduced, fixed,
//! last_affected, limit), which is the one the evaluation reads; events with none are
//! dropped, as the evaluation ignores them.

use crate::ecosystem;
use crate::osv::{Advisory, Event};

pub(crate) const INTRODUCED: u8 = 0;
pub(crate) const FIXED: u8 = 1;
pub(crate) const LAST_AFFECTED: u8 = 2;
pub(crate) const LIMIT: u8 = 3;

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// The event's kind and value as the evaluation reads them (first set field wins).
pub(crate) fn event_kind(e: &Event) -> Option<(u8, &str)> {
    if let Some(s) = &e.introduced {
        Some((INTRODUCED, s))
    } else if let Some(s) = &e.fixed {
        Some((FIXED, s))
    } else if let Some(s) = &e.last_affected {
        Some((LAST_AFFECTED, s))
    } else {
        e.limit.as_deref().map(|s| (LIMIT, s))
    }
}

/// Appends the record of `adv` (match section and `json`) to `out`.
pub(crate) fn encode(adv: &Advisory, json: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    put_u32(out, 0);
    put_str(out, &adv.id);
    out.push(u8::from(adv.withdrawn.is_some()));
    let with_package = adv.affected.iter().filter(|a| a.package.is_some()).count();
    put_u32(out, with_package);
    let mut body = Vec::new();
    for (index, a) in adv.affected.iter().enumerate() {
        let Some(p) = &a.package else { continue };
        body.clear();
        put_u32(&mut body, a.versions.len());
        for v in &a.versions {
            put_str(&mut body, v);
        }
        put_u32(&mut body, a.ranges.len());
        for r in &a.ranges {
            put_str(&mut body, &r.kind);
            let events: Vec<(u8, &str)> = r.events.iter().filter_map(event_kind).collect();
            put_u32(&mut body, events.len());
            for (kind, value) in events {
                body.push(kind);
                put_str(&mut body, value);
            }
        }
        let eco = p.ecosystem.trim();
        let name = ecosystem::normalize_name(&p.ecosystem, &p.name);
        put_u32(out, index);
        put_u32(out, body.len() + 8 + eco.len() + name.len());
        put_str(out, eco);
        put_str(out, &name);
        out.extend_from_slice(&body);
    }
    let section = out.len() - start - 4;
    out[start..start + 4].copy_from_slice(&u32::try_from(section).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(json);
}

/// A reader over a byte slice that fails instead of panicking.
#[derive(Clone)]
pub(crate) struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.b.len() {
            return None;
        }
        let (head, tail) = self.b.split_at(n);
        self.b = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<usize> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize)
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()?;
        std::str::from_utf8(self.take(n)?).ok()
    }
}

/// A record read in place.
pub(crate) struct Record<'a> {
    pub id: &'a str,
    pub withdrawn: bool,
    entries: usize,
    section: Reader<'a>,
    pub json: &'a [u8],
}

impl<'a> Record<'a> {
    pub fn parse(bytes: &'a [u8]) -> Option<Record<'a>> {
        let mut r = Reader { b: bytes };
        let len = r.u32()?;
        let mut section = Reader { b: r.take(len)? };
        let json = r.b;
        let id = section.str()?;
        let withdrawn = section.u8()? != 0;
        let entries = section.u32()?;
        Some(Record {
            id,
            withdrawn,
            entries,
            section,
            json,
        })
    }

    /// The entries with a package, in order; `None` items mean a corrupt section.
    pub fn entries(&self) -> impl Iterator<Item = Option<Entry<'a>>> + 'a {
        let mut r = self.section.clone();
        let mut left = self.entries;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            left -= 1;
            let entry = (|| {
                let index = r.u32()?;
                let len = r.u32()?;
                let mut e = Reader { b: r.take(len)? };
                Some(Entry {
                    index,
                    ecosystem: e.str()?,
                    name: e.str()?,
                    body: e,
                })
            })();
            if entry.is_none() {
                left = 0;
            }
            Some(entry)
        })
    }
}

/// One `affected[]` entry of a record.
pub(crate) struct Entry<'a> {
    /// Its index in the advisory's `affected` list.
    pub index: usize,
    /// Trimmed, as [`crate::ecosystem::lookup_names`] gives them.
    pub ecosystem: &'a str,
    /// Normalised with [`crate::ecosystem::normalize_name`].
    pub name: &'a str,
    body: Reader<'a>,
}

/// What the evaluation reads of an `affected[]` entry, borrowed.
#[derive(Default)]
pub(crate) struct AffectedRef<'a> {
    pub versions: Vec<&'a str>,
    pub ranges: Vec<RangeRef<'a>>,
}

pub(crate) struct RangeRef<'a> {
    pub kind: &'a str,
    /// (kind, value): [`INTRODUCED`], [`FIXED`], [`LAST_AFFECTED`] or [`LIMIT`].
    pub events: Vec<(u8, &'a str)>,
}

impl<'a> Entry<'a> {
    pub fn decode(&self) -> Option<AffectedRef<'a>> {
        let mut r = self.body.clone();
        let n = r.u32()?;
        let mut out = AffectedRef {
            versions: Vec::with_capacity(n.min(r.b.len() / 4)),
            ranges: Vec::new(),
        };
        for _ in 0..n {
            out.versions.push(r.str()?);
        }
        let n = r.u32()?;
        out.ranges.reserve(n.min(r.b.len() / 8));
        for _ in 0..n {
            let kind = r.str()?;
            let m = r.u32()?;
            let mut events = Vec::with_capacity(m.min(r.b.len() / 5));
            for _ in 0..m {
                let k = r.u8()?;
                if k > LIMIT {
                    return None;
                }
                events.push((k, r.str()?));
            }
            out.ranges.push(RangeRef { kind, events });
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let json = br#"{"id":"X-1","affected":[{"ranges":[]},{"package":{"ecosystem":" PyPI ","name":"Foo_Bar"},"versions":["1.0"],"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{},{"fixed":"2.0"},{"limit":"*"}]}]}]}"#;
        let adv = Advisory::from_json(json).unwrap();
        let mut out = Vec::new();
        encode(&adv, json, &mut out);
        let rec = Record::parse(&out).unwrap();
        assert_eq!(rec.id, "X-1");
        assert!(!rec.withdrawn);
        assert_eq!(rec.json, json);
        let entries: Vec<Entry> = rec.entries().map(Option::unwrap).collect();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].index, entries[0].ecosystem, entries[0].name),
            (1, "PyPI", "foo-bar")
        );
        let a = entries[0].decode().unwrap();
        assert_eq!(a.versions, vec!["1.0"]);
        assert_eq!(a.ranges[0].kind, "ECOSYSTEM");
        assert_eq!(
            a.ranges[0].events,
            vec![(INTRODUCED, "0"), (FIXED, "2.0"), (LIMIT, "*")]
        );
        // Every truncation of the section fails cleanly.
        let section = u32::from_le_bytes(out[..4].try_into().unwrap()) as usize;
        for cut in 0..section + 4 {
            let mut bad = out[..cut].to_vec();
            if cut >= 4 {
                bad[..4].copy_from_slice(&u32::try_from(cut - 4).unwrap().to_le_bytes());
            }
            if let Some(r) = Record::parse(&bad) {
                let ok = r
                    .entries()
                    .map(|e| e.and_then(|e| e.decode()))
                    .collect::<Option<Vec<_>>>();
                assert!(ok.is_none() || cut == section + 4, "cut {cut}");
            }
        }
    }
}
