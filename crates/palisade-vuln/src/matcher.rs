//! OSV matching: is an installed package version affected by an advisory, and which version
//! fixes it. Implements the schema's `### Evaluation` section exactly: a version listed in
//! `versions` is affected; otherwise a range affects it when the version is below one of the
//! range's `limit`s (or there is none) and, walking the events sorted by version, the last
//! `introduced` at or below it is not followed by a `fixed` at or below it or a
//! `last_affected` below it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use palisade_policy::Severity;
use serde::Serialize;

use crate::ecosystem;
use crate::osv::{Advisory, Affected, SeverityEntry};
use crate::record::{self, AffectedRef, RangeRef};
use crate::version::{Scheme, Version};

/// An installed package, as an image cataloger or a lock-file reader reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Package {
    /// OSV ecosystem, with release suffix for OS packages: `PyPI`, `npm`, `Go`, `Debian:12`,
    /// `Alpine:v3.20`, `Ubuntu:22.04:LTS`.
    pub ecosystem: String,
    /// Installed (binary) package name.
    pub name: String,
    /// Installed version, as the package manager wrote it.
    pub version: String,
    /// Source package (dpkg `Source:`, apk origin); OSV's Debian, Ubuntu and Alpine
    /// advisories name source packages, so the match uses it when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// Source package version when it differs from the binary's (dpkg `Source: name (ver)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Where it was found: a file (lock file, `var/lib/dpkg/status`, an image reference).
    pub file: String,
    /// Image layer (digest) or archive member the package came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// 1-based line in `file`, 0 when unknown.
    pub line: u32,
}

impl Package {
    #[must_use]
    pub fn new(ecosystem: &str, name: &str, version: &str) -> Package {
        Package {
            ecosystem: ecosystem.to_string(),
            name: name.to_string(),
            version: version.to_string(),
            ..Package::default()
        }
    }

    /// The name and version advisories are filed under.
    #[must_use]
    pub fn match_name(&self) -> &str {
        self.source_name
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.name)
    }

    #[must_use]
    pub fn match_version(&self) -> &str {
        self.source_version
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.version)
    }
}

/// How one affected entry applies to a version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evaluation {
    pub affected: bool,
    /// `fixed` events above the installed version, in the ranges that were evaluated.
    pub fixed: Vec<String>,
    /// What could not be evaluated (GIT ranges, invalid versions, unknown schemes).
    pub notes: Vec<String>,
}

fn same_version(scheme: Option<Scheme>, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match scheme {
        Some(s) => {
            matches!((s.parse(a), s.parse(b)), (Ok(x), Ok(y)) if x.cmp_same(&y) == Ordering::Equal)
        }
        None => false,
    }
}

/// Evaluates one `affected[]` entry for `version` in `ecosystem`.
#[must_use]
pub fn evaluate(affected: &Affected, ecosystem: &str, version: &str, id: &str) -> Evaluation {
    evaluate_cached(
        affected,
        ecosystem,
        version,
        id,
        &mut ParsedVersions::default(),
    )
}

/// The installed version parsed under each scheme it was needed in, so that matching one
/// package against many advisories parses it once per scheme.
#[derive(Default)]
pub struct ParsedVersions(Vec<(Scheme, Result<Version, String>)>);

impl ParsedVersions {
    fn get(&mut self, scheme: Scheme, text: &str) -> &Result<Version, String> {
        let i = match self.0.iter().position(|(s, _)| *s == scheme) {
            Some(i) => i,
            None => {
                self.0
                    .push((scheme, scheme.parse(text).map_err(|e| e.to_string())));
                self.0.len() - 1
            }
        };
        &self.0[i].1
    }
}

/// [`evaluate`] with the installed version's parses kept in `parsed` (one per package).
pub fn evaluate_cached(
    affected: &Affected,
    ecosystem: &str,
    version: &str,
    id: &str,
    parsed: &mut ParsedVersions,
) -> Evaluation {
    evaluate_ref(&borrow(affected), ecosystem, version, id, parsed)
}

