//! The background sync task: a pass every interval, at once on "sync now", and after a
//! failure again with exponential backoff and full jitter — probing the link meanwhile so a
//! returning link is used at once. It never waits for the next local write to retry.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand_core::RngCore;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::engine::Engine;
use crate::Error;

/// Timing of the background task.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Between passes when all is well.
    pub interval: Duration,
    /// First backoff step.
    pub backoff_base: Duration,
    /// Longest backoff.
    pub backoff_cap: Duration,
    /// How often to probe the link while backing off after a network failure.
    pub probe_every: Duration,
    /// Spread retries with full jitter (on in the field so sites do not retry in step; off
    /// only where a test needs the wait exactly).
    pub jitter: bool,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            interval: Duration::from_secs(5 * 60),
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(8 * 60),
            probe_every: Duration::from_secs(20),
            jitter: true,
        }
    }
}

/// Full jitter: a random wait between zero and `min(cap, base × 2^failures)`.
pub fn backoff(cfg: &WorkerConfig, failures: u32) -> Duration {
    let ceiling = cfg
        .backoff_base
        .saturating_mul(1u32 << failures.min(16))
        .min(cfg.backoff_cap);
    if !cfg.jitter {
        return ceiling;
    }
    let ms = ceiling.as_millis().max(1) as u64;
    Duration::from_millis(rand_core::OsRng.next_u64() % (ms + 1))
}

/// Controls a running background task.
pub struct SyncHandle {
    now: Arc<Notify>,
    running: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl SyncHandle {
    /// Asks for a pass now.
    pub fn sync_now(&self) {
        self.now.notify_one();
    }

    /// True while a pass runs.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// Stops the task (a pass in flight is abandoned; what it committed stays committed).
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Starts the background task.
pub fn spawn(engine: Arc<Engine>, cfg: WorkerConfig) -> SyncHandle {
    let now = Arc::new(Notify::new());
    let running = Arc::new(AtomicBool::new(false));
    let (n, r) = (now.clone(), running.clone());
    let task = tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            r.store(true, Ordering::Relaxed);
            let result = engine.sync_once().await;
            r.store(false, Ordering::Relaxed);
            let offline = matches!(
                result,
                Err(Error::Network(_)) | Err(Error::NotCreditBank(_))
            );
            let wait = match &result {
                Ok(_) | Err(Error::NotEnrolled) => {
                    failures = 0;
                    cfg.interval
                }
                Err(e) => {
                    tracing_like_log(e);
                    failures = failures.saturating_add(1);
                    backoff(&cfg, failures)
                }
            };
            wait_for_next(&engine, &cfg, &n, wait, offline).await;
        }
    });
    SyncHandle { now, running, task }
}

fn tracing_like_log(e: &Error) {
    // The status screen shows the error; this line is for whoever reads the app's log.
    eprintln!("siteline sync: {e}");
}

/// Waits `wait`, or less: "sync now" ends it, and while offline a successful probe of the
/// link ends it too.
async fn wait_for_next(
    engine: &Engine,
    cfg: &WorkerConfig,
    now: &Notify,
    wait: Duration,
    offline: bool,
) {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let step = if offline {
            cfg.probe_every.min(wait)
        } else {
            wait
        };
        tokio::select! {
            _ = now.notified() => return,
            _ = tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + step)) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        if offline && engine.client().hello().await.is_ok() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_growing_ceiling_and_the_cap() {
        let cfg = WorkerConfig::default();
        for failures in 0..30 {
            let ceiling = cfg
                .backoff_base
                .saturating_mul(1u32 << failures.min(16))
                .min(cfg.backoff_cap);
            for _ in 0..20 {
                assert!(backoff(&cfg, failures) <= ceiling);
            }
        }
        // Jitter spreads the waits: not every draw is the same.
        let draws: std::collections::HashSet<_> = (0..20).map(|_| backoff(&cfg, 10)).collect();
        assert!(draws.len() > 1);
    }
}
