//! The end-to-end UI test: drives the real Siteline app (built with its UI embedded) in a real
//! WebKit window through WebDriver (`tauri-driver` + WebKitWebDriver), normally under Xvfb:
//! first run → create the manager → add an instructor → enrol a learner → roll call →
//! practical assessment → the learner shows as passed. It also measures cold start and idle
//! memory, and saves screenshots of each screen.
//!
//! `ui_e2e <app binary> [screenshot folder]`; prints `ui: N passed, 0 failed` at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, Locator};
use siteline_e2e::webdriver::{
    click, confirm, el, inner_text, launch, no_overlay, open_tab, shot, text_becomes, text_is,
    type_in,
};

mod week;
mod window;

use week::{
    bulk_import, cohort_lifecycle, consent_and_erasure, corrections, level_two_review, open_report,
    reclaim_after_needs_info,
};
use window::{fits, memory};

/// The learner's certificate: on her profile with its standing, printed on A4 with the QR code
/// of HQ's verify page; the QR's link opened in a real browser (as a phone's camera opens it)
/// shows it valid. HQ reverses the credits: after a sync the profile says revoked, and the
/// same link shows it revoked.
async fn certificate(
    c: &Client,
    shots: &Option<PathBuf>,
    hq: &siteline_e2e::Hq,
    cohort: &str,
    passed: &str,
) -> Result<()> {
    text_becomes(c, "certificate-status", "有效").await?;
    click(c, "certificate-print").await?;
    text_becomes(c, "print-title", "职业技能等级证书").await?;
    text_becomes(c, "certificate-name", passed).await?;
    text_becomes(c, "certificate-code", "查验码").await?;
    let number = inner_text(c, "certificate-print-number").await?;
    let link = el(c, "certificate-qr")
        .await?
        .attr("data-payload")
        .await?
        .context("the QR code's link")?;
    if !link.starts_with(&format!("{}/verify?n={number}&c=", hq.url)) {
        bail!("the printed QR code holds {link}, not HQ's verify page for {number}");
    }
    shot(c, shots, "25-print-certificate").await?;
    let browser = siteline_e2e::webdriver::chromium().await?;
    let page = &browser.client;
    let link = &link;
    let outcome = |want: &'static str| async move {
        page.goto(link).await?;
        let result = page
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("#result[data-outcome]"))
            .await?;
        let got = result.attr("data-outcome").await?.unwrap_or_default();
        if got != want {
            bail!(
                "HQ's verify page says {got}, expected {want}: {}",
                result.text().await?
            );
        }
        anyhow::Ok(result.text().await?)
    };
    let text = outcome("valid").await?;
    if !text.contains(passed) || !text.contains("有效") {
        bail!("the verify page does not show {passed}'s valid certificate: {text}");
    }
    if let Some(dir) = shots {
        std::fs::write(dir.join("26-verify-page.png"), page.screenshot().await?)?;
    }
    // HQ reverses the credits of that certificate.
    let posting = hq.store.query_i64_with(
        "SELECT p.id FROM credit_posting p JOIN certificate c ON c.decision_id = p.decision_id
          WHERE c.number = ?1 AND p.reverses IS NULL",
        &[creditbank::store::sql::Value::Text(number.clone())],
    )?;
    creditbank::store::Store::reverse_posting(hq.store.as_ref(), posting, "考核记录经复核不实")?;
    click(c, "nav-sync").await?;
    click(c, "sync-now").await?;
    text_becomes(c, "sync-badge", "空闲").await?;
    open_report(c, cohort).await?;
    click(c, &format!("learner-link-{passed}")).await?;
    text_becomes(c, "certificate-status", "已撤销").await?;
    text_becomes(c, &format!("certificate-{number}"), "考核记录经复核不实").await?;
    let text = outcome("revoked").await?;
    if !text.contains("考核记录经复核不实") {
        bail!("the verify page does not say why the certificate was revoked: {text}");
    }
    Ok(())
}

