//! One error type for the credit bank. Over HTTP it becomes a status and a JSON body
//! `{code, message}` that says what is wrong and what to do; 5xx bodies say nothing internal
//! (the detail goes to the log).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use siteline_proto::ApiError;

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the credit bank can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client speaks a protocol version this server does not.
    #[error(
        "protocol version {got} is not supported (this credit bank speaks {supported}); update Siteline on this device"
    )]
    UnsupportedProtocol {
        /// What the client sent.
        got: String,
        /// What we speak.
        supported: u32,
    },
    /// A required header is missing or unreadable.
    #[error("header {0} is missing or malformed")]
    BadHeader(&'static str),
    /// The signing device is not registered.
    #[error("device {0} is not registered with the credit bank; enrol it with a code from HQ")]
    UnknownDevice(String),
    /// The device was revoked.
    #[error("device {0} was revoked by HQ; ask HQ for a new enrolment code")]
    DeviceRevoked(String),
    /// The signature does not verify.
    #[error(
        "the request signature does not match; the data may have been altered on the way; sync again"
    )]
    BadSignature,
    /// The timestamp is outside the accepted window.
    #[error(
        "the request was signed {skew_s} s away from HQ's clock (more than {window_s} s); check the device clock and sync again"
    )]
    StaleTimestamp {
        /// Difference in seconds.
        skew_s: i64,
        /// Allowed window in seconds.
        window_s: i64,
    },
    /// This exact signed request was already received.
    #[error("this exact request was already received; sign it again to retry")]
    Replayed,
    /// A row concerns a record that belongs to another site.
    #[error("record {record_id} belongs to another site; a site may only send its own records")]
    ForeignRecord {
        /// The record.
        record_id: String,
    },
    /// A batch starts past the next expected seq.
    #[error("the batch starts at seq {got} but HQ expects {expected}; send from {expected}")]
    SequenceGap {
        /// Next seq HQ expects.
        expected: u64,
        /// What the batch started at.
        got: u64,
    },
    /// The body is larger than allowed.
    #[error("the request body is over {limit} bytes; send smaller batches")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body is not the JSON expected.
    #[error("the request body is not valid: {0}")]
    Malformed(String),
    /// The admin token is missing or wrong.
    #[error("an admin token is required: send `Authorization: Bearer <token>`")]
    Unauthorized,
    /// Input to an admin operation is invalid.
    #[error("{0}")]
    Invalid(String),
    /// A thing looked up does not exist.
    #[error("{0} was not found")]
    NotFound(String),
    /// A one-time code is unknown, used or expired.
    #[error("the enrolment code is unknown, already used or expired; ask HQ for a new one")]
    BadEnrolmentCode,
    /// Too many requests from this address or device.
    #[error("too many requests from this device or address; wait {retry_after_s} s and try again")]
    RateLimited {
        /// Seconds until the next request is accepted.
        retry_after_s: u64,
    },
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// The PostgreSQL database failed.
    #[error("database: {}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    /// Anything else internal.
    #[error("internal: {0}")]
    Internal(String),
    /// A batch applied without savepoints met a refused row: the store applies it again row
    /// by row (never leaves the store).
    #[error("internal: the batch is applied again row by row")]
    Reapply,
}

impl Error {
    /// Stable code in the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnsupportedProtocol { .. } => "unsupported_protocol",
            Error::BadHeader(_) => "bad_header",
            Error::UnknownDevice(_) => "unknown_device",
            Error::DeviceRevoked(_) => "device_revoked",
            Error::BadSignature => "bad_signature",
            Error::StaleTimestamp { .. } => "stale_timestamp",
            Error::Replayed => "replayed_request",
            Error::ForeignRecord { .. } => "foreign_record",
            Error::SequenceGap { .. } => "sequence_gap",
            Error::TooLarge { .. } => "body_too_large",
            Error::Malformed(_) => "malformed_body",
            Error::Unauthorized => "unauthorized",
            Error::Invalid(_) => "invalid",
            Error::NotFound(_) => "not_found",
            Error::BadEnrolmentCode => "bad_enrolment_code",
            Error::RateLimited { .. } => "rate_limited",
            Error::Storage(_) | Error::Postgres(_) | Error::Internal(_) | Error::Reapply => {
                "internal"
            }
        }
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::UnsupportedProtocol { .. } => StatusCode::UPGRADE_REQUIRED,
            Error::BadHeader(_) | Error::Malformed(_) | Error::Invalid(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::UnknownDevice(_)
            | Error::BadSignature
            | Error::StaleTimestamp { .. }
            | Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::DeviceRevoked(_) | Error::ForeignRecord { .. } | Error::BadEnrolmentCode => {
                StatusCode::FORBIDDEN
            }
            Error::Replayed | Error::SequenceGap { .. } => StatusCode::CONFLICT,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Storage(_) | Error::Postgres(_) | Error::Internal(_) | Error::Reapply => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// PostgreSQL's own message (`db error` alone says nothing).
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

impl From<siteline_domain::Error> for Error {
    fn from(e: siteline_domain::Error) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(e.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "the credit bank had an internal problem; your data is safe, try again later"
                .to_string()
        } else {
            tracing::info!(code = self.code(), error = %self, "request refused");
            self.to_string()
        };
        let retry_after = match &self {
            Error::RateLimited { retry_after_s } => Some(retry_after_s.to_string()),
            _ => None,
        };
        let mut response = (
            status,
            Json(ApiError {
                code: self.code().to_string(),
                message,
            }),
        )
            .into_response();
        if let Some(value) = retry_after.and_then(|v| v.parse().ok()) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}
