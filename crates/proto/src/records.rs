//! The records a site sends, one typed payload per kind of outbox row. The site builds each
//! row from these types and HQ parses each row back into them; nothing reads or writes a
//! record field by a string key. Every payload refuses fields it does not know, so a misspelt
//! key fails to parse (and HQ quarantines the row, naming the field) instead of becoming a
//! silent missing value.
//!
//! Ids are the records' UUIDv7s; personal fields travel masked, except the resident ID number,
//! which a learner row carries sealed to HQ's public key (added as the row leaves the device,
//! never in the outbox); without the learner's credit-bank consent the row is withheld.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::vocab::{
    AttendanceKind, CohortStatus, Component, ConsentPurpose, IdType, ReasonCode, Role, Sex,
};
use crate::{Entity, Op};

/// One item's mark in a practical attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct RubricMark {
    /// The catalogue's rubric item id.
    pub item_id: String,
    /// Points given (at most the item's `max_points`).
    pub points: u8,
    /// For a critical item (否决项): the candidate failed it.
    pub failed: bool,
}

/// The marks of an attempt: a score, or the practical's rubric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Marks {
    /// Theory or review: one score out of 100.
    Score {
        /// 0–100.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        score: i64,
    },
    /// Practical: every rubric item marked.
    Rubric {
        /// One mark per item.
        items: Vec<RubricMark>,
    },
}

/// A trainee's profile (`learner`, insert).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Learner {
    /// Name as on the ID card.
    pub name: String,
    /// Kind of identity document.
    pub id_type: IdType,
    /// The document number masked for display, e.g. `440***********123X`.
    pub id_masked: String,
    /// The mobile number masked, if one was given.
    pub phone_masked: Option<String>,
    /// Sex, from the resident ID number.
    pub sex: Option<Sex>,
    /// Birth date, from the resident ID number.
    pub birth_date: Option<NaiveDate>,
    /// The resident ID number sealed to HQ's public sealing key (base64 sealed box), added
    /// only as the row leaves the device, so HQ can match one credit account per person under
    /// its blind index; never in clear outside the device, never stored in the outbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number_sealed: Option<String>,
    /// The learner has not (or no longer) consented to their records reaching the credit
    /// bank: every personal field above is blank and HQ keeps only the record's id.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
    /// The whole profile as the site's other devices need it (name, masked and sealed ID and
    /// phone, the learner's wrapped data key, blind indexes), sealed under the site key (base64):
    /// HQ stores and relays it and cannot open it. Added as the row leaves the device, never
    /// stored in the outbox; absent once the learner's data is erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_sealed: Option<String>,
}

/// A change to a learner (`learner`, update).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum LearnerUpdate {
    /// The learner's personal data was erased at their request (crypto-shredding at the site):
    /// HQ blanks what it holds of them too.
    Erased {
        /// When.
        erased_at: DateTime<Utc>,
        /// The learner's profile without their numbers (name, masked forms, the ID's blind
        /// index), sealed under the site key: added as the row leaves the device. HQ relays it
        /// in place of the profile the learner's row carried, so a device that joins the site
        /// later still gets the learner, and none of their numbers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site_sealed: Option<String>,
    },
    /// The same person was registered twice (on two devices of the site): the site manager
    /// merged this learner into `into`, which is the one shown from now on; this one's
    /// enrolments and history stay as recorded and are shown under `into`.
    MergedInto {
        /// The learner kept.
        into: Uuid,
    },
    /// Fields of the learner corrected at the site (a misspelt name, a new phone number).
    /// Each field changed carries the stamp of that field's latest change the writer had seen
    /// (the version it was based on); of two changes of one field the later stamp wins
    /// everywhere, and one that had not seen the other is shown to the manager as an overlap.
    Edited {
        /// The fields changed, each with the version it was based on.
        fields: Vec<LearnerFieldBase>,
        /// The new name, in clear for HQ (it prints on certificates); absent when the name
        /// did not change or the learner has not consented to the credit bank.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The new name for the site's other devices, sealed under the site key (base64):
        /// added as the row leaves the device, never stored in the outbox; HQ relays it and
        /// cannot open it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        site_sealed: Option<String>,
        /// The new phone number (and its masked form) for the site's other devices, sealed
        /// under the site key like `site_sealed`; HQ drops it from what it relays once the
        /// learner's data is erased.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone_sealed: Option<String>,
    },
}

