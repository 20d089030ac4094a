//! The rules an input can break, each with the values the message needs, so a screen can word
//! it in the user's language (the UI has a Chinese and an English text per rule) while logs
//! and tests read the English [`Display`](std::fmt::Display). Exported to TypeScript.

use serde::Serialize;

/// A broken rule and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// Nothing was typed where something is required.
    Required,
    /// Longer than `limit` characters.
    TooLong {
        /// Most characters allowed.
        limit: u32,
    },
    /// A person's name left empty.
    NameEmpty,
    /// A person's name longer than `limit` characters.
    NameTooLong {
        /// Most characters allowed.
        limit: u32,
    },
    /// A name contains control characters.
    NameControlCharacters,
    /// A score outside 0–100.
    ScoreRange {
        /// What was given.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        value: i64,
    },
    /// A skill level outside 1–5.
    LevelRange {
        /// What was given.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        value: i64,
    },
    /// A number outside `min..=max`.
    OutOfRange {
        /// Smallest allowed.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        min: i64,
        /// Largest allowed.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        max: i64,
        /// What was given.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        value: i64,
    },
    /// A word that is not one of a vocabulary's (a mark, a component…).
    UnknownWord {
        /// What kind of word, e.g. `component`.
        what: String,
        /// What was given.
        value: String,
        /// The words accepted.
        expected: String,
    },
    /// An ID number left empty.
    IdEmpty,
    /// A resident ID number that is not 18 characters long.
    IdLength {
        /// How many characters it has.
        found: u32,
    },
    /// A resident ID number with a non-digit among its first 17 characters.
    IdNotDigit {
        /// 1-based position of the first bad character.
        position: u32,
    },
    /// A resident ID number whose last character is neither a digit nor X.
    IdLastCharacter,
    /// A resident ID number whose check character does not match (a mistyped digit).
    IdChecksum,
    /// A resident ID number whose characters 7–14 are not a real birth date.
    IdBirthDate {
        /// The date as the number spells it.
        date: String,
    },
    /// A folder typed as a relative path or left empty.
    FolderPath,
    /// A passport or other document number that is not 5–20 letters and digits.
    DocumentNumber,
    /// A mobile number left empty.
    PhoneEmpty,
    /// A mobile number with something other than digits.
    PhoneNotDigits,
    /// A mobile number that is not 11 digits starting 13–19.
    PhoneFormat,
    /// A rubric item marked twice.
    RubricMarkedTwice {
        /// The item.
        item: String,
    },
    /// A rubric mark for an item the programme's rubric does not have.
    RubricUnknownItem {
        /// The item.
        item: String,
    },
    /// More points than a rubric item gives.
    RubricTooManyPoints {
        /// The item.
        item: String,
        /// Most points it gives.
        max: u8,
        /// Points given.
        points: u8,
    },
    /// A non-critical rubric item marked as failed.
    RubricNotCritical {
        /// The item.
        item: String,
    },
    /// A rubric item left without a mark.
    RubricUnmarked {
        /// The item.
        item: String,
    },
    /// A wrong sign-in name or password (which one is not said).
    SignInWrong,
    /// A disabled account tried to sign in or act.
    AccountDisabled,
    /// Too many wrong passwords for this sign-in name: wait `seconds` before the next try.
    SignInThrottled {
        /// Seconds to wait.
        seconds: u64,
    },

    /// A password shorter than `limit` characters.
    PasswordTooShort {
        /// Fewest characters allowed.
        limit: u32,
    },
    /// A sign-in name with spaces in it, or none.
    UsernameOneWord,
    /// The first account of a site is not a site manager.
    FirstAccountManager,
    /// A site manager tried to disable their own account.
    CannotDisableSelf,
    /// Disabling the last active site manager.
    LastManager,
    /// A cohort's last day before its first.
    EndBeforeStart,
    /// A cohort's status moved backwards.
    StatusBackwards {
        /// The current status.
        from: String,
        /// The status asked for.
        to: String,
    },
    /// A cohort at capacity.
    CohortFull {
        /// The cohort's name.
        name: String,
        /// Its places.
        capacity: u32,
    },
    /// A session ending at or before its start.
    SessionEndsBeforeStart,
    /// A session longer than `hours`.
    SessionTooLong {
        /// Most hours allowed.
        hours: u32,
    },
    /// A session's unit that is not part of the cohort's programme.
    UnitNotInProgramme {
        /// The unit.
        unit: String,
    },
    /// A roll-call mark for a learner not enrolled in the session's cohort.
    NotEnrolledInCohort,
    /// A mark's time outside the session.
    OutsideSession {
        /// The mark's time.
        at: String,
        /// The session's start.
        from: String,
        /// The session's end.
        to: String,
    },
    /// A certificate number left empty.
    CertificateEmpty,
    /// A certificate number that does not start with Y or S.
    CertificateLetter,
    /// A certificate number without exactly 21 digits after its letter.
    CertificateDigits,
    /// A certificate number whose level digit is not 1–5.
    CertificateLevel {
        /// The digit found.
        level: u8,
    },
    /// A file to import that is not an absolute path to an `.xlsx` file.
    XlsxFile,
    /// A file bigger than the import reads.
    FileTooLarge {
        /// Largest size read, in MiB.
        max_mib: u32,
    },
    /// A file that is not an Excel workbook, or has no readable first sheet.
    NotAWorkbook,
    /// A workbook whose first row is not the import template's header.
    ImportHeader,
    /// A file with more learners than one import takes.
    ImportTooManyRows {
        /// Most rows one file may hold.
        max: u32,
    },
    /// An ID type that is not 居民身份证, 护照 or 其他.
    IdTypeUnknown,
    /// A consent cell that is not 是 or 否.
    ConsentYesNo,
    /// A number that Excel stored as a number and so lost digits.
    NumberLostDigits {
        /// The column.
        column: String,
    },
    /// A search with nothing to search by.
    SearchEmpty,
    /// A search of digits that is neither 4 long (a tail) nor a full 18-character ID.
    SearchDigits,
    /// A claim for a learner below the programme's attendance minimum.
    ClaimAttendance {
        /// The learner.
        name: String,
        /// Hours attended, as shown (one decimal).
        attended: String,
        /// Hours required.
        required: u32,
    },
    /// A claim for a learner who has not passed every component.
    ClaimNotPassed {
        /// The learner.
        name: String,
    },
    /// A claim while an assessment attempt is still a draft.
    ClaimUnlocked,
    /// A claim for a learner without credit bank consent.
    ClaimNoConsent {
        /// The learner.
        name: String,
    },
    /// A correction of a record that can still be edited (an open session, a draft attempt).
    CorrectionNotNeeded,
    /// A correction of an attempt that was already corrected.
    CorrectionOfCorrected,
    /// A comprehensive review below level 2.
    ReviewLevel {
        /// The programme's level.
        level: u8,
    },
    /// Marks of the wrong kind for the component (a score for a practical, a rubric for theory).
    MarksKind,
    /// A merge of a registration with itself, or of two that are not duplicates.
    MergeNotDuplicates,
    /// An edit based on a version that is no longer the latest: the record changed (on this
    /// device or arrived from another) after the form was opened.
    StaleEdit,
    /// An edit that changes nothing.
    NothingChanged,
    /// A cohort capacity below the learners already enrolled.
    CapacityBelowEnrolled {
        /// Learners enrolled now.
        enrolled: u32,
    },
    /// A phone number for a learner whose personal data was erased.
    ErasedLearner,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Required => f.write_str("nothing was given; fill it in"),
            Rule::TooLong { limit } => {
                write!(f, "longer than {limit} characters; shorten it")
            }
            Rule::NameEmpty => f.write_str("the name is empty; type the name as on the ID card"),
            Rule::NameTooLong { limit } => {
                write!(f, "the name is longer than {limit} characters; shorten it")
            }
            Rule::NameControlCharacters => {
                f.write_str("the name contains control characters; retype it")
            }
            Rule::ScoreRange { value } => {
                write!(f, "a score is a whole number from 0 to 100, not {value}")
            }
            Rule::LevelRange { value } => write!(f, "levels run from 1 to 5, not {value}"),
            Rule::OutOfRange { min, max, value } => {
                write!(f, "a whole number from {min} to {max}, not {value}")
            }
            Rule::UnknownWord {
                what,
                value,
                expected,
            } => write!(f, "unknown {what} {value:?}; use {expected}"),
            Rule::IdEmpty => f.write_str("the ID number is empty; type all 18 characters"),
            Rule::IdLength { found } => write!(
                f,
                "an ID number has 18 characters, this one has {found}; check it against the card"
            ),
            Rule::IdNotDigit { position } => write!(
                f,
                "character {position} must be a digit; only the last may be X"
            ),
            Rule::IdLastCharacter => f.write_str("the last character must be a digit or X"),
            Rule::IdChecksum => f.write_str(
                "the check character does not match (a digit is probably mistyped); check the \
                 number against the card",
            ),
            Rule::IdBirthDate { date } => {
                write!(f, "characters 7–14 are not a real birth date ({date})")
            }
            Rule::XlsxFile => f.write_str(
                "choose an Excel file (.xlsx) by its full path, e.g. /home/site/Documents/class.xlsx",
            ),
            Rule::FileTooLarge { max_mib } => {
                write!(f, "the file is larger than {max_mib} MiB; split it into smaller files")
            }
            Rule::NotAWorkbook => f.write_str(
                "the file is not an Excel workbook (.xlsx) or its first sheet cannot be read; fill in the template and choose it again",
            ),
            Rule::ImportHeader => f.write_str(
                "the first row is not the template's header (姓名 Name, 证件类型 ID type, …); download the template and fill it in",
            ),
            Rule::ImportTooManyRows { max } => {
                write!(f, "the file has more than {max} learners; split it into smaller files")
            }
            Rule::IdTypeUnknown => f.write_str("the ID type is not 居民身份证, 护照 or 其他"),
            Rule::ConsentYesNo => f.write_str("the credit bank consent is not 是 or 否"),
            Rule::NumberLostDigits { column } => write!(
                f,
                "column {column}: the number was stored as a number and lost digits; format the column as Text and type it again"
            ),
            Rule::SearchEmpty => f.write_str(
                "type part of a name, or the last 4 characters of an ID or phone number",
            ),
            Rule::SearchDigits => f.write_str(
                "type the last 4 characters of an ID or phone number, or the full 18-character ID",
            ),
            Rule::ClaimAttendance {
                name,
                attended,
                required,
            } => write!(
                f,
                "{name} attended {attended} of {required} required hours, below the programme's minimum; record the missing attendance first"
            ),
            Rule::ClaimNotPassed { name } => {
                write!(f, "{name} has not passed every component yet")
            }
            Rule::ClaimUnlocked => {
                f.write_str("lock every assessment attempt before submitting")
            }
            Rule::ClaimNoConsent { name } => write!(
                f,
                "{name} has not consented to sending records to the credit bank; record their consent first"
            ),
            Rule::CorrectionNotNeeded => f.write_str(
                "the record can still be changed (an open session, a draft attempt); change it instead of correcting it",
            ),
            Rule::CorrectionOfCorrected => {
                f.write_str("this attempt was already corrected; correct the latest correction")
            }
            Rule::ReviewLevel { level } => write!(
                f,
                "a comprehensive review is only held at level 2 and above, not level {level}"
            ),
            Rule::MarksKind => f.write_str(
                "a practical is marked item by item on its rubric; theory and review take one score out of 100",
            ),
            Rule::MergeNotDuplicates => f.write_str(
                "only two different registrations that share an ID number, as the app lists them, can be merged",
            ),
            Rule::StaleEdit => f.write_str(
                "this record was changed after you opened it (here or on another laptop of the site); open it again and make your change on what it holds now",
            ),
            Rule::NothingChanged => f.write_str("nothing was changed; change a field or cancel"),
            Rule::CapacityBelowEnrolled { enrolled } => write!(
                f,
                "{enrolled} learners are enrolled already; the capacity cannot be lower"
            ),
            Rule::ErasedLearner => f.write_str(
                "this learner's personal data was erased at their request; no new personal data can be stored for them",
            ),
            Rule::FolderPath => f.write_str(
                "give a full folder path, e.g. /home/site/Documents / 请填写完整的文件夹路径",
            ),
            Rule::DocumentNumber => {
                f.write_str("a document number has 5 to 20 letters and digits; check it")
            }
            Rule::PhoneEmpty => f.write_str("the mobile number is empty"),
            Rule::PhoneNotDigits => f.write_str("a mobile number has digits only"),
            Rule::PhoneFormat => f.write_str(
                "a mainland mobile number has 11 digits and starts with 13–19; check it",
            ),
            Rule::RubricMarkedTwice { item } => write!(f, "item {item} is marked twice"),
            Rule::RubricUnknownItem { item } => {
                write!(f, "item {item} is not in this programme's rubric")
            }
            Rule::RubricTooManyPoints { item, max, points } => {
                write!(f, "item {item} gives at most {max} points, not {points}")
            }
            Rule::RubricNotCritical { item } => {
                write!(f, "item {item} is not a critical item and cannot be failed")
            }
            Rule::RubricUnmarked { item } => {
                write!(f, "item {item} has no mark; mark every item before saving")
            }
            Rule::SignInWrong => f.write_str("the sign-in name or password is wrong; try again"),
            Rule::AccountDisabled => f.write_str("this account is disabled; ask the site manager"),
            Rule::SignInThrottled { seconds } => write!(
                f,
                "too many wrong passwords for this sign-in name; wait {seconds} s and try again"
            ),

            Rule::PasswordTooShort { limit } => {
                write!(f, "a password needs at least {limit} characters")
            }
            Rule::UsernameOneWord => f.write_str("a sign-in name is one word with no spaces"),
            Rule::FirstAccountManager => f.write_str("the first account must be a site manager"),
            Rule::CannotDisableSelf => {
                f.write_str("you cannot disable your own account; ask another site manager")
            }
            Rule::LastManager => f.write_str(
                "the site needs at least one active site manager; add another before disabling \
                 this one",
            ),
            Rule::EndBeforeStart => f.write_str("the last day is before the first day"),
            Rule::StatusBackwards { from, to } => write!(
                f,
                "a {from} cohort cannot become {to}; status only moves forward"
            ),
            Rule::CohortFull { name, capacity } => write!(
                f,
                "{name} is full ({capacity} places); raise its capacity or use another cohort"
            ),
            Rule::SessionEndsBeforeStart => f.write_str("a session must end after it starts"),
            Rule::SessionTooLong { hours } => {
                write!(f, "a session lasts at most {hours} hours; split it")
            }
            Rule::UnitNotInProgramme { unit } => {
                write!(f, "unit {unit} is not part of this cohort's programme")
            }
            Rule::NotEnrolledInCohort => f.write_str(
                "the learner is not enrolled in this session's cohort; enrol them first",
            ),
            Rule::OutsideSession { at, from, to } => {
                write!(
                    f,
                    "{at} is outside the session ({from} – {to}); check the time"
                )
            }
            Rule::CertificateEmpty => f.write_str("the number is empty"),
            Rule::CertificateLetter => f.write_str("a certificate number starts with Y or S"),
            Rule::CertificateDigits => f.write_str(
                "after the letter a certificate number has exactly 21 digits; check it against \
                 the certificate",
            ),
            Rule::CertificateLevel { level } => {
                write!(f, "digit 16 is the level, 1 to 5, not {level}")
            }
        }
    }
}
