//! Packages pinned by lock files: `requirements*.txt` (`name==version` lines), `Pipfile.lock`,
//! `poetry.lock`, `uv.lock`, `package-lock.json` (v1, v2, v3), `yarn.lock` (v1 and Berry),
//! `pnpm-lock.yaml` (v5 to v9), `Cargo.lock`, `go.mod`, `go.sum` and `gradle.lockfile`. Lines that do not pin an exact version are skipped: a range is not an installed
//! version. Packages that do not come from the ecosystem's registry (workspace members, path,
//! git and editable sources in `Cargo.lock` and `uv.lock`) are skipped too: advisories are
//! about published versions.

use std::path::Path;

use crate::matcher::Package;

/// Which lock-file reader handles a file name, if any.
#[must_use]
pub fn kind(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    Some(match name {
        "package-lock.json" | "npm-shrinkwrap.json" => "npm",
        "Pipfile.lock" => "pipenv",
        "poetry.lock" => "poetry",
        "go.sum" => "go",
        "go.mod" => "gomod",
        "Cargo.lock" => "cargo",
        "uv.lock" => "uv",
        "yarn.lock" => "yarn",
        "pnpm-lock.yaml" => "pnpm",
        "gradle.lockfile" | "buildscript-gradle.lockfile" => "gradle",
        n if n.ends_with(".txt") && n.contains("requirements") => "pip",
        _ => return None,
    })
}

