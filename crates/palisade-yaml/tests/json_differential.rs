//! The JSON path must build exactly the tree the saphyr path builds (kinds, text, `plain`,
//! positions, document indices) and give exactly its errors, and must actually be taken for
//! JSON documents. Every test compares `parse_stream_with_stats` with
//! `parse_stream_reference` (saphyr only).

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::assert_same;
use palisade_yaml::parse_stream_with_stats;
use proptest::prelude::*;

/// Asserts agreement and that the JSON parser built every document.
fn assert_json_path(src: &str, what: &str) {
    let stats = assert_same(src, what);
    assert_eq!(
        (stats.json, stats.fallback),
        (stats.fast, 0),
        "{what}: expected the JSON path\n{src}"
    );
}

#[test]
fn valid_json_takes_the_json_path() {
    let cases = [
        "{}",
        "[]",
        "{ }",
        "[\n]",
        "  {\"a\": 1}  \n\n",
        "\n\n   [1]\n",
        "{\"a\":{},\"b\":[],\"c\":[{}],\"d\":[[[]]]}",
        "{\"kind\":\"Pod\",\"spec\":{\"hostPID\":true,\"x\":[1,2.5,null,false]}}",
        "{\n  \"a\": [\n    1,\n    \"b\"\n  ],\n\"c\": {}\n}\n",
        "{\r\n  \"a\": [\r\n    1,\r\n    \"b\"\r\n  ]\r\n}\r\n",
        "{\"a\" : 1 , \"b\" :\n 2\n}",
        "{\"a\":\n\n\n  \"b\"}",
        "[1\n,2\n,\n3]",
        "[1 ,2 , 3 ]",
        "[true,false,null,true ,false\n,null\n]",
        // Numbers in every JSON form, kept as written.
        "[0,-0,1,-1,10,1234567890,0.5,-0.5,1.0,1e5,1E5,1e+5,1e-5,1.5E-10,-0e0,0.0e00,123456789012345678901234567890]",
        // Escapes, decoded as YAML decodes them.
        r#"["\"","\\","\/","\b","\f","\n","\r","\t","a\u0041b","\u00e9","\u263A","\u0000","\u001f","\uFFFF","\uFEFF","\u2028","\u0085"]"#,
        r#"{"\n":"key with escape","\u00fc":"x","a\"b":"c\\d"}"#,
        // Raw non-ASCII text: columns count characters.
        "{\"é\":\"ü ☺ 😀\",\"x\":[1,\"日本語\",{\"k\":\"v\"}]}",
        "{\n  \"é\": \"ü\", \"日本\": [\"😀😀\", 2], \"b\": 3\n}",
        "[\"\u{85}\",\"\u{2028}\",\"\u{a0}\",\"\u{7f}\",\"\u{9f}\"]",
        // Strings that look like other YAML.
        r##"["#","a #b","- x","? y",": z","&a","*a","!t","|","%","@","`","{","[","]","}",",","---","...","'","''"]"##,
        r#"{"true":"true","1":"1","null":null,"":""," ":" ","a: b":"c: d"}"#,
        // Duplicate keys are kept in order, as the saphyr path keeps them.
        "{\"a\":1,\"a\":2,\"b\":{\"c\":1,\"c\":[1]}}",
        // Tabs as whitespace.
        "{\t\"a\": 1,\n\t\"b\":\n\t[\n\t\t1,\n\t\t2\n\t]\n}",
        "[\t1\t,\t2\t]\t\n",
        "{\"a\":\t\"b\", \"c\":\t[1], \"d\":\t\t{}}",
        "{\"a\"\t: 1, \"b\" \t : \t\t\"c\"}",
    ];
    for src in cases {
        assert_json_path(src, "valid JSON");
    }
}

#[test]
fn long_keys_and_strings() {
    for n in [1000, 1023, 1024, 1025, 5000] {
        let key = "k".repeat(n);
        assert_json_path(&format!("{{\"{key}\": \"{key}\"}}"), "long key");
        assert_json_path(&format!("{{\"a\": {{\"{key}\":1}}}}"), "long nested key");
        assert_json_path(&format!("[\"{key}\"]"), "long string");
    }
}

