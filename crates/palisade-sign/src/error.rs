//! The crate's one error type.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while reading keys, signing or verifying.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Input that is not in the expected format: `what` names the file or source, `expected` says what was expected.
    #[error("{what}: {expected}")]
    Format {
        /// The file or input that was read.
        what: String,
        /// What was expected and what was found.
        expected: String,
    },
    /// A key could not be decrypted (wrong password or damaged file).
    #[error("{what}: cannot decrypt the private key: {reason}")]
    Decrypt {
        /// The key file.
        what: String,
        /// Why.
        reason: String,
    },
    /// No password could be obtained.
    #[error("{0}")]
    Password(String),
    /// A signature did not verify.
    #[error("{0}")]
    Verification(String),
    /// A registry request failed.
    #[error("registry {registry}: {message}")]
    Registry {
        /// Registry host.
        registry: String,
        /// What happened.
        message: String,
    },
    /// A refusal to do something unsafe (overwrite a file, follow a symlink).
    #[error("{0}")]
    Refused(String),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn format(what: impl Into<String>, expected: impl Into<String>) -> Self {
        Error::Format {
            what: what.into(),
            expected: expected.into(),
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
