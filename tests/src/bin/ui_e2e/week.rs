//! A week's work at a site beyond the first day: a class imported from Excel, a cohort's
//! lifecycle, a learner's and a cohort's details corrected, consent withdrawn and personal
//! data erased.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, Locator};
use siteline_e2e::webdriver::{
    click, confirm, el, inner_text, no_overlay, shot, text_becomes, type_in,
};

/// The cohort's life from the screen: started, closed after a confirmation, reopened by the
/// site manager with a reason that its history then shows.
pub async fn cohort_lifecycle(c: &Client, shots: &Option<PathBuf>) -> Result<u32> {
    click(c, "nav-cohorts").await?;
    click(c, "cohort-link").await?;
    text_becomes(c, "cohort-status", "筹备中").await?;
    click(c, "cohort-start").await?;
    text_becomes(c, "cohort-status", "进行中").await?;
    click(c, "cohort-close").await?;
    confirm(c).await?;
    no_overlay(c).await?;
    text_becomes(c, "cohort-status", "已结业").await?;
    click(c, "cohort-reopen").await?;
    type_in(c, "reopen-reason", "两名学员补交了出勤证明").await?;
    click(c, "reopen-save").await?;
    no_overlay(c).await?;
    text_becomes(c, "cohort-status", "进行中").await?;
    text_becomes(c, "cohort-history", "两名学员补交了出勤证明").await?;
    text_becomes(c, "cohort-history", "李站长").await?;
    shot(c, shots, "18-cohort-reopened").await?;
    Ok(1)
}

/// Mistakes corrected from the screen: 张秀英's new mobile number (a form opened before
/// another change is refused as stale, nothing written), and the cohort's dates and places; both
/// show the change in their history, with who made it on which laptop.
pub async fn corrections(c: &Client, shots: &Option<PathBuf>, db: &Path) -> Result<u32> {
    click(c, "nav-learners").await?;
    type_in(c, "learner-search", "张秀英").await?;
    click(c, "learner-search-go").await?;
    text_becomes(c, "learner-results", "张秀英").await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//*[@data-testid='learner-results']//a[contains(., '张秀英')]",
        ))
        .await?
        .click()
        .await?;
    text_becomes(c, "profile-name", "张秀英").await?;
    // The form is opened; meanwhile the learner changes (as a sync from another laptop
    // would): saving the form is refused, in Chinese, and writes nothing.
    click(c, "learner-edit").await?;
    let id = c
        .execute("return location.hash.split('/').pop();", vec![])
        .await?;
    let id = id
        .as_str()
        .context("the profile's address names the learner")?;
    let site = siteline_core::Site::open(db)?;
    let version: u32 = site.conn().query_row(
        "SELECT version FROM learner WHERE name = '张秀英'",
        [],
        |r| r.get(0),
    )?;
    drop(site);
    c.execute(
        "return window.__TAURI_INTERNALS__.invoke('edit_learner', { learner: arguments[0], edit: { name: '张秀英', phone: '13900139001', version: arguments[1] } });",
        vec![serde_json::json!(id), serde_json::json!(version)],
    )
    .await?;
    type_in(c, "edit-phone", "13900139000").await?;
    click(c, "edit-save").await?;
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let shown = c
            .execute(
                "return Array.from(document.querySelectorAll('.el-message--error')).map(e => e.innerText).join(' | ');",
                vec![],
            )
            .await?;
        if shown
            .as_str()
            .is_some_and(|s| s.contains("打开后此记录已被修改"))
        {
            break;
        }
        if Instant::now() > end {
            bail!("a stale edit was not refused on screen (errors shown: {shown})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.execute(
        "document.querySelector('.el-dialog__headerbtn').click();",
        vec![],
    )
    .await?;
    no_overlay(c).await?;
    // Opened again on what the learner holds now, the change is saved.
    c.refresh().await?;
    text_becomes(c, "profile-name", "张秀英").await?;
    click(c, "learner-edit").await?;
    type_in(c, "edit-phone", "13900139000").await?;
    click(c, "edit-save").await?;
    no_overlay(c).await?;
    text_becomes(c, "learner-changes", "139****9000").await?;
    text_becomes(c, "learner-changes", "李站长 · 本机").await?;
    text_becomes(c, "learner-changes", "139****9001").await?;
    shot(c, shots, "20-learner-edited").await?;
    // The cohort's dates and places.
    click(c, "nav-cohorts").await?;
    click(c, "cohort-link").await?;
    click(c, "cohort-edit").await?;
    let range = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".el-dialog .el-range-input"))
        .await?;
    range.click().await?;
    let inputs = c
        .find_all(Locator::Css(".el-dialog .el-range-input"))
        .await?;
    let (start, end) = (
        chrono::NaiveDate::from_ymd_opt(2027, 3, 1).context("a date")?,
        chrono::NaiveDate::from_ymd_opt(2027, 5, 31).context("a date")?,
    );
    // Both days typed, then Enter once: the range is taken as a pair.
    for (input, day, enter) in [(&inputs[0], start, ""), (&inputs[1], end, "\u{E007}")] {
        input.click().await?;
        input.send_keys("\u{E009}a\u{E000}\u{E003}").await.ok();
        input.send_keys(&format!("{day}{enter}")).await?;
    }
    type_in(c, "cohort-edit-capacity", "45\u{E007}").await?;
    click(c, "cohort-edit-save").await?;
    no_overlay(c).await?;
    text_becomes(c, "cohort-changes", &format!("起止日期：{start} – {end}")).await?;
    text_becomes(c, "cohort-changes", "名额：45").await?;
    shot(c, shots, "21-cohort-edited").await?;
    Ok(1)
}

