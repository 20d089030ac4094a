//! Push and pull through the router: a real site's records reach HQ exactly once, claims are
//! accredited, credits and certificates come back, and each site sees only its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Device, Hq, SiteApp, admin, admin_note};
use siteline_domain::certificate::CertificateNumber;
use siteline_proto::sync::PushAck;

#[tokio::test]
async fn a_completed_cohort_is_accredited_and_its_credits_and_certificates_come_back() {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    let (status, body) = site.enrolled(hq.enrol(&code, &device).await);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["site_code"], "GD-SZ-001");
    let learners: Vec<_> = (0..3).map(|n| site.learner(n)).collect();
    site.completed("maternity-L5-v1", &learners, 85);
    let rows = site.rows();
    let (status, ack) = hq.send(device.push(&rows)).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let ack: PushAck = serde_json::from_value(ack).unwrap();
    assert_eq!(ack.acked_through, rows.last().unwrap().seq);
    assert_eq!(ack.applied as usize, rows.len());
    assert!(ack.quarantined.is_empty(), "{:?}", ack.quarantined);

    let (status, page) = hq.send(device.pull(0)).await;
    assert_eq!(status, StatusCode::OK);
    let changes = page["changes"].as_array().unwrap();
    let kinds: Vec<&str> = changes
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "catalogue").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "decision").count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == "credit").count(), 3);
    let decision = changes.iter().find(|c| c["kind"] == "decision").unwrap();
    assert_eq!(decision["payload"]["status"], "accredited");
    assert_eq!(decision["payload"]["credits_tenths"], 80);
    let certs: Vec<&str> = changes
        .iter()
        .filter(|c| c["kind"] == "certificate")
        .map(|c| c["payload"]["number"].as_str().unwrap())
        .collect();
    assert_eq!(certs.len(), 3);
    for n in &certs {
        let parsed = CertificateNumber::parse(n).unwrap();
        assert_eq!((parsed.province.as_str(), parsed.level), ("44", 5));
    }
    let seqs: Vec<u64> = changes.iter().map(|c| c["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(page["next_cursor"].as_u64(), seqs.last().copied());
    // Nothing new after the cursor.
    let (_, again) = hq
        .send(device.pull(page["next_cursor"].as_u64().unwrap()))
        .await;
    assert!(again["changes"].as_array().unwrap().is_empty());
    assert_eq!(again["next_cursor"], page["next_cursor"]);

    // Another site pulls the catalogue but none of this site's learners.
    let code_b = hq.site("GD-GZ-002");
    let other = Device::new(SiteApp::new().device_id());
    hq.enrol(&code_b, &other).await;
    let (_, page_b) = hq.send(other.pull(0)).await;
    let kinds_b: Vec<&str> = page_b["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds_b, ["catalogue"]);
}

#[tokio::test]
async fn a_retried_or_overlapping_batch_is_applied_only_past_the_high_water_mark() {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    for n in 0..4 {
        site.learner(n);
    }
    let rows = site.rows();
    let first = &rows[..5];
    let (status, ack) = hq.send(device.push(first)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ack["acked_through"], 5);
    let after_first = hq.written();
    // The response was lost; the site retries the same batch (signed anew).
    let (status, ack) = hq.send(device.push(first)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (ack["applied"].as_u64(), ack["already_had"].as_u64()),
        (Some(0), Some(5))
    );
    assert_eq!(hq.written().0, after_first.0);
    // An overlapping batch: rows 3..=end; only 6.. are new.
    let (status, ack) = hq.send(device.push(&rows[2..])).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(ack["applied"].as_u64().unwrap() as usize, rows.len() - 5);
    assert_eq!(ack["already_had"], 3);
    assert_eq!(
        hq.store.query_i64("SELECT count(*) FROM record").unwrap() as usize,
        rows.len()
    );
    assert_eq!(
        hq.store
            .query_i64("SELECT count(DISTINCT record_id) FROM learner")
            .unwrap(),
        4
    );
}

#[tokio::test]
async fn a_gap_is_refused_naming_the_expected_seq_and_writes_nothing() {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    site.learner(1);
    site.learner(2);
    let rows = site.rows();
    let before = hq.written();
    let (status, err) = hq.send(device.push(&rows[3..])).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "sequence_gap");
    assert!(
        err["message"].as_str().unwrap().contains("expects 1"),
        "{err}"
    );
    assert_eq!(hq.written(), before);
}

#[tokio::test]
async fn invalid_rows_are_quarantined_with_a_reason_acknowledged_and_do_not_block_the_queue() {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    site.learner(1);
    site.learner(2);
    let mut rows = site.rows();
    // A learner row whose ID checksum was damaged on the way, and a cohort of a programme
    // version HQ never published.
    let id = siteline_core::demo::resident_id(1);
    let damaged = format!("{}{}", &id[..17], if id.ends_with('0') { '1' } else { '0' });
    let sealed = site.seal(&damaged);
    let learner_row = rows
        .iter_mut()
        .find(|r| r.payload["id_number_sealed"].is_string())
        .unwrap();
    learner_row.payload["id_number_sealed"] = sealed.into();
    let (status, ack) = hq.send(device.push(&rows)).await;
    assert_eq!(status, StatusCode::OK);
    let q = ack["quarantined"].as_array().unwrap();
    assert_eq!(q.len(), 1);
    // Chinese first for the site manager, then English.
    let reason = q[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("学员身份证号校验位错误"), "{reason}");
    assert!(reason.contains("checksum"));
    assert_eq!(
        ack["acked_through"].as_u64().unwrap(),
        rows.last().unwrap().seq
    );
    assert_eq!(ack["applied"].as_u64().unwrap() as usize, rows.len() - 1);

    let (status, list) = hq
        .send(
            admin(Request::get("/admin/quarantine"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["site_code"], "GD-SZ-001");
    // The site hears of it by pull too, so a bundle-only site sees the reason.
    let (_, page) = hq.send(device.pull(0)).await;
    assert!(
        page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "quarantine")
    );
    let path = format!(
        "/admin/quarantine/{}/{}/{}/resolve",
        list[0]["device_id"].as_str().unwrap(),
        list[0]["epoch"],
        list[0]["seq"]
    );
    let (status, _) = hq
        .send(admin_note(&path, "site re-sent the corrected ID"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = hq
        .send(
            admin(Request::get("/admin/quarantine"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(list.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_same_person_trained_at_two_sites_has_one_account_holding_both_sites_credits() {
    let hq = Hq::new();
    let mut accounts = Vec::new();
    for (code, pv) in [
        ("GD-SZ-001", "maternity-L5-v1"),
        ("GD-GZ-002", "infant_care-L5-v1"),
    ] {
        let enrol_code = hq.site(code);
        let mut site = SiteApp::new();
        let device = Device::new(site.device_id());
        site.enrolled(hq.enrol(&enrol_code, &device).await);
        let same_person = site.learner(42);
        site.completed(pv, &[same_person], 75);
        let (status, ack) = hq.send(device.push(&site.rows())).await;
        assert_eq!(status, StatusCode::OK, "{ack}");
        let (_, page) = hq.send(device.pull(0)).await;
        let credit = page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "credit")
            .unwrap()
            .clone();
        accounts.push(
            credit["payload"]["account_no"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(accounts[0], accounts[1]);
    let (status, statement) = hq
        .send(
            admin(Request::get(format!("/admin/accounts/{}", accounts[0])))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // 8.0 (maternity L5) + 8.0 (infant care L5).
    assert_eq!(statement["balance_tenths"], 160);
    assert_eq!(
        statement["sites"],
        serde_json::json!(["GD-GZ-002", "GD-SZ-001"])
    );
    assert_eq!(statement["certificates"].as_array().unwrap().len(), 2);
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM credit_account")
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn hq_applies_its_own_rules_to_a_claim_whatever_the_site_says() {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    let l = site.learner(7);
    site.completed("housekeeping-L5-v1", &[l], 60);
    let mut rows = site.rows();
    // The claim says 99,999 minutes; HQ counts the roll calls it received: 96 h.
    let claim = rows
        .iter_mut()
        .find(|r| r.entity == siteline_proto::Entity::OutcomeClaim)
        .unwrap();
    claim.payload["attended_minutes"] = 99_999.into();
    hq.send(device.push(&rows)).await;
    let (_, page) = hq.send(device.pull(0)).await;
    let decision = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "decision")
        .unwrap()
        .clone();
    assert_eq!(decision["payload"]["status"], "needs_info");
    assert!(
        decision["payload"]["reason"]
            .as_str()
            .unwrap()
            .contains("总部按收到的点名记录计为 96.0 小时"),
        "{decision}"
    );
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM credit_posting")
            .unwrap(),
        0
    );
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM certificate")
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn postings_are_append_only() {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    let l = site.learner(3);
    site.completed("family_care-L5-v1", &[l], 90);
    hq.send(device.push(&site.rows())).await;
    assert_eq!(
        hq.store
            .query_i64("SELECT CAST(sum(credits_tenths) AS BIGINT) FROM credit_posting")
            .unwrap(),
        60
    );
    assert!(
        hq.store
            .query_i64("UPDATE credit_posting SET credits_tenths = 0 RETURNING 1")
            .is_err()
    );
    assert!(
        hq.store
            .query_i64("DELETE FROM credit_posting RETURNING 1")
            .is_err()
    );
}

#[tokio::test]
async fn a_reversal_is_a_negative_posting_that_revokes_the_certificate_and_reaches_the_site() {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    let l = site.learner(5);
    site.completed("maternity-L5-v1", &[l], 80);
    hq.send(device.push(&site.rows())).await;
    let (_, page) = hq.send(device.pull(0)).await;
    let cursor = page["next_cursor"].as_u64().unwrap();
    let posting = hq.store.query_i64("SELECT id FROM credit_posting").unwrap();
    let (status, body) = hq
        .send(admin_note(
            &format!("/admin/postings/{posting}/reverse"),
            "考核记录经复核不实",
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        hq.store
            .query_i64("SELECT CAST(sum(credits_tenths) AS BIGINT) FROM credit_posting")
            .unwrap(),
        0
    );
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM credit_posting")
            .unwrap(),
        2
    );
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM certificate WHERE status = 'revoked'")
            .unwrap(),
        1
    );
    let (status, again) = hq
        .send(admin_note(
            &format!("/admin/postings/{posting}/reverse"),
            "twice",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains("already reversed")
    );
    let (_, page) = hq.send(device.pull(cursor)).await;
    let changes = page["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "credit" && c["payload"]["credits_tenths"] == -80)
    );
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "certificate" && c["payload"]["status"] == "revoked")
    );
}

#[tokio::test]
async fn a_row_with_a_misspelt_field_is_quarantined_naming_the_field_and_the_queue_moves_on() {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    let learners: Vec<_> = (0..2).map(|n| site.learner(n)).collect();
    site.completed("maternity-L5-v1", &learners, 80);
    let mut rows = site.rows();
    // An older or broken client spells the claim's programme version key wrongly.
    let claim = rows
        .iter_mut()
        .find(|r| r.entity == siteline_proto::Entity::OutcomeClaim)
        .unwrap();
    let obj = claim.payload.as_object_mut().unwrap();
    let pv = obj.remove("programme_version_id").unwrap();
    obj.insert("programme_versionid".into(), pv);
    let claim_id = claim.record_id;
    let (status, ack) = hq.send(device.push(&rows)).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let ack: PushAck = serde_json::from_value(ack).unwrap();
    assert_eq!(ack.quarantined.len(), 1, "{:?}", ack.quarantined);
    let q = &ack.quarantined[0];
    assert_eq!(q.record_id, claim_id);
    assert!(q.reason.starts_with("记录内容不符合"), "{}", q.reason);
    assert!(q.reason.contains("programme_versionid"), "{}", q.reason);
    // The rest of the batch is applied and acknowledged: the queue moves on.
    assert_eq!(ack.acked_through, rows.last().unwrap().seq);
    assert_eq!(ack.applied as usize, rows.len() - 1);
    // The other learner's claim (spelt right) was accredited; the misspelt one has no decision.
    let (_, page) = hq.send(device.pull(0)).await;
    let decisions: Vec<_> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "decision")
        .collect();
    assert_eq!(decisions.len(), 1);
    assert_ne!(decisions[0]["payload"]["claim_id"], claim_id.to_string());
    // And the next push after it is taken as usual.
    site.learner(9);
    let next = site.rows();
    let fresh: Vec<_> = next
        .into_iter()
        .filter(|r| r.seq > ack.acked_through)
        .collect();
    let (status, again) = hq.send(device.push(&fresh)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let again: PushAck = serde_json::from_value(again).unwrap();
    assert_eq!(again.acked_through, fresh.last().unwrap().seq);
    assert!(again.quarantined.is_empty());
}

#[tokio::test]
async fn an_update_of_an_append_only_event_is_quarantined_and_changes_nothing() {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    let learners: Vec<_> = (0..1).map(|n| site.learner(n)).collect();
    site.completed("maternity-L5-v1", &learners, 80);
    let mut rows = site.rows();
    // A tampered client turns a roll-call mark into an "update" (rewriting attendance).
    let mark = rows
        .iter_mut()
        .find(|r| r.entity == siteline_proto::Entity::AttendanceEvent)
        .unwrap();
    mark.op = siteline_proto::Op::Update;
    let mark_id = mark.record_id;
    let (status, ack) = hq.send(device.push(&rows)).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let ack: PushAck = serde_json::from_value(ack).unwrap();
    assert_eq!(ack.quarantined.len(), 1, "{:?}", ack.quarantined);
    assert_eq!(ack.quarantined[0].record_id, mark_id);
    assert!(
        ack.quarantined[0]
            .reason
            .contains("attendance_event records cannot be updated"),
        "{}",
        ack.quarantined[0].reason
    );
    assert_eq!(ack.acked_through, rows.last().unwrap().seq);
}

#[tokio::test]
async fn a_learner_who_passed_on_a_retake_is_claimed_with_the_retake_and_accredited() {
    use siteline_core::store::{assessments, claims};
    use siteline_domain::scores::Component;
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    let l = site.learner(3);
    // Theory failed at 40 (no claim made), then passed on the retake.
    let (_, enrolments) = site.completed("housekeeping-L5-v1", &[l], 40);
    let first = assessments::counting_attempts(site.site.conn(), enrolments[0]).unwrap();
    let retake = assessments::record(
        &mut site.site,
        &site.instructor,
        &assessments::NewAttempt {
            enrolment_id: enrolments[0],
            component: Component::Theory,
            held_at: chrono::Utc::now(),
            assessors: vec![],
            marks: siteline_proto::records::Marks::Score { score: 75 },
        },
    )
    .unwrap();
    assessments::lock(&mut site.site, &site.instructor, retake).unwrap();
    let claim = claims::submit(&mut site.site, &site.manager, enrolments[0]).unwrap();
    // The claim cites the attempt of each component that counts: the retake, not the failure.
    let cited: Vec<uuid::Uuid> = site
        .rows()
        .iter()
        .find(|r| r.record_id == claim.0)
        .map(|r| serde_json::from_value(r.payload["attempt_ids"].clone()).unwrap())
        .unwrap();
    assert_eq!(cited.len(), 2, "{cited:?}");
    assert!(cited.contains(&retake.0));
    assert!(
        !cited.contains(
            &first
                .iter()
                .find(|a| a.component == Component::Theory)
                .unwrap()
                .id
                .0
        )
    );

    let (_, changes) = hq.sync(&device, &site, 0).await;
    let decision = changes.iter().find(|c| c["kind"] == "decision").unwrap();
    assert_eq!(decision["payload"]["status"], "accredited", "{decision}");
}