/// What the evaluation reads of an entry, borrowed from its decoded form; the database's
/// match sections give the same view without decoding the JSON (`record`).
fn borrow(affected: &Affected) -> AffectedRef<'_> {
    AffectedRef {
        versions: affected.versions.iter().map(String::as_str).collect(),
        ranges: affected
            .ranges
            .iter()
            .map(|r| RangeRef {
                kind: &r.kind,
                events: r.events.iter().filter_map(record::event_kind).collect(),
            })
            .collect(),
    }
}

fn evaluate_ref(
    affected: &AffectedRef<'_>,
    ecosystem: &str,
    version: &str,
    id: &str,
    parsed: &mut ParsedVersions,
) -> Evaluation {
    let eco_scheme = ecosystem::scheme(ecosystem);
    let mut ev = Evaluation::default();
    if affected
        .versions
        .iter()
        .any(|v| same_version(eco_scheme, v, version))
    {
        ev.affected = true;
    }
    for range in &affected.ranges {
        let scheme = match range.kind {
            "SEMVER" => Some(Scheme::Semver),
            "ECOSYSTEM" => eco_scheme,
            "GIT" => {
                // Commit ranges need the repository's history. Next to an ECOSYSTEM or
                // SEMVER range (or a `versions` list, into which osv.dev expands them)
                // nothing is lost; alone, say so.
                let other_ranges = affected.ranges.iter().any(|r| r.kind != "GIT");
                if !other_ranges && affected.versions.is_empty() {
                    ev.notes.push(format!(
                        "{id}: GIT range not evaluated (commit ranges need the repository) and the entry lists no versions"
                    ));
                }
                continue;
            }
            other => {
                ev.notes.push(format!(
                    "{id}: range type `{other}` is not part of the OSV schema; ignored"
                ));
                continue;
            }
        };
        let Some(scheme) = scheme else {
            ev.notes.push(format!(
                "{id}: no version ordering for ecosystem `{ecosystem}`; only its `versions` list was used"
            ));
            continue;
        };
        let installed = match parsed.get(scheme, version) {
            Ok(v) => v,
            Err(e) => {
                ev.notes.push(format!("{id}: {e}"));
                continue;
            }
        };
        match eval_range(range, scheme, installed) {
            Ok((hit, fixed)) => {
                ev.affected |= hit;
                ev.fixed.extend(fixed);
            }
            Err(note) => ev.notes.push(format!("{id}: {note}")),
        }
    }
    ev
}

enum Kind {
    Introduced,
    Fixed,
    LastAffected,
}

/// One range: (affected, fixed versions above `version`).
fn eval_range(
    range: &RangeRef<'_>,
    scheme: Scheme,
    v: &Version,
) -> Result<(bool, Vec<String>), String> {
    let mut events: Vec<(Option<Version>, Kind, &str)> = Vec::with_capacity(range.events.len());
    let mut limits: Vec<Option<Version>> = Vec::new();
    let parsed = |s: &str| -> Result<Version, String> {
        scheme
            .parse(s)
            .map_err(|err| format!("range event: {err}; range not evaluated"))
    };
    for &(kind, s) in &range.events {
        match kind {
            record::INTRODUCED => {
                let p = if s == "0" { None } else { Some(parsed(s)?) };
                events.push((p, Kind::Introduced, s));
            }
            record::FIXED => events.push((Some(parsed(s)?), Kind::Fixed, s)),
            record::LAST_AFFECTED => events.push((Some(parsed(s)?), Kind::LastAffected, s)),
            _ => limits.push(if s == "*" { None } else { Some(parsed(s)?) }),
        }
    }
    // `None` is "0": before every version. A stable sort keeps the written order of ties.
    events.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp_same(y),
    });
    let before_limits = limits.is_empty()
        || limits
            .iter()
            .any(|l| l.as_ref().is_none_or(|l| v.cmp_same(l) == Ordering::Less));
    let mut vulnerable = false;
    for (ev, kind, _) in &events {
        match kind {
            Kind::Introduced => {
                if ev.as_ref().is_none_or(|e| v.cmp_same(e) != Ordering::Less) {
                    vulnerable = true;
                }
            }
            Kind::Fixed => {
                if ev.as_ref().is_some_and(|e| v.cmp_same(e) != Ordering::Less) {
                    vulnerable = false;
                }
            }
            Kind::LastAffected => {
                if ev
                    .as_ref()
                    .is_some_and(|e| v.cmp_same(e) == Ordering::Greater)
                {
                    vulnerable = false;
                }
            }
        }
    }
    let fixed = events
        .iter()
        .filter(|(e, k, _)| {
            matches!(k, Kind::Fixed)
                && e.as_ref()
                    .is_some_and(|e| e.cmp_same(v) == Ordering::Greater)
        })
        .map(|(_, _, s)| (*s).to_string())
        .collect();
    Ok((before_limits && vulnerable, fixed))
}

