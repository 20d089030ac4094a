//! The sync client: reaches the credit bank over whatever link exists, exactly once and
//! resumably, or carries the same batches in a signed bundle file. Protocol:
//! `docs/adr/0002-sync-protocol.md`.
//!
//! - [`identity`]: the device's Ed25519 key, kept on the device.
//! - [`client`]: one HTTP request each for hello, enrol, push and pull.
//! - [`outgoing`]: the outbox's rows as they leave for HQ, and the batch window.
//! - [`engine`]: one sync pass (push the outbox, pull the change log), and what is stored.
//! - [`worker`]: the background task with backoff, watchdog and "sync now".
//! - [`status`]: what the UI shows.
//! - [`bundle`]: sync by file.
//! - [`forward`]: carrying another device's signed bundle to HQ and HQ's answer back.
//! - [`discovery`]: finding the site's other laptops on the LAN (mDNS).
//! - [`peer`]: sync between the devices of one site on their LAN, with no internet.

pub mod bundle;
pub mod client;
pub mod discovery;
pub mod engine;
pub mod forward;
pub mod identity;
pub mod outgoing;
pub mod peer;
pub mod status;
pub mod worker;
