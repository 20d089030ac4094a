//! The HTTP API: public sync endpoints under `/v1`, HQ staff endpoints under `/admin`, and
//! the OpenAPI document at `/openapi.json`.

mod admin;
mod auth;
pub mod limits;
mod sync;
mod updates;
pub mod verify;

use axum::Router;
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::AppState;

/// The OpenAPI document of the public sync API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Siteline credit bank",
        description = "Sync API between training sites and the credit bank (学分银行)."
    ),
    paths(
        sync::hello, sync::enrol, sync::push, sync::pull, sync::bundle,
        updates::check, updates::file,
        verify::verify_credential, verify::verify_number, verify::credential, verify::status_list,
        admin::create_site, admin::list_sites, admin::issue_code, admin::list_devices,
        admin::revoke_device, admin::publish_catalogue, admin::list_quarantine,
        admin::resolve_quarantine, admin::account, admin::reverse_posting, admin::xapi_status,
        admin::reissue_certificate,
    ),
    modifiers(&AdminToken),
    components(schemas(
        siteline_proto::ApiError,
        siteline_proto::PushBatch,
        siteline_proto::OutboxRow,
        siteline_proto::Entity,
        siteline_proto::Op,
        siteline_proto::sync::Hello,
        siteline_proto::sync::EnrolRequest,
        siteline_proto::sync::EnrolResponse,
        siteline_proto::sync::PushAck,
        siteline_proto::sync::QuarantinedRow,
        siteline_proto::sync::PullPage,
        siteline_proto::sync::Change,
        siteline_proto::sync::HqChange,
        siteline_proto::sync::Decision,
        siteline_proto::sync::DecisionStatus,
        siteline_proto::sync::CreditPosting,
        siteline_proto::sync::Certificate,
        siteline_proto::sync::CertificateStatus,
        siteline_proto::sync::QuarantineNotice,
        siteline_proto::sync::QuarantineResolved,
        siteline_proto::sync::DeviceRevoked,
        siteline_proto::sync::SyncBundle,
        siteline_proto::sync::BundleAnswer,
        siteline_proto::sync::AnswerBody,
        siteline_proto::catalogue::Catalogue,
        crate::releases::UpdateManifest,
        crate::store::SiteInfo,
        crate::store::DeviceInfo,
        crate::store::QuarantineItem,
        crate::store::EnrolmentCode,
        crate::store::AccountStatement,
        crate::store::Verification,
        crate::store::VerifyOutcome,
        crate::store::CertificateView,
        crate::xapi::ExportStatus,
        admin::NewSite,
        admin::CodeRequest,
        admin::Resolution,
        admin::Revoked,
        admin::Published,
        admin::Resolved,
        admin::Reversed,
        admin::Reissued,
    ))
)]
pub struct ApiDoc;

/// The admin API's bearer token, as a security scheme in the document.
struct AdminToken;

impl utoipa::Modify for AdminToken {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "admin",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

/// Most requests handled at once; more wait their turn (SQLite has one writer anyway).
pub const MAX_CONCURRENT_REQUESTS: usize = 256;
/// Longest a request may take, body included; a stalled client is cut off with 408.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Builds the whole API over the given state.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/hello", get(sync::hello))
        .route("/v1/enrol", post(sync::enrol))
        .route("/v1/push", post(sync::push))
        .route("/v1/pull", get(sync::pull))
        .route("/v1/bundle", post(sync::bundle))
        .route(
            "/v1/updates/{target}/{arch}/{current_version}",
            get(updates::check),
        )
        .route("/v1/updates/files/{file}", get(updates::file))
        .route(
            "/v1/verify",
            post(verify::verify_credential).get(verify::verify_number),
        )
        .route("/v1/credentials/{number}", get(verify::credential))
        .route("/status/{list}", get(verify::status_list))
        .route("/verify", get(verify::page))
        .route("/openapi.json", get(openapi))
        .nest(
            "/admin",
            admin::routes().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::admin_layer,
            )),
        )
        .layer(RequestDecompressionLayer::new())
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::rate_limit,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            MAX_CONCURRENT_REQUESTS,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