#[test]
fn streams_of_json_documents() {
    let src = "{\"a\": 1}\n---\n[1, 2]\n--- # c\n\n{\n \"b\": \"x\"\n}\n---\n{\"broken\": }\n---\n{\"c\": [\"\\u00e9\"]}\n";
    let stats = assert_same(src, "stream");
    assert_eq!(stats.json, 4, "{stats:?}");
    assert_eq!(stats.fallback, 1, "{stats:?}");
    // `--- ` with a trailing space still separates documents.
    assert_json_path("{\"a\": 1}\n--- \n{\"b\": 2}", "stream");
}

/// Strict JSON that the JSON path leaves to the YAML parsers, and JSON-looking YAML.
#[test]
fn json_the_json_path_leaves_alone() {
    let cases = [
        // saphyr refuses UTF-16 surrogates, paired or not.
        r#"["\ud83d\ude00"]"#,
        r#"["\uD800"]"#,
        r#"["\uDC00x"]"#,
        // A merge key to the saphyr builder.
        r#"{"<<": {"a": 1}, "b": 2}"#,
        r#"{"<<": 1}"#,
        // A lone carriage return.
        "{\"a\":\r1}",
        "[1,\r2]",
        // Line breaks and tabs between a key and its colon.
        "{\"a\"\n: 1}",
        "{\"a\":\t1}",
        "{\"a\":\t 1}",
        "{\"a\":\ttrue}",
        "{\"a\":\t-1}",
        "{\n  \"a\"\n  :\n  1\n}",
        "{\r\n\"a\"\r\n:1}",
        // Byte order marks.
        "\u{feff}{\"a\": 1}",
        "{\"a\": \"\u{feff}\"}",
        // YAML flow style that is not JSON.
        "{a: 1}",
        "{\"a\": b}",
        "['a']",
        "[1, 2,]",
        "{\"a\": 1,}",
        "{\"a\": 1} # comment",
        "# comment\n{\"a\": 1}",
        "{\"a\": 1 # comment\n}",
        "[\"\\x41\", \"\\a\", \"\\e\", \"\\N\", \"\\_\", \"\\ \", \"\\U0001F600\"]",
        "[0x10, 0o7, .5, +1, 1., 01, -.5, 1e, 1e+, Infinity, NaN, -, --1, .inf]",
        "{\"a\": &x 1, \"b\": *x}",
        "[!!str 1]",
        "{\"a\": [1, 2]}: x",
        "[\"a\": 1]",
        "{\"a\": :1}",
        "{:1}",
        "{1: 2}",
        "{\"a\": {\"b\"}}",
        "[1 2]",
        "[1\n  2]",
        "[true false]",
        "{\"a\": truex}",
        "{\"a\": nul}",
        "{\"a\": 1.2.3}",
        "{\"a\":1:2}",
        "[\"a\" \"b\"]",
        "{\"a\": \"multi\n line\"}",
        "{\"a\": \"tab\there\"}",
        "{\"a\": \"\\\nx\"}",
        "[\"\u{1}\"]",
        // Several roots, or a root and more.
        "{\"a\": 1}\n{\"b\": 2}\n",
        "[1]\n[2]",
        "{\"a\": 1}\n...\n",
        "{\"a\": 1}\n---x\n",
        "[1]\nx",
    ];
    for src in cases {
        let stats = assert_same(src, "left alone");
        assert_eq!(stats.json, 0, "expected no JSON path for {src:?}");
    }
}

#[test]
fn malformed_json_gives_the_reference_errors() {
    let cases = [
        "{",
        "[",
        "{\"a\"",
        "{\"a\":",
        "{\"a\": 1",
        "{\"a\": 1,",
        "[1,",
        "[1, 2",
        "{\"a\" 1}",
        "{\"a\": [1, 2}",
        "{\"a\": {\"b\": 1]}",
        "[1, 2}",
        "]",
        "}",
        "{]",
        "[}",
        "{\"a\": \"unterminated}",
        "[\"unterminated",
        "[\"bad escape \\q\"]",
        "[\"short \\u12\"]",
        "[\"not hex \\u12G4\"]",
        "{,}",
        "[,]",
        "[,1]",
        "{\"a\":1,,\"b\":2}",
        "[1,,2]",
        "{[1]: 2}",
        "{{\"a\": 1}: 2}",
        "[\"a\"]]",
        "{\"a\": 1}}",
        "\n\n  {\n  \"a\": [1,\n  2,\n  {\"b\": ]\n  }\n",
        "{\"é\": \"ü\", \"x\": [1,, 2]}",
        "{\"a\":\"b\" \"c\":\"d\"}",
        "{\"a\": [1, 2] \"b\": 3}",
        "[1] ]",
        "{\"a\":\u{0}1}",
        "[1, 2\u{0}]",
    ];
    for src in cases {
        assert_same(src, "malformed");
        let (docs, _) = parse_stream_with_stats(src);
        assert!(
            docs.iter().any(Result::is_err),
            "expected an error for {src:?}: {docs:?}"
        );
    }
}

