//! Assessments: score ranges, the rubric with critical items, the lock point and corrections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, site};
use siteline_core::store::assessments::{self, Marks, NewAttempt};
use siteline_core::store::corrections::{Reason, ReasonCode};
use siteline_core::store::{catalogue, cohorts};
use siteline_domain::ids::EnrolmentId;
use siteline_domain::scores::{Component, RubricMark};

fn theory(enrolment: EnrolmentId, score: i64) -> NewAttempt {
    NewAttempt {
        enrolment_id: enrolment,
        component: Component::Theory,
        held_at: at(20, 1, 0),
        assessors: vec![],
        marks: Marks::Score { score },
    }
}

/// Full marks on every item, with the first critical item failed or not.
pub fn rubric_marks(
    site: &siteline_core::Site,
    pv: &str,
    points_off: u8,
    critical_failed: bool,
) -> Marks {
    let items = catalogue::rubric(site.conn(), pv).unwrap();
    let mut off = points_off;
    let mut first_critical = true;
    let items = items
        .iter()
        .map(|i| {
            let take = off.min(i.max_points);
            off -= take;
            let failed = i.critical && first_critical && critical_failed;
            if i.critical {
                first_critical = false;
            }
            RubricMark {
                item_id: i.id.clone(),
                points: i.max_points - take,
                failed,
            }
        })
        .collect();
    Marks::Rubric { items }
}

fn practical(enrolment: EnrolmentId, marks: Marks) -> NewAttempt {
    NewAttempt {
        component: Component::Practical,
        marks,
        ..theory(enrolment, 0)
    }
}

fn setup(pv: &str) -> (common::Fixture, EnrolmentId) {
    let mut f = site();
    let cohort = f.cohort(pv);
    let ls = f.learners(cohort, 0, 1);
    let e = cohorts::enrolment_of(f.site.conn(), cohort, ls[0]).unwrap();
    (f, e)
}

#[test]
fn scores_of_minus_1_and_101_are_refused_and_59_fails_60_passes() {
    let (mut f, e) = setup("maternity-L5-v1");
    let before = (f.count("assessment_attempt"), f.next_seq());
    let instructor = f.instructor;
    for bad in [-1, 101] {
        let err = assessments::record(&mut f.site, &instructor, &theory(e, bad)).unwrap_err();
        assert!(err.to_string().starts_with("assessment.score"), "{err}");
    }
    assert_eq!((f.count("assessment_attempt"), f.next_seq()), before);
    let a = assessments::record(&mut f.site, &instructor, &theory(e, 59)).unwrap();
    assert!(!assessments::attempt(f.site.conn(), a).unwrap().passed);
    let b = assessments::record(&mut f.site, &instructor, &theory(e, 60)).unwrap();
    let b = assessments::attempt(f.site.conn(), b).unwrap();
    assert!(b.passed);
    assert_eq!(b.attempt_no, 2);
    // Once passed, no further attempt at the same component.
    let err = assessments::record(&mut f.site, &instructor, &theory(e, 90)).unwrap_err();
    assert_eq!(err.kind(), "duplicate");
}

#[test]
fn a_critical_failure_fails_the_practical_at_100_points() {
    let (mut f, e) = setup("maternity-L5-v1");
    let marks = rubric_marks(&f.site, "maternity-L5-v1", 0, true);
    let instructor = f.instructor;
    let id = assessments::record(&mut f.site, &instructor, &practical(e, marks)).unwrap();
    let a = assessments::attempt(f.site.conn(), id).unwrap();
    assert_eq!(a.score.get(), 100);
    assert!(a.critical_failed);
    assert!(!a.passed);
    // Four general items, one task per unit (maternity L5 has five units), two critical items.
    assert_eq!(f.count("rubric_score"), 11);
}