/// A field of a learner the site can correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum LearnerField {
    /// Name as on the ID card.
    Name,
    /// Mobile number (sealed; masked on screen).
    Phone,
}

impl LearnerField {
    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            LearnerField::Name => "name",
            LearnerField::Phone => "phone",
        }
    }

    /// The field a stored name stands for.
    pub fn parse(name: &str) -> Option<LearnerField> {
        [LearnerField::Name, LearnerField::Phone]
            .into_iter()
            .find(|f| f.as_str() == name)
    }
}

/// A learner field changed, with the stamp of that field's latest change the writer had seen
/// (none: it had seen only the registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnerFieldBase {
    /// Which field.
    pub field: LearnerField,
    /// The version it was based on.
    pub base: Option<crate::hlc::Hlc>,
}

/// A consent granted or refused (`consent`, insert; append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// Whose consent.
    pub learner_id: Uuid,
    /// For what.
    pub purpose: ConsentPurpose,
    /// The privacy notice version the learner was shown.
    pub notice_version: String,
    /// Granted (true) or refused or withdrawn (false).
    pub granted: bool,
}

/// A staff account (`staff_user`, insert or update); never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffUser {
    /// Sign-in name.
    pub username: String,
    /// Name shown on screen and on reports.
    pub display_name: String,
    /// What they may do.
    pub role: Role,
    /// False once disabled.
    pub active: bool,
    /// The account's password hash sealed under the site key (base64), so the person signs in
    /// on every device of the site; HQ relays it and cannot open it. Added as the row leaves
    /// the device, never stored in the outbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_sealed: Option<String>,
}

/// A cohort opened (`cohort`, insert).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cohort {
    /// The catalogue's programme version it trains for.
    pub programme_version_id: String,
    /// Name shown on screen.
    pub name: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Most learners.
    pub capacity: u32,
    /// Staff ids of its instructors.
    pub instructors: Vec<Uuid>,
}

/// A change to a cohort (`cohort`, update).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum CohortUpdate {
    /// The cohort moved forward in its lifecycle.
    Status {
        /// The new status.
        status: CohortStatus,
    },
    /// The cohort's details corrected by a manager. Each field changed carries the version it
    /// was based on (as `LearnerUpdate::Edited`); the start and end dates change together, so
    /// a merge never leaves a cohort ending before it starts.
    Edited {
        /// The fields changed, each with the version it was based on.
        fields: Vec<CohortFieldBase>,
        /// The new name, when it changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The new first and last days, when they changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dates: Option<(NaiveDate, NaiveDate)>,
        /// The new capacity, when it changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        capacity: Option<u32>,
    },
}

/// A field of a cohort a manager can correct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum CohortField {
    /// Name shown on screen.
    Name,
    /// First and last day, together.
    Dates,
    /// Most learners.
    Capacity,
}

impl CohortField {
    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            CohortField::Name => "name",
            CohortField::Dates => "dates",
            CohortField::Capacity => "capacity",
        }
    }

    /// The field a stored name stands for.
    pub fn parse(name: &str) -> Option<CohortField> {
        [CohortField::Name, CohortField::Dates, CohortField::Capacity]
            .into_iter()
            .find(|f| f.as_str() == name)
    }
}

/// A cohort field changed, with the version it was based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortFieldBase {
    /// Which field.
    pub field: CohortField,
    /// The stamp of that field's latest change the writer had seen, if any.
    pub base: Option<crate::hlc::Hlc>,
}

