//! Assessment scores and the pass rule: theory and practical each out of 100 with 60 to
//! pass, separately; a comprehensive review too at L2 and above; a failed critical rubric
//! item fails the practical whatever its points.

use serde::{Deserialize, Serialize};

use crate::{Error, Result, Rule};

/// The pass mark for every component.
pub const PASS_MARK: u8 = 60;

/// A whole-point score from 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Score(u8);

impl Score {
    /// Checks the range; `field` names the input in the error.
    pub fn new(field: &'static str, value: i64) -> Result<Self> {
        if !(0..=100).contains(&value) {
            return Err(Error::rule(field, Rule::ScoreRange { value }));
        }
        Ok(Score(value as u8))
    }

    /// A score read back from the store, whose CHECK constraint keeps it in 0..=100.
    pub fn from_stored(value: u8) -> Self {
        Score(value.min(100))
    }

    /// The points.
    pub fn get(self) -> u8 {
        self.0
    }

    /// At or above the pass mark.
    pub fn passes(self) -> bool {
        self.0 >= PASS_MARK
    }
}

/// Skill level (五级 L5 entry … 一级 L1 highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Level(u8);

impl Level {
    /// Checks 1..=5.
    pub fn new(value: i64) -> Result<Self> {
        if !(1..=5).contains(&value) {
            return Err(Error::rule("level", Rule::LevelRange { value }));
        }
        Ok(Level(value as u8))
    }

    /// The number (5 = entry).
    pub fn get(self) -> u8 {
        self.0
    }

    /// L2 (技师) and L1 (高级技师) add a comprehensive review.
    pub fn requires_review(self) -> bool {
        self.0 <= 2
    }
}

pub use siteline_proto::vocab::Component;

pub use siteline_proto::catalogue::RubricItem;

pub use siteline_proto::records::RubricMark;

/// A practical's outcome from its rubric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticalResult {
    /// Sum of points.
    pub total: Score,
    /// A critical item was failed.
    pub critical_failed: bool,
    /// total ≥ 60 and no critical failure.
    pub passed: bool,
}

/// Checks marks against the rubric and totals them. Every item must be marked once.
pub fn score_rubric(items: &[RubricItem], marks: &[RubricMark]) -> Result<PracticalResult> {
    const FIELD: &str = "assessment.rubric";
    let mut total: i64 = 0;
    let mut critical_failed = false;
    for mark in marks {
        if marks.iter().filter(|m| m.item_id == mark.item_id).count() > 1 {
            return Err(Error::rule(
                FIELD,
                Rule::RubricMarkedTwice {
                    item: mark.item_id.clone(),
                },
            ));
        }
        let Some(item) = items.iter().find(|i| i.id == mark.item_id) else {
            return Err(Error::rule(
                FIELD,
                Rule::RubricUnknownItem {
                    item: mark.item_id.clone(),
                },
            ));
        };
        if mark.points > item.max_points {
            return Err(Error::rule(
                FIELD,
                Rule::RubricTooManyPoints {
                    item: item.id.clone(),
                    max: item.max_points,
                    points: mark.points,
                },
            ));
        }
        if mark.failed && !item.critical {
            return Err(Error::rule(
                FIELD,
                Rule::RubricNotCritical {
                    item: item.id.clone(),
                },
            ));
        }
        total += i64::from(mark.points);
        critical_failed |= mark.failed;
    }
    if let Some(missing) = items
        .iter()
        .find(|i| !marks.iter().any(|m| m.item_id == i.id))
    {
        return Err(Error::rule(
            FIELD,
            Rule::RubricUnmarked {
                item: missing.id.clone(),
            },
        ));
    }
    let total = Score::new(FIELD, total)?;
    Ok(PracticalResult {
        total,
        critical_failed,
        passed: component_passes(total, critical_failed),
    })
}

/// The best result so far for each component of one enrolment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ComponentResults {
    /// Theory score, if sat.
    pub theory: Option<Score>,
    /// Practical score and whether a critical item failed, if sat.
    pub practical: Option<(Score, bool)>,
    /// Review score, if sat.
    pub review: Option<Score>,
}

/// Where an enrolment stands against the pass rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum PassStatus {
    /// Every required component sat and passed.
    Passed,
    /// A required component was sat and failed (a retake may follow).
    Failed,
    /// Some required component has not been sat yet, none failed.
    Pending,
}

/// Whether one component passes: at or above the pass mark and no critical item failed.
pub fn component_passes(score: Score, critical_failed: bool) -> bool {
    score.passes() && !critical_failed
}

