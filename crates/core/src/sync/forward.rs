//! Store and forward to HQ: a device of the site that has no link hands its pending operations,
//! as a bundle it signed, to a laptop of the site on the LAN; that laptop delivers it to HQ on
//! its next sync (HQ applies it exactly once, like a push, and the writer's signature says who
//! wrote it) and carries HQ's answer back on a later LAN sync, when the writer applies it (its
//! outbox is pruned; the answer is HQ-signed for the writer, so the carrier cannot forge it).

use rusqlite::params;
use siteline_proto::sync::{BundleAnswer, SyncBundle};
use uuid::Uuid;

use super::client::HqClient;
use crate::store::Site;
use crate::store::db::Db;
use crate::{Error, Result};

/// Keeps a bundle another device handed over, to deliver to HQ (once, whatever happens).
pub fn keep_bundle(site: &Site, bundle: &SyncBundle) -> Result<()> {
    site.conn().execute(
        "INSERT OR IGNORE INTO forward_bundle (signature, device_id, bundle_json, received_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            bundle.signature,
            bundle.device_id,
            serde_json::to_string(bundle)?,
            crate::store::now()
        ],
    )?;
    Ok(())
}

/// HQ's answers this device carries for `device`.
pub fn answers_for(site: &Site, device: Uuid) -> Result<Vec<BundleAnswer>> {
    let rows: Vec<String> = site
        .conn()
        .prepare_cached("SELECT answer_json FROM forward_answer WHERE device_id = ?1")?
        .query_map([device], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    rows.iter().map(|j| Ok(serde_json::from_str(j)?)).collect()
}

/// The writer has its answers: they are not carried any more.
pub fn delivered_answers(site: &Site, device: Uuid) -> Result<()> {
    site.conn()
        .execute("DELETE FROM forward_answer WHERE device_id = ?1", [device])?;
    Ok(())
}

/// Delivers every bundle this device carries to HQ and keeps HQ's answers for their writers.
/// A bundle HQ refuses (already delivered by another carrier, too old) is dropped: its rows are
/// at HQ or will come with the writer's own sync. Returns how many were delivered.
pub async fn deliver(db: &Db, client: &HqClient) -> Result<u32> {
    let carried: Vec<(String, String)> = db
        .call(|site| {
            Ok(site
                .conn()
                .prepare_cached("SELECT signature, bundle_json FROM forward_bundle")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await?;
    let mut delivered = 0;
    for (signature, json) in carried {
        let bundle: SyncBundle = serde_json::from_str(&json)?;
        let answer = match client.post_bundle(&bundle).await {
            Ok(answer) => Some(answer),
            Err(Error::Refused { .. }) => None,
            Err(e) => return Err(e),
        };
        db.call(move |site| {
            let tx = site.conn().unchecked_transaction()?;
            if let Some(answer) = &answer {
                tx.execute(
                    "INSERT OR REPLACE INTO forward_answer (bundle, device_id, answer_json, received_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        answer.bundle,
                        answer.device_id,
                        serde_json::to_string(answer)?,
                        crate::store::now()
                    ],
                )?;
            }
            tx.execute("DELETE FROM forward_bundle WHERE signature = ?1", [&signature])?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        delivered += 1;
    }
    Ok(delivered)
}