/// Where a severity came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeverityInfo {
    pub severity: Option<Severity>,
    /// `CVSS_V3 9.8`, `CVSS_V4 8.7`, `database HIGH`, `Ubuntu medium`…
    pub source: String,
    pub score: Option<f64>,
    pub vector: Option<String>,
}

/// The advisory's severity for one affected entry: the entry's own `severity` overrides the
/// advisory's; among CVSS vectors the newest version that can be scored wins; ecosystem
/// ratings (`database_specific.severity`, Ubuntu priorities) fill in otherwise.
#[must_use]
pub fn severity_of(adv: &Advisory, affected: Option<&Affected>) -> SeverityInfo {
    let entries: &[SeverityEntry] = match affected {
        Some(a) if !a.severity.is_empty() => &a.severity,
        _ => &adv.severity,
    };
    let mut best: Option<SeverityInfo> = None;
    let rank = |t: &str| match t {
        "CVSS_V4" => 3,
        "CVSS_V3" => 2,
        "CVSS_V2" => 1,
        _ => 0,
    };
    let mut best_rank = 0;
    for e in entries {
        match e.kind.as_str() {
            "CVSS_V2" | "CVSS_V3" | "CVSS_V4" => {
                if let Ok(c) = crate::cvss::parse(&e.score)
                    && let Some(score) = c.score()
                    && rank(&e.kind) > best_rank
                {
                    best_rank = rank(&e.kind);
                    best = Some(SeverityInfo {
                        severity: c.severity(),
                        source: format!("{} {score:.1}", e.kind),
                        score: Some(score),
                        vector: Some(e.score.clone()),
                    });
                }
            }
            "Ubuntu" if best.is_none() => {
                best = word_severity(&e.score).map(|s| SeverityInfo {
                    severity: Some(s),
                    source: format!("Ubuntu {}", e.score),
                    score: None,
                    vector: None,
                });
            }
            _ => {}
        }
    }
    if let Some(b) = best {
        return b;
    }
    let db_word = affected
        .and_then(|a| a.database_specific.as_ref())
        .and_then(|d| d.get("severity"))
        .or_else(|| {
            adv.database_specific
                .as_ref()
                .and_then(|d| d.get("severity"))
        })
        .and_then(|s| s.as_str());
    if let Some(word) = db_word
        && let Some(s) = word_severity(word)
    {
        return SeverityInfo {
            severity: Some(s),
            source: format!("database {word}"),
            score: None,
            vector: None,
        };
    }
    SeverityInfo {
        severity: None,
        source: palisade_policy::Vulnerability::UNRATED.into(),
        score: None,
        vector: None,
    }
}

/// Ecosystem severity words (GHSA `MODERATE`, Ubuntu `negligible`, Debian `unimportant`, …).
#[must_use]
pub fn word_severity(word: &str) -> Option<Severity> {
    Some(match word.trim().to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "high" | "important" => Severity::High,
        "medium" | "moderate" => Severity::Medium,
        "low" => Severity::Low,
        "negligible" | "unimportant" | "none" => Severity::Info,
        _ => return None,
    })
}

