//! What the engine does on links that are not what they seem: a captive portal that answers
//! everything with a sign-in page, and a link that swallows requests until the watchdog
//! gives up. Neither loses or prunes anything, and each says what is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use siteline_core::store::outbox;
use siteline_core::sync::engine::START_BATCH_BYTES;
use siteline_core::sync::status::{self, RecordSync};
use siteline_e2e::{Hq, SiteNode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captive_portal_is_not_taken_for_the_credit_bank() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-001").unwrap();
    let portal = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let portal_url = format!("http://{}", portal.local_addr().unwrap());
    let app = axum::Router::new()
        .fallback(|| async { axum::response::Html("<html>请登录 Wi-Fi</html>") });
    tokio::spawn(async move { axum::serve(portal, app).await });
    let site = SiteNode::new(&portal_url).await.unwrap();
    site.enrol(&hq, &code).await.unwrap();
    let people = site.learners(1, 2).await.unwrap();
    let before = site.pending().await.unwrap();
    let err = site.engine.sync_once().await.unwrap_err();
    assert_eq!(err.kind(), "not_credit_bank", "{err}");
    assert_eq!(site.pending().await.unwrap(), before);
    assert_eq!(hq.received(site.device).unwrap().0, 0);
    let s = site.db.call(|s| status::status(s, false)).await.unwrap();
    assert!(s.last_error.unwrap().zh.contains("登录网络"));
    let p = people[0].0;
    assert_eq!(
        site.db
            .call(move |s| status::record_status(s, p))
            .await
            .unwrap(),
        RecordSync::Pending
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_tears_down_a_stalled_transfer_and_retries_smaller() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-001").unwrap();
    // Answers hello, then swallows every other request without a word.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_url = format!("http://{}", hole.local_addr().unwrap());
    let app = axum::Router::new()
        .route(
            "/v1/hello",
            axum::routing::get(|| async {
                axum::Json(siteline_proto::sync::Hello {
                    service: siteline_proto::sync::SERVICE_NAME.into(),
                    protocol_versions: vec![siteline_proto::PROTOCOL_VERSION],
                    server_time: chrono::Utc::now(),
                })
            }),
        )
        .fallback(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            "never"
        });
    tokio::spawn(async move { axum::serve(hole, app).await });
    let site = SiteNode::with_timeout(&hole_url, Duration::from_millis(500), true)
        .await
        .unwrap();
    site.enrol(&hq, &code).await.unwrap();
    site.learners(1, 2).await.unwrap();
    let before = site.pending().await.unwrap();
    let started = std::time::Instant::now();
    let err = site.engine.sync_once().await.unwrap_err();
    assert_eq!(err.kind(), "offline");
    assert!(err.to_string().contains("watchdog"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(site.engine.batch_bytes(), START_BATCH_BYTES / 2);
    assert_eq!(site.pending().await.unwrap(), before);
    let device = site.device;
    let d = site.db.call(|s| outbox::device(s.conn())).await.unwrap();
    assert_eq!(d.device_id, device);
}
