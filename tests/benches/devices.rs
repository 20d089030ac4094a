//! Several devices, one site. Two figures:
//!
//! 1. The first LAN sync of a new laptop at a 5,000-learner site (5,000 learners with consents,
//!    125 cohorts of 40 enrolled, a term of attendance: 12 sessions per cohort, every learner
//!    marked) against the loopback link's limit (the same bytes through a plain loopback TCP
//!    connection).
//! 2. The added cost of a daily delta fanned out to three devices over a shaped link (100 kbit/s
//!    each way, 300 ms round trip): one device pushes it, the two others pull it.
//!
//! `cargo bench -p siteline-e2e --bench devices`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::TimeZone;
use siteline_core::demo;
use siteline_core::store::attendance::{self, Mark};
use siteline_core::store::cohorts::{self, NewCohort, NewSession};
use siteline_core::sync::identity::Identity;
use siteline_core::sync::peer;
use siteline_e2e::proxy::{Proxy, Shape};
use siteline_e2e::{Hq, SiteNode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LEARNERS: u64 = 5_000;
const SESSIONS_PER_COHORT: i64 = 12;
const BYTES_PER_SEC: u64 = 100_000 / 8;
const ONE_WAY: Duration = Duration::from_millis(150);

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(first_lan_sync());
    rt.block_on(fan_out());
}

fn identity(node: &SiteNode) -> Arc<Identity> {
    Arc::new(Identity::load_or_create(&node.dir.path().join("device.key")).unwrap())
}

/// Seconds to move `bytes` through a plain loopback TCP connection.
async fn loopback_seconds(bytes: usize) -> f64 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let reader = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0;
        while got < bytes {
            got += s.read(&mut buf).await.unwrap();
        }
    });
    let t = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let chunk = vec![7u8; 1 << 16];
    let mut sent = 0;
    while sent < bytes {
        let n = chunk.len().min(bytes - sent);
        s.write_all(&chunk[..n]).await.unwrap();
        sent += n;
    }
    reader.await.unwrap();
    t.elapsed().as_secs_f64()
}

async fn first_lan_sync() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-001").unwrap();
    let a = SiteNode::new(&hq.url).await.unwrap();
    a.enrol(&hq, &code).await.unwrap();
    // The staff accounts reach HQ, so the new laptop can sign in once it joins.
    a.engine.sync_once().await.unwrap();
    let recovery = a.recovery_code().await.unwrap();
    let b = SiteNode::join(&hq, "GD-SZ-001", &recovery).await.unwrap();
    let (m, t) = (a.manager, a.instructor);
    let built = Instant::now();
    a.db.call(move |s| {
        for c in 0..LEARNERS / 40 {
            let cohort = cohorts::create(
                s,
                &m,
                &NewCohort {
                    programme_version_id: "maternity-L5-v1".into(),
                    name: format!("第{}期母婴护理员班", c + 1),
                    start_date: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
                    end_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap(),
                    capacity: 40,
                    instructors: vec![t.id],
                },
            )?;
            let mut members = Vec::new();
            for i in 0..40 {
                let l = demo::register(s, &m, c * 40 + i)?;
                cohorts::enrol(s, &m, cohort, l)?;
                members.push((l, Mark::Present));
            }
            let first = chrono::Utc.with_ymd_and_hms(2026, 9, 1, 1, 0, 0).unwrap();
            for d in 0..SESSIONS_PER_COHORT {
                let starts_at = first + chrono::Duration::days(d * 7);
                let session = cohorts::schedule_session(
                    s,
                    &t,
                    cohort,
                    &NewSession {
                        unit_id: None,
                        starts_at,
                        ends_at: starts_at + chrono::Duration::hours(8),
                        instructor_id: None,
                    },
                )?;
                attendance::roll_call(s, &t, session, &members)?;
            }
        }
        Ok(())
    })
    .await
    .unwrap();
    let ops = a.ops().await.unwrap();
    println!(
        "a 5,000-learner site with a term of attendance: {ops} operations, built in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(peer::listen(a.db.clone(), identity(&a), listener));
    let pages = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = pages.clone();
    let t0 = Instant::now();
    let report = peer::sync_with(&b.db, &identity(&b), addr, move |_, _| {
        counter.fetch_add(1, Ordering::Relaxed);
    })
    .await
    .unwrap();
    let seconds = t0.elapsed().as_secs_f64();
    // Everything but the staff accounts, which came through HQ when B joined.
    assert_eq!(report.received, ops - 2);
    assert_eq!(b.count("learner").await.unwrap(), LEARNERS as i64);
    // What crossed the channel, both ways (encrypted frames; pages gzip'd).
    let bytes = report.bytes as i64;
    let limit = loopback_seconds(bytes as usize).await;
    println!("first LAN sync of a new laptop:");
    println!(
        "  {} operations in {:.1} s ({:.0} operations/s), {} pages, {:.1} MB on the wire",
        report.received,
        seconds,
        report.received as f64 / seconds,
        pages.load(Ordering::Relaxed),
        bytes as f64 / 1e6
    );
    println!(
        "  the same bytes through plain loopback TCP: {:.3} s; time ÷ link limit {:.0}",
        limit,
        seconds / limit
    );
    let lan_100 = bytes as f64 / 12.5e6;
    println!(
        "  on a 100 Mbit/s LAN the bytes alone take {lan_100:.1} s: time ÷ that {:.1}",
        seconds / lan_100
    );
}

