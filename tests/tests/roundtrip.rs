//! The sync engine against a real credit bank: offline work reaches HQ exactly once and HQ's
//! decisions, credits and certificates come back; two sites share one credit account; a
//! bundle file carries the same without any network.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use siteline_core::store::hq;
use siteline_core::sync::{bundle, status};
use siteline_e2e::{Hq, SiteNode};
use siteline_proto::sync::DecisionStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_work_reaches_hq_exactly_once_and_decisions_credits_and_certificates_come_back() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-001").unwrap();
    let site = SiteNode::new(&hq.url).await.unwrap();
    // A whole cohort recorded with no link: enrolments, attendance, assessments, claims.
    let people = site.learners(0, 5).await.unwrap();
    site.complete("maternity-L5-v1", people.clone(), 82)
        .await
        .unwrap();
    let ops = site.ops().await.unwrap();
    assert!(ops > 100, "{ops}");
    let before = site.db.call(|s| status::status(s, false)).await.unwrap();
    assert_eq!(before.pending, ops);
    let err = site.engine.sync_once().await.unwrap_err();
    assert_eq!(err.kind(), "not_enrolled");

    site.enrol(&hq, &code).await.unwrap();
    let report = site.engine.sync_once().await.unwrap();
    assert_eq!(report.pushed, ops);
    assert_eq!(
        hq.received(site.device).unwrap(),
        (ops as i64, ops as i64, ops as i64)
    );
    assert_eq!(site.pending().await.unwrap(), 0);
    let after = site.db.call(|s| status::status(s, false)).await.unwrap();
    assert_eq!(after.state, status::SyncState::Idle);
    assert!(after.last_success_at.is_some());
    assert_eq!(after.site_code.as_deref(), Some("GD-SZ-001"));

    let first = people[0];
    let credits = site
        .db
        .call(move |s| hq::learner_credits(s.conn(), first.0))
        .await
        .unwrap();
    assert_eq!(credits.credits_tenths, 80);
    assert_eq!(credits.decisions.len(), 1);
    assert_eq!(credits.decisions[0].status, DecisionStatus::Accredited);
    assert!(credits.account_no.as_deref().unwrap().starts_with("CB"));
    assert_eq!(credits.certificates.len(), 1);
    let record = site
        .db
        .call(move |s| status::record_status(s, first.0))
        .await
        .unwrap();
    assert_eq!(record, status::RecordSync::Synced);
    // The catalogue now comes from HQ.
    let (_, source) = site
        .db
        .call(|s| siteline_core::store::catalogue::installed_version(s.conn()))
        .await
        .unwrap();
    assert_eq!(source, "hq");

    // A daily delta afterwards: one push and one pull.
    let m = site.manager;
    site.db
        .call(move |s| siteline_core::demo::register(s, &m, 99))
        .await
        .unwrap();
    let report = site.engine.sync_once().await.unwrap();
    assert_eq!((report.pushed, report.round_trips), (2, 2));
    // Nothing new: pushing nothing, one pull.
    let report = site.engine.sync_once().await.unwrap();
    assert_eq!((report.pushed, report.round_trips), (0, 1));
    assert_eq!(
        hq.store.find_resident_ids().unwrap(),
        Vec::<String>::new(),
        "an ID number in clear at HQ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_person_at_two_sites_has_one_account_holding_both_sites_credits() {
    let hq = Hq::start().await.unwrap();
    let mut accounts = Vec::new();
    for (code, pv) in [
        ("GD-SZ-001", "elderly_care-L5-v1"),
        ("GD-FS-003", "housekeeping-L5-v1"),
    ] {
        let enrol_code = hq.site(code).unwrap();
        let site = SiteNode::new(&hq.url).await.unwrap();
        site.enrol(&hq, &enrol_code).await.unwrap();
        let person = site.learners(7, 1).await.unwrap();
        site.complete(pv, person.clone(), 70).await.unwrap();
        site.engine.sync_once().await.unwrap();
        let p = person[0];
        let c = site
            .db
            .call(move |s| hq::learner_credits(s.conn(), p.0))
            .await
            .unwrap();
        accounts.push((c.account_no.unwrap(), c.credits_tenths));
    }
    assert_eq!(accounts[0].0, accounts[1].0);
    assert_eq!((accounts[0].1, accounts[1].1), (110, 60));
    let statement = creditbank::store::Store::account(hq.store.as_ref(), &accounts[0].0).unwrap();
    assert_eq!(statement.balance_tenths, 170);
    assert_eq!(
        statement.sites,
        vec!["GD-FS-003".to_string(), "GD-SZ-001".to_string()]
    );
    assert_eq!(
        hq.store.find_resident_ids().unwrap(),
        Vec::<String>::new(),
        "an ID number in clear at HQ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_file_round_trip_with_no_network_and_importing_twice_changes_nothing() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-001").unwrap();
    // The site enrolled once when it had a link; the HQ address then goes dark.
    let site = SiteNode::new("http://127.0.0.1:9").await.unwrap();
    site.enrol(&hq, &code).await.unwrap();
    let people = site.learners(0, 3).await.unwrap();
    site.complete("infant_care-L5-v1", people.clone(), 90)
        .await
        .unwrap();
    let err = site.engine.sync_once().await.unwrap_err();
    assert_eq!(err.kind(), "offline");
    let status = site.db.call(|s| status::status(s, false)).await.unwrap();
    assert_eq!(status.state, status::SyncState::Offline);
    assert!(status.last_error.unwrap().zh.contains("U盘"));
    let ops = site.ops().await.unwrap();

    // Export to a file on the "USB stick".
    let key = site.dir.path().join("device.key");
    let usb = tempfile::tempdir().unwrap();
    let bundle_path = usb.path().join("site.bundle.json");
    site.db
        .call({
            let p = bundle_path.clone();
            move |s| {
                let id = siteline_core::sync::identity::Identity::load_or_create(&key)?;
                bundle::write_file(&p, &bundle::export(s, &id)?)
            }
        })
        .await
        .unwrap();

    // A lost stick reveals no ID number: each travels sealed to HQ's key.
    let on_stick = std::fs::read_to_string(&bundle_path).unwrap();
    assert!(on_stick.contains("id_number_sealed"));
    for n in 0..3 {
        let number = siteline_core::demo::resident_id(n);
        assert!(
            !on_stick.contains(&number),
            "an ID number in clear on the stick"
        );
    }

    // At HQ: import it; the same file again is refused as a replay and changes nothing.
    let file: siteline_proto::sync::SyncBundle =
        serde_json::from_slice(&std::fs::read(&bundle_path).unwrap()).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let answer = creditbank::bundle::answer(hq.store.as_ref(), &file, now).unwrap();
    let body: siteline_proto::sync::AnswerBody = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body.ack.as_ref().unwrap().acked_through, ops);
    let changes_before = hq
        .store
        .query_i64("SELECT count(*) FROM change_log")
        .unwrap();
    let again = creditbank::bundle::answer(hq.store.as_ref(), &file, now).unwrap_err();
    assert_eq!(again.code(), "replayed_request", "{again}");
    assert_eq!(hq.received(site.device).unwrap().0 as u64, ops);
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM change_log")
            .unwrap(),
        changes_before
    );

    // A swapped answer file (acknowledging everything there could ever be) is refused at the
    // site and prunes nothing; so is one signed by another key.
    let mut swapped = body.clone();
    swapped.ack.as_mut().unwrap().acked_through = u64::MAX;
    let mut forged = answer.clone();
    forged.body = serde_json::to_string(&swapped).unwrap();
    let pending = site.pending().await.unwrap();
    let err = site
        .db
        .call(move |s| bundle::import_answer(s, &forged))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not signed by the credit bank"),
        "{err}"
    );
    let mut other_key = answer.clone();
    other_key.signature = {
        use base64::Engine;
        use ed25519_dalek::Signer;
        let k = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        base64::engine::general_purpose::STANDARD.encode(
            k.sign(
                siteline_proto::sync::answer_signing_string(
                    site.device,
                    &answer.bundle,
                    &creditbank::bundle::hex(&<sha2::Sha256 as sha2::Digest>::digest(
                        answer.body.as_bytes(),
                    )),
                )
                .as_bytes(),
            )
            .to_bytes(),
        )
    };
    let err = site
        .db
        .call(move |s| bundle::import_answer(s, &other_key))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not signed by the credit bank"),
        "{err}"
    );
    assert_eq!(site.pending().await.unwrap(), pending, "nothing was pruned");

    let answer_path = usb.path().join("site.answer.json");
    bundle::write_file(&answer_path, &answer).unwrap();

    // Back at the site: import the answer twice.
    let p = answer_path.clone();
    site.db
        .call(move |s| bundle::import_answer(s, &bundle::read_answer(&p)?))
        .await
        .unwrap();
    assert_eq!(site.pending().await.unwrap(), 0);
    let snapshot = (
        site.cursor().await.unwrap(),
        site.count("hq_decision").await.unwrap(),
        site.count("hq_credit").await.unwrap(),
    );
    assert_eq!(snapshot.1, 3);
    let p = answer_path.clone();
    site.db
        .call(move |s| bundle::import_answer(s, &bundle::read_answer(&p)?))
        .await
        .unwrap();
    assert_eq!(
        (
            site.cursor().await.unwrap(),
            site.count("hq_decision").await.unwrap(),
            site.count("hq_credit").await.unwrap()
        ),
        snapshot
    );
    let first = people[0];
    let credits = site
        .db
        .call(move |s| hq::learner_credits(s.conn(), first.0))
        .await
        .unwrap();
    assert_eq!(credits.credits_tenths, 80);

    // A file that is not an answer is refused with a clear message.
    let err = bundle::read_answer(&bundle_path).unwrap_err();
    assert!(
        err.to_string().contains("not a credit bank answer file"),
        "{err}"
    );
    assert_eq!(
        hq.store.find_resident_ids().unwrap(),
        Vec::<String>::new(),
        "an ID number in clear at HQ"
    );
}
