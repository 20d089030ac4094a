//! The learners list: 250 learners paged 100 at a time, each page in name order and none
//! twice; filtered by cohort, programme, under 18 and a missing credit bank consent; searched
//! by name and by the last four of an ID; a page size out of range refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate, Utc};
use siteline_core::store::cohorts::{self, NewCohort};
use siteline_core::store::learner_list::{self, LearnerFilter};
use siteline_core::store::learners::{self, ConsentInput, ConsentPurpose, IdType, NewLearner};
use siteline_core::{Site, demo};
use siteline_domain::resident_id::check_char;

/// A valid resident ID for someone born on `birth`.
fn id_born(birth: NaiveDate, order: u32) -> String {
    let first17 = format!("440303{}{order:03}", birth.format("%Y%m%d"));
    let mut digits = [0u8; 17];
    digits.copy_from_slice(first17.as_bytes());
    format!("{first17}{}", check_char(&digits))
}

fn page(site: &Site, f: LearnerFilter) -> learner_list::LearnerPage {
    learner_list::list(site, &LearnerFilter { limit: 100, ..f }).unwrap()
}

#[test]
fn the_list_pages_filters_and_searches_the_whole_site() {
    let mut site = Site::open_in_memory().unwrap();
    let (manager, _) = demo::staff(&mut site).unwrap();
    let ids: Vec<_> = (1..=250)
        .map(|n| demo::register(&mut site, &manager, n).unwrap())
        .collect();
    // Two under 18 (one turns 18 tomorrow), one who turned 18 today; none gave consent.
    let today = Utc::now().date_naive();
    let born = |years_ago: i32, days: i64| {
        NaiveDate::from_ymd_opt(today.year() - years_ago, today.month(), today.day().min(28))
            .unwrap()
            + chrono::Days::new(0)
            - chrono::TimeDelta::days(days)
    };
    let mut young = Vec::new();
    for (i, birth) in [born(15, 0), born(18, -1), born(18, 0)]
        .into_iter()
        .enumerate()
    {
        young.push(
            learners::register(
                &mut site,
                &manager,
                &NewLearner {
                    name: format!("少年{i}"),
                    id_type: IdType::ResidentId,
                    id_number: id_born(birth, 900 + i as u32),
                    phone: None,
                    consents: vec![],
                },
            )
            .unwrap(),
        );
    }
    // One adult withdrew consent.
    learners::record_consent(
        &mut site,
        &manager,
        ids[7],
        ConsentInput {
            purpose: ConsentPurpose::CreditBank,
            granted: false,
        },
    )
    .unwrap();
    let cohort = |site: &mut Site, name: &str, pv: &str| {
        cohorts::create(
            site,
            &manager,
            &NewCohort {
                programme_version_id: pv.into(),
                name: name.into(),
                start_date: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
                end_date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
                capacity: 40,
                instructors: vec![],
            },
        )
        .unwrap()
    };
    let maternity = cohort(&mut site, "母婴护理一班", "maternity-L5-v1");
    let housekeeping = cohort(&mut site, "家务服务一班", "housekeeping-L5-v1");
    for l in &ids[..30] {
        cohorts::enrol(&mut site, &manager, maternity, *l).unwrap();
    }
    for l in &ids[20..45] {
        cohorts::enrol(&mut site, &manager, housekeeping, *l).unwrap();
    }

    // Every learner once over three pages, in name order within each.
    let mut seen = HashSet::new();
    for offset in [0, 100, 200] {
        let p = page(
            &site,
            LearnerFilter {
                offset,
                ..Default::default()
            },
        );
        assert_eq!(p.total, 253);
        assert_eq!(p.lines.len(), if offset == 200 { 53 } else { 100 });
        let names: Vec<_> = p.lines.iter().map(|l| l.learner.name.clone()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        for l in p.lines {
            assert!(seen.insert(l.learner.id), "{} on two pages", l.learner.name);
        }
    }
    assert_eq!(seen.len(), 253);

    let m = page(
        &site,
        LearnerFilter {
            cohort: Some(maternity),
            ..Default::default()
        },
    );
    assert_eq!(m.total, 30);
    let both = m.lines.iter().find(|l| l.learner.id == ids[25]).unwrap();
    // Same start date: by name.
    assert_eq!(both.cohorts, ["家务服务一班", "母婴护理一班"]);
    let h = page(
        &site,
        LearnerFilter {
            programme: Some("housekeeping-L5-v1".into()),
            ..Default::default()
        },
    );
    assert_eq!(h.total, 25);

    let minors = page(
        &site,
        LearnerFilter {
            minor: true,
            ..Default::default()
        },
    );
    let minor_ids: HashSet<_> = minors.lines.iter().map(|l| l.learner.id).collect();
    assert_eq!(
        minor_ids,
        young[..2].iter().copied().collect(),
        "{minors:#?}"
    );
    assert!(minors.lines.iter().all(|l| l.learner.minor));

    let missing = page(
        &site,
        LearnerFilter {
            consent_missing: true,
            ..Default::default()
        },
    );
    let missing_ids: HashSet<_> = missing.lines.iter().map(|l| l.learner.id).collect();
    let expected: HashSet<_> = young.iter().copied().chain([ids[7]]).collect();
    assert_eq!(missing_ids, expected);
    assert!(missing.lines.iter().all(|l| !l.credit_bank_consent));

    // Filters combine: under 18 and in no cohort at all, so none in the maternity cohort.
    let none = page(
        &site,
        LearnerFilter {
            minor: true,
            cohort: Some(maternity),
            ..Default::default()
        },
    );
    assert_eq!((none.total, none.lines.len()), (0, 0));

    // Search: by name, by the last four of an ID, by a full ID.
    let name = demo::name(3);
    let by_name = page(
        &site,
        LearnerFilter {
            query: Some(name.clone()),
            ..Default::default()
        },
    );
    assert!(by_name.total >= 1 && by_name.lines.iter().all(|l| l.learner.name.contains(&name)));
    let id = demo::resident_id(3);
    let by_tail = page(
        &site,
        LearnerFilter {
            query: Some(id[14..].into()),
            ..Default::default()
        },
    );
    assert!(by_tail.lines.iter().any(|l| l.learner.id == ids[2]));
    let by_id = page(
        &site,
        LearnerFilter {
            query: Some(id),
            ..Default::default()
        },
    );
    assert_eq!(
        by_id.lines.iter().map(|l| l.learner.id).collect::<Vec<_>>(),
        [ids[2]]
    );
    // A LIKE wildcard typed in a name matches itself only.
    let wild = page(
        &site,
        LearnerFilter {
            query: Some("%".into()),
            ..Default::default()
        },
    );
    assert_eq!(wild.total, 0);

    for limit in [0, learner_list::MAX_PAGE + 1] {
        let e = learner_list::list(
            &site,
            &LearnerFilter {
                limit,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("a page holds"), "{e}");
    }
}
