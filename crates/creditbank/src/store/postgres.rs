//! The credit bank on PostgreSQL, for a national HQ: a pool of connections (r2d2), each
//! transaction at READ COMMITTED, with the locks of [`Lock`] taken where the rules need them
//! (ADR 0006): a site's writers take turns on the site's log (transaction-scoped advisory
//! locks), a person's claims are judged one at a time (the account row's lock), numbers come
//! from sequences and counter rows. A transaction that PostgreSQL aborts as a deadlock or a
//! serialization failure runs again from the start.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::error::Error as StdError;

use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, IsolationLevel, NoTls, Statement};
use uuid::Uuid;

use super::sql::{Database, Dialect, Lock, Row, Tx, Value};
use crate::{Error, Result};

/// The schema, in order; `schema_version` holds how many are applied.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_credit_bank.sql"),
    include_str!("../../migrations/postgres/0002_credentials.sql"),
    include_str!("../../migrations/postgres/0003_xapi.sql"),
];

/// Connections HQ keeps open to PostgreSQL (put PgBouncer in front for more processes).
const POOL_SIZE: u32 = 16;

/// Times a transaction is run again after a deadlock or serialization failure.
const RETRIES: u32 = 8;

/// Advisory lock keys: the whole log (shared by each site's writers, exclusive for a change
/// to every site), each site's log, and migrations.
const ALL_LOGS: i64 = 0x5349_5445_4c4f_4700;
const SITE_LOG_CLASS: i32 = 0x5349_5445;
const MIGRATING: i64 = 0x5349_5445_4d49_4700;

/// A connection and the statements prepared on it.
pub(crate) struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

pub(crate) struct Manager(postgres::Config);

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<Conn, postgres::Error> {
        Ok(Conn {
            client: self.0.connect(NoTls)?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> std::result::Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// The credit bank's PostgreSQL database.
pub struct Postgres {
    /// Always `Some` until dropped.
    pool: Option<r2d2::Pool<Manager>>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Closing a connection runs the client's runtime too.
        if let Some(pool) = self.pool.take() {
            let _ = off_runtime(move || {
                drop(pool);
                Ok(())
            });
        }
    }
}

/// Parses a connection string: a `postgres://user@host/db` URL or `host=… dbname=…`.
pub fn config(database: &str) -> Result<postgres::Config> {
    database.parse().map_err(|e| {
        Error::Invalid(format!(
            "the database address is not a PostgreSQL connection string ({e}); give postgres://user:password@host:5432/creditbank"
        ))
    })
}

impl Postgres {
    /// Connects to `database`, creating the schema or migrating it in one transaction;
    /// refuses a database at a newer schema than this creditbank knows.
    pub fn open(database: &str) -> Result<Self> {
        let mut cfg = config(database)?;
        cfg.application_name("creditbank");
        // One connection first, for PostgreSQL's own reason if it fails (the pool would only
        // say it timed out).
        let first = off_runtime(|| {
            cfg.connect(NoTls).map_err(|e| {
                Error::Internal(format!(
                    "cannot connect to PostgreSQL at {}: {}; check that it runs and the address, user and password",
                    redact(database),
                    e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string())
                ))
            })
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(0))
            .connection_timeout(std::time::Duration::from_secs(30))
            .build_unchecked(Manager(cfg));
        off_runtime(move || {
            drop(first);
            Ok(())
        })?;
        let db = Postgres { pool: Some(pool) };
        off_runtime(|| db.migrate())?;
        Ok(db)
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.client.transaction()?;
        // Two HQ processes starting at once: one migrates, the other waits and finds it done.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATING])?;
        // No notices ("already exists, skipping") in the log, which the CLI prints to stdout.
        tx.batch_execute("SET LOCAL client_min_messages = warning")?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        let current: i64 = tx
            .query_opt("SELECT version FROM schema_version", &[])?
            .map_or(0, |r| r.get(0));
        let latest = MIGRATIONS.len() as i64;
        if current > latest {
            return Err(Error::Internal(format!(
                "the database is at schema {current}, newer than this creditbank ({latest}); run the newer creditbank"
            )));
        }
        for sql in &MIGRATIONS[current as usize..] {
            tx.batch_execute(sql)?;
        }
        tx.execute("DELETE FROM schema_version", &[])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&latest],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>> {
        let pool = self
            .pool
            .as_ref()
            .ok_or_else(|| Error::Internal("the pool is closed".into()))?;
        pool.get().map_err(|e| {
            Error::Internal(format!(
                "no PostgreSQL connection within 30 s ({e}); the database is down or overloaded"
            ))
        })
    }

    fn run(&self, f: &mut (dyn FnMut(&dyn Tx) -> Result<()> + Send)) -> Result<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.once(f);
            match outcome {
                Err(Error::Postgres(e)) if attempt < RETRIES && is_transient(&e) => {
                    tracing::debug!(attempt, error = %e, "transaction aborted by a concurrent one; running it again");
                    std::thread::sleep(std::time::Duration::from_millis(
                        (2u64 << attempt.min(6))
                            + u64::from(rand_core::RngCore::next_u32(&mut rand_core::OsRng) % 8),
                    ));
                }
                other => return other,
            }
        }
    }

    fn once(&self, f: &mut (dyn FnMut(&dyn Tx) -> Result<()> + Send)) -> Result<()> {
        let mut conn = self.conn()?;
        let Conn { client, statements } = &mut *conn;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()?;
        let pg = PgTx {
            tx: RefCell::new(tx),
            statements: RefCell::new(statements),
            locks: RefCell::new(HashSet::new()),
        };
        f(&pg)?;
        pg.tx.into_inner().commit()?;
        Ok(())
    }
}

