//! What the shell keeps between commands: the database thread, who is signed in (with the
//! idle lock), the sync engine once the device is enrolled, and the batched change events.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use siteline_core::Actor;
use siteline_core::store::db::Db;
use siteline_core::sync::identity::Identity;
use siteline_core::sync::worker::SyncHandle;

use crate::error::{CommandError, ErrorKind};
use crate::events::Changes;

/// Default idle time before the screen locks.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(10 * 60);

/// The signed-in user.
pub struct Session {
    pub(crate) actor: Option<Actor>,
    /// The account's stamp at sign-in (`staff::session_stamp`): a different one now means the
    /// account was disabled or its password reset, and the session ends.
    pub(crate) stamp: String,
    pub(crate) name: String,
    pub(crate) last: Instant,
    pub(crate) idle: Duration,
}

/// The background sync task.
pub struct Sync {
    pub(crate) handle: SyncHandle,
}

/// Shared by every command.
pub struct Shell {
    pub(crate) db: Db,
    pub(crate) session: Mutex<Session>,
    pub(crate) db_path: PathBuf,
    pub(crate) sync: Mutex<Option<Sync>>,
    pub(crate) changes: Changes,
    pub(crate) update: Mutex<Option<tauri_plugin_updater::Update>>,
    pub(crate) lan: Mutex<crate::commands::devices::LanInfo>,
    pub(crate) announcement: Mutex<Option<siteline_core::sync::discovery::Announcement>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in a command leaves this plain data usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shell {
    /// A shell over the open database at `db_path` (keys and backups live beside it).
    pub fn new(db: Db, db_path: PathBuf, changes: Changes) -> Self {
        Shell {
            db,
            session: Mutex::new(Session {
                actor: None,
                stamp: String::new(),
                name: String::new(),
                last: Instant::now(),
                idle: DEFAULT_IDLE,
            }),
            db_path,
            sync: Mutex::new(None),
            changes,
            update: Mutex::new(None),
            lan: Mutex::new(crate::commands::devices::LanInfo {
                address: None,
                problem: None,
            }),
            announcement: Mutex::new(None),
        }
    }

    /// The signed-in actor, if the session has not idled out and the account is still active
    /// with the password it signed in with; touching it keeps it alive.
    pub async fn actor(&self) -> Result<Actor, CommandError> {
        let (actor, stamp) = {
            let mut s = lock(&self.session);
            let actor = Self::live(&mut s)?;
            s.last = Instant::now();
            (actor, s.stamp.clone())
        };
        let id = actor.id;
        let now = self
            .db
            .call(move |s| siteline_core::store::staff::session_stamp(s.conn(), id))
            .await?;
        if now.as_deref() != Some(stamp.as_str()) {
            lock(&self.session).actor = None;
            return Err(CommandError::new(
                ErrorKind::SignedOut,
                "your account was disabled or its password changed; sign in again / 您的账号已停用或密码已更改，请重新登录",
            ));
        }
        Ok(actor)
    }

    /// Someone is signed in (not idled out), checked without keeping the session alive: for
    /// the status the shell polls.
    pub fn signed_in_quietly(&self) -> Result<(), CommandError> {
        Self::live(&mut lock(&self.session)).map(|_| ())
    }

    fn live(s: &mut Session) -> Result<Actor, CommandError> {
        let Some(actor) = s.actor else {
            return Err(CommandError::new(
                ErrorKind::SignedOut,
                "sign in first / 请先登录",
            ));
        };
        if s.last.elapsed() > s.idle {
            s.actor = None;
            return Err(CommandError::new(
                ErrorKind::ScreenLocked,
                "the screen locked after being idle; sign in again / 长时间未操作已锁屏,请重新登录",
            ));
        }
        Ok(actor)
    }

    pub(crate) fn session(&self) -> MutexGuard<'_, Session> {
        lock(&self.session)
    }

    /// The folder holding the database, its keys and (by default) its backups.
    pub(crate) fn data_dir(&self) -> &std::path::Path {
        self.db_path.parent().unwrap_or(std::path::Path::new(""))
    }

    /// This device's signing identity (its key file beside the database).
    pub(crate) fn identity(&self) -> Result<Identity, CommandError> {
        Ok(Identity::load_or_create(
            &self.data_dir().join("device.key"),
        )?)
    }

    pub(crate) fn announcement(
        &self,
    ) -> MutexGuard<'_, Option<siteline_core::sync::discovery::Announcement>> {
        lock(&self.announcement)
    }

    pub(crate) fn lan(&self) -> MutexGuard<'_, crate::commands::devices::LanInfo> {
        lock(&self.lan)
    }

    /// Where this device listens for LAN sync, as the devices screen shows it.
    pub(crate) fn lan_info(&self) -> crate::commands::devices::LanInfo {
        self.lan().clone()
    }

    pub(crate) fn sync(&self) -> MutexGuard<'_, Option<Sync>> {
        lock(&self.sync)
    }

    pub(crate) fn pending_update(&self) -> MutexGuard<'_, Option<tauri_plugin_updater::Update>> {
        lock(&self.update)
    }
}
