//! Fixtures: a credit bank router on an in-memory store with the seed catalogue, devices with
//! real Ed25519 keys, and real site stores whose outbox rows are what gets pushed.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{Duration, Utc};
use creditbank::store::Bank;
use creditbank::store::Store;
use creditbank::{AppState, router};
use ed25519_dalek::{Signer, SigningKey};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use siteline_core::store::outbox;
use siteline_core::{Actor, Site, demo};
use siteline_domain::ids::{CohortId, EnrolmentId, LearnerId};
use siteline_proto::records::Record;
use siteline_proto::sync::{
    SyncBundle, bundle_signing_string, headers, pull_signing_string, push_signing_string,
};
use siteline_proto::{OutboxRow, PushBatch};
use tower::ServiceExt;
use uuid::Uuid;

pub const TOKEN: &str = "test-admin-token";

pub struct Hq {
    pub store: Arc<Bank>,
    pub state: AppState,
}

impl Hq {
    pub fn new() -> Hq {
        let store = Arc::new(Bank::for_tests().unwrap());
        store
            .publish_catalogue(&siteline_domain::seed::catalogue())
            .unwrap();
        let state = AppState::new(store.clone(), TOKEN);
        Hq { store, state }
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, serde_json::Value) {
        let resp = router(self.state.clone()).oneshot(req).await.unwrap();
        json(resp).await
    }

    pub fn site(&self, code: &str) -> String {
        self.store
            .create_site(code, &format!("{code} 培训站"), "44")
            .unwrap();
        self.store
            .issue_enrolment_code(code, Duration::days(7))
            .unwrap()
            .code
    }

    /// Rows that any write could touch, to prove a refusal wrote nothing.
    pub fn written(&self) -> (i64, i64, i64, i64) {
        let q = |sql| self.store.query_i64(sql).unwrap();
        (
            q("SELECT count(*) FROM record"),
            q("SELECT count(*) FROM change_log"),
            q("SELECT CAST(coalesce(sum(high_water), 0) AS BIGINT) FROM device_epoch"),
            q("SELECT count(*) FROM credit_posting"),
        )
    }

    pub async fn enrol(&self, code: &str, device: &Device) -> (StatusCode, serde_json::Value) {
        let body = serde_json::json!({
            "code": code, "device_id": device.id,
            "public_key": B64.encode(device.key.verifying_key().to_bytes()), "label": "教室电脑",
        });
        self.send(
            Request::post("/v1/enrol")
                .header(
                    headers::PROTOCOL,
                    siteline_proto::PROTOCOL_VERSION.to_string(),
                )
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }
}

pub async fn json(resp: Response<Body>) -> (StatusCode, serde_json::Value) {
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, value)
}

pub struct Device {
    pub id: Uuid,
    pub key: SigningKey,
}

impl Device {
    pub fn new(id: Uuid) -> Device {
        Device {
            id,
            key: SigningKey::generate(&mut rand_core::OsRng),
        }
    }