#[test]
fn deep_nesting_is_bounded() {
    for depth in [99, 100, 101, 255, 256, 257, 300, 10_000, 200_000] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let src = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            let stats = assert_same(&src, &format!("depth {depth}"));
            assert_eq!(stats.json, usize::from(depth <= 255), "depth {depth}");
            // Unclosed: an error either way, and no stack overflow on the way there.
            assert_same(&open.repeat(depth), &format!("unclosed depth {depth}"));
        }
    }
}

/// A large minified document with non-ASCII text on its one line: columns are counted
/// without rescanning the line, and the result still matches.
#[test]
fn large_single_line_document() {
    let mut src = String::from("{\"items\":[");
    for i in 0..20_000 {
        if i > 0 {
            src.push(',');
        }
        write!(src, "{{\"name\":\"é-{i}\",\"n\":{i},\"ok\":true}}").unwrap();
    }
    src.push_str("]}");
    assert_json_path(&src, "large document");
}

/// Compares every `.json` file under `dir`; returns (files, JSON-path documents, fallbacks).
fn check_dir(dir: &Path) -> (usize, usize, usize) {
    let (files, stats) = common::check_dir(dir, &["json"]);
    (files, stats.json, stats.fallback)
}

#[test]
fn repository_json_files() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (files, json, fallback) = check_dir(&root);
    eprintln!("repository: {files} .json files, {json} by the JSON path, {fallback} fallback");
    assert!(files > 0 && json > 0);
}

#[test]
fn shared_data_json_files() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if !dir.is_dir() {
        eprintln!("skipped: {} not found", dir.display());
        return;
    }
    let (files, json, fallback) = check_dir(&dir);
    eprintln!("shared data: {files} .json files, {json} by the JSON path, {fallback} fallback");
}

/// JSON values, written with random layout and escaping.
#[derive(Clone, Debug)]
enum Value {
    Literal(&'static str),
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

fn number() -> impl Strategy<Value = String> {
    "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,8})?([eE][+-]?[0-9]{1,3})?"
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9._/=-]{0,12}",
        2 => "[ -~]{0,10}",
        1 => "[\\x00-\\x1f\"\\\\é☺😀\u{85}\u{2028}\u{feff}]{0,6}",
        1 => any::<String>(),
        1 => Just("<<".to_owned()),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        prop_oneof![Just("true"), Just("false"), Just("null")].prop_map(Value::Literal),
        number().prop_map(Value::Number),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6).prop_map(Value::Object),
        ]
    })
}

/// A deterministic generator for layout choices, so one seed gives one text.
struct Rng(u64);

impl Rng {
    fn chance(&mut self, percent: u64) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % 100 < percent
    }
}

struct Writer {
    out: String,
    rng: Rng,
    /// Line break style: `\n` or `\r\n`.
    nl: &'static str,
    /// Indentation unit for pretty output; `None` writes compact JSON.
    indent: Option<&'static str>,
    /// Wrote something the JSON path leaves to saphyr on purpose: a `<<` key, an escaped
    /// surrogate pair, a byte order mark.
    not_for_json_path: bool,
}

impl Writer {
    fn space(&mut self, depth: usize) {
        if let Some(unit) = self.indent {
            self.out.push_str(self.nl);
            self.out.push_str(&unit.repeat(depth));
        } else {
            self.gap();
        }
    }

