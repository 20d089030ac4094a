//! The hybrid logical clock stamp every operation carries: `(wall_ms, counter, device)`.
//! Stamps order the events of all the devices of a site the same way everywhere (later wall
//! time, then counter, then device id), whatever each device's clock says; the rule that
//! issues them (tick on a write, observe on a receive) is `siteline_domain::clock`.
//!
//! On the wire and in both stores a stamp is one string, `"{wall_ms:015}-{counter:06}-{device}"`
//! (device as 32 lower-case hex digits), so comparing two strings compares the stamps.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One hybrid-logical-clock stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch: the largest physical time the device had seen.
    pub wall_ms: u64,
    /// Events within one `wall_ms`, counted.
    pub counter: u32,
    /// The device that issued the stamp (breaks ties).
    pub device: Uuid,
}

/// The largest counter a stamp's text holds; a clock past it moves `wall_ms` on instead.
pub const MAX_COUNTER: u32 = 999_999;
/// The largest wall time a stamp's text holds (15 digits: the year 33658).
pub const MAX_WALL_MS: u64 = 999_999_999_999_999;

impl Hlc {
    /// The smallest stamp of a device: what its clock starts from.
    pub fn zero(device: Uuid) -> Hlc {
        Hlc {
            wall_ms: 0,
            counter: 0,
            device,
        }
    }
}

impl std::fmt::Display for Hlc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:015}-{:06}-{}",
            self.wall_ms,
            self.counter,
            self.device.simple()
        )
    }
}

/// Why a string is not a stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlcParseError(pub String);

impl std::fmt::Display for HlcParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} is not a clock stamp (15 digits, '-', 6 digits, '-', 32 hex digits)",
            self.0
        )
    }
}

impl std::error::Error for HlcParseError {}

impl std::str::FromStr for Hlc {
    type Err = HlcParseError;

    fn from_str(s: &str) -> Result<Hlc, HlcParseError> {
        let bad = || HlcParseError(s.chars().take(80).collect());
        let b = s.as_bytes();
        if b.len() != 15 + 1 + 6 + 1 + 32 || b[15] != b'-' || b[22] != b'-' {
            return Err(bad());
        }
        let digits = |t: &str| t.bytes().all(|c| c.is_ascii_digit());
        let (wall, counter, device) = (&s[..15], &s[16..22], &s[23..]);
        // Lower-case hex only, so the text of a stamp has one spelling and orders as it should.
        if !digits(wall)
            || !digits(counter)
            || !device
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        {
            return Err(bad());
        }
        Ok(Hlc {
            wall_ms: wall.parse().map_err(|_| bad())?,
            counter: counter.parse().map_err(|_| bad())?,
            device: Uuid::parse_str(device).map_err(|_| bad())?,
        })
    }
}

impl Serialize for Hlc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hlc, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_round_trips_through_its_text_and_the_text_orders_like_the_stamp() {
        let a = Hlc {
            wall_ms: 1_733_112_345_678,
            counter: 3,
            device: Uuid::from_u128(7),
        };
        let b = Hlc { counter: 12, ..a };
        let c = Hlc {
            device: Uuid::from_u128(u128::MAX),
            ..a
        };
        for h in [a, b, c, Hlc::zero(Uuid::nil())] {
            assert_eq!(h.to_string().parse::<Hlc>().unwrap(), h);
        }
        assert!(a < b && a < c && b > c);
        assert!(a.to_string() < b.to_string() && a.to_string() < c.to_string());
        assert!(b.to_string() > c.to_string());
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"001733112345678-000003-00000000000000000000000000000007\""
        );
    }

    #[test]
    fn text_that_is_not_a_stamp_is_refused_and_quoted() {
        for bad in [
            "",
            "1733112345678-3-7",
            "001733112345678-000003-0000000000000000000000000000000G",
            "001733112345678-000003-00000000000000000000000000000007x",
            "0017331123456x8-000003-00000000000000000000000000000007",
            "001733112345678-000003-0000000000000000000000000000000A",
        ] {
            let err = bad.parse::<Hlc>().unwrap_err();
            assert!(err.to_string().contains("clock stamp"), "{err}");
        }
    }
}
