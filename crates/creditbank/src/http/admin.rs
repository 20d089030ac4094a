//! HQ staff endpoints behind the admin token: sites, enrolment codes, devices, catalogue,
//! quarantine and credit accounts.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use siteline_proto::catalogue::Catalogue;
use uuid::Uuid;

use crate::store::{AccountStatement, DeviceInfo, EnrolmentCode, QuarantineItem, SiteInfo};
use siteline_proto::ApiError;

use crate::{AppState, Error, Result};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/sites", get(list_sites).post(create_site))
        .route("/sites/{code}/enrolment-codes", post(issue_code))
        .route("/devices", get(list_devices))
        .route("/devices/{id}/revoke", post(revoke_device))
        .route("/catalogue", post(publish_catalogue))
        .route("/quarantine", get(list_quarantine))
        .route(
            "/quarantine/{device}/{epoch}/{seq}/resolve",
            post(resolve_quarantine),
        )
        .route("/accounts/{account_no}", get(account))
        .route("/postings/{id}/reverse", post(reverse_posting))
        .route("/xapi", get(xapi_status))
        .route("/certificates/{number}/reissue", post(reissue_certificate))
}

/// A certificate issued again.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Reissued {
    /// The certificate superseded.
    superseded: String,
    /// Its new number.
    number: String,
}

/// Issues a valid certificate again under a new number, with the learner's name as HQ holds
/// it now (after a correction); the old one is superseded by it and both reach the site.
#[utoipa::path(post, path = "/admin/certificates/{number}/reissue", tag = "admin", request_body = Resolution, security(("admin" = [])),
    params(("number" = String, Path, description = "the certificate number")),
    responses((status = 200, body = Reissued), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn reissue_certificate(
    State(s): State<AppState>,
    Path(number): Path<String>,
    Json(r): Json<Resolution>,
) -> Result<Json<Reissued>> {
    let old = number.clone();
    let new = s
        .store(move |st| st.reissue_certificate(&number, &r.note))
        .await?;
    Ok(Json(Reissued {
        superseded: old,
        number: new,
    }))
}

/// How far the export of learning records (xAPI) to the Learning Record Store got: statements
/// queued and sent, the last attempt and success, and the last error.
#[utoipa::path(get, path = "/admin/xapi", tag = "admin", security(("admin" = [])),
    responses((status = 200, body = crate::xapi::ExportStatus), (status = 401, body = ApiError)))]
pub(crate) async fn xapi_status(
    State(s): State<AppState>,
) -> Result<Json<crate::xapi::ExportStatus>> {
    Ok(Json(s.store(|st| st.xapi_status()).await?))
}

/// A site to create.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct NewSite {
    /// Short code, e.g. `GD-SZ-001`.
    code: String,
    /// Name.
    name: String,
    /// Two-digit province code (default `00`).
    province: Option<String>,
}

#[utoipa::path(post, path = "/admin/sites", tag = "admin", request_body = NewSite, security(("admin" = [])),
    responses((status = 200, body = SiteInfo), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
pub(crate) async fn create_site(
    State(s): State<AppState>,
    Json(b): Json<NewSite>,
) -> Result<Json<SiteInfo>> {
    let province = b.province.unwrap_or_else(|| "00".into());
    Ok(Json(
        s.store(move |st| st.create_site(&b.code, &b.name, &province))
            .await?,
    ))
}

#[utoipa::path(get, path = "/admin/sites", tag = "admin", security(("admin" = [])),
    responses((status = 200, body = Vec<SiteInfo>), (status = 401, body = ApiError)))]
pub(crate) async fn list_sites(State(s): State<AppState>) -> Result<Json<Vec<SiteInfo>>> {
    Ok(Json(s.store(|st| st.list_sites(chrono::Utc::now())).await?))
}

/// How long a new enrolment code stays valid.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct CodeRequest {
    /// Days, 1 to 90 (default 7).
    valid_days: Option<i64>,
}

#[utoipa::path(post, path = "/admin/sites/{code}/enrolment-codes", tag = "admin", request_body(content = Option<CodeRequest>), security(("admin" = [])),
    params(("code" = String, Path, description = "site code")),
    responses((status = 200, body = EnrolmentCode), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn issue_code(
    State(s): State<AppState>,
    Path(code): Path<String>,
    body: Option<Json<CodeRequest>>,
) -> Result<Json<EnrolmentCode>> {
    let days = body
        .map(|b| b.0)
        .unwrap_or_default()
        .valid_days
        .unwrap_or(7);
    if !(1..=90).contains(&days) {
        return Err(Error::Invalid(
            "an enrolment code is valid for 1 to 90 days".into(),
        ));
    }
    Ok(Json(
        s.store(move |st| st.issue_enrolment_code(&code, chrono::Duration::days(days)))
            .await?,
    ))
}

#[utoipa::path(get, path = "/admin/devices", tag = "admin", security(("admin" = [])),
    responses((status = 200, body = Vec<DeviceInfo>), (status = 401, body = ApiError)))]
