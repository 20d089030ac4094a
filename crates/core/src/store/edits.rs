//! Corrections of a learner's or a cohort's fields, from any device of the site (ADR 0005,
//! docs/SYNC.md "Several devices, one site"). Every change of a field is kept in `field_edit`
//! with the stamp of that field's latest change its writer had seen (its base version), so:
//!
//! - a form is saved only on the version it was opened on (`version`), else it is refused as
//!   stale and nothing is written;
//! - of two changes of one field, the later stamp wins on every device, whatever order they
//!   arrive in (the field is recomputed from every change held);
//! - when the winning change had not seen an earlier one of another value (two devices edited
//!   the field offline), the pair waits in the manager's overlap queue; the manager settles it
//!   by choosing a value, which is one more change based on both.
//!
//! A learner's phone number travels between devices sealed under the site key and is kept
//! sealed under the learner's data key, so an erasure shreds every version of it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use siteline_domain::Rule;
use siteline_domain::crypto::SiteKeys;
use siteline_domain::ids::{CohortId, LearnerId};
use siteline_domain::person::{mask_mobile, validate_mobile, validate_name};
use siteline_proto::hlc::Hlc;
use siteline_proto::records::{
    self, CohortField, CohortFieldBase, LearnerField, LearnerFieldBase, Record,
};
use siteline_proto::{Entity, OutboxRow};
use uuid::Uuid;

use super::actor::Actor;
use super::{Site, audit, cohorts, learners, outbox};
use crate::{Error, Result};

/// A learner's corrected details, as the edit form sends them.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerEdit {
    /// The name as it should read.
    pub name: String,
    /// The mobile number: absent to keep it, empty to remove it, or the new number.
    pub phone: Option<String>,
    /// The learner's `version` when the form was opened.
    pub version: u32,
}

/// A cohort's corrected details, as the edit form sends them.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CohortEdit {
    /// Name shown on screen.
    pub name: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Most learners.
    pub capacity: u32,
    /// The cohort's `version` when the form was opened.
    pub version: u32,
}

/// One change of a field, as histories and the overlap queue show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldChange {
    /// `name`, `phone` (learners); `name`, `dates`, `capacity` (cohorts).
    pub field: String,
    /// The value as screens show it: the name, the masked phone number (none: removed),
    /// `start/end` dates, the capacity.
    pub value: Option<String>,
    /// Its clock stamp: identifies the change.
    pub stamp: String,
    /// When it was recorded (the writer's clock).
    pub at: DateTime<Utc>,
    /// Who made it, by name, when this device knows them.
    pub by: Option<String>,
    /// The device it was made on.
    pub device_id: Uuid,
    /// Made on this device.
    pub this_device: bool,
}

/// A field two devices changed without seeing each other's change: the value kept (the later
/// stamp) and the values it replaced unseen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Overlap {
    /// `learner` or `cohort`.
    pub entity: String,
    /// The learner's or cohort's id.
    pub record_id: Uuid,
    /// Its name, as the screen shows it.
    pub label: String,
    /// The field.
    pub field: String,
    /// The change that holds now.
    pub kept: FieldChange,
    /// The changes it replaced without its writer having seen them, latest first.
    pub unseen: Vec<FieldChange>,
}

/// A field's new value, ready to store.
struct NewValue {
    field: &'static str,
    value: Option<String>,
    cipher: Option<Vec<u8>>,
    index: Option<Vec<u8>>,
}

/// A change's stored value: as shown, sealed (a phone number), indexed (a phone's tail).
type Stored = (Option<String>, Option<Vec<u8>>, Option<Vec<u8>>);

/// The learner's data key, or `None` once their data was erased.
fn data_key(
    conn: &Connection,
    keys: &SiteKeys,
    learner: Uuid,
) -> Result<Option<siteline_domain::crypto::DataKey>> {
    let wrapped: Option<Option<Vec<u8>>> = conn
        .prepare_cached("SELECT wrapped_key FROM learner_key WHERE learner_id = ?1")?
        .query_row([learner], |r| r.get(0))
        .optional()?;
    wrapped
        .flatten()
        .map(|w| keys.unwrap_data_key(learner.as_bytes(), &w))
        .transpose()
        .map_err(Error::from)
}

