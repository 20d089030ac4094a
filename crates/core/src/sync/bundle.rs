//! Sync by file when there is no link at all: everything pending is exported as one signed
//! bundle (the same batch and signature a push would use); HQ imports it exactly once like a
//! push and writes an answer file (acknowledgement and pull pages) that the site imports.
//! Importing the same answer twice changes nothing.

use std::path::Path;

use sha2::{Digest, Sha256};
use siteline_proto::sync::{
    ANSWER_FORMAT, BUNDLE_FORMAT, BundleAnswer, SyncBundle, push_signing_string,
};
use uuid::Uuid;

use super::client::hex;
use super::engine::{apply_ack, apply_page, cursor};
use super::identity::Identity;
use super::outgoing::next_batch;
use crate::store::{Site, outbox};
use crate::{Error, Result};

/// Builds a bundle of everything pending, signed by the device.
pub fn export(site: &Site, identity: &Identity) -> Result<SyncBundle> {
    let device = outbox::device(site.conn())?;
    let batch = next_batch(site, usize::MAX)?;
    let signed_at_ms = crate::store::now().timestamp_millis();
    let (batch_json, seq_range, signature) = match batch {
        None => (None, None, None),
        Some(b) => {
            let json = serde_json::to_string(&b)?;
            let digest = hex(&Sha256::digest(json.as_bytes()));
            let signature = identity.sign(&push_signing_string(
                device.device_id,
                b.epoch,
                b.from_seq,
                b.to_seq,
                signed_at_ms,
                &digest,
            ));
            (
                Some(json),
                Some(format!("{}:{}-{}", b.epoch, b.from_seq, b.to_seq)),
                Some(signature),
            )
        }
    };
    Ok(SyncBundle {
        format: BUNDLE_FORMAT.into(),
        device_id: device.device_id,
        since: cursor(site)?,
        batch_json,
        seq_range,
        signed_at_ms,
        signature,
    })
}

/// Writes a bundle or answer file (owner-only: a bundle holds personal data).
pub fn write_file<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value)?;
    if path.exists() {
        std::fs::remove_file(path).map_err(Error::io(path))?;
    }
    siteline_domain::crypto::write_private(path, &bytes).map_err(Error::io(path))
}

/// Reads HQ's answer file.
pub fn read_answer(path: &Path) -> Result<BundleAnswer> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    let answer: BundleAnswer = serde_json::from_slice(&bytes).map_err(|e| {
        Error::invalid(
            "sync.answer_file",
            format!("this is not a credit bank answer file ({e}); choose the file HQ returned"),
        )
    })?;
    if answer.format != ANSWER_FORMAT {
        return Err(Error::invalid(
            "sync.answer_file",
            "this is not a credit bank answer file; choose the file HQ returned",
        ));
    }
    Ok(answer)
}

/// Applies HQ's answer: prunes what it acknowledged and applies its pages with their cursors.
pub fn import_answer(site: &mut Site, answer: &BundleAnswer) -> Result<()> {
    let device: Uuid = outbox::device(site.conn())?.device_id;
    if answer.device_id != device {
        return Err(Error::invalid(
            "sync.answer_file",
            "this answer belongs to another device; import it on the computer that exported the bundle",
        ));
    }
    if let Some(ack) = &answer.ack {
        apply_ack(site, ack)?;
    }
    for page in &answer.pages {
        apply_page(site, device, page)?;
    }
    Ok(())
}
