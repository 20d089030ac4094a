//! One HTTP request each for the protocol's calls. Bodies go out gzip-compressed and come
//! back compressed; every push and pull is signed with the device key and HQ's time (the
//! device clock corrected by the offset learned from `hello`). Errors are sorted into "try
//! again later" ([`Error::Network`]) and "HQ said no" ([`Error::Refused`]).

use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ed25519_dalek::{Signature, VerifyingKey};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use siteline_proto::sync::{
    EnrolRequest, EnrolResponse, Hello, PullPage, PushAck, SERVICE_NAME, answer_signing_string,
    headers, pull_signing_string, push_signing_string,
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
    /// HQ's public key as pinned at enrolment: every answer must verify under it.
    hq_key: Arc<RwLock<Option<VerifyingKey>>>,
}

/// A release build: plain `http://` is allowed to this computer only.
const RELEASE: bool = !cfg!(debug_assertions);

/// Checks an HQ address: `https://`, or `http://` to this computer (a test server); a debug
/// build also allows `http://` elsewhere, for a test network.
pub fn check_hq_url(url: &str, release: bool) -> Result<reqwest::Url> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        Error::invalid(
            "sync.hq_url",
            format!("{url} is not a web address ({e}); give one like https://hq.example.cn"),
        )
    })?;
    let loopback = match parsed.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback || !release => Ok(parsed),
        "http" => Err(Error::invalid(
            "sync.hq_url",
            format!("{url} is not encrypted; the credit bank's address starts with https://"),
        )),
        _ => Err(Error::invalid(
            "sync.hq_url",
            format!("{url} must start with https://"),
        )),
    }
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
        check_hq_url(&base, RELEASE)?;
        Ok(HqClient {
            http,
            base,
            device,
            identity,
            offset_ms: Arc::new(AtomicI64::new(0)),
            hq_key: Arc::new(RwLock::new(None)),
        })
    }

    /// Pins HQ's public key (from the enrolment answer, kept in the database).
    pub fn pin_hq_key(&self, key: &[u8; 32]) -> Result<()> {
        let key = VerifyingKey::from_bytes(key).map_err(|_| {
            Error::invalid(
                "sync.hq_public_key",
                "the pinned HQ key is not an Ed25519 public key; enrol the device again",
            )
        })?;
        *self.hq_key.write().unwrap_or_else(|p| p.into_inner()) = Some(key);
        Ok(())
    }

    /// Checks HQ's signature over an answer body, bound to the request's signature.
    fn verify(&self, request_signature: &str, signature: Option<&str>, body: &[u8]) -> Result<()> {
        use base64::Engine;
        let key = *self.hq_key.read().unwrap_or_else(|p| p.into_inner());
        let request = base64::engine::general_purpose::STANDARD
            .decode(request_signature)
            .unwrap_or_default();
        verify_answer(
            key.as_ref(),
            self.device,
            &hex(&Sha256::digest(&request)),
            signature,
            body,
        )
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

    /// Registers this device's key with a one-time code; the answer carries HQ's key, which
    /// the caller pins.
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
            .header(headers::SIGNATURE, &signature)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .header("accept-encoding", "gzip")
            .body(body)
            .send()
            .await
            .map_err(network)?;
        let ack: PushAck = self.signed(resp, &signature).await?;
        Ok((ack, sent))
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
            .header(headers::SIGNATURE, &signature)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .map_err(network)?;
        self.signed(resp, &signature).await
    }

    /// Delivers a signed bundle (this device's, or another device's it carries) and returns
    /// HQ's answer, signed by HQ for the bundle's device; only that device can apply it.
    pub async fn post_bundle(
        &self,
        bundle: &siteline_proto::sync::SyncBundle,
    ) -> Result<siteline_proto::sync::BundleAnswer> {
        let resp = self
            .http
            .post(format!("{}/v1/bundle", self.base))
            .header(headers::PROTOCOL, PROTOCOL_VERSION.to_string())
            .header("content-type", "application/json")
            .body(serde_json::to_vec(bundle)?)
            .send()
            .await
            .map_err(network)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(network)?;
        parse_answer(status, &bytes)
    }

    /// Reads an answer that HQ must have signed for this request.
    async fn signed<T: DeserializeOwned>(
        &self,
        resp: reqwest::Response,
        request_signature: &str,
    ) -> Result<T> {
        let status = resp.status();
        let signature = resp
            .headers()
            .get(headers::ANSWER_SIGNATURE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp.bytes().await.map_err(network)?;
        if status.is_success() {
            self.verify(request_signature, signature.as_deref(), &bytes)?;
        }
        parse_answer(status, &bytes)
    }
}

