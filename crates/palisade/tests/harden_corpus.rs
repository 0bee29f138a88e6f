//! `harden` round trips on the generated benchmark corpus (Deployments, PyTorchJobs,
//! RayClusters, InferenceServices in multi-document files): after hardening, a rescan finds
//! nothing fixable, hardening again changes nothing, and every container and image is kept.

use std::sync::Arc;

use palisade::corpus;
use palisade_k8s::fix::HardenOptions;
use palisade_k8s::harden::harden_source;
use palisade_k8s::{ScanOptions, scan_source};

fn images(src: &str) -> Vec<String> {
    src.lines()
        .filter_map(|l| l.trim_start().strip_prefix("image: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn generated_corpus_round_trips() {
    let opts = ScanOptions::default().with_fixes(HardenOptions::default());
    let name: Arc<str> = Arc::from("corpus.yaml");
    for first in [0, 50, 100, 150] {
        let src = corpus::file(first, 50);
        let once = harden_source(&name, &src, &opts);
        assert!(once.errors.is_empty(), "{:?}", once.errors);
        assert!(!once.fixed.is_empty());
        let fixable: Vec<String> = scan_source(&name, &once.text, &opts)
            .findings
            .into_iter()
            .filter(|f| !f.fix.is_empty())
            .map(|f| format!("{} {}", f.rule.code, f.location.pointer))
            .collect();
        assert!(fixable.is_empty(), "still fixable: {fixable:?}");
        let twice = harden_source(&name, &once.text, &opts);
        assert_eq!(twice.text, once.text, "idempotent");
        assert_eq!(
            images(&src),
            images(&once.text),
            "containers and images kept"
        );
        assert_eq!(
            palisade_yaml::parse_stream(&src).len(),
            palisade_yaml::parse_stream(&once.text).len(),
            "no document lost"
        );
    }
}