/// A learner's place in a cohort (`enrolment`, insert).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// The cohort.
    pub cohort_id: Uuid,
    /// The learner.
    pub learner_id: Uuid,
}

/// A class session scheduled (`session`, insert).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// The cohort.
    pub cohort_id: Uuid,
    /// The unit taught, if one.
    pub unit_id: Option<String>,
    /// Planned start.
    pub starts_at: DateTime<Utc>,
    /// Planned end.
    pub ends_at: DateTime<Utc>,
    /// The staff id of the instructor taking it.
    pub instructor_id: Option<Uuid>,
}

/// A change to a session (`session`, update).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum SessionUpdate {
    /// The session was closed: its attendance takes only corrections from now on.
    Closed {
        /// Device clock when closed.
        closed_at: DateTime<Utc>,
        /// The staff id of who closed it.
        closed_by: Uuid,
    },
}

/// A roll-call mark (`attendance_event`, insert; append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceEvent {
    /// The session.
    pub session_id: Uuid,
    /// The learner.
    pub learner_id: Uuid,
    /// What the mark says.
    pub kind: AttendanceKind,
    /// When it applies (arrival or departure time).
    pub at: DateTime<Utc>,
    /// How it was taken, e.g. `roll_call`.
    pub method: String,
    /// The staff id of who took it.
    pub attested_by: Uuid,
    /// The correction record this mark carries out, if any.
    pub correction_id: Option<Uuid>,
}

/// An assessment attempt with its marks (`assessment_attempt`, insert).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentAttempt {
    /// Whose attempt.
    pub enrolment_id: Uuid,
    /// Which part.
    pub component: Component,
    /// When it was held.
    pub held_at: DateTime<Utc>,
    /// Staff ids of the assessors present.
    pub assessors: Vec<Uuid>,
    /// The marks as entered (HQ rescores a rubric against its own catalogue).
    pub marks: Marks,
    /// 1 for the first attempt of this component, then 2, 3…
    pub attempt_no: u32,
    /// The total, 0–100, as the site computed it.
    pub score: u8,
    /// The site's verdict on this component.
    pub passed: bool,
    /// A critical item was failed, as the site saw it.
    pub critical_failed: bool,
    /// Set when the attempt was recorded locked (a correction is locked from birth).
    pub locked_at: Option<DateTime<Utc>>,
    /// The attempt this one corrects, if it is a correction.
    pub corrects: Option<Uuid>,
    /// The correction record, if it is a correction.
    pub correction_id: Option<Uuid>,
}

/// A change to an attempt before or at its lock point (`assessment_attempt`, update).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum AttemptUpdate {
    /// The draft's marks were changed.
    Marks {
        /// The new marks.
        marks: Marks,
        /// The new total.
        score: u8,
        /// The site's new verdict.
        passed: bool,
        /// The staff id of who edited it.
        edited_by: Uuid,
    },
    /// The attempt was locked: from now on only a correction changes it.
    Locked {
        /// Device clock when locked.
        locked_at: DateTime<Utc>,
    },
}

/// A request to HQ to accredit a programme (`outcome_claim`, insert; immutable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeClaim {
    /// The enrolment claimed for.
    pub enrolment_id: Uuid,
    /// The learner.
    pub learner_id: Uuid,
    /// The programme version claimed.
    pub programme_version_id: String,
    /// Minutes attended as the site computed them (HQ recomputes; for display only).
    pub attended_minutes: i64,
    /// The current attempt of each component, as evidence.
    pub attempt_ids: Vec<Uuid>,
    /// The earlier claim of the same enrolment this one replaces, after HQ answered it
    /// `needs_info` or `rejected` and the site fixed the records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Uuid>,
}

