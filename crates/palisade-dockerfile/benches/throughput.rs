//! Placeholder, replaced by the corpus benchmark.
fn main() {}
