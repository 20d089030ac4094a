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
    /// The site's time zone (one of [`TIME_ZONES`]): every date and time on screen and in
    /// reports, and "today", are the site's, whatever the laptop's own clock zone says.
    pub time_zone: String,
}

/// The time zones a site may be in: China Standard Time, Xinjiang time, Hong Kong, Macao, UTC.
pub const TIME_ZONES: &[&str] = &[
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Asia/Hong_Kong",
    "Asia/Macau",
    "UTC",
];

/// The zone a site is in until its manager chooses another.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

impl Default for SiteSettings {
    fn default() -> Self {
        SiteSettings {
            backup_dir: None,
            backup_keep_days: 14,
            idle_minutes: 10,
            language: "zh-CN".into(),
            time_zone: DEFAULT_TIME_ZONE.into(),
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
        time_zone: value(conn, "time_zone")?
            .filter(|z| TIME_ZONES.contains(&z.as_str()))
            .unwrap_or(d.time_zone),
    })
}

/// The time zone stored in the site database at `path`, read before the app starts (the
/// process takes it as its own zone); the default when there is no database yet or it cannot
/// be read.
pub fn stored_time_zone(path: &std::path::Path) -> String {
    let read = || -> Result<String> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(get(&conn)?.time_zone)
    };
    if path.exists() {
        read().unwrap_or_else(|_| DEFAULT_TIME_ZONE.into())
    } else {
        DEFAULT_TIME_ZONE.into()
    }
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
    if !TIME_ZONES.contains(&new.time_zone.as_str()) {
        return Err(Error::rule(
            "settings.time_zone",
            Rule::UnknownWord {
                what: "time zone".into(),
                value: new.time_zone.clone(),
                expected: TIME_ZONES.join(", "),
            },
        ));
    }
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
    put("time_zone", new.time_zone.clone())?;
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
