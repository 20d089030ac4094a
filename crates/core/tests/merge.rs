//! The merge rules converge (docs/SYNC.md, "Several devices, one site"): three devices of one
//! site take marks and close sessions offline, then every device (and a new, fourth one)
//! receives every other device's operations in a random interleaving, each writer's in its own
//! order but with no order across writers (a child may arrive before its parent and wait).
//! Whatever the interleaving, every device ends with the same rolls, the same late marks and
//! nothing held.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use siteline_core::store::assessments::{self, NewAttempt};
use siteline_core::store::attendance::{self, Mark};
use siteline_core::store::cohorts::{self, NewCohort, NewSession};
use siteline_core::store::learners::{self, IdType, NewLearner};
use siteline_core::store::{edits, late_marks, progress, replica, staff};
use siteline_core::sync::outgoing;
use siteline_core::{Actor, Site, demo};
use siteline_domain::attendance::SessionStatus;
use siteline_domain::crypto::SiteKeys;
use siteline_domain::ids::{CohortId, LearnerId, SessionId};
use siteline_domain::scores::Component;
use siteline_proto::OutboxRow;
use siteline_proto::records::Marks;

const LEARNERS: usize = 4;

struct World {
    devices: Vec<Site>,
    instructors: Vec<Actor>,
    learners: Vec<LearnerId>,
    sessions: Vec<SessionId>,
    keys: SiteKeys,
}

fn rows(site: &Site) -> Vec<OutboxRow> {
    outgoing::rows(site, 100_000).unwrap()
}

/// Device 0 sets the site up (staff, learners without credit-bank consent, a cohort, two
/// sessions); devices 1 and 2 join by receiving its operations.
fn world() -> World {
    let keys = SiteKeys::generate();
    let mut first = Site::open_in_memory_with_keys(keys.clone()).unwrap();
    let (manager, instructor) = demo::staff(&mut first).unwrap();
    let learners: Vec<LearnerId> = (0..LEARNERS as u64)
        .map(|n| {
            learners::register(
                &mut first,
                &manager,
                &NewLearner {
                    name: demo::name(n),
                    id_type: IdType::ResidentId,
                    id_number: demo::resident_id(n),
                    phone: None,
                    consents: vec![],
                },
            )
            .unwrap()
        })
        .collect();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    let cohort = cohorts::create(
        &mut first,
        &manager,
        &NewCohort {
            programme_version_id: "maternity-L5-v1".into(),
            name: "秋季班".into(),
            start_date: start,
            end_date: start + chrono::Days::new(30),
            capacity: 40,
            instructors: vec![instructor.id],
        },
    )
    .unwrap();
    for l in &learners {
        cohorts::enrol(&mut first, &manager, cohort, *l).unwrap();
    }
    let t0 = Utc.with_ymd_and_hms(2026, 9, 1, 1, 0, 0).unwrap();
    let sessions = (0..2)
        .map(|i| {
            let starts_at = t0 + Duration::days(i);
            cohorts::schedule_session(
                &mut first,
                &instructor,
                cohort,
                &NewSession {
                    unit_id: None,
                    starts_at,
                    ends_at: starts_at + Duration::hours(4),
                    instructor_id: None,
                },
            )
            .unwrap()
        })
        .collect();
    let base = rows(&first);
    let mut devices = vec![first];
    let mut instructors = vec![instructor];
    for _ in 1..3 {
        let mut d = Site::open_in_memory_with_keys(keys.clone()).unwrap();
        replica::receive_all(&mut d, &base, replica::Via::Lan).unwrap();
        assert!(replica::held(d.conn()).unwrap().is_empty());
        instructors.push(staff::sign_in(d.conn(), "teacher", "teacher-pass").unwrap());
        devices.push(d);
    }
    World {
        devices,
        instructors,
        learners,
        sessions,
        keys,
    }
}

/// Each session's roll, and the late marks' ids.
type View = (Vec<Vec<(LearnerId, SessionStatus, i64)>>, Vec<String>);

