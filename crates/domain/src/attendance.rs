//! Attendance arithmetic. Attended minutes are computed from roll-call events, never typed.
//!
//! The events of one learner in one session are read in the order the device recorded them
//! (outbox seq), so the latest mark wins: `check_in` sets the arrival time (re-marking
//! replaces it), `check_out` sets the leaving time, `absent`/`excused` clear both. Minutes
//! are the overlap of [arrival, leaving or end] with the session's window.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use siteline_proto::vocab::AttendanceKind;

/// Longest session, in hours: the site refuses a longer one and HQ quarantines it.
pub const MAX_SESSION_HOURS: u32 = 12;

/// How far before a session's start or after its end a mark's time may lie.
pub const MARK_SLACK: chrono::Duration = chrono::Duration::hours(2);

/// A session's window is possible: it ends after it starts and lasts at most
/// [`MAX_SESSION_HOURS`].
pub fn session_window_ok(start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    end > start && end - start <= chrono::Duration::hours(i64::from(MAX_SESSION_HOURS))
}

/// A mark's time lies within the session's window, give or take [`MARK_SLACK`].
pub fn mark_time_ok(start: DateTime<Utc>, end: DateTime<Utc>, at: DateTime<Utc>) -> bool {
    at >= start - MARK_SLACK && at <= end + MARK_SLACK
}

/// A learner's standing in one session after all its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SessionStatus {
    /// Arrived by the start.
    Present,
    /// Arrived after the start.
    Late,
    /// Marked absent.
    Absent,
    /// Marked excused.
    Excused,
    /// No mark yet.
    Unmarked,
}

impl SessionStatus {
    /// Stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Present => "present",
            SessionStatus::Late => "late",
            SessionStatus::Absent => "absent",
            SessionStatus::Excused => "excused",
            SessionStatus::Unmarked => "unmarked",
        }
    }
}

/// Folds one learner's events in one session (in recording order) into status and minutes.
pub fn fold_session(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    events: impl IntoIterator<Item = (AttendanceKind, DateTime<Utc>)>,
) -> (SessionStatus, i64) {
    let mut status = SessionStatus::Unmarked;
    let mut arrival: Option<DateTime<Utc>> = None;
    let mut leaving: Option<DateTime<Utc>> = None;
    for (kind, at) in events {
        match kind {
            AttendanceKind::CheckIn => {
                arrival = Some(at);
                leaving = None;
                status = if at > start {
                    SessionStatus::Late
                } else {
                    SessionStatus::Present
                };
            }
            AttendanceKind::CheckOut => {
                if arrival.is_some() {
                    leaving = Some(at);
                }
            }
            AttendanceKind::Absent | AttendanceKind::Excused => {
                arrival = None;
                leaving = None;
                status = if kind == AttendanceKind::Absent {
                    SessionStatus::Absent
                } else {
                    SessionStatus::Excused
                };
            }
        }
    }
    let minutes = match arrival {
        Some(a) => {
            let from = a.max(start);
            let to = leaving.unwrap_or(end).min(end);
            (to - from).num_minutes().max(0)
        }
        None => 0,
    };
    (status, minutes)
}

/// Hours with one decimal, rounded down, from minutes: 5183 → "86.3".
pub fn hours_text(minutes: i64) -> String {
    format!("{}.{}", minutes / 60, minutes % 60 * 10 / 60)
}

/// Eligible to sit the assessment: attended ≥ ratio × required, compared exactly in
/// integers (`ratio_permille` 900 = 90%).
pub fn is_eligible(attended_minutes: i64, required_hours: u32, ratio_permille: u32) -> bool {
    attended_minutes * 1000 >= i64::from(ratio_permille) * i64::from(required_hours) * 60
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, h, m, 0).unwrap()
    }

    use AttendanceKind::*;

    #[test]
    fn present_for_the_whole_session_counts_its_length() {
        assert_eq!(
            fold_session(t(1, 0), t(4, 0), [(CheckIn, t(1, 0))]),
            (SessionStatus::Present, 180)
        );
    }

    #[test]
    fn late_arrival_and_early_leaving_count_only_the_overlap() {
        let r = fold_session(t(1, 0), t(4, 0), [(CheckIn, t(1, 30)), (CheckOut, t(3, 0))]);
        assert_eq!(r, (SessionStatus::Late, 90));
        // Leaving after the end and arriving before the start are clipped.
        let r = fold_session(t(1, 0), t(4, 0), [(CheckIn, t(0, 30)), (CheckOut, t(5, 0))]);
        assert_eq!(r, (SessionStatus::Present, 180));
    }

    #[test]
    fn the_latest_mark_wins() {
        let r = fold_session(t(1, 0), t(4, 0), [(CheckIn, t(1, 0)), (Absent, t(1, 1))]);
        assert_eq!(r, (SessionStatus::Absent, 0));
        let r = fold_session(t(1, 0), t(4, 0), [(Absent, t(1, 0)), (CheckIn, t(2, 0))]);
        assert_eq!(r, (SessionStatus::Late, 120));
        let r = fold_session(t(1, 0), t(4, 0), [(CheckIn, t(2, 0)), (CheckIn, t(1, 0))]);
        assert_eq!(r, (SessionStatus::Present, 180));
        let r = fold_session(t(1, 0), t(4, 0), [(Excused, t(1, 0))]);
        assert_eq!(r, (SessionStatus::Excused, 0));
        assert_eq!(
            fold_session(t(1, 0), t(4, 0), []),
            (SessionStatus::Unmarked, 0)
        );
    }

    #[test]
    fn check_out_without_check_in_counts_nothing() {
        assert_eq!(
            fold_session(t(1, 0), t(4, 0), [(CheckOut, t(2, 0))]),
            (SessionStatus::Unmarked, 0)
        );
    }

    #[test]
    fn eligibility_boundary_at_90_percent_is_exact() {
        // 96 h programme: 90% is 86.4 h = 5184 minutes.
        assert!(is_eligible(5184, 96, 900));
        assert!(!is_eligible(5183, 96, 900));
        // 89.9% of 100 h vs 90%.
        assert!(!is_eligible(5394, 100, 900));
        assert!(is_eligible(5400, 100, 900));
    }

    proptest! {
        #[test]
        fn minutes_never_exceed_the_session_or_go_negative(
            marks in proptest::collection::vec((0u8..4, 0u32..360), 0..12)
        ) {
            let kinds = [CheckIn, CheckOut, Absent, Excused];
            let events = marks.iter().map(|(k, m)| (kinds[*k as usize], t(0, 0) + chrono::Duration::minutes(i64::from(*m))));
            let (_, minutes) = fold_session(t(1, 0), t(4, 0), events);
            prop_assert!((0..=180).contains(&minutes));
        }
    }
}
