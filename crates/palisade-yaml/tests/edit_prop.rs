//! Random manifest-like documents in many YAML styles (block, indentless and indented
//! sequences, flow, JSON pretty and compact, quoted and block scalars, comments, CRLF) and
//! random valid RFC 6902 patches: the edited text must mean what the `json-patch` crate makes
//! of the same patch on the document's JSON, and what the patch does not touch must stay.

use palisade_yaml::edit::{
    EditError, PatchOp, apply_patch, apply_patch_reference, apply_patches_to_stream,
    fast_spans_agree, fast_spans_handle,
};
use palisade_yaml::parse_stream;
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Clone, Debug)]
enum Tree {
    Scalar(String),
    Map(Vec<(String, Tree)>),
    Seq(Vec<Tree>),
}

fn scalar_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9][a-zA-Z0-9._/=-]{0,12}",
        1 => "[a-z0-9 :#,'\"\\[\\]{}\\\\é-]{0,10}",
        1 => Just(String::new()),
        1 => Just("true".to_owned()),
        1 => Just("0123".to_owned()),
        1 => Just("-1".to_owned()),
        1 => Just("multi\nline\n\ntext".to_owned()),
        1 => Just("ü ☺ 😀".to_owned()),
    ]
}

fn key_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "apiVersion", "kind", "metadata", "name", "spec", "containers", "image", "args",
            "securityContext", "volumes", "env", "value", "ports", "labels",
        ]).prop_map(str::to_owned),
        2 => "[a-zA-Z][a-zA-Z0-9._/-]{0,10}",
        1 => "[a-z :#'\"é~/-]{1,6}",
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    scalar_text()
        .prop_map(Tree::Scalar)
        .prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec((key_text(), inner.clone()), 0..5).prop_map(|mut v| {
                    // Duplicate keys mean different things to different readers; keep one.
                    let mut seen = std::collections::HashSet::new();
                    v.retain(|(k, _)| seen.insert(k.clone()));
                    Tree::Map(v)
                }),
                prop::collection::vec(inner, 0..5).prop_map(Tree::Seq),
            ]
        })
}

/// Style decisions come from a seeded generator so that one tree is written many ways.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

struct Writer {
    out: String,
    rng: Rng,
    comments: usize,
    step: usize,
    indentless: bool,
}

impl Writer {
    fn comment(&mut self) -> String {
        self.comments += 1;
        format!("# c{}", self.comments)
    }

    fn line_end(&mut self) {
        if self.rng.chance(15) {
            let c = self.comment();
            self.out.push_str("  ");
            self.out.push_str(&c);
        }
        self.out.push('\n');
        if self.rng.chance(8) {
            if self.rng.chance(50) {
                self.out.push('\n');
            } else {
                let c = self.comment();
                self.out.push_str(&format!("  {c}\n"));
            }
        }
    }

    fn quoted(&mut self, s: &str, double: bool) {
        // Multi-line single-quoted scalars fold their line breaks; keep those double-quoted.
        if double || s.contains('\n') {
            self.out.push_str(&serde_json::to_string(s).unwrap());
        } else {
            self.out.push('\'');
            self.out.push_str(&s.replace('\'', "''"));
            self.out.push('\'');
        }
    }

