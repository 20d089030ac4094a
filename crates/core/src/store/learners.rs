//! Learners (trainees) and their consents. ID and phone numbers are sealed under the
//! learner's data key and found by blind indexes: the full ID for duplicates, the last four
//! characters of ID and phone for search. Screens get masked values; only a site manager
//! unmasks, and each unmasking is audited.

use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use siteline_proto::records::{self, Record};

use super::actor::Actor;
use super::{Site, audit, outbox};
use crate::{Error, Result};
use siteline_domain::Rule;
use siteline_domain::crypto::SiteKeys;
use siteline_domain::ids::{ConsentId, LearnerId};
use siteline_domain::person::{mask_id, mask_mobile, tail, validate_mobile, validate_name};
use siteline_domain::resident_id::{ResidentId, Sex, is_minor};

/// Characters of an ID or phone number used for tail search.
pub const TAIL_LEN: usize = 4;

/// What a learner's sealed phone number is bound to (with their data key).
pub(crate) fn phone_aad(learner: uuid::Uuid) -> Vec<u8> {
    [learner.as_bytes().as_slice(), b"/phone"].concat()
}

/// The blind index of a phone number's last four digits, for search.
pub(crate) fn phone_tail_index(keys: &SiteKeys, phone: &str) -> Vec<u8> {
    keys.blind_index("phone_tail", &tail(phone, TAIL_LEN))
}

pub use siteline_proto::vocab::IdType;

pub use siteline_proto::vocab::ConsentPurpose;

/// A consent given or refused at enrolment.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentInput {
    /// For what.
    pub purpose: ConsentPurpose,
    /// Given (true) or refused/withdrawn (false).
    pub granted: bool,
}

/// The privacy notice version consents refer to.
pub const NOTICE_VERSION: &str = "2026-01";

/// A learner to register.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewLearner {
    /// Name as on the ID card.
    pub name: String,
    /// Kind of document.
    pub id_type: IdType,
    /// Document number.
    pub id_number: String,
    /// Mainland mobile number, optional.
    pub phone: Option<String>,
    /// Consents recorded with the registration.
    pub consents: Vec<ConsentInput>,
}

/// A learner as lists and search results show them (masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerSummary {
    /// Id.
    pub id: LearnerId,
    /// Name.
    pub name: String,
    /// `440***********123X`
    pub id_masked: String,
    /// `138****8000`
    pub phone_masked: Option<String>,
    /// From the ID number.
    pub sex: Option<Sex>,
    /// From the ID number.
    pub birth_date: Option<NaiveDate>,
    /// Under 18 today: the UI flags them.
    pub minor: bool,
    /// Goes up with every change of the learner's details: an edit form sends the version it
    /// was opened on.
    pub version: u32,
}

struct CheckedId {
    number: String,
    sex: Option<Sex>,
    birth_date: Option<NaiveDate>,
}

fn check_id(id_type: IdType, input: &str) -> Result<CheckedId> {
    match id_type {
        IdType::ResidentId => {
            let id = ResidentId::parse(input)?;
            Ok(CheckedId {
                number: id.as_str().to_string(),
                sex: Some(id.sex()),
                birth_date: Some(id.birth_date()),
            })
        }
        IdType::Passport | IdType::Other => {
            let number: String = input.trim().to_uppercase();
            if !(5..=20).contains(&number.len())
                || !number.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(Error::rule("learner.id_number", Rule::DocumentNumber));
            }
            Ok(CheckedId {
                number,
                sex: None,
                birth_date: None,
            })
        }
    }
}

pub(crate) fn id_index(keys: &SiteKeys, number: &str) -> Vec<u8> {
    keys.blind_index("id", number)
}

/// Finds the learner already registered with this document number, for a live duplicate
/// warning while typing. Returns `Ok(None)` for a number that does not parse yet.
pub fn find_by_id_number(
    site: &Site,
    id_type: IdType,
    input: &str,
) -> Result<Option<LearnerSummary>> {
    let Ok(checked) = check_id(id_type, input) else {
        return Ok(None);
    };
    let index = id_index(&site.keys, &checked.number);
    let found = site
        .conn
        .prepare_cached(&format!(
            "{SUMMARY_SELECT} WHERE id_index = ?1 AND merged_into IS NULL"
        ))?
        .query_row([index], summary_from_row)
        .optional()?;
    Ok(found)
}

