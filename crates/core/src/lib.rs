//! `siteline-core`: everything the site app does, without Tauri, so the same code runs in the
//! desktop shell, in tests and in command-line tools.
//!
//! The rules it applies (ID checksums, pass rule, credits, attendance, sealing) live in
//! `siteline-domain`, shared with the credit bank.
//!
//! - [`store`]: the offline SQLite store, its outbox and the queries screens need.
//! - [`sync`]: the client that reaches the credit bank over any link, or by bundle file.

pub mod demo;
mod error;
pub mod store;
pub mod sync;

pub use error::{Error, Result};
pub use store::Site;
pub use store::actor::{Actor, Role};
