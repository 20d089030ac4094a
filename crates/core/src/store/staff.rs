//! Staff accounts and roles. An [`Actor`] is only made from the database (by signing in or
//! by id), so a role cannot be claimed by the caller: core checks it on every write.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use siteline_proto::Op;
use siteline_proto::records::{self, Record};

use super::actor::{Actor, Role};
use super::{Site, audit, outbox};
use crate::{Error, Result};
use siteline_domain::Rule;
use siteline_domain::ids::StaffId;
use siteline_domain::person::validate_name;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A new staff account.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewStaff {
    /// Sign-in name (unique, case-insensitive).
    pub username: String,
    /// Name shown on screen and in reports.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Password in clear; only its argon2 hash is kept.
    pub password: String,
}

/// Creates the first site manager on a fresh site; refused once any account exists.
pub fn create_first_manager(site: &mut Site, new: &NewStaff) -> Result<Actor> {
    if new.role != Role::SiteManager {
        return Err(Error::rule("staff.role", Rule::FirstAccountManager));
    }
    let exists: bool = site.conn.prepare("SELECT 1 FROM staff_user")?.exists([])?;
    if exists {
        return Err(Error::Duplicate {
            what: "first site manager",
            detail: "this site already has accounts; sign in as its site manager".into(),
        });
    }
    insert_staff(site, None, new)
}

/// Adds a staff account (site manager only).
pub fn create_staff(site: &mut Site, actor: &Actor, new: &NewStaff) -> Result<Actor> {
    actor.require_manager("manage users")?;
    insert_staff(site, Some(actor), new)
}

fn insert_staff(site: &mut Site, actor: Option<&Actor>, new: &NewStaff) -> Result<Actor> {
    let username = new.username.trim();
    if username.is_empty() || username.chars().any(char::is_whitespace) {
        return Err(Error::rule("staff.username", Rule::UsernameOneWord));
    }
    let display_name = validate_name("staff.display_name", &new.display_name)?;
    let hash = hash_password(&new.password)?;
    let (tx, _) = site.write()?;
    let taken: bool = tx
        .prepare_cached("SELECT 1 FROM staff_user WHERE username = ?1")?
        .exists([username])?;
    if taken {
        return Err(Error::Duplicate {
            what: "sign-in name",
            detail: format!("{username} is already used; choose another"),
        });
    }
    let id = StaffId::new();
    tx.execute(
        "INSERT INTO staff_user (id, username, display_name, role, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            username,
            display_name,
            new.role.as_str(),
            hash,
            super::now()
        ],
    )?;
    let record = records::StaffUser {
        username: username.into(),
        display_name: display_name.clone(),
        role: new.role,
        active: true,
        site_sealed: None,
    };
    outbox::append(&tx, id.0, &Record::StaffUser(Op::Insert, record))?;
    let created = Actor { id, role: new.role };
    audit::record(
        &tx,
        actor.or(Some(&created)),
        "create_staff",
        Some(("staff_user", id.0)),
        username,
    )?;
    tx.commit()?;
    Ok(created)
}

fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::rule(
            "staff.password",
            Rule::PasswordTooShort {
                limit: MIN_PASSWORD_CHARS as u32,
            },
        ));
    }
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Crypto(format!("hashing the password failed: {e}")))?
        .to_string())
}

