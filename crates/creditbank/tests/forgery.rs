//! A site that lies: rows written straight into a real site database's outbox (as anyone
//! holding the laptop's files could) and synced through the real API. HQ judges every claim
//! from the records it holds itself, so none of these mints a credit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Device, Hq, SiteApp, of_kind};
use creditbank::store::Store;
use siteline_domain::ids::{CohortId, EnrolmentId, LearnerId};
use siteline_proto::records::{self, Record};
use siteline_proto::vocab::{AttendanceKind, IdType};
use uuid::Uuid;

/// A site with learner A through a housekeeping L5 cohort (every hour attended, theory
/// `theory`, practical full marks; claimed when theory ≥ 60) and learner B registered, never
/// enrolled.
struct Forger {
    hq: Hq,
    site: SiteApp,
    device: Device,
    a: LearnerId,
    b: LearnerId,
    cohort: CohortId,
    enrolment: EnrolmentId,
}

impl Forger {
    async fn new(theory: i64) -> Forger {
        let hq = Hq::new();
        let code = hq.site("GD-SZ-001");
        let mut site = SiteApp::new();
        let device = Device::new(site.device_id());
        site.enrolled(hq.enrol(&code, &device).await);
        let a = site.learner(11);
        let b = site.learner(12);
        let (cohort, enrolments) = site.completed("housekeeping-L5-v1", &[a], theory);
        Forger {
            hq,
            site,
            device,
            a,
            b,
            cohort,
            enrolment: enrolments[0],
        }
    }

    /// A claim exactly as the site would make it for A.
    fn truthful(&self) -> records::OutcomeClaim {
        records::OutcomeClaim {
            enrolment_id: self.enrolment.0,
            learner_id: self.a.0,
            programme_version_id: "housekeeping-L5-v1".into(),
            attended_minutes: self.site.attended(self.cohort, self.enrolment),
            attempt_ids: self.site.attempts(self.enrolment),
            replaces: None,
        }
    }

    /// Forges `claim`, syncs, and returns HQ's decision on it.
    async fn decide(&self, claim: records::OutcomeClaim) -> serde_json::Value {
        let id = Uuid::now_v7();
        self.site.forge(id, &Record::OutcomeClaim(claim));
        let (_, changes) = self.hq.sync(&self.device, &self.site, 0).await;
        of_kind(&changes, "decision")
            .into_iter()
            .find(|d| d["claim_id"] == id.to_string())
            .expect("HQ decides every claim it stores")
    }

    /// A push whose acknowledgement the site applies, as the app does.
    async fn push_and_prune(&mut self) -> serde_json::Value {
        let rows = self.site.rows();
        let (status, ack) = self.hq.send(self.device.push(&rows)).await;
        assert_eq!(status, 200, "{ack}");
        siteline_core::sync::outgoing::mark_sent(&self.site.site, &common::batch(&rows)).unwrap();
        siteline_core::sync::engine::apply_ack(
            &mut self.site.site,
            &serde_json::from_value(ack.clone()).unwrap(),
            1,
        )
        .unwrap();
        ack
    }

    fn count(&self, table: &str) -> i64 {
        self.hq
            .store
            .query_i64(&format!("SELECT count(*) FROM {table}"))
            .unwrap()
    }
}

fn reason(d: &serde_json::Value) -> &str {
    d["reason"].as_str().unwrap()
}

#[tokio::test]
async fn a_second_claim_for_an_accredited_enrolment_is_answered_with_the_first_decision() {
    let f = Forger::new(80).await;
    let (_, changes) = f.hq.sync(&f.device, &f.site, 0).await;
    let first = of_kind(&changes, "decision");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["status"], "accredited");
    assert_eq!(
        first[0]["credits_tenths"], 60,
        "housekeeping L5 is 6.0 credits"
    );

    let again = f.decide(f.truthful()).await;
    assert_eq!(again["status"], "accredited", "{again}");
    assert_eq!(again["credits_tenths"], 0);
    assert!(reason(&again).contains("不重复"), "{again}");
    assert!(
        reason(&again).contains(first[0]["claim_id"].as_str().unwrap()),
        "the answer names the first claim: {again}"
    );
    assert_eq!(f.count("credit_posting"), 1, "no second posting");
    assert_eq!(f.count("certificate"), 1, "no second certificate");
}

