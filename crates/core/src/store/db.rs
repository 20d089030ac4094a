//! The database owned by one thread, with an async `call` API for tokio callers: the closure
//! runs on the database thread with `&mut Site`; the caller awaits its result. No lock is ever
//! held across an `.await`, and a slow query never blocks the async runtime.

use std::path::PathBuf;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::Site;
use crate::{Error, Result};

type Job = Box<dyn FnOnce(&mut Site) + Send>;

/// A handle to the site database thread; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    jobs: mpsc::Sender<Job>,
}

impl Db {
    /// Opens the site database at `path` on its own thread.
    pub async fn open(path: PathBuf) -> Result<Db> {
        Self::spawn(move || Site::open(&path)).await
    }

    /// Runs an already-open site on its own thread.
    pub async fn from_site(site: Site) -> Result<Db> {
        Self::spawn(move || Ok(site)).await
    }

    async fn spawn(open: impl FnOnce() -> Result<Site> + Send + 'static) -> Result<Db> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("siteline-db".into())
            .spawn(move || {
                let mut site = match open() {
                    Ok(site) => {
                        let _ = ready_tx.send(Ok(()));
                        site
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                // Runs until every handle is dropped.
                while let Ok(job) = rx.recv() {
                    job(&mut site);
                }
            })
            .map_err(|e| Error::Io {
                path: "database thread".into(),
                source: e,
            })?;
        ready_rx.await.map_err(|_| Error::StoreClosed)??;
        Ok(Db { jobs })
    }

    /// Runs `f` on the database thread and returns its result.
    pub async fn call<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut Site) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |site| {
                let _ = tx.send(f(site));
            }))
            .map_err(|_| Error::StoreClosed)?;
        rx.await.map_err(|_| Error::StoreClosed)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_run_on_one_thread_in_order_and_see_each_others_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("site.db")).await.unwrap();
        let mut handles = Vec::new();
        for i in 0..20 {
            let db = db.clone();
            handles.push(tokio::spawn(async move {
                db.call(move |site| {
                    site.conn()
                        .execute("INSERT INTO audit_log (at, action) VALUES ('t', ?1)", [i])?;
                    Ok(std::thread::current().name().map(str::to_string))
                })
                .await
            }));
        }
        for h in handles {
            assert_eq!(h.await.unwrap().unwrap().as_deref(), Some("siteline-db"));
        }
        let n: i64 = db
            .call(|site| {
                Ok(site
                    .conn()
                    .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?)
            })
            .await
            .unwrap();
        assert_eq!(n, 20);
    }

    #[tokio::test]
    async fn an_unopenable_database_reports_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Db::open(dir.path().join("missing-dir").join("site.db"))
            .await
            .unwrap_err();
        assert_ne!(err.kind(), "store_closed");
    }
}
