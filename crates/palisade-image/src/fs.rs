//! The layered filesystem as one view, built without extracting anything.
//!
//! Each layer's tar stream is read once ([`scan_layer`]), possibly in parallel with the
//! others; what catalogers need is captured on the way (small metadata files in memory, Go
//! build info from executables, model-scanner findings). The per-layer operations are then
//! applied in order ([`FileView::apply`]) with overlay semantics: `.wh.NAME` deletes `NAME`
//! from lower layers, `.wh..wh..opq` hides a directory's lower contents, a non-directory
//! replaces a whole lower subtree. Paths are normalised so no entry can land outside the
//! image root, and symlinks are resolved inside the view (absolute targets start at the
//! image root, `..` stops at it, at most [`Limits::max_symlink_hops`] hops).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::catalog::golang::GoBuildInfo;
use crate::catalog::java::{JavaArchive, JavaLimits};
use crate::catalog::rust::{RustBinary, RustLimits};
use crate::catalog::{Want, wants};
use crate::decode::LayerReader;
use crate::error::Error;
use crate::secrets::{SecretHit, scan_entry};

/// Bounds on what an image may make Palisade read or hold.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Sum of entry sizes over all layers.
    pub max_total_size: u64,
    /// Entries over all layers.
    pub max_files: usize,
    /// Bytes in one entry path.
    pub max_path_len: usize,
    /// Bytes in one tar entry.
    pub max_entry_size: u64,
    /// Largest metadata file held in memory (dpkg status, METADATA, package.json, …).
    pub max_capture: u64,
    /// Largest model file handed to the model scanner.
    pub max_model_size: u64,
    /// Most bytes of an executable searched for Go build info and Rust dependency lists.
    pub max_executable_scan: u64,
    /// Symlinks followed while resolving one path.
    pub max_symlink_hops: u32,
    /// Largest text file searched for secrets (bigger ones are skipped).
    pub max_secret_scan: u64,
    /// Secrets reported per file.
    pub max_secrets_per_file: usize,
    /// Java archives: size read, entries, nesting depth, bytes inflated.
    pub java: JavaLimits,
    /// Rust dependency lists (`cargo auditable`): compressed and inflated bytes, packages.
    pub rust: RustLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_size: 64 << 30,
            max_files: 4_000_000,
            max_path_len: 4096,
            max_entry_size: 32 << 30,
            max_capture: 64 << 20,
            max_model_size: 2 << 30,
            max_executable_scan: 512 << 20,
            max_symlink_hops: 40,
            max_secret_scan: 1 << 20,
            max_secrets_per_file: 20,
            java: JavaLimits::default(),
            rust: RustLimits::default(),
        }
    }
}

/// What kind of entry a node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// Target as written in the image.
    Symlink(String),
    /// Devices, FIFOs.
    Other,
}

/// One path of the view.
#[derive(Clone, Debug)]
pub struct Node {
    pub kind: Kind,
    pub size: u64,
    pub mode: u32,
    /// Index of the layer that last wrote this path.
    pub layer: usize,
    /// Content, for files a cataloger wanted.
    pub data: Option<Arc<[u8]>>,
    /// Go build info, for Go executables.
    pub go: Option<Arc<GoBuildInfo>>,
    /// Packages found in a Java archive (read while streaming; the bytes are not kept).
    pub java: Option<Arc<JavaArchive>>,
    /// The dependency list of a Rust binary built with `cargo auditable`.
    pub rust: Option<Arc<RustBinary>>,
    /// Model-scanner findings, for model files.
    pub model: Arc<[palisade_model::ModelFinding]>,
    /// Secrets found in the file's text (never their values).
    pub secrets: Arc<[SecretHit]>,
    /// Owner, from the tar header (0 for `dir:` trees read without privileges).
    pub uid: u64,
    pub gid: u64,
}

impl Node {
    fn new(kind: Kind, size: u64, mode: u32, layer: usize) -> Node {
        Node {
            kind,
            size,
            mode,
            layer,
            data: None,
            go: None,
            java: None,
            rust: None,
            model: Arc::from(Vec::new()),
            secrets: Arc::from(Vec::new()),
            uid: 0,
            gid: 0,
        }
    }
}

