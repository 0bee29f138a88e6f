//! `cargo run -p palisade-dockerfile --example scan -- Dockerfile…`: prints findings as
//! `file:line:column CODE name [severity] message` and parse errors, for quick comparisons
//! with other linters.

use std::sync::Arc;

fn main() {
    for path in std::env::args().skip(1) {
        let src = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let file: Arc<str> = Arc::from(path.as_str());
        let (findings, errors) = palisade_dockerfile::scan_dockerfile(&file, &src);
        for f in findings {
            println!(
                "{}:{}:{} {} {} [{}] {}",
                f.location.file,
                f.location.line,
                f.location.column,
                f.rule.code,
                f.rule.name,
                f.severity,
                f.message
            );
        }
        for e in errors {
            println!("error {e}");
        }
    }
}