/// Enables or disables an account (site manager only). A manager cannot disable their own
/// account, and the site always keeps one active site manager.
pub fn set_active(site: &mut Site, actor: &Actor, staff: StaffId, active: bool) -> Result<()> {
    actor.require_manager("manage users")?;
    if !active && staff == actor.id {
        return Err(Error::rule("staff.active", Rule::CannotDisableSelf));
    }
    let (tx, _) = site.write()?;
    let row: Option<(String, String, String)> = tx
        .query_row(
            "SELECT username, display_name, role FROM staff_user WHERE id = ?1",
            [staff],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((username, display_name, role)) = row else {
        return Err(Error::not_found("staff member", staff));
    };
    let role = Role::parse(&role).ok_or_else(|| Error::invalid("staff.role", role))?;
    tx.execute(
        "UPDATE staff_user SET active = ?2 WHERE id = ?1",
        params![staff, active],
    )?;
    let managers: i64 = tx.query_row(
        "SELECT count(*) FROM staff_user WHERE role = 'site_manager' AND active = 1",
        [],
        |r| r.get(0),
    )?;
    if managers == 0 {
        return Err(Error::rule("staff.active", Rule::LastManager));
    }
    let record = records::StaffUser {
        username: username.clone(),
        display_name: display_name.clone(),
        role,
        active,
        site_sealed: None,
    };
    outbox::append(&tx, staff.0, &Record::StaffUser(Op::Update, record))?;
    let what = if active {
        "enable_staff"
    } else {
        "disable_staff"
    };
    audit::record(
        &tx,
        Some(actor),
        what,
        Some(("staff_user", staff.0)),
        &username,
    )?;
    tx.commit()?;
    Ok(())
}

/// Sets a new password for an account (site manager only); the old one stops working at once.
pub fn reset_password(
    site: &mut Site,
    actor: &Actor,
    staff: StaffId,
    password: &str,
) -> Result<()> {
    actor.require_manager("reset passwords")?;
    let hash = hash_password(password)?;
    let (tx, _) = site.write()?;
    let changed = tx.execute(
        "UPDATE staff_user SET password_hash = ?2 WHERE id = ?1",
        params![staff, hash],
    )?;
    if changed == 0 {
        return Err(Error::not_found("staff member", staff));
    }
    // The site's other devices take the new password too (sealed as the row leaves).
    let record = stored_record(&tx, staff)?;
    outbox::append(&tx, staff.0, &Record::StaffUser(Op::Update, record))?;
    audit::record(
        &tx,
        Some(actor),
        "reset_password",
        Some(("staff_user", staff.0)),
        "",
    )?;
    tx.commit()?;
    Ok(())
}

/// The account as the outbox carries it (never the password hash).
fn stored_record(conn: &Connection, staff: StaffId) -> Result<records::StaffUser> {
    let (username, display_name, role, active): (String, String, String, bool) = conn.query_row(
        "SELECT username, display_name, role, active FROM staff_user WHERE id = ?1",
        [staff],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    Ok(records::StaffUser {
        username,
        display_name,
        role: Role::parse(&role).ok_or_else(|| Error::invalid("staff.role", role))?,
        active,
        site_sealed: None,
    })
}

/// The account's password hash sealed under the site key, for the site's other devices (so
/// the person signs in on any of them); `None` for an account not in this store.
pub(crate) fn seal_password(
    conn: &Connection,
    keys: &siteline_domain::crypto::SiteKeys,
    staff: uuid::Uuid,
) -> Result<Option<String>> {
    use base64::Engine;
    let hash: Option<String> = conn
        .prepare_cached("SELECT password_hash FROM staff_user WHERE id = ?1")?
        .query_row([staff], |r| r.get(0))
        .optional()?;
    hash.map(|h| {
        let sealed = keys.seal_for_site(&password_aad(staff), h.as_bytes())?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
    })
    .transpose()
}

/// Opens a password hash another device of the site sealed; `None` when it does not open
/// (another site key), and the account then cannot sign in here.
pub(crate) fn open_password(
    keys: &siteline_domain::crypto::SiteKeys,
    staff: uuid::Uuid,
    sealed: &str,
) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .ok()?;
    let opened = keys.open_from_site(&password_aad(staff), &bytes).ok()?;
    String::from_utf8(opened).ok()
}

fn password_aad(staff: uuid::Uuid) -> Vec<u8> {
    [b"staff-password/".as_slice(), staff.as_bytes()].concat()
}

/// Checks a password; the same error for an unknown name and a wrong password.
pub fn sign_in(conn: &Connection, username: &str, password: &str) -> Result<Actor> {
    let username = username.trim();
    let now = super::now();
    let locked: Option<DateTime<Utc>> = conn
        .prepare_cached("SELECT locked_until FROM sign_in_throttle WHERE username = ?1")?
        .query_row([username], |r| r.get(0))
        .optional()?
        .flatten();
    if let Some(until) = locked.filter(|u| *u > now) {
        let seconds = (until - now).num_seconds().max(1) as u64;
        return Err(Error::rule("sign_in", Rule::SignInThrottled { seconds }));
    }
    // Usually one account. Two laptops that had not synced may each have given the name to a
    // new account: both are kept, and each signs in with its own password.
    let accounts: Vec<(StaffId, String, String, bool)> = conn
        .prepare_cached(
            "SELECT id, role, password_hash, active FROM staff_user WHERE username = ?1
             ORDER BY id",
        )?
        .query_map([username], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    // An account from another device whose password did not arrive (`!`) matches nothing.
    let matching = accounts.into_iter().find(|(_, _, hash, _)| {
        PasswordHash::new(hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    });
    let Some((id, role, _, active)) = matching else {
        note_failure(conn, username, now)?;
        return Err(Error::rule("sign_in", Rule::SignInWrong));
    };
    conn.prepare_cached("DELETE FROM sign_in_throttle WHERE username = ?1")?
        .execute([username])?;
    if !active {
        return Err(Error::rule("sign_in", Rule::AccountDisabled));
    }
    let role = Role::parse(&role).ok_or_else(|| Error::invalid("staff.role", role))?;
    Ok(Actor { id, role })
}

/// Wrong passwords a sign-in name may try before it has to wait.
pub const FREE_SIGN_IN_FAILURES: u32 = 5;

/// Counts a wrong password; from the fifth on, the name waits 30 s, doubling to 15 min.
fn note_failure(conn: &Connection, username: &str, now: DateTime<Utc>) -> Result<()> {
    let failures: u32 = conn
        .prepare_cached(
            "INSERT INTO sign_in_throttle (username, failures) VALUES (?1, 1)
             ON CONFLICT (username) DO UPDATE SET failures = failures + 1
             RETURNING failures",
        )?
        .query_row([username], |r| r.get(0))?;
    if failures >= FREE_SIGN_IN_FAILURES {
        let wait = (30i64 << (failures - FREE_SIGN_IN_FAILURES).min(5)).min(15 * 60);
        conn.prepare_cached("UPDATE sign_in_throttle SET locked_until = ?2 WHERE username = ?1")?
            .execute(params![username, now + chrono::Duration::seconds(wait)])?;
    }
    Ok(())
}

/// What a signed-in session remembers of its account, to notice when the account is disabled
/// or its password reset: `None` for a disabled or missing account.
pub fn session_stamp(conn: &Connection, id: StaffId) -> Result<Option<String>> {
    let row: Option<(bool, String)> = conn
        .prepare_cached("SELECT active, password_hash FROM staff_user WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.filter(|(active, _)| *active).map(|(_, hash)| {
        use sha2::Digest;
        sha2::Sha256::digest(hash.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }))
}

/// Loads an active staff member as an actor (e.g. to resume a signed-in session).
pub fn actor(conn: &Connection, id: StaffId) -> Result<Actor> {
    let row: Option<(String, bool)> = conn
        .prepare_cached("SELECT role, active FROM staff_user WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        Some((role, true)) => Ok(Actor {
            id,
            role: Role::parse(&role).ok_or_else(|| Error::invalid("staff.role", role))?,
        }),
        Some((_, false)) => Err(Error::rule("staff", Rule::AccountDisabled)),
        None => Err(Error::not_found("staff member", id)),
    }
}

