//! Newtype ids for site records. Every id is a UUIDv7 made on the device, stored as a
//! 16-byte blob, so ids sort by creation time and never clash between devices. The
//! `rusqlite` feature lets the ids go into and out of SQLite as they are.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh UUIDv7.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        #[cfg(feature = "rusqlite")]
        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        #[cfg(feature = "rusqlite")]
        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                <Uuid as rusqlite::types::FromSql>::column_result(value).map(Self)
            }
        }
    )*};
}

id_type!(
    /// A trainee.
    LearnerId,
    /// A staff account.
    StaffId,
    /// A cohort (培训班).
    CohortId,
    /// A learner's enrolment in a cohort.
    EnrolmentId,
    /// A class session (课次).
    SessionId,
    /// One roll-call mark.
    AttendanceEventId,
    /// One assessment attempt.
    AttemptId,
    /// An outcome claim sent to HQ.
    ClaimId,
    /// A correction record.
    CorrectionId,
    /// A consent record.
    ConsentId,
);
