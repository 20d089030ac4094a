//! Shared fixtures for Siteline's end-to-end tests: a real credit bank on `127.0.0.1:0` over
//! a file-backed store, real site databases in temporary folders with their sync engines, and
//! a seeded fault-injecting TCP proxy between them.

pub mod proxy;
pub mod webdriver;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use creditbank::store::Bank;
use creditbank::store::Store;
use siteline_core::store::db::Db;
use siteline_core::store::outbox;
use siteline_core::sync::client::{ClientConfig, HqClient};
use siteline_core::sync::engine::{self, Engine};
use siteline_core::sync::identity::Identity;
use siteline_core::{Actor, Site, demo};

/// Serves `store`'s API on `addr` until the runtime ends; the address bound.
async fn serve(store: Arc<Bank>, addr: &str) -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    // Certificates name the address the test reaches HQ at.
    creditbank::store::Store::set_public_url(store.as_ref(), &format!("http://{addr}"));
    let mut state = creditbank::AppState::new(store, "e2e-admin");
    // Hundreds of simulated sites enrol from this one address in a run.
    state.limits = std::sync::Arc::new(creditbank::http::limits::Limits::new(100_000, 6_000));
    let app =
        creditbank::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

/// A running credit bank.
pub struct Hq {
    /// `http://127.0.0.1:port`.
    pub url: String,
    /// Its address.
    pub addr: std::net::SocketAddr,
    /// Its store, for checks.
    pub store: Arc<Bank>,
    _dir: tempfile::TempDir,
}

impl Hq {
    /// Starts a credit bank with the seed catalogue on a free port (bound before serving).
    pub async fn start() -> anyhow::Result<Hq> {
        Self::start_on("127.0.0.1:0").await
    }

    /// Starts a credit bank on a given address (a link that "comes back").
    pub async fn start_on(addr: &str) -> anyhow::Result<Hq> {
        let dir = tempfile::tempdir()?;
        let store = Arc::new(Bank::open_for_tests(dir.path())?);
        store.publish_catalogue(&siteline_domain::seed::catalogue())?;
        let addr = serve(store.clone(), addr).await?;
        Ok(Hq {
            url: format!("http://{addr}"),
            addr,
            store,
            _dir: dir,
        })
    }

    /// Serves this same credit bank (its sites, devices and keys) on another address too: a
    /// link that comes back to the HQ a device already enrolled with.
    pub async fn also_on(&self, addr: &str) -> anyhow::Result<()> {
        serve(self.store.clone(), addr).await?;
        Ok(())
    }

    /// Creates a site and returns a one-time enrolment code for it.
    pub fn site(&self, code: &str) -> anyhow::Result<String> {
        self.store
            .create_site(code, &format!("{code} 家政培训站"), "44")?;
        Ok(self
            .store
            .issue_enrolment_code(code, chrono::Duration::days(7))?
            .code)
    }

    /// (rows, distinct seqs, max seq) HQ holds for a device.
    pub fn received(&self, device: uuid::Uuid) -> anyhow::Result<(i64, i64, i64)> {
        let q = |sql: &str| {
            self.store
                .query_i64_with(sql, &[creditbank::store::sql::Value::Uuid(device)])
        };
        Ok((
            q("SELECT count(*) FROM record WHERE device_id = ?1")?,
            q("SELECT count(DISTINCT seq) FROM record WHERE device_id = ?1")?,
            q("SELECT coalesce(max(seq), 0) FROM record WHERE device_id = ?1")?,
        ))
    }
}

/// A site device: its database file, key, sync engine and two staff accounts.
pub struct SiteNode {
    /// The folder holding `site.db`, `site.key` and `device.key`.
    pub dir: tempfile::TempDir,
    /// The database thread.
    pub db: Db,
    /// The sync engine.
    pub engine: Arc<Engine>,
    /// The site manager.
    pub manager: Actor,
    /// An instructor.
    pub instructor: Actor,
    /// The device id.
    pub device: uuid::Uuid,
}

/// Opens (or creates) a site database in `dir` and builds its sync engine for `url`.
pub async fn open_site(
    dir: &Path,
    url: &str,
    timeout: Duration,
    reuse: bool,
) -> anyhow::Result<(Db, Arc<Engine>, uuid::Uuid)> {
    let site = Site::open(&dir.join("site.db"))?;
    let device = outbox::device(site.conn())?.device_id;
    let identity = Arc::new(Identity::load_or_create(&dir.join("device.key"))?);
    let db = Db::from_site(site).await?;
    let mut cfg = ClientConfig::new(url);
    cfg.request_timeout = timeout;
    cfg.reuse_connections = reuse;
    let client = HqClient::new(&cfg, device, identity)?;
    let engine = Engine::new(db.clone(), client);
    Ok((db, engine, device))
}

/// Signs in the demo site's manager and instructor (`demo::staff`'s accounts).
async fn sign_in_staff(db: &Db) -> anyhow::Result<(Actor, Actor)> {
    Ok(db
        .call(|site| {
            let m = siteline_core::store::staff::sign_in(site.conn(), "manager", "manager-pass")?;
            let t = siteline_core::store::staff::sign_in(site.conn(), "teacher", "teacher-pass")?;
            Ok((m, t))
        })
        .await?)
}