#[tokio::test]
async fn the_attack_of_the_report_another_learner_the_richest_programme_and_99999_minutes() {
    let f = Forger::new(80).await;
    let mut claim = f.truthful();
    claim.learner_id = f.b.0;
    claim.programme_version_id = "elderly_care-L3-v1".into();
    claim.attended_minutes = 99_999;
    let d = f.decide(claim).await;
    assert_eq!(d["status"], "needs_info", "{d}");
    assert!(reason(&d).contains("enrolment is for learner"), "{d}");
    assert_eq!(
        f.count("credit_posting"),
        1,
        "only the genuine claim's posting"
    );
    let balance = f
        .hq
        .store
        .query_i64("SELECT CAST(coalesce(sum(credits_tenths), 0) AS BIGINT) FROM credit_posting")
        .unwrap();
    assert_eq!(balance, 60);
}

#[tokio::test]
async fn each_fact_of_a_claim_that_differs_from_hqs_records_gets_needs_info_naming_it() {
    // Theory 59: no genuine claim, so each forged claim is the enrolment's first.
    type Lie = fn(&mut records::OutcomeClaim, &Forger);
    let lies: [(&str, Lie, &str); 6] = [
        (
            "another learner",
            |c, f| c.learner_id = f.b.0,
            "enrolment is for learner",
        ),
        (
            "another programme",
            |c, _| c.programme_version_id = "elderly_care-L3-v1".into(),
            "cohort runs housekeeping-L5-v1",
        ),
        (
            "an inflated total",
            |c, _| c.attended_minutes = 99_999,
            "claims 1666.6 h attended but the roll calls HQ holds give 96.0 h",
        ),
        (
            "an enrolment HQ never received",
            |c, _| c.enrolment_id = Uuid::now_v7(),
            "no such enrolment for this site",
        ),
        (
            "an attempt HQ never received",
            |c, _| c.attempt_ids[0] = Uuid::now_v7(),
            "has not received the attempt",
        ),
        (
            "the same attempt twice",
            |c, _| c.attempt_ids = vec![c.attempt_ids[0], c.attempt_ids[0]],
            "more than one",
        ),
    ];
    for (what, lie, expected) in lies {
        let f = Forger::new(59).await;
        let mut claim = f.truthful();
        lie(&mut claim, &f);
        let d = f.decide(claim).await;
        assert_eq!(d["status"], "needs_info", "{what}: {d}");
        assert!(reason(&d).contains(expected), "{what}: {d}");
        assert_eq!(f.count("credit_posting"), 0, "{what}");
    }
    // The truthful claim is judged on HQ's own scores: theory 59 fails.
    let f = Forger::new(59).await;
    let d = f.decide(f.truthful()).await;
    assert_eq!(d["status"], "rejected", "{d}");
    assert!(reason(&d).contains("theory score 59"), "{d}");
}

#[tokio::test]
async fn another_sites_enrolment_cannot_be_claimed() {
    let f = Forger::new(59).await;
    let code = f.hq.site("GD-GZ-002");
    let mut other = SiteApp::new();
    let device = Device::new(other.device_id());
    other.enrolled(f.hq.enrol(&code, &device).await);
    // Site 1's records reach HQ first.
    f.hq.sync(&f.device, &f.site, 0).await;
    let id = Uuid::now_v7();
    other.forge(id, &Record::OutcomeClaim(f.truthful()));
    let (_, changes) = f.hq.sync(&device, &other, 0).await;
    let d = &of_kind(&changes, "decision")[0];
    assert_eq!(d["status"], "needs_info", "{d}");
    assert!(reason(d).contains("no such enrolment for this site"), "{d}");
    assert_eq!(f.count("credit_posting"), 0);
}

#[tokio::test]
async fn attendance_totals_come_from_the_marks_hq_holds() {
    // Every mark of A rewritten to absent before it leaves, and a claim that agrees (0 min):
    // HQ's own arithmetic rejects it on attendance, whatever the scores.
    let f = Forger::new(80).await;
    let mut rows = f.site.rows();
    for row in rows
        .iter_mut()
        .filter(|r| r.entity == siteline_proto::Entity::AttendanceEvent)
    {
        row.payload["kind"] = "absent".into();
    }
    for row in rows
        .iter_mut()
        .filter(|r| r.entity == siteline_proto::Entity::OutcomeClaim)
    {
        row.payload["attended_minutes"] = 0.into();
    }
    let (status, ack) = f.hq.send(f.device.push(&rows)).await;
    assert_eq!(status, 200, "{ack}");
    let (_, page) = f.hq.send(f.device.pull(0)).await;
    let d = &of_kind(page["changes"].as_array().unwrap(), "decision")[0];
    assert_eq!(d["status"], "rejected", "{d}");
    assert!(reason(d).contains("attended 0.0 h of 96 h"), "{d}");
    assert_eq!(f.count("credit_posting"), 0);
}