pub(crate) async fn list_devices(State(s): State<AppState>) -> Result<Json<Vec<DeviceInfo>>> {
    Ok(Json(s.store(|st| st.list_devices()).await?))
}

#[utoipa::path(post, path = "/admin/devices/{id}/revoke", tag = "admin", security(("admin" = [])),
    params(("id" = Uuid, Path, description = "device id")),
    responses((status = 200, body = Revoked), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn revoke_device(
    State(s): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<Revoked>> {
    s.store(move |st| st.revoke_device(id)).await?;
    Ok(Json(Revoked { revoked: id }))
}

/// Answer to a device revocation.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Revoked {
    /// The device revoked.
    revoked: Uuid,
}

/// Answer to publishing a catalogue.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Published {
    /// The catalogue's version label.
    version: String,
    /// False when that version was already published (nothing changed).
    published: bool,
}

/// Answer to resolving a quarantined row.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Resolved {
    /// Always true: the row is no longer in quarantine.
    resolved: bool,
    /// Re-applied (true), or set aside because it still cannot apply (false).
    applied: bool,
}

/// Answer to reversing a credit posting.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Reversed {
    /// The negative posting made.
    reversal_posting_id: i64,
}

#[utoipa::path(post, path = "/admin/catalogue", tag = "admin", request_body = Catalogue, security(("admin" = [])),
    responses((status = 200, body = Published), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
pub(crate) async fn publish_catalogue(
    State(s): State<AppState>,
    Json(doc): Json<Catalogue>,
) -> Result<Json<Published>> {
    let version = doc.version.clone();
    let published = s.store(move |st| st.publish_catalogue(&doc)).await?;
    Ok(Json(Published { version, published }))
}

#[utoipa::path(get, path = "/admin/quarantine", tag = "admin", security(("admin" = [])),
    responses((status = 200, body = Vec<QuarantineItem>), (status = 401, body = ApiError)))]
pub(crate) async fn list_quarantine(
    State(s): State<AppState>,
) -> Result<Json<Vec<QuarantineItem>>> {
    Ok(Json(s.store(|st| st.list_quarantine()).await?))
}

/// An operator's note.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Resolution {
    /// How it was resolved, or why (1 to 1,000 characters).
    note: String,
}

#[utoipa::path(post, path = "/admin/quarantine/{device}/{epoch}/{seq}/resolve", tag = "admin", request_body = Resolution, security(("admin" = [])),
    params(("device" = Uuid, Path, description = "device id"), ("epoch" = u32, Path, description = "device epoch"), ("seq" = u64, Path, description = "row seq")),
    responses((status = 200, body = Resolved), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn resolve_quarantine(
    State(s): State<AppState>,
    Path((device, epoch, seq)): Path<(Uuid, u32, u64)>,
    Json(r): Json<Resolution>,
) -> Result<Json<Resolved>> {
    let applied = s
        .store(move |st| st.resolve_quarantine(device, epoch, seq, &r.note))
        .await?;
    Ok(Json(Resolved {
        resolved: true,
        applied,
    }))
}

#[utoipa::path(get, path = "/admin/accounts/{account_no}", tag = "admin", security(("admin" = [])),
    params(("account_no" = String, Path, description = "credit account number")),
    responses((status = 200, body = AccountStatement), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn account(
    State(s): State<AppState>,
    Path(no): Path<String>,
) -> Result<Json<AccountStatement>> {
    Ok(Json(s.store(move |st| st.account(&no)).await?))
}

#[utoipa::path(post, path = "/admin/postings/{id}/reverse", tag = "admin", request_body = Resolution, security(("admin" = [])),
    params(("id" = i64, Path, description = "credit posting id")),
    responses((status = 200, body = Reversed), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub(crate) async fn reverse_posting(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Json(r): Json<Resolution>,
) -> Result<Json<Reversed>> {
    let reversal_posting_id = s.store(move |st| st.reverse_posting(id, &r.note)).await?;
    Ok(Json(Reversed {
        reversal_posting_id,
    }))
}