/// A phone number as stored: masked, sealed under the learner's data key, its tail indexed.
fn phone_value(
    keys: &SiteKeys,
    key: Option<&siteline_domain::crypto::DataKey>,
    learner: Uuid,
    phone: Option<&str>,
) -> Result<NewValue> {
    Ok(NewValue {
        field: LearnerField::Phone.as_str(),
        value: phone.map(mask_mobile),
        cipher: match (phone, key) {
            (Some(p), Some(k)) => Some(k.seal(&learners::phone_aad(learner), p)?),
            _ => None,
        },
        index: phone.map(|p| learners::phone_tail_index(keys, p)),
    })
}

/// The stamp of a field's latest change held here (the base of a change made now).
fn latest(conn: &Connection, record: Uuid, field: &str) -> Result<Option<Hlc>> {
    let stamp: Option<String> = conn
        .prepare_cached("SELECT max(hlc) FROM field_edit WHERE record_id = ?1 AND field = ?2")?
        .query_row(params![record, field], |r| r.get(0))?;
    stamp.as_deref().map(outbox::parse_stamp).transpose()
}

fn stale(field: &'static str) -> Error {
    Error::rule(field, Rule::StaleEdit)
}

/// Corrects a learner's name or phone number (any staff member), on the version the form was
/// opened on; one change per field changed, in one transaction with its outbox row.
pub fn edit_learner(
    site: &mut Site,
    actor: &Actor,
    learner: LearnerId,
    edit: &LearnerEdit,
) -> Result<()> {
    let name = validate_name("learner.name", &edit.name)?;
    let phone = match edit.phone.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(p) => Some(Some(validate_mobile(p)?)),
    };
    let (tx, keys) = site.write()?;
    let (current_name, version, merged): (String, u32, Option<Uuid>) = tx
        .prepare_cached("SELECT name, version, merged_into FROM learner WHERE id = ?1")?
        .query_row([learner], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| Error::not_found("learner", learner))?;
    if merged.is_some() {
        return Err(Error::Locked {
            what: format!("learner {current_name} (merged into another registration)"),
            hint: "edit the learner this registration was merged into",
        });
    }
    if version != edit.version {
        return Err(stale("learner.version"));
    }
    let mut values = Vec::new();
    if name != current_name {
        values.push(NewValue {
            field: LearnerField::Name.as_str(),
            value: Some(name),
            cipher: None,
            index: None,
        });
    }
    if let Some(phone) = phone {
        let key = data_key(&tx, keys, learner.0)?;
        if key.is_none() && phone.is_some() {
            return Err(Error::rule("learner.phone", Rule::ErasedLearner));
        }
        let current = learners::open_sealed(&tx, keys, learner)?.and_then(|(_, p)| p);
        if phone != current {
            values.push(phone_value(
                keys,
                key.as_ref(),
                learner.0,
                phone.as_deref(),
            )?);
        }
    }
    if values.is_empty() {
        return Err(Error::rule("learner", Rule::NothingChanged));
    }
    write_learner(&tx, actor, learner, values)?;
    tx.commit()?;
    Ok(())
}