/// One change a layer makes.
#[derive(Debug)]
pub enum Op {
    Add(String, Node),
    /// A hard link: `path` gets what `target` has at this point.
    Link {
        path: String,
        target: String,
    },
    /// `.wh.NAME`: remove `path` from lower layers.
    Whiteout(String),
    /// `.wh..wh..opq`: remove the lower contents of directory `path`.
    Opaque(String),
}

/// What reading one layer produced.
#[derive(Debug, Default)]
pub struct LayerScan {
    pub ops: Vec<Op>,
    pub errors: Vec<Error>,
    /// Uncompressed bytes of the tar stream.
    pub bytes: u64,
    pub entries: usize,
    /// Whether the stream was read to the end and its digest matched; a layer that fails
    /// verification contributes nothing to the view.
    pub verified: bool,
}

/// Normalises a tar entry path: strips `./` and leading `/`, resolves `.` and `..`
/// lexically, and refuses paths that climb above the root.
pub fn normalize(raw: &str) -> Result<String, String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("path climbs above the image root with `..`".into());
                }
            }
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}

fn parent(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Reads what catalogers want from an entry stream, and scans model files.
pub(crate) struct Capturer<'a> {
    pub limits: &'a Limits,
    pub model_opts: &'a palisade_model::ScanOptions,
}

impl Capturer<'_> {
    /// Fills `node` from `r` according to what `path` is wanted for. Returns an error
    /// message for the entry when it was wanted but could not be read.
    pub fn capture(&self, path: &str, node: &mut Node, r: &mut dyn Read) -> Result<(), String> {
        match wants(path, node.size, node.mode) {
            Want::Nothing => {
                node.secrets = scan_entry(path, node.size, r, self.limits)?;
                Ok(())
            }
            Want::Metadata => {
                if node.size > self.limits.max_capture {
                    return Err(format!(
                        "{} bytes is over the {}-byte limit for package metadata; not read",
                        node.size, self.limits.max_capture
                    ));
                }
                let mut data = Vec::with_capacity(usize::try_from(node.size).unwrap_or(0));
                r.take(self.limits.max_capture)
                    .read_to_end(&mut data)
                    .map_err(|e| e.to_string())?;
                if crate::secrets::wanted(path, node.size, self.limits) {
                    node.secrets = crate::secrets::scan_bytes(path, &data, self.limits);
                }
                node.data = Some(Arc::from(data));
                Ok(())
            }
            Want::Model => {
                if node.size > self.limits.max_model_size {
                    return Err(format!(
                        "model file of {} bytes is over the {}-byte limit for scanning inside an image; not scanned",
                        node.size, self.limits.max_model_size
                    ));
                }
                let mut data = Vec::with_capacity(usize::try_from(node.size).unwrap_or(0));
                r.take(self.limits.max_model_size)
                    .read_to_end(&mut data)
                    .map_err(|e| e.to_string())?;
                let findings = palisade_model::scan_bytes(path, &data, self.model_opts);
                node.model = Arc::from(findings);
                Ok(())
            }
            Want::JavaArchive => {
                let max = self.limits.java.max_archive_size;
                if node.size > max {
                    return Err(format!(
                        "Java archive of {} bytes is over the {max}-byte limit; not read",
                        node.size
                    ));
                }
                // Zip needs its central directory, at the end: the whole archive is read,
                // parsed here in the layer's thread, and only the packages are kept.
                let mut data = Vec::with_capacity(usize::try_from(node.size).unwrap_or(0));
                r.take(max)
                    .read_to_end(&mut data)
                    .map_err(|e| e.to_string())?;
                node.java =
                    crate::catalog::java::read(path, &data, &self.limits.java).map(Arc::new);
                Ok(())
            }
            Want::Executable => {
                // One read serves both searches: the Rust scanner watches the bytes the Go
                // search reads.
                let mut rust = crate::catalog::rust::Scanner::new(&self.limits.rust);
                let mut tap = crate::catalog::rust::Tap {
                    inner: r,
                    scanner: &mut rust,
                    eof: false,
                };
                let info =
                    crate::catalog::golang::scan_reader(&mut tap, self.limits.max_executable_scan)
                        .map_err(|e| e.to_string())?;
                let eof = tap.eof;
                if info.is_none() {
                    // The Go search stops early only when it finds build info; otherwise
                    // it has read to the end of the file or to the scan limit.
                    node.rust = rust.finish(eof).map(Arc::new);
                }
                node.go = info.map(Arc::new);
                Ok(())
            }
        }
    }
}

