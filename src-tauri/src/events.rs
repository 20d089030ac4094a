//! "Data changed" events to the UI, batched: writes name the kinds of data they touched, and
//! a task emits one `data-changed` event with the distinct names at most every 150 ms.

use std::collections::BTreeSet;
use std::time::Duration;

use tauri::{AppHandle, Emitter};
use tokio::sync::mpsc;

/// Event name the UI listens to.
pub const DATA_CHANGED: &str = "data-changed";

/// Sender side: cheap to clone.
#[derive(Clone)]
pub struct Changes(mpsc::UnboundedSender<&'static str>);

impl Changes {
    /// Notes that some kind of data changed.
    pub fn touched(&self, what: &'static str) {
        let _ = self.0.send(what);
    }

    /// A sender whose events go nowhere (tests of commands without a window).
    pub fn detached() -> (Changes, mpsc::UnboundedReceiver<&'static str>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Changes(tx), rx)
    }
}

/// Starts the batching task for an app.
pub fn start(app: AppHandle) -> Changes {
    let (changes, mut rx) = Changes::detached();
    tauri::async_runtime::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut names = BTreeSet::from([first]);
            tokio::time::sleep(Duration::from_millis(150)).await;
            while let Ok(more) = rx.try_recv() {
                names.insert(more);
            }
            let _ = app.emit(DATA_CHANGED, names.into_iter().collect::<Vec<_>>());
        }
    });
    changes
}