/// Stores a learner's changed fields, their outbox row and history, and the learner's columns.
fn write_learner(
    tx: &Transaction<'_>,
    actor: &Actor,
    learner: LearnerId,
    values: Vec<NewValue>,
) -> Result<()> {
    let fields = values
        .iter()
        .map(|v| {
            Ok(LearnerFieldBase {
                field: learner_field(v.field)?,
                base: latest(tx, learner.0, v.field)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let stamped = outbox::append_stamped(
        tx,
        learner.0,
        &Record::LearnerUpdate(records::LearnerUpdate::Edited {
            fields: fields.clone(),
            name: None,
            site_sealed: None,
            phone_sealed: None,
        }),
    )?;
    for (v, f) in values.iter().zip(&fields) {
        insert(
            tx,
            Entity::Learner,
            learner.0,
            v,
            &stamped,
            f.base,
            Some(actor),
        )?;
        refresh_learner(tx, learner.0, v.field)?;
    }
    tx.execute(
        "UPDATE learner SET version = version + 1 WHERE id = ?1",
        [learner],
    )?;
    let changed: Vec<&str> = values.iter().map(|v| v.field).collect();
    audit::record(
        tx,
        Some(actor),
        "edit_learner",
        Some(("learner", learner.0)),
        &changed.join(","),
    )?;
    Ok(())
}

fn learner_field(field: &str) -> Result<LearnerField> {
    LearnerField::parse(field).ok_or_else(|| {
        Error::invalid(
            "field_edit.field",
            format!("{field:?} is not a learner field"),
        )
    })
}

fn cohort_field(field: &str) -> Result<CohortField> {
    CohortField::parse(field).ok_or_else(|| {
        Error::invalid(
            "field_edit.field",
            format!("{field:?} is not a cohort field"),
        )
    })
}

fn insert(
    tx: &Transaction<'_>,
    entity: Entity,
    record: Uuid,
    v: &NewValue,
    stamped: &outbox::Stamped,
    base: Option<Hlc>,
    actor: Option<&Actor>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO field_edit (entity, record_id, field, hlc, base_hlc, value, value_cipher,
             value_index, device_id, seq, recorded_by, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (record_id, field, hlc) DO NOTHING",
    )?
    .execute(params![
        entity.as_str(),
        record,
        v.field,
        stamped.hlc.to_string(),
        base.map(|b| b.to_string()),
        v.value,
        v.cipher,
        v.index,
        stamped.device,
        stamped.seq,
        actor.map(|a| a.id),
        stamped.recorded_at,
    ])?;
    Ok(())
}

/// Sets a learner's column from the change of the field with the latest stamp.
fn refresh_learner(tx: &Transaction<'_>, learner: Uuid, field: &str) -> Result<()> {
    let winner: Option<Stored> = tx
        .prepare_cached(
            "SELECT value, value_cipher, value_index FROM field_edit
             WHERE record_id = ?1 AND field = ?2 ORDER BY hlc DESC LIMIT 1",
        )?
        .query_row(params![learner, field], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((value, cipher, index)) = winner else {
        return Ok(());
    };
    match learner_field(field)? {
        LearnerField::Name => {
            let Some(name) = value else {
                return Err(Error::invalid(
                    "field_edit.value",
                    "a name change without a name",
                ));
            };
            tx.execute(
                "UPDATE learner SET name = ?2 WHERE id = ?1",
                params![learner, name],
            )?;
        }
        LearnerField::Phone => {
            tx.execute(
                "UPDATE learner SET phone_masked = ?2, phone_cipher = ?3, phone_tail_index = ?4
                 WHERE id = ?1",
                params![learner, value, cipher, index],
            )?;
        }
    }
    Ok(())
}

/// Corrects a cohort's name, dates or capacity (site manager), on the version the form was
/// opened on.
pub fn edit_cohort(
    site: &mut Site,
    actor: &Actor,
    cohort: CohortId,
    edit: &CohortEdit,
) -> Result<()> {
    actor.require_manager("correct a cohort's details")?;
    let name = validate_name("cohort.name", &edit.name)?;
    cohorts::check_dates(edit.start_date, edit.end_date)?;
    cohorts::check_capacity(edit.capacity)?;
    let (tx, _) = site.write()?;
    let current = cohorts::get(&tx, cohort)?;
    if current.version != edit.version {
        return Err(stale("cohort.version"));
    }
    if edit.capacity < current.enrolled {
        return Err(Error::rule(
            "cohort.capacity",
            Rule::CapacityBelowEnrolled {
                enrolled: current.enrolled,
            },
        ));
    }
    let mut values = Vec::new();
    let plain = |field: &'static str, value: String| NewValue {
        field,
        value: Some(value),
        cipher: None,
        index: None,
    };
    if name != current.name {
        values.push(plain(CohortField::Name.as_str(), name));
    }
    if (edit.start_date, edit.end_date) != (current.start_date, current.end_date) {
        values.push(plain(
            CohortField::Dates.as_str(),
            dates_text(edit.start_date, edit.end_date),
        ));
    }
    if edit.capacity != current.capacity {
        values.push(plain(
            CohortField::Capacity.as_str(),
            edit.capacity.to_string(),
        ));
    }
    if values.is_empty() {
        return Err(Error::rule("cohort", Rule::NothingChanged));
    }
    write_cohort(&tx, actor, cohort, values)?;
    tx.commit()?;
    Ok(())
}

fn dates_text(start: NaiveDate, end: NaiveDate) -> String {
    format!("{start}/{end}")
}

fn parse_dates(text: &str) -> Result<(NaiveDate, NaiveDate)> {
    let bad = || {
        Error::invalid(
            "field_edit.value",
            format!("{text:?} is not start/end dates"),
        )
    };
    let (a, b) = text.split_once('/').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
}

fn write_cohort(
    tx: &Transaction<'_>,
    actor: &Actor,
    cohort: CohortId,
    values: Vec<NewValue>,
) -> Result<()> {
    let fields = values
        .iter()
        .map(|v| {
            Ok(CohortFieldBase {
                field: cohort_field(v.field)?,
                base: latest(tx, cohort.0, v.field)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let value_of = |f: CohortField| {
        values
            .iter()
            .find(|v| v.field == f.as_str())
            .and_then(|v| v.value.clone())
    };
    let record = records::CohortUpdate::Edited {
        fields: fields.clone(),
        name: value_of(CohortField::Name),
        dates: value_of(CohortField::Dates)
            .as_deref()
            .map(parse_dates)
            .transpose()?,
        capacity: value_of(CohortField::Capacity)
            .map(|c| c.parse::<u32>())
            .transpose()
            .map_err(|_| Error::invalid("cohort.capacity", "not a number"))?,
    };
    let stamped = outbox::append_stamped(tx, cohort.0, &Record::CohortUpdate(record))?;
    for (v, f) in values.iter().zip(&fields) {
        insert(
            tx,
            Entity::Cohort,
            cohort.0,
            v,
            &stamped,
            f.base,
            Some(actor),
        )?;
        refresh_cohort(tx, cohort.0, v.field)?;
    }
    tx.execute(
        "UPDATE cohort SET version = version + 1 WHERE id = ?1",
        [cohort],
    )?;
    let changed: Vec<&str> = values.iter().map(|v| v.field).collect();
    audit::record(
        tx,
        Some(actor),
        "edit_cohort",
        Some(("cohort", cohort.0)),
        &changed.join(","),
    )?;
    Ok(())
}

/// Sets a cohort's columns from the change of the field with the latest stamp.
fn refresh_cohort(tx: &Transaction<'_>, cohort: Uuid, field: &str) -> Result<()> {
    let value: Option<Option<String>> = tx
        .prepare_cached(
            "SELECT value FROM field_edit WHERE record_id = ?1 AND field = ?2
             ORDER BY hlc DESC LIMIT 1",
        )?
        .query_row(params![cohort, field], |r| r.get(0))
        .optional()?;
    let Some(Some(value)) = value else {
        return Ok(());
    };
    let bad = || Error::invalid("field_edit.value", format!("{value:?} is not a {field}"));
    match cohort_field(field)? {
        CohortField::Name => {
            tx.execute(
                "UPDATE cohort SET name = ?2 WHERE id = ?1",
                params![cohort, value],
            )?;
        }
        CohortField::Dates => {
            let (start, end) = parse_dates(&value)?;
            tx.execute(
                "UPDATE cohort SET start_date = ?2, end_date = ?3 WHERE id = ?1",
                params![cohort, start, end],
            )?;
        }
        CohortField::Capacity => {
            let capacity: u32 = value.parse().map_err(|_| bad())?;
            tx.execute(
                "UPDATE cohort SET capacity = ?2 WHERE id = ?1",
                params![cohort, capacity],
            )?;
        }
    }
    Ok(())
}

/// The new name a learner change carries for the site's other devices, sealed under the site
/// key.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedName {
    name: String,
}

/// The new phone number a learner change carries, sealed apart from the name so HQ can drop
/// it once the learner's data is erased.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedPhone {
    /// None: removed (or unreadable here, erased).
    phone: Option<String>,
    masked: Option<String>,
    /// The tail blind index (base64), the same on every device of the site.
    index: Option<String>,
}

fn name_aad(learner: Uuid) -> Vec<u8> {
    [b"learner-name/".as_slice(), learner.as_bytes()].concat()
}

fn phone_edit_aad(learner: Uuid) -> Vec<u8> {
    [b"learner-phone/".as_slice(), learner.as_bytes()].concat()
}

/// What this device's learner change `(device, seq)` carries as it leaves: the new name sealed
/// for the site's other devices and in clear (for HQ, if the learner consents), and the phone
/// sealed for the site's other devices.
pub(crate) struct LeavingChange {
    pub(crate) name: Option<String>,
    pub(crate) name_sealed: Option<String>,
    pub(crate) phone_sealed: Option<String>,
}

/// The values of this device's learner change `(device, seq)` as they leave.
pub(crate) fn leaving_learner_change(
    conn: &Connection,
    keys: &SiteKeys,
    learner: Uuid,
    device: Uuid,
    seq: u64,
) -> Result<LeavingChange> {
    type Row = (String, Option<String>, Option<Vec<u8>>, Option<Vec<u8>>);
    let rows: Vec<Row> = conn
        .prepare_cached(
            "SELECT field, value, value_cipher, value_index FROM field_edit
             WHERE device_id = ?1 AND seq = ?2 AND record_id = ?3",
        )?
        .query_map(params![device, seq, learner], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let key = data_key(conn, keys, learner)?;
    let mut out = LeavingChange {
        name: None,
        name_sealed: None,
        phone_sealed: None,
    };
    for (field, value, cipher, index) in rows {
        match learner_field(&field)? {
            LearnerField::Name => {
                let name = value.unwrap_or_default();
                out.name_sealed = Some(seal_json(
                    keys,
                    &name_aad(learner),
                    &SealedName { name: name.clone() },
                )?);
                out.name = Some(name);
            }
            LearnerField::Phone => {
                let phone = SealedPhone {
                    phone: match (cipher, &key) {
                        (Some(c), Some(k)) => Some(k.open(&learners::phone_aad(learner), &c)?),
                        _ => None,
                    },
                    masked: value,
                    index: index.map(|i| B64.encode(i)),
                };
                out.phone_sealed = Some(seal_json(keys, &phone_edit_aad(learner), &phone)?);
            }
        }
    }
    Ok(out)
}

fn seal_json<T: Serialize>(keys: &SiteKeys, aad: &[u8], value: &T) -> Result<String> {
    Ok(B64.encode(keys.seal_for_site(aad, &serde_json::to_vec(value)?)?))
}

fn open_sealed<T: serde::de::DeserializeOwned>(
    keys: &SiteKeys,
    aad: &[u8],
    sealed: &str,
) -> Result<T> {
    let not_ours = || {
        Error::invalid(
            "learner.site_sealed",
            "the learner's change is sealed under another site key: enter this site's recovery code on this device",
        )
    };
    let bytes = B64.decode(sealed).map_err(|_| not_ours())?;
    let opened = keys.open_from_site(aad, &bytes).map_err(|_| not_ours())?;
    Ok(serde_json::from_slice(&opened)?)
}

/// Another device's learner change: each field's change kept, the learner's columns set from
/// the latest stamp of each field. A phone number whose seal HQ dropped (the learner's data was
/// erased), or that arrives after the erasure, is kept as nothing, as an erasure leaves every
/// other version of it.
pub(crate) fn apply_learner(
    tx: &Transaction<'_>,
    keys: &SiteKeys,
    row: &OutboxRow,
    fields: &[LearnerFieldBase],
    name_sealed: Option<&str>,
    phone_sealed: Option<&str>,
) -> Result<()> {
    let learner = row.record_id;
    learners::ensure_exists(tx, LearnerId(learner))?;
    let key = data_key(tx, keys, learner)?;
    let erased = learners::is_erased(tx, LearnerId(learner))?;
    let stamped = stamped_of(row);
    for f in fields {
        let v = match f.field {
            LearnerField::Name => {
                let sealed = name_sealed.ok_or_else(|| {
                    Error::invalid(
                        "learner.site_sealed",
                        "another device's change of a learner's name carries no sealed name",
                    )
                })?;
                let n: SealedName = open_sealed(keys, &name_aad(learner), sealed)?;
                NewValue {
                    field: LearnerField::Name.as_str(),
                    value: Some(validate_name("learner.name", &n.name)?),
                    cipher: None,
                    index: None,
                }
            }
            LearnerField::Phone => {
                let p: SealedPhone = match phone_sealed {
                    Some(sealed) if !erased => open_sealed(keys, &phone_edit_aad(learner), sealed)?,
                    _ => SealedPhone::default(),
                };
                NewValue {
                    field: LearnerField::Phone.as_str(),
                    value: p.masked,
                    cipher: match (&p.phone, &key) {
                        (Some(phone), Some(k)) => {
                            Some(k.seal(&learners::phone_aad(learner), phone)?)
                        }
                        _ => None,
                    },
                    index: p
                        .index
                        .as_deref()
                        .map(|i| B64.decode(i))
                        .transpose()
                        .map_err(|_| {
                            Error::invalid("learner.site_sealed", "the phone index is not base64")
                        })?,
                }
            }
        };
        insert(tx, Entity::Learner, learner, &v, &stamped, f.base, None)?;
        refresh_learner(tx, learner, v.field)?;
    }
    tx.execute(
        "UPDATE learner SET version = version + 1 WHERE id = ?1",
        [learner],
    )?;
    Ok(())
}

/// Another device's cohort change, merged as a learner's is.
pub(crate) fn apply_cohort(
    tx: &Transaction<'_>,
    row: &OutboxRow,
    change: &records::CohortUpdate,
) -> Result<()> {
    let records::CohortUpdate::Edited {
        fields,
        name,
        dates,
        capacity,
    } = change
    else {
        return Ok(());
    };
    let cohort = row.record_id;
    cohorts::get(tx, CohortId(cohort))?;
    let stamped = stamped_of(row);
    let missing = |f: CohortField| {
        Error::invalid(
            "cohort.edited",
            format!(
                "the change names the field {} without its value",
                f.as_str()
            ),
        )
    };
    for f in fields {
        let value = match f.field {
            CohortField::Name => validate_name(
                "cohort.name",
                name.as_deref().ok_or_else(|| missing(f.field))?,
            )?,
            CohortField::Dates => {
                let (start, end) = dates.ok_or_else(|| missing(f.field))?;
                cohorts::check_dates(start, end)?;
                dates_text(start, end)
            }
            CohortField::Capacity => {
                let c = capacity.ok_or_else(|| missing(f.field))?;
                cohorts::check_capacity(c)?;
                c.to_string()
            }
        };
        let v = NewValue {
            field: f.field.as_str(),
            value: Some(value),
            cipher: None,
            index: None,
        };
        insert(tx, Entity::Cohort, cohort, &v, &stamped, f.base, None)?;
        refresh_cohort(tx, cohort, v.field)?;
    }
    tx.execute(
        "UPDATE cohort SET version = version + 1 WHERE id = ?1",
        [cohort],
    )?;
    Ok(())
}

fn stamped_of(row: &OutboxRow) -> outbox::Stamped {
    outbox::Stamped {
        device: row.device_id,
        seq: row.seq,
        hlc: row.hlc,
        recorded_at: row.recorded_at,
    }
}

/// An erasure shreds every version of the learner's phone number kept here (sealed and
/// masked), the same on every device.
pub(crate) fn shred(tx: &Transaction<'_>, learner: Uuid) -> Result<()> {
    tx.execute(
        "UPDATE field_edit SET value_cipher = NULL, value = NULL, value_index = NULL
         WHERE record_id = ?1 AND field = 'phone'",
        [learner],
    )?;
    Ok(())
}

const CHANGE_SELECT: &str = "SELECT f.field, f.value, f.hlc, f.recorded_at,
        (SELECT display_name FROM staff_user s WHERE s.id = f.recorded_by),
        f.device_id, f.device_id = (SELECT device_id FROM device)
     FROM field_edit f";

fn change_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FieldChange> {
    Ok(FieldChange {
        field: r.get(0)?,
        value: r.get(1)?,
        stamp: r.get(2)?,
        at: r.get(3)?,
        by: r.get(4)?,
        device_id: r.get(5)?,
        this_device: r.get(6)?,
    })
}

/// Every change of a learner's or a cohort's fields, latest first.
pub fn history(conn: &Connection, record: Uuid) -> Result<Vec<FieldChange>> {
    let rows = conn
        .prepare_cached(&format!(
            "{CHANGE_SELECT} WHERE f.record_id = ?1 ORDER BY f.hlc DESC, f.field"
        ))?
        .query_map([record], change_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Fields whose latest change had not seen an earlier change of another value, in stamp order:
/// the same on every device that holds the same changes.
pub fn overlaps(conn: &Connection) -> Result<Vec<Overlap>> {
    // Each field's latest change (l) beside every earlier change of another value its writer
    // had not seen (e): one row per pair, grouped by field (one change may set two fields), the
    // latest changes in stamp order.
    let pairs: Vec<(String, Uuid, String, String, String, String)> = conn
        .prepare_cached(
            "SELECT l.entity, l.record_id, l.field, l.hlc, e.hlc,
                    coalesce((SELECT name FROM learner WHERE id = l.record_id),
                             (SELECT name FROM cohort WHERE id = l.record_id), '')
             FROM field_edit l
             JOIN field_edit e ON e.record_id = l.record_id AND e.field = l.field
                  AND e.hlc < l.hlc AND e.hlc > coalesce(l.base_hlc, '')
                  AND (e.value IS NOT l.value OR e.value_index IS NOT l.value_index)
             WHERE l.hlc = (SELECT max(hlc) FROM field_edit x
                            WHERE x.record_id = l.record_id AND x.field = l.field)
             ORDER BY l.hlc, l.record_id, l.field, e.hlc DESC",
        )?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let change = |record: Uuid, field: &str, stamp: &str| -> Result<FieldChange> {
        Ok(conn
            .prepare_cached(&format!(
                "{CHANGE_SELECT} WHERE f.record_id = ?1 AND f.field = ?2 AND f.hlc = ?3"
            ))?
            .query_row(params![record, field, stamp], change_from_row)?)
    };
    let mut out: Vec<Overlap> = Vec::new();
    for (entity, record_id, field, kept, unseen, label) in pairs {
        let unseen = change(record_id, &field, &unseen)?;
        match out.last_mut() {
            Some(o) if o.record_id == record_id && o.field == field => o.unseen.push(unseen),
            _ => out.push(Overlap {
                kept: change(record_id, &field, &kept)?,
                entity,
                record_id,
                label,
                field,
                unseen: vec![unseen],
            }),
        }
    }
    Ok(out)
}

/// Settles an overlap (site manager): the value of the change `stamp` (the one kept or one it
/// replaced unseen) becomes a new change based on every change of the field held here, so the
/// overlap leaves the queue on every device.
pub fn settle(
    site: &mut Site,
    actor: &Actor,
    record: Uuid,
    field: &str,
    stamp: &str,
) -> Result<()> {
    actor.require_manager("settle an overlap of two changes")?;
    let (tx, keys) = site.write()?;
    type Row = (String, Option<String>, Option<Vec<u8>>, Option<Vec<u8>>);
    let chosen: Row = tx
        .prepare_cached(
            "SELECT entity, value, value_cipher, value_index FROM field_edit
             WHERE record_id = ?1 AND field = ?2 AND hlc = ?3",
        )?
        .query_row(params![record, field, stamp], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?
        .ok_or_else(|| Error::not_found("change", stamp))?;
    let (entity, value, cipher, index) = chosen;
    let field_name = if entity == "learner" {
        learner_field(field)?.as_str()
    } else {
        cohort_field(field)?.as_str()
    };
    // A phone number chosen is sealed under the learner's key as it is here; shredded, it
    // stays unreadable (only its masked form is kept).
    let key = data_key(&tx, keys, record)?;
    let v = NewValue {
        field: field_name,
        value,
        cipher: cipher.filter(|_| key.is_some()),
        index,
    };
    if entity == "learner" {
        write_learner(&tx, actor, LearnerId(record), vec![v])?;
    } else {
        write_cohort(&tx, actor, CohortId(record), vec![v])?;
    }
    tx.commit()?;
    Ok(())
}
