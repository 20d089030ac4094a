//! The public sync endpoints: handshake, device enrolment, push and pull.

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use siteline_proto::sync::{
    self, EnrolRequest, EnrolResponse, Hello, PullPage, PushAck, headers, pull_signing_string,
    push_signing_string,
};
use siteline_proto::{ApiError, PushBatch};

use super::auth::{
    check_protocol, claimed_device, header, read_body, signed_answer, signed_device,
    verify_signature,
};
use crate::{AppState, Error, PROTOCOL_VERSION, Result};

/// Tells a site it reached the credit bank (not a captive portal) and HQ's clock.
#[utoipa::path(get, path = "/v1/hello", responses((status = 200, body = Hello)))]
pub(crate) async fn hello() -> Json<Hello> {
    Json(Hello {
        service: sync::SERVICE_NAME.into(),
        protocol_versions: vec![PROTOCOL_VERSION],
        server_time: chrono::Utc::now(),
    })
}

/// Registers a device's public key for a site with a one-time code.
#[utoipa::path(post, path = "/v1/enrol", request_body = EnrolRequest,
    params(("siteline-protocol" = u32, Header, description = "protocol version")),
    responses(
        (status = 200, body = EnrolResponse),
        (status = 400, body = ApiError, description = "malformed body or key"),
        (status = 403, body = ApiError, description = "unknown, used or expired code"),
        (status = 413, body = ApiError, description = "body too large"),
        (status = 426, body = ApiError, description = "unsupported protocol version"),
        (status = 429, body = ApiError, description = "too many attempts from this address; see Retry-After"),
    ))]
pub(crate) async fn enrol(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<EnrolResponse>> {
    check_protocol(&headers)?;
    let bytes = read_body(body, 64 * 1024).await?;
    let req: EnrolRequest =
        serde_json::from_slice(&bytes).map_err(|e| Error::Malformed(e.to_string()))?;
    if req.code.chars().count() > 64 || req.label.chars().count() > 100 {
        return Err(Error::Malformed(
            "the enrolment code is at most 64 characters and the device label at most 100".into(),
        ));
    }
    let key: [u8; 32] = B64
        .decode(req.public_key.trim())
        .ok()
        .and_then(|k| k.try_into().ok())
        .filter(|k| ed25519_dalek::VerifyingKey::from_bytes(k).is_ok())
        .ok_or_else(|| {
            Error::Malformed("public_key must be a base64 Ed25519 public key (32 bytes)".into())
        })?;
    Ok(Json(state.store(move |s| s.enrol_device(&req, key)).await?))
}

/// Receives a batch of operations from a device and applies it exactly once.
#[utoipa::path(post, path = "/v1/push", request_body = PushBatch,
    params(
        ("siteline-protocol" = u32, Header, description = "protocol version"),
        ("siteline-device" = String, Header, description = "device id"),
        ("siteline-timestamp" = i64, Header, description = "ms since the Unix epoch"),
        ("siteline-seq-range" = String, Header, description = "epoch:from-to"),
        ("siteline-signature" = String, Header, description = "base64 Ed25519 signature"),
    ),
    responses(
        (status = 200, body = PushAck, headers(("siteline-answer-signature" = String, description = "HQ's base64 Ed25519 signature over the answer signing string"))),
        (status = 400, body = ApiError, description = "malformed body or headers"),
        (status = 401, body = ApiError, description = "unknown device, bad signature or stale timestamp"),
        (status = 403, body = ApiError, description = "revoked device or another site's record"),
        (status = 409, body = ApiError, description = "sequence gap or replayed request"),
        (status = 413, body = ApiError, description = "body too large"),
        (status = 426, body = ApiError, description = "unsupported protocol version"),
        (status = 429, body = ApiError, description = "too many requests from this device; see Retry-After"),
    ))]
pub(crate) async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    check_protocol(&headers)?;
    let range = header(&headers, headers::SEQ_RANGE)?;
    let (epoch, from, to) = parse_range(range).ok_or(Error::BadHeader(headers::SEQ_RANGE))?;
    // Who and when, from the headers, before a byte of the body is read.
    let (device, ts) = claimed_device(&state, &headers).await?;
    let bytes = read_body(body, state.max_body).await?;
    let digest = hex(&Sha256::digest(&bytes));
    let signature = verify_signature(
        &device,
        &headers,
        &push_signing_string(device.id, epoch, from, to, ts, &digest),
    )?;
    let batch: PushBatch =
        serde_json::from_slice(&bytes).map_err(|e| Error::Malformed(e.to_string()))?;
    if (batch.epoch, batch.from_seq, batch.to_seq) != (epoch, from, to) {
        return Err(Error::Malformed(
            "the siteline-seq-range header does not match the batch".into(),
        ));
    }
    note_signature(&state, &signature).await?;
    let id = device.id;
    let ack = state.store(move |s| s.push(&device, &batch)).await?;
    signed_answer(&state, id, &signature, &ack)
}

