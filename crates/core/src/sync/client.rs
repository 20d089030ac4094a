//! One HTTP request each for the protocol's calls. Bodies go out gzip-compressed and come
//! back compressed; every push and pull is signed with the device key and HQ's time (the
//! device clock corrected by the offset learned from `hello`). Errors are sorted into "try
//! again later" ([`Error::Network`]) and "HQ said no" ([`Error::Refused`]).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use siteline_proto::sync::{
    EnrolRequest, EnrolResponse, Hello, PullPage, PushAck, SERVICE_NAME, headers,
    pull_signing_string, push_signing_string,
};
use siteline_proto::{ApiError, PROTOCOL_VERSION, PushBatch};
use uuid::Uuid;

use super::identity::Identity;
use crate::{Error, Result};

/// How the client reaches HQ.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// HQ's base URL, e.g. `https://creditbank.example.cn`.
    pub hq_url: String,
    /// Watchdog: a request with no answer in this time is torn down (and the batch shrunk).
    pub request_timeout: Duration,
    /// Keep connections open between requests (off on links that drop idle connections).
    pub reuse_connections: bool,
}

impl ClientConfig {
    /// Defaults for a poor link: a minute's watchdog, connection reuse on.
    pub fn new(hq_url: impl Into<String>) -> Self {
        ClientConfig {
            hq_url: hq_url.into(),
            request_timeout: Duration::from_secs(60),
            reuse_connections: true,
        }
    }
}

/// Talks to the credit bank for one device.
#[derive(Clone)]
pub struct HqClient {
    http: reqwest::Client,
    base: String,
    device: Uuid,
    identity: Arc<Identity>,
    offset_ms: Arc<AtomicI64>,
}

