//! Random manifest-like trees, written out in many YAML styles (block, flow, quoted, block
//! scalars, comments, odd indentation), and random near-YAML text: the fast path must never
//! panic and must agree with the saphyr path whenever it takes a document.

mod common;

use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn assert_same(src: &str) -> palisade_yaml::ParseStats {
    common::assert_same(src, "random stream")
}

#[derive(Clone, Debug)]
enum Tree {
    Scalar(String),
    Map(Vec<(String, Tree)>),
    Seq(Vec<Tree>),
}

fn scalar_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9][a-zA-Z0-9 ._/=-]{0,12}",
        "[a-z0-9 :#,'\"\\[\\]{}\\\\é-]{0,10}",
        Just(String::new()),
        Just("true".to_owned()),
        Just("0123".to_owned()),
        Just("-1".to_owned()),
        Just("multi\nline\n\ntext".to_owned()),
        Just("  leading".to_owned()),
        Just("tab\there".to_owned()),
        Just("ü ☺ 😀".to_owned()),
    ]
}

fn key_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z][a-zA-Z0-9._/-]{0,10}",
        1 => "[a-z :#'\"é-]{1,6}",
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    scalar_text()
        .prop_map(Tree::Scalar)
        .prop_recursive(5, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec((key_text(), inner.clone()), 0..5).prop_map(Tree::Map),
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
    fn pick(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.pick(100) < percent
    }
}

struct Writer {
    out: String,
    rng: Rng,
    /// How wild the output may get: 0 = tidy manifests, higher = more odd choices.
    odd: u64,
}

impl Writer {
    fn line_end(&mut self) {
        if self.rng.chance(10) {
            self.out.push_str(" # note");
        }
        if self.rng.chance(self.odd.min(5)) {
            self.out.push(' ');
        }
        self.out.push('\n');
        if self.rng.chance(5) {
            self.out.push_str(if self.rng.chance(50) {
                "\n"
            } else {
                "  # line\n"
            });
        }
    }

    fn quoted(&mut self, s: &str, double: bool) {
        if double {
            self.out.push('"');
            for c in s.chars() {
                match c {
                    '"' => self.out.push_str("\\\""),
                    '\\' => self.out.push_str("\\\\"),
                    '\n' => self.out.push_str("\\n"),
                    '\t' if self.rng.chance(50) => self.out.push_str("\\t"),
                    'é' if self.rng.chance(50) => self.out.push_str("\\u00e9"),
                    c => self.out.push(c),
                }
            }
            self.out.push('"');
        } else {
            self.out.push('\'');
            self.out.push_str(&s.replace('\'', "''"));
            self.out.push('\'');
        }
    }

    /// A scalar in any style that fits on the current line (or a block scalar when allowed).
    fn scalar(&mut self, s: &str, parent_indent: usize, block_ok: bool) {
        let style = self.rng.pick(if block_ok { 5 } else { 3 });
        match style {
            0 => self.out.push_str(s),
            1 => self.quoted(s, false),
            2 => self.quoted(s, true),
            _ => {
                let indent = parent_indent + 1 + self.rng.pick(3) as usize;
                self.out.push(if style == 3 { '|' } else { '>' });
                match self.rng.pick(4) {
                    0 => self.out.push('-'),
                    1 => self.out.push('+'),
                    _ => {}
                }
                if self.rng.chance(15) {
                    let inc = indent - parent_indent;
                    self.out.push_str(&inc.to_string());
                }
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
        }
        self.line_end();
    }

    fn key(&mut self, k: &str) {
        match self.rng.pick(8) {
            0 => self.quoted(k, true),
            1 => self.quoted(k, false),
            _ => self.out.push_str(k),
        }
    }

    fn flow(&mut self, t: &Tree) {
        match t {
            Tree::Scalar(s) => match self.rng.pick(3) {
                0 => self.out.push_str(s),
                1 => self.quoted(s, false),
                _ => self.quoted(s, true),
            },
            Tree::Map(entries) => {
                self.out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out
                            .push_str(if self.rng.chance(80) { ", " } else { "," });
                    }
                    self.key(k);
                    self.out
                        .push_str(if self.rng.chance(85) { ": " } else { ":" });
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

    fn step(&mut self) -> usize {
        if self.rng.chance(self.odd * 10) {
            1 + self.rng.pick(4) as usize
        } else {
            2
        }
    }

    /// Writes the value of a key whose line (`key:`) is already out, in a mapping at `col`.
    fn map_value(&mut self, t: &Tree, col: usize) {
        match t {
            Tree::Map(entries) if !entries.is_empty() && self.rng.chance(80) => {
                self.line_end();
                let inner = col + self.step();
                self.block_map(entries, inner, false);
            }
            Tree::Seq(items) if !items.is_empty() && self.rng.chance(80) => {
                self.line_end();
                // Same column as the key (indentless) or further in.
                let inner = if self.rng.chance(40) {
                    col
                } else {
                    col + self.step()
                };
                self.block_seq(items, inner);
            }
            Tree::Scalar(s) if s.is_empty() && self.rng.chance(50) => self.line_end(),
            Tree::Scalar(s) => {
                self.out.push(' ');
                self.scalar(s, col, true);
            }
            _ => {
                self.out.push(' ');
                self.flow(t);
                self.line_end();
            }
        }
    }

    /// A block mapping at `col`; `inline` when its first key follows a `- ` already written.
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
            self.out.push('-');
            let gap = if self.rng.chance(self.odd * 10) {
                1 + self.rng.pick(3) as usize
            } else {
                1
            };
            self.out.push_str(&" ".repeat(gap));
            match item {
                Tree::Map(entries) if !entries.is_empty() && self.rng.chance(85) => {
                    self.block_map(entries, col + 1 + gap, true);
                }
                Tree::Scalar(s) => self.scalar(s, col, true),
                _ => {
                    self.flow(item);
                    self.line_end();
                }
            }
        }
    }

    fn document(&mut self, t: &Tree) {
        let indent = if self.rng.chance(self.odd * 3) { 2 } else { 0 };
        match t {
            Tree::Map(entries) if !entries.is_empty() && self.rng.chance(85) => {
                self.block_map(entries, indent, false);
            }
            Tree::Seq(items) if !items.is_empty() && self.rng.chance(70) => {
                self.block_seq(items, indent);
            }
            _ => {
                self.json(t, 0);
                self.out.push('\n');
            }
        }
    }

    /// JSON, pretty-printed or compact.
    fn json(&mut self, t: &Tree, depth: usize) {
        let pretty = self.rng.chance(60);
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
                    self.json(v, depth + 1);
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
                    self.json(v, depth + 1);
                }
                if !items.is_empty() {
                    nl(self, depth);
                }
                self.out.push(']');
            }
        }
    }
}

