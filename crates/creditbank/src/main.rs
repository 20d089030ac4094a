//! `creditbank`: run the credit bank server, or administer it from the command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use creditbank::releases::Releases;
use creditbank::store::Bank;
use creditbank::store::Store;
use creditbank::{AppState, router};

#[derive(Parser)]
#[command(
    name = "creditbank",
    version,
    about = "The Siteline credit bank (学分银行) server"
)]
struct Cli {
    /// Where the database, HQ key and admin token live.
    #[arg(
        long,
        env = "CREDITBANK_DATA",
        default_value = "creditbank-data",
        global = true
    )]
    data_dir: PathBuf,
    /// A PostgreSQL database to keep the credit bank in, for a national HQ
    /// (`postgres://user:password@host:5432/creditbank`); without it, SQLite in the data
    /// directory. HQ's keys stay in the data directory either way.
    #[arg(
        long,
        env = "CREDITBANK_DATABASE",
        global = true,
        hide_env_values = true
    )]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "CREDITBANK_LISTEN", default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
        /// TLS certificate chain (PEM); with --tls-key, serve HTTPS.
        #[arg(long, env = "CREDITBANK_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// TLS private key (PEM).
        #[arg(long, env = "CREDITBANK_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Admin token for /admin; default: read or create <data-dir>/admin.token.
        #[arg(long, env = "CREDITBANK_ADMIN_TOKEN")]
        admin_token: Option<String>,
        /// The address sites and the public reach HQ at: update download links, and the
        /// credentials, status lists and verify pages certificates name (default: the listen
        /// address).
        #[arg(long, env = "CREDITBANK_PUBLIC_URL")]
        public_url: Option<String>,
        /// Send learning records (xAPI 2.0) every minute to the Learning Record Store at this
        /// address (its statements resource is `<url>/statements`).
        #[arg(long, env = "CREDITBANK_LRS_URL", requires_all = ["lrs_user", "lrs_password"])]
        lrs_url: Option<String>,
        /// The LRS's Basic auth user.
        #[arg(long, env = "CREDITBANK_LRS_USER")]
        lrs_user: Option<String>,
        /// The LRS's Basic auth password.
        #[arg(long, env = "CREDITBANK_LRS_PASSWORD", hide_env_values = true)]
        lrs_password: Option<String>,
    },
    /// Issue a valid certificate again under a new number (after the learner's name was
    /// corrected); the old one is superseded by it.
    Reissue {
        /// The certificate number.
        number: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Learning records for a Learning Record Store (xAPI 2.0).
    #[command(subcommand)]
    Xapi(XapiCmd),
    /// Check a certificate's credential file offline, with HQ's own key and records: HQ's
    /// signature, that it is exactly what HQ issued, and its standing. Exits non-zero unless
    /// it is valid.
    Verify {
        /// The credential file (JSON).
        file: PathBuf,
    },
    /// Signed app updates served to sites.
    #[command(subcommand)]
    Release(ReleaseCmd),
    /// Sites.
    #[command(subcommand)]
    Site(SiteCmd),
    /// Issue a one-time device enrolment code for a site.
    Code {
        /// Site code.
        #[arg(long)]
        site: String,
        /// Days the code stays valid.
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
    /// Devices.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Publish a catalogue version (JSON file), or the built-in seed catalogue.
    Publish {
        /// Catalogue JSON; omit for the seed catalogue.
        file: Option<PathBuf>,
    },
    /// Quarantined rows.
    #[command(subcommand)]
    Quarantine(QuarantineCmd),
    /// Import a site's sync bundle file and write HQ's answer file for it.
    Bundle {
        /// The bundle file the site exported.
        file: PathBuf,
        /// Where to write the answer file for the site to import.
        #[arg(long)]
        answer: PathBuf,
    },
    /// Reverse a credit posting (a negative posting; its certificate is revoked).
    Reverse {
        /// Posting id.
        posting_id: i64,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Count what HQ holds (sites, devices, records, change log, accounts, postings,
    /// certificates) and check that no resident ID number is stored in clear; exits non-zero
    /// if one is.
    Audit,
    /// Show a credit account's balance, sites and certificates.
    Account {
        /// Account number, e.g. CB0000000001.
        account_no: String,
    },
}

#[derive(Subcommand)]
enum ReleaseCmd {
    /// Publish an update file (e.g. the .deb) with the signature `npx tauri signer sign` wrote.
    Publish {
        /// linux, windows or darwin.
        #[arg(long, default_value = "linux")]
        target: String,
        /// x86_64, aarch64, ….
        #[arg(long, default_value = "x86_64")]
        arch: String,
        /// The new version, e.g. 0.2.0.
        #[arg(long)]
        version: String,
        /// The update file.
        #[arg(long)]
        file: PathBuf,
        /// Its `.sig` file.
        #[arg(long)]
        signature: PathBuf,
        /// Release notes shown to site managers.
        #[arg(long, default_value = "")]
        notes: String,
        /// Updater public key (base64, as in tauri.conf.json); default: the project's.
        #[arg(long, env = "CREDITBANK_UPDATER_PUBKEY")]
        pubkey: Option<String>,
    },
    /// List published releases.
    List,
}

/// The project's updater public key (src-tauri/updater.pub; the app carries the same).
const UPDATER_PUBKEY: &str = include_str!("../../../src-tauri/updater.pub");

#[derive(Subcommand)]
enum SiteCmd {
    /// Create a site.
    Create {
        /// Code, e.g. GD-SZ-001.
        #[arg(long)]
        code: String,
        /// Name, e.g. 深圳市家政服务培训站.
        #[arg(long)]
        name: String,
        /// Two-digit province code (certificate numbers).
        #[arg(long, default_value = "00")]
        province: String,
    },
    /// List sites with last sync and lag.
    List,
}

#[derive(Subcommand)]
enum DeviceCmd {
    /// List devices.
    List,
    /// Revoke a device.
    Revoke {
        /// Device id.
        id: uuid::Uuid,
    },
}

#[derive(Subcommand)]
enum XapiCmd {
    /// Queue what is new and send every statement the LRS has not accepted, in batches,
    /// resuming where the last run stopped; prints the progress, exits non-zero on a failure.
    Send {
        /// The LRS (its statements resource is `<url>/statements`).
        #[arg(long, env = "CREDITBANK_LRS_URL")]
        lrs_url: String,
        /// Basic auth user.
        #[arg(long, env = "CREDITBANK_LRS_USER")]
        lrs_user: String,
        /// Basic auth password.
        #[arg(long, env = "CREDITBANK_LRS_PASSWORD", hide_env_values = true)]
        lrs_password: String,
        /// HQ's public address, the learners' accounts' home page in the statements.
        #[arg(long, env = "CREDITBANK_PUBLIC_URL")]
        public_url: String,
    },
    /// Statements queued and sent, the last attempt, success and error.
    Status,
}

#[derive(Subcommand)]
enum QuarantineCmd {
    /// List quarantined rows.
    List,
    /// Resolve a quarantined row: re-apply it, or set it aside if it still cannot apply.
    Resolve {
        /// Device id.
        device: uuid::Uuid,
        /// Epoch.
        epoch: u32,
        /// Seq.
        seq: u64,
        /// How it was resolved.
        #[arg(long)]
        note: String,
    },
}

fn print<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn admin_token(dir: &Path, given: Option<String>) -> anyhow::Result<String> {
    if let Some(t) = given.filter(|t| !t.trim().is_empty()) {
        return Ok(t.trim().to_string());
    }
    let path = dir.join("admin.token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        return Ok(t.trim().to_string());
    }
    use rand_core::RngCore;
    let mut bytes = [0u8; 24];
    rand_core::OsRng.fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(token.as_bytes())?;
    }
    #[cfg(not(unix))]
    std::fs::write(&path, &token)?;
    Ok(token)
}

fn ensure_catalogue(store: &Bank) -> anyhow::Result<()> {
    if store.query_i64("SELECT count(*) FROM catalogue_version")? == 0 {
        let seed = siteline_domain::seed::catalogue();
        store.publish_catalogue(&seed)?;
        tracing::info!(version = %seed.version, "published the seed catalogue");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The server logs to stdout (its service manager collects it); an admin command prints its
    // answer (often JSON for a script) on stdout, so its log goes to stderr.
    let serving = matches!(cli.command, Command::Serve { .. });
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=info".into());
    if serving {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let store =
        Bank::open(&cli.data_dir, cli.database.as_deref()).with_context(|| match cli.database {
            Some(_) => format!(
                "opening the credit bank on PostgreSQL (keys in {})",
                cli.data_dir.display()
            ),
            None => format!("opening the credit bank in {}", cli.data_dir.display()),
        })?;
    match cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            admin_token: token,
            public_url,
            lrs_url,
            lrs_user,
            lrs_password,
        } => {
            ensure_catalogue(&store)?;
            let token = admin_token(&cli.data_dir, token)?;
            tracing::info!(path = %cli.data_dir.join("admin.token").display(), "admin token ready (or from CREDITBANK_ADMIN_TOKEN)");
            let releases = Arc::new(Releases::open(&cli.data_dir.join("updates"))?);
            // Bound first, so the address certificates name is the real one (also when asked
            // for port 0).
            let listener = std::net::TcpListener::bind(listen)
                .with_context(|| format!("listening on {listen}"))?;
            listener.set_nonblocking(true)?;
            let scheme = if tls_cert.is_some() { "https" } else { "http" };
            let base = public_url.clone().unwrap_or_else(|| {
                format!(
                    "{scheme}://{}",
                    listener
                        .local_addr()
                        .map(|a| a.to_string())
                        .unwrap_or_else(|_| listen.to_string())
                )
            });
            store.set_public_url(&base);
            let store: Arc<dyn creditbank::store::Store> = Arc::new(store);
            if let (Some(url), Some(user), Some(password)) = (lrs_url, lrs_user, lrs_password) {
                let lrs = creditbank::xapi::Lrs {
                    url,
                    user,
                    password,
                };
                let s = store.clone();
                tokio::spawn(async move {
                    loop {
                        match creditbank::xapi::export(s.clone(), &lrs).await {
                            Ok(st) => tracing::debug!(
                                sent = st.sent,
                                queued = st.queued,
                                "learning records sent"
                            ),
                            Err(e) => {
                                tracing::warn!(error = %e, "learning records not sent; trying again in a minute")
                            }
                        }
                        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    }
                });
            }
            let mut state = AppState::new(store, &token).with_releases(releases);
            state.public_url = public_url.map(Into::into);
            state.tls = tls_cert.is_some();
            let app = router(state);
            serve(app, listener, tls_cert.zip(tls_key)).await?;
        }
        Command::Reissue { number, reason } => {
            let new = store.reissue_certificate(&number, &reason)?;
            println!("{number} superseded by {new}; the site is told");
        }
        Command::Xapi(XapiCmd::Status) => print(&store.xapi_status()?)?,
        Command::Xapi(XapiCmd::Send {
            lrs_url,
            lrs_user,
            lrs_password,
            public_url,
        }) => {
            store.set_public_url(&public_url);
            let lrs = creditbank::xapi::Lrs {
                url: lrs_url,
                user: lrs_user,
                password: lrs_password,
            };
            let store: Arc<dyn creditbank::store::Store> = Arc::new(store);
            let outcome = creditbank::xapi::export(store.clone(), &lrs).await;
            print(&store.xapi_status()?)?;
            outcome?;
        }
        Command::Verify { file } => {
            let text =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let doc: serde_json::Value =
                serde_json::from_slice(&text).unwrap_or(serde_json::Value::Null);
            let verdict = store.verify_credential(&doc)?;
            println!("{}", verdict.message_zh);
            println!("{}", verdict.message_en);
            if let Some(c) = &verdict.certificate {
                println!();
                println!("证书编号 Number:       {}", c.number);
                println!("姓名 Name:             {}", c.learner_name);
                println!(
                    "职业及等级 Occupation:  {}（{}） / {} (level {})",
                    c.programme_zh,
                    creditbank::credentials::level_names(c.level).0,
                    c.programme_en,
                    c.level
                );
                println!(
                    "培训起止 Training:      {} — {}",
                    c.training_start, c.training_end
                );
                println!("培训机构 Institution:   {}", c.institution);
                println!("发证日期 Issued on:     {}", c.issued_at.date_naive());
                println!("状态 Status:           {}", c.status);
            }
            if verdict.outcome != creditbank::store::VerifyOutcome::Valid {
                std::process::exit(1);
            }
        }
        Command::Site(SiteCmd::Create {
            code,
            name,
            province,
        }) => print(&store.create_site(&code, &name, &province)?)?,
        Command::Release(ReleaseCmd::Publish {
            target,
            arch,
            version,
            file,
            signature,
            notes,
            pubkey,
        }) => {
            let releases = Releases::open(&cli.data_dir.join("updates"))?;
            let sig = std::fs::read_to_string(&signature)
                .with_context(|| format!("reading {}", signature.display()))?;
            let key = pubkey.unwrap_or_else(|| UPDATER_PUBKEY.trim().to_string());
            let new = creditbank::releases::NewRelease {
                target: &target,
                arch: &arch,
                version: &version,
                file: &file,
                signature: &sig,
                notes: &notes,
            };
            print(&releases.publish(&new, &key)?)?
        }
        Command::Release(ReleaseCmd::List) => {
            print(&Releases::open(&cli.data_dir.join("updates"))?.list()?)?
        }
        Command::Site(SiteCmd::List) => print(&store.list_sites(chrono::Utc::now())?)?,
        Command::Code { site, days } => {
            print(&store.issue_enrolment_code(&site, chrono::Duration::days(days))?)?
        }
        Command::Device(DeviceCmd::List) => print(&store.list_devices()?)?,
        Command::Device(DeviceCmd::Revoke { id }) => {
            store.revoke_device(id)?;
            println!("device {id} revoked");
        }
        Command::Publish { file } => {
            let doc = match file {
                Some(f) => serde_json::from_slice(
                    &std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?,
                )
                .with_context(|| format!("{} is not a catalogue document", f.display()))?,
                None => siteline_domain::seed::catalogue(),
            };
            let new = store.publish_catalogue(&doc)?;
            println!(
                "catalogue {} {}",
                doc.version,
                if new {
                    "published"
                } else {
                    "was already published"
                }
            );
        }
        Command::Quarantine(QuarantineCmd::List) => print(&store.list_quarantine()?)?,
        Command::Quarantine(QuarantineCmd::Resolve {
            device,
            epoch,
            seq,
            note,
        }) => {
            if store.resolve_quarantine(device, epoch, seq, &note)? {
                println!("re-applied: the record now counts; the site is told");
            } else {
                println!("set aside: the row still cannot apply; the site is told");
            }
        }
        Command::Bundle { file, answer } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let bundle = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a Siteline sync bundle", file.display()))?;
            let reply =
                creditbank::bundle::answer(&store, &bundle, chrono::Utc::now().timestamp_millis())?;
            // The answer names learners and accounts: owner-only, never over an old file.
            if answer.exists() {
                std::fs::remove_file(&answer)
                    .with_context(|| format!("replacing {}", answer.display()))?;
            }
            siteline_domain::crypto::write_private(&answer, &serde_json::to_vec_pretty(&reply)?)
                .with_context(|| format!("writing {}", answer.display()))?;
            let body: siteline_proto::sync::AnswerBody = serde_json::from_str(&reply.body)?;
            let acked = body.ack.as_ref().map_or(0, |a| a.acked_through);
            println!(
                "imported; acknowledged through seq {acked}; answer written to {}",
                answer.display()
            );
        }
        Command::Audit => {
            let mut counts = serde_json::Map::new();
            for table in [
                "site",
                "device",
                "record",
                "change_log",
                "credit_account",
                "credit_posting",
                "certificate",
                "decision",
            ] {
                counts.insert(
                    table.into(),
                    store
                        .query_i64(&format!("SELECT count(*) FROM {table}"))?
                        .into(),
                );
            }
            let clear = store.find_resident_ids()?;
            counts.insert("resident_ids_in_clear".into(), clear.clone().into());
            println!("{}", serde_json::Value::Object(counts));
            if !clear.is_empty() {
                anyhow::bail!(
                    "resident ID numbers stored in clear in {}",
                    clear.join(", ")
                );
            }
        }
        Command::Reverse { posting_id, reason } => {
            let id = store.reverse_posting(posting_id, &reason)?;
            println!("posting {posting_id} reversed by posting {id}");
        }
        Command::Account { account_no } => print(&store.account(&account_no)?)?,
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Serves until SIGINT/SIGTERM; requests in flight finish (each push commits whole or not at
/// all), so stopping loses nothing.
async fn serve(
    app: axum::Router,
    listener: std::net::TcpListener,
    tls: Option<(PathBuf, PathBuf)>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    match tls {
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            tracing::info!(addr = %addr, "credit bank listening (HTTP)");
            // The peer address keys the enrolment rate limit.
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        }
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .with_context(|| {
                    format!(
                        "loading TLS certificate {} and key {}",
                        cert.display(),
                        key.display()
                    )
                })?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                h.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
            });
            tracing::info!(addr = %addr, "credit bank listening (HTTPS)");
            axum_server::from_tcp_rustls(listener, config)
                .handle(handle)
                .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                .await?;
        }
    }
    Ok(())
}
