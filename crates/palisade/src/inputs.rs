//! Finding the files to scan.

use std::path::{Path, PathBuf};

use palisade_policy::InputError;

/// A file to scan, or standard input.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    #[must_use]
    pub fn display_name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".into(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// Extensions of manifest files picked up when walking a directory. Files named on the
/// command line are scanned whatever their extension.
pub const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Expands the command-line paths: directories recursively (skipping hidden directories and
/// not following directory symlinks, so a link loop cannot hang a scan), in a stable order.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input::File(path.clone())),
            Err(e) => errors.push(io_error(path, &e)),
        }
    }
    (inputs, errors)
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
        } else if is_manifest(&path) && (file_type.is_file() || path.is_file()) {
            out.push(Input::File(path));
        }
    }
}

#[must_use]
pub fn is_manifest(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        MANIFEST_EXTENSIONS
            .iter()
            .any(|m| m.eq_ignore_ascii_case(e))
    })
}