/// The synchronous client runs its own small runtime, which may not start inside another:
/// called from async code (a test, the command line), the work runs on a scoped thread.
fn off_runtime<T: Send>(f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("a database call panicked".into())))
    })
}

impl Database for Postgres {
    fn write(&self, f: &mut (dyn FnMut(&dyn Tx) -> Result<()> + Send)) -> Result<()> {
        off_runtime(|| self.run(f))
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

struct PgTx<'a> {
    tx: RefCell<postgres::Transaction<'a>>,
    statements: RefCell<&'a mut HashMap<String, Statement>>,
    locks: RefCell<HashSet<Lock>>,
}

impl PgTx<'_> {
    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let statement = self.tx.borrow_mut().prepare(&dollar_placeholders(sql))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

fn params(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Tx for PgTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64> {
        if args.is_empty() && is_control(sql) {
            self.tx.borrow_mut().batch_execute(sql)?;
            return Ok(0);
        }
        let statement = self.statement(sql)?;
        Ok(self.tx.borrow_mut().execute(&statement, &params(args))?)
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        let statement = self.statement(sql)?;
        let rows = self.tx.borrow_mut().query(&statement, &params(args))?;
        rows.iter().map(row).collect()
    }

    fn lock(&self, what: Lock) -> Result<()> {
        if !self.locks.borrow_mut().insert(what) {
            return Ok(());
        }
        match what {
            Lock::SiteLog(site) => {
                self.execute(
                    "SELECT pg_advisory_xact_lock_shared(?1), pg_advisory_xact_lock(?2, hashtext(?3))",
                    &[
                        Value::Int(ALL_LOGS),
                        Value::Int(i64::from(SITE_LOG_CLASS)),
                        Value::Text(site.to_string()),
                    ],
                )?;
            }
            Lock::AllLogs => {
                self.execute("SELECT pg_advisory_xact_lock(?1)", &[Value::Int(ALL_LOGS)])?;
            }
            Lock::Account(id) => {
                self.execute(
                    "SELECT 1 FROM credit_account WHERE id = ?1 FOR UPDATE",
                    &[Value::Int(id)],
                )?;
            }
        }
        Ok(())
    }

    fn next_value(&self, sequence: &str) -> Result<i64> {
        if !sequence
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            return Err(Error::Internal(format!("no sequence {sequence}")));
        }
        let r = self.query(&format!("SELECT nextval('{sequence}')"), &[])?;
        r.first()
            .ok_or_else(|| Error::Internal(format!("no sequence {sequence}")))?
            .get(0)
    }
}

/// Savepoints and their kin run as plain statements.
fn is_control(sql: &str) -> bool {
    let head = sql.trim_start().to_ascii_uppercase();
    ["SAVEPOINT", "ROLLBACK", "RELEASE"]
        .iter()
        .any(|k| head.starts_with(k))
}