fn write_stream(docs: &[Tree], seed: u64, odd: u64) -> String {
    let mut w = Writer {
        out: String::new(),
        rng: Rng(seed | 1),
        odd,
    };
    for (i, t) in docs.iter().enumerate() {
        if i > 0 || w.rng.chance(50) {
            w.out.push_str(if w.rng.chance(80) {
                "---\n"
            } else {
                "--- # next\n"
            });
        }
        w.document(t);
    }
    w.out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Tidy manifests: agreement, and the fast path must take most documents.
    #[test]
    fn tidy_trees_agree(docs in prop::collection::vec(tree(), 1..4), seed in any::<u64>()) {
        let src = write_stream(&docs, seed, 0);
        assert_same(&src);
    }

    /// Odd indentation, gaps after dashes, trailing spaces, indented roots.
    #[test]
    fn odd_trees_agree(docs in prop::collection::vec(tree(), 1..4), seed in any::<u64>(), odd in 1u64..6) {
        let src = write_stream(&docs, seed, odd);
        assert_same(&src);
    }

    /// Near-YAML noise: no panic, and agreement whenever the fast path accepts.
    #[test]
    fn yaml_noise_agrees(src in "([a-c0-9 :#,'\"|>\\-\\[\\]{}&*!?%.\t\n\\\\é]|\n  |- |: ){0,60}") {
        assert_same(&src);
    }

    #[test]
    fn arbitrary_text_agrees(src in any::<String>()) {
        assert_same(&src);
    }

    /// Noise spliced into a valid manifest, so the fast path gets deep before it meets it.
    #[test]
    fn damaged_manifests_agree(
        docs in prop::collection::vec(tree(), 1..3),
        seed in any::<u64>(),
        at in any::<prop::sample::Index>(),
        noise in "[ :#,'\"|>\\-\\[\\]{}&*!?\t\n\\\\]{1,4}",
    ) {
        let mut src = write_stream(&docs, seed, 0);
        let mut i = at.index(src.len() + 1);
        while !src.is_char_boundary(i) {
            i -= 1;
        }
        src.insert_str(i, &noise);
        assert_same(&src);
    }
}

/// The fast path must actually take the documents a tidy writer produces, not fall back.
#[test]
fn fast_path_takes_tidy_documents() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (prop::collection::vec(tree(), 1..4), any::<u64>());
    let (mut fast, mut fallback) = (0, 0);
    for _ in 0..400 {
        let (docs, seed) = strategy
            .new_tree(&mut runner)
            .expect("strategy generates")
            .current();
        let stats = assert_same(&write_stream(&docs, seed, 0));
        fast += stats.fast;
        fallback += stats.fallback;
    }
    eprintln!("tidy documents: {fast} fast, {fallback} fallback");
    assert!(
        fast > 300,
        "fast path taken for only {fast} documents ({fallback} fell back)"
    );
}
