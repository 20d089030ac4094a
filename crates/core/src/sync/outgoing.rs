//! What leaves the device for HQ: the outbox's rows as they travel, and the batch window of a
//! push or bundle. A learner's row gains the resident ID number here, sealed to HQ's public
//! key (so HQ alone can match one credit account per person; a lost bundle file reveals none),
//! or is withheld without the learner's credit-bank consent; the outbox itself never stores
//! the number. It also gains the learner's whole profile sealed under the site key, for the
//! site's other devices (HQ relays it and cannot open it). A change of a learner's details
//! gains its new values sealed the same way.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use siteline_domain::ids::LearnerId;
use siteline_proto::records::{self, Record};
use siteline_proto::vocab::ConsentPurpose;
use siteline_proto::{Entity, Op, OutboxRow, PushBatch};

use crate::store::{Site, edits, learner_replica, learners, outbox, staff};
use crate::{Error, Result};

/// The oldest `limit` operations as they travel to HQ.
pub fn rows(site: &Site, limit: usize) -> Result<Vec<OutboxRow>> {
    let mut rows = outbox::pending(site.conn(), limit)?;
    let seal_key = hq_seal_key(site)?;
    for row in &mut rows {
        prepare_learner(site, seal_key.as_ref(), row)?;
        prepare_staff(site, row)?;
    }
    Ok(rows)
}

/// A learner's insert row as it leaves: without the learner's credit-bank consent (now, as it
/// leaves) every personal field is blanked and the row marked withheld; with it, the resident
/// ID number is added sealed to HQ's key (`seal_key`, pinned at enrolment: none means the
/// device is not enrolled). Other rows are left as they are.
pub fn prepare_learner(
    site: &Site,
    seal_key: Option<&[u8; 32]>,
    row: &mut OutboxRow,
) -> Result<()> {
    if row.entity != Entity::Learner {
        return Ok(());
    }
    if row.op == Op::Update {
        return prepare_learner_update(site, row, true);
    }
    let Record::Learner(mut record) = Record::parse(row.entity, row.op, &row.payload)
        .map_err(|e| Error::invalid("outbox.payload", e))?
    else {
        return Ok(());
    };
    let learner = LearnerId(row.record_id);
    // The site's other devices get the whole profile through HQ, sealed under the site key.
    let site_sealed = learner_replica::seal_profile(site.conn(), &site.keys, learner)?;
    if !learners::has_consent(site.conn(), learner, ConsentPurpose::CreditBank)? {
        record = records::Learner {
            name: String::new(),
            id_type: record.id_type,
            id_masked: String::new(),
            phone_masked: None,
            sex: None,
            birth_date: None,
            id_number_sealed: None,
            withheld: true,
            site_sealed: None,
        };
    } else if let Some((id_number, _)) = learners::open_sealed(&site.conn, &site.keys, learner)? {
        let sealed =
            siteline_domain::crypto::seal_to(seal_key.ok_or(Error::NotEnrolled)?, &id_number)?;
        record.id_number_sealed = Some(B64.encode(sealed));
    }
    record.site_sealed = site_sealed;
    row.payload = Record::Learner(record).to_payload();
    Ok(())
}

/// A change of a learner's details as it leaves: with the new values sealed under the site key
/// for the site's other devices and, for HQ (`for_hq`) when the learner consents to the credit
/// bank now, the new name in clear. An erasure leaves with the profile as it now stands (no
/// numbers) sealed the same way. Other learner updates are left as they are.
fn prepare_learner_update(site: &Site, row: &mut OutboxRow, for_hq: bool) -> Result<()> {
    let record = Record::parse(row.entity, row.op, &row.payload)
        .map_err(|e| Error::invalid("outbox.payload", e))?;
    let fields = match record {
        Record::LearnerUpdate(records::LearnerUpdate::Edited { fields, .. }) => fields,
        Record::LearnerUpdate(records::LearnerUpdate::Erased { erased_at, .. }) => {
            // The profile as it stands after the erasure (no numbers), for HQ to relay in place
            // of the one the learner's row carried.
            let site_sealed =
                learner_replica::seal_profile(site.conn(), &site.keys, LearnerId(row.record_id))?;
            row.payload = Record::LearnerUpdate(records::LearnerUpdate::Erased {
                erased_at,
                site_sealed,
            })
            .to_payload();
            return Ok(());
        }
        _ => return Ok(()),
    };
    let leaving = edits::leaving_learner_change(
        site.conn(),
        &site.keys,
        row.record_id,
        row.device_id,
        row.seq,
    )?;
    let consent = for_hq
        && learners::has_consent(
            site.conn(),
            LearnerId(row.record_id),
            ConsentPurpose::CreditBank,
        )?;
    row.payload = Record::LearnerUpdate(records::LearnerUpdate::Edited {
        fields,
        name: leaving.name.filter(|_| consent),
        site_sealed: leaving.name_sealed,
        phone_sealed: leaving.phone_sealed,
    })
    .to_payload();
    Ok(())
}