/// Reads the packages of a lock file. Errors name the file and what was expected.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Package>, String> {
    let file = path.display().to_string();
    let pkg = |eco: &str, name: &str, version: &str, line: u32| Package {
        ecosystem: eco.into(),
        name: name.into(),
        version: version.into(),
        file: file.clone(),
        line,
        purl: None,
        ..Package::default()
    };
    let mut out = Vec::new();
    match kind(path) {
        Some("pip") => {
            for (i, raw) in text.lines().enumerate() {
                let line = raw.split(" #").next().unwrap_or("").trim();
                let line = line.split(';').next().unwrap_or("").trim();
                if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
                    continue;
                }
                let Some((name, version)) = line.split_once("==") else {
                    continue;
                };
                let version = version.trim().trim_start_matches('=');
                let name = name.split('[').next().unwrap_or(name).trim();
                if name.is_empty() || version.is_empty() || version.contains(['*', ',', ' ']) {
                    continue;
                }
                out.push(pkg(
                    "PyPI",
                    name,
                    version,
                    u32::try_from(i + 1).unwrap_or(0),
                ));
            }
        }
        Some("go") => {
            for (i, raw) in text.lines().enumerate() {
                let mut f = raw.split_whitespace();
                let (Some(module), Some(ver)) = (f.next(), f.next()) else {
                    continue;
                };
                if ver.ends_with("/go.mod") {
                    continue;
                }
                out.push(pkg("Go", module, ver, u32::try_from(i + 1).unwrap_or(0)));
            }
        }
        Some("npm") => {
            let keys = KeyLines::new(text);
            let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                format!(
                    "{file}:{}:{}: expected package-lock.json (JSON): {e}",
                    e.line(),
                    e.column()
                )
            })?;
            if let Some(pkgs) = json.get("packages").and_then(|p| p.as_object()) {
                for (key, v) in pkgs {
                    let Some(idx) = key.rfind("node_modules/") else {
                        continue;
                    };
                    let name = v
                        .get("name")
                        .and_then(|n| n.as_str())
                        .unwrap_or(&key[idx + "node_modules/".len()..]);
                    if let Some(ver) = v.get("version").and_then(|v| v.as_str())
                        && v.get("link").and_then(serde_json::Value::as_bool) != Some(true)
                    {
                        out.push(pkg("npm", name, ver, keys.line_of(key)));
                    }
                }
            } else if let Some(deps) = json.get("dependencies").and_then(|p| p.as_object()) {
                fn walk(
                    deps: &serde_json::Map<String, serde_json::Value>,
                    out: &mut Vec<(String, String)>,
                ) {
                    for (name, v) in deps {
                        if let Some(ver) = v.get("version").and_then(|v| v.as_str()) {
                            out.push((name.clone(), ver.to_string()));
                        }
                        if let Some(sub) = v.get("dependencies").and_then(|d| d.as_object()) {
                            walk(sub, out);
                        }
                    }
                }
                let mut found = Vec::new();
                walk(deps, &mut found);
                for (n, v) in found {
                    let line = keys.line_of(&n);
                    out.push(pkg("npm", &n, &v, line));
                }
            } else {
                return Err(format!(
                    "{file}: expected a `packages` or `dependencies` object (package-lock.json v1-v3)"
                ));
            }
        }
        Some("pipenv") => {
            let keys = KeyLines::new(text);
            let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                format!(
                    "{file}:{}:{}: expected Pipfile.lock (JSON): {e}",
                    e.line(),
                    e.column()
                )
            })?;
            for section in ["default", "develop"] {
                if let Some(deps) = json.get(section).and_then(|d| d.as_object()) {
                    for (name, v) in deps {
                        if let Some(ver) = v
                            .get("version")
                            .and_then(|v| v.as_str())
                            .and_then(|v| v.strip_prefix("=="))
                        {
                            out.push(pkg("PyPI", name, ver, keys.line_of(name)));
                        }
                    }
                }
            }
        }
        Some("poetry") => {
            // [[package]] tables with name = "…" and version = "…" lines.
            let mut name: Option<(String, u32)> = None;
            for (i, raw) in text.lines().enumerate() {
                let l = raw.trim();
                if l.starts_with('[') {
                    name = None;
                    if l != "[[package]]" {
                        continue;
                    }
                }
                let value = |key: &str| {
                    l.strip_prefix(key)
                        .map(str::trim_start)
                        .and_then(|r| r.strip_prefix('='))
                        .map(|r| r.trim().trim_matches('"').to_string())
                };
                if let Some(n) = value("name") {
                    name = Some((n, u32::try_from(i + 1).unwrap_or(0)));
                } else if let (Some(v), Some((n, line))) = (value("version"), &name) {
                    out.push(pkg("PyPI", n, &v, *line));
                    name = None;
                }
            }
        }
        Some("gomod") => {
            let mut in_require = false;
            for (i, raw) in text.lines().enumerate() {
                let l = raw.split("//").next().unwrap_or("").trim();
                let spec = if in_require {
                    if l == ")" {
                        in_require = false;
                        continue;
                    }
                    l
                } else if let Some(rest) = l.strip_prefix("require") {
                    let rest = rest.trim();
                    if rest == "(" {
                        in_require = true;
                        continue;
                    }
                    rest
                } else {
                    continue;
                };
                let mut f = spec.split_whitespace();
                if let (Some(module), Some(ver)) = (f.next(), f.next()) {
                    out.push(pkg(
                        "Go",
                        module.trim_matches('"'),
                        ver,
                        u32::try_from(i + 1).unwrap_or(0),
                    ));
                }
            }
        }
        Some(k @ ("cargo" | "uv")) => {
            let (eco, registry) = if k == "cargo" {
                ("crates.io", &["registry+", "sparse+"][..])
            } else {
                ("PyPI", &["{ registry"][..])
            };
            for t in toml_packages(text) {
                if t.source
                    .as_deref()
                    .is_some_and(|s| registry.iter().any(|r| s.starts_with(r)))
                {
                    out.push(pkg(eco, &t.name, &t.version, t.line));
                }
            }
        }
        Some("gradle") => {
            // `group:artifact:version=configurations`; `empty=…` lists unused configurations.
            for (i, raw) in text.lines().enumerate() {
                let l = raw.trim();
                if l.starts_with('#') || l.starts_with("empty=") {
                    continue;
                }
                let coords = l.split('=').next().unwrap_or("");
                let mut parts = coords.split(':');
                if let (Some(group), Some(artifact), Some(version), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                    && !group.is_empty()
                    && !artifact.is_empty()
                    && !version.is_empty()
                {
                    out.push(pkg(
                        "Maven",
                        &format!("{group}:{artifact}"),
                        version,
                        u32::try_from(i + 1).unwrap_or(0),
                    ));
                }
            }
        }
        Some("yarn") => {
            for (name, version, line) in yarn_packages(text) {
                out.push(pkg("npm", &name, &version, line));
            }
        }
        Some("pnpm") => {
            for (name, version, line) in pnpm_packages(text) {
                out.push(pkg("npm", &name, &version, line));
            }
        }
        _ => {
            return Err(format!(
                "{file}: not a lock file Palisade reads (requirements*.txt, Pipfile.lock, poetry.lock, uv.lock, package-lock.json, yarn.lock, pnpm-lock.yaml, Cargo.lock, go.mod, go.sum, gradle.lockfile)"
            ));
        }
    }
    Ok(out)
}