/// Installs ring as the process's TLS provider (reqwest is built without one); idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl HqClient {
    /// A client for `device` signing with `identity`.
    pub fn new(config: &ClientConfig, device: Uuid, identity: Arc<Identity>) -> Result<Self> {
        install_tls_provider();
        let mut builder = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(20))
            .user_agent(concat!("siteline/", env!("CARGO_PKG_VERSION")));
        if !config.reuse_connections {
            builder = builder.pool_max_idle_per_host(0);
        }
        let http = builder
            .build()
            .map_err(|e| Error::Network(format!("setting up HTTP failed: {e}")))?;
        let base = config.hq_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::invalid(
                "sync.hq_url",
                "the HQ address starts with https:// (or http:// for a test server)",
            ));
        }
        Ok(HqClient {
            http,
            base,
            device,
            identity,
            offset_ms: Arc::new(AtomicI64::new(0)),
        })
    }

    /// The device id this client signs for.
    pub fn device(&self) -> Uuid {
        self.device
    }

    /// HQ's time as this device best knows it, in ms.
    fn hq_now_ms(&self) -> i64 {
        crate::store::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// The learned difference between HQ's clock and the device's, in ms.
    pub fn clock_offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Checks that the other end is the credit bank and learns its clock.
    pub async fn hello(&self) -> Result<Hello> {
        let sent = crate::store::now();
        let resp = self
            .http
            .get(format!("{}/v1/hello", self.base))
            .send()
            .await
            .map_err(network)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(network)?;
        let hello: Hello = serde_json::from_slice(&bytes)
            .ok()
            .filter(|h: &Hello| h.service == SERVICE_NAME)
            .ok_or_else(|| {
                Error::NotCreditBank(format!(
                    "HTTP {status}, {} bytes that are not a credit bank greeting",
                    bytes.len()
                ))
            })?;
        if !hello.protocol_versions.contains(&PROTOCOL_VERSION) {
            return Err(Error::Refused {
                code: "unsupported_protocol".into(),
                message: format!(
                    "the credit bank speaks protocol {:?}, this Siteline speaks {PROTOCOL_VERSION}; update Siteline",
                    hello.protocol_versions
                ),
            });
        }
        let received = crate::store::now();
        let midpoint = sent + (received - sent) / 2;
        self.offset_ms.store(
            (hello.server_time - midpoint).num_milliseconds(),
            Ordering::Relaxed,
        );
        Ok(hello)
    }

    /// Registers this device's key with a one-time code.
    pub async fn enrol(&self, code: &str, label: &str) -> Result<EnrolResponse> {
        let req = EnrolRequest {
            code: code.trim().into(),
            device_id: self.device,
            public_key: self.identity.public_key_b64(),
            label: label.into(),
        };
        let resp = self
            .http
            .post(format!("{}/v1/enrol", self.base))
            .header(headers::PROTOCOL, PROTOCOL_VERSION.to_string())
            .json(&req)
            .send()
            .await
            .map_err(network)?;
        answer(resp).await
    }

    /// Pushes one batch; returns HQ's acknowledgement.
    pub async fn push(&self, batch: &PushBatch) -> Result<(PushAck, usize)> {
        let json = serde_json::to_vec(batch)?;
        let digest = hex(&Sha256::digest(&json));
        let ts = self.hq_now_ms();
        let signature = self.identity.sign(&push_signing_string(
            self.device,
            batch.epoch,
            batch.from_seq,
            batch.to_seq,
            ts,
            &digest,
        ));
        let body = gzip(&json)?;
        let sent = body.len();
        let resp = self
            .http
            .post(format!("{}/v1/push", self.base))
            .header(headers::PROTOCOL, PROTOCOL_VERSION.to_string())
            .header(headers::DEVICE, self.device.to_string())
            .header(headers::TIMESTAMP, ts.to_string())
            .header(
                headers::SEQ_RANGE,
                format!("{}:{}-{}", batch.epoch, batch.from_seq, batch.to_seq),
            )
            .header(headers::SIGNATURE, signature)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .header("accept-encoding", "gzip")
            .body(body)
            .send()
            .await
            .map_err(network)?;
        Ok((answer(resp).await?, sent))
    }

    /// Pulls one page of the change log after `since`.
    pub async fn pull(&self, since: u64, max_bytes: u64) -> Result<PullPage> {
        let ts = self.hq_now_ms();
        let signature = self
            .identity
            .sign(&pull_signing_string(self.device, since, max_bytes, ts));
        let resp = self
            .http
            .get(format!(
                "{}/v1/pull?since={since}&max_bytes={max_bytes}",
                self.base
            ))
            .header(headers::PROTOCOL, PROTOCOL_VERSION.to_string())
            .header(headers::DEVICE, self.device.to_string())
            .header(headers::TIMESTAMP, ts.to_string())
            .header(headers::SIGNATURE, signature)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .map_err(network)?;
        answer(resp).await
    }
}

pub(crate) fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes)
        .map_err(|e| Error::Network(format!("compressing failed: {e}")))?;
    gz.finish()
        .map_err(|e| Error::Network(format!("compressing failed: {e}")))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn network(e: reqwest::Error) -> Error {
    let what = if e.is_timeout() {
        "no answer in time (the watchdog stopped the transfer)".to_string()
    } else if e.is_connect() {
        "no connection".to_string()
    } else {
        format!("the transfer broke off ({e})")
    };
    Error::Network(what)
}

/// Reads an answer: the JSON body on success, HQ's `{code, message}` on refusal.
async fn answer<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
    let status = resp.status();
    // A cut-off body fails here or in parsing: both are "try again", never half-applied.
    let bytes = resp.bytes().await.map_err(network)?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|_| {
            Error::NotCreditBank(format!(
                "an unreadable answer ({} bytes) to a sync request",
                bytes.len()
            ))
        });
    }
    if status.is_server_error() {
        return Err(Error::Network(format!(
            "the credit bank had a problem (HTTP {status}); it will be retried"
        )));
    }
    match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(e) => Err(Error::Refused {
            code: e.code,
            message: e.message,
        }),
        Err(_) => Err(Error::NotCreditBank(format!(
            "HTTP {status} without the credit bank's error format"
        ))),
    }
}
