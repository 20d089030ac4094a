//! The window as a whole: its memory after the scenario and after more passes over every
//! screen, and every screen fitting at the sizes a site's laptops have.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};
use fantoccini::Client;
use siteline_e2e::webdriver::{click, el};

/// Proportional set size of this test's app (the one whose `SITELINE_DB` is `db`) and the
/// WebKit processes it started, in MiB: the whole, and each process by name. Another
/// Siteline running on the machine is not counted.
pub fn pss_mib(db: &Path) -> (f64, Vec<(String, f64)>) {
    let procs: Vec<(std::path::PathBuf, String)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| {
            let stat = std::fs::read_to_string(p.join("stat")).ok()?;
            // pid (comm) state ppid …: the parent is the second field after the name.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .to_string();
            Some((p, ppid))
        })
        .collect();
    let want = format!("SITELINE_DB={}", db.display());
    let app = procs.iter().find(|(p, _)| {
        std::fs::read(p.join("environ"))
            .map(|env| env.split(|b| *b == 0).any(|v| v == want.as_bytes()))
            .unwrap_or(false)
            && std::fs::read_to_string(p.join("comm"))
                .is_ok_and(|c| c.starts_with("siteline-deskto"))
    });
    let Some((app, _)) = app else {
        return (0.0, Vec::new());
    };
    let app_pid = app.file_name().map(|n| n.to_string_lossy().to_string());
    let mut parts = Vec::new();
    for (p, ppid) in &procs {
        let is_app = p == app;
        if !is_app && Some(ppid) != app_pid.as_ref() {
            continue;
        }
        let comm = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        let comm = comm.trim();
        if !(is_app || comm.starts_with("WebKit")) {
            continue;
        }
        let rollup = std::fs::read_to_string(p.join("smaps_rollup")).unwrap_or_default();
        if let Some(line) = rollup.lines().find(|l| l.starts_with("Pss:")) {
            let kib: u64 = line
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            parts.push((comm.to_string(), kib as f64 / 1024.0));
        }
    }
    (parts.iter().map(|(_, m)| m).sum(), parts)
}

/// The memory line the test prints.
pub fn memory_line(when: &str, db: &Path) -> f64 {
    let (total, parts) = pss_mib(db);
    let each: Vec<String> = parts.iter().map(|(n, m)| format!("{n} {m:.0}")).collect();
    println!(
        "memory {when} (PSS of the app and its WebKit processes): {total:.0} MiB ({})",
        each.join(", ")
    );
    total
}

/// Every screen once, as a day's work goes through them: the lists, a cohort's detail and
/// report, the review with its charts, sync, devices and settings.
pub async fn tour(c: &Client) -> Result<()> {
    for nav in ["nav-today", "nav-learners", "nav-cohorts"] {
        click(c, nav).await?;
    }
    click(c, "cohort-link").await?;
    click(c, "nav-review").await?;
    el(c, "chart-attendance").await?;
    click(c, "review-cohort-2026年第3期家务服务员(五级)班").await?;
    el(c, "report-table").await?;
    for nav in ["nav-sync", "nav-devices", "nav-settings", "nav-today"] {
        click(c, nav).await?;
    }
    Ok(())
}

/// Nothing cut off at the right on any screen at `width`×`height`: the page never scrolls
/// sideways (wide tables scroll inside their own box) and no element of the header or the
/// page ends past the window's right edge.
pub async fn fits(c: &Client, width: u32, height: u32) -> Result<u32> {
    c.set_window_size(width, height).await?;
    let check = "const w = document.documentElement.clientWidth;
        const over = [];
        if (document.documentElement.scrollWidth > w + 1) over.push('page ' + document.documentElement.scrollWidth + '>' + w);
        for (const e of document.querySelectorAll('header *, main h2, main .row > *, main .el-table, main .el-tabs, main canvas')) {
          const r = e.getBoundingClientRect();
          if (r.width > 0 && r.right > w + 1) over.push((e.dataset.testid || e.className || e.tagName) + ' ends at ' + Math.round(r.right));
        }
        return [w, over.slice(0, 5).join('; ')];";
    let screens: [(&str, Option<&str>); 9] = [
        ("nav-today", None),
        ("nav-learners", Some("learner-results")),
        ("nav-cohorts", None),
        ("cohort-link", Some("progress-table")),
        ("nav-review", Some("chart-attendance")),
        (
            "review-cohort-2026年第3期家务服务员(五级)班",
            Some("report-table"),
        ),
        ("nav-sync", None),
        ("nav-devices", None),
        ("nav-settings", None),
    ];
    let mut seen = 0;
    for (nav, wait) in screens {
        click(c, nav).await?;
        if let Some(w) = wait {
            el(c, w).await?;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let result = c.execute(check, vec![]).await?;
        seen = result[0].as_u64().unwrap_or(0);
        if let Some(o) = result[1].as_str().filter(|o| !o.is_empty()) {
            bail!("at {width}×{height}, after {nav}, cut off at the right: {o}");
        }
    }
    // The window really is that wide (the check means nothing in a window that did not
    // resize).
    if seen + 40 < u64::from(width) || seen > u64::from(width) {
        bail!("asked for a {width}-pixel window, the page is {seen} wide");
    }
    println!(
        "every screen fits at {width}×{height} (page {seen} px wide): nothing past the right edge"
    );
    Ok(1)
}

/// What a window may hold at rest after the whole scenario, app and WebKit processes
/// together (the limit).
const LIMIT_MIB: f64 = 300.0;

/// How long the window is left idle before it is measured: longer than the interval at which
/// its web process checks its own memory (10 s, `src-tauri/src/webview.rs`), so the figure is
/// what a laptop holds between two tasks, not the peak of the last screen.
const SETTLE: Duration = Duration::from_secs(13);

/// Memory after the whole scenario, and after going through every screen three times more
/// in the same window, each read once the window has settled: printed (docs/BENCHMARKS.md
/// keeps the figures), and refused above `LIMIT_MIB`, or if the window grows by more than a
/// tenth going through the screens again, which a screen that leaks what it mounted would do.
pub async fn memory(c: &Client, db: &Path) -> Result<u32> {
    tokio::time::sleep(SETTLE).await;
    let first = memory_line("after the scenario", db);
    for _ in 0..3 {
        tour(c).await?;
    }
    tokio::time::sleep(SETTLE).await;
    let again = memory_line("after every screen three times more", db);
    // To look inside the processes (/proc/PID/smaps) at this point, hold the window open.
    if let Some(secs) = std::env::var("SITELINE_E2E_HOLD")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
    if first == 0.0 {
        bail!("the app's processes were not found in /proc to measure their memory");
    }
    if first > LIMIT_MIB {
        bail!("the window holds {first:.0} MiB after the scenario, over {LIMIT_MIB:.0} MiB");
    }
    if again > first * 1.10 {
        bail!("memory grew from {first:.0} MiB to {again:.0} MiB going through the screens again");
    }
    Ok(1)
}
