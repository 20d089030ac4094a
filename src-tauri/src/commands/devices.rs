//! The devices of this site: the list with when each was last heard of (through HQ or on the
//! LAN), LAN sync with another device by address, this device's LAN address, the site key's
//! recovery code, joining a site at first run, and the manager's queues that several devices
//! make (late marks, duplicate registrations).

use serde::Serialize;
use siteline_core::store::corrections::Reason;
use siteline_core::store::duplicates::{self, DuplicatePair};
use siteline_core::store::edits::{self, Overlap};
use siteline_core::store::late_marks::{self, LateMark};
use siteline_core::store::site_devices::{self, SiteDevice};
use siteline_core::store::{site_key, staff};
use siteline_core::sync::{discovery, engine, peer};
use siteline_domain::ids::{AttendanceEventId, LearnerId};
use tauri::{Emitter, State};
use uuid::Uuid;

use super::Res;
use crate::state::Shell;

/// What one LAN sync did, for the screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LanReport {
    /// The other device.
    pub peer: String,
    /// Its site's code, as HQ certified it.
    pub peer_site_code: String,
    /// Operations received.
    #[cfg_attr(test, ts(type = "number"))]
    pub received: u64,
    /// Operations sent.
    #[cfg_attr(test, ts(type = "number"))]
    pub sent: u64,
}

/// This device on the LAN: where the site's other devices reach it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LanInfo {
    /// `address:port` to type on another device, if this device is listening.
    pub address: Option<String>,
    /// Why it is not listening (not enrolled yet, the port is taken…).
    pub problem: Option<String>,
}

/// The devices of this site.
#[tauri::command]
pub async fn site_devices(shell: State<'_, Shell>) -> Res<Vec<SiteDevice>> {
    shell.actor().await?;
    Ok(shell.db.call(|s| site_devices::list(s.conn())).await?)
}

/// Where this device listens for LAN sync.
#[tauri::command]
pub async fn lan_info(shell: State<'_, Shell>) -> Res<LanInfo> {
    shell.actor().await?;
    Ok(shell.lan_info())
}

/// The site's other laptops that announce themselves on the LAN (mDNS), looked for 2 s.
#[tauri::command]
pub async fn discover_devices(shell: State<'_, Shell>) -> Res<Vec<discovery::Found>> {
    shell.actor().await?;
    let (own, site) = shell
        .db
        .call(|s| {
            let own = siteline_core::store::outbox::device(s.conn())?.device_id;
            Ok((own, engine::enrolment(s)?.map(|(_, code)| code)))
        })
        .await?;
    let Some(site) = site else {
        return Err(siteline_core::Error::NotEnrolled.into());
    };
    let loopback = shell
        .lan_info()
        .address
        .is_some_and(|a| a.starts_with("127."));
    let found = tauri::async_runtime::spawn_blocking(move || {
        discovery::discover(own, &site, std::time::Duration::from_secs(2), loopback)
    })
    .await
    .map_err(|e| siteline_core::Error::PeerRefused(e.to_string()))??;
    Ok(found)
}

/// Syncs with the device at `address` (`host:port`) on the LAN, both ways; progress goes to
/// the UI as `lan-progress` events `[received, remaining]`.
#[tauri::command]
pub async fn lan_sync<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    shell: State<'_, Shell>,
    address: String,
) -> Res<LanReport> {
    shell.actor().await?;
    let addr = crate::lan::resolve(&address)?;
    let identity = std::sync::Arc::new(shell.identity()?);
    let report = peer::sync_with(&shell.db, &identity, addr, move |got, left| {
        let _ = app.emit("lan-progress", [got, left]);
    })
    .await?;
    shell.changes.touched("sync");
    shell.changes.touched("attendance");
    shell.changes.touched("learners");
    Ok(LanReport {
        peer: report.peer.to_string(),
        peer_site_code: report.peer_site_code,
        received: report.received,
        sent: report.sent,
    })
}

/// The site key's recovery code, to print and keep (site manager; audited).
#[tauri::command]
pub async fn recovery_code(shell: State<'_, Shell>) -> Res<String> {
    let actor = shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| site_key::recovery_code(s, &actor))
        .await?)
}

/// First run on a new laptop of an existing site: takes the site key by its recovery code,
/// enrols the device with HQ's one-time code and syncs, so the site's accounts and records
/// arrive; then the user signs in with their usual account. Only before any account exists.
#[tauri::command]
pub async fn join_site(
    shell: State<'_, Shell>,
    hq_url: String,
    code: String,
    recovery_code: String,
) -> Res<String> {
    let first_run = shell.db.call(|s| staff::is_first_run(s.conn())).await?;
    if !first_run {
        return Err(siteline_core::Error::invalid(
            "join.site",
            "this device already has accounts; a device joins a site only at its first run",
        )
        .into());
    }
    shell
        .db
        .call(move |s| site_key::join(s, &recovery_code).map(|_| ()))
        .await?;
    let engine = crate::sync_engine(&shell, hq_url.trim()).await?;
    let answer = engine::enrol(
        engine.db(),
        engine.client(),
        hq_url.trim(),
        code.trim(),
        "Siteline desktop",
    )
    .await?;
    engine.sync_once().await?;
    crate::start_sync(&shell, engine);
    crate::lan::start(&shell).await;
    shell.changes.touched("sync");
    Ok(answer.site_name)
}

/// Late marks waiting for the site manager.
#[tauri::command]
pub async fn late_marks(shell: State<'_, Shell>) -> Res<Vec<LateMark>> {
    shell.actor().await?;
    Ok(shell.db.call(|s| late_marks::queue(s.conn())).await?)
}

/// Accepts (`accept`) or drops a late mark with a reason (site manager).
#[tauri::command]
pub async fn answer_late_mark(
    shell: State<'_, Shell>,
    id: AttendanceEventId,
    accept: bool,
    reason: Reason,
) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| {
            if accept {
                late_marks::accept(s, &actor, id, &reason).map(|_| ())
            } else {
                late_marks::drop(s, &actor, id, &reason)
            }
        })
        .await?;
    shell.changes.touched("attendance");
    Ok(())
}

/// Registrations of one person made on two devices.
#[tauri::command]
pub async fn duplicate_learners(shell: State<'_, Shell>) -> Res<Vec<DuplicatePair>> {
    shell.actor().await?;
    Ok(shell.db.call(|s| duplicates::pairs(s.conn())).await?)
}

/// Merges `duplicate` into `keep` (site manager).
#[tauri::command]
pub async fn merge_learners(
    shell: State<'_, Shell>,
    keep: LearnerId,
    duplicate: LearnerId,
) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| duplicates::merge(s, &actor, keep, duplicate))
        .await?;
    shell.changes.touched("learners");
    Ok(())
}

/// Fields two laptops changed without seeing each other's change, waiting for the manager.
#[tauri::command]
pub async fn edit_overlaps(shell: State<'_, Shell>) -> Res<Vec<Overlap>> {
    shell.actor().await?;
    Ok(shell.db.call(|s| edits::overlaps(s.conn())).await?)
}

/// Settles an overlap (site manager): the value of the change `stamp` becomes the field's.
#[tauri::command]
pub async fn settle_overlap(
    shell: State<'_, Shell>,
    record: Uuid,
    field: String,
    stamp: String,
) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| edits::settle(s, &actor, record, &field, &stamp))
        .await?;
    shell.changes.touched("learners");
    shell.changes.touched("cohorts");
    Ok(())
}
