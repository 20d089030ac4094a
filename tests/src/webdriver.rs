//! Driving the real app through WebDriver (`tauri-driver` + WebKitWebDriver): start an app
//! instance with its own home folder and database, and the few steps every UI test takes
//! (wait for an element by `data-testid`, click, type, wait for text, screenshots).

// Test-harness code: a port or a WebDriver call that fails ends the test run with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};

/// A running `tauri-driver`, stopped (with its WebKitWebDriver) when dropped.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: only then does tauri-driver stop its WebKitWebDriver child.
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (up to 20 s) for the element with `data-testid` `testid`.
pub async fn el(c: &Client, testid: &str) -> Result<fantoccini::elements::Element> {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("[data-testid='{testid}']")))
        .await
        .with_context(|| format!("waiting for [data-testid={testid}]"))
}

/// Clicks the element with `data-testid` `testid` once it is there.
/// A click that WebKitWebDriver refuses (the element still under a closing popper or dialog
/// animation) is tried again for up to 5 s before the test fails with the last refusal.
pub async fn click(c: &Client, testid: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let outcome = el(c, testid).await?.click().await;
        match outcome {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() < deadline => {
                eprintln!("click on {testid} refused ({e}); trying again");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("clicking {testid}")),
        }
    }
}

/// Replaces the text of an input (or the input inside the element) with `text`.
pub async fn type_in(c: &Client, testid: &str, text: &str) -> Result<()> {
    let root = el(c, testid).await?;
    let input = match root.find(Locator::Css("input")).await {
        Ok(i) => i,
        Err(_) => root,
    };
    // Select all and delete (Ctrl+A, release, Backspace): clear() does not reach Vue's model.
    input.send_keys("\u{E009}a\u{E000}\u{E003}").await.ok();
    input
        .send_keys(text)
        .await
        .with_context(|| format!("typing into {testid}"))?;
    Ok(())
}

/// Waits (up to 20 s) until the element's text contains `want`.
pub async fn text_becomes(c: &Client, testid: &str, want: &str) -> Result<()> {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let got = inner_text(c, testid).await?;
        if got.contains(want) {
            return Ok(());
        }
        if Instant::now() > end {
            bail!("[data-testid={testid}] shows {got:?}, expected {want:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the element's text is exactly `want` (trimmed).
pub async fn text_is(c: &Client, testid: &str, want: &str) -> Result<()> {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let got = inner_text(c, testid).await?;
        if got.trim() == want {
            return Ok(());
        }
        if Instant::now() > end {
            bail!("[data-testid={testid}] shows {got:?}, expected exactly {want:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The element's text as shown (innerText through the page: WebKitWebDriver's element text
/// misses table cells).
pub async fn inner_text(c: &Client, testid: &str) -> Result<String> {
    el(c, testid).await?;
    Ok(c
        .execute(
            "const e = document.querySelector(`[data-testid='${arguments[0]}']`); return e ? e.innerText : '';",
            vec![serde_json::json!(testid)],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Opens the tab labelled `label` once it is on the page (the screen may still be loading).
pub async fn open_tab(c: &Client, label: &str) -> Result<()> {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let clicked = c
            .execute(
                "const t = Array.from(document.querySelectorAll('.el-tabs__item')).find(e => e.innerText.trim() === arguments[0]);
                 if (t) { t.click(); return true; } return false;",
                vec![serde_json::json!(label)],
            )
            .await?
            .as_bool()
            .unwrap_or(false);
        if clicked {
            return Ok(());
        }
        if Instant::now() > end {
            bail!("no tab labelled {label}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the primary button of the open confirmation box.
pub async fn confirm(c: &Client) -> Result<()> {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".el-message-box__btns .el-button--primary"))
        .await?
        .click()
        .await?;
    Ok(())
}

/// Waits until no dialog overlay covers the page (after a dialog closes, it fades out).
pub async fn no_overlay(c: &Client) -> Result<()> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let covered = c
            .execute(
                "return Array.from(document.querySelectorAll('.el-overlay')).some(e => getComputedStyle(e).display !== 'none');",
                vec![],
            )
            .await?
            .as_bool()
            .unwrap_or(false);
        if !covered {
            return Ok(());
        }
        if Instant::now() > end {
            bail!("a dialog stayed open");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A screenshot waits for the window's next presentation, and a window without accelerated
/// compositing (the app's setting, `src-tauri/src/webview.rs`) presents only when something
/// on it changes: a page at rest would keep WebKitWebDriver waiting for ever. While the
/// screenshot is taken, one nearly transparent pixel in a corner flickers between two whites.
const NUDGE_START: &str = "const d = document.createElement('div');
    d.id = '__shot_nudge';
    d.style.cssText = 'position:fixed;left:0;bottom:0;width:1px;height:1px;pointer-events:none;opacity:0.01;background:#fff';
    document.body.appendChild(d);
    let on = false;
    window.__shotNudge = setInterval(() => { on = !on; d.style.background = on ? '#fefefe' : '#fff'; }, 30);";
const NUDGE_STOP: &str =
    "clearInterval(window.__shotNudge); document.getElementById('__shot_nudge')?.remove();";

/// Saves a screenshot as `dir/name.png` when a folder is given.
pub async fn shot(c: &Client, dir: &Option<PathBuf>, name: &str) -> Result<()> {
    if let Some(dir) = dir {
        tokio::time::sleep(Duration::from_millis(400)).await;
        c.execute(NUDGE_START, vec![]).await?;
        let png = c.screenshot().await;
        c.execute(NUDGE_STOP, vec![]).await?;
        std::fs::write(dir.join(format!("{name}.png")), png?)?;
    }
    Ok(())
}

/// Starts `tauri-driver` and the app at `app` with `home` as its home folder, its database at
/// `home/site.db` and `env` on top; returns once a WebDriver session is open.
pub async fn launch(app: &Path, home: &Path, env: &[(&str, String)]) -> Result<(Driver, Client)> {
    let port = free_port();
    let mut cmd = Command::new("tauri-driver");
    cmd.args([
        "--port",
        &port.to_string(),
        "--native-port",
        &free_port().to_string(),
    ])
    .env("HOME", home)
    .env("XDG_DATA_HOME", home.join("data"))
    .env("XDG_CACHE_HOME", home.join("cache"))
    .env("XDG_CONFIG_HOME", home.join("config"))
    .env("SITELINE_DB", home.join("site.db"))
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let driver =
        Driver(cmd.spawn().context(
            "starting tauri-driver (cargo install tauri-driver --version '^2' --locked)",
        )?);
    let caps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "browserName": "wry",
            "tauri:options": { "application": app.to_string_lossy() },
        }))?;
    for _ in 0..100 {
        if let Ok(c) = ClientBuilder::rustls()?
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return Ok((driver, c));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("could not open a WebDriver session with tauri-driver")
}

/// Headless Chromium (Debian's `chromium`) through ChromeDriver (`chromium-driver`), with a
/// profile of its own and none of the background connections a closed network refuses: for
/// HQ's web pages. Stopped when dropped.
pub struct Chromium {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Starts Chromium for a test.
pub async fn chromium() -> Result<Chromium> {
    let port = free_port();
    let mut driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context(
            "starting chromedriver (Debian package chromium-driver; scripts/setup.sh installs it)",
        )?;
    let profile = tempfile::tempdir()?;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--lang=zh-CN", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::rustls()?
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Ok(Chromium {
                    client,
                    driver,
                    _profile: profile,
                });
            }
            Err(e) if Instant::now() > deadline => {
                let _ = driver.kill();
                bail!("ChromeDriver did not start a session: {e}");
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
