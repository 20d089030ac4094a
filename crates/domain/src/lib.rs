//! `siteline-domain`: the rules the site app and the credit bank both apply, in one place.
//! Terms: a *rule* decides from facts (scores, minutes, a number's digits) without storage;
//! the stores gather the facts and record the outcome. Nothing here opens a database or a
//! socket; the only I/O is reading and writing a 32-byte key file.
//!
//! - [`ids`]: newtype ids (UUIDv7) for site records.
//! - [`resident_id`], [`person`]: identity numbers, names, phone numbers, masking.
//! - [`scores`]: scores, levels, rubrics and the pass rule; [`attendance`]: minutes and
//!   eligibility; [`credits`]: exact credit amounts; [`certificate`]: certificate numbers.
//! - [`clock`]: the hybrid logical clock that orders events across a site's devices.
//! - [`crypto`]: sealing personal fields and blind indexes.
//! - [`Rule`]: the rules an input can break, with their parameters, for the UI to word.
//! - [`seed`]: the seed catalogue as a wire [`siteline_proto::catalogue::Catalogue`].

pub mod attendance;
pub mod certificate;
pub mod clock;
pub mod credits;
pub mod crypto;
mod error;
pub mod ids;
pub mod person;
pub mod resident_id;
mod rule;
pub mod scores;
pub mod seed;

pub use error::{Error, Result};
pub use rule::Rule;