impl SiteNode {
    /// A new site whose sync goes to `url` (HQ itself, or a proxy in front of it).
    pub async fn new(url: &str) -> anyhow::Result<SiteNode> {
        Self::with_timeout(url, Duration::from_secs(30), true).await
    }

    /// A new site with a given watchdog and connection reuse.
    pub async fn with_timeout(
        url: &str,
        timeout: Duration,
        reuse: bool,
    ) -> anyhow::Result<SiteNode> {
        let dir = tempfile::tempdir()?;
        {
            let mut site = Site::open(&dir.path().join("site.db"))?;
            demo::staff(&mut site)?;
        }
        let (db, engine, device) = open_site(dir.path(), url, timeout, reuse).await?;
        let (manager, instructor) = sign_in_staff(&db).await?;
        Ok(SiteNode {
            dir,
            db,
            engine,
            manager,
            instructor,
            device,
        })
    }

    /// Another device joining the site `site_code` at HQ: a blank store takes the site key by
    /// its recovery code, enrols with a new one-time code, syncs, and signs in with the
    /// accounts the site's first device made ("manager", "teacher"), which arrived by HQ.
    pub async fn join(hq: &Hq, site_code: &str, recovery: &str) -> anyhow::Result<SiteNode> {
        Self::join_via(hq, &hq.url, site_code, recovery).await
    }

    /// [`SiteNode::join`], with the device's sync going to `url` (a proxy in front of HQ).
    pub async fn join_via(
        hq: &Hq,
        url: &str,
        site_code: &str,
        recovery: &str,
    ) -> anyhow::Result<SiteNode> {
        let dir = tempfile::tempdir()?;
        {
            let mut site = Site::open(&dir.path().join("site.db"))?;
            siteline_core::store::site_key::join(&mut site, recovery)?;
        }
        let (db, engine, device) =
            open_site(dir.path(), url, Duration::from_secs(30), true).await?;
        let code = hq
            .store
            .issue_enrolment_code(site_code, chrono::Duration::days(7))?
            .code;
        let identity = Arc::new(Identity::load_or_create(&dir.path().join("device.key"))?);
        let client = HqClient::new(&ClientConfig::new(&hq.url), device, identity)?;
        engine::enrol(&db, &client, &hq.url, &code, "e2e joined").await?;
        engine.sync_once().await?;
        let (manager, instructor) = sign_in_staff(&db).await?;
        Ok(SiteNode {
            dir,
            db,
            engine,
            manager,
            instructor,
            device,
        })
    }

    /// The site key's recovery code, as the site manager prints it.
    pub async fn recovery_code(&self) -> anyhow::Result<String> {
        let m = self.manager;
        Ok(self
            .db
            .call(move |site| siteline_core::store::site_key::recovery_code(site, &m))
            .await?)
    }

    /// Enrols this device with HQ directly (not through any proxy).
    pub async fn enrol(&self, hq: &Hq, code: &str) -> anyhow::Result<()> {
        let identity = Arc::new(Identity::load_or_create(
            &self.dir.path().join("device.key"),
        )?);
        let client = HqClient::new(&ClientConfig::new(&hq.url), self.device, identity)?;
        engine::enrol(&self.db, &client, &hq.url, code, "e2e").await?;
        Ok(())
    }

    /// Registers people `from..from+n`.
    pub async fn learners(
        &self,
        from: u64,
        n: u64,
    ) -> anyhow::Result<Vec<siteline_domain::ids::LearnerId>> {
        let m = self.manager;
        Ok(self
            .db
            .call(move |site| {
                (from..from + n)
                    .map(|i| demo::register(site, &m, i))
                    .collect()
            })
            .await?)
    }

    /// Runs a whole cohort and claims it (see `demo::complete_cohort`).
    pub async fn complete(
        &self,
        pv: &'static str,
        learners: Vec<siteline_domain::ids::LearnerId>,
        theory: i64,
    ) -> anyhow::Result<()> {
        let (m, t) = (self.manager, self.instructor);
        self.db
            .call(move |site| {
                demo::complete_cohort(site, &m, &t, pv, &learners, theory).map(|_| ())
            })
            .await?;
        Ok(())
    }

    /// Operations recorded so far (the last seq used).
    pub async fn ops(&self) -> anyhow::Result<u64> {
        Ok(self
            .db
            .call(|site| Ok(outbox::device(site.conn())?.next_seq - 1))
            .await?)
    }

    /// Operations still waiting.
    pub async fn pending(&self) -> anyhow::Result<u64> {
        Ok(self
            .db
            .call(|site| Ok(outbox::pending_summary(site.conn())?.0))
            .await?)
    }

    /// The stored pull cursor.
    pub async fn cursor(&self) -> anyhow::Result<u64> {
        Ok(self.db.call(|site| engine::cursor(site)).await?)
    }

    /// Counts rows of a site table.
    pub async fn count(&self, table: &'static str) -> anyhow::Result<i64> {
        Ok(self
            .db
            .call(move |site| {
                Ok(site
                    .conn()
                    .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
            })
            .await?)
    }
}

/// A small deterministic generator for seeded tests (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded; any seed (0 is mapped to a fixed non-zero state).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}