async fn fan_out() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-002").unwrap();
    let proxy = Proxy::shaped(
        hq.addr,
        Shape {
            bytes_per_sec: BYTES_PER_SEC,
            one_way: ONE_WAY,
        },
    )
    .await
    .unwrap();
    let a = SiteNode::new(&proxy.url).await.unwrap();
    a.enrol(&hq, &code).await.unwrap();
    let people = a.learners(0, 40).await.unwrap();
    let (m, t) = (a.manager, a.instructor);
    let cohort =
        a.db.call(move |s| {
            let cohort = cohorts::create(
                s,
                &m,
                &NewCohort {
                    programme_version_id: "maternity-L5-v1".into(),
                    name: "母婴护理员班".into(),
                    start_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
                    end_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap(),
                    capacity: 40,
                    instructors: vec![t.id],
                },
            )?;
            for l in &people {
                cohorts::enrol(s, &m, cohort, *l)?;
            }
            Ok((cohort, people))
        })
        .await
        .unwrap();
    a.engine.sync_once().await.unwrap();
    let recovery = a.recovery_code().await.unwrap();
    let b = SiteNode::join_via(&hq, &proxy.url, "GD-SZ-002", &recovery)
        .await
        .unwrap();
    let c = SiteNode::join_via(&hq, &proxy.url, "GD-SZ-002", &recovery)
        .await
        .unwrap();
    // The daily delta on A: a session and its 40 marks.
    let (cohort, members) = cohort;
    a.db.call(move |s| {
        let start = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 1, 0, 0).unwrap();
        let session = cohorts::schedule_session(
            s,
            &t,
            cohort,
            &NewSession {
                unit_id: None,
                starts_at: start,
                ends_at: start + chrono::Duration::hours(3),
                instructor_id: None,
            },
        )?;
        let marks: Vec<_> = members.iter().map(|l| (*l, Mark::Present)).collect();
        attendance::roll_call(s, &t, session, &marks)?;
        Ok(())
    })
    .await
    .unwrap();
    println!(
        "daily delta fanned out over {} kbit/s each way, {} ms round trip:",
        BYTES_PER_SEC * 8 / 1000,
        ONE_WAY.as_millis() * 2
    );
    for (who, node) in [("A pushes it", &a), ("B pulls it", &b), ("C pulls it", &c)] {
        let (up0, down0) = (
            proxy.stats.bytes_up.load(Ordering::Relaxed),
            proxy.stats.bytes_down.load(Ordering::Relaxed),
        );
        let t = Instant::now();
        let r = node.engine.sync_once().await.unwrap();
        let seconds = t.elapsed().as_secs_f64();
        // The proxy counts an exchange's bytes as its copy tasks finish; let them.
        tokio::time::sleep(Duration::from_millis(500)).await;
        println!(
            "  {who}: {:.2} s, {} round trips, bytes up {} down {}, {} pushed, {} pulled",
            seconds,
            r.round_trips,
            proxy.stats.bytes_up.load(Ordering::Relaxed) - up0,
            proxy.stats.bytes_down.load(Ordering::Relaxed) - down0,
            r.pushed,
            r.pulled
        );
    }
}
