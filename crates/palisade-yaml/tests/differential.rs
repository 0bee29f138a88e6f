//! The fast path must build exactly the tree the saphyr path builds (kinds, text, `plain`,
//! positions, document indices and errors), and must actually be taken for ordinary
//! manifests. Every test compares `parse_stream_with_stats` with `parse_stream_reference`.

use std::path::{Path, PathBuf};

use palisade_yaml::{ParseStats, parse_stream_reference, parse_stream_with_stats};

/// Asserts both paths agree on `src` and returns how the fast one got there.
fn assert_same(src: &str, what: &str) -> ParseStats {
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

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
}

/// Compares every YAML/JSON file under `dir`; returns (files, fast documents, fallbacks).
fn check_dir(dir: &Path) -> (usize, usize, usize) {
    let mut files = Vec::new();
    yaml_files(dir, &mut files);
    let (mut fast, mut fallback) = (0, 0);
    for file in &files {
        let Ok(src) = std::fs::read_to_string(file) else {
            continue;
        };
        let stats = assert_same(&src, &file.display().to_string());
        fast += stats.fast;
        fallback += stats.fallback;
    }
    (files.len(), fast, fallback)
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn pss_fixtures() {
    let dir = manifest_dir().join("../../../shared/data/pss/fixtures");
    if !dir.is_dir() {
        eprintln!("skipped: {} not found", dir.display());
        return;
    }
    let (files, fast, fallback) = check_dir(&dir);
    eprintln!("pss fixtures: {files} files, {fast} fast, {fallback} fallback");
    assert!(files > 0);
    assert!(
        fast > fallback * 4,
        "fast path rarely taken: {fast} vs {fallback}"
    );
}

#[test]
fn repository_examples_and_rule_fixtures() {
    let mut total = (0, 0, 0);
    for dir in ["../../examples", "../palisade-k8s/resources"] {
        let (files, fast, fallback) = check_dir(&manifest_dir().join(dir));
        total = (total.0 + files, total.1 + fast, total.2 + fallback);
    }
    eprintln!(
        "examples + rule fixtures: {} files, {} fast, {} fallback",
        total.0, total.1, total.2
    );
    assert!(total.1 > 0);
}
