//! Concurrent writers (ADR 0006). Real threads call the store at once, each on its own
//! connection on PostgreSQL (the README test command runs this file on both databases): the
//! same batch pushed on eight connections at once applies once; one person registered at
//! four sites at once has one account; ten people's claims from three sites at once post
//! credits once each, and certificate serials never repeat; sites created at once get
//! distinct numbers; a device pulling while others commit out of order misses nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Barrier;

use common::{Device, Hq, SiteApp, batch};
use creditbank::store::{DeviceInfo, Store};
use siteline_proto::PushBatch;
use siteline_proto::sync::HqChange;

/// A new site store enrolled at HQ with the site `site_code`, and HQ's view of its device.
async fn enrolled(hq: &Hq, site_code: &str) -> (SiteApp, DeviceInfo) {
    let code = hq
        .store
        .issue_enrolment_code(site_code, chrono::Duration::days(1))
        .unwrap()
        .code;
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    let (status, answer) = site.enrolled(hq.enrol(&code, &device).await);
    assert_eq!(status, 200, "{answer}");
    let info = hq.store.device(device.id).unwrap().unwrap();
    (site, info)
}

/// Opens `n` connections (on PostgreSQL; SQLite has one) by keeping `n` busy at once, so the
/// racers below start together instead of queueing behind connection set-up.
fn warm(hq: &Hq, n: usize) {
    let gate = Barrier::new(n);
    std::thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| {
                gate.wait();
                hq.store
                    .query_i64(
                        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000)
                         SELECT count(*) FROM c",
                    )
                    .unwrap();
            });
        }
    });
}

/// Pushes every site's batch at the same moment, each on its own thread (and connection);
/// none of them has a refused row.
fn push_all_at_once(hq: &Hq, sites: &[(PushBatch, DeviceInfo)]) {
    warm(hq, sites.len());
    let gate = Barrier::new(sites.len());
    std::thread::scope(|s| {
        for (batch, device) in sites {
            let gate = &gate;
            s.spawn(move || {
                gate.wait();
                let ack = hq.store.push(device, batch).unwrap();
                assert!(ack.quarantined.is_empty(), "{ack:?}");
            });
        }
    });
}

#[tokio::test]
async fn the_same_batch_pushed_on_eight_connections_at_once_applies_once() {
    let hq = Hq::new();
    hq.site("GD-SZ-001");
    let (mut site, device) = enrolled(&hq, "GD-SZ-001").await;
    // A first push opens the device's epoch at HQ; the race is on the next batch.
    site.learner(1);
    let first = site.rows();
    hq.store.push(&device, &batch(&first)).unwrap();
    for n in 2..=40 {
        site.learner(n);
    }
    let rows: Vec<_> = site.rows().split_off(first.len());
    let batch = batch(&rows);
    warm(&hq, 8);
    let gate = Barrier::new(8);
    let acks: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    gate.wait();
                    hq.store.push(&device, &batch).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let applied: u32 = acks.iter().map(|a| a.applied).sum();
    assert_eq!(
        applied as usize,
        rows.len(),
        "applied once in all: {acks:?}"
    );
    assert!(
        acks.iter()
            .all(|a| a.acked_through == (first.len() + rows.len()) as u64
                && a.quarantined.is_empty()),
        "{acks:?}"
    );
    assert_eq!(
        acks.iter().filter(|a| a.applied > 0).count(),
        1,
        "one connection applied it, seven found it had: {acks:?}"
    );
    assert_eq!(
        hq.store.query_i64("SELECT count(*) FROM record").unwrap(),
        (first.len() + rows.len()) as i64
    );
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM change_log WHERE kind = 'site_record'")
            .unwrap(),
        (first.len() + rows.len()) as i64,
        "each operation relayed once"
    );
}