/// Refuses a request whose exact signature was seen within the window (a replay).
async fn note_signature(state: &AppState, signature: &[u8]) -> Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let expires = now + 2 * state.window_ms;
    let signature = signature.to_vec();
    if state
        .store(move |s| s.note_signature(&signature, now, expires))
        .await?
    {
        Ok(())
    } else {
        Err(Error::Replayed)
    }
}

fn parse_range(s: &str) -> Option<(u32, u64, u64)> {
    let (epoch, rest) = s.split_once(':')?;
    let (from, to) = rest.split_once('-')?;
    Some((epoch.parse().ok()?, from.parse().ok()?, to.parse().ok()?))
}

use crate::bundle::hex;

/// Pull parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct PullQuery {
    /// The cursor the site stored with its last page (0 at first).
    since: u64,
    /// Largest page the link can take, in bytes.
    max_bytes: Option<u64>,
}

/// A page of the change log that the calling device's site may see.
#[utoipa::path(get, path = "/v1/pull",
    params(
        PullQuery,
        ("siteline-protocol" = u32, Header, description = "protocol version"),
        ("siteline-device" = String, Header, description = "device id"),
        ("siteline-timestamp" = i64, Header, description = "ms since the Unix epoch"),
        ("siteline-signature" = String, Header, description = "base64 Ed25519 signature over the pull signing string"),
    ),
    responses(
        (status = 200, body = PullPage, headers(("siteline-answer-signature" = String, description = "HQ's base64 Ed25519 signature over the answer signing string"))),
        (status = 400, body = ApiError, description = "malformed headers"),
        (status = 401, body = ApiError, description = "unknown device, bad signature or stale timestamp"),
        (status = 403, body = ApiError, description = "revoked device"),
        (status = 409, body = ApiError, description = "replayed request"),
        (status = 426, body = ApiError, description = "unsupported protocol version"),
        (status = 429, body = ApiError, description = "too many requests from this device; see Retry-After"),
    ))]
pub(crate) async fn pull(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PullQuery>,
) -> Result<Response> {
    check_protocol(&headers)?;
    let max_bytes = q
        .max_bytes
        .unwrap_or(256 * 1024)
        .clamp(1024, 4 * 1024 * 1024);
    let since = q.since;
    let (device, signature) = signed_device(&state, &headers, |id, ts| {
        pull_signing_string(id, since, max_bytes, ts)
    })
    .await?;
    note_signature(&state, &signature).await?;
    let id = device.id;
    let page = state
        .store(move |s| s.pull(&device, since, max_bytes))
        .await?;
    signed_answer(&state, id, &signature, &page)
}

/// Imports a sync bundle file (signed by its device, even with nothing pending) and answers
/// with acks and pull pages, signed by HQ.
#[utoipa::path(post, path = "/v1/bundle", request_body = siteline_proto::sync::SyncBundle,
    responses(
        (status = 200, body = siteline_proto::sync::BundleAnswer),
        (status = 400, body = ApiError, description = "not a bundle, or its batch disagrees with its signed range"),
        (status = 401, body = ApiError, description = "unknown device, bad signature, or signed too long ago"),
        (status = 403, body = ApiError, description = "revoked device or another site's record"),
        (status = 409, body = ApiError, description = "this bundle was already imported, or a sequence gap"),
        (status = 413, body = ApiError, description = "body too large"),
    ))]
pub(crate) async fn bundle(
    State(state): State<AppState>,
    body: Body,
) -> Result<Json<siteline_proto::sync::BundleAnswer>> {
    let bytes = read_body(body, state.max_body).await?;
    let bundle: siteline_proto::sync::SyncBundle =
        serde_json::from_slice(&bytes).map_err(|e| Error::Malformed(e.to_string()))?;
    let now = chrono::Utc::now().timestamp_millis();
    Ok(Json(
        state
            .store(move |s| crate::bundle::answer(s, &bundle, now))
            .await?,
    ))
}