    /// A signed push of raw bytes that claim the given range.
    pub fn push_raw(
        &self,
        epoch: u32,
        from: u64,
        to: u64,
        body: Vec<u8>,
        ts_ms: i64,
    ) -> Request<Body> {
        let digest: String = Sha256::digest(&body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let sig = self
            .key
            .sign(push_signing_string(self.id, epoch, from, to, ts_ms, &digest).as_bytes());
        Request::post("/v1/push")
            .header(
                headers::PROTOCOL,
                siteline_proto::PROTOCOL_VERSION.to_string(),
            )
            .header(headers::DEVICE, self.id.to_string())
            .header(headers::TIMESTAMP, ts_ms.to_string())
            .header(headers::SEQ_RANGE, format!("{epoch}:{from}-{to}"))
            .header(headers::SIGNATURE, B64.encode(sig.to_bytes()))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    }

    pub fn push(&self, rows: &[OutboxRow]) -> Request<Body> {
        let batch = batch(rows);
        self.push_raw(
            batch.epoch,
            batch.from_seq,
            batch.to_seq,
            serde_json::to_vec(&batch).unwrap(),
            Utc::now().timestamp_millis(),
        )
    }

    pub fn pull(&self, since: u64) -> Request<Body> {
        let ts = Utc::now().timestamp_millis();
        let max = 1_000_000;
        let sig = self
            .key
            .sign(pull_signing_string(self.id, since, max, ts).as_bytes());
        Request::get(format!("/v1/pull?since={since}&max_bytes={max}"))
            .header(
                headers::PROTOCOL,
                siteline_proto::PROTOCOL_VERSION.to_string(),
            )
            .header(headers::DEVICE, self.id.to_string())
            .header(headers::TIMESTAMP, ts.to_string())
            .header(headers::SIGNATURE, B64.encode(sig.to_bytes()))
            .body(Body::empty())
            .unwrap()
    }
}

impl Device {
    /// A bundle of `rows` (or none) with cursor `since`, signed at `signed_at_ms` by this
    /// device's key.
    pub fn bundle(&self, rows: &[OutboxRow], since: u64, signed_at_ms: i64) -> SyncBundle {
        let batch_json = (!rows.is_empty()).then(|| serde_json::to_string(&batch(rows)).unwrap());
        let seq_range = (!rows.is_empty()).then(|| {
            let b = batch(rows);
            format!("{}:{}-{}", b.epoch, b.from_seq, b.to_seq)
        });
        let digest = creditbank::bundle::hex(&Sha256::digest(
            batch_json.as_deref().unwrap_or("").as_bytes(),
        ));
        let signature = self.key.sign(
            bundle_signing_string(self.id, since, signed_at_ms, seq_range.as_deref(), &digest)
                .as_bytes(),
        );
        SyncBundle {
            format: siteline_proto::sync::BUNDLE_FORMAT.into(),
            device_id: self.id,
            since,
            batch_json,
            seq_range,
            signed_at_ms,
            signature: B64.encode(signature.to_bytes()),
        }
    }
}

pub fn post_bundle(bundle: &SyncBundle) -> Request<Body> {
    Request::post("/v1/bundle")
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(bundle).unwrap()))
        .unwrap()
}

/// Checks HQ's signature on an answer body with the key from the enrolment answer.
pub fn hq_signed(
    hq_public_key: &str,
    device: Uuid,
    request_signature_sha256: &str,
    signature_b64: &str,
    body: &[u8],
) -> bool {
    let key: [u8; 32] = B64.decode(hq_public_key).unwrap().try_into().unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key).unwrap();
    let message = siteline_proto::sync::answer_signing_string(
        device,
        request_signature_sha256,
        &creditbank::bundle::hex(&Sha256::digest(body)),
    );
    let Ok(sig) = B64.decode(signature_b64) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&sig) else {
        return false;
    };
    key.verify_strict(message.as_bytes(), &sig).is_ok()
}

pub fn batch(rows: &[OutboxRow]) -> PushBatch {
    PushBatch {
        device_id: rows[0].device_id,
        epoch: rows[0].epoch,
        from_seq: rows[0].seq,
        to_seq: rows[rows.len() - 1].seq,
        rows: rows.to_vec(),
    }
}

/// A real site store with a manager and instructor.
pub struct SiteApp {
    pub site: Site,
    pub manager: Actor,
    pub instructor: Actor,
}

impl SiteApp {
    pub fn new() -> SiteApp {
        let mut site = Site::open_in_memory().unwrap();
        let (manager, instructor) = demo::staff(&mut site).unwrap();
        SiteApp {
            site,
            manager,
            instructor,
        }
    }

    pub fn device_id(&self) -> Uuid {
        outbox::device(self.site.conn()).unwrap().device_id
    }

    pub fn rows(&self) -> Vec<OutboxRow> {
        siteline_core::sync::outgoing::rows(&self.site, 100_000).unwrap()
    }

    /// Keeps HQ's enrolment answer (its signing and sealing keys) in the site database, as the
    /// app does; passes the answer through.
    pub fn enrolled(
        &mut self,
        answer: (StatusCode, serde_json::Value),
    ) -> (StatusCode, serde_json::Value) {
        if answer.0 == StatusCode::OK {
            let resp: siteline_proto::sync::EnrolResponse =
                serde_json::from_value(answer.1.clone()).unwrap();
            siteline_core::sync::engine::record_enrolment(&mut self.site, "http://hq.test", &resp)
                .unwrap();
        }
        answer
    }

