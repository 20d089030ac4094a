//! The error every command returns, serialised as `{ kind, params, message }`: the UI branches
//! on `kind`, words the error in the user's language from `kind` and `params` (its own zh/en
//! texts), and falls back to `message` (core's English sentence) only for what has no text yet.

use serde::Serialize;
use siteline_core::Role;
use siteline_domain::Rule;

/// What went wrong, with the values the UI needs to say it. Exported to TypeScript.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "kind", content = "params", rename_all = "snake_case")]
pub enum ErrorKind {
    /// A field failed validation; nothing was written.
    Invalid {
        /// Dotted field name, e.g. `learner.id_number`.
        field: String,
        /// The rule broken, when it has its own words in the UI (boxed: most errors have none,
        /// and it keeps every command's `Result` small).
        rule: Option<Box<Rule>>,
    },
    /// A record that does not exist.
    NotFound {
        /// Kind of record, e.g. `programme version`.
        what: String,
        /// The id or key looked up.
        id: String,
    },
    /// The record passed its lock point (a closed session, a locked attempt).
    Locked {
        /// What is locked.
        what: String,
    },
    /// A second copy of something that must be unique.
    Duplicate {
        /// Kind of record.
        what: String,
    },
    /// The signed-in role may not do this.
    Forbidden {
        /// What was attempted.
        action: String,
        /// The role that tried.
        role: Role,
    },
    /// Sealing or opening personal data failed (wrong site key, damaged data).
    Crypto,
    /// The database is from a newer Siteline.
    NewerSchema {
        /// Schema version found.
        #[cfg_attr(test, ts(type = "number"))]
        found: i64,
        /// Highest version this build knows.
        #[cfg_attr(test, ts(type = "number"))]
        supported: i64,
    },
    /// The database thread stopped.
    StoreClosed,
    /// A file could not be read or written.
    Io {
        /// The file.
        path: String,
    },
    /// The credit bank could not be reached.
    Offline,
    /// Something answered that is not the credit bank.
    NotCreditBank,
    /// The credit bank refused.
    Refused {
        /// HQ's error code, e.g. `bad_enrolment_code`.
        code: String,
    },
    /// The device is not enrolled with the credit bank.
    NotEnrolled,
    /// Another device of the site could not be synced with on the LAN, or refused.
    PeerRefused,
    /// SQLite reported an error.
    Database,
    /// Stored data could not be read.
    DataFormat,
    /// Nobody is signed in.
    SignedOut,
    /// The screen locked after being idle.
    ScreenLocked,
    /// An update could not be checked or installed.
    Update,
    /// Anything else (the message says what).
    Internal,
}

impl From<&siteline_core::Error> for ErrorKind {
    fn from(e: &siteline_core::Error) -> Self {
        use siteline_core::Error as E;
        match e {
            E::Invalid { field, rule, .. } => ErrorKind::Invalid {
                field: (*field).into(),
                rule: rule.clone().map(Box::new),
            },
            E::NotFound { what, id } => ErrorKind::NotFound {
                what: (*what).into(),
                id: id.clone(),
            },
            E::Locked { what, .. } => ErrorKind::Locked { what: what.clone() },
            E::Duplicate { what, .. } => ErrorKind::Duplicate {
                what: (*what).into(),
            },
            E::Forbidden { action, role } => ErrorKind::Forbidden {
                action: (*action).into(),
                role: *role,
            },
            E::Crypto(_) => ErrorKind::Crypto,
            E::NewerSchema { found, supported } => ErrorKind::NewerSchema {
                found: *found,
                supported: *supported,
            },
            E::StoreClosed => ErrorKind::StoreClosed,
            E::Io { path, .. } => ErrorKind::Io { path: path.clone() },
            E::Network(_) => ErrorKind::Offline,
            E::NotCreditBank(_) => ErrorKind::NotCreditBank,
            E::Refused { code, .. } => ErrorKind::Refused { code: code.clone() },
            E::NotEnrolled => ErrorKind::NotEnrolled,
            E::PeerRefused(_) => ErrorKind::PeerRefused,
            E::Database(_) => ErrorKind::Database,
            E::Json(_) => ErrorKind::DataFormat,
        }
    }
}

/// A command's failure as the UI receives it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CommandError {
    /// The kind and its parameters (`kind`, `params` on the wire).
    #[serde(flatten)]
    pub kind: ErrorKind,
    /// What went wrong and what to do, in English (the UI's fallback).
    pub message: String,
}

impl CommandError {
    /// An error of the shell's own.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CommandError {
            kind,
            message: message.into(),
        }
    }
}

impl From<siteline_core::Error> for CommandError {
    fn from(e: siteline_core::Error) -> Self {
        CommandError {
            kind: ErrorKind::from(&e),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_kind_keeps_its_name_and_a_rule_travels_with_its_parameters() {
        let e = siteline_core::Error::from(
            siteline_domain::resident_id::ResidentId::parse("11010519491231002Y").unwrap_err(),
        );
        let core_kind = e.kind();
        let json = serde_json::to_value(CommandError::from(e)).unwrap();
        // The UI branches on the same names core gives its errors.
        assert_eq!(json["kind"], core_kind);
        assert_eq!(json["kind"], "invalid");
        assert_eq!(json["params"]["field"], "learner.id_number");
        assert_eq!(json["params"]["rule"]["rule"], "id_last_character");
        assert!(json["message"].as_str().unwrap().contains("digit or X"));
        let e = siteline_core::Error::rule(
            "cohort.capacity",
            Rule::OutOfRange {
                min: 1,
                max: 200,
                value: 500,
            },
        );
        let json = serde_json::to_value(CommandError::from(e)).unwrap();
        assert_eq!(json["params"]["rule"]["max"], 200);
        assert_eq!(json["params"]["rule"]["value"], 500);
        let e = siteline_core::Error::Refused {
            code: "bad_enrolment_code".into(),
            message: "the code was used".into(),
        };
        let core_kind = e.kind();
        let json = serde_json::to_value(CommandError::from(e)).unwrap();
        assert_eq!(json["kind"], core_kind);
        assert_eq!(
            (json["kind"].as_str(), json["params"]["code"].as_str()),
            (Some("refused"), Some("bad_enrolment_code"))
        );
    }
}
