//! Accreditation rules: an outcome claim is checked against the catalogue's programme
//! version — attended hours against its minimum ratio, each component's score against the pass
//! mark, no failed critical item, the comprehensive review at L2 and above. Pure: the store
//! gathers the facts and records the outcome.

use siteline_domain::attendance::{hours_text, is_eligible};
use siteline_domain::scores::{ComponentResults, Level, PASS_MARK, PassStatus, Score, pass_status};
use siteline_proto::catalogue::ProgrammeVersion;
use siteline_proto::sync::DecisionStatus;

/// One component's result as the claim's attempts show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    /// The score, 0–100.
    pub score: Score,
    /// A critical rubric item failed (practical only).
    pub critical_failed: bool,
    /// The attempt was locked at the site.
    pub locked: bool,
}

/// What HQ knows about a claim.
#[derive(Debug, Clone)]
pub struct ClaimFacts<'a> {
    /// The programme version claimed.
    pub programme: &'a ProgrammeVersion,
    /// Minutes attended, recomputed by HQ from the roll-call marks it holds.
    pub attended_minutes: i64,
    /// Theory result.
    pub theory: Option<Component>,
    /// Practical result.
    pub practical: Option<Component>,
    /// Review result.
    pub review: Option<Component>,
    /// The learner has a credit account (their ID number reached HQ).
    pub has_account: bool,
}

/// HQ's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accredited: post these credits (tenths).
    Accredited {
        /// Credits in tenths.
        credits_tenths: i64,
    },
    /// Something is missing; the site can send it and claim again.
    NeedsInfo(String),
    /// The claim does not meet the rules.
    Rejected(String),
}

impl Outcome {
    /// The decision's status.
    pub fn status(&self) -> DecisionStatus {
        match self {
            Outcome::Accredited { .. } => DecisionStatus::Accredited,
            Outcome::NeedsInfo(_) => DecisionStatus::NeedsInfo,
            Outcome::Rejected(_) => DecisionStatus::Rejected,
        }
    }
}

/// A component's Chinese name.
pub(crate) fn zh(component: &str) -> &'static str {
    match component {
        "theory" => "理论",
        "practical" => "实操",
        "review" => "综合评审",
        _ => "",
    }
}