#[tokio::test]
async fn one_person_registered_at_four_sites_at_once_has_one_credit_account() {
    let hq = Hq::new();
    let mut sites = Vec::new();
    for i in 0..4 {
        let code = format!("GD-SZ-{i:03}");
        hq.site(&code);
        let (mut site, device) = enrolled(&hq, &code).await;
        // The same thirty people (the same ID numbers) at every site.
        for n in 1..=30 {
            site.learner(n);
        }
        sites.push((batch(&site.rows()), device));
    }
    push_all_at_once(&hq, &sites);
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM credit_account")
            .unwrap(),
        30,
        "one account per person"
    );
    assert_eq!(
        hq.store
            .query_i64("SELECT count(DISTINCT account_id) FROM learner")
            .unwrap(),
        30
    );
    assert_eq!(
        hq.store
            .query_i64("SELECT count(*) FROM learner WHERE account_id IS NULL")
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn ten_peoples_claims_from_three_sites_at_once_post_credits_once_and_serials_never_repeat() {
    let hq = Hq::new();
    let mut sites = Vec::new();
    for i in 0..3 {
        let code = format!("GD-GZ-{i:03}");
        hq.site(&code);
        let (mut site, device) = enrolled(&hq, &code).await;
        // People 1 to 10 at every site, and two people of the site's own.
        let mut people: Vec<_> = (1..=10).map(|n| site.learner(n)).collect();
        people.push(site.learner(100 + 2 * i));
        people.push(site.learner(101 + 2 * i));
        // The people reach HQ first (their accounts exist); the race is on the claims.
        let registered = site.rows();
        hq.store.push(&device, &batch(&registered)).unwrap();
        site.completed("housekeeping-L5-v1", &people, 90);
        sites.push((batch(&site.rows().split_off(registered.len())), device));
    }
    push_all_at_once(&hq, &sites);
    let q = |sql: &str| hq.store.query_i64(sql).unwrap();
    // Sixteen people: the ten shared once each, six of the sites' own.
    assert_eq!(q("SELECT count(*) FROM credit_account"), 16);
    assert_eq!(
        q("SELECT count(*) FROM credit_posting"),
        16,
        "one posting per person"
    );
    assert_eq!(
        q("SELECT count(*) FROM decision WHERE status = 'accredited' AND repeats IS NOT NULL"),
        20,
        "the two later claims of each shared person repeat the first decision"
    );
    assert_eq!(q("SELECT count(*) FROM certificate"), 16);
    assert_eq!(q("SELECT count(DISTINCT number) FROM certificate"), 16);
    // Serials within each site's series are 1, 2, … with no gap.
    let numbers: Vec<String> = {
        let accounts = hq.store.accounts().unwrap();
        accounts
            .iter()
            .flat_map(|a| hq.store.account(a).unwrap().certificates)
            .collect()
    };
    let mut serials: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    for n in &numbers {
        let number = siteline_domain::certificate::CertificateNumber::parse(n).unwrap();
        serials
            .entry(number.series())
            .or_default()
            .push(n[n.len() - 6..].parse().unwrap());
    }
    for (series, mut s) in serials {
        s.sort();
        assert_eq!(s, (1..=s.len() as u32).collect::<Vec<_>>(), "{series}");
    }
}

#[tokio::test]
async fn a_device_pulling_while_others_commit_misses_nothing() {
    let hq = Hq::new();
    let (code, other) = ("GD-SZ-001", "GD-SZ-002");
    hq.site(code);
    hq.site(other);
    // Three writers at the site and one at another site, each pushing small batches, while
    // a fourth device of the site pulls page after page.
    let mut writers = Vec::new();
    for (i, code) in [code, code, code, other].into_iter().enumerate() {
        let (mut site, device) = enrolled(&hq, code).await;
        for n in 0..30 {
            site.learner(1000 * (i as u64 + 1) + n);
        }
        writers.push((site.rows(), device));
    }
    let (_, reader) = enrolled(&hq, code).await;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let seen = std::thread::scope(|s| {
        for (rows, device) in &writers {
            let (hq, done) = (&hq, &done);
            s.spawn(move || {
                for chunk in rows.chunks(3) {
                    hq.store.push(device, &batch(chunk)).unwrap();
                }
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        loop {
            let finished = done.load(std::sync::atomic::Ordering::SeqCst) == writers.len();
            let page = hq.store.pull(&reader, cursor, 1 << 20).unwrap();
            for c in &page.changes {
                assert!(c.seq > cursor);
                if let HqChange::SiteRecord(row) = &c.change {
                    seen.insert((row.device_id, row.seq));
                }
            }
            cursor = page.next_cursor;
            if finished && !page.more {
                break seen;
            }
        }
    });
    let site_rows: BTreeSet<_> = writers[..3]
        .iter()
        .flat_map(|(rows, _)| rows.iter().map(|r| (r.device_id, r.seq)))
        .collect();
    assert_eq!(
        seen.len(),
        site_rows.len(),
        "every operation of the site's other devices, and nothing else"
    );
    assert_eq!(seen, site_rows);
}

#[test]
fn sites_created_at_once_get_distinct_numbers_and_one_code_is_created_once() {
    let hq = Hq::new();
    warm(&hq, 8);
    let gate = Barrier::new(16);
    let outcomes: Vec<Result<String, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (gate, hq) = (&gate, &hq);
                s.spawn(move || {
                    // Eight operators create eight sites; eight more all create GD-SZ-100.
                    let code = if i < 8 {
                        format!("GD-SZ-{i:03}")
                    } else {
                        "GD-SZ-100".to_string()
                    };
                    gate.wait();
                    hq.store
                        .create_site(&code, "站", "44")
                        .map(|s| s.code)
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(created, 9, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .all(|e| e.contains("GD-SZ-100 already exists")),
        "{outcomes:?}"
    );
    let q = |sql: &str| hq.store.query_i64(sql).unwrap();
    assert_eq!(q("SELECT count(*) FROM site"), 9);
    assert_eq!(
        q("SELECT count(DISTINCT seq) FROM site"),
        9,
        "no two sites share a number"
    );
}
