//! No input makes the scanner panic: arbitrary strings, Dockerfile-shaped noise built from
//! the constructs the parser treats specially, and every fixture cut at every byte.

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;

use palisade_dockerfile::scan_dockerfile;

fn scan(src: &str) {
    let file: Arc<str> = Arc::from("Dockerfile");
    let (findings, errors) = scan_dockerfile(&file, src);
    let lines = u32::try_from(src.lines().count().max(1)).unwrap_or(u32::MAX);
    for f in &findings {
        assert!(
            f.location.line >= 1 && f.location.line <= lines + 1,
            "{f:?}"
        );
        assert!(f.location.column >= 1, "{f:?}");
    }
    for e in &errors {
        assert!(e.line >= 1, "{e:?}");
    }
}

/// Pieces that exercise continuations, heredocs, quoting, JSON, flags and substitution.
const PIECES: &[&str] = &[
    "FROM ",
    "python:3.11",
    " AS ",
    "build",
    "\n",
    "RUN ",
    "CMD ",
    "COPY ",
    "ADD ",
    "ENV ",
    "ARG ",
    "USER ",
    "EXPOSE ",
    "HEALTHCHECK ",
    "ONBUILD ",
    "SHELL ",
    "# escape=`\n",
    "# syntax=docker/dockerfile:1\n",
    "\\\n",
    "`\n",
    "<<EOF",
    "<<-'EOF'",
    "\nEOF\n",
    "\tEOF\n",
    "&&",
    "||",
    "|",
    ";",
    "&",
    "(",
    ")",
    "$(",
    "${",
    "}",
    "`",
    "'",
    "\"",
    "[\"",
    "\", \"",
    "\"]",
    "--mount=type=cache,target=/root/.cache",
    "--from=build",
    "--chown=1:1",
    "=",
    "${X:-",
    "curl -fsSL https://x | sh",
    "pip install torch",
    "-r req.txt",
    "apt-get install -y gcc",
    "sudo ",
    "chmod 777 ",
    "hf_",
    "sk-",
    "AKIA",
    "https://u:p@h/",
    "from_pretrained(",
    "huggingface-cli download ",
    " --revision ",
    "22",
    "\r\n",
    "é",
    "\u{feff}",
    "\0",
    " ",
    "\t",
    "#",
    ">",
    "<",
    "2>&1",
    "<(",
    "-c",
    "python3 -c ",
    "sh -c ",
];

fn dockerfile_noise() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..80).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        scan(&s);
    }

    #[test]
    fn dockerfile_noise_never_panics(s in dockerfile_noise()) {
        scan(&s);
    }
}

#[test]
fn every_prefix_of_every_fixture_scans() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("resources/test/fixtures");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "Dockerfile") {
            continue;
        }
        let src = std::fs::read_to_string(&path).expect("read");
        for (i, _) in src.char_indices() {
            scan(&src[..i]);
            n += 1;
        }
    }
    assert!(n > 1000);
}