/// A level-2 (技师) cohort adds the comprehensive review (综合评审): its assessment screen has
/// the review's score, saved like the others and shown in the cohort's progress table. (The
/// cohort and its learner are set up through the app's own commands; the review is entered on
/// the screen.)
pub async fn level_two_review(c: &Client, shots: &Option<PathBuf>) -> Result<u32> {
    let ids = c
        .execute_async(
            "const [idNumber, done] = arguments;
             const invoke = window.__TAURI_INTERNALS__.invoke;
             (async () => {
               const cohort = await invoke('create_cohort', { new: {
                 programme_version_id: 'elderly_care-L2-v1', name: '2026年第1期养老护理员（二级）班',
                 start_date: '2026-12-01', end_date: '2027-02-28', capacity: 20, instructors: [] } });
               const learner = await invoke('register_learner', { new: {
                 name: '周桂兰', id_type: 'resident_id', id_number: idNumber, phone: null,
                 consents: [{ purpose: 'credit_bank', granted: true }] } });
               const enrolment = await invoke('enrol_learner', { cohort: cohort.id, learner: learner.id });
               done([cohort.id, enrolment]);
             })().catch((e) => done(String(JSON.stringify(e))));",
            vec![serde_json::json!(siteline_core::demo::resident_id(830_000))],
        )
        .await?;
    let (Some(cohort), Some(enrolment)) = (ids[0].as_str(), ids[1].as_str()) else {
        bail!("setting up the level-2 cohort failed: {ids}");
    };
    open_route(c, &format!("/assess/{cohort}/{enrolment}")).await?;
    text_becomes(c, "assess-learner", "周桂兰").await?;
    type_in(c, "review-score", "82\u{E007}").await?;
    click(c, "review-save").await?;
    text_becomes(c, "attempts", "综合评审 #1").await?;
    text_becomes(c, "attempts", "82").await?;
    shot(c, shots, "24-review-level-2").await?;
    open_route(c, &format!("/cohorts/{cohort}")).await?;
    text_becomes(c, "review-周桂兰", "82").await?;
    Ok(1)
}

/// Opens a screen of the app by its route (`/cohorts/…`), as a link to it would.
async fn open_route(c: &Client, route: &str) -> Result<()> {
    let url = c.current_url().await?;
    let base = url.as_str().split('#').next().unwrap_or_default();
    c.goto(&format!("{base}#{route}")).await?;
    Ok(())
}

/// A learner withdraws consent to the credit bank, then asks for her personal data to be
/// erased: both from her profile, each with its warning; the history shows the withdrawal,
/// the profile says the data is gone, and the store can no longer open her ID number.
pub async fn consent_and_erasure(c: &Client, shots: &Option<PathBuf>, db: &Path) -> Result<u32> {
    click(c, "nav-learners").await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid='learner-results'] a"))
        .await?
        .click()
        .await?;
    let name = inner_text(c, "profile-name").await?.trim().to_string();
    text_becomes(c, "consent-credit_bank", "已同意").await?;
    click(c, "consent-withdraw-credit_bank").await?;
    confirm(c).await?;
    no_overlay(c).await?;
    text_becomes(c, "consent-credit_bank", "未同意").await?;
    text_becomes(c, "consent-history", "撤回或不同意").await?;
    click(c, "learner-erase").await?;
    let input = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".el-message-box__input input"))
        .await?;
    input.send_keys(&name).await?;
    confirm(c).await?;
    no_overlay(c).await?;
    text_becomes(c, "profile-erased", "个人信息已删除").await?;
    shot(c, shots, "19-consent-erased").await?;
    let site = siteline_core::Site::open(db)?;
    let shredded: i64 = site.conn().query_row(
        "SELECT count(*) FROM learner_key k JOIN learner l ON l.id = k.learner_id
          WHERE l.name = ?1 AND k.wrapped_key IS NULL",
        [&name],
        |r| r.get(0),
    )?;
    if shredded != 1 {
        bail!("{name}'s data key was not destroyed ({shredded} shredded)");
    }
    Ok(1)
}

