//! The devices of this site as this device knows them: itself, and every device whose
//! operations reached it (relayed by HQ or from a peer on the LAN), with when it last heard
//! of each and how. Read-only: `site_event` is written by the outbox and `replica`.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;
use uuid::Uuid;

use super::outbox;
use crate::Result;

/// One device of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteDevice {
    /// The device.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub device_id: Uuid,
    /// This device.
    pub this_device: bool,
    /// Operations of it this device holds.
    pub operations: u32,
    /// When it recorded its latest one (its own clock).
    pub last_recorded_at: Option<DateTime<Utc>>,
    /// When this device last received something of it through HQ.
    pub last_via_hq: Option<DateTime<Utc>>,
    /// When this device last received something of it directly, on the LAN.
    pub last_via_lan: Option<DateTime<Utc>>,
    /// This device's own operations still waiting for HQ (this device only).
    pub pending: Option<u32>,
}

/// Every device this one knows of, itself first.
pub fn list(conn: &Connection) -> Result<Vec<SiteDevice>> {
    let own = outbox::device(conn)?.device_id;
    let (pending, _) = outbox::pending_summary(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT device_id, count(*), max(recorded_at),
                max(CASE WHEN via = 'hq' THEN received_at END),
                max(CASE WHEN via = 'lan' THEN received_at END)
         FROM site_event GROUP BY device_id ORDER BY max(recorded_at) DESC",
    )?;
    let mut out: Vec<SiteDevice> = stmt
        .query_map([], |r| {
            let device_id: Uuid = r.get(0)?;
            Ok(SiteDevice {
                device_id,
                this_device: device_id == own,
                operations: r.get(1)?,
                last_recorded_at: r.get(2)?,
                last_via_hq: r.get(3)?,
                last_via_lan: r.get(4)?,
                pending: None,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if !out.iter().any(|d| d.this_device) {
        out.push(SiteDevice {
            device_id: own,
            this_device: true,
            operations: 0,
            last_recorded_at: None,
            last_via_hq: None,
            last_via_lan: None,
            pending: None,
        });
    }
    for d in &mut out {
        if d.this_device {
            d.pending = Some(pending as u32);
        }
    }
    out.sort_by_key(|d| !d.this_device);
    Ok(out)
}
