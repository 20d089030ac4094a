//! Every refusal of a push: status, a JSON `{code, message}` that says what is wrong, and
//! nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use common::{Device, Hq, SiteApp, batch};
use creditbank::AppState;
use creditbank::store::Store;
use siteline_proto::sync::headers;
use tower::ServiceExt;

use common::Enrolled as Case;

/// An enrolled site with one learner registered.
async fn enrolled() -> Case {
    let mut c = common::enrolled_site().await;
    c.site.learner(1);
    c
}

async fn refused(c: &Case, req: Request<Body>, status: StatusCode, code: &str, needle: &str) {
    let before = c.hq.written();
    let (got, body) = c.hq.send(req).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "{message:?} should mention {needle:?}"
    );
    assert_eq!(c.hq.written(), before, "a refused request wrote something");
}

#[tokio::test]
async fn a_tampered_body_fails_the_signature() {
    let c = enrolled().await;
    let rows = c.site.rows();
    let b = batch(&rows);
    let mut req = c.device.push(&rows);
    let mut tampered = b.clone();
    tampered.rows[0].payload["name"] = "冒名".into();
    *req.body_mut() = Body::from(serde_json::to_vec(&tampered).unwrap());
    refused(
        &c,
        req,
        StatusCode::UNAUTHORIZED,
        "bad_signature",
        "signature",
    )
    .await;
}

