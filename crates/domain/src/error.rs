//! The domain's error: an input that breaks a rule, or a key that cannot seal or open.

use std::fmt;

/// Result alias of the domain crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a rule refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value breaks a rule; nothing should be written.
    #[error("{field}: {problem}")]
    Invalid {
        /// Dotted field name, e.g. `learner.id_number`.
        field: &'static str,
        /// What is wrong and what to do.
        problem: String,
    },
    /// Encrypting, decrypting or key handling failed.
    #[error("encryption: {0}")]
    Crypto(String),
    /// A key file could not be read or written.
    #[error("file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl Error {
    /// Stable machine-readable kind, the same names `siteline-core` uses.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Invalid { .. } => "invalid",
            Error::Crypto(_) => "crypto",
            Error::Io { .. } => "io",
        }
    }

    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: &'static str, problem: impl fmt::Display) -> Self {
        Error::Invalid {
            field,
            problem: problem.to_string(),
        }
    }
}

impl From<siteline_proto::vocab::UnknownName> for Error {
    fn from(e: siteline_proto::vocab::UnknownName) -> Self {
        Error::Invalid {
            field: e.field,
            problem: e.to_string(),
        }
    }
}
