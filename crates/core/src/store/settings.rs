//! This device's settings (not synced): backup folder and days kept, idle lock time, language.
//! The HQ address lives with the enrolment in `sync_state`.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::actor::Actor;
use super::{Site, audit};
use crate::{Error, Result};
use siteline_domain::Rule;

/// The settings screen's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteSettings {
    /// Folder for daily backups; `None` = `backups` beside the database.
    pub backup_dir: Option<String>,
    /// Daily backups older than this are deleted (1–365).
    pub backup_keep_days: u32,
    /// Minutes without input before the app locks (1–240).
    pub idle_minutes: u32,
    /// `zh-CN` or `en`.
    pub language: String,
}

impl Default for SiteSettings {
    fn default() -> Self {
        SiteSettings {
            backup_dir: None,
            backup_keep_days: 14,
            idle_minutes: 10,
            language: "zh-CN".into(),
        }
    }
}

fn value(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM setting WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// The stored settings, with defaults for anything never set.
pub fn get(conn: &Connection) -> Result<SiteSettings> {
    let d = SiteSettings::default();
    Ok(SiteSettings {
        backup_dir: value(conn, "backup_dir")?.filter(|s| !s.is_empty()),
        backup_keep_days: value(conn, "backup_keep_days")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(d.backup_keep_days),
        idle_minutes: value(conn, "idle_minutes")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(d.idle_minutes),
        language: value(conn, "language")?.unwrap_or(d.language),
    })
}

fn check_language(language: &str) -> Result<()> {
    if matches!(language, "zh-CN" | "en") {
        Ok(())
    } else {
        Err(Error::invalid(
            "settings.language",
            format!("{language} is not offered; choose zh-CN or en"),
        ))
    }
}

/// Saves every setting (site manager only), after checking each one.
pub fn update(site: &mut Site, actor: &Actor, new: &SiteSettings) -> Result<SiteSettings> {
    actor.require_manager("change settings")?;
    if !(1..=365).contains(&new.backup_keep_days) {
        return Err(Error::rule(
            "settings.backup_keep_days",
            Rule::OutOfRange {
                min: 1,
                max: 365,
                value: i64::from(new.backup_keep_days),
            },
        ));
    }
    if !(1..=240).contains(&new.idle_minutes) {
        return Err(Error::rule(
            "settings.idle_minutes",
            Rule::OutOfRange {
                min: 1,
                max: 240,
                value: i64::from(new.idle_minutes),
            },
        ));
    }
    check_language(&new.language)?;
    let dir = new
        .backup_dir
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if let Some(d) = dir
        && !std::path::Path::new(d).is_absolute()
    {
        return Err(Error::invalid(
            "settings.backup_dir",
            format!("{d} is not a full folder path; give one like /home/site/备份 or D:\\备份"),
        ));
    }
    let (tx, _) = site.write()?;
    let put = |k: &str, v: String| -> Result<()> {
        tx.execute(
            "INSERT OR REPLACE INTO setting (key, value) VALUES (?1, ?2)",
            params![k, v],
        )?;
        Ok(())
    };
    put("backup_dir", dir.unwrap_or_default().to_string())?;
    put("backup_keep_days", new.backup_keep_days.to_string())?;
    put("idle_minutes", new.idle_minutes.to_string())?;
    put("language", new.language.clone())?;
    audit::record(&tx, Some(actor), "update_settings", None, "")?;
    tx.commit()?;
    get(&site.conn)
}

/// Sets the language alone (anyone may, also on the first-run screen).
pub fn set_language(site: &mut Site, language: &str) -> Result<()> {
    check_language(language)?;
    site.conn.execute(
        "INSERT OR REPLACE INTO setting (key, value) VALUES ('language', ?1)",
        [language],
    )?;
    Ok(())
}
