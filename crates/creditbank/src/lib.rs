//! The credit bank (学分银行): the headquarters server that Siteline sites sync with. It
//! receives what sites record (push, exactly once), accredits outcome claims, posts credits
//! to one account per learner across all sites, issues certificates, publishes the catalogue,
//! and serves each site its change log (pull).
//!
//! `router(state)` builds the HTTP API; `main.rs` is a thin command line around it and the
//! [`store`] module's narrow storage interface.

pub mod accreditation;
pub mod bundle;
pub mod credentials;
mod error;
pub mod http;
pub mod releases;
pub mod store;
pub mod xapi;

use std::sync::Arc;

pub use error::{Error, Result};
pub use http::router;

/// The sync protocol version the credit bank speaks (the same as the sites').
pub const PROTOCOL_VERSION: u32 = siteline_proto::PROTOCOL_VERSION;

/// Default largest request body, after decompression (8 MiB).
pub const DEFAULT_MAX_BODY: usize = 8 * 1024 * 1024;

/// Default window for request timestamps: five minutes either side of HQ's clock.
pub const DEFAULT_WINDOW_MS: i64 = 5 * 60 * 1000;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Arc<dyn store::Store>,
    /// Bearer token for `/admin` endpoints.
    pub admin_token: Arc<str>,
    /// Largest request body accepted, after decompression.
    pub max_body: usize,
    /// Accepted distance between a request's timestamp and HQ's clock.
    pub window_ms: i64,
    /// Signed app updates served to sites (none when unset).
    pub releases: Option<Arc<releases::Releases>>,
    /// The address sites reach HQ at (`https://hq.example.cn`), for update download links;
    /// unset, links are built from the request's `Host` and `tls`.
    pub public_url: Option<Arc<str>>,
    /// Served over TLS (for links built from `Host`).
    pub tls: bool,
    /// Rate limits on enrolment and sync requests.
    pub limits: Arc<http::limits::Limits>,
}

impl AppState {
    /// State with the default limits.
    pub fn new(store: Arc<dyn store::Store>, admin_token: &str) -> Self {
        AppState {
            store,
            admin_token: admin_token.into(),
            max_body: DEFAULT_MAX_BODY,
            window_ms: DEFAULT_WINDOW_MS,
            releases: None,
            public_url: None,
            tls: false,
            limits: Arc::new(http::limits::Limits::default()),
        }
    }

    /// Serves the signed updates in `releases`.
    pub fn with_releases(mut self, releases: Arc<releases::Releases>) -> Self {
        self.releases = Some(releases);
        self
    }

    /// Runs a blocking store call on tokio's blocking pool.
    pub async fn store<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&dyn store::Store) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| Error::Internal(format!("storage task failed: {e}")))?
    }
}
