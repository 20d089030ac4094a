//! China resident identity numbers (GB 11643-1999): 17 digits and a MOD 11-2 check
//! character. Parsing yields the birth date and sex the number encodes.

use chrono::{Datelike, NaiveDate};

use crate::{Error, Result, Rule};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CODES: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
const FIELD: &str = "learner.id_number";

pub use siteline_proto::vocab::Sex;

/// A checked 18-character resident ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentId {
    normalized: String,
    birth_date: NaiveDate,
    sex: Sex,
}

/// The check character for the first 17 digits.
pub fn check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CODES[(sum % 11) as usize]
}

impl ResidentId {
    /// Parses and checks a number; spaces are ignored and a lower-case `x` accepted.
    pub fn parse(input: &str) -> Result<Self> {
        let normalized: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        if normalized.is_empty() {
            return Err(Error::rule(FIELD, Rule::IdEmpty));
        }
        if normalized.chars().count() != 18 {
            return Err(Error::rule(
                FIELD,
                Rule::IdLength {
                    found: normalized.chars().count() as u32,
                },
            ));
        }
        let bytes = normalized.as_bytes();
        if let Some(pos) = bytes[..17].iter().position(|b| !b.is_ascii_digit()) {
            return Err(Error::rule(
                FIELD,
                Rule::IdNotDigit {
                    position: pos as u32 + 1,
                },
            ));
        }
        let last = bytes[17] as char;
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(Error::rule(FIELD, Rule::IdLastCharacter));
        }
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&bytes[..17]);
        let expected = check_char(&first17);
        if expected != last {
            return Err(Error::rule(FIELD, Rule::IdChecksum));
        }
        let digits = |r: std::ops::Range<usize>| -> u32 {
            bytes[r].iter().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
        };
        let (y, m, d) = (digits(6..10), digits(10..12), digits(12..14));
        let birth_date = NaiveDate::from_ymd_opt(y as i32, m, d)
            .filter(|date| date.year() >= 1900)
            .ok_or_else(|| {
                Error::rule(
                    FIELD,
                    Rule::IdBirthDate {
                        date: format!("{y:04}-{m:02}-{d:02}"),
                    },
                )
            })?;
        let sex = if digits(16..17) % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        Ok(ResidentId {
            normalized,
            birth_date,
            sex,
        })
    }

    /// The 18 characters, upper case, no spaces.
    pub fn as_str(&self) -> &str {
        &self.normalized
    }

    /// Birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// Sex encoded in character 17.
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// True when the holder is under 18 on `on`.
    pub fn is_minor_on(&self, on: NaiveDate) -> bool {
        is_minor(self.birth_date, on)
    }
}

/// Whole years between `birth` and `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Under 18 on the given day (an 18th birthday counts as adult).
pub fn is_minor(birth: NaiveDate, on: NaiveDate) -> bool {
    age_on(birth, on) < 18
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Builds a valid number from 17 digits.
    fn with_check(first17: &str) -> String {
        let mut a = [0u8; 17];
        a.copy_from_slice(first17.as_bytes());
        format!("{first17}{}", check_char(&a))
    }

    #[test]
    fn known_valid_numbers_parse() {
        // The standard's worked example.
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.sex(), Sex::Female);
        let id = ResidentId::parse(&with_check("44052419800101001")).unwrap();
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1980, 1, 1).unwrap()
        );
    }

    #[test]
    fn lower_case_x_and_spaces_are_accepted() {
        let id = ResidentId::parse(" 110105 19491231 002x ").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn wrong_checksum_is_refused_with_the_field_named() {
        let err = ResidentId::parse("110105194912310021").unwrap_err();
        assert_eq!(err.kind(), "invalid");
        assert!(err.to_string().contains("learner.id_number"));
        assert!(err.to_string().contains("check character"));
    }

    #[test]
    fn wrong_length_empty_letters_and_bad_dates_are_refused() {
        for (input, needle) in [
            ("", "empty"),
            ("11010519491231002", "18 characters"),
            ("1101051949123100211", "18 characters"),
            ("11010A19491231002X", "character 6"),
            ("11010519491231002Y", "last character"),
        ] {
            let err = ResidentId::parse(input).unwrap_err();
            assert!(err.to_string().contains(needle), "{input}: {err}");
        }
        let bad_date = with_check("11010519490231002");
        assert!(
            ResidentId::parse(&bad_date)
                .unwrap_err()
                .to_string()
                .contains("birth date")
        );
    }

    #[test]
    fn under_18_turns_adult_on_the_18th_birthday() {
        let id = ResidentId::parse(&with_check("44030520080615123")).unwrap();
        assert!(id.is_minor_on(NaiveDate::from_ymd_opt(2026, 6, 14).unwrap()));
        assert!(!id.is_minor_on(NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()));
    }

    proptest! {
        #[test]
        fn every_generated_number_passes_and_any_single_digit_change_fails(
            area in 110000u32..660000,
            days in 0i64..36500,
            order in 0u32..1000,
            pos in 0usize..17,
            delta in 1u8..10,
        ) {
            let birth = NaiveDate::from_ymd_opt(1930, 1, 1).unwrap() + chrono::Days::new(days as u64);
            let first17 = format!("{area:06}{}{order:03}", birth.format("%Y%m%d"));
            let id = with_check(&first17);
            let parsed = ResidentId::parse(&id).unwrap();
            prop_assert_eq!(parsed.birth_date(), birth);
            // MOD 11-2 catches every single-digit substitution.
            let mut bytes = id.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(ResidentId::parse(&changed).is_err());
        }
    }
}
