//! The outbox (docs/SYNC.md): every local write appends one row here in its own transaction, with
//! `seq` strictly increasing per device and never reused. The sync client reads pending rows
//! and prunes them once HQ acknowledges; this module does not talk to the network.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use siteline_domain::clock;
use siteline_proto::hlc::Hlc;
use siteline_proto::records::Record;
use siteline_proto::{Entity, Op, OutboxRow};
use uuid::Uuid;

use crate::{Error, Result};

/// This device's identity as stored in the `device` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// UUIDv7 made on first open.
    pub device_id: Uuid,
    /// Starts at 1; a restored backup takes the next.
    pub epoch: u32,
    /// The seq the next write will take.
    pub next_seq: u64,
}

pub(crate) fn ensure_device(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO device (singleton, device_id, created_at) VALUES (1, ?1, ?2)",
        params![Uuid::now_v7(), super::now()],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO device_epoch (epoch, started_at) SELECT epoch, created_at FROM device",
        [],
    )?;
    Ok(())
}

/// Reads the device row.
pub fn device(conn: &Connection) -> Result<Device> {
    Ok(
        conn.query_row("SELECT device_id, epoch, next_seq FROM device", [], |r| {
            Ok(Device {
                device_id: r.get(0)?,
                epoch: r.get(1)?,
                next_seq: r.get(2)?,
            })
        })?,
    )
}

/// Appends one operation inside the caller's transaction and returns its seq.
pub fn append(tx: &Transaction<'_>, record_id: Uuid, record: &Record) -> Result<u64> {
    Ok(append_stamped(tx, record_id, record)?.seq)
}

/// An operation as appended: what the site's other devices will receive with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamped {
    /// This device, its writer.
    pub device: Uuid,
    /// Its seq on this device.
    pub seq: u64,
    /// Its clock stamp, which orders it among the operations of every device of the site.
    pub hlc: Hlc,
    /// The device clock when it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// Appends one operation and returns how it was stamped. The operation is logged in
/// `site_event` too.
pub fn append_stamped(tx: &Transaction<'_>, record_id: Uuid, record: &Record) -> Result<Stamped> {
    let (seq, epoch, device_id, last): (u64, u32, Uuid, Option<String>) = tx
        .prepare_cached(
            "UPDATE device SET next_seq = next_seq + 1 RETURNING next_seq - 1, epoch, device_id, hlc",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let now = super::now();
    let hlc = clock::tick(last_stamp(device_id, last)?, now_ms(now));
    tx.prepare_cached("UPDATE device SET hlc = ?1")?
        .execute([hlc.to_string()])?;
    let payload = record.to_payload().to_string();
    let (entity, op) = (record.entity().as_str(), record.op().as_str());
    tx.prepare_cached(
        "INSERT INTO outbox (seq, epoch, entity, op, record_id, payload, recorded_at, hlc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        seq,
        epoch,
        entity,
        op,
        record_id,
        payload,
        now,
        hlc.to_string()
    ])?;
    tx.prepare_cached(
        "INSERT INTO site_event (device_id, epoch, seq, entity, op, record_id, hlc, recorded_at, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        device_id,
        epoch,
        seq,
        entity,
        op,
        record_id,
        hlc.to_string(),
        now,
        payload
    ])?;
    Ok(Stamped {
        device: device_id,
        seq,
        hlc,
        recorded_at: now,
    })
}

/// Moves this device's clock past `remote`, a stamp another device wrote (docs/SYNC.md).
pub(crate) fn observe(tx: &Transaction<'_>, remote: Hlc) -> Result<()> {
    let (device_id, last): (Uuid, Option<String>) = tx
        .prepare_cached("SELECT device_id, hlc FROM device")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let next = clock::observe(last_stamp(device_id, last)?, remote, now_ms(super::now()));
    tx.prepare_cached("UPDATE device SET hlc = ?1")?
        .execute([next.to_string()])?;
    Ok(())
}

fn last_stamp(device_id: Uuid, stored: Option<String>) -> Result<Hlc> {
    match stored {
        None => Ok(Hlc::zero(device_id)),
        Some(text) => parse_stamp(&text),
    }
}

/// A stored stamp, parsed.
pub(crate) fn parse_stamp(text: &str) -> Result<Hlc> {
    text.parse()
        .map_err(|e: siteline_proto::hlc::HlcParseError| Error::invalid("device.hlc", e))
}

fn now_ms(now: DateTime<Utc>) -> u64 {
    // A clock set before 1970 counts as 1970: stamps then order by counter alone.
    u64::try_from(now.timestamp_millis()).unwrap_or(0)
}

/// The oldest `limit` unacknowledged operations, in seq order.
pub fn pending(conn: &Connection, limit: usize) -> Result<Vec<OutboxRow>> {
    let dev = device(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, epoch, entity, op, record_id, payload, recorded_at, hlc
         FROM outbox ORDER BY seq LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok((
            r.get::<_, u64>(0)?,
            r.get::<_, u32>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Uuid>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, DateTime<Utc>>(6)?,
            r.get::<_, String>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, epoch, entity, op, record_id, payload, recorded_at, hlc) = row?;
        let entity = Entity::parse(&entity)
            .ok_or_else(|| Error::invalid("outbox.entity", format!("unknown entity {entity}")))?;
        let op = Op::parse(&op)
            .ok_or_else(|| Error::invalid("outbox.op", format!("unknown op {op}")))?;
        out.push(OutboxRow {
            device_id: dev.device_id,
            epoch,
            seq,
            entity,
            op,
            record_id,
            payload: serde_json::from_str(&payload)?,
            recorded_at,
            hlc: parse_stamp(&hlc)?,
        });
    }
    Ok(out)
}

/// How many operations wait for HQ, and when the oldest was recorded.
pub fn pending_summary(conn: &Connection) -> Result<(u64, Option<DateTime<Utc>>)> {
    let count: u64 = conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
    let oldest = conn
        .query_row(
            "SELECT recorded_at FROM outbox ORDER BY seq LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok((count, oldest))
}

/// Removes rows HQ acknowledged (seq ≤ `through`); the outbox never grows without bound.
/// Rows of `epoch` through `through`: HQ's high-water mark for one epoch says nothing about
/// another epoch's rows that happen to share seq numbers.
pub fn prune_through(tx: &Transaction<'_>, epoch: u32, through: u64) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM outbox WHERE epoch = ?1 AND seq <= ?2",
        params![epoch, through],
    )?)
}

/// Prunes acknowledged rows in a transaction of its own.
pub fn acknowledge(site: &mut super::Site, epoch: u32, through: u64) -> Result<usize> {
    let (tx, _) = site.write()?;
    let n = prune_through(&tx, epoch, through)?;
    tx.commit()?;
    Ok(n)
}

/// True when some operation on `record_id` still waits for HQ.
pub fn is_pending(conn: &Connection, record_id: Uuid) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM outbox WHERE record_id = ?1 LIMIT 1")?
        .exists([record_id])?)
}