#[test]
fn the_wrong_kind_of_marks_is_refused() {
    let (mut f, e) = setup("maternity-L5-v1");
    let instructor = f.instructor;
    let err = assessments::record(
        &mut f.site,
        &instructor,
        &practical(e, Marks::Score { score: 80 }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("rubric"));
    let review = NewAttempt {
        component: Component::Review,
        ..theory(e, 70)
    };
    let err = assessments::record(&mut f.site, &instructor, &review).unwrap_err();
    assert!(err.to_string().contains("level 2"));
    let unknown = NewAttempt {
        enrolment_id: EnrolmentId::new(),
        ..theory(e, 70)
    };
    assert_eq!(
        assessments::record(&mut f.site, &instructor, &unknown)
            .unwrap_err()
            .kind(),
        "not_found"
    );
}

#[test]
fn a_draft_can_be_edited_until_locked_then_only_corrected_by_a_manager() {
    let (mut f, e) = setup("maternity-L5-v1");
    let (instructor, manager) = (f.instructor, f.manager);
    let m = |f: &common::Fixture, off| rubric_marks(&f.site, "maternity-L5-v1", off, false);
    let (m45, m20, m0) = (m(&f, 45), m(&f, 20), m(&f, 0));
    let id = assessments::record(&mut f.site, &instructor, &practical(e, m45)).unwrap();
    assert_eq!(
        assessments::attempt(f.site.conn(), id).unwrap().score.get(),
        55
    );
    assessments::update_draft(&mut f.site, &instructor, id, &m20).unwrap();
    assert_eq!(
        assessments::attempt(f.site.conn(), id).unwrap().score.get(),
        80
    );
    assessments::lock(&mut f.site, &instructor, id).unwrap();
    let before = f.next_seq();
    let err = assessments::update_draft(&mut f.site, &instructor, id, &m0).unwrap_err();
    assert_eq!(err.kind(), "locked");
    assert_eq!(f.next_seq(), before);
    assert!(
        f.site
            .conn()
            .execute("UPDATE assessment_attempt SET score = 100", [])
            .is_err()
    );
    assert!(
        f.site
            .conn()
            .execute("DELETE FROM rubric_score", [])
            .is_err()
    );
    let reason = Reason {
        code: ReasonCode::EntryError,
        text: "操作流程得分录入错误".into(),
    };
    let corrected = rubric_marks(&f.site, "maternity-L5-v1", 30, false);
    let err = assessments::correct(&mut f.site, &instructor, id, &corrected, &reason).unwrap_err();
    assert_eq!(err.kind(), "forbidden");
    let new_id = assessments::correct(&mut f.site, &manager, id, &corrected, &reason).unwrap();
    let current = assessments::current_attempts(f.site.conn(), e).unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id, new_id);
    assert_eq!(current[0].score.get(), 70);
    assert_eq!(current[0].corrects, Some(id));
    assert!(current[0].locked_at.is_some());
    // The original is kept and cannot be corrected twice.
    assert_eq!(
        assessments::attempt(f.site.conn(), id).unwrap().score.get(),
        80
    );
    assert!(assessments::correct(&mut f.site, &manager, id, &corrected, &reason).is_err());
}

#[test]
fn the_latest_attempt_of_a_component_is_the_one_that_counts() {
    let (mut f, e) = setup("maternity-L5-v1");
    let instructor = f.instructor;
    assessments::record(&mut f.site, &instructor, &theory(e, 40)).unwrap();
    assessments::record(&mut f.site, &instructor, &theory(e, 75)).unwrap();
    let r = assessments::results_of(f.site.conn(), e).unwrap();
    assert_eq!(r.theory.map(|s| s.get()), Some(75));
}

#[test]
fn every_attempt_names_its_assessors_and_an_unknown_one_is_refused() {
    let (mut f, e) = setup("maternity-L5-v1");
    let (instructor, manager) = (f.instructor, f.manager);
    // None chosen: the person recording it is the assessor.
    let a = assessments::record(&mut f.site, &instructor, &theory(e, 50)).unwrap();
    assert_eq!(
        assessments::attempt(f.site.conn(), a).unwrap().assessors,
        vec![instructor.id]
    );
    // Two chosen: both recorded, whoever types it in.
    let two = NewAttempt {
        assessors: vec![manager.id, instructor.id],
        ..theory(e, 55)
    };
    let b = assessments::record(&mut f.site, &instructor, &two).unwrap();
    assert_eq!(
        assessments::attempt(f.site.conn(), b).unwrap().assessors,
        vec![manager.id, instructor.id]
    );
    // A staff id the site does not know: refused, nothing written.
    let before = (f.count("assessment_attempt"), f.next_seq());
    let stranger = NewAttempt {
        assessors: vec![siteline_domain::ids::StaffId::new()],
        ..theory(e, 60)
    };
    let err = assessments::record(&mut f.site, &instructor, &stranger).unwrap_err();
    assert_eq!(err.kind(), "not_found");
    assert!(err.to_string().contains("assessor"), "{err}");
    assert_eq!((f.count("assessment_attempt"), f.next_seq()), before);
}
