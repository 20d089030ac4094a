//! The UI test of LAN sync: two instances of the real app, each with its own database, two
//! laptops of one site. A credit bank enrols both (the first laptop sets up the site and a
//! cohort with a session today; the second joins with the site key's recovery code) and is
//! then stopped. With no credit bank running, the site manager registers a learner on the
//! first laptop, enrols her and marks her present; on the second laptop the manager finds the
//! first on the Site devices screen (mDNS) and syncs with it; the learner and the mark are
//! there.
//!
//! `ui_lan <app binary> [screenshot folder]`; prints `ui-lan: N passed, 0 failed` at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fantoccini::{Client, Locator};
use siteline_core::store::cohorts::{self, NewCohort, NewSession};
use siteline_e2e::webdriver::{
    click, el, free_port, launch, no_overlay, open_tab, shot, text_becomes, type_in,
};
use siteline_e2e::{Hq, SiteNode};

/// Sets up two laptops of one site with a credit bank that is gone when this returns: their
/// data folders end up in `a` and `b`.
fn seed(a: &Path, b: &Path) -> Result<()> {
    let (a, b) = (a.to_path_buf(), b.to_path_buf());
    std::thread::spawn(move || -> Result<()> {
        // HQ runs on this runtime only: dropping it at the end of the thread stops HQ.
        let rt = tokio::runtime::Runtime::new()?;
        rt.block_on(async {
            let hq = Hq::start().await?;
            let code = hq.site("GD-SZ-001")?;
            let first = SiteNode::new(&hq.url).await?;
            first.enrol(&hq, &code).await?;
            let (m, t) = (first.manager, first.instructor);
            first
                .db
                .call(move |site| {
                    let today = chrono::Local::now().date_naive();
                    let cohort = cohorts::create(
                        site,
                        &m,
                        &NewCohort {
                            programme_version_id: "maternity-L5-v1".into(),
                            name: "2026年第6期母婴护理员班".into(),
                            start_date: today,
                            end_date: today + chrono::Days::new(60),
                            capacity: 40,
                            instructors: vec![t.id],
                        },
                    )?;
                    let starts_at = chrono::Utc::now() - chrono::Duration::minutes(30);
                    cohorts::schedule_session(
                        site,
                        &t,
                        cohort,
                        &NewSession {
                            unit_id: None,
                            starts_at,
                            ends_at: starts_at + chrono::Duration::hours(3),
                            instructor_id: None,
                        },
                    )?;
                    Ok(())
                })
                .await?;
            first.engine.sync_once().await?;
            let recovery = first.recovery_code().await?;
            let second = SiteNode::join(&hq, "GD-SZ-001", &recovery).await?;
            for (node, to) in [(first, &a), (second, &b)] {
                let SiteNode {
                    dir, db, engine, ..
                } = node;
                drop(engine);
                // The database thread checkpoints and closes when its last handle goes.
                db.call(|site| {
                    site.conn()
                        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
                    Ok(())
                })
                .await?;
                drop(db);
                std::fs::create_dir_all(to)?;
                for name in ["site.db", "site.key", "device.key"] {
                    std::fs::copy(dir.path().join(name), to.join(name))
                        .with_context(|| format!("copying {name}"))?;
                }
            }
            anyhow::Ok(())
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("seeding the laptops panicked"))?
}

/// Signs in as the site manager. Typed into a sign-in form that a just-started window was
/// still laying out, a field can lose its text (seen once in CI: the manager never signed in);
/// the form is then still there and is filled in again, once.
async fn sign_in_as_manager(c: &Client) -> Result<()> {
    for attempt in 1..=2 {
        type_in(c, "signin-username", "manager").await?;
        type_in(c, "signin-password", "manager-pass").await?;
        click(c, "signin-submit").await?;
        match text_becomes(c, "me", "李站长").await {
            Ok(()) => return Ok(()),
            Err(e)
                if attempt == 1
                    && c.find(Locator::Css("[data-testid='signin-submit']"))
                        .await
                        .is_ok() =>
            {
                eprintln!("the manager is not signed in yet ({e:#}); filling in the form again");
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns on its second attempt")
}

/// The card of today's session, with its text.
async fn today_card(c: &Client) -> Result<String> {
    click(c, "nav-today").await?;
    el(c, "today-session").await?;
    Ok(c.find(Locator::Css("[data-testid='today-session']"))
        .await?
        .text()
        .await?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let app = PathBuf::from(
        args.next()
            .context("usage: ui_lan <app binary> [screenshot dir]")?,
    );
    let shots = args.next().map(PathBuf::from);
    if let Some(d) = &shots {
        std::fs::create_dir_all(d)?;
    }
    let app = std::fs::canonicalize(&app)
        .with_context(|| format!("the app {} is not built", app.display()))?;
    let (home_a, home_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    seed(home_a.path(), home_b.path())?;
    let device_a = siteline_core::store::outbox::device(
        siteline_core::Site::open(&home_a.path().join("site.db"))?.conn(),
    )?
    .device_id;
    let addr_a = format!("127.0.0.1:{}", free_port());
    let (driver_a, a) = launch(
        &app,
        home_a.path(),
        &[("SITELINE_LAN_ADDR", addr_a.clone())],
    )
    .await?;
    let (driver_b, b) = launch(
        &app,
        home_b.path(),
        &[("SITELINE_LAN_ADDR", format!("127.0.0.1:{}", free_port()))],
    )
    .await?;
    let result = scenario(&a, &b, &addr_a, device_a, &shots).await;
    if result.is_err() {
        let dir = shots.clone().unwrap_or_else(std::env::temp_dir);
        for (name, c) in [("lan-failure-a", &a), ("lan-failure-b", &b)] {
            let _ = shot(c, &Some(dir.clone()), name).await;
        }
    }
    let _ = a.close().await;
    let _ = b.close().await;
    drop(driver_a);
    drop(driver_b);
    match result {
        Ok(steps) => {
            println!("ui-lan: {steps} passed, 0 failed");
            Ok(())
        }
        Err(e) => {
            println!("ui-lan: 0 passed, 1 failed");
            Err(e)
        }
    }
}

async fn scenario(
    a: &Client,
    b: &Client,
    addr_a: &str,
    device_a: uuid::Uuid,
    shots: &Option<PathBuf>,
) -> Result<u32> {
    let mut steps = 0;
    let name = "赵雪梅";
    // Laptop A: the site manager signs in, registers a learner, enrols her and marks her
    // present in today's session. No credit bank is running.
    sign_in_as_manager(a).await?;
    click(a, "nav-learners").await?;
    click(a, "learner-new").await?;
    type_in(a, "learner-name", name).await?;
    type_in(a, "learner-id", &siteline_core::demo::resident_id(4242)).await?;
    text_becomes(a, "id-check", "✓").await?;
    click(a, "learner-save").await?;
    text_becomes(a, "learner-results", name).await?;
    no_overlay(a).await?;
    click(a, "nav-cohorts").await?;
    click(a, "cohort-link").await?;
    open_tab(a, "学员名单").await?;
    type_in(a, "roster-search", name).await?;
    click(a, "roster-search-go").await?;
    click(a, &format!("enrol-{name}")).await?;
    no_overlay(a).await?;
    click(a, "nav-today").await?;
    click(a, "start-roll").await?;
    click(a, &format!("present-{name}")).await?;
    text_becomes(a, &format!("roll-status-{name}"), "出勤").await?;
    click(a, "nav-devices").await?;
    text_becomes(a, "lan-address", addr_a).await?;
    steps += 1;
    // Laptop B: the manager has never seen her; one LAN sync with A brings her and the mark.
    sign_in_as_manager(b).await?;
    let before = today_card(b).await?;
    if !before.contains("0/0") {
        anyhow::bail!("laptop B already shows a marked roll: {before:?}");
    }
    click(b, "nav-devices").await?;
    // B finds A on the network (mDNS) and syncs with it in one click; typing the address is
    // the fallback.
    click(b, "lan-discover").await?;
    click(
        b,
        &format!("lan-found-{}", &device_a.simple().to_string()[24..]),
    )
    .await?;
    text_becomes(b, "lan-result", "GD-SZ-001").await?;
    // B answers LAN syncs too: its own address is on the screen.
    el(b, "lan-address").await?;
    shot(b, shots, "15-site-devices").await?;
    click(b, "nav-learners").await?;
    type_in(b, "learner-search", &format!("{name}\u{E007}")).await?;
    text_becomes(b, "learner-results", name).await?;
    steps += 1;
    let card = today_card(b).await?;
    if !card.contains("1/1") {
        anyhow::bail!("laptop B's session card shows {card:?}, not the mark taken on A");
    }
    steps += 1;
    // On B her mobile number is corrected; A takes B's address from B's QR code (a scanner
    // types the code's link into the address box and presses Enter) and gets the change, with
    // the laptop it was made on in her history.
    click(b, "nav-learners").await?;
    type_in(b, "learner-search", &format!("{name}\u{E007}")).await?;
    text_becomes(b, "learner-results", name).await?;
    b.find(Locator::XPath(&format!(
        "//*[@data-testid='learner-results']//a[contains(., '{name}')]"
    )))
    .await?
    .click()
    .await?;
    click(b, "learner-edit").await?;
    type_in(b, "edit-phone", "13911112222").await?;
    click(b, "edit-save").await?;
    no_overlay(b).await?;
    text_becomes(b, "learner-changes", "139****2222").await?;
    click(b, "nav-devices").await?;
    let payload = el(b, "lan-qr")
        .await?
        .attr("data-payload")
        .await?
        .context("B's QR code holds its address")?;
    if !payload.starts_with("siteline-lan://127.0.0.1:") {
        anyhow::bail!("B's QR code holds {payload:?}");
    }
    click(a, "nav-devices").await?;
    type_in(a, "lan-peer", &format!("{payload}\u{E007}")).await?;
    text_becomes(a, "lan-result", "GD-SZ-001").await?;
    click(a, "nav-learners").await?;
    type_in(a, "learner-search", &format!("{name}\u{E007}")).await?;
    text_becomes(a, "learner-results", "139****2222").await?;
    a.find(Locator::XPath(&format!(
        "//*[@data-testid='learner-results']//a[contains(., '{name}')]"
    )))
    .await?
    .click()
    .await?;
    text_becomes(a, "learner-changes", "139****2222").await?;
    text_becomes(a, "learner-changes", "设备").await?;
    steps += 1;
    Ok(steps)
}
