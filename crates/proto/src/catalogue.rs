//! The catalogue as HQ publishes it and sites install it: occupations, programmes, units,
//! programme versions with their rubric. A published version never changes.

use serde::{Deserialize, Serialize};

/// A whole catalogue version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Catalogue {
    /// Version label, e.g. `seed-2026.1` or `2026.2`.
    pub version: String,
    /// Occupations.
    pub occupations: Vec<Occupation>,
    /// Programmes (trades).
    pub programmes: Vec<Programme>,
    /// Competency units.
    pub units: Vec<Unit>,
    /// Programme versions.
    pub programme_versions: Vec<ProgrammeVersion>,
}

/// An occupation (职业) with its national code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Occupation {
    /// e.g. `4-10-01-06`.
    pub code: String,
    /// 中文名称
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// A programme (trade) within an occupation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Programme {
    /// e.g. `maternity`.
    pub id: String,
    /// Occupation code.
    pub occupation_code: String,
    /// 中文名称
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// A competency unit: the thing accredited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unit {
    /// `code@version`.
    pub id: String,
    /// Unit code.
    pub code: String,
    /// Unit version.
    pub version: u32,
    /// Programme.
    pub programme_id: String,
    /// Level 1–5.
    pub level: u8,
    /// 中文名称
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Theory hours.
    pub theory_hours: u32,
    /// Practice hours.
    pub practice_hours: u32,
    /// Credits in tenths.
    pub credits_tenths: i64,
}

/// A rubric item of a programme version's practical: the one type the catalogue, the site's
/// screens and the domain's scoring rule share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RubricItem {
    /// Catalogue id.
    pub id: String,
    /// 中文名称
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Most points the item can give (0 for a pure critical check).
    pub max_points: u8,
    /// A failed critical item (否决项) fails the practical.
    pub critical: bool,
    /// The competency unit whose task this item scores, if it scores one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub unit_id: Option<String>,
}

/// A published programme version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeVersion {
    /// e.g. `maternity-L5-v1`.
    pub id: String,
    /// Programme.
    pub programme_id: String,
    /// Level 1–5.
    pub level: u8,
    /// Version.
    pub version: u32,
    /// Required hours.
    pub total_hours: u32,
    /// Minimum attendance ratio in permille.
    pub min_attendance_permille: u32,
    /// Credits on accreditation, in tenths.
    pub credits_tenths: i64,
    /// Unit ids in order.
    pub unit_ids: Vec<String>,
    /// Practical rubric.
    pub rubric: Vec<RubricItem>,
}