/// A staff account's row as it leaves: with the account's current password hash sealed under
/// the site key, so the person signs in on every device of the site (HQ cannot open it).
pub fn prepare_staff(site: &Site, row: &mut OutboxRow) -> Result<()> {
    if row.entity != Entity::StaffUser {
        return Ok(());
    }
    let Record::StaffUser(op, mut record) = Record::parse(row.entity, row.op, &row.payload)
        .map_err(|e| Error::invalid("outbox.payload", e))?
    else {
        return Ok(());
    };
    record.site_sealed = staff::seal_password(site.conn(), &site.keys, row.record_id)?;
    row.payload = Record::StaffUser(op, record).to_payload();
    Ok(())
}

/// This device's own operation as the site's other devices receive it on the LAN: learner and
/// staff rows gain what is sealed for the site (the profile, the password hash) as it stands
/// now; nothing is sealed to HQ.
pub fn prepare_for_site(site: &Site, row: &mut OutboxRow) -> Result<()> {
    prepare_staff(site, row)?;
    if row.entity != Entity::Learner {
        return Ok(());
    }
    if row.op == Op::Update {
        return prepare_learner_update(site, row, false);
    }
    let Record::Learner(mut record) = Record::parse(row.entity, row.op, &row.payload)
        .map_err(|e| Error::invalid("outbox.payload", e))?
    else {
        return Ok(());
    };
    record.id_number_sealed = None;
    record.site_sealed =
        learner_replica::seal_profile(site.conn(), &site.keys, LearnerId(row.record_id))?;
    row.payload = Record::Learner(record).to_payload();
    Ok(())
}

/// HQ's sealing key as pinned at enrolment, read once per batch.
fn hq_seal_key(site: &Site) -> Result<Option<[u8; 32]>> {
    let key: Option<Vec<u8>> =
        site.conn()
            .query_row("SELECT hq_seal_key FROM sync_state", [], |r| r.get(0))?;
    Ok(key.and_then(|k| k.try_into().ok()))
}

/// The oldest pending rows, as they travel to HQ, that fit in `budget` bytes of JSON (always
/// at least one).
pub fn next_batch(site: &Site, budget: usize) -> Result<Option<PushBatch>> {
    // Only the rows that go out are decrypted for HQ, not the whole window read.
    let rows = outbox::pending(site.conn(), 5_000)?;
    let mut taken: Vec<OutboxRow> = Vec::new();
    let mut size = 0usize;
    let seal_key = hq_seal_key(site)?;
    for mut row in rows {
        // A batch is one epoch (HQ keeps a high-water mark per device and epoch): rows written
        // after a restore wait until the older epoch's rows are acknowledged.
        if taken.first().is_some_and(|f| f.epoch != row.epoch) {
            break;
        }
        prepare_learner(site, seal_key.as_ref(), &mut row)?;
        prepare_staff(site, &mut row)?;
        let len = serde_json::to_vec(&row)?.len();
        if !taken.is_empty() && size + len > budget {
            break;
        }
        size += len;
        taken.push(row);
    }
    let (Some(first), Some(last)) = (taken.first(), taken.last()) else {
        return Ok(None);
    };
    Ok(Some(PushBatch {
        device_id: first.device_id,
        epoch: first.epoch,
        from_seq: first.seq,
        to_seq: last.seq,
        rows: taken,
    }))
}

/// Remembers that `batch` is going out (a push or a bundle): HQ's acknowledgements of this
/// epoch may reach up to the highest seq ever sent, never past it.
pub fn mark_sent(site: &Site, batch: &PushBatch) -> Result<()> {
    site.conn()
        .prepare_cached(
            "INSERT INTO sent_mark (epoch, through) VALUES (?1, ?2)
             ON CONFLICT (epoch) DO UPDATE SET through = max(through, excluded.through)",
        )?
        .execute(rusqlite::params![batch.epoch, batch.to_seq])?;
    Ok(())
}
