//! Progress views and outcome claims: attended hours, eligibility, pass status, site counts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, site};
use siteline_core::store::assessments::{self, Marks, NewAttempt};
use siteline_core::store::attendance::{self, Mark};
use siteline_core::store::learners::{self, ConsentInput, ConsentPurpose};
use siteline_core::store::{catalogue, claims, cohorts, progress};
use siteline_domain::scores::RubricMark;
use siteline_domain::scores::{Component, PassStatus};

fn full_rubric(site: &siteline_core::Site, pv: &str, off: u8) -> Marks {
    let mut left = off;
    Marks::Rubric {
        items: catalogue::rubric(site.conn(), pv)
            .unwrap()
            .into_iter()
            .map(|i| {
                let take = left.min(i.max_points);
                left -= take;
                RubricMark {
                    item_id: i.id,
                    points: i.max_points - take,
                    failed: false,
                }
            })
            .collect(),
    }
}

/// Housekeeping L5: 96 hours; 90% = 86.4 h. 16 sessions of 6 h = 96 h.
#[test]
fn cohort_progress_shows_hours_eligibility_results_and_pass_status() {
    let mut f = site();
    let pv = "housekeeping-L5-v1";
    let cohort = f.cohort(pv);
    let ls = f.learners(cohort, 0, 4);
    let sessions = f.sessions(cohort, 16, 6);
    let (instructor, manager) = (f.instructor, f.manager);
    for (i, s) in sessions.iter().enumerate() {
        let day = 2 + i as u32;
        let marks = vec![
            (ls[0], Mark::Present),
            // ls[1] arrives 24 minutes late every day: 16 × 5.6 h = 89.6 h ≥ 86.4 h.
            (ls[1], Mark::Late { at: at(day, 1, 24) }),
            // ls[2] misses two sessions: 84 h < 86.4 h.
            (ls[2], if i < 2 { Mark::Absent } else { Mark::Present }),
            (ls[3], Mark::Present),
        ];
        attendance::roll_call(&mut f.site, &instructor, *s, &marks).unwrap();
        attendance::close_session(&mut f.site, &instructor, *s).unwrap();
    }
    let es: Vec<_> = (0..4)
        .map(|i| cohorts::enrolment_of(f.site.conn(), cohort, ls[i]).unwrap())
        .collect();
    let enrol = |_: &(), i: usize| es[i];
    for (i, t, off) in [(0, 85, 10), (1, 60, 40), (2, 90, 0), (3, 59, 0)] {
        let e = enrol(&(), i);
        let th = assessments::record(
            &mut f.site,
            &instructor,
            &NewAttempt {
                enrolment_id: e,
                component: Component::Theory,
                held_at: at(20, 1, 0),
                assessors: vec![instructor.id],
                marks: Marks::Score { score: t },
            },
        )
        .unwrap();
        let marks = full_rubric(&f.site, pv, off);
        let pr = assessments::record(
            &mut f.site,
            &instructor,
            &NewAttempt {
                enrolment_id: e,
                component: Component::Practical,
                held_at: at(20, 3, 0),
                assessors: vec![instructor.id],
                marks,
            },
        )
        .unwrap();
        assessments::lock(&mut f.site, &instructor, th).unwrap();
        assessments::lock(&mut f.site, &instructor, pr).unwrap();
    }
    let table = progress::cohort_progress(f.site.conn(), cohort).unwrap();
    assert_eq!(table.learners.len(), 4);
    let line = |i: usize| {
        table
            .learners
            .iter()
            .find(|l| l.learner_id == ls[i])
            .unwrap()
    };
    assert_eq!(line(0).attended_minutes, 96 * 60);
    assert_eq!(line(0).required_minutes, 96 * 60);
    assert_eq!(line(1).attended_minutes, 16 * (6 * 60 - 24));
    assert_eq!(line(2).attended_minutes, 14 * 6 * 60);
    assert!(line(0).eligible && line(1).eligible && !line(2).eligible);
    assert_eq!(line(1).attendance_permille, 933);
    assert_eq!(line(0).status, PassStatus::Passed);
    assert_eq!(line(1).status, PassStatus::Passed);
    assert_eq!(line(2).status, PassStatus::Passed);
    assert_eq!(line(3).status, PassStatus::Failed);
    assert_eq!(line(1).results.practical.map(|p| p.0.get()), Some(60));

    // Claims: passed and eligible goes; not eligible, failed or no consent is refused.
    let c0 = claims::submit(&mut f.site, &manager, enrol(&(), 0)).unwrap();
    assert_eq!(
        claims::claims_of(f.site.conn(), enrol(&(), 0)).unwrap()[0].id,
        c0
    );
    assert_eq!(
        claims::submit(&mut f.site, &manager, enrol(&(), 0))
            .unwrap_err()
            .kind(),
        "duplicate"
    );
    let err = claims::submit(&mut f.site, &manager, enrol(&(), 2)).unwrap_err();
    assert!(
        err.to_string().contains("84.0 of 96 required hours"),
        "{err}"
    );
    assert!(
        claims::submit(&mut f.site, &manager, enrol(&(), 3))
            .unwrap_err()
            .to_string()
            .contains("not passed")
    );
    learners::record_consent(
        &mut f.site,
        &manager,
        ls[1],
        ConsentInput {
            purpose: ConsentPurpose::CreditBank,
            granted: false,
        },
    )
    .unwrap();
    assert!(
        claims::submit(&mut f.site, &manager, enrol(&(), 1))
            .unwrap_err()
            .to_string()
            .contains("consented")
    );
    assert!(
        f.site
            .conn()
            .execute("DELETE FROM outcome_claim", [])
            .is_err()
    );
    let after = progress::cohort_progress(f.site.conn(), cohort).unwrap();
    let claimed: Vec<bool> = ls
        .iter()
        .map(|l| {
            after
                .learners
                .iter()
                .find(|x| x.learner_id == *l)
                .unwrap()
                .claimed
        })
        .collect();
    assert_eq!(claimed, [true, false, false, false]);

    // Site summary counts the same outcomes.
    let summary = progress::site_summary(f.site.conn()).unwrap();
    assert_eq!(summary.len(), 1);
    let s = &summary[0];
    assert_eq!(s.programme_version_id, pv);
    assert_eq!(
        (
            s.cohorts_draft,
            s.enrolled,
            s.eligible,
            s.passed,
            s.failed,
            s.pending
        ),
        (1, 4, 3, 3, 1, 0)
    );
}

