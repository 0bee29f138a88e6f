//! The fast path must build exactly the tree the saphyr path builds (kinds, text, `plain`,
//! positions, document indices and errors), and must actually be taken for ordinary
//! manifests. Every test compares `parse_stream_with_stats` with `parse_stream_reference`.

use std::path::{Path, PathBuf};

mod common;

use common::assert_same;

/// Compares every YAML/JSON file under `dir`; returns (files, fast documents, fallbacks).
fn check_dir(dir: &Path) -> (usize, usize, usize) {
    let (files, stats) = common::check_dir(dir, &["yaml", "yml", "json"]);
    (files, stats.fast, stats.fallback)
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

/// A few generated manifests in the shape of the benchmark corpus (palisade-yaml cannot
/// depend on the `palisade` crate that owns the real generator).
fn corpus_document(i: usize) -> String {
    let mut out = format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: model-{i}
  labels: {{app: model-{i}, tier: serving}}
  annotations:
    deployment.kubernetes.io/revision: \"3\"
    note: 'it''s {i}'
spec:
  replicas: {i}
  template:
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {{type: RuntimeDefault}}
      containers:
        - name: server
          image: registry.example.com/ml/server:1.2.{i}
          args: [\"--port=8080\", \"--model-name=model-{i}\"]
          ports:
            - {{name: http, containerPort: 8080, protocol: TCP}}
          env:
            - name: MODEL_NAME
              value: \"resnet\\u00e9{i}\"
            - name: EMPTY
              value:
          command:
          - sh
          - -c
          - |
            echo start {i}

            exec server --port 8080
          resources:
            limits: {{cpu: \"2\", memory: 4Gi}}   # per replica
          securityContext:
            capabilities:
              drop: [\"ALL\"]
      volumes:
      - name: models
        configMap:
          name: cfg-{i}
"
    );
    if i.is_multiple_of(3) {
        out.push_str("  description: >-\n    folded text\n    over lines\n\n    and a paragraph\n");
    }
    out
}

#[test]
fn generated_corpus() {
    let mut src = String::new();
    for i in 0..200usize {
        src.push_str(if i.is_multiple_of(5) {
            "--- # doc\n"
        } else {
            "---\n"
        });
        src.push_str(&corpus_document(i));
    }
    let stats = assert_same(&src, "generated corpus");
    assert_eq!(stats.fallback, 0, "{stats:?}");
    assert_eq!(stats.fast, 200);
}

/// Hand-picked constructs: what the fast path takes and what it must leave to saphyr.
#[test]
fn constructs() {
    let fast = [
        "a: 1\nb:\n  - x\n  - y: 1\n    z: \"q\"\nc:\n- k: v\n- [1, {a: b}]\nd:\ne: |\n  hi\n  there\n",
        "f: \"é\" \n\"g\": 'h'\nü: [x, y]\nk: é # c\n",
        "{\"kind\": \"Pod\", \"spec\": {\"hostPID\": true, \"x\": [1, 2.5, null]}}\n",
        "{\n  \"a\": [\n    1,\n    \"b\"\n  ],\n\"c\": {}\n}\n",
        "a: |+\n  keep\n\n\nb: >2\n   more\n  indented\n\nc: |-\n  strip\n",
        "x: >\n  folded\n   more\n  back\n\n  para\ny: 1\n",
        "a: b]\nc: x,y}\nurl: http://x:80/p#frag\nneg: -1\nopt: --flag\n",
        "  a: 1\n  b:\n    c: 2\n",
        "- a\n- b: c\n  d: e\n-   f: g\n    h: i\n",
        "a: \"tab\\there\\x41\\u263A\\U0001F600\\\\ \\\"\"\n",
        "a: 'x'\n# comment\n\nb: 'y'   # trailing\n",
        "text: |\n  no final newline",
    ];
    for src in fast {
        let stats = assert_same(src, "fast construct");
        assert_eq!(stats.fallback, 0, "expected the fast path for {src:?}");
    }
    let fallback = [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "base: &b {x: 1}\nd:\n  <<: *b\n",
        "? complex\n: value\n",
        "%YAML 1.2\na: 1\n",
        "a: multi\n  line plain\n",
        "a: \"multi\n  line\"\n",
        "a:\n\t- tab\n",
        "kind: [unclosed\n",
        "a: 1\n b: 2\n",
        "a: b: c\n",
        "- - nested\n",
        "-\n  a: 1\n",
        "a: [x, ]\n",
        "a: |\nb: 1\n",
        "just a scalar\n",
        "a: 1\r\nb: 2\r\n",
        "\u{feff}a: 1\n",
        "a: 1\n...\nb: 2\n",
        "--- a\n",
        "a: \"x\"#c\n",
        "- [A -, b]\n",
        "a: [x  -}\n",
    ];
    for src in fallback {
        let stats = assert_same(src, "fallback construct");
        assert_eq!(stats.fast, 0, "expected a fallback for {src:?}");
    }
}

/// A long line with non-ASCII text through the YAML fast path: columns are counted on from
/// the previous position instead of from the line start each time (which was quadratic).
#[test]
fn long_non_ascii_flow_line() {
    let mut src = String::from("items: [");
    for i in 0..5_000 {
        src.push_str(&format!("{{name: é-{i}, n: {i}}}, "));
    }
    src.push_str("last]\n");
    let stats = assert_same(&src, "long non-ASCII line");
    assert_eq!(stats.fallback, 0, "{stats:?}");
}
