//! Certificates anyone can verify (ADR 0007): an accredited claim's certificate carries the
//! 职业技能等级证书 fields and an Open Badges 3.0 credential HQ signed; the public API says
//! valid for it, altered for any change to it, not ours for another issuer's or a guessed
//! code, and revoked once its credits are reversed, which also flips its bit in the signed
//! status list.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Device, Hq, SiteApp, admin_note};
use creditbank::credentials::{status_bit, verify_code};
use serde_json::Value;

/// A site whose learner completed maternity care (五级, 120 h, 8 credits) and was accredited:
/// HQ, the device, and the certificate change the site pulled.
async fn accredited() -> (Hq, Device, Value) {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    let l = site.learner(5);
    site.completed("maternity-L5-v1", &[l], 80);
    let (_, changes) = hq.sync(&device, &site, 0).await;
    let cert = changes
        .iter()
        .find(|c| c["kind"] == "certificate")
        .expect("a certificate")["payload"]
        .clone();
    (hq, device, cert)
}

async fn verify(hq: &Hq, body: &str) -> Value {
    let (status, v) = hq
        .send(
            Request::post("/v1/verify")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

async fn get(hq: &Hq, uri: &str) -> (StatusCode, Value) {
    hq.send(Request::get(uri).body(Body::empty()).unwrap())
        .await
}

#[tokio::test]
async fn an_accredited_claims_certificate_carries_its_fields_and_a_credential_that_verifies() {
    let (hq, _, cert) = accredited().await;
    assert_eq!(cert["learner_name"], siteline_core::demo::name(5));
    assert!(cert["id_masked"].as_str().unwrap().contains('*'));
    assert_eq!(cert["training_start"], "2026-09-01");
    assert_eq!(cert["institution"], "GD-SZ-001 培训站");
    let credential: Value = serde_json::from_str(cert["credential"].as_str().unwrap()).unwrap();
    // PIPL: the credential names the credit account and the name, never an ID number.
    let text = credential.to_string();
    assert!(!text.contains(&siteline_core::demo::resident_id(5)));
    assert!(!text.contains(cert["id_masked"].as_str().unwrap()));
    assert_eq!(
        credential["credentialSubject"]["licenseNumber"],
        cert["number"]
    );
    assert_eq!(credential["credentialSubject"]["creditsEarned"], 8.0);
    assert!(
        credential["credentialSubject"]["achievement"]["name"]
            .as_str()
            .unwrap()
            .starts_with("母婴护理员（五级） / ")
    );

    let v = verify(&hq, &credential.to_string()).await;
    assert_eq!(v["outcome"], "valid", "{v}");
    assert_eq!(
        v["certificate"]["learner_name"],
        siteline_core::demo::name(5)
    );
    assert_eq!(v["certificate"]["level"], 5);
    assert_eq!(v["certificate"]["credits_tenths"], 80);
    assert_eq!(v["certificate"]["training_end"], "2026-11-30");

    // The QR code's link: number and code, looked up with no login.
    let url = cert["verify_url"].as_str().unwrap();
    let code = verify_code(&credential).unwrap();
    assert!(url.ends_with(&format!(
        "/verify?n={}&c={code}",
        cert["number"].as_str().unwrap()
    )));
    let number = cert["number"].as_str().unwrap();
    let (status, v) = get(&hq, &format!("/v1/verify?n={number}&c={code}")).await;
    assert_eq!(
        (status, v["outcome"].as_str()),
        (StatusCode::OK, Some("valid"))
    );
    // A guessed code reads as an unknown number, and shows nothing.
    let (_, v) = get(&hq, &format!("/v1/verify?n={number}&c=AAAAAAAAAAAA")).await;
    assert_eq!(v["outcome"], "not_ours");
    assert!(v["certificate"].is_null());
    // The wallet file, for the holder of the number and code.
    let (status, file) = get(&hq, &format!("/v1/credentials/{number}?c={code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(file, credential);
    let (status, _) = get(&hq, &format!("/v1/credentials/{number}?c=wrong")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_credential_changed_in_any_field_or_signed_by_another_key_is_refused() {
    let (hq, _, cert) = accredited().await;
    let credential: Value = serde_json::from_str(cert["credential"].as_str().unwrap()).unwrap();
    let changes: [(&str, Value); 5] = [
        ("/credentialSubject/creditsEarned", 80.0.into()),
        (
            "/credentialSubject/identifier/1/identityHash",
            "李四".into(),
        ),
        (
            "/credentialSubject/activityStartDate",
            "2025-09-01T00:00:00Z".into(),
        ),
        (
            "/credentialSubject/achievement/humanCode",
            "maternity-L1-v1".into(),
        ),
        ("/validFrom", "2020-01-01T00:00:00Z".into()),
    ];
    for (path, value) in changes {
        let mut altered = credential.clone();
        *altered.pointer_mut(path).unwrap() = value;
        let v = verify(&hq, &altered.to_string()).await;
        assert_eq!(v["outcome"], "altered", "{path}: {v}");
        assert!(v["certificate"].is_null());
    }
    // A property no context defines is dropped from the signed statements: the signature
    // still holds, so HQ compares with what it issued.
    let mut added = credential.clone();
    added["credentialSubject"]["bonusCredits"] = 20.into();
    assert_eq!(verify(&hq, &added.to_string()).await["outcome"], "altered");

    // The same certificate signed by someone else's key.
    let mut unsigned = credential.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    let other = siteline_credential::ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let (_, method) = siteline_credential::did_key(&other.verifying_key());
    let forged = siteline_credential::sign(
        &unsigned,
        &other,
        &siteline_credential::ProofOptions {
            created: "2026-12-01T00:00:00Z".into(),
            verification_method: method,
        },
    )
    .unwrap();
    assert_eq!(
        verify(&hq, &forged.to_string()).await["outcome"],
        "not_ours"
    );
    // Not a credential at all.
    for junk in ["", "null", "[1,2]", "{\"hello\": 1}", "{\"proof\": 7}"] {
        assert_eq!(verify(&hq, junk).await["outcome"], "malformed", "{junk}");
    }
    // Larger than any credential: refused before it is read.
    let (status, _) = hq
        .send(
            Request::post("/v1/verify")
                .body(Body::from(vec![b' '; 70 * 1024]))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn every_statement_of_the_credential_is_covered_by_the_signature() {
    let (hq, _, cert) = accredited().await;
    let credential: Value = serde_json::from_str(cert["credential"].as_str().unwrap()).unwrap();
    let key = creditbank::store::Store::signing_key(hq.store.as_ref()).verifying_key();
    // Every string and number in the credential (outside the proof and the contexts): changed,
    // the signature no longer holds, so no field is one JSON-LD silently drops.
    fn leaves(v: &Value, path: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k != "proof" && k != "@context" {
                        leaves(x, format!("{path}/{k}"), out);
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    leaves(x, format!("{path}/{i}"), out);
                }
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) => out.push(path),
            Value::Null => {}
        }
    }
    let mut paths = Vec::new();
    leaves(&credential, String::new(), &mut paths);
    assert!(paths.len() > 25, "{paths:?}");
    for path in paths {
        let mut altered = credential.clone();
        let slot = altered.pointer_mut(&path).unwrap();
        *slot = match slot {
            Value::String(s)
                if s.starts_with("http") || s.starts_with("did:") || s.starts_with("urn:") =>
            {
                format!("{s}x").into()
            }
            Value::String(s) => format!("{s}改").into(),
            Value::Number(n) => (n.as_f64().unwrap() + 1.0).into(),
            Value::Bool(b) => (!*b).into(),
            _ => unreachable!(),
        };
        let checked = siteline_credential::verify(&altered, |_| Some(key));
        assert!(
            checked.is_err(),
            "changing {path} leaves the signature valid: that field is not signed"
        );
    }
}

#[tokio::test]
async fn a_reversal_revokes_the_certificate_in_the_verifier_and_the_status_list() {
    let (hq, device, cert) = accredited().await;
    let credential: Value = serde_json::from_str(cert["credential"].as_str().unwrap()).unwrap();
    let status = &credential["credentialStatus"];
    assert_eq!(status["type"], "BitstringStatusListEntry");
    let list_url = status["statusListCredential"].as_str().unwrap();
    let path = list_url
        .split_once("/status/")
        .map(|(_, l)| format!("/status/{l}"))
        .unwrap();
    let index: u32 = status["statusListIndex"].as_str().unwrap().parse().unwrap();
    let (code, list) = get(&hq, &path).await;
    assert_eq!(code, StatusCode::OK, "{list}");
    assert_eq!(list["type"][1], "BitstringStatusListCredential");
    // The list is HQ's, signed, and long enough to hide how many certificates exist.
    let key = creditbank::store::Store::signing_key(hq.store.as_ref()).verifying_key();
    siteline_credential::verify(&list, |_| Some(key)).unwrap();
    assert_eq!(status_bit(&list, index), Some(false));
    assert_eq!(status_bit(&list, 131_071), Some(false));
    assert_eq!(status_bit(&list, 131_072), None);

    let posting = hq.store.query_i64("SELECT id FROM credit_posting").unwrap();
    let (s, body) = hq
        .send(admin_note(
            &format!("/admin/postings/{posting}/reverse"),
            "考核记录经复核不实",
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let v = verify(&hq, &credential.to_string()).await;
    assert_eq!(v["outcome"], "revoked", "{v}");
    assert_eq!(v["certificate"]["revoked_reason"], "考核记录经复核不实");
    let (_, list) = get(&hq, &path).await;
    assert_eq!(status_bit(&list, index), Some(true));
    let (_, v) = get(
        &hq,
        &format!(
            "/v1/verify?n={}&c={}",
            cert["number"].as_str().unwrap(),
            verify_code(&credential).unwrap()
        ),
    )
    .await;
    assert_eq!(v["outcome"], "revoked");
    // The site hears of it with the reason and the date.
    let (_, page) = hq.send(device.pull(0)).await;
    let revoked = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["kind"] == "certificate")
        .unwrap()["payload"]
        .clone();
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revoked_reason"], "考核记录经复核不实");
    assert!(revoked["revoked_at"].is_string());
    // No list past the certificates issued.
    assert_eq!(get(&hq, "/status/2").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&hq, "/status/0").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_verify_page_is_served_in_chinese_with_no_login() {
    let hq = Hq::new();
    let resp = tower::ServiceExt::oneshot(
        creditbank::http::router(hq.state.clone()),
        Request::get("/verify").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let html = String::from_utf8(body.to_vec()).unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("职业技能等级证书查验"));
}

#[tokio::test]
async fn a_certificate_issued_again_is_superseded_by_the_new_number_which_verifies_valid() {
    let (hq, device, cert) = accredited().await;
    let old: Value = serde_json::from_str(cert["credential"].as_str().unwrap()).unwrap();
    let number = cert["number"].as_str().unwrap().to_string();
    let reissue =
        |n: &str, note: &str| admin_note(&format!("/admin/certificates/{n}/reissue"), note);
    let (s, body) = hq.send(reissue(&number, "")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, body) = hq.send(reissue("Y000144000000000000000", "名字写错")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    let (s, body) = hq.send(reissue(&number, "姓名录入有误，已更正")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let new = body["number"].as_str().unwrap().to_string();
    assert_ne!(new, number);
    siteline_domain::certificate::CertificateNumber::parse(&new).unwrap();

    let v = verify(&hq, &old.to_string()).await;
    assert_eq!(v["outcome"], "superseded", "{v}");
    assert_eq!(v["certificate"]["superseded_by"], new.as_str());
    // Superseded is not valid: a second reissue of it is refused.
    let (s, body) = hq.send(reissue(&number, "again")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("superseded"),
        "{body}"
    );

    // The site hears of both: the old one superseded, the new one with its credential.
    let (_, page) = hq.send(device.pull(0)).await;
    let certs: Vec<Value> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "certificate")
        .map(|c| c["payload"].clone())
        .collect();
    let latest_old = certs
        .iter()
        .rev()
        .find(|c| c["number"] == number.as_str())
        .unwrap();
    assert_eq!(latest_old["status"], "superseded");
    let fresh = certs.iter().find(|c| c["number"] == new.as_str()).unwrap();
    assert_eq!(fresh["status"], "valid");
    let credential = fresh["credential"].as_str().unwrap();
    assert_eq!(verify(&hq, credential).await["outcome"], "valid");
}
