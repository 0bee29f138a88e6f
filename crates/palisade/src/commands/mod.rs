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

/// Writes `text` to standard output. A reader that went away (`palisade rules | head`) is
/// not an error: the rest of the output is dropped and the command keeps its exit code, as
/// with `grep` or `cat`. Any other write error is returned.
pub fn print_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// [`print_stdout`], with a write error reported as an input/output error (exit code 2);
/// `code` is the command's exit code otherwise.
pub fn print_or_fail(text: &str, code: i32) -> i32 {
    match print_stdout(text) {
        Ok(()) => code,
        Err(e) => fail(format!("cannot write to standard output: {e}")),
    }
}