/// What the enrolment form shows while an ID number is typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IdCheck {
    /// The number passes its checks.
    pub valid: bool,
    /// What is wrong, if not.
    pub problem: Option<String>,
    /// The rule the number breaks, for the form to word in the user's language.
    pub rule: Option<Rule>,
    /// Birth date from the number.
    pub birth_date: Option<NaiveDate>,
    /// Sex from the number.
    pub sex: Option<Sex>,
    /// Under 18 today.
    pub minor: bool,
    /// A learner already registered with this number.
    pub duplicate: Option<LearnerSummary>,
}

/// Checks an ID number as it is typed: checksum, data it encodes, duplicates.
pub fn check_id_number(site: &Site, id_type: IdType, input: &str) -> Result<IdCheck> {
    match check_id(id_type, input) {
        Err(e) => {
            let (problem, rule) = match e {
                Error::Invalid { problem, rule, .. } => (problem, rule),
                other => (other.to_string(), None),
            };
            Ok(IdCheck {
                valid: false,
                problem: Some(problem),
                rule,
                birth_date: None,
                sex: None,
                minor: false,
                duplicate: None,
            })
        }
        Ok(c) => Ok(IdCheck {
            valid: true,
            problem: None,
            rule: None,
            birth_date: c.birth_date,
            sex: c.sex,
            minor: c
                .birth_date
                .is_some_and(|b| is_minor(b, crate::store::now().date_naive())),
            duplicate: find_by_id_number(site, id_type, &c.number)?,
        }),
    }
}

/// A registration that passed every check of the form, ready to insert.
pub(crate) struct Checked {
    name: String,
    id_type: IdType,
    id: CheckedId,
    phone: Option<String>,
}

impl Checked {
    /// The document number, normalized (for duplicates within a file).
    pub(crate) fn number(&self) -> &str {
        &self.id.number
    }

    /// The masked document number.
    pub(crate) fn masked(&self) -> String {
        mask_id(&self.id.number)
    }
}

/// The form's checks of a registration: name, document number, mobile, and no learner of the
/// site already registered with the number.
pub(crate) fn check(site: &Site, new: &NewLearner) -> Result<Checked> {
    let name = validate_name("learner.name", &new.name)?;
    let id = check_id(new.id_type, &new.id_number)?;
    let phone = new
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(validate_mobile)
        .transpose()?;
    if let Some(existing) = find_by_id_number(site, new.id_type, &id.number)? {
        return Err(Error::Duplicate {
            what: "learner",
            detail: format!(
                "{} ({}) is already registered with this ID number; open their profile instead",
                existing.name, existing.id_masked
            ),
        });
    }
    Ok(Checked {
        name,
        id_type: new.id_type,
        id,
        phone,
    })
}

/// Registers a learner with their consents, in one transaction with its outbox rows.
pub fn register(site: &mut Site, actor: &Actor, new: &NewLearner) -> Result<LearnerId> {
    let checked = check(site, new)?;
    let (tx, keys) = site.write()?;
    let id = insert(&tx, keys, actor, &checked, &new.consents)?;
    tx.commit()?;
    Ok(id)
}

/// Inserts a checked registration and its consents in the caller's transaction.
pub(crate) fn insert(
    tx: &rusqlite::Transaction<'_>,
    keys: &SiteKeys,
    actor: &Actor,
    new: &Checked,
    consents: &[ConsentInput],
) -> Result<LearnerId> {
    let (name, checked, phone) = (&new.name, &new.id, &new.phone);
    let id = LearnerId::new();
    let owner = id.0.as_bytes().to_vec();
    let (data_key, wrapped) = keys.new_data_key(&owner)?;
    let id_masked = mask_id(&checked.number);
    let id_sealed = data_key.seal(&[&owner[..], b"/id"].concat(), &checked.number)?;
    let id_tail = keys.blind_index("id_tail", &tail(&checked.number, TAIL_LEN));
    let phone_masked = phone.as_deref().map(mask_mobile);
    let phone_sealed = phone
        .as_deref()
        .map(|p| data_key.seal(&phone_aad(id.0), p))
        .transpose()?;
    let phone_tail = phone.as_deref().map(|p| phone_tail_index(keys, p));
    tx.prepare_cached(
        "INSERT INTO learner (id, name, id_type, id_cipher, id_masked, id_index, id_tail_index,
             phone_cipher, phone_masked, phone_tail_index, sex, birth_date, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        id,
        name,
        new.id_type.as_str(),
        id_sealed,
        id_masked,
        id_index(keys, &checked.number),
        id_tail,
        phone_sealed,
        phone_masked,
        phone_tail,
        checked.sex.map(Sex::as_str),
        checked.birth_date,
        super::now(),
        actor.id,
    ])?;
    tx.prepare_cached("INSERT INTO learner_key (learner_id, wrapped_key) VALUES (?1, ?2)")?
        .execute(params![id, wrapped])?;
    let record = records::Learner {
        name: name.clone(),
        id_type: new.id_type,
        id_masked: id_masked.clone(),
        phone_masked: phone_masked.clone(),
        sex: checked.sex,
        birth_date: checked.birth_date,
        id_number_sealed: None,
        withheld: false,
        site_sealed: None,
    };
    outbox::append(tx, id.0, &Record::Learner(record))?;
    for consent in consents {
        insert_consent(tx, actor, id, *consent)?;
    }
    Ok(id)
}

