//! 职业技能等级证书 numbers: one capital letter (Y or S) and 21 digits — a 4-digit evaluation
//! organisation code, 2-digit province, 6-digit site sequence, 2-digit year, level 1–5 and a
//! 6-digit serial.

use crate::{Error, Result, Rule};

/// The parts of a certificate number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateNumber {
    /// `Y` or `S`.
    pub kind: char,
    /// Evaluation organisation code.
    pub organisation: String,
    /// Province code.
    pub province: String,
    /// Site sequence.
    pub site_sequence: String,
    /// Two-digit year.
    pub year: u8,
    /// Level 1–5.
    pub level: u8,
    /// Serial.
    pub serial: String,
}

impl CertificateNumber {
    /// Checks and splits a number.
    pub fn parse(input: &str) -> Result<Self> {
        const FIELD: &str = "certificate.number";
        let s = input.trim();
        let mut chars = s.chars();
        let kind = chars
            .next()
            .ok_or_else(|| Error::rule(FIELD, Rule::CertificateEmpty))?;
        if kind != 'Y' && kind != 'S' {
            return Err(Error::rule(FIELD, Rule::CertificateLetter));
        }
        let digits: &str = &s[1..];
        if digits.len() != 21 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::rule(FIELD, Rule::CertificateDigits));
        }
        let level = digits.as_bytes()[14] - b'0';
        if !(1..=5).contains(&level) {
            return Err(Error::rule(FIELD, Rule::CertificateLevel { level }));
        }
        Ok(CertificateNumber {
            kind,
            organisation: digits[0..4].into(),
            province: digits[4..6].into(),
            site_sequence: digits[6..12].into(),
            year: digits[12..14].parse().unwrap_or(0),
            level,
            serial: digits[15..21].into(),
        })
    }

    /// A new 职业技能等级证书 number: kind `Y`, the evaluation organisation's 4-digit code, the
    /// site's 2-digit province and its sequence, the 2-digit year, the level and the serial
    /// within the series. The result parses back to itself; a part that does not fit its
    /// width is refused.
    pub fn issue(
        organisation: &str,
        province: &str,
        site_sequence: u32,
        year: u8,
        level: u8,
        serial: u32,
    ) -> Result<Self> {
        let n = CertificateNumber {
            kind: 'Y',
            organisation: organisation.into(),
            province: province.into(),
            site_sequence: format!("{site_sequence:06}"),
            year: year % 100,
            level,
            serial: format!("{serial:06}"),
        };
        Self::parse(&n.format())
    }

    /// The series a serial counts within: everything before the level digit.
    pub fn series(&self) -> String {
        format!(
            "{}{}{}{}{:02}",
            self.kind, self.organisation, self.province, self.site_sequence, self.year
        )
    }

    /// Formats the number back.
    pub fn format(&self) -> String {
        format!(
            "{}{}{}{}{:02}{}{}",
            self.kind,
            self.organisation,
            self.province,
            self.site_sequence,
            self.year,
            self.level,
            self.serial
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_numbers_parse_and_format_back() {
        let n = CertificateNumber::parse("Y000144000123265000042").unwrap();
        assert_eq!(
            (
                n.organisation.as_str(),
                n.province.as_str(),
                n.year,
                n.level
            ),
            ("0001", "44", 26, 5)
        );
        assert_eq!(n.format(), "Y000144000123265000042");
    }

    #[test]
    fn an_issued_number_parses_back_and_an_oversized_part_is_refused() {
        let n = CertificateNumber::issue("0001", "44", 123, 26, 5, 42).unwrap();
        assert_eq!(n.format(), "Y000144000123265000042");
        assert_eq!(n.series(), "Y00014400012326");
        assert_eq!(CertificateNumber::parse(&n.format()).unwrap(), n);
        assert!(CertificateNumber::issue("0001", "44", 1_000_000, 26, 5, 1).is_err());
        assert!(CertificateNumber::issue("0001", "44", 1, 26, 5, 1_000_000).is_err());
        assert!(CertificateNumber::issue("0001", "44", 1, 26, 6, 1).is_err());
        assert!(CertificateNumber::issue("01", "44", 1, 26, 5, 1).is_err());
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in [
            "",
            "X000144000123265000042",
            "Y00014400012326500004",
            "Y0001440001232650000421",
            "Y00014400012326A000042",
            "Y000144000123260000042",
        ] {
            assert!(CertificateNumber::parse(bad).is_err(), "{bad}");
        }
    }
}
