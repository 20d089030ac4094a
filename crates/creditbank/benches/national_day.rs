//! A national day: 2,000 sites, each with a cohort of 10 learners already at HQ, push their
//! day's delta (2 sessions and 48 roll-call marks, 50 rows) and pull, at moments spread
//! uniformly over a simulated hour, to the real `creditbank serve` binary (a separate process,
//! so its CPU and memory are its own). Then the same sites push the next day's delta all at
//! once (64 at a time), for the headroom. On SQLite and, when a server is given, PostgreSQL.
//!
//! `SITELINE_PG_DURABLE=1 scripts/with-postgres.sh cargo bench -p creditbank --bench national_day`
//!
//! `NATIONAL_DAY_SPEEDUP` (default 60: the hour in a minute) and `NATIONAL_DAY_SITES` (default
//! 2,000) change the load.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use creditbank::store::{Bank, Store};
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use siteline_proto::records::{AttendanceEvent, Cohort, Enrolment, Learner, Record, Session};
use siteline_proto::sync::{EnrolRequest, headers, pull_signing_string, push_signing_string};
use siteline_proto::vocab::{AttendanceKind, IdType};
use siteline_proto::{OutboxRow, PushBatch};
use uuid::Uuid;

const LEARNERS: usize = 10;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A simulated site: its device, key, next seq, cohort and learners.
struct Site {
    device: Uuid,
    key: SigningKey,
    next_seq: u64,
    cohort: Uuid,
    learners: Vec<Uuid>,
}

impl Site {
    fn rows(&mut self, records: Vec<(Uuid, Record)>) -> Vec<OutboxRow> {
        records
            .into_iter()
            .map(|(record_id, record)| {
                let seq = self.next_seq;
                self.next_seq += 1;
                OutboxRow {
                    device_id: self.device,
                    epoch: 1,
                    seq,
                    entity: record.entity(),
                    op: record.op(),
                    record_id,
                    payload: record.to_payload(),
                    recorded_at: Utc::now(),
                    hlc: siteline_proto::hlc::Hlc {
                        wall_ms: Utc::now().timestamp_millis() as u64,
                        counter: (seq % 1_000_000) as u32,
                        device: self.device,
                    },
                }
            })
            .collect()
    }

    /// The cohort and its learners, enrolled: what HQ holds before the day.
    fn base(&mut self) -> Vec<OutboxRow> {
        let today = Utc::now().date_naive();
        let mut records = vec![(
            self.cohort,
            Record::Cohort(Cohort {
                programme_version_id: "maternity-L5-v1".into(),
                name: "养老护理班".into(),
                start_date: today,
                end_date: today,
                capacity: 40,
                instructors: vec![],
            }),
        )];
        for (i, l) in self.learners.iter().enumerate() {
            records.push((
                *l,
                Record::Learner(Learner {
                    name: format!("学员{i}"),
                    id_type: IdType::Passport,
                    id_masked: "E*****12".into(),
                    phone_masked: None,
                    sex: None,
                    birth_date: None,
                    id_number_sealed: None,
                    withheld: false,
                    site_sealed: None,
                }),
            ));
        }
        for l in self.learners.clone() {
            records.push((
                Uuid::now_v7(),
                Record::Enrolment(Enrolment {
                    cohort_id: self.cohort,
                    learner_id: l,
                }),
            ));
        }
        self.rows(records)
    }

    /// A day's delta: two 4-hour sessions and 24 marks in each (50 rows).
    fn day(&mut self, day: i64) -> Vec<OutboxRow> {
        let mut records = Vec::new();
        for half in 0..2 {
            let session = Uuid::now_v7();
            let starts: DateTime<Utc> =
                Utc::now() - chrono::Duration::days(7 - day) + chrono::Duration::hours(4 * half);
            records.push((
                session,
                Record::Session(Session {
                    cohort_id: self.cohort,
                    unit_id: None,
                    starts_at: starts,
                    ends_at: starts + chrono::Duration::hours(4),
                    instructor_id: None,
                }),
            ));
            for m in 0..24 {
                let (kind, at) = if m < 12 {
                    (
                        AttendanceKind::CheckIn,
                        starts + chrono::Duration::minutes(m),
                    )
                } else {
                    (
                        AttendanceKind::CheckOut,
                        starts + chrono::Duration::minutes(200 + m),
                    )
                };
                records.push((
                    Uuid::now_v7(),
                    Record::AttendanceEvent(AttendanceEvent {
                        session_id: session,
                        learner_id: self.learners[m as usize % LEARNERS],
                        kind,
                        at,
                        method: "roll_call".into(),
                        attested_by: self.device,
                        correction_id: None,
                    }),
                ));
            }
        }
        self.rows(records)
    }
}

