//! LAN sync between the devices of one site with no credit bank involved (docs/SYNC.md,
//! "Several devices, one site"): two laptops exchange their offline work over an encrypted,
//! mutually authenticated channel; a third gets both laptops' work from one of them (store and
//! forward); one laptop carries another's signed work to HQ and HQ's answer back; laptops find
//! their site's others by mDNS; a device of another site and a device HQ revoked are refused,
//! and nothing is written on either side.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use siteline_core::store::attendance::{self, Mark};
use siteline_core::store::cohorts::{self, NewCohort, NewSession};
use siteline_core::sync::identity::Identity;
use siteline_core::sync::{discovery, peer};
use siteline_e2e::{Hq, SiteNode};

fn identity(node: &SiteNode) -> Arc<Identity> {
    Arc::new(Identity::load_or_create(&node.dir.path().join("device.key")).unwrap())
}

/// Starts answering LAN syncs for `node` on a free loopback port.
async fn listening(node: &SiteNode) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(peer::listen(node.db.clone(), identity(node), listener));
    addr
}

async fn site_events_from_others(node: &SiteNode) -> i64 {
    node.db
        .call(|s| {
            Ok(s.conn().query_row(
                "SELECT count(*) FROM site_event WHERE received_at IS NOT NULL",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn laptops_of_one_site_sync_over_the_lan_and_strangers_are_refused() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-001").unwrap();
    let a = SiteNode::new(&hq.url).await.unwrap();
    a.enrol(&hq, &code).await.unwrap();
    a.engine.sync_once().await.unwrap();
    let recovery = a.recovery_code().await.unwrap();
    let b = SiteNode::join(&hq, "GD-SZ-001", &recovery).await.unwrap();
    let c = SiteNode::join(&hq, "GD-SZ-001", &recovery).await.unwrap();
    let at_hq_before = hq.received(a.device).unwrap();

    // Offline from here on: A registers and schedules a class and takes a roll call; B
    // registers someone too. Nothing of it goes to HQ.
    let people = a.learners(0, 3).await.unwrap();
    let (m, t) = (a.manager, a.instructor);
    let roster = people.clone();
    let session =
        a.db.call(move |site| {
            let start = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
            let cohort = cohorts::create(
                site,
                &m,
                &NewCohort {
                    programme_version_id: "elderly_care-L5-v1".into(),
                    name: "养老护理员五级班".into(),
                    start_date: start,
                    end_date: start + chrono::Days::new(30),
                    capacity: 40,
                    instructors: vec![t.id],
                },
            )?;
            for l in &roster {
                cohorts::enrol(site, &m, cohort, *l)?;
            }
            let starts_at =
                chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 9, 1, 1, 0, 0).unwrap();
            let session = cohorts::schedule_session(
                site,
                &t,
                cohort,
                &NewSession {
                    unit_id: None,
                    starts_at,
                    ends_at: starts_at + chrono::Duration::hours(4),
                    instructor_id: None,
                },
            )?;
            let marks: Vec<_> = roster.iter().map(|l| (*l, Mark::Present)).collect();
            attendance::roll_call(site, &t, session, &marks)?;
            Ok(session)
        })
        .await
        .unwrap();
    b.learners(50, 1).await.unwrap();

    // A syncs with B over the LAN: both ways.
    let b_addr = listening(&b).await;
    let report = peer::sync_with(&a.db, &identity(&a), b_addr, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.peer, b.device);
    assert_eq!(report.peer_site_code, "GD-SZ-001");
    assert!(report.received >= 1, "{report:?}");
    assert!(report.sent > 3, "{report:?}");
    assert_eq!(a.count("learner").await.unwrap(), 4);
    assert_eq!(b.count("learner").await.unwrap(), 4);
    let roll =
        b.db.call(move |s| attendance::roll(s.conn(), session))
            .await
            .unwrap();
    assert_eq!(roll.len(), 3);
    assert!(roll.iter().all(|l| l.minutes == 240), "{roll:?}");
    // HQ was never asked.
    assert_eq!(hq.received(a.device).unwrap(), at_hq_before);
    // A second LAN sync moves nothing.
    let again = peer::sync_with(&a.db, &identity(&a), b_addr, |_, _| {})
        .await
        .unwrap();
    assert_eq!((again.received, again.sent), (0, 0));

    // C (which has seen none of it) gets A's and B's work from B alone, with progress.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let from_b = peer::sync_with(&c.db, &identity(&c), b_addr, move |got, left| {
        log.lock().unwrap().push((got, left));
    })
    .await
    .unwrap();
    assert!(from_b.received > 10, "{from_b:?}");
    assert_eq!(c.count("learner").await.unwrap(), 4);
    assert_eq!(
        c.db.call(move |s| attendance::roll(s.conn(), session))
            .await
            .unwrap(),
        roll
    );
    assert_eq!(seen.lock().unwrap().last().map(|p| p.1), Some(0));

    // Store and forward to HQ: A never reaches HQ, but B carried A's signed bundle and
    // delivers it on its own sync; HQ holds A's work exactly once, and HQ's answer comes back
    // to A with B on the next LAN sync, pruning A's outbox.
    let ops_a = a.ops().await.unwrap() as i64;
    assert!(a.pending().await.unwrap() > 0);
    b.engine.sync_once().await.unwrap();
    assert_eq!(hq.received(a.device).unwrap(), (ops_a, ops_a, ops_a));
    peer::sync_with(&a.db, &identity(&a), b_addr, |_, _| {})
        .await
        .unwrap();
    assert_eq!(a.pending().await.unwrap(), 0, "HQ's answer came back to A");
    // A's own sync later changes nothing at HQ: each operation once, whichever way it came.
    a.engine.sync_once().await.unwrap();
    assert_eq!(hq.received(a.device).unwrap(), (ops_a, ops_a, ops_a));

    // A device of another site is refused by a peer, and nothing is written on either side.
    let other = hq.site("GD-FS-003").unwrap();
    let d = SiteNode::new(&hq.url).await.unwrap();
    d.enrol(&hq, &other).await.unwrap();
    d.learners(90, 1).await.unwrap();
    let (b_events, d_events) = (
        site_events_from_others(&b).await,
        site_events_from_others(&d).await,
    );
    let err = peer::sync_with(&d.db, &identity(&d), b_addr, |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "peer_refused");
    assert!(err.to_string().contains("another site"), "{err}");
    assert_eq!(site_events_from_others(&b).await, b_events);
    assert_eq!(site_events_from_others(&d).await, d_events);
    assert_eq!(d.count("learner").await.unwrap(), 1);
    assert_eq!(b.count("learner").await.unwrap(), 4);
    // The other way round too: B calling D.
    let d_addr = listening(&d).await;
    let err = peer::sync_with(&b.db, &identity(&b), d_addr, |_, _| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another site"), "{err}");
    assert_eq!(b.count("learner").await.unwrap(), 4);

    // Found by mDNS: C looks for its site's laptops and finds B (not D, of another site), and
    // syncs with the address it found.
    let _b_announced = discovery::announce(b.device, "GD-SZ-001", b_addr).unwrap();
    let _d_announced = discovery::announce(d.device, "GD-FS-003", d_addr).unwrap();
    let c_device = c.device;
    let found = tokio::task::spawn_blocking(move || {
        discovery::discover(
            c_device,
            "GD-SZ-001",
            std::time::Duration::from_secs(3),
            true,
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].device_id, b.device);
    assert_eq!(found[0].address, b_addr.to_string());
    peer::sync_with(
        &c.db,
        &identity(&c),
        found[0].address.parse().unwrap(),
        |_, _| {},
    )
    .await
    .unwrap();

    // HQ revokes C; once A has heard it from HQ, A refuses C on the LAN.
    creditbank::store::Store::revoke_device(hq.store.as_ref(), c.device).unwrap();
    a.engine.sync_once().await.unwrap();
    let a_addr = listening(&a).await;
    let err = peer::sync_with(&c.db, &identity(&c), a_addr, |_, _| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
}
