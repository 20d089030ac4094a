//! Signed updates end to end: the credit bank publishes and serves an update; the app's own
//! update code (with `tauri-plugin-updater` and the public key from its config) accepts a
//! correctly signed file and refuses one that was altered after signing. HQ itself refuses to
//! publish a file whose signature does not verify.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use creditbank::releases::{NewRelease, Releases};
use creditbank::store::Bank;
use siteline_desktop_lib::updates;
use tauri::test::{mock_builder, mock_context, noop_assets};

struct Key {
    pk: minisign::PublicKey,
    sk: minisign::SecretKey,
}

impl Key {
    fn new() -> Self {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        Key {
            pk: kp.pk,
            sk: kp.sk,
        }
    }

    /// The public key as tauri.conf.json carries it (base64 of the minisign key file).
    fn public(&self) -> String {
        B64.encode(self.pk.to_box().unwrap().to_string())
    }

    /// The signature as `tauri signer sign` writes it (base64 of the minisign signature file).
    fn sign(&self, data: &[u8]) -> String {
        let sig = minisign::sign(Some(&self.pk), &self.sk, data, Some("siteline"), None).unwrap();
        B64.encode(sig.into_string())
    }
}

async fn hq(releases: Arc<Releases>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Bank::open(dir.path(), None).unwrap());
    std::mem::forget(dir);
    let app = creditbank::router(creditbank::AppState::new(store, "admin").with_releases(releases));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn mock_app(pubkey: &str) -> tauri::App<tauri::test::MockRuntime> {
    let mut ctx = mock_context(noop_assets());
    ctx.config_mut().plugins.0.insert(
        "updater".into(),
        serde_json::json!({
            "pubkey": pubkey,
            "endpoints": [],
            // The test HQ is plain HTTP on 127.0.0.1; the shipped config has no such switch.
            "dangerousInsecureTransportProtocol": true
        }),
    );
    mock_builder()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .build(ctx)
        .unwrap()
}

fn release<'a>(file: &'a std::path::Path, version: &'a str, signature: &'a str) -> NewRelease<'a> {
    NewRelease {
        target: "linux",
        arch: "x86_64",
        version,
        file,
        signature,
        notes: "新增报表导出",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_update_from_hq_is_accepted_and_a_tampered_one_refused() {
    let project = Key::new();
    let stranger = Key::new();
    let dir = tempfile::tempdir().unwrap();
    let releases = Arc::new(Releases::open(&dir.path().join("updates")).unwrap());
    let url = hq(releases.clone()).await;
    let app = mock_app(&project.public());
    let current = app.package_info().version.to_string();

    // Nothing published: the app is told it is current.
    assert!(updates::check(app.handle(), &url).await.unwrap().is_none());

    let deb = dir.path().join("siteline_0.2.0_amd64.deb");
    let body = b"!<arch>\n a new Siteline package".repeat(1000);
    std::fs::write(&deb, &body).unwrap();
    let new = |version, signature| release(&deb, version, signature);
    // HQ refuses a file signed with another key, and a malformed version.
    let wrong = stranger.sign(&body);
    let err = releases
        .publish(&new("9.0.0", &wrong), &project.public())
        .unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    let good = &project.sign(&body);
    let err = releases
        .publish(&new("nine", good), &project.public())
        .unwrap_err();
    assert!(err.to_string().contains("semantic version"), "{err}");
    assert!(updates::check(app.handle(), &url).await.unwrap().is_none());

    // A correctly signed release is offered, downloads and verifies.
    let published = releases
        .publish(&new("9.0.0", good), &project.public())
        .unwrap();
    let update = updates::check(app.handle(), &url)
        .await
        .unwrap()
        .expect("HQ offers 9.0.0");
    let info = updates::info(&update);
    assert_eq!(info.version, "9.0.0");
    assert_eq!(info.current_version, current);
    assert_eq!(info.notes.as_deref(), Some("新增报表导出"));
    let bytes = updates::download(&update).await.unwrap();
    assert_eq!(bytes, body);
    // Publishing the same version twice is refused.
    assert!(
        releases
            .publish(&new("9.0.0", good), &project.public())
            .is_err()
    );

    // The stored file is altered after signing (a bad disk, a tampered mirror): refused.
    let stored = dir.path().join("updates").join(&published.file);
    let mut altered = body.clone();
    altered[10] ^= 0x20;
    std::fs::write(&stored, &altered).unwrap();
    let update = updates::check(app.handle(), &url).await.unwrap().unwrap();
    let err = updates::download(&update).await.unwrap_err();
    assert_eq!(err.kind, siteline_desktop_lib::error::ErrorKind::Update);
    assert!(
        err.message.to_lowercase().contains("signature"),
        "{}",
        err.message
    );

    // An app carrying another public key refuses even the untampered file.
    std::fs::write(&stored, &body).unwrap();
    let other = mock_app(&stranger.public());
    let update = updates::check(other.handle(), &url).await.unwrap().unwrap();
    assert!(updates::download(&update).await.is_err());
}
