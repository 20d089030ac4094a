//! The `creditbank` binary: starts with no configuration, is administered from the command
//! line, and stops gracefully on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn creditbank(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_creditbank"))
        .args(["--data-dir", dir.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `creditbank serve` on a free port and returns it with the address it logged.
fn serve(dir: &std::path::Path, extra: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_creditbank"))
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if line.contains("listening")
            && let Some(rest) = line.split("addr=").nth(1)
        {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    (child, addr)
}

#[test]
fn serve_starts_with_no_configuration_and_the_cli_creates_a_site_and_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let site = creditbank(
        dir.path(),
        &[
            "site",
            "create",
            "--code",
            "GD-SZ-001",
            "--name",
            "深圳市家政培训站",
            "--province",
            "44",
        ],
    );
    assert!(site.contains("\"code\": \"GD-SZ-001\""), "{site}");
    let code = creditbank(dir.path(), &["code", "--site", "GD-SZ-001"]);
    let code: serde_json::Value = serde_json::from_str(&code).unwrap();
    assert_eq!(code["code"].as_str().unwrap().len(), 14);

    let (mut child, addr) = serve(dir.path(), &[]);
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "GET /v1/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.contains("siteline-creditbank"), "{reply}");
    // The seed catalogue was published on first start, and the admin token written.
    assert!(dir.path().join("admin.token").exists());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let catalogue = creditbank(dir.path(), &["publish"]);
    assert!(catalogue.contains("was already published"), "{catalogue}");
}

#[test]
fn serve_speaks_tls_with_a_certificate_and_key_file() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let data = dir.path().join("data");
    let tls = [
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ];
    let (mut child, addr) = serve(&data, &tls);
    let port = addr.rsplit(':').next().unwrap().to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let hello: serde_json::Value = rt.block_on(async {
        let client = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap(),
            )
            .build()
            .unwrap();
        client
            .get(format!("https://localhost:{port}/v1/hello"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(hello["service"], "siteline-creditbank");
    // Plain HTTP to the TLS port gets no greeting.
    let plain =
        rt.block_on(async { reqwest::get(format!("http://127.0.0.1:{port}/v1/hello")).await });
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}
