//! Signed app updates for sites: the manifest the Tauri updater asks for (204 when the site is
//! up to date) and the release files. Public like `/v1/hello`: a release is signed by the
//! project, and the app refuses any file whose signature does not verify.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::releases::UpdateManifest;
use crate::{AppState, Error, Result};

fn base_url(state: &AppState, headers: &HeaderMap) -> Result<String> {
    if let Some(u) = &state.public_url {
        return Ok(u.trim_end_matches('/').to_string());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or(Error::BadHeader("host"))?;
    let scheme = if state.tls { "https" } else { "http" };
    Ok(format!("{scheme}://{host}"))
}

/// The newest release above the site's version for its target and architecture.
#[utoipa::path(get, path = "/v1/updates/{target}/{arch}/{current_version}", tag = "updates",
    params(("target" = String, Path, description = "e.g. linux"), ("arch" = String, Path, description = "e.g. x86_64"),
           ("current_version" = String, Path, description = "the app's version, semver")),
    responses(
        (status = 200, body = UpdateManifest, description = "a newer signed release"),
        (status = 204, description = "up to date, or no releases served"),
        (status = 400, body = siteline_proto::ApiError)))]
pub(crate) async fn check(
    State(state): State<AppState>,
    Path((target, arch, current)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let Some(releases) = state.releases.clone() else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let base = base_url(&state, &headers)?;
    let found = tokio::task::spawn_blocking(move || releases.newer(&target, &arch, &current))
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    Ok(match found {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(r) => Json(UpdateManifest {
            url: format!("{base}/v1/updates/files/{}", r.file),
            version: r.version,
            notes: r.notes,
            pub_date: r.pub_date.to_rfc3339(),
            signature: r.signature,
        })
        .into_response(),
    })
}

/// A release file, streamed.
#[utoipa::path(get, path = "/v1/updates/files/{file}", tag = "updates",
    params(("file" = String, Path, description = "a file named by a manifest")),
    responses(
        (status = 200, content_type = "application/octet-stream", description = "the file"),
        (status = 404, body = siteline_proto::ApiError)))]
pub(crate) async fn file(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response> {
    let releases = state
        .releases
        .clone()
        .ok_or_else(|| Error::NotFound(format!("update file {name}")))?;
    let n = name.clone();
    let path = tokio::task::spawn_blocking(move || releases.file(&n))
        .await
        .map_err(|e| Error::Internal(e.to_string()))??
        .ok_or_else(|| Error::NotFound(format!("update file {name}")))?;
    // Streamed from disk: a release of hundreds of MiB never sits in memory.
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
    let length = file
        .metadata()
        .await
        .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?
        .len();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response())
}
