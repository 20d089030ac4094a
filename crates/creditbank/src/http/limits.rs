//! Request limits in front of the handlers: keyed rate limits (GCRA token buckets, `governor`)
//! on enrolment per address and on sync requests per device, checked from the headers before
//! any body is read. The server also bounds concurrency and time per request (`router`).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use siteline_proto::sync::headers;

use crate::{AppState, Error};

/// The rate limits, shared by every request.
pub struct Limits {
    enrol: DefaultKeyedRateLimiter<IpAddr>,
    sync: DefaultKeyedRateLimiter<String>,
    verify: DefaultKeyedRateLimiter<IpAddr>,
}

impl Limits {
    /// `enrol_per_minute` enrolment attempts per address (a burst of that many, then one every
    /// `60 / n` seconds), and `sync_per_minute` sync requests per device (bursts of a fifth).
    pub fn new(enrol_per_minute: u32, sync_per_minute: u32) -> Self {
        let per_minute = |n: u32, burst: u32| {
            let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
            Quota::per_minute(n)
                .allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN))
        };
        Limits {
            enrol: RateLimiter::keyed(per_minute(enrol_per_minute, enrol_per_minute)),
            sync: RateLimiter::keyed(per_minute(sync_per_minute, sync_per_minute / 5)),
            // Certificate checks per address: plenty for an employer, far too few to guess a
            // number's 12-character code.
            verify: RateLimiter::keyed(per_minute(VERIFY_PER_MINUTE, VERIFY_PER_MINUTE)),
        }
    }
}

/// Certificate checks a minute per address.
pub const VERIFY_PER_MINUTE: u32 = 120;

impl Default for Limits {
    /// Ten enrolment attempts a minute per address (a 12-character code from a 31-letter
    /// alphabet cannot be guessed at that rate), 600 sync requests a minute per device.
    fn default() -> Self {
        Limits::new(10, 600)
    }
}

/// Refuses a request over its rate with 429 and `Retry-After`, before the body is read.
pub(crate) async fn rate_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let addr = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let path = req.uri().path();
    let verdict = if path == "/v1/enrol" {
        state.limits.enrol.check_key(&addr)
    } else if ["/v1/push", "/v1/pull", "/v1/bundle"].contains(&path) {
        let key = req
            .headers()
            .get(headers::DEVICE)
            .and_then(|v| v.to_str().ok())
            .map(|d| format!("device {}", d.trim()))
            .unwrap_or_else(|| format!("address {addr}"));
        state.limits.sync.check_key(&key)
    } else if path.starts_with("/v1/verify") || path.starts_with("/v1/credentials/") {
        state.limits.verify.check_key(&addr)
    } else {
        Ok(())
    };
    match verdict {
        Ok(()) => next.run(req).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Error::RateLimited {
                retry_after_s: wait.as_secs().max(1),
            }
            .into_response()
        }
    }
}
