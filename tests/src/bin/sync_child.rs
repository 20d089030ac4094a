//! A site process for the crash test: it keeps recording learners and syncing them until it
//! is killed. `sync_child <site folder> <first learner number>`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("site folder"));
    let mut n: u64 = args.next().expect("first learner number").parse()?;
    let url: String = {
        let site = siteline_core::Site::open(&dir.join("site.db"))?;
        siteline_core::sync::engine::enrolment(&site)?
            .map(|e| e.0)
            .expect("enrolled")
    };
    let (db, engine, _) =
        siteline_e2e::open_site(&dir, &url, Duration::from_secs(10), true).await?;
    let manager = db
        .call(|site| siteline_core::store::staff::sign_in(site.conn(), "manager", "manager-pass"))
        .await?;
    loop {
        for _ in 0..3 {
            let m = manager;
            let i = n;
            db.call(move |site| siteline_core::demo::register(site, &m, i))
                .await?;
            n += 1;
        }
        let _ = engine.sync_once().await;
        println!("{n}");
    }
}
