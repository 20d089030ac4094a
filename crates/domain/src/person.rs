//! Personal fields other than the ID number: names, mobile numbers and masked display.

use crate::{Error, Result, Rule};

/// Longest name accepted, in characters (covers long transliterated names).
pub const MAX_NAME_CHARS: usize = 50;

/// Trims a person's name and checks it is usable.
pub fn validate_name(field: &'static str, input: &str) -> Result<String> {
    let name = input.trim();
    if name.is_empty() {
        return Err(Error::rule(field, Rule::NameEmpty));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::rule(
            field,
            Rule::NameTooLong {
                limit: MAX_NAME_CHARS as u32,
            },
        ));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(Error::rule(field, Rule::NameControlCharacters));
    }
    Ok(name.to_string())
}

/// Checks a mainland mobile number: 11 digits starting 13–19. Spaces and dashes are ignored
/// and a leading +86 is removed.
pub fn validate_mobile(input: &str) -> Result<String> {
    const FIELD: &str = "learner.phone";
    let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = digits.strip_prefix("+86").unwrap_or(&digits).to_string();
    if digits.is_empty() {
        return Err(Error::rule(FIELD, Rule::PhoneEmpty));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::rule(FIELD, Rule::PhoneNotDigits));
    }
    if digits.len() != 11 || !digits.starts_with('1') || digits.as_bytes()[1] < b'3' {
        return Err(Error::rule(FIELD, Rule::PhoneFormat));
    }
    Ok(digits)
}

/// Masks all but the first `head` and last `tail` characters with `*`.
pub fn mask(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - head - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(hidden));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// An ID number as shown on screen: `440***********123X`.
pub fn mask_id(id: &str) -> String {
    mask(id, 3, 4)
}

/// A mobile number as shown on screen: `138****5678`.
pub fn mask_mobile(mobile: &str) -> String {
    mask(mobile, 3, 4)
}

/// The last `n` characters, upper-cased: the key for tail search.
pub fn tail(value: &str, n: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    chars[chars.len().saturating_sub(n)..]
        .iter()
        .collect::<String>()
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_empty_or_overlong_names_refused() {
        assert_eq!(
            validate_name("learner.name", "  王小梅 ").unwrap(),
            "王小梅"
        );
        let err = validate_name("learner.name", "   ").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("learner.name: the name is empty")
        );
        assert!(validate_name("learner.name", &"李".repeat(51)).is_err());
        assert!(validate_name("learner.name", &"李".repeat(50)).is_ok());
        assert!(validate_name("learner.name", "王\u{0}梅").is_err());
    }

    #[test]
    fn mobiles_are_normalised_and_checked() {
        assert_eq!(validate_mobile("+86 138-0013-8000").unwrap(), "13800138000");
        for bad in [
            "",
            "1380013800",
            "23800138000",
            "12800138000",
            "1380013800a",
        ] {
            assert!(validate_mobile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn masking_shows_only_head_and_tail() {
        assert_eq!(mask_id("44052419800101001X"), "440***********001X");
        assert_eq!(mask_mobile("13800138000"), "138****8000");
        assert_eq!(mask("abc", 3, 4), "***");
        assert_eq!(tail("44052419800101001x", 4), "001X");
    }
}
