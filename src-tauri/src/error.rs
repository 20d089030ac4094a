//! The error every command returns, serialised as `{ kind, message }` so the UI can branch on
//! `kind` and show `message`.

use serde::Serialize;

/// A command's failure as the UI receives it.
#[derive(Debug, Serialize)]
pub struct CommandError {
    /// Stable kind from `siteline_core::Error::kind`.
    pub kind: &'static str,
    /// What went wrong and what to do.
    pub message: String,
}

impl From<siteline_core::Error> for CommandError {
    fn from(e: siteline_core::Error) -> Self {
        CommandError {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}
