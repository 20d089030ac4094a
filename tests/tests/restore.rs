//! A device restored from backup against a real credit bank: it takes a new epoch, pushes the
//! backup's old rows (which HQ already has) and its new work, and HQ holds every operation
//! exactly once, including new operations whose seq numbers HQ saw before in the old epoch;
//! what it wrote after the backup comes back from another laptop of the site on the LAN.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use siteline_core::store::backup::{self, BackupKind};
use siteline_e2e::{Hq, SiteNode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restore_sync_stays_exactly_once_under_the_new_epoch() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-009").unwrap();
    let site = SiteNode::new(&hq.url).await.unwrap();
    site.enrol(&hq, &code).await.unwrap();
    site.learners(0, 3).await.unwrap();
    site.engine.sync_once().await.unwrap();
    // Two more learners, still pending when the backup is taken.
    site.learners(3, 2).await.unwrap();
    let dir = site.dir.path().join("backups");
    let d = dir.clone();
    let taken = site
        .db
        .call(move |s| backup::back_up(s.conn(), &d, BackupKind::Manual))
        .await
        .unwrap();
    // They reach HQ; then one more learner reaches HQ and another laptop of the site over
    // the LAN, and the disk is lost.
    site.engine.sync_once().await.unwrap();
    let lost = site.learners(5, 1).await.unwrap()[0];
    site.engine.sync_once().await.unwrap();
    let recovery = site.recovery_code().await.unwrap();
    let peer_laptop = SiteNode::join(&hq, "GD-SZ-009", &recovery).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer_addr = listener.local_addr().unwrap();
    let identity = |node: &SiteNode| {
        std::sync::Arc::new(
            siteline_core::sync::identity::Identity::load_or_create(
                &node.dir.path().join("device.key"),
            )
            .unwrap(),
        )
    };
    tokio::spawn(siteline_core::sync::peer::listen(
        peer_laptop.db.clone(),
        identity(&peer_laptop),
        listener,
    ));
    siteline_core::sync::peer::sync_with(&site.db, &identity(&site), peer_addr, |_, _| {})
        .await
        .unwrap();
    assert_eq!(peer_laptop.count("learner").await.unwrap(), 6);
    let (before_rows, _, before_max) = hq.received(site.device).unwrap();
    assert_eq!(site.pending().await.unwrap(), 0);

    let m = site.manager;
    let path = std::path::PathBuf::from(&taken.path);
    let d = dir.clone();
    let restored = site
        .db
        .call(move |s| backup::restore(s, &m, &path, &d))
        .await
        .unwrap();
    // The backup's two pending learners wait again; the lost learner is gone locally.
    assert!(site.pending().await.unwrap() > 0);
    assert_eq!(site.count("learner").await.unwrap(), 5);
    // New work after the restore reuses seq numbers HQ already saw under the old epoch.
    let fresh = site.learners(6, 1).await.unwrap()[0];
    let report = site.engine.sync_once().await.unwrap();
    assert_eq!(site.pending().await.unwrap(), 0);
    assert!(report.pushed > 0);
    let (rows, _, _) = hq.received(site.device).unwrap();
    let new_epoch_rows = hq
        .store
        .query_i64(&format!(
            "SELECT count(*) FROM record WHERE epoch = {}",
            restored.new_epoch
        ))
        .unwrap();
    assert_eq!(
        rows,
        before_rows + new_epoch_rows,
        "old rows were not stored twice"
    );
    assert!(new_epoch_rows >= 2, "the fresh learner and its consents");
    let seq_reused = hq
        .store
        .query_i64(&format!(
            "SELECT count(*) FROM record n JOIN record o ON o.seq = n.seq AND o.epoch = 1
              WHERE n.epoch = {}",
            restored.new_epoch
        ))
        .unwrap();
    assert!(
        seq_reused > 0,
        "the new epoch's seqs overlap the old epoch's at HQ (max {before_max})"
    );
    // Every record HQ holds for each learner arrived once.
    for id in [lost.0, fresh.0] {
        let n = hq
            .store
            .query_i64_with(
                "SELECT count(*) FROM record WHERE record_id = ?1",
                &[creditbank::store::sql::Value::Uuid(id)],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    let dupes = hq
        .store
        .query_i64(
            "SELECT count(*) FROM (SELECT record_id, entity, op, payload FROM record
              GROUP BY record_id, entity, op, payload HAVING count(*) > 1) AS twice",
        )
        .unwrap();
    assert_eq!(dupes, 0);
    // A second pass sends nothing.
    let again = site.engine.sync_once().await.unwrap();
    assert_eq!(again.pushed, 0);
    // The learner lost in the restore comes back from the other laptop on the LAN (the site's
    // other laptops keep everything), and nothing new goes to HQ for it.
    siteline_core::sync::peer::sync_with(&site.db, &identity(&site), peer_addr, |_, _| {})
        .await
        .unwrap();
    assert_eq!(site.count("learner").await.unwrap(), 7);
    let found = site
        .db
        .call(move |s| siteline_core::store::learners::get(s.conn(), lost))
        .await
        .unwrap();
    assert_eq!(found.name, siteline_core::demo::name(5));
    let again = site.engine.sync_once().await.unwrap();
    assert_eq!(again.pushed, 0);
    assert_eq!(
        hq.store
            .query_i64_with(
                "SELECT count(*) FROM record WHERE record_id = ?1",
                &[creditbank::store::sql::Value::Uuid(lost.0)],
            )
            .unwrap(),
        1
    );
}
