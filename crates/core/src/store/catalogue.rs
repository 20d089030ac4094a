//! The catalogue at the site: occupations, programmes, units, programme versions and rubric
//! items. Read-only here; seeded on first run from the seed catalogue (docs/DOMAIN.md) so a
//! new site can work before it ever syncs, and later replaced by HQ's published versions.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use siteline_proto::catalogue as proto;

use siteline_domain::seed;

use crate::{Error, Result};
use siteline_domain::scores::Level;
pub use siteline_proto::catalogue::RubricItem;

pub use siteline_domain::seed::SEED_VERSION;

/// A programme version as the screens show it: the published version's figures with its
/// programme's names and a checked level. (The whole version, with its units and rubric, is
/// the wire type [`proto::ProgrammeVersion`].)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProgrammeSummary {
    /// Catalogue id, e.g. `maternity-L5-v1`.
    pub id: String,
    /// Programme id, e.g. `maternity`.
    pub programme_id: String,
    /// Chinese name of the programme.
    pub name_zh: String,
    /// English name of the programme.
    pub name_en: String,
    /// National occupation code.
    pub occupation_code: String,
    /// Skill level.
    pub level: Level,
    /// Version number (a published version never changes).
    pub version: u32,
    /// Hours of training the programme requires.
    pub total_hours: u32,
    /// Minimum attendance to sit the assessment, in permille (900 = 90%).
    pub min_attendance_permille: u32,
    /// Credits on accreditation, in tenths.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub credits_tenths: i64,
}

const PV_SELECT: &str = "SELECT pv.id, pv.programme_id, p.name_zh, p.name_en, p.occupation_code,
        pv.level, pv.version, pv.total_hours, pv.min_attendance_permille, pv.credits_tenths
     FROM programme_version pv JOIN programme p ON p.id = pv.programme_id";

fn pv_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProgrammeSummary> {
    let level: i64 = r.get(5)?;
    Ok(ProgrammeSummary {
        id: r.get(0)?,
        programme_id: r.get(1)?,
        name_zh: r.get(2)?,
        name_en: r.get(3)?,
        occupation_code: r.get(4)?,
        // The table's CHECK keeps level in 1..=5.
        level: Level::new(level).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Integer, e.into())
        })?,
        version: r.get(6)?,
        total_hours: r.get(7)?,
        min_attendance_permille: r.get(8)?,
        credits_tenths: r.get(9)?,
    })
}

/// Looks up a programme version; an unknown id is a clear `NotFound`.
pub fn programme_version(conn: &Connection, id: &str) -> Result<ProgrammeSummary> {
    conn.prepare_cached(&format!("{PV_SELECT} WHERE pv.id = ?1"))?
        .query_row([id], pv_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("programme version", id))
}