#[tokio::test]
async fn a_mark_after_the_session_closed_is_quarantined_unless_it_is_a_correction() {
    let f = Forger::new(80).await;
    f.hq.sync(&f.device, &f.site, 0).await;
    let marks = f.count("attendance");
    let session: Uuid = f
        .site
        .site
        .conn()
        .query_row("SELECT id FROM session LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let starts: chrono::DateTime<chrono::Utc> = f
        .site
        .site
        .conn()
        .query_row(
            "SELECT starts_at FROM session WHERE id = ?1",
            [session],
            |r| r.get(0),
        )
        .unwrap();
    f.site.forge(
        Uuid::now_v7(),
        &Record::AttendanceEvent(records::AttendanceEvent {
            session_id: session,
            learner_id: f.a.0,
            kind: AttendanceKind::Absent,
            at: starts,
            method: "roll_call".into(),
            attested_by: f.site.instructor.id.0,
            correction_id: None,
        }),
    );
    let (ack, _) = f.hq.sync(&f.device, &f.site, 0).await;
    let q = &ack["quarantined"][0];
    assert!(
        q["reason"]
            .as_str()
            .unwrap()
            .contains("after the session was closed"),
        "{ack}"
    );
    assert_eq!(f.count("attendance"), marks, "the late mark does not count");
}

#[tokio::test]
async fn a_site_cannot_move_a_learner_to_another_credit_account() {
    let f = Forger::new(80).await;
    f.hq.sync(&f.device, &f.site, 0).await;
    let accounts = f.count("credit_account");
    // A learner row for A again, now carrying someone else's valid ID number.
    f.site.forge(
        f.a.0,
        &Record::Learner(records::Learner {
            name: "王一".into(),
            id_type: IdType::ResidentId,
            id_masked: "4403**********0000".into(),
            phone_masked: None,
            sex: None,
            birth_date: None,
            id_number_sealed: None,
            withheld: false,
            site_sealed: None,
        }),
    );
    let mut rows = f.site.rows();
    let last = rows.last_mut().unwrap();
    last.payload["id_number_sealed"] = f.site.seal(&siteline_core::demo::resident_id(999)).into();
    let (status, ack) = f.hq.send(f.device.push(&rows)).await;
    assert_eq!(status, 200, "{ack}");
    assert!(
        ack["quarantined"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("cannot move a learner to another credit account"),
        "{ack}"
    );
    assert_eq!(
        f.count("credit_account"),
        accounts,
        "no account opened: {ack}"
    );
}

#[tokio::test]
async fn a_row_that_makes_the_database_fail_is_quarantined_and_the_rest_of_its_batch_lands() {
    let f = Forger::new(80).await;
    f.hq.sync(&f.device, &f.site, 0).await;
    // The cohort again under its own id: a duplicate insert HQ's database refuses.
    f.site.forge(
        f.cohort.0,
        &Record::Cohort(records::Cohort {
            programme_version_id: "housekeeping-L5-v1".into(),
            name: "重复的班".into(),
            start_date: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            end_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            capacity: 10,
            instructors: vec![],
        }),
    );
    // And a genuine registration after it in the same batch.
    let mut site = f.site;
    let c = site.learner(13);
    let (status, ack) = f.hq.send(f.device.push(&site.rows())).await;
    assert_eq!(status, 200, "{ack}");
    assert_eq!(ack["quarantined"].as_array().unwrap().len(), 1, "{ack}");
    assert!(
        ack["quarantined"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("HQ could not store this row"),
        "{ack}"
    );
    let landed =
        f.hq.store
            .query_i64_with(
                "SELECT count(*) FROM learner WHERE record_id = ?1",
                &[creditbank::store::sql::Value::Uuid(c.0)],
            )
            .unwrap();
    assert_eq!(landed, 1, "the rest of the batch landed");
}

#[tokio::test]
async fn needs_info_is_not_a_dead_end_the_site_claims_again_naming_the_claim_it_replaces() {
    let mut f = Forger::new(80).await;
    // The claim's total is altered on the way: HQ answers needs_info.
    let mut rows = f.site.rows();
    for row in rows
        .iter_mut()
        .filter(|r| r.entity == siteline_proto::Entity::OutcomeClaim)
    {
        row.payload["attended_minutes"] = 99_999.into();
    }
    let (_, ack) = f.hq.send(f.device.push(&rows)).await;
    let (_, page) = f.hq.send(f.device.pull(0)).await;
    let device = f.device.id;
    let site = &mut f.site.site;
    siteline_core::sync::outgoing::mark_sent(site, &common::batch(&rows)).unwrap();
    siteline_core::sync::engine::apply_ack(site, &serde_json::from_value(ack).unwrap(), 1).unwrap();
    siteline_core::sync::engine::apply_page(site, device, &serde_json::from_value(page).unwrap())
        .unwrap();
    let line = |site: &siteline_core::Site| {
        siteline_core::store::progress::cohort_progress(site.conn(), f.cohort)
            .unwrap()
            .learners[0]
            .clone()
    };
    let before = line(site);
    assert_eq!(
        before.hq_status,
        Some(siteline_proto::sync::DecisionStatus::NeedsInfo)
    );
    assert!(!before.claimed, "a needs_info claim can be made again");

    let again = siteline_core::store::claims::submit(site, &f.site.manager, f.enrolment).unwrap();
    let rows = f.site.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].record_id, again.0);
    assert!(rows[0].payload["replaces"].is_string(), "{:?}", rows[0]);
    let (_, changes) = f.hq.sync(&f.device, &f.site, 0).await;
    let d = of_kind(&changes, "decision")
        .into_iter()
        .find(|d| d["claim_id"] == again.0.to_string())
        .unwrap();
    assert_eq!(d["status"], "accredited", "{d}");
    assert_eq!(d["credits_tenths"], 60);
    // While the new claim waits, the site does not offer a third.
    assert!(line(&f.site.site).claimed);
    assert!(
        siteline_core::store::claims::submit(&mut f.site.site, &f.site.manager, f.enrolment)
            .is_err()
    );
}

#[tokio::test]
async fn hq_keeps_no_resident_id_number_in_clear() {
    let f = Forger::new(80).await;
    f.hq.sync(&f.device, &f.site, 0).await;
    assert_eq!(
        f.count("credit_account"),
        2,
        "both learners have an account"
    );
    for n in [11, 12] {
        let id = siteline_core::demo::resident_id(n);
        assert_eq!(f.hq.store.find_text(&id).unwrap(), Vec::<String>::new());
    }
    // The audit does find what is there.
    assert!(
        !f.hq
            .store
            .find_text("housekeeping-L5-v1")
            .unwrap()
            .is_empty(),
        "the scan finds text it is asked for"
    );
}

#[tokio::test]
async fn resolving_a_quarantined_row_re_applies_it_and_the_site_is_told() {
    let mut f = Forger::new(80).await;
    f.push_and_prune().await;
    // An enrolment that reaches HQ before its learner (forged out of order).
    let late = Uuid::now_v7();
    let enrolment = Uuid::now_v7();
    f.site.forge(
        enrolment,
        &Record::Enrolment(records::Enrolment {
            cohort_id: f.cohort.0,
            learner_id: late,
        }),
    );
    let ack = f.push_and_prune().await;
    let q = &ack["quarantined"][0];
    assert_eq!(q["record_id"], enrolment.to_string(), "{ack}");
    let seq = q["seq"].as_u64().unwrap();
    // The learner arrives; the operator resolves the row: it re-applies now.
    f.site.forge(
        late,
        &Record::Learner(records::Learner {
            name: "迟到".into(),
            id_type: IdType::Passport,
            id_masked: "E****1".into(),
            phone_masked: None,
            sex: None,
            birth_date: None,
            id_number_sealed: None,
            withheld: false,
            site_sealed: None,
        }),
    );
    assert!(matches!(
        siteline_core::sync::status::record_status(&f.site.site, enrolment).unwrap(),
        siteline_core::sync::status::RecordSync::Quarantined { .. }
    ));
    f.push_and_prune().await;
    let applied =
        f.hq.store
            .resolve_quarantine(f.device.id, 1, seq, "学员记录已到 / the learner arrived")
            .unwrap();
    assert!(applied);
    let held =
        f.hq.store
            .query_i64_with(
                "SELECT count(*) FROM enrolment WHERE record_id = ?1",
                &[creditbank::store::sql::Value::Uuid(enrolment)],
            )
            .unwrap();
    assert_eq!(held, 1, "the enrolment counts now");
    // The site hears of it and shows the record synced.
    let device = f.device.id;
    let (_, page) = f.hq.send(f.device.pull(0)).await;
    assert!(
        page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "quarantine_resolved"),
        "{page}"
    );
    siteline_core::sync::engine::apply_page(
        &mut f.site.site,
        device,
        &serde_json::from_value(page).unwrap(),
    )
    .unwrap();
    assert_eq!(
        siteline_core::sync::status::record_status(&f.site.site, enrolment).unwrap(),
        siteline_core::sync::status::RecordSync::Synced
    );
    // Resolving again finds nothing; a row that still cannot apply is set aside.
    assert!(
        f.hq.store
            .resolve_quarantine(f.device.id, 1, seq, "again")
            .is_err()
    );
}