/// Applies the pass rule for a level.
pub fn pass_status(level: Level, r: &ComponentResults) -> PassStatus {
    let theory = r.theory.map(Score::passes);
    let practical = r.practical.map(|(s, crit)| component_passes(s, crit));
    let review = if level.requires_review() {
        r.review.map(Score::passes)
    } else {
        Some(true)
    };
    let parts = [theory, practical, review];
    if parts.contains(&Some(false)) {
        PassStatus::Failed
    } else if parts.contains(&None) {
        PassStatus::Pending
    } else {
        PassStatus::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(v: i64) -> Score {
        Score::new("t", v).unwrap()
    }

    fn rubric() -> Vec<RubricItem> {
        let item = |id: &str, max, critical| RubricItem {
            id: id.into(),
            name_zh: String::new(),
            name_en: String::new(),
            max_points: max,
            critical,
            unit_id: None,
        };
        vec![
            item("prep", 10, false),
            item("comm", 15, false),
            item("proc", 55, false),
            item("safety", 10, false),
            item("tidy", 10, false),
            item("water", 0, true),
        ]
    }

    fn marks(points: [u8; 5], water_failed: bool) -> Vec<RubricMark> {
        let ids = ["prep", "comm", "proc", "safety", "tidy"];
        let mut m: Vec<RubricMark> = ids
            .iter()
            .zip(points)
            .map(|(id, p)| RubricMark {
                item_id: (*id).into(),
                points: p,
                failed: false,
            })
            .collect();
        m.push(RubricMark {
            item_id: "water".into(),
            points: 0,
            failed: water_failed,
        });
        m
    }

    #[test]
    fn scores_outside_0_to_100_are_refused() {
        assert!(
            Score::new("assessment.score", -1)
                .unwrap_err()
                .to_string()
                .contains("not -1")
        );
        assert!(
            Score::new("assessment.score", 101)
                .unwrap_err()
                .to_string()
                .contains("not 101")
        );
        assert_eq!(s(0).get(), 0);
        assert_eq!(s(100).get(), 100);
    }

    #[test]
    fn pass_mark_boundary_is_60() {
        assert!(!s(59).passes());
        assert!(s(60).passes());
    }

    #[test]
    fn full_points_with_a_critical_failure_fail_the_practical() {
        let r = score_rubric(&rubric(), &marks([10, 15, 55, 10, 10], true)).unwrap();
        assert_eq!(r.total.get(), 100);
        assert!(r.critical_failed);
        assert!(!r.passed);
        let r = score_rubric(&rubric(), &marks([6, 9, 33, 6, 6], false)).unwrap();
        assert_eq!(r.total.get(), 60);
        assert!(r.passed);
        let r = score_rubric(&rubric(), &marks([6, 9, 33, 6, 5], false)).unwrap();
        assert_eq!(r.total.get(), 59);
        assert!(!r.passed);
    }

    #[test]
    fn rubric_marks_are_checked_item_by_item() {
        let too_many = marks([11, 15, 55, 10, 10], false);
        assert!(
            score_rubric(&rubric(), &too_many)
                .unwrap_err()
                .to_string()
                .contains("at most 10")
        );
        let mut missing = marks([10, 15, 55, 10, 10], false);
        missing.remove(2);
        assert!(
            score_rubric(&rubric(), &missing)
                .unwrap_err()
                .to_string()
                .contains("proc has no mark")
        );
        let mut unknown = marks([10, 15, 55, 10, 10], false);
        unknown.push(RubricMark {
            item_id: "x".into(),
            points: 0,
            failed: false,
        });
        assert!(score_rubric(&rubric(), &unknown).is_err());
        let mut twice = marks([10, 15, 55, 10, 10], false);
        twice.push(twice[0].clone());
        assert!(
            score_rubric(&rubric(), &twice)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let mut fail_noncritical = marks([10, 15, 55, 10, 10], false);
        fail_noncritical[0].failed = true;
        assert!(score_rubric(&rubric(), &fail_noncritical).is_err());
    }

    #[test]
    fn review_is_required_from_level_2_up() {
        let l5 = Level::new(5).unwrap();
        let l2 = Level::new(2).unwrap();
        let r = ComponentResults {
            theory: Some(s(60)),
            practical: Some((s(60), false)),
            review: None,
        };
        assert_eq!(pass_status(l5, &r), PassStatus::Passed);
        assert_eq!(pass_status(l2, &r), PassStatus::Pending);
        let r2 = ComponentResults {
            review: Some(s(59)),
            ..r
        };
        assert_eq!(pass_status(l2, &r2), PassStatus::Failed);
        let r3 = ComponentResults {
            review: Some(s(60)),
            ..r
        };
        assert_eq!(pass_status(l2, &r3), PassStatus::Passed);
        assert!(Level::new(0).is_err());
        assert!(Level::new(6).is_err());
    }

    #[test]
    fn each_component_passes_separately() {
        let l5 = Level::new(5).unwrap();
        let r = ComponentResults {
            theory: Some(s(100)),
            practical: Some((s(59), false)),
            review: None,
        };
        assert_eq!(pass_status(l5, &r), PassStatus::Failed);
        let r = ComponentResults {
            theory: Some(s(59)),
            practical: None,
            review: None,
        };
        assert_eq!(pass_status(l5, &r), PassStatus::Failed);
        let r = ComponentResults {
            theory: Some(s(80)),
            practical: None,
            review: None,
        };
        assert_eq!(pass_status(l5, &r), PassStatus::Pending);
    }

    proptest! {
        #[test]
        fn passed_iff_every_required_component_at_least_60_and_no_critical_failure(
            level in 1i64..=5, t in 0i64..=100, p in 0i64..=100, v in 0i64..=100, crit: bool,
        ) {
            let level = Level::new(level).unwrap();
            let r = ComponentResults { theory: Some(s(t)), practical: Some((s(p), crit)), review: Some(s(v)) };
            let expected = t >= 60 && p >= 60 && !crit && (!level.requires_review() || v >= 60);
            prop_assert_eq!(pass_status(level, &r) == PassStatus::Passed, expected);
        }
    }
}
