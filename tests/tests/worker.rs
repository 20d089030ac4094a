//! The background task: "sync now" runs a pass at once, and when the link comes back the
//! task notices by probing and syncs at once instead of sleeping out its backoff.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use siteline_core::sync::status::{self, SyncState};
use siteline_core::sync::worker::{self, WorkerConfig};
use siteline_e2e::{Hq, SiteNode};

async fn until(what: &str, deadline: Duration, mut check: impl AsyncFnMut() -> bool) {
    let end = tokio::time::Instant::now() + deadline;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_runs_a_pass_at_once() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-001").unwrap();
    let site = SiteNode::new(&hq.url).await.unwrap();
    site.enrol(&hq, &code).await.unwrap();
    let cfg = WorkerConfig {
        interval: Duration::from_secs(3600),
        ..WorkerConfig::default()
    };
    let handle = worker::spawn(site.engine.clone(), cfg);
    until("the first pass", Duration::from_secs(20), async || {
        site.pending().await.unwrap() == 0
    })
    .await;
    site.learners(1, 2).await.unwrap();
    assert_eq!(site.pending().await.unwrap(), 4);
    handle.sync_now();
    until(
        "sync now to push the new learners",
        Duration::from_secs(20),
        async || site.pending().await.unwrap() == 0,
    )
    .await;
    handle.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_link_returns_the_task_syncs_without_waiting_out_its_backoff() {
    // Find a free port, then leave it closed: the link is down.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let first_hq = Hq::start().await.unwrap();
    let code = first_hq.site("GD-SZ-001").unwrap();
    let site = SiteNode::with_timeout(&format!("http://{addr}"), Duration::from_secs(5), true)
        .await
        .unwrap();
    site.enrol(&first_hq, &code).await.unwrap();
    site.learners(1, 3).await.unwrap();
    // A backoff of ten minutes, no jitter: only the link probe can bring the next pass early.
    let cfg = WorkerConfig {
        interval: Duration::from_secs(3600),
        backoff_base: Duration::from_secs(600),
        backoff_cap: Duration::from_secs(600),
        probe_every: Duration::from_millis(200),
        jitter: false,
    };
    let handle = worker::spawn(site.engine.clone(), cfg);
    until(
        "the pass to fail offline",
        Duration::from_secs(20),
        async || {
            site.db
                .call(|s| status::status(s, false))
                .await
                .unwrap()
                .state
                == SyncState::Offline
        },
    )
    .await;
    assert_eq!(
        site.pending().await.unwrap(),
        8,
        "two staff accounts and three learners with consents"
    );
    // The link comes back: the HQ the device enrolled with answers on that address. (Before,
    // a second HQ started there and the device enrolled with it after it was up: the task's
    // probe could reach it first, be refused as an unknown device and back off for ten
    // minutes.)
    first_hq.also_on(&addr.to_string()).await.unwrap();
    let hq = first_hq;
    // The pass is over when its success is recorded (the outbox empties a moment earlier).
    until(
        "the returning link to be used",
        Duration::from_secs(30),
        async || {
            site.db
                .call(|s| status::status(s, false))
                .await
                .unwrap()
                .state
                == SyncState::Idle
        },
    )
    .await;
    assert_eq!(site.pending().await.unwrap(), 0);
    let ops = site.ops().await.unwrap() as i64;
    assert_eq!(hq.received(site.device).unwrap(), (ops, ops, ops));
    handle.stop();
}
