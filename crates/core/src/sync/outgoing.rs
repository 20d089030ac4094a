//! What leaves the device for HQ: the outbox's rows as they travel, and the batch window of a
//! push or bundle. A learner's row gains the clear resident ID number here, as it leaves over
//! the authenticated, encrypted link (so HQ can match one credit account per person); the
//! outbox itself never stores it.

use siteline_domain::ids::LearnerId;
use siteline_proto::records::Record;
use siteline_proto::{Entity, Op, OutboxRow, PushBatch};

use crate::store::{Site, learners, outbox};
use crate::{Error, Result};

/// The oldest `limit` operations as they travel to HQ.
pub fn rows(site: &Site, limit: usize) -> Result<Vec<OutboxRow>> {
    let mut rows = outbox::pending(site.conn(), limit)?;
    for row in &mut rows {
        add_id_number(site, row)?;
    }
    Ok(rows)
}

/// Adds the clear ID number to a learner's insert row, as it travels to HQ; other rows are
/// left as they are.
pub fn add_id_number(site: &Site, row: &mut OutboxRow) -> Result<()> {
    if row.entity != Entity::Learner || row.op != Op::Insert {
        return Ok(());
    }
    let learner = LearnerId(row.record_id);
    let Some((id_number, _)) = learners::open_sealed(&site.conn, &site.keys, learner)? else {
        return Ok(());
    };
    let Record::Learner(mut record) = Record::parse(row.entity, row.op, &row.payload)
        .map_err(|e| Error::invalid("outbox.payload", e))?
    else {
        return Ok(());
    };
    record.id_number = Some(id_number);
    row.payload = Record::Learner(record).to_payload();
    Ok(())
}

/// The oldest pending rows, as they travel to HQ, that fit in `budget` bytes of JSON (always
/// at least one).
pub fn next_batch(site: &Site, budget: usize) -> Result<Option<PushBatch>> {
    // Only the rows that go out are decrypted for HQ, not the whole window read.
    let rows = outbox::pending(site.conn(), 5_000)?;
    let mut taken: Vec<OutboxRow> = Vec::new();
    let mut size = 0usize;
    for mut row in rows {
        // A batch is one epoch (HQ keeps a high-water mark per device and epoch): rows written
        // after a restore wait until the older epoch's rows are acknowledged.
        if taken.first().is_some_and(|f| f.epoch != row.epoch) {
            break;
        }
        add_id_number(site, &mut row)?;
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
