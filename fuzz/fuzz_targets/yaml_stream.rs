//! The YAML stream parser and the in-place editor on any text: the fast paths (the YAML one
//! and the JSON one) must give exactly what saphyr gives (documents, their first lines, trees,
//! errors), the line starts recorded while parsing must be the text's, the editor's fast
//! span lexer must build the span tree saphyr's events give, and nothing may panic (parsing,
//! or editing with `apply_patch`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_yaml::edit::{PatchOp, apply_patch, fast_spans_agree};

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let (docs, starts) = palisade_yaml::parse_stream_with_lines(src);
    assert_eq!(starts, palisade_yaml::line_starts(src));
    let reference = palisade_yaml::parse_stream_reference(src);
    assert_eq!(docs.len(), reference.len());
    for (doc, expected) in docs.iter().zip(&reference) {
        match (doc, expected) {
            (Ok(doc), Ok(expected)) => {
                assert_eq!(doc.start_line, expected.start_line);
                assert_eq!(doc.root, expected.root);
            }
            (Err(err), Err(expected)) => assert_eq!(err, expected),
            _ => panic!("fast and reference parsers disagree: {doc:?} vs {expected:?}"),
        }
    }
    if docs.len() == 1 {
        // Only text that parses is ever edited (the editor reads its meaning first), so the
        // span trees need to agree only there: on `"\1"` saphyr has no tree at all.
        if docs[0].is_ok() {
            assert!(fast_spans_agree(src));
        }
        for op in [
            PatchOp::Replace {
                path: String::new(),
                value: serde_json::json!({"a": [1]}),
            },
            PatchOp::Add {
                path: "/spec/x".into(),
                value: serde_json::json!("y"),
            },
            PatchOp::Remove {
                path: "/metadata".into(),
            },
        ] {
            let _ = apply_patch(src, std::slice::from_ref(&op));
        }
    }
});
