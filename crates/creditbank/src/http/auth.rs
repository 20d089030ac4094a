//! Who is calling: device signatures (Ed25519 over the protocol's signing strings, within a
//! time window) for sync endpoints, a bearer token for admin endpoints.

use axum::body::Body;
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, VerifyingKey};
use http_body_util::BodyExt;
use siteline_proto::sync::headers;
use uuid::Uuid;

use crate::store::DeviceInfo;
use crate::{AppState, Error, PROTOCOL_VERSION, Result};

pub(crate) fn header<'a>(h: &'a HeaderMap, name: &'static str) -> Result<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or(Error::BadHeader(name))
}

/// Refuses a client that speaks another protocol version.
pub(crate) fn check_protocol(h: &HeaderMap) -> Result<()> {
    let got = header(h, headers::PROTOCOL)?;
    if got.parse::<u32>().ok() != Some(PROTOCOL_VERSION) {
        return Err(Error::UnsupportedProtocol {
            got: got.into(),
            supported: PROTOCOL_VERSION,
        });
    }
    Ok(())
}

/// Reads the body up to the limit, after decompression.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes> {
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(Error::TooLarge { limit })
        }
        Err(e) => Err(Error::Malformed(format!(
            "the body could not be read or decompressed: {e}"
        ))),
    }
}

/// The device a request names, checked from its headers alone before any body is read: known,
/// not revoked, and a timestamp inside the window. Returns the device and the timestamp.
pub(crate) async fn claimed_device(state: &AppState, h: &HeaderMap) -> Result<(DeviceInfo, i64)> {
    let id = Uuid::parse_str(header(h, headers::DEVICE)?)
        .map_err(|_| Error::BadHeader(headers::DEVICE))?;
    let ts: i64 = header(h, headers::TIMESTAMP)?
        .parse()
        .map_err(|_| Error::BadHeader(headers::TIMESTAMP))?;
    let skew = ts - chrono::Utc::now().timestamp_millis();
    if skew.abs() > state.window_ms {
        return Err(Error::StaleTimestamp {
            skew_s: skew / 1000,
            window_s: state.window_ms / 1000,
        });
    }
    let device = state
        .store(move |s| s.device(id))
        .await?
        .ok_or_else(|| Error::UnknownDevice(id.to_string()))?;
    if device.revoked_at.is_some() {
        return Err(Error::DeviceRevoked(id.to_string()));
    }
    Ok((device, ts))
}

/// Checks the request's signature by `device` over `message`; returns the raw signature.
pub(crate) fn verify_signature(
    device: &DeviceInfo,
    h: &HeaderMap,
    message: &str,
) -> Result<Vec<u8>> {
    let sig = B64
        .decode(header(h, headers::SIGNATURE)?)
        .map_err(|_| Error::BadHeader(headers::SIGNATURE))?;
    let signature = Signature::from_slice(&sig).map_err(|_| Error::BadSignature)?;
    let key = VerifyingKey::from_bytes(&device.public_key).map_err(|_| Error::BadSignature)?;
    key.verify_strict(message.as_bytes(), &signature)
        .map_err(|_| Error::BadSignature)?;
    Ok(sig)
}

/// A device that signed this bodiless request: [`claimed_device`], then the signature over
/// `signing(device, timestamp)`. Returns the device and the raw signature.
pub(crate) async fn signed_device(
    state: &AppState,
    h: &HeaderMap,
    signing: impl FnOnce(Uuid, i64) -> String,
) -> Result<(DeviceInfo, Vec<u8>)> {
    let (device, ts) = claimed_device(state, h).await?;
    let sig = verify_signature(&device, h, &signing(device.id, ts))?;
    Ok((device, sig))
}

/// HQ's answer to a device's signed request: the JSON body with HQ's signature over the device,
/// the request's signature and the body, in the `siteline-answer-signature` header.
pub(crate) fn signed_answer<T: serde::Serialize>(
    state: &AppState,
    device: Uuid,
    request_signature: &[u8],
    value: &T,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    use ed25519_dalek::Signer;
    use sha2::{Digest, Sha256};
    let body = serde_json::to_vec(value)?;
    let message = siteline_proto::sync::answer_signing_string(
        device,
        &crate::bundle::hex(&Sha256::digest(request_signature)),
        &crate::bundle::hex(&Sha256::digest(&body)),
    );
    let signature = state.store.signing_key().sign(message.as_bytes());
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_string(),
            ),
            (
                axum::http::HeaderName::from_static(headers::ANSWER_SIGNATURE),
                B64.encode(signature.to_bytes()),
            ),
        ],
        body,
    )
        .into_response())
}

/// The one layer in front of every `/admin` route: the bearer token is checked before any
/// handler runs or any body is parsed.
pub(crate) async fn admin_layer(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match check_admin(&state, req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// Refuses an admin call without the right bearer token (compared in constant time).
pub(crate) fn check_admin(state: &AppState, h: &HeaderMap) -> Result<()> {
    let given = h
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(Error::Unauthorized)?;
    let want = state.admin_token.as_bytes();
    let given = given.trim().as_bytes();
    let same = want.len() == given.len()
        && want
            .iter()
            .zip(given)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same && !want.is_empty() {
        Ok(())
    } else {
        Err(Error::Unauthorized)
    }
}
