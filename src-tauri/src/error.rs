//! The error every command returns, serialised as `{ kind, message }` so the UI can branch on
//! `kind` and show `message`.

use serde::Serialize;

/// A command's failure as the UI receives it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct CommandError {
    /// Stable kind from `siteline_core::Error::kind`, or the shell's own (`signed_out`, `locked`).
    pub kind: &'static str,
    /// What went wrong and what to do.
    pub message: String,
}

impl CommandError {
    /// An error of the shell's own.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        CommandError {
            kind,
            message: message.into(),
        }
    }
}

impl From<siteline_core::Error> for CommandError {
    fn from(e: siteline_core::Error) -> Self {
        CommandError {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}
