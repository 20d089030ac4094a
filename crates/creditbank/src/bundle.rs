//! Sync bundles at HQ: a site's signed bundle file is imported exactly once like a push, and
//! answered with the acknowledgement and the change-log pages after the site's cursor. The
//! signature is checked as for a push; no time window applies (files travel for days), and
//! the high-water mark makes importing the same file twice change nothing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use siteline_proto::PushBatch;
use siteline_proto::sync::{
    ANSWER_FORMAT, BUNDLE_FORMAT, BundleAnswer, SyncBundle, push_signing_string,
};

use crate::store::Store;
use crate::{Error, Result};

/// Most pull pages one answer carries (each up to `PAGE_BYTES`).
const MAX_PAGES: usize = 200;
const PAGE_BYTES: u64 = 1024 * 1024;

/// Imports a bundle and builds the answer.
pub fn answer(store: &dyn Store, bundle: &SyncBundle) -> Result<BundleAnswer> {
    if bundle.format != BUNDLE_FORMAT {
        return Err(Error::Malformed(
            "this is not a Siteline sync bundle".into(),
        ));
    }
    let device = store
        .device(bundle.device_id)?
        .ok_or_else(|| Error::UnknownDevice(bundle.device_id.to_string()))?;
    if device.revoked_at.is_some() {
        return Err(Error::DeviceRevoked(device.id.to_string()));
    }
    let ack = match (&bundle.batch_json, &bundle.signature) {
        (Some(json), Some(sig)) => {
            let batch: PushBatch =
                serde_json::from_str(json).map_err(|e| Error::Malformed(e.to_string()))?;
            let digest: String = Sha256::digest(json.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let message = push_signing_string(
                device.id,
                batch.epoch,
                batch.from_seq,
                batch.to_seq,
                bundle.signed_at_ms,
                &digest,
            );
            let sig = B64
                .decode(sig)
                .ok()
                .and_then(|s| Signature::from_slice(&s).ok())
                .ok_or(Error::BadSignature)?;
            let key =
                VerifyingKey::from_bytes(&device.public_key).map_err(|_| Error::BadSignature)?;
            key.verify_strict(message.as_bytes(), &sig)
                .map_err(|_| Error::BadSignature)?;
            Some(store.push(&device, &batch)?)
        }
        (None, None) => None,
        _ => {
            return Err(Error::Malformed(
                "the bundle has a batch without a signature".into(),
            ));
        }
    };
    let mut pages = Vec::new();
    let mut since = bundle.since;
    for _ in 0..MAX_PAGES {
        let page = store.pull(&device, since, PAGE_BYTES)?;
        let more = page.more;
        since = page.next_cursor;
        pages.push(page);
        if !more {
            break;
        }
    }
    Ok(BundleAnswer {
        format: ANSWER_FORMAT.into(),
        device_id: device.id,
        ack,
        pages,
    })
}