#[test]
fn cohort_rules_hold_from_creation_to_reopening() {
    let mut f = site();
    let manager = f.manager;
    let err = cohorts::create(
        &mut f.site,
        &manager,
        &cohorts::NewCohort {
            programme_version_id: "astronaut-L1-v9".into(),
            name: "太空班".into(),
            start_date: common::day(2),
            end_date: common::day(3),
            capacity: 10,
            instructors: vec![],
        },
    )
    .unwrap_err();
    assert_eq!(err.kind(), "not_found");
    assert!(err.to_string().contains("astronaut-L1-v9"));
    assert_eq!(f.count("cohort"), 0);
    let cohort = f.cohort("elderly_care-L4-v1");
    let ls = f.learners(cohort, 0, 1);
    let before = (f.count("enrolment"), f.next_seq());
    let err = cohorts::enrol(&mut f.site, &manager, cohort, ls[0]).unwrap_err();
    assert_eq!(err.kind(), "duplicate");
    assert_eq!((f.count("enrolment"), f.next_seq()), before);
    let instructor = f.instructor;
    assert_eq!(
        cohorts::set_status(
            &mut f.site,
            &instructor,
            cohort,
            cohorts::CohortStatus::Running
        )
        .unwrap_err()
        .kind(),
        "forbidden"
    );
    cohorts::set_status(
        &mut f.site,
        &manager,
        cohort,
        cohorts::CohortStatus::Running,
    )
    .unwrap();
    assert!(
        cohorts::set_status(&mut f.site, &manager, cohort, cohorts::CohortStatus::Draft).is_err()
    );
    // Reopening: only a closed cohort, only a manager, only with a reason; then it runs
    // again and its history says who reopened it and why.
    use siteline_core::store::corrections::{self, Reason, ReasonCode};
    let reason = |text: &str| Reason {
        code: ReasonCode::LateEvidence,
        text: text.into(),
    };
    let running = cohorts::reopen(&mut f.site, &manager, cohort, &reason("补交材料")).unwrap_err();
    assert_eq!(running.kind(), "invalid", "{running}");
    cohorts::set_status(&mut f.site, &manager, cohort, cohorts::CohortStatus::Closed).unwrap();
    let before = (f.count("correction"), f.next_seq());
    let by_instructor =
        cohorts::reopen(&mut f.site, &instructor, cohort, &reason("补交材料")).unwrap_err();
    assert_eq!(by_instructor.kind(), "forbidden");
    let no_reason = cohorts::reopen(&mut f.site, &manager, cohort, &reason("  ")).unwrap_err();
    assert!(
        no_reason.to_string().contains("correction.reason"),
        "{no_reason}"
    );
    assert_eq!(
        (f.count("correction"), f.next_seq()),
        before,
        "a refusal writes nothing"
    );
    assert_eq!(
        cohorts::get(f.site.conn(), cohort).unwrap().status,
        cohorts::CohortStatus::Closed
    );
    cohorts::reopen(
        &mut f.site,
        &manager,
        cohort,
        &reason("两名学员补交了出勤证明"),
    )
    .unwrap();
    assert_eq!(
        cohorts::get(f.site.conn(), cohort).unwrap().status,
        cohorts::CohortStatus::Running
    );
    // One correction and one status change went to the outbox, together.
    assert_eq!(
        (f.count("correction"), f.next_seq()),
        (before.0 + 1, before.1 + 2)
    );
    let history = corrections::of(f.site.conn(), cohort.0).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].reason, "两名学员补交了出勤证明");
    assert_eq!(history[0].code, ReasonCode::LateEvidence);
    assert!(history[0].approved_by.is_some());
}
