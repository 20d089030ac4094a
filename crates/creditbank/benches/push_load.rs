//! Push load: 50 simulated sites push 10,000 events each, concurrently, to a running credit
//! bank on 127.0.0.1 (real HTTP, signed, gzip bodies, file-backed SQLite), measured beside
//! inserting the same rows straight into SQLite in the same run.
//!
//! `cargo bench -p creditbank --bench push_load`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use creditbank::store::Store;
use creditbank::store::sqlite::SqliteStore;
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
    rt.block_on(run());
}

async fn run() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
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

    // The same rows straight into SQLite: same schema, same batch size, one transaction each.
    let raw_dir = tempfile::tempdir().unwrap();
    let raw = SqliteStore::open(raw_dir.path()).unwrap();
    drop(raw);
    let conn = rusqlite::Connection::open(raw_dir.path().join("creditbank.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", creditbank::store::sqlite::SYNCHRONOUS)
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
    let raw_rate = total as f64 / t.elapsed().as_secs_f64();
    println!(
        "raw SQLite insert of the same rows: {raw_rate:.0} rows/s ({:.2} s)",
        t.elapsed().as_secs_f64()
    );
    println!("ratio server / raw: {:.2}", server_rate / raw_rate);
    println!(
        "synchronous = {} on both",
        creditbank::store::sqlite::SYNCHRONOUS
    );
}
