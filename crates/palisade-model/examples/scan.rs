//! `cargo run -p palisade-model --example scan -- PATH...`: prints the findings for each path
//! (a stand-in until `palisade scan` is wired to this crate).

use palisade_model::{ScanOptions, scan_path_report};

fn main() {
    let opts = ScanOptions::default();
    for arg in std::env::args().skip(1) {
        let report = scan_path_report(std::path::Path::new(&arg), &opts);
        for f in &report.findings {
            println!("{f}");
        }
        for e in &report.errors {
            eprintln!("error: {}: {}", e.path.display(), e.message);
        }
    }
}
