//! Finding the files to scan and which scanner reads each.

use std::path::{Path, PathBuf};

use palisade_policy::InputError;

/// Which scanner reads an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// YAML or JSON Kubernetes manifests.
    Manifest,
    /// Model artifacts (pickles, PyTorch, safetensors, GGUF, …), read by `palisade-model`.
    Model,
    /// A directory with a `config.json`: a possible Hugging Face model directory, whose
    /// `auto_map` and Python files `palisade-model` checks (its other files are inputs of
    /// their own).
    ModelDirectory,
    /// Dockerfiles and Containerfiles, read by `palisade-dockerfile`.
    Dockerfile,
    /// Lock files (`requirements*.txt`, `poetry.lock`, `package-lock.json`, `Cargo.lock`, …),
    /// matched against the vulnerability database by `palisade-vuln`.
    LockFile,
    /// A Helm chart's root directory: rendered with `helm template` and scanned as the
    /// manifests it renders (see [`crate::helm`]). Its files are not inputs of their own.
    HelmChart,
    /// A walked YAML file that a `kustomization.yaml` of the walk uses as a patch: a partial
    /// object that only means something merged into its base, so it is not scanned as one
    /// (every field it leaves out would be a finding). `kustomize build DIR | palisade scan -`
    /// scans the merged result.
    KustomizePatch,
}

/// A file to scan, or standard input.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// `None` for stdin.
    pub path: Option<PathBuf>,
    pub kind: Kind,
    /// Named on the command line (rather than found by walking a directory). A walked YAML
    /// file that is not a Kubernetes manifest is skipped; a named one is an error.
    pub explicit: bool,
}

impl Input {
    #[must_use]
    pub fn display_name(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "<stdin>".into(), |p| p.display().to_string())
    }
}

/// Extensions of manifest files picked up when walking a directory.
pub const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Why a file named on the command line is not scanned: no scanner recognises it.
pub const UNSUPPORTED: &str = "not a file Palisade reads; `palisade scan` reads Kubernetes \
     manifests (.yaml, .yml, .json), Dockerfiles (Dockerfile, *.Dockerfile, Containerfile), \
     model files (pickle, PyTorch, safetensors, GGUF, ONNX, Keras, NumPy, joblib, …, recognised \
     by content), lock files (requirements*.txt, Pipfile.lock, poetry.lock, uv.lock, \
     package-lock.json, yarn.lock, pnpm-lock.yaml, Cargo.lock, go.mod, go.sum, \
     gradle.lockfile) and Helm charts (a directory with a Chart.yaml)";

/// Expands the command-line paths: directories recursively (skipping hidden directories and
/// not following directory symlinks, so a link loop cannot hang a scan; a symlink to a file
/// is read as the file), in a stable order.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input {
                path: None,
                kind: Kind::Manifest,
                explicit: true,
            });
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut inputs, &mut errors),
            Ok(_) => {
                let kind = if palisade_dockerfile::is_dockerfile(path) {
                    Kind::Dockerfile
                } else if palisade_vuln::lockfile::kind(path).is_some() {
                    Kind::LockFile
                } else if is_manifest(path) {
                    Kind::Manifest
                } else if palisade_model::is_model_file(path) {
                    // By content: a pickle named `weights.dat` or `notes.txt` is still read.
                    Kind::Model
                } else {
                    errors.push(match std::fs::File::open(path) {
                        Ok(_) => InputError {
                            file: path.display().to_string().into(),
                            line: 0,
                            column: 0,
                            message: UNSUPPORTED.into(),
                        },
                        Err(e) => io_error(path, &e),
                    });
                    continue;
                };
                inputs.push(Input {
                    path: Some(path.clone()),
                    kind,
                    explicit: true,
                });
            }
            Err(e) => errors.push(io_error(path, &e)),
        }
    }
    // A path named twice that cannot be read is one error.
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert((e.file.clone(), e.message.clone())));
    let mut inputs = dedup(inputs);
    mark_kustomize_patches(&mut inputs);
    (inputs, errors)
}

/// Marks the walked manifests that a walked `kustomization.yaml` names as patches
/// (`patches[].path`, `patchesStrategicMerge[]`, `patchesJson6902[].path`). Files named on
/// the command line are scanned whatever they are.
fn mark_kustomize_patches(inputs: &mut [Input]) {
    let mut patches = std::collections::HashSet::new();
    for input in inputs.iter() {
        let Some(path) = &input.path else { continue };
        let is_kustomization = path.file_name().is_some_and(|n| {
            n == "kustomization.yaml" || n == "kustomization.yml" || n == "Kustomization"
        });
        let Some(dir) = path.parent().filter(|_| is_kustomization) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        for patch in kustomize_patch_paths(&text) {
            if let Ok(p) = std::fs::canonicalize(dir.join(patch)) {
                patches.insert(p);
            }
        }
    }
    if patches.is_empty() {
        return;
    }
    for input in inputs.iter_mut() {
        if input.kind == Kind::Manifest
            && !input.explicit
            && input
                .path
                .as_ref()
                .and_then(|p| std::fs::canonicalize(p).ok())
                .is_some_and(|p| patches.contains(&p))
        {
            input.kind = Kind::KustomizePatch;
        }
    }
}

