//! The differential check every parser test shares: a fast path (YAML or JSON) against the
//! saphyr reference, tree for tree and error for error.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use palisade_yaml::{ParseStats, parse_stream_reference, parse_stream_with_stats};

/// Asserts both paths agree on `src` (document count, index and start line, tree with
/// positions, error) and returns how the fast one got there. `what` names the input in
/// failure messages.
pub fn assert_same(src: &str, what: &str) -> ParseStats {
    let (fast, stats) = parse_stream_with_stats(src);
    let reference = parse_stream_reference(src);
    assert_eq!(fast.len(), reference.len(), "{what}: document count\n{src}");
    for (f, r) in fast.iter().zip(&reference) {
        match (f, r) {
            (Ok(f), Ok(r)) => {
                assert_eq!(
                    (f.index, f.start_line),
                    (r.index, r.start_line),
                    "{what}: document index/start line\n{src}"
                );
                assert_eq!(f.root, r.root, "{what}: tree differs\n{src}");
            }
            (Err(f), Err(r)) => assert_eq!(f, r, "{what}: error differs\n{src}"),
            _ => panic!("{what}: one path failed, the other did not: {f:?} vs {r:?}\n{src}"),
        }
    }
    stats
}

/// Files under `dir` whose extension is one of `extensions`, skipping `.git` and build
/// directories (`target`, `target-*`).
fn files_with(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            let name = name.to_string_lossy();
            if name != ".git" && name != "target" && !name.starts_with("target-") {
                files_with(&path, extensions, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| extensions.iter().any(|x| e == *x))
        {
            out.push(path);
        }
    }
}

/// Runs [`assert_same`] on every file under `dir` with one of `extensions`; returns the
/// number of files and the parse statistics summed over them.
pub fn check_dir(dir: &Path, extensions: &[&str]) -> (usize, ParseStats) {
    let mut files = Vec::new();
    files_with(dir, extensions, &mut files);
    let mut total = ParseStats::default();
    for file in &files {
        let Ok(src) = std::fs::read_to_string(file) else {
            continue;
        };
        let stats = assert_same(&src, &file.display().to_string());
        total.fast += stats.fast;
        total.json += stats.json;
        total.fallback += stats.fallback;
    }
    (files.len(), total)
}
