//! Wire types shared by the site app (`siteline-core`) and the credit bank (`creditbank`).
//!
//! Terms: an *operation* is one change a device recorded, identified by `(device_id, seq)`;
//! an *outbox row* is an operation waiting to be pushed; a *batch* is a run of consecutive
//! outbox rows sent together. This crate holds types only: no I/O, no storage.

pub mod catalogue;
pub mod hlc;
pub mod records;
pub mod sync;
pub mod vocab;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The sync protocol version this build speaks; sent in the `Siteline-Protocol` header.
/// Version 5: a certificate carries its 职业技能等级证书 fields, its standing's details, the
/// Open Badges credential HQ signed for it and its verify page. Version 4: every operation carries its writer's hybrid-logical-clock stamp, and a pull
/// carries the operations of the site's other devices. Version 3: claims may name the claim
/// they replace, HQ signs its answers, and every request (pulls and bundles too) is signed by
/// the device.
pub const PROTOCOL_VERSION: u32 = 5;

/// The kinds of site record that travel in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A trainee's profile (personal fields travel encrypted).
    Learner,
    /// A consent granted or withdrawn (append-only).
    Consent,
    /// A staff account (instructor, site manager, assessor); never carries the password hash.
    StaffUser,
    /// A cohort (培训班) of one programme version.
    Cohort,
    /// A learner's place in a cohort.
    Enrolment,
    /// A scheduled class session (课次).
    Session,
    /// A roll-call mark (append-only).
    AttendanceEvent,
    /// An assessment attempt with its rubric scores.
    AssessmentAttempt,
    /// A request to HQ to accredit an outcome.
    OutcomeClaim,
    /// A correction naming the record it corrects, with reason and approver.
    Correction,
}

impl Entity {
    /// The stable snake_case name used on the wire and in the outbox table.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Learner => "learner",
            Entity::Consent => "consent",
            Entity::StaffUser => "staff_user",
            Entity::Cohort => "cohort",
            Entity::Enrolment => "enrolment",
            Entity::Session => "session",
            Entity::AttendanceEvent => "attendance_event",
            Entity::AssessmentAttempt => "assessment_attempt",
            Entity::OutcomeClaim => "outcome_claim",
            Entity::Correction => "correction",
        }
    }

    /// Parses the wire name back; `None` for a name this build does not know.
    pub fn parse(name: &str) -> Option<Entity> {
        ALL_ENTITIES.iter().copied().find(|e| e.as_str() == name)
    }
}

/// Every entity, in the order parents come before children.
pub const ALL_ENTITIES: [Entity; 10] = [
    Entity::StaffUser,
    Entity::Learner,
    Entity::Consent,
    Entity::Cohort,
    Entity::Enrolment,
    Entity::Session,
    Entity::AttendanceEvent,
    Entity::AssessmentAttempt,
    Entity::OutcomeClaim,
    Entity::Correction,
];

/// What an operation did to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// The record was created.
    Insert,
    /// A mutable record changed (only before its lock point).
    Update,
}

impl Op {
    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
        }
    }

    /// Parses the wire name back.
    pub fn parse(name: &str) -> Option<Op> {
        match name {
            "insert" => Some(Op::Insert),
            "update" => Some(Op::Update),
            _ => None,
        }
    }
}

/// One operation as it leaves the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxRow {
    /// The device that recorded it.
    pub device_id: Uuid,
    /// The device epoch (a restored backup starts a new one).
    pub epoch: u32,
    /// Strictly increasing per device and epoch, starting at 1.
    pub seq: u64,
    /// Kind of record.
    pub entity: Entity,
    /// What happened to it.
    pub op: Op,
    /// The record's own id (UUIDv7 made on the device).
    pub record_id: Uuid,
    /// The record's fields after the change.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    /// Device clock when recorded: for display and audit only, never for ordering.
    pub recorded_at: DateTime<Utc>,
    /// The writer's hybrid-logical-clock stamp: orders this operation among those of every
    /// device of the site (docs/SYNC.md, "Clocks").
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub hlc: hlc::Hlc,
}

/// A run of consecutive operations from one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushBatch {
    /// The pushing device.
    pub device_id: Uuid,
    /// Its epoch.
    pub epoch: u32,
    /// First seq in `rows`.
    pub from_seq: u64,
    /// Last seq in `rows`.
    pub to_seq: u64,
    /// The operations, in seq order.
    pub rows: Vec<OutboxRow>,
}

/// The error body every HTTP refusal carries, so the site can show what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `sequence_gap`.
    pub code: String,
    /// What is wrong and what to do, in plain words.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for e in ALL_ENTITIES {
            assert_eq!(Entity::parse(e.as_str()), Some(e));
            assert!(seen.insert(e.as_str()));
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
        }
        assert_eq!(Entity::parse("ledger"), None);
    }

    #[test]
    fn op_names_round_trip() {
        for op in [Op::Insert, Op::Update] {
            assert_eq!(Op::parse(op.as_str()), Some(op));
        }
        assert_eq!(Op::parse("delete"), None);
    }
}
