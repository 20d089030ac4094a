//! The `creditbank` binary: starts with no configuration, is administered from the command
//! line, serves a real site's sync, and stops gracefully on SIGTERM. When the suite runs on
//! PostgreSQL, the binary runs with `--database` (through `CREDITBANK_DATABASE`) on a
//! throwaway database of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// A data directory and, on PostgreSQL, the credit bank's database.
struct Hq {
    dir: std::path::PathBuf,
    database: Option<(creditbank::store::postgres::Scratch, String)>,
}

impl Hq {
    fn new(dir: &std::path::Path) -> Hq {
        let database = std::env::var(creditbank::store::TEST_DATABASE_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .map(|server| creditbank::store::postgres::Scratch::create(&server).unwrap());
        Hq {
            dir: dir.to_path_buf(),
            database,
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_creditbank"));
        c.args(["--data-dir", self.dir.to_str().unwrap()])
            .env_remove("CREDITBANK_DATABASE");
        if let Some((_, url)) = &self.database {
            c.env("CREDITBANK_DATABASE", url);
        }
        c
    }
}

/// Runs an admin command; its stdout, which must be its answer alone (the command logs at
/// debug level here, to stderr).
fn creditbank(hq: &Hq, args: &[&str]) -> String {
    let out = hq
        .command()
        .env("RUST_LOG", "debug")
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
fn serve(hq: &Hq, extra: &[&str]) -> (std::process::Child, String) {
    let mut child = hq
        .command()
        .args(["serve", "--listen", "127.0.0.1:0"])
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
    let hq = Hq::new(dir.path());
    let site = creditbank(
        &hq,
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
    let code = creditbank(&hq, &["code", "--site", "GD-SZ-001"]);
    let code: serde_json::Value = serde_json::from_str(&code).unwrap();
    assert_eq!(code["code"].as_str().unwrap().len(), 14);

    let (mut child, addr) = serve(&hq, &[]);
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
    let catalogue = creditbank(&hq, &["publish"]);
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
    let (mut child, addr) = serve(&Hq::new(&data), &tls);
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

#[test]
fn serve_takes_a_real_sites_sync_and_accredits_its_learners_whose_credential_verifies() {
    use siteline_core::store::db::Db;
    use siteline_core::sync::client::{ClientConfig, HqClient};
    use siteline_core::sync::engine::{Engine, enrol};
    use siteline_core::sync::identity::Identity;

    let dir = tempfile::tempdir().unwrap();
    let hq = Hq::new(&dir.path().join("hq"));
    creditbank(
        &hq,
        &[
            "site",
            "create",
            "--code",
            "GD-SZ-009",
            "--name",
            "测试站",
            "--province",
            "44",
        ],
    );
    let code: serde_json::Value =
        serde_json::from_str(&creditbank(&hq, &["code", "--site", "GD-SZ-009"])).unwrap();
    let code = code["code"].as_str().unwrap().to_string();
    let (mut child, addr) = serve(&hq, &[]);
    let url = format!("http://{addr}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(async {
        let mut site = siteline_core::Site::open(&dir.path().join("site.db")).unwrap();
        let (manager, instructor) = siteline_core::demo::staff(&mut site).unwrap();
        let device = siteline_core::store::outbox::device(site.conn())
            .unwrap()
            .device_id;
        let identity =
            std::sync::Arc::new(Identity::load_or_create(&dir.path().join("device.key")).unwrap());
        let db = Db::from_site(site).await.unwrap();
        let client = HqClient::new(&ClientConfig::new(&url), device, identity).unwrap();
        enrol(&db, &client, &url, &code, "教室电脑").await.unwrap();
        db.call(move |site| {
            let learners = (1..=3)
                .map(|n| siteline_core::demo::register(site, &manager, n))
                .collect::<siteline_core::Result<Vec<_>>>()?;
            siteline_core::demo::complete_cohort(
                site,
                &manager,
                &instructor,
                "housekeeping-L5-v1",
                &learners,
                90,
            )
        })
        .await
        .unwrap();
        let engine = Engine::new(db.clone(), client);
        let first = engine.sync_once().await.unwrap();
        let second = engine.sync_once().await.unwrap();
        // The first certificate's signed credential, as the site received it.
        let credential = db
            .call(|site| {
                let number: String = site.conn().query_row(
                    "SELECT number FROM hq_certificate ORDER BY hq_seq LIMIT 1",
                    [],
                    |r| r.get(0),
                )?;
                siteline_core::store::hq::credential(site.conn(), &number)
            })
            .await
            .unwrap();
        (first, second, credential)
    });
    assert!(
        report.0.pushed > 0 && report.0.quarantined == 0,
        "{report:?}"
    );
    assert_eq!(report.1.pushed, 0, "nothing pushed twice: {report:?}");
    let audit: serde_json::Value = serde_json::from_str(&creditbank(&hq, &["audit"])).unwrap();
    assert_eq!(audit["record"], report.0.pushed, "{audit}");
    assert_eq!(audit["credit_account"], 3, "{audit}");
    assert_eq!(audit["credit_posting"], 3, "{audit}");
    assert_eq!(audit["certificate"], 3, "{audit}");
    assert_eq!(
        audit["resident_ids_in_clear"],
        serde_json::json!([]),
        "{audit}"
    );
    // `creditbank verify FILE`: the site's credential file is valid; changed, it is altered
    // and the command fails.
    let credential: serde_json::Value = serde_json::from_str(&report.2).unwrap();
    assert!(
        credential["id"].as_str().unwrap().starts_with(&url),
        "the credential names the address HQ serves at: {credential}"
    );
    let file = dir.path().join("certificate.json");
    std::fs::write(&file, &report.2).unwrap();
    let out = creditbank(&hq, &["verify", file.to_str().unwrap()]);
    assert!(out.contains("有效") && out.contains("Valid"), "{out}");
    assert!(out.contains("家务服务员"), "{out}");
    let mut altered = credential;
    altered["credentialSubject"]["creditsEarned"] = 60.0.into();
    std::fs::write(&file, altered.to_string()).unwrap();
    let out = hq
        .command()
        .args(["verify", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("已被改动"));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}