/// The site manager's side: sign in, review the finished demo cohort with its passed
/// learner, export it to Excel (and check the file), submit the claims, enrol with a real
/// credit bank and sync, and see the learner's credits come back.
async fn manager_review(
    c: &Client,
    shots: &Option<PathBuf>,
    hq: &siteline_e2e::Hq,
    home: &Path,
) -> Result<u32> {
    let mut steps = 0;
    let cohort = "2026年第3期家务服务员(五级)班";
    let passed = "王秀英";
    // A site manager signs in.
    click(c, "sign-out").await?;
    type_in(c, "signin-username", "manager").await?;
    type_in(c, "signin-password", "manager-pass").await?;
    click(c, "signin-submit").await?;
    text_becomes(c, "me", "李站长").await?;
    // The review: the finished cohort with its counts and charts.
    click(c, "nav-review").await?;
    text_becomes(c, "review-table", cohort).await?;
    // The learner who passed on scores but attended too little is counted apart.
    text_is(c, &format!("review-short-{cohort}"), "1").await?;
    el(c, "chart-attendance").await?;
    el(c, "chart-programme").await?;
    el(c, "chart-unit").await?;
    shot(c, shots, "09-review").await?;
    click(c, &format!("review-cohort-{cohort}")).await?;
    text_is(c, &format!("report-status-{passed}"), "合格").await?;
    // The learner who passed on scores but missed a third of the sessions has not passed.
    let short = siteline_core::demo::name(710_010);
    text_is(c, &format!("report-status-{short}"), "考核合格 · 出勤不足").await?;
    text_becomes(c, "report-table", "不合格").await?;
    steps += 1;
    // Export to Excel: the file opens and holds the cohort's rows, masked IDs only.
    let out = home.join("exports");
    type_in(c, "export-dir", &out.display().to_string()).await?;
    click(c, "export-xlsx").await?;
    text_becomes(c, "export-path", ".xlsx").await?;
    let shown = inner_text(c, "export-path").await?;
    let path = shown
        .split_once(['：', ':'])
        .map(|(_, p)| p.trim().to_string())
        .context("the export path is shown")?;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path)
        .with_context(|| format!("opening the exported workbook {path}"))?;
    use calamine::Reader;
    let sheet = book.worksheet_range("培训进度")?;
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|x| x.to_string()).collect())
        .collect();
    if rows.len() != 14 || rows[1][0] != "姓名" {
        bail!(
            "the workbook has {} rows, header {:?}",
            rows.len(),
            rows.get(1)
        );
    }
    let line = rows
        .iter()
        .find(|r| r[0] == passed)
        .context("the passed learner's row is in the workbook")?;
    if line[9] != "合格" || !line[1].contains('*') {
        bail!("the passed learner's row reads {line:?}");
    }
    let full_id = siteline_core::demo::resident_id(710_000);
    if rows.concat().iter().any(|cell| cell.contains(&full_id)) {
        bail!("the workbook holds a full ID number");
    }
    click(c, "export-html").await?;
    text_becomes(c, "export-path", ".html").await?;
    shot(c, shots, "10-cohort-report").await?;
    steps += 1;
    // The outcome claims go to HQ with the next sync.
    click(c, "submit-claims").await?;
    confirm(c).await?;
    no_overlay(c).await?;
    // Enrol with a real credit bank and sync.
    let code = hq.site("GD-SZ-E2E")?;
    click(c, "nav-sync").await?;
    type_in(c, "hq-url", &hq.url).await?;
    type_in(c, "hq-code", &code).await?;
    click(c, "hq-enrol").await?;
    text_becomes(c, "sync-site", "GD-SZ-E2E").await?;
    click(c, "sync-now").await?;
    text_is(c, "sync-pending", "0").await?;
    text_becomes(c, "sync-badge", "空闲").await?;
    shot(c, shots, "11-sync-centre").await?;
    steps += 1;
    // HQ's decision and credits are back on the cohort table and the learner's profile.
    open_report(c, cohort).await?;
    text_is(c, &format!("report-hq-{passed}"), "已认定").await?;
    // Printed from the app: the report laid out for A4, with HQ's decisions on it.
    click(c, "print-report").await?;
    text_becomes(c, "print-title", "学员培训进度表").await?;
    text_is(c, &format!("print-status-{short}"), "考核合格 · 出勤不足").await?;
    text_becomes(c, "print-table", "已认定").await?;
    el(c, "print-now").await?;
    shot(c, shots, "22-print-cohort").await?;
    c.back().await?;
    click(c, &format!("learner-link-{passed}")).await?;
    text_becomes(c, "profile-credits", "CB").await?;
    text_is(c, "profile-credit-total", "6.0").await?;
    text_becomes(c, "profile-credits", "已认定").await?;
    shot(c, shots, "12-learner-credits").await?;
    // The learner's record, printed: her programme's result and the credit bank's account.
    click(c, "learner-print").await?;
    text_becomes(c, "print-title", &format!("学员培训记录 · {passed}")).await?;
    text_becomes(c, "print-table", "合格").await?;
    shot(c, shots, "23-print-learner").await?;
    c.back().await?;
    steps += 1;
    certificate(c, shots, hq, cohort, passed).await?;
    steps += 1;
    // Backups: back up now into a chosen folder; it is listed when it is the backup folder.
    click(c, "nav-settings").await?;
    open_tab(c, "备份").await?;
    text_becomes(c, "backup-folder", "backups").await?;
    click(c, "backup-now").await?;
    text_becomes(c, "backup-list", "manual").await?;
    shot(c, shots, "13-backups").await?;
    open_tab(c, "通用").await?;
    text_becomes(c, "settings-save", "保存").await?;
    shot(c, shots, "14-settings").await?;
    steps += 1;
    Ok(steps)
}