    /// Plain only where the text reads back as itself; otherwise quoted.
    fn plain_or_quoted(&mut self, s: &str) {
        let plain_safe = !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || "._/=-".contains(c))
            && !s.starts_with('-');
        match self.rng.pick(3) {
            0 if plain_safe => self.out.push_str(s),
            1 => self.quoted(s, false),
            _ => self.quoted(s, true),
        }
    }

    fn scalar(&mut self, s: &str, parent_indent: usize) {
        let block_ok = !s.is_empty() && !s.starts_with(' ') && !s.contains("\n\n\n");
        if block_ok && self.rng.chance(15) {
            let indent = parent_indent + 2;
            let keep = self.rng.pick(3);
            self.out.push_str(["|", ">-", "|+"][keep]);
            self.out.push('\n');
            for line in s.split('\n') {
                if !line.is_empty() {
                    self.out.push_str(&" ".repeat(indent));
                    self.out.push_str(line);
                }
                self.out.push('\n');
            }
            return;
        }
        self.plain_or_quoted(s);
        self.line_end();
    }

    fn key(&mut self, k: &str) {
        self.plain_or_quoted(k);
    }

    fn flow(&mut self, t: &Tree) {
        match t {
            Tree::Scalar(s) => self.plain_or_quoted(s),
            Tree::Map(entries) => {
                self.out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out
                            .push_str(if self.rng.chance(80) { ", " } else { "," });
                    }
                    self.key(k);
                    self.out.push_str(": ");
                    self.flow(v);
                }
                self.out.push('}');
            }
            Tree::Seq(items) => {
                self.out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.flow(v);
                }
                self.out.push(']');
            }
        }
    }

    fn map_value(&mut self, t: &Tree, col: usize) {
        match t {
            Tree::Map(entries) if !entries.is_empty() && self.rng.chance(80) => {
                self.line_end();
                let inner = col + self.step;
                self.block_map(entries, inner, false);
            }
            Tree::Seq(items) if !items.is_empty() && self.rng.chance(80) => {
                self.line_end();
                let inner = if self.indentless {
                    col
                } else {
                    col + self.step
                };
                self.block_seq(items, inner);
            }
            Tree::Scalar(s) if s.is_empty() && self.rng.chance(30) => self.line_end(),
            Tree::Scalar(s) => {
                self.out.push(' ');
                self.scalar(s, col);
            }
            _ => {
                self.out.push(' ');
                self.flow(t);
                self.line_end();
            }
        }
    }

    fn block_map(&mut self, entries: &[(String, Tree)], col: usize, inline: bool) {
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 || !inline {
                self.out.push_str(&" ".repeat(col));
            }
            self.key(k);
            self.out.push(':');
            self.map_value(v, col);
        }
    }

    fn block_seq(&mut self, items: &[Tree], col: usize) {
        for item in items {
            self.out.push_str(&" ".repeat(col));
            self.out.push_str("- ");
            match item {
                Tree::Map(entries) if !entries.is_empty() && self.rng.chance(85) => {
                    self.block_map(entries, col + 2, true);
                }
                Tree::Scalar(s) => self.scalar(s, col),
                _ => {
                    self.flow(item);
                    self.line_end();
                }
            }
        }
    }

    fn json(&mut self, t: &Tree, depth: usize, pretty: bool) {
        let nl = |w: &mut Self, d: usize| {
            if pretty {
                w.out.push('\n');
                w.out.push_str(&"  ".repeat(d));
            }
        };
        match t {
            Tree::Scalar(s) => self.quoted(s, true),
            Tree::Map(entries) => {
                self.out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    nl(self, depth + 1);
                    self.quoted(k, true);
                    self.out.push_str(": ");
                    self.json(v, depth + 1, pretty);
                }
                if !entries.is_empty() {
                    nl(self, depth);
                }
                self.out.push('}');
            }
            Tree::Seq(items) => {
                self.out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    nl(self, depth + 1);
                    self.json(v, depth + 1, pretty);
                }
                if !items.is_empty() {
                    nl(self, depth);
                }
                self.out.push(']');
            }
        }
    }

    fn document(&mut self, t: &Tree) {
        if self.rng.chance(20) {
            let c = self.comment();
            self.out.push_str(&c);
            self.out.push('\n');
        }
        match t {
            Tree::Map(entries) if !entries.is_empty() && self.rng.chance(80) => {
                self.block_map(entries, 0, false);
            }
            Tree::Seq(items) if !items.is_empty() && self.rng.chance(70) => {
                self.block_seq(items, 0);
            }
            _ => {
                let pretty = self.rng.chance(60);
                self.json(t, 0, pretty);
                self.out.push('\n');
            }
        }
    }
}

fn write_doc(t: &Tree, seed: u64) -> String {
    let mut rng = Rng(seed | 1);
    let step = [2, 2, 4, 3][rng.pick(4)];
    let indentless = rng.chance(40);
    let crlf = rng.chance(15);
    let mut w = Writer {
        out: String::new(),
        rng,
        comments: (seed % 1000) as usize * 1000,
        step,
        indentless,
    };
    w.document(t);
    if crlf {
        w.out.replace('\n', "\r\n")
    } else {
        w.out
    }
}

fn json_of(src: &str) -> Value {
    match parse_stream(src).as_slice() {
        [] => Value::Null,
        [Ok(doc)] => serde_json::from_str(&doc.root.to_json()).unwrap(),
        other => panic!("expected one document: {other:?}\n{src}"),
    }
}

/// Numbers compared by value: YAML gives `1.0` back as `1`.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