/// A staff account as the users screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StaffSummary {
    /// Id.
    pub id: StaffId,
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Can sign in.
    pub active: bool,
}

/// Every account, by name.
pub fn list(conn: &Connection) -> Result<Vec<StaffSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, username, display_name, role, active FROM staff_user ORDER BY display_name, username",
    )?;
    let rows = stmt.query_map([], |r| {
        let role: String = r.get(3)?;
        Ok(StaffSummary {
            id: r.get(0)?,
            username: r.get(1)?,
            display_name: r.get(2)?,
            role: Role::parse(&role).unwrap_or(Role::Instructor),
            active: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The display name of an account.
pub fn display_name(conn: &Connection, id: StaffId) -> Result<String> {
    conn.query_row(
        "SELECT display_name FROM staff_user WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| Error::not_found("staff member", id))
}

/// True before the first account exists (the first-run screen).
pub fn is_first_run(conn: &Connection) -> Result<bool> {
    Ok(!conn
        .prepare_cached("SELECT 1 FROM staff_user")?
        .exists([])?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn manager(site: &mut Site) -> Actor {
        create_first_manager(
            site,
            &NewStaff {
                username: "manager".into(),
                display_name: "李站长".into(),
                role: Role::SiteManager,
                password: "correct horse".into(),
            },
        )
        .unwrap()
    }

    pub(crate) fn instructor(site: &mut Site, by: &Actor) -> Actor {
        create_staff(
            site,
            by,
            &NewStaff {
                username: "teacher".into(),
                display_name: "王老师".into(),
                role: Role::Instructor,
                password: "teach1234".into(),
            },
        )
        .unwrap()
    }

    #[test]
    fn first_manager_then_sign_in_with_argon2() {
        let mut site = Site::open_in_memory().unwrap();
        let m = manager(&mut site);
        assert_eq!(sign_in(site.conn(), "MANAGER", "correct horse").unwrap(), m);
        assert!(sign_in(site.conn(), "manager", "wrong horse").is_err());
        assert!(sign_in(site.conn(), "nobody", "correct horse").is_err());
        let hash: String = site
            .conn()
            .query_row("SELECT password_hash FROM staff_user", [], |r| r.get(0))
            .unwrap();
        assert!(hash.starts_with("$argon2"));
        // The hash never goes to the outbox.
        let payload: String = site
            .conn()
            .query_row("SELECT payload FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert!(!payload.contains("argon2"));
        assert!(
            create_first_manager(
                &mut site,
                &NewStaff {
                    username: "b".into(),
                    ..new_mgr()
                }
            )
            .is_err()
        );
    }

    fn new_mgr() -> NewStaff {
        NewStaff {
            username: "m".into(),
            display_name: "m".into(),
            role: Role::SiteManager,
            password: "12345678".into(),
        }
    }

    #[test]
    fn only_a_manager_manages_users() {
        let mut site = Site::open_in_memory().unwrap();
        let m = manager(&mut site);
        let t = instructor(&mut site, &m);
        let err = create_staff(
            &mut site,
            &t,
            &NewStaff {
                username: "x".into(),
                ..new_mgr()
            },
        )
        .unwrap_err();
        assert_eq!(err.kind(), "forbidden");
        assert!(err.to_string().contains("instructor may not manage users"));
    }

    #[test]
    fn bad_staff_input_is_refused_by_field() {
        let mut site = Site::open_in_memory().unwrap();
        let m = manager(&mut site);
        let cases = [
            (
                NewStaff {
                    username: "a b".into(),
                    ..new_mgr()
                },
                "staff.username",
            ),
            (
                NewStaff {
                    display_name: " ".into(),
                    ..new_mgr()
                },
                "staff.display_name",
            ),
            (
                NewStaff {
                    password: "short".into(),
                    ..new_mgr()
                },
                "staff.password",
            ),
            (
                NewStaff {
                    username: "Manager".into(),
                    ..new_mgr()
                },
                "sign-in name",
            ),
        ];
        for (input, needle) in cases {
            let err = create_staff(&mut site, &m, &input).unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
        let count: i64 = site
            .conn()
            .query_row("SELECT count(*) FROM staff_user", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1);
    }
}