/// Checks HQ's signature (base64 Ed25519 over the answer signing string) on an answer body,
/// bound to the request whose signature hashes to `request_signature_sha256_hex`. Without a
/// pinned key nothing verifies: the device must be enrolled (again) to learn it.
pub(crate) fn verify_answer(
    key: Option<&VerifyingKey>,
    device: Uuid,
    request_signature_sha256_hex: &str,
    signature_b64: Option<&str>,
    body: &[u8],
) -> Result<()> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    let Some(key) = key else {
        return Err(Error::NotCreditBank(
            "this device has no pinned HQ key (it was enrolled before HQ signed its answers); ask HQ for a new enrolment code and enrol again".into(),
        ));
    };
    let message = answer_signing_string(
        device,
        request_signature_sha256_hex,
        &hex(&Sha256::digest(body)),
    );
    let valid = signature_b64
        .and_then(|s| B64.decode(s.trim()).ok())
        .and_then(|s| Signature::from_slice(&s).ok())
        .is_some_and(|s| key.verify_strict(message.as_bytes(), &s).is_ok());
    if valid {
        Ok(())
    } else {
        Err(Error::NotCreditBank(
            "the answer is not signed by the credit bank this device enrolled with (it may have been altered or come from elsewhere); nothing was applied".into(),
        ))
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
    parse_answer(status, &bytes)
}

fn parse_answer<T: DeserializeOwned>(status: reqwest::StatusCode, bytes: &[u8]) -> Result<T> {
    if status.is_success() {
        return serde_json::from_slice(bytes).map_err(|_| {
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
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(Error::Network(
            "the credit bank asked this device to slow down; it will be retried".into(),
        ));
    }
    match serde_json::from_slice::<ApiError>(bytes) {
        Ok(e) => Err(Error::Refused {
            code: e.code,
            message: e.message,
        }),
        Err(_) => Err(Error::NotCreditBank(format!(
            "HTTP {status} without the credit bank's error format"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_build_refuses_plain_http_except_to_this_computer() {
        for ok in [
            "https://hq.example.cn",
            "http://127.0.0.1:8080",
            "http://localhost:3000",
            "http://[::1]:9000",
        ] {
            assert!(check_hq_url(ok, true).is_ok(), "{ok}");
        }
        let err = check_hq_url("http://hq.example.cn", true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("https://"), "{err}");
        assert!(check_hq_url("http://192.168.1.10:8080", true).is_err());
        // A debug build allows a test network.
        assert!(check_hq_url("http://192.168.1.10:8080", false).is_ok());
        assert!(check_hq_url("ftp://hq.example.cn", false).is_err());
        assert!(check_hq_url("not a url", false).is_err());
    }

    #[test]
    fn only_an_answer_hq_signed_for_this_request_and_body_verifies() {
        use base64::Engine;
        use ed25519_dalek::Signer;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let hq = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let device = Uuid::now_v7();
        let request = hex(&Sha256::digest(b"request signature"));
        let body = br#"{"epoch":1,"acked_through":5}"#;
        let sign = |key: &ed25519_dalek::SigningKey, req: &str, body: &[u8]| {
            let m = answer_signing_string(device, req, &hex(&Sha256::digest(body)));
            b64(&key.sign(m.as_bytes()).to_bytes())
        };
        let key = hq.verifying_key();
        let good = sign(&hq, &request, body);
        assert!(verify_answer(Some(&key), device, &request, Some(&good), body).is_ok());
        // Altered body, another request, another device, another key, no signature, no pin.
        let altered = br#"{"epoch":1,"acked_through":18446744073709551615}"#;
        assert!(verify_answer(Some(&key), device, &request, Some(&good), altered).is_err());
        let other_request = hex(&Sha256::digest(b"an earlier request"));
        assert!(verify_answer(Some(&key), device, &other_request, Some(&good), body).is_err());
        assert!(verify_answer(Some(&key), Uuid::now_v7(), &request, Some(&good), body).is_err());
        let stranger = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let forged = sign(&stranger, &request, body);
        assert!(verify_answer(Some(&key), device, &request, Some(&forged), body).is_err());
        assert!(verify_answer(Some(&key), device, &request, None, body).is_err());
        let err = verify_answer(None, device, &request, Some(&good), body).unwrap_err();
        assert!(err.to_string().contains("enrol again"), "{err}");
    }
}