#[tokio::main]
async fn main() -> Result<()> {
    // Two crypto providers are compiled in (fantoccini brings aws-lc); pick ring explicitly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let app = PathBuf::from(
        args.next()
            .context("usage: ui_e2e <app binary> [screenshot dir]")?,
    );
    let shots = args.next().map(PathBuf::from);
    if let Some(d) = &shots {
        std::fs::create_dir_all(d)?;
    }
    let app = std::fs::canonicalize(&app)
        .with_context(|| format!("the app {} is not built", app.display()))?;
    let home = tempfile::tempdir()?;
    let started = Instant::now();
    // The laptop's clock zone is UTC; the site's (its setting, by default) is China's.
    let (driver, c) = launch(&app, home.path(), &[("TZ", "UTC".into())]).await?;
    let hq = siteline_e2e::Hq::start().await?;
    let result = scenario(
        &c,
        &shots,
        started,
        &home.path().join("site.db"),
        &hq,
        home.path(),
    )
    .await;
    if result.is_err() {
        let failed = shots.clone().or_else(|| Some(std::env::temp_dir()));
        let _ = shot(&c, &failed, "failure").await;
        if let Ok(src) = c.source().await {
            let _ = std::fs::write(failed.unwrap_or_default().join("failure.html"), src);
        }
    }
    let _ = c.close().await;
    drop(driver);
    match result {
        Ok(steps) => {
            println!("ui: {steps} passed, 0 failed");
            Ok(())
        }
        Err(e) => {
            println!("ui: 0 passed, 1 failed");
            Err(e)
        }
    }
}

