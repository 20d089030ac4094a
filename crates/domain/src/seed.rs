//! The seed catalogue of the domain's reference values (docs/DOMAIN.md): five programmes at
//! levels 5 to 3, each with its units (hours and credits split exactly) and a practical rubric
//! of 100 points with two critical items. A new site installs it so it can work before it ever
//! syncs; HQ publishes it as its first catalogue. Plain data: no database is opened to build it.

use siteline_proto::catalogue::{
    Catalogue, Occupation, Programme, ProgrammeVersion, RubricItem, Unit,
};

/// Version label of the built-in seed catalogue.
pub const SEED_VERSION: &str = "seed-2026.1";

/// Minimum attendance of every seed programme, in permille.
const MIN_ATTENDANCE_PERMILLE: u32 = 900;

/// The seed catalogue as HQ would publish it.
pub fn catalogue() -> Catalogue {
    let occupations = OCCUPATIONS
        .iter()
        .map(|(code, zh, en)| Occupation {
            code: (*code).into(),
            name_zh: (*zh).into(),
            name_en: (*en).into(),
        })
        .collect();
    let mut programmes = Vec::new();
    let mut units = Vec::new();
    let mut programme_versions = Vec::new();
    for p in &SEED {
        programmes.push(Programme {
            id: p.id.into(),
            occupation_code: p.occupation.into(),
            name_zh: p.name_zh.into(),
            name_en: p.name_en.into(),
        });
        for &(level, hours, credits) in p.levels {
            let pv = format!("{}-L{level}-v1", p.id);
            let pv_units = split_units(p, level, hours, credits * 10);
            let rubric = rubric(p, &pv, &pv_units);
            programme_versions.push(ProgrammeVersion {
                id: pv,
                programme_id: p.id.into(),
                level,
                version: 1,
                total_hours: hours,
                min_attendance_permille: MIN_ATTENDANCE_PERMILLE,
                credits_tenths: credits * 10,
                unit_ids: pv_units.iter().map(|u| u.id.clone()).collect(),
                rubric,
            });
            units.extend(pv_units);
        }
    }
    Catalogue {
        version: SEED_VERSION.into(),
        occupations,
        programmes,
        units,
        programme_versions,
    }
}

/// One seed programme: its levels and the names of its units and critical items.
struct SeedProgramme {
    id: &'static str,
    occupation: &'static str,
    name_zh: &'static str,
    name_en: &'static str,
    /// (level, hours, credits) for each level offered: L5, L4, L3, and for elderly care L2
    /// (技师), which adds the comprehensive review (综合评审).
    levels: &'static [(u8, u32, i64)],
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
        levels: &[(5, 96, 6), (4, 96, 6), (3, 80, 5)],
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
        levels: &[(5, 120, 8), (4, 112, 7), (3, 96, 6)],
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
        levels: &[(5, 96, 6), (4, 96, 6), (3, 80, 5)],
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
        levels: &[(5, 180, 11), (4, 150, 9), (3, 120, 8), (2, 100, 7)],
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
        levels: &[(5, 120, 8), (4, 120, 8), (3, 120, 8)],
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

/// Splits a programme's hours and credits over its units; the last unit takes the remainder
/// so the sums stay exact. Two fifths of a unit's hours are theory.
fn split_units(p: &SeedProgramme, level: u8, hours: u32, credits_tenths: i64) -> Vec<Unit> {
    let n = p.units.len() as u32;
    let mut hours_left = hours;
    let mut credits_left = credits_tenths;
    let mut made = Vec::new();
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
        let theory = h * 2 / 5;
        made.push(Unit {
            id: format!("{code}@1"),
            code,
            version: 1,
            programme_id: p.id.into(),
            level,
            name_zh: (*zh).into(),
            name_en: (*en).into(),
            theory_hours: theory,
            practice_hours: h - theory,
            credits_tenths: c,
        });
    }
    made
}

/// The practical rubric: the procedure's points are split over the units' tasks, one item per
/// unit (the last takes the remainder), then the programme's two critical items.
fn rubric(p: &SeedProgramme, pv: &str, units: &[Unit]) -> Vec<RubricItem> {
    let mut items = Vec::new();
    for (key, zh, en, max) in RUBRIC {
        if key == "proc" {
            let n = units.len() as u8;
            for (i, unit) in units.iter().enumerate() {
                let share = if i + 1 == units.len() {
                    max - max / n * (n - 1)
                } else {
                    max / n
                };
                items.push(RubricItem {
                    id: format!("{pv}-unit{}", i + 1),
                    name_zh: format!("{}操作", unit.name_zh),
                    name_en: format!("{}: procedure", unit.name_en),
                    max_points: share,
                    critical: false,
                    unit_id: Some(unit.id.clone()),
                });
            }
        } else {
            items.push(RubricItem {
                id: format!("{pv}-{key}"),
                name_zh: zh.into(),
                name_en: en.into(),
                max_points: max,
                critical: false,
                unit_id: None,
            });
        }
    }
    for (i, (zh, en)) in p.critical.iter().enumerate() {
        items.push(RubricItem {
            id: format!("{pv}-critical{}", i + 1),
            name_zh: (*zh).into(),
            name_en: (*en).into(),
            max_points: 0,
            critical: true,
            unit_id: None,
        });
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exported_seed_lists_every_programme_version_with_units_and_rubric() {
        let doc = catalogue();
        assert_eq!(doc.version, SEED_VERSION);
        assert_eq!(doc.programme_versions.len(), 16);
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
    fn every_seed_version_sums_its_units_exactly_and_scores_100() {
        let doc = catalogue();
        for pv in &doc.programme_versions {
            let units: Vec<&Unit> = pv
                .unit_ids
                .iter()
                .map(|id| doc.units.iter().find(|u| &u.id == id).unwrap())
                .collect();
            let hours: u32 = units
                .iter()
                .map(|u| u.theory_hours + u.practice_hours)
                .sum();
            let credits: i64 = units.iter().map(|u| u.credits_tenths).sum();
            assert_eq!(
                (hours, credits),
                (pv.total_hours, pv.credits_tenths),
                "{}",
                pv.id
            );
            let points: u32 = pv.rubric.iter().map(|r| u32::from(r.max_points)).sum();
            assert_eq!(points, 100, "{}", pv.id);
        }
    }
}
