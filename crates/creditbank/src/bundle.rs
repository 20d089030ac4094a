//! Sync bundles at HQ: a site's bundle file is signed by its device (always, even with nothing
//! pending, so nobody else can ask for the site's change log), imported once like a push, and
//! answered with the acknowledgement and the change-log pages after the site's cursor, signed
//! by HQ and bound to the bundle. Files travel for days, so the age limit is
//! [`BUNDLE_MAX_AGE_MS`] rather than a push's minutes; a bundle imported twice is refused as a
//! replay (its rows are applied once whatever happens, by the high-water mark).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use sha2::{Digest, Sha256};
use siteline_proto::PushBatch;
use siteline_proto::sync::{
    ANSWER_FORMAT, AnswerBody, BUNDLE_FORMAT, BundleAnswer, SyncBundle, answer_signing_string,
    bundle_signing_string,
};

use crate::store::Store;
use crate::{DEFAULT_WINDOW_MS, Error, Result};

/// Most pull pages one answer carries (each up to `PAGE_BYTES`).
const MAX_PAGES: usize = 200;
const PAGE_BYTES: u64 = 1024 * 1024;

/// The oldest bundle HQ imports: 30 days after it was signed.
pub const BUNDLE_MAX_AGE_MS: i64 = 30 * 24 * 3600 * 1000;

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the bundle (format, device, signature, age, replay), imports its batch and builds the
/// signed answer. Nothing is written unless every check passes.
pub fn answer(store: &dyn Store, bundle: &SyncBundle, now_ms: i64) -> Result<BundleAnswer> {
    if bundle.format != BUNDLE_FORMAT {
        return Err(Error::Malformed(format!(
            "this is not a Siteline sync bundle of this version ({}); export it again with an up-to-date Siteline",
            BUNDLE_FORMAT
        )));
    }
    let device = store
        .device(bundle.device_id)?
        .ok_or_else(|| Error::UnknownDevice(bundle.device_id.to_string()))?;
    if device.revoked_at.is_some() {
        return Err(Error::DeviceRevoked(device.id.to_string()));
    }
    let batch_json = bundle.batch_json.as_deref().unwrap_or("");
    let message = bundle_signing_string(
        device.id,
        bundle.since,
        bundle.signed_at_ms,
        bundle.seq_range.as_deref(),
        &hex(&Sha256::digest(batch_json.as_bytes())),
    );
    let signature = B64
        .decode(bundle.signature.trim())
        .ok()
        .and_then(|s| Signature::from_slice(&s).ok())
        .ok_or(Error::BadSignature)?;
    VerifyingKey::from_bytes(&device.public_key)
        .map_err(|_| Error::BadSignature)?
        .verify_strict(message.as_bytes(), &signature)
        .map_err(|_| Error::BadSignature)?;
    let age = now_ms - bundle.signed_at_ms;
    if !(-DEFAULT_WINDOW_MS..=BUNDLE_MAX_AGE_MS).contains(&age) {
        return Err(Error::StaleTimestamp {
            skew_s: -age / 1000,
            window_s: BUNDLE_MAX_AGE_MS / 1000,
        });
    }
    let batch = match &bundle.batch_json {
        None if bundle.seq_range.is_none() => None,
        None => {
            return Err(Error::Malformed(
                "the bundle names a range but carries no batch".into(),
            ));
        }
        Some(json) => {
            let batch: PushBatch =
                serde_json::from_str(json).map_err(|e| Error::Malformed(e.to_string()))?;
            let range = format!("{}:{}-{}", batch.epoch, batch.from_seq, batch.to_seq);
            if bundle.seq_range.as_deref() != Some(range.as_str()) {
                return Err(Error::Malformed(
                    "the bundle's signed range does not match its batch".into(),
                ));
            }
            Some(batch)
        }
    };
    let signature = signature.to_bytes();
    if !store.note_signature(
        &signature,
        now_ms,
        bundle.signed_at_ms + BUNDLE_MAX_AGE_MS + DEFAULT_WINDOW_MS,
    )? {
        return Err(Error::Replayed);
    }
    let ack = batch.map(|b| store.push(&device, &b)).transpose()?;
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
    let body = serde_json::to_string(&AnswerBody { ack, pages })?;
    let answered = hex(&Sha256::digest(signature));
    let hq_signature = store.signing_key().sign(
        answer_signing_string(device.id, &answered, &hex(&Sha256::digest(body.as_bytes())))
            .as_bytes(),
    );
    Ok(BundleAnswer {
        format: ANSWER_FORMAT.into(),
        device_id: device.id,
        bundle: answered,
        body,
        signature: B64.encode(hq_signature.to_bytes()),
    })
}
