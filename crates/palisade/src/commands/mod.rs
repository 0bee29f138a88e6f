pub mod certs;
pub mod db;
pub mod explain;
pub mod harden;
pub mod image;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod sign;
pub mod vulns;

/// Prints a usage or input problem the way every command does, and returns exit code 2.
pub fn fail(message: impl std::fmt::Display) -> i32 {
    eprintln!("palisade: {message}");
    2
}
