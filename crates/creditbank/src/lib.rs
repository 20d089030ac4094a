//! The credit bank (学分银行): the headquarters server that sites sync with. It receives what
//! sites record, accredits outcomes, posts credits and publishes the catalogue.
//!
//! This crate so far only fixes the protocol version it will speak; the server itself is the
//! subject of its own issue.

/// The sync protocol version the credit bank speaks (the same as the sites').
pub const PROTOCOL_VERSION: u32 = siteline_proto::PROTOCOL_VERSION;
