//! Personal data between a real site and HQ: a learner's row reaches HQ only with their
//! credit-bank consent (before it, HQ holds the record's id alone); a withdrawal or an erasure
//! at the site reaches HQ, which blanks what it held; ID numbers travel sealed to HQ's key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Device, Hq, SiteApp};
use siteline_core::demo;
use siteline_core::store::learners::{self, ConsentInput, ConsentPurpose, NewLearner};
use siteline_proto::vocab::IdType;

async fn enrolled() -> (Hq, SiteApp, Device) {
    let c = common::enrolled_site().await;
    (c.hq, c.site, c.device)
}

fn learner_at_hq(hq: &Hq, name: &str) -> i64 {
    hq.store
        .query_i64(&format!(
            "SELECT count(*) FROM learner WHERE name = '{name}'"
        ))
        .unwrap()
}

#[tokio::test]
async fn without_consent_hq_holds_the_id_only_and_gets_the_learner_once_consent_is_given() {
    let (hq, mut site, device) = enrolled().await;
    let number = demo::resident_id(31);
    let learner = learners::register(
        &mut site.site,
        &site.manager,
        &NewLearner {
            name: "陈静".into(),
            id_type: IdType::ResidentId,
            id_number: number.clone(),
            phone: Some(demo::mobile(31)),
            consents: vec![],
        },
    )
    .unwrap();
    hq.sync(&device, &site, 0).await;
    assert_eq!(learner_at_hq(&hq, "陈静"), 0);
    assert_eq!(learner_at_hq(&hq, ""), 1, "the id arrived, withheld");
    assert!(
        hq.store.find_text("陈静").unwrap().is_empty(),
        "no name anywhere at HQ"
    );
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM credit_account")
            .unwrap(),
        0
    );

    learners::record_consent(
        &mut site.site,
        &site.manager,
        learner,
        ConsentInput {
            purpose: ConsentPurpose::CreditBank,
            granted: true,
        },
    )
    .unwrap();
    hq.sync(&device, &site, 0).await;
    assert_eq!(
        learner_at_hq(&hq, "陈静"),
        1,
        "the consent brought the learner"
    );
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM credit_account")
            .unwrap(),
        1
    );
    assert!(
        hq.store.find_text(&number).unwrap().is_empty(),
        "the number never in clear"
    );
}

#[tokio::test]
async fn a_withdrawal_or_an_erasure_at_the_site_blanks_what_hq_held() {
    let (hq, mut site, device) = enrolled().await;
    let withdrawn = site.learner(41);
    let erased = site.learner(42);
    hq.sync(&device, &site, 0).await;
    let name = |n| demo::name(n);
    assert!(!hq.store.find_text(&name(41)).unwrap().is_empty());
    assert!(!hq.store.find_text(&name(42)).unwrap().is_empty());

    learners::record_consent(
        &mut site.site,
        &site.manager,
        withdrawn,
        ConsentInput {
            purpose: ConsentPurpose::CreditBank,
            granted: false,
        },
    )
    .unwrap();
    learners::erase_personal_data(&mut site.site, &site.manager, erased).unwrap();
    hq.sync(&device, &site, 0).await;
    for n in [41, 42] {
        assert_eq!(
            hq.store.find_text(&name(n)).unwrap(),
            Vec::<String>::new(),
            "learner {n}'s name is gone from HQ"
        );
    }
    // What HQ keeps: the records' ids and the person's account.
    assert_eq!(learner_at_hq(&hq, ""), 2);
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM credit_account")
            .unwrap(),
        2
    );
}