/// Every programme version, by programme and level (entry level first).
pub fn programme_versions(conn: &Connection) -> Result<Vec<ProgrammeSummary>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{PV_SELECT} ORDER BY p.id, pv.level DESC, pv.version"
    ))?;
    let rows = stmt.query_map([], pv_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The practical rubric of a programme version, in order.
pub fn rubric(conn: &Connection, programme_version_id: &str) -> Result<Vec<RubricItem>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, max_points, critical, name_zh, name_en, unit_id FROM rubric_item
         WHERE programme_version_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([programme_version_id], |r| {
        Ok(RubricItem {
            id: r.get(0)?,
            max_points: r.get(1)?,
            critical: r.get(2)?,
            name_zh: r.get(3)?,
            name_en: r.get(4)?,
            unit_id: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A practical's rubric with the pass mark it is judged against, for the live assessment form
/// (the pass mark comes from the domain's rule, not from a copy in the UI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RubricForm {
    /// The items, in order.
    pub items: Vec<RubricItem>,
    /// Points the practical needs to pass.
    pub pass_mark: u8,
}

/// The rubric of a programme version with its pass mark.
pub fn rubric_form(conn: &Connection, programme_version_id: &str) -> Result<RubricForm> {
    Ok(RubricForm {
        items: rubric(conn, programme_version_id)?,
        pass_mark: siteline_domain::scores::PASS_MARK,
    })
}

/// The installed catalogue version and its source (`seed` or `hq`).
pub fn installed_version(conn: &Connection) -> Result<(String, String)> {
    Ok(
        conn.query_row("SELECT version, source FROM catalogue_meta", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?,
    )
}

/// The installed catalogue as a wire document (what HQ publishes and sites install).
pub fn export(conn: &Connection) -> Result<proto::Catalogue> {
    let (version, _) = installed_version(conn)?;
    let occupations = query(
        conn,
        "SELECT code, name_zh, name_en FROM occupation ORDER BY code",
        |r| {
            Ok(proto::Occupation {
                code: r.get(0)?,
                name_zh: r.get(1)?,
                name_en: r.get(2)?,
            })
        },
    )?;
    let programmes = query(
        conn,
        "SELECT id, occupation_code, name_zh, name_en FROM programme ORDER BY id",
        |r| {
            Ok(proto::Programme {
                id: r.get(0)?,
                occupation_code: r.get(1)?,
                name_zh: r.get(2)?,
                name_en: r.get(3)?,
            })
        },
    )?;
    let units = query(
        conn,
        "SELECT id, code, version, programme_id, level, name_zh, name_en, theory_hours,
                practice_hours, credits_tenths FROM competency_unit ORDER BY id",
        |r| {
            Ok(proto::Unit {
                id: r.get(0)?,
                code: r.get(1)?,
                version: r.get(2)?,
                programme_id: r.get(3)?,
                level: r.get(4)?,
                name_zh: r.get(5)?,
                name_en: r.get(6)?,
                theory_hours: r.get(7)?,
                practice_hours: r.get(8)?,
                credits_tenths: r.get(9)?,
            })
        },
    )?;
    let mut programme_versions = query(
        conn,
        "SELECT id, programme_id, level, version, total_hours, min_attendance_permille,
                credits_tenths FROM programme_version ORDER BY id",
        |r| {
            Ok(proto::ProgrammeVersion {
                id: r.get(0)?,
                programme_id: r.get(1)?,
                level: r.get(2)?,
                version: r.get(3)?,
                total_hours: r.get(4)?,
                min_attendance_permille: r.get(5)?,
                credits_tenths: r.get(6)?,
                unit_ids: Vec::new(),
                rubric: Vec::new(),
            })
        },
    )?;
    for pv in &mut programme_versions {
        let mut stmt = conn.prepare_cached(
            "SELECT unit_id FROM programme_unit WHERE programme_version_id = ?1 ORDER BY position",
        )?;
        pv.unit_ids = stmt
            .query_map([&pv.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        pv.rubric = rubric(conn, &pv.id)?;
    }
    Ok(proto::Catalogue {
        version,
        occupations,
        programmes,
        units,
        programme_versions,
    })
}

/// Installs a catalogue version HQ published: new programme versions, units and rubric items
/// are added; published ones never change, so what exists is left as it is.
pub fn install(tx: &rusqlite::Transaction<'_>, doc: &proto::Catalogue) -> Result<()> {
    install_versions(tx, doc)?;
    tx.execute(
        "UPDATE catalogue_meta SET version = ?1, source = 'hq', installed_at = ?2",
        params![doc.version, super::now()],
    )?;
    Ok(())
}

/// Adds what `doc` has and the site lacks; published versions are never changed.
fn install_versions(tx: &rusqlite::Transaction<'_>, doc: &proto::Catalogue) -> Result<()> {
    for o in &doc.occupations {
        tx.execute(
            "INSERT OR IGNORE INTO occupation VALUES (?1, ?2, ?3)",
            params![o.code, o.name_zh, o.name_en],
        )?;
    }
    for p in &doc.programmes {
        tx.execute(
            "INSERT OR IGNORE INTO programme VALUES (?1, ?2, ?3, ?4)",
            params![p.id, p.occupation_code, p.name_zh, p.name_en],
        )?;
    }
    for u in &doc.units {
        tx.execute(
            "INSERT OR IGNORE INTO competency_unit VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![u.id, u.code, u.version, u.programme_id, u.level, u.name_zh, u.name_en, u.theory_hours, u.practice_hours, u.credits_tenths],
        )?;
    }
    for pv in &doc.programme_versions {
        let added = tx.execute(
            "INSERT OR IGNORE INTO programme_version (id, programme_id, level, version, total_hours,
                 min_attendance_permille, credits_tenths, published_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![pv.id, pv.programme_id, pv.level, pv.version, pv.total_hours, pv.min_attendance_permille, pv.credits_tenths, super::now()],
        )?;
        if added == 0 {
            continue;
        }
        for (i, unit) in pv.unit_ids.iter().enumerate() {
            tx.execute(
                "INSERT INTO programme_unit VALUES (?1, ?2, ?3)",
                params![pv.id, i, unit],
            )?;
        }
        for (i, r) in pv.rubric.iter().enumerate() {
            tx.execute(
                "INSERT INTO rubric_item (id, programme_version_id, position, name_zh, name_en,
                     max_points, critical, unit_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    r.id,
                    pv.id,
                    i,
                    r.name_zh,
                    r.name_en,
                    r.max_points,
                    r.critical,
                    r.unit_id
                ],
            )?;
        }
    }
    Ok(())
}

fn query<T>(
    conn: &Connection,
    sql: &str,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], f)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Installs the seed catalogue ([`siteline_domain::seed`]) when the site has none (first run),
/// in one transaction.
pub(crate) fn seed_if_empty(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let has: bool = tx.prepare("SELECT 1 FROM catalogue_meta")?.exists([])?;
    if has {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO catalogue_meta VALUES (1, ?1, 'seed', ?2)",
        params![SEED_VERSION, super::now()],
    )?;
    install_versions(&tx, &seed::catalogue())?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Site;

    #[test]
    fn a_new_site_has_the_seed_catalogue_with_exact_unit_sums() {
        let site = Site::open_in_memory().unwrap();
        let pvs = programme_versions(site.conn()).unwrap();
        assert_eq!(pvs.len(), 16);
        assert_eq!(
            installed_version(site.conn()).unwrap(),
            (SEED_VERSION.into(), "seed".into())
        );
        let mc = programme_version(site.conn(), "maternity-L5-v1").unwrap();
        assert_eq!(
            (
                mc.total_hours,
                mc.credits_tenths,
                mc.min_attendance_permille
            ),
            (120, 80, 900)
        );
        assert_eq!(mc.name_zh, "母婴护理员");
        let elderly = programme_version(site.conn(), "elderly_care-L5-v1").unwrap();
        assert_eq!((elderly.total_hours, elderly.credits_tenths), (180, 110));
        for pv in &pvs {
            let (h, c): (u32, i64) = site
                .conn()
                .query_row(
                    "SELECT sum(u.theory_hours + u.practice_hours), sum(u.credits_tenths)
                     FROM programme_unit pu JOIN competency_unit u ON u.id = pu.unit_id
                     WHERE pu.programme_version_id = ?1",
                    [&pv.id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!((h, c), (pv.total_hours, pv.credits_tenths), "{}", pv.id);
        }
    }

    #[test]
    fn rubric_scores_to_100_with_two_critical_items() {
        let site = Site::open_in_memory().unwrap();
        let items = rubric(site.conn(), "maternity-L5-v1").unwrap();
        let total: u32 = items.iter().map(|i| u32::from(i.max_points)).sum();
        assert_eq!(total, 100);
        let critical: Vec<_> = items
            .iter()
            .filter(|i| i.critical)
            .map(|i| i.name_zh.as_str())
            .collect();
        assert_eq!(critical, ["未测试水温", "婴儿无人看护"]);
    }

    #[test]
    fn unknown_programme_version_is_not_found() {
        let site = Site::open_in_memory().unwrap();
        let err = programme_version(site.conn(), "astronaut-L1-v9").unwrap_err();
        assert_eq!(err.kind(), "not_found");
        assert!(err.to_string().contains("astronaut-L1-v9"));
    }

    #[test]
    fn published_programme_versions_never_change() {
        let site = Site::open_in_memory().unwrap();
        let err = site
            .conn()
            .execute(
                "UPDATE programme_version SET total_hours = 1 WHERE id = 'maternity-L5-v1'",
                [],
            )
            .unwrap_err();
        assert!(err.to_string().contains("never changes"));
    }
}
