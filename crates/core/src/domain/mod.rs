//! Pure domain rules: identity numbers, scores and pass decisions, credits and attendance
//! arithmetic. Nothing here touches the database; the store calls these before it writes.

pub mod attendance;
pub mod certificate;
pub mod credits;
pub mod person;
pub mod resident_id;
pub mod scores;
