//! A laptop process for the LAN crash test: it syncs with the site device at the given address
//! over the LAN, again and again, until it is killed. `lan_child <site folder> <address>`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use siteline_core::store::db::Db;
use siteline_core::sync::identity::Identity;
use siteline_core::sync::peer;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("site folder"));
    let addr: std::net::SocketAddr = args.next().expect("address").parse()?;
    let site = siteline_core::Site::open(&dir.join("site.db"))?;
    let db = Db::from_site(site).await?;
    let identity = Arc::new(Identity::load_or_create(&dir.join("device.key"))?);
    loop {
        let report = peer::sync_with(&db, &identity, addr, |got, left| {
            println!("{got} {left}");
        })
        .await?;
        if report.received == 0 {
            // Nothing left: idle until killed.
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        }
    }
}