/// `?1` → `$1`, outside quoted text.
pub(crate) fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '?' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn row(r: &postgres::Row) -> Result<Row> {
    let mut values = Vec::with_capacity(r.len());
    for (i, column) in r.columns().iter().enumerate() {
        let ty = column.type_();
        let v = match *ty {
            Type::BOOL => r.try_get::<_, Option<bool>>(i)?.map(Value::Bool),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into())),
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::FLOAT4 | Type::FLOAT8 => r.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                r.try_get::<_, Option<String>>(i)?.map(Value::Text)
            }
            Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Bytes),
            Type::UUID => r.try_get::<_, Option<Uuid>>(i)?.map(Value::Uuid),
            Type::TIMESTAMPTZ => r
                .try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)?
                .map(Value::Time),
            _ => {
                return Err(Error::Internal(format!(
                    "column {} is of type {ty}, which the store does not read; cast it to BIGINT or TEXT",
                    column.name()
                )));
            }
        };
        values.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Real(f) => f.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Bytes(b) => b.to_sql(ty, out),
            Value::Uuid(u) => match *ty {
                Type::TEXT | Type::VARCHAR => u.to_string().to_sql(ty, out),
                _ => u.to_sql(ty, out),
            },
            // Into text, in the form SQLite keeps (nanoseconds; TIMESTAMPTZ keeps micro).
            Value::Time(t) => match *ty {
                Type::TEXT | Type::VARCHAR => t.format("%F %T%.f%:z").to_string().to_sql(ty, out),
                _ => t.to_sql(ty, out),
            },
            Value::Bool(b) => match *ty {
                Type::INT2 | Type::INT4 | Type::INT8 => i64::from(*b).to_sql(&Type::INT8, out),
                _ => b.to_sql(ty, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        // Each variant checks the column's type as it writes itself.
        true
    }

    to_sql_checked!();
}

/// A failure of the database itself (connection lost, out of resources, shut down, internal)
/// rather than of one row.
pub(crate) fn is_fatal(e: &postgres::Error) -> bool {
    match e.code() {
        None => true,
        Some(code) => {
            let class = &code.code()[..2];
            // 42: a statement HQ itself got wrong (a type, a name): its bug, not the row's.
            matches!(class, "08" | "40" | "42" | "53" | "57" | "58" | "XX")
        }
    }
}

/// A deadlock or serialization failure: running the transaction again may succeed.
fn is_transient(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    })
}

/// A host name, or a Unix socket's directory.
fn host(h: &postgres::config::Host) -> String {
    match h {
        postgres::config::Host::Tcp(h) => h.clone(),
        postgres::config::Host::Unix(p) => p.display().to_string(),
    }
}

/// The connection string without its password, for messages.
fn redact(database: &str) -> String {
    match config(database) {
        Ok(c) => format!(
            "{} (database {})",
            c.get_hosts().iter().map(host).collect::<Vec<_>>().join(","),
            c.get_dbname().unwrap_or("(default)")
        ),
        Err(_) => "(unreadable address)".into(),
    }
}

/// A throwaway database for one test, cloned from a migrated template, dropped with it.
pub struct Scratch {
    admin: postgres::Config,
    name: String,
}

impl Scratch {
    /// Creates a fresh database on the server that `admin` (a connection string with rights
    /// to create databases) reaches; the connection string for it.
    pub fn create(admin: &str) -> Result<(Self, String)> {
        off_runtime(|| {
            let admin_cfg = config(admin)?;
            let mut client = admin_cfg.connect(NoTls)?;
            let template = format!("creditbank_template_{}", MIGRATIONS.len());
            // The first test of a run builds the template, the others wait for it.
            client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATING])?;
            let exists = client
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&template])?
                .is_some();
            if !exists {
                client.batch_execute(&format!("CREATE DATABASE {template}"))?;
                let mut cfg = admin_cfg.clone();
                cfg.dbname(&template);
                Postgres::open_config(cfg)?;
            }
            client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATING])?;
            let name = format!("creditbank_test_{}", Uuid::now_v7().simple());
            client.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))?;
            let mut cfg = admin_cfg.clone();
            cfg.dbname(&name);
            Ok((
                Scratch {
                    admin: admin_cfg,
                    name: name.clone(),
                },
                to_conn_string(&cfg),
            ))
        })
    }
}

impl Postgres {
    fn open_config(cfg: postgres::Config) -> Result<Self> {
        Self::open(&to_conn_string(&cfg))
    }
}

/// A `key=value` connection string for `cfg`.
fn to_conn_string(cfg: &postgres::Config) -> String {
    let mut parts = Vec::new();
    for h in cfg.get_hosts() {
        parts.push(format!("host='{}'", host(h)));
    }
    if let Some(port) = cfg.get_ports().first() {
        parts.push(format!("port={port}"));
    }
    if let Some(user) = cfg.get_user() {
        parts.push(format!("user='{user}'"));
    }
    if let Some(pw) = cfg.get_password() {
        parts.push(format!("password='{}'", String::from_utf8_lossy(pw)));
    }
    if let Some(db) = cfg.get_dbname() {
        parts.push(format!("dbname='{db}'"));
    }
    parts.join(" ")
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        let _ = off_runtime(move || {
            let mut client = admin.connect(NoTls)?;
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quoted_text() {
        assert_eq!(
            dollar_placeholders("SELECT '?1', x FROM t WHERE a = ?1 AND b = ?12 AND c = '?'"),
            "SELECT '?1', x FROM t WHERE a = $1 AND b = $12 AND c = '?'"
        );
    }
}