    /// Optional whitespace between tokens of compact output.
    fn gap(&mut self) {
        for ws in [" ", "\t", "\n", "\r\n"] {
            if self.rng.chance(8) {
                self.out.push_str(ws);
            }
        }
    }

    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '/' if self.rng.chance(50) => self.out.push_str("\\/"),
                '\n' if self.rng.chance(70) => self.out.push_str("\\n"),
                '\t' if self.rng.chance(70) => self.out.push_str("\\t"),
                '\u{8}' => self.out.push_str("\\b"),
                '\u{c}' => self.out.push_str("\\f"),
                '\r' => self.out.push_str("\\r"),
                c if (c as u32) < 0x20 => write!(self.out, "\\u{:04x}", c as u32).unwrap(),
                '\u{feff}' => {
                    self.not_for_json_path = true;
                    self.out.push('\u{feff}');
                }
                c if self.rng.chance(5) => {
                    let mut units = [0u16; 2];
                    let units = c.encode_utf16(&mut units);
                    self.not_for_json_path |= units.len() > 1;
                    for u in units {
                        write!(self.out, "\\u{u:04X}").unwrap();
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn value(&mut self, v: &Value, depth: usize) {
        match v {
            Value::Literal(s) => self.out.push_str(s),
            Value::Number(s) => self.out.push_str(s),
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.space(depth + 1);
                    self.value(item, depth + 1);
                }
                if !items.is_empty() {
                    self.space(depth);
                }
                self.out.push(']');
            }
            Value::Object(entries) => {
                self.out.push('{');
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.space(depth + 1);
                    self.not_for_json_path |= k == "<<";
                    self.string(k);
                    // Not a line break: the JSON path leaves those to saphyr here.
                    if self.rng.chance(10) {
                        self.out
                            .push_str(if self.rng.chance(50) { " " } else { "\t" });
                    }
                    self.out
                        .push_str(if self.rng.chance(50) { ": " } else { ":" });
                    let after_colon = self.out.len();
                    if self.indent.is_none() {
                        self.gap();
                    }
                    self.not_for_json_path |= self.out[after_colon - 1..].starts_with(":\t")
                        && matches!(item, Value::Literal(_) | Value::Number(_));
                    self.value(item, depth + 1);
                }
                if !entries.is_empty() {
                    self.space(depth);
                }
                self.out.push('}');
            }
        }
    }
}

/// The text, and whether the JSON path should take it.
fn write_json(v: &Value, seed: u64, style: u8) -> (String, bool) {
    let (nl, indent) = match style % 5 {
        0 => ("\n", None),
        1 => ("\n", Some("  ")),
        2 => ("\r\n", Some("  ")),
        3 => ("\n", Some("\t")),
        _ => ("\n", Some("")),
    };
    let mut w = Writer {
        out: String::new(),
        rng: Rng(seed | 1),
        nl,
        indent,
        not_for_json_path: false,
    };
    w.value(v, 0);
    w.out.push_str(nl);
    (w.out, !w.not_for_json_path)
}

fn collection() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(value(), 0..6).prop_map(Value::Array),
        prop::collection::vec((text(), value()), 0..6).prop_map(Value::Object),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Generated JSON in every layout: the same trees, and the JSON path takes it unless it
    /// holds one of the things it leaves to saphyr on purpose.
    #[test]
    fn generated_json_agrees(v in collection(), seed in any::<u64>(), style in any::<u8>()) {
        let (src, for_json_path) = write_json(&v, seed, style);
        let stats = assert_same(&src, "generated");
        if for_json_path {
            prop_assert_eq!(stats.json, 1, "JSON path not taken\n{:?}", src);
        }
    }

    /// Generated JSON, then damaged: agreement (errors included) and no panic.
    #[test]
    fn damaged_json_agrees(
        v in collection(),
        seed in any::<u64>(),
        style in any::<u8>(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..4,
        noise in "[ \t\r\n:,\"\\\\{}\\[\\]#'&*!|>0-9a-z.eE+-]{0,3}",
    ) {
        let (mut src, _) = write_json(&v, seed, style);
        let mut i = at.index(src.len() + 1);
        while !src.is_char_boundary(i) {
            i -= 1;
        }
        let mut end = (i + cut).min(src.len());
        while !src.is_char_boundary(end) {
            end += 1;
        }
        src.replace_range(i..end, &noise);
        assert_same(&src, "damaged");
    }
}
