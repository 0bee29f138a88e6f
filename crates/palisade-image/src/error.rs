//! One error type for the crate. Every message names the image, layer and entry it is about
//! and what was expected.

/// What went wrong while reading an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The reference could not be parsed.
    #[error("image reference `{reference}`: {message}")]
    Reference { reference: String, message: String },
    /// A file, blob or HTTP resource could not be read.
    #[error("{what}: {message}")]
    Io { what: String, message: String },
    /// A document did not have the expected format.
    #[error("{what}: {message}")]
    Format { what: String, message: String },
    /// Content did not match the digest that names it.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    Digest {
        what: String,
        expected: String,
        actual: String,
    },
    /// A layer or entry broke a limit or a safety rule.
    #[error("layer {layer} entry `{entry}`: {message}")]
    Entry {
        layer: String,
        entry: String,
        message: String,
    },
    /// A whole layer could not be read.
    #[error("layer {layer}: {message}")]
    Layer { layer: String, message: String },
    /// The registry refused or failed a request.
    #[error("{what}: {message}")]
    Registry { what: String, message: String },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, e: impl std::fmt::Display) -> Error {
        Error::Io {
            what: what.into(),
            message: e.to_string(),
        }
    }

    pub(crate) fn format(what: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Format {
            what: what.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