/// Reads one layer's tar stream into operations on the view. Never panics on any input;
/// every problem is an error naming the layer and the entry, and the rest of the layer is
/// still read when the stream allows it.
pub(crate) fn scan_layer(
    reader: LayerReader,
    layer: usize,
    layer_name: &str,
    cap: &Capturer<'_>,
    budget: &Budget,
) -> LayerScan {
    let mut out = LayerScan::default();
    let limits = cap.limits;
    let entry_err = |entry: &str, message: String| Error::Entry {
        layer: layer_name.to_string(),
        entry: entry.to_string(),
        message,
    };
    // Tar headers come in 512-byte reads; a buffer keeps them from reaching the inflater
    // one by one.
    let mut ar = tar::Archive::new(std::io::BufReader::with_capacity(128 * 1024, reader));
    let mut last = String::from("(start of layer)");
    {
        let entries = match ar.entries() {
            Ok(e) => e,
            Err(e) => {
                out.errors.push(Error::Layer {
                    layer: layer_name.to_string(),
                    message: format!("not a tar stream: {e}"),
                });
                return out;
            }
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.errors.push(Error::Layer {
                        layer: layer_name.to_string(),
                        message: format!(
                            "unreadable tar entry after `{last}`: {e}; rest of the layer skipped"
                        ),
                    });
                    break;
                }
            };
            out.entries += 1;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            last.clone_from(&raw);
            if raw.len() > limits.max_path_len {
                out.errors.push(entry_err(
                    &raw.chars().take(120).collect::<String>(),
                    format!(
                        "path of {} bytes is over the {}-byte limit; entry skipped",
                        raw.len(),
                        limits.max_path_len
                    ),
                ));
                continue;
            }
            let path = match normalize(&raw) {
                Ok(p) => p,
                Err(m) => {
                    out.errors
                        .push(entry_err(&raw, format!("{m}; entry skipped")));
                    continue;
                }
            };
            if !budget.add_file() {
                out.errors.push(entry_err(
                    &raw,
                    format!(
                        "more than {} entries in the image; the rest of this layer is skipped",
                        limits.max_files
                    ),
                ));
                break;
            }
            let header = entry.header();
            let size = entry.size();
            let mode = header.mode().unwrap_or(0);
            let et = header.entry_type();
            if size > limits.max_entry_size {
                out.errors.push(entry_err(
                    &raw,
                    format!(
                        "entry of {size} bytes is over the {}-byte limit; entry skipped",
                        limits.max_entry_size
                    ),
                ));
                continue;
            }
            if !budget.add_bytes(size) {
                out.errors.push(entry_err(
                    &raw,
                    format!(
                        "the image holds more than {} bytes; the rest of this layer is skipped",
                        limits.max_total_size
                    ),
                ));
                break;
            }
            let base = path.rsplit('/').next().unwrap_or("");
            if let Some(hidden) = base.strip_prefix(".wh.") {
                if hidden == ".wh..opq" {
                    out.ops.push(Op::Opaque(parent(&path).to_string()));
                } else if !hidden.starts_with(".wh.") && !hidden.is_empty() {
                    out.ops.push(Op::Whiteout(join(parent(&path), hidden)));
                }
                continue;
            }
            if path.is_empty() {
                continue;
            }
            if et.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                match normalize(&target) {
                    Ok(t) if !t.is_empty() => out.ops.push(Op::Link { path, target: t }),
                    Ok(_) => out.errors.push(entry_err(
                        &raw,
                        "hard link without a target; entry skipped".into(),
                    )),
                    Err(m) => out.errors.push(entry_err(
                        &raw,
                        format!("hard link target `{target}`: {m}; entry skipped"),
                    )),
                }
                continue;
            }
            let kind = if et.is_dir() {
                Kind::Dir
            } else if et.is_symlink() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                Kind::Symlink(target)
            } else if et.is_file() || et == tar::EntryType::Continuous || et.is_gnu_sparse() {
                Kind::File
            } else {
                Kind::Other
            };
            let mut node = Node::new(kind, size, mode, layer);
            node.uid = header.uid().unwrap_or(0);
            node.gid = header.gid().unwrap_or(0);
            if node.kind == Kind::File
                && let Err(m) = cap.capture(&path, &mut node, &mut entry)
            {
                out.errors.push(entry_err(&raw, m));
            }
            out.ops.push(Op::Add(path, node));
        }
    }
    // What the buffer still holds was already hashed and counted on its way in.
    let reader = ar.into_inner().into_inner();
    let uncompressed = reader.uncompressed;
    match reader.finish() {
        Ok(()) => out.verified = true,
        Err(e) => out.errors.push(Error::Layer {
            layer: layer_name.to_string(),
            message: format!("{e}; the layer is not used"),
        }),
    }
    out.bytes = uncompressed;
    out
}

