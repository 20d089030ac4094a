//! Push load: 50 simulated sites push 10,000 events each, concurrently, to a running credit
//! bank on 127.0.0.1 (real HTTP, signed, gzip bodies), on SQLite (a file) and, when a server
//! is given, on PostgreSQL; each measured beside inserting the same rows straight into the
//! same database (SQLite: prepared inserts; PostgreSQL: multi-row `INSERT`s) in the same run.
//!
//! `scripts/with-postgres.sh cargo bench -p creditbank --bench push_load` (both databases;
//! without the script, SQLite only). `CREDITBANK_PG_CONF` says how the throwaway cluster is
//! tuned, for the report.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use creditbank::store::Bank;
use creditbank::store::Store;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use siteline_proto::records::{AttendanceEvent, Cohort, Enrolment, Learner, Record, Session};
use siteline_proto::sync::{EnrolRequest, headers, push_signing_string};
use siteline_proto::vocab::{AttendanceKind, IdType};
use siteline_proto::{OutboxRow, PushBatch};
use uuid::Uuid;

const SITES: usize = 50;
const EVENTS_PER_SITE: u64 = 10_000;
const BATCH: u64 = 500;

/// A site's rows as a real site sends them: a cohort, its 40 learners and their enrolments, a
/// session, then roll-call marks for it up to `EVENTS_PER_SITE` rows in all (HQ applies every
/// one: none is quarantined).
fn rows(device: Uuid) -> Vec<OutboxRow> {
    let start = Utc::now();
    let cohort = Uuid::now_v7();
    let session = Uuid::now_v7();
    let learners: Vec<Uuid> = (0..40).map(|_| Uuid::now_v7()).collect();
    let mut records: Vec<(Uuid, Record)> = vec![(
        cohort,
        Record::Cohort(Cohort {
            programme_version_id: "maternity-L5-v1".into(),
            name: "压测班".into(),
            start_date: start.date_naive(),
            end_date: start.date_naive(),
            capacity: 40,
            instructors: vec![],
        }),
    )];
    for (i, l) in learners.iter().enumerate() {
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
    for l in &learners {
        records.push((
            Uuid::now_v7(),
            Record::Enrolment(Enrolment {
                cohort_id: cohort,
                learner_id: *l,
            }),
        ));
    }
    records.push((
        session,
        Record::Session(Session {
            cohort_id: cohort,
            unit_id: None,
            starts_at: start,
            ends_at: start + chrono::Duration::hours(8),
            instructor_id: None,
        }),
    ));
    let mut n = 0;
    while records.len() < EVENTS_PER_SITE as usize {
        records.push((
            Uuid::now_v7(),
            Record::AttendanceEvent(AttendanceEvent {
                session_id: session,
                learner_id: learners[n % 40],
                kind: AttendanceKind::CheckIn,
                at: start,
                method: "roll_call".into(),
                attested_by: device,
                correction_id: None,
            }),
        ));
        n += 1;
    }
    records
        .into_iter()
        .zip(1..)
        .map(|((record_id, record), seq)| OutboxRow {
            device_id: device,
            epoch: 1,
            seq,
            entity: record.entity(),
            op: record.op(),
            record_id,
            payload: record.to_payload(),
            recorded_at: Utc::now(),
            hlc: siteline_proto::hlc::Hlc {
                wall_ms: 1_764_000_000_000,
                counter: seq as u32,
                device,
            },
        })
        .collect()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut results = vec![rt.block_on(run(None))];
    match std::env::var(creditbank::store::TEST_DATABASE_ENV) {
        Ok(server) if !server.trim().is_empty() => results.push(rt.block_on(run(Some(server)))),
        _ => eprintln!(
            "PostgreSQL skipped: run under scripts/with-postgres.sh to measure both databases"
        ),
    }
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
    let lines: [(&str, Line); 5] = [
        ("Events accepted through the server", |r| {
            format!("**{:.0} events/s** ({:.2} s)", r.server_rate, r.server_secs)
        }),
        ("Push latency (500-row batch, 50 sites at once)", |r| {
            format!(
                "p50 {:.1} ms, **p99 {:.1} ms**, max {:.1} ms",
                r.p50, r.p99, r.max
            )
        }),
        ("Raw insert of the same rows", |r| {
            format!(
                "{:.0} rows/s ({:.2} s, {})",
                r.raw_rate, r.raw_secs, r.raw_how
            )
        }),
        ("**Ratio server / raw**", |r| {
            format!("**{:.2}**", r.server_rate / r.raw_rate)
        }),
        ("Bytes per event", |r| {
            format!("{:.0} JSON, {:.0} gzip", r.json_per_event, r.gzip_per_event)
        }),
    ];
    for (what, f) in lines {
        println!(
            "| {what} | {} |",
            results.iter().map(f).collect::<Vec<_>>().join(" | ")
        );
    }
}

/// One database's figures.
struct Outcome {
    name: &'static str,
    server_rate: f64,
    server_secs: f64,
    p50: f64,
    p99: f64,
    max: f64,
    raw_rate: f64,
    raw_secs: f64,
    raw_how: &'static str,
    json_per_event: f64,
    gzip_per_event: f64,
}

/// Opens a credit bank in `dir`: SQLite, or a fresh database on the PostgreSQL `server`.
fn open(
    dir: &std::path::Path,
    server: Option<&str>,
) -> (Bank, Option<(creditbank::store::postgres::Scratch, String)>) {
    match server {
        None => (Bank::open(dir, None).unwrap(), None),
        Some(server) => {
            let (scratch, url) = creditbank::store::postgres::Scratch::create(server).unwrap();
            let bank = Bank::open(dir, Some(&url)).unwrap();
            (bank, Some((scratch, url)))
        }
    }
}

async fn run(server: Option<String>) -> Outcome {
    let name = if server.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("== {name}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let (bank, _scratch) = open(dir.path(), server.as_deref());
    let store = Arc::new(bank);
    store
        .publish_catalogue(&siteline_domain::seed::catalogue())
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = creditbank::router(creditbank::AppState::new(store.clone(), "bench"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let base = format!("http://{addr}");

    // Sites, devices and their rows.
    let mut sites = Vec::new();
    for i in 0..SITES {
        let code = format!("BENCH-{i:03}");
        store.create_site(&code, &code, "44").unwrap();
        let enrol_code = store
            .issue_enrolment_code(&code, chrono::Duration::days(1))
            .unwrap()
            .code;
        let key = SigningKey::generate(&mut rand_core::OsRng);
        let device = Uuid::now_v7();
        store
            .enrol_device(
                &EnrolRequest {
                    code: enrol_code,
                    device_id: device,
                    public_key: B64.encode(key.verifying_key().to_bytes()),
                    label: code,
                },
                key.verifying_key().to_bytes(),
            )
            .unwrap();
        sites.push((device, key, rows(device)));
    }
    let all_rows: Vec<OutboxRow> = sites.iter().flat_map(|s| s.2.clone()).collect();
    let raw_json: usize = all_rows
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap().len())
        .sum();

    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (device, key, rows) in sites {
        let http = http.clone();
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut wire = 0usize;
            for chunk in rows.chunks(BATCH as usize) {
                let batch = PushBatch {
                    device_id: device,
                    epoch: 1,
                    from_seq: chunk[0].seq,
                    to_seq: chunk[chunk.len() - 1].seq,
                    rows: chunk.to_vec(),
                };
                let json = serde_json::to_vec(&batch).unwrap();
                let ts = Utc::now().timestamp_millis();
                let digest: String = Sha256::digest(&json)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let sig = key.sign(
                    push_signing_string(device, 1, batch.from_seq, batch.to_seq, ts, &digest)
                        .as_bytes(),
                );
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&json).unwrap();
                let body = gz.finish().unwrap();
                wire += body.len();
                let t = Instant::now();
                let resp = http
                    .post(format!("{base}/v1/push"))
                    .header(
                        headers::PROTOCOL,
                        siteline_proto::PROTOCOL_VERSION.to_string(),
                    )
                    .header(headers::DEVICE, device.to_string())
                    .header(headers::TIMESTAMP, ts.to_string())
                    .header(
                        headers::SEQ_RANGE,
                        format!("1:{}-{}", batch.from_seq, batch.to_seq),
                    )
                    .header(headers::SIGNATURE, B64.encode(sig.to_bytes()))
                    .header("content-type", "application/json")
                    .header("content-encoding", "gzip")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
                let _ = resp.bytes().await.unwrap();
                latencies.push(t.elapsed());
            }
            (latencies, wire)
        }));
    }
    let mut latencies = Vec::new();
    let mut wire = 0usize;
    for t in tasks {
        let (l, w) = t.await.unwrap();
        latencies.extend(l);
        wire += w;
    }
    let elapsed = started.elapsed();
    let total = SITES as u64 * EVENTS_PER_SITE;
    assert_eq!(
        store.query_i64("SELECT count(*) FROM record").unwrap() as u64,
        total
    );
    assert_eq!(
        store
            .query_i64("SELECT count(*) FROM record WHERE status <> 'applied'")
            .unwrap(),
        0,
        "every row is applied, none quarantined"
    );
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let server_rate = total as f64 / elapsed.as_secs_f64();
    println!(
        "server: {total} events from {SITES} sites in {} pushes of {BATCH}: {:.2} s",
        latencies.len(),
        elapsed.as_secs_f64()
    );
    println!(
        "server: {server_rate:.0} events/s; push latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(*latencies.last().unwrap())
    );
    println!(
        "bytes per event: {:.0} JSON, {:.0} gzip on the wire",
        raw_json as f64 / total as f64,
        wire as f64 / total as f64
    );

    let (raw_rate, raw_secs, raw_how) = match server {
        None => {
            let (rate, secs) = raw_sqlite(&all_rows);
            (rate, secs, "prepared INSERTs, synchronous = FULL")
        }
        Some(server) => {
            let (rate, secs) =
                tokio::task::spawn_blocking(move || raw_postgres(&server, &all_rows))
                    .await
                    .unwrap();
            (rate, secs, "500-row INSERTs")
        }
    };
    println!("raw insert of the same rows: {raw_rate:.0} rows/s ({raw_secs:.2} s)");
    println!("ratio server / raw: {:.2}", server_rate / raw_rate);
    Outcome {
        name,
        server_rate,
        server_secs: elapsed.as_secs_f64(),
        p50: ms(pct(0.5)),
        p99: ms(pct(0.99)),
        max: ms(*latencies.last().unwrap()),
        raw_rate,
        raw_secs,
        raw_how,
        json_per_event: raw_json as f64 / total as f64,
        gzip_per_event: wire as f64 / total as f64,
    }
}

