//! The closed vocabularies records use on the wire and in both stores: roles, statuses,
//! document types, consent purposes, marks, assessment components, correction reasons. Each
//! has one stable snake_case name, the same in JSON, in SQLite and in TypeScript.

use serde::{Deserialize, Serialize};

/// A name that is not one of a vocabulary's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// Dotted field name, e.g. `assessment.component`.
    pub field: &'static str,
    /// What kind of word was expected, e.g. `component`.
    pub what: &'static str,
    /// What was found.
    pub value: String,
    /// The words that are accepted.
    pub expected: &'static str,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown {} {:?}; use {}",
            self.what, self.value, self.expected
        )
    }
}

impl std::error::Error for UnknownName {}

/// A cohort's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CohortStatus {
    /// Being set up.
    Draft,
    /// Training under way.
    Running,
    /// Finished; no new enrolments or sessions.
    Closed,
}

impl CohortStatus {
    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            CohortStatus::Draft => "draft",
            CohortStatus::Running => "running",
            CohortStatus::Closed => "closed",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> CohortStatus {
        match s {
            "running" => CohortStatus::Running,
            "closed" => CohortStatus::Closed,
            _ => CohortStatus::Draft,
        }
    }
}

/// The kind of identity document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证 (checked by GB 11643 checksum).
    ResidentId,
    /// Passport.
    Passport,
    /// Other document (e.g. Hong Kong/Macao/Taiwan permits).
    Other,
}

impl IdType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdType::ResidentId => "resident_id",
            IdType::Passport => "passport",
            IdType::Other => "other",
        }
    }
}

/// Purposes a learner consents to separately (PIPL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    /// Send records to the credit bank for accreditation.
    CreditBank,
    /// Photos that show the learner's face as evidence.
    FacePhotos,
}

impl ConsentPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentPurpose::CreditBank => "credit_bank",
            ConsentPurpose::FacePhotos => "face_photos",
        }
    }
}

/// Why a locked record is corrected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Typed or clicked wrongly.
    EntryError,
    /// Evidence arrived after the lock (sign-in sheet, note).
    LateEvidence,
    /// The learner appealed and the appeal was upheld.
    Appeal,
    /// Anything else; the reason text says what.
    Other,
}

impl ReasonCode {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::EntryError => "entry_error",
            ReasonCode::LateEvidence => "late_evidence",
            ReasonCode::Appeal => "appeal",
            ReasonCode::Other => "other",
        }
    }
}

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 授课教师: roll call and assessments for their cohorts.
    Instructor,
    /// 站点负责人: everything at the site, including corrections after lock and users.
    SiteManager,
    /// 考评员: records assessments.
    Assessor,
}

impl Role {
    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Instructor => "instructor",
            Role::SiteManager => "site_manager",
            Role::Assessor => "assessor",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "instructor" => Some(Role::Instructor),
            "site_manager" => Some(Role::SiteManager),
            "assessor" => Some(Role::Assessor),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Instructor => "instructor",
            Role::SiteManager => "site manager",
            Role::Assessor => "assessor",
        })
    }
}

/// What a roll-call event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AttendanceKind {
    /// Arrived at `at` (present, or late when `at` is after the start).
    CheckIn,
    /// Left at `at`.
    CheckOut,
    /// Not there.
    Absent,
    /// Not there, with leave.
    Excused,
}

impl AttendanceKind {
    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            AttendanceKind::CheckIn => "check_in",
            AttendanceKind::CheckOut => "check_out",
            AttendanceKind::Absent => "absent",
            AttendanceKind::Excused => "excused",
        }
    }

    /// Parses the stored code.
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        Ok(match s {
            "check_in" => AttendanceKind::CheckIn,
            "check_out" => AttendanceKind::CheckOut,
            "absent" => AttendanceKind::Absent,
            "excused" => AttendanceKind::Excused,
            other => {
                return Err(UnknownName {
                    field: "attendance.kind",
                    what: "mark",
                    value: other.into(),
                    expected: "check_in, check_out, absent or excused",
                });
            }
        })
    }
}

/// The parts of an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// 理论知识考试
    Theory,
    /// 技能考核
    Practical,
    /// 综合评审 (L2 and above)
    Review,
}

impl Component {
    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Theory => "theory",
            Component::Practical => "practical",
            Component::Review => "review",
        }
    }

    /// Parses the stored code.
    pub fn parse(s: &str) -> Result<Self, UnknownName> {
        match s {
            "theory" => Ok(Component::Theory),
            "practical" => Ok(Component::Practical),
            "review" => Ok(Component::Review),
            other => Err(UnknownName {
                field: "assessment.component",
                what: "component",
                value: other.into(),
                expected: "theory, practical or review",
            }),
        }
    }
}

/// Sex as encoded in the 17th digit (odd = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 女
    Female,
    /// 男
    Male,
}

impl Sex {
    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
        }
    }
}