/// CPU seconds used so far by processes named `name`, or by `pid`.
fn cpu_seconds(filter: impl Fn(u32, &str) -> bool) -> f64 {
    let tick = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = &stat[stat.find('(').unwrap_or(0) + 1..close];
        if !filter(pid, comm) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat; 12 and 13 after pid and comm.
        total += fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
    }
    total as f64 / tick
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn sign_push(site: &Site, batch: &PushBatch, json: &[u8]) -> (i64, String) {
    let ts = Utc::now().timestamp_millis();
    let digest: String = Sha256::digest(json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let sig = site.key.sign(
        push_signing_string(site.device, 1, batch.from_seq, batch.to_seq, ts, &digest).as_bytes(),
    );
    (ts, B64.encode(sig.to_bytes()))
}

/// Pushes `rows` and pulls the site's log: (push latency, pull latency).
async fn sync(
    http: &reqwest::Client,
    base: &str,
    site: &Site,
    rows: Vec<OutboxRow>,
) -> (Duration, Duration) {
    let batch = PushBatch {
        device_id: site.device,
        epoch: 1,
        from_seq: rows[0].seq,
        to_seq: rows[rows.len() - 1].seq,
        rows,
    };
    let json = serde_json::to_vec(&batch).unwrap();
    let (ts, sig) = sign_push(site, &batch, &json);
    let t = Instant::now();
    let resp = http
        .post(format!("{base}/v1/push"))
        .header(
            headers::PROTOCOL,
            siteline_proto::PROTOCOL_VERSION.to_string(),
        )
        .header(headers::DEVICE, site.device.to_string())
        .header(headers::TIMESTAMP, ts.to_string())
        .header(
            headers::SEQ_RANGE,
            format!("1:{}-{}", batch.from_seq, batch.to_seq),
        )
        .header(headers::SIGNATURE, sig)
        .header("content-type", "application/json")
        .body(json)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let ack: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        ack["quarantined"][0],
        serde_json::Value::Null,
        "HQ refused a row"
    );
    let push = t.elapsed();
    let ts = Utc::now().timestamp_millis();
    let max = 1_000_000u64;
    let sig = site
        .key
        .sign(pull_signing_string(site.device, 0, max, ts).as_bytes());
    let t = Instant::now();
    let resp = http
        .get(format!("{base}/v1/pull?since=0&max_bytes={max}"))
        .header(
            headers::PROTOCOL,
            siteline_proto::PROTOCOL_VERSION.to_string(),
        )
        .header(headers::DEVICE, site.device.to_string())
        .header(headers::TIMESTAMP, ts.to_string())
        .header(headers::SIGNATURE, B64.encode(sig.to_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let _ = resp.bytes().await.unwrap();
    (push, t.elapsed())
}

struct Phase {
    secs: f64,
    pushes: usize,
    push_p50: f64,
    push_p99: f64,
    pull_p99: f64,
    hq_cpu: f64,
    pg_cpu: f64,
}

fn summarize(
    secs: f64,
    mut pushes: Vec<Duration>,
    mut pulls: Vec<Duration>,
    hq_cpu: f64,
    pg_cpu: f64,
) -> Phase {
    pushes.sort();
    pulls.sort();
    let pct = |v: &[Duration], p: f64| {
        v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
    };
    Phase {
        secs,
        pushes: pushes.len(),
        push_p50: pct(&pushes, 0.5),
        push_p99: pct(&pushes, 0.99),
        pull_p99: pct(&pulls, 0.99),
        hq_cpu,
        pg_cpu,
    }
}

struct Outcome {
    name: &'static str,
    hour: Phase,
    burst: Phase,
    hwm_kib: u64,
    rss_kib: u64,
}

async fn run(server: Option<String>) -> Outcome {
    let name = if server.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let sites_n = env_or("NATIONAL_DAY_SITES", 2000) as usize;
    let speedup = env_or("NATIONAL_DAY_SPEEDUP", 60) as f64;
    println!("== {name}: {sites_n} sites");
    let dir = tempfile::tempdir().unwrap();
    let scratch = server
        .as_deref()
        .map(|s| creditbank::store::postgres::Scratch::create(s).unwrap());
    let url = scratch.as_ref().map(|(_, url)| url.clone());
    // Set-up in this process: sites, devices and each site's cohort already at HQ.
    let mut sites = Vec::new();
    {
        let store = Bank::open(dir.path(), url.as_deref()).unwrap();
        store
            .publish_catalogue(&siteline_domain::seed::catalogue())
            .unwrap();
        let t = Instant::now();
        for i in 0..sites_n {
            let code = format!("N-{i:05}");
            store.create_site(&code, &code, "11").unwrap();
            let enrol = store
                .issue_enrolment_code(&code, chrono::Duration::days(1))
                .unwrap()
                .code;
            let key = SigningKey::generate(&mut rand_core::OsRng);
            let device = Uuid::now_v7();
            store
                .enrol_device(
                    &EnrolRequest {
                        code: enrol,
                        device_id: device,
                        public_key: B64.encode(key.verifying_key().to_bytes()),
                        label: code,
                    },
                    key.verifying_key().to_bytes(),
                )
                .unwrap();
            let mut site = Site {
                device,
                key,
                next_seq: 1,
                cohort: Uuid::now_v7(),
                learners: (0..LEARNERS).map(|_| Uuid::now_v7()).collect(),
            };
            let rows = site.base();
            let info = store.device(device).unwrap().unwrap();
            let batch = PushBatch {
                device_id: device,
                epoch: 1,
                from_seq: rows[0].seq,
                to_seq: rows[rows.len() - 1].seq,
                rows,
            };
            let ack = store.push(&info, &batch).unwrap();
            assert!(ack.quarantined.is_empty(), "{:?}", ack.quarantined.first());
            sites.push(site);
        }
        println!(
            "set-up: {sites_n} sites in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    // The server, as HQ runs it.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_creditbank"));
    cmd.args([
        "--data-dir",
        dir.path().to_str().unwrap(),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ])
    .args(["--admin-token", "bench"])
    .env_remove("CREDITBANK_DATABASE")
    .env("NO_COLOR", "1")
    .env("RUST_LOG", "warn,creditbank=info")
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null());
    if let Some(url) = &url {
        cmd.env("CREDITBANK_DATABASE", url);
    }
    let mut child = cmd.spawn().unwrap();
    let hq = child.id();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the server exited").unwrap();
        if line.contains("listening")
            && let Some(rest) = line.split("addr=").nth(1)
        {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let is_pg = |_: u32, comm: &str| comm == "postgres";
    let is_hq = move |pid: u32, _: &str| pid == hq;

    // The hour: each site at its own moment.
    let window = 3600.0 / speedup;
    let mut seed = 2026u64;
    let mut work = Vec::new();
    for site in &mut sites {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let at = (seed >> 11) as f64 / (1u64 << 53) as f64 * window;
        let rows = site.day(1);
        work.push((at, rows));
    }
    let sites = Arc::new(sites);
    let (pg0, hq0) = (cpu_seconds(is_pg), cpu_seconds(is_hq));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, (at, rows)) in work.into_iter().enumerate() {
        let (http, base, sites) = (http.clone(), base.clone(), sites.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(
                started + Duration::from_secs_f64(at),
            ))
            .await;
            sync(&http, &base, &sites[i], rows).await
        }));
    }
    let mut pushes = Vec::new();
    let mut pulls = Vec::new();
    for t in tasks {
        let (push, pull) = t.await.unwrap();
        pushes.push(push);
        pulls.push(pull);
    }
    let secs = started.elapsed().as_secs_f64();
    let hour = summarize(
        secs,
        pushes,
        pulls,
        cpu_seconds(is_hq) - hq0,
        cpu_seconds(is_pg) - pg0,
    );

    // The next day, all at once, 64 at a time: the headroom.
    let mut sites = Arc::try_unwrap(sites).ok().unwrap();
    let work: Vec<_> = sites.iter_mut().map(|s| s.day(2)).collect();
    let sites = Arc::new(sites);
    let queue = Arc::new(std::sync::Mutex::new(
        work.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let (pg0, hq0) = (cpu_seconds(is_pg), cpu_seconds(is_hq));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (http, base, sites, queue) = (http.clone(), base.clone(), sites.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let next = queue.lock().unwrap().pop();
                let Some((i, rows)) = next else { break out };
                out.push(sync(&http, &base, &sites[i], rows).await);
            }
        }));
    }
    let mut pushes = Vec::new();
    let mut pulls = Vec::new();
    for t in tasks {
        for (push, pull) in t.await.unwrap() {
            pushes.push(push);
            pulls.push(pull);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let burst = summarize(
        secs,
        pushes,
        pulls,
        cpu_seconds(is_hq) - hq0,
        cpu_seconds(is_pg) - pg0,
    );
    let (hwm_kib, rss_kib) = (status_kib(hq, "VmHWM:"), status_kib(hq, "VmRSS:"));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &hq.to_string()])
        .status();
    let _ = child.wait();
    drop(scratch);
    Outcome {
        name,
        hour,
        burst,
        hwm_kib,
        rss_kib,
    }
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut results = vec![rt.block_on(run(None))];
    match std::env::var(creditbank::store::TEST_DATABASE_ENV) {
        Ok(server) if !server.trim().is_empty() => results.push(rt.block_on(run(Some(server)))),
        _ => eprintln!("PostgreSQL skipped: run under scripts/with-postgres.sh"),
    }
    let speedup = env_or("NATIONAL_DAY_SPEEDUP", 60);
    println!();
    println!(
        "| What | {} |",
        results
            .iter()
            .map(|r| r.name)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(results.len()));
    type Line = fn(&Outcome) -> String;
    let lines: Vec<(String, Line)> = vec![
        (
            format!("The hour ({speedup}× faster): pushes of 50 rows, then a pull"),
            |r| {
                format!(
                    "{} in {:.1} s: {:.1} pushes/s, {:.0} rows/s",
                    r.hour.pushes,
                    r.hour.secs,
                    r.hour.pushes as f64 / r.hour.secs,
                    r.hour.pushes as f64 * 50.0 / r.hour.secs
                )
            },
        ),
        ("The hour: push latency".into(), |r| {
            format!(
                "p50 {:.1} ms, **p99 {:.1} ms**; pull p99 {:.1} ms",
                r.hour.push_p50, r.hour.push_p99, r.hour.pull_p99
            )
        }),
        ("The hour: CPU (cores, average)".into(), |r| {
            format!(
                "HQ {:.2}, PostgreSQL {:.2}",
                r.hour.hq_cpu / r.hour.secs,
                r.hour.pg_cpu / r.hour.secs
            )
        }),
        ("All at once (64 in flight): throughput".into(), |r| {
            format!(
                "**{:.0} pushes/s** ({:.0} rows/s, {} in {:.1} s)",
                r.burst.pushes as f64 / r.burst.secs,
                r.burst.pushes as f64 * 50.0 / r.burst.secs,
                r.burst.pushes,
                r.burst.secs
            )
        }),
        ("All at once: push latency".into(), |r| {
            format!(
                "p50 {:.1} ms, **p99 {:.1} ms**; pull p99 {:.1} ms",
                r.burst.push_p50, r.burst.push_p99, r.burst.pull_p99
            )
        }),
        ("All at once: CPU (cores, average)".into(), |r| {
            format!(
                "HQ {:.2}, PostgreSQL {:.2}",
                r.burst.hq_cpu / r.burst.secs,
                r.burst.pg_cpu / r.burst.secs
            )
        }),
        ("HQ process memory".into(), |r| {
            format!(
                "peak {} MiB, {} MiB at the end",
                r.hwm_kib / 1024,
                r.rss_kib / 1024
            )
        }),
    ];
    for (what, f) in &lines {
        println!(
            "| {what} | {} |",
            results.iter().map(f).collect::<Vec<_>>().join(" | ")
        );
    }
}
