//! Parsing JSON documents: the JSON parser, the YAML fast path it replaced for JSON, and
//! saphyr, on the documents Palisade gets as JSON.
//!
//! Inputs: `admission` (an AdmissionReview `object` as the admission load bench sends it,
//! minified, about 1 KB), `list` (`kubectl get deployments -o json`: a `List` of 200
//! Deployments, pretty-printed, with a little non-ASCII text) and `list-min` (the same,
//! minified onto one line).
//!
//! `cargo bench -p palisade-yaml --bench json_parse` prints the time per parse of each input by
//! each path (best of several runs; wall clock is noisy on a shared machine).
//!
//! `json_parse --once INPUT PATH N` parses INPUT N times with PATH (`json`, `yaml` or
//! `saphyr`) and nothing else, for instruction counts under callgrind: instructions per parse =
//! (total(N) − total(0)) / N, e.g.
//! `valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/json_parse-* --once admission json 1000`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use palisade_yaml::{
    Document, ParseError, parse_stream, parse_stream_reference, parse_stream_without_json,
};
use serde_json::{Value, json};

type Parse = for<'a> fn(&'a str) -> Vec<Result<Document<'a>, ParseError>>;

const PATHS: [(&str, Parse); 3] = [
    ("json", parse_stream),
    ("yaml", parse_stream_without_json),
    ("saphyr", parse_stream_reference),
];

/// The Deployment the admission load bench sends (ASCII only, as there).
fn deployment(i: usize) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("tf-serving-{i}"), "namespace": "ml", "labels": {"app": "tf"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "tf"}}, "template": {
            "metadata": {"labels": {"app": "tf"}},
            "spec": {"containers": [{"name": "tf", "image": "tensorflow/serving:latest",
                "args": ["--model_name=resnet", "--model_base_path=/models/resnet"],
                "ports": [{"containerPort": 8501}],
                "env": [{"name": "MODEL_NAME", "value": "resnet"}, {"name": "OMP_NUM_THREADS", "value": "4"}],
                "resources": {"limits": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"}},
                "volumeMounts": [{"name": "models", "mountPath": "/models"}]}],
                "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "models"}}]}}}})
}

/// What `kubectl get -o json` prints; real clusters have some non-ASCII text (here one
/// annotation per item), which costs the YAML fast path a rescan of the line per node.
fn list() -> Value {
    let items = (0..200).map(|i| {
        let mut d = deployment(i);
        d["metadata"]["annotations"] = json!({"description": format!("mod\u{e8}le {i} \u{2603}")});
        d
    });
    json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
        "items": items.collect::<Vec<_>>()})
}

fn input(name: &str) -> Option<String> {
    Some(match name {
        "admission" => deployment(0).to_string(),
        "list" => serde_json::to_string_pretty(&list()).ok()?,
        "list-min" => list().to_string(),
        _ => return None,
    })
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--once") {
        let (Some(src), Some(parse), Some(n)) = (
            args.get(i + 1).and_then(|n| input(n)),
            args.get(i + 2)
                .and_then(|p| PATHS.iter().find(|(name, _)| name == p))
                .map(|(_, f)| *f),
            args.get(i + 3).and_then(|n| n.parse::<usize>().ok()),
        ) else {
            eprintln!("usage: json_parse --once admission|list|list-min json|yaml|saphyr N");
            std::process::exit(2);
        };
        let docs: usize = (0..n)
            .map(|_| black_box(parse(black_box(&src))).len())
            .sum();
        println!("{docs} documents");
        return;
    }
    // `cargo test --benches` runs bench targets without `--bench`; keep that quick.
    if !args.iter().any(|a| a == "--bench") {
        println!("json_parse bench: run with `cargo bench -p palisade-yaml --bench json_parse`");
        return;
    }
    for (name, reps) in [("admission", 2000), ("list", 2), ("list-min", 1)] {
        let src = input(name).expect("known input");
        let reference = parse_stream_reference(&src);
        print!("{name:>9} ({:>7} bytes):", src.len());
        for (path, parse) in PATHS {
            assert_eq!(
                format!("{:?}", parse(&src)),
                format!("{reference:?}"),
                "{path} disagrees with saphyr on {name}"
            );
            let time = best_of(3, || {
                for _ in 0..reps {
                    black_box(parse(black_box(&src)));
                }
            }) / reps;
            #[allow(clippy::cast_precision_loss)]
            let mib_s = src.len() as f64 / (1024.0 * 1024.0) / time.as_secs_f64();
            print!(
                "  {path} {:>8.1} µs ({mib_s:>6.1} MiB/s)",
                time.as_secs_f64() * 1e6
            );
        }
        println!();
    }
}