async fn scenario(
    c: &Client,
    shots: &Option<PathBuf>,
    started: Instant,
    db: &Path,
    hq: &siteline_e2e::Hq,
    home: &Path,
) -> Result<u32> {
    let mut steps = 0;
    // First run.
    el(c, "first-next").await?;
    let cold = started.elapsed();
    println!(
        "cold start to a usable first-run screen: {:.2} s",
        cold.as_secs_f64()
    );
    shot(c, shots, "01-first-run").await?;
    click(c, "first-next").await?;
    type_in(c, "mgr-name", "李站长").await?;
    type_in(c, "mgr-username", "manager").await?;
    type_in(c, "mgr-password", "manager-pass").await?;
    click(c, "mgr-create").await?;
    click(c, "work-offline").await?;
    click(c, "finish-empty").await?;
    text_becomes(c, "me", "李站长").await?;
    steps += 1;
    // Add an instructor.
    click(c, "nav-settings").await?;
    type_in(c, "staff-name", "王老师").await?;
    type_in(c, "staff-username", "teacher").await?;
    type_in(c, "staff-password", "teacher-pass").await?;
    click(c, "staff-save").await?;
    text_becomes(c, "staff-table", "王老师").await?;
    shot(c, shots, "02-users").await?;
    // Dates are the site's: the window runs in China Standard Time although the laptop's zone
    // is UTC, so 17:30 UTC on 1 December is already the 2nd.
    let zone = c
        .execute(
            "return [document.querySelector(`[data-testid='zone-now']`).textContent,
                     new Date('2026-12-01T17:30:00Z').getDate()];",
            vec![],
        )
        .await?;
    if zone != serde_json::json!(["本程序正在使用：北京时间（UTC+8）", 2]) {
        bail!("the window does not run in the site's time zone: {zone}");
    }
    steps += 1;
    // Enrol a learner, with live ID checking.
    let id = siteline_core::demo::resident_id(42);
    click(c, "nav-learners").await?;
    click(c, "learner-new").await?;
    type_in(c, "learner-name", "张秀英").await?;
    let mut wrong = id.clone();
    wrong.replace_range(17..18, if id.ends_with('0') { "1" } else { "0" });
    type_in(c, "learner-id", &wrong).await?;
    text_becomes(c, "id-check", "校验位不符").await?;
    type_in(c, "learner-id", &id).await?;
    text_becomes(c, "id-check", "✓").await?;
    type_in(c, "learner-phone", "13800138000").await?;
    shot(c, shots, "03-enrol-learner").await?;
    click(c, "learner-save").await?;
    text_becomes(c, "learner-results", "张秀英").await?;
    no_overlay(c).await?;
    steps += 1;
    // A cohort with the learner and a session today.
    click(c, "nav-cohorts").await?;
    click(c, "cohort-new").await?;
    click(c, "cohort-programme").await?;
    // Type to filter the programme list, as a person would, then pick the option.
    type_in(c, "cohort-programme", "母婴").await?;
    el(c, "pv-maternity-L5-v1").await?;
    // WebKitWebDriver cannot click inside Element Plus's teleported dropdown; a DOM click is
    // what the option's own handler receives either way.
    c.execute(
        "document.querySelector(`[data-testid='pv-maternity-L5-v1']`).click();",
        vec![],
    )
    .await?;
    type_in(c, "cohort-name", "2026年第5期母婴护理员班").await?;
    click(c, "cohort-save").await?;
    text_becomes(c, "cohort-title", "母婴护理员班").await?;
    no_overlay(c).await?;
    c.find(Locator::Css("#tab-1")).await?.click().await?;
    type_in(c, "roster-search", "张秀英").await?;
    click(c, "roster-search-go").await?;
    click(c, "enrol-张秀英").await?;
    c.find(Locator::Css("#tab-2")).await?.click().await?;
    click(c, "session-add").await?;
    click(c, "session-roll").await?;
    // Roll call: mark present, saved at once; then close the session.
    click(c, "present-张秀英").await?;
    text_becomes(c, "roll-status-张秀英", "出勤").await?;
    shot(c, shots, "04-roll-call").await?;
    click(c, "roll-close").await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".el-message-box__btns .el-button--primary"))
        .await?
        .click()
        .await?;
    el(c, "roll-closed").await?;
    no_overlay(c).await?;
    // The roll call is headed with its cohort, day, times and count; opened again, a closed
    // session shows as closed with its mark buttons off, before anyone tries a mark.
    text_becomes(c, "roll-title", "2026年第5期母婴护理员班").await?;
    text_becomes(c, "roll-when", "已点名 1/1 人").await?;
    c.refresh().await?;
    el(c, "roll-closed").await?;
    if el(c, "present-张秀英")
        .await?
        .attr("disabled")
        .await?
        .is_none()
    {
        bail!("a closed session's roll call opened with its mark buttons on");
    }
    // The site manager corrects the closed session: 张秀英 was in fact excused.
    click(c, "correct-张秀英").await?;
    click(c, "fix-excused").await?;
    type_in(c, "fix-reason", "当天持医院证明请假，点名时误记为出勤").await?;
    click(c, "fix-save").await?;
    no_overlay(c).await?;
    text_becomes(c, "roll-status-张秀英", "请假").await?;
    text_becomes(c, "roll-corrected-张秀英", "误记为出勤").await?;
    // Typing the reason (Ctrl+A, letters) marked nobody on the closed roll behind the dialog.
    let refused = c
        .execute(
            "return Array.from(document.querySelectorAll('.el-message--error')).map(e => e.innerText).join(' | ');",
            vec![],
        )
        .await?;
    if refused.as_str().is_some_and(|s| !s.is_empty()) {
        bail!("the correction showed an error: {refused}");
    }
    shot(c, shots, "04b-roll-corrected").await?;
    steps += 1;
    // Theory score and the practical rubric.
    click(c, "nav-cohorts").await?;
    click(c, "cohort-link").await?;
    click(c, "assess-张秀英").await?;
    // The assessors (考评员): the manager recording it, and 王老师 chosen beside her.
    click(c, "assessors").await?;
    el(c, "assessor-王老师").await?;
    c.execute(
        "document.querySelector(`[data-testid='assessor-王老师']`).click();",
        vec![],
    )
    .await?;
    // Enter commits the number input, as a person would.
    type_in(c, "theory-score", "85\u{E007}").await?;
    click(c, "theory-save").await?;
    text_becomes(c, "attempts", "85").await?;
    text_becomes(c, "attempt-assessors", "李站长、王老师").await?;
    // Saved again before it is locked, the draft is edited: still attempt #1, now 88.
    type_in(c, "theory-score", "88\u{E007}").await?;
    click(c, "theory-save").await?;
    text_becomes(c, "attempts", "88").await?;
    let attempts = inner_text(c, "attempts").await?;
    if attempts.contains("#2") || attempts.contains("85") {
        bail!("saving the draft again added an attempt: {attempts}");
    }
    // The rubric starts empty: nothing passes until every item is marked.
    text_becomes(c, "rubric-result", "项未评分").await?;
    if el(c, "practical-save")
        .await?
        .attr("disabled")
        .await?
        .is_none()
    {
        bail!("the practical could be saved with items unmarked");
    }
    let items = c.find_all(Locator::Css("[data-testid^='points-']")).await?;
    for item in items {
        let max = item
            .attr("data-max")
            .await?
            .context("each item names its points")?;
        let input = item.find(Locator::Css("input")).await?;
        input.click().await?;
        input.send_keys(&format!("{max}\u{E007}")).await?;
    }
    text_becomes(c, "rubric-total", "100").await?;
    click(c, "critical-9").await?;
    text_becomes(c, "rubric-result", "不合格").await?;
    click(c, "critical-9").await?;
    text_becomes(c, "rubric-result", "合格").await?;
    shot(c, shots, "05-practical").await?;
    click(c, "practical-save").await?;
    text_becomes(c, "assess-status", "合格").await?;
    steps += 1;
    // The learner shows as passed in the cohort's progress.
    click(c, "nav-cohorts").await?;
    click(c, "cohort-link").await?;
    text_becomes(c, "status-张秀英", "合格").await?;
    shot(c, shots, "06-progress").await?;
    steps += 1;
    steps += bulk_import(c, shots, home, db).await?;
    steps += cohort_lifecycle(c, shots).await?;
    steps += corrections(c, shots, db).await?;
    steps += level_two_review(c, shots).await?;
    steps += consent_and_erasure(c, shots, db).await?;
    // English is one click away.
    click(c, "nav-today").await?;
    c.execute(
        "Array.from(document.querySelectorAll(`[data-testid='language'] label`)).find(l => l.innerText.includes('English')).click();",
        vec![],
    )
    .await?;
    text_becomes(c, "nav-today", "Today").await?;
    shot(c, shots, "07-today-en").await?;
    steps += 1;
    // A 40-learner roll call: how long each mark takes from click to the saved status on screen.
    c.execute(
        "Array.from(document.querySelectorAll(`[data-testid='language'] label`)).find(l => l.innerText.includes('中文')).click();",
        vec![],
    )
    .await?;
    click(c, "nav-settings").await?;
    click(c, "nav-today").await?;
    // The demo's day starts at the site's midnight, as the window reckons it.
    c.execute(
        "const day = new Date(); day.setHours(0, 0, 0, 0);
         return window.__TAURI_INTERNALS__.invoke('load_demo', { todayStart: day.toISOString() });",
        vec![],
    )
    .await?;
    c.refresh().await?;
    // The demo's 40-learner session (01:00) is found by its cohort, not by its place in the
    // list: before 01:00 this hour's session is listed first.
    let end = Instant::now() + Duration::from_secs(20);
    let roll = loop {
        let mut found = None;
        for card in c
            .find_all(Locator::Css("[data-testid='today-session']"))
            .await?
        {
            if card.text().await?.contains("示范班") {
                found = Some(
                    card.find(Locator::Css("[data-testid='start-roll']"))
                        .await?,
                );
                break;
            }
        }
        if let Some(roll) = found {
            break roll;
        }
        if Instant::now() > end {
            bail!("the demo session is not on Today");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    roll.click().await?;
    el(c, "roll-table").await?;
    let mut times = Vec::new();
    for i in 0..40 {
        let ms = c
            .execute_async(
                "const [i, done] = arguments;
                 const status = () => document.querySelector(`[data-status-row='${i}']`).innerText;
                 const t0 = performance.now();
                 document.querySelector(`[data-present-row='${i}']`).click();
                 (function poll() { if (status().includes('出勤')) done(performance.now() - t0); else setTimeout(poll, 1); })();",
                vec![serde_json::json!(i)],
            )
            .await?
            .as_f64()
            .unwrap_or(f64::MAX);
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "roll-call mark, click to saved status on screen, 40 learners: median {:.1} ms, max {:.1} ms",
        times[20], times[39]
    );
    // Reported, not asserted: timing belongs in docs/BENCHMARKS.md, not in a test that can
    // flake on a busy machine. What is asserted is that all 40 marks were saved (below).
    shot(c, shots, "08-roll-call-40").await?;
    steps += 1;
    steps += 1;
    steps += manager_review(c, shots, hq, home).await?;
    steps += reclaim_after_needs_info(c, shots, hq, db).await?;
    steps += memory(c, db).await?;
    steps += fits(c, 960, 640).await?;
    steps += fits(c, 1366, 768).await?;
    steps += fits(c, 1280, 800).await?;
    // The database really holds what the screens showed.
    let site = siteline_core::Site::open(db)?;
    let marks: i64 = site.conn().query_row(
        "SELECT count(*) FROM attendance_event e JOIN session s ON s.id = e.session_id
           JOIN cohort c ON c.id = s.cohort_id WHERE c.programme_version_id = 'maternity-L5-v1'",
        [],
        |r| r.get(0),
    )?;
    // 40 marks of the demo roll, 张秀英's mark and its correction.
    if marks != 42 {
        bail!("expected 42 attendance events from the roll calls, found {marks}");
    }
    let claims: i64 = site
        .conn()
        .query_row("SELECT count(*) FROM outcome_claim", [], |r| r.get(0))?;
    // 10 of the 12 passed; one of them missed too many sessions to be eligible. Then the
    // learner claimed twice: the claim HQ sent back for her consent, and the one it accredited.
    if claims != 11 {
        bail!(
            "expected 11 outcome claims (9 passed and eligible, one claimed twice), found {claims}"
        );
    }
    steps += 1;
    Ok(steps)
}
