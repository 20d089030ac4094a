//! Roll call, the session lock point and corrections after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, site};
use siteline_core::store::attendance::{self, Mark};
use siteline_core::store::corrections::{Reason, ReasonCode};
use siteline_domain::attendance::SessionStatus;

fn reason() -> Reason {
    Reason {
        code: ReasonCode::LateEvidence,
        text: "签到表显示该学员迟到后到场".into(),
    }
}

#[test]
fn a_40_learner_roll_call_computes_each_standing_and_minutes() {
    let mut f = site();
    let cohort = f.cohort("maternity-L5-v1");
    let ls = f.learners(cohort, 0, 40);
    let session = f.sessions(cohort, 1, 4)[0];
    let mut marks: Vec<_> = ls.iter().map(|l| (*l, Mark::Present)).collect();
    marks[1].1 = Mark::Late { at: at(2, 2, 0) };
    marks[2].1 = Mark::Absent;
    marks[3].1 = Mark::Excused;
    let instructor = f.instructor;
    assert_eq!(
        attendance::roll_call(&mut f.site, &instructor, session, &marks).unwrap(),
        40
    );
    attendance::mark(
        &mut f.site,
        &instructor,
        session,
        ls[4],
        Mark::Left { at: at(2, 3, 0) },
    )
    .unwrap();
    let roll = attendance::roll(f.site.conn(), session).unwrap();
    assert_eq!(roll.len(), 40);
    let line = |i: usize| roll.iter().find(|r| r.learner_id == ls[i]).unwrap();
    assert_eq!(
        (line(0).status, line(0).minutes),
        (SessionStatus::Present, 240)
    );
    assert_eq!(
        (line(1).status, line(1).minutes),
        (SessionStatus::Late, 180)
    );
    assert_eq!(
        (line(2).status, line(2).minutes),
        (SessionStatus::Absent, 0)
    );
    assert_eq!(
        (line(3).status, line(3).minutes),
        (SessionStatus::Excused, 0)
    );
    assert_eq!(
        (line(4).status, line(4).minutes),
        (SessionStatus::Present, 120)
    );
    assert_eq!(f.count("attendance_event"), 41);
}

#[test]
fn re_marking_before_close_replaces_the_mark() {
    let mut f = site();
    let cohort = f.cohort("maternity-L5-v1");
    let ls = f.learners(cohort, 0, 1);
    let session = f.sessions(cohort, 1, 4)[0];
    let instructor = f.instructor;
    attendance::mark(&mut f.site, &instructor, session, ls[0], Mark::Absent).unwrap();
    attendance::mark(&mut f.site, &instructor, session, ls[0], Mark::Present).unwrap();
    let roll = attendance::roll(f.site.conn(), session).unwrap();
    assert_eq!(
        (roll[0].status, roll[0].minutes),
        (SessionStatus::Present, 240)
    );
    // Both marks are kept: attendance is append-only.
    assert_eq!(f.count("attendance_event"), 2);
}

#[test]
fn a_closed_session_takes_no_attendance_and_nothing_is_written() {
    let mut f = site();
    let cohort = f.cohort("maternity-L5-v1");
    let ls = f.learners(cohort, 0, 2);
    let session = f.sessions(cohort, 1, 4)[0];
    let instructor = f.instructor;
    attendance::mark(&mut f.site, &instructor, session, ls[0], Mark::Present).unwrap();
    attendance::close_session(&mut f.site, &instructor, session).unwrap();
    let before = (f.count("attendance_event"), f.next_seq());
    let err =
        attendance::mark(&mut f.site, &instructor, session, ls[1], Mark::Present).unwrap_err();
    assert_eq!(err.kind(), "locked");
    assert!(err.to_string().contains("closed"));
    assert_eq!((f.count("attendance_event"), f.next_seq()), before);
    assert!(attendance::close_session(&mut f.site, &instructor, session).is_err());
    // Even raw SQL cannot slip past the lock or edit history.
    let raw = f.site.conn().execute(
        "INSERT INTO attendance_event (id, session_id, learner_id, kind, at, method, seq, recorded_at)
         VALUES (x'00', ?1, ?2, 'check_in', 'now', 'roll_call', 999, 'now')",
        rusqlite::params![session, ls[1]],
    );
    assert!(raw.unwrap_err().to_string().contains("closed"));
    assert!(
        f.site
            .conn()
            .execute("UPDATE attendance_event SET kind = 'absent'", [])
            .is_err()
    );
    assert!(
        f.site
            .conn()
            .execute("DELETE FROM attendance_event", [])
            .is_err()
    );
    assert!(
        f.site
            .conn()
            .execute("UPDATE session SET closed_at = NULL", [])
            .is_err()
    );
}

#[test]
fn after_close_only_a_site_manager_corrects_with_a_reason() {
    let mut f = site();
    let cohort = f.cohort("maternity-L5-v1");
    let ls = f.learners(cohort, 0, 1);
    let session = f.sessions(cohort, 1, 4)[0];
    let (instructor, manager) = (f.instructor, f.manager);
    attendance::mark(&mut f.site, &instructor, session, ls[0], Mark::Absent).unwrap();
    attendance::close_session(&mut f.site, &instructor, session).unwrap();
    let late = Mark::Late { at: at(2, 1, 30) };
    let err =
        attendance::correct(&mut f.site, &instructor, session, ls[0], late, &reason()).unwrap_err();
    assert_eq!(err.kind(), "forbidden");
    let empty = Reason {
        code: ReasonCode::Other,
        text: " ".into(),
    };
    let err = attendance::correct(&mut f.site, &manager, session, ls[0], late, &empty).unwrap_err();
    assert!(err.to_string().starts_with("correction.reason"));
    assert_eq!(f.count("correction"), 0);
    attendance::correct(&mut f.site, &manager, session, ls[0], late, &reason()).unwrap();
    let roll = attendance::roll(f.site.conn(), session).unwrap();
    assert_eq!(
        (roll[0].status, roll[0].minutes),
        (SessionStatus::Late, 210)
    );
    let (role, why): (String, String) = f
        .site
        .conn()
        .query_row("SELECT approver_role, reason FROM correction", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(role, "site_manager");
    assert!(why.contains("签到表"));
    // History keeps the original mark.
    assert_eq!(f.count("attendance_event"), 2);
}

#[test]
fn a_mark_far_outside_the_session_is_refused() {
    let mut f = site();
    let cohort = f.cohort("maternity-L5-v1");
    let ls = f.learners(cohort, 0, 1);
    let session = f.sessions(cohort, 1, 4)[0];
    let instructor = f.instructor;
    let err = attendance::mark(
        &mut f.site,
        &instructor,
        session,
        ls[0],
        Mark::Late { at: at(3, 1, 0) },
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("attendance.at"), "{err}");
}