/// The package name of an npm descriptor (`lodash@^4.17.0`, `@babel/core@npm:^7.0.0`,
/// `"@types/node@*"`): everything before the `@` that starts the range.
fn npm_descriptor_name(descriptor: &str) -> &str {
    let d = descriptor.trim().trim_matches('"');
    let at = d
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '@')
        .map_or(d.len(), |(i, _)| i);
    &d[..at]
}

/// `yarn.lock` entries: a header line of descriptors (`"lodash@^4.17.0", lodash@^4.17.20:`)
/// then an indented `version "4.17.21"` (v1) or `version: 4.17.21` (Berry). Berry's
/// workspace, link, portal and patch-only entries (resolution not from the registry) are
/// skipped, and so is `__metadata`.
fn yarn_packages(text: &str) -> Vec<(String, String, u32)> {
    let mut out = Vec::new();
    let mut current: Option<(String, u32)> = None;
    let mut version: Option<String> = None;
    let mut local = false;
    let flush = |current: &mut Option<(String, u32)>,
                 version: &mut Option<String>,
                 local: bool,
                 out: &mut Vec<(String, String, u32)>| {
        if let (Some((name, line)), Some(v)) = (current.take(), version.take())
            && !local
            && name != "__metadata"
        {
            out.push((name, v, line));
        }
    };
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        if !raw.starts_with(' ') {
            flush(&mut current, &mut version, local, &mut out);
            local = false;
            let header = raw.trim_end().trim_end_matches(':');
            let first = header.split(", ").next().unwrap_or(header);
            current = Some((
                npm_descriptor_name(first).to_string(),
                u32::try_from(i + 1).unwrap_or(0),
            ));
            continue;
        }
        let l = raw.trim();
        if let Some(v) = l
            .strip_prefix("version:")
            .or_else(|| l.strip_prefix("version "))
        {
            version = Some(v.trim().trim_matches('"').to_string());
        } else if let Some(r) = l.strip_prefix("resolution:") {
            let r = r.trim().trim_matches('"');
            let protocol = r.rsplit_once('@').map_or("", |(_, v)| v);
            local = ["workspace:", "link:", "portal:", "file:", "exec:"]
                .iter()
                .any(|p| protocol.starts_with(p));
        }
    }
    flush(&mut current, &mut version, local, &mut out);
    out
}