/// What must be the same everywhere.
fn view(site: &Site, sessions: &[SessionId]) -> View {
    let rolls = sessions
        .iter()
        .map(|s| {
            attendance::roll(site.conn(), *s)
                .unwrap()
                .into_iter()
                .map(|l| (l.learner_id, l.status, l.minutes))
                .collect()
        })
        .collect();
    let late = late_marks::queue(site.conn())
        .unwrap()
        .into_iter()
        .map(|m| m.event_id.to_string())
        .collect();
    (rolls, late)
}

/// Every device's operations delivered to every device, and to a fourth device that knew
/// nothing, each in its own random interleaving (seeded).
fn deliver_everywhere(w: &mut World, seed: u64) {
    let lists: Vec<Vec<OutboxRow>> = w.devices.iter().map(rows).collect();
    w.devices
        .push(Site::open_in_memory_with_keys(w.keys.clone()).unwrap());
    for (i, device) in w.devices.iter_mut().enumerate() {
        let delivery = interleave(&lists, seed.wrapping_add(i as u64 * 7919));
        replica::receive_all(device, &delivery, replica::Via::Lan).unwrap();
    }
}

/// The site manager signed in on each device.
fn managers(w: &World) -> Vec<Actor> {
    w.devices
        .iter()
        .map(|d| staff::sign_in(d.conn(), "manager", "manager-pass").unwrap())
        .collect()
}

