//! HQ's certificate verify page in a real browser (Debian's Chromium through ChromeDriver): a
//! site completes a class with a real credit bank and syncs; the certificate it receives
//! opens HQ's page from its QR link showing it valid with its fields; the credential file
//! pasted into the page is valid, and altered once a credit is changed; a guessed code shows
//! nothing; after HQ reverses the credits, the same link shows the certificate revoked, with
//! the reason, and the site hears of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::Value;
use siteline_core::store::hq;
use siteline_e2e::webdriver::chromium;
use siteline_e2e::{Hq, SiteNode};

/// The verdict the page shows (waits for it).
async fn verdict(c: &Client) -> (String, String) {
    let result = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#result[data-outcome]"))
        .await
        .unwrap();
    let outcome = result.attr("data-outcome").await.unwrap().unwrap();
    let text = result.text().await.unwrap();
    (outcome, text)
}

/// Pastes `credential` into the page and checks it.
async fn paste(c: &Client, base: &str, credential: &str) -> (String, String) {
    c.goto(&format!("{base}/verify")).await.unwrap();
    c.execute(
        "document.getElementById('credential').value = arguments[0];",
        vec![credential.into()],
    )
    .await
    .unwrap();
    c.find(Locator::Id("check"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    verdict(c).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_shows_valid_on_hqs_page_in_a_browser_then_revoked_after_a_reversal() {
    let hq = Hq::start().await.unwrap();
    let code = hq.site("GD-SZ-001").unwrap();
    let node = SiteNode::new(&hq.url).await.unwrap();
    node.enrol(&hq, &code).await.unwrap();
    let people = node.learners(0, 1).await.unwrap();
    let (m, t) = (node.manager, node.instructor);
    let learner = people[0];
    node.db
        .call(move |site| {
            siteline_core::demo::complete_cohort(site, &m, &t, "maternity-L5-v1", &people, 85)
        })
        .await
        .unwrap();
    node.engine.sync_once().await.unwrap();
    let certs = node
        .db
        .call(move |s| Ok(hq::learner_credits(s.conn(), learner.0)?.certificates))
        .await
        .unwrap();
    assert_eq!(certs.len(), 1, "{certs:?}");
    let number = certs[0].number.clone();
    let link = certs[0].verify_url.clone().expect("a verify link");
    assert!(
        link.starts_with(&format!("{}/verify?n={number}&c=", hq.url)),
        "{link}"
    );
    let n = number.clone();
    let credential = node
        .db
        .call(move |s| hq::credential(s.conn(), &n))
        .await
        .unwrap();

    let browser = chromium().await.unwrap();
    let c = &browser.client;
    // The printed QR code's link, as a phone's camera opens it.
    c.goto(&link).await.unwrap();
    let (outcome, text) = verdict(c).await;
    assert_eq!(outcome, "valid", "{text}");
    assert!(text.contains("有效"), "{text}");
    assert!(text.contains(&siteline_core::demo::name(0)), "{text}");
    assert!(text.contains("母婴护理员（五级）"), "{text}");
    assert!(text.contains(&number), "{text}");
    assert!(text.contains("2026-09-01 — 2026-11-30"), "{text}");
    let title = c.title().await.unwrap();
    assert!(title.starts_with("证书查验"), "{title}");

    // The credential file pasted in: valid; with a credit changed: altered, no fields shown.
    let (outcome, _) = paste(c, &hq.url, &credential).await;
    assert_eq!(outcome, "valid");
    let mut altered: Value = serde_json::from_str(&credential).unwrap();
    altered["credentialSubject"]["creditsEarned"] = 80.0.into();
    let (outcome, text) = paste(c, &hq.url, &altered.to_string()).await;
    assert_eq!(outcome, "altered", "{text}");
    assert!(text.contains("已被改动"), "{text}");
    assert!(!text.contains(&siteline_core::demo::name(0)), "{text}");
    let (outcome, _) = paste(c, &hq.url, "这不是证书").await;
    assert_eq!(outcome, "malformed");
    // A guessed code: nothing about the certificate.
    c.goto(&format!("{}/verify?n={number}&c=AAAAAAAAAAAA", hq.url))
        .await
        .unwrap();
    let (outcome, text) = verdict(c).await;
    assert_eq!(outcome, "not_ours");
    assert!(!text.contains(&siteline_core::demo::name(0)), "{text}");

    // HQ reverses the credits: the same link now shows the certificate revoked, with why.
    let posting = hq.store.query_i64("SELECT id FROM credit_posting").unwrap();
    creditbank::store::Store::reverse_posting(hq.store.as_ref(), posting, "考核记录经复核不实")
        .unwrap();
    c.goto(&link).await.unwrap();
    let (outcome, text) = verdict(c).await;
    assert_eq!(outcome, "revoked", "{text}");
    assert!(text.contains("已撤销"), "{text}");
    assert!(text.contains("考核记录经复核不实"), "{text}");
    c.clone().close().await.unwrap();

    // The site hears of it on its next sync.
    node.engine.sync_once().await.unwrap();
    let n = number.clone();
    let cert = node
        .db
        .call(move |s| hq::certificate(s.conn(), &n))
        .await
        .unwrap();
    assert_eq!(
        cert.status,
        siteline_proto::sync::CertificateStatus::Revoked
    );
    assert_eq!(cert.revoked_reason.as_deref(), Some("考核记录经复核不实"));
}