/// Applies the rules.
pub fn decide(f: &ClaimFacts<'_>) -> Outcome {
    let p = f.programme;
    let level = match Level::new(i64::from(p.level)) {
        Ok(level) => level,
        Err(e) => return Outcome::Rejected(e.to_string()),
    };
    if !f.has_account {
        return Outcome::NeedsInfo(
            "学员身份证号尚未报送总部，无法匹配学分账户；请同步该学员的记录 / the learner's ID number has not reached HQ, so no credit account can be matched; sync the learner's record"
                .into(),
        );
    }
    let mut required = vec![("theory", f.theory), ("practical", f.practical)];
    if level.requires_review() {
        required.push(("review", f.review));
    }
    for (name, c) in &required {
        match c {
            None => {
                return Outcome::NeedsInfo(format!(
                    "{}成绩未随申请报送 / no {name} result was received for this claim",
                    zh(name)
                ));
            }
            Some(c) if !c.locked => {
                return Outcome::NeedsInfo(format!(
                    "{}成绩在站点尚未锁定，请锁定后重新申请 / the {name} result is not locked at the site; lock it and claim again",
                    zh(name)
                ));
            }
            _ => {}
        }
    }
    if !is_eligible(f.attended_minutes, p.total_hours, p.min_attendance_permille) {
        return Outcome::Rejected(format!(
            "出勤 {a} 小时，要求 {t} 小时，未达到 {p}.{q}% / attended {a} h of {t} h required; the programme needs {p}.{q}%",
            a = hours_text(f.attended_minutes),
            t = p.total_hours,
            p = p.min_attendance_permille / 10,
            q = p.min_attendance_permille % 10
        ));
    }
    // The verdict is the domain's pass rule on HQ's own facts; the loop below only words why.
    let results = ComponentResults {
        theory: f.theory.map(|c| c.score),
        practical: f.practical.map(|c| (c.score, c.critical_failed)),
        review: f.review.map(|c| c.score),
    };
    if pass_status(level, &results) != PassStatus::Passed {
        for (name, c) in &required {
            let Some(c) = c else { continue };
            if c.critical_failed {
                return Outcome::Rejected(format!(
                    "{}有否决项未通过 / a critical item of the {name} was failed",
                    zh(name)
                ));
            }
            if !c.score.passes() {
                return Outcome::Rejected(format!(
                    "{}成绩 {s} 低于合格线 {PASS_MARK} / {name} score {s} is below the pass mark {PASS_MARK}",
                    zh(name),
                    s = c.score.get()
                ));
            }
        }
        return Outcome::Rejected(
            "考核结果未达到合格要求 / the assessment results do not meet the pass rule".into(),
        );
    }
    Outcome::Accredited {
        credits_tenths: p.credits_tenths,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programme(level: u8, hours: u32) -> ProgrammeVersion {
        ProgrammeVersion {
            id: "p".into(),
            programme_id: "maternity".into(),
            level,
            version: 1,
            total_hours: hours,
            min_attendance_permille: 900,
            credits_tenths: 80,
            unit_ids: vec![],
            rubric: vec![],
        }
    }

    fn score(points: u8) -> Score {
        Score::from_stored(points)
    }

    fn ok(points: u8) -> Option<Component> {
        Some(Component {
            score: score(points),
            critical_failed: false,
            locked: true,
        })
    }

    fn facts(p: &ProgrammeVersion, minutes: i64, t: u8, pr: u8) -> ClaimFacts<'_> {
        ClaimFacts {
            programme: p,
            attended_minutes: minutes,
            theory: ok(t),
            practical: ok(pr),
            review: None,
            has_account: true,
        }
    }

    #[test]
    fn a_passing_claim_is_accredited_with_the_catalogue_credits() {
        let p = programme(5, 120);
        assert_eq!(
            decide(&facts(&p, 120 * 60, 80, 75)),
            Outcome::Accredited { credits_tenths: 80 }
        );
    }

    #[test]
    fn scores_59_and_60_sit_either_side_of_the_pass_mark() {
        let p = programme(5, 120);
        assert!(
            matches!(decide(&facts(&p, 7200, 59, 90)), Outcome::Rejected(r) if r.contains("theory score 59"))
        );
        assert!(
            matches!(decide(&facts(&p, 7200, 90, 59)), Outcome::Rejected(r) if r.contains("practical score 59"))
        );
        assert!(matches!(
            decide(&facts(&p, 7200, 60, 60)),
            Outcome::Accredited { .. }
        ));
    }

    #[test]
    fn a_critical_failure_at_100_points_is_rejected() {
        let p = programme(5, 120);
        let mut f = facts(&p, 7200, 100, 100);
        f.practical = Some(Component {
            score: score(100),
            critical_failed: true,
            locked: true,
        });
        assert!(matches!(decide(&f), Outcome::Rejected(r) if r.contains("critical")));
    }

    #[test]
    fn attendance_of_89_9_percent_is_rejected_and_90_accredited() {
        // 100 h: 90% = 5400 minutes; 89.9% = 5394.
        let p = programme(5, 100);
        assert!(
            matches!(decide(&facts(&p, 5394, 80, 80)), Outcome::Rejected(r) if r.contains("89.9 h of 100 h"))
        );
        assert!(matches!(
            decide(&facts(&p, 5400, 80, 80)),
            Outcome::Accredited { .. }
        ));
    }

    #[test]
    fn level_2_needs_a_passed_review() {
        let p = programme(2, 100);
        assert!(
            matches!(decide(&facts(&p, 6000, 80, 80)), Outcome::NeedsInfo(r) if r.contains("review"))
        );
        let mut f = facts(&p, 6000, 80, 80);
        f.review = ok(59);
        assert!(matches!(decide(&f), Outcome::Rejected(r) if r.contains("review score 59")));
        f.review = ok(60);
        assert!(matches!(decide(&f), Outcome::Accredited { .. }));
    }

    #[test]
    fn missing_account_missing_result_or_unlocked_result_needs_info() {
        let p = programme(5, 100);
        let mut f = facts(&p, 6000, 80, 80);
        f.has_account = false;
        assert_eq!(decide(&f).status(), DecisionStatus::NeedsInfo);
        let mut f = facts(&p, 6000, 80, 80);
        f.practical = None;
        assert_eq!(decide(&f).status(), DecisionStatus::NeedsInfo);
        let mut f = facts(&p, 6000, 80, 80);
        f.theory = Some(Component {
            score: score(80),
            critical_failed: false,
            locked: false,
        });
        assert!(matches!(decide(&f), Outcome::NeedsInfo(r) if r.contains("not locked")));
    }
}
