//! Certificates anyone can check, with no login (ADR 0007): the verify page (Chinese first),
//! the API behind it, a holder's credential file, and the revocation status lists. A verdict
//! reveals nothing beyond what the certificate's credential holds.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::store::Verification;
use crate::{AppState, Error, Result};

/// Largest credential accepted: a certificate's is about 4 KB.
pub const MAX_CREDENTIAL_BYTES: usize = 64 * 1024;

/// A certificate number and the code printed beside its QR code.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct NumberAndCode {
    /// 证书编号.
    n: String,
    /// The code printed beside the QR code.
    c: String,
}

/// Checks a credential file: HQ's signature, that it is exactly what HQ issued, and the
/// certificate's standing. Anything that is not a credential is answered, not refused.
#[utoipa::path(post, path = "/v1/verify", tag = "verify",
    request_body(content = Object, content_type = "application/json",
        description = "an Open Badges 3.0 credential as HQ issued it"),
    responses(
        (status = 200, body = Verification, description = "the verdict"),
        (status = 413, body = siteline_proto::ApiError),
        (status = 429, body = siteline_proto::ApiError)))]
pub(crate) async fn verify_credential(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Verification>> {
    if body.len() > MAX_CREDENTIAL_BYTES {
        return Err(Error::TooLarge {
            limit: MAX_CREDENTIAL_BYTES,
        });
    }
    // Text that is not JSON is no credential: the store answers "malformed" for it, as it
    // does for JSON that is not one.
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let verdict = state.store(move |s| s.verify_credential(&doc)).await?;
    Ok(Json(verdict))
}

/// Checks a certificate by its number and the code printed beside its QR code.
#[utoipa::path(get, path = "/v1/verify", tag = "verify", params(NumberAndCode),
    responses(
        (status = 200, body = Verification, description = "the verdict"),
        (status = 400, body = siteline_proto::ApiError),
        (status = 429, body = siteline_proto::ApiError)))]
pub(crate) async fn verify_number(
    State(state): State<AppState>,
    Query(q): Query<NumberAndCode>,
) -> Result<Json<Verification>> {
    if q.n.len() > 64 || q.c.len() > 64 {
        return Err(Error::Invalid(
            "a certificate number and its code are each under 64 characters".into(),
        ));
    }
    Ok(Json(
        state.store(move |s| s.verify_number(&q.n, &q.c)).await?,
    ))
}

/// A certificate's signed credential (Open Badges 3.0), for the holder who has its number and
/// code: the file a wallet keeps.
#[utoipa::path(get, path = "/v1/credentials/{number}", tag = "verify",
    params(("number" = String, Path, description = "证书编号"),
           ("c" = String, Query, description = "the code printed beside the QR code")),
    responses(
        (status = 200, content_type = "application/json", description = "the credential"),
        (status = 404, body = siteline_proto::ApiError),
        (status = 429, body = siteline_proto::ApiError)))]
pub(crate) async fn credential(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(code): Query<CodeOnly>,
) -> Result<Response> {
    let doc = state.store(move |s| s.credential(&number, &code.c)).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/vc+ld+json")],
        doc.to_string(),
    )
        .into_response())
}

/// Just the code.
#[derive(Debug, Deserialize)]
pub(crate) struct CodeOnly {
    c: String,
}

/// A revocation status list (W3C Bitstring Status List), signed by HQ; the list every
/// credential names in its `credentialStatus`.
#[utoipa::path(get, path = "/status/{list}", tag = "verify",
    params(("list" = u32, Path, description = "the list's number, from 1")),
    responses(
        (status = 200, content_type = "application/json", description = "a BitstringStatusListCredential"),
        (status = 404, body = siteline_proto::ApiError)))]
pub(crate) async fn status_list(
    State(state): State<AppState>,
    Path(list): Path<u32>,
) -> Result<Response> {
    let doc = state.store(move |s| s.status_list(list)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vc+ld+json"),
            // Verifiers may cache it briefly; a revocation shows within a minute.
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        doc.to_string(),
    )
        .into_response())
}

/// The verify page.
pub(crate) async fn page() -> Html<&'static str> {
    Html(include_str!("verify.html"))
}
