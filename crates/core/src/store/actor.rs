//! Who is acting: a staff member's id and role, read from the database when they sign in, so a
//! role cannot be claimed by the caller. Every write takes an [`Actor`]; the audit log and the
//! outbox name it. This module owns no table; `staff` creates and signs in accounts.

use serde::Serialize;
use siteline_domain::ids::StaffId;

use crate::{Error, Result};

pub use siteline_proto::vocab::Role;

/// A signed-in staff member, as read from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Actor {
    /// Who.
    pub id: StaffId,
    /// Their role.
    pub role: Role,
}

impl Actor {
    /// Refuses unless the actor is a site manager.
    pub fn require_manager(&self, action: &'static str) -> Result<()> {
        if self.role == Role::SiteManager {
            Ok(())
        } else {
            Err(Error::Forbidden {
                action,
                role: self.role,
            })
        }
    }
}