/// `pnpm-lock.yaml` `packages:` keys: `/lodash/4.17.21` (v5), `/lodash@4.17.21` (v6),
/// `lodash@4.17.21` (v9), with scopes and peer suffixes (`(react@18.2.0)`, `_react@18.2.0`).
fn pnpm_packages(text: &str) -> Vec<(String, String, u32)> {
    let v5 = text.lines().take(5).any(|l| {
        l.trim_start()
            .strip_prefix("lockfileVersion:")
            .is_some_and(|v| {
                v.trim()
                    .trim_matches('\'')
                    .trim_matches('"')
                    .starts_with('5')
            })
    });
    let mut out = Vec::new();
    let mut in_packages = false;
    for (i, raw) in text.lines().enumerate() {
        if !raw.starts_with(' ') && !raw.trim().is_empty() {
            in_packages = raw.trim_end() == "packages:";
            continue;
        }
        // Package keys are indented two spaces and end with `:`.
        if !in_packages || !raw.starts_with("  ") || raw.starts_with("   ") {
            continue;
        }
        let key = raw
            .trim()
            .trim_end_matches(':')
            .trim_matches('\'')
            .trim_matches('"');
        let key = key.strip_prefix('/').unwrap_or(key);
        let key = key.split('(').next().unwrap_or(key);
        let (name, version) = if v5 {
            let Some((n, v)) = key.rsplit_once('/') else {
                continue;
            };
            (n, v.split('_').next().unwrap_or(v))
        } else {
            let name = npm_descriptor_name(key);
            let Some(v) = key[name.len()..].strip_prefix('@') else {
                continue;
            };
            (name, v)
        };
        // Tarball, git and link dependencies have no registry version.
        if name.is_empty() || version.is_empty() || version.contains(':') || version.contains('/') {
            continue;
        }
        out.push((
            name.to_string(),
            version.to_string(),
            u32::try_from(i + 1).unwrap_or(0),
        ));
    }
    out
}

/// A `[[package]]` table of a TOML lock file (`Cargo.lock`, `uv.lock`).
struct TomlPackage {
    name: String,
    version: String,
    /// The `source` value as written (`"registry+https://…"`, `{ registry = "…" }`).
    source: Option<String>,
    /// Line of `name = …`.
    line: u32,
}

/// The top-level `name`, `version` and `source` keys of every `[[package]]` table. Both
/// formats write one key per line; values of other keys (and sub-tables such as
/// `[package.metadata]` or `[[package.wheels]]`) are not read.
fn toml_packages(text: &str) -> Vec<TomlPackage> {
    let mut out = Vec::new();
    let mut cur: Option<TomlPackage> = None;
    let mut in_pkg = false;
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.starts_with('[') {
            in_pkg = l == "[[package]]";
            if in_pkg && let Some(p) = cur.take() {
                out.push(p);
            }
            if in_pkg {
                cur = Some(TomlPackage {
                    name: String::new(),
                    version: String::new(),
                    source: None,
                    line: 0,
                });
            }
            continue;
        }
        let (Some(p), true) = (cur.as_mut(), in_pkg) else {
            continue;
        };
        let Some((key, value)) = l.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let unquoted = value.trim_matches('"').to_string();
        match key.trim() {
            "name" => {
                p.name = unquoted;
                p.line = u32::try_from(i + 1).unwrap_or(0);
            }
            "version" => p.version = unquoted,
            "source" => {
                p.source = Some(if value.starts_with('"') {
                    unquoted
                } else {
                    value.to_string()
                });
            }
            _ => {}
        }
    }
    out.extend(cur);
    out.retain(|p| !p.name.is_empty() && !p.version.is_empty());
    out
}

/// Lines of a pretty-printed JSON lock file where an object member opens (`"key": {`), so a
/// package's line is found without scanning the file once per package.
struct KeyLines<'a> {
    text: &'a str,
    lines: std::collections::HashMap<&'a str, u32>,
}

