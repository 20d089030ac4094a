//! The one error type of `siteline-core`. Every variant says what was wrong and, where the
//! caller can act, what to do; `kind()` gives the stable name the UI branches on.

use std::fmt;

use siteline_domain::Rule;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the site store and its rules.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field failed validation; nothing was written.
    #[error("{field}: {problem}")]
    Invalid {
        /// Dotted field name, e.g. `learner.id_number`.
        field: &'static str,
        /// What is wrong and what to do, in English.
        problem: String,
        /// The rule broken, with its parameters, when it has one the UI can word itself.
        rule: Option<Rule>,
    },
    /// A referenced record does not exist.
    #[error("{what} {id} was not found; check that it was not typed wrongly or removed")]
    NotFound {
        /// Kind of record, e.g. `programme version`.
        what: &'static str,
        /// The id or key that was looked up.
        id: String,
    },
    /// The record passed its lock point and takes no more changes.
    #[error("{what} is locked: {hint}")]
    Locked {
        /// What is locked, e.g. `session 0192…`.
        what: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// The write would create a second copy of something that must be unique.
    #[error("duplicate {what}: {detail}")]
    Duplicate {
        /// Kind of record.
        what: &'static str,
        /// Which existing record it clashes with and what to do.
        detail: String,
    },
    /// The acting user's role may not do this.
    #[error("a {role} may not {action}; ask a site manager")]
    Forbidden {
        /// What was attempted.
        action: &'static str,
        /// The actor's role.
        role: crate::Role,
    },
    /// Encrypting, decrypting or key handling failed.
    #[error("encryption: {0}")]
    Crypto(String),
    /// The database file is from a newer Siteline.
    #[error(
        "the database is at schema version {found} but this Siteline knows only up to \
         {supported}; install the newer Siteline that wrote it"
    )]
    NewerSchema {
        /// `PRAGMA user_version` found.
        found: i64,
        /// Highest version this build ships.
        supported: i64,
    },
    /// The database thread has stopped (the store was closed or panicked).
    #[error("the site database is closed; restart Siteline")]
    StoreClosed,
    /// A file could not be read or written.
    #[error("file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The credit bank could not be reached (no link, timeout, cut-off answer, 5xx).
    #[error("cannot reach the credit bank: {0}")]
    Network(String),
    /// Something answered that is not the credit bank (e.g. a captive portal).
    #[error(
        "the address answered but it is not the credit bank ({0}); check the HQ address or sign in to the network first"
    )]
    NotCreditBank(String),
    /// Another device of the site could not be synced with on the LAN, or was refused (another
    /// site, revoked, not enrolled, not a Siteline device), and why.
    #[error("LAN sync: {0}")]
    PeerRefused(String),
    /// The credit bank refused the request.
    #[error("the credit bank refused ({code}): {message}")]
    Refused {
        /// HQ's error code, e.g. `bad_signature`.
        code: String,
        /// HQ's explanation.
        message: String,
    },
    /// The device has not been enrolled with the credit bank yet.
    #[error("this device is not enrolled with the credit bank yet; enrol it with a code from HQ")]
    NotEnrolled,
    /// SQLite reported an error.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// A stored JSON payload could not be (de)serialised.
    #[error("data format: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Stable machine-readable kind for the UI (`{kind, message}` at the Tauri boundary).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Invalid { .. } => "invalid",
            Error::NotFound { .. } => "not_found",
            Error::Locked { .. } => "locked",
            Error::Duplicate { .. } => "duplicate",
            Error::Forbidden { .. } => "forbidden",
            Error::Crypto(_) => "crypto",
            Error::NewerSchema { .. } => "newer_schema",
            Error::StoreClosed => "store_closed",
            Error::Io { .. } => "io",
            Error::Network(_) => "offline",
            Error::NotCreditBank(_) => "not_credit_bank",
            Error::Refused { .. } => "refused",
            Error::NotEnrolled => "not_enrolled",
            Error::PeerRefused(_) => "peer_refused",
            Error::Database(_) => "database",
            Error::Json(_) => "data_format",
        }
    }

    /// Maps an I/O failure on `path` to [`Error::Io`] (for `map_err`).
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: &'static str, problem: impl fmt::Display) -> Self {
        Error::Invalid {
            field,
            problem: problem.to_string(),
            rule: None,
        }
    }

    /// A field that broke a rule the UI can word itself (see [`Rule`]).
    pub fn rule(field: &'static str, rule: Rule) -> Self {
        Error::Invalid {
            field,
            problem: rule.to_string(),
            rule: Some(rule),
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(what: &'static str, id: impl fmt::Display) -> Self {
        Error::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

impl From<siteline_domain::Error> for Error {
    fn from(e: siteline_domain::Error) -> Self {
        match e {
            siteline_domain::Error::Invalid { field, rule } => Error::rule(field, rule),
            siteline_domain::Error::Crypto(m) => Error::Crypto(m),
            siteline_domain::Error::Io { path, source } => Error::Io { path, source },
        }
    }
}

impl From<siteline_proto::vocab::UnknownName> for Error {
    fn from(e: siteline_proto::vocab::UnknownName) -> Self {
        Error::rule(e.field, Rule::from(e))
    }
}