const STRINGS: &[&str] = &[
    "nginx",
    "nginx:1.27",
    "true",
    "yes",
    "n",
    "123",
    "1.5",
    "0x1F",
    "",
    "a: b",
    "a #b",
    "#x",
    "- x",
    "-x",
    "multi\nline",
    "é ☺",
    "{x}",
    "[y]",
    "a,b",
    "*ref",
    "&a",
    "!t",
    "%p",
    "@a",
    "`b",
    "'q'",
    "\"dq\"",
    "tab\there",
    "back\\slash",
    " lead",
    "trail ",
    "null",
    "~",
    "<<",
    "2024-01-01",
    "---",
    "...",
    "RuntimeDefault",
    "ALL",
];

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.pick(if depth >= 2 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => json!(rng.pick(70000) as i64 - 1000),
        3 => json!(rng.pick(1000) as f64 / 8.0 + 0.25),
        4 | 5 => json!(STRINGS[rng.pick(STRINGS.len())]),
        6 | 7 => {
            let n = rng.pick(4);
            let mut m = serde_json::Map::new();
            for _ in 0..n {
                m.insert(random_key(rng), random_value(rng, depth + 1));
            }
            Value::Object(m)
        }
        _ => Value::Array(
            (0..rng.pick(4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
    }
}

fn random_key(rng: &mut Rng) -> String {
    const KEYS: &[&str] = &[
        "securityContext",
        "runAsNonRoot",
        "readOnlyRootFilesystem",
        "resources",
        "limits",
        "name",
        "a/b",
        "t~1",
        "true",
        "a: b",
        "é",
        "",
        "- x",
        "key with space",
        "1",
    ];
    KEYS[rng.pick(KEYS.len())].to_owned()
}

fn escape(tok: &str) -> String {
    tok.replace('~', "~0").replace('/', "~1")
}

/// Every path in `v`, with whether it is an object / array.
fn paths(v: &Value, here: String, out: &mut Vec<(String, Value)>) {
    out.push((here.clone(), v.clone()));
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                paths(c, format!("{here}/{}", escape(k)), out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                paths(c, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// A random valid patch for `doc`; `gentle` keeps to edits that touch no existing line's
/// neighbours: adds of new keys/items and scalar-for-scalar replaces.
fn random_patch(doc: &Value, rng: &mut Rng, gentle: bool) -> Vec<Value> {
    let mut cur = doc.clone();
    let mut ops = Vec::new();
    let wanted = 1 + rng.pick(4);
    // Draws that do not fit the chosen target are retried, so most patches are not empty.
    for _ in 0..wanted * 12 {
        if ops.len() == wanted {
            break;
        }
        let mut all = Vec::new();
        paths(&cur, String::new(), &mut all);
        let (path, target) = all[rng.pick(all.len())].clone();
        // Kinds 0 and 6 add, 1 and 3 replace, 2 removes, 4 copies or moves, 5 tests.
        let kind = if gentle {
            rng.pick(2)
        } else {
            [0, 0, 1, 2, 2, 3, 4, 5, 6][rng.pick(9)]
        };
        let op = match (kind, &target) {
            (0, Value::Object(m)) => {
                let mut key = random_key(rng);
                if gentle {
                    while m.contains_key(&key) {
                        key.push('x');
                    }
                }
                json!({"op": "add", "path": format!("{path}/{}", escape(&key)), "value": random_value(rng, 0)})
            }
            (0, Value::Array(a)) => {
                let at = if rng.chance(50) {
                    "-".to_owned()
                } else {
                    rng.pick(a.len() + 1).to_string()
                };
                json!({"op": "add", "path": format!("{path}/{at}"), "value": random_value(rng, 0)})
            }
            (1, t) if !t.is_object() && !t.is_array() && !path.is_empty() => {
                let mut value = random_value(rng, 2);
                if gentle {
                    while value.is_object() || value.is_array() {
                        value = random_value(rng, 2);
                    }
                }
                json!({"op": "replace", "path": path, "value": value})
            }
            (2, _) if !path.is_empty() => json!({"op": "remove", "path": path}),
            (3, _) if !path.is_empty() || rng.chance(10) => {
                json!({"op": "replace", "path": path, "value": random_value(rng, 0)})
            }
            (4, _) if !path.is_empty() => {
                let (to, to_value) = all[rng.pick(all.len())].clone();
                match to_value {
                    Value::Object(_) => {
                        json!({"op": if rng.chance(50) {"copy"} else {"move"}, "from": path, "path": format!("{to}/{}", escape(&random_key(rng)))})
                    }
                    Value::Array(_) => {
                        json!({"op": if rng.chance(50) {"copy"} else {"move"}, "from": path, "path": format!("{to}/-")})
                    }
                    _ => continue,
                }
            }
            (5, t) => json!({"op": "test", "path": path, "value": t}),
            (6, Value::Object(m)) if !m.is_empty() => {
                let k = m.keys().nth(rng.pick(m.len())).unwrap().clone();
                json!({"op": "add", "path": format!("{path}/{}", escape(&k)), "value": random_value(rng, 0)})
            }
            _ => continue,
        };
        let patch: json_patch::Patch = serde_json::from_value(json!([op.clone()])).unwrap();
        let mut next = cur.clone();
        if json_patch::patch(&mut next, &patch).is_ok() {
            cur = next;
            ops.push(op);
        }
    }
    ops
}

/// The generated comments (`# c123`); block scalar content may look like a comment too.
fn comment_lines(src: &str) -> Vec<&str> {
    src.lines()
        .map(str::trim)
        .filter(|l| {
            l.strip_prefix("# c")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect()
}

fn is_subsequence(small: &[&str], big: &[&str]) -> bool {
    let mut it = big.iter();
    small.iter().all(|s| it.any(|b| b == s))
}

/// Applies a random patch and checks it against the oracle; returns the edited text, or
/// `None` when the editor refused (which must be an `Unsupported`, never a wrong file).
fn check(src: &str, seed: u64, gentle: bool) -> Option<(String, Vec<Value>)> {
    let doc = json_of(src);
    let mut rng = Rng(seed.rotate_left(17) | 1);
    let ops_json = random_patch(&doc, &mut rng, gentle);
    let ops: Vec<PatchOp> = serde_json::from_value(Value::Array(ops_json.clone())).unwrap();
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops_json.clone())).unwrap();
    let mut expected = doc.clone();
    json_patch::patch(&mut expected, &patch).unwrap();
    // The fast lexer builds the span tree saphyr would, before and after the edits.
    assert!(fast_spans_agree(src), "span trees differ\n{src}");
    match apply_patch(src, &ops) {
        Ok(out) => {
            assert!(fast_spans_agree(&out), "span trees differ\n{out}");
            // Batching (one verification, edits planned together) writes what checking every
            // operation writes, whenever that succeeds.
            if let Ok(reference) = apply_patch_reference(src, &ops) {
                assert_eq!(
                    out, reference,
                    "batched and per-operation texts differ\n{src}\n{ops_json:?}"
                );
            }
            let got = json_of(&out);
            assert!(
                same(&got, &expected),
                "meaning differs\n--- src\n{src}\n--- ops {ops_json:?}\n--- out\n{out}\n--- got {got}\n--- want {expected}"
            );
            Some((out, ops_json))
        }
        Err(e @ EditError::Unsupported { .. }) => {
            // Refusing is allowed only for what cannot be edited in place.
            assert!(
                !gentle,
                "gentle edits must succeed: {e}\n{src}\n{ops_json:?}"
            );
            None
        }
        Err(e) => panic!("unexpected error {e}\n--- src\n{src}\n--- ops {ops_json:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    /// Any valid patch: same meaning as json-patch, or a refusal naming why.
    #[test]
    fn edits_mean_what_json_patch_means(t in tree(), seed in any::<u64>()) {
        let src = write_doc(&t, seed);
        if let Some((out, _)) = check(&src, seed, false)
            && detect_crlf(&src)
        {
            prop_assert!(!out.replace("\r\n", "").contains('\n'), "bare LF in CRLF text\n{out:?}");
        }
    }

    /// Adds and scalar replaces always succeed and keep every comment line, in order.
    #[test]
    fn gentle_edits_keep_every_comment(t in tree(), seed in any::<u64>()) {
        let src = write_doc(&t, seed);
        let (out, ops) = check(&src, seed, true).expect("gentle edits succeed");
        let before = comment_lines(&src);
        let after = comment_lines(&out);
        prop_assert!(is_subsequence(&before, &after), "comments lost\n{src}\n{ops:?}\n{out}");
        if ops.is_empty() {
            prop_assert_eq!(&out, &src);
        }
    }

    /// In a stream, only the patched document's text changes.
    #[test]
    fn other_documents_stay_byte_for_byte(
        docs in prop::collection::vec(tree(), 2..4),
        seed in any::<u64>(),
        which in any::<prop::sample::Index>(),
    ) {
        let texts: Vec<String> = docs.iter().enumerate().map(|(i, t)| write_doc(t, seed ^ i as u64)).collect();
        let target = which.index(texts.len());
        let doc = json_of(&texts[target]);
        let ops_json = random_patch(&doc, &mut Rng(seed | 1), false);
        let ops: Vec<PatchOp> = serde_json::from_value(Value::Array(ops_json)).unwrap();
        let sep = "--- # next\n";
        let src = texts.join(sep);
        match apply_patches_to_stream(&src, &[(target, ops.clone())]) {
            Ok(out) => {
                let prefix: String = texts[..target].iter().map(|t| format!("{t}{sep}")).collect();
                let suffix: String = texts[target + 1..].iter().map(|t| format!("{sep}{t}")).collect();
                prop_assert!(out.starts_with(&prefix) && out.ends_with(&suffix), "{src}\n=>\n{out}");
                let middle = &out[prefix.len()..out.len() - suffix.len()];
                prop_assert_eq!(middle, apply_patch(&texts[target], &ops).unwrap());
            }
            Err(EditError::Document { index, error }) => {
                prop_assert_eq!(index, target);
                prop_assert!(matches!(*error, EditError::Unsupported { .. }), "{error}");
            }
            Err(e) => prop_assert!(false, "{e}"),
        }
    }

    /// Arbitrary text and arbitrary paths never panic.
    #[test]
    fn never_panics(src in "([a-c0-9 :#,'\"|>\\-\\[\\]{}&*!?%.\t\n\\\\é]|\n  |- |: |\r\n){0,60}", path in "(/[a-c0-9~-]{0,3}){0,3}", value in prop::sample::select(vec![json!(null), json!({"a": [1]}), json!("x: y"), json!([])])) {
        for op in [
            PatchOp::Add { path: path.clone(), value: value.clone() },
            PatchOp::Replace { path: path.clone(), value: value.clone() },
            PatchOp::Remove { path: path.clone() },
            PatchOp::Move { from: path.clone(), path: "/a".into() },
        ] {
            prop_assert!(fast_spans_agree(&src), "span trees differ\n{src:?}");
            let _ = apply_patch(&src, std::slice::from_ref(&op));
            let _ = apply_patches_to_stream(&src, &[(0, vec![op])]);
        }
    }
}

/// saphyr's marks for an anchor named `-` on a block sequence after a CRLF run backwards
/// (the sequence "ends" before it starts): the edit is refused instead of slicing the text.
#[test]
fn backwards_spans_are_refused_not_sliced() {
    let src = "\r\n&- \n  -";
    for op in [
        PatchOp::Add {
            path: String::new(),
            value: json!(null),
        },
        PatchOp::Replace {
            path: String::new(),
            value: json!({"a": 1}),
        },
    ] {
        let err = apply_patch(src, std::slice::from_ref(&op)).unwrap_err();
        assert!(err.to_string().contains("positions"), "{err}");
    }
}

fn detect_crlf(src: &str) -> bool {
    src.contains("\r\n")
}

/// Refusals must stay rare on manifest-like input: count them over many generated cases.
#[test]
fn refusals_are_rare() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut refused, mut total, mut lexed) = (0, 0, 0);
    let mut kinds = std::collections::BTreeMap::new();
    for seed in 0..2000u64 {
        let t = tree().new_tree(&mut runner).unwrap().current();
        let src = write_doc(&t, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        total += 1;
        lexed += usize::from(fast_spans_handle(&src));
        let result = check(&src, seed, false);
        if let Some((out, ops)) = &result {
            for op in ops {
                *kinds
                    .entry(op["op"].as_str().unwrap().to_owned())
                    .or_insert(0usize) += 1;
            }
            if std::env::var_os("EDIT_PROP_SAMPLES").is_some() && seed % 97 == 0 {
                eprintln!(
                    "##### src\n{src}##### ops {}\n##### out\n{out}",
                    Value::Array(ops.clone())
                );
            }
        }
        if result.is_none() {
            refused += 1;
            if std::env::var_os("EDIT_PROP_VERBOSE").is_some() {
                let doc = json_of(&src);
                let ops = random_patch(&doc, &mut Rng(seed.rotate_left(17) | 1), false);
                let ops2: Vec<PatchOp> = serde_json::from_value(Value::Array(ops.clone())).unwrap();
                eprintln!(
                    "=== {}\n{src}\n{ops:?}",
                    apply_patch(&src, &ops2).unwrap_err()
                );
            }
        }
    }
    eprintln!(
        "refused {refused} of {total}; fast lexer took {lexed}; operations applied: {kinds:?}"
    );
    // The differential checks above only mean something if the fast lexer takes part.
    assert!(
        lexed * 3 >= total,
        "the fast lexer took only {lexed} of {total}"
    );
    assert!(refused * 100 <= total, "refused {refused} of {total}");
}