/// The same rows straight into SQLite: same schema, same batch size, one transaction each.
fn raw_sqlite(all_rows: &[OutboxRow]) -> (f64, f64) {
    let raw_dir = tempfile::tempdir().unwrap();
    drop(Bank::open(raw_dir.path(), None).unwrap());
    let conn = rusqlite::Connection::open(raw_dir.path().join("creditbank.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", creditbank::store::SYNCHRONOUS)
        .unwrap();
    let site_id = Uuid::now_v7();
    conn.execute(
        "INSERT INTO site (id, code, name, seq, created_at) VALUES (?1, 'RAW', 'raw', 1, 'now')",
        [site_id],
    )
    .unwrap();
    let t = Instant::now();
    for chunk in all_rows.chunks(BATCH as usize) {
        let tx = conn.unchecked_transaction().unwrap();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO record (device_id, epoch, seq, site_id, entity, op, record_id, payload,
                         recorded_at, received_at, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'applied')",
                )
                .unwrap();
            for r in chunk {
                stmt.execute(rusqlite::params![
                    r.device_id,
                    r.epoch,
                    r.seq,
                    site_id,
                    r.entity.as_str(),
                    r.op.as_str(),
                    r.record_id,
                    r.payload.to_string(),
                    r.recorded_at,
                    Utc::now()
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    (all_rows.len() as f64 / secs, secs)
}

/// The same rows straight into PostgreSQL's `record` table (the credit bank's schema), one
/// multi-row `INSERT` of 500 rows per transaction.
fn raw_postgres(server: &str, all_rows: &[OutboxRow]) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let (bank, scratch) = open(dir.path(), Some(server));
    drop(bank);
    let (_scratch, url) = scratch.unwrap();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let site_id = Uuid::now_v7();
    client
        .execute(
            "INSERT INTO site (id, code, name, seq, created_at) VALUES ($1, 'RAW', 'raw', 1, now())",
            &[&site_id],
        )
        .unwrap();
    let t = Instant::now();
    for chunk in all_rows.chunks(BATCH as usize) {
        let mut sql = String::from(
            "INSERT INTO record (device_id, epoch, seq, site_id, entity, op, record_id, payload,
                 recorded_at, received_at, status) VALUES ",
        );
        let mut params: Vec<Box<dyn postgres::types::ToSql + Sync>> = Vec::new();
        for (i, r) in chunk.iter().enumerate() {
            let b = i * 10;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${},${},${},${},${},${},${},${},${},${},'applied')",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 10
            ));
            params.push(Box::new(r.device_id));
            params.push(Box::new(i64::from(r.epoch)));
            params.push(Box::new(r.seq as i64));
            params.push(Box::new(site_id));
            params.push(Box::new(r.entity.as_str().to_string()));
            params.push(Box::new(r.op.as_str().to_string()));
            params.push(Box::new(r.record_id));
            params.push(Box::new(r.payload.to_string()));
            params.push(Box::new(r.recorded_at.to_rfc3339()));
            params.push(Box::new(Utc::now()));
        }
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p.as_ref()).collect();
        let mut tx = client.transaction().unwrap();
        tx.execute(sql.as_str(), &refs).unwrap();
        tx.commit().unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    (all_rows.len() as f64 / secs, secs)
}