impl<'a> KeyLines<'a> {
    fn new(text: &'a str) -> KeyLines<'a> {
        let mut lines = std::collections::HashMap::new();
        for (i, l) in text.lines().enumerate() {
            let Some(rest) = l.trim_start().strip_prefix('"') else {
                continue;
            };
            let Some((key, after)) = rest.split_once('"') else {
                continue;
            };
            if after
                .trim_start()
                .strip_prefix(':')
                .is_some_and(|v| v.trim_start().starts_with('{'))
            {
                lines
                    .entry(key)
                    .or_insert_with(|| u32::try_from(i + 1).unwrap_or(0));
            }
        }
        KeyLines { text, lines }
    }

    /// The line of the object keyed `key`, else the first line mentioning `"key"`.
    fn line_of(&self, key: &str) -> u32 {
        self.lines
            .get(key)
            .copied()
            .unwrap_or_else(|| line_of(self.text, key))
    }
}

fn line_of(text: &str, needle: &str) -> u32 {
    let quoted = format!("\"{needle}\"");
    text.lines()
        .position(|l| l.contains(&quoted))
        .and_then(|i| u32::try_from(i + 1).ok())
        .unwrap_or(0)
}

/// Builds a package from a purl (`pkg:pypi/torch@2.1.0`, `pkg:deb/debian/openssl@3.0.11-1?distro=debian-12`,
/// `pkg:apk/alpine/busybox@1.36.1-r28?distro=3.20.3`, `pkg:npm/%40scope/name@1.0.0`,
/// `pkg:golang/golang.org/x/net@v0.22.0`, `pkg:cargo/…`, `pkg:maven/group/artifact@…`).
pub fn package_from_purl(purl: &str) -> Result<Package, String> {
    let bad = |why: &str| format!("invalid purl `{purl}`: {why}");
    let rest = purl
        .strip_prefix("pkg:")
        .ok_or_else(|| bad("expected it to start with `pkg:`"))?;
    let (rest, qualifiers) = rest.split_once('?').unwrap_or((rest, ""));
    let rest = rest.split('#').next().unwrap_or(rest);
    let (path, version) = rest.rsplit_once('@').ok_or_else(|| bad("no `@version`"))?;
    let (ty, name_path) = path.split_once('/').ok_or_else(|| bad("no package name"))?;
    let decode = |s: &str| {
        s.replace("%40", "@")
            .replace("%2F", "/")
            .replace("%2f", "/")
            .replace("%3A", ":")
    };
    let version = decode(version);
    let qual = |k: &str| {
        qualifiers
            .split('&')
            .find_map(|q| q.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
            .map(decode)
    };
    let (ns, name) = match name_path.rsplit_once('/') {
        Some((ns, n)) => (Some(decode(ns)), decode(n)),
        None => (None, decode(name_path)),
    };
    let distro = qual("distro").unwrap_or_default();
    let (ecosystem, name) = match ty.to_ascii_lowercase().as_str() {
        "pypi" => ("PyPI".to_string(), name),
        "npm" => (
            "npm".into(),
            ns.map_or(name.clone(), |ns| format!("{ns}/{name}")),
        ),
        "golang" => (
            "Go".into(),
            ns.map_or(name.clone(), |ns| format!("{ns}/{name}")),
        ),
        "cargo" => ("crates.io".into(), name),
        "maven" => (
            "Maven".into(),
            ns.map_or(name.clone(), |ns| format!("{ns}:{name}")),
        ),
        "deb" => {
            let id = ns.unwrap_or_else(|| "debian".into());
            let v = distro.rsplit('-').next().unwrap_or("");
            let eco = crate::ecosystem::from_os_release(&id, v)
                .filter(|_| !v.is_empty())
                .unwrap_or_else(|| {
                    if id == "ubuntu" {
                        "Ubuntu".into()
                    } else {
                        "Debian".into()
                    }
                });
            (eco, name)
        }
        "apk" => {
            let v = distro.rsplit('-').next().unwrap_or("");
            let eco = crate::ecosystem::from_os_release("alpine", v)
                .filter(|_| !v.is_empty())
                .unwrap_or_else(|| "Alpine".into());
            (eco, name)
        }
        other => {
            return Err(bad(&format!(
                "purl type `{other}` has no OSV ecosystem here"
            )));
        }
    };
    let source_name = qual("upstream").map(|u| u.split('@').next().unwrap_or(&u).to_string());
    Ok(Package {
        ecosystem,
        name,
        version,
        source_name,
        purl: Some(purl.to_string()),
        ..Package::default()
    })
}
