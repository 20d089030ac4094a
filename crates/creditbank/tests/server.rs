//! A real credit bank on 127.0.0.1:0 over TCP: handshake, OpenAPI, compressed bodies, admin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;

use common::{Device, Hq, SiteApp, TOKEN, batch};
use siteline_proto::sync::{Hello, headers};

async fn spawn(hq: &Hq) -> String {
    // Bind first, then serve: no sleep needed before the first request.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = creditbank::router(hq.state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[tokio::test]
async fn a_site_reaches_the_real_server_pushes_gzip_and_reads_zstd() {
    let hq = Hq::new();
    let base = spawn(&hq).await;
    let http = client();
    let hello: Hello = http
        .get(format!("{base}/v1/hello"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hello.service, siteline_proto::sync::SERVICE_NAME);
    assert_eq!(
        hello.protocol_versions,
        vec![siteline_proto::PROTOCOL_VERSION]
    );

    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    site.enrolled(hq.enrol(&code, &device).await);
    for n in 0..20 {
        site.learner(n);
    }
    // Sign the plain JSON, send it gzip-compressed.
    let rows = site.rows();
    let b = batch(&rows);
    let json = serde_json::to_vec(&b).unwrap();
    let signed = device.push_raw(
        b.epoch,
        b.from_seq,
        b.to_seq,
        json.clone(),
        chrono::Utc::now().timestamp_millis(),
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).unwrap();
    let compressed = gz.finish().unwrap();
    // Learner rows carry their profile sealed for the site's other devices, and ciphertext
    // does not compress: the rest of the batch still shrinks to under half.
    assert!(
        compressed.len() * 2 < json.len(),
        "{} vs {}",
        compressed.len(),
        json.len()
    );
    let mut req = http
        .post(format!("{base}/v1/push"))
        .header("content-encoding", "gzip")
        .body(compressed);
    for name in [
        headers::PROTOCOL,
        headers::DEVICE,
        headers::TIMESTAMP,
        headers::SEQ_RANGE,
        headers::SIGNATURE,
        "content-type",
    ] {
        req = req.header(name, signed.headers()[name].to_str().unwrap());
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let ack: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(ack["applied"].as_u64().unwrap() as usize, rows.len());

    // A pull asked for with zstd comes back compressed.
    let pull = device.pull(0);
    let mut req = http
        .get(format!("{base}{}", pull.uri()))
        .header("accept-encoding", "zstd");
    for (k, v) in pull.headers() {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.headers()["content-encoding"], "zstd");

    // OpenAPI generated from the code.
    let doc: serde_json::Value = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in ["/v1/hello", "/v1/enrol", "/v1/push", "/v1/pull"] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(doc["components"]["schemas"]["PushAck"].is_object());

    // HQ sees the site's last sync and lag.
    let sites: serde_json::Value = http
        .get(format!("{base}/admin/sites"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let s = &sites[0];
    assert_eq!(s["code"], "GD-SZ-001");
    assert_eq!(s["devices"], 1);
    assert!(s["last_sync_at"].is_string());
    assert!((0..60).contains(&s["lag_seconds"].as_i64().unwrap()));
}

#[tokio::test]
async fn a_compressed_body_that_expands_past_the_limit_is_refused() {
    let mut hq = Hq::new();
    let mut state = hq.state.clone();
    state.max_body = 64 * 1024;
    hq.state = state;
    let code = hq.site("GD-SZ-001");
    let device = Device::new(uuid::Uuid::now_v7());
    hq.enrol(&code, &device).await;
    // 1 MiB of spaces compresses to a few KiB.
    let json = vec![b' '; 1024 * 1024];
    let signed = device.push_raw(1, 1, 1, json.clone(), chrono::Utc::now().timestamp_millis());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&json).unwrap();
    let (mut parts, _) = signed.into_parts();
    parts
        .headers
        .insert("content-encoding", "gzip".parse().unwrap());
    let req = axum::http::Request::from_parts(parts, axum::body::Body::from(gz.finish().unwrap()));
    let (status, body) = hq.send(req).await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "body_too_large");
}