/// Bulk import (批量导入): save the template from the app, fill in a class of 40 with two bad
/// rows (a check digit typed wrong, one person twice), import it into the new cohort: 38
/// imported and enrolled, each bad row refused with its reason, nothing else written.
pub async fn bulk_import(
    c: &Client,
    shots: &Option<PathBuf>,
    home: &Path,
    db: &Path,
) -> Result<u32> {
    let dir = home.join("import");
    click(c, "nav-learners").await?;
    click(c, "learner-import").await?;
    // The dialog has looked up its default folder before ours is typed over it.
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        // (Element Plus puts the test id on the <input> itself.)
        let value = el(c, "import-template-dir")
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        if !value.is_empty() {
            break;
        }
        if Instant::now() > end {
            bail!("the import dialog offered no folder for the template");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    type_in(c, "import-template-dir", &dir.display().to_string()).await?;
    click(c, "import-template-save").await?;
    // The template lands in the folder, and its first row is the header to fill in under.
    let template = dir.join("学员批量导入模板.xlsx");
    let end = Instant::now() + Duration::from_secs(10);
    while !template.exists() {
        let shown = c
            .execute(
                "return Array.from(document.querySelectorAll('.el-message')).map(e => e.innerText).join(' | ');",
                vec![],
            )
            .await?;
        if Instant::now() > end {
            bail!(
                "the template was not saved to {} (messages on screen: {shown})",
                template.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&template)?;
    use calamine::Reader;
    let header = book
        .worksheet_range_at(0)
        .context("the template has a sheet")??;
    let first: Vec<String> = header
        .rows()
        .next()
        .unwrap_or_default()
        .iter()
        .map(|c| c.to_string())
        .collect();
    if first != siteline_core::store::import::COLUMNS {
        bail!("the template's header reads {first:?}");
    }
    // The instructor's class: rows 2–41, row 6 with a wrong check digit, row 31 the same
    // person as row 11 under another name.
    let mut class = rust_xlsxwriter::Workbook::new();
    let sheet = class.add_worksheet();
    for (i, title) in siteline_core::store::import::COLUMNS.iter().enumerate() {
        sheet.write_string(0, i as u16, *title)?;
    }
    for i in 0..40u32 {
        let n = 820_000 + u64::from(i);
        let (name, mut id) = (
            siteline_core::demo::name(n),
            siteline_core::demo::resident_id(n),
        );
        if i == 4 {
            let last = if id.ends_with('1') { "2" } else { "1" };
            id.replace_range(17..18, last);
        }
        if i == 29 {
            id = siteline_core::demo::resident_id(820_009);
        }
        let row = i + 1;
        sheet.write_string(row, 0, &name)?;
        sheet.write_string(row, 1, "居民身份证")?;
        sheet.write_string(row, 2, &id)?;
        sheet.write_string(row, 3, siteline_core::demo::mobile(n))?;
        sheet.write_string(row, 4, "是")?;
    }
    let file = dir.join("第5期学员.xlsx");
    class.save(&file)?;
    type_in(c, "import-file", &file.display().to_string()).await?;
    click(c, "import-cohort").await?;
    el(c, "import-cohort-2026年第5期母婴护理员班").await?;
    c.execute(
        "document.querySelector(`[data-testid='import-cohort-2026年第5期母婴护理员班']`).click();",
        vec![],
    )
    .await?;
    click(c, "import-run").await?;
    text_becomes(c, "import-summary", "已导入 38 人，2 行未导入").await?;
    text_becomes(c, "import-refused-6", "证件号码：校验位不符").await?;
    text_becomes(c, "import-refused-31", "与第 11 行证件号码相同").await?;
    shot(c, shots, "16-import").await?;
    c.execute(
        "document.querySelector('.el-dialog__headerbtn').click();",
        vec![],
    )
    .await?;
    no_overlay(c).await?;
    // The list now holds the 38 and the learner enrolled by hand.
    text_becomes(c, "learner-total", "共 39 人").await?;
    shot(c, shots, "17-learners").await?;
    let site = siteline_core::Site::open(db)?;
    let enrolled: i64 = site.conn().query_row(
        "SELECT count(*) FROM enrolment e JOIN cohort c ON c.id = e.cohort_id
          WHERE c.name = '2026年第5期母婴护理员班'",
        [],
        |r| r.get(0),
    )?;
    if enrolled != 39 {
        bail!("expected 39 learners in the cohort after the import, found {enrolled}");
    }
    Ok(1)
}

/// Opens a cohort's report from the review, as the site manager does.
pub async fn open_report(c: &Client, cohort: &str) -> Result<()> {
    click(c, "nav-review").await?;
    click(c, &format!("review-cohort-{cohort}")).await
}

/// Submits the claims of the report on screen, confirmed, syncs, and opens the report again.
async fn claim_and_sync(c: &Client, cohort: &str) -> Result<()> {
    click(c, "submit-claims").await?;
    confirm(c).await?;
    no_overlay(c).await?;
    sync_now(c).await?;
    open_report(c, cohort).await
}

/// Syncs from the sync centre and waits until nothing is left to send.
async fn sync_now(c: &Client) -> Result<()> {
    click(c, "nav-sync").await?;
    click(c, "sync-now").await?;
    text_becomes(c, "sync-pending", "0").await?;
    text_becomes(c, "sync-badge", "空闲").await?;
    Ok(())
}

/// A claim HQ sends back for more information, put right and claimed again from the screen.
/// A second laptop joins the site with the recovery code and runs a class to the end; this
/// laptop syncs and sees the learner passed. She withdraws her consent to the credit bank at
/// the other laptop, which syncs, while the manager here, not yet told, claims her: HQ answers
/// that it needs her consent. She consents again, the manager claims her again, and HQ
/// accredits the new claim, which names the one it replaces.
pub async fn reclaim_after_needs_info(
    c: &Client,
    shots: &Option<PathBuf>,
    hq: &siteline_e2e::Hq,
    db: &Path,
) -> Result<u32> {
    use siteline_core::store::learners::{self, ConsentInput, ConsentPurpose};
    let recovery = {
        let mut site = siteline_core::Site::open(db)?;
        let manager = siteline_core::store::staff::sign_in(site.conn(), "manager", "manager-pass")?;
        siteline_core::store::site_key::recovery_code(&mut site, &manager)?
    };
    let other = siteline_e2e::SiteNode::join(hq, "GD-SZ-E2E", &recovery).await?;
    let (m, t) = (other.manager, other.instructor);
    let (learner, cohort) = other
        .db
        .call(move |site| {
            let learner = siteline_core::demo::register(site, &m, 840_213)?;
            let (cohort, _) = siteline_core::demo::run_cohort(
                site,
                &m,
                &t,
                "housekeeping-L5-v1",
                &[learner],
                85,
            )?;
            let name: String =
                site.conn()
                    .query_row("SELECT name FROM cohort WHERE id = ?1", [cohort], |r| {
                        r.get(0)
                    })?;
            Ok((learner, name))
        })
        .await?;
    other.engine.sync_once().await?;
    let name = siteline_core::demo::name(840_213);
    sync_now(c).await?;
    open_report(c, &cohort).await?;
    text_becomes(c, &format!("report-status-{name}"), "合格").await?;
    // Withdrawn at the other laptop, which syncs; this one has not heard of it.
    other
        .db
        .call(move |site| {
            learners::record_consent(
                site,
                &m,
                learner,
                ConsentInput {
                    purpose: ConsentPurpose::CreditBank,
                    granted: false,
                },
            )
        })
        .await?;
    other.engine.sync_once().await?;
    claim_and_sync(c, &cohort).await?;
    text_becomes(c, &format!("report-hq-{name}"), "需补充材料").await?;
    // Her profile says what HQ needs, and that her consent is withdrawn.
    click(c, &format!("learner-link-{name}")).await?;
    text_becomes(c, "profile-credits", "需补充材料").await?;
    text_becomes(c, "profile-credits", "撤回同意").await?;
    text_becomes(c, "consent-credit_bank", "未同意").await?;
    shot(c, shots, "27-claim-needs-info").await?;
    // She consents again; the manager claims her again; HQ accredits it.
    click(c, "consent-give-credit_bank").await?;
    text_becomes(c, "consent-credit_bank", "已同意").await?;
    no_overlay(c).await?;
    c.back().await?;
    text_becomes(c, &format!("report-hq-{name}"), "需补充材料").await?;
    claim_and_sync(c, &cohort).await?;
    text_becomes(c, &format!("report-hq-{name}"), "已认定").await?;
    shot(c, shots, "28-reclaimed").await?;
    click(c, &format!("learner-link-{name}")).await?;
    text_becomes(c, "profile-credits", "已认定").await?;
    Ok(1)
}
