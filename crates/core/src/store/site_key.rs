//! The site key every device of a site shares (docs/SYNC.md, "Several devices, one site"): it
//! seals learners' ID and phone numbers and the profiles relayed between the site's devices,
//! and HQ never holds it. The site manager prints its recovery code at first run; a new device
//! of the site takes the key by that code before it registers anyone, and then opens what the
//! other devices recorded. Owns the key file beside the database (`<db>.key`); no table.

use std::path::PathBuf;

use siteline_domain::crypto::SiteKeys;

use super::actor::Actor;
use super::{Site, audit, replica};
use crate::{Error, Result};

/// The recovery code of this device's site key, for the site manager to print and keep with
/// the site's papers (audited: whoever holds it can open the site's sealed fields).
pub fn recovery_code(site: &mut Site, actor: &Actor) -> Result<String> {
    actor.require_manager("show the site key's recovery code")?;
    let (tx, keys) = site.write()?;
    let code = keys.recovery_code();
    audit::record(&tx, Some(actor), "show_recovery_code", None, "")?;
    tx.commit()?;
    Ok(code)
}

/// Takes the site key from its recovery code, on a device joining a site whose other devices
/// already hold it, then applies the other devices' learners that were held for want of it.
/// Refused once this device has learners of its own (they are sealed under its current key)
/// or when the code is mistyped; nothing changes then. Returns how many held rows applied.
pub fn join(site: &mut Site, code: &str) -> Result<usize> {
    let master = SiteKeys::master_from_recovery_code(code)
        .map_err(|e| Error::invalid("site_key.recovery_code", e))?;
    let keys = SiteKeys::from_master(&master);
    if keys.same_site(&site.keys) {
        return Ok(0);
    }
    let own: i64 = site.conn.query_row(
        "SELECT count(*) FROM learner l WHERE NOT EXISTS (
             SELECT 1 FROM site_event e JOIN device d ON e.device_id != d.device_id
             WHERE e.record_id = l.id AND e.entity = 'learner')",
        [],
        |r| r.get(0),
    )?;
    if own > 0 {
        return Err(Error::invalid(
            "site_key.recovery_code",
            format!(
                "this device already registered {own} learners under its own key; a device takes the site key before it registers anyone — ask the site manager"
            ),
        ));
    }
    if let Some(path) = key_path(site) {
        SiteKeys::store_master(&path, &master).map_err(|e| Error::invalid("site_key.file", e))?;
    }
    site.keys = keys;
    let (tx, keys) = site.write()?;
    let applied = replica::retry_held(&tx, keys)?;
    audit::record(
        &tx,
        None,
        "join_site_key",
        None,
        &format!("{applied} held rows applied"),
    )?;
    tx.commit()?;
    Ok(applied)
}

/// The key file beside the database; none for an in-memory store.
fn key_path(site: &Site) -> Option<PathBuf> {
    site.conn
        .path()
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(p).with_extension("key"))
}
