//! Sync over a shaped link: a proxy limits bandwidth and adds latency (100 kbit/s each way,
//! 300 ms round trip). Measures the first sync of a 5,000-learner site and a daily delta (a
//! 40-learner session: 40 attendance events and 10 assessments) against the link's limit
//! (bytes ÷ bandwidth + round trips × RTT).
//!
//! `cargo bench -p siteline-e2e --bench shaped_link`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::TimeZone;
use siteline_core::demo;
use siteline_core::store::assessments::{self, Marks, NewAttempt};
use siteline_core::store::attendance::{self, Mark};
use siteline_core::store::cohorts::{self, NewCohort, NewSession};
use siteline_core::sync::outgoing;
use siteline_domain::scores::Component;
use siteline_e2e::proxy::{Proxy, Shape};
use siteline_e2e::{Hq, SiteNode};

const BYTES_PER_SEC: u64 = 100_000 / 8;
const ONE_WAY: Duration = Duration::from_millis(150);
const LEARNERS: u64 = 5_000;

struct Leg {
    seconds: f64,
    up: u64,
    down: u64,
    exchanges: u64,
}

async fn measure(site: &SiteNode, proxy: &Proxy) -> (Leg, siteline_core::sync::engine::SyncReport) {
    let (up0, down0, ex0) = (
        proxy.stats.bytes_up.load(Ordering::Relaxed),
        proxy.stats.bytes_down.load(Ordering::Relaxed),
        proxy.stats.exchanges.load(Ordering::Relaxed),
    );
    let t = Instant::now();
    let report = site.engine.sync_once().await.unwrap();
    let leg = Leg {
        seconds: t.elapsed().as_secs_f64(),
        up: proxy.stats.bytes_up.load(Ordering::Relaxed) - up0,
        down: proxy.stats.bytes_down.load(Ordering::Relaxed) - down0,
        exchanges: proxy.stats.exchanges.load(Ordering::Relaxed) - ex0,
    };
    (leg, report)
}

fn print(name: &str, leg: &Leg, ops: u64, json_bytes: usize) {
    let limit = (leg.up.max(leg.down)) as f64 / BYTES_PER_SEC as f64
        + leg.exchanges as f64 * 2.0 * ONE_WAY.as_secs_f64();
    let wire_limit = (leg.up + leg.down) as f64 / BYTES_PER_SEC as f64
        + leg.exchanges as f64 * 2.0 * ONE_WAY.as_secs_f64();
    println!("{name}: {ops} operations");
    println!(
        "  time {:.1} s; link limit {:.1} s (larger direction) – {:.1} s (both directions serial); ratio {:.2}",
        leg.seconds,
        limit,
        wire_limit,
        leg.seconds / wire_limit
    );
    println!(
        "  round trips {}; bytes up {} down {}",
        leg.exchanges, leg.up, leg.down
    );
    println!(
        "  bytes per operation: {:.0} JSON uncompressed, {:.0} on the wire up (gzip + HTTP headers)",
        json_bytes as f64 / ops.max(1) as f64,
        leg.up as f64 / ops.max(1) as f64
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-001").unwrap();
    let proxy = Proxy::shaped(
        hq.addr,
        Shape {
            bytes_per_sec: BYTES_PER_SEC,
            one_way: ONE_WAY,
        },
    )
    .await
    .unwrap();
    let site = SiteNode::new(&proxy.url).await.unwrap();
    site.enrol(&hq, &code).await.unwrap();

    // A site that worked offline: 5,000 learners with consents, 125 cohorts of 40 enrolled.
    let (m, t) = (site.manager, site.instructor);
    let big_cohort = site
        .db
        .call(move |s| {
            let mut first = None;
            for c in 0..LEARNERS / 40 {
                let cohort = cohorts::create(
                    s,
                    &m,
                    &NewCohort {
                        programme_version_id: "maternity-L5-v1".into(),
                        name: format!("第{}期母婴护理员班", c + 1),
                        start_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
                        end_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap(),
                        capacity: 40,
                        instructors: vec![t.id],
                    },
                )?;
                let mut members = Vec::new();
                for i in 0..40 {
                    let l = demo::register(s, &m, c * 40 + i)?;
                    cohorts::enrol(s, &m, cohort, l)?;
                    members.push(l);
                }
                first.get_or_insert((cohort, members));
            }
            Ok(first.unwrap())
        })
        .await
        .unwrap();
    let ops = site.ops().await.unwrap();
    let json: usize = site
        .db
        .call(|s| {
            Ok(outgoing::rows(s, 1_000_000)?
                .iter()
                .map(|r| serde_json::to_vec(r).unwrap().len())
                .sum())
        })
        .await
        .unwrap();
    println!(
        "link: {} kbit/s each way, {} ms round trip",
        BYTES_PER_SEC * 8 / 1000,
        ONE_WAY.as_millis() * 2
    );
    let (leg, report) = measure(&site, &proxy).await;
    assert_eq!(site.pending().await.unwrap(), 0);
    print("first sync of a 5,000-learner site", &leg, ops, json);
    println!(
        "  engine: {} pushes+pulls, final batch size {} bytes",
        report.round_trips,
        site.engine.batch_bytes()
    );

    // The daily delta: one 40-learner session (40 marks) and 10 theory results.
    let (cohort, members) = big_cohort;
    let before = site.ops().await.unwrap();
    site.db
        .call(move |s| {
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
            for l in members.iter().take(10) {
                let e = cohorts::enrolment_of(s.conn(), cohort, *l)?;
                assessments::record(
                    s,
                    &t,
                    &NewAttempt {
                        enrolment_id: e,
                        component: Component::Theory,
                        held_at: start,
                        assessors: vec![t.id],
                        marks: Marks::Score { score: 78 },
                    },
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let delta_ops = site.ops().await.unwrap() - before;
    let json: usize = site
        .db
        .call(|s| {
            Ok(outgoing::rows(s, 1_000_000)?
                .iter()
                .map(|r| serde_json::to_vec(r).unwrap().len())
                .sum())
        })
        .await
        .unwrap();
    let (leg, report) = measure(&site, &proxy).await;
    print(
        "daily delta (1 session scheduled, 40 attendance events, 10 assessments)",
        &leg,
        delta_ops,
        json,
    );
    println!("  engine: {} round trips (push + pull)", report.round_trips);
    assert_eq!(report.round_trips, 2);
}