/// Shared counters for the limits that span layers.
#[derive(Debug)]
pub(crate) struct Budget {
    files: std::sync::atomic::AtomicUsize,
    bytes: std::sync::atomic::AtomicU64,
    max_files: usize,
    max_bytes: u64,
}

impl Budget {
    pub fn new(l: &Limits) -> Budget {
        Budget {
            files: 0.into(),
            bytes: 0.into(),
            max_files: l.max_files,
            max_bytes: l.max_total_size,
        }
    }

    fn add_file(&self) -> bool {
        self.files
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            < self.max_files
    }

    fn add_bytes(&self, n: u64) -> bool {
        let before = self
            .bytes
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        before.saturating_add(n) <= self.max_bytes
    }
}

/// Reads an unpacked root filesystem as a single layer (`dir:` references). Symlinks are
/// recorded, never followed, so nothing outside the root is read.
pub(crate) fn scan_dir(root: &Path, cap: &Capturer<'_>, budget: &Budget) -> LayerScan {
    let mut out = LayerScan {
        verified: true,
        ..LayerScan::default()
    };
    let name = format!("dir:{}", root.display());
    let mut stack = vec![(root.to_path_buf(), String::new(), 0u32)];
    while let Some((dir, rel, depth)) = stack.pop() {
        if depth > 256 {
            continue;
        }
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                out.errors.push(Error::Entry {
                    layer: name.clone(),
                    entry: rel.clone(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let fname = e.file_name().to_string_lossy().into_owned();
            let path = join(&rel, &fname);
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if !budget.add_file() {
                out.errors.push(Error::Entry {
                    layer: name.clone(),
                    entry: path,
                    message: "file count limit reached; rest skipped".into(),
                });
                return out;
            }
            out.entries += 1;
            #[cfg(unix)]
            let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
            #[cfg(not(unix))]
            let mode = 0o644;
            let ft = meta.file_type();
            if ft.is_symlink() {
                let target = std::fs::read_link(e.path())
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.ops
                    .push(Op::Add(path, Node::new(Kind::Symlink(target), 0, mode, 0)));
            } else if ft.is_dir() {
                out.ops
                    .push(Op::Add(path.clone(), Node::new(Kind::Dir, 0, mode, 0)));
                stack.push((e.path(), path, depth + 1));
            } else if ft.is_file() {
                let size = meta.len();
                budget.add_bytes(size);
                out.bytes += size;
                let mut node = Node::new(Kind::File, size, mode, 0);
                #[cfg(unix)]
                {
                    node.uid = u64::from(std::os::unix::fs::MetadataExt::uid(&meta));
                    node.gid = u64::from(std::os::unix::fs::MetadataExt::gid(&meta));
                }
                if wants(&path, size, mode) != Want::Nothing
                    || crate::secrets::wanted(&path, size, cap.limits)
                {
                    match std::fs::File::open(e.path()) {
                        Ok(mut f) => {
                            if let Err(m) = cap.capture(&path, &mut node, &mut f) {
                                out.errors.push(Error::Entry {
                                    layer: name.clone(),
                                    entry: path.clone(),
                                    message: m,
                                });
                            }
                        }
                        Err(err) => out.errors.push(Error::Entry {
                            layer: name.clone(),
                            entry: path.clone(),
                            message: err.to_string(),
                        }),
                    }
                }
                out.ops.push(Op::Add(path, node));
            } else {
                out.ops
                    .push(Op::Add(path, Node::new(Kind::Other, 0, mode, 0)));
            }
        }
    }
    out
}

/// A file with secrets that a later layer deleted or replaced: gone from the view, still in
/// the image (anyone can read the lower layer's blob).
#[derive(Clone, Debug)]
pub struct Buried {
    pub path: String,
    /// Layer that holds the file.
    pub layer: usize,
    /// Layer that deleted or replaced it.
    pub removed_by: usize,
    pub secrets: Arc<[SecretHit]>,
}

/// The merged filesystem of all layers.
#[derive(Debug, Default)]
pub struct FileView {
    nodes: BTreeMap<String, Node>,
    hops: u32,
    buried: Vec<Buried>,
}

impl FileView {
    #[must_use]
    pub fn new(max_symlink_hops: u32) -> FileView {
        FileView {
            nodes: BTreeMap::new(),
            hops: max_symlink_hops,
            buried: Vec::new(),
        }
    }

    /// Files with secrets that a later layer deleted or replaced, in the order removed.
    #[must_use]
    pub fn buried(&self) -> &[Buried] {
        &self.buried
    }

    /// Keeps the secrets of a node leaving the view.
    fn bury(&mut self, path: String, node: &Node, removed_by: usize) {
        if !node.secrets.is_empty() {
            self.buried.push(Buried {
                path,
                layer: node.layer,
                removed_by,
                secrets: node.secrets.clone(),
            });
        }
    }

    /// Removes `path` and everything below it that came from layers below `layer`.
    fn remove_lower(&mut self, path: &str, layer: usize, include_self: bool) {
        if include_self
            && self.nodes.get(path).is_some_and(|n| n.layer < layer)
            && let Some(n) = self.nodes.remove(path)
        {
            self.bury(path.to_string(), &n, layer);
        }
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(_, n)| n.layer < layer)
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            if let Some(n) = self.nodes.remove(&k) {
                self.bury(k, &n, layer);
            }
        }
    }

    /// Applies one layer's operations (layers in order, lowest first). Returns errors for
    /// hard links whose target does not exist.
    pub fn apply(&mut self, layer: usize, layer_name: &str, ops: Vec<Op>) -> Vec<Error> {
        let mut errors = Vec::new();
        for op in ops {
            match op {
                Op::Whiteout(p) => self.remove_lower(&p, layer, true),
                Op::Opaque(p) => self.remove_lower(&p, layer, false),
                Op::Add(p, node) => {
                    if node.kind != Kind::Dir {
                        self.remove_lower(&p, layer, false);
                    }
                    if let Some(old) = self.nodes.insert(p.clone(), node) {
                        self.bury(p, &old, layer);
                    }
                }
                Op::Link { path, target } => match self.nodes.get(&target) {
                    Some(n) if n.kind == Kind::File => {
                        let mut n = n.clone();
                        n.layer = layer;
                        self.remove_lower(&path, layer, false);
                        if let Some(old) = self.nodes.insert(path.clone(), n) {
                            self.bury(path, &old, layer);
                        }
                    }
                    _ => errors.push(Error::Entry {
                        layer: layer_name.to_string(),
                        entry: path,
                        message: format!("hard link to `{target}`, which is not a regular file in this or a lower layer; entry skipped"),
                    }),
                },
            }
        }
        errors
    }

    /// The node at exactly `path` (no symlinks followed).
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path.trim_start_matches('/'))
    }

    /// Every path and node, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Entries directly or indirectly under `dir` (not following symlinks).
    pub fn under<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a Node)> + 'a {
        let prefix = format!("{}/", dir.trim_matches('/'));
        self.nodes
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k.as_str(), v))
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Resolves `path` inside the image, following symlinks in every component as the
    /// kernel would inside a chroot: absolute targets start at the image root and `..` at
    /// the root stays there, so no path can leave the image. Errors on loops (more than
    /// `max_symlink_hops` links).
    pub fn resolve(&self, path: &str) -> Result<Option<(String, &Node)>, String> {
        let mut pending: Vec<String> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .rev()
            .map(str::to_string)
            .collect();
        let mut cur: Vec<String> = Vec::new();
        let mut hops = 0u32;
        while let Some(c) = pending.pop() {
            if c == ".." {
                cur.pop();
                continue;
            }
            cur.push(c);
            let here = cur.join("/");
            let Some(node) = self.nodes.get(&here) else {
                // Layers often omit parent directories: a missing one is implicit.
                if pending.is_empty() {
                    return Ok(None);
                }
                continue;
            };
            if let Kind::Symlink(target) = &node.kind {
                hops += 1;
                if hops > self.hops {
                    return Err(format!(
                        "`{path}`: more than {} symlinks (a loop?)",
                        self.hops
                    ));
                }
                cur.pop();
                if target.starts_with('/') {
                    cur.clear();
                }
                pending.extend(
                    target
                        .split('/')
                        .filter(|c| !c.is_empty() && *c != ".")
                        .rev()
                        .map(str::to_string),
                );
            } else if !pending.is_empty() && node.kind != Kind::Dir {
                return Ok(None);
            }
        }
        let here = cur.join("/");
        Ok(self.nodes.get(&here).map(|n| (here, n)))
    }

    /// The captured content of the file `path` resolves to.
    #[must_use]
    pub fn read(&self, path: &str) -> Option<&[u8]> {
        match self.resolve(path) {
            Ok(Some((_, n))) => n.data.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(layer: usize, data: &str) -> Node {
        let mut n = Node::new(Kind::File, data.len() as u64, 0o644, layer);
        n.data = Some(Arc::from(data.as_bytes()));
        n
    }

    fn link(t: &str) -> Node {
        Node::new(Kind::Symlink(t.into()), 0, 0o777, 0)
    }

    #[test]
    fn normalize_paths() {
        assert_eq!(normalize("./etc/os-release").unwrap(), "etc/os-release");
        assert_eq!(normalize("/a/./b/../c").unwrap(), "a/c");
        assert!(normalize("../../etc/passwd").is_err());
        assert!(normalize("a/../../b").is_err());
    }

    #[test]
    fn whiteouts_and_opaque() {
        let mut v = FileView::new(40);
        v.apply(
            0,
            "l0",
            vec![
                Op::Add("a".into(), Node::new(Kind::Dir, 0, 0o755, 0)),
                Op::Add("a/x".into(), file(0, "x")),
                Op::Add("a/y".into(), file(0, "y")),
                Op::Add("b/z".into(), file(0, "z")),
                Op::Add("c".into(), Node::new(Kind::Dir, 0, 0o755, 0)),
                Op::Add("c/d/e".into(), file(0, "e")),
            ],
        );
        v.apply(
            1,
            "l1",
            vec![
                Op::Whiteout("a/x".into()),
                Op::Add("b/new".into(), file(1, "n")),
                Op::Opaque("b".into()),
                Op::Add("c".into(), file(1, "now a file")),
            ],
        );
        assert!(v.get("a/x").is_none());
        assert!(v.get("a/y").is_some());
        assert!(v.get("b/z").is_none(), "opaque dir hides lower content");
        assert!(
            v.get("b/new").is_some(),
            "but keeps its own layer's entries"
        );
        assert!(
            v.get("c/d/e").is_none(),
            "a file replaces a lower directory"
        );
        assert_eq!(v.read("c"), Some(&b"now a file"[..]));
    }

    #[test]
    fn symlinks_stay_inside() {
        let mut v = FileView::new(40);
        v.apply(
            0,
            "l0",
            vec![
                Op::Add("usr/lib/os-release".into(), file(0, "ID=debian")),
                Op::Add("etc/os-release".into(), link("../usr/lib/os-release")),
                Op::Add("etc/shadow".into(), file(0, "image shadow")),
                Op::Add("evil".into(), link("../../../../../../etc/shadow")),
                Op::Add("abs".into(), link("/etc/shadow")),
                Op::Add("lib".into(), link("usr/lib")),
                Op::Add("loop1".into(), link("loop2")),
                Op::Add("loop2".into(), link("loop1")),
                Op::Add("f/x".into(), file(0, "x")),
            ],
        );
        assert_eq!(v.read("etc/os-release"), Some(&b"ID=debian"[..]));
        assert_eq!(v.read("evil"), Some(&b"image shadow"[..]));
        assert_eq!(v.read("abs"), Some(&b"image shadow"[..]));
        assert_eq!(v.read("lib/os-release"), Some(&b"ID=debian"[..]));
        assert!(v.resolve("loop1").unwrap_err().contains("symlinks"));
        assert!(v.resolve("etc/shadow/x").unwrap().is_none());
        assert!(v.resolve("missing/x").unwrap().is_none());
    }

    #[test]
    fn hard_links() {
        let mut v = FileView::new(40);
        let errs = v.apply(
            0,
            "l0",
            vec![
                Op::Add("a".into(), file(0, "content")),
                Op::Link {
                    path: "b".into(),
                    target: "a".into(),
                },
                Op::Link {
                    path: "c".into(),
                    target: "nope".into(),
                },
            ],
        );
        assert_eq!(v.read("b"), Some(&b"content"[..]));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].to_string().contains("layer l0 entry `c`"));
    }
}
