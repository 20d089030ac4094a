//! Sync by file when there is no link at all: everything pending is exported as one bundle
//! signed by the device (always, even with nothing pending); HQ imports it once like a push and
//! writes an answer file (acknowledgement and pull pages) signed by HQ and bound to that
//! bundle, which the site verifies with the HQ key pinned at enrolment before importing.
//! Importing the same answer twice changes nothing.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use siteline_proto::sync::{
    ANSWER_FORMAT, AnswerBody, BUNDLE_FORMAT, BundleAnswer, SyncBundle, bundle_signing_string,
};
use uuid::Uuid;

use super::client::{hex, verify_answer};
use super::engine::{apply_ack, apply_page, cursor, pinned_hq_key};
use super::identity::Identity;
use super::outgoing::{mark_sent, next_batch};
use crate::store::{Site, outbox};
use crate::{Error, Result};

/// Builds a bundle of everything pending with the device's cursor, signed by the device (even
/// when nothing is pending), and remembers what it covered so HQ's answer can be checked.
pub fn export(site: &Site, identity: &Identity) -> Result<SyncBundle> {
    export_within(site, identity, usize::MAX)
}

/// A bundle of the oldest pending operations that fit in `budget` bytes of JSON (at least
/// one), signed like [`export`]: what a laptop hands another to carry to HQ.
pub fn export_within(site: &Site, identity: &Identity, budget: usize) -> Result<SyncBundle> {
    let device = outbox::device(site.conn())?;
    let batch = next_batch(site, budget)?;
    if let Some(b) = &batch {
        mark_sent(site, b)?;
    }
    let signed_at_ms = crate::store::now().timestamp_millis();
    let since = cursor(site)?;
    let batch_json = batch.as_ref().map(serde_json::to_string).transpose()?;
    let seq_range = batch
        .as_ref()
        .map(|b| format!("{}:{}-{}", b.epoch, b.from_seq, b.to_seq));
    let digest = hex(&Sha256::digest(
        batch_json.as_deref().unwrap_or("").as_bytes(),
    ));
    let signature = identity.sign(&bundle_signing_string(
        device.device_id,
        since,
        signed_at_ms,
        seq_range.as_deref(),
        &digest,
    ));
    site.conn().execute(
        "INSERT OR REPLACE INTO bundle_sent (signature_sha256, epoch, to_seq, exported_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            signature_sha256(&signature),
            batch.as_ref().map(|b| b.epoch),
            batch.as_ref().map(|b| b.to_seq),
            crate::store::now()
        ],
    )?;
    Ok(SyncBundle {
        format: BUNDLE_FORMAT.into(),
        device_id: device.device_id,
        since,
        batch_json,
        seq_range,
        signed_at_ms,
        signature,
    })
}

fn signature_sha256(signature_b64: &str) -> String {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(signature_b64)
        .unwrap_or_default();
    hex(&Sha256::digest(&raw))
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

/// Applies HQ's answer after checking it: for this device, signed by the HQ key pinned at
/// enrolment, for a bundle this device exported, acknowledging no more than that bundle
/// carried. Then prunes what it acknowledged and applies its pages with their cursors.
pub fn import_answer(site: &mut Site, answer: &BundleAnswer) -> Result<()> {
    let refuse =
        |why: &str| Error::invalid("sync.answer_file", format!("{why}; nothing was imported"));
    let device: Uuid = outbox::device(site.conn())?.device_id;
    if answer.device_id != device {
        return Err(refuse(
            "this answer belongs to another device; import it on the computer that exported the bundle",
        ));
    }
    let sent: Option<Option<u32>> = site
        .conn()
        .query_row(
            "SELECT epoch FROM bundle_sent WHERE signature_sha256 = ?1",
            [&answer.bundle],
            |r| r.get(0),
        )
        .optional()?;
    let Some(epoch) = sent else {
        return Err(refuse(
            "this answer is not for a bundle this device exported",
        ));
    };
    let key = pinned_hq_key(site)?
        .map(|k| VerifyingKey::from_bytes(&k))
        .transpose()
        .map_err(|_| refuse("the pinned HQ key is damaged; enrol the device again"))?;
    // The answer is bound to the bundle's signature, whose hash it names.
    verify_answer(
        key.as_ref(),
        device,
        &answer.bundle,
        Some(&answer.signature),
        answer.body.as_bytes(),
    )
    .map_err(|e| refuse(&e.to_string()))?;
    let body: AnswerBody = serde_json::from_str(&answer.body)
        .map_err(|e| refuse(&format!("the answer's body is unreadable ({e})")))?;
    if let Some(ack) = &body.ack {
        let Some(epoch) = epoch else {
            return Err(refuse(
                "the answer acknowledges rows but the bundle carried none",
            ));
        };
        apply_ack(site, ack, epoch)?;
    }
    for page in &body.pages {
        apply_page(site, device, page)?;
    }
    Ok(())
}
