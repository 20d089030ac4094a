//! Fixtures: a real site store with a manager, an instructor, a cohort and learners.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use siteline_core::store::cohorts::{self, NewCohort, NewSession};
use siteline_core::store::learners::{self, ConsentInput, ConsentPurpose, IdType, NewLearner};

use siteline_core::store::{replica, staff};
use siteline_core::sync::outgoing;
use siteline_core::{Actor, Site, demo};
use siteline_domain::crypto::SiteKeys;
use siteline_domain::ids::{CohortId, LearnerId, SessionId};

pub struct Fixture {
    pub site: Site,
    pub manager: Actor,
    pub instructor: Actor,
}

pub fn site() -> Fixture {
    let mut site = Site::open_in_memory().unwrap();
    let (manager, instructor) = demo::staff(&mut site).unwrap();
    Fixture {
        site,
        manager,
        instructor,
    }
}

pub fn new_learner(n: u64) -> NewLearner {
    NewLearner {
        name: demo::name(n),
        id_type: IdType::ResidentId,
        id_number: demo::resident_id(n),
        phone: Some(demo::mobile(n)),
        consents: vec![ConsentInput {
            purpose: ConsentPurpose::CreditBank,
            granted: true,
        }],
    }
}

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

pub fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
}

impl Fixture {
    pub fn cohort(&mut self, pv: &str) -> CohortId {
        cohorts::create(
            &mut self.site,
            &self.manager,
            &NewCohort {
                programme_version_id: pv.into(),
                name: "2026年第3期母婴护理员(五级)班".into(),
                start_date: day(2),
                end_date: day(27),
                capacity: 60,
                instructors: vec![self.instructor.id],
            },
        )
        .unwrap()
    }

    pub fn learners(&mut self, cohort: CohortId, from: u64, n: u64) -> Vec<LearnerId> {
        (from..from + n)
            .map(|i| {
                let l = learners::register(&mut self.site, &self.manager, &new_learner(i)).unwrap();
                cohorts::enrol(&mut self.site, &self.manager, cohort, l).unwrap();
                l
            })
            .collect()
    }

    /// `n` sessions of `hours` hours on consecutive days from Nov 2, 01:00 UTC (09:00 Beijing).
    pub fn sessions(&mut self, cohort: CohortId, n: u32, hours: i64) -> Vec<SessionId> {
        (0..n)
            .map(|i| {
                let start = at(2, 1, 0) + Duration::days(i64::from(i));
                cohorts::schedule_session(
                    &mut self.site,
                    &self.instructor,
                    cohort,
                    &NewSession {
                        unit_id: None,
                        starts_at: start,
                        ends_at: start + Duration::hours(hours),
                        instructor_id: Some(self.instructor.id),
                    },
                )
                .unwrap()
            })
            .collect()
    }

    pub fn count(&self, table: &str) -> i64 {
        self.site
            .conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    pub fn next_seq(&self) -> u64 {
        siteline_core::store::outbox::device(self.site.conn())
            .unwrap()
            .next_seq
    }
}

/// Two laptops of one site, set up from the first one's operations.
pub fn two_laptops() -> (
    Site,
    Site,
    Actor,
    Actor,
    LearnerId,
    siteline_domain::ids::CohortId,
) {
    let keys = SiteKeys::generate();
    let mut a = Site::open_in_memory_with_keys(keys.clone()).unwrap();
    let (manager, _) = demo::staff(&mut a).unwrap();
    // Without credit-bank consent: the rows travel as to a peer, with nothing sealed to HQ.
    let new = learners::NewLearner {
        consents: vec![],
        ..new_learner(1)
    };
    let learner = learners::register(&mut a, &manager, &new).unwrap();
    let cohort = cohorts::create(
        &mut a,
        &manager,
        &cohorts::NewCohort {
            programme_version_id: "maternity-L5-v1".into(),
            name: "秋季班".into(),
            start_date: day(1),
            end_date: day(30),
            capacity: 40,
            instructors: vec![],
        },
    )
    .unwrap();
    let mut b = Site::open_in_memory_with_keys(keys).unwrap();
    sync(&mut b, &a);
    let manager_b = staff::sign_in(b.conn(), "manager", "manager-pass").unwrap();
    (a, b, manager, manager_b, learner, cohort)
}

/// `to` receives every operation `from` holds of its own.
pub fn sync(to: &mut Site, from: &Site) {
    let rows = outgoing::rows(from, 100_000).unwrap();
    replica::receive_all(to, &rows, replica::Via::Lan).unwrap();
    assert!(
        replica::held(to.conn()).unwrap().is_empty(),
        "{:?}",
        replica::held(to.conn())
    );
}
