//! A learner as the site's other devices receive it: the whole profile (name, ID and phone
//! numbers, masked forms) sealed under the site key as the learner row leaves this device, and written into `learner`, `learner_key` and
//! `consent` when another device's row arrives. HQ relays the sealed profile and cannot open it.
//! Owns no table of its own: it is the learners module's door for other devices' rows.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use siteline_domain::crypto::SiteKeys;
use siteline_domain::ids::LearnerId;
use siteline_proto::records;
use uuid::Uuid;

use super::learners;
use crate::{Error, Result};
use siteline_domain::person::tail;

/// The sealed profile: the learner as registered, the ID and phone numbers in clear inside
/// the seal. The receiving device seals them again under a data key of its own, exactly as it
/// seals a learner registered on it, so nothing but the site key is shared.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedProfile {
    name: String,
    id_type: String,
    id_masked: String,
    /// None once the learner's data was erased on the writing device.
    id_number: Option<String>,
    /// The full-ID blind index (base64), sent only when the number is erased, so a duplicate
    /// registration is still found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_index: Option<String>,
    phone: Option<String>,
    phone_masked: Option<String>,
    sex: Option<String>,
    birth_date: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    created_by: Option<Uuid>,
}

fn aad(learner: Uuid) -> Vec<u8> {
    [b"learner-profile/".as_slice(), learner.as_bytes()].concat()
}

/// The learner's profile as it stands now, sealed for the site's other devices; `None` when
/// the learner is not in this store.
pub(crate) fn seal_profile(
    conn: &Connection,
    keys: &SiteKeys,
    learner: LearnerId,
) -> Result<Option<String>> {
    type Row = (
        String,
        String,
        String,
        Vec<u8>,
        Option<String>,
        Option<String>,
        Option<NaiveDate>,
        DateTime<Utc>,
        Option<Uuid>,
    );
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT name, id_type, id_masked, id_index, phone_masked, sex, birth_date, created_at,
                    created_by
             FROM learner WHERE id = ?1",
        )?
        .query_row([learner], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .optional()?;
    let Some((
        name,
        id_type,
        id_masked,
        index,
        phone_masked,
        sex,
        birth_date,
        created_at,
        created_by,
    )) = row
    else {
        return Ok(None);
    };
    let opened = learners::open_sealed(conn, keys, learner)?;
    let profile = SealedProfile {
        name,
        id_type,
        id_masked,
        id_index: opened.is_none().then(|| B64.encode(index)),
        id_number: opened.as_ref().map(|(id, _)| id.clone()),
        phone: opened.and_then(|(_, phone)| phone),
        phone_masked,
        sex,
        birth_date,
        created_at,
        created_by,
    };
    let sealed = keys.seal_for_site(&aad(learner.0), &serde_json::to_vec(&profile)?)?;
    Ok(Some(B64.encode(sealed)))
}

/// Writes another device's learner row: the profile it carries sealed under the site key
/// (refused, so the row is held, when this device holds another site key).
pub(crate) fn apply(
    tx: &Transaction<'_>,
    keys: &SiteKeys,
    id: Uuid,
    l: &records::Learner,
) -> Result<()> {
    let Some(sealed) = &l.site_sealed else {
        return Err(Error::invalid(
            "learner.site_sealed",
            "another device's learner row carries no sealed profile",
        ));
    };
    let not_ours = || {
        Error::invalid(
            "learner.site_sealed",
            "the learner's profile is sealed under another site key: enter this site's recovery code on this device",
        )
    };
    let bytes = B64.decode(sealed).map_err(|_| not_ours())?;
    let opened = keys
        .open_from_site(&aad(id), &bytes)
        .map_err(|_| not_ours())?;
    let p: SealedProfile = serde_json::from_slice(&opened)?;
    let owner = id.as_bytes().to_vec();
    let (data_key, wrapped) = keys.new_data_key(&owner)?;
    let id_index = match (&p.id_number, &p.id_index) {
        (Some(number), _) => learners::id_index(keys, number),
        (None, Some(index)) => B64
            .decode(index)
            .map_err(|_| Error::invalid("learner.site_sealed", "the ID index is not base64"))?,
        (None, None) => Vec::new(),
    };
    let id_tail = keys.blind_index(
        "id_tail",
        &tail(
            p.id_number.as_deref().unwrap_or(&p.id_masked),
            learners::TAIL_LEN,
        ),
    );
    let id_cipher = p
        .id_number
        .as_deref()
        .map(|n| data_key.seal(&[&owner[..], b"/id"].concat(), n))
        .transpose()?;
    let phone_cipher = p
        .phone
        .as_deref()
        .map(|n| data_key.seal(&learners::phone_aad(id), n))
        .transpose()?;
    let phone_tail = p
        .phone
        .as_deref()
        .map(|n| learners::phone_tail_index(keys, n));
    tx.prepare_cached(
        "INSERT INTO learner (id, name, id_type, id_cipher, id_masked, id_index, id_tail_index,
             phone_cipher, phone_masked, phone_tail_index, sex, birth_date, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name
             WHERE NOT EXISTS (SELECT 1 FROM field_edit f
                               WHERE f.record_id = excluded.id AND f.field = 'name')",
    )?
    .execute(params![
        id,
        p.name,
        p.id_type,
        id_cipher,
        p.id_masked,
        id_index,
        id_tail,
        phone_cipher,
        p.phone_masked,
        phone_tail,
        p.sex,
        p.birth_date,
        p.created_at,
        p.created_by,
    ])?;
    // A learner erased here already (the erasure arrived first) stays erased; a profile
    // without numbers leaves no key to open anything with.
    let key = p.id_number.is_some().then_some(wrapped);
    tx.prepare_cached(
        "INSERT INTO learner_key (learner_id, wrapped_key) VALUES (?1, ?2)
         ON CONFLICT (learner_id) DO NOTHING",
    )?
    .execute(params![id, key])?;
    Ok(())
}

/// Another device erased the learner's personal data: their key is destroyed here too.
pub(crate) fn apply_erased(tx: &Transaction<'_>, id: Uuid, at: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE learner_key SET wrapped_key = NULL, shredded_at = coalesce(shredded_at, ?2)
         WHERE learner_id = ?1",
        params![id, at],
    )?;
    tx.execute(
        "UPDATE learner SET id_cipher = NULL, phone_cipher = NULL WHERE id = ?1",
        [id],
    )?;
    super::edits::shred(tx, id)
}

/// Another device's consent record (append-only).
pub(crate) fn apply_consent(
    tx: &Transaction<'_>,
    id: Uuid,
    c: &records::Consent,
    recorded_at: DateTime<Utc>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO consent (id, learner_id, purpose, notice_version, granted, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        c.learner_id,
        c.purpose.as_str(),
        c.notice_version,
        c.granted,
        recorded_at
    ])?;
    Ok(())
}
