//! `siteline-core`: everything the site app does, without Tauri, so the same code runs in the
//! desktop shell, in tests and in command-line tools.
//!
//! - [`domain`]: pure rules (ID checksums, pass rules, credits, attendance arithmetic).
//! - [`crypto`]: field encryption and blind indexes for personal data.
//! - [`store`]: the offline SQLite store, its outbox and the queries screens need.
//! - [`sync`]: the client that reaches the credit bank over any link, or by bundle file.

pub mod crypto;
pub mod domain;
mod error;
pub mod ids;
pub mod store;
pub mod sync;
pub mod testing;

pub use error::{Error, Result};
pub use store::Site;
pub use store::staff::{Actor, Role};
