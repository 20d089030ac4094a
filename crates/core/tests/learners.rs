//! Learners: registration rules, encrypted fields, masked search, unmasking and erasure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{new_learner, site};
use siteline_core::demo;
use siteline_core::store::learners::{self, IdType, NewLearner};

#[test]
fn registered_learner_is_shown_masked_with_data_from_the_id() {
    let mut f = site();
    let id = learners::register(&mut f.site, &f.instructor, &new_learner(7)).unwrap();
    let l = learners::get(f.site.conn(), id).unwrap();
    let full = demo::resident_id(7);
    assert_eq!(
        l.id_masked,
        format!("{}***********{}", &full[..3], &full[14..])
    );
    assert_eq!(l.phone_masked.as_deref(), Some("130****0007"));
    assert!(l.birth_date.is_some());
    assert!(!l.minor);
    // The clear numbers are nowhere in the file's tables.
    let stored: Vec<u8> = f
        .site
        .conn()
        .query_row("SELECT id_cipher FROM learner WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!stored.windows(18).any(|w| w == full.as_bytes()));
    let outbox: String = f
        .site
        .conn()
        .query_row("SELECT group_concat(payload) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert!(!outbox.contains(&full));
    assert!(!outbox.contains(&demo::mobile(7)));
}

#[test]
fn search_by_name_id_tail_phone_tail_and_full_id() {
    let mut f = site();
    for n in 0..30 {
        learners::register(&mut f.site, &f.manager, &new_learner(n)).unwrap();
    }
    let target = demo::resident_id(12);
    let by_tail = learners::search(&f.site, &target[14..], 50).unwrap();
    assert!(
        by_tail.iter().any(|l| l.name == demo::name(12)),
        "{by_tail:?}"
    );
    let by_phone = learners::search(&f.site, "0012", 50).unwrap();
    assert!(
        by_phone
            .iter()
            .any(|l| l.phone_masked.as_deref() == Some("130****0012"))
    );
    let by_full = learners::search(&f.site, &target.to_lowercase(), 50).unwrap();
    assert_eq!(by_full.len(), 1);
    let name = demo::name(12);
    let by_name = learners::search(&f.site, &name[3..], 50).unwrap();
    assert!(by_name.iter().all(|l| l.name.contains(&name[3..])));
    assert!(by_name.iter().any(|l| l.name == name));
    assert!(
        learners::search(&f.site, "%", 50).unwrap().is_empty(),
        "LIKE wildcards are literal"
    );
    let err = learners::search(&f.site, "123", 50).unwrap_err();
    assert!(err.to_string().contains("last 4 characters"));
    assert!(learners::search(&f.site, "  ", 50).is_err());
}

#[test]
fn a_second_registration_with_the_same_id_is_refused_and_named() {
    let mut f = site();
    learners::register(&mut f.site, &f.manager, &new_learner(3)).unwrap();
    let dup = learners::find_by_id_number(
        &f.site,
        IdType::ResidentId,
        &demo::resident_id(3).to_lowercase(),
    )
    .unwrap();
    assert_eq!(dup.unwrap().name, demo::name(3));
    let before = (f.count("learner"), f.next_seq());
    let again = NewLearner {
        name: "别名".into(),
        ..new_learner(3)
    };
    let err = learners::register(&mut f.site, &f.manager, &again).unwrap_err();
    assert_eq!(err.kind(), "duplicate");
    assert!(err.to_string().contains(&demo::name(3)));
    assert_eq!((f.count("learner"), f.next_seq()), before);
}

#[test]
fn bad_input_names_the_field_and_writes_nothing() {
    let mut f = site();
    let before = (f.count("learner"), f.count("consent"), f.next_seq());
    let mut wrong_check = demo::resident_id(1);
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '0' { '1' } else { '0' });
    let cases = [
        (
            NewLearner {
                name: "  ".into(),
                ..new_learner(1)
            },
            "learner.name",
        ),
        (
            NewLearner {
                id_number: wrong_check,
                ..new_learner(1)
            },
            "learner.id_number",
        ),
        (
            NewLearner {
                id_number: "".into(),
                ..new_learner(1)
            },
            "learner.id_number",
        ),
        (
            NewLearner {
                phone: Some("12345".into()),
                ..new_learner(1)
            },
            "learner.phone",
        ),
        (
            NewLearner {
                id_type: IdType::Passport,
                id_number: "E1".into(),
                ..new_learner(1)
            },
            "learner.id_number",
        ),
    ];
    for (input, field) in cases {
        let err = learners::register(&mut f.site, &f.manager, &input).unwrap_err();
        assert_eq!(err.kind(), "invalid");
        assert!(err.to_string().starts_with(field), "{err}");
    }
    assert_eq!(
        (f.count("learner"), f.count("consent"), f.next_seq()),
        before
    );
}

#[test]
fn passports_are_accepted_without_checksum_or_birth_date() {
    let mut f = site();
    let input = NewLearner {
        id_type: IdType::Passport,
        id_number: "e12345678".into(),
        phone: None,
        ..new_learner(1)
    };
    let id = learners::register(&mut f.site, &f.manager, &input).unwrap();
    let l = learners::get(f.site.conn(), id).unwrap();
    assert_eq!(l.id_masked, "E12**5678");
    assert_eq!(l.birth_date, None);
}

#[test]
fn a_minor_is_flagged() {
    let mut f = site();
    // Born 2012-05-01: under 18 until 2030.
    let w = [7u32, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let first17 = "44030520120501002";
    let sum: u32 = first17
        .bytes()
        .zip(w)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let id = format!(
        "{first17}{}",
        ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
    );
    let l = learners::register(
        &mut f.site,
        &f.manager,
        &NewLearner {
            id_number: id,
            ..new_learner(1)
        },
    )
    .unwrap();
    assert!(learners::get(f.site.conn(), l).unwrap().minor);
}

#[test]
fn only_a_site_manager_unmasks_and_each_unmasking_is_audited() {
    let mut f = site();
    let id = learners::register(&mut f.site, &f.manager, &new_learner(5)).unwrap();
    let instructor = f.instructor;
    let err = learners::unmask(&mut f.site, &instructor, id).unwrap_err();
    assert_eq!(err.kind(), "forbidden");
    let audits_before = f.count("audit_log");
    let manager = f.manager;
    let (clear, phone) = learners::unmask(&mut f.site, &manager, id).unwrap();
    assert_eq!(clear, demo::resident_id(5));
    assert_eq!(phone, Some(demo::mobile(5)));
    assert_eq!(f.count("audit_log"), audits_before + 1);
    let action: String = f
        .site
        .conn()
        .query_row(
            "SELECT action FROM audit_log ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(action, "unmask_learner");
}

#[test]
fn erasing_personal_data_destroys_the_key_but_keeps_the_learner_row() {
    let mut f = site();
    let id = learners::register(&mut f.site, &f.manager, &new_learner(9)).unwrap();
    let manager = f.manager;
    let instructor = f.instructor;
    assert!(!learners::is_erased(f.site.conn(), id).unwrap());
    let refused = learners::erase_personal_data(&mut f.site, &instructor, id).unwrap_err();
    assert_eq!(refused.kind(), "forbidden");
    assert!(!learners::is_erased(f.site.conn(), id).unwrap());
    learners::erase_personal_data(&mut f.site, &manager, id).unwrap();
    assert!(learners::is_erased(f.site.conn(), id).unwrap());
    let err = learners::unmask(&mut f.site, &manager, id).unwrap_err();
    assert!(err.to_string().contains("erased"));
    assert_eq!(
        learners::get(f.site.conn(), id).unwrap().name,
        demo::name(9)
    );
    let err = f
        .site
        .conn()
        .execute("DELETE FROM learner WHERE id = ?1", [id])
        .unwrap_err();
    assert!(err.to_string().contains("never deleted"));
}

#[test]
fn consent_latest_answer_wins_and_records_are_append_only() {
    use siteline_core::store::learners::{ConsentInput, ConsentPurpose};
    let mut f = site();
    let id = learners::register(&mut f.site, &f.manager, &new_learner(2)).unwrap();
    assert!(learners::has_consent(f.site.conn(), id, ConsentPurpose::CreditBank).unwrap());
    assert!(!learners::has_consent(f.site.conn(), id, ConsentPurpose::FacePhotos).unwrap());
    let manager = f.manager;
    learners::record_consent(
        &mut f.site,
        &manager,
        id,
        ConsentInput {
            purpose: ConsentPurpose::CreditBank,
            granted: false,
        },
    )
    .unwrap();
    assert!(!learners::has_consent(f.site.conn(), id, ConsentPurpose::CreditBank).unwrap());
    assert_eq!(f.count("consent"), 2);
    // The profile's history: both answers, in order, with who recorded them.
    let history = learners::consents_of(f.site.conn(), id).unwrap();
    let answers: Vec<_> = history.iter().map(|c| (c.purpose, c.granted)).collect();
    assert_eq!(
        answers,
        [
            (ConsentPurpose::CreditBank, true),
            (ConsentPurpose::CreditBank, false)
        ]
    );
    assert!(history.iter().all(|c| c.recorded_by.is_some()));
    assert!(
        f.site
            .conn()
            .execute("UPDATE consent SET granted = 1", [])
            .is_err()
    );
}