/// Interleaves the writers' lists at random, keeping each list's own order.
fn interleave(lists: &[Vec<OutboxRow>], mut seed: u64) -> Vec<OutboxRow> {
    let mut next = vec![0usize; lists.len()];
    let mut out = Vec::new();
    loop {
        let open: Vec<usize> = (0..lists.len())
            .filter(|i| next[*i] < lists[*i].len())
            .collect();
        if open.is_empty() {
            return out;
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let pick = open[(seed % open.len() as u64) as usize];
        // Sometimes a run of several rows from one writer, as a pull page brings them.
        let run = 1 + (seed >> 32) as usize % 3;
        for _ in 0..run {
            if next[pick] < lists[pick].len() {
                out.push(lists[pick][next[pick]].clone());
                next[pick] += 1;
            }
        }
    }
}

fn mark(kind: u8, session: &cohorts::Session) -> Mark {
    match kind % 4 {
        0 => Mark::Present,
        1 => Mark::Absent,
        2 => Mark::Excused,
        _ => Mark::Late {
            at: session.starts_at + Duration::minutes(20),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn every_order_of_delivery_gives_every_device_the_same_site(
        ops in prop::collection::vec((0usize..3, 0usize..LEARNERS, 0usize..2, any::<u8>()), 1..24),
        closes in prop::collection::vec((0usize..3, 0usize..2, 0usize..24), 0..3),
        seed in 1u64..u64::MAX,
    ) {
        let mut w = world();
        // Offline work: marks, and closes at given points, each on its own device.
        for (i, (device, learner, session, kind)) in ops.iter().enumerate() {
            for (d, s, at) in &closes {
                if *at == i {
                    let t = w.instructors[*d];
                    // Already closed on that device: refused, nothing written.
                    let _ = attendance::close_session(&mut w.devices[*d], &t, w.sessions[*s]);
                }
            }
            let t = w.instructors[*device];
            let session = cohorts::session(w.devices[*device].conn(), w.sessions[*session]).unwrap();
            let m = mark(*kind, &session);
            // A mark in a session this device knows is closed is refused, nothing written.
            let _ = attendance::mark(&mut w.devices[*device], &t, session.id, w.learners[*learner], m);
        }
        deliver_everywhere(&mut w, seed);
        let first = view(&w.devices[0], &w.sessions);
        for (i, device) in w.devices.iter().enumerate() {
            prop_assert!(replica::held(device.conn()).unwrap().is_empty(), "device {} holds rows", i);
            prop_assert_eq!(&view(device, &w.sessions), &first, "device {} differs", i);
        }
    }
}

/// Every learner's name and masked phone, the cohort's details, and the overlaps (field, kept
/// stamp, unseen stamps): what must be the same everywhere after edits.
type EditView = (
    Vec<(String, Option<String>)>,
    (String, chrono::NaiveDate, chrono::NaiveDate, u32),
    Vec<(String, String, Vec<String>)>,
);

fn edit_view(site: &Site, learners: &[LearnerId]) -> EditView {
    let people = learners
        .iter()
        .map(|l| {
            let s = learners::get(site.conn(), *l).unwrap();
            (s.name, s.phone_masked)
        })
        .collect();
    let c = &cohorts::list(site.conn()).unwrap()[0];
    let overlaps = edits::overlaps(site.conn())
        .unwrap()
        .into_iter()
        .map(|o| {
            (
                format!("{}:{}", o.record_id, o.field),
                o.kept.stamp,
                o.unseen.into_iter().map(|u| u.stamp).collect(),
            )
        })
        .collect();
    (
        people,
        (c.name.clone(), c.start_date, c.end_date, c.capacity),
        overlaps,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Learners' names and phones and the cohort's details edited on three devices, some of
    /// them after seeing another device's work (a LAN sync between two), then every change
    /// delivered everywhere in a random order: the same values and the same overlaps on every
    /// device, including one that saw none of it happen.
    #[test]
    fn every_order_of_delivery_gives_every_device_the_same_edits(
        ops in prop::collection::vec((0usize..3, 0usize..4, 0usize..LEARNERS, any::<u8>()), 1..20),
        seed in 1u64..u64::MAX,
    ) {
        let mut w = world();
        let managers = managers(&w);
        let cohort = cohorts::list(w.devices[0].conn()).unwrap()[0].id;
        for (device, what, learner, value) in &ops {
            let (d, v) = (*device, *value);
            let m = managers[d];
            let site = &mut w.devices[d];
            match what {
                0 | 1 => {
                    let l = learners::get(site.conn(), w.learners[*learner]).unwrap();
                    let phone = (*what == 1).then(|| {
                        if v % 5 == 0 { String::new() } else { format!("139{:08}", v % 3) }
                    });
                    let name = if *what == 0 { format!("学员{}", v % 3) } else { l.name.clone() };
                    // Unchanged values are refused, nothing written.
                    let _ = edits::edit_learner(site, &m, l.id, &edits::LearnerEdit {
                        name, phone, version: l.version,
                    });
                }
                2 => {
                    let c = cohorts::get(site.conn(), cohort).unwrap();
                    let start = c.start_date + chrono::Days::new(u64::from(v % 3));
                    let _ = edits::edit_cohort(site, &m, cohort, &edits::CohortEdit {
                        name: format!("秋季{}班", v % 2),
                        start_date: start,
                        end_date: start + chrono::Days::new(30),
                        capacity: 30 + u32::from(v % 2),
                        version: c.version,
                    });
                }
                _ => {
                    // A LAN sync: this device takes everything another one wrote so far.
                    let from = (d + 1 + usize::from(v % 2)) % 3;
                    let rows = rows(&w.devices[from]);
                    replica::receive_all(&mut w.devices[d], &rows, replica::Via::Lan).unwrap();
                }
            }
        }
        deliver_everywhere(&mut w, seed);
        let first = edit_view(&w.devices[0], &w.learners);
        for (i, device) in w.devices.iter().enumerate() {
            prop_assert!(replica::held(device.conn()).unwrap().is_empty(), "device {} holds rows", i);
            prop_assert_eq!(&edit_view(device, &w.learners), &first, "device {} differs", i);
        }
    }
}

/// The cohort's table as every screen shows it: each learner once, with the enrolment that
/// stands for her, her theory result and pass status, and every attempt kept (by component,
/// number and score).
type FactView = (
    u32,
    Vec<(LearnerId, String, Option<u8>, String)>,
    Vec<(String, u32, u8)>,
);

fn fact_view(site: &Site, cohort: CohortId) -> FactView {
    let table = progress::cohort_progress(site.conn(), cohort).unwrap();
    let mut attempts = Vec::new();
    let lines = table
        .learners
        .iter()
        .map(|l| {
            for a in assessments::current_attempts(site.conn(), l.enrolment_id).unwrap() {
                attempts.push((
                    a.component.as_str().to_string(),
                    a.attempt_no,
                    a.score.get(),
                ));
            }
            (
                l.learner_id,
                l.enrolment_id.to_string(),
                l.results.theory.map(|s| s.get()),
                format!("{:?}", l.status),
            )
        })
        .collect();
    (table.cohort.enrolled, lines, attempts)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// One fact recorded on two devices before they synced: a learner enrolled in a cohort on
    /// several, attempt n of the theory exam recorded (and its draft edited) on several. Every
    /// row applies, nothing is held, and every device (and a new one) shows each learner once
    /// with the same current result: the attempt with the later stamp.
    #[test]
    fn one_fact_recorded_on_two_devices_is_one_fact_everywhere(
        ops in prop::collection::vec((0usize..3, 0usize..4, 0usize..LEARNERS, any::<u8>()), 1..24),
        seed in 1u64..u64::MAX,
    ) {
        let mut w = world();
        let managers = managers(&w);
        // A second cohort nobody is enrolled in yet, known to every device.
        let start = chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let cohort = cohorts::create(&mut w.devices[0], &managers[0], &NewCohort {
            programme_version_id: "maternity-L5-v1".into(),
            name: "冬季班".into(),
            start_date: start,
            end_date: start + chrono::Days::new(30),
            capacity: 40,
            instructors: vec![w.instructors[0].id],
        }).unwrap();
        let setup = rows(&w.devices[0]);
        for d in 1..3 {
            replica::receive_all(&mut w.devices[d], &setup, replica::Via::Lan).unwrap();
        }
        let held_at = Utc.with_ymd_and_hms(2026, 10, 20, 2, 0, 0).unwrap();
        for (device, what, learner, value) in &ops {
            let (d, v) = (*device, *value);
            let m = managers[d];
            let learner = w.learners[*learner];
            let site = &mut w.devices[d];
            let enrolment = cohorts::enrolment_of(site.conn(), cohort, learner).ok();
            match (what, enrolment) {
                (0, _) => {
                    // Already enrolled on this device: refused, nothing written.
                    let _ = cohorts::enrol(site, &m, cohort, learner);
                }
                (1, Some(enrolment)) => {
                    // Already passed on this device: refused, nothing written.
                    let _ = assessments::record(site, &m, &NewAttempt {
                        enrolment_id: enrolment,
                        component: Component::Theory,
                        held_at,
                        assessors: vec![],
                        marks: Marks::Score { score: 40 + i64::from(v % 50) },
                    });
                }
                (2, Some(enrolment)) => {
                    // The draft's mark changed on this device.
                    if let Some(a) = assessments::counting_attempts(site.conn(), enrolment)
                        .unwrap()
                        .into_iter()
                        .find(|a| a.locked_at.is_none())
                    {
                        let _ = assessments::update_draft(site, &m, a.id, &Marks::Score { score: 30 + i64::from(v % 70) });
                    }
                }
                (3, _) => {
                    let from = (d + 1 + usize::from(v % 2)) % 3;
                    let rows = rows(&w.devices[from]);
                    replica::receive_all(&mut w.devices[d], &rows, replica::Via::Lan).unwrap();
                }
                _ => {}
            }
        }
        deliver_everywhere(&mut w, seed);
        let first = fact_view(&w.devices[0], cohort);
        prop_assert!(first.0 as usize <= LEARNERS);
        prop_assert_eq!(first.0 as usize, first.1.len());
        for (i, device) in w.devices.iter().enumerate() {
            prop_assert!(replica::held(device.conn()).unwrap().is_empty(), "device {} holds rows", i);
            prop_assert_eq!(&fact_view(device, cohort), &first, "device {} differs", i);
        }
    }
}
