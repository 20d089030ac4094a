//! The catalogue at the site: occupations, programmes, units, programme versions and rubric
//! items. Read-only here; seeded on first run from the DOMAIN.md seed catalogue so a new site
//! can work before it ever syncs, and later replaced by HQ's published versions.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use siteline_proto::catalogue as proto;

use crate::domain::scores::{Level, RubricItemDef};
use crate::{Error, Result};

/// Version label of the built-in seed catalogue.
pub const SEED_VERSION: &str = "seed-2026.1";

/// A programme version as the site uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProgrammeVersion {
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

/// A rubric item with its display names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RubricItem {
    /// The scoring definition.
    #[serde(flatten)]
    pub def: RubricItemDef,
    /// 中文名称
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The competency unit whose task this item scores, if any.
    pub unit_id: Option<String>,
}

const PV_SELECT: &str = "SELECT pv.id, pv.programme_id, p.name_zh, p.name_en, p.occupation_code,
        pv.level, pv.version, pv.total_hours, pv.min_attendance_permille, pv.credits_tenths
     FROM programme_version pv JOIN programme p ON p.id = pv.programme_id";

fn pv_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProgrammeVersion> {
    let level: i64 = r.get(5)?;
    Ok(ProgrammeVersion {
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
pub fn programme_version(conn: &Connection, id: &str) -> Result<ProgrammeVersion> {
    conn.prepare_cached(&format!("{PV_SELECT} WHERE pv.id = ?1"))?
        .query_row([id], pv_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("programme version", id))
}

/// Every programme version, by programme and level (entry level first).
pub fn programme_versions(conn: &Connection) -> Result<Vec<ProgrammeVersion>> {
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
            def: RubricItemDef {
                id: r.get(0)?,
                max_points: r.get(1)?,
                critical: r.get(2)?,
            },
            name_zh: r.get(3)?,
            name_en: r.get(4)?,
            unit_id: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        pv.rubric = rubric(conn, &pv.id)?
            .into_iter()
            .map(|i| proto::RubricItem {
                id: i.def.id,
                name_zh: i.name_zh,
                name_en: i.name_en,
                unit_id: i.unit_id,
                max_points: i.def.max_points,
                critical: i.def.critical,
            })
            .collect();
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
    tx.execute(
        "UPDATE catalogue_meta SET version = ?1, source = 'hq', installed_at = ?2",
        params![doc.version, super::now()],
    )?;
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

/// The seed catalogue of DOMAIN.md as a wire document, without opening a site.
pub fn seed_document() -> Result<proto::Catalogue> {
    let mut conn = Connection::open_in_memory()?;
    super::schema::migrate(&mut conn)?;
    seed_if_empty(&mut conn)?;
    export(&conn)
}

struct SeedProgramme {
    id: &'static str,
    occupation: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    /// (level, hours, credits) for L5, L4, L3.
    levels: [(u8, u32, i64); 3],
    units: &'static [(&'static str, &'static str)],
    critical: [(&'static str, &'static str); 2],
}

const OCCUPATIONS: [(&str, &str, &str); 3] = [
    ("4-10-01-06", "家政服务员", "Domestic service worker"),
    ("4-10-01-05", "养老护理员", "Elderly care worker"),
    ("4-10-01-02", "育婴员", "Infant care worker"),
];

const SEED: [SeedProgramme; 5] = [
    SeedProgramme {
        id: "housekeeping",
        occupation: "4-10-01-06",
        name_zh: "家务服务员",
        name_en: "Housekeeping",
        levels: [(5, 96, 6), (4, 96, 6), (3, 80, 5)],
        units: &[
            ("家居清洁", "Home cleaning"),
            ("衣物洗涤与收纳", "Laundry and storage"),
            ("家庭餐制作", "Home cooking"),
            ("安全与急救", "Safety and first aid"),
        ],
        critical: [
            ("使用电器未断电", "Appliance not unplugged"),
            ("混用清洁剂", "Cleaning agents mixed"),
        ],
    },
    SeedProgramme {
        id: "maternity",
        occupation: "4-10-01-06",
        name_zh: "母婴护理员",
        name_en: "Maternity and newborn care",
        levels: [(5, 120, 8), (4, 112, 7), (3, 96, 6)],
        units: &[
            ("孕妇照护", "Pregnancy care"),
            ("产妇照护", "Postpartum care"),
            ("新生儿照护", "Newborn care"),
            ("婴幼儿照护", "Infant care"),
            ("安全与急救", "Safety and first aid"),
        ],
        critical: [
            ("未测试水温", "Water temperature not checked"),
            ("婴儿无人看护", "Infant left unattended"),
        ],
    },
    SeedProgramme {
        id: "family_care",
        occupation: "4-10-01-06",
        name_zh: "家庭照护员",
        name_en: "Family care",
        levels: [(5, 96, 6), (4, 96, 6), (3, 80, 5)],
        units: &[
            ("生活照护", "Daily living care"),
            ("家庭护理基础", "Basic home nursing"),
            ("沟通与心理支持", "Communication and support"),
            ("安全与急救", "Safety and first aid"),
        ],
        critical: [
            ("未核对照护对象", "Care recipient not identified"),
            ("跌倒风险未处置", "Fall risk not handled"),
        ],
    },
    SeedProgramme {
        id: "elderly_care",
        occupation: "4-10-01-05",
        name_zh: "养老护理员",
        name_en: "Elderly care",
        levels: [(5, 180, 11), (4, 150, 9), (3, 120, 8)],
        units: &[
            ("生活照护", "Daily living care"),
            ("基础照护", "Basic care"),
            ("康复服务", "Rehabilitation support"),
            ("心理支持", "Psychological support"),
            ("安全与急救", "Safety and first aid"),
        ],
        critical: [
            ("未拉起床栏", "Bed rail not raised"),
            ("未核对老人身份", "Resident not identified"),
        ],
    },
    SeedProgramme {
        id: "infant_care",
        occupation: "4-10-01-02",
        name_zh: "育婴员",
        name_en: "Infant care",
        levels: [(5, 120, 8), (4, 120, 8), (3, 120, 8)],
        units: &[
            ("生活照料", "Daily care"),
            ("保健与护理", "Health care"),
            ("早期发展", "Early development"),
            ("安全与急救", "Safety and first aid"),
        ],
        critical: [
            ("未测试水温", "Water temperature not checked"),
            ("婴儿无人看护", "Infant left unattended"),
        ],
    },
];

const RUBRIC: [(&str, &str, &str, u8); 5] = [
    ("prep", "操作准备", "Preparation", 10),
    ("comm", "沟通交流", "Communication", 15),
    ("proc", "操作流程", "Procedure", 55),
    ("safety", "安全防护", "Safety", 10),
    ("tidy", "整理记录", "Tidy-up and records", 10),
];

/// Installs the seed catalogue when the site has none (first run), in one transaction.
pub(crate) fn seed_if_empty(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let has: bool = tx.prepare("SELECT 1 FROM catalogue_meta")?.exists([])?;
    if has {
        return Ok(());
    }
    let now = super::now();
    for (code, zh, en) in OCCUPATIONS {
        tx.execute(
            "INSERT INTO occupation VALUES (?1, ?2, ?3)",
            params![code, zh, en],
        )?;
    }
    for p in &SEED {
        tx.execute(
            "INSERT INTO programme VALUES (?1, ?2, ?3, ?4)",
            params![p.id, p.occupation, p.name_zh, p.name_en],
        )?;
        for (level, hours, credits) in p.levels {
            let pv = format!("{}-L{level}-v1", p.id);
            tx.execute(
                "INSERT INTO programme_version (id, programme_id, level, version, total_hours,
                     min_attendance_permille, credits_tenths, published_at)
                 VALUES (?1, ?2, ?3, 1, ?4, 900, ?5, ?6)",
                params![pv, p.id, level, hours, credits * 10, now],
            )?;
            let units = insert_units(&tx, p, &pv, level, hours, credits * 10)?;
            // The procedure's points are split over the units' tasks, one item per unit.
            let mut items: Vec<(String, String, String, u8, Option<String>)> = Vec::new();
            for (key, zh, en, max) in RUBRIC {
                if key == "proc" {
                    let n = units.len() as u8;
                    for (i, (unit, uzh, uen)) in units.iter().enumerate() {
                        let share = if i + 1 == units.len() {
                            max - max / n * (n - 1)
                        } else {
                            max / n
                        };
                        items.push((
                            format!("{pv}-unit{}", i + 1),
                            format!("{uzh}操作"),
                            format!("{uen}: procedure"),
                            share,
                            Some(unit.clone()),
                        ));
                    }
                } else {
                    items.push((format!("{pv}-{key}"), zh.into(), en.into(), max, None));
                }
            }
            let mut position = 0;
            for (id, zh, en, max, unit) in &items {
                tx.execute(
                    "INSERT INTO rubric_item (id, programme_version_id, position, name_zh, name_en,
                         max_points, critical, unit_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
                    params![id, pv, position, zh, en, max, unit],
                )?;
                position += 1;
            }
            for (i, (zh, en)) in p.critical.iter().enumerate() {
                tx.execute(
                    "INSERT INTO rubric_item (id, programme_version_id, position, name_zh, name_en,
                         max_points, critical) VALUES (?1, ?2, ?3, ?4, ?5, 0, 1)",
                    params![format!("{pv}-critical{}", i + 1), pv, position + i, zh, en],
                )?;
            }
        }
    }
    tx.execute(
        "INSERT INTO catalogue_meta VALUES (1, ?1, 'seed', ?2)",
        params![SEED_VERSION, now],
    )?;
    tx.commit()?;
    Ok(())
}

/// Splits a programme's hours and credits over its units; the last unit takes the remainder
/// so the sums stay exact.
fn insert_units(
    tx: &rusqlite::Transaction<'_>,
    p: &SeedProgramme,
    pv: &str,
    level: u8,
    hours: u32,
    credits_tenths: i64,
) -> Result<Vec<(String, &'static str, &'static str)>> {
    let mut made = Vec::new();
    let n = p.units.len() as u32;
    let mut hours_left = hours;
    let mut credits_left = credits_tenths;
    for (i, (zh, en)) in p.units.iter().enumerate() {
        let last = i as u32 == n - 1;
        let h = if last { hours_left } else { hours / n };
        let c = if last {
            credits_left
        } else {
            credits_tenths / i64::from(n)
        };
        hours_left -= h;
        credits_left -= c;
        let code = format!("{}-{}-L{level}-{:02}", p.occupation, p.id, i + 1);
        let id = format!("{code}@1");
        let theory = h * 2 / 5;
        tx.execute(
            "INSERT INTO competency_unit VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![id, code, p.id, level, zh, en, theory, h - theory, c],
        )?;
        tx.execute(
            "INSERT INTO programme_unit VALUES (?1, ?2, ?3)",
            params![pv, i, id],
        )?;
        made.push((id, *zh, *en));
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Site;

    #[test]
    fn a_new_site_has_the_seed_catalogue_with_exact_unit_sums() {
        let site = Site::open_in_memory().unwrap();
        let pvs = programme_versions(site.conn()).unwrap();
        assert_eq!(pvs.len(), 15);
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
        let total: u32 = items.iter().map(|i| u32::from(i.def.max_points)).sum();
        assert_eq!(total, 100);
        let critical: Vec<_> = items
            .iter()
            .filter(|i| i.def.critical)
            .map(|i| i.name_zh.as_str())
            .collect();
        assert_eq!(critical, ["未测试水温", "婴儿无人看护"]);
    }

    #[test]
    fn the_exported_seed_lists_every_programme_version_with_units_and_rubric() {
        let doc = seed_document().unwrap();
        assert_eq!(doc.version, SEED_VERSION);
        assert_eq!(doc.programme_versions.len(), 15);
        let mc = doc
            .programme_versions
            .iter()
            .find(|p| p.id == "maternity-L5-v1")
            .unwrap();
        assert_eq!(mc.unit_ids.len(), 5);
        assert_eq!(mc.rubric.iter().filter(|r| r.critical).count(), 2);
        assert_eq!(doc.occupations.len(), 3);
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
