//! Crash safety: the site's sync runs in a child process (recording learners and syncing in
//! a loop) that is killed with SIGKILL at seeded random moments. After every kill the
//! database passes `PRAGMA integrity_check` and the outbox is intact; at the end one clean
//! sync leaves every committed operation at HQ exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use siteline_core::Site;
use siteline_core::store::outbox;
use siteline_e2e::{Hq, Rng, SiteNode};

const KILLS: u64 = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_sync_process_at_random_points_never_corrupts_or_duplicates() {
    let seed: u64 = std::env::var("SITELINE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2026);
    println!("crash seed {seed} (replay: SITELINE_CRASH_SEED={seed})");
    let mut rng = Rng::new(seed);
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-009").unwrap();
    let node = SiteNode::new(&hq.url).await.unwrap();
    node.enrol(&hq, &code).await.unwrap();
    let dir = node.dir.path().to_path_buf();
    let device = node.device;
    // The child opens the same files; this process lets go of them first.
    drop(node.engine);
    drop(node.db);
    let mut first = 0u64;
    let mut known = 0i64;
    let mut progressed = 0;
    for kill in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sync_child"))
            .arg(&dir)
            .arg(first.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let after = Duration::from_millis(30 + rng.below(400));
        tokio::time::sleep(after).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let site = Site::open(&dir.join("site.db")).unwrap();
        let check: String = site
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "kill {kill} after {after:?}");
        let dev = outbox::device(site.conn()).unwrap();
        let pending = outbox::pending(site.conn(), 1_000_000).unwrap();
        // The outbox holds exactly the unacknowledged tail: consecutive seqs ending at next-1.
        let seqs: Vec<u64> = pending.iter().map(|r| r.seq).collect();
        if let (Some(a), Some(b)) = (seqs.first(), seqs.last()) {
            assert_eq!(seqs, (*a..=*b).collect::<Vec<_>>(), "kill {kill}");
            assert_eq!(*b, dev.next_seq - 1, "kill {kill}");
        }
        let learners: i64 = site
            .conn()
            .query_row("SELECT count(*) FROM learner", [], |r| r.get(0))
            .unwrap();
        if learners > known {
            progressed += 1;
        }
        known = learners;
        // Each child registers people from its own range, so ID numbers never clash.
        first = 100_000 * (kill + 1);
    }
    assert!(
        progressed >= KILLS / 2,
        "the child rarely got anything done before being killed ({progressed})"
    );
    let (db, engine, _) = siteline_e2e::open_site(&dir, &hq.url, Duration::from_secs(30), true)
        .await
        .unwrap();
    engine.sync_once().await.unwrap();
    let ops = db
        .call(|s| Ok(outbox::device(s.conn())?.next_seq - 1))
        .await
        .unwrap() as i64;
    let pending = db
        .call(|s| Ok(outbox::pending_summary(s.conn())?.0))
        .await
        .unwrap();
    assert_eq!(pending, 0);
    assert_eq!(hq.received(device).unwrap(), (ops, ops, ops));
    let site_learners = db
        .call(|s| {
            Ok(s.conn()
                .query_row("SELECT count(*) FROM learner", [], |r| r.get::<_, i64>(0))?)
        })
        .await
        .unwrap();
    let hq_learners = hq.store.query_i64("SELECT count(*) FROM learner").unwrap();
    assert_eq!(site_learners, hq_learners);
    println!("{KILLS} kills, {ops} operations, {site_learners} learners, all at HQ exactly once");
}
