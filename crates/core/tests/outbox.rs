//! The outbox: one row per write in the same transaction, seq strictly increasing per device.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, new_learner, site};
use proptest::prelude::*;
use siteline_core::Site;
use siteline_core::store::attendance::{self, Mark};
use siteline_core::store::{cohorts, learners, outbox};
use siteline_domain::ids::LearnerId;

#[test]
fn every_write_appends_exactly_one_row_with_the_next_seq() {
    let mut f = site();
    let start = f.next_seq();
    let cohort = f.cohort("maternity-L5-v1");
    let ls = f.learners(cohort, 0, 3);
    // cohort 1 + learner 3 + consent 3 + enrolment 3
    let rows = outbox::pending(f.site.conn(), 1000).unwrap();
    let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..start + 10).collect::<Vec<_>>());
    assert_eq!(f.next_seq(), start + 10);
    let last = rows.last().unwrap();
    assert_eq!(last.entity, siteline_proto::Entity::Enrolment);
    assert_eq!(last.payload["learner_id"], serde_json::json!(ls[2]));
}

#[test]
fn a_failed_write_leaves_neither_the_record_nor_its_outbox_row() {
    let mut f = site();
    let cohort = f.cohort("maternity-L5-v1");
    let ls = f.learners(cohort, 0, 3);
    let session = f.sessions(cohort, 1, 3)[0];
    let before = (f.count("attendance_event"), f.count("outbox"), f.next_seq());
    // The third mark names a learner who is not enrolled: the whole roll call fails.
    let stranger = LearnerId::new();
    let marks = [
        (ls[0], Mark::Present),
        (ls[1], Mark::Absent),
        (stranger, Mark::Present),
    ];
    let instructor = f.instructor;
    let err = attendance::roll_call(&mut f.site, &instructor, session, &marks).unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert_eq!(
        (f.count("attendance_event"), f.count("outbox"), f.next_seq()),
        before
    );
    assert_eq!(f.count("session_attendance"), 0);
}

#[test]
fn seq_survives_reopening_and_pruning_and_is_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.db");
    let device_id;
    {
        let mut site = Site::open(&path).unwrap();
        let m =
            siteline_core::store::staff::create_first_manager(&mut site, &manager_input()).unwrap();
        learners::register(&mut site, &m, &new_learner(1)).unwrap();
        device_id = outbox::device(site.conn()).unwrap().device_id;
        assert_eq!(outbox::acknowledge(&mut site, 1, 2).unwrap(), 2);
    }
    let mut site = Site::open(&path).unwrap();
    let dev = outbox::device(site.conn()).unwrap();
    assert_eq!(dev.device_id, device_id);
    assert_eq!(dev.next_seq, 4);
    let m = siteline_core::store::staff::sign_in(site.conn(), "boss", "12345678").unwrap();
    learners::register(&mut site, &m, &new_learner(2)).unwrap();
    let seqs: Vec<u64> = outbox::pending(site.conn(), 100)
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, vec![3, 4, 5]);
    let (count, oldest) = outbox::pending_summary(site.conn()).unwrap();
    assert_eq!(count, 3);
    assert!(oldest.is_some());
    // The database is in WAL mode with foreign keys on.
    let mode: String = site
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = site
        .conn()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
}

fn manager_input() -> siteline_core::store::staff::NewStaff {
    siteline_core::store::staff::NewStaff {
        username: "boss".into(),
        display_name: "站长".into(),
        role: siteline_core::Role::SiteManager,
        password: "12345678".into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Whatever mix of good and bad writes, the outbox holds one row per successful write,
    /// with seqs 1, 2, 3, … and no gaps.
    #[test]
    fn outbox_seq_is_contiguous_whatever_fails(ops in proptest::collection::vec(0u8..5, 1..40)) {
        let mut f = site();
        let cohort = f.cohort("housekeeping-L5-v1");
        let session = f.sessions(cohort, 1, 2)[0];
        let mut learners_made: Vec<LearnerId> = Vec::new();
        let mut n = 100u64;
        let (manager, instructor) = (f.manager, f.instructor);
        for op in ops {
            let before = f.next_seq();
            let ok = match op {
                0 => { n += 1; learners::register(&mut f.site, &manager, &new_learner(n)).map(|l| learners_made.push(l)).is_ok() }
                1 => learners::register(&mut f.site, &manager, &siteline_core::store::learners::NewLearner { name: String::new(), ..new_learner(n + 1) }).is_ok(),
                2 => match learners_made.last() {
                    Some(l) => cohorts::enrol(&mut f.site, &manager, cohort, *l).is_ok(),
                    None => false,
                },
                3 => match learners_made.first() {
                    Some(l) => attendance::mark(&mut f.site, &instructor, session, *l, Mark::Late { at: at(2, 1, 30) }).is_ok(),
                    None => false,
                },
                _ => attendance::mark(&mut f.site, &instructor, session, LearnerId::new(), Mark::Present).is_ok(),
            };
            let after = f.next_seq();
            prop_assert!(after >= before);
            if ok { prop_assert!(after > before); } else { prop_assert_eq!(after, before); }
        }
        let rows = outbox::pending(f.site.conn(), 100_000).unwrap();
        let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
        prop_assert_eq!(seqs, (1..f.next_seq()).collect::<Vec<_>>());
    }
}