    /// `number` sealed to HQ's sealing key (from the enrolment), base64, as a learner row
    /// carries an ID number.
    pub fn seal(&self, number: &str) -> String {
        let key: Vec<u8> = self
            .site
            .conn()
            .query_row("SELECT hq_seal_key FROM sync_state", [], |r| r.get(0))
            .unwrap();
        let sealed = siteline_domain::crypto::seal_to(&key.try_into().unwrap(), number).unwrap();
        B64.encode(sealed)
    }

    /// Writes a record straight into the site database's outbox, as anyone holding the
    /// laptop's files could; the app signs and pushes it like any other row.
    pub fn forge(&self, record_id: Uuid, record: &Record) -> u64 {
        let tx = self.site.conn().unchecked_transaction().unwrap();
        let seq = outbox::append(&tx, record_id, record).unwrap();
        tx.commit().unwrap();
        seq
    }

    /// The attempt of each component that counts, as a claim cites them.
    pub fn attempts(&self, enrolment: EnrolmentId) -> Vec<Uuid> {
        siteline_core::store::assessments::counting_attempts(self.site.conn(), enrolment)
            .unwrap()
            .iter()
            .map(|a| a.id.0)
            .collect()
    }

    /// Minutes attended as the site's own progress table shows them.
    pub fn attended(&self, cohort: CohortId, enrolment: EnrolmentId) -> i64 {
        siteline_core::store::progress::cohort_progress(self.site.conn(), cohort)
            .unwrap()
            .learners
            .iter()
            .find(|l| l.enrolment_id == enrolment)
            .unwrap()
            .attended_minutes
    }

    pub fn learner(&mut self, n: u64) -> LearnerId {
        demo::register(&mut self.site, &self.manager, n).unwrap()
    }

    /// A cohort of `pv` run to the end and claimed (see `demo::complete_cohort`).
    pub fn completed(
        &mut self,
        pv: &str,
        learners: &[LearnerId],
        theory: i64,
    ) -> (CohortId, Vec<EnrolmentId>) {
        demo::complete_cohort(
            &mut self.site,
            &self.manager,
            &self.instructor,
            pv,
            learners,
            theory,
        )
        .unwrap()
    }
}

impl Hq {
    /// Pushes every pending row of the site and pulls everything after `since`: the ack and
    /// the changes.
    pub async fn sync(
        &self,
        device: &Device,
        site: &SiteApp,
        since: u64,
    ) -> (serde_json::Value, Vec<serde_json::Value>) {
        let (status, ack) = self.send(device.push(&site.rows())).await;
        assert_eq!(status, StatusCode::OK, "{ack}");
        let (status, page) = self.send(device.pull(since)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        (ack, page["changes"].as_array().unwrap().clone())
    }
}

/// An HQ with one site (GD-SZ-001) and a real site store whose device enrolled with it.
pub struct Enrolled {
    pub hq: Hq,
    pub site: SiteApp,
    pub device: Device,
    /// HQ's public signing key, base64, from the enrolment answer.
    pub hq_key: String,
}

pub async fn enrolled_site() -> Enrolled {
    let hq = Hq::new();
    let code = hq.site("GD-SZ-001");
    let mut site = SiteApp::new();
    let device = Device::new(site.device_id());
    let (status, answer) = site.enrolled(hq.enrol(&code, &device).await);
    assert_eq!(status, StatusCode::OK, "{answer}");
    let hq_key = answer["hq_public_key"].as_str().unwrap().to_string();
    Enrolled {
        hq,
        site,
        device,
        hq_key,
    }
}

/// The payloads of the changes of one kind.
pub fn of_kind(changes: &[serde_json::Value], kind: &str) -> Vec<serde_json::Value> {
    changes
        .iter()
        .filter(|c| c["kind"] == kind)
        .map(|c| c["payload"].clone())
        .collect()
}

pub fn admin(req: axum::http::request::Builder) -> axum::http::request::Builder {
    req.header("authorization", format!("Bearer {TOKEN}"))
}

/// An admin POST of `{"note": note}` to `path`: a reversal, a reissue, a quarantine resolved.
pub fn admin_note(path: &str, note: &str) -> Request<Body> {
    admin(Request::post(path))
        .header("content-type", "application/json")
        .body(Body::from(serde_json::json!({ "note": note }).to_string()))
        .unwrap()
}