/// A correction naming the record it corrects (`correction`, insert; append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    /// The kind of record corrected.
    pub entity: Entity,
    /// The record corrected.
    pub target_id: Uuid,
    /// Why, as a category.
    pub reason_code: ReasonCode,
    /// Why, in words.
    pub reason: String,
    /// The staff id of who approved it.
    pub approved_by: Uuid,
    /// Their role when they approved it.
    pub approver_role: Role,
}

/// One outbox row's record, typed by its entity and operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// `learner`, insert.
    Learner(Learner),
    /// `learner`, update.
    LearnerUpdate(LearnerUpdate),
    /// `consent`, insert.
    Consent(Consent),
    /// `staff_user`, insert or update (`op` tells which).
    StaffUser(Op, StaffUser),
    /// `cohort`, insert.
    Cohort(Cohort),
    /// `cohort`, update.
    CohortUpdate(CohortUpdate),
    /// `enrolment`, insert.
    Enrolment(Enrolment),
    /// `session`, insert.
    Session(Session),
    /// `session`, update.
    SessionUpdate(SessionUpdate),
    /// `attendance_event`, insert.
    AttendanceEvent(AttendanceEvent),
    /// `assessment_attempt`, insert.
    AssessmentAttempt(AssessmentAttempt),
    /// `assessment_attempt`, update.
    AttemptUpdate(AttemptUpdate),
    /// `outcome_claim`, insert.
    OutcomeClaim(OutcomeClaim),
    /// `correction`, insert.
    Correction(Correction),
}

