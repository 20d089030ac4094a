//! A site whose clock is a year ahead, a year behind, or jumps backwards mid-way reaches the
//! same outcomes as a site with a true clock: the same decisions and credits. (Its own test
//! binary: the simulated device clock is process-wide.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Duration;
use siteline_core::store::hq;
use siteline_core::store::set_device_clock_skew;
use siteline_e2e::{Hq, SiteNode};
use siteline_proto::sync::DecisionStatus;

/// Runs one site; `people` numbers its learners (other people at each site: HQ accredits a
/// person for a programme once, whichever site claims).
async fn outcome(
    hq: &Hq,
    code: &str,
    people_from: u64,
    skew_before: Duration,
    skew_after: Duration,
) -> (Vec<(DecisionStatus, i64)>, i64, u64) {
    set_device_clock_skew(skew_before);
    let enrol_code = hq.site(code).unwrap();
    let site = SiteNode::new(&hq.url).await.unwrap();
    site.enrol(hq, &enrol_code).await.unwrap();
    let people = site.learners(people_from, 3).await.unwrap();
    site.complete("maternity-L4-v1", people.clone(), 75)
        .await
        .unwrap();
    // The clock jumps (e.g. a dead CMOS battery, or someone corrects it) before the sync.
    set_device_clock_skew(skew_after);
    let more = site.learners(people_from + 100, 1).await.unwrap();
    site.complete("infant_care-L3-v1", more.clone(), 50)
        .await
        .unwrap();
    site.engine.sync_once().await.unwrap();
    let mut decisions = Vec::new();
    let mut credits = 0;
    for p in people.iter().chain(more.iter()) {
        let id = p.0;
        let c = site
            .db
            .call(move |s| hq::learner_credits(s.conn(), id))
            .await
            .unwrap();
        credits += c.credits_tenths;
        decisions.extend(
            c.decisions
                .into_iter()
                .map(|d| (d.status, d.credits_tenths)),
        );
    }
    let ops = site.ops().await.unwrap();
    assert_eq!(
        hq.received(site.device).unwrap(),
        (ops as i64, ops as i64, ops as i64)
    );
    set_device_clock_skew(Duration::zero());
    (decisions, credits, ops)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_clock_skew_either_way_or_a_backward_jump_changes_no_outcome() {
    let hq = Hq::start().await.unwrap();
    let truth = outcome(&hq, "TRUE-CLOCK", 500, Duration::zero(), Duration::zero()).await;
    assert_eq!(
        truth.0.len(),
        3,
        "three passed learners are claimed; the failed one is not"
    );
    assert!(
        truth
            .0
            .iter()
            .all(|(s, c)| *s == DecisionStatus::Accredited && *c == 70)
    );
    let year = Duration::days(365);
    for (i, (code, before, after)) in [
        ("AHEAD-1Y", year, year),
        ("BEHIND-1Y", -year, -year),
        ("JUMPS-BACK", year, -year),
    ]
    .into_iter()
    .enumerate()
    {
        let skewed = outcome(&hq, code, 1500 + 1000 * i as u64, before, after).await;
        assert_eq!(skewed, truth, "{code}");
    }
}
