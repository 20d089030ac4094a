//! Corrections of a learner's and a cohort's details: on the version the form was opened on,
//! kept with their history, merged field by field across the site's devices (the later stamp
//! wins everywhere), and two changes made without seeing each other shown to the manager until
//! she settles them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use siteline_core::Error;
use siteline_core::store::edits::{self, CohortEdit, LearnerEdit};
use siteline_core::store::{cohorts, learners, outbox, replica, staff};
use siteline_core::sync::outgoing;
use siteline_core::{Site, demo};
use siteline_domain::Rule;

fn rule(e: Error) -> Option<Rule> {
    match e {
        Error::Invalid { rule, .. } => rule,
        _ => None,
    }
}

fn count(site: &Site, table: &str) -> i64 {
    site.conn()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn edit(name: &str, phone: Option<&str>, version: u32) -> LearnerEdit {
    LearnerEdit {
        name: name.into(),
        phone: phone.map(String::from),
        version,
    }
}

#[test]
fn a_learner_is_corrected_on_the_version_opened_and_the_history_keeps_both_values() {
    let mut f = site();
    let learner = learners::register(&mut f.site, &f.manager, &new_learner(1)).unwrap();
    let before = learners::get(f.site.conn(), learner).unwrap();

    edits::edit_learner(
        &mut f.site,
        &f.instructor,
        learner,
        &edit("王小芳", Some("13900001111"), before.version),
    )
    .unwrap();
    let after = learners::get(f.site.conn(), learner).unwrap();
    assert_eq!(after.name, "王小芳");
    assert_eq!(after.phone_masked.as_deref(), Some("139****1111"));
    assert_eq!(after.version, before.version + 1);
    // The new number is sealed and found by its last four digits.
    let (_, phone) = learners::unmask(&mut f.site, &f.manager, learner).unwrap();
    assert_eq!(phone.as_deref(), Some("13900001111"));
    let found = learners::search(&f.site, "1111", 10).unwrap();
    assert_eq!(
        found.iter().map(|l| l.id).collect::<Vec<_>>(),
        vec![learner]
    );
    assert!(
        learners::search(&f.site, &demo::mobile(1)[7..], 10)
            .unwrap()
            .iter()
            .all(|l| l.id != learner)
    );
    let history = edits::history(f.site.conn(), learner.0).unwrap();
    let fields: Vec<(&str, Option<&str>, Option<&str>)> = history
        .iter()
        .map(|c| (c.field.as_str(), c.value.as_deref(), c.by.as_deref()))
        .collect();
    assert!(fields.contains(&("name", Some("王小芳"), Some("王老师"))));
    assert!(fields.contains(&("phone", Some("139****1111"), Some("王老师"))));

    // A form opened on the old version is refused, nothing written.
    let (edits_before, outbox_before) = (count(&f.site, "field_edit"), count(&f.site, "outbox"));
    let stale = edits::edit_learner(
        &mut f.site,
        &f.manager,
        learner,
        &edit("王芳芳", None, before.version),
    )
    .unwrap_err();
    assert_eq!(rule(stale), Some(Rule::StaleEdit));
    let same = edits::edit_learner(
        &mut f.site,
        &f.manager,
        learner,
        &edit("王小芳", Some("13900001111"), after.version),
    )
    .unwrap_err();
    assert_eq!(rule(same), Some(Rule::NothingChanged));
    let bad_phone = edits::edit_learner(
        &mut f.site,
        &f.manager,
        learner,
        &edit("王小芳", Some("1234"), after.version),
    )
    .unwrap_err();
    assert!(
        matches!(
            bad_phone,
            Error::Invalid {
                field: "learner.phone",
                ..
            }
        ),
        "{bad_phone:?}"
    );
    let blank = edits::edit_learner(
        &mut f.site,
        &f.manager,
        learner,
        &edit("  ", None, after.version),
    )
    .unwrap_err();
    assert!(
        matches!(
            blank,
            Error::Invalid {
                field: "learner.name",
                ..
            }
        ),
        "{blank:?}"
    );
    assert_eq!(count(&f.site, "field_edit"), edits_before);
    assert_eq!(count(&f.site, "outbox"), outbox_before);
    assert_eq!(learners::get(f.site.conn(), learner).unwrap(), after);

    // Removing the phone number; after an erasure no number can be stored, and every version
    // of the number kept is shredded.
    edits::edit_learner(
        &mut f.site,
        &f.manager,
        learner,
        &edit("王小芳", Some(""), after.version),
    )
    .unwrap();
    assert_eq!(
        learners::get(f.site.conn(), learner).unwrap().phone_masked,
        None
    );
    learners::erase_personal_data(&mut f.site, &f.manager, learner).unwrap();
    let v = learners::get(f.site.conn(), learner).unwrap().version;
    let refused = edits::edit_learner(
        &mut f.site,
        &f.manager,
        learner,
        &edit("王小芳", Some("13900002222"), v),
    )
    .unwrap_err();
    assert_eq!(rule(refused), Some(Rule::ErasedLearner));
    let numbers: i64 = f
        .site
        .conn()
        .query_row(
            "SELECT count(*) FROM field_edit WHERE field = 'phone'
             AND (value IS NOT NULL OR value_cipher IS NOT NULL OR value_index IS NOT NULL)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(numbers, 0);
}

#[test]
fn a_cohort_is_corrected_by_a_manager_only_and_never_below_its_roster() {
    let mut f = site();
    let cohort = f.cohort("maternity-L5-v1");
    let learner = learners::register(&mut f.site, &f.manager, &new_learner(1)).unwrap();
    cohorts::enrol(&mut f.site, &f.manager, cohort, learner).unwrap();
    let c = cohorts::get(f.site.conn(), cohort).unwrap();
    let mut e = CohortEdit {
        name: "2026年第4期母婴护理员（五级）班".into(),
        start_date: day(3),
        end_date: day(28),
        capacity: 30,
        version: c.version,
    };
    let forbidden = edits::edit_cohort(&mut f.site, &f.instructor, cohort, &e).unwrap_err();
    assert!(
        matches!(forbidden, Error::Forbidden { .. }),
        "{forbidden:?}"
    );
    e.capacity = 0;
    assert!(matches!(
        rule(edits::edit_cohort(&mut f.site, &f.manager, cohort, &e).unwrap_err()),
        Some(Rule::OutOfRange { .. })
    ));
    e.capacity = 30;
    e.end_date = day(2);
    assert_eq!(
        rule(edits::edit_cohort(&mut f.site, &f.manager, cohort, &e).unwrap_err()),
        Some(Rule::EndBeforeStart)
    );
    e.end_date = day(28);
    edits::edit_cohort(&mut f.site, &f.manager, cohort, &e).unwrap();
    let after = cohorts::get(f.site.conn(), cohort).unwrap();
    assert_eq!(
        (
            after.name.as_str(),
            after.start_date,
            after.end_date,
            after.capacity
        ),
        ("2026年第4期母婴护理员（五级）班", day(3), day(28), 30)
    );
    let fields: Vec<String> = edits::history(f.site.conn(), cohort.0)
        .unwrap()
        .into_iter()
        .map(|c| format!("{}={}", c.field, c.value.unwrap_or_default()))
        .collect();
    assert_eq!(fields.len(), 3, "{fields:?}");
    assert!(fields.contains(&"dates=2026-11-03/2026-11-28".to_string()));
    // A status change is a new version too: a form opened before it is stale.
    cohorts::set_status(
        &mut f.site,
        &f.manager,
        cohort,
        cohorts::CohortStatus::Running,
    )
    .unwrap();
    assert_eq!(
        rule(
            edits::edit_cohort(
                &mut f.site,
                &f.manager,
                cohort,
                &CohortEdit {
                    capacity: 31,
                    version: after.version,
                    ..e.clone()
                }
            )
            .unwrap_err()
        ),
        Some(Rule::StaleEdit)
    );
    let now = cohorts::get(f.site.conn(), cohort).unwrap();
    let below = edits::edit_cohort(
        &mut f.site,
        &f.manager,
        cohort,
        &CohortEdit {
            capacity: 1,
            version: now.version,
            ..e.clone()
        },
    );
    // One learner enrolled: a capacity of 1 is allowed, 0 is out of range, and a second
    // enrolment would need more.
    below.unwrap();
    let learner2 = learners::register(&mut f.site, &f.manager, &new_learner(2)).unwrap();
    assert!(cohorts::enrol(&mut f.site, &f.manager, cohort, learner2).is_err());
}

#[test]
fn two_laptops_editing_one_field_offline_end_with_the_later_value_and_the_manager_sees_the_overlap()
{
    let (mut a, mut b, manager_a, manager_b, learner, cohort) = two_laptops();
    let v = learners::get(a.conn(), learner).unwrap().version;
    edits::edit_learner(
        &mut a,
        &manager_a,
        learner,
        &edit("王一", Some("13900001111"), v),
    )
    .unwrap();
    edits::edit_learner(&mut b, &manager_b, learner, &edit("王二", None, v)).unwrap();
    let cv = cohorts::get(b.conn(), cohort).unwrap().version;
    // B closes nothing but moves the cohort on; A's later edit of its name must not hide it.
    cohorts::set_status(&mut b, &manager_b, cohort, cohorts::CohortStatus::Running).unwrap();
    edits::edit_cohort(
        &mut a,
        &manager_a,
        cohort,
        &CohortEdit {
            name: "秋季一班".into(),
            start_date: day(2),
            end_date: day(30),
            capacity: 40,
            version: cv,
        },
    )
    .unwrap();
    sync(&mut a, &b);
    sync(&mut b, &a);

    let (la, lb) = (
        learners::get(a.conn(), learner).unwrap(),
        learners::get(b.conn(), learner).unwrap(),
    );
    assert_eq!(la.name, lb.name);
    assert_eq!(la.name, "王二", "B's change has the later stamp");
    // The phone changed only on A: no overlap, B has it sealed under its own key.
    assert_eq!(lb.phone_masked.as_deref(), Some("139****1111"));
    assert_eq!(
        learners::unmask(&mut b, &manager_b, learner)
            .unwrap()
            .1
            .as_deref(),
        Some("13900001111")
    );
    let (ca, cb) = (
        cohorts::get(a.conn(), cohort).unwrap(),
        cohorts::get(b.conn(), cohort).unwrap(),
    );
    assert_eq!(
        (ca.name.as_str(), ca.start_date, ca.status),
        ("秋季一班", day(2), cohorts::CohortStatus::Running)
    );
    assert_eq!(
        (cb.name.as_str(), cb.start_date, cb.status),
        (ca.name.as_str(), ca.start_date, ca.status)
    );

    let (oa, ob) = (
        edits::overlaps(a.conn()).unwrap(),
        edits::overlaps(b.conn()).unwrap(),
    );
    assert_eq!(oa.len(), 1, "{oa:?}");
    assert_eq!(
        (
            oa[0].field.as_str(),
            oa[0].kept.value.as_deref(),
            oa[0].unseen[0].value.as_deref()
        ),
        ("name", Some("王二"), Some("王一"))
    );
    assert_eq!(
        oa.iter()
            .map(|o| (&o.kept.stamp, &o.unseen[0].stamp))
            .collect::<Vec<_>>(),
        ob.iter()
            .map(|o| (&o.kept.stamp, &o.unseen[0].stamp))
            .collect::<Vec<_>>()
    );

    // Only a manager settles it; she takes A's value, and the overlap leaves both laptops.
    let (_, teacher) = (
        0,
        staff::sign_in(a.conn(), "teacher", "teacher-pass").unwrap(),
    );
    assert!(matches!(
        edits::settle(&mut a, &teacher, learner.0, "name", &oa[0].unseen[0].stamp).unwrap_err(),
        Error::Forbidden { .. }
    ));
    edits::settle(
        &mut a,
        &manager_a,
        learner.0,
        "name",
        &oa[0].unseen[0].stamp,
    )
    .unwrap();
    sync(&mut b, &a);
    for site in [&a, &b] {
        assert_eq!(learners::get(site.conn(), learner).unwrap().name, "王一");
        assert!(edits::overlaps(site.conn()).unwrap().is_empty());
        assert_eq!(
            edits::history(site.conn(), learner.0)
                .unwrap()
                .iter()
                .filter(|c| c.field == "name")
                .count(),
            3
        );
    }
    // Nothing of it is waiting on either laptop, and each holds every change once.
    assert_eq!(count(&a, "field_edit"), count(&b, "field_edit"));
    assert!(outbox::pending(a.conn(), 10).unwrap().len() > 1);
}

#[test]
fn a_phone_number_changed_after_an_erasure_elsewhere_is_kept_as_nothing() {
    let (mut a, mut b, manager_a, manager_b, learner, _) = two_laptops();
    let v = learners::get(a.conn(), learner).unwrap().version;
    edits::edit_learner(
        &mut a,
        &manager_a,
        learner,
        &edit(&demo::name(1), Some("13900001111"), v),
    )
    .unwrap();
    learners::erase_personal_data(&mut b, &manager_b, learner).unwrap();
    sync(&mut b, &a);
    sync(&mut a, &b);
    for site in [&a, &b] {
        let phones: Vec<(Option<String>, Option<Vec<u8>>)> = site
            .conn()
            .prepare("SELECT value, value_cipher FROM field_edit WHERE field = 'phone'")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(phones, vec![(None, None)]);
        assert!(edits::overlaps(site.conn()).unwrap().is_empty());
    }
}

#[test]
fn a_registration_merged_into_another_is_not_edited_the_one_kept_is() {
    let (mut a, mut b, manager_a, manager_b, _, _) = two_laptops();
    // Both laptops register the same person, neither knowing; after a sync A merges the pair.
    let person = learners::NewLearner {
        consents: vec![],
        ..new_learner(5)
    };
    let kept = learners::register(&mut a, &manager_a, &person).unwrap();
    let twin = learners::register(&mut b, &manager_b, &person).unwrap();
    sync(&mut a, &b);
    siteline_core::store::duplicates::merge(&mut a, &manager_a, kept, twin).unwrap();
    let v = learners::get(a.conn(), twin).unwrap().version;
    let err = edits::edit_learner(&mut a, &manager_a, twin, &edit("王二", None, v)).unwrap_err();
    assert_eq!(err.kind(), "locked", "{err:?}");
    let v = learners::get(a.conn(), kept).unwrap().version;
    edits::edit_learner(&mut a, &manager_a, kept, &edit("王二", None, v)).unwrap();
    assert_eq!(learners::get(a.conn(), kept).unwrap().name, "王二");
}

#[test]
fn a_broken_change_from_another_device_is_held_and_changes_nothing() {
    use siteline_proto::records::{
        CohortField, CohortFieldBase, CohortUpdate, LearnerField, LearnerFieldBase, LearnerUpdate,
        Record,
    };
    let (a, mut b, _, _, learner, cohort) = two_laptops();
    let template = outgoing::rows(&a, 1).unwrap().remove(0);
    let before = (
        learners::get(b.conn(), learner).unwrap(),
        cohorts::get(b.conn(), cohort).unwrap(),
        count(&b, "field_edit"),
    );
    let row = |seq: u64, record: uuid::Uuid, r: Record| siteline_proto::OutboxRow {
        seq: 1000 + seq,
        entity: r.entity(),
        op: r.op(),
        record_id: record,
        payload: r.to_payload(),
        ..template.clone()
    };
    let rows = vec![
        // A name change that carries no sealed name.
        row(
            1,
            learner.0,
            Record::LearnerUpdate(LearnerUpdate::Edited {
                fields: vec![LearnerFieldBase {
                    field: LearnerField::Name,
                    base: None,
                }],
                name: Some("伪造".into()),
                site_sealed: None,
                phone_sealed: None,
            }),
        ),
        // One sealed under another site key (here: not sealed at all).
        row(
            2,
            learner.0,
            Record::LearnerUpdate(LearnerUpdate::Edited {
                fields: vec![LearnerFieldBase {
                    field: LearnerField::Name,
                    base: None,
                }],
                name: None,
                site_sealed: Some("bm90IHNlYWxlZA==".into()),
                phone_sealed: None,
            }),
        ),
        // A cohort change that names a field without its value, and one ending before it
        // starts, and a capacity out of range.
        row(
            3,
            cohort.0,
            Record::CohortUpdate(CohortUpdate::Edited {
                fields: vec![CohortFieldBase {
                    field: CohortField::Name,
                    base: None,
                }],
                name: None,
                dates: None,
                capacity: None,
            }),
        ),
        row(
            4,
            cohort.0,
            Record::CohortUpdate(CohortUpdate::Edited {
                fields: vec![CohortFieldBase {
                    field: CohortField::Dates,
                    base: None,
                }],
                name: None,
                dates: Some((day(20), day(10))),
                capacity: None,
            }),
        ),
        row(
            5,
            cohort.0,
            Record::CohortUpdate(CohortUpdate::Edited {
                fields: vec![CohortFieldBase {
                    field: CohortField::Capacity,
                    base: None,
                }],
                name: None,
                dates: None,
                capacity: Some(0),
            }),
        ),
    ];
    let received = replica::receive_all(&mut b, &rows, replica::Via::Lan).unwrap();
    assert!(
        received
            .iter()
            .all(|r| matches!(r, replica::Received::Held(_))),
        "{received:?}"
    );
    assert_eq!(replica::held(b.conn()).unwrap().len(), 5);
    assert_eq!(
        (
            learners::get(b.conn(), learner).unwrap(),
            cohorts::get(b.conn(), cohort).unwrap(),
            count(&b, "field_edit"),
        ),
        before,
        "a held change wrote something"
    );
}