/// Why a row's payload is not a record of its kind.
#[derive(Debug)]
pub enum RecordError {
    /// The entity takes no such operation (e.g. an update of an append-only event).
    Operation {
        /// The row's entity.
        entity: Entity,
        /// The row's operation.
        op: Op,
    },
    /// The payload does not fit the entity's type; the serde error names the field.
    Payload(serde_json::Error),
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::Operation { entity, op } => {
                let done = match op {
                    Op::Insert => "inserted",
                    Op::Update => "updated",
                };
                write!(f, "{} records cannot be {done}", entity.as_str())
            }
            RecordError::Payload(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RecordError {}

impl Record {
    /// The entity this record travels as.
    pub fn entity(&self) -> Entity {
        match self {
            Record::Learner(_) | Record::LearnerUpdate(_) => Entity::Learner,
            Record::Consent(_) => Entity::Consent,
            Record::StaffUser(..) => Entity::StaffUser,
            Record::Cohort(_) | Record::CohortUpdate(_) => Entity::Cohort,
            Record::Enrolment(_) => Entity::Enrolment,
            Record::Session(_) | Record::SessionUpdate(_) => Entity::Session,
            Record::AttendanceEvent(_) => Entity::AttendanceEvent,
            Record::AssessmentAttempt(_) | Record::AttemptUpdate(_) => Entity::AssessmentAttempt,
            Record::OutcomeClaim(_) => Entity::OutcomeClaim,
            Record::Correction(_) => Entity::Correction,
        }
    }

    /// The operation this record travels as.
    pub fn op(&self) -> Op {
        match self {
            Record::StaffUser(op, _) => *op,
            Record::LearnerUpdate(_)
            | Record::CohortUpdate(_)
            | Record::SessionUpdate(_)
            | Record::AttemptUpdate(_) => Op::Update,
            _ => Op::Insert,
        }
    }

    /// The payload as it goes into the outbox and onto the wire.
    pub fn to_payload(&self) -> serde_json::Value {
        let value = match self {
            Record::Learner(r) => serde_json::to_value(r),
            Record::LearnerUpdate(r) => serde_json::to_value(r),
            Record::Consent(r) => serde_json::to_value(r),
            Record::StaffUser(_, r) => serde_json::to_value(r),
            Record::Cohort(r) => serde_json::to_value(r),
            Record::CohortUpdate(r) => serde_json::to_value(r),
            Record::Enrolment(r) => serde_json::to_value(r),
            Record::Session(r) => serde_json::to_value(r),
            Record::SessionUpdate(r) => serde_json::to_value(r),
            Record::AttendanceEvent(r) => serde_json::to_value(r),
            Record::AssessmentAttempt(r) => serde_json::to_value(r),
            Record::AttemptUpdate(r) => serde_json::to_value(r),
            Record::OutcomeClaim(r) => serde_json::to_value(r),
            Record::Correction(r) => serde_json::to_value(r),
        };
        // These types hold only strings, numbers, ids, dates and enums with string names: they
        // always serialise (no maps with non-string keys, no failing custom serialisers).
        value.unwrap_or(serde_json::Value::Null)
    }

    /// Parses a row's payload into the type its entity and operation call for.
    pub fn parse(
        entity: Entity,
        op: Op,
        payload: &serde_json::Value,
    ) -> Result<Record, RecordError> {
        fn typed<T: serde::de::DeserializeOwned>(p: &serde_json::Value) -> Result<T, RecordError> {
            T::deserialize(p).map_err(RecordError::Payload)
        }
        Ok(match (entity, op) {
            (Entity::Learner, Op::Insert) => Record::Learner(typed(payload)?),
            (Entity::Learner, Op::Update) => Record::LearnerUpdate(typed(payload)?),
            (Entity::Consent, Op::Insert) => Record::Consent(typed(payload)?),
            (Entity::StaffUser, op) => Record::StaffUser(op, typed(payload)?),
            (Entity::Cohort, Op::Insert) => Record::Cohort(typed(payload)?),
            (Entity::Cohort, Op::Update) => Record::CohortUpdate(typed(payload)?),
            (Entity::Enrolment, Op::Insert) => Record::Enrolment(typed(payload)?),
            (Entity::Session, Op::Insert) => Record::Session(typed(payload)?),
            (Entity::Session, Op::Update) => Record::SessionUpdate(typed(payload)?),
            (Entity::AttendanceEvent, Op::Insert) => Record::AttendanceEvent(typed(payload)?),
            (Entity::AssessmentAttempt, Op::Insert) => Record::AssessmentAttempt(typed(payload)?),
            (Entity::AssessmentAttempt, Op::Update) => Record::AttemptUpdate(typed(payload)?),
            (Entity::OutcomeClaim, Op::Insert) => Record::OutcomeClaim(typed(payload)?),
            (Entity::Correction, Op::Insert) => Record::Correction(typed(payload)?),
            (entity, op) => return Err(RecordError::Operation { entity, op }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> Record {
        Record::OutcomeClaim(OutcomeClaim {
            enrolment_id: Uuid::now_v7(),
            learner_id: Uuid::now_v7(),
            programme_version_id: "maternity-L5-v1".into(),
            attended_minutes: 7200,
            attempt_ids: vec![Uuid::now_v7()],
            replaces: None,
        })
    }

    #[test]
    fn a_record_round_trips_through_its_payload() {
        let r = claim();
        let back = Record::parse(r.entity(), r.op(), &r.to_payload()).unwrap();
        assert_eq!(back, r);
        let lock = Record::AttemptUpdate(AttemptUpdate::Locked {
            locked_at: Utc::now(),
        });
        assert_eq!(
            Record::parse(lock.entity(), lock.op(), &lock.to_payload()).unwrap(),
            lock
        );
    }

    #[test]
    fn a_misspelt_field_fails_and_names_the_field() {
        let r = claim();
        let mut p = r.to_payload();
        let obj = p.as_object_mut().unwrap();
        let v = obj.remove("enrolment_id").unwrap();
        obj.insert("enrollment_id".into(), v);
        let err = Record::parse(r.entity(), r.op(), &p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("enrollment_id"), "{err}");
    }

    #[test]
    fn an_update_of_an_append_only_event_is_refused() {
        let err =
            Record::parse(Entity::AttendanceEvent, Op::Update, &serde_json::json!({})).unwrap_err();
        assert!(matches!(err, RecordError::Operation { .. }));
        assert!(err.to_string().contains("attendance_event"));
    }
}
