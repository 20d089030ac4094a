//! Every message authenticated both ways: HQ signs its answers (push acks, pull pages, bundle
//! answers) with the key the device pinned at enrolment, bound to the request; bundles are
//! signed by the device even with nothing pending, and an unsigned, altered, stale or replayed
//! one is refused and writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use common::{Device, hq_signed, post_bundle};
use creditbank::bundle::{BUNDLE_MAX_AGE_MS, hex};
use sha2::{Digest, Sha256};
use siteline_proto::sync::{AnswerBody, BundleAnswer, headers};
use tower::ServiceExt;

use common::Enrolled as Case;

/// An enrolled site with one learner registered.
async fn enrolled() -> Case {
    let mut c = common::enrolled_site().await;
    c.site.learner(1);
    c
}

fn request_signature_sha256(req: &axum::http::Request<axum::body::Body>) -> String {
    let sig = B64
        .decode(req.headers()[headers::SIGNATURE].to_str().unwrap())
        .unwrap();
    hex(&Sha256::digest(sig))
}

#[tokio::test]
async fn push_and_pull_answers_carry_hqs_signature_bound_to_the_request() {
    let c = enrolled().await;
    for req in [c.device.push(&c.site.rows()), c.device.pull(0)] {
        let bound = request_signature_sha256(&req);
        let resp = creditbank::router(c.hq.state.clone())
            .oneshot(req)
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let sig = resp.headers()[headers::ANSWER_SIGNATURE]
            .to_str()
            .unwrap()
            .to_string();
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert!(hq_signed(&c.hq_key, c.device.id, &bound, &sig, &body));
        // The same signature does not cover another body or another request.
        assert!(!hq_signed(&c.hq_key, c.device.id, &bound, &sig, b"{}"));
        assert!(!hq_signed(
            &c.hq_key,
            c.device.id,
            &hex(&Sha256::digest(b"other")),
            &sig,
            &body
        ));
    }
}

#[tokio::test]
async fn a_pull_replayed_within_the_window_is_refused() {
    let c = enrolled().await;
    let req = c.device.pull(0);
    let mut again = axum::http::Request::get(req.uri().clone());
    for (k, v) in req.headers() {
        again = again.header(k, v);
    }
    let (status, _) = c.hq.send(req).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        c.hq.send(again.body(axum::body::Body::empty()).unwrap())
            .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "replayed_request");
}

#[tokio::test]
async fn a_bundle_with_nothing_pending_is_signed_too_and_answered_signed() {
    let c = enrolled().await;
    let bundle = c.device.bundle(&[], 0, Utc::now().timestamp_millis());
    let (status, answer) = c.hq.send(post_bundle(&bundle)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let answer: BundleAnswer = serde_json::from_value(answer).unwrap();
    let bound = hex(&Sha256::digest(B64.decode(&bundle.signature).unwrap()));
    assert_eq!(answer.bundle, bound);
    assert!(hq_signed(
        &c.hq_key,
        c.device.id,
        &bound,
        &answer.signature,
        answer.body.as_bytes()
    ));
    let body: AnswerBody = serde_json::from_str(&answer.body).unwrap();
    assert!(body.ack.is_none());
    assert!(
        body.pages[0]
            .changes
            .iter()
            .any(|c| c.change.kind() == "catalogue"),
        "the answer carries the change log"
    );
}

#[tokio::test]
async fn unsigned_altered_stale_and_replayed_bundles_are_refused_and_write_nothing() {
    let c = enrolled().await;
    let rows = c.site.rows();
    let now = Utc::now().timestamp_millis();
    let good = c.device.bundle(&rows, 0, now);

    let mut unsigned = good.clone();
    unsigned.signature = String::new();
    let mut other_cursor = good.clone();
    other_cursor.since = 1;
    let stranger = Device {
        id: c.device.id,
        key: ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng),
    };
    let forged = stranger.bundle(&rows, 0, now);
    let stale = c.device.bundle(&rows, 0, now - BUNDLE_MAX_AGE_MS - 60_000);
    let future = c.device.bundle(&rows, 0, now + 3_600_000);
    let mut no_batch = good.clone();
    no_batch.batch_json = None;
    for (what, bundle, status, code) in [
        (
            "unsigned",
            &unsigned,
            StatusCode::UNAUTHORIZED,
            "bad_signature",
        ),
        (
            "another cursor",
            &other_cursor,
            StatusCode::UNAUTHORIZED,
            "bad_signature",
        ),
        (
            "another key",
            &forged,
            StatusCode::UNAUTHORIZED,
            "bad_signature",
        ),
        (
            "31 days old",
            &stale,
            StatusCode::UNAUTHORIZED,
            "stale_timestamp",
        ),
        (
            "from the future",
            &future,
            StatusCode::UNAUTHORIZED,
            "stale_timestamp",
        ),
        (
            "batch removed",
            &no_batch,
            StatusCode::UNAUTHORIZED,
            "bad_signature",
        ),
    ] {
        let before = c.hq.written();
        let (got, body) = c.hq.send(post_bundle(bundle)).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(body["code"], code, "{what}: {body}");
        assert_eq!(c.hq.written(), before, "{what} wrote something");
    }
    let (status, body) = c.hq.send(post_bundle(&good)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = c.hq.written();
    let (status, body) = c.hq.send(post_bundle(&good)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "replayed_request");
    assert_eq!(c.hq.written(), before, "the replay wrote something");
}
