//! The domain's error: an input that breaks a rule, or a key that cannot seal or open.

use crate::Rule;

/// Result alias of the domain crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a rule refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value breaks a rule; nothing should be written.
    #[error("{field}: {rule}")]
    Invalid {
        /// Dotted field name, e.g. `learner.id_number`.
        field: &'static str,
        /// The rule broken, with its parameters.
        rule: Rule,
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
    pub fn rule(field: &'static str, rule: Rule) -> Self {
        Error::Invalid { field, rule }
    }
}

impl From<siteline_proto::vocab::UnknownName> for Error {
    fn from(e: siteline_proto::vocab::UnknownName) -> Self {
        Error::Invalid {
            field: e.field,
            rule: Rule::from(e),
        }
    }
}

impl From<siteline_proto::vocab::UnknownName> for Rule {
    fn from(e: siteline_proto::vocab::UnknownName) -> Self {
        Rule::UnknownWord {
            what: e.what.into(),
            value: e.value,
            expected: e.expected.into(),
        }
    }
}