fn insert_consent(
    tx: &rusqlite::Transaction<'_>,
    actor: &Actor,
    learner: LearnerId,
    c: ConsentInput,
) -> Result<ConsentId> {
    let id = ConsentId::new();
    tx.prepare_cached(
        "INSERT INTO consent (id, learner_id, purpose, notice_version, granted, recorded_at, recorded_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![id, learner, c.purpose.as_str(), NOTICE_VERSION, c.granted, super::now(), actor.id])?;
    let record = records::Consent {
        learner_id: learner.0,
        purpose: c.purpose,
        notice_version: NOTICE_VERSION.into(),
        granted: c.granted,
    };
    outbox::append(tx, id.0, &Record::Consent(record))?;
    Ok(id)
}

/// Records a consent given or withdrawn later (append-only).
pub fn record_consent(
    site: &mut Site,
    actor: &Actor,
    learner: LearnerId,
    c: ConsentInput,
) -> Result<ConsentId> {
    let (tx, _) = site.write()?;
    ensure_exists(&tx, learner)?;
    let before = has_consent(&tx, learner, c.purpose)?;
    let id = insert_consent(&tx, actor, learner, c)?;
    // Consent to the credit bank given now: the learner's row goes to HQ again, complete (it
    // left withheld while there was no consent). A withdrawal reaches HQ as the consent row,
    // and HQ blanks what it holds of them.
    if c.purpose == ConsentPurpose::CreditBank && c.granted && !before {
        let record = stored_record(&tx, learner)?;
        outbox::append(&tx, learner.0, &Record::Learner(record))?;
    }
    tx.commit()?;
    Ok(id)
}

/// The learner's row as the outbox carries it (masked fields only), rebuilt from the store.
fn stored_record(conn: &Connection, learner: LearnerId) -> Result<records::Learner> {
    Ok(conn.query_row(
        "SELECT name, id_type, id_masked, phone_masked, sex, birth_date FROM learner WHERE id = ?1",
        [learner],
        |r| {
            let id_type: String = r.get(1)?;
            let sex: Option<String> = r.get(4)?;
            Ok(records::Learner {
                name: r.get(0)?,
                id_type: [IdType::ResidentId, IdType::Passport]
                    .into_iter()
                    .find(|t| t.as_str() == id_type)
                    .unwrap_or(IdType::Other),
                id_masked: r.get(2)?,
                phone_masked: r.get(3)?,
                sex: sex.map(|s| if s == "male" { Sex::Male } else { Sex::Female }),
                birth_date: r.get(5)?,
                id_number_sealed: None,
                withheld: false,
                site_sealed: None,
            })
        },
    )?)
}

/// A consent as the learner's profile lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentLine {
    /// What it is for.
    pub purpose: ConsentPurpose,
    /// Given (true) or refused / withdrawn (false).
    pub granted: bool,
    /// When it was recorded (RFC 3339, UTC).
    pub recorded_at: String,
    /// Who recorded it, when the account is known on this device.
    pub recorded_by: Option<String>,
}