/// One known vulnerability of one package: advisories that alias each other are one row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Match {
    /// Index into the package list that was matched.
    pub package: usize,
    /// The row's id: the CVE when there is one, else the first advisory id.
    pub id: String,
    /// Every other id of the same vulnerability (advisory ids and their aliases).
    pub aliases: Vec<String>,
    pub severity: SeverityInfo,
    /// The lowest fixed version above the installed one.
    pub fixed: Option<String>,
    pub summary: String,
}

/// What matching produced for a package list.
#[derive(Clone, Debug, Default)]
pub struct MatchReport {
    pub matches: Vec<Match>,
    /// Ranges or versions that could not be evaluated, once each.
    pub notes: Vec<String>,
}

/// One advisory's hit: (ids and aliases, severity, fixed versions, summary, id).
type Hit = (BTreeSet<String>, SeverityInfo, Vec<String>, String, String);

/// Matches one package against advisories already looked up for it.
#[must_use]
pub fn match_advisories(
    pkg_index: usize,
    pkg: &Package,
    advisories: &[Advisory],
) -> (Vec<Match>, Vec<String>) {
    let refs: Vec<&Advisory> = advisories.iter().collect();
    match_advisory_refs(pkg_index, pkg, &refs)
}

/// [`match_advisories`] over advisories borrowed from wherever they were looked up.
#[must_use]
pub fn match_advisory_refs(
    pkg_index: usize,
    pkg: &Package,
    advisories: &[&Advisory],
) -> (Vec<Match>, Vec<String>) {
    let candidates = advisories
        .iter()
        .map(|a| Ok::<_, std::convert::Infallible>(Candidate::Decoded(a)));
    let decode = |_: &record::Record<'_>| unreachable!("decoded advisories have no records");
    let corrupt = |m| unreachable!("decoded advisories have no records: {m}");
    let (hits, evaluation_notes) = match evaluate_candidates(pkg, candidates, decode, corrupt) {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let mut notes: Vec<String> = package_note(pkg).into_iter().collect();
    notes.extend(evaluation_notes);
    (group_hits(pkg_index, pkg, &hits), notes)
}

/// The note for an installed version its ecosystem's scheme rejects.
fn package_note(pkg: &Package) -> Option<String> {
    let scheme = ecosystem::scheme(&pkg.ecosystem)?;
    let e = scheme.parse(pkg.match_version()).err()?;
    Some(format!(
        "{} {}: {e}; only exact `versions` entries can match",
        pkg.name, pkg.version
    ))
}

/// An advisory to evaluate: decoded, or a stored record read in place.
enum Candidate<'a> {
    Decoded(&'a Advisory),
    Stored(record::Record<'a>),
}

impl<'a> Candidate<'a> {
    fn id(&self) -> &'a str {
        match self {
            Candidate::Decoded(a) => &a.id,
            Candidate::Stored(r) => r.id,
        }
    }
}

/// Evaluates every candidate's entries filed under the package's ecosystem and name
/// (OSV's evaluation, see the module comment); the hits and the notes, in candidate order.
/// What it computes depends on the package's ecosystem, match name and match version only.
/// `decode` gives the whole advisory of a stored record that affects the package (its
/// severity, aliases and summary are read from the JSON); `corrupt` makes the error for a
/// record that cannot be read.
fn evaluate_candidates<'a, E>(
    pkg: &Package,
    candidates: impl Iterator<Item = Result<Candidate<'a>, E>>,
    mut decode: impl FnMut(&record::Record<'a>) -> Result<Advisory, E>,
    corrupt: impl Fn(&'static str) -> E,
) -> Result<(Vec<Hit>, Vec<String>), E> {
    let name = ecosystem::normalize_name(&pkg.ecosystem, pkg.match_name());
    let version = pkg.match_version();
    let lookup = ecosystem::lookup_names(&pkg.ecosystem);
    let wanted =
        |eco: &str, normalised: &str| normalised == name && ecosystem::filed_under(eco, &lookup);
    let mut notes = Vec::new();
    let mut hits: Vec<Hit> = Vec::new();
    let mut parsed = ParsedVersions::default();
    // Ids borrowed from the candidates, not copied per advisory.
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for cand in candidates {
        let cand = cand?;
        let withdrawn = match &cand {
            Candidate::Decoded(a) => a.withdrawn.is_some(),
            Candidate::Stored(r) => r.withdrawn,
        };
        if withdrawn || !seen.insert(cand.id()) {
            continue;
        }
        let mut affected_hit: Option<usize> = None;
        let mut fixed = Vec::new();
        let mut evaluate = |index: usize, a: &AffectedRef<'_>| {
            let ev = evaluate_ref(a, &pkg.ecosystem, version, cand.id(), &mut parsed);
            notes.extend(ev.notes);
            fixed.extend(ev.fixed);
            if ev.affected && affected_hit.is_none() {
                affected_hit = Some(index);
            }
        };
        match &cand {
            Candidate::Decoded(adv) => {
                for (index, a) in adv.affected.iter().enumerate() {
                    let Some(p) = &a.package else { continue };
                    if wanted(
                        p.ecosystem.trim(),
                        &ecosystem::normalize_name(&p.ecosystem, &p.name),
                    ) {
                        evaluate(index, &borrow(a));
                    }
                }
            }
            Candidate::Stored(rec) => {
                // Ecosystem and name come first in each entry: the rest is decoded only for
                // the entries filed under this package.
                for entry in rec.entries() {
                    let entry = entry.ok_or_else(|| corrupt("truncated record match section"))?;
                    if wanted(entry.ecosystem, entry.name) {
                        let a = entry
                            .decode()
                            .ok_or_else(|| corrupt("truncated record match section"))?;
                        evaluate(entry.index, &a);
                    }
                }
            }
        }
        let Some(index) = affected_hit else { continue };
        let decoded;
        let adv = match &cand {
            Candidate::Decoded(a) => *a,
            Candidate::Stored(rec) => {
                decoded = decode(rec)?;
                &decoded
            }
        };
        let a = adv
            .affected
            .get(index)
            .ok_or_else(|| corrupt("record match section and JSON disagree"))?;
        let mut ids: BTreeSet<String> = adv.aliases.iter().cloned().collect();
        ids.insert(adv.id.clone());
        hits.push((
            ids,
            severity_of(adv, Some(a)),
            fixed,
            adv.headline(),
            adv.id.clone(),
        ));
    }
    Ok((hits, notes))
}

/// One row per group of hits that share an id or alias, sorted by id.
fn group_hits(pkg_index: usize, pkg: &Package, hits: &[Hit]) -> Vec<Match> {
    let scheme = ecosystem::scheme(&pkg.ecosystem);
    // Group advisories that share an id or alias (one CVE, one row).
    let mut groups: Vec<(BTreeSet<String>, Vec<usize>)> = Vec::new();
    for (i, (ids, ..)) in hits.iter().enumerate() {
        let mut merged: BTreeSet<String> = ids.clone();
        let mut members = vec![i];
        let mut keep = Vec::new();
        for (gids, gm) in groups.drain(..) {
            if gids.iter().any(|g| merged.contains(g)) {
                merged.extend(gids);
                members.extend(gm);
            } else {
                keep.push((gids, gm));
            }
        }
        keep.push((merged, members));
        groups = keep;
    }
    let mut out = Vec::new();
    for (ids, members) in groups {
        let id = ids
            .iter()
            .find(|i| i.starts_with("CVE-"))
            .cloned()
            .unwrap_or_else(|| hits[members[0]].4.clone());
        let aliases = ids.iter().filter(|i| **i != id).cloned().collect();
        let severity = members
            .iter()
            .map(|m| hits[*m].1.clone())
            .max_by(|a, b| {
                a.severity
                    .cmp(&b.severity)
                    .then_with(|| a.score.partial_cmp(&b.score).unwrap_or(Ordering::Equal))
            })
            .unwrap_or(SeverityInfo {
                severity: None,
                source: palisade_policy::Vulnerability::UNRATED.into(),
                score: None,
                vector: None,
            });
        let fixed = lowest(scheme, members.iter().flat_map(|m| hits[*m].2.iter()));
        let summary = members
            .iter()
            .map(|m| hits[*m].3.clone())
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        out.push(Match {
            package: pkg_index,
            id,
            aliases,
            severity,
            fixed,
            summary,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// The lowest of several version strings under a scheme (string order when it has none).
fn lowest<'a>(
    scheme: Option<Scheme>,
    versions: impl Iterator<Item = &'a String>,
) -> Option<String> {
    let mut best: Option<(&String, Option<Version>)> = None;
    for v in versions {
        let parsed = scheme.and_then(|s| s.parse(v).ok());
        let better = match &best {
            None => true,
            Some((bv, bp)) => match (&parsed, bp) {
                (Some(p), Some(q)) => p.cmp_same(q) == Ordering::Less,
                _ => v < *bv,
            },
        };
        if better {
            best = Some((v, parsed));
        }
    }
    best.map(|(v, _)| v.clone())
}

/// Matches a package list against a database. Packages are looked up in key order so each
/// index block is read once, and the records of a key are read once for all the packages
/// filed under it. Packages that agree on ecosystem, match name and match version (the
/// binary packages of one source package) are evaluated once.
pub fn match_packages(
    db: &crate::store::Database,
    packages: &[Package],
) -> Result<MatchReport, crate::store::StoreError> {
    let mut order: Vec<(String, usize)> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| (ecosystem::key(&p.ecosystem, p.match_name()), i))
        .collect();
    order.sort();
    let mut cache = crate::store::BlockCache::default();
    let mut report = MatchReport::default();
    let mut notes = BTreeSet::new();
    // The records of the keys looked up since the current first key began, in one buffer.
    let mut arena: Vec<u8> = Vec::new();
    let mut memo: BTreeMap<String, Vec<std::ops::Range<usize>>> = BTreeMap::new();
    // (ecosystem, match version) → the package's rows (its index left 0) and notes.
    type Rows = (Vec<Match>, Vec<String>);
    let mut done: BTreeMap<(&str, &str), Rows> = BTreeMap::new();
    let mut current = None;
    for (first_key, i) in &order {
        let p = &packages[*i];
        // Keys come in sorted order: once the first key changes, nothing read so far is
        // needed again (the rare base-ecosystem key shared by two releases is re-read).
        if current != Some(first_key) {
            current = Some(first_key);
            arena.clear();
            memo.clear();
            done.clear();
        }
        notes.extend(package_note(p));
        let rows = match done.get(&(p.ecosystem.as_str(), p.match_version())) {
            Some(rows) => rows,
            None => {
                let keys: Vec<String> = ecosystem::lookup_names(&p.ecosystem)
                    .into_iter()
                    .map(|eco| ecosystem::key(eco, p.match_name()))
                    .collect();
                for key in &keys {
                    if !memo.contains_key(key) {
                        let found = db.read_key(key, &mut cache, &mut arena)?;
                        memo.insert(key.clone(), found);
                    }
                }
                let arena = &arena;
                let candidates = keys.iter().filter_map(|k| memo.get(k)).flatten().map(|r| {
                    record::Record::parse(&arena[r.clone()])
                        .map(Candidate::Stored)
                        .ok_or_else(|| db.corrupt("truncated record match section"))
                });
                let (hits, evaluation_notes) = evaluate_candidates(
                    p,
                    candidates,
                    |rec| db.decode_json(rec),
                    |m| db.corrupt(m),
                )?;
                let rows = (group_hits(0, p, &hits), evaluation_notes);
                done.entry((p.ecosystem.as_str(), p.match_version()))
                    .or_insert(rows)
            }
        };
        report.matches.extend(rows.0.iter().map(|m| Match {
            package: *i,
            ..m.clone()
        }));
        notes.extend(rows.1.iter().cloned());
    }
    report
        .matches
        .sort_by(|a, b| (a.package, &a.id).cmp(&(b.package, &b.id)));
    report.notes = notes.into_iter().collect();
    Ok(report)
}
