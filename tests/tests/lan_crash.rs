//! Crash safety of LAN sync: a new laptop pulling a site's records from another over the LAN
//! runs in a child process that is killed with SIGKILL at seeded random moments. After every
//! kill its database passes `PRAGMA integrity_check` and holds every writer's operations as an
//! unbroken run from seq 1 (a page is applied whole or not at all); at the end one clean LAN
//! sync leaves it with every operation exactly once and the same learners as the other laptop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use siteline_core::Site;
use siteline_core::sync::identity::Identity;
use siteline_core::sync::peer;
use siteline_e2e::{Hq, Rng, SiteNode};

const KILLS: u64 = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_laptop_mid_lan_sync_never_corrupts_loses_or_duplicates() {
    let seed: u64 = std::env::var("SITELINE_LAN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2026);
    println!("LAN crash seed {seed} (replay: SITELINE_LAN_CRASH_SEED={seed})");
    let mut rng = Rng::new(seed);
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-010").unwrap();
    let a = SiteNode::new(&hq.url).await.unwrap();
    a.enrol(&hq, &code).await.unwrap();
    a.engine.sync_once().await.unwrap();
    let recovery = a.recovery_code().await.unwrap();
    let b = SiteNode::join(&hq, "GD-SZ-010", &recovery).await.unwrap();
    // Enough for several pages, so kills land in the middle of the sync.
    a.learners(0, 2_500).await.unwrap();
    // A has synced with HQ: it has nothing to hand over for HQ, only its records to share.
    a.engine.sync_once().await.unwrap();
    let ops_a = a.ops().await.unwrap() as i64;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let identity = Arc::new(Identity::load_or_create(&a.dir.path().join("device.key")).unwrap());
    tokio::spawn(peer::listen(a.db.clone(), identity, listener));
    let dir = b.dir.path().to_path_buf();
    drop(b.engine);
    drop(b.db);
    let mut progressed = 0;
    let mut mid_sync = 0;
    let mut held_before = 0i64;
    // What B holds of A once it has everything: A's operations and the staff B got from HQ.
    let complete = ops_a;
    for kill in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lan_child"))
            .arg(&dir)
            .arg(addr.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let after = Duration::from_millis(300 + rng.below(3_000));
        tokio::time::sleep(after).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let site = Site::open(&dir.join("site.db")).unwrap();
        let check: String = site
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "kill {kill} after {after:?}");
        // Every writer's operations form an unbroken run from 1: nothing half-applied.
        let broken: i64 = site
            .conn()
            .query_row(
                "SELECT count(*) FROM (SELECT device_id, epoch, count(*) AS n, min(seq) AS lo, max(seq) AS hi
                 FROM site_event GROUP BY device_id, epoch) WHERE n != hi - lo + 1 OR lo != 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(broken, 0, "kill {kill}: a writer's run has a gap");
        let held: i64 = site
            .conn()
            .query_row("SELECT count(*) FROM site_event", [], |r| r.get(0))
            .unwrap();
        println!("kill {kill} after {after:?}: {held} operations held");
        if held > held_before {
            progressed += 1;
        }
        if held > 2 && held < complete {
            mid_sync += 1;
        }
        held_before = held;
    }
    assert!(
        progressed >= 2 && mid_sync >= 1,
        "no kill landed in the middle of the sync ({progressed} with progress, {mid_sync} mid-sync); the machine is much faster or slower than expected"
    );
    let (db, _, _) = siteline_e2e::open_site(&dir, &hq.url, Duration::from_secs(30), true)
        .await
        .unwrap();
    let identity = Arc::new(Identity::load_or_create(&dir.join("device.key")).unwrap());
    peer::sync_with(&db, &identity, addr, |_, _| {})
        .await
        .unwrap();
    let device_a = a.device;
    let (from_a, learners): (i64, i64) = db
        .call(move |s| {
            Ok((
                s.conn().query_row(
                    "SELECT count(*) FROM site_event WHERE device_id = ?1",
                    [device_a],
                    |r| r.get(0),
                )?,
                s.conn()
                    .query_row("SELECT count(*) FROM learner", [], |r| r.get(0))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(from_a, ops_a, "every operation of A exactly once");
    assert_eq!(learners, a.count("learner").await.unwrap());
    println!(
        "{KILLS} kills, {progressed} with progress, {mid_sync} in the middle of the sync; {ops_a} operations received exactly once"
    );
}
