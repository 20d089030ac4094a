//! One fact recorded on two laptops of a site before they synced (ADR 0005): a learner
//! enrolled in the same cohort on both, attempt 1 of the theory exam recorded on both, the same
//! draft edited on both. Every row applies on every laptop (nothing held for ever), the
//! learner is listed once, and the later stamp decides what counts, the same on both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use siteline_core::store::assessments::{self, NewAttempt};
use siteline_core::store::{cohorts, progress};
use siteline_domain::scores::Component;
use siteline_proto::records::Marks;

fn theory(enrolment: siteline_domain::ids::EnrolmentId, score: i64) -> NewAttempt {
    NewAttempt {
        enrolment_id: enrolment,
        component: Component::Theory,
        held_at: at(20, 2, 0),
        assessors: vec![],
        marks: Marks::Score { score },
    }
}

/// Stamps are milliseconds and a counter: a pause makes the next write's stamp later than the
/// other laptop's.
fn later() {
    std::thread::sleep(Duration::from_millis(5));
}

#[test]
fn one_learner_enrolled_and_assessed_on_two_laptops_offline_is_one_enrolment_with_the_later_result()
{
    let (mut a, mut b, manager_a, manager_b, learner, cohort) = two_laptops();
    let on_a = cohorts::enrol(&mut a, &manager_a, cohort, learner).unwrap();
    let on_b = cohorts::enrol(&mut b, &manager_b, cohort, learner).unwrap();
    assert_ne!(on_a, on_b);
    let first = assessments::record(&mut a, &manager_a, &theory(on_a, 85)).unwrap();
    later();
    let second = assessments::record(&mut b, &manager_b, &theory(on_b, 52)).unwrap();

    sync(&mut a, &b);
    sync(&mut b, &a);

    let standing = on_a.min(on_b);
    for (name, site) in [("A", &a), ("B", &b)] {
        let table = progress::cohort_progress(site.conn(), cohort).unwrap();
        assert_eq!(table.cohort.enrolled, 1, "laptop {name}");
        assert_eq!(table.learners.len(), 1, "laptop {name}");
        assert_eq!(cohorts::roster(site.conn(), cohort).unwrap().len(), 1);
        let line = &table.learners[0];
        assert_eq!(line.enrolment_id, standing, "laptop {name}");
        // Both attempts numbered 1 are kept; B's, stamped later, is the current one.
        let kept = assessments::current_attempts(site.conn(), on_a).unwrap();
        assert_eq!(
            kept.iter()
                .map(|x| (x.attempt_no, x.score.get()))
                .collect::<Vec<_>>(),
            [(1, 85), (1, 52)],
            "laptop {name}"
        );
        let counting = assessments::counting_attempts(site.conn(), on_b).unwrap();
        assert_eq!(counting.len(), 1);
        assert_eq!(counting[0].id, second, "laptop {name}");
        assert_eq!(
            line.results.theory.map(|s| s.get()),
            Some(52),
            "laptop {name}"
        );
    }

    // The retake is attempt 2 whichever laptop records it, under either enrolment row.
    later();
    let retake = assessments::record(&mut a, &manager_a, &theory(on_b, 90)).unwrap();
    assert_eq!(
        assessments::attempt(a.conn(), retake).unwrap().attempt_no,
        2
    );

    // B's draft edited on both laptops, A first: B's later mark stands on both.
    assessments::update_draft(&mut a, &manager_a, second, &Marks::Score { score: 58 }).unwrap();
    later();
    assessments::update_draft(&mut b, &manager_b, second, &Marks::Score { score: 61 }).unwrap();
    sync(&mut b, &a);
    sync(&mut a, &b);
    for site in [&a, &b] {
        assert_eq!(
            assessments::attempt(site.conn(), second)
                .unwrap()
                .score
                .get(),
            61
        );
        assert_eq!(
            assessments::attempt(site.conn(), first)
                .unwrap()
                .score
                .get(),
            85
        );
        let table = progress::cohort_progress(site.conn(), cohort).unwrap();
        assert_eq!(table.learners[0].results.theory.map(|s| s.get()), Some(90));
    }
}

#[test]
fn one_sign_in_name_given_on_two_laptops_keeps_both_accounts_and_their_work() {
    use siteline_core::Role;
    use siteline_core::store::attendance::{self, Mark};
    use siteline_core::store::staff::{self, NewStaff};
    let (mut a, mut b, manager_a, manager_b, learner, cohort) = two_laptops();
    cohorts::enrol(&mut a, &manager_a, cohort, learner).unwrap();
    let session = cohorts::schedule_session(
        &mut a,
        &manager_a,
        cohort,
        &cohorts::NewSession {
            unit_id: None,
            starts_at: at(3, 1, 0),
            ends_at: at(3, 5, 0),
            instructor_id: None,
        },
    )
    .unwrap();
    sync(&mut b, &a);
    let account = |password: &str, display: &str| NewStaff {
        username: "wang".into(),
        display_name: display.into(),
        role: Role::Instructor,
        password: password.into(),
    };
    // Offline, each laptop gives the name to a new instructor, who takes the roll with it.
    let on_a = staff::create_staff(&mut a, &manager_a, &account("first-pass-1", "王老师")).unwrap();
    let on_b = staff::create_staff(&mut b, &manager_b, &account("second-pass-2", "王芳")).unwrap();
    // The name is still refused on a laptop that knows it.
    assert!(staff::create_staff(&mut a, &manager_a, &account("third-pass-3", "王三")).is_err());
    attendance::mark(&mut b, &on_b, session, learner, Mark::Present).unwrap();

    sync(&mut a, &b);
    sync(&mut b, &a);
    for site in [&a, &b] {
        let first = staff::sign_in(site.conn(), "wang", "first-pass-1").unwrap();
        let second = staff::sign_in(site.conn(), "WANG", "second-pass-2").unwrap();
        assert_eq!((first.id, second.id), (on_a.id, on_b.id));
        assert!(staff::sign_in(site.conn(), "wang", "wrong-pass-0").is_err());
        let roll = attendance::roll(site.conn(), session).unwrap();
        assert_eq!(roll.len(), 1);
        assert_eq!(
            roll[0].status,
            siteline_domain::attendance::SessionStatus::Present
        );
    }
}