/// Every consent answer of a learner, oldest first (the last of each purpose stands).
pub fn consents_of(conn: &Connection, learner: LearnerId) -> Result<Vec<ConsentLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.purpose, c.granted, c.recorded_at, s.display_name
           FROM consent c LEFT JOIN staff_user s ON s.id = c.recorded_by
          WHERE c.learner_id = ?1
          ORDER BY coalesce((SELECT max(e.hlc) FROM site_event e WHERE e.record_id = c.id), ''),
                   c.recorded_at, c.rowid",
    )?;
    let rows = stmt.query_map([learner], |r| {
        let purpose: String = r.get(0)?;
        Ok(ConsentLine {
            purpose: if purpose == ConsentPurpose::FacePhotos.as_str() {
                ConsentPurpose::FacePhotos
            } else {
                ConsentPurpose::CreditBank
            },
            granted: r.get(1)?,
            recorded_at: r.get(2)?,
            recorded_by: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether the learner's personal data was erased (their data key destroyed).
pub fn is_erased(conn: &Connection, learner: LearnerId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT wrapped_key IS NULL FROM learner_key WHERE learner_id = ?1")?
        .query_row([learner], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// The order that puts a learner's latest consent answer first (`consent` aliased `c`): by
/// the hybrid-logical-clock stamp of its operation, then when it was recorded.
pub(crate) const CONSENT_LATEST_FIRST: &str =
    "coalesce((SELECT max(e.hlc) FROM site_event e WHERE e.record_id = c.id), '') DESC,
     c.recorded_at DESC, c.rowid DESC";

/// The learner's current answer for a purpose (the latest record wins); `false` if never asked.
pub fn has_consent(conn: &Connection, learner: LearnerId, purpose: ConsentPurpose) -> Result<bool> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT c.granted FROM consent c WHERE c.learner_id = ?1 AND c.purpose = ?2
                 ORDER BY {CONSENT_LATEST_FIRST} LIMIT 1"
        ))?
        .query_row(params![learner, purpose.as_str()], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

pub(crate) fn ensure_exists(conn: &Connection, learner: LearnerId) -> Result<()> {
    let found = conn
        .prepare_cached("SELECT 1 FROM learner WHERE id = ?1")?
        .exists([learner])?;
    if found {
        Ok(())
    } else {
        Err(Error::not_found("learner", learner))
    }
}

const SUMMARY_SELECT: &str =
    "SELECT id, name, id_masked, phone_masked, sex, birth_date, version FROM learner";

fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LearnerSummary> {
    let sex: Option<String> = r.get(4)?;
    let birth_date: Option<NaiveDate> = r.get(5)?;
    Ok(LearnerSummary {
        id: r.get(0)?,
        name: r.get(1)?,
        id_masked: r.get(2)?,
        phone_masked: r.get(3)?,
        sex: sex.map(|s| if s == "male" { Sex::Male } else { Sex::Female }),
        birth_date,
        minor: birth_date.is_some_and(|b| is_minor(b, Utc::now().date_naive())),
        version: r.get(6)?,
    })
}

/// One learner by id.
pub fn get(conn: &Connection, id: LearnerId) -> Result<LearnerSummary> {
    conn.prepare_cached(&format!("{SUMMARY_SELECT} WHERE id = ?1"))?
        .query_row([id], summary_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("learner", id))
}

/// What a search box holds, as the store looks it up: the last 4 characters of an ID or
/// phone number (their blind indexes), a full ID number (its blind index), or part of a name
/// (a `LIKE` pattern with the wildcards typed escaped).
pub(crate) enum SearchKey {
    /// Blind indexes of the ID tail and the phone tail.
    Tail(Vec<u8>, Vec<u8>),
    /// Blind index of the full ID number.
    FullId(Vec<u8>),
    /// `LIKE` pattern for the name, escaped with `\`.
    Name(String),
}

impl SearchKey {
    /// Reads a search; refused when it is empty or digits of neither length.
    pub(crate) fn parse(site: &Site, query: &str) -> Result<SearchKey> {
        let q = query.trim();
        if q.is_empty() {
            return Err(Error::rule("search", Rule::SearchEmpty));
        }
        let idlike = q
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'x' || c == 'X');
        if idlike && q.chars().count() == TAIL_LEN {
            let t = q.to_uppercase();
            Ok(SearchKey::Tail(
                site.keys.blind_index("id_tail", &t),
                site.keys.blind_index("phone_tail", &t),
            ))
        } else if idlike && q.chars().count() == 18 {
            let checked = check_id(IdType::ResidentId, q)?;
            Ok(SearchKey::FullId(id_index(&site.keys, &checked.number)))
        } else if idlike {
            Err(Error::rule("search", Rule::SearchDigits))
        } else {
            Ok(SearchKey::Name(format!(
                "%{}%",
                q.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )))
        }
    }

    /// The SQL condition on the learner table aliased `l`, its arguments numbered from
    /// `?{first}`, and the arguments.
    pub(crate) fn condition(self, first: usize) -> (String, Vec<rusqlite::types::Value>) {
        match self {
            SearchKey::Tail(id, phone) => (
                format!(
                    "(l.id_tail_index = ?{first} OR l.phone_tail_index = ?{})",
                    first + 1
                ),
                vec![id.into(), phone.into()],
            ),
            SearchKey::FullId(index) => (format!("l.id_index = ?{first}"), vec![index.into()]),
            SearchKey::Name(pattern) => (
                format!("l.name LIKE ?{first} ESCAPE '\\'"),
                vec![pattern.into()],
            ),
        }
    }
}

/// Searches by name (any part), by the last 4 characters of the ID or phone number, or by a
/// full ID number. Returns at most `limit` learners, by name.
pub fn search(site: &Site, query: &str, limit: usize) -> Result<Vec<LearnerSummary>> {
    let (condition, mut args) = SearchKey::parse(site, query)?.condition(1);
    args.push((limit.clamp(1, 500) as i64).into());
    let mut stmt = site.conn.prepare_cached(&format!(
        "{SUMMARY_SELECT} l WHERE {condition} AND l.merged_into IS NULL ORDER BY l.name LIMIT ?{}",
        args.len()
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), summary_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The clear ID and phone numbers, for a site manager only; each call is audited.
pub fn unmask(
    site: &mut Site,
    actor: &Actor,
    learner: LearnerId,
) -> Result<(String, Option<String>)> {
    actor.require_manager("see full ID numbers")?;
    let (tx, keys) = site.write()?;
    let (id, phone) = open_sealed(&tx, keys, learner)?.ok_or_else(|| {
        Error::Crypto("this learner's personal data was erased at their request".into())
    })?;
    audit::record(
        &tx,
        Some(actor),
        "unmask_learner",
        Some(("learner", learner.0)),
        "id and phone shown",
    )?;
    tx.commit()?;
    Ok((id, phone))
}

/// The clear ID and phone numbers of a learner, or `None` when their data key was destroyed.
/// No audit entry: callers that show the numbers to a person audit it themselves.
pub(crate) fn open_sealed(
    conn: &Connection,
    keys: &SiteKeys,
    learner: LearnerId,
) -> Result<Option<(String, Option<String>)>> {
    type Sealed = Option<Vec<u8>>;
    let row: Option<(Sealed, Sealed, Sealed)> = conn
        .prepare_cached(
            "SELECT l.id_cipher, l.phone_cipher, k.wrapped_key
             FROM learner l JOIN learner_key k ON k.learner_id = l.id WHERE l.id = ?1",
        )?
        .query_row([learner], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((id_sealed, phone_sealed, wrapped)) = row else {
        return Err(Error::not_found("learner", learner));
    };
    let (Some(id_sealed), Some(wrapped)) = (id_sealed, wrapped) else {
        return Ok(None);
    };
    let owner = learner.0.as_bytes().to_vec();
    let key = keys.unwrap_data_key(&owner, &wrapped)?;
    let id = key.open(&[&owner[..], b"/id"].concat(), &id_sealed)?;
    let phone = phone_sealed
        .map(|p| key.open(&phone_aad(learner.0), &p))
        .transpose()?;
    Ok(Some((id, phone)))
}

/// Erases a learner's personal data by destroying their data key (crypto-shredding): the
/// sealed ID and phone become unreadable, the ledgers stay. Site manager only.
pub fn erase_personal_data(site: &mut Site, actor: &Actor, learner: LearnerId) -> Result<()> {
    actor.require_manager("erase personal data")?;
    let (tx, _) = site.write()?;
    ensure_exists(&tx, learner)?;
    tx.execute(
        "UPDATE learner_key SET wrapped_key = NULL, shredded_at = ?2 WHERE learner_id = ?1",
        params![learner, super::now()],
    )?;
    tx.execute(
        "UPDATE learner SET id_cipher = NULL, phone_cipher = NULL WHERE id = ?1",
        [learner],
    )?;
    super::edits::shred(&tx, learner.0)?;
    audit::record(
        &tx,
        Some(actor),
        "erase_personal_data",
        Some(("learner", learner.0)),
        "data key destroyed",
    )?;
    // HQ hears of it and blanks what it holds of the learner.
    outbox::append(
        &tx,
        learner.0,
        &Record::LearnerUpdate(records::LearnerUpdate::Erased {
            erased_at: super::now(),
            site_sealed: None,
        }),
    )?;
    tx.commit()?;
    Ok(())
}