/// The patch files a kustomization names (inline patches are not files).
fn kustomize_patch_paths(text: &str) -> Vec<String> {
    let Some(Ok(doc)) = palisade_yaml::parse_stream(text).into_iter().next() else {
        return Vec::new();
    };
    let seq = |key: &str| {
        doc.root
            .get(key)
            .and_then(palisade_yaml::Node::as_seq)
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for item in seq("patchesStrategicMerge") {
        // An entry is a path, or an inline patch (a multi-line string).
        if let Some(p) = item.as_str().filter(|p| !p.contains('\n')) {
            out.push(p.to_string());
        }
    }
    for key in ["patches", "patchesJson6902"] {
        for item in seq(key) {
            if let Some(p) = item.get("path").and_then(palisade_yaml::Node::as_str) {
                out.push(p.to_string());
            }
        }
    }
    out
}

/// `-` (standard input) can be read once: naming it twice is a usage error.
pub fn check_stdin_once(paths: &[PathBuf]) -> Result<(), String> {
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(
            "`-` (standard input) is named more than once; it can be read only once".into(),
        );
    }
    Ok(())
}

/// One input per file: a path named twice, or a file also met in a named directory (or through
/// a symlink), is read once, by its canonical path. The first occurrence's name is kept,
/// unless a later one reaches the file through a symlink and the first does not: a link is
/// how a file gets its meaningful name (a Hugging Face cache's `snapshots/REV/model.bin`,
/// not `blobs/<sha256>`). It is explicit if any occurrence was, so a named file keeps the
/// strictness of a named file.
fn dedup(inputs: Vec<Input>) -> Vec<Input> {
    let mut seen: std::collections::HashMap<(PathBuf, Kind), usize> =
        std::collections::HashMap::with_capacity(inputs.len());
    let mut out: Vec<Input> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let Some(path) = &input.path else {
            out.push(input);
            continue;
        };
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        match seen.entry((canonical, input.kind)) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let kept = &mut out[*first.get()];
                kept.explicit |= input.explicit;
                if is_link(&input.path) && !is_link(&kept.path) {
                    kept.path = input.path;
                }
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(out.len());
                out.push(input);
            }
        }
    }
    out
}

fn is_link(path: &Option<PathBuf>) -> bool {
    path.as_deref()
        .and_then(|p| std::fs::symlink_metadata(p).ok())
        .is_some_and(|m| m.file_type().is_symlink())
}

fn io_error(path: &Path, e: &std::io::Error) -> InputError {
    InputError {
        file: path.display().to_string().into(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    }
}

fn walk(dir: &Path, out: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(io_error(dir, &e));
            return;
        }
    };
    let mut paths: Vec<_> = entries.filter_map(Result::ok).collect();
    paths.sort_by_key(std::fs::DirEntry::file_name);
    // A chart's templates are not YAML until Helm renders them, and its values.yaml is not a
    // manifest: the chart is one input. A library chart renders nothing of its own (the
    // charts that use it render its templates).
    if paths
        .iter()
        .any(|e| e.file_name() == "Chart.yaml" && is_file(e))
        && let Some(chart) = crate::helm::chart_type(dir)
    {
        if chart == crate::helm::ChartType::Application {
            out.push(Input {
                path: Some(dir.to_path_buf()),
                kind: Kind::HelmChart,
                explicit: false,
            });
        }
        return;
    }
    // From the listing already read (its file types come with it), not a `stat` of every
    // directory of the tree; a linked config counts (a Hugging Face cache snapshot is links).
    if paths
        .iter()
        .any(|e| e.file_name() == "config.json" && is_file(e))
    {
        out.push(Input {
            path: Some(dir.to_path_buf()),
            kind: Kind::ModelDirectory,
            explicit: false,
        });
    }
    for entry in paths {
        let path = entry.path();
        let name = entry.file_name();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if !name.to_string_lossy().starts_with('.') {
                walk(&path, out, errors);
            }
        } else if is_file(&entry) {
            let kind = if palisade_dockerfile::is_dockerfile(&path) {
                Some(Kind::Dockerfile)
            } else if palisade_vuln::lockfile::kind(&path).is_some() {
                Some(Kind::LockFile)
            } else if is_manifest(&path) {
                Some(Kind::Manifest)
            } else if palisade_model::is_model_file(&path) {
                Some(Kind::Model)
            } else {
                None
            };
            if let Some(kind) = kind {
                out.push(Input {
                    path: Some(path),
                    kind,
                    explicit: false,
                });
            }
        }
    }
}

/// A regular file, or a symlink to one (directory symlinks are not followed).
fn is_file(entry: &std::fs::DirEntry) -> bool {
    entry.file_type().is_ok_and(|t| {
        t.is_file()
            || (t.is_symlink() && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()))
    })
}

#[must_use]
pub fn is_manifest(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        MANIFEST_EXTENSIONS
            .iter()
            .any(|m| m.eq_ignore_ascii_case(e))
    })
}
