//! Credits, kept exact as integer tenths (never floats): 6.5 credits is `Credits(65)`.

use serde::{Deserialize, Serialize};

/// Default conversion: one credit per 16 hours of training.
pub const DEFAULT_HOURS_PER_CREDIT: u32 = 16;

/// A credit amount in tenths; may be negative for a reversal posting.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Credits(pub i64);

impl Credits {
    /// Whole credits.
    pub fn whole(n: i64) -> Self {
        Credits(n * 10)
    }

    /// Credits earned by `hours` under a conversion rule, rounded down to a tenth.
    pub fn from_hours(hours: u32, hours_per_credit: u32) -> Self {
        Credits(i64::from(hours) * 10 / i64::from(hours_per_credit.max(1)))
    }

    /// The amount in tenths.
    pub fn tenths(self) -> i64 {
        self.0
    }
}

impl std::ops::Add for Credits {
    type Output = Credits;
    fn add(self, rhs: Credits) -> Credits {
        Credits(self.0 + rhs.0)
    }
}

impl std::ops::Neg for Credits {
    type Output = Credits;
    fn neg(self) -> Credits {
        Credits(-self.0)
    }
}

impl std::iter::Sum for Credits {
    fn sum<I: Iterator<Item = Credits>>(iter: I) -> Credits {
        Credits(iter.map(|c| c.0).sum())
    }
}

impl std::fmt::Display for Credits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{}", abs / 10, abs % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_rule_gives_one_credit_per_16_hours_rounded_down_to_tenths() {
        assert_eq!(
            Credits::from_hours(96, DEFAULT_HOURS_PER_CREDIT),
            Credits::whole(6)
        );
        assert_eq!(Credits::from_hours(80, 16), Credits::whole(5));
        assert_eq!(Credits::from_hours(120, 16).to_string(), "7.5");
        assert_eq!(Credits::from_hours(180, 16).to_string(), "11.2");
        assert_eq!(Credits::from_hours(15, 16).to_string(), "0.9");
    }

    #[test]
    fn reversal_cancels_posting_and_displays_sign() {
        let c = Credits(65);
        assert_eq!(c + -c, Credits(0));
        assert_eq!((-c).to_string(), "-6.5");
    }

    proptest! {
        #[test]
        fn sums_are_exact_whatever_the_order(v in proptest::collection::vec(-1000i64..1000, 0..200)) {
            let forward: Credits = v.iter().map(|t| Credits(*t)).sum();
            let backward: Credits = v.iter().rev().map(|t| Credits(*t)).sum();
            prop_assert_eq!(forward, backward);
            prop_assert_eq!(forward.tenths(), v.iter().sum::<i64>());
        }
    }
}