#[tokio::test]
async fn a_key_that_is_not_the_devices_fails_the_signature() {
    let c = enrolled().await;
    let impostor = Device {
        id: c.device.id,
        key: Device::new(c.device.id).key,
    };
    refused(
        &c,
        impostor.push(&c.site.rows()),
        StatusCode::UNAUTHORIZED,
        "bad_signature",
        "signature",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_device_is_refused() {
    let c = enrolled().await;
    let stranger = Device::new(uuid::Uuid::now_v7());
    refused(
        &c,
        stranger.push(&c.site.rows()),
        StatusCode::UNAUTHORIZED,
        "unknown_device",
        "enrol it",
    )
    .await;
}

#[tokio::test]
async fn a_revoked_device_is_refused_and_its_site_is_told() {
    let c = enrolled().await;
    c.hq.store.revoke_device(c.device.id).unwrap();
    refused(
        &c,
        c.device.push(&c.site.rows()),
        StatusCode::FORBIDDEN,
        "device_revoked",
        "revoked",
    )
    .await;
    let notices =
        c.hq.store
            .query_i64("SELECT count(*) FROM change_log WHERE kind = 'device_revoked'")
            .unwrap();
    assert_eq!(notices, 1);
}

#[tokio::test]
async fn a_timestamp_outside_the_window_is_refused_as_a_replay() {
    let c = enrolled().await;
    let rows = c.site.rows();
    let b = batch(&rows);
    let old = Utc::now().timestamp_millis() - 10 * 60 * 1000;
    let req = c.device.push_raw(
        b.epoch,
        b.from_seq,
        b.to_seq,
        serde_json::to_vec(&b).unwrap(),
        old,
    );
    refused(
        &c,
        req,
        StatusCode::UNAUTHORIZED,
        "stale_timestamp",
        "device clock",
    )
    .await;
}

#[tokio::test]
async fn the_same_signed_request_twice_is_refused_the_second_time() {
    let c = enrolled().await;
    let rows = c.site.rows();
    let b = batch(&rows);
    let ts = Utc::now().timestamp_millis();
    let body = serde_json::to_vec(&b).unwrap();
    let (status, _) =
        c.hq.send(
            c.device
                .push_raw(b.epoch, b.from_seq, b.to_seq, body.clone(), ts),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    refused(
        &c,
        c.device.push_raw(b.epoch, b.from_seq, b.to_seq, body, ts),
        StatusCode::CONFLICT,
        "replayed_request",
        "already received",
    )
    .await;
}

#[tokio::test]
async fn a_record_of_another_site_is_refused() {
    let c = enrolled().await;
    let rows = c.site.rows();
    let (status, _) = c.hq.send(c.device.push(&rows)).await;
    assert_eq!(status, StatusCode::OK);
    // A device of another site sends an update to the first site's learner.
    let code_b = c.hq.site("GD-GZ-002");
    let mut other = SiteApp::new();
    let other_device = Device::new(other.device_id());
    other.enrolled(c.hq.enrol(&code_b, &other_device).await);
    other.learner(9);
    let mut other_rows = other.rows();
    let learner = rows
        .iter()
        .find(|r| r.entity == siteline_proto::Entity::Learner)
        .unwrap();
    other_rows[1].record_id = learner.record_id;
    let before = c.hq.written();
    let (status, body) = c.hq.send(other_device.push(&other_rows)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "foreign_record");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&learner.record_id.to_string())
    );
    assert_eq!(c.hq.written(), before);
}

#[tokio::test]
async fn an_unsupported_protocol_version_is_refused() {
    // A future version, version 2 (unsigned answers) and version 1 (untyped payloads).
    for version in ["99", "2", "1"] {
        let c = enrolled().await;
        let mut req = c.device.push(&c.site.rows());
        req.headers_mut()
            .insert(headers::PROTOCOL, version.parse().unwrap());
        refused(
            &c,
            req,
            StatusCode::UPGRADE_REQUIRED,
            "unsupported_protocol",
            "update Siteline",
        )
        .await;
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let mut c = enrolled().await;
    let mut state: AppState = c.hq.state.clone();
    state.max_body = 512;
    c.hq.state = state;
    for n in 2..10 {
        c.site.learner(n);
    }
    refused(
        &c,
        c.device.push(&c.site.rows()),
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "smaller batches",
    )
    .await;
}

#[tokio::test]
async fn a_signed_body_that_is_not_json_is_refused_as_malformed() {
    let c = enrolled().await;
    let req = c.device.push_raw(
        1,
        1,
        2,
        b"{not json".to_vec(),
        Utc::now().timestamp_millis(),
    );
    refused(
        &c,
        req,
        StatusCode::BAD_REQUEST,
        "malformed_body",
        "not valid",
    )
    .await;
}

#[tokio::test]
async fn a_batch_that_disagrees_with_its_signed_range_is_refused() {
    let c = enrolled().await;
    let rows = c.site.rows();
    let b = batch(&rows);
    let req = c.device.push_raw(
        b.epoch,
        b.from_seq,
        b.to_seq + 1,
        serde_json::to_vec(&b).unwrap(),
        Utc::now().timestamp_millis(),
    );
    refused(
        &c,
        req,
        StatusCode::BAD_REQUEST,
        "malformed_body",
        "does not match",
    )
    .await;
}

#[tokio::test]
async fn enrolment_codes_work_once() {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let a = Device::new(uuid::Uuid::now_v7());
    let b = Device::new(uuid::Uuid::now_v7());
    assert_eq!(hq.enrol(&code, &a).await.0, StatusCode::OK);
    let (status, body) = hq.enrol(&code, &b).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "bad_enrolment_code");
    let (status, _) = hq.enrol("AAAA-BBBB-CCCC", &b).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(hq.store.list_devices().unwrap().len(), 1);
}

#[tokio::test]
async fn admin_endpoints_need_the_token() {
    let hq = Hq::new();
    let app = creditbank::router(AppState::new(
        Arc::new(creditbank::store::Bank::for_tests().unwrap()),
        "t",
    ));
    let resp = app
        .oneshot(Request::get("/admin/sites").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = hq
        .send(
            Request::get("/admin/sites")
                .header("authorization", "Bearer wrong")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test]
async fn guessing_enrolment_codes_hits_the_rate_limit() {
    let hq = Hq::new();
    hq.site("GD-SZ-001");
    let guesser = Device::new(uuid::Uuid::now_v7());
    for i in 0..10 {
        let (status, body) = hq.enrol(&format!("AAAA-BBBB-{i:04}"), &guesser).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "guess {i}: {body}");
    }
    let resp = creditbank::router(hq.state.clone())
        .oneshot(
            Request::post("/v1/enrol")
                .header(
                    headers::PROTOCOL,
                    siteline_proto::PROTOCOL_VERSION.to_string(),
                )
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "retry after {wait} s");
    let (_, body) = common::json(resp).await;
    assert_eq!(body["code"], "rate_limited");
    assert!(body["message"].as_str().unwrap().contains("wait"));
    assert!(hq.store.list_devices().unwrap().is_empty());
}

#[tokio::test]
async fn an_unknown_device_is_refused_before_its_body_is_read() {
    // A body far over the limit from a device HQ does not know: refused as unknown (401), not
    // as too large (413), because the body was never read.
    let mut c = enrolled().await;
    c.hq.state.max_body = 1024;
    let stranger = Device::new(uuid::Uuid::now_v7());
    let big = vec![b' '; 64 * 1024];
    refused(
        &c,
        stranger.push_raw(1, 1, 1, big, Utc::now().timestamp_millis()),
        StatusCode::UNAUTHORIZED,
        "unknown_device",
        "not registered",
    )
    .await;
}

#[tokio::test]
async fn a_field_over_the_length_limit_is_quarantined_naming_it() {
    let c = enrolled().await;
    let mut rows = c.site.rows();
    let learner = rows
        .iter_mut()
        .find(|r| r.entity == siteline_proto::Entity::Learner)
        .unwrap();
    learner.payload["name"] = "长".repeat(5000).into();
    let (status, ack) = c.hq.send(c.device.push(&rows)).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let reason = ack["quarantined"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("field name is 5000 characters long, over the limit of 2000"),
        "{reason}"
    );
    assert_eq!(
        c.hq.store
            .query_i64("SELECT count(*) FROM learner")
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn an_admin_call_with_a_bad_token_is_refused_before_its_body_is_parsed() {
    let hq = Hq::new();
    let resp = creditbank::router(hq.state.clone())
        .oneshot(
            Request::post("/admin/sites")
                .header("authorization", "Bearer wrong")
                .header("content-type", "application/json")
                .body(Body::from("this is not JSON"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "not 400: auth came first"
    );
}
